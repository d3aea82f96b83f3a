//! The raw facts of one key, gathered from its micro-ops once and shared by every claim about
//! it: who appended or wrote each value, the committed reads, and — when the reads allow one —
//! the version order they reveal.
//!
//! List-append: every committed read of a key returns a prefix of the key's version order, so
//! when all committed reads are prefixes of the longest one (and no value is appended twice, and
//! no read holds an element twice) the longest read is the version order as far as anyone saw.
//! Otherwise no version order is a fact, and no claim may rest on one.
//!
//! rw-register: a read returns one value, so the version order is only what the history
//! forces: `nil` before every value, and `v1` before `v2` when a committed transaction's first
//! micro-op on the key read `v1` and its last write to the key wrote `v2`. Values must be
//! written once, and these facts must not form a cycle.

use crate::history::{History, Outcome};
use crate::txn::ops::{Elem, MopKind, NIL, Txns};
use ahash::{AHashMap, AHashSet};

/// Who appended (list-append) or wrote (rw-register) a value to the key.
#[derive(Clone, Copy, Debug)]
pub(super) struct Writer {
    /// The op (the first one, when several did).
    pub op: u32,
    /// How many micro-ops appended or wrote it.
    pub count: u32,
    /// Whether it was that op's last append or write to the key.
    pub last: bool,
}

/// What the history says about one key.
#[derive(Debug)]
pub(super) struct KeyFacts {
    /// Every value appended or written to the key, by whom.
    pub writers: AHashMap<Elem, Writer>,
    /// The reads by transactions that completed `:ok`: (op, micro-op index into `txns.mops`).
    pub reads: Vec<(u32, u32)>,
    /// List-append: the longest committed read (every other must be a prefix of it).
    pub longest: Vec<Elem>,
    /// List-append: each element's position in `longest`.
    pub pos: AHashMap<Elem, u32>,
    /// rw-register: the forced version order's pairs `(v1, v2)` (`v1` may be `nil`'s [`NIL`]).
    pub versions: AHashSet<(Elem, Elem)>,
    /// rw-register: whether `versions` has a cycle.
    pub cyclic: bool,
    /// Why no version order of the key is a fact, if none is.
    pub problem: Option<String>,
}

impl KeyFacts {
    /// Gathers key `k`'s facts from `entries`: every `(op, micro-op)` on it, in history order.
    pub(super) fn build(h: &History, t: &Txns, k: u32, entries: &[(u32, u32)]) -> KeyFacts {
        let mut f = KeyFacts {
            writers: AHashMap::new(),
            reads: Vec::new(),
            longest: Vec::new(),
            pos: AHashMap::new(),
            versions: AHashSet::new(),
            cyclic: false,
            problem: None,
        };
        let name = t.key(k).to_string();
        // One op's micro-ops on the key are consecutive entries.
        for group in entries.chunk_by(|a, b| a.0 == b.0) {
            let op = group[0].0;
            let ok = h.ops[op as usize].outcome == Outcome::Ok;
            let is_write = |m: u32| matches!(t.mops[m as usize].kind, MopKind::Append | MopKind::Write);
            let last_write = group.iter().rposition(|&(_, m)| is_write(m));
            for (j, &(_, m)) in group.iter().enumerate() {
                let mop = &t.mops[m as usize];
                match mop.kind {
                    MopKind::Append | MopKind::Write => {
                        let last = Some(j) == last_write;
                        f.writers.entry(mop.value).and_modify(|w| w.count += 1).or_insert(Writer {
                            op,
                            count: 1,
                            last,
                        });
                    }
                    MopKind::Read if ok => f.reads.push((op, m)),
                    MopKind::Read => {}
                }
            }
            // rw-register: a committed read-then-write installs the write after the read.
            let first = &t.mops[group[0].1 as usize];
            if ok && first.kind == MopKind::Read {
                if let Some(w) = last_write.map(|j| &t.mops[group[j].1 as usize]) {
                    if w.kind == MopKind::Write && w.value != first.value {
                        f.versions.insert((first.value, w.value));
                    }
                }
            }
        }
        let mut twice: Vec<(Elem, u32)> =
            f.writers.iter().filter(|(_, w)| w.count > 1).map(|(&e, w)| (e, w.count)).collect();
        twice.sort_unstable();
        let verb = if t.workload == crate::txn::Workload::ListAppend { "appended" } else { "written" };
        if let Some(&(e, n)) = twice.first() {
            f.problem = Some(format!(
                "{} was {verb} to {name} {n} times, so which of them a read saw is unknown",
                t.value(e)
            ));
        }
        match t.workload {
            crate::txn::Workload::ListAppend => f.list_order(h, t, &name),
            crate::txn::Workload::RwRegister => f.register_order(t, &name),
        }
        f
    }

