//! The queue and log examples in `histories/queue/` get the verdicts and exactly the anomaly
//! kinds `histories/queue/expected.csv` gives, through the real binary (text and JSON), and
//! bad input is refused with exit 254.

mod common;

use std::process::Command;

fn dir() -> std::path::PathBuf {
    common::histories_dir().join("queue")
}

fn run(model: &str, file: &str, extra: &[&str]) -> std::process::Output {
    Command::new(common::labrys_bin())
        .args(["check", "--model", model])
        .args(extra)
        .arg(dir().join(file))
        .output()
        .unwrap()
}

#[test]
fn every_queue_example_gets_its_verdict_and_anomaly_kinds() {
    common::assert_examples(&dir(), 14);
}

#[test]
fn total_queue_json_has_jepsens_keys() {
    let out = run("total-queue", "total-queue-ok.edn", &["--output", "json"]);
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let r = &r[0];
    for (key, n) in [
        ("attempt-count", 3),
        ("acknowledged-count", 2),
        ("ok-count", 3),
        ("lost-count", 0),
        ("unexpected-count", 0),
        ("duplicated-count", 0),
        ("recovered-count", 1),
    ] {
        assert_eq!(r[key], n, "{key}");
    }
    assert_eq!(r["recovered"], serde_json::json!(["3"]));
    assert_eq!(r["lost"], serde_json::json!([]));
}

#[test]
fn the_stuck_consumer_with_zero_reported_lag_is_found_and_its_threshold_is_honoured() {
    let out = run("log", "log-stuck-zero-lag.edn", &["--output", "json"]);
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r[0]["anomaly_counts"]["stuck-consumer"], 1);
    assert_eq!(r[0]["anomaly_counts"]["lag-misreported"], 7);
    let stuck = r[0]["anomalies"].as_array().unwrap().iter().find(|a| a["type"] == "stuck-consumer").unwrap();
    assert_eq!(stuck["ops"], serde_json::json!([4, 6, 34]));
    assert!(r[0]["lag"].as_array().unwrap().iter().any(|p| p["process"] == 1 && p["lag"] == 2));
    // The stall lasted 32 s: with a longer threshold it is not a stuck consumer, and the lag
    // reports are still wrong.
    let out = run("log", "log-stuck-zero-lag.edn", &["--output", "json", "--stuck-after", "40s"]);
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(r[0]["anomaly_counts"].get("stuck-consumer").is_none(), "{}", r[0]["anomaly_counts"]);
    assert_eq!(r[0]["anomaly_counts"]["lag-misreported"], 7);
}

#[test]
fn bad_queue_input_and_misplaced_flags_exit_254_with_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.edn");
    std::fs::write(
        &path,
        "{:process 0 :type :invoke :f :poll :value nil}\n{:process 0 :type :ok :f :poll :value {1 [[:x 5]]}}\n",
    )
    .unwrap();
    let out =
        Command::new(common::labrys_bin()).args(["check", "--model", "log"]).arg(&path).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(254), "{err}");
    assert!(err.contains("line 2") && err.contains("[:x 5]"), "{err}");
    let out = Command::new(common::labrys_bin())
        .args(["check", "--model", "register", "--stuck-after", "1s"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(254));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--stuck-after is for logs"));
}
