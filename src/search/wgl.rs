//! The Wing–Gong linearizability search with Lowe's memoization (WGL), over one part of a
//! history.
//!
//! Calls and returns form a doubly linked list in time order. The search walks it: at a call it
//! tries to linearize that op next (apply it to the model, remove its call and return from the
//! list — "lifting"); at a return it must backtrack, since that op should already have been
//! linearized. A configuration (set of linearized ops, model state) seen before is skipped: that
//! memo turns the tree search into a graph search.
//!
//! Crashed ops have a call and no return: nothing ever forces them, so they are linearized only
//! where the search finds them useful, and the search succeeds once every op that completed is
//! linearized. They take the highest ids so that "every op below k is linearized" stays a
//! single number, keeping memo keys short.
//!
//! Memo keys: the linearized set is kept as a bitset (bitvec) and hashed incrementally by
//! XOR of per-op random words (Zobrist), so the hash costs O(1) per step. To compare keys
//! exactly (a verdict never rests on a hash alone), the set is stored compactly as k, the first
//! op that is not linearized, the linearized completed ops above k (at most the ops concurrent
//! with k), and one number naming the linearized crashed ops, interned (`IdSets`).
//!
//! Cost: exponential in the worst case (the problem is NP-complete), in practice bounded by the
//! number of distinct configurations, which grows with concurrency, not history length.

use super::budget::{CHECK_EVERY, Exhausted, Limits, kept_bytes};
use super::id_sets::{self, IdSets};
use super::memo::ExactMemo;
use super::result::{SearchResult, SearchStats, Stuck};
use crate::model::{Edge, Model};
use crate::split::Entry;
use bitvec::vec::BitVec;
use std::sync::atomic::Ordering;

const NIL: u32 = u32::MAX;

struct Frame<S> {
    entry: u32,
    prev_state: S,
    /// Other states the op could have led to (nondeterministic models), not yet tried.
    alternatives: Vec<S>,
    /// Heap bytes of `prev_state` and `alternatives`, as charged ([`kept_bytes`]).
    bytes: usize,
}

/// What prunes the search.
#[derive(Clone, Copy, Debug)]
pub struct Pruning<'a> {
    /// Orders every linearization must respect (from [`Model::implied_order`]): an op is only
    /// tried once every op that must precede it is linearized.
    pub edges: &'a [Edge],
    /// Identical crashed ops, each after the one invoked before it: an op of such a chain joins
    /// the event list only once the one before it is linearized, so the linearized ones are
    /// always the first few, and a memo key names only the last of them.
    pub twins: &'a [Edge],
    /// Each entry's ceiling ([`Model::ceilings`]), if the model gave them: a state whose
    /// measure passed the ceiling of a completed op not yet linearized is dropped at once.
    pub ceilings: Option<&'a [i64]>,
}

/// Runs the search over `entries` (as [`crate::split::Part`] orders them: `determinate`
/// completed ops first, then crashed ones). `skew` widens real-time order: A precedes B only if
/// A completed more than `skew` before B was invoked.
pub fn search<M: Model>(
    model: &M,
    entries: &[Entry<M::Op>],
    determinate: usize,
    skew: i64,
    pruning: Pruning<'_>,
    limits: &Limits<'_>,
) -> (SearchResult<M::State>, SearchStats) {
    let mut s = Search::new(model, entries, determinate, skew, pruning);
    let result = match s.run(limits, None) {
        Run::Done(r) => r,
        Run::Captured(_) => unreachable!("no capture was asked for"),
        Run::Failed { best_step } => {
            // Replay the (deterministic) search to the step where it got furthest and
            // capture the stack there: cheaper than copying the stack every time it grows.
            let mut replay = Search::new(model, entries, determinate, skew, pruning);
            let unlimited =
                Limits { max_steps: u64::MAX, deadline: None, memory: None, cancel: None, fast_paths: false };
            match replay.run(&unlimited, Some(best_step)) {
                Run::Captured(stuck) => SearchResult::NotLinearizable(stuck),
                _ => unreachable!("the replay follows the same path"),
            }
        }
    };
    let stats = SearchStats {
        steps: s.steps,
        memo_entries: s.memo.len(),
        memo_bytes: s.reported_bytes,
        max_depth: s.best_depth,
    };
    if let Some((used, _)) = limits.memory {
        used.fetch_sub(s.reported_bytes, Ordering::Relaxed);
    }
    (result, stats)
}

