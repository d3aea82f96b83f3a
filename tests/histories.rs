//! Every example in `histories/` gets the verdict `histories/expected.csv` gives, through the
//! real binary: exit code, text verdict line, and JSON report.

mod common;

use std::process::Command;

struct Expected {
    file: String,
    model: String,
    init: String,
    verdict: String,
}

fn expected() -> Vec<Expected> {
    let csv = std::fs::read_to_string(common::histories_dir().join("expected.csv")).unwrap();
    csv.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split(',').collect();
            Expected {
                file: cols[0].to_string(),
                model: cols[1].to_string(),
                init: cols[2].to_string(),
                verdict: cols[3].to_string(),
            }
        })
        .collect()
}

fn run(e: &Expected, extra: &[&str]) -> std::process::Output {
    let mut cmd = Command::new(common::labrys_bin());
    cmd.arg("check").arg("--model").arg(&e.model);
    if !e.init.is_empty() {
        cmd.arg("--init").arg(&e.init);
    }
    cmd.args(extra).arg(common::histories_dir().join(&e.file));
    cmd.output().unwrap()
}

#[test]
fn every_example_gets_its_verdict_and_exit_code() {
    let all = expected();
    assert!(all.len() >= 18, "the examples cover every model, valid and invalid");
    for e in &all {
        let out = run(e, &[]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let first = stdout.lines().next().unwrap_or_default();
        let (code, word) = match e.verdict.as_str() {
            "valid" => (0, ": valid ("),
            "invalid" => (1, ": INVALID ("),
            "unknown" => (2, ": unknown ("),
            other => panic!("unknown verdict {other}"),
        };
        assert_eq!(
            out.status.code(),
            Some(code),
            "{}: {stdout}{}",
            e.file,
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(first.contains(word), "{}: {first}", e.file);
        if code == 1 {
            assert!(stdout.contains("not linearizable"), "{}: the explanation is printed:\n{stdout}", e.file);
        }
    }
}

#[test]
fn json_reports_follow_the_schema() {
    for e in expected() {
        let out = run(&e, &["--output", "json"]);
        let reports: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let r = &reports[0];
        assert_eq!(r["version"], 1);
        assert_eq!(r["model"], e.model.as_str());
        let txn = labrys::txn::Workload::from_name(&e.model).is_some();
        let level = if txn { "strict-serializable" } else { "linearizable" };
        assert_eq!(r["consistency"], level);
        let valid = match e.verdict.as_str() {
            "valid" => serde_json::json!(true),
            "invalid" => serde_json::json!(false),
            _ => serde_json::json!("unknown"),
        };
        assert_eq!(r["valid"], valid, "{}", e.file);
        let anomalies = r["anomalies"].as_array().unwrap();
        assert_eq!(anomalies.is_empty(), e.verdict != "invalid", "{}", e.file);
        const KINDS: &[&str] = &[
            "not-linearizable",
            "stale-read",
            "lost-write",
            "garbage-read",
            "read-of-failed-write",
            "future-read",
            "own-write-not-read",
            "non-monotonic-read",
            "duplicate-effect",
        ];
        for a in anomalies {
            assert!(KINDS.contains(&a["type"].as_str().unwrap()), "{}: {}", e.file, a["type"]);
            assert!(!a["ops"].as_array().unwrap().is_empty());
            assert!(!a["explanation"].as_str().unwrap().is_empty());
        }
    }
}

#[test]
fn independent_keys_each_get_a_verdict() {
    let e = Expected {
        file: "independent-cas.edn".into(),
        model: "cas-register".into(),
        init: String::new(),
        verdict: "invalid".into(),
    };
    let out = run(&e, &["--output", "json"]);
    let reports: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let keys = reports[0]["keys"].as_array().unwrap();
    let verdicts: Vec<(String, serde_json::Value)> =
        keys.iter().map(|k| (k["key"].as_str().unwrap().to_string(), k["valid"].clone())).collect();
    assert_eq!(verdicts, vec![("1".to_string(), true.into()), ("2".to_string(), false.into())]);
    // Key 2 read a value nobody wrote: the reason says so.
    let conflict = &keys[1]["conflict"]["reason"];
    assert!(conflict.as_str().unwrap().contains("no op wrote 3"), "{conflict}");
}

#[test]
fn unknown_model_and_bad_init_are_bad_arguments() {
    let file = common::histories_dir().join("register-ok.edn");
    let out =
        Command::new(common::labrys_bin()).args(["check", "--model", "nope"]).arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(254));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("there is no model \"nope\"") && err.contains("cas-register"), "{err}");
    let out = Command::new(common::labrys_bin()).args(["check", "--init", "[1"]).arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(254));
    let out = Command::new(common::labrys_bin())
        .args(["check", "--model", "mutex", "--init", "1"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(254));
}

