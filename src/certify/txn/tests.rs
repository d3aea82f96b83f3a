//! Certification accepts what the checker reports and refutes what it does not.

use super::*;
use crate::history::{Format, ReadOptions, read_bytes};
use crate::model::EdgeKind;
use crate::sim::list_append::{TxnFormat, TxnGenConfig, TxnWorkload, history_string};
use crate::txn::{ConsistencyModel, TxnOptions, check_decoded, decode, guess_workload};

fn history(text: &str) -> History {
    read_bytes("t.edn", text.as_bytes(), Format::Edn, &ReadOptions::default()).unwrap()
}

fn decoded(h: &History) -> Txns {
    decode(h, guess_workload(h).unwrap()).unwrap()
}

fn check(h: &History, t: &Txns, models: &[&str], skew: i64) -> TxnReport {
    let consistency = models.iter().map(|m| ConsistencyModel::from_name(m).unwrap()).collect();
    check_decoded(h, t, &TxnOptions { consistency, clock_skew: skew, ..TxnOptions::default() })
}

/// Checks under `models` and certifies, panicking with the refutation if there is one.
fn certified(h: &History, t: &Txns, models: &[&str], skew: i64) -> TxnReport {
    let r = check(h, t, models, skew);
    if let Err(e) = certify_txn_report(h, t, &r, skew) {
        panic!("{models:?}: {e}\n{:#?}", r.anomalies);
    }
    r
}

const MODELS: &[&[&str]] = &[
    &["strict-serializable"],
    &["serializable"],
    &["strong-session-serializable"],
    &["snapshot-isolation"],
    &["read-committed"],
    &["read-uncommitted"],
];

