//! Bank, counter-bounds and set-final claims are certified: every report on the examples and on
//! random histories passes certification, and each claim tampered with is refuted. The
//! counter's bounds are held to a brute-force oracle: the least and the most every set of adds
//! that may have taken effect before a read can sum to.

mod common;

use labrys::certify::workload::certify_workload_report;
use labrys::history::{Format, History, ReadOptions, Value, read_bytes};
use labrys::outcome::Verdict;
use labrys::queue::{Claim, QueueReport};
use labrys::workload::{BankOptions, bank, counter, set};
use proptest::prelude::*;

fn read(text: &str) -> History {
    read_bytes("t.edn", text.as_bytes(), Format::Edn, &ReadOptions::default()).unwrap()
}

fn check(h: &History, model: &str) -> QueueReport {
    match model {
        "bank" => bank::check(h, &BankOptions::default()).unwrap(),
        "counter-bounds" => counter::check(h, 0).unwrap(),
        _ => set::check(h).unwrap(),
    }
}

fn certify(h: &History, r: &QueueReport) -> Result<(), labrys::certify::Refuted> {
    certify_workload_report(h, r, &BankOptions::default(), 0)
}

/// The same claim, made wrong in a way its kind allows.
fn tamper(c: &Claim) -> Claim {
    let mut c = c.clone();
    match &mut c {
        Claim::WrongTotal { expected, .. } => *expected += 1,
        Claim::NegativeValue { negative, .. } => negative[0].1 -= 1,
        Claim::UnexpectedKey { unexpected, .. } => unexpected[0] = Value::Int(-777),
        Claim::MissingKey { missing, .. } => missing[0] = Value::Int(-777),
        Claim::NilBalance { read, .. } => *read += 1,
        Claim::OutOfBounds { upper, .. } => *upper += 1,
        Claim::SetLost { adds, .. } => adds.clear(),
        Claim::SetUnexpected { value, .. } => *value = Value::Int(1),
        other => panic!("not a workload claim: {other:?}"),
    }
    c
}

#[test]
fn every_claim_on_the_examples_is_certified_and_each_tampered_claim_is_refuted() {
    let dir = common::histories_dir().join("workload");
    let csv = std::fs::read_to_string(dir.join("expected.csv")).unwrap();
    let mut tampered = 0;
    for row in csv.lines().skip(1).filter(|r| r.contains(".edn")) {
        let cols: Vec<&str> = row.split(',').collect();
        let h = read(&std::fs::read_to_string(dir.join(cols[0])).unwrap());
        let report = check(&h, cols[1]);
        certify(&h, &report).unwrap_or_else(|e| panic!("{}: {e}", cols[0]));
        for i in 0..report.anomalies.len() {
            let mut bad = report.clone();
            bad.anomalies[i].claim = tamper(&bad.anomalies[i].claim);
            assert!(
                certify(&h, &bad).is_err(),
                "{}: tampered claim {:?} passed",
                cols[0],
                bad.anomalies[i].claim
            );
            // Dropping an anomaly, or showing other ops, is refuted too.
            let mut fewer = report.clone();
            fewer.anomalies.remove(i);
            assert!(certify(&h, &fewer).is_err(), "{}: a missing anomaly passed", cols[0]);
            let mut moved = report.clone();
            moved.anomalies[i].ops.push(0);
            assert!(certify(&h, &moved).is_err(), "{}: other ops passed", cols[0]);
            tampered += 1;
        }
        // A verdict or a count changed is refuted.
        let mut flipped = report.clone();
        flipped.valid = if report.valid == Verdict::Valid { Verdict::Invalid } else { Verdict::Valid };
        assert!(certify(&h, &flipped).is_err(), "{}: a flipped verdict passed", cols[0]);
        let mut miscounted = report.clone();
        *miscounted.counts.values_mut().next().unwrap() += 1;
        assert!(certify(&h, &miscounted).is_err(), "{}: a wrong count passed", cols[0]);
    }
    assert!(tampered >= 8, "{tampered}");
}

/// An op of a random counter history: a process, an add (of `by`) or a read (seeing `saw`), and
/// how it ends (0 ok, 1 fail, 2 info, 3 never).
#[derive(Clone, Debug)]
struct Gen {
    process: u8,
    add: Option<i8>,
    saw: i8,
    end: u8,
}

fn gen_op() -> impl Strategy<Value = Gen> {
    (
        0u8..3,
        prop::option::of(-3i8..=4),
        -4i8..=9,
        prop_oneof![4 => Just(0u8), 1 => Just(1u8), 1 => Just(2u8), 1 => Just(3u8)],
    )
        .prop_map(|(process, add, saw, end)| Gen { process, add, saw, end })
}

