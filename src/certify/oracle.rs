//! Oracles of certification's own for whether a set of ops can be ordered: [`some_order`], a
//! brute-force one for small sets (every order of the ops is tried, crashed ops may be left
//! out, memoized on the ops done and the model's state), and [`search`], which decides sets of
//! up to 64 ops exactly within a budget of configurations. Neither shares code with the
//! checker's searches; the second is property-tested against the first
//! (tests/certify_oracle.rs).

use crate::model::Model;
use ahash::AHashSet;

/// The most ops the brute-force oracle is asked about: 2^12 subsets times the states they reach.
pub const MAX_OPS: usize = 12;

/// One op for the oracle.
pub struct OracleOp<'o, O> {
    /// The model's op.
    pub op: &'o O,
    /// Invocation time.
    pub invoke: i64,
    /// Completion time; `i64::MAX` when the op may or may not have taken effect.
    pub complete: i64,
    /// Its process.
    pub process: u32,
    /// Its position in the history (process order follows it).
    pub position: u32,
}

/// An order of some of `ops` (indices into it) that holds every completed op, respects real
/// time with `skew` (or, with `process_order`, each process's order), and that the model
/// accepts step by step; `None` if there is none. At most [`MAX_OPS`] ops.
pub fn some_order<M: Model>(
    model: &M,
    ops: &[OracleOp<'_, M::Op>],
    process_order: bool,
    skew: i64,
) -> Option<Vec<usize>> {
    assert!(ops.len() <= MAX_OPS, "the oracle is for small sets of ops");
    let mut search = Oracle { model, ops, process_order, skew, seen: AHashSet::new(), order: Vec::new() };
    search.from(0, model.init()).then_some(search.order)
}

struct Oracle<'a, 'o, M: Model> {
    model: &'a M,
    ops: &'a [OracleOp<'o, M::Op>],
    process_order: bool,
    skew: i64,
    seen: AHashSet<(u32, M::State)>,
    order: Vec<usize>,
}

impl<M: Model> Oracle<'_, '_, M> {
    fn completed(&self, i: usize) -> bool {
        self.ops[i].complete != i64::MAX
    }

    /// Whether op `i` may go next when the ops in `done` are done (placed, or crashed and
    /// left out): every op that must precede it is done.
    fn may_go(&self, done: u32, i: usize) -> bool {
        let o = &self.ops[i];
        (0..self.ops.len()).filter(|&j| j != i && done & (1 << j) == 0).all(|j| {
            let p = &self.ops[j];
            if self.process_order {
                // A crashed op of the process not yet placed is left out when a later one goes.
                !(p.process == o.process && p.position < o.position && self.completed(j))
            } else {
                !(self.completed(j) && p.complete.saturating_add(self.skew) < o.invoke)
            }
        })
    }

    /// Tries to finish from `done` in `state`.
    fn from(&mut self, done: u32, state: M::State) -> bool {
        if (0..self.ops.len()).all(|i| done & (1 << i) != 0 || !self.completed(i)) {
            return true;
        }
        if !self.seen.insert((done, state.clone())) {
            return false;
        }
        let mut next = Vec::new();
        for i in 0..self.ops.len() {
            if done & (1 << i) != 0 || !self.may_go(done, i) {
                continue;
            }
            next.clear();
            self.model.step_all(&state, self.ops[i].op, &mut next);
            // Under process order, earlier crashed ops of the process are left out for good.
            let mut after = done | (1 << i);
            if self.process_order {
                for j in 0..self.ops.len() {
                    let p = &self.ops[j];
                    if p.process == self.ops[i].process && p.position < self.ops[i].position {
                        after |= 1 << j;
                    }
                }
            }
            for s in std::mem::take(&mut next) {
                self.order.push(i);
                if self.from(after, s) {
                    return true;
                }
                self.order.pop();
            }
        }
        false
    }
}

/// The most ops [`search`] is asked about: one bit of a `u64` per op.
pub const MAX_SEARCH_OPS: usize = 64;

