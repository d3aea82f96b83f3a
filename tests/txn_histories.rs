//! Every transactional example in `histories/txn/` gets the verdict and exactly the anomaly
//! types `histories/txn/expected.csv` gives, through the real binary: exit code, text and JSON.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

struct Expected {
    file: String,
    /// Empty: let the binary guess the model.
    model: String,
    consistency: String,
    verdict: String,
    anomalies: BTreeSet<String>,
}

fn dir() -> PathBuf {
    common::histories_dir().join("txn")
}

fn expected() -> Vec<Expected> {
    let csv = std::fs::read_to_string(dir().join("expected.csv")).unwrap();
    csv.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split(',').collect();
            assert_eq!(cols.len(), 5, "{l}");
            Expected {
                file: cols[0].to_string(),
                model: cols[1].to_string(),
                consistency: cols[2].to_string(),
                verdict: cols[3].to_string(),
                anomalies: cols[4].split_whitespace().map(str::to_string).collect(),
            }
        })
        .collect()
}

fn run(e: &Expected, extra: &[&str]) -> std::process::Output {
    let mut cmd = Command::new(common::labrys_bin());
    cmd.arg("check");
    if !e.model.is_empty() {
        cmd.arg("--model").arg(&e.model);
    }
    cmd.arg("--consistency").arg(&e.consistency).args(extra).arg(dir().join(&e.file));
    cmd.output().unwrap()
}

fn exit_code(verdict: &str) -> i32 {
    match verdict {
        "valid" => 0,
        "invalid" => 1,
        "unknown" => 2,
        other => panic!("unknown verdict {other}"),
    }
}

#[test]
fn every_example_gets_its_verdict_and_anomalies() {
    let all = expected();
    let files: BTreeSet<&str> = all.iter().map(|e| e.file.as_str()).collect();
    assert!(files.len() >= 18, "an example for every anomaly type");
    for e in &all {
        let out = run(e, &["--output", "json"]);
        let what = format!("{} under {}", e.file, e.consistency);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(exit_code(&e.verdict)), "{what}: {stderr}");
        let reports: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let r = &reports[0];
        assert_eq!(r["version"], 1);
        assert_eq!(r["consistency"], e.consistency.as_str(), "{what}");
        let valid = match e.verdict.as_str() {
            "valid" => serde_json::json!(true),
            "invalid" => serde_json::json!(false),
            _ => serde_json::json!("unknown"),
        };
        assert_eq!(r["valid"], valid, "{what}: {r:#}");
        let found: BTreeSet<String> = r["anomalies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["type"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(found, e.anomalies, "{what}: {r:#}");
        if e.verdict == "invalid" {
            assert!(!r["not"].as_array().unwrap().is_empty(), "{what}: says which models are ruled out");
        }
    }
}

#[test]
fn cycles_are_explained_edge_by_edge_in_text_and_data() {
    let is_cycle = |a: &String| a.starts_with('G') && a != "G1a" && a != "G1b";
    for e in expected().iter().filter(|e| e.anomalies.iter().any(is_cycle)) {
        let out = run(e, &[]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.lines().next().unwrap().contains(": INVALID ("), "{text}");
        let json = run(e, &["--output", "json"]);
        let reports: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
        for a in reports[0]["anomalies"].as_array().unwrap() {
            let Some(cycle) = a["cycle"].as_array() else { continue };
            // One line per transaction, one per edge, and the contradiction at the end.
            let lines: Vec<&str> = a["explanation"].as_str().unwrap().lines().collect();
            assert_eq!(lines.len(), 1 + 2 * cycle.len(), "{}: {lines:#?}", e.file);
            assert!(lines.last().unwrap().contains("contradiction"), "{}", e.file);
            assert_eq!(a["ops"].as_array().unwrap().len(), cycle.len());
            for step in cycle {
                let kind = step["type"].as_str().unwrap();
                assert!(["ww", "wr", "rw", "realtime", "process"].contains(&kind));
                if ["ww", "wr", "rw"].contains(&kind) {
                    assert!(step["key"].is_string(), "{}: data edges name their key: {step}", e.file);
                }
            }
        }
        assert!(text.contains("contradiction"), "{}: {text}", e.file);
    }
}

#[test]
fn dot_files_are_written_for_cycles() {
    let tmp = tempfile::tempdir().unwrap();
    let e = expected().into_iter().find(|e| e.file == "g2-item-write-skew.edn").unwrap();
    let e = Expected { consistency: "serializable".into(), ..e };
    let out = run(&e, &["--dot", tmp.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let dot = std::fs::read_to_string(tmp.path().join("g2-item-write-skew-G2-item-1.dot")).unwrap();
    // Node i is T(i+1): an anti-dependency edge from T1 to T2, drawn in its colour.
    assert!(dot.starts_with("digraph \"G2-item\" {"), "{dot}");
    assert!(dot.contains("0 [ label = \"T1 index ") && dot.contains("1 [ label = \"T2 index "), "{dot}");
    assert!(dot.contains("0 -> 1 [ label = \"rw ") && dot.contains("color=\"#9467bd\""), "{dot}");
    assert!(dot.trim_end().ends_with('}'), "{dot}");
}

#[test]
fn dot_files_of_several_histories_do_not_overwrite_each_other() {
    let tmp = tempfile::tempdir().unwrap();
    let files = ["g2-item-write-skew.edn", "g-single-read-skew.edn"];
    let out = Command::new(common::labrys_bin())
        .args(["check", "--consistency", "serializable", "--dot", tmp.path().to_str().unwrap()])
        .args(files.iter().map(|f| dir().join(f)))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    for (file, kind) in files.iter().zip(["G2-item", "G-single"]) {
        let stem = file.trim_end_matches(".edn");
        let path = tmp.path().join(format!("{stem}-{kind}-1.dot"));
        let dot = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(dot.starts_with("digraph"), "{dot}");
    }
}

#[test]
fn malformed_micro_ops_are_bad_input_naming_the_line() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("bad.edn");
    std::fs::write(
        &path,
        "{:process 0 :type :invoke :f :txn :value [[:append :x 1]]}\n\
         {:process 0 :type :ok :f :txn :value [[:append :x 1] [:r :x]]}\n",
    )
    .unwrap();
    let out = Command::new(common::labrys_bin())
        .args(["check", "--model", "list-append"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(254));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 2") && err.contains("[f k v]"), "{err}");
}

#[test]
fn unknown_consistency_models_are_bad_arguments() {
    let e = expected().into_iter().next().unwrap();
    let out = run(&Expected { consistency: "serialisable".into(), ..e }, &[]);
    assert_eq!(out.status.code(), Some(254));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("strict-serializable"), "lists the models: {err}");
}
