//! CI renderings through the real binary: JUnit XML and GitHub annotations.

mod common;

use std::process::Command;

#[test]
fn junit_has_a_case_per_history_with_failures_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("report.xml");
    let h = common::histories_dir();
    let out = Command::new(common::labrys_bin())
        .args(["check", "--junit"])
        .arg(&junit)
        .arg(h.join("kv-stale-get.edn"))
        .arg(h.join("register-ok.edn"))
        .arg(h.join("does-not-exist.edn"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(254), "an unreadable file makes the run bad input");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("<testsuites name=\"labrys\" tests=\"3\" failures=\"1\" errors=\"1\">"), "{xml}");
    assert!(xml.contains("name=\"") && xml.contains("register-ok.edn\" time="), "{xml}");
    assert!(xml.contains("<failure type=\"not-linearizable\""), "{xml}");
    assert!(xml.contains("index 4 saw a state from before index 2&apos;s write"), "{xml}");
    assert!(xml.contains("<error type=\"bad-input\""), "{xml}");
    // Well-formed enough: every opened testcase is closed.
    assert_eq!(xml.matches("<testcase").count(), 3);
    assert_eq!(xml.matches("</testcase>").count() + xml.matches("\"/>").count(), 3, "{xml}");
}

#[test]
fn github_annotations_point_at_the_line_of_the_anomaly() {
    let out = Command::new(common::labrys_bin())
        .args(["check", "--github"])
        .arg(common::histories_dir().join("kv-stale-get.edn"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().find(|l| l.starts_with("::error ")).expect("an annotation");
    assert!(line.contains("kv-stale-get.edn,line=5,title=labrys: not-linearizable (key \"x\")::"), "{line}");
}

#[test]
fn unknown_verdicts_are_errors_in_junit_and_warnings_on_github() {
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("report.xml");
    let out = Command::new(common::labrys_bin())
        .args(["check", "--no-fast-path", "--max-steps", "1", "--github", "--junit"])
        .arg(&junit)
        .arg(common::histories_dir().join("cas-register-ok.edn"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stdout).contains("::warning file="));
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("<error type=\"unknown\""), "{xml}");
}

/// Jepsen's workload checkers have no consistency level: their JUnit case is classed by the
/// model alone and a failure names the checker (it once read "… is not " with nothing after).
#[test]
fn junit_names_the_workload_checker_that_failed() {
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("report.xml");
    let out = Command::new(common::labrys_bin())
        .args(["check", "--model", "bank", "--junit"])
        .arg(&junit)
        .arg(common::histories_dir().join("workload/bank-wrong-total.edn"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("classname=\"labrys.bank\""), "{xml}");
    assert!(
        xml.contains("<failure type=\"wrong-total\" message=\"") && xml.contains("fails the bank checker\""),
        "{xml}"
    );
    assert!(!xml.contains("is not \""), "{xml}");
}
