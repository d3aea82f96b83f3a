//! Sequential specifications: what a single object is supposed to do, one op at a time.
//!
//! A [`Model`] has a small required surface, in the manner of stateright: an initial state,
//! a way to decode a history's op into the model's own op type, and a step function. Everything
//! else (describing ops and states, explaining why a step is impossible) has a default.
//! Researchers plug in their own models by implementing the trait; the checkers are generic over
//! it.
//!
//! Decoding happens once per op before any search, so [`Model::step`], which the search calls
//! millions of times, works on compact, pre-digested ops and never parses a [`Value`].

mod register;

pub use register::{CasRegister, Register, RegisterOp};

use crate::history::Value;
use std::fmt::Debug;
use std::hash::Hash;

/// An operation as a model sees it: the function, the invocation's value, and the completion's
/// value when the op is known to have completed `:ok`.
///
/// For keyed histories this is the per-key view: `input` and `output` are the `v` of `[k v]`.
#[derive(Clone, Copy, Debug)]
pub struct OpView<'a> {
    /// `:f` as a name (`"read"`, `"write"`, `"cas"`...).
    pub f: &'a str,
    /// The invocation's value.
    pub input: &'a Value,
    /// The completion's value, or `None` when the op's outcome is unknown (`:info`, or never
    /// completed): such an op may take effect or not, and its result is not known.
    pub output: Option<&'a Value>,
    /// The op's `:key`, when it had one (the `kv` model uses it).
    pub key: Option<&'a Value>,
}

/// Why a history op cannot be given to a model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    /// What is wrong, in words ("a cas needs [old new], got 3").
    pub message: String,
}

impl DecodeError {
    /// A decode error with the given message.
    pub fn new(message: impl Into<String>) -> DecodeError {
        DecodeError { message: message.into() }
    }
}

/// A sequential specification of one object.
///
/// Contract: `step` is a pure function of `(state, op)`; equal states (by `Eq`) must behave
/// identically, since the search memoizes on them.
pub trait Model: Send + Sync {
    /// The object's state. Hashing and equality are used for memoization.
    type State: Clone + Eq + Hash + Debug + Send;
    /// An operation decoded from the history.
    type Op: Clone + Debug + Send + Sync;

    /// The model's name as the command line spells it (`cas-register`).
    fn name(&self) -> &str;

    /// The initial state.
    fn init(&self) -> Self::State;

    /// Decodes one history op. An op whose `:f` or value the model does not understand is an
    /// error, never silently ignored.
    fn decode(&self, op: &OpView<'_>) -> Result<Self::Op, DecodeError>;

    /// Applies `op` to `state`: the next state, or `None` if the op could not have happened in
    /// `state` (a read of the wrong value, a cas whose expected value does not match).
    fn step(&self, state: &Self::State, op: &Self::Op) -> Option<Self::State>;

    /// Every state `op` may lead to from `state`. Deterministic models keep the default (the
    /// one result of [`Model::step`]); a model whose op has several possible outcomes (a crashed
    /// dequeue may have removed any element) overrides this.
    fn step_all(&self, state: &Self::State, op: &Self::Op, out: &mut Vec<Self::State>) {
        out.extend(self.step(state, op));
    }

    /// True when the op cannot change the state (a read): a crashed such op constrains
    /// nothing and is dropped before the search.
    fn is_read_only(&self, _op: &Self::Op) -> bool {
        false
    }

    /// The op in words, for reports ("write 3", "cas 2→4").
    fn describe_op(&self, op: &Self::Op) -> String {
        format!("{op:?}")
    }

    /// The state in words ("3", "{1 2}").
    fn describe_state(&self, state: &Self::State) -> String {
        format!("{state:?}")
    }

    /// Why `op` is impossible in `state`, in words an engineer can act on ("read 3, but the
    /// register held 4"). Only called when [`Model::step`] returned `None`.
    fn explain(&self, state: &Self::State, op: &Self::Op) -> String {
        format!("{} is impossible when the state is {}", self.describe_op(op), self.describe_state(state))
    }
}

/// The models `--model` accepts, with what each expects, for help text and error messages.
pub const MODELS: &[(&str, &str)] = &[
    ("register", "read, write; one value, initially nil (or --init)"),
    ("cas-register", "read, write, cas [old new]; one value"),
    ("mutex", "acquire, release"),
    ("set", "add v, read (the whole set)"),
    ("counter", "add/increment v, read; initially 0"),
    ("unordered-queue", "enqueue v, dequeue; a multiset"),
    ("fifo-queue", "enqueue v, dequeue; a FIFO queue"),
    ("kv", "get, put, append with :key; string values, initially \"\""),
    ("multi-register", "txn of [:read k v] / [:write k v]; a map of registers"),
];

/// Shared decoding helper: the `[a b]` pair a cas (or similar) carries.
pub(crate) fn pair<'a>(v: &'a Value, what: &str) -> Result<(&'a Value, &'a Value), DecodeError> {
    match v.as_seq() {
        Some([a, b]) => Ok((a, b)),
        _ => Err(DecodeError::new(format!("{what} needs a pair [a b], got {v}"))),
    }
}

/// Shared decoding helper: the error for an `:f` a model does not have.
pub(crate) fn unknown_f(model: &str, f: &str, expected: &str) -> DecodeError {
    DecodeError::new(format!("the {model} model has no operation :{f} (it has {expected})"))
}
