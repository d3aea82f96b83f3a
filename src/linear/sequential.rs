//! The sequential-consistency search: like the linearizability search, but ops are ordered by
//! their process only, not by real time.
//!
//! Each process's completed ops form a chain; the search state is how far along each chain it
//! is, plus which crashed ops it has applied, plus the model state. At each step any chain's
//! next op may go next (tried in order of invocation time, since the order things happened in is
//! usually close to an order that works), and a crashed op may go any time after its process's
//! preceding op, or never. Configurations are memoized exactly, as in [`super::search`].
//!
//! ## Pruning, and why each rule keeps every verdict
//!
//! A *witness* is a legal order of every completed op and some crashed ops that respects
//! process order. The search only looks for witnesses of a normal form, and the rules below
//! only ever cut orders that are not of that form; each rule comes with the argument that a
//! witness of the normal form exists whenever any witness does.
//!
//! 1. **Look-ahead** ([`Lookahead`]): a fact that an untaken completed op needs and that no
//!    untaken op leaves must hold now. True of every witness, normal or not.
//! 2. **Crashed ops that change nothing are never applied.** Removing such an op from a
//!    witness leaves every state as it was; a crashed op precedes nothing in process order.
//! 3. **A crashed op is applied only to be consumed** (models with [`Model::leaves`]): once a
//!    crashed op has left fact f on slot k, the next op that needs or leaves a fact on slot k
//!    must need f (the search keeps such facts in [`Sc::pending`], and they are part of the
//!    memo key, so the memo stays exact for what is searched). Take a witness with the fewest
//!    crashed ops. If some crashed op c in it were followed on its slot by an op o that does
//!    not need f, o found c's value there, so o needs nothing on slot k (a slot holds one
//!    value; needing another would fail), so o overwrites slot k (it touches it); the ops in
//!    between neither read nor change slot k. Removing c then changes nothing anyone sees —
//!    a witness with fewer crashed ops, a contradiction. So the fewest-crashed witness has the
//!    form, and it is not cut. (The same holds when no op touches slot k after c: remove c.)
//!    Crashed ops whose fact no untaken op needs are never tried, for the same reason.
//! 4. **Reads go greedily** ([`Sc::forced_read`]): when the next op of some chain is a
//!    completed read-only op that fits the state as it is (and is allowed by rule 3), it is
//!    the only move tried. If a normal-form witness τ continues from here, so does r·(τ∖r):
//!    r changes nothing, so every other op sees the state it saw; r's chain predecessors are
//!    all taken, and nothing precedes r in τ that must precede it (it is its chain's next op,
//!    and the implied orders hold of every legal order). If r was, in τ, the consumer of a
//!    crashed op c (rule 3), c may lose its consumer; then c is removed as in rule 3, and so,
//!    in turn, is any crashed op whose consumer c was: each removal keeps a witness, and the
//!    chain of removals stops at r, which now consumes what c's producer left, since r
//!    touches that slot and rule 3 allowed it. Unlike in the linearizability search, this is
//!    safe because nothing but process order constrains when an op may go.
//!
//! Rules 3 and 4 rely on the contract of [`Model::leaves`] (registers keep it; so does the
//! joint model of several keys, whose slots are the keys).
//!
//! Cost: exponential in the worst case (SC checking is NP-complete); the number of
//! configurations is bounded by the product of the chains' lengths times the model states, so
//! polynomial for a fixed number of processes.

use super::prepare::Entry;
use super::search::{Exhausted, Limits, SearchResult, SearchStats, Stuck, memo_charge};
use crate::model::{Edge, Fact, Model};
use ahash::AHashMap;
use hashbrown::HashTable;
use std::sync::atomic::Ordering;

struct MemoEntry<S> {
    hash: u64,
    key_start: u32,
    state: S,
}

struct Frame<S> {
    entry: u32,
    prev_state: S,
    alternatives: Vec<S>,
    /// Which candidate (in the order [`Sc::candidates`] gives) this frame took;
    /// [`FORCED`] for a read taken greedily (no other candidate is tried in its place).
    rank: u32,
    /// The facts awaiting a consumer before this op ([`Sc::pending`]).
    prev_pending: Vec<(u32, u32)>,
}

