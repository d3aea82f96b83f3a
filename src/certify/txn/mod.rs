//! Certifies transactional reports: every anomaly and every edge of every cycle, re-derived
//! from the micro-ops.
//!
//! Nothing here uses the checker's inference, graph, cycle search or explainer: the only inputs
//! are the history (outcomes, times, processes), the micro-ops as the reader decoded them, and
//! the report's claims. Per key, the raw facts a claim may rest on are gathered once (see
//! `facts`): who appended or wrote each value, which committed reads there are, and whether
//! they allow a version order at all. Then:
//!
//! - a cycle (`cycle`) must be a cycle over distinct transactions, each edge re-derived from
//!   the micro-ops (`ww`, `wr`, `rw` by the workload's rules, `realtime` from the times and the
//!   clock-skew tolerance, `process` from the processes), every transaction that did not
//!   complete `:ok` must show it took effect, and the type is classified anew from the edges;
//! - every other anomaly (`findings`) must have its defining fact in the cited transactions'
//!   micro-ops;
//! - every transaction cited must be the op it says it is (index, process, outcome, line, text),
//!   and the explanation must name it so;
//! - an anomaly type this module does not know is refuted, so that no new kind is shown
//!   uncertified.
//!
//! Cost: nothing at all for a report without anomalies; otherwise one pass over the micro-ops
//! to collect those of the keys the cited transactions touch, then work proportional to those
//! keys' micro-ops and elements read.

mod cycle;
mod facts;
mod findings;
mod summary;
#[cfg(test)]
mod tests;

use super::Refuted;
use super::linear::Coverage;
use crate::history::{History, Op, Outcome};
use crate::outcome::Verdict;
use crate::txn::ops::{Elem, Mop, MopKind, Txns};
use crate::txn::{TxnAnomaly, TxnRef, TxnReport, Workload};
use facts::KeyFacts;
use rayon::prelude::*;
use std::cell::OnceCell;

/// Checks every anomaly of `report` against `history` and its micro-ops `txns` (indexed like
/// `history.ops`), then the counts and the models ruled out against those anomalies. `skew` is
/// the clock-skew tolerance real-time edges were built with. Returns what was re-derived and
/// the claims no rule covers (counts and models resting on anomalies the report does not show).
pub fn certify_txn_report(
    history: &History,
    txns: &Txns,
    report: &TxnReport,
    skew: i64,
) -> Result<Coverage, Refuted> {
    let whole = |why: String| Refuted::new(format!("the {} report", report.workload.name()), why);
    if txns.len() != history.ops.len() {
        return Err(whole(format!(
            "it was checked with micro-ops for {} ops, but the history has {}",
            txns.len(),
            history.ops.len()
        )));
    }
    if report.workload != txns.workload {
        return Err(whole(format!(
            "it says {}, but the micro-ops were decoded as {}",
            report.workload.name(),
            txns.workload.name()
        )));
    }
    match (report.valid, report.anomalies.is_empty()) {
        (Verdict::Invalid, true) => {
            return Err(whole("the verdict is INVALID, but no anomaly is shown for it".to_string()));
        }
        (v, false) if v != Verdict::Invalid => {
            return Err(whole(format!("it shows anomalies, but its verdict is {v:?}")));
        }
        _ => {}
    }
    for a in &report.anomalies {
        if report.anomaly_counts.get(a.kind.as_str()).is_none_or(|&n| n == 0) {
            return Err(whole(format!("it shows a {} anomaly but counts none", a.kind)));
        }
    }
    // The summary first: it reads only the report, and rests on the anomalies certified next.
    let mut coverage = Coverage::default();
    summary::certify_counts(report, &mut coverage).map_err(|why| {
        Refuted::new(format!("the {} report's anomaly counts", report.workload.name()), why)
    })?;
    summary::certify_boundary(report, &mut coverage).map_err(|why| {
        Refuted::new(format!("the {} report's models ruled out", report.workload.name()), why)
    })?;
    if !report.anomalies.is_empty() {
        // The anomalies only counted are certified as those shown: the counts rest on them.
        let all: Vec<&TxnAnomaly> = report.anomalies.iter().chain(&report.counted).collect();
        let ctx = Ctx::new(history, txns, skew, &all);
        for a in all {
            ctx.anomaly(a).map_err(|why| Refuted::new(claim(history, a), why))?;
            coverage.certified += 1;
        }
    }
    Ok(coverage)
}

