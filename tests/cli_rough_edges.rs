//! Rough edges a new user hit in the command line, through the real binary: each test here
//! failed before its fix.

mod common;

use std::path::Path;
use std::process::{Command, Output};

/// Runs `labrys ARGS...` in `dir`.
fn labrys(dir: &Path, args: &[&str]) -> Output {
    Command::new(common::labrys_bin()).current_dir(dir).args(args).output().expect("run labrys")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const REGISTER: &str =
    "{:process 0 :type :invoke :f :write :value 1}\n{:process 0 :type :ok :f :write :value 1}\n";

#[test]
fn a_bad_flag_value_is_said_once_and_blames_no_file() {
    let dir = tempfile::tempdir().unwrap();
    for f in ["a.edn", "b.edn"] {
        std::fs::write(dir.path().join(f), REGISTER).unwrap();
    }
    for args in [
        &["check", "--model", "bogus", "a.edn", "b.edn"][..],
        &["check", "--consistency", "bogus", "a.edn", "b.edn"],
        &["check", "--model", "register", "--consistency", "serializable", "a.edn", "b.edn"],
        &["check", "--model", "list-append", "--init", "0", "a.edn", "b.edn"],
        &["check", "--model", "set", "--init", "1", "a.edn", "b.edn"],
    ] {
        let out = labrys(dir.path(), args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(254), "{args:?}: {err}");
        assert_eq!(err.matches("error:").count(), 1, "{args:?}: said once: {err}");
        assert!(!err.contains("a.edn") && !err.contains("b.edn"), "{args:?}: blames no file: {err}");
        assert!(stdout(&out).is_empty(), "{args:?}: nothing checked");
    }
    let out = labrys(dir.path(), &["check", "--model", "bogus", "a.edn"]);
    assert!(stderr(&out).contains("there is no model \"bogus\""), "{}", stderr(&out));
    // A level no check knows is rejected as it is read, naming every level there is, for
    // objects and transactions alike; blanks and EDN keywords in the list read as before.
    let out = labrys(dir.path(), &["check", "--consistency", "linearizable,bogus", "a.edn"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(254), "{err}");
    assert!(err.contains("there is no consistency level \"bogus\""), "{err}");
    assert!(err.contains("sequential") && err.contains("strict-serializable"), "{err}");
    let out = labrys(dir.path(), &["check", "--consistency", " linearizable, :sequential", "a.edn"]);
    assert!(!stderr(&out).contains("error:"), "{}", stderr(&out));
}

/// The `.edn` files of `histories/`, as `labrys check histories/*.edn` gives them.
fn shipped_examples() -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(common::histories_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "edn"))
        .map(|p| p.display().to_string())
        .collect();
    files.sort();
    files
}

#[test]
fn the_shipped_examples_check_in_one_command() {
    let files = shipped_examples();
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec!["check", "--output", "json"];
    args.extend(files.iter().map(String::as_str));
    let out = labrys(dir.path(), &args);
    let err = stderr(&out);
    // Some examples are invalid, some (the empty one) unknown; none is an error.
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(!err.contains("error:"), "{err}");
    let reports: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for f in &files {
        assert!(reports.as_array().unwrap().iter().any(|r| r["file"] == f.as_str()), "{f} has no report");
    }
    // The queue examples are guessed as the weaker queue, with a warning saying so.
    let queue = reports
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["file"].as_str().unwrap().ends_with("unordered-queue-ok.edn"));
    assert_eq!(queue.unwrap()["model"], "unordered-queue");
    assert!(err.contains("--model fifo-queue"), "{err}");
}

#[test]
fn every_file_given_has_its_entry_in_every_output_even_unread() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("good.edn"), REGISTER).unwrap();
    std::fs::write(dir.path().join("garbled.edn"), "[1 2 3]\n").unwrap();
    std::fs::write(
        dir.path().join("unguessable.edn"),
        "{:process 0 :type :invoke :f :frob :value 1}\n{:process 0 :type :ok :f :frob :value 1}\n",
    )
    .unwrap();
    let files = ["good.edn", "absent.edn", "garbled.edn", "unguessable.edn"];
    let mut args = vec!["check", "--output", "json", "--junit", "j.xml", "--html", "h.html"];
    args.extend(files);
    let out = labrys(dir.path(), &args);
    assert_eq!(out.status.code(), Some(254), "{}", stderr(&out));
    let reports: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let reports = reports.as_array().unwrap();
    let named: Vec<&str> = reports.iter().map(|r| r["file"].as_str().unwrap()).collect();
    assert_eq!(named, files, "one entry per file, in the order given");
    assert_eq!(reports[0]["valid"], true);
    for r in &reports[1..] {
        assert_eq!(r["valid"], "unknown", "{r}");
        assert!(!r["error"].as_str().unwrap().is_empty(), "{r}");
    }
    assert!(reports[1]["error"].as_str().unwrap().contains("cannot read"));
    let junit = std::fs::read_to_string(dir.path().join("j.xml")).unwrap();
    let html = std::fs::read_to_string(dir.path().join("h.html")).unwrap();
    for f in files {
        assert!(junit.contains(&format!("name=\"{f}\"")), "{f} in JUnit:\n{junit}");
        assert!(html.contains(&format!("\"{f}\"")), "{f} in HTML");
    }
    assert!(junit.contains("errors=\"3\""), "{junit}");
}

