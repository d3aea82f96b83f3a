//! On every invalid etcd history of `../shared/peers/porcupine/jepsen/`, the shrunk witness is
//! itself not linearizable (checked again by the engine) and no larger than the window the
//! search failed in.

mod common;

use labrys::check::{CheckConfig, check_history};
use labrys::history::{Format, ReadOptions, read_bytes, read_file};
use labrys::outcome::Verdict;

#[test]
fn shrunk_witnesses_are_themselves_invalid() {
    let Some(dir) = common::porcupine_dir() else { return };
    let config = CheckConfig { model: Some("cas-register".parse().unwrap()), ..CheckConfig::default() };
    let mut sizes = Vec::new();
    for path in common::etcd_files(&dir) {
        let h = read_file(path.to_str().unwrap(), &ReadOptions::default()).unwrap();
        let report = check_history(&h, &config).unwrap().remove(0);
        if report.valid != Verdict::Invalid {
            continue;
        }
        let witness = report.keys[0].witness.as_ref().expect("an invalid key has a witness");
        assert!(!witness.is_empty() && witness.len() <= h.ops.len());
        // Rebuild a history of just the witness's ops, from the original events, and check it.
        let mut text = String::new();
        for w in witness {
            let op = &h.ops[w.position as usize];
            let f = h.f_name(op);
            let (t, out) = match op.outcome {
                labrys::history::Outcome::Ok => ("ok", h.value(op.output).to_string()),
                _ => ("info", "nil".to_string()),
            };
            text.push_str(&format!(
                "{{:process {}, :type :invoke, :f :{f}, :value {}, :time {}}}\n",
                op.process,
                h.value(op.input),
                op.invoke_time
            ));
            if op.complete_time != i64::MAX {
                text.push_str(&format!(
                    "{{:process {}, :type :{t}, :f :{f}, :value {out}, :time {}}}\n",
                    op.process, op.complete_time
                ));
            }
        }
        let mut events: Vec<&str> = text.lines().collect();
        // Order events by time, as the history had them.
        events.sort_by_key(|l| {
            let time: i64 = l.rsplit(":time ").next().unwrap().trim_end_matches('}').parse().unwrap();
            (time, !l.contains(":invoke"))
        });
        let sorted = events.join("\n");
        let sub = read_bytes("witness.edn", sorted.as_bytes(), Format::Edn, &ReadOptions::default()).unwrap();
        let again = check_history(&sub, &config).unwrap().remove(0);
        assert_eq!(again.valid, Verdict::Invalid, "{}: witness {sorted}", path.display());
        sizes.push(witness.len());
    }
    sizes.sort_unstable();
    eprintln!("witness sizes over {} invalid histories: {:?}", sizes.len(), sizes);
    assert_eq!(sizes.len(), 79);
}

/// A set read of an element whose only add failed is a read of a failed write, named with that
/// add, however many other adds failed before it (the explanation once gave up after 64).
#[test]
fn a_read_of_a_failed_add_is_named_among_many_failed_adds() {
    let mut text = String::new();
    let mut line = |p: u32, kind: &str, f: &str, v: &str| {
        text.push_str(&format!("{{:process {p}, :type :{kind}, :f :{f}, :value {v}}}\n"));
    };
    for v in 100..200 {
        line(1, "invoke", "add", &v.to_string());
        line(1, "fail", "add", &v.to_string());
    }
    line(0, "invoke", "add", "1");
    line(0, "ok", "add", "1");
    line(1, "invoke", "add", "7");
    line(1, "fail", "add", "7");
    for v in 200..230 {
        line(1, "invoke", "add", &v.to_string());
        line(1, "fail", "add", &v.to_string());
    }
    line(0, "invoke", "read", "nil");
    line(0, "ok", "read", "#{1 7}");
    let h = read_bytes("failed-adds.edn", text.as_bytes(), Format::Edn, &ReadOptions::default()).unwrap();
    let config = CheckConfig { model: Some("set".parse().unwrap()), ..CheckConfig::default() };
    let report = check_history(&h, &config).unwrap().remove(0);
    assert_eq!(report.valid, Verdict::Invalid);
    let anomaly = &report.anomalies[0];
    assert_eq!(anomaly.kind, "read-of-failed-write", "{}", report.to_text());
    assert!(anomaly.explanation.contains("add 7 (index "), "{}", anomaly.explanation);
    assert!(!anomaly.explanation.contains("add 100"), "{}", anomaly.explanation);
}
