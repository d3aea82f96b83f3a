//! Certification of single-object reports: true claims pass, tampered ones are refuted; the
//! command line gives valid keys' orders with `--linearization`; and the two false claims of
//! issue 18 (points 4 and 5) stay gone.

mod common;

use labrys::certify::linear::Keying;
use labrys::certify::linear::{Setting, certify_linear_report};
use labrys::check::Options;
use labrys::history::Outcome;
use labrys::history::{ReadOptions, read_file};
use labrys::model::{CasRegister, EdgeKind};
use labrys::outcome::Verdict;
use labrys::outcome::{LinearReport, OpRef, TriedOp};
use std::process::Command;

fn setting(keying: Keying) -> Setting {
    Setting { keying, skew: 0, nil_reads_unknown: false, init: None }
}

fn checked(file: &str) -> (labrys::history::History, LinearReport) {
    let path = common::histories_dir().join(file);
    let h = read_file(path.to_str().unwrap(), &ReadOptions::default()).unwrap();
    let report = labrys::check::check_linearizable(&CasRegister::default(), &h, &Options::default()).unwrap();
    (h, report)
}

#[test]
fn a_valid_keys_order_is_replayed_and_tampering_is_refuted() {
    let (h, report) = checked("cas-register-ok.edn");
    let model = CasRegister::default();
    assert_eq!(report.verdict, Verdict::Valid);
    certify_linear_report(&model, &h, &report, &setting(Keying::Single)).unwrap();
    let order = report.keys[0].order.clone().unwrap();
    assert!(order.len() >= 3, "{order:?}");
    let tampered = |edit: &dyn Fn(&mut Vec<u32>)| {
        let mut r = report.clone();
        edit(r.keys[0].order.as_mut().unwrap());
        certify_linear_report(&model, &h, &r, &setting(Keying::Single)).unwrap_err()
    };
    // Reversed: the model's steps or real time break; an op left out; an op twice.
    let e = tampered(&|o| o.reverse());
    assert!(e.why.contains("cannot take effect") || e.why.contains("completed before"), "{e}");
    assert!(tampered(&|o| o.truncate(o.len() - 1)).why.contains("left out"));
    assert!(tampered(&|o| o.push(o[0])).why.contains("twice"));
    // A valid key must keep its order.
    let mut r = report.clone();
    r.keys[0].order = None;
    assert!(certify_linear_report(&model, &h, &r, &setting(Keying::Single)).is_err());
}

