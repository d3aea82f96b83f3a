//! A brute-force oracle for small sets of ops, of certification's own: every order of the ops
//! is tried (crashed ops may be left out), memoized on the ops done and the model's state.

use crate::model::Model;
use ahash::AHashSet;

/// The most ops the oracle is asked about: 2^12 subsets times the states they reach.
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
