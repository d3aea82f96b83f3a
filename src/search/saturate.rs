//! Saturation for sequential consistency: from process order and reads-from, derive the
//! write order and anti-dependencies they force, to a fixed point, before any search (as
//! Elle's iterative version inference and Biswas & Enea's saturation do).
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
//! processes' chains (for each op, the last op of each chain that reaches it), brought up to
//! date each round. Clocks only grow as edges are added, and the rules' conclusions for an
//! (op, chain) entry depend only on that entry, so each round after the first looks only at
//! the entries that grew (semi-naive evaluation). A derived edge never starts at an op that may not have happened: its source either
//! completed or is a crashed write some completed op saw. So every path into a completed op is
//! an order every witness has, a cycle through a completed op is a definite violation, and the
//! edges may prune the search (an op waits for its predecessors).
//!
//! Cost: O(rounds × (n + e) × chains) for the clocks, and for the rules O(log n) per clock entry
//! that grew, times the readers for anti-dependencies; skipped when n × chains is too large to
//! hold, which only means less pruning.

use crate::model::{Edge, EdgeKind, Model};
use crate::split::Entry;
use ahash::AHashMap;

/// The most vector-clock entries (ops × chains) saturation will hold: 256 MiB of clocks. A
/// 100,000-op history whose 500 crashed clients each went on as a new process needs 55M.
const MAX_CLOCK_ENTRIES: usize = 64 << 20;
/// The most rounds; stopping early only means fewer edges.
const MAX_ROUNDS: usize = 64;

/// The ops and their chains, as saturation sees them.
struct Graph {
    /// Per op: its chain and position in it.
    chain: Vec<u32>,
    index: Vec<u32>,
    chains: usize,
    /// Per op: the slot it writes (`u32::MAX`: none), and the fact it leaves there.
    /// Per op: the slot it writes, as a dense id (`u32::MAX`: none), and the fact it leaves.
    slot: Vec<u32>,
    leaves: Vec<Option<crate::model::Fact>>,
    /// Dense slot ids by the slot facts name.
    slot_ids: AHashMap<u32, u32>,
    slots: usize,
    /// Per (chain, slot), row `chain * slots + slot`: the included writes as (position in the
    /// chain, op), by position.
    writes_start: Vec<u32>,
    writes: Vec<(u32, u32)>,
    /// Reads-from pairs (writer, completed reader).
    reads_from: Vec<(u32, u32)>,
    /// Per writer: the last of its completed readers on each chain (compressed rows).
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
    saturate_with(model, entries, determinate, edges, true)
}

