//! The cluster simulator against the checker: the correct service is always linearizable, the
//! faulty ones are caught, the same seed writes the same bytes, and the war stories in
//! `histories/` are what their commands regenerate.

mod common;

use labrys::check::{CheckConfig, check_history};
use labrys::history::{Format, ReadOptions, read_bytes};
use labrys::outcome::Verdict;
use labrys::report::FileReport;
use labrys::sim::cluster::{ClusterConfig, Faults, Service, Workload, history_string};
use rayon::prelude::*;

/// Checks a history with the model of its workload, within `max_steps` steps of the search.
fn check(text: &str, workload: Workload, max_steps: u64) -> FileReport {
    let h = read_bytes("sim.edn", text.as_bytes(), Format::Edn, &ReadOptions::default()).unwrap();
    let mut config = CheckConfig { model: Some(workload.name().parse().unwrap()), ..Default::default() };
    config.options.max_steps = max_steps;
    check_history(&h, &config).unwrap().remove(0)
}

/// Some invalid histories with many crashed ops take the search a long time to refute (tens of
/// seconds at the default budget); this budget keeps the suite fast, and such a history then
/// counts as not caught (its verdict is unknown, never valid).
const DETECTION_STEPS: u64 = 2_000_000;

fn config(service: Service, workload: Workload, faults: Faults, ops: usize, seed: u64) -> ClusterConfig {
    ClusterConfig { service, workload, faults, ops, seed, ..ClusterConfig::default() }
}

fn faults(list: &str) -> Faults {
    Faults::parse(list).unwrap()
}

/// How many of `seeds` seeds give an INVALID history that names an anomaly of one of the
/// `kinds` (any kind when empty). Seeds are checked in parallel: the suite's long poles would
/// otherwise leave all cores but one idle.
fn caught(service: Service, workload: Workload, faults: Faults, seeds: u64, kinds: &[&str]) -> usize {
    (0..seeds)
        .into_par_iter()
        .filter(|&seed| {
            let text = history_string(&config(service, workload, faults, 200, seed));
            let report = check(&text, workload, DETECTION_STEPS);
            report.valid == Verdict::Invalid
                && (kinds.is_empty() || report.anomalies.iter().any(|a| kinds.contains(&a.kind.as_str())))
        })
        .count()
}

/// The strongest guard against false alarms: whatever the workload and the fault schedule, the
/// correct service's histories are never invalid, and valid whenever the search finishes. 5
/// workloads x 16 fault subsets x 250 seeds = 20,000 histories of 50 ops (plus nemesis events),
/// checked in parallel, each within `PROPERTY_STEPS` steps of the search: every one must finish
/// and be valid (the counter's too: interchangeable crashed adds are tried in one order only;
/// the set's too: the orders its reads imply place each crashed add between the reads that
/// lack and see it).
#[test]
fn correct_service_is_valid_under_every_fault() {
    // (Jepsen's workload checkers count rather than search: tests/sim_workloads.rs.)
    let cases: Vec<(Workload, Faults, u64)> = Workload::ALL
        .into_iter()
        .filter(|w| !w.jepsen_checker())
        .flat_map(|w| Faults::all_subsets().into_iter().flat_map(move |f| (0..250).map(move |s| (w, f, s))))
        .collect();
    assert_eq!(cases.len(), 20_000);
    cases.into_par_iter().for_each(|(workload, faults, seed)| {
        let text = history_string(&config(Service::Correct, workload, faults, 50, seed));
        let report = check(&text, workload, PROPERTY_STEPS);
        assert_eq!(
            report.valid,
            Verdict::Valid,
            "seed {seed} faults {faults} workload {workload:?}:\n{}\n{text}",
            report.to_text()
        );
    });
}

/// The property test's search budget per history.
const PROPERTY_STEPS: u64 = 5_000_000;

