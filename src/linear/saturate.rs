//! Saturation for sequential consistency: from process order and reads-from, derive the
//! write order and anti-dependencies they force, to a fixed point (algorithms.md §3.3, trick 3).
//!
//! For models with [`Model::leaves`] (slots holding one value each; see its contract):
//!
//! - **ww**: if x saw what w1 wrote (w1 the only writer of that value), and another write w2
//!   to the same slot must precede x, then w2 precedes w1 — else w2 would come between w1 and
//!   x, and x would not see w1's value.
//! - **rw**: if w1 must precede a write w2 to the same slot, every op that saw w1's value
//!   precedes w2 — else w2 would come between w1 and it.
//! - **init**: an op that saw the initial value, which no op writes, precedes every write to
//!   its slot.
//!
//! "Must precede" is reachability over the edges known so far, kept as vector clocks over the
//! processes' chains (for each op, the last op of each chain that reaches it), recomputed each
//! round. A derived edge never starts at an op that may not have happened: its source either
//! completed or is a crashed write some completed op saw. So every path into a completed op is
//! an order every witness has, a cycle through a completed op is a definite violation, and the
//! edges may prune the search (an op waits for its predecessors).
//!
//! Cost: O(rounds × (n + e) × chains); skipped when n × chains is too large to hold, which
//! only means less pruning.

use super::prepare::Entry;
use crate::model::{Edge, EdgeKind, Model};
use ahash::AHashMap;

/// The most vector-clock entries (ops × chains) saturation will hold.
const MAX_CLOCK_ENTRIES: usize = 40_000_000;
/// The most rounds; stopping early only means fewer edges.
const MAX_ROUNDS: usize = 64;

/// The ops and their chains, as saturation sees them.
struct Graph {
    /// Per op: its chain and position in it.
    chain: Vec<u32>,
    index: Vec<u32>,
    chains: usize,
    /// Per op: the slot it writes (`u32::MAX`: none), and the fact it leaves there.
    slot: Vec<u32>,
    leaves: Vec<Option<crate::model::Fact>>,
    /// Per (chain, slot): the included writes, by position in the chain.
    writes: AHashMap<(u32, u32), Vec<(u32, u32)>>,
    /// Reads-from pairs (writer, completed reader).
    reads_from: Vec<(u32, u32)>,
    /// Per writer: its completed readers (compressed rows).
    readers_start: Vec<u32>,
    readers: Vec<u32>,
}

/// Edges that every sequentially consistent order of `entries` respects, beyond `edges`
/// (process order and the model's implied orders). Stops at a cycle, which the caller finds.
pub(crate) fn saturate<M: Model>(
    model: &M,
    entries: &[Entry<M::Op>],
    determinate: usize,
    edges: &[Edge],
) -> Vec<Edge> {
    let Some(g) = Graph::new(model, entries, determinate, edges) else { return Vec::new() };
    let mut derived = init_reads(model, entries, determinate, &g);
    let mut known: ahash::AHashSet<(u32, u32)> = edges.iter().map(|e| (e.before, e.after)).collect();
    known.extend(derived.iter().map(|e| (e.before, e.after)));
    for _ in 0..MAX_ROUNDS {
        let all: Vec<&Edge> = edges.iter().chain(&derived).collect();
        let Some(clock) = g.clocks(&all) else { break }; // a cycle: the caller reports it
        let before = derived.len();
        for e in g.round(&clock) {
            if known.insert((e.before, e.after)) {
                derived.push(e);
            }
        }
        if derived.len() == before {
            break;
        }
    }
    derived
}