/// [`saturate`], semi-naive or (for tests) recomputing every clock and rule each round.
fn saturate_with<M: Model>(
    model: &M,
    entries: &[Entry<M::Op>],
    determinate: usize,
    edges: &[Edge],
    semi_naive: bool,
) -> Vec<Edge> {
    let Some(g) = Graph::new(model, entries, determinate, edges) else { return Vec::new() };
    let mut derived = init_reads(model, entries, determinate, &g);
    let mut known: ahash::AHashSet<(u32, u32)> = edges.iter().map(|e| (e.before, e.after)).collect();
    known.extend(derived.iter().map(|e| (e.before, e.after)));
    let mut clocks = Clocks::new(g.chain.len(), g.chains);
    let mut fresh: Option<usize> = None; // derived edges from here on are new since the last update
    for _ in 0..MAX_ROUNDS {
        let all: Vec<Edge> = edges.iter().chain(&derived).copied().collect();
        if !g.update(&mut clocks, &all, fresh.map(|from| &derived[from..])) {
            break; // a cycle: the caller reports it
        }
        let before = derived.len();
        if semi_naive {
            fresh = Some(before);
        } else {
            clocks.grew.fill(u64::MAX);
        }
        for e in g.round(&clocks) {
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

/// The vector clocks, and which entries grew in the last update.
struct Clocks {
    /// Entry `op * chains + c`: the last position of chain `c` that reaches `op` (`-1`: none).
    clock: Vec<i32>,
    /// One bit per entry: set when the last update raised it.
    grew: Vec<u64>,
    chains: usize,
    /// An op's clock before a merge.
    scratch: Vec<i32>,
}

impl Clocks {
    fn new(ops: usize, chains: usize) -> Clocks {
        Clocks {
            clock: vec![-1; ops * chains],
            grew: vec![0; (ops * chains).div_ceil(64)],
            chains,
            scratch: Vec::new(),
        }
    }

    /// Raises `op`'s clock to cover its predecessors' and its own position `index` on chain
    /// `own`, noting which entries grew; whether any did.
    fn merge(&mut self, op: usize, preds: &[u32], own: usize, index: i32) -> bool {
        let c = self.chains;
        let mut old = std::mem::take(&mut self.scratch);
        old.clear();
        old.extend_from_slice(&self.clock[op * c..(op + 1) * c]);
        for &p in preds {
            let (row, pred) = if (p as usize) < op {
                let (lo, hi) = self.clock.split_at_mut(op * c);
                (&mut hi[..c], &lo[p as usize * c..(p as usize + 1) * c])
            } else {
                let (lo, hi) = self.clock.split_at_mut(p as usize * c);
                (&mut lo[op * c..(op + 1) * c], &hi[..c])
            };
            // Branch-free, so it vectorizes: this loop is most of saturation's time.
            for (a, b) in row.iter_mut().zip(pred) {
                *a = (*a).max(*b);
            }
        }
        let at = op * c + own;
        self.clock[at] = self.clock[at].max(index);
        let mut any = false;
        for (k, &was) in old.iter().enumerate() {
            if self.clock[op * c + k] > was {
                let i = op * c + k;
                self.grew[i / 64] |= 1 << (i % 64);
                any = true;
            }
        }
        self.scratch = old;
        any
    }

    /// Calls `f` with each chain whose entry for `op` grew in the last update.
    fn for_grown(&self, op: u32, mut f: impl FnMut(usize, i32)) {
        let (from, to) = (op as usize * self.chains, (op as usize + 1) * self.chains);
        let mut i = from;
        while i < to {
            let word = self.grew[i / 64] >> (i % 64);
            if word == 0 {
                i = (i / 64 + 1) * 64;
                continue;
            }
            i += word.trailing_zeros() as usize;
            if i < to {
                f(i - from, self.clock[i]);
            }
            i += 1;
        }
    }
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
        let Some(&slot) = g.slot_ids.get(&f.slot) else { continue };
        for c in 0..g.chains as u32 {
            if let Some(&(_, w)) = g.writes_of(c, slot).first() {
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
        let mut slot_ids: AHashMap<u32, u32> = AHashMap::new();
        let slot: Vec<u32> = leaves
            .iter()
            .map(|f| {
                f.map_or(u32::MAX, |f| {
                    let next = slot_ids.len() as u32;
                    *slot_ids.entry(f.slot).or_insert(next)
                })
            })
            .collect();
        let slots = slot_ids.len();
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
        let row = |i: usize| chain[i] as usize * slots + slot[i] as usize;
        let written: Vec<usize> = (0..n).filter(|&i| slot[i] != u32::MAX && included[i]).collect();
        let mut writes_start = vec![0u32; chains * slots + 1];
        for &i in &written {
            writes_start[row(i) + 1] += 1;
        }
        for r in 0..chains * slots {
            writes_start[r + 1] += writes_start[r];
        }
        let mut fill = writes_start.clone();
        let mut writes = vec![(0u32, 0u32); written.len()];
        for &i in &written {
            writes[fill[row(i)] as usize] = (index[i], i as u32);
            fill[row(i)] += 1;
        }
        for r in 0..chains * slots {
            writes[writes_start[r] as usize..writes_start[r + 1] as usize].sort_unstable();
        }
        // A reader that must precede a write brings its chain's earlier readers along (process
        // order), so the rw rule needs only each chain's last reader of a write.
        let mut last_readers = reads_from.clone();
        last_readers
            .sort_unstable_by_key(|&(w, r)| (w, chain[r as usize], std::cmp::Reverse(index[r as usize])));
        last_readers.dedup_by_key(|&mut (w, r)| (w, chain[r as usize]));
        let (readers_start, readers) = super::wgl::predecessor_rows(
            n,
            &last_readers
                .iter()
                .map(|&(w, r)| Edge { before: r, after: w, kind: EdgeKind::ReadsFrom })
                .collect::<Vec<_>>(),
        );
        Some(Graph {
            chain,
            index,
            chains,
            slot,
            slot_ids,
            leaves,
            slots,
            writes_start,
            writes,
            reads_from,
            readers_start,
            readers,
        })
    }

    /// The included writes to (dense) `slot` on chain `c`, by position.
    fn writes_of(&self, c: u32, slot: u32) -> &[(u32, u32)] {
        let r = c as usize * self.slots + slot as usize;
        &self.writes[self.writes_start[r] as usize..self.writes_start[r + 1] as usize]
    }

    /// Brings `clocks` up to date with `edges` (a superset of the edges they were last updated
    /// with), in topological order, noting which entries grew; false if the edges have a cycle.
    /// Starting from the old clocks gives the same result as starting afresh: with more edges,
    /// every entry can only grow.
    fn update(&self, clocks: &mut Clocks, edges: &[Edge], fresh: Option<&[Edge]>) -> bool {
        let n = self.chain.len();
        clocks.grew.fill(0);
        // Ops whose clock may grow: those with new edges in (all, the first time), and then
        // those with a predecessor whose clock grew.
        let mut dirty = vec![fresh.is_none(); n];
        for e in fresh.unwrap_or_default() {
            dirty[e.after as usize] = true;
        }
        let (start, preds) = super::wgl::predecessor_rows(n, edges);
        let mut indegree: Vec<u32> = start.windows(2).map(|w| w[1] - w[0]).collect();
        let (succ_start, succ) = super::wgl::successor_rows(n, edges);
        let mut ready: Vec<u32> = (0..n as u32).filter(|&i| indegree[i as usize] == 0).collect();
        let mut done = 0;
        while let Some(x) = ready.pop() {
            done += 1;
            let x = x as usize;
            let ps = &preds[start[x] as usize..start[x + 1] as usize];
            let grew = dirty[x] && clocks.merge(x, ps, self.chain[x] as usize, self.index[x] as i32);
            for &s in &succ[succ_start[x] as usize..succ_start[x + 1] as usize] {
                dirty[s as usize] |= grew;
                indegree[s as usize] -= 1;
                if indegree[s as usize] == 0 {
                    ready.push(s);
                }
            }
        }
        done == n
    }

    fn reaches(&self, clocks: &Clocks, a: u32, b: u32) -> bool {
        clocks.clock[b as usize * self.chains + self.chain[a as usize] as usize]
            >= self.index[a as usize] as i32
    }

    /// The last included write to `w`'s slot on chain `c` at or before position `upto`, other
    /// than `x`, that writes another value than `w` (an op that writes the same value again,
    /// a cas from it to itself, hides nothing).
    fn last_write(&self, c: u32, w: u32, upto: i32, x: u32) -> Option<u32> {
        let ws = self.writes_of(c, self.slot[w as usize]);
        let end = ws.partition_point(|&(i, _)| i as i32 <= upto);
        let other = |v: &u32| *v != x && self.leaves[*v as usize] != self.leaves[w as usize];
        ws[..end].iter().rev().map(|&(_, v)| v).find(other)
    }

    /// One round of the ww and rw rules over the clock entries that grew in the last update
    /// (the others would give only edges already derived, or implied by the clocks).
    fn round(&self, clocks: &Clocks) -> Vec<Edge> {
        let mut out = Vec::new();
        // ww: a write that precedes x, which saw w1, precedes w1.
        for &(w1, x) in &self.reads_from {
            clocks.for_grown(x, |c, upto| {
                // Every write of chain c up to `upto` already reaches w1: nothing to derive.
                if clocks.clock[w1 as usize * self.chains + c] >= upto {
                    return;
                }
                if let Some(w2) = self.last_write(c as u32, w1, upto, x) {
                    if !self.reaches(clocks, w2, w1) {
                        out.push(Edge { before: w2, after: w1, kind: EdgeKind::Version });
                    }
                }
            });
        }
        // rw: whoever saw a write that precedes w2 precedes w2.
        for w2 in 0..self.chain.len() as u32 {
            if self.slot[w2 as usize] == u32::MAX {
                continue;
            }
            clocks.for_grown(w2, |c, upto| {
                let Some(w1) = self.last_write(c as u32, w2, upto, w2) else { return };
                let rows =
                    self.readers_start[w1 as usize] as usize..self.readers_start[w1 as usize + 1] as usize;
                for &r in &self.readers[rows] {
                    if r != w2 && !self.reaches(clocks, r, w2) {
                        out.push(Edge { before: r, after: w2, kind: EdgeKind::AntiDependency });
                    }
                }
            });
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{Format, ReadOptions, read_bytes};
    use crate::model::Register;
    use crate::sim::lagging::{LaggingConfig, write_edn};
    use crate::split::{Keying, prepare, process_order};

    /// Semi-naive rounds derive exactly the edges that recomputing everything each round does.
    #[test]
    fn semi_naive_rounds_derive_what_full_rounds_do() {
        let mut derived_any = 0;
        for seed in 0..12 {
            let c =
                LaggingConfig { ops: 600, keys: 2, threads: 6, seed, crash_rate: 0.1, ..Default::default() };
            let mut buf = Vec::new();
            write_edn(&c, &mut buf).unwrap();
            let h = read_bytes("lagging.edn", &buf, Format::Edn, &ReadOptions::default()).unwrap();
            let model = Register::default();
            for part in prepare(&model, &h, Keying::Tuple).unwrap() {
                let ops: Vec<_> = part.entries.iter().map(|e| e.op.clone()).collect();
                let mut edges = process_order(&part.entries, part.determinate);
                edges.extend(model.implied_order(&ops, part.determinate).edges);
                let pairs = |semi_naive| {
                    let mut d: Vec<(u32, u32)> =
                        saturate_with(&model, &part.entries, part.determinate, &edges, semi_naive)
                            .iter()
                            .map(|e| (e.before, e.after))
                            .collect();
                    d.sort_unstable();
                    d
                };
                let fast = pairs(true);
                assert_eq!(fast, pairs(false), "seed {seed}");
                derived_any += fast.len();
            }
        }
        assert!(derived_any > 0, "the histories force some write orders");
    }
}