/// Longer histories of the correct service, fewer of them.
#[test]
fn correct_service_is_valid_on_longer_histories() {
    for workload in Workload::ALL {
        for seed in 0..20 {
            let text = history_string(&config(Service::Correct, workload, Faults::ALL, 400, seed));
            let report = check(&text, workload, CheckConfig::default().options.max_steps);
            assert_eq!(report.valid, Verdict::Valid, "seed {seed} {workload:?}:\n{}", report.to_text());
        }
    }
}

#[test]
fn same_seed_same_bytes() {
    for service in Service::ALL {
        for workload in Workload::ALL.into_iter().filter(|w| service.supports(*w)) {
            let c = config(service, workload, Faults::ALL, 200, 42);
            let a = history_string(&c);
            assert_eq!(a, history_string(&c));
            assert_ne!(a, history_string(&ClusterConfig { seed: 43, ..c }), "the seed matters");
        }
    }
}

#[test]
fn histories_have_jepsen_shape() {
    let text = history_string(&config(Service::Correct, Workload::CasRegister, Faults::ALL, 300, 5));
    let nemesis: Vec<&str> = text.lines().filter(|l| l.contains(":process :nemesis")).collect();
    for f in [":start-partition", ":stop-partition", ":kill", ":start,", ":start-loss", ":stop-loss"] {
        assert!(nemesis.iter().any(|l| l.contains(&format!(":f {f}"))) || !text.contains(f), "{f}");
    }
    assert!(text.contains(":type :info, :process :nemesis"));
    assert!(text.contains(":type :info, :process 5"), "a timed-out op retires its process: 0 -> 5");
    let h = read_bytes("sim.edn", text.as_bytes(), Format::Edn, &ReadOptions::default()).unwrap();
    assert!(!h.faults.is_empty());
}

/// With several faults enabled the nemesis composes them: clock skew overlaps the others, while
/// a partition, a kill and a flaky network never overlap each other; the flaky network has the
/// most turns. With one fault enabled, one fault at a time.
#[test]
fn the_nemesis_composes_faults() {
    let starts = ["start-partition", "kill", "start-loss", "start-clock-skew"];
    let stops = ["stop-partition", "start", "stop-loss", "stop-clock-skew"];
    let (mut overlaps, mut turns) = (0, [0; 4]);
    for seed in 0..20 {
        let text = history_string(&config(Service::Correct, Workload::Register, Faults::ALL, 400, seed));
        let mut active = [false; 4];
        // Each nemesis op is logged twice (invocation and completion): take every other line.
        let nemesis: Vec<&str> =
            text.lines().filter(|l| l.contains(":process :nemesis")).step_by(2).collect();
        for line in nemesis {
            let f = line.split(":f :").nth(1).and_then(|r| r.split(',').next()).unwrap();
            if let Some(i) = starts.iter().position(|s| *s == f) {
                active[i] = true;
                turns[i] += 1;
            } else if let Some(i) = stops.iter().position(|s| *s == f) {
                active[i] = false;
            }
            assert!(active[..3].iter().filter(|a| **a).count() <= 1, "seed {seed}: {line}");
            overlaps += usize::from(active[3] && active[..3].iter().any(|a| *a));
        }
    }
    assert!(overlaps > 40, "{overlaps} composed steps");
    assert!(turns[2] > turns[0] && turns[2] > turns[1], "{turns:?}");
    let text =
        history_string(&config(Service::Correct, Workload::Register, faults("partition,clock"), 400, 1));
    assert!(text.contains("start-clock-skew") && text.contains("start-partition"));
    let one = history_string(&config(Service::Correct, Workload::Register, faults("clock"), 400, 1));
    let mut open = 0;
    for line in one.lines().filter(|l| l.contains(":process :nemesis")).step_by(2) {
        open += if line.contains(":f :start-clock-skew") { 1 } else { -1 };
        assert!((0..=1).contains(&open));
    }
}