/// An anomaly, named for a refutation: its type and the transactions it cites (by `:index`).
fn claim(history: &History, a: &TxnAnomaly) -> String {
    let index = |r: &TxnRef| {
        history
            .ops
            .get(r.position as usize)
            .map_or_else(|| format!("#{}?", r.position), |o| o.invoke_index.to_string())
    };
    match &a.cycle {
        Some(steps) if !a.txns.is_empty() => {
            let mut s = format!("{} cycle ", a.kind);
            for (i, r) in a.txns.iter().enumerate() {
                let kind = steps.get(i).map_or("?", |s| s.kind.elle());
                s.push_str(&format!("T{} (index {}) -{kind}-> ", i + 1, index(r)));
            }
            s.push_str("T1");
            s
        }
        _ => {
            let cited: Vec<String> = a.txns.iter().map(|r| format!("index {}", index(r))).collect();
            let key = a.key.as_deref().map(|k| format!(" on {k}")).unwrap_or_default();
            format!(
                "{}{key} ({})",
                a.kind,
                if cited.is_empty() { "no transaction".into() } else { cited.join(", ") }
            )
        }
    }
}

/// What certification reads: the history, its micro-ops, and the raw facts of the keys the
/// claims involve.
pub(crate) struct Ctx<'a> {
    pub h: &'a History,
    pub t: &'a Txns,
    pub skew: i64,
    /// Key id → its slot in `entries` and `facts` (`u32::MAX` for keys no claim involves).
    slot: Vec<u32>,
    /// Per slot: the key.
    keys: Vec<u32>,
    /// Per slot: every `(op, micro-op)` on the key, in history order.
    entries: Vec<Vec<(u32, u32)>>,
    /// Per slot: the key's facts, gathered the first time a claim rests on them.
    facts: Vec<OnceCell<KeyFacts>>,
}

const NONE: u32 = u32::MAX;

