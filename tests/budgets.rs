//! The memory budget (`--max-memory`) holds for models whose states own heap memory: the
//! searches charge what each kept state owns (a set's elements), not only their tables' slots.

use labrys::check::{CheckConfig, check_history};
use labrys::history::{Format, ReadOptions, read_bytes};
use labrys::report::{FileReport, Verdict};
use labrys::sim::cluster::{ClusterConfig, Faults, Service, Workload, history_string};

fn check(text: &str, consistency: &str, max_memory: usize) -> FileReport {
    let h = read_bytes("set.edn", text.as_bytes(), Format::Edn, &ReadOptions::default()).unwrap();
    let mut config = CheckConfig { model: Some("set".into()), ..Default::default() };
    config.consistency = Some(consistency.into());
    config.options.max_memory = Some(max_memory);
    check_history(&h, &config).unwrap().remove(0)
}

#[test]
fn a_sets_states_are_charged_against_the_memory_budget() {
    // Reads of the whole set: the searches keep states of up to a thousand elements each.
    let c = ClusterConfig {
        service: Service::Correct,
        workload: Workload::Set,
        faults: Faults::ALL,
        ops: 2_000,
        seed: 1,
        ..ClusterConfig::default()
    };
    let text = history_string(&c);
    // (Checked for linearizability: for sequential consistency this history needs no search.)
    let roomy = check(&text, "linearizable", 1 << 30);
    assert_eq!(roomy.valid, Verdict::Valid, "{:?}", roomy.keys);
    // The tables alone fit in 2 MiB; the states they keep do not.
    let tight = check(&text, "linearizable", 2 << 20);
    assert_eq!(tight.valid, Verdict::Unknown);
    let why = format!("{:?}", tight.keys);
    assert!(why.contains("memory budget"), "{why}");
}