#[test]
fn an_invalid_keys_evidence_is_rederived_and_tampering_is_refuted() {
    let (h, report) = checked("story-stale-read.edn");
    let model = CasRegister::default();
    assert_eq!(report.verdict, Verdict::Invalid);
    certify_linear_report(&model, &h, &report, &setting(Keying::Single)).unwrap();
    let key = &report.keys[0];
    let class = key.class.as_ref().expect("a named class");
    assert_eq!(class.kind, labrys::vocab::ClassKind::StaleRead);
    // The class's ops swapped around, or its kind changed, no longer show it.
    let mut r = report.clone();
    r.keys[0].class.as_mut().unwrap().ops.reverse();
    assert!(certify_linear_report(&model, &h, &r, &setting(Keying::Single)).is_err());
    let mut r = report.clone();
    r.keys[0].class.as_mut().unwrap().kind = labrys::vocab::ClassKind::FutureRead;
    assert!(certify_linear_report(&model, &h, &r, &setting(Keying::Single)).is_err());
    // The counterexample's blocked op claimed to be placeable, or its prefix cut short.
    let mut r = report.clone();
    r.keys[0].counterexample.as_mut().unwrap().reason = "it could take effect here".into();
    assert!(certify_linear_report(&model, &h, &r, &setting(Keying::Single)).is_err());
    let mut r = report.clone();
    r.keys[0].counterexample.as_mut().unwrap().prefix.pop();
    assert!(certify_linear_report(&model, &h, &r, &setting(Keying::Single)).is_err());
    // The states and reasons it tells are the model's words, each in its place: a state told
    // after the wrong step, at the block, or an op tried given the blocked op's reason.
    let told = |edit: &dyn Fn(&mut labrys::outcome::Counterexample)| {
        let mut r = report.clone();
        edit(r.keys[0].counterexample.as_mut().unwrap());
        certify_linear_report(&model, &h, &r, &setting(Keying::Single)).unwrap_err().why
    };
    let c = key.counterexample.as_ref().unwrap();
    let steps = &c.prefix_tail;
    let other = steps.iter().map(|s| &s.state_after).find(|s| **s != steps[0].state_after);
    let other = other.expect("the prefix goes through two states").clone();
    assert!(told(&|c| c.prefix_tail[0].state_after = other.clone()).contains("the state cannot be"));
    let other = steps.iter().map(|s| &s.state_after).find(|s| **s != c.state).unwrap().clone();
    assert!(told(&|c| c.state = other.clone()).contains("the search got stuck"));
    // An op tried (here none was: one is made up, of an op outside the prefix) must be given
    // the model's words for it, and must not be one of the prefix's.
    let outside = (0..h.ops.len() as u32)
        .find(|p| !c.prefix.contains(p) && *p != c.op.position && h.ops[*p as usize].outcome == Outcome::Ok);
    let tried = TriedOp { op: c.op.clone(), reason: "it did not fit".into() };
    let tried =
        TriedOp { op: OpRef { position: outside.expect("an op outside the prefix"), ..tried.op }, ..tried };
    let why = told(&|c| c.tried.push(tried.clone()));
    assert!(why.contains("the reason given for"), "{why}");
    let in_prefix = TriedOp { op: c.prefix_tail[0].op.clone(), ..tried.clone() };
    assert!(told(&|c| c.tried.push(in_prefix.clone())).contains("is in the prefix"));
    let why = told(&|c| c.reason = format!("{} (tampered)", c.reason));
    assert!(why.contains("the blocked op's reason"), "{why}");
    // A witness with an op dropped can be ordered.
    let mut r = report.clone();
    let w = r.keys[0].witness.as_mut().expect("a witness");
    w.retain(|o| !o.text.starts_with("read"));
    assert!(certify_linear_report(&model, &h, &r, &setting(Keying::Single)).is_err());
    // The verdict flipped.
    let mut r = report.clone();
    r.verdict = Verdict::Valid;
    assert!(certify_linear_report(&model, &h, &r, &setting(Keying::Single)).is_err());
}

#[test]
fn a_cycles_edges_are_rederived_and_tampering_is_refuted() {
    // A cas-register history whose values give a cycle: read 1 after cas 1→2 completed.
    let text = "{:process 0, :type :invoke, :f :write, :value 1}\n{:process 0, :type :ok, :f :write, :value 1}\n\
                {:process 1, :type :invoke, :f :cas, :value [1 2]}\n{:process 1, :type :ok, :f :cas, :value [1 2]}\n\
                {:process 2, :type :invoke, :f :read, :value nil}\n{:process 2, :type :ok, :f :read, :value 1}\n";
    let h = labrys::history::read_bytes(
        "c.edn",
        text.as_bytes(),
        labrys::history::Format::Edn,
        &ReadOptions::default(),
    )
    .unwrap();
    let model = CasRegister::default();
    let report = labrys::check::check_linearizable(&model, &h, &Options::default()).unwrap();
    let cycle = report.keys[0].cycle.as_ref().expect("a cycle");
    certify_linear_report(&model, &h, &report, &setting(Keying::Single)).unwrap();
    for (i, step) in cycle.iter().enumerate() {
        for kind in [EdgeKind::ReadsFrom, EdgeKind::Version, EdgeKind::AntiDependency, EdgeKind::RealTime] {
            if kind == step.edge {
                continue;
            }
            let mut r = report.clone();
            r.keys[0].cycle.as_mut().unwrap()[i].edge = kind;
            assert!(
                certify_linear_report(&model, &h, &r, &setting(Keying::Single)).is_err(),
                "edge {i} as {kind:?} was not refuted"
            );
        }
    }
}

fn labrys(args: &[&str]) -> std::process::Output {
    Command::new(common::labrys_bin()).args(args).output().unwrap()
}

