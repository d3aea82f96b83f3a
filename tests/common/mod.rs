//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

/// `../shared/peers/porcupine` beside the repository, when it is there. Tests that need it
/// print why they skip and pass, so a lone clone still gets a green `cargo test`.
pub fn porcupine_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/peers/porcupine");
    if dir.join("expected.csv").is_file() {
        Some(dir)
    } else {
        eprintln!("skipping: {} is not present", dir.display());
        None
    }
}

/// Every etcd history file, sorted by name.
pub fn etcd_files(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("jepsen"))
        .expect("jepsen folder")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    files.sort();
    files
}

pub mod generate;

/// Path to the built `labrys` binary.
pub fn labrys_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_labrys"))
}

/// The repository's own `histories/` folder.
pub fn histories_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("histories")
}

/// Every example listed in `dir/expected.csv` (`file,model,verdict,anomalies`; at least
/// `min_rows` of them) gets its verdict (exit code, JSON and the text's first line) and exactly
/// the anomaly kinds listed (space-separated), through the real binary.
pub fn assert_examples(dir: &std::path::Path, min_rows: usize) {
    let csv = std::fs::read_to_string(dir.join("expected.csv")).unwrap();
    let rows: Vec<Vec<&str>> = csv.lines().skip(1).map(|l| l.split(',').collect()).collect();
    assert!(rows.len() >= min_rows);
    let run = |model: &str, file: &str, extra: &[&str]| {
        std::process::Command::new(labrys_bin())
            .args(["check", "--model", model])
            .args(extra)
            .arg(dir.join(file))
            .output()
            .unwrap()
    };
    for r in rows {
        let (file, model, verdict, kinds) = (r[0], r[1], r[2], r[3]);
        let out = run(model, file, &["--output", "json"]);
        let code = if verdict == "valid" { 0 } else { 1 };
        assert_eq!(out.status.code(), Some(code), "{file}: {}", String::from_utf8_lossy(&out.stderr));
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let report = &json[0];
        assert_eq!(report["valid"], serde_json::json!(verdict == "valid"), "{file}");
        let found: std::collections::BTreeSet<String> =
            report["anomaly_counts"].as_object().unwrap().keys().cloned().collect();
        let want: std::collections::BTreeSet<String> = kinds.split_whitespace().map(str::to_string).collect();
        assert_eq!(found, want, "{file}");
        let text = run(model, file, &[]);
        let first = String::from_utf8_lossy(&text.stdout).lines().next().unwrap_or_default().to_string();
        assert!(first.contains(if code == 0 { ": valid (" } else { ": INVALID (" }), "{file}: {first}");
    }
}

/// A long-fork report whose first fork is tampered with (its keys swapped, one read named
/// twice), or whose verdict is made valid without its forks, is refuted by certification.
pub fn assert_tampered_forks_refuted(
    h: &labrys::history::History,
    report: &labrys::long_fork::LongForkReport,
) {
    use labrys::certify::long_fork::certify_long_fork_report;
    certify_long_fork_report(h, report).unwrap();
    let fork = report.anomalies[0].fork.clone();
    let mut swapped = fork.clone();
    swapped.keys.swap(0, 1);
    let mut same_read = fork.clone();
    same_read.reads[1] = fork.reads[0];
    let mut wrong_write = fork.clone();
    wrong_write.writes.swap(0, 1);
    for f in [swapped, same_read, wrong_write] {
        let mut bad = report.clone();
        bad.anomalies[0].fork = f.clone();
        assert!(certify_long_fork_report(h, &bad).is_err(), "{f:?} passed");
    }
    let mut bad = report.clone();
    bad.valid = labrys::outcome::Verdict::Valid;
    bad.anomalies.clear();
    assert!(certify_long_fork_report(h, &bad).is_err(), "a valid verdict over a fork passed");
}