/// The most configurations (ops done, state) [`search`] memoizes before it gives up: a few
/// tens of milliseconds of work, so that certifying a witness stays cheap beside the check.
pub const MAX_CONFIGS: usize = 1 << 18;

/// What [`search`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Search {
    /// An order of some of the ops (indices), as [`some_order`] returns one.
    Order(Vec<usize>),
    /// There is none: every configuration was tried.
    NoOrder,
    /// The budget of configurations ran out first: nothing is known.
    OutOfBudget,
}

/// Whether some order of `ops` holds every completed op, respects real time with `skew` (or,
/// with `process_order`, each process's order) and is accepted by the model step by step —
/// what [`some_order`] decides, for up to [`MAX_SEARCH_OPS`] ops, memoizing at most `budget`
/// configurations.
///
/// A depth-first search over configurations (the set of ops done, as a bitmask, and the
/// model's state), each tried once: an op is tried next only when every op that must precede
/// it is done, so only orders that respect real time (or process order) are built, and two
/// prefixes that place the same ops and reach the same state are explored once.
pub fn search<M: Model>(
    model: &M,
    ops: &[OracleOp<'_, M::Op>],
    process_order: bool,
    skew: i64,
    budget: usize,
) -> Search {
    assert!(ops.len() <= MAX_SEARCH_OPS, "a configuration holds one bit per op");
    let n = ops.len();
    let completed = |j: usize| ops[j].complete != i64::MAX;
    let mut must_precede = vec![0u64; n];
    let mut left_out = vec![0u64; n];
    let mut goal = 0u64;
    for (i, o) in ops.iter().enumerate() {
        if completed(i) {
            goal |= 1 << i;
        }
        for (j, p) in ops.iter().enumerate().filter(|&(j, _)| j != i) {
            let earlier_of_process = p.process == o.process && p.position < o.position;
            let precedes = if process_order {
                earlier_of_process && completed(j)
            } else {
                completed(j) && p.complete.saturating_add(skew) < o.invoke
            };
            if precedes {
                must_precede[i] |= 1 << j;
            }
            // Under process order, a crashed op of the process not placed before a later one
            // never is: it is left out for good.
            if process_order && earlier_of_process {
                left_out[i] |= 1 << j;
            }
        }
    }
    let mut dfs = Dfs {
        model,
        ops,
        must_precede,
        left_out,
        goal,
        seen: AHashSet::new(),
        budget,
        out_of_budget: false,
        order: Vec::new(),
    };
    if dfs.from(0, model.init()) {
        Search::Order(dfs.order)
    } else if dfs.out_of_budget {
        Search::OutOfBudget
    } else {
        Search::NoOrder
    }
}

struct Dfs<'a, 'o, M: Model> {
    model: &'a M,
    ops: &'a [OracleOp<'o, M::Op>],
    /// Per op: the ops that must be done before it may go.
    must_precede: Vec<u64>,
    /// Per op: the ops done (left out) once it is placed.
    left_out: Vec<u64>,
    /// The completed ops: done once all of them are.
    goal: u64,
    seen: AHashSet<(u64, M::State)>,
    budget: usize,
    out_of_budget: bool,
    order: Vec<usize>,
}

impl<M: Model> Dfs<'_, '_, M> {
    /// Tries to finish from `done` in `state`; false also when the budget ran out.
    fn from(&mut self, done: u64, state: M::State) -> bool {
        if done & self.goal == self.goal {
            return true;
        }
        if self.out_of_budget || !self.seen.insert((done, state.clone())) {
            return false;
        }
        if self.seen.len() > self.budget {
            self.out_of_budget = true;
            return false;
        }
        let mut next = Vec::new();
        for i in 0..self.ops.len() {
            let bit = 1u64 << i;
            if done & bit != 0 || self.must_precede[i] & !done != 0 {
                continue;
            }
            next.clear();
            self.model.step_all(&state, self.ops[i].op, &mut next);
            let after = done | bit | self.left_out[i];
            for s in std::mem::take(&mut next) {
                self.order.push(i);
                if self.from(after, s) {
                    return true;
                }
                self.order.pop();
                if self.out_of_budget {
                    return false;
                }
            }
        }
        false
    }
}