/// The rank of a frame whose op was the only move tried ([`Sc::forced_read`]).
const FORCED: u32 = u32::MAX;

/// Searches for a sequentially consistent order of `entries` (completed ops first, then
/// crashed ones, as [`super::prepare::Part`] orders them), respecting `edges`.
pub fn search<M: Model>(
    model: &M,
    entries: &[Entry<M::Op>],
    determinate: usize,
    edges: &[Edge],
    limits: &Limits<'_>,
) -> (SearchResult<M::State>, SearchStats) {
    let mut s = Sc::new(model, entries, determinate, edges);
    let result = match s.run(limits, None) {
        Ok(r) => r,
        Err(best) => {
            // Replay the deterministic search to where it got furthest, and capture it there.
            let mut replay = Sc::new(model, entries, determinate, edges);
            let unlimited = Limits { max_steps: u64::MAX, deadline: None, memory: None, cancel: None };
            let _ = replay.run(&unlimited, Some(best));
            SearchResult::NotLinearizable(replay.captured.take().expect("the replay follows the same path"))
        }
    };
    if let Some((used, _)) = limits.memory {
        used.fetch_sub(s.reported_bytes, Ordering::Relaxed);
    }
    let stats = SearchStats {
        steps: s.steps,
        memo_entries: s.memo.len(),
        memo_bytes: s.reported_bytes,
        max_depth: s.best_depth,
    };
    (result, stats)
}

struct Sc<'a, M: Model> {
    model: &'a M,
    entries: &'a [Entry<M::Op>],
    determinate: usize,
    /// Completed ops of each process, in process order.
    chains: Vec<Vec<u32>>,
    /// For each entry: its chain (crashed ops: `u32::MAX`) and position in it.
    chain_of: Vec<u32>,
    index_in_chain: Vec<u32>,
    pos: Vec<u32>,
    /// Which crashed ops are applied (index `i - determinate`).
    crashed_taken: Vec<bool>,
    pred_start: Vec<u32>,
    preds: Vec<u32>,
    zobrist: Vec<u64>,
    set_hash: u64,
    state: M::State,
    stack: Vec<Frame<M::State>>,
    memo: HashTable<MemoEntry<M::State>>,
    memo_keys: Vec<u32>,
    reported_bytes: usize,
    hasher: ahash::RandomState,
    scratch: Vec<u32>,
    remaining: usize,
    lookahead: Lookahead,
    steps: u64,
    moves: u64,
    best_depth: usize,
    best_move: Option<u64>,
    captured: Option<Stuck<M::State>>,
    /// Facts left by crashed ops and not consumed yet, as (slot, fact id), sorted by slot, at
    /// most one per slot: the next op that touches the slot must need that fact (rule 3 of
    /// the module notes).
    pending: Vec<(u32, u32)>,
    succ_scratch: Vec<M::State>,
}