/// The search's doubly linked list of calls and returns in time order, as (next, prev): node
/// 2i is entry i's call, 2i+1 its return (crashed entries have none), node 2n the head. A
/// crashed op waiting for its twin is left out: it joins once the twin is linearized
/// (`Search::link_next_twin`), since left in, every walk from the head would pass it in vain.
/// O(n log n).
fn event_list<O>(
    entries: &[Entry<O>],
    determinate: usize,
    skew: i64,
    twin_before: &[u32],
) -> (Vec<u32>, Vec<u32>) {
    let n = entries.len();
    let mut events: Vec<(i64, u8, u32)> = Vec::with_capacity(2 * n);
    for (i, e) in entries.iter().enumerate() {
        if twin_before[i] == NIL {
            events.push((e.invoke, 0, 2 * i as u32));
        }
        if i < determinate {
            events.push((e.complete.saturating_add(skew), 1, 2 * i as u32 + 1));
        }
    }
    // At equal times calls come first: ops that touch at an instant are concurrent.
    events.sort_unstable();
    let mut next = vec![NIL; 2 * n + 1];
    let mut prev = vec![NIL; 2 * n + 1];
    let mut last = 2 * n as u32;
    for &(_, _, node) in &events {
        next[last as usize] = node;
        prev[node as usize] = last;
        last = node;
    }
    (next, prev)
}

/// For each completed entry i, the last completed entry invoked before i's return (widened by
/// `skew`). O(n).
fn window_ends<O>(entries: &[Entry<O>], determinate: usize, skew: i64) -> Vec<u32> {
    let mut window_end = Vec::with_capacity(determinate);
    let mut j = 0usize;
    for e in &entries[..determinate] {
        let bound = e.complete.saturating_add(skew);
        while j + 1 < determinate && entries[j + 1].invoke <= bound {
            j += 1;
        }
        window_end.push(j as u32);
    }
    // Window ends must not decrease for the two-pointer walk above to be right; they do
    // not, because completions can be out of order: take the running maximum of bounds.
    let mut running = 0u32;
    for (i, w) in window_end.iter_mut().enumerate() {
        running = running.max(*w).max(i as u32);
        *w = running;
    }
    window_end
}

/// One random word per op, the same every run (splitmix64), for Zobrist hashing of sets.
fn zobrist_words(n: usize) -> Vec<u64> {
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    (0..n)
        .map(|_| {
            seed = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = seed;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        })
        .collect()
}

/// The ops each op must follow, as compressed rows: op i's are
/// `preds[starts[i]..starts[i + 1]]`. O(n + e).
pub(crate) fn predecessor_rows(n: usize, edges: &[Edge]) -> (Vec<u32>, Vec<u32>) {
    edge_rows(n, edges, |e| (e.after, e.before))
}

/// The ops that must follow each op, as compressed rows, like [`predecessor_rows`]. O(n + e).
pub(crate) fn successor_rows(n: usize, edges: &[Edge]) -> (Vec<u32>, Vec<u32>) {
    edge_rows(n, edges, |e| (e.before, e.after))
}

/// Each edge's `(row, entry)`, grouped by row as compressed rows.
fn edge_rows(n: usize, edges: &[Edge], split: impl Fn(&Edge) -> (u32, u32)) -> (Vec<u32>, Vec<u32>) {
    let mut starts = vec![0u32; n + 1];
    for e in edges {
        starts[split(e).0 as usize + 1] += 1;
    }
    for i in 0..n {
        starts[i + 1] += starts[i];
    }
    let mut fill = starts.clone();
    let mut rows = vec![0u32; edges.len()];
    for e in edges {
        let (row, entry) = split(e);
        rows[fill[row as usize] as usize] = entry;
        fill[row as usize] += 1;
    }
    (starts, rows)
}