#[test]
fn linearization_gives_each_valid_keys_order() {
    let file = common::histories_dir().join("independent-cas.edn");
    let file = file.to_str().unwrap();
    let json = |args: &[&str]| -> serde_json::Value { serde_json::from_slice(&labrys(args).stdout).unwrap() };
    let with = json(&["check", "--output", "json", "--linearization", file]);
    let keys = with[0]["keys"].as_array().unwrap();
    let valid: Vec<&serde_json::Value> = keys.iter().filter(|k| k["valid"] == true).collect();
    assert!(!valid.is_empty());
    let text = std::fs::read_to_string(file).unwrap();
    for k in valid {
        let order = k["linearization"].as_array().expect("an order for a valid key");
        assert!(!order.is_empty());
        for i in order {
            assert!(text.contains(&format!(":index {i},")), "index {i} is an op of the file");
        }
    }
    assert!(keys.iter().filter(|k| k["valid"] != true).all(|k| k.get("linearization").is_none()));
    let without = json(&["check", "--output", "json", file]);
    assert!(without[0]["keys"].as_array().unwrap().iter().all(|k| k.get("linearization").is_none()));
}

/// Issue 18, point 4: realtime edges that did not hold ("T2 completed (index 5048) before T1
/// was invoked (index 5012)") — certification refuted them (exit 255) before the fix.
#[test]
fn transaction_cycles_claim_only_real_time_that_holds() {
    let dir = tempfile::tempdir().unwrap();
    let h = dir.path().join("h.edn");
    let h = h.to_str().unwrap();
    let sim = [
        "simulate",
        "--service",
        "stale-read",
        "--workload",
        "list-append",
        "--faults",
        "partition,kill,loss",
        "--ops",
        "3000",
        "--seed",
        "1",
        "-o",
        h,
    ];
    assert!(labrys(&sim).status.success());
    let out = labrys(&["check", h]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("G-single-realtime"), "{text}");
}

