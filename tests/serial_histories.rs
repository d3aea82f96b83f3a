//! Serializability and snapshot isolation of research-format histories: the classic anomalies
//! (write skew, lost update, long fork) get the verdicts the definitions give, generated
//! histories with thousands of writers per key are decided, and certification refuses every
//! tampered witness — cycles, refutations and commit orders.

mod common;

use labrys::outcome::Verdict;
use labrys::sim::weak::{GenConfig, serial_with_skew};
use labrys::weak::formats::{WeakFormat, read_bytes};
use labrys::weak::{
    Budget, Choice, EdgeWhy, Level, Violation, WeakHistory, WeakOutcome, check, check_within,
};

fn example(name: &str) -> WeakHistory {
    let path = common::histories_dir().join("weak").join(name);
    read_bytes(name, &std::fs::read(path).unwrap(), WeakFormat::Plume).unwrap()
}

fn certify(h: &WeakHistory, level: Level, outcome: &WeakOutcome) -> bool {
    labrys::certify::weak::certify_outcome(h, level, outcome).is_ok()
}

#[test]
fn write_skew_is_snapshot_isolated_but_not_serializable() {
    let h = example("write-skew-plume.txt");
    let si = check(&h, Level::SnapshotIsolation);
    assert_eq!(si.verdict(), Verdict::Valid);
    assert!(certify(&h, Level::SnapshotIsolation, &si));
    // The snapshot-isolation order is no serial order.
    assert!(!certify(&h, Level::Serializable, &si));
    let ser = check(&h, Level::Serializable);
    assert_eq!(ser.verdict(), Verdict::Invalid);
    assert_eq!(ser.violations[0].name(), "G2-item");
    assert!(certify(&h, Level::Serializable, &ser));
    // Two anti-dependencies in a row are no snapshot-isolation violation.
    assert!(!certify(&h, Level::SnapshotIsolation, &ser));
}

#[test]
fn lost_update_and_long_fork_are_neither() {
    for (file, si_name) in [("lost-update-plume.txt", "no-commit-order"), ("long-fork-plume.txt", "G2-item")]
    {
        let h = example(file);
        for (level, name) in [(Level::SnapshotIsolation, si_name), (Level::Serializable, "G2-item")] {
            let outcome = check(&h, level);
            assert_eq!(outcome.verdict(), Verdict::Invalid, "{file} {level:?}");
            assert_eq!(outcome.violations[0].name(), name, "{file} {level:?}");
            assert!(certify(&h, level, &outcome), "{file} {level:?}");
        }
        assert_eq!(check(&h, Level::Causal).verdict(), Verdict::Valid, "{file}");
    }
}

#[test]
fn tampered_cycles_are_refused() {
    let h = example("long-fork-plume.txt");
    let outcome = check(&h, Level::Serializable);
    let Violation::Cycle { edges } = &outcome.violations[0] else { panic!("{outcome:?}") };
    let mut tried = 0;
    for i in 0..edges.len() {
        let mut bad = edges.clone();
        let e = &mut bad[i];
        match &mut e.why {
            // The writer named is not the one read.
            EdgeWhy::AntiDependency { writer, .. } => *writer = e.to,
            EdgeWhy::ReadFrom { value, .. } => *value += 7,
            EdgeWhy::Session => std::mem::swap(&mut e.from, &mut e.to),
            EdgeWhy::Commit { op, .. } => *op += 1,
        }
        let tampered =
            WeakOutcome { violations: vec![Violation::Cycle { edges: bad }], found: 1, ..outcome.clone() };
        assert!(!certify(&h, Level::Serializable, &tampered), "edge {i}");
        tried += 1;
    }
    assert!(tried >= 4);
    // An anti-dependency is no read-committed... or causal premise.
    assert!(!certify(&h, Level::Causal, &outcome));
}

