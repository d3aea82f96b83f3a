//! rw-register inference: version orders only as far as the history forces them, which is less
//! than list-append reveals, so fewer anomalies can be found.
//!
//! A register's read returns one value, not the history of the key, so the order of two blind
//! writes is unknown. What is known: the initial `nil` comes before every written value; a
//! transaction that read `v1` (or `nil`) and then wrote `v2` to the same key installed `v2`
//! after `v1`; a read of `v` follows `v`'s write. Only a transaction's last write to a key is a
//! version (the earlier ones were never installed; reading one is G1b). From the version order:
//! ww from the writer of `v1` to the writer of `v2`, rw from every reader of `v1` to the writer
//! of `v2`, wr from a value's writer to its readers. A version order with a cycle is the
//! anomaly `cyclic-versions` (and the key is left out of the graph).

use super::explain::{DataWhy, Why};
use super::findings::{Finding, Findings};
use super::graph::{RW, WR, WW, may_commit};
use super::infer::NONE;
use super::ops::{Elem, Mop, MopKind, NIL, Txns};
use crate::graph::csr::{Csr, Label, strongly_connected};
use crate::history::{History, Outcome};
use ahash::AHashMap;

/// A write: its op, and whether it is the op's last write to its key.
#[derive(Clone, Copy, Debug)]
struct Write {
    op: u32,
    last: bool,
}

/// What inference learned about registers.
pub(crate) struct Registers<'a> {
    history: &'a History,
    txns: &'a Txns,
    /// (key, value) → its write.
    writes: AHashMap<(u32, Elem), Write>,
    /// Per key: the version order's edges `(v1, v2)` (`v1` may be [`NIL`]), after leaving out
    /// `nil → v` where `v` has another predecessor.
    versions: Vec<Vec<(Elem, Elem)>>,
    /// (key, value read) → the ops whose external read of the key returned it.
    readers: AHashMap<(u32, Elem), Vec<u32>>,
    excluded: Vec<bool>,
}