/// Whether bit `i` of `words` is set (bitvec's own lookup is slower on the search's hot path).
fn bit(words: &[u64], i: u32) -> bool {
    words[i as usize / 64] >> (i % 64) & 1 == 1
}

/// Appends the positions of the set bits in `from..to` of `words` to `out`, a word at a time
/// (bitvec's bit iterator costs several times more on this hot path).
fn push_ones(words: &[u64], from: usize, to: usize, out: &mut Vec<u32>) {
    let mut pos = from;
    while pos < to {
        let w = pos / 64;
        let mut bits = words[w] >> (pos % 64);
        let word_end = ((w + 1) * 64).min(to);
        // Keep only bits below `to`.
        let span = word_end - pos;
        if span < 64 {
            bits &= (1u64 << span) - 1;
        }
        while bits != 0 {
            out.push((pos + bits.trailing_zeros() as usize) as u32);
            bits &= bits - 1;
        }
        pos = word_end;
    }
}

enum Run<S> {
    Done(SearchResult<S>),
    Failed { best_step: u64 },
    Captured(Stuck<S>),
}

/// The completed entries that have a ceiling ([`Model::ceilings`]), lowest ceiling first, and
/// the first of them not linearized: no state may pass its ceiling, since the measure never
/// comes back down and that op must still succeed.
struct Ceilings {
    /// (ceiling, entry), sorted.
    order: Vec<(i64, u32)>,
    /// Each entry's position in `order` (`u32::MAX`: none).
    rank: Vec<u32>,
    /// The position in `order` of the first entry not linearized.
    lowest: u32,
}

impl Ceilings {
    fn new(ceilings: Option<&[i64]>, entries: usize, determinate: usize) -> Ceilings {
        let ceilings = ceilings.unwrap_or_default();
        let mut order: Vec<(i64, u32)> = (ceilings.iter().take(determinate).enumerate())
            .filter(|&(_, &c)| c != i64::MAX)
            .map(|(i, &c)| (c, i as u32))
            .collect();
        order.sort_unstable();
        let mut rank = vec![u32::MAX; entries];
        for (r, &(_, e)) in order.iter().enumerate() {
            rank[e as usize] = r as u32;
        }
        Ceilings { order, rank, lowest: 0 }
    }

    /// The lowest ceiling of a completed entry not yet linearized.
    fn current(&self) -> Option<i64> {
        self.order.get(self.lowest as usize).map(|&(c, _)| c)
    }
}

struct Search<'a, M: Model> {
    model: &'a M,
    entries: &'a [Entry<M::Op>],
    /// Ops that must be linearized before each op, in compressed rows.
    pred_start: Vec<u32>,
    preds: Vec<u32>,
    determinate: u32,
    /// Linked list of events: node 2i is entry i's call, 2i+1 its return; `head` the sentinel.
    next: Vec<u32>,
    prev: Vec<u32>,
    head: u32,
    linearized: BitVec<u64>,
    zobrist: Vec<u64>,
    set_hash: u64,
    /// The first completed entry not linearized (`determinate` when all are).
    k: u32,
    /// For each completed entry i, the last completed entry invoked before i's return: only
    /// entries up to it can be linearized while i is not.
    window_end: Vec<u32>,
    ceilings: Ceilings,
    /// Each crashed entry's twin invoked after it, or `NIL`.
    twin_after: Vec<u32>,
    skew: i64,
    /// Sets of linearized crashed entries, interned; `crashed` names the current one (the memo
    /// key's crashed part), and `crashed_before` the ones before each crashed mark not undone.
    crashed_sets: IdSets,
    crashed: u32,
    crashed_before: Vec<u32>,
    state: M::State,
    stack: Vec<Frame<M::State>>,
    memo: ExactMemo<M::State>,
    /// Heap bytes owned by the states the memo and the stack keep ([`Model::state_heap_bytes`]),
    /// charged against the memory budget beside the tables.
    state_bytes: usize,
    reported_bytes: usize,
    hasher: ahash::RandomState,
    scratch_ids: Vec<u32>,
    scratch_states: Vec<M::State>,
    /// Completed entries not yet linearized.
    remaining: usize,
    /// Model steps taken.
    steps: u64,
    /// Moves through the event list (steps, skips and backtracks): identifies a point of the
    /// search exactly, for the replay that captures a counterexample.
    moves: u64,
    best_depth: usize,
    best_move: Option<u64>,
}

