//! The research formats end to end: the hand-written examples in `histories/weak/` (one per
//! format and violation kind) through the real binary, generated histories in every format,
//! errors that point at the bad text, readers that never panic, and certification that refuses
//! tampered claims.

mod common;

use labrys::outcome::Verdict;
use labrys::sim::weak::{Fault, GenConfig, GenHistory, add_fault, serializable};
use labrys::weak::formats::{WeakFormat, read_bytes, sniff};
use labrys::weak::{Edge, EdgeWhy, Level, Violation, WeakHistory, check};
use proptest::prelude::*;
use std::process::Command;

const LEVELS: [Level; 3] = [Level::ReadCommitted, Level::ReadAtomic, Level::Causal];

fn weak_dir() -> std::path::PathBuf {
    common::histories_dir().join("weak")
}

#[test]
fn every_example_gets_its_expected_verdict_and_anomaly_from_the_binary() {
    let csv = std::fs::read_to_string(weak_dir().join("expected.csv")).unwrap();
    let mut rows = 0;
    for row in csv.lines().skip(1) {
        let [file, _format, level, verdict, anomaly] = row.split(',').collect::<Vec<_>>()[..] else {
            panic!("bad row {row}")
        };
        let out = Command::new(common::labrys_bin())
            .args(["check", "--consistency", level, "--output", "json"])
            .arg(weak_dir().join(file))
            .output()
            .unwrap();
        let json: serde_json::Value =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{row}: {e}"));
        let report = &json[0];
        let expected_code = if verdict == "valid" { 0 } else { 1 };
        assert_eq!(out.status.code(), Some(expected_code), "{row}: {report}");
        assert_eq!(report["valid"], serde_json::json!(verdict == "valid"), "{row}");
        assert_eq!(report["consistency"], level, "{row}");
        if !anomaly.is_empty() {
            let kinds: Vec<&str> =
                report["anomalies"].as_array().unwrap().iter().map(|a| a["type"].as_str().unwrap()).collect();
            assert!(kinds.contains(&anomaly), "{row}: {kinds:?}");
        }
        rows += 1;
    }
    assert!(rows >= 45, "{rows} rows");
}

#[test]
fn every_example_is_sniffed_as_its_format() {
    let csv = std::fs::read_to_string(weak_dir().join("expected.csv")).unwrap();
    for row in csv.lines().skip(1) {
        let fields: Vec<&str> = row.split(',').collect();
        let bytes = std::fs::read(weak_dir().join(fields[0])).unwrap();
        let expected = match fields[1] {
            "plume" => WeakFormat::Plume,
            "awdit" => WeakFormat::Awdit,
            _ => WeakFormat::Dbcop,
        };
        assert_eq!(sniff(&bytes), Some(expected), "{}", fields[0]);
    }
    // Jepsen's formats are not mistaken for research ones.
    for text in [
        "{:type :invoke, :f :read, :process 0}",
        "{\"type\":\"invoke\"}",
        "[{:type :ok}]",
        "INFO jepsen.util - 3\t:invoke\t:read\tnil",
    ] {
        assert_eq!(sniff(text.as_bytes()), None, "{text}");
    }
}

fn formats(h: &GenHistory) -> Vec<(WeakFormat, String)> {
    vec![
        (WeakFormat::Plume, h.to_plume()),
        (WeakFormat::Awdit, h.to_awdit()),
        (WeakFormat::Dbcop, h.to_dbcop_json()),
        (WeakFormat::Dbcop, h.to_dbcop_hist()),
    ]
}

#[test]
fn generated_serializable_histories_are_valid_in_every_format_at_every_level() {
    for seed in 0..4 {
        let config = GenConfig { txns: 300, sessions: 1 + seed as usize * 3, keys: 40, ops: 8, seed };
        let g = serializable(&config);
        for (format, text) in formats(&g) {
            let h = read_bytes("gen", text.as_bytes(), format).unwrap();
            // AWDIT's format adds a transaction writing the initial values read.
            assert!((300..=301).contains(&h.txn_count()), "{}", h.txn_count());
            for level in LEVELS {
                let outcome = check(&h, level);
                assert_eq!(
                    outcome.verdict(),
                    Verdict::Valid,
                    "{format:?} {level:?}: {:?}",
                    outcome.violations.first()
                );
            }
        }
    }
}

