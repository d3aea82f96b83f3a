//! Real `--output json` reports validate against `schema/report.schema.json`, with a small
//! validator for the parts of JSON Schema that file uses (type, const, enum, required,
//! properties, items).

mod common;

use serde_json::Value;
use std::process::Command;

fn type_matches(v: &Value, t: &str) -> bool {
    match t {
        "array" => v.is_array(),
        "object" => v.is_object(),
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        other => panic!("the schema uses a type this validator does not know: {other}"),
    }
}

/// The places where `v` breaks `schema`, as JSON pointers with a reason.
fn validate(schema: &Value, v: &Value, at: &str, errors: &mut Vec<String>) {
    match schema.get("type") {
        Some(Value::String(t)) if !type_matches(v, t) => errors.push(format!("{at}: not a {t}")),
        Some(Value::Array(ts)) if !ts.iter().any(|t| type_matches(v, t.as_str().unwrap())) => {
            errors.push(format!("{at}: not one of {ts:?}"))
        }
        _ => {}
    }
    if let Some(c) = schema.get("const") {
        if c != v {
            errors.push(format!("{at}: not {c}"));
        }
    }
    if let Some(Value::Array(options)) = schema.get("enum") {
        if !options.contains(v) {
            errors.push(format!("{at}: {v} not in {options:?}"));
        }
    }
    if let (Some(Value::Array(required)), Some(obj)) = (schema.get("required"), v.as_object()) {
        for r in required {
            if !obj.contains_key(r.as_str().unwrap()) {
                errors.push(format!("{at}: missing {r}"));
            }
        }
    }
    if let (Some(Value::Object(props)), Some(obj)) = (schema.get("properties"), v.as_object()) {
        for (name, sub) in props {
            if let Some(x) = obj.get(name) {
                validate(sub, x, &format!("{at}/{name}"), errors);
            }
        }
    }
    if let (Some(items), Some(arr)) = (schema.get("items"), v.as_array()) {
        for (i, x) in arr.iter().enumerate() {
            validate(items, x, &format!("{at}/{i}"), errors);
        }
    }
}