impl<'a, M: Model> Sc<'a, M> {
    fn new(model: &'a M, entries: &'a [Entry<M::Op>], determinate: usize, edges: &[Edge]) -> Self {
        let n = entries.len();
        let mut procs: Vec<u32> = entries[..determinate].iter().map(|e| e.process).collect();
        procs.sort_unstable();
        procs.dedup();
        let mut chains: Vec<Vec<u32>> = vec![Vec::new(); procs.len()];
        let mut chain_of = vec![u32::MAX; n];
        let mut index_in_chain = vec![0u32; n];
        let mut by_invoke: Vec<u32> = (0..determinate as u32).collect();
        by_invoke.sort_by_key(|&i| entries[i as usize].invoke);
        for i in by_invoke {
            let c = procs.binary_search(&entries[i as usize].process).expect("process listed");
            chain_of[i as usize] = c as u32;
            index_in_chain[i as usize] = chains[c].len() as u32;
            chains[c].push(i);
        }
        // A crashed op may take effect only after the op its process ran before it.
        let mut all_edges = edges.to_vec();
        for (i, e) in entries.iter().enumerate().skip(determinate) {
            let before = procs.binary_search(&e.process).ok().and_then(|c| {
                chains[c].iter().rev().find(|&&d| entries[d as usize].invoke < e.invoke).copied()
            });
            if let Some(d) = before {
                all_edges.push(Edge { before: d, after: i as u32, kind: crate::model::EdgeKind::Process });
            }
        }
        let (pred_start, preds) = super::search::predecessor_rows(n, &all_edges);
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let zobrist = (0..n)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed
            })
            .collect();
        Sc {
            model,
            entries,
            determinate,
            pos: vec![0; chains.len()],
            chains,
            chain_of,
            index_in_chain,
            crashed_taken: vec![false; n - determinate],
            pred_start,
            preds,
            zobrist,
            set_hash: 0,
            state: model.init(),
            stack: Vec::new(),
            memo: HashTable::new(),
            memo_keys: Vec::new(),
            reported_bytes: 0,
            hasher: ahash::RandomState::with_seeds(5, 6, 7, 8),
            scratch: Vec::new(),
            remaining: determinate,
            lookahead: Lookahead::new(model, entries, determinate),
            steps: 0,
            moves: 0,
            best_depth: 0,
            best_move: None,
            captured: None,
            pending: Vec::new(),
            succ_scratch: Vec::new(),
        }
    }

    fn taken(&self, e: u32) -> bool {
        let c = self.chain_of[e as usize];
        if c == u32::MAX {
            self.crashed_taken[e as usize - self.determinate]
        } else {
            self.pos[c as usize] > self.index_in_chain[e as usize]
        }
    }

    /// The ops that may go next, in the order to try them: each chain's next op by invocation
    /// time, then crashed ops whose predecessors are done.
    fn candidates(&self, out: &mut Vec<u32>) {
        out.clear();
        for (c, chain) in self.chains.iter().enumerate() {
            if let Some(&e) = chain.get(self.pos[c] as usize) {
                out.push(e);
            }
        }
        out.sort_by_key(|&e| self.entries[e as usize].invoke);
        for i in self.determinate..self.entries.len() {
            if !self.crashed_taken[i - self.determinate] && self.lookahead.useful(i) {
                out.push(i as u32);
            }
        }
        out.retain(|&e| {
            let (from, to) = (self.pred_start[e as usize], self.pred_start[e as usize + 1]);
            self.allowed(e) && self.preds[from as usize..to as usize].iter().all(|&p| self.taken(p))
        });
    }

    /// The fact awaiting a consumer on `slot`, if any.
    fn pending_on(&self, slot: u32) -> Option<u32> {
        self.pending.iter().find(|(s, _)| *s == slot).map(|&(_, f)| f)
    }

    /// Whether `e` respects the pending facts: every slot it needs or leaves a fact on that
    /// has a pending fact, it must need that very fact (rule 3 of the module notes).
    fn allowed(&self, e: u32) -> bool {
        if self.pending.is_empty() {
            return true;
        }
        let need = self.lookahead.needs[e as usize];
        [need, self.lookahead.leaves[e as usize]].into_iter().all(|f| {
            f == u32::MAX || self.pending_on(self.lookahead.facts[f as usize].slot).is_none_or(|p| p == need)
        })
    }

    /// The pending facts once `e` is taken: the slots it touches are settled, and a crashed op
    /// leaves its fact awaiting a consumer.
    fn pending_after(&self, e: u32) -> Vec<(u32, u32)> {
        let (need, leave) = (self.lookahead.needs[e as usize], self.lookahead.leaves[e as usize]);
        let slot = |f: u32| (f != u32::MAX).then(|| self.lookahead.facts[f as usize].slot);
        let touched = [slot(need), slot(leave)];
        let mut next: Vec<(u32, u32)> =
            self.pending.iter().copied().filter(|(s, _)| !touched.contains(&Some(*s))).collect();
        if e as usize >= self.determinate {
            if let Some(s) = slot(leave) {
                let at = next.partition_point(|(t, _)| *t < s);
                next.insert(at, (s, leave));
            }
        }
        next
    }

    /// A completed read-only op among `cands` that fits the state as it is, leaving it as it
    /// is: taken greedily, as the only move (rule 4 of the module notes).
    fn forced_read(&mut self, cands: &[u32]) -> Option<u32> {
        let mut succ = std::mem::take(&mut self.succ_scratch);
        let found = cands.iter().copied().find(|&e| {
            let op = &self.entries[e as usize].op;
            if e as usize >= self.determinate || !self.model.is_read_only(op) {
                return false;
            }
            succ.clear();
            self.model.step_all(&self.state, op, &mut succ);
            succ.len() == 1 && succ[0] == self.state
        });
        succ.clear();
        self.succ_scratch = succ;
        found
    }

    fn set_taken(&mut self, e: u32, taken: bool) {
        self.lookahead.set_taken(e, taken);
        let c = self.chain_of[e as usize];
        if c == u32::MAX {
            self.crashed_taken[e as usize - self.determinate] = taken;
            self.set_hash ^= self.zobrist[e as usize];
            return;
        }
        // The hash covers each chain's last taken op.
        let chain = &self.chains[c as usize];
        let p = self.pos[c as usize] as usize;
        if p > 0 {
            self.set_hash ^= self.zobrist[chain[p - 1] as usize];
        }
        let p = if taken { p + 1 } else { p - 1 };
        if p > 0 {
            self.set_hash ^= self.zobrist[chain[p - 1] as usize];
        }
        self.pos[c as usize] = p as u32;
        if taken { self.remaining -= 1 } else { self.remaining += 1 }
    }

    /// Records (positions, crashed ops applied, `state`); false if seen before.
    fn remember(&mut self, state: &M::State) -> bool {
        let key = &mut self.scratch;
        key.clear();
        key.extend_from_slice(&self.pos);
        key.extend(self.crashed_taken.iter().enumerate().filter(|(_, t)| **t).map(|(i, _)| i as u32));
        // The pending facts, after a separator no entry index reaches: which continuations are
        // searched depends on them (rule 3), so the memo must tell them apart.
        key.push(u32::MAX - 1);
        key.extend(self.pending.iter().map(|&(_, f)| f));
        let mut hash = self.set_hash ^ self.hasher.hash_one(state);
        if !self.pending.is_empty() {
            hash ^= self.hasher.hash_one(&self.pending);
        }
        let (key, arena) = (&self.scratch, &self.memo_keys);
        let same = |m: &MemoEntry<M::State>| {
            let start = m.key_start as usize;
            m.hash == hash
                && arena.get(start + key.len()) == Some(&u32::MAX)
                && arena[start..start + key.len()] == **key
                && m.state == *state
        };
        if self.memo.find(hash, same).is_some() {
            return false;
        }
        let key_start = self.memo_keys.len() as u32;
        self.memo_keys.extend_from_slice(&self.scratch);
        self.memo_keys.push(u32::MAX); // terminator: keys differ in length with crashed ops
        self.memo.insert_unique(hash, MemoEntry { hash, key_start, state: state.clone() }, |m| m.hash);
        true
    }

    /// Takes `entry` next if some state it leads to is new.
    fn try_take(&mut self, entry: u32, rank: u32) -> bool {
        self.steps += 1;
        let mut succ = Vec::new();
        self.model.step_all(&self.state, &self.entries[entry as usize].op, &mut succ);
        if entry as usize >= self.determinate {
            // Rule 2: a crashed op that changes nothing is never needed.
            succ.retain(|s| *s != self.state);
        }
        if succ.is_empty() {
            return false;
        }
        let pending = self.pending_after(entry);
        let prev_pending = std::mem::replace(&mut self.pending, pending);
        self.set_taken(entry, true);
        while let Some(next) = succ.pop() {
            if !self.lookahead.possible(self.model, &next) {
                continue;
            }
            if self.remember(&next) {
                let prev_state = std::mem::replace(&mut self.state, next);
                self.stack.push(Frame { entry, prev_state, alternatives: succ, rank, prev_pending });
                return true;
            }
        }
        self.set_taken(entry, false);
        self.pending = prev_pending;
        false
    }

    fn check_limits(&mut self, limits: &Limits<'_>) -> Option<Exhausted> {
        let charge = || memo_charge::<MemoEntry<M::State>>(self.memo.capacity(), self.memo_keys.capacity());
        limits.check(self.steps, self.moves, &mut self.reported_bytes, charge).err()
    }

    /// `Ok` with a result, or `Err(move)` naming where a failed search got furthest.
    fn run(&mut self, limits: &Limits<'_>, capture_at: Option<u64>) -> Result<SearchResult<M::State>, u64> {
        let mut from_rank = 0u32;
        let mut cands = Vec::new();
        loop {
            if self.remaining == 0 {
                return Ok(SearchResult::Linearizable(self.stack.iter().map(|f| f.entry).collect()));
            }
            if let Some(cause) = self.check_limits(limits) {
                return Ok(SearchResult::Unknown(cause));
            }
            self.moves += 1;
            self.candidates(&mut cands);
            let forced = if from_rank == 0 { self.forced_read(&cands) } else { None };
            let took = match forced {
                // Rule 4: the read is the only move; if it leads nowhere new, nothing does.
                Some(r) => self.try_take(r, FORCED),
                None if from_rank == FORCED => false,
                None => (from_rank as usize..cands.len()).any(|r| self.try_take(cands[r], r as u32)),
            };
            if took {
                from_rank = 0;
                continue;
            }
            // A dead end: nothing can go next.
            if capture_at == Some(self.moves) {
                self.captured = Some(self.capture(&cands));
                return Ok(SearchResult::Unknown(Exhausted::Cancelled));
            }
            if self.best_move.is_none() || self.stack.len() > self.best_depth {
                self.best_depth = self.stack.len();
                self.best_move = Some(self.moves);
            }
            match self.backtrack() {
                Some(rank) => from_rank = rank,
                None => return Err(self.best_move.unwrap_or(0)),
            }
        }
    }

    /// Undoes the top frame (or moves it to an unseen alternative state); returns the rank to
    /// resume trying from at that level, or `None` when nothing is left.
    fn backtrack(&mut self) -> Option<u32> {
        let mut frame = self.stack.pop()?;
        while let Some(alt) = frame.alternatives.pop() {
            if self.lookahead.possible(self.model, &alt) && self.remember(&alt) {
                self.state = alt;
                self.stack.push(frame);
                return Some(0);
            }
        }
        self.set_taken(frame.entry, false);
        self.state = frame.prev_state;
        self.pending = frame.prev_pending;
        Some(if frame.rank == FORCED { FORCED } else { frame.rank + 1 })
    }

    fn capture(&self, cands: &[u32]) -> Stuck<M::State> {
        let mut prefix = Vec::with_capacity(self.stack.len());
        for (i, f) in self.stack.iter().enumerate() {
            let after = self.stack.get(i + 1).map_or(&self.state, |next| &next.prev_state);
            prefix.push((f.entry, after.clone()));
        }
        // Blame the completed op that was due first; the others were tried too.
        let mut due: Vec<u32> = self
            .chains
            .iter()
            .enumerate()
            .filter_map(|(c, ch)| ch.get(self.pos[c] as usize).copied())
            .collect();
        due.sort_by_key(|&e| self.entries[e as usize].invoke);
        let blocked = due.first().copied().unwrap_or(0);
        let mut candidates: Vec<u32> = cands.iter().chain(&due).copied().filter(|&e| e != blocked).collect();
        candidates.sort_unstable();
        candidates.dedup();
        Stuck { prefix, state: self.state.clone(), blocked, candidates }
    }
}

