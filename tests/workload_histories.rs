//! The bank, counter-bounds and set-final examples in `histories/workload/` get the verdicts
//! and exactly the anomaly kinds `histories/workload/expected.csv` gives, through the real
//! binary (text and JSON); bad input is refused with exit 254, naming the line.

mod common;

use std::process::Command;

fn dir() -> std::path::PathBuf {
    common::histories_dir().join("workload")
}

fn run(model: &str, file: &std::path::Path, extra: &[&str]) -> std::process::Output {
    Command::new(common::labrys_bin())
        .args(["check", "--model", model])
        .args(extra)
        .arg(file)
        .output()
        .unwrap()
}

#[test]
fn every_workload_example_gets_its_verdict_and_anomaly_kinds() {
    common::assert_examples(&dir(), 12);
}

#[test]
fn a_bank_report_says_the_total_it_expected_and_where_it_came_from() {
    let out = run("bank", &dir().join("bank-wrong-total.edn"), &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("a read saw {:a 10, :b 25}: total 35, expected 30"), "{text}");
    assert!(text.contains("the total of the first ok read that saw every balance (op at index 0)"), "{text}");
    // With --total the expected total is the one given: here the first read is the wrong one.
    let out = run("bank", &dir().join("bank-wrong-total.edn"), &["--total", "35", "--output", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json[0]["anomalies"][0]["ops"], serde_json::json!([0]), "{json}");
    assert_eq!(json[0]["read-count"], 2);
    assert_eq!(json[0]["error-count"], 1);
    assert_eq!(json[0]["accounts"], serde_json::json!([":a", ":b"]));
    assert!(json[0]["notes"][0].as_str().unwrap().contains("as --total gave"), "{json}");
}

#[test]
fn negative_balances_pass_when_allowed() {
    let file = dir().join("bank-negative-value.edn");
    assert_eq!(run("bank", &file, &["--allow-negative-balances"]).status.code(), Some(0));
    // The bank's flags are refused for other models.
    let out = run("set-final", &dir().join("set-final-ok.edn"), &["--allow-negative-balances"]);
    assert_eq!(out.status.code(), Some(254));
}

#[test]
fn a_counter_read_out_of_bounds_names_its_bounds() {
    let out = run("counter-bounds", &dir().join("counter-bounds-too-high.edn"), &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("a read saw 7") && text.contains("allow only 1 to 3"), "{text}");
    assert!(text.contains("(ops at index 5)"), "{text}");
}

#[test]
fn a_set_final_report_has_jepsens_counts() {
    let out = run("set-final", &dir().join("set-final-ok.edn"), &["--output", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let r = &json[0];
    for (key, n) in [("attempt-count", 3), ("acknowledged-count", 2), ("ok-count", 3), ("recovered-count", 1)]
    {
        assert_eq!(r[key], n, "{key}: {r}");
    }
    assert_eq!(r["recovered"], serde_json::json!(["3"]));
}

fn write(name: &str, text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join(name);
    std::fs::write(&p, text).unwrap();
    (d, p)
}

#[test]
fn bad_input_is_refused_with_its_line() {
    let cases = [
        (
            "bank",
            "{:process 0 :type :invoke :f :read :value nil}\n{:process 0 :type :ok :f :read :value [10 20]}\n",
            "a bank :read should complete with a map",
        ),
        (
            "bank",
            "{:process 0 :type :invoke :f :transfer :value {:from 0 :to 1}}\n{:process 0 :type :ok :f :transfer :value {:from 0 :to 1}}\n",
            "(no :amount)",
        ),
        (
            "bank",
            "{:process 0 :type :invoke :f :read :value nil}\n{:process 0 :type :ok :f :read :value {0 \"ten\"}}\n",
            "a balance should be an integer or nil",
        ),
        (
            "counter-bounds",
            "{:process 0 :type :invoke :f :read :value nil}\n{:process 0 :type :ok :f :read :value [1]}\n",
            "a counter :read should complete with an integer",
        ),
        (
            "set-final",
            "{:process 0 :type :invoke :f :read :value nil}\n{:process 0 :type :ok :f :read :value 3}\n",
            "a set :read should complete with the collection",
        ),
        (
            "set-final",
            "{:process 0 :type :invoke :f :write :value 1}\n{:process 0 :type :ok :f :write :value 1}\n",
            "a set history has :add and :read ops, not :write",
        ),
    ];
    for (model, text, want) in cases {
        let (_d, p) = write("bad.edn", text);
        let out = run(model, &p, &[]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(254), "{model}: {err}");
        assert!(err.contains(want) && err.contains("bad.edn"), "{model}: {err}");
        assert!(
            err.contains(":2") || err.contains("line 2") || err.contains(":1") || err.contains("line 1"),
            "{err}"
        );
    }
}

#[test]
fn nothing_read_is_unknown_and_an_empty_history_follows_allow_empty() {
    let (_d, p) = write(
        "adds.edn",
        "{:process 0 :type :invoke :f :add :value 1}\n{:process 0 :type :ok :f :add :value 1}\n",
    );
    for model in ["counter-bounds", "set-final"] {
        let out = run(model, &p, &[]);
        assert_eq!(out.status.code(), Some(2), "{model}");
        assert!(String::from_utf8_lossy(&out.stdout).contains("nothing was checked"), "{model}");
    }
    let empty = common::histories_dir().join("empty.edn");
    for model in ["bank", "counter-bounds", "set-final"] {
        assert_eq!(run(model, &empty, &[]).status.code(), Some(2), "{model}");
        assert_eq!(run(model, &empty, &["--allow-empty"]).status.code(), Some(0), "{model}");
    }
}
