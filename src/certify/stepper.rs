//! How an order's ops move an object's state, for the walk that certifies an order
//! (`KeyCert::walk`): through the model, for any model, or, for a plain register, by comparing
//! the interned ids of its values, with nothing decoded and nothing cloned.

use super::Refuted;
use crate::history::{History, Outcome, Value, ValueId};

/// Steps an object's states through ops of one key, one op at a time.
pub(super) trait Stepper: Sync {
    /// What the object can be in.
    type State: Clone + PartialEq + Send;

    /// The state before any op.
    fn init(&self) -> Self::State;

    /// A guess at the state before `order[at]`, from the ops just before it; only ever a guess,
    /// which the walk compares with the state actually reached.
    fn guess(&self, order: &[u32], at: usize) -> Self::State;

    /// Steps `states` through the op at `pos` (an op of this key, placed, not failed): every
    /// state it may lead to, or why it cannot take effect in any. `next` is scratch space.
    fn step(
        &self,
        states: &mut Vec<Self::State>,
        next: &mut Vec<Self::State>,
        pos: u32,
        claim: &str,
    ) -> Result<(), Refuted>;
}

/// A plain register's ops (`read` and `write`, no cas) whose values are interned whole: equal
/// values share one id, so a read took effect iff the id it returned is the id of the value
/// last written.
///
/// It accepts strictly less than the register model does: a completed read must return exactly
/// the state (a read of `nil` taken as "value unknown" is refused here), a crashed read matches
/// any state, and any other op is refused. The walk that uses it walks again through the model
/// whenever it refuses, so it only ever makes certification faster, never more lenient.
pub(super) struct RegisterIds<'h> {
    history: &'h History,
    read: ValueId,
    write: ValueId,
    /// The initial value's id ([`ValueId::NONE`] if no op mentions it: no read can return it).
    init: ValueId,
}

impl<'h> RegisterIds<'h> {
    /// The stepper for a register starting at `init`, whose ops' inputs and outputs are its
    /// values themselves (not `[key value]` tuples).
    pub(super) fn new(history: &'h History, init: &Value) -> RegisterIds<'h> {
        let id = |v: &Value| history.values.lookup(v).unwrap_or(ValueId::NONE);
        RegisterIds {
            history,
            read: id(&Value::Keyword("read".into())),
            write: id(&Value::Keyword("write".into())),
            init: id(init),
        }
    }
}

impl Stepper for RegisterIds<'_> {
    type State = ValueId;

    fn init(&self) -> ValueId {
        self.init
    }

    /// The last write before `order[at]` among the 64 ops before it, or the initial value:
    /// right whenever there is such a write.
    fn guess(&self, order: &[u32], at: usize) -> ValueId {
        const LOOK_BACK: usize = 64;
        let window = &order[at.saturating_sub(LOOK_BACK)..at];
        let ops = window.iter().rev().map(|&p| &self.history.ops[p as usize]);
        ops.filter(|o| o.f == self.write).map(|o| o.input).next().unwrap_or(self.init)
    }

    fn step(
        &self,
        states: &mut Vec<ValueId>,
        _: &mut Vec<ValueId>,
        pos: u32,
        claim: &str,
    ) -> Result<(), Refuted> {
        let o = &self.history.ops[pos as usize];
        let state = states.first_mut().expect("a register is in one state");
        // Selects, not branches: reads and writes come in no predictable order, and a
        // mispredicted branch on `f` waits on the load of the op.
        let write = o.f == self.write;
        let read_fits = o.f == self.read && (o.outcome != Outcome::Ok || o.output == *state);
        *state = if write { o.input } else { *state };
        if write | read_fits {
            Ok(())
        } else {
            Err(Refuted::new(
                claim,
                format!("the op at position {pos} is not a read of the value last written"),
            ))
        }
    }
}