/// Look-ahead for the sequential search ([`Model::needs`], [`Model::leaves`]): a fact some
/// untaken completed op needs, that no untaken op would bring about, must hold right now, or
/// that op can never take effect and the configuration is a dead end. The facts in that
/// position ("starved") are kept in a set updated in O(1) per step.
struct Lookahead {
    /// Per entry: the fact it needs / leaves, as dense ids (`u32::MAX`: none).
    needs: Vec<u32>,
    leaves: Vec<u32>,
    facts: Vec<Fact>,
    completed: usize,
    /// Per fact: untaken completed ops that need it, untaken ops that leave it, untaken ops
    /// (crashed too) that need it.
    needing: Vec<u32>,
    leaving: Vec<u32>,
    wanted: Vec<u32>,
    starved: Vec<u32>,
    /// Per fact: its position in `starved`, or `u32::MAX`.
    starved_at: Vec<u32>,
}

impl Lookahead {
    fn new<M: Model>(model: &M, entries: &[Entry<M::Op>], completed: usize) -> Lookahead {
        let mut ids: AHashMap<Fact, u32> = AHashMap::new();
        let mut facts = Vec::new();
        let mut id = |f: Option<Fact>| {
            f.map_or(u32::MAX, |f| {
                *ids.entry(f).or_insert_with(|| {
                    facts.push(f);
                    facts.len() as u32 - 1
                })
            })
        };
        let needs: Vec<u32> = entries.iter().map(|e| id(model.needs(&e.op))).collect();
        let leaves: Vec<u32> = entries.iter().map(|e| id(model.leaves(&e.op))).collect();
        let n = facts.len();
        let mut l = Lookahead {
            needs,
            leaves,
            facts,
            completed,
            needing: vec![0; n],
            leaving: vec![0; n],
            wanted: vec![0; n],
            starved: Vec::new(),
            starved_at: vec![u32::MAX; n],
        };
        for e in 0..entries.len() {
            l.count(e, 1);
        }
        for f in 0..n as u32 {
            l.restarve(f);
        }
        l
    }