impl<'a, M: Model> Search<'a, M> {
    fn new(
        model: &'a M,
        entries: &'a [Entry<M::Op>],
        determinate: usize,
        skew: i64,
        pruning: Pruning<'_>,
    ) -> Self {
        let n = entries.len();
        let edges = pruning.edges;
        let (mut twin_before, mut twin_after) = (vec![NIL; n], vec![NIL; n]);
        for t in pruning.twins {
            twin_before[t.after as usize] = t.before;
            twin_after[t.before as usize] = t.after;
        }
        let (pred_start, preds) = predecessor_rows(n, edges);
        let (next, prev) = event_list(entries, determinate, skew, &twin_before);
        Search {
            model,
            entries,
            pred_start,
            preds,
            determinate: determinate as u32,
            next,
            prev,
            head: 2 * n as u32,
            linearized: BitVec::repeat(false, n),
            zobrist: zobrist_words(n),
            set_hash: 0,
            k: 0,
            window_end: window_ends(entries, determinate, skew),
            ceilings: Ceilings::new(pruning.ceilings, n, determinate),
            twin_after,
            skew,
            crashed_sets: IdSets::new(),
            crashed: id_sets::EMPTY,
            crashed_before: Vec::new(),
            state: model.init(),
            stack: Vec::new(),
            memo: ExactMemo::new(),
            state_bytes: 0,
            reported_bytes: 0,
            hasher: ahash::RandomState::with_seeds(1, 2, 3, 4),
            scratch_ids: Vec::new(),
            scratch_states: Vec::new(),
            remaining: determinate,
            steps: 0,
            moves: 0,
            best_depth: 0,
            best_move: None,
        }
    }

    fn lift(&mut self, entry: u32) {
        for node in [2 * entry, 2 * entry + 1] {
            if entry >= self.determinate && node % 2 == 1 {
                break; // crashed ops have no return node
            }
            let (p, n) = (self.prev[node as usize], self.next[node as usize]);
            self.next[p as usize] = n;
            if n != NIL {
                self.prev[n as usize] = p;
            }
        }
    }

    fn unlift(&mut self, entry: u32) {
        // Reinsert in the reverse order of removal (dancing links).
        for node in [2 * entry + 1, 2 * entry] {
            if entry >= self.determinate && node % 2 == 1 {
                continue;
            }
            let (p, n) = (self.prev[node as usize], self.next[node as usize]);
            self.next[p as usize] = node;
            if n != NIL {
                self.prev[n as usize] = node;
            }
        }
    }

    /// Where a node sorts in the list: by time, calls before returns at the same instant.
    fn node_key(&self, node: u32) -> (i64, u32, u32) {
        let e = &self.entries[node as usize / 2];
        let time = if node % 2 == 0 { e.invoke } else { e.complete.saturating_add(self.skew) };
        (time, node % 2, node)
    }

    /// Once `entry` is linearized (and lifted), its next twin may be tried: puts its call in the
    /// list, in time order, searching forward from where `entry`'s call was (the twin was
    /// invoked no earlier). O(ops in the list between the two calls).
    fn link_next_twin(&mut self, entry: u32) {
        let twin = self.twin_after[entry as usize];
        if twin == NIL {
            return;
        }
        let (node, key) = (2 * twin, self.node_key(2 * twin));
        let mut at = self.prev[2 * entry as usize];
        while self.next[at as usize] != NIL && self.node_key(self.next[at as usize]) < key {
            at = self.next[at as usize];
        }
        let after = self.next[at as usize];
        (self.prev[node as usize], self.next[node as usize]) = (at, after);
        self.next[at as usize] = node;
        if after != NIL {
            self.prev[after as usize] = node;
        }
    }

    /// Undoes [`Search::link_next_twin`]: the list changes after it were undone first.
    fn unlink_next_twin(&mut self, entry: u32) {
        let twin = self.twin_after[entry as usize];
        if twin == NIL {
            return;
        }
        let node = 2 * twin as usize;
        let (p, n) = (self.prev[node], self.next[node]);
        self.next[p as usize] = n;
        if n != NIL {
            self.prev[n as usize] = p;
        }
    }

