//! Certification of long-fork reports ([`crate::long_fork`]): each fork re-derived from the raw
//! transactions, and a valid verdict re-derived whole by another route: per group of keys, the
//! reads sorted by how many keys they saw written must each see a subset of the next.

use super::Refuted;
use crate::history::{History, Op, Outcome, Value};
use crate::long_fork::{Fork, LongForkReport};
use crate::outcome::Verdict;
use std::collections::BTreeMap;

/// `[f k v]` micro-ops of a value, as this module reads them.
fn mops(v: &Value) -> Vec<(&str, &Value, &Value)> {
    v.as_seq()
        .unwrap_or_default()
        .iter()
        .filter_map(|m| match m.as_seq() {
            Some([f, k, v]) => Some((f.as_name()?, k, v)),
            _ => None,
        })
        .collect()
}

/// An `:ok` read transaction's completion as key → value, or `None` for any other op.
fn read_of(history: &History, op: &Op) -> Option<BTreeMap<Value, Value>> {
    if op.outcome != Outcome::Ok || history.value(op.f).as_name() != Some("txn") {
        return None;
    }
    let m = mops(history.value(op.output));
    if m.is_empty() || m.iter().any(|(f, _, _)| *f != "r") {
        return None;
    }
    Some(m.into_iter().map(|(_, k, v)| (k.clone(), v.clone())).collect())
}

/// Every write transaction `[[:w k v]]` invoked, per key: (op, value).
fn writes(history: &History) -> BTreeMap<&Value, Vec<(usize, &Value)>> {
    let mut w: BTreeMap<&Value, Vec<(usize, &Value)>> = BTreeMap::new();
    for (i, op) in history.ops.iter().enumerate() {
        if let [("w", k, v)] = mops(history.value(op.input))[..] {
            w.entry(k).or_default().push((i, v));
        }
    }
    w
}

/// Certifies every fork of `report`, and a valid verdict by an independent pass.
pub fn certify_long_fork_report(history: &History, report: &LongForkReport) -> Result<(), Refuted> {
    let w = writes(history);
    for a in &report.anomalies {
        certify_fork(history, &w, &a.fork)
            .map_err(|why| Refuted::new(format!("long-fork: {}", a.explanation), why))?;
    }
    let has_forks = !report.anomalies.is_empty();
    if has_forks != (report.valid == Verdict::Invalid) {
        return Err(Refuted::new(
            format!("verdict {:?}", report.valid),
            format!("{} forks", report.anomalies.len()),
        ));
    }
    if report.valid == Verdict::Valid {
        views_nest(history, &w).map_err(|why| Refuted::new("valid: no long fork", why))?;
    }
    Ok(())
}

fn certify_fork(
    history: &History,
    w: &BTreeMap<&Value, Vec<(usize, &Value)>>,
    f: &Fork,
) -> Result<(), String> {
    let op = |p: u32| history.ops.get(p as usize).ok_or(format!("op {p} is not in the history"));
    let r0 = read_of(history, op(f.reads[0])?).ok_or("the first read is not an :ok read txn")?;
    let r1 = read_of(history, op(f.reads[1])?).ok_or("the second read is not an :ok read txn")?;
    if !r0.keys().eq(r1.keys()) {
        return Err("the two reads do not read the same keys".to_string());
    }
    let [x, y] = &f.keys;
    let saw = |r: &BTreeMap<Value, Value>, k: &Value| r.get(k).map(|v| !v.is_nil());
    if saw(&r0, x) != Some(true) || saw(&r0, y) != Some(false) {
        return Err(format!("the first read does not see {x} written and {y} unwritten"));
    }
    if saw(&r1, y) != Some(true) || saw(&r1, x) != Some(false) {
        return Err(format!("the second read does not see {y} written and {x} unwritten"));
    }
    for (i, (k, r)) in [(x, &r0), (y, &r1)].into_iter().enumerate() {
        match w.get(k).map(Vec::as_slice) {
            Some([(p, v)]) if *p == f.writes[i] as usize && Some(*v) == r.get(k) => {}
            _ => return Err(format!("op {} is not the one write of {k}, of the value read", f.writes[i])),
        }
    }
    Ok(())
}

/// No fork anywhere: each key written at most once, every value read is its write's, and per
/// group the views, sorted by size, each contain the one before.
fn views_nest(history: &History, w: &BTreeMap<&Value, Vec<(usize, &Value)>>) -> Result<(), String> {
    if let Some((k, _)) = w.iter().find(|(_, ws)| ws.len() > 1) {
        return Err(format!("key {k} is written more than once"));
    }
    let mut groups: BTreeMap<Vec<Value>, Vec<Vec<bool>>> = BTreeMap::new();
    for op in &history.ops {
        let Some(r) = read_of(history, op) else { continue };
        for (k, v) in &r {
            if !v.is_nil() && w.get(k).and_then(|ws| ws.first()).map(|x| x.1) != Some(v) {
                return Err(format!("op {} read {k} = {v}, which no write wrote", op.invoke_index));
            }
        }
        let view = r.values().map(|v| !v.is_nil()).collect();
        groups.entry(r.into_keys().collect()).or_default().push(view);
    }
    for (keys, mut views) in groups {
        views.sort_by_key(|v| v.iter().filter(|s| **s).count());
        for pair in views.windows(2) {
            if pair[0].iter().zip(&pair[1]).any(|(a, b)| *a && !*b) {
                return Err(format!("two reads of {keys:?} saw views that are not nested"));
            }
        }
    }
    Ok(())
}
