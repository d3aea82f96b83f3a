//! The sequential-consistency search: like the linearizability search, but ops are ordered by
//! their process only, not by real time.
//!
//! Each process's completed ops form a chain; the search state is how far along each chain it
//! is, plus which crashed ops it has applied, plus the model state. At each step any chain's
//! next op may go next (tried in order of when each is due — invoked, or read by someone —
//! since the order things happened in is usually close to an order that works, updates whose
//! effect nobody needs first), and a crashed op may go any time after its process's
//! preceding op, or never. Configurations are memoized exactly, in the memo [`super::wgl`] uses
//! too (`search::memo`); only the keys differ.
//!
//! ## Pruning, and why each rule keeps every verdict
//!
//! A *witness* is a legal order of every completed op and some crashed ops that respects
//! process order. The search only looks for witnesses of a normal form, and the rules below
//! only ever cut orders that are not of that form; each rule comes with the argument that a
//! witness of the normal form exists whenever any witness does.
//!
//! 1. **Look-ahead** (`Lookahead`): a fact that an untaken completed op needs and that no
//!    untaken op leaves must hold now. True of every witness, normal or not.
//! 2. **Crashed ops that change nothing are never applied.** Removing such an op from a
//!    witness leaves every state as it was; a crashed op precedes nothing in process order.
//! 3. **A crashed op is applied only right before an op that needs what it left** (models
//!    with [`Model::leaves`]): after a crashed op that left fact f, the next op must need f
//!    (`Sc::pending`, part of the memo key, so the memo stays exact for what is searched).
//!    Take a witness with the fewest crashed ops. If a crashed op c in it, leaving f on slot
//!    k, were followed on slot k by an op o that does not need f, o found c's value there, so
//!    o needs nothing on slot k (a slot holds one value; needing another would fail), so o
//!    overwrites slot k (it touches it); the ops in between neither read nor change slot k.
//!    Removing c then changes nothing anyone sees: fewer crashed ops, a contradiction (if no
//!    op touches slot k after c, remove c likewise). So c's next op on its slot needs f; and
//!    c can be moved to just before that op: the ops it passes do not touch slot k, c touches
//!    nothing else, and it precedes nothing in process order (nor can it come between another
//!    crashed op and the op right after it, which would then touch slot k). Removing a crashed
//!    op, or moving it like this, keeps every crashed op changing the state (rule 2). So a
//!    witness exists whose every crashed op comes right before an op that needs its fact.
//!    It follows that a crashed op is only worth trying when a run of crashed ops, each
//!    needing what the one before left, can lead from it to some chain's next op: the chains
//!    do not move while crashed ops are applied (`Sc::reachable_facts`).
//! 4. **Reads go greedily** (`Sc::forced_read`): when the next op of some chain is a
//!    completed read-only op r that fits the state as it is (and needs the pending fact, if
//!    there is one), it is the only move tried. If a witness τ of the form of rules 2 and 3
//!    continues from here, so does r·(τ∖r), after a repair: r changes nothing, so every other
//!    op sees the state it saw; r's chain predecessors are all taken, and no order implied by
//!    values is broken (they hold of every legal order). If r came, in τ, right after a
//!    crashed op c that it consumed, c is now followed by something else: c's next op on its
//!    slot either needs c's fact (move c before it, as in rule 3) or does not (remove c, as
//!    in rule 3, then treat the crashed op c consumed, if any, the same way). The repairs stop
//!    at r: what r consumes, if anything, is the pending fact, and r needs it. Unlike in the
//!    linearizability search, this is safe because nothing but process order constrains when
//!    an op may go.
//!
//! Rules 3 and 4 rely on the contract of [`Model::leaves`] (registers keep it; so does the
//! joint model of several keys, whose slots are the keys).
//!
//! Cost: exponential in the worst case (SC checking is NP-complete); the number of
//! configurations is bounded by the product of the chains' lengths times the model states, so
//! polynomial for a fixed number of processes.

use super::budget::{CHECK_EVERY, Exhausted, Limits, kept_bytes};
use super::memo::ExactMemo;
use super::result::{SearchResult, SearchStats, Stuck};
use crate::model::{Edge, Fact, Model};
use crate::split::Entry;
use ahash::AHashMap;
use std::sync::atomic::Ordering;

