//! List-append inference: each key's version order from its longest read, the anomalies that
//! need no cycle (aborted, intermediate, garbage and future reads, duplicates, incompatible
//! orders, internal inconsistency, lost updates), and the ww, wr and rw edges.
//!
//! Every read of a list returns a prefix of the key's version order, and every element names
//! the append that wrote it (values are unique per key), so the longest read of a key is its
//! version order up to that point and every other read must be a prefix of it. An append that
//! no read ever saw, by a transaction that committed, came after every element that was seen.
//! All of this is linear in the micro-ops plus the elements read.

use super::explain::{DataWhy, Why};
use super::findings::{Finding, Findings};
use super::graph::{RW, WR, WW, may_commit};
use super::ops::{Elem, Mop, MopKind, Txns};
use crate::graph::csr::Label;
use crate::history::{History, Outcome};
use ahash::{AHashMap, AHashSet};
use rayon::prelude::*;

/// No op, mop or position.
pub(crate) const NONE: u32 = u32::MAX;

/// What inference learned about each key, kept to build edges and to explain them.
pub(crate) struct ListAppend<'a> {
    history: &'a History,
    txns: &'a Txns,
    /// Each op's outcome, and each micro-op's op: looked up at random, so kept small.
    outcome: Vec<Outcome>,
    mop_op: Vec<u32>,
    /// Per key: its version order is `order[start[k]..start[k + 1]]` (empty for a key left
    /// out of inference).
    start: Vec<u32>,
    order: Vec<Elem>,
    /// The op and micro-op that appended each element of `order` (`NONE` if nobody did).
    writer_op: Vec<u32>,
    writer_mop: Vec<u32>,
    /// Per micro-op (indexed like `txns.mops`): for an append, its position in its key's
    /// order, or `NONE` if no read saw it.
    position: Vec<u32>,
    /// Per key: committed transactions whose appends no read saw, `unseen[unseen_start[k]..]`.
    unseen_start: Vec<u32>,
    unseen: Vec<u32>,
    /// Keys left out of inference (incompatible reads, duplicate elements, ambiguous writers).
    excluded: Vec<bool>,
}

/// What a transaction expects of a key while it replays itself: the key, the list it last read
/// (if any), and what it appended since.
type Expected<'t> = (u32, Option<&'t [Elem]>, Vec<Elem>);

/// Whether two micro-ops share a key. (Transactions are short: quadratic is quick.)
fn repeats_a_key(mops: &[Mop]) -> bool {
    mops.iter().enumerate().any(|(j, m)| mops[..j].iter().any(|p| p.key == m.key))
}

/// The read list a micro-op returned; `nil` from a committed transaction is the empty list.
fn read_list<'t>(txns: &'t Txns, m: &Mop) -> &'t [Elem] {
    txns.list(m)
}

