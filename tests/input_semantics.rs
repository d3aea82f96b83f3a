//! How labrys reads what a history leaves unsaid (issue 18, items 1-3), through the real
//! binary: reads of `nil` where `nil` can never be the register's state (Knossos's "value
//! unknown"), histories with no `:process` (Elle's examples), and histories with no client
//! operation at all (unknown, never a pass).

mod common;

use std::path::Path;
use std::process::Command;

/// The outcome of one run: exit code, stdout, stderr.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    /// The JSON report of a run with `--output json`.
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("{e}: {}{}", self.stdout, self.stderr))
    }
}

/// Runs `labrys check ARGS... FILE` with `FILE` relative to `dir`.
fn labrys(dir: &Path, args: &[&str]) -> Run {
    let out = Command::new(common::labrys_bin()).current_dir(dir).arg("check").args(args).output().unwrap();
    Run {
        code: out.status.code().expect("exit code"),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// Writes `text` to `name` in a fresh folder and runs `labrys check ARGS... name`.
fn check_text(name: &str, text: &str, args: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(name), text).unwrap();
    let mut args = args.to_vec();
    args.push(name);
    labrys(dir.path(), &args)
}

/// Runs `labrys check ARGS... histories/FILE`.
fn check_example(file: &str, args: &[&str]) -> Run {
    let path = common::histories_dir().join(file);
    let mut args = args.to_vec();
    args.push(path.to_str().unwrap());
    labrys(&common::histories_dir(), &args)
}

// --- 1. Reads of nil ------------------------------------------------------------------------

const KNOSSOS: &[&str] = &["--model", "cas-register", "--init", "0"];

#[test]
fn reads_of_nil_that_can_never_be_the_state_are_unknown_values_with_one_warning() {
    let run = check_example("knossos-nil-reads.edn", KNOSSOS);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    // One warning for the history, with the count: four reads completed with nil (a crashed
    // one constrains nothing anyway and is not counted).
    let warnings: Vec<&str> = run.stderr.lines().filter(|l| l.starts_with("warning: ")).collect();
    assert_eq!(warnings.len(), 1, "{}", run.stderr);
    assert!(
        warnings[0]
            .contains("knossos-nil-reads.edn: 4 reads returned nil, read as reads of an unknown value")
            && warnings[0].contains("it starts at 0 and no op writes nil")
            && warnings[0].contains("--nil-reads value"),
        "{}",
        warnings[0]
    );
    // In JSON, the same warning, once per report.
    let args = [KNOSSOS, &["--output", "json", "--consistency", "linearizable,sequential"]].concat();
    let run = check_example("knossos-nil-reads.edn", &args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for report in run.json().as_array().unwrap() {
        assert_eq!(report["valid"], true);
        let warnings = report["warnings"].as_array().unwrap();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].as_str().unwrap().starts_with("4 reads returned nil"), "{warnings:?}");
    }
    // Once on standard error, however many levels were checked.
    assert_eq!(run.stderr.matches("reads returned nil").count(), 1, "{}", run.stderr);
}

#[test]
fn nil_reads_value_brings_back_the_garbage_read() {
    let args = [KNOSSOS, &["--nil-reads", "value"]].concat();
    let run = check_example("knossos-nil-reads.edn", &args);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("garbage-read: read nil (index 3, process 2)"), "{}", run.stdout);
    assert!(!run.stderr.contains("warning"), "nothing read as unknown: {}", run.stderr);
}

/// A register that starts nil: a read of nil after a write completed is stale.
const INIT_NIL_STALE: &str = "\
{:index 0, :type :invoke, :process 0, :f :write, :value 1}
{:index 1, :type :ok, :process 0, :f :write, :value 1}
{:index 2, :type :invoke, :process 1, :f :read, :value nil}
{:index 3, :type :ok, :process 1, :f :read, :value nil}
";