#[test]
fn tampered_refutations_are_refused() {
    let h = example("lost-update-plume.txt");
    let outcome = check(&h, Level::SnapshotIsolation);
    let Violation::NoCommitOrder { choices, complete, clauses } = outcome.violations[0].clone() else {
        panic!("{outcome:?}")
    };
    assert!(complete);
    let with = |choices: Vec<Choice>, complete: bool| WeakOutcome {
        violations: vec![Violation::NoCommitOrder { choices, complete, clauses }],
        found: 1,
        ..WeakOutcome::default()
    };
    assert!(certify(&h, Level::SnapshotIsolation, &with(choices.clone(), true)));
    // Fewer choices than the history's, claimed complete.
    assert!(!certify(&h, Level::SnapshotIsolation, &with(Vec::new(), true)));
    // A choice between a writer and itself, or on a key one of them does not write.
    let c = choices[0];
    assert!(!certify(&h, Level::SnapshotIsolation, &with(vec![Choice { second: c.first, ..c }], false)));
    assert!(!certify(&h, Level::SnapshotIsolation, &with(vec![Choice { key: c.key + 1, ..c }], false)));
    // The write skew has choices too, but one orientation of them is snapshot isolated.
    let skew = example("write-skew-plume.txt");
    let none: Vec<Choice> = Vec::new();
    assert!(!certify(&skew, Level::SnapshotIsolation, &with(none, true)));
}

#[test]
fn tampered_commit_orders_are_refused() {
    let config = GenConfig { txns: 300, sessions: 8, keys: 4, ops: 4, seed: 3 };
    let text = serial_with_skew(&config, None).to_plume();
    let h = read_bytes("gen", text.as_bytes(), WeakFormat::Plume).unwrap();
    for level in [Level::Serializable, Level::SnapshotIsolation] {
        let outcome = check(&h, level);
        assert_eq!(outcome.verdict(), Verdict::Valid, "{level:?}");
        assert!(certify(&h, level, &outcome));
        let order = outcome.order.clone().unwrap();
        let mut reversed = order.clone();
        reversed.reverse();
        let mut short = order.clone();
        short.pop();
        let mut twice = order.clone();
        twice[0] = twice[1];
        for bad in [reversed, short, twice] {
            let tampered = WeakOutcome { order: Some(bad), ..outcome.clone() };
            assert!(!certify(&h, level, &tampered), "{level:?}");
        }
        // A valid verdict must carry its order.
        let bare = WeakOutcome { order: None, ..outcome.clone() };
        assert!(!certify(&h, level, &bare), "{level:?}");
    }
}

#[test]
fn a_write_skew_among_thousands_of_writers_is_found() {
    let config = GenConfig { txns: 2_000, sessions: 20, keys: 6, ops: 4, seed: 11 };
    let text = serial_with_skew(&config, Some(1_000)).to_plume();
    let h = read_bytes("gen", text.as_bytes(), WeakFormat::Plume).unwrap();
    let si = check(&h, Level::SnapshotIsolation);
    assert_eq!(si.verdict(), Verdict::Valid);
    assert!(certify(&h, Level::SnapshotIsolation, &si));
    let ser = check(&h, Level::Serializable);
    assert_eq!(ser.verdict(), Verdict::Invalid);
    assert!(certify(&h, Level::Serializable, &ser));
}

#[test]
fn a_budget_that_runs_out_gives_unknown_never_valid() {
    let config = GenConfig { txns: 400, sessions: 20, keys: 4, ops: 4, seed: 5 };
    let text = serial_with_skew(&config, None).to_plume();
    let h = read_bytes("gen", text.as_bytes(), WeakFormat::Plume).unwrap();
    let none = Budget { max_steps: 0, ..Budget::default() };
    let outcome = check_within(&h, Level::Serializable, &none);
    assert_eq!(outcome.verdict(), Verdict::Unknown, "{outcome:?}");
    assert!(outcome.unknown.unwrap().contains("step budget"));
    let tiny = Budget { max_memory: Some(1000), ..Budget::default() };
    let outcome = check_within(&h, Level::SnapshotIsolation, &tiny);
    assert_eq!(outcome.verdict(), Verdict::Unknown, "{outcome:?}");
    assert!(outcome.unknown.unwrap().contains("memory"));
}
