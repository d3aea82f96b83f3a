//! The cluster simulator against the checker: the correct service is always linearizable, the
//! faulty ones are caught, the same seed writes the same bytes, and the war stories in
//! `histories/` are what their commands regenerate.

mod common;

use labrys::check::{CheckConfig, check_history};
use labrys::history::{Format, ReadOptions, read_bytes};
use labrys::report::{FileReport, Verdict};
use labrys::sim::cluster::{ClusterConfig, Faults, Service, history_string};

/// Checks a history as a cas-register, within `max_steps` steps of the search.
fn check(text: &str, max_steps: u64) -> FileReport {
    let h = read_bytes("sim.edn", text.as_bytes(), Format::Edn, &ReadOptions::default()).unwrap();
    let mut config = CheckConfig { model: Some("cas-register".into()), ..Default::default() };
    config.options.max_steps = max_steps;
    check_history(&h, &config).unwrap().remove(0)
}

/// Some invalid histories with many crashed ops take the search a long time to refute (tens of
/// seconds at the default budget); this budget keeps the suite fast, and such a history then
/// counts as not caught (its verdict is unknown, never valid).
const DETECTION_STEPS: u64 = 2_000_000;

fn config(service: Service, faults: Faults, cas: bool, ops: usize, seed: u64) -> ClusterConfig {
    ClusterConfig { service, faults, cas, ops, seed, ..ClusterConfig::default() }
}

const ALL_FAULTS: Faults = Faults { partition: true, kill: true, loss: true };

/// How many of `seeds` seeds give an INVALID history (register and cas-register alternately).
fn invalid_count(service: Service, faults: Faults, seeds: u64) -> usize {
    (0..seeds)
        .filter(|&seed| {
            let text = history_string(&config(service, faults, seed % 2 == 0, 200, seed));
            check(&text, DETECTION_STEPS).valid == Verdict::Invalid
        })
        .count()
}

#[test]
fn correct_service_is_linearizable_under_every_fault() {
    for faults in Faults::all_subsets() {
        for cas in [false, true] {
            for seed in 0..300 {
                let text = history_string(&config(Service::Correct, faults, cas, 120, seed));
                // The default budget: a valid verdict needs the whole search.
                let report = check(&text, CheckConfig::default().options.max_steps);
                assert_eq!(
                    report.valid,
                    Verdict::Valid,
                    "seed {seed} faults {faults:?} cas {cas}:\n{}\n{text}",
                    report.to_text()
                );
            }
        }
    }
}

/// The issue asks for at least 90% of seeds caught; the bounds sit a little below what was
/// measured (the README gives the measured rates), so a regression in either the simulator or
/// the checker shows.
#[test]
fn stale_reads_are_caught_under_partitions() {
    let partition = Faults { partition: true, ..Faults::default() };
    // Measured: 100/100 under partitions, 72/100 under all faults.
    let caught = invalid_count(Service::StaleRead, partition, 100);
    assert!(caught >= 90, "stale-read under partitions: {caught}/100 seeds invalid");
    let caught = invalid_count(Service::StaleRead, ALL_FAULTS, 100);
    assert!(caught >= 60, "stale-read under all faults: {caught}/100 seeds invalid");
}

#[test]
fn lost_acks_are_caught_under_partitions() {
    let partition = Faults { partition: true, ..Faults::default() };
    let caught = invalid_count(Service::LostAck, partition, 100);
    // Measured: 84/100 under partitions (short of the 90% goal), 36/100 under all faults.
    assert!(caught >= 75, "lost-ack under partitions: {caught}/100 seeds invalid");
    let caught = invalid_count(Service::LostAck, ALL_FAULTS, 100);
    assert!(caught >= 25, "lost-ack under all faults: {caught}/100 seeds invalid");
}

#[test]
fn faulty_services_are_linearizable_without_faults() {
    // Without faults the leader never changes and nobody lags for long: the bugs stay hidden,
    // which shows that the faults (not the simulator) expose them.
    for service in [Service::StaleRead, Service::LostAck] {
        let caught = invalid_count(service, Faults::default(), 30);
        assert!(caught <= 3, "{service:?} without faults: {caught}/30 seeds invalid");
    }
}

#[test]
fn same_seed_same_bytes() {
    for service in [Service::Correct, Service::StaleRead, Service::LostAck] {
        let c = config(service, ALL_FAULTS, true, 200, 42);
        let a = history_string(&c);
        assert_eq!(a, history_string(&c));
        assert_ne!(a, history_string(&ClusterConfig { seed: 43, ..c }), "the seed matters");
    }
}

#[test]
fn histories_have_jepsen_shape() {
    let text = history_string(&config(Service::Correct, ALL_FAULTS, true, 200, 5));
    for f in [":start-partition", ":stop-partition", ":kill", ":start,", ":start-loss", ":stop-loss"] {
        let nemesis = text.lines().filter(|l| l.contains(":process :nemesis"));
        assert!(nemesis.clone().any(|l| l.contains(&format!(":f {f}"))) || !text.contains(f), "{f}");
    }
    assert!(text.contains(":type :info, :process :nemesis"));
    assert!(text.contains(":type :info, :process 5"), "a timed-out op retires its process: 0 -> 5");
    let h = read_bytes("sim.edn", text.as_bytes(), Format::Edn, &ReadOptions::default()).unwrap();
    assert!(!h.faults.is_empty());
}

#[test]
#[ignore = "measurement: prints detection rates for every fault subset"]
fn measure_detection_rates() {
    for service in [Service::StaleRead, Service::LostAck] {
        for faults in Faults::all_subsets() {
            let n = invalid_count(service, faults, 100);
            println!("{service:?} {faults:?}: {n}/100 invalid");
        }
    }
}

/// The war stories in `histories/`: each names the command that wrote it, after `;; $ `.
#[test]
fn war_stories_regenerate_and_get_their_verdicts() {
    for (file, expected) in [
        ("story-stale-read.edn", Verdict::Invalid),
        ("story-lost-ack.edn", Verdict::Invalid),
        ("story-correct.edn", Verdict::Valid),
    ] {
        let path = common::histories_dir().join(file);
        let stored = std::fs::read_to_string(&path).unwrap();
        let command = stored.lines().find_map(|l| l.strip_prefix(";; $ labrys ")).expect("the command");
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join(file);
        let mut args: Vec<&str> = command.split_whitespace().collect();
        let o = args.iter().position(|a| *a == "-o").expect("-o FILE");
        args.truncate(o);
        let status = std::process::Command::new(common::labrys_bin())
            .args(&args)
            .arg("-o")
            .arg(&out)
            .status()
            .unwrap();
        assert!(status.success(), "{file}: {command}");
        let body: String = stored.lines().filter(|l| !l.starts_with(';')).map(|l| format!("{l}\n")).collect();
        assert_eq!(std::fs::read_to_string(&out).unwrap(), body, "{file} is what `{command}` writes");
        let mut config = CheckConfig { model: Some("cas-register".into()), ..Default::default() };
        config.options.max_steps = 10_000_000;
        let h = labrys::history::read_file(path.to_str().unwrap(), &ReadOptions::default()).unwrap();
        assert_eq!(check_history(&h, &config).unwrap()[0].valid, expected, "{file}");
    }
}