struct Frame<S> {
    entry: u32,
    prev_state: S,
    alternatives: Vec<S>,
    /// Which candidate (in the order [`Sc::candidates`] gives) this frame took;
    /// [`FORCED`] for a read taken greedily (no other candidate is tried in its place).
    rank: u32,
    /// The fact awaiting a consumer before this op ([`Sc::pending`]).
    prev_pending: u32,
    /// Heap bytes of `prev_state` and `alternatives`, as charged ([`kept_bytes`]).
    bytes: usize,
}

/// The rank of a frame whose op was the only move tried ([`Sc::forced_read`]).
const FORCED: u32 = u32::MAX;

/// Searches for a sequentially consistent order of `entries` (completed ops first, then
/// crashed ones, as [`crate::split::Part`] orders them), respecting `edges`.
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
            let unlimited =
                Limits { max_steps: u64::MAX, deadline: None, memory: None, cancel: None, fast_paths: false };
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
    /// For each entry: its chain (crashed ops: `u32::MAX`).
    chain_of: Vec<u32>,
    pos: Vec<u32>,
    /// When each completed op is due ([`due_times`]): chain heads are tried in this order.
    due: Vec<i64>,
    /// Which crashed ops are applied (index `i - determinate`).
    crashed_taken: Vec<bool>,
    /// Per op: the ops that must follow it (`succ[succ_start[i]..succ_start[i + 1]]`), and how
    /// many of the ops it must follow are not taken yet (it may go only at 0).
    succ_start: Vec<u32>,
    succ: Vec<u32>,
    untaken_preds: Vec<u32>,
    zobrist: Vec<u64>,
    set_hash: u64,
    state: M::State,
    stack: Vec<Frame<M::State>>,
    memo: ExactMemo<M::State>,
    /// Heap bytes owned by the states the memo and the stack keep ([`Model::state_heap_bytes`]),
    /// charged against the memory budget beside the tables.
    state_bytes: usize,
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
    /// The fact the crashed op just applied left (`u32::MAX`: none): the next op must need it
    /// (rule 3 of the module notes).
    pending: u32,
    /// Crashed ops by the fact they leave: `crashed_leaving[crashed_leaving_start[f]..]`.
    crashed_leaving_start: Vec<u32>,
    crashed_leaving: Vec<u32>,
    /// Scratch for [`Sc::reachable_facts`]: a mark per fact, and the facts marked.
    fact_mark: Vec<bool>,
    reach: Vec<u32>,
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
        let mut by_invoke: Vec<u32> = (0..determinate as u32).collect();
        by_invoke.sort_by_key(|&i| entries[i as usize].invoke);
        for i in by_invoke {
            let c = procs.binary_search(&entries[i as usize].process).expect("process listed");
            chain_of[i as usize] = c as u32;
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
        let mut untaken_preds = vec![0u32; n];
        for e in &all_edges {
            untaken_preds[e.after as usize] += 1;
        }
        let (succ_start, succ) = super::wgl::successor_rows(n, &all_edges);
        let lookahead = Lookahead::new(model, entries, determinate);
        let (crashed_leaving_start, crashed_leaving) = lookahead.crashed_by_leaves(determinate);
        let fact_mark = vec![false; lookahead.facts.len()];
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
            due: due_times(entries, determinate, edges),
            pos: vec![0; chains.len()],
            chains,
            chain_of,
            crashed_taken: vec![false; n - determinate],
            succ_start,
            succ,
            untaken_preds,
            zobrist,
            set_hash: 0,
            state: model.init(),
            stack: Vec::new(),
            memo: ExactMemo::new(),
            state_bytes: 0,
            reported_bytes: 0,
            hasher: ahash::RandomState::with_seeds(5, 6, 7, 8),
            scratch: Vec::new(),
            remaining: determinate,
            lookahead,
            steps: 0,
            moves: 0,
            best_depth: 0,
            best_move: None,
            captured: None,
            pending: u32::MAX,
            succ_scratch: Vec::new(),
            crashed_leaving_start,
            crashed_leaving,
            fact_mark,
            reach: Vec::new(),
        }
    }

    /// The ops that may go next, in the order to try them: each chain's next op by invocation
    /// time, then crashed ops that can lead to one of them (rule 3 of the module notes).
    fn candidates(&mut self, out: &mut Vec<u32>) {
        out.clear();
        for (c, chain) in self.chains.iter().enumerate() {
            if let Some(&e) = chain.get(self.pos[c] as usize) {
                out.push(e);
            }
        }
        // Crashed ops may lead to any chain's next op, even one waiting for them.
        self.reachable_facts(out);
        out.retain(|&e| self.ready(e));
        // Updates whose effect nobody needs first (they are harmless when they fit, and let
        // their process go on), then by when each is due.
        out.sort_by_key(|&e| (!self.lookahead.harmless(e), self.due[e as usize]));
        let heads = out.len();
        for &f in &self.reach {
            let (from, to) =
                (self.crashed_leaving_start[f as usize], self.crashed_leaving_start[f as usize + 1]);
            out.extend(
                self.crashed_leaving[from as usize..to as usize]
                    .iter()
                    .filter(|&&c| !self.crashed_taken[c as usize - self.determinate]),
            );
        }
        // Crashed ops that leave no fact (models without look-ahead) may always go.
        let none = self.lookahead.facts.len();
        let (from, to) = (self.crashed_leaving_start[none], self.crashed_leaving_start[none + 1]);
        out.extend(
            self.crashed_leaving[from as usize..to as usize]
                .iter()
                .filter(|&&c| !self.crashed_taken[c as usize - self.determinate]),
        );
        out[heads..].sort_unstable();
        let mut k = heads;
        for i in heads..out.len() {
            if self.ready(out[i]) {
                out[k] = out[i];
                k += 1;
            }
        }
        out.truncate(k);
    }

    /// Whether `e` may go now: everything it must follow is taken, and it needs the pending
    /// fact if there is one.
    fn ready(&self, e: u32) -> bool {
        self.untaken_preds[e as usize] == 0 && self.allowed(e)
    }

    /// Fills [`Sc::reach`] with the facts a crashed op may usefully leave now: those the chains'
    /// next ops need, and, in turn, those needed by untaken crashed ops leaving a fact already
    /// listed (a run of crashed ops ending at a chain's next op).
    fn reachable_facts(&mut self, heads: &[u32]) {
        for &f in &self.reach {
            self.fact_mark[f as usize] = false;
        }
        self.reach.clear();
        if self.crashed_leaving_start[self.lookahead.facts.len()] == 0 {
            return; // no crashed op leaves a fact
        }
        let needs = &self.lookahead.needs;
        for &h in heads {
            let f = needs[h as usize];
            if f != u32::MAX && !std::mem::replace(&mut self.fact_mark[f as usize], true) {
                self.reach.push(f);
            }
        }
        let mut i = 0;
        while let Some(&f) = self.reach.get(i) {
            i += 1;
            let (from, to) =
                (self.crashed_leaving_start[f as usize], self.crashed_leaving_start[f as usize + 1]);
            for &c in &self.crashed_leaving[from as usize..to as usize] {
                let g = needs[c as usize];
                if g != u32::MAX
                    && !self.crashed_taken[c as usize - self.determinate]
                    && !std::mem::replace(&mut self.fact_mark[g as usize], true)
                {
                    self.reach.push(g);
                }
            }
        }
    }

    /// Whether `e` may go next given the pending fact: it must need it (rule 3).
    fn allowed(&self, e: u32) -> bool {
        self.pending == u32::MAX || self.lookahead.needs[e as usize] == self.pending
    }

    /// The pending fact once `e` is taken: what it leaves if it is a crashed op, else none.
    fn pending_after(&self, e: u32) -> u32 {
        if e as usize >= self.determinate { self.lookahead.leaves[e as usize] } else { u32::MAX }
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
        for &s in &self.succ[self.succ_start[e as usize] as usize..self.succ_start[e as usize + 1] as usize] {
            if taken {
                self.untaken_preds[s as usize] -= 1;
            } else {
                self.untaken_preds[s as usize] += 1;
            }
        }
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
        key.push(self.pending);
        let mut hash = self.set_hash ^ self.hasher.hash_one(state);
        if self.pending != u32::MAX {
            hash ^= self.zobrist[0].rotate_left(17).wrapping_mul(u64::from(self.pending) + 1);
        }
        if !self.memo.insert(hash, &self.scratch, state) {
            return false;
        }
        self.state_bytes += self.model.state_heap_bytes(state);
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
                let bytes = kept_bytes(self.model, &prev_state, &succ);
                self.state_bytes += bytes;
                self.stack.push(Frame { entry, prev_state, alternatives: succ, rank, prev_pending, bytes });
                return true;
            }
        }
        self.set_taken(entry, false);
        self.pending = prev_pending;
        false
    }

    fn check_limits(&mut self, limits: &Limits<'_>) -> Option<Exhausted> {
        // Measured only when the limits look (every `CHECK_EVERY` moves), not at every step.
        let charge = || self.memo.charge() + self.state_bytes;
        if self.moves % CHECK_EVERY == 0 {
            let deepest = self.best_depth.max(self.stack.len());
            crate::progress::search(self.steps, limits.max_steps, deepest, self.entries.len());
        }
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
        self.state_bytes -= frame.bytes;
        while let Some(alt) = frame.alternatives.pop() {
            frame.bytes -= self.model.state_heap_bytes(&alt);
            if self.lookahead.possible(self.model, &alt) && self.remember(&alt) {
                self.state_bytes += frame.bytes;
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
/// position ("starved") are kept in a set updated in O(1) per step. Kept here, by the hot loop
/// that updates it, though the greedy replay borrows it.
pub(super) struct Lookahead {
    /// Per entry: the fact it needs / leaves, as dense ids (`u32::MAX`: none).
    pub(super) needs: Vec<u32>,
    pub(super) leaves: Vec<u32>,
    pub(super) facts: Vec<Fact>,
    pub(super) completed: usize,
    /// Per fact: untaken completed ops that need it, untaken ops that leave it.
    pub(super) needing: Vec<u32>,
    pub(super) leaving: Vec<u32>,
    pub(super) starved: Vec<u32>,
    /// Per fact: its position in `starved`, or `u32::MAX`.
    pub(super) starved_at: Vec<u32>,
}

impl Lookahead {
    pub(super) fn new<M: Model>(model: &M, entries: &[Entry<M::Op>], completed: usize) -> Lookahead {
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

    /// Whether some untaken completed op needs fact `f`.
    pub(super) fn awaits(&self, f: u32) -> bool {
        self.needing[f as usize] > 0
    }

    /// Whether entry `e` leaves a fact that no untaken completed op needs: taking it, when it
    /// fits and overwrites nothing awaited, spoils nothing.
    pub(super) fn harmless(&self, e: u32) -> bool {
        let left = self.leaves[e as usize];
        left != u32::MAX && !self.awaits(left)
    }

    pub(super) fn count(&mut self, e: usize, delta: i32) {
        if self.needs[e] != u32::MAX {
            let f = self.needs[e] as usize;
            if e < self.completed {
                self.needing[f] = self.needing[f].wrapping_add_signed(delta);
            }
        }
        if self.leaves[e] != u32::MAX {
            let f = self.leaves[e] as usize;
            self.leaving[f] = self.leaving[f].wrapping_add_signed(delta);
        }
    }

    pub(super) fn restarve(&mut self, f: u32) {
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

    pub(super) fn set_taken(&mut self, e: u32, taken: bool) {
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

    /// The crashed ops (`entries[completed..]`) grouped by the fact they leave, as compressed
    /// rows indexed by fact id, with one more row, at `facts.len()`, for those that leave none.
    pub(super) fn crashed_by_leaves(&self, completed: usize) -> (Vec<u32>, Vec<u32>) {
        let none = self.facts.len();
        let row = |e: usize| if self.leaves[e] == u32::MAX { none } else { self.leaves[e] as usize };
        let mut start = vec![0u32; none + 2];
        for e in completed..self.leaves.len() {
            start[row(e) + 1] += 1;
        }
        for f in 0..=none {
            start[f + 1] += start[f];
        }
        let mut fill = start.clone();
        let mut rows = vec![0u32; self.leaves.len() - completed];
        for e in completed..self.leaves.len() {
            rows[fill[row(e)] as usize] = e as u32;
            fill[row(e)] += 1;
        }
        (start, rows)
    }

    /// False when some untaken completed op needs a fact that `state` lacks and nothing left
    /// would bring about.
    pub(super) fn possible<M: Model>(&self, model: &M, state: &M::State) -> bool {
        self.starved.iter().all(|&f| model.holds(state, self.facts[f as usize]))
    }
}

/// When each op is due: a completed op when it was invoked, or, if sooner, when a read of what
/// it wrote was (a lagging client's write shows late in real time, but others read it early;
/// `ReadsFrom` edges say who); a crashed op only when such a read was, and last otherwise.
pub(super) fn due_times<O>(entries: &[Entry<O>], determinate: usize, edges: &[Edge]) -> Vec<i64> {
    let mut due: Vec<i64> =
        entries.iter().enumerate().map(|(i, e)| if i < determinate { e.invoke } else { i64::MAX }).collect();
    for e in edges.iter().filter(|e| e.kind == crate::model::EdgeKind::ReadsFrom) {
        due[e.before as usize] = due[e.before as usize].min(entries[e.after as usize].invoke);
    }
    due
}