#[test]
fn nil_reads_unknown_overrides_an_initial_nil() {
    // nil can be the state (it is the initial value): a read of nil is a read of nil, and it
    // is stale.
    let run = check_text("h.edn", INIT_NIL_STALE, &["--model", "register"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("stale-read"), "{}", run.stdout);
    // Told that nil means "unknown", the read constrains nothing, and the warning says so.
    let run = check_text("h.edn", INIT_NIL_STALE, &["--model", "register", "--nil-reads", "unknown"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("h.edn: 1 read returned nil, read as reads of an unknown value (--nil-reads unknown)"),
        "{}",
        run.stderr
    );
}

#[test]
fn nil_stays_a_value_when_some_op_writes_it_even_on_another_key() {
    // Key 1 is written nil (by a failed write, which still counts: it is in the history), so
    // nil can be a state, and key 2's read of nil is decided over the whole history: a value,
    // read where the register held 5.
    let text = "\
{:index 0, :type :invoke, :process 0, :f :write, :value [1 nil]}
{:index 1, :type :fail, :process 0, :f :write, :value [1 nil]}
{:index 2, :type :invoke, :process 0, :f :write, :value [2 5]}
{:index 3, :type :ok, :process 0, :f :write, :value [2 5]}
{:index 4, :type :invoke, :process 1, :f :read, :value [2 nil]}
{:index 5, :type :ok, :process 1, :f :read, :value [2 nil]}
";
    let run = check_text("h.edn", text, &["--model", "cas-register", "--init", "0"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
    // Without the write of nil, the same read is of an unknown value.
    let without: String = text.lines().skip(2).map(|l| format!("{l}\n")).collect();
    let run = check_text("h.edn", &without, &["--model", "cas-register", "--init", "0"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("1 read returned nil"), "{}", run.stderr);
}

#[test]
fn multi_register_reads_of_nil_are_decided_per_register() {
    let init = ["--model", "multi-register", "--init", "{:x 0 :y 0}"];
    let run = check_example("multi-register-knossos-nil-reads.edn", &init);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    // :x's two reads of nil are unknown values; :z (initially nil) keeps its read of nil.
    assert!(run.stderr.contains("2 micro-op reads of :x returned nil"), "{}", run.stderr);
    let run = check_example(
        "multi-register-knossos-nil-reads.edn",
        &[&init[..], &["--nil-reads", "value"]].concat(),
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("the read of :x saw nil, but :x held 1"), "{}", run.stdout);
}

// --- 2. Histories without :process -----------------------------------------------------------

#[test]
fn elle_example_without_process_or_f_is_checked_as_list_append() {
    let run = check_example("txn/elle-no-process.edn", &["--consistency", "serializable"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let first = run.stdout.lines().next().unwrap();
    assert!(first.ends_with("INVALID (4 ops, list-append, serializable)"), "{first}");
    assert!(run.stdout.contains("G-single"), "{}", run.stdout);
    // Alternating: one client, process 0.
    assert!(run.stdout.contains("(process 0, ok, line"), "{}", run.stdout);
}

#[test]
fn json_without_process_or_index_alternates() {
    // The stale read is only a violation in real time: the invocations and completions
    // alternate, so the second transaction began after the first had completed.
    // (The `node` field sends one event through the general event parser.)
    let text = "[{\"type\":\"invoke\",\"value\":[[\"append\",\"x\",1]]},\n\
                 {\"type\":\"ok\",\"value\":[[\"append\",\"x\",1]],\"node\":\"n1\"},\n\
                 {\"type\":\"invoke\",\"value\":[[\"r\",\"x\",null]]},\n\
                 {\"type\":\"ok\",\"value\":[[\"r\",\"x\",[]]]}]\n";
    let run = check_text("h.json", text, &["--output", "json"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let r = &run.json()[0];
    assert_eq!(r["model"], "list-append");
    assert_eq!(r["anomalies"][0]["type"], "G-single-realtime", "{r:#}");
    // Serializable (no real time), the same history is valid.
    let run = check_text("h.json", text, &["--consistency", "serializable"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    // JSON Lines too.
    let lines = text.trim_start_matches('[').trim_end().trim_end_matches(']').replace(",\n", "\n");
    let run = check_text("h.jsonl", &lines, &[]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("G-single-realtime"), "{}", run.stdout);
}

#[test]
fn register_history_without_process_alternates() {
    let text = "\
{:type :invoke, :f :write, :value 1}
{:type :ok, :f :write, :value 1}
{:type :invoke, :f :read, :value nil}
{:type :ok, :f :read, :value 2}
";
    let run = check_text("h.edn", text, &[]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("garbage-read: read 2 (index 2, process 0)"), "{}", run.stdout);
}

#[test]
fn completions_alone_are_ops_invoked_when_the_history_began() {
    // elle-cli's shape: completions only. When each transaction was invoked is not recorded,
    // so none is known to precede another in real time: the empty read may come first, and
    // the history is strict serializable.
    let text = "[{:type :ok :value [[:append 1 1]]}\n {:type :ok :value [[:r 1 [1]]]}\n {:type :ok :value [[:r 1 []]]}]\n";
    let run = check_text("h.edn", text, &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.starts_with("h.edn: valid (3 ops, list-append, strict-serializable)"),
        "{}",
        run.stdout
    );
    // The long fork is still found.
    let run = check_example("txn/elle-cli-completions-only.json", &["--consistency", "snapshot-isolation"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("G-nonadjacent"), "{}", run.stdout);
}

#[test]
fn an_invocation_while_another_is_open_is_an_error_at_its_line() {
    let text = "\
{:index 0 :type :invoke :value [[:append 1 1]]}
{:index 1 :type :ok :value [[:append 1 1]]}
{:index 2 :type :invoke :value [[:append 1 2]]}
{:index 3 :type :invoke :value [[:r 1 nil]]}
{:index 4 :type :ok :value [[:r 1 [1 2]]]}
";
    for args in [&[][..], &["--model", "list-append"], &["--model", "rw-register"]] {
        let run = check_text("h.edn", text, args);
        assert_eq!(run.code, 254, "{args:?}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stderr
                .starts_with("error: h.edn:4:1: :txn invoked while the :txn invoked on line 3 is still open"),
            "{args:?}: {}",
            run.stderr
        );
        assert!(run.stderr.contains("invocations and completions alternate"), "{}", run.stderr);
    }
}

#[test]
fn some_ops_with_process_and_some_without_is_an_error_at_one_without() {
    let with_first = "\
{:process 0 :type :invoke :f :write :value 1}
{:process 0 :type :ok :f :write :value 1}
{:type :invoke :f :read :value nil}
";
    let run = check_text("h.edn", with_first, &[]);
    assert_eq!(run.code, 254, "{}", run.stderr);
    assert!(
        run.stderr.starts_with("error: h.edn:3:1: this op has no :process, but the op on line 1 has one"),
        "{}",
        run.stderr
    );
    let without_first = "\
{:type :invoke :f :write :value 1}
{:type :ok :f :write :value 1}
{:process 3 :type :invoke :f :read :value nil}
";
    let run = check_text("h.edn", without_first, &[]);
    assert_eq!(run.code, 254, "{}", run.stderr);
    assert!(
        run.stderr.starts_with("error: h.edn:1:1: this op has no :process, but the op on line 3 has one"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_general_reader_reads_them_the_same_for_the_library() {
    // The fast transactional reader is the command line's; a library user reading a history
    // the general way gets the same ops, and the same verdict.
    use labrys::check::{CheckConfig, check_history};
    use labrys::history::{ReadOptions, read_file};
    let path = common::histories_dir().join("txn/elle-no-process.edn");
    let h = read_file(path.to_str().unwrap(), &ReadOptions::default()).unwrap();
    assert_eq!(h.ops.len(), 4);
    assert!(h.ops.iter().all(|op| op.process == 0 && h.f_name(op) == "txn"));
    let config = CheckConfig {
        consistency: Some(labrys::vocab::ConsistencyLevel::parse_list("serializable").unwrap()),
        ..CheckConfig::default()
    };
    let r = check_history(&h, &config).unwrap().remove(0);
    assert_eq!(r.model, "list-append");
    assert_eq!(r.anomalies[0].kind, "G-single", "{}", r.to_text());
}

// --- 3. Histories with no client operation ---------------------------------------------------

const NO_OPS: &str = "the history holds no client operations";

#[test]
fn histories_without_client_ops_are_unknown_in_text_json_and_junit() {
    let cases = [
        ("empty.edn", ""),
        ("empty.json", "[]\n"),
        ("comments.edn", ";; nothing was recorded\n; at all\n"),
        (
            "nemesis.edn",
            "{:type :info, :process :nemesis, :f :start-partition, :value [[:n1] [:n2]]}\n\
             {:type :info, :process :nemesis, :f :stop-partition, :value nil}\n",
        ),
    ];
    for (name, text) in cases {
        for model in [&[][..], &["--model", "cas-register"], &["--model", "list-append"], &["--model", "set"]]
        {
            let run = check_text(name, text, model);
            assert_eq!(run.code, 2, "{name} {model:?}: {}{}", run.stdout, run.stderr);
            assert!(run.stdout.contains(&format!("{name}: unknown (0 ops")), "{name}: {}", run.stdout);
            assert!(run.stdout.contains(&format!("note: {NO_OPS}")), "{name}: {}", run.stdout);
            let run = check_text(name, text, &[model, &["--output", "json"][..]].concat());
            assert_eq!(run.code, 2);
            let r = &run.json()[0];
            assert_eq!(r["valid"], "unknown", "{name} {model:?}");
            assert_eq!(r["note"], NO_OPS, "{name} {model:?}");
        }
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(name), text).unwrap();
        let run = labrys(dir.path(), &["--junit", "report.xml", "--github", name]);
        assert_eq!(run.code, 2, "{name}");
        let xml = std::fs::read_to_string(dir.path().join("report.xml")).unwrap();
        assert!(xml.contains("errors=\"1\"") && xml.contains("failures=\"0\""), "{name}: {xml}");
        assert!(xml.contains(&format!("<error type=\"unknown\" message=\"{NO_OPS}\">")), "{name}: {xml}");
        assert!(
            run.stdout.contains(&format!("::warning file={name},title=labrys: unknown::{NO_OPS}")),
            "{}",
            run.stdout
        );
    }
    // Failed ops were run: a history of them is not empty, whatever they left behind.
    let text = "{:process 0 :type :invoke :f :write :value 1}\n{:process 0 :type :fail :f :write :value 1}\n";
    let run = check_text("h.edn", text, &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

#[test]
fn allow_empty_makes_them_valid() {
    for (name, text) in [("empty.edn", ""), ("empty.json", "[]\n")] {
        let run = check_text(name, text, &["--allow-empty"]);
        assert_eq!(run.code, 0, "{name}: {}{}", run.stdout, run.stderr);
        assert!(run.stdout.starts_with(&format!("{name}: valid (0 ops")), "{}", run.stdout);
        let run = check_text(name, text, &["--allow-empty", "--model", "list-append"]);
        assert_eq!(run.code, 0, "{name}: {}{}", run.stdout, run.stderr);
    }
    let run = check_example("empty.edn", &["--allow-empty", "--output", "json"]);
    assert_eq!(run.code, 0);
    assert_eq!(run.json()[0]["valid"], true);
}
