//! Jepsen's set-full and long-fork workloads: the examples in `histories/set-full/` and
//! `histories/long-fork/` get the verdicts and exactly the anomaly kinds their `expected.csv`
//! gives, through the real binary (text and JSON); bad input is refused with exit 254; and a
//! tampered claim is refuted by certification.

mod common;

use labrys::certify::set_full::certify_set_full_report;
use labrys::history::{Format, History, ReadOptions, read_bytes};
use labrys::long_fork::LongForkOptions;
use labrys::outcome::Verdict;
use labrys::set_full::{Claim, SetFullOptions};
use labrys::split::Keying;
use std::collections::BTreeSet;
use std::process::Command;

fn run(args: &[&str], file: &std::path::Path) -> std::process::Output {
    Command::new(common::labrys_bin()).arg("check").args(args).arg(file).output().unwrap()
}

#[test]
fn every_example_gets_its_verdict_and_anomaly_kinds() {
    for folder in ["set-full", "long-fork"] {
        let dir = common::histories_dir().join(folder);
        let csv = std::fs::read_to_string(dir.join("expected.csv")).unwrap();
        let rows: Vec<Vec<&str>> = csv.lines().skip(1).map(|l| l.split(',').collect()).collect();
        assert!(rows.len() >= 4, "{folder}");
        for r in rows {
            let (file, model, flags, verdict, kinds) = (r[0], r[1], r[2], r[3], r[4]);
            let mut args = vec!["--model", model];
            args.extend(flags.split_whitespace());
            let path = dir.join(file);
            let out = run(&[&args[..], &["--output", "json"]].concat(), &path);
            let code = match verdict {
                "valid" => 0,
                "invalid" => 1,
                _ => 2,
            };
            assert_eq!(out.status.code(), Some(code), "{file}: {}", String::from_utf8_lossy(&out.stderr));
            let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            let want_valid = match verdict {
                "valid" => serde_json::json!(true),
                "invalid" => serde_json::json!(false),
                _ => serde_json::json!("unknown"),
            };
            assert_eq!(json[0]["valid"], want_valid, "{file}");
            let found: BTreeSet<String> =
                json[0]["anomaly_counts"].as_object().unwrap().keys().cloned().collect();
            let want: BTreeSet<String> = kinds.split_whitespace().map(str::to_string).collect();
            assert_eq!(found, want, "{file} {flags}");
            let text = run(&args, &path);
            let first = String::from_utf8_lossy(&text.stdout).lines().next().unwrap_or_default().to_string();
            let word = [": valid (", ": INVALID (", ": unknown ("][code as usize];
            assert!(first.contains(word), "{file}: {first}");
        }
    }
}

#[test]
fn set_full_json_has_jepsens_counts_and_latencies() {
    let path = common::histories_dir().join("set-full/set-full-stale.edn");
    let out = run(&["--model", "set-full", "--output", "json"], &path);
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let r = &r[0];
    for (key, n) in [("attempt-count", 1), ("stable-count", 1), ("stale-count", 1), ("lost-count", 0)] {
        assert_eq!(r[key], n, "{key}");
    }
    assert_eq!(r["stale"], serde_json::json!(["1"]));
    // Known at 1 ms, last missed by the read invoked at 4 ms: stable 3 ms later.
    assert_eq!(r["stable-latencies"]["0.5"], 3);
}

#[test]
fn bad_input_and_misplaced_flags_exit_254_with_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "set-full",
            "{:process 0 :type :invoke :f :read :value nil}\n{:process 0 :type :ok :f :read :value 5}\n",
            "line 2",
            "got 5",
        ),
        (
            "set-full",
            "{:process 0 :type :invoke :f :write :value 1}\n{:process 0 :type :ok :f :write :value 1}\n",
            "line 1",
            ":write",
        ),
        (
            "long-fork",
            "{:type :invoke :f :txn :value [[:r 0 nil] [:r 1 nil]]}\n{:type :ok :f :txn :value [[:r 0 nil] [:r 1 nil]]}\n\
             {:type :invoke :f :txn :value [[:r 0 nil]]}\n{:type :ok :f :txn :value [[:r 0 nil]]}\n",
            "line 4",
            "reads 1",
        ),
        (
            "long-fork",
            "{:type :invoke :f :txn :value [[:w 0 1] [:w 1 1]]}\n{:type :ok :f :txn :value [[:w 0 1] [:w 1 1]]}\n",
            "line 1",
            "one write",
        ),
    ];
    for (i, (model, text, line, shows)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("bad{i}.edn"));
        std::fs::write(&path, text).unwrap();
        let out = run(&["--model", model], &path);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(254), "{i}: {err}");
        assert!(err.contains(line) && err.contains(shows), "{i}: {err}");
    }
    let path = common::histories_dir().join("set-full/set-full-ok.edn");
    for (flags, says) in [
        (&["--model", "register", "--linearizable"][..], "--linearizable is for set-full"),
        (&["--model", "set-full", "--group-size", "2"][..], "--group-size is for long forks"),
    ] {
        let out = run(flags, &path);
        assert_eq!(out.status.code(), Some(254));
        assert!(String::from_utf8_lossy(&out.stderr).contains(says));
    }
}