/// How an op is written: its `:f` and `:value` for an event of this type.
type Render = fn(&Gen, &str) -> (&'static str, String);

/// A counter: adds of `by`, reads of `saw`.
fn as_counter(g: &Gen, ty: &str) -> (&'static str, String) {
    match (g.add, ty) {
        (Some(by), _) => ("add", by.to_string()),
        (None, "ok") => ("read", g.saw.to_string()),
        (None, _) => ("read", "nil".to_string()),
    }
}

/// A set: adds of `by`, reads of the elements from `saw - 4` to `saw`.
fn as_set(g: &Gen, ty: &str) -> (&'static str, String) {
    match (g.add, ty) {
        (Some(by), _) => ("add", by.to_string()),
        (None, "ok") => ("read", format!("{:?}", (g.saw - 4..=g.saw).collect::<Vec<_>>()).replace(',', "")),
        (None, _) => ("read", "nil".to_string()),
    }
}

/// A bank of accounts 0 and 1 (and 2 when `saw` is 9), reads seeing balances `saw` and
/// `by`-ish, `nil` when `saw` is -4.
fn as_bank(g: &Gen, ty: &str) -> (&'static str, String) {
    match (g.add, ty) {
        (Some(by), _) => ("transfer", format!("{{:from 0 :to 1 :amount {by}}}")),
        (None, "ok") if g.saw == -4 => ("read", "{0 nil 1 3}".to_string()),
        (None, "ok") if g.saw == 9 => ("read", "{0 1 1 3 2 0}".to_string()),
        (None, "ok") => ("read", format!("{{0 {} 1 {}}}", g.saw, 4 - g.saw / 2)),
        (None, _) => ("read", "nil".to_string()),
    }
}

/// Writes the ops as a history: each process runs its ops in turn; `order` interleaves the
/// events (invocations and completions) of the processes.
fn history(ops: &[Gen], order: &[u8], render: Render) -> String {
    let mut queues: Vec<Vec<&Gen>> = vec![Vec::new(); 3];
    for op in ops {
        queues[op.process as usize].push(op);
    }
    let mut open: Vec<Option<&Gen>> = vec![None; 3];
    let mut text = String::new();
    let mut ev = |p: usize, g: &Gen, ty: &str| {
        let (f, v) = render(g, ty);
        text.push_str(&format!("{{:process {p} :type :{ty} :f :{f} :value {v}}}\n"));
    };
    let mut steps = order.iter().cycle();
    while queues.iter().any(|q| !q.is_empty()) || open.iter().any(Option::is_some) {
        let start = *steps.next().unwrap() as usize;
        // The first process from `start` on that has something to do.
        let Some(p) = (start..start + 3).map(|p| p % 3).find(|&p| open[p].is_some() || !queues[p].is_empty())
        else {
            break;
        };
        if let Some(g) = open[p].take() {
            ev(p, g, ["ok", "fail", "info"][g.end as usize]);
        } else {
            let g = queues[p].remove(0);
            ev(p, g, "invoke");
            // A crashed op (never completed) ends its process.
            if g.end == 3 {
                queues[p].clear();
            } else {
                open[p] = Some(g);
            }
        }
    }
    text
}

/// The brute-force bounds of each ok read: over every set of adds that may have taken effect
/// before it completed and holds every add acknowledged before it began, the least and the most
/// sum.
fn oracle(h: &History) -> Vec<(u32, i64, i128, i128)> {
    let adds: Vec<_> = h
        .ops
        .iter()
        .filter(|o| h.f_name(o) == "add" && o.outcome != labrys::history::Outcome::Fail)
        .collect();
    let mut out = Vec::new();
    for (i, r) in h.ops.iter().enumerate() {
        if h.f_name(r) != "read" || r.outcome != labrys::history::Outcome::Ok {
            continue;
        }
        let certain = |a: &&labrys::history::Op| {
            a.outcome == labrys::history::Outcome::Ok && a.complete_time < r.invoke_time
        };
        let possible = |a: &&labrys::history::Op| r.complete_time >= a.invoke_time;
        let (mut lo, mut hi) = (i128::MAX, i128::MIN);
        for mask in 0u32..(1 << adds.len()) {
            let chosen: Vec<_> = (0..adds.len()).filter(|b| mask & (1 << b) != 0).map(|b| adds[b]).collect();
            let ok = adds.iter().filter(|a| certain(a)).all(|a| chosen.iter().any(|c| std::ptr::eq(*c, *a)))
                && chosen.iter().all(possible);
            if ok {
                let s: i128 = chosen.iter().map(|a| i128::from(h.value(a.input).as_int().unwrap())).sum();
                lo = lo.min(s);
                hi = hi.max(s);
            }
        }
        out.push((i as u32, h.value(r.output).as_int().unwrap(), lo, hi));
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn counter_bounds_agree_with_the_brute_force_oracle(
        ops in prop::collection::vec(gen_op(), 1..12),
        order in prop::collection::vec(0u8..3, 1..20),
    ) {
        let h = read(&history(&ops, &order, as_counter));
        let report = counter::check(&h, 0).unwrap();
        certify(&h, &report).unwrap();
        let want: Vec<Claim> = oracle(&h)
            .into_iter()
            .filter(|&(_, v, lo, hi)| i128::from(v) < lo || i128::from(v) > hi)
            .map(|(read, value, lower, upper)| Claim::OutOfBounds { read, value, lower, upper })
            .collect();
        let got: Vec<Claim> = report.anomalies.iter().map(|a| a.claim.clone()).collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn set_final_and_bank_reports_on_random_histories_are_certified(
        ops in prop::collection::vec(gen_op(), 1..12),
        order in prop::collection::vec(0u8..3, 1..20),
    ) {
        let h = read(&history(&ops, &order, as_set));
        let report = set::check(&h).unwrap();
        certify(&h, &report).unwrap();
        let h = read(&history(&ops, &order, as_bank));
        let report = bank::check(&h, &BankOptions::default()).unwrap();
        certify(&h, &report).unwrap();
    }
}