impl<'a> Registers<'a> {
    /// Infers version orders and finds the anomalies that need no cycle.
    pub(crate) fn infer(history: &'a History, txns: &'a Txns, findings: &mut Findings) -> Registers<'a> {
        let keys = txns.key_count();
        let mut r = Registers {
            history,
            txns,
            writes: AHashMap::new(),
            versions: vec![Vec::new(); keys],
            readers: AHashMap::new(),
            excluded: vec![false; keys],
        };
        r.collect_writes(findings);
        r.collect_reads(findings);
        r.version_orders(findings);
        r
    }

    fn ok(&self, op: usize) -> bool {
        self.history.ops[op].outcome == Outcome::Ok
    }

    /// Every write, by (key, value); a value written twice leaves its key out.
    fn collect_writes(&mut self, findings: &mut Findings) {
        for i in 0..self.txns.len() {
            let mops = self.txns.of(i);
            for (j, m) in mops.iter().enumerate() {
                if m.kind != MopKind::Write {
                    continue;
                }
                let last = !mops[j + 1..].iter().any(|n| n.kind == MopKind::Write && n.key == m.key);
                let w = Write { op: i as u32, last };
                if let Some(prev) = self.writes.insert((m.key, m.value), w) {
                    if !std::mem::replace(&mut self.excluded[m.key as usize], true) {
                        findings.unknown(format!(
                            "key {}: value {} was written twice (by the transactions with index {} and {}), so \
                             which write a read saw is unknown; rw-register needs unique values per key, and the \
                             key was left out",
                            self.txns.key(m.key),
                            self.txns.value(m.value),
                            self.history.ops[prev.op as usize].invoke_index,
                            self.history.ops[i].invoke_index,
                        ));
                    }
                }
            }
        }
    }

    /// Every committed read: checked against its own transaction (internal, future reads),
    /// against what was written (garbage, aborted and intermediate reads), and recorded by
    /// the version it saw. Collects the read-then-write pairs lost updates are made of.
    fn collect_reads(&mut self, findings: &mut Findings) {
        let mut updates: Vec<(u32, Elem, u32)> = Vec::new();
        for i in 0..self.txns.len() {
            if !self.ok(i) {
                continue;
            }
            let first = self.txns.first_mop(i) as u32;
            let mops = self.txns.of(i);
            for (j, m) in mops.iter().enumerate() {
                if m.kind != MopKind::Read {
                    continue;
                }
                let before = &mops[..j];
                let reader = (i as u32, first + j as u32);
                // What the transaction itself last read or wrote on the key implies.
                if let Some(p) = before.iter().rev().find(|p| p.key == m.key) {
                    if p.value != m.value {
                        let expected = self.txns.value(p.value).to_string();
                        findings.push(Finding::Internal { op: reader.0, mop: reader.1, expected });
                    }
                    continue;
                }
                if m.value != NIL
                    && mops[j + 1..]
                        .iter()
                        .any(|w| w.kind == MopKind::Write && w.key == m.key && w.value == m.value)
                {
                    findings.push(Finding::FutureRead {
                        key: m.key,
                        elem: m.value,
                        op: reader.0,
                        mop: reader.1,
                    });
                    continue;
                }
                self.check_source(m, reader, findings);
                self.readers.entry((m.key, m.value)).or_default().push(i as u32);
                if mops[j + 1..].iter().any(|w| w.kind == MopKind::Write && w.key == m.key) {
                    updates.push((m.key, m.value, i as u32));
                }
            }
        }
        lost_updates(self.txns, updates, &self.excluded, findings);
    }

    /// A read of a value nobody wrote, only a failed transaction wrote, or another
    /// transaction overwrote within itself.
    fn check_source(&self, m: &Mop, reader: (u32, u32), findings: &mut Findings) {
        if m.value == NIL || self.excluded[m.key as usize] {
            return;
        }
        let (key, elem) = (m.key, m.value);
        match self.writes.get(&(key, elem)) {
            None => findings.push(Finding::GarbageRead { key, elem, reader }),
            Some(w) if self.history.ops[w.op as usize].outcome == Outcome::Fail => {
                findings.push(Finding::AbortedRead { key, elem, writer: w.op, reader })
            }
            Some(w) if !w.last && w.op != reader.0 => {
                findings.push(Finding::IntermediateRead { key, elem, writer: w.op, reader })
            }
            Some(_) => {}
        }
    }

    /// Each key's version order: `nil` before every value, and what each transaction read of a
    /// key before the value it then wrote. A cycle among values is `cyclic-versions`.
    fn version_orders(&mut self, findings: &mut Findings) {
        for i in 0..self.txns.len() {
            if !self.ok(i) {
                continue;
            }
            let mops = self.txns.of(i);
            for (j, m) in mops.iter().enumerate() {
                let first_on_key = !mops[..j].iter().any(|p| p.key == m.key);
                if m.kind != MopKind::Read || !first_on_key || self.excluded[m.key as usize] {
                    continue;
                }
                if let Some(w) =
                    mops[j + 1..].iter().rev().find(|w| w.kind == MopKind::Write && w.key == m.key)
                {
                    if w.value != m.value {
                        self.versions[m.key as usize].push((m.value, w.value));
                    }
                }
            }
        }
        // nil precedes every value that nothing else is known to precede.
        let mut has_pred: Vec<(u32, Elem)> = self
            .versions
            .iter()
            .enumerate()
            .flat_map(|(k, es)| es.iter().filter(|e| e.0 != NIL).map(move |e| (k as u32, e.1)))
            .collect();
        has_pred.sort_unstable();
        for (&(k, v), w) in &self.writes {
            if w.last && !self.excluded[k as usize] && has_pred.binary_search(&(k, v)).is_err() {
                self.versions[k as usize].push((NIL, v));
            }
        }
        for k in 0..self.versions.len() {
            self.versions[k].sort_unstable();
            self.versions[k].dedup();
            if let Some(cycle) = value_cycle(&self.versions[k]) {
                self.excluded[k] = true;
                findings.push(Finding::CyclicVersions { key: k as u32, values: cycle });
            }
        }
    }

    /// The final writer of `v` on key `k`, if it may have committed.
    fn writer(&self, k: u32, v: Elem) -> u32 {
        match self.writes.get(&(k, v)) {
            Some(w) if w.last && may_commit(self.history.ops[w.op as usize].outcome) => w.op,
            _ => NONE,
        }
    }

    fn readers_of(&self, k: u32, v: Elem) -> &[u32] {
        self.readers.get(&(k, v)).map_or(&[], Vec::as_slice)
    }
}