#[test]
fn a_budget_that_runs_out_gives_unknown_never_valid() {
    let file = common::histories_dir().join("cas-register-ok.edn");
    let out = Command::new(common::labrys_bin())
        // The search's budget: the cas chains would decide this history without a step.
        .args(["check", "--model", "cas-register", "--no-fast-path", "--max-steps", "1", "--output", "json"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let reports: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(reports[0]["valid"], "unknown");
    let why = reports[0]["keys"][0]["unknown_reason"].as_str().unwrap();
    assert!(why.contains("step budget"), "{why}");
}

#[test]
fn the_model_is_guessed_when_the_ops_say_it() {
    let file = common::histories_dir().join("cas-register-bad.edn");
    let out = Command::new(common::labrys_bin()).arg("check").arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("cas-register"));
}

/// Sequential consistency examples: each checked for both levels at once, with the verdicts
/// `histories/sequential.csv` gives, and the one-line note when only linearizability fails.
#[test]
fn sequential_examples_get_both_verdicts() {
    let csv = std::fs::read_to_string(common::histories_dir().join("sequential.csv")).unwrap();
    for line in csv.lines().skip(1) {
        let cols: Vec<&str> = line.split(',').collect();
        let out = Command::new(common::labrys_bin())
            .args([
                "check",
                "--model",
                cols[1],
                "--consistency",
                "linearizable,sequential",
                "--output",
                "json",
            ])
            .arg(common::histories_dir().join(cols[0]))
            .output()
            .unwrap();
        let reports: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let verdict = |i: usize| if reports[i]["valid"] == true { "valid" } else { "invalid" };
        assert_eq!(reports[0]["consistency"], "linearizable");
        assert_eq!(reports[1]["consistency"], "sequential");
        assert_eq!((verdict(0), verdict(1)), (cols[2], cols[3]), "{}", cols[0]);
        let noted = reports[1]["note"]
            .as_str()
            .is_some_and(|n| n.contains("sequentially consistent but not linearizable"));
        assert_eq!(noted, cols[2] == "invalid" && cols[3] == "valid", "{}", cols[0]);
        // The class of a sequential-consistency violation, in the key result and the anomaly,
        // with the ops it names.
        if !cols[4].is_empty() {
            let keys = reports[1]["keys"].as_array().unwrap();
            let classed = keys.iter().find(|k| !k["class"].is_null()).expect(cols[0]);
            assert_eq!(classed["class"]["kind"], cols[4], "{}", cols[0]);
            assert!(classed["class"]["ops"].as_array().is_some_and(|ops| ops.len() >= 2), "{}", cols[0]);
            assert_eq!(reports[1]["anomalies"][0]["type"], cols[4], "{}", cols[0]);
        }
    }
}

#[test]
fn a_history_whose_keys_are_each_sequential_may_not_be() {
    let out = Command::new(common::labrys_bin())
        .args(["check", "--consistency", "sequential", "--output", "json"])
        .arg(common::histories_dir().join("sc-dekker.edn"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let reports: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let keys = reports[0]["keys"].as_array().unwrap();
    // Both keys pass alone; the joint check fails.
    assert_eq!(keys.len(), 3);
    assert_eq!((keys[0]["valid"].clone(), keys[1]["valid"].clone()), (true.into(), true.into()));
    assert_eq!(keys[2]["key"], labrys::outcome::JOINT_KEY);
    assert_eq!(keys[2]["valid"], false);
    assert_eq!(reports[0]["anomalies"][0]["type"], "disagreeing-order");
}

/// `simulate --lagging-threads` writes what it promises: a keyed history that is sequentially
/// consistent (decided jointly, not by budget) but not linearizable, crashed writes included.
#[test]
fn lagging_followers_make_sequential_but_not_linearizable_histories() {
    let dir = std::env::temp_dir().join(format!("labrys-lagging-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("lagging.edn");
    let made = Command::new(common::labrys_bin())
        .args(["simulate", "--workload", "register", "--ops", "3000", "--keys", "4", "--threads", "8"])
        .args(["--lagging-threads", "4", "--max-lag", "20", "--crash-rate", "0.01", "--seed", "7", "-o"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let out = Command::new(common::labrys_bin())
        .args([
            "check",
            "--model",
            "register",
            "--consistency",
            "linearizable,sequential",
            "--output",
            "json",
        ])
        .arg(&file)
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).ok();
    let reports: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(reports[0]["consistency"], "linearizable");
    assert_eq!(reports[0]["valid"], false);
    assert_eq!(reports[1]["consistency"], "sequential");
    assert_eq!(reports[1]["valid"], true, "{}", reports[1]);
    let keys = reports[1]["keys"].as_array().unwrap();
    assert_eq!(keys.last().unwrap()["key"], labrys::outcome::JOINT_KEY);
}

/// Every class of violation has an example that gets that class, with a witness of the
/// expected size (`histories/classes/expected.csv`).
#[test]
fn each_class_of_violation_is_named_with_a_small_witness() {
    let dir = common::histories_dir().join("classes");
    let csv = std::fs::read_to_string(dir.join("expected.csv")).unwrap();
    let mut seen = 0;
    for line in csv.lines().skip(1) {
        let cols: Vec<&str> = line.split(',').collect();
        let out = Command::new(common::labrys_bin())
            .args(["check", "--model", cols[1], "--output", "json"])
            .arg(dir.join(cols[0]))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", cols[0]);
        let reports: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(reports[0]["anomalies"][0]["type"], cols[2], "{}", cols[0]);
        let witness = reports[0]["keys"][0]["witness"].as_array().unwrap();
        assert_eq!(witness.len().to_string(), cols[3], "{}: {witness:?}", cols[0]);
        seen += 1;
    }
    // Every class the explainer names for objects has its example.
    assert_eq!(seen, 12);
}