    /// List-append: the longest committed read, and whether every other is a prefix of it.
    fn list_order(&mut self, h: &History, t: &Txns, name: &str) {
        let Some(&(longest_op, longest)) =
            self.reads.iter().max_by_key(|r| t.list(&t.mops[r.1 as usize]).len())
        else {
            return;
        };
        let full = t.list(&t.mops[longest as usize]);
        self.longest = full.to_vec();
        for (i, &e) in full.iter().enumerate() {
            if self.pos.insert(e, i as u32).is_some() && self.problem.is_none() {
                self.problem = Some(format!("a committed read of {name} holds {} twice", t.value(e)));
            }
        }
        if self.problem.is_some() {
            return;
        }
        if let Some(&(op, m)) = self.reads.iter().find(|r| {
            let list = t.list(&t.mops[r.1 as usize]);
            full[..list.len()] != *list
        }) {
            self.problem = Some(format!(
                "committed reads of {name} disagree: {} (index {}) is not a prefix of {} (index {})",
                t.list_text(t.list(&t.mops[m as usize])),
                h.ops[op as usize].invoke_index,
                t.list_text(full),
                h.ops[longest_op as usize].invoke_index
            ));
        }
    }

    /// rw-register: whether the forced version order has a cycle.
    fn register_order(&mut self, t: &Txns, name: &str) {
        if self.problem.is_some() {
            return;
        }
        // Kahn's algorithm over the values (`nil` has no predecessor, so it is left out).
        let edges: Vec<(Elem, Elem)> = self.versions.iter().copied().filter(|e| e.0 != NIL).collect();
        let mut indegree: AHashMap<Elem, u32> = AHashMap::new();
        let mut next: AHashMap<Elem, Vec<Elem>> = AHashMap::new();
        for &(a, b) in &edges {
            indegree.entry(a).or_insert(0);
            *indegree.entry(b).or_insert(0) += 1;
            next.entry(a).or_default().push(b);
        }
        let mut ready: Vec<Elem> = indegree.iter().filter(|(_, d)| **d == 0).map(|(&v, _)| v).collect();
        let mut done = 0;
        while let Some(v) = ready.pop() {
            done += 1;
            for &w in next.get(&v).map_or(&[][..], Vec::as_slice) {
                let d = indegree.get_mut(&w).expect("every value has a degree");
                *d -= 1;
                if *d == 0 {
                    ready.push(w);
                }
            }
        }
        if done < indegree.len() {
            self.cyclic = true;
            let mut stuck: Vec<Elem> = indegree.iter().filter(|(_, d)| **d > 0).map(|(&v, _)| v).collect();
            stuck.sort_unstable();
            let shown: Vec<String> = stuck.iter().take(6).map(|&e| t.value(e).to_string()).collect();
            self.problem = Some(format!(
                "the versions of {name} the reads force are cyclic (among {})",
                shown.join(", ")
            ));
        }
    }

    /// The version order's problem as an error, or these facts when there is none.
    pub(super) fn usable(&self) -> Result<&KeyFacts, String> {
        match &self.problem {
            Some(p) => Err(format!("no version order of the key is a fact: {p}")),
            None => Ok(self),
        }
    }

    /// The single writer of `e`, if exactly one micro-op appended or wrote it.
    pub(super) fn unique_writer(&self, e: Elem) -> Option<Writer> {
        self.writers.get(&e).copied().filter(|w| w.count == 1)
    }
}