    fn is_linearized(&self, entry: u32) -> bool {
        bit(self.linearized.as_raw_slice(), entry)
    }

    fn mark(&mut self, entry: u32) {
        self.linearized.set(entry as usize, true);
        self.set_hash ^= self.zobrist[entry as usize];
        if entry < self.determinate {
            self.remaining -= 1;
        } else {
            self.crashed_before.push(self.crashed);
            self.crashed = self.crashed_sets.with(self.crashed, entry);
        }
        if entry == self.k {
            while self.k < self.determinate && self.is_linearized(self.k) {
                self.k += 1;
            }
        }
        if self.ceilings.rank[entry as usize] == self.ceilings.lowest {
            let c = &mut self.ceilings;
            let words = self.linearized.as_raw_slice();
            while c.order.get(c.lowest as usize).is_some_and(|&(_, e)| bit(words, e)) {
                c.lowest += 1;
            }
        }
    }

    fn unmark(&mut self, entry: u32) {
        self.linearized.set(entry as usize, false);
        self.set_hash ^= self.zobrist[entry as usize];
        if entry < self.determinate {
            self.remaining += 1;
        } else {
            // Marks are undone last first.
            self.crashed = self.crashed_before.pop().expect("a crashed mark to undo");
        }
        if entry < self.k {
            self.k = entry;
        }
        self.ceilings.lowest = self.ceilings.lowest.min(self.ceilings.rank[entry as usize]);
    }

    /// The exact memo key of the current linearized set, into `scratch_ids`.
    fn set_key(&mut self) {
        let ids = &mut self.scratch_ids;
        ids.clear();
        ids.push(self.k);
        ids.push(self.crashed);
        if self.k < self.determinate {
            let end = self.window_end[self.k as usize] as usize + 1;
            push_ones(self.linearized.as_raw_slice(), self.k as usize + 1, end, ids);
        }
    }

    /// Records the configuration (current set, `state`) in the memo; false if it was there.
    fn remember(&mut self, state: &M::State) -> bool {
        self.set_key();
        let hash = self.set_hash ^ self.hasher.hash_one(state);
        if !self.memo.insert(hash, &self.scratch_ids, state) {
            return false;
        }
        self.state_bytes += self.model.state_heap_bytes(state);
        true
    }

    /// Tries to linearize `entry` next: applies it (mark) and keeps it if some resulting
    /// state makes a configuration not seen before.
    fn try_linearize(&mut self, entry: u32) -> bool {
        let (from, to) = (self.pred_start[entry as usize], self.pred_start[entry as usize + 1]);
        if self.preds[from as usize..to as usize].iter().any(|&p| !self.is_linearized(p)) {
            return false;
        }
        // Counted here, not per call passed: an op waiting for one it must follow costs no model
        // step.
        self.steps += 1;
        let mut succ = std::mem::take(&mut self.scratch_states);
        succ.clear();
        self.model.step_all(&self.state, &self.entries[entry as usize].op, &mut succ);
        if succ.is_empty() {
            self.scratch_states = succ;
            return false;
        }
        self.mark(entry);
        if let Some(ceiling) = self.ceilings.current() {
            succ.retain(|s| self.model.measure(s) <= ceiling);
        }
        while let Some(next_state) = succ.pop() {
            if self.remember(&next_state) {
                let prev_state = std::mem::replace(&mut self.state, next_state);
                // Only nondeterministic models leave alternatives; moving an empty Vec would
                // throw away the scratch buffer's allocation on every step.
                let alternatives = if succ.is_empty() { Vec::new() } else { std::mem::take(&mut succ) };
                let bytes = kept_bytes(self.model, &prev_state, &alternatives);
                self.state_bytes += bytes;
                self.stack.push(Frame { entry, prev_state, alternatives, bytes });
                self.lift(entry);
                self.link_next_twin(entry);
                self.scratch_states = succ;
                return true;
            }
        }
        self.unmark(entry);
        self.scratch_states = succ;
        false
    }