    fn count(&mut self, e: usize, delta: i32) {
        if self.needs[e] != u32::MAX {
            let f = self.needs[e] as usize;
            self.wanted[f] = self.wanted[f].wrapping_add_signed(delta);
            if e < self.completed {
                self.needing[f] = self.needing[f].wrapping_add_signed(delta);
            }
        }
        if self.leaves[e] != u32::MAX {
            let f = self.leaves[e] as usize;
            self.leaving[f] = self.leaving[f].wrapping_add_signed(delta);
        }
    }

    fn restarve(&mut self, f: u32) {
        let starved = self.needing[f as usize] > 0 && self.leaving[f as usize] == 0;
        let at = self.starved_at[f as usize];
        if starved && at == u32::MAX {
            self.starved_at[f as usize] = self.starved.len() as u32;
            self.starved.push(f);
        } else if !starved && at != u32::MAX {
            let last = *self.starved.last().expect("listed");
            self.starved.swap_remove(at as usize);
            if last != f {
                self.starved_at[last as usize] = at;
            }
            self.starved_at[f as usize] = u32::MAX;
        }
    }

    fn set_taken(&mut self, e: u32, taken: bool) {
        let e = e as usize;
        if self.needs[e] == u32::MAX && self.leaves[e] == u32::MAX {
            return;
        }
        self.count(e, if taken { -1 } else { 1 });
        for f in [self.needs[e], self.leaves[e]] {
            if f != u32::MAX {
                self.restarve(f);
            }
        }
    }

    /// Whether crashed op `e` is worth applying. One whose whole effect is to leave a fact no
    /// untaken op needs can be dropped from any valid order without harm: the ops between it
    /// and the next change of that part of the state either need nothing or need that fact, and
    /// none needs it. So the search leaves such ops out.
    fn useful(&self, e: usize) -> bool {
        let f = self.leaves[e];
        f == u32::MAX || self.wanted[f as usize] > 0
    }

    /// False when some untaken completed op needs a fact that `state` lacks and nothing left
    /// would bring about.
    fn possible<M: Model>(&self, model: &M, state: &M::State) -> bool {
        self.starved.iter().all(|&f| model.holds(state, self.facts[f as usize]))
    }
}