#[test]
fn each_fault_is_found_by_name_at_its_level_and_not_below() {
    let base = serializable(&GenConfig { txns: 200, sessions: 5, keys: 30, ops: 8, seed: 7 });
    for fault in Fault::ALL {
        let mut g = base.clone();
        let (key, value) = g.fresh();
        add_fault(&mut g, fault, key, value);
        for (format, text) in formats(&g) {
            if fault == Fault::Aborted && matches!(format, WeakFormat::Awdit) {
                continue; // AWDIT's format cannot hold an aborted transaction.
            }
            if fault == Fault::Aborted && text.starts_with('[') {
                continue; // Nor can dbcop's .hist text.
            }
            let h = read_bytes("gen", text.as_bytes(), format).unwrap();
            for (i, level) in LEVELS.into_iter().enumerate() {
                let outcome = check(&h, level);
                if i < fault.weakest_level() {
                    assert_eq!(outcome.verdict(), Verdict::Valid, "{fault:?} {format:?} {level:?}");
                    continue;
                }
                assert_eq!(outcome.verdict(), Verdict::Invalid, "{fault:?} {format:?} {level:?}");
                if i == fault.weakest_level() {
                    let names: Vec<&str> = outcome.violations.iter().map(Violation::name).collect();
                    assert!(names.contains(&fault.name()), "{fault:?} {format:?} {level:?}: {names:?}");
                }
                labrys::certify::weak::certify(&h, level, &outcome.violations).unwrap();
            }
        }
    }
}

#[test]
fn reading_the_same_value_twice_is_not_a_non_repeatable_read() {
    // dbcop's known false positive: the second read sees the same write as the first.
    let text = b"w(1,5,0,1)\nr(1,5,1,2)\nr(1,5,1,2)\n";
    let h = read_bytes("same.txt", text, WeakFormat::Plume).unwrap();
    for level in LEVELS {
        assert_eq!(check(&h, level).verdict(), Verdict::Valid, "{level:?}");
    }
}

#[test]
fn a_value_written_twice_and_read_is_unknown_never_valid() {
    let text = b"w(1,5,0,1)\nw(1,5,1,2)\nr(1,5,2,3)\n";
    let h = read_bytes("dup.txt", text, WeakFormat::Plume).unwrap();
    let outcome = check(&h, Level::Causal);
    assert_eq!(outcome.verdict(), Verdict::Unknown);
    assert!(outcome.unknown.unwrap().contains("written more than once"));
}

fn labrys_error(name: &str, text: &str, format: &str) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    let out = Command::new(common::labrys_bin())
        .args(["check", "--input-format", format])
        .arg(&path)
        .output()
        .unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn bad_input_names_file_line_column_text_and_what_was_expected() {
    let cases = [
        ("p.txt", "w(1,5,0,1)\nr(1,x,0,1)\n", "plume", ":2:5:", "x", "non-negative integer"),
        ("p2.txt", "w(1,5,0,1)\nq(1,5,0,1)\n", "plume", ":2:1:", "q", "r( or w("),
        ("a.txt", "w 1 5\n-\nr 1 five\n", "awdit", ":3:5:", "five", "a value"),
        ("d.hist", "[x:=1 y=2]\n", "dbcop", ":1:7:", "y=2", "key:=value"),
        ("d.json", "{\"data\": [[{\"events\": 3}]]}", "dbcop", ":1:", "", "\"data\""),
    ];
    for (name, text, format, at, found, expected) in cases {
        let (code, stderr) = labrys_error(name, text, format);
        assert_eq!(code, Some(254), "{name}: {stderr}");
        assert!(stderr.contains(&format!("{name}{at}")), "{name}: {stderr}");
        assert!(stderr.contains(found), "{name}: {stderr}");
        assert!(stderr.contains(expected), "{name}: {stderr}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn readers_never_panic_on_random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        for format in [WeakFormat::Plume, WeakFormat::Awdit, WeakFormat::Dbcop] {
            if let Ok(h) = read_bytes("fuzz", &bytes, format) {
                for level in LEVELS {
                    let _ = check(&h, level);
                }
            }
        }
        let _ = sniff(&bytes);
    }

    #[test]
    fn readers_never_panic_on_damaged_histories(seed in 0u64..1000, cut in 0usize..400, byte in any::<u8>()) {
        let mut g = serializable(&GenConfig { txns: 6, sessions: 2, keys: 5, ops: 4, seed });
        let (k, v) = g.fresh();
        add_fault(&mut g, Fault::ALL[seed as usize % Fault::ALL.len()], k, v);
        for (format, text) in formats(&g) {
            let mut bytes = text.into_bytes();
            let at = cut % bytes.len().max(1);
            if at < bytes.len() {
                bytes[at] = byte;
            }
            if let Ok(h) = read_bytes("damaged", &bytes, format) {
                for level in LEVELS {
                    let outcome = check(&h, level);
                    labrys::certify::weak::certify(&h, level, &outcome.violations)
                        .map_err(|e| TestCaseError::fail(e.to_string()))?;
                }
            }
        }
    }
}