impl<'a> ListAppend<'a> {
    /// Infers version orders and finds the anomalies that need no cycle.
    pub(crate) fn infer(history: &'a History, txns: &'a Txns, findings: &mut Findings) -> ListAppend<'a> {
        let keys = txns.key_count();
        let mut mop_op = vec![0u32; txns.mops.len()];
        for i in 0..txns.len() {
            mop_op[txns.first_mop(i)..txns.first_mop(i + 1)].fill(i as u32);
        }
        let mut la = ListAppend {
            history,
            txns,
            outcome: history.ops.iter().map(|op| op.outcome).collect(),
            mop_op,
            start: Vec::with_capacity(keys + 1),
            order: Vec::new(),
            writer_op: Vec::new(),
            writer_mop: Vec::new(),
            position: vec![NONE; txns.mops.len()],
            unseen_start: Vec::new(),
            unseen: Vec::new(),
            excluded: vec![false; keys],
        };
        let writers = la.writers(findings);
        let longest = la.longest_reads(findings);
        la.version_orders(&writers, &longest, findings);
        la.unseen_appends();
        la.own_orders(findings);
        la.read_anomalies(findings);
        la.txn_anomalies(findings);
        la
    }

    /// Every append's (key, element) → its micro-op. A value appended twice to a key leaves
    /// the key out, with a note: its writer is ambiguous.
    fn writers(&mut self, findings: &mut Findings) -> AHashMap<u64, u32> {
        let mut writers: AHashMap<u64, u32> = AHashMap::with_capacity(self.txns.mops.len() / 2);
        for (m, mop) in self.txns.mops.iter().enumerate() {
            if mop.kind != MopKind::Append {
                continue;
            }
            let id = (u64::from(mop.key) << 32) | u64::from(mop.value);
            if let Some(first) = writers.insert(id, m as u32) {
                if !self.excluded[mop.key as usize] {
                    self.excluded[mop.key as usize] = true;
                    findings.unknown(format!(
                        "key {}: value {} was appended twice ({} and {}), so which append a read saw is \
                         unknown; list-append needs unique values per key, and the key was left out",
                        self.txns.key(mop.key),
                        self.txns.value(mop.value),
                        self.describe_mop(first),
                        self.describe_mop(m as u32),
                    ));
                }
            }
        }
        writers
    }

    /// "index 12 (line 25)": where a micro-op's transaction is, for notes.
    fn describe_mop(&self, m: u32) -> String {
        let op = self.op_of_mop(m);
        let o = &self.history.ops[op as usize];
        format!("by the transaction with index {} on line {}", o.invoke_index, o.invoke_line)
    }

    /// The op a micro-op belongs to.
    fn op_of_mop(&self, m: u32) -> u32 {
        self.mop_op[m as usize]
    }

    /// Whether op `i` completed `:ok` (its reads returned what they show).
    fn ok(&self, i: usize) -> bool {
        self.outcome[i] == Outcome::Ok
    }

    /// Per key, the micro-op of its longest committed read (`NONE` if none); reads that are
    /// not a prefix of it make the key's order incompatible.
    fn longest_reads(&mut self, findings: &mut Findings) -> Vec<u32> {
        let mut longest = vec![NONE; self.txns.key_count()];
        let mut longest_len = vec![0usize; self.txns.key_count()];
        self.for_each_ok_read(0..self.txns.len(), |_, m, mop| {
            let (k, len) = (mop.key as usize, read_list(self.txns, mop).len());
            if longest[k] == NONE || longest_len[k] < len {
                (longest[k], longest_len[k]) = (m, len);
            }
        });
        // Comparing every read with the longest touches every element read: split it up.
        let step = self.txns.len().div_ceil(4 * rayon::current_num_threads()).max(1);
        let mismatches: Vec<u32> = (0..self.txns.len())
            .step_by(step)
            .collect::<Vec<_>>()
            .into_par_iter()
            .flat_map_iter(|from| {
                let mut found = Vec::new();
                self.for_each_ok_read(from..(from + step).min(self.txns.len()), |_, m, mop| {
                    let full = read_list(self.txns, &self.txns.mops[longest[mop.key as usize] as usize]);
                    let list = read_list(self.txns, mop);
                    if full[..list.len()] != *list {
                        found.push(m);
                    }
                });
                found
            })
            .collect();
        let mut incompatible: Vec<u32> = vec![NONE; self.txns.key_count()];
        for m in mismatches {
            let k = self.txns.mops[m as usize].key as usize;
            incompatible[k] = incompatible[k].min(m);
        }
        for (k, &m) in incompatible.iter().enumerate() {
            if m != NONE {
                self.excluded[k] = true;
                let (a, b) = (self.op_of_mop(m), self.op_of_mop(longest[k]));
                findings.push(Finding::IncompatibleOrder { key: k as u32, reads: [(a, m), (b, longest[k])] });
            }
        }
        longest
    }

    /// Calls `f(op, mop index, mop)` for every read of every `:ok` transaction among `ops`.
    fn for_each_ok_read(&self, ops: std::ops::Range<usize>, mut f: impl FnMut(u32, u32, &Mop)) {
        for i in ops {
            if !self.ok(i) {
                continue;
            }
            let first = self.txns.first_mop(i) as u32;
            for (j, mop) in self.txns.of(i).iter().enumerate() {
                if mop.kind == MopKind::Read {
                    f(i as u32, first + j as u32, mop);
                }
            }
        }
    }

    /// Each key's version order: its longest read, with each element's writer. A duplicate
    /// element leaves the key out; an element nobody appended is a garbage read; one only a
    /// failed transaction appended is an aborted read (G1a).
    fn version_orders(&mut self, writers: &AHashMap<u64, u32>, longest: &[u32], findings: &mut Findings) {
        let txns = self.txns;
        let mut seen: AHashSet<Elem> = AHashSet::new();
        for (k, &read) in longest.iter().enumerate() {
            self.start.push(self.order.len() as u32);
            if self.excluded[k] || read == NONE {
                continue;
            }
            let reader = self.op_of_mop(read);
            let list = read_list(txns, &txns.mops[read as usize]);
            seen.clear();
            if let Some(&dup) = list.iter().find(|&&e| !seen.insert(e)) {
                self.excluded[k] = true;
                let first_reader = self.first_read_showing(k as u32, list, dup);
                findings.push(Finding::DuplicateElements { key: k as u32, elem: dup, reader: first_reader });
                continue;
            }
            // The last aborted append seen, until a committed one follows it (a dirty update).
            let mut aborted: Option<(u32, Elem)> = None;
            for (j, &e) in list.iter().enumerate() {
                let w = writers.get(&((k as u64) << 32 | u64::from(e))).copied().unwrap_or(NONE);
                let op = if w == NONE { NONE } else { self.op_of_mop(w) };
                self.order.push(e);
                self.writer_op.push(op);
                self.writer_mop.push(w);
                if w == NONE {
                    findings.push(Finding::GarbageRead {
                        key: k as u32,
                        elem: e,
                        reader: (reader, longest[k]),
                    });
                    continue;
                }
                self.position[w as usize] = j as u32;
                match self.outcome[op as usize] {
                    Outcome::Fail => {
                        let reader = (reader, longest[k]);
                        findings.push(Finding::AbortedRead { key: k as u32, elem: e, writer: op, reader });
                        aborted = aborted.or(Some((op, e)));
                    }
                    Outcome::Ok => {
                        if let Some(failed) = aborted.take() {
                            findings.push(Finding::DirtyUpdate { key: k as u32, failed, committed: (op, e) });
                        }
                    }
                    Outcome::Info | Outcome::Open => {}
                }
            }
        }
        self.start.push(self.order.len() as u32);
    }

    /// The first committed read of key `k` (by op order) whose list holds `dup` twice.
    fn first_read_showing(&self, k: u32, full: &[Elem], dup: Elem) -> (u32, u32) {
        let second = full.iter().enumerate().filter(|(_, e)| **e == dup).nth(1).map_or(0, |(i, _)| i);
        let mut found = (NONE, NONE);
        self.for_each_ok_read(0..self.txns.len(), |op, m, mop| {
            if found.0 == NONE && mop.key == k && read_list(self.txns, mop).len() > second {
                found = (op, m);
            }
        });
        found
    }

    /// Appends no read saw, per key, by transactions that may have committed: they follow
    /// every element read. (A crashed transaction's unseen append may never have happened; but
    /// then nothing shows that transaction took effect, and no edge leaves it, so the edges
    /// into it cannot close a cycle.)
    fn unseen_appends(&mut self) {
        let mut per_key: Vec<Vec<u32>> = vec![Vec::new(); self.txns.key_count()];
        for i in 0..self.txns.len() {
            if !may_commit(self.outcome[i]) {
                continue;
            }
            let first = self.txns.first_mop(i);
            for (j, mop) in self.txns.of(i).iter().enumerate() {
                let k = mop.key as usize;
                if mop.kind == MopKind::Append && !self.excluded[k] && self.position[first + j] == NONE {
                    // One entry per transaction, even if it appended several unseen values.
                    if per_key[k].last() != Some(&(i as u32)) {
                        per_key[k].push(i as u32);
                    }
                }
            }
        }
        for list in per_key {
            self.unseen_start.push(self.unseen.len() as u32);
            self.unseen.extend(list);
        }
        self.unseen_start.push(self.unseen.len() as u32);
    }

    /// A transaction's appends to a key must appear in the version order in the order it made
    /// them, seen ones before unseen ones; otherwise the reads contradict the transaction's own
    /// order (an incompatible order).
    fn own_orders(&self, findings: &mut Findings) {
        for i in 0..self.txns.len() {
            let first = self.txns.first_mop(i);
            let mops = self.txns.of(i);
            if !repeats_a_key(mops) {
                continue;
            }
            for (j, m) in mops.iter().enumerate() {
                if m.kind != MopKind::Append || self.excluded[m.key as usize] {
                    continue;
                }
                // The next append to the same key must come later in the order.
                let Some(n) =
                    (j + 1..mops.len()).find(|&n| mops[n].kind == MopKind::Append && mops[n].key == m.key)
                else {
                    continue;
                };
                let (p, q) = (self.position[first + j], self.position[first + n]);
                if q != NONE && (p == NONE || p > q) {
                    let (order, _) = self.order_of(m.key);
                    let shown = order[..=q as usize].to_vec();
                    findings.push(Finding::OwnOrder {
                        key: m.key,
                        op: i as u32,
                        first: m.value,
                        second: mops[n].value,
                        shown,
                    });
                }
            }
        }
    }

    /// Key `k`'s version order and its writers.
    fn order_of(&self, k: u32) -> (&[Elem], &[u32]) {
        let r = self.start[k as usize] as usize..self.start[k as usize + 1] as usize;
        (&self.order[r.clone()], &self.writer_op[r])
    }

    fn unseen_of(&self, k: u32) -> &[u32] {
        &self.unseen[self.unseen_start[k as usize] as usize..self.unseen_start[k as usize + 1] as usize]
    }

    /// G1b: a committed read whose last element another transaction appended and then
    /// appended to again.
    fn read_anomalies(&self, findings: &mut Findings) {
        let final_append = self.final_appends();
        self.for_each_ok_read(0..self.txns.len(), |op, m, mop| {
            let k = mop.key;
            let list = read_list(self.txns, mop);
            if self.excluded[k as usize] || list.is_empty() {
                return;
            }
            let at = self.start[k as usize] as usize + list.len() - 1;
            let (w_op, w_mop) = (self.writer_op[at], self.writer_mop[at]);
            if w_op != NONE && w_op != op && !final_append[w_mop as usize] {
                findings.push(Finding::IntermediateRead {
                    key: k,
                    elem: list[list.len() - 1],
                    writer: w_op,
                    reader: (op, m),
                });
            }
        });
    }

    /// Per micro-op: whether it is its transaction's last append to its key.
    fn final_appends(&self) -> Vec<bool> {
        let mut fin = vec![false; self.txns.mops.len()];
        let mut keys: Vec<u32> = Vec::new();
        for i in 0..self.txns.len() {
            keys.clear();
            let first = self.txns.first_mop(i);
            for (j, mop) in self.txns.of(i).iter().enumerate().rev() {
                if mop.kind == MopKind::Append && !keys.contains(&mop.key) {
                    keys.push(mop.key);
                    fin[first + j] = true;
                }
            }
        }
        fin
    }

    /// Per transaction: internal inconsistency, future reads, and the reads-then-appends that
    /// lost updates are made of.
    fn txn_anomalies(&self, findings: &mut Findings) {
        let mut updates: Vec<(u32, u32, u32)> = Vec::new(); // (key, length read, op)
        for i in 0..self.txns.len() {
            // A transaction that touches each key once cannot contradict itself.
            if self.ok(i) && repeats_a_key(self.txns.of(i)) {
                self.check_internal(i, findings);
                self.collect_update(i, &mut updates);
            }
        }
        updates.sort_unstable();
        for group in updates.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)) {
            if group.len() > 1 {
                let txns = group.iter().map(|g| g.2).collect();
                let (order, _) = self.order_of(group[0].0);
                let read = self.txns.list_text(&order[..group[0].1 as usize]);
                findings.push(Finding::LostUpdate { key: group[0].0, read, txns });
            }
        }
    }

    /// Replays op `i`'s micro-ops against what it has itself read and appended.
    ///
    /// The state per key: the key, the list last read (if any), what was appended since.
    fn check_internal(&self, i: usize, findings: &mut Findings) {
        // Per key: the list last read (if any) and what was appended since.
        let mut state: Vec<Expected<'_>> = Vec::new();
        let first = self.txns.first_mop(i) as u32;
        let mops = self.txns.of(i);
        for (j, mop) in mops.iter().enumerate() {
            let at = state.iter().position(|s| s.0 == mop.key);
            if mop.kind == MopKind::Append {
                let saw = |r: &Mop| {
                    r.kind == MopKind::Read
                        && r.key == mop.key
                        && read_list(self.txns, r).contains(&mop.value)
                };
                if let Some(r) = mops[..j].iter().position(saw) {
                    let mop = first + r as u32;
                    findings.push(Finding::FutureRead {
                        key: mops[j].key,
                        elem: mops[j].value,
                        op: i as u32,
                        mop,
                    });
                }
                match at {
                    Some(s) => state[s].2.push(mop.value),
                    None => state.push((mop.key, None, vec![mop.value])),
                }
                continue;
            }
            let list = read_list(self.txns, mop);
            if let Some(s) = at {
                let (_, prefix, appended) = &state[s];
                let fits = match prefix {
                    Some(p) => {
                        list.len() == p.len() + appended.len()
                            && list.starts_with(p)
                            && list.ends_with(appended)
                    }
                    None => list.ends_with(appended),
                };
                if !fits {
                    let expected = match prefix {
                        Some(p) => self.txns.list_text(&[*p, appended.as_slice()].concat()),
                        None => format!("a list ending in {}", self.txns.list_text(appended)),
                    };
                    findings.push(Finding::Internal { op: i as u32, mop: first + j as u32, expected });
                }
                state[s] = (mop.key, Some(list), Vec::new());
            } else {
                state.push((mop.key, Some(list), Vec::new()));
            }
        }
    }

    /// Records (key, length read, op) when op `i` first reads a key and then appends to it.
    fn collect_update(&self, i: usize, updates: &mut Vec<(u32, u32, u32)>) {
        let mops = self.txns.of(i);
        for (j, mop) in mops.iter().enumerate() {
            let k = mop.key;
            let first_on_key = !mops[..j].iter().any(|m| m.key == k);
            let then_appends = || mops[j + 1..].iter().any(|m| m.key == k && m.kind == MopKind::Append);
            if mop.kind == MopKind::Read && first_on_key && !self.excluded[k as usize] && then_appends() {
                updates.push((k, read_list(self.txns, mop).len() as u32, i as u32));
            }
        }
    }

    /// Whether micro-op `j` of op `i` is an external read: a read before the op's first
    /// append to the key (a later read also sees the op's own appends).
    fn external_read(&self, i: usize, j: usize) -> bool {
        let mops = self.txns.of(i);
        let mop = &mops[j];
        mop.kind == MopKind::Read && !mops[..j].iter().any(|m| m.kind == MopKind::Append && m.key == mop.key)
    }

    /// The transaction whose append a read saw last (wr source): `NONE` for the empty list.
    fn wr_source(&self, mop: &Mop) -> u32 {
        let len = read_list(self.txns, mop).len();
        if len == 0 { NONE } else { self.order_of(mop.key).1[len - 1] }
    }

    /// The transactions whose appends came right after the version a read saw (rw targets):
    /// the next element's writer, or every unseen committed append after the last seen one.
    fn rw_targets(&self, mop: &Mop) -> &[u32] {
        let len = read_list(self.txns, mop).len();
        let (order, writers) = self.order_of(mop.key);
        if len < order.len() { &writers[len..len + 1] } else { self.unseen_of(mop.key) }
    }

    /// The transaction whose append came right before an append (ww source), and the element
    /// it appended (`None` for the first).
    fn ww_source(&self, m: usize) -> Option<(u32, Elem)> {
        let mop = &self.txns.mops[m];
        let (order, writers) = self.order_of(mop.key);
        let pos = self.position[m];
        let before = if pos == NONE { order.len() } else { pos as usize };
        (before > 0).then(|| (writers[before - 1], order[before - 1]))
    }

    /// The ww, wr and rw edges between transactions that may have committed.
    pub(crate) fn edges(&self) -> Vec<(u32, u32, Label)> {
        let mut edges = Vec::with_capacity(self.txns.mops.len() * 2);
        let node = |op: u32| op != NONE && may_commit(self.outcome[op as usize]);
        let mut push = |a: u32, b: u32, l: Label| {
            if a != b && node(a) && node(b) {
                edges.push((a, b, l));
            }
        };
        for i in 0..self.txns.len() {
            let first = self.txns.first_mop(i);
            for (j, mop) in self.txns.of(i).iter().enumerate() {
                if self.excluded[mop.key as usize] {
                    continue;
                }
                match mop.kind {
                    MopKind::Append => {
                        if let Some((w, _)) = self.ww_source(first + j) {
                            push(w, i as u32, WW);
                        }
                    }
                    MopKind::Read if self.ok(i) && self.external_read(i, j) => {
                        push(self.wr_source(mop), i as u32, WR);
                        for &t in self.rw_targets(mop) {
                            push(i as u32, t, RW);
                        }
                    }
                    _ => {}
                }
            }
        }
        edges
    }
}

