//! Bad input, through the real binary: every class of read error, in each format where it can
//! happen, exits 254 with a message that names the file, line and column, quotes the line with
//! carets under the offending text, and says what was expected (docs/design.md section 3).
//! `--lenient` turns the pairing problems into warnings.
//!
//! Every run passes `--summary`, so that these tests exercise reading alone whatever
//! `labrys check` goes on to do with a history.

mod common;

use std::path::Path;
use std::process::{Command, Output};

/// Runs `labrys check --summary ARGS...` in `dir`.
fn labrys(dir: &Path, args: &[&str]) -> Output {
    Command::new(common::labrys_bin())
        .current_dir(dir)
        .args(["check", "--summary"])
        .args(args)
        .output()
        .expect("run labrys")
}

/// Writes `text` to `name` in a fresh temporary folder, runs `labrys check --summary` on it
/// (plus `extra` arguments), and returns the exit code, stdout and stderr.
fn check(name: &str, text: &str, extra: &[&str]) -> (i32, String, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join(name), text).expect("write history");
    let mut args = extra.to_vec();
    args.push(name);
    let out = labrys(dir.path(), &args);
    let stdout = String::from_utf8(out.stdout).expect("utf-8 stdout");
    let stderr = String::from_utf8(out.stderr).expect("utf-8 stderr");
    (out.status.code().expect("exit code"), stdout, stderr)
}

/// What a located error must say.
struct Expect<'a> {
    line: u32,
    column: u32,
    /// A fragment of the message after `FILE:LINE:COL: `.
    message: &'a str,
    /// Exactly the text the carets underline.
    underlined: &'a str,
    /// A fragment of the `expected ...` line.
    expected: &'a str,
}