    /// Undoes the top frame, or moves it to its next unseen alternative state. Returns the
    /// node to continue from (the one after the undone op's call), or `None` when the stack is
    /// empty: nothing is left to try.
    fn backtrack(&mut self) -> Option<u32> {
        let mut frame = self.stack.pop()?;
        self.state_bytes -= frame.bytes;
        while let Some(alt) = frame.alternatives.pop() {
            frame.bytes -= self.model.state_heap_bytes(&alt);
            if self.remember(&alt) {
                self.state_bytes += frame.bytes;
                self.state = alt;
                self.stack.push(frame);
                return Some(self.next[self.head as usize]);
            }
        }
        self.unmark(frame.entry);
        self.unlink_next_twin(frame.entry);
        self.unlift(frame.entry);
        self.state = frame.prev_state;
        Some(self.next[2 * frame.entry as usize])
    }

    fn check_limits(&mut self, limits: &Limits<'_>) -> Option<Exhausted> {
        // Measured only when the limits look (every `CHECK_EVERY` moves), not at every step.
        let charge = || self.memo.charge() + self.crashed_sets.charge() + self.state_bytes;
        if self.moves % CHECK_EVERY == 0 {
            let deepest = self.best_depth.max(self.stack.len());
            crate::progress::search(self.steps, limits.max_steps, deepest, self.entries.len());
        }
        limits.check(self.steps, self.moves, &mut self.reported_bytes, charge).err()
    }

    fn run(&mut self, limits: &Limits<'_>, capture_at: Option<u64>) -> Run<M::State> {
        let mut node = self.next[self.head as usize];
        loop {
            if self.remaining == 0 {
                return Run::Done(SearchResult::Linearizable(self.stack.iter().map(|f| f.entry).collect()));
            }
            if let Some(cause) = self.check_limits(limits) {
                return Run::Done(SearchResult::Unknown(cause));
            }
            self.moves += 1;
            if node != NIL && node % 2 == 0 {
                let entry = node / 2;
                node = if self.try_linearize(entry) {
                    self.next[self.head as usize]
                } else {
                    self.next[node as usize]
                };
                continue;
            }
            // A return: that op should already be linearized. (The end of the list cannot be
            // reached while completed ops remain, since their returns follow their calls.)
            if node != NIL {
                if capture_at == Some(self.moves) {
                    return Run::Captured(self.capture(node / 2, node));
                }
                if self.best_move.is_none() || self.stack.len() > self.best_depth {
                    self.best_depth = self.stack.len();
                    self.best_move = Some(self.moves);
                }
            }
            match self.backtrack() {
                None => return Run::Failed { best_step: self.best_move.unwrap_or(0) },
                Some(n) => node = n,
            }
        }
    }

    fn capture(&self, blocked: u32, return_node: u32) -> Stuck<M::State> {
        let mut prefix = Vec::with_capacity(self.stack.len());
        for (i, f) in self.stack.iter().enumerate() {
            let after = self.stack.get(i + 1).map_or(&self.state, |next| &next.prev_state);
            prefix.push((f.entry, after.clone()));
        }
        let mut candidates = Vec::new();
        let mut n = self.next[self.head as usize];
        while n != return_node && n != NIL {
            if n % 2 == 0 && n / 2 != blocked {
                candidates.push(n / 2);
            }
            n = self.next[n as usize];
        }
        Stuck { prefix, state: self.state.clone(), blocked, candidates }
    }
}

#[cfg(test)]
mod tests {
    use super::{NIL, Pruning, Search, push_ones};
    use crate::model::{Counter, CounterOp, Edge, EdgeKind};
    use crate::split::Entry;

    /// The linearized set a memo key names: every completed entry below k, the crashed set
    /// named, and the completed ids listed.
    fn named_by_key<M: crate::model::Model>(s: &Search<'_, M>, key: &[u32]) -> Vec<bool> {
        let mut set = vec![false; s.entries.len()];
        set[..key[0] as usize].fill(true);
        for id in s.crashed_sets.elements(key[1]).into_iter().chain(key[2..].iter().copied()) {
            set[id as usize] = true;
        }
        set
    }