fn example(name: &str) -> String {
    std::fs::read_to_string(format!("{}/histories/txn/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[test]
fn hand_written_histories_are_certified() {
    let dir = format!("{}/histories/txn", env!("CARGO_MANIFEST_DIR"));
    let mut kinds = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let Some(ext) = path.extension().and_then(|e| e.to_str()) else { continue };
        let format = match ext {
            "edn" => Format::Edn,
            "json" => Format::Json,
            _ => continue,
        };
        let text = std::fs::read(&path).unwrap();
        let h = read_bytes(&path.to_string_lossy(), &text, format, &ReadOptions::default()).unwrap();
        let t = decoded(&h);
        for models in MODELS {
            let r = certified(&h, &t, models, 0);
            kinds.extend(r.anomalies.iter().map(|a| a.kind.to_string()));
        }
    }
    // Every kind of anomaly the examples show was certified at least once.
    for k in [
        "G0",
        "G1a",
        "G1b",
        "G1c",
        "G-single",
        "G-nonadjacent",
        "G2-item",
        "G-single-realtime",
        "G-single-process",
        "G0-realtime",
        "G1c-realtime",
        "dirty-update",
        "garbage-read",
        "duplicate-elements",
        "incompatible-order",
        "internal",
        "future-read",
        "lost-update",
        "cyclic-versions",
    ] {
        assert!(kinds.contains(k), "{k} not among {kinds:?}");
    }
}

fn generated(workload: TxnWorkload, seed: u64, stale: f64) -> String {
    let c = TxnGenConfig {
        workload,
        txns: 300,
        processes: 6,
        active_keys: 4,
        max_writes_per_key: 12,
        crash_rate: 0.05,
        fail_rate: 0.05,
        stale_reads: stale,
        stale_window: 10,
        seed,
        ..TxnGenConfig::default()
    };
    history_string(&c, TxnFormat::Edn)
}

#[test]
fn generated_stale_histories_are_certified() {
    let mut kinds = std::collections::BTreeMap::new();
    for workload in [TxnWorkload::ListAppend, TxnWorkload::RwRegister] {
        for seed in 0..12 {
            let h = history(&generated(workload, seed, 0.2));
            let t = decoded(&h);
            for models in MODELS {
                for skew in [0, 3] {
                    for a in certified(&h, &t, models, skew).anomalies {
                        *kinds.entry(a.kind).or_insert(0) += 1;
                    }
                }
            }
        }
    }
    assert!(kinds.len() >= 6, "{kinds:?}");
}

#[test]
fn cluster_list_append_histories_are_certified() {
    use crate::sim::cluster::{ClusterConfig, Faults, Service, Workload as Sim, history_string};
    let mut invalid = 0;
    for service in Service::ALL {
        if !service.supports(Sim::ListAppend) {
            continue;
        }
        for (faults, seed) in
            [("partition,kill", 0), ("loss", 1), ("partition,kill,loss,clock", 2), ("kill", 3)]
        {
            let c = ClusterConfig {
                service,
                workload: Sim::ListAppend,
                faults: Faults::parse(faults).unwrap(),
                ops: 300,
                seed,
                ..ClusterConfig::default()
            };
            let h = history(&history_string(&c));
            let t = decoded(&h);
            for models in MODELS {
                let r = certified(&h, &t, models, 0);
                invalid += usize::from(r.valid == Verdict::Invalid);
            }
        }
    }
    assert!(invalid > 10, "{invalid}");
}

/// A report of `text` checked under `models`, certified.
fn report_of(text: &str, models: &[&str]) -> (History, Txns, TxnReport) {
    let h = history(text);
    let t = decoded(&h);
    let r = certified(&h, &t, models, 0);
    (h, t, r)
}

/// `report` with its anomaly `i` changed by `tamper`; must be refuted.
fn refuted(
    h: &History,
    t: &Txns,
    report: &TxnReport,
    i: usize,
    tamper: impl FnOnce(&mut TxnAnomaly),
) -> Refuted {
    let mut r = report.clone();
    tamper(&mut r.anomalies[i]);
    let kind = r.anomalies[i].kind.to_string();
    r.anomaly_counts.entry(kind).or_insert(1);
    match certify_txn_report(h, t, &r, 0) {
        Ok(_) => panic!("tampered claim certified: {:#?}", r.anomalies[i]),
        Err(e) => e,
    }
}

/// A cited transaction re-pointed at op `op`, every field made to match it.
fn cite(h: &History, t: &Txns, op: u32) -> TxnRef {
    TxnRef::of(h, t, op)
}

#[test]
fn tampered_cycles_are_refuted() {
    // Generated stale histories hold every edge kind; take each cycle and break it every way.
    let mut tried = std::collections::BTreeMap::new();
    for (workload, seed) in
        [(TxnWorkload::ListAppend, 3), (TxnWorkload::RwRegister, 4), (TxnWorkload::ListAppend, 5)]
    {
        for models in [&["strict-serializable"][..], &["strong-session-serializable"], &["serializable"]] {
            let (h, t, r) = report_of(&generated(workload, seed, 0.3), models);
            for (i, a) in r.anomalies.iter().enumerate() {
                let Some(steps) = &a.cycle else { continue };
                let n = steps.len();
                for (s, step) in steps.iter().enumerate() {
                    *tried.entry(step.kind.elle()).or_insert(0) += 1;
                    for other in [
                        EdgeKind::Version,
                        EdgeKind::ReadsFrom,
                        EdgeKind::AntiDependency,
                        EdgeKind::RealTime,
                        EdgeKind::Process,
                    ] {
                        if other != step.kind {
                            refuted(&h, &t, &r, i, |a| a.cycle.as_mut().unwrap()[s].kind = other);
                        }
                    }
                    if step.key.is_some() {
                        refuted(&h, &t, &r, i, |a| {
                            a.cycle.as_mut().unwrap()[s].value_after = Some("-17".into())
                        });
                        refuted(&h, &t, &r, i, |a| {
                            a.cycle.as_mut().unwrap()[s].key = Some(":nowhere".into())
                        });
                    }
                    // The edge reversed: the step claims T(i+1) precedes T(i).
                    refuted(&h, &t, &r, i, |a| {
                        let c = a.cycle.as_mut().unwrap();
                        (c[s].from, c[s].to) = (c[s].to, c[s].from);
                    });
                    // The edge's endpoints moved: every transaction but the edge's source shifted.
                    refuted(&h, &t, &r, i, |a| a.txns.swap(s, (s + 1) % n));
                }
                // The type renamed.
                for wrong in
                    ["G0", "G1c", "G-single", "G2-item", "G-nonadjacent", "G-single-realtime", "G0-process"]
                {
                    if wrong != a.kind.as_str() {
                        refuted(&h, &t, &r, i, |a| a.kind = wrong.parse().unwrap());
                    }
                }
                // A transaction replaced by another, cited faithfully.
                for other in [0, h.ops.len() as u32 / 2, h.ops.len() as u32 - 1] {
                    if a.txns.iter().all(|x| x.position != other) {
                        refuted(&h, &t, &r, i, |a| a.txns[0] = cite(&h, &t, other));
                    }
                }
                // A cited transaction misdescribed.
                refuted(&h, &t, &r, i, |a| a.txns[0].index += 1);
                refuted(&h, &t, &r, i, |a| a.txns[0].outcome = "fail");
            }
        }
    }
    for kind in ["ww", "wr", "rw", "realtime", "process"] {
        assert!(tried.get(kind).is_some_and(|&n| n > 0), "no {kind} edge tried: {tried:?}");
    }
}

#[test]
fn a_reversed_realtime_edge_is_refuted() {
    // T1 -rw-> T2, T2 completed before T1 was invoked.
    let (h, t, r) = report_of(&example("g-single-realtime-stale-read.edn"), &["strict-serializable"]);
    let i = r.anomalies.iter().position(|a| a.kind.as_str() == "G-single-realtime").unwrap();
    let a = &r.anomalies[i];
    let s = a.cycle.as_ref().unwrap().iter().position(|s| s.kind == EdgeKind::RealTime).unwrap();
    let ctx = Ctx::new(&h, &t, 0, &r.anomalies.iter().collect::<Vec<_>>());
    let n = a.txns.len();
    let (from, to) = (a.txns[s].position, a.txns[(s + 1) % n].position);
    let step = &a.cycle.as_ref().unwrap()[s];
    assert_eq!(cycle::edge(&ctx, from, to, step), Ok(()));
    assert!(cycle::edge(&ctx, to, from, step).is_err());
    // And as a whole claim: the two transactions swapped reverse both edges.
    let e = refuted(&h, &t, &r, i, |a| a.txns.swap(0, 1));
    assert!(e.why.contains("T1"), "{e}");
    // With a clock-skew tolerance wider than the gap, the edge is no longer a fact.
    let gap = h.ops[to as usize].invoke_time - h.ops[from as usize].complete_time;
    assert!(certify_txn_report(&h, &t, &r, gap).is_err());
}

#[test]
fn tampered_findings_are_refuted() {
    let cases: &[(&str, &str)] = &[
        ("g1a-aborted-read.edn", "read-committed"),
        ("g1b-intermediate-read.edn", "read-committed"),
        ("dirty-update.edn", "read-committed"),
        ("garbage-read.edn", "read-uncommitted"),
        ("duplicate-elements.edn", "read-uncommitted"),
        ("incompatible-order.edn", "read-committed"),
        ("internal.edn", "serializable"),
        ("future-read.edn", "serializable"),
        ("lost-update.edn", "repeatable-read"),
        ("rw-g1a-aborted-read.edn", "read-committed"),
        ("rw-g1b-intermediate-read.edn", "read-committed"),
        ("rw-internal.edn", "serializable"),
        ("rw-cyclic-versions.edn", "read-uncommitted"),
        ("rw-lost-update.edn", "repeatable-read"),
        ("rw-garbage-read.edn", "read-uncommitted"),
    ];
    let mut findings = 0;
    for (file, model) in cases {
        let (h, t, r) = report_of(&example(file), &[model]);
        for (i, a) in r.anomalies.iter().enumerate() {
            if a.cycle.is_some() {
                continue;
            }
            findings += 1;
            // A kind certification has no rule for (Adya's, never reported).
            refuted(&h, &t, &r, i, |a| a.kind = "G-cursor".parse().unwrap());
            refuted(&h, &t, &r, i, |a| a.key = Some(":nowhere".into()));
            for wrong in ["G1a", "G1b", "garbage-read", "internal", "lost-update", "future-read"] {
                if wrong != a.kind.as_str() {
                    refuted(&h, &t, &r, i, |a| a.kind = wrong.parse().unwrap());
                }
            }
            if a.txns.is_empty() {
                continue;
            }
            refuted(&h, &t, &r, i, |a| a.txns[0].process += 1);
            // A cited transaction replaced by an op that does not touch the key.
            for j in 0..a.txns.len() {
                let Some(key) = &a.key else { continue };
                for op in 0..h.ops.len() as u32 {
                    let touches = t.of(op as usize).iter().any(|m| t.key(m.key).to_string() == *key);
                    if !touches {
                        refuted(&h, &t, &r, i, |a| a.txns[j] = cite(&h, &t, op));
                    }
                }
            }
            // Roles swapped (incompatible reads and lost updates are symmetric).
            if a.txns.len() == 2 && !["incompatible-order", "lost-update"].contains(&a.kind.as_str()) {
                refuted(&h, &t, &r, i, |a| a.txns.swap(0, 1));
            }
        }
    }
    assert!(findings >= 15, "{findings}");
}

#[test]
fn unknown_kinds_and_empty_claims_are_refuted() {
    let (h, t, r) = report_of(&example("g1a-aborted-read.edn"), &["read-committed"]);
    refuted(&h, &t, &r, 0, |a| a.kind = "G-MSR".parse().unwrap());
    refuted(&h, &t, &r, 0, |a| a.explanation.clear());
    let mut empty = r.clone();
    empty.anomalies.clear();
    assert!(certify_txn_report(&h, &t, &empty, 0).is_err(), "an INVALID verdict with nothing to show");
    let mut valid = r.clone();
    valid.valid = Verdict::Valid;
    assert!(certify_txn_report(&h, &t, &valid, 0).is_err(), "a VALID verdict beside an anomaly");
}

#[test]
fn classification_follows_adya() {
    let all = [
        EdgeKind::Version,
        EdgeKind::ReadsFrom,
        EdgeKind::AntiDependency,
        EdgeKind::RealTime,
        EdgeKind::Process,
    ];
    let kind = |name: &&str| all.into_iter().find(|k| k.elle() == *name).unwrap();
    let c = |k: &[&str]| cycle::classify(&k.iter().map(kind).collect::<Vec<_>>());
    assert_eq!(c(&["ww", "ww"]).as_deref(), Some("G0"));
    assert_eq!(c(&["ww", "wr"]).as_deref(), Some("G1c"));
    assert_eq!(c(&["rw", "wr"]).as_deref(), Some("G-single"));
    assert_eq!(c(&["rw", "rw"]).as_deref(), Some("G2-item"));
    assert_eq!(c(&["rw", "ww", "rw", "wr"]).as_deref(), Some("G-nonadjacent"));
    assert_eq!(c(&["rw", "ww", "wr", "rw"]).as_deref(), Some("G2-item"), "adjacent around the end");
    assert_eq!(c(&["rw", "wr", "realtime", "process"]).as_deref(), Some("G-single-realtime"));
    assert_eq!(c(&["ww", "process"]).as_deref(), Some("G0-process"));
    assert_eq!(c(&["realtime", "process"]), None);
}

/// The checker once named the writer's first append to the key on an anti-dependency to its
/// unseen one (here 1, which the reader itself read, instead of 2): certification refuted it.
#[test]
fn an_anti_dependency_on_an_unseen_append_after_a_seen_one() {
    let text = "{:process 0 :type :invoke :f :txn :value [[:append :x 1] [:append :x 2]]}\n\
                {:process 1 :type :invoke :f :txn :value [[:r :x nil]]}\n\
                {:process 0 :type :ok :f :txn :value [[:append :x 1] [:append :x 2]]}\n\
                {:process 1 :type :ok :f :txn :value [[:r :x [1]]]}\n";
    let (h, t, r) = report_of(text, &["serializable"]);
    let i = r.anomalies.iter().position(|a| a.kind.as_str() == "G-single").unwrap();
    let s = r.anomalies[i]
        .cycle
        .as_ref()
        .unwrap()
        .iter()
        .position(|s| s.kind == EdgeKind::AntiDependency)
        .unwrap();
    let e = refuted(&h, &t, &r, i, |a| a.cycle.as_mut().unwrap()[s].value_after = Some("1".into()));
    assert!(e.why.contains("not the next"), "{e}");
}

/// A ring of 60 anti-dependencies (each transaction appends to its key and reads the next one
/// empty): one long G2-item cycle, shown and certified even when the search runs out of budget.
#[test]
fn a_long_ring_is_certified() {
    let n = 60;
    let mut text = String::new();
    for (i, kind) in (0..n).map(|i| (i, "invoke")).chain((0..n).map(|i| (i, "ok"))) {
        let read = if kind == "ok" { "[]" } else { "nil" };
        text += &format!(
            "{{:type :{kind}, :process {i}, :f :txn, :value [[:append {i} 1] [:r {} {read}]]}}\n",
            (i + 1) % n
        );
    }
    let h = history(&text);
    let t = decoded(&h);
    for max_steps in [5, 100_000_000] {
        let options = TxnOptions {
            consistency: vec![ConsistencyModel::Serializable],
            max_steps,
            ..TxnOptions::default()
        };
        let r = check_decoded(&h, &t, &options);
        assert_eq!((r.anomalies[0].kind.as_str(), r.anomalies[0].txns.len()), ("G2-item", n));
        certify_txn_report(&h, &t, &r, 0).unwrap();
        refuted(&h, &t, &r, 0, |a| a.kind = "G-nonadjacent".parse().unwrap());
    }
}