impl<'a> Ctx<'a> {
    /// Gathers the facts of every key a cited transaction touches (and, for anomalies that
    /// cite none, of the key they name).
    fn new(h: &'a History, t: &'a Txns, skew: i64, anomalies: &[&TxnAnomaly]) -> Ctx<'a> {
        let mut slot = vec![NONE; t.key_count()];
        let mut keys: Vec<u32> = Vec::new();
        let mut involve = |k: u32, keys: &mut Vec<u32>| {
            if slot[k as usize] == NONE {
                slot[k as usize] = keys.len() as u32;
                keys.push(k);
            }
        };
        for a in anomalies {
            for r in &a.txns {
                if (r.position as usize) < t.len() {
                    for m in t.of(r.position as usize) {
                        involve(m.key, &mut keys);
                    }
                }
            }
            if a.txns.is_empty() {
                if let Some(name) = &a.key {
                    for k in 0..t.key_count() as u32 {
                        if t.key(k).to_string() == *name {
                            involve(k, &mut keys);
                        }
                    }
                }
            }
        }
        // One pass over every micro-op: (op, micro-op) of each involved key, in history order.
        let mut per_key: Vec<Vec<(u32, u32)>> = vec![Vec::new(); keys.len()];
        for i in 0..t.len() {
            let first = t.first_mop(i) as u32;
            for (j, m) in t.of(i).iter().enumerate() {
                let s = slot[m.key as usize];
                if s != NONE {
                    per_key[s as usize].push((i as u32, first + j as u32));
                }
            }
        }
        let facts = (0..keys.len()).map(|_| OnceCell::new()).collect();
        let ctx = Ctx { h, t, skew, slot, keys, entries: per_key, facts };
        ctx.prebuild(anomalies);
        ctx
    }

    /// Gathers, in parallel, the facts of the keys the claims name (checking a key's reads
    /// touches every element read: the bulk of certification's work on long lists).
    fn prebuild(&self, anomalies: &[&TxnAnomaly]) {
        let mut wanted: Vec<usize> = Vec::new();
        for a in anomalies {
            let named = a.cycle.iter().flatten().filter_map(|s| s.key.as_deref()).chain(a.key.as_deref());
            let ops: Vec<u32> =
                a.txns.iter().map(|r| r.position).filter(|&p| (p as usize) < self.t.len()).collect();
            for name in named {
                for k in self.keys_named(name, &ops) {
                    wanted.push(self.slot[k as usize] as usize);
                }
            }
        }
        wanted.sort_unstable();
        wanted.dedup();
        let (h, t, keys, entries) = (self.h, self.t, &self.keys, &self.entries);
        let built: Vec<(usize, KeyFacts)> =
            wanted.into_par_iter().map(|s| (s, KeyFacts::build(h, t, keys[s], &entries[s]))).collect();
        for (s, f) in built {
            let _ = self.facts[s].set(f);
        }
    }

    /// The facts of key `k`, if a claim involves it.
    fn facts(&self, k: u32) -> Result<&KeyFacts, String> {
        match self.slot.get(k as usize) {
            Some(&s) if s != NONE => {
                let s = s as usize;
                Ok(self.facts[s].get_or_init(|| KeyFacts::build(self.h, self.t, k, &self.entries[s])))
            }
            _ => Err(format!("key {} is touched by no transaction the anomaly cites", self.key_name(k))),
        }
    }

    fn op(&self, op: u32) -> &Op {
        &self.h.ops[op as usize]
    }

    fn outcome(&self, op: u32) -> Outcome {
        self.op(op).outcome
    }

    fn ok(&self, op: u32) -> bool {
        self.outcome(op) == Outcome::Ok
    }

    fn mops(&self, op: u32) -> &'a [Mop] {
        self.t.of(op as usize)
    }

    /// A list read's elements (empty for a nil read, and for anything else).
    fn list(&self, m: &Mop) -> &'a [Elem] {
        self.t.list(m)
    }

    /// A value as EDN, as reports print it.
    fn text(&self, e: Elem) -> String {
        self.t.value(e).to_string()
    }

    fn key_name(&self, k: u32) -> String {
        self.t.key(k).to_string()
    }

    fn list_workload(&self) -> bool {
        self.t.workload == Workload::ListAppend
    }

    /// How a cited transaction is named in findings ("index 12").
    fn index(&self, op: u32) -> u64 {
        self.op(op).invoke_index
    }

    /// The ids of keys named `name` among the micro-ops of `ops`.
    fn keys_named(&self, name: &str, ops: &[u32]) -> Vec<u32> {
        let mut ks: Vec<u32> = ops
            .iter()
            .flat_map(|&op| self.mops(op).iter().map(|m| m.key))
            .filter(|&k| self.key_name(k) == name)
            .collect();
        ks.sort_unstable();
        ks.dedup();
        ks
    }

    /// The element op `op` appended or wrote to key `k` that prints as `value`.
    fn written(&self, op: u32, k: u32, value: &str) -> Option<Elem> {
        self.mops(op)
            .iter()
            .find(|m| {
                m.key == k
                    && matches!(m.kind, MopKind::Append | MopKind::Write)
                    && self.text(m.value) == value
            })
            .map(|m| m.value)
    }

    /// Certifies one anomaly.
    fn anomaly(&self, a: &TxnAnomaly) -> Result<(), String> {
        for (i, r) in a.txns.iter().enumerate() {
            self.txn_ref(r).map_err(|why| format!("transaction {} as cited: {why}", i + 1))?;
        }
        if a.explanation.is_empty() {
            return Err("it has no explanation".to_string());
        }
        if cycle::is_cycle_kind(a.kind.as_str()) {
            cycle::certify(self, a)
        } else {
            findings::certify(self, a)
        }
    }

    /// A cited transaction must be the op it says it is.
    fn txn_ref(&self, r: &TxnRef) -> Result<(), String> {
        let Some(op) = self.h.ops.get(r.position as usize) else {
            return Err(format!("position {} is past the history's {} ops", r.position, self.h.ops.len()));
        };
        let outcome = match op.outcome {
            Outcome::Ok => "ok",
            Outcome::Fail => "fail",
            Outcome::Info | Outcome::Open => "info",
        };
        let line = if op.outcome == Outcome::Ok { op.complete_line } else { op.invoke_line };
        let text = self.t.txn_text(r.position as usize);
        let mismatch = |what: &str, said: String, is: String| {
            Err(format!("it says {what} {said}, but the op at position {} has {is}", r.position))
        };
        if r.index != op.invoke_index {
            return mismatch("index", r.index.to_string(), op.invoke_index.to_string());
        }
        if r.process != op.process {
            return mismatch("process", r.process.to_string(), op.process.to_string());
        }
        if r.outcome != outcome {
            return mismatch("outcome", r.outcome.to_string(), outcome.to_string());
        }
        if r.line != line {
            return mismatch("line", r.line.to_string(), line.to_string());
        }
        if r.text != text {
            return mismatch("micro-ops", r.text.clone(), text);
        }
        Ok(())
    }
}