#[test]
fn clock_faults_are_recorded_and_paired() {
    let text = history_string(&config(Service::ClockSkewLww, Workload::Register, faults("clock"), 200, 1));
    assert!(text.contains(":f :start-clock-skew, :value {\"n"), "{text}");
    assert!(text.contains(":f :stop-clock-skew"));
    let h = read_bytes("sim.edn", text.as_bytes(), Format::Edn, &ReadOptions::default()).unwrap();
    let fs: Vec<String> = h.faults.iter().map(|f| f.f.to_string()).collect();
    assert!(
        fs.iter().any(|f| f == ":start-clock-skew") && fs.iter().any(|f| f == ":stop-clock-skew"),
        "{fs:?}"
    );
}

/// Each workload's history is checked by the model `labrys check` guesses for it (Jepsen's
/// bank, set-full and long-fork checkers must be named, as with elle-cli).
#[test]
fn the_model_is_guessed_from_each_workload() {
    for workload in Workload::ALL.into_iter().filter(|w| !w.jepsen_checker()) {
        let text = history_string(&config(Service::Correct, workload, Faults::ALL, 200, 3));
        let h = read_bytes("sim.edn", text.as_bytes(), Format::Edn, &ReadOptions::default()).unwrap();
        assert_eq!(labrys::check::guess_model(&h).unwrap().as_str(), workload.name(), "{workload:?}");
    }
}

#[test]
fn the_last_write_wins_store_runs_only_registers() {
    assert!(Service::ClockSkewLww.supports(Workload::Register));
    assert!(!Service::ClockSkewLww.supports(Workload::Counter));
    assert!(Workload::ALL.iter().all(|w| Service::Correct.supports(*w)));
}

const ALL: &str = "partition,kill,loss,clock";

/// The issue asks for at least 90% of seeds caught with the expected anomaly class; each
/// bound sits a little below what was measured over 100 seeds (docs/simulator.md gives the rates over
/// more seeds, from `examples/sim_detection.rs`), so a regression in either the simulator or
/// the checker shows.
#[test]
fn faulty_services_are_caught_with_the_expected_anomalies() {
    let linear = ["stale-read", "lost-write", "own-write-not-read", "not-linearizable"];
    let dirty = ["G1a", "G0-realtime", "G-single-realtime", "G1c-realtime"];
    let hidden = ["future-read", "read-of-failed-write", "lost-write", "stale-read"];
    let cases: [(Service, Workload, &str, &[&str], usize); 16] = [
        (Service::StaleRead, Workload::Register, "partition", &linear, 95),
        (Service::LostAck, Workload::Register, "partition", &linear, 90),
        (Service::DuplicateRetry, Workload::Counter, "loss", &["duplicate-effect"], 95),
        (Service::DuplicateRetry, Workload::ListAppend, "loss", &["duplicate-elements"], 95),
        (Service::SilentRetry, Workload::Register, "loss", &hidden, 90),
        (Service::SilentRetry, Workload::Counter, "loss", &["duplicate-effect", "not-linearizable"], 90),
        (Service::SilentRetry, Workload::Set, "loss", &["read-of-failed-write", "not-linearizable"], 95),
        (Service::SilentRetry, Workload::ListAppend, "loss", &dirty, 95),
        (
            Service::ClockSkewLww,
            Workload::Register,
            "clock",
            &["lost-write", "stale-read", "own-write-not-read"],
            95,
        ),
        // All faults at once, composed by the nemesis.
        (Service::StaleRead, Workload::Register, ALL, &linear, 95),
        (Service::LostAck, Workload::ListAppend, ALL, &["incompatible-order"], 90),
        (Service::DuplicateRetry, Workload::ListAppend, ALL, &["duplicate-elements"], 95),
        (Service::SilentRetry, Workload::Counter, ALL, &["duplicate-effect", "not-linearizable"], 90),
        // The silent retry of a register write, which needs the library's backoff to show under
        // all faults (93 and 89 of these seeds caught).
        (Service::SilentRetry, Workload::Register, ALL, &hidden, 88),
        (Service::SilentRetry, Workload::CasRegister, ALL, &[], 85),
        (
            Service::ClockSkewLww,
            Workload::Register,
            ALL,
            &["lost-write", "stale-read", "own-write-not-read"],
            95,
        ),
    ];
    for (service, workload, list, kinds, bound) in cases {
        let n = caught(service, workload, faults(list), 100, kinds);
        assert!(n >= bound, "{service:?} {workload:?} under {list}: {n}/100 seeds caught with {kinds:?}");
    }
}

