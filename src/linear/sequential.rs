//! The sequential-consistency search: like the linearizability search, but ops are ordered by
//! their process only, not by real time.
//!
//! Each process's completed ops form a chain; the search state is how far along each chain it
//! is, plus which crashed ops it has applied, plus the model state. At each step any chain's
//! next op may go next (tried in order of invocation time, since the order things happened in is
//! usually close to an order that works), and a crashed op may go any time after its process's
//! preceding op, or never. Configurations are memoized exactly, as in [`super::search`].
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
    /// Which candidate (in the order [`Sc::candidates`] gives) this frame took.
    rank: u32,
}

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
            self.preds[from as usize..to as usize].iter().all(|&p| self.taken(p))
        });
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
        let hash = self.set_hash ^ self.hasher.hash_one(state);
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
        if succ.is_empty() {
            return false;
        }
        self.set_taken(entry, true);
        while let Some(next) = succ.pop() {
            if !self.lookahead.possible(self.model, &next) {
                continue;
            }
            if self.remember(&next) {
                let prev_state = std::mem::replace(&mut self.state, next);
                self.stack.push(Frame { entry, prev_state, alternatives: succ, rank });
                return true;
            }
        }
        self.set_taken(entry, false);
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
            let took = (from_rank as usize..cands.len()).any(|r| self.try_take(cands[r], r as u32));
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
        Some(frame.rank + 1)
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
