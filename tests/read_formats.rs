//! The input formats of docs/design.md section 2, read through the public API (and, for standard
//! input and `--input-format`, through the binary): every shape of history Jepsen, Knossos,
//! Porcupine and elle-cli write, and the semantics of section 3 that reading decides.

mod common;

use labrys::history::{
    Clock, EventKind, Format, History, Outcome, ReadOptions, Summary, Value, read_bytes, read_file,
};
use std::io::Write;
use std::process::{Command, Stdio};

fn edn(text: &str) -> History {
    read_bytes("t.edn", text.as_bytes(), Format::Edn, &ReadOptions::default())
        .unwrap_or_else(|e| panic!("{e}"))
}

fn json(text: &str) -> History {
    read_bytes("t.json", text.as_bytes(), Format::Json, &ReadOptions::default())
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Parses EDN text as a value, for comparing with what the readers produce.
fn value(text: &str) -> Value {
    labrys::history::edn::parse_value(text).unwrap_or_else(|e| panic!("{e}"))
}

/// A small register history, one EDN map per line.
const REGISTER: &str = "\
{:index 0, :time 100, :type :invoke, :process 0, :f :write, :value 3}
{:index 1, :time 150, :type :invoke, :process 1, :f :read, :value nil}
{:index 2, :time 200, :type :ok, :process 0, :f :write, :value 3}
{:index 3, :time 250, :type :ok, :process 1, :f :read, :value 3}
{:index 4, :time 300, :type :invoke, :process 0, :f :write, :value 4}
{:index 5, :time 400, :type :fail, :process 0, :f :write, :value 4}
";

/// The ops of `h` as (process, f, input, output, outcome) in EDN text, for comparing histories
/// read from different formats.
fn shape(h: &History) -> Vec<(u32, String, String, String, Outcome)> {
    h.ops
        .iter()
        .map(|op| {
            let (input, output) = (h.value(op.input).to_string(), h.value(op.output).to_string());
            (op.process, h.f_name(op), input, output, op.outcome)
        })
        .collect()
}

#[test]
fn edn_one_map_per_line() {
    let h = edn(REGISTER);
    assert_eq!(h.ops.len(), 3);
    assert_eq!(h.event_count, 6);
    assert_eq!(
        shape(&h),
        vec![
            (0, "write".into(), "3".into(), "3".into(), Outcome::Ok),
            (1, "read".into(), "nil".into(), "3".into(), Outcome::Ok),
            (0, "write".into(), "4".into(), "4".into(), Outcome::Fail),
        ]
    );
    let read = h.ops[1];
    assert_eq!((read.invoke_index, read.complete_index), (1, 3));
    assert_eq!((read.invoke_line, read.complete_line), (2, 4));
}

#[test]
fn edn_as_one_vector_or_list_of_maps() {
    let lines = edn(REGISTER);
    let vector = edn(&format!("[{}]", REGISTER.trim_end()));
    let list = edn(&format!("(\n{})\n", REGISTER.replace('\n', ",\n")));
    assert_eq!(shape(&vector), shape(&lines));
    assert_eq!(shape(&list), shape(&lines));
    assert_eq!(vector.ops[2].invoke_line, 5, "lines still count inside the vector");
}

#[test]
fn edn_history_op_records() {
    let text = "\
[#jepsen.history.Op{:index 0, :time 1, :type :invoke, :process 0, :f :read, :value nil}
 #jepsen.history.Op{:index 1, :time 2, :type :ok, :process 0, :f :read, :value 5}]";
    let h = edn(text);
    assert_eq!(shape(&h), vec![(0, "read".into(), "nil".into(), "5".into(), Outcome::Ok)]);
}

#[test]
fn edn_independent_tuples() {
    let text = "\
{:type :invoke, :process 0, :f :write, :value #jepsen.independent.Tuple{:key 7, :value 1}}
{:type :ok, :process 0, :f :write, :value #jepsen.independent.Tuple{:key 7, :value 1}}
{:type :invoke, :process 1, :f :read, :value #jepsen.independent.Tuple{:key 8, :value nil}}
{:type :ok, :process 1, :f :read, :value #jepsen.independent.Tuple{:key 8, :value 2}}
";
    let h = edn(text);
    assert!(h.tuple_keyed());
    let (k, v) = h.value(h.ops[1].output).as_tuple().expect("a tuple");
    assert_eq!((k, v), (&Value::Int(8), &Value::Int(2)));
    assert_eq!(Summary::of(&h).keys, 2);
    // A plain [k v] vector is the same tuple shape.
    let plain = edn("{:type :invoke, :process 0, :f :write, :value [7 1]}\n");
    assert!(plain.tuple_keyed());
}

#[test]
fn edn_sets_compare_regardless_of_order() {
    let text = "\
{:type :invoke, :process 0, :f :read, :value nil}
{:type :ok, :process 0, :f :read, :value #{3 1 2}}
{:type :invoke, :process 1, :f :read, :value nil}
{:type :ok, :process 1, :f :read, :value #{2 3 1 3}}
";
    let h = edn(text);
    assert_eq!(h.ops[0].output, h.ops[1].output, "equal sets intern to one value");
    assert_eq!(h.value(h.ops[0].output), &value("#{1 2 3}"));
}

#[test]
fn edn_comments_commas_and_discards() {
    let text = "\
; a Jepsen history
{:type :invoke, :process 0, :f :read, :value nil} ; trailing comment
#_{:type :invoke, :process 0, :f :read, :value nil}
{:type :ok,,, :process 0, :f :read, #_ :ignored :value [1 #_ 2 3]}
";
    let h = edn(text);
    assert_eq!(h.ops.len(), 1);
    assert_eq!(h.value(h.ops[0].output), &value("[1 3]"));
    assert_eq!(h.ops[0].complete_line, 4);
}

#[test]
fn unknown_keys_are_kept_as_extras() {
    let text = "\
{:type :invoke, :process 0, :f :read, :value nil, :node \"n1\"}
{:type :info, :process 0, :f :read, :value nil, :error [:timeout 5000], \"str-key\" 1}
{:type :invoke, :process 1, :f :read, :value nil}
";
    let h = edn(text);
    assert_eq!(h.extras.len(), 2);
    let (inv, comp) = (&h.extras[0], &h.extras[1]);
    assert_eq!((inv.op, inv.on), (0, EventKind::Invoke));
    assert_eq!(inv.fields, vec![(Value::keyword("node"), Value::string("n1"))]);
    assert_eq!((comp.op, comp.on), (0, EventKind::Info));
    assert_eq!(
        comp.fields,
        vec![(Value::keyword("error"), value("[:timeout 5000]")), (Value::string("str-key"), Value::Int(1))]
    );
    // JSON keeps them too, with string keys.
    let h = json(r#"{"type":"invoke","process":0,"f":"read","value":null,"node":"n1"}"#);
    assert_eq!(h.extras[0].fields, vec![(Value::string("node"), Value::string("n1"))]);
}

#[test]
fn ops_without_completion_are_open() {
    let text = "\
{:type :invoke, :process 0, :f :write, :value 1}
{:type :invoke, :process 1, :f :read, :value nil}
{:type :info, :process 1, :f :read, :value nil}
";
    let h = edn(text);
    let open = h.ops[0];
    assert_eq!(open.outcome, Outcome::Open);
    assert!(open.outcome.is_indeterminate());
    assert_eq!((open.complete_time, open.complete_index, open.complete_line), (i64::MAX, u64::MAX, 0));
    assert_eq!(h.value(open.output), &Value::Nil);
    assert_eq!(h.ops[1].outcome, Outcome::Info);
    assert_eq!(Summary::of(&h).crashed, 2);
}

#[test]
fn time_clock_when_every_event_has_time() {
    let h = edn(REGISTER);
    assert_eq!(h.clock, Clock::Time);
    assert_eq!((h.ops[0].invoke_time, h.ops[0].complete_time), (100, 200));
    assert_eq!((h.ops[1].invoke_time, h.ops[1].complete_time), (150, 250));
}

#[test]
fn position_clock_when_some_event_lacks_time() {
    // The last event has no :time: every time becomes the event's position, faults included.
    let text = "\
{:time 100, :type :invoke, :process 0, :f :write, :value 3}
{:time 110, :type :info, :process :nemesis, :f :start-partition, :value nil}
{:time 200, :type :ok, :process 0, :f :write, :value 3}
{:type :invoke, :process 1, :f :read, :value nil}
";
    let h = edn(text);
    assert_eq!(h.clock, Clock::Position);
    assert_eq!((h.ops[0].invoke_time, h.ops[0].complete_time), (0, 2));
    assert_eq!((h.ops[1].invoke_time, h.ops[1].complete_time), (3, i64::MAX));
    assert_eq!(h.faults[0].time, 1);
    // Without :index, indices are positions as well.
    assert_eq!((h.ops[0].invoke_index, h.ops[0].complete_index), (0, 2));
}

#[test]
fn nemesis_events_are_faults_not_ops() {
    let text = "\
{:index 0, :time 5, :type :info, :process :nemesis, :f :start-partition, :value :majority}
{:index 1, :time 6, :type :invoke, :process 0, :f :read, :value nil}
{:index 2, :time 7, :type :info, :process :nemesis, :f :start-partition, :value {\"n1\" #{\"n2\"}}}
{:index 3, :time 8, :type :ok, :process 0, :f :read, :value nil}
{:index 4, :time 9, :type :info, :process :nemesis, :value nil}
";
    let h = edn(text);
    assert_eq!(h.ops.len(), 1);
    assert_eq!(h.faults.len(), 3);
    let f = &h.faults[1];
    assert_eq!(
        (f.process.clone(), f.kind, f.f.clone()),
        (Value::keyword("nemesis"), EventKind::Info, Value::keyword("start-partition"))
    );
    assert_eq!((f.time, f.index, f.line), (7, 2, 3));
    assert_eq!(f.value, value("{\"n1\" #{\"n2\"}}"));
    assert_eq!(h.faults[2].f, Value::Nil, "a fault may lack :f");
    assert_eq!(Summary::of(&h).fault_events, 3);
    // JSON spells the nemesis as a string; it is the same keyword.
    let h = json(r#"{"type":"info","process":"nemesis","f":"kill","value":["n1"]}"#);
    assert_eq!(
        (h.faults[0].process.clone(), h.faults[0].f.clone()),
        (Value::keyword("nemesis"), Value::keyword("kill"))
    );
}

#[test]
fn json_lines_and_arrays_read_like_edn() {
    let lines = "\
{\"index\":0,\"time\":100,\"type\":\"invoke\",\"process\":0,\"f\":\"write\",\"value\":3}
{\"index\":1,\"time\":150,\"type\":\"invoke\",\"process\":1,\"f\":\"read\",\"value\":null}
{\"index\":2,\"time\":200,\"type\":\"ok\",\"process\":0,\"f\":\"write\",\"value\":3}
{\"index\":3,\"time\":250,\"type\":\"ok\",\"process\":1,\"f\":\"read\",\"value\":3}
{\"index\":4,\"time\":300,\"type\":\"invoke\",\"process\":0,\"f\":\"write\",\"value\":4}
{\"index\":5,\"time\":400,\"type\":\"fail\",\"process\":0,\"f\":\"write\",\"value\":4}
";
    let array = format!("[\n{}\n]", lines.trim_end().replace('\n', ",\n"));
    let expected = shape(&edn(REGISTER));
    for text in [lines.to_string(), array] {
        let h = json(&text);
        assert_eq!(shape(&h), expected);
        assert_eq!(h.clock, Clock::Time);
        assert_eq!(h.ops[1].complete_time, 250);
    }
}

#[test]
fn json_txn_values_keep_strings() {
    // elle-cli's shape: micro-op names are strings, as are string keys and values.
    let h = json(r#"[{"type":"invoke","process":0,"f":"txn","value":[["append","x",1],["r","y",null]]}]"#);
    assert_eq!(h.f_name(&h.ops[0]), "txn");
    assert_eq!(h.value(h.ops[0].input), &value(r#"[["append" "x" 1] ["r" "y" nil]]"#));
}

#[test]
fn text_log_with_and_without_the_jepsen_util_prefix() {
    let text = "\
INFO  jepsen.util - 3\t:invoke\t:cas\t[2 4]
INFO  jepsen.util - 3\t:fail\t:cas\t[2 4]
0 :invoke :read nil
:nemesis :info :start nil
0   :ok   :read   3
";
    let h = read_bytes("t.log", text.as_bytes(), Format::JepsenLog, &ReadOptions::default()).unwrap();
    assert_eq!(
        shape(&h),
        vec![
            (3, "cas".into(), "[2 4]".into(), "[2 4]".into(), Outcome::Fail),
            (0, "read".into(), "nil".into(), "3".into(), Outcome::Ok),
        ]
    );
    assert_eq!(h.faults.len(), 1);
    assert_eq!(h.clock, Clock::Position);
}

#[test]
fn format_follows_the_extension_then_the_content() {
    assert_eq!(Format::from_path("h.edn.gz"), Some(Format::Edn));
    assert_eq!(Format::from_path("h.JSONL"), Some(Format::Json));
    assert_eq!(Format::from_path("history.txt"), Some(Format::JepsenLog));
    assert_eq!(Format::from_path("history"), None);
    assert_eq!(Format::sniff(b"  {:type :ok}"), Format::Edn);
    assert_eq!(Format::sniff(b"[{\"type\":\"ok\"}]"), Format::Json);
    assert_eq!(Format::sniff(b"0 :invoke :read nil"), Format::JepsenLog);
}

/// Writes `bytes` to `name` in `dir` and reads it with `options`.
fn read_written(dir: &std::path::Path, name: &str, bytes: &[u8], options: &ReadOptions) -> History {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    read_file(path.to_str().unwrap(), options).unwrap_or_else(|e| panic!("{e}"))
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

#[test]
fn gzipped_files_read_transparently() {
    let dir = tempfile::tempdir().unwrap();
    let expected = shape(&edn(REGISTER));
    let gz = gzip(REGISTER.as_bytes());
    let options = ReadOptions::default();
    assert_eq!(shape(&read_written(dir.path(), "h.edn.gz", &gz, &options)), expected);
    // The gzip magic number is enough, whatever the name says.
    assert_eq!(shape(&read_written(dir.path(), "h.edn", &gz, &options)), expected);
    // Members concatenated by `cat a.gz b.gz` are all read.
    let (first, second) = REGISTER.split_at(REGISTER.find("{:index 4").unwrap());
    let two = [gzip(first.as_bytes()), gzip(second.as_bytes())].concat();
    assert_eq!(shape(&read_written(dir.path(), "two.edn.gz", &two, &options)), expected);
}

#[test]
fn errors_are_std_errors_and_io_errors_keep_their_source() {
    use std::error::Error;
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.edn");
    let err = read_file(missing.to_str().unwrap(), &ReadOptions::default()).unwrap_err();
    assert_eq!(err.kind, labrys::history::ErrorKind::Io);
    let source = err.source().expect("an I/O error keeps its source");
    let io = source.downcast_ref::<std::io::Error>().expect("the source is the I/O error");
    assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
    assert_eq!(err.clone(), err);
    // A syntax error has no source beneath it.
    let err = read_bytes("t.edn", b"{:type", Format::Edn, &ReadOptions::default()).unwrap_err();
    assert!(err.source().is_none());
    // A model's decode errors are errors too, with their message as their text.
    let decode: Box<dyn Error> = Box::new(labrys::model::DecodeError::new("a cas needs [old new]"));
    assert_eq!(decode.to_string(), "a cas needs [old new]");
}

#[test]
fn input_format_overrides_the_extension() {
    let dir = tempfile::tempdir().unwrap();
    let log = b"0 :invoke :read nil\n0 :ok :read 1\n";
    let forced = ReadOptions { format: Some(Format::JepsenLog), ..ReadOptions::default() };
    assert_eq!(read_written(dir.path(), "h.edn", log, &forced).ops.len(), 1);
    let path = dir.path().join("h.edn");
    assert!(read_file(path.to_str().unwrap(), &ReadOptions::default()).is_err(), "read as EDN it fails");
    // A `.txt` file holding EDN maps (Porcupine's KV histories) is read as EDN.
    let h = read_written(dir.path(), "kv.txt", REGISTER.as_bytes(), &ReadOptions::default());
    assert_eq!(h.ops.len(), 3);
}

/// Runs `labrys check --summary ARGS` with `stdin` as standard input, in `dir`.
fn labrys(dir: &std::path::Path, args: &[&str], stdin: &[u8]) -> (i32, String, String) {
    let mut child = Command::new(common::labrys_bin())
        .current_dir(dir)
        .args(["check", "--summary"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run labrys");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
    (out.status.code().unwrap(), text(out.stdout), text(out.stderr))
}

#[test]
fn dash_reads_standard_input() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = labrys(dir.path(), &["-"], REGISTER.as_bytes());
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("-: 3 ops (1 fail, 2 ok)"), "{stdout}");
    // Gzipped standard input is recognised by its magic number.
    let (code, stdout, _) = labrys(dir.path(), &["-"], &gzip(REGISTER.as_bytes()));
    assert_eq!(code, 0);
    assert!(stdout.starts_with("-: 3 ops"), "{stdout}");
    // Errors name standard input as `-`.
    let (code, _, stderr) = labrys(dir.path(), &["-"], b"{:type :invoke}\n");
    assert_eq!(code, 254);
    assert!(stderr.starts_with("error: -:1:1: this op has no :process"), "{stderr}");
}

#[test]
fn input_format_flag_on_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let jsonl = b"{\"type\":\"invoke\",\"process\":0,\"f\":\"read\"}\n{\"type\":\"ok\",\"process\":0,\"f\":\"read\",\"value\":1}\n";
    std::fs::write(dir.path().join("h.data"), jsonl).unwrap();
    let (code, stdout, stderr) = labrys(dir.path(), &["--input-format", "json", "h.data"], b"");
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("h.data: 1 ops (1 ok)"), "{stdout}");
    let (code, _, stderr) = labrys(dir.path(), &["--input-format", "edn", "h.data"], b"");
    assert_eq!(code, 254, "JSON read as EDN: {stderr}");
    let (code, stdout, _) = labrys(dir.path(), &["--input-format", "log", "-"], b"0 :invoke :read nil\n");
    assert_eq!(code, 0);
    assert!(stdout.starts_with("-: 1 ops (1 open)"), "{stdout}");
}

#[test]
fn a_process_whose_clock_runs_backwards_is_warned_about() {
    let text = "{:process 0, :type :invoke, :f :write, :value 1, :time 100}\n\
                {:process 0, :type :ok, :f :write, :value 1, :time 200}\n\
                {:process 0, :type :invoke, :f :write, :value 2, :time 150}\n\
                {:process 0, :type :ok, :f :write, :value 2, :time 300}\n\
                {:process 1, :type :invoke, :f :read, :value nil, :time 310}\n\
                {:process 1, :type :ok, :f :read, :value 2, :time 320}\n";
    let h = labrys::history::read_bytes(
        "t.edn",
        text.as_bytes(),
        labrys::history::Format::Edn,
        &Default::default(),
    )
    .unwrap();
    assert_eq!(h.warnings.len(), 1, "{:?}", h.warnings);
    assert!(h.warnings[0].message.contains("process 0's timestamps run backwards"));
    assert_eq!(h.warnings[0].line, 3);
}
