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
}