/// Every violation the faults give, with the history it was found in and the level.
fn found_violations() -> Vec<(WeakHistory, Level, Violation)> {
    let mut all = Vec::new();
    for fault in Fault::ALL {
        let mut g = serializable(&GenConfig { txns: 20, sessions: 3, keys: 10, ops: 4, seed: 3 });
        let (k, v) = g.fresh();
        add_fault(&mut g, fault, k, v);
        let h = read_bytes("gen", g.to_plume().as_bytes(), WeakFormat::Plume).unwrap();
        for level in LEVELS {
            for v in check(&h, level).violations {
                all.push((h.clone(), level, v));
            }
        }
    }
    all
}

/// Tampered versions of a claim: another value, another op, another transaction, an edge
/// dropped or pointed elsewhere.
fn tampered(v: &Violation) -> Vec<Violation> {
    let mut out = Vec::new();
    let mut push = |f: &dyn Fn(&mut Violation)| {
        let mut t = v.clone();
        f(&mut t);
        out.push(t);
    };
    match v {
        Violation::Cycle { edges } => {
            push(&|t| {
                if let Violation::Cycle { edges } = t {
                    edges.pop();
                }
            });
            for i in 0..edges.len() {
                push(&|t| {
                    if let Violation::Cycle { edges } = t {
                        retarget(&mut edges[i]);
                    }
                });
            }
        }
        _ => {
            push(&bump_value);
            push(&bump_op);
        }
    }
    out
}

fn retarget(e: &mut Edge) {
    match &mut e.why {
        EdgeWhy::Session => std::mem::swap(&mut e.from, &mut e.to),
        EdgeWhy::ReadFrom { value, .. } => *value += 1000,
        EdgeWhy::Commit { op, .. } => *op += 1,
        EdgeWhy::AntiDependency { value, .. } => *value += 1000,
    }
}

fn bump_value(v: &mut Violation) {
    match v {
        Violation::ThinAirRead { value, .. }
        | Violation::AbortedRead { value, .. }
        | Violation::FutureRead { value, .. }
        | Violation::NotMyOwnWrite { value, .. }
        | Violation::IntermediateRead { value, .. }
        | Violation::NonRepeatableRead { v1: value, .. } => *value += 1000,
        Violation::Cycle { .. } | Violation::NoCommitOrder { .. } => {}
    }
}

fn bump_op(v: &mut Violation) {
    match v {
        Violation::ThinAirRead { op, .. }
        | Violation::AbortedRead { op, .. }
        | Violation::FutureRead { op, .. }
        | Violation::NotMyOwnWrite { op, .. }
        | Violation::IntermediateRead { op, .. }
        | Violation::NonRepeatableRead { first: op, .. } => *op += 1,
        Violation::Cycle { .. } | Violation::NoCommitOrder { .. } => {}
    }
}

#[test]
fn certification_passes_every_claim_and_refuses_every_tampered_one() {
    let found = found_violations();
    let kinds: std::collections::BTreeSet<&str> = found.iter().map(|(_, _, v)| v.name()).collect();
    assert!(kinds.len() >= 10, "{kinds:?}");
    let mut refused = 0;
    for (h, level, v) in &found {
        labrys::certify::weak::certify(h, *level, std::slice::from_ref(v)).unwrap();
        for t in tampered(v) {
            assert!(
                labrys::certify::weak::certify(h, *level, std::slice::from_ref(&t)).is_err(),
                "tampered claim passed: {t:?} (from {v:?})"
            );
            refused += 1;
        }
    }
    assert!(refused > 40, "{refused}");
}

#[test]
fn a_premise_too_weak_for_the_level_is_refused() {
    // A causal edge certified as read atomic: happens-before is not a read-atomic premise.
    let text = std::fs::read(weak_dir().join("causality-violation-awdit.txt")).unwrap();
    let h = read_bytes("c", &text, WeakFormat::Awdit).unwrap();
    let outcome = check(&h, Level::Causal);
    assert_eq!(outcome.verdict(), Verdict::Invalid);
    assert!(labrys::certify::weak::certify(&h, Level::Causal, &outcome.violations).is_ok());
    assert!(labrys::certify::weak::certify(&h, Level::ReadAtomic, &outcome.violations).is_err());
}