/// Ops that saw the initial value of a slot, when no op writes it: each precedes the first
/// write to that slot of every chain (the later ones follow by process order).
fn init_reads<M: Model>(model: &M, entries: &[Entry<M::Op>], determinate: usize, g: &Graph) -> Vec<Edge> {
    let init = model.init();
    let written: ahash::AHashSet<crate::model::Fact> =
        entries.iter().filter_map(|e| model.leaves(&e.op)).collect();
    let mut out = Vec::new();
    for (r, e) in entries.iter().enumerate().take(determinate) {
        let Some(f) = model.needs(&e.op) else { continue };
        // It can go on the initial state, so (by the contract of `needs`) the initial value is
        // what it needs, and nobody writes that value again.
        if model.step(&init, &e.op).is_none() || written.contains(&f) {
            continue;
        }
        for c in 0..g.chains as u32 {
            if let Some(&(_, w)) = g.writes.get(&(c, f.slot)).and_then(|ws| ws.first()) {
                if w != r as u32 {
                    out.push(Edge { before: r as u32, after: w, kind: EdgeKind::AntiDependency });
                }
            }
        }
    }
    out
}

impl Graph {
    fn new<M: Model>(
        model: &M,
        entries: &[Entry<M::Op>],
        determinate: usize,
        edges: &[Edge],
    ) -> Option<Graph> {
        let n = entries.len();
        let (chain, index, chains) = chains(entries, determinate);
        if n.saturating_mul(chains) > MAX_CLOCK_ENTRIES {
            return None;
        }
        let leaves: Vec<Option<crate::model::Fact>> = entries.iter().map(|e| model.leaves(&e.op)).collect();
        let slot: Vec<u32> = leaves.iter().map(|f| f.map_or(u32::MAX, |f| f.slot)).collect();
        let reads_from: Vec<(u32, u32)> = edges
            .iter()
            .filter(|e| e.kind == EdgeKind::ReadsFrom && (e.after as usize) < determinate)
            .filter(|e| slot[e.before as usize] != u32::MAX)
            .map(|e| (e.before, e.after))
            .collect();
        // Writes that certainly happened: completed, or seen by a completed op.
        let mut included: Vec<bool> = (0..n).map(|i| i < determinate).collect();
        for &(w, _) in &reads_from {
            included[w as usize] = true;
        }
        let mut writes: AHashMap<(u32, u32), Vec<(u32, u32)>> = AHashMap::new();
        for i in 0..n {
            if slot[i] != u32::MAX && included[i] {
                writes.entry((chain[i], slot[i])).or_default().push((index[i], i as u32));
            }
        }
        writes.values_mut().for_each(|ws| ws.sort_unstable());
        let (readers_start, readers) = super::search::predecessor_rows(
            n,
            &reads_from
                .iter()
                .map(|&(w, r)| Edge { before: r, after: w, kind: EdgeKind::ReadsFrom })
                .collect::<Vec<_>>(),
        );
        Some(Graph { chain, index, chains, slot, leaves, writes, reads_from, readers_start, readers })
    }

    /// Per op, per chain, the last position of that chain reaching it (`-1`: none), in
    /// topological order; `None` if the edges have a cycle.
    fn clocks(&self, edges: &[&Edge]) -> Option<Vec<i32>> {
        let n = self.chain.len();
        let c = self.chains;
        let succ_edges: Vec<Edge> = edges.iter().map(|e| **e).collect();
        let (start, preds) = super::search::predecessor_rows(n, &succ_edges);
        let mut indegree = vec![0u32; n];
        for e in edges {
            indegree[e.after as usize] += 1;
        }
        let (succ_start, succ) = super::search::predecessor_rows(
            n,
            &succ_edges
                .iter()
                .map(|e| Edge { before: e.after, after: e.before, kind: e.kind })
                .collect::<Vec<_>>(),
        );
        let mut clock = vec![-1i32; n * c];
        let mut ready: Vec<u32> = (0..n as u32).filter(|&i| indegree[i as usize] == 0).collect();
        let mut done = 0;
        while let Some(x) = ready.pop() {
            done += 1;
            let x = x as usize;
            for &p in &preds[start[x] as usize..start[x + 1] as usize] {
                for k in 0..c {
                    clock[x * c + k] = clock[x * c + k].max(clock[p as usize * c + k]);
                }
            }
            let own = x * c + self.chain[x] as usize;
            clock[own] = clock[own].max(self.index[x] as i32);
            for &s in &succ[succ_start[x] as usize..succ_start[x + 1] as usize] {
                indegree[s as usize] -= 1;
                if indegree[s as usize] == 0 {
                    ready.push(s);
                }
            }
        }
        (done == n).then_some(clock)
    }