#[test]
fn faulty_services_are_valid_without_faults() {
    // Without faults the leader never changes, nobody lags for long, no reply is lost and the
    // clocks agree: the bugs stay hidden, which shows that the faults (not the simulator)
    // expose them.
    for service in Service::ALL.into_iter().filter(|s| *s != Service::Correct) {
        for workload in [Workload::Register, Workload::Counter, Workload::ListAppend] {
            if service.supports(workload) {
                let n = caught(service, workload, Faults::default(), 30, &[]);
                assert!(n <= 3, "{service:?} {workload:?} without faults: {n}/30 seeds invalid");
            }
        }
    }
}

/// The war stories in `histories/`: each names the command that wrote it after `;; $ `; the
/// command writes exactly the file's events, and `labrys check` (guessing the model) gives the
/// verdict and the anomaly docs/simulator.md promises.
#[test]
fn war_stories_regenerate_and_get_their_verdicts() {
    for (file, expected, kind) in [
        ("story-stale-read.edn", Verdict::Invalid, Some("stale-read")),
        ("story-lost-ack.edn", Verdict::Invalid, Some("lost-write")),
        ("story-correct.edn", Verdict::Valid, None),
        ("story-silent-retry.edn", Verdict::Invalid, Some("lost-write")),
        ("story-duplicate-retry.edn", Verdict::Invalid, Some("duplicate-elements")),
        ("story-clock-skew-lww.edn", Verdict::Invalid, Some("lost-write")),
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
        let mut config = CheckConfig::default();
        config.options.max_steps = 10_000_000;
        let h = labrys::history::read_file(path.to_str().unwrap(), &ReadOptions::default()).unwrap();
        let report = check_history(&h, &config).unwrap().remove(0);
        assert_eq!(report.valid, expected, "{file}:\n{}", report.to_text());
        if let Some(kind) = kind {
            let kinds: Vec<&str> = report.anomalies.iter().map(|a| a.kind.as_str()).collect();
            assert!(kinds.contains(&kind), "{file}: {kinds:?}");
        }
    }
}

/// `-o FILE.json` writes the same history as JSON Lines, which labrys reads to the same verdict.
#[test]
fn json_output_is_the_same_history() {
    use labrys::sim::cluster::{write_edn, write_json};
    for (service, workload) in [
        (Service::Correct, Workload::Set),
        (Service::LostAck, Workload::Register),
        (Service::DuplicateRetry, Workload::ListAppend),
        (Service::ClockSkewLww, Workload::Register),
    ] {
        let c = config(service, workload, Faults::ALL, 150, 7);
        let (mut edn, mut json) = (Vec::new(), Vec::new());
        let events = write_edn(&c, &mut edn).unwrap();
        assert_eq!(write_json(&c, &mut json).unwrap(), events);
        let options = ReadOptions::default();
        let a = read_bytes("sim.edn", &edn, Format::Edn, &options).unwrap();
        let b = read_bytes("sim.jsonl", &json, Format::Json, &options).unwrap();
        assert_eq!((a.ops.len(), a.faults.len()), (b.ops.len(), b.faults.len()), "{service:?} {workload:?}");
        let config = CheckConfig::default();
        let (ra, rb) = (check_history(&a, &config).unwrap(), check_history(&b, &config).unwrap());
        assert_eq!(ra[0].valid, rb[0].valid, "{service:?} {workload:?}");
    }
}