    /// Memo keys name exactly the linearized set while ops are marked and unmarked as the
    /// search does (last first, a twin only after the one before it): two sets never share a
    /// key, or the memo would skip a configuration it never saw.
    #[test]
    fn memo_keys_name_the_linearized_set() {
        let entry = |op, invoke, complete| Entry { op, invoke, complete, op_index: 0, process: 0 };
        let mut entries = vec![entry(CounterOp::Add(1), 0, 10), entry(CounterOp::Read(None), 1, 12)];
        for i in 0..6 {
            entries.push(entry(CounterOp::Add(1 + i % 2), 2 + i, i64::MAX));
        }
        // Two chains of twins: the adds of 1 (entries 2, 4, 6) and of 2 (3, 5, 7).
        let twins: Vec<Edge> =
            (4..8).map(|after| Edge { before: after - 2, after, kind: EdgeKind::Version }).collect();
        let model = Counter::default();
        let pruning = Pruning { edges: &[], twins: &twins, ceilings: None };
        let mut s = Search::new(&model, &entries, 2, 0, pruning);
        let mut marked: Vec<u32> = Vec::new();
        let mut seed = 7u64;
        for _ in 0..2_000 {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let pick = (seed >> 33) as u32 % 9;
            let can_mark = pick < 8 && !s.is_linearized(pick) && (pick < 4 || s.is_linearized(pick - 2));
            if can_mark {
                s.mark(pick);
                marked.push(pick);
            } else if let Some(e) = marked.pop() {
                s.unmark(e);
            }
            s.set_key();
            let linearized: Vec<bool> = (0..8).map(|e| s.is_linearized(e)).collect();
            assert_eq!(named_by_key(&s, &s.scratch_ids), linearized, "marked {marked:?}");
        }
    }

    /// The calls in the search's event list, in order.
    fn listed_calls<M: crate::model::Model>(s: &Search<'_, M>) -> Vec<u32> {
        let mut calls = Vec::new();
        let mut node = s.next[s.head as usize];
        while node != NIL {
            if node % 2 == 0 {
                calls.push(node / 2);
            }
            node = s.next[node as usize];
        }
        calls
    }

    /// A crashed op is in the event list only while its twin before it is linearized: what
    /// keeps a chain's linearized ops its first few, which the memo keys rely on.
    #[test]
    fn a_twin_is_listed_only_after_the_one_before_it() {
        let entry = |op, invoke, complete| Entry { op, invoke, complete, op_index: 0, process: 0 };
        let mut entries = vec![entry(CounterOp::Read(None), 0, 100)];
        entries.extend((1..4).map(|i| entry(CounterOp::Add(1), i, i64::MAX)));
        let twins: Vec<Edge> =
            (2..4).map(|after| Edge { before: after - 1, after, kind: EdgeKind::Version }).collect();
        let model = Counter::default();
        let mut s =
            Search::new(&model, &entries, 1, 0, Pruning { edges: &[], twins: &twins, ceilings: None });
        assert_eq!(listed_calls(&s), [0, 1]);
        assert!(s.try_linearize(1));
        assert_eq!(listed_calls(&s), [0, 2]);
        assert!(s.try_linearize(2));
        assert_eq!(listed_calls(&s), [0, 3]);
        s.backtrack();
        assert_eq!(listed_calls(&s), [0, 2]);
        s.backtrack();
        assert_eq!(listed_calls(&s), [0, 1]);
    }

    #[test]
    fn push_ones_matches_a_plain_scan() {
        let words = [0b1011u64 | 1 << 63, u64::MAX, 0, 1 << 5];
        for from in [0, 1, 3, 63, 64, 100, 130, 197] {
            for to in [from, from + 1, 64, 128, 200, 256] {
                if to < from {
                    continue;
                }
                let mut got = Vec::new();
                push_ones(&words, from, to, &mut got);
                let want: Vec<u32> =
                    (from..to).filter(|&i| words[i / 64] >> (i % 64) & 1 == 1).map(|i| i as u32).collect();
                assert_eq!(got, want, "{from}..{to}");
            }
        }
    }
}