fn read(text: &str) -> History {
    read_bytes("t.edn", text.as_bytes(), Format::Edn, &ReadOptions::default()).unwrap()
}

fn example(path: &str) -> History {
    read(&std::fs::read_to_string(common::histories_dir().join(path)).unwrap())
}

#[test]
fn a_tampered_set_full_claim_is_refuted() {
    let h = example("set-full/set-full-lost.edn");
    let report = labrys::set_full::check(&h, Keying::Single, &SetFullOptions::default()).unwrap();
    assert_eq!(report.valid, Verdict::Invalid);
    certify_set_full_report(&h, Keying::Single, &SetFullOptions::default(), &report).unwrap();
    let Claim::Lost { known, absent, .. } = report.anomalies[0].claim.clone() else { panic!("{report:?}") };
    let tampered = [
        // The read that did contain 1 named as the one that missed it.
        Claim::Lost { element: labrys::history::Value::Int(1), known, absent: 2 },
        // Another element, which the last read did contain.
        Claim::Lost { element: labrys::history::Value::Int(2), known: 1, absent },
        Claim::Duplicated { element: labrys::history::Value::Int(1), read: absent, times: 2 },
        Claim::Unexpected { element: labrys::history::Value::Int(2), read: 2 },
    ];
    for claim in tampered {
        let mut bad = report.clone();
        bad.anomalies[0].claim = claim.clone();
        assert!(
            certify_set_full_report(&h, Keying::Single, &SetFullOptions::default(), &bad).is_err(),
            "{claim:?} passed"
        );
    }
    let mut bad = report.clone();
    bad.valid = Verdict::Valid;
    bad.anomalies.clear();
    assert!(
        certify_set_full_report(&h, Keying::Single, &SetFullOptions::default(), &bad).is_err(),
        "a valid verdict beside a lost list passed"
    );
    // A stale claim on an element whose later read missed it too (it was lost).
    let stale = Claim::Stale { element: labrys::history::Value::Int(1), known, absent: 2, present: 3 };
    let mut bad = report.clone();
    bad.anomalies[0].claim = stale;
    assert!(certify_set_full_report(&h, Keying::Single, &SetFullOptions::default(), &bad).is_err());
}

#[test]
fn a_tampered_long_fork_is_refuted() {
    let h = example("long-fork/long-fork-fork.edn");
    let report = labrys::long_fork::check(&h, &LongForkOptions::default()).unwrap();
    assert_eq!(report.valid, Verdict::Invalid);
    common::assert_tampered_forks_refuted(&h, &report);
}

/// A report that hides a lost element altogether — no claim, no list entry, no count, a valid
/// verdict — is refuted by the totals re-derived from the raw ops; so are counts, element
/// lists and latencies that are not the ops'.
#[test]
fn set_full_totals_are_rederived_so_a_hidden_loss_is_refuted() {
    let h = example("set-full/set-full-lost.edn");
    let options = SetFullOptions::default();
    let report = labrys::set_full::check(&h, Keying::Single, &options).unwrap();
    let certify =
        |r: &labrys::set_full::SetFullReport| certify_set_full_report(&h, Keying::Single, &options, r);
    certify(&report).unwrap();
    let mut hidden = report.clone();
    hidden.anomalies.clear();
    hidden.elements.get_mut("lost").unwrap().clear();
    hidden.counts.insert("lost-count".into(), 0);
    hidden.latencies.remove("lost-latencies");
    hidden.valid = Verdict::Valid;
    let e = certify(&hidden).unwrap_err();
    assert!(e.why.contains("the ops show 1 lost"), "{e}");
    let mut r = report.clone();
    *r.counts.get_mut("stable-count").unwrap() += 1;
    assert!(certify(&r).unwrap_err().why.contains("the ops give"));
    let mut r = report.clone();
    r.elements.entry("never-read".into()).or_default().push("7".into());
    assert!(certify(&r).unwrap_err().claim.contains("never-read"));
    // The history has :time: its latencies are re-derived too.
    assert!(report.latencies.contains_key("stable-latencies"), "{:?}", report.latencies);
    let mut r = report.clone();
    r.latencies.get_mut("stable-latencies").unwrap().insert("1".into(), 123_456);
    assert!(certify(&r).unwrap_err().claim.contains("latencies"));
}