fn schema() -> Value {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema/report.schema.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn the_validator_catches_what_the_schema_forbids() {
    let bad = serde_json::json!([{"version": 2, "file": "f", "model": "m", "consistency": "c", "valid": "maybe",
        "anomalies": [{"type": "x", "ops": ["1"]}], "stats": {}}]);
    let mut errors = Vec::new();
    validate(&schema(), &bad, "", &mut errors);
    let text = errors.join("\n");
    assert!(text.contains("/0/version: not 1"), "{text}");
    assert!(text.contains("/0/valid"), "{text}");
    assert!(text.contains("/0/anomalies/0: missing \"explanation\""), "{text}");
    assert!(text.contains("/0/anomalies/0/ops/0: not a integer"), "{text}");
}

#[test]
fn every_example_report_validates() {
    let dir = common::histories_dir();
    let csv = std::fs::read_to_string(dir.join("expected.csv")).unwrap();
    let schema = schema();
    for line in csv.lines().skip(1) {
        let cols: Vec<&str> = line.split(',').collect();
        let mut cmd = Command::new(common::labrys_bin());
        cmd.args(["check", "--output", "json", "--model", cols[1]]);
        // Transactions are checked for Elle's models, objects for these two.
        if !matches!(cols[1], "list-append" | "rw-register") {
            cmd.args(["--consistency", "linearizable,sequential"]);
        }
        if !cols[2].is_empty() {
            cmd.args(["--init", cols[2]]);
        }
        validated(&schema, cmd.arg(dir.join(cols[0])), cols[0]);
    }
}

/// The JSON report `cmd` prints for the example `name`, which must validate against `schema`.
fn validated(schema: &Value, cmd: &mut Command, name: &str) -> Value {
    let out = cmd.output().unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut errors = Vec::new();
    validate(schema, &report, "", &mut errors);
    assert!(errors.is_empty(), "{name}: {}", errors.join("\n"));
    report
}

#[test]
fn every_transactional_example_report_validates() {
    let dir = common::histories_dir().join("txn");
    let csv = std::fs::read_to_string(dir.join("expected.csv")).unwrap();
    let schema = schema();
    for line in csv.lines().skip(1) {
        let cols: Vec<&str> = line.split(',').collect();
        let mut cmd = Command::new(common::labrys_bin());
        cmd.args(["check", "--output", "json", "--consistency", cols[2]]);
        if !cols[1].is_empty() {
            cmd.args(["--model", cols[1]]);
        }
        validated(&schema, cmd.arg(dir.join(cols[0])), cols[0]);
    }
}

#[test]
fn every_workload_example_report_validates() {
    let dir = common::histories_dir().join("workload");
    let csv = std::fs::read_to_string(dir.join("expected.csv")).unwrap();
    let schema = schema();
    for line in csv.lines().skip(1) {
        let cols: Vec<&str> = line.split(',').collect();
        let mut cmd = Command::new(common::labrys_bin());
        cmd.args(["check", "--output", "json", "--model", cols[1]]).arg(dir.join(cols[0]));
        let report = validated(&schema, &mut cmd, cols[0]);
        if cols[1] != "set-final" {
            assert!(report[0]["read-count"].is_u64(), "{}: {report}", cols[0]);
        }
    }
}

#[test]
fn every_set_full_and_long_fork_example_report_validates() {
    let schema = schema();
    for folder in ["set-full", "long-fork"] {
        let dir = common::histories_dir().join(folder);
        let csv = std::fs::read_to_string(dir.join("expected.csv")).unwrap();
        for line in csv.lines().skip(1) {
            let cols: Vec<&str> = line.split(',').collect();
            let mut cmd = Command::new(common::labrys_bin());
            cmd.args(["check", "--output", "json", "--model", cols[1]]).args(cols[2].split_whitespace());
            let report = validated(&schema, cmd.arg(dir.join(cols[0])), cols[0]);
            assert!(
                report[0].get("attempt-count").is_some() || report[0].get("group-size").is_some(),
                "{report}"
            );
        }
    }
}

#[test]
fn the_entry_of_a_file_that_could_not_be_read_validates() {
    let dir = common::histories_dir();
    let out = Command::new(common::labrys_bin())
        .args(["check", "--output", "json", "absent.edn"])
        .arg(dir.join("register-ok.edn"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(254));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report.as_array().unwrap().len(), 2, "{report}");
    assert_eq!(report[0]["file"], "absent.edn");
    assert_eq!(report[0]["valid"], "unknown");
    assert!(report[0]["error"].as_str().unwrap().contains("cannot read"), "{report}");
    let mut errors = Vec::new();
    validate(&schema(), &report, "", &mut errors);
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

/// The schema spells the words labrys writes as the typed vocabulary spells them: every
/// transactional edge kind, and nothing the vocabulary cannot write.
#[test]
fn the_schema_names_the_vocabulary() {
    use labrys::model::EdgeKind;
    let s = schema();
    let step = &s["items"]["properties"]["anomalies"]["items"]["properties"]["cycle"]["items"];
    let mut named: Vec<&str> =
        step["properties"]["type"]["enum"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    let all = [
        EdgeKind::Version,
        EdgeKind::ReadsFrom,
        EdgeKind::AntiDependency,
        EdgeKind::RealTime,
        EdgeKind::Process,
    ];
    let mut written: Vec<&str> = all.iter().map(|k| k.elle()).collect();
    named.sort_unstable();
    written.sort_unstable();
    assert_eq!(named, written);
    // Every procedure that decides a key, and nothing else.
    let keys = &s["items"]["properties"]["keys"]["items"]["properties"];
    let named: Vec<&str> =
        keys["procedure"]["enum"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    let written: Vec<&str> = labrys::vocab::Procedure::ALL.iter().map(|p| p.as_str()).collect();
    assert_eq!(named, written);
    // Each written as JSON in a transactional cycle step is the schema's word.
    for k in all {
        let step = labrys::txn::CycleStep {
            from: 1,
            to: 2,
            kind: k,
            key: None,
            value: None,
            value_after: None,
            process: None,
        };
        let json = serde_json::to_value(&step).unwrap();
        assert_eq!(json["type"], k.elle(), "{json}");
    }
}