/// Reads `text` as `name` and asserts that it fails with exactly the shape
/// `error: NAME:LINE:COL: message`, `  LINE | source`, `     | ^^^`, `  expected ...`.
fn assert_error(name: &str, text: &str, want: Expect<'_>) {
    let (code, stdout, stderr) = check(name, text, &[]);
    assert_eq!(code, 254, "{name}: exit code; stderr:\n{stderr}");
    assert!(stdout.is_empty(), "{name}: nothing on stdout for a failed read, got:\n{stdout}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 4, "{name}: four lines of error:\n{stderr}");
    let head = format!("error: {name}:{}:{}: ", want.line, want.column);
    assert!(lines[0].starts_with(&head), "{name}: first line should start {head:?}:\n{stderr}");
    assert!(lines[0].contains(want.message), "{name}: message {:?} missing:\n{stderr}", want.message);

    // The quoted source line is the file's line `want.line`, behind a `LINE | ` gutter.
    let gutter = format!("  {} | ", want.line);
    let source = text.lines().nth(want.line as usize - 1).expect("line exists");
    assert_eq!(lines[1], format!("{gutter}{source}"), "{name}: quoted line:\n{stderr}");

    // The carets start at the error's column and underline exactly the offending text.
    let caret_row = lines[2].strip_prefix(&" ".repeat(gutter.len() - 3)).expect("caret gutter");
    let caret_row = caret_row.strip_prefix(" | ").expect("caret gutter bar");
    let start = caret_row.find('^').expect("carets");
    let carets = caret_row[start..].len();
    assert!(caret_row[start..].bytes().all(|b| b == b'^'), "{name}: carets:\n{stderr}");
    let pad = &caret_row[..start];
    assert_eq!(pad.chars().count(), want.column as usize - 1, "{name}: caret column:\n{stderr}");
    let under: String = source.chars().skip(pad.chars().count()).take(carets).collect();
    assert_eq!(under, want.underlined, "{name}: underlined text:\n{stderr}");
    // Tabs in the source stay tabs in the padding, so the carets line up in a terminal.
    for (s, p) in source.chars().zip(pad.chars()) {
        assert_eq!(p, if s == '\t' { '\t' } else { ' ' }, "{name}: caret padding:\n{stderr}");
    }

    assert!(lines[3].starts_with("  expected "), "{name}: expected line:\n{stderr}");
    assert!(lines[3].contains(want.expected), "{name}: expected {:?}:\n{stderr}", want.expected);
}

const EDN_INVOKE: &str = "{:index 0, :type :invoke, :process 0, :f :read, :value nil}";

// --- Syntax ---------------------------------------------------------------------------------

#[test]
fn syntax_edn_unclosed_vector() {
    let text = format!("{EDN_INVOKE}\n{{:type :ok, :process 0, :f :read, :value [1 2}}\n");
    let want = Expect {
        line: 2,
        column: 46,
        message: "unexpected '}': the '[' opened at line 2, column 42 is not closed yet",
        underlined: "}",
        expected: "']' to close the '[' first",
    };
    assert_error("h.edn", &text, want);
}

#[test]
fn syntax_edn_unclosed_string() {
    let text = format!("{EDN_INVOKE}\n{{:type :ok, :process 0, :f :read, :value \"abc}}\n");
    let want =
        Expect { line: 2, column: 42, message: "never closed", underlined: "\"", expected: "closing '\"'" };
    assert_error("h.edn", &text, want);
}

#[test]
fn syntax_edn_not_a_map() {
    let text = format!("{EDN_INVOKE}\n[:ok 0 :read 1]\n");
    let want = Expect { line: 2, column: 1, message: "not an op map", underlined: "[", expected: "op map" };
    assert_error("h.edn", &text, want);
}

#[test]
fn syntax_edn_bad_number_after_unicode() {
    // Columns count characters, not bytes: the "é" before the error is one column.
    let text = "{:type :invoke, :process 0, :f :écrire, :value 1.2.3}\n";
    let want =
        Expect { line: 1, column: 48, message: "not a number", underlined: "1.2.3", expected: "a number" };
    assert_error("h.edn", text, want);
}

#[test]
fn syntax_json_missing_comma() {
    let text = "{\"type\":\"invoke\",\"process\":0,\"f\":\"read\" \"value\":null}\n";
    let want = Expect { line: 1, column: 41, message: "unexpected", underlined: "\"", expected: "','" };
    assert_error("h.json", text, want);
}

#[test]
fn syntax_json_bad_literal() {
    let text = "[{\"type\":\"invoke\",\"process\":0,\"f\":\"read\",\n  \"value\":nul}]\n";
    let want = Expect { line: 2, column: 11, message: "'nul'", underlined: "nul", expected: "JSON value" };
    assert_error("h.json", text, want);
}

#[test]
fn syntax_log_unclosed_value() {
    let text = "0\t:invoke\t:write\t[1 2\n";
    let want = Expect { line: 1, column: 18, message: "never closed", underlined: "[", expected: "']'" };
    assert_error("h.log", text, want);
}

#[test]
fn syntax_error_far_along_a_long_line_is_shown_in_a_window() {
    // Transactional histories have lines thousands of characters long: the quoted line is cut
    // around the error, marked with '…', and the carets still fall under the offending text.
    let reads: Vec<String> = (0..300).map(|k| format!("[:r {k} [1 2 3]]")).collect();
    let (before, after) = reads.split_at(150);
    let (before, after) = (before.join(" "), after.join(" "));
    let text = format!("{{:type :invoke, :process 0, :f :txn, :value [{before} 1.2.3 {after}]}}\n");
    let column = text.find("1.2.3").unwrap() + 1;
    let (code, _, stderr) = check("h.edn", &text, &[]);
    assert_eq!(code, 254, "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(lines[0].starts_with(&format!("error: h.edn:1:{column}: ")), "{stderr}");
    let shown = lines[1].strip_prefix("  1 | ").expect("gutter");
    assert!(shown.starts_with('…') && shown.ends_with('…') && shown.chars().count() < 200, "{shown}");
    let carets = lines[2].strip_prefix("    | ").expect("caret gutter");
    let at = carets.find('^').expect("carets");
    let under: String = shown.chars().skip(at).take(carets.len() - at).collect();
    assert_eq!(under, "1.2.3", "{stderr}");
}

// --- MissingField ---------------------------------------------------------------------------

#[test]
fn missing_field_edn() {
    let text = "{:type :invoke, :process 0, :value nil}\n";
    let want = Expect {
        line: 1,
        column: 1,
        message: "this op has no :f",
        underlined: text.trim_end(),
        expected: "missing :f",
    };
    assert_error("h.edn", text, want);
}

#[test]
fn missing_field_json() {
    let text = "{\"process\":0,\"f\":\"read\",\"value\":null}\n";
    let want = Expect {
        line: 1,
        column: 1,
        message: "no :type",
        underlined: text.trim_end(),
        expected: "missing :type",
    };
    assert_error("h.jsonl", text, want);
}

#[test]
fn missing_field_log() {
    let text = "0 :invoke :read nil\n0 :ok\n";
    let want = Expect { line: 2, column: 6, message: "no :f", underlined: "", expected: "process, type" };
    assert_error("h.log", text, want);
}

// --- BadField -------------------------------------------------------------------------------

#[test]
fn bad_field_edn_time() {
    let text = "{:type :invoke, :process 0, :f :read, :time \"noon\"}\n";
    let want = Expect {
        line: 1,
        column: 45,
        message: ":time is \"noon\"",
        underlined: "\"noon\"",
        expected: "an integer",
    };
    assert_error("h.edn", text, want);
}

#[test]
fn bad_field_json_process() {
    let text = "{\"type\":\"invoke\",\"process\":-1,\"f\":\"read\"}\n";
    let want = Expect {
        line: 1,
        column: 28,
        message: ":process is -1",
        underlined: "-1",
        expected: "process number",
    };
    assert_error("h.json", text, want);
}

#[test]
fn bad_field_log_process() {
    let text = "99999999999\t:invoke\t:read\tnil\n";
    let want =
        Expect { line: 1, column: 1, message: "out of range", underlined: "99999999999", expected: "0 to" };
    assert_error("h.log", text, want);
}

// --- UnknownType ----------------------------------------------------------------------------

#[test]
fn unknown_type_edn() {
    let text = format!("{EDN_INVOKE}\n{{:process 0, :type :okk, :f :read, :value nil}}\n");
    let want = Expect {
        line: 2,
        column: 20,
        message: "unknown :type :okk",
        underlined: ":okk",
        expected: "one of :invoke, :ok, :fail, :info",
    };
    assert_error("h.edn", &text, want);
}

#[test]
fn unknown_type_json() {
    let text = "{\"type\":\"done\",\"process\":0,\"f\":\"read\"}\n";
    let want =
        Expect { line: 1, column: 9, message: "unknown :type", underlined: "\"done\"", expected: ":invoke" };
    assert_error("h.json", text, want);
}

#[test]
fn unknown_type_log_with_tabs() {
    let text = "0\t:invoke\t:read\tnil\n0\t:okay\t:read\t1\n";
    let want =
        Expect { line: 2, column: 3, message: "unknown :type :okay", underlined: ":okay", expected: ":info" };
    assert_error("h.log", text, want);
}

// --- Pairing: strict errors, lenient warnings -----------------------------------------------

/// One pairing problem, written in each format: the events, the line of the offending event,
/// and what the message and `expected` line say.
struct Pairing {
    edn: &'static str,
    json: &'static str,
    log: &'static str,
    line: u32,
    message: &'static str,
    expected: &'static str,
}

const COMPLETION_WITHOUT_INVOCATION: Pairing = Pairing {
    edn: "{:type :invoke, :process 1, :f :read}\n{:type :ok, :process 0, :f :read, :value 1}\n",
    json: "{\"type\":\"invoke\",\"process\":1,\"f\":\"read\"}\n{\"type\":\"ok\",\"process\":0,\"f\":\"read\",\"value\":1}\n",
    log: "1 :invoke :read nil\n0 :ok :read 1\n",
    line: 2,
    message: "process 0 completed :read with :ok, but has no open invocation",
    expected: "an :invoke of :read by process 0",
};

const DOUBLE_INVOCATION: Pairing = Pairing {
    edn: "{:type :invoke, :process 0, :f :read}\n{:type :invoke, :process 0, :f :write, :value 3}\n",
    json: "{\"type\":\"invoke\",\"process\":0,\"f\":\"read\"}\n{\"type\":\"invoke\",\"process\":0,\"f\":\"write\",\"value\":3}\n",
    log: "0\t:invoke\t:read\tnil\n0\t:invoke\t:write\t3\n",
    line: 2,
    message: "process 0 invoked :write while its :read invoked on line 1 is still open",
    expected: "a completion (:ok, :fail or :info) of process 0's open :read",
};

const MISMATCHED_COMPLETION: Pairing = Pairing {
    edn: "{:type :invoke, :process 0, :f :read}\n{:type :ok, :process 0, :f :write, :value 3}\n",
    json: "{\"type\":\"invoke\",\"process\":0,\"f\":\"read\"}\n{\"type\":\"ok\",\"process\":0,\"f\":\"write\",\"value\":3}\n",
    log: "0 :invoke :read nil\n0 :ok :write 3\n",
    line: 2,
    message: "process 0 completed :write, but its open invocation on line 1 is :read",
    expected: "a completion with :f :read",
};

fn assert_pairing(p: &Pairing) {
    for (name, text) in [("h.edn", p.edn), ("h.json", p.json), ("h.log", p.log)] {
        // Strict: an error that underlines the whole offending event.
        let source = text.lines().nth(p.line as usize - 1).unwrap();
        let want =
            Expect { line: p.line, column: 1, message: p.message, underlined: source, expected: p.expected };
        assert_error(name, text, want);

        // Lenient: the same words as a warning, and the summary on stdout.
        let (code, stdout, stderr) = check(name, text, &["--lenient"]);
        assert_eq!(code, 0, "{name} --lenient: exit code; stderr:\n{stderr}");
        assert_eq!(stderr, format!("warning: {name}:{}: {}\n", p.line, p.message), "{name} --lenient");
        assert!(stdout.starts_with(&format!("{name}: ")), "{name} --lenient: summary:\n{stdout}");
        assert!(stdout.contains("1 warning"), "{name} --lenient:\n{stdout}");
    }
}

#[test]
fn completion_without_invocation() {
    assert_pairing(&COMPLETION_WITHOUT_INVOCATION);
}

#[test]
fn double_invocation() {
    assert_pairing(&DOUBLE_INVOCATION);
}

#[test]
fn mismatched_completion() {
    assert_pairing(&MISMATCHED_COMPLETION);
}

#[test]
fn lenient_does_not_excuse_syntax_errors() {
    let (code, _, stderr) = check("h.edn", "{:type :invoke, :process 0, :f :read\n", &["--lenient"]);
    assert_eq!(code, 254, "{stderr}");
    assert!(stderr.starts_with("error: h.edn:1:1: this collection is never closed\n"), "{stderr}");
}

// --- Io ---------------------------------------------------------------------------------------

/// I/O errors have no line to point at: `error: FILE: cannot read: REASON`.
fn assert_io_error(dir: &Path, name: &str, reason: &str) {
    let out = labrys(dir, &[name]);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(254), "{name}: {stderr}");
    assert!(stderr.starts_with(&format!("error: {name}: cannot read: ")), "{name}: {stderr}");
    assert!(stderr.contains(reason), "{name}: reason {reason:?}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{name}: one line: {stderr}");
}

#[test]
fn io_missing_file() {
    let dir = tempfile::tempdir().unwrap();
    assert_io_error(dir.path(), "absent.edn", "No such file");
}

#[test]
fn io_directory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sub.edn")).unwrap();
    assert_io_error(dir.path(), "sub.edn", "directory");
}

#[test]
fn io_corrupt_gzip() {
    let dir = tempfile::tempdir().unwrap();
    // A gzip header followed by garbage: the file opens but does not decompress.
    let mut bytes = vec![0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 0xff];
    bytes.extend_from_slice(b"not deflate data at all");
    std::fs::write(dir.path().join("h.edn.gz"), bytes).unwrap();
    assert_io_error(dir.path(), "h.edn.gz", "");
}

#[test]
fn an_error_in_one_file_does_not_stop_the_others() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.edn"), "{:type :invoke}\n").unwrap();
    std::fs::write(dir.path().join("good.edn"), format!("{EDN_INVOKE}\n")).unwrap();
    let out = labrys(dir.path(), &["bad.edn", "good.edn"]);
    assert_eq!(out.status.code(), Some(254));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.starts_with("good.edn: 1 ops (1 open)"), "{stdout}");
    assert!(
        String::from_utf8(out.stderr).unwrap().starts_with("error: bad.edn:1:1: this op has no :process")
    );
}