#[test]
fn an_unwritable_output_is_a_usage_error_said_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("h.edn"), REGISTER).unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    for (flag, target) in
        [("--junit", "sub"), ("--html", "sub"), ("--junit", "no/such/dir/j.xml"), ("--dot", "h.edn")]
    {
        // absent.edn is never read: the output is checked first.
        let out = labrys(dir.path(), &["check", flag, target, "h.edn", "absent.edn"]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(254), "{flag} {target}: {err}");
        assert!(err.starts_with(&format!("error: {flag} {target}: ")), "{flag} {target}: {err}");
        assert!(!err.contains("absent.edn") && !err.contains("internal"), "{flag} {target}: {err}");
        assert!(stdout(&out).is_empty(), "{flag} {target}: nothing checked");
    }
    let out = labrys(dir.path(), &["simulate", "--ops", "10", "-o", "sub"]);
    assert_eq!(out.status.code(), Some(254), "{}", stderr(&out));
}

#[test]
fn a_byte_order_mark_is_skipped_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let histories = [
        ("h.edn", REGISTER.to_string()),
        (
            "h.json",
            "[{\"type\":\"invoke\",\"process\":0,\"f\":\"write\",\"value\":1},\n\
             {\"type\":\"ok\",\"process\":0,\"f\":\"write\",\"value\":1}]\n"
                .to_string(),
        ),
        (
            "h.jsonl",
            "{\"type\":\"invoke\",\"process\":0,\"f\":\"write\",\"value\":1}\n\
             {\"type\":\"ok\",\"process\":0,\"f\":\"write\",\"value\":1}\n"
                .to_string(),
        ),
        ("h.log", "0\t:invoke\t:write\t1\n0\t:ok\t:write\t1\n".to_string()),
        // Sniffed: a .txt file of EDN maps.
        ("h.txt", REGISTER.to_string()),
        (
            "t.edn",
            "{:process 0 :type :invoke :f :txn :value [[:append :x 1]]}\n\
             {:process 0 :type :ok :f :txn :value [[:append :x 1]]}\n"
                .to_string(),
        ),
    ];
    for (name, text) in &histories {
        let mut bytes = b"\xEF\xBB\xBF".to_vec();
        bytes.extend_from_slice(text.as_bytes());
        std::fs::write(dir.path().join(name), &bytes).unwrap();
        let out = labrys(dir.path(), &["check", name]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
        assert!(stdout(&out).starts_with(&format!("{name}: valid")), "{name}: {}", stdout(&out));
        // The library reads it too.
        let h = labrys::history::read_bytes(
            name,
            &bytes,
            labrys::history::Format::sniff(&bytes),
            &Default::default(),
        );
        assert_eq!(h.map(|h| h.ops.len()).map_err(|e| e.to_string()), Ok(1), "{name}");
    }
}

#[test]
fn simulate_rejects_the_flags_it_would_ignore_or_cannot_honour() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["--faults", "partition"][..],
        &["--nodes", "5"],
        &["--crash-rate", "2"],
        &["--crash-rate", "-0.1"],
        &["--crash-rate", "NaN"],
        &["--ops", "0"],
        &["--threads", "0"],
        &["--service", "correct", "--nodes", "0"],
        &["--service", "correct", "--nodes", "33"],
        &["--service", "correct", "--crash-rate", "0.5"],
        &["--service", "correct", "--keys", "3"],
        &["--service", "correct", "--workload", "register", "--lagging-threads", "2"],
        &["--max-lag", "3"],
        &["--workload", "register", "--lagging-threads", "2", "--max-lag", "0"],
        &["--workload", "register", "--lagging-threads", "6", "--threads", "5"],
        &["--workload", "cas-register", "--lagging-threads", "2"],
        &["--workload", "list-append", "--values", "3"],
        &["--service", "correct", "--workload", "set", "--values", "3"],
    ] {
        let mut all = vec!["simulate", "--ops", "10"];
        all.extend(args);
        let out = labrys(dir.path(), &all);
        assert_eq!(out.status.code(), Some(254), "{args:?}: {}", stderr(&out));
        assert!(stdout(&out).is_empty(), "{args:?}: wrote a history");
        assert!(stderr(&out).contains("error"), "{args:?}: {}", stderr(&out));
    }
    // What they may be used with still works.
    for args in [
        &["--service", "correct", "--faults", "partition", "--nodes", "5"][..],
        &["--crash-rate", "0"],
        &["--crash-rate", "1"],
        &["--workload", "register", "--lagging-threads", "2", "--max-lag", "3"],
        &["--service", "correct", "--workload", "register", "--values", "3"],
    ] {
        let mut all = vec!["simulate", "--ops", "10"];
        all.extend(args);
        let out = labrys(dir.path(), &all);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        assert!(!stdout(&out).is_empty(), "{args:?}");
    }
}

#[test]
fn max_memory_says_it_bounds_the_search_not_the_process() {
    let out = labrys(Path::new("."), &["check", "--help"]);
    let help = stdout(&out).split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(help.contains("It bounds the search, not the process"), "{help}");
}

#[test]
fn a_closed_standard_output_is_an_error_not_a_panic() {
    let mut child = Command::new(common::labrys_bin())
        .args(["check", "--output", "json"])
        .arg(common::histories_dir().join("register-ok.edn"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Nobody reads what it writes: the pipe is closed before labrys writes.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(254), "{err}");
    assert!(err.starts_with("error: standard output: "), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