/// Groups of two or more committed transactions that read the same version of a key and then
/// wrote it.
fn lost_updates(txns: &Txns, mut updates: Vec<(u32, Elem, u32)>, excluded: &[bool], findings: &mut Findings) {
    updates.sort_unstable();
    for group in updates.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)) {
        if group.len() > 1 && !excluded[group[0].0 as usize] {
            let read = txns.value(group[0].1).to_string();
            findings.push(Finding::LostUpdate {
                key: group[0].0,
                read,
                txns: group.iter().map(|g| g.2).collect(),
            });
        }
    }
}

/// Some cycle among a key's version-order edges between values (`nil` has no predecessors, so
/// it is never on one), if there is one.
fn value_cycle(edges: &[(Elem, Elem)]) -> Option<Vec<Elem>> {
    let mut ids: Vec<Elem> = edges.iter().flat_map(|&(a, b)| [a, b]).filter(|&v| v != NIL).collect();
    ids.sort_unstable();
    ids.dedup();
    let id = |v: Elem| ids.binary_search(&v).expect("every value has an id") as u32;
    let local: Vec<(u32, u32, Label)> =
        edges.iter().filter(|e| e.0 != NIL).map(|&(a, b)| (id(a), id(b), 0)).collect();
    let g = Csr::from_edges(ids.len(), &local);
    let comps = strongly_connected(&g);
    let group = comps.groups(|size| size > 1).into_iter().next()?;
    Some(group.into_iter().map(|i| ids[i as usize]).collect())
}

impl super::anomaly::Inference for Registers<'_> {
    fn edges(&self) -> Vec<(u32, u32, Label)> {
        let mut edges = Vec::new();
        let mut push = |a: u32, b: u32, l: Label| {
            if a != b && a != NONE && b != NONE {
                edges.push((a, b, l));
            }
        };
        for (k, versions) in self.versions.iter().enumerate() {
            let k = k as u32;
            if self.excluded[k as usize] {
                continue;
            }
            for &(v1, v2) in versions {
                let w2 = self.writer(k, v2);
                if v1 != NIL {
                    push(self.writer(k, v1), w2, WW);
                }
                for &r in self.readers_of(k, v1) {
                    push(r, w2, RW);
                }
            }
        }
        for (&(k, v), readers) in &self.readers {
            if v != NIL && !self.excluded[k as usize] {
                let w = self.writer(k, v);
                readers.iter().for_each(|&r| push(w, r, WR));
            }
        }
        edges
    }
}

impl Why for Registers<'_> {
    fn why(&self, a: u32, b: u32, label: Label) -> Option<DataWhy> {
        let ok_key = |k: u32| !self.excluded[k as usize];
        let reads_of = |op: u32| {
            let mops = self.txns.of(op as usize);
            mops.iter()
                .enumerate()
                .filter(move |(j, m)| m.kind == MopKind::Read && !mops[..*j].iter().any(|p| p.key == m.key))
                .map(|(_, m)| *m)
        };
        match label {
            WR => reads_of(b)
                .find(|m| ok_key(m.key) && m.value != NIL && self.writer(m.key, m.value) == a)
                .map(|m| DataWhy { key: m.key, before: Some(m.value), after: Some(m.value), unseen: false }),
            WW | RW => {
                let (k, v1, v2) =
                    self.versions.iter().enumerate().filter(|(k, _)| ok_key(*k as u32)).find_map(
                        |(k, vs)| {
                            let k = k as u32;
                            vs.iter()
                                .find(|&&(v1, v2)| {
                                    self.writer(k, v2) == b
                                        && if label == WW {
                                            v1 != NIL && self.writer(k, v1) == a
                                        } else {
                                            self.readers_of(k, v1).contains(&a)
                                        }
                                })
                                .map(|&(v1, v2)| (k, v1, v2))
                        },
                    )?;
                Some(DataWhy { key: k, before: (v1 != NIL).then_some(v1), after: Some(v2), unseen: false })
            }
            _ => None,
        }
    }
}
