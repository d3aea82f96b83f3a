//! The memory budget (`--max-memory`) holds for models whose states own heap memory: the
//! searches charge what each kept state owns (a set's elements), not only their tables' slots.

use labrys::check::{CheckConfig, check_history};
use labrys::history::{Format, ReadOptions, read_bytes};
use labrys::outcome::Verdict;
use labrys::report::FileReport;
use labrys::sim::cluster::{ClusterConfig, Faults, Service, Workload, history_string};

fn check(text: &str, consistency: &str, max_memory: usize) -> FileReport {
    let h = read_bytes("set.edn", text.as_bytes(), Format::Edn, &ReadOptions::default()).unwrap();
    let mut config = CheckConfig { model: Some("set".parse().unwrap()), ..Default::default() };
    config.consistency = Some(labrys::vocab::ConsistencyLevel::parse_list(consistency).unwrap());
    config.options.max_memory = Some(max_memory);
    check_history(&h, &config).unwrap().remove(0)
}

#[test]
fn a_sets_states_are_charged_against_the_memory_budget() {
    // Reads of the whole set: the searches keep states of up to a thousand elements each.
    let c = ClusterConfig {
        service: Service::Correct,
        workload: Workload::Set,
        faults: Faults { partition: true, ..Faults::default() },
        ops: 2_000,
        seed: 1,
        ..ClusterConfig::default()
    };
    let text = history_string(&c);
    for consistency in ["linearizable", "sequential"] {
        let roomy = check(&text, consistency, 1 << 30);
        assert_eq!(roomy.valid, Verdict::Valid, "{consistency}: {:?}", roomy.keys);
        assert!(roomy.stats.memo_entries > 500, "{consistency}: the search must keep states");
        // The tables alone fit in 2 MiB; the states they keep do not, so the search stops.
        // (For sequential consistency a search that keeps no states then decides it.)
        let tight = check(&text, consistency, 2 << 20);
        let why = format!("{:?}", tight.keys);
        match consistency {
            "linearizable" => {
                assert_eq!(tight.valid, Verdict::Unknown);
                assert!(why.contains("memory budget"), "{why}");
            }
            _ => assert!(
                tight.valid == Verdict::Unknown || tight.stats.memo_entries < roomy.stats.memo_entries / 2,
                "the search kept {} states under 2 MiB: {why}",
                tight.stats.memo_entries
            ),
        }
    }
}