impl Why for ListAppend<'_> {
    /// Why `a` precedes `b` by an edge labelled `label`: the first micro-op that forces it.
    fn why(&self, a: u32, b: u32, label: Label) -> Option<DataWhy> {
        let mops_of = |i: u32| (self.txns.first_mop(i as usize)..).zip(self.txns.of(i as usize));
        let usable = |mop: &Mop| !self.excluded[mop.key as usize];
        match label {
            WW => mops_of(b).filter(|(_, m)| m.kind == MopKind::Append && usable(m)).find_map(|(m, mop)| {
                let (w, e) = self.ww_source(m)?;
                (w == a).then(|| DataWhy {
                    key: mop.key,
                    before: Some(e),
                    after: Some(mop.value),
                    unseen: self.position[m] == NONE,
                })
            }),
            WR => mops_of(b).enumerate().find_map(|(j, (_, mop))| {
                let ext = mop.kind == MopKind::Read && usable(mop) && self.external_read(b as usize, j);
                if !ext {
                    return None;
                }
                let last = read_list(self.txns, mop).last().copied();
                (self.wr_source(mop) == a).then_some(DataWhy {
                    key: mop.key,
                    before: last,
                    after: last,
                    unseen: false,
                })
            }),
            RW => mops_of(a).enumerate().find_map(|(j, (_, mop))| {
                if !(mop.kind == MopKind::Read && usable(mop) && self.external_read(a as usize, j)) {
                    return None;
                }
                let targets = self.rw_targets(mop);
                if !targets.contains(&b) {
                    return None;
                }
                let list = read_list(self.txns, mop);
                let (order, _) = self.order_of(mop.key);
                let unseen = list.len() == order.len();
                let after = if unseen {
                    // b's first append to the key that no read saw (it may have appended seen
                    // elements before it).
                    let first = self.txns.first_mop(b as usize);
                    self.txns
                        .of(b as usize)
                        .iter()
                        .enumerate()
                        .find(|&(j, m)| {
                            m.kind == MopKind::Append && m.key == mop.key && self.position[first + j] == NONE
                        })
                        .map(|(_, m)| m.value)
                } else {
                    Some(order[list.len()])
                };
                Some(DataWhy { key: mop.key, before: list.last().copied(), after, unseen })
            }),
            _ => None,
        }
    }
}