/// Issue 18, point 5: a named class and an unrelated cycle on the same key are two anomalies,
/// each with its own ops (the lost-write card showed the cycle's graph).
#[test]
fn each_anomaly_carries_only_its_own_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let h = dir.path().join("big.edn");
    let h = h.to_str().unwrap();
    let sim = [
        "simulate",
        "--service",
        "stale-read",
        "--faults",
        "partition,kill",
        "--ops",
        "100000",
        "--seed",
        "1",
        "-o",
        h,
    ];
    assert!(labrys(&sim).status.success());
    // Searched whole (the cas chains would explain the few ops they name, not this lost write).
    let out = labrys(&["check", "--no-fast-path", "--output", "json", h]);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let anomalies = report[0]["anomalies"].as_array().unwrap();
    let lost = anomalies.iter().find(|a| a["type"] == "lost-write").expect("the lost write");
    let ops: Vec<u64> = lost["ops"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
    assert_eq!(ops, [650, 717]);
    assert!(lost["counterexample"].is_null());
    let cycle = anomalies.iter().find(|a| a["type"] == "not-linearizable").expect("the cycle, on its own");
    let cited: Vec<u64> = cycle["ops"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
    assert!(cited.iter().all(|i| !ops.contains(i)), "{cited:?}");
    assert!(cycle["explanation"].as_str().unwrap().contains("in a cycle"));
}

/// A claim certification could not re-derive (here sequential consistency's write orders, in a
/// register of more ops than the certifier builds its must-precede closure for) is shown with a
/// warning saying so, on standard error and in the JSON report: never silently as if it had
/// been re-derived.
#[test]
fn claims_not_rederived_are_flagged() {
    // Two readers disagree on the order of two writes; then one more process writes 4,100
    // values nobody reads, which changes nothing but the register's size.
    let mut text = std::fs::read_to_string(common::histories_dir().join("sc-disagreeing-order.edn")).unwrap();
    for i in 0..4100 {
        let (t, v) = (10_000 + 2 * i, 100 + i);
        text += &format!("{{:time {t}, :type :invoke, :process 9, :f :write, :value {v}}}\n");
        text += &format!("{{:time {}, :type :ok, :process 9, :f :write, :value {v}}}\n", t + 1);
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.edn");
    std::fs::write(&file, text).unwrap();
    let file = file.to_str().unwrap();
    let out = labrys(&["check", "--consistency", "sequential", file]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.matches("could not be re-derived independently").count(), 1, "{stderr}");
    let out = labrys(&["check", "--output", "json", "--consistency", "sequential", file]);
    let reports: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let report = reports.as_array().map_or(&reports, |all| &all[0]);
    let warnings = report["warnings"].as_array().unwrap();
    assert!(
        warnings.iter().any(|w| w.as_str().unwrap().contains("too many for the certifier's closure")),
        "{warnings:?}"
    );
}

/// A long order is walked in segments on all cores: what breaks across two segments is refuted
/// as surely as what breaks within one.
#[test]
fn a_long_orders_tampering_is_refuted_across_segments() {
    use labrys::history::{Format, read_bytes};
    use labrys::model::Register;
    use labrys::sim::cluster::{ClusterConfig, Faults, Service, Workload, history_string};
    let faults = Faults::parse("partition,kill").unwrap();
    let c = ClusterConfig {
        service: Service::Correct,
        workload: Workload::Register,
        faults,
        ops: 80_000,
        seed: 7,
        ..ClusterConfig::default()
    };
    let text = history_string(&c);
    let h = read_bytes("long.edn", text.as_bytes(), Format::Edn, &ReadOptions::default()).unwrap();
    let model = Register::default();
    let report = labrys::check::check_linearizable(&model, &h, &Options::default()).unwrap();
    assert_eq!(report.verdict, Verdict::Valid);
    certify_linear_report(&model, &h, &report, &setting(Keying::Single)).unwrap();
    let order = report.keys[0].order.clone().unwrap();
    assert!(order.len() > 35_000, "{}", order.len());
    let tampered = |edit: &dyn Fn(&mut Vec<u32>)| {
        let mut r = report.clone();
        edit(r.keys[0].order.as_mut().unwrap());
        certify_linear_report(&model, &h, &r, &setting(Keying::Single)).unwrap_err()
    };
    // The first op moved to the head of the second segment, or into a later one.
    for to in [8192, 33_000] {
        let e = tampered(&|o| {
            let first = o.remove(0);
            o.insert(to, first);
        });
        assert!(e.why.contains("completed before"), "{e}");
    }
    // An op placed again right after itself, across the boundary of two segments, or within
    // one (the model takes a register's read or write twice; only the count refutes).
    for at in [8191, 16_383, 33_000] {
        assert!(tampered(&|o| o.insert(at + 1, o[at])).why.contains("twice"));
    }
    assert!(tampered(&|o| o.truncate(o.len() - 1)).why.contains("left out"));
}

/// A long counter's segments are walked from guesses that are wrong (a count depends on every
/// add before it): each is stepped again from the count reached, so a valid order still
/// passes, and one whose reads are swapped is still refuted.
#[test]
fn a_long_counters_order_is_walked_again_where_guesses_fail() {
    use labrys::history::{Format, read_bytes};
    use labrys::model::Counter;
    use labrys::sim::cluster::{ClusterConfig, Faults, Service, Workload, history_string};
    let c = ClusterConfig {
        service: Service::Correct,
        workload: Workload::Counter,
        faults: Faults::parse("partition").unwrap(),
        ops: 20_000,
        seed: 3,
        ..ClusterConfig::default()
    };
    let text = history_string(&c);
    let h = read_bytes("counter.edn", text.as_bytes(), Format::Edn, &ReadOptions::default()).unwrap();
    let model = Counter::default();
    let report = labrys::check::check_linearizable(&model, &h, &Options::default()).unwrap();
    assert_eq!(report.verdict, Verdict::Valid);
    let order = report.keys[0].order.clone().unwrap();
    assert!(order.len() > 8192, "{}", order.len());
    certify_linear_report(&model, &h, &report, &setting(Keying::Single)).unwrap();
    // The last op placed twice: a count it has already added to.
    let mut r = report.clone();
    let orders = r.keys[0].order.as_mut().unwrap();
    orders.push(orders[orders.len() - 1]);
    assert!(certify_linear_report(&model, &h, &r, &setting(Keying::Single)).is_err());
    // An add dropped from the first segment: every later read is off by its amount.
    let first_add = order.iter().position(|p| h.f_name(&h.ops[*p as usize]) == "add").unwrap();
    let mut r = report.clone();
    r.keys[0].order.as_mut().unwrap().remove(first_add);
    assert!(certify_linear_report(&model, &h, &r, &setting(Keying::Single)).is_err());
}