    fn reaches(&self, clock: &[i32], a: u32, b: u32) -> bool {
        clock[b as usize * self.chains + self.chain[a as usize] as usize] >= self.index[a as usize] as i32
    }

    /// The last included write to `w`'s slot on chain `c` at or before position `upto`, other
    /// than `x`, that writes another value than `w` (an op that writes the same value again,
    /// a cas from it to itself, hides nothing).
    fn last_write(&self, c: u32, w: u32, upto: i32, x: u32) -> Option<u32> {
        let ws = self.writes.get(&(c, self.slot[w as usize]))?;
        let end = ws.partition_point(|&(i, _)| i as i32 <= upto);
        let other = |v: &u32| *v != x && self.leaves[*v as usize] != self.leaves[w as usize];
        ws[..end].iter().rev().map(|&(_, v)| v).find(other)
    }

    /// One round of the ww and rw rules over the clocks.
    fn round(&self, clock: &[i32]) -> Vec<Edge> {
        let mut out = Vec::new();
        // ww: a write that precedes x, which saw w1, precedes w1.
        for &(w1, x) in &self.reads_from {
            for c in 0..self.chains {
                let upto = clock[x as usize * self.chains + c];
                if let Some(w2) = self.last_write(c as u32, w1, upto, x) {
                    if !self.reaches(clock, w2, w1) {
                        out.push(Edge { before: w2, after: w1, kind: EdgeKind::Version });
                    }
                }
            }
        }
        // rw: whoever saw a write that precedes w2 precedes w2.
        for w2 in 0..self.chain.len() as u32 {
            if self.slot[w2 as usize] == u32::MAX {
                continue;
            }
            for c in 0..self.chains {
                let upto = clock[w2 as usize * self.chains + c];
                let Some(w1) = self.last_write(c as u32, w2, upto, w2) else { continue };
                let rows =
                    self.readers_start[w1 as usize] as usize..self.readers_start[w1 as usize + 1] as usize;
                for &r in &self.readers[rows] {
                    if r != w2 && !self.reaches(clock, r, w2) {
                        out.push(Edge { before: r, after: w2, kind: EdgeKind::AntiDependency });
                    }
                }
            }
        }
        out
    }
}

/// Each process's ops as a chain: its completed ops in invocation order, then its crashed op
/// if it is the process's last; other crashed ops alone. Returns each op's chain and position,
/// and the number of chains.
fn chains<O>(entries: &[Entry<O>], determinate: usize) -> (Vec<u32>, Vec<u32>, usize) {
    let n = entries.len();
    let mut order: Vec<u32> = (0..n as u32).collect();
    order.sort_by_key(|&i| (entries[i as usize].process, entries[i as usize].invoke, i));
    let (mut chain, mut index) = (vec![0u32; n], vec![0u32; n]);
    let mut chains = 0u32;
    let mut w = 0;
    while w < n {
        let p = entries[order[w] as usize].process;
        let end = (w..n).find(|&j| entries[order[j] as usize].process != p).unwrap_or(n);
        let run = &order[w..end];
        let last_completed = run.iter().rposition(|&i| (i as usize) < determinate);
        let mut pos = 0;
        let this = chains;
        chains += 1;
        for (k, &i) in run.iter().enumerate() {
            let crashed = i as usize >= determinate;
            let in_chain = !crashed || (k + 1 == run.len() && last_completed.is_none_or(|l| l < k));
            if in_chain {
                chain[i as usize] = this;
                index[i as usize] = pos;
                pos += 1;
            } else {
                chain[i as usize] = chains;
                chains += 1;
            }
        }
        w = end;
    }
    (chain, index, chains as usize)
}
