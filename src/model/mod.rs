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

mod counter;
mod kv;
mod kv_trace;
mod multi_register;
mod mutex;
mod queue;
mod register;
mod register_trace;
mod set;
mod set_state;
mod set_trace;

pub use counter::{Counter, CounterOp};
pub use kv::{Kv, KvAction, KvOp, KvState};
pub use multi_register::{MicroOp, MultiRegister, MultiRegisterTxn, Registers};
pub use mutex::{Mutex, MutexOp};
pub use queue::{Dequeued, FifoQueue, QueueOp, UnorderedQueue};
pub use register::{CasRegister, Register, RegisterOp};
pub use set::{Set, SetOp};
pub use set_state::SetState;

use crate::history::Value;
use crate::vocab::ClassKind;
use std::fmt::Debug;
use std::hash::Hash;
use std::sync::Arc;

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

/// How the register models read a completed read that returned `nil` (`--nil-reads`).
///
/// Porcupine's etcd histories start `nil` and read it: there `nil` is a value. Knossos's
/// register models take a read of `nil` to match any state, and Jepsen histories checked with
/// `(cas-register 0)` hold such reads where the register can never be `nil`. The command line
/// chooses from the history (see [`Register::settle_nil_reads`]); a model built by hand reads
/// `nil` as a value unless told otherwise.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum NilReads {
    /// `nil` is a value: a read of `nil` saw the register hold `nil`.
    #[default]
    Value,
    /// `nil` means the read's value is unknown: the read constrains nothing.
    Unknown,
}

/// Why a history op cannot be given to a model.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
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

/// A fact about part of an object's state, for the sequential search's look-ahead: `slot`
/// (0 for a single object; the key in a joint check) holds the value whose hash is `value`.
/// Hash collisions only make the look-ahead prune less, never wrongly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Fact {
    /// Which part of the state.
    pub slot: u32,
    /// A hash of the value it holds.
    pub value: u64,
}

impl Fact {
    /// The fact that slot 0 holds `value`.
    pub fn of<T: Hash>(value: &T) -> Fact {
        Fact { slot: 0, value: ahash::RandomState::with_seeds(11, 12, 13, 14).hash_one(value) }
    }
}

/// Why one op must take effect before another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EdgeKind {
    /// The later op saw the value the earlier one wrote.
    ReadsFrom,
    /// The earlier op's write came directly before the later op's, as a read of both shows.
    Version,
    /// The earlier op saw a state that the later op's write replaced.
    AntiDependency,
    /// The earlier op completed before the later op began.
    RealTime,
    /// The same process ran the earlier op before the later one.
    Process,
}

impl EdgeKind {
    /// Short name, as Elle spells edges (`wr`, `ww`, `rw`, `rt`).
    pub fn short(self) -> &'static str {
        match self {
            EdgeKind::ReadsFrom => "wr",
            EdgeKind::Version => "ww",
            EdgeKind::AntiDependency => "rw",
            EdgeKind::RealTime => "rt",
            EdgeKind::Process => "po",
        }
    }

    /// The name Elle's transactional reports give it (`ww`, `wr`, `rw`, `realtime`,
    /// `process`): the transactional JSON's cycle steps are spelled so, as the schema says.
    pub fn elle(self) -> &'static str {
        match self {
            EdgeKind::RealTime => "realtime",
            EdgeKind::Process => "process",
            other => other.short(),
        }
    }
}

/// `before` must take effect before `after` (indices into the ops given to
/// [`Model::implied_order`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Edge {
    /// The op that must come first.
    pub before: u32,
    /// The op that must come after it.
    pub after: u32,
    /// Why.
    pub kind: EdgeKind,
}

/// Ops that cannot all have happened as observed, whatever the order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict {
    /// The ops involved (indices into the ops given to [`Model::implied_order`]).
    pub ops: Vec<u32>,
    /// Why, in words.
    pub reason: String,
    /// The class of violation it shows, when it is one the explainer names
    /// (`duplicate-effect`, `garbage-read`).
    pub kind: Option<ClassKind>,
}

/// What a model can infer about the order of a part's ops without searching.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Implied {
    /// Orders that hold in every linearization.
    pub edges: Vec<Edge>,
    /// Definite violations.
    pub conflicts: Vec<Conflict>,
}

/// An observation that shows more effects than the ops that could precede it can have had,
/// each applied at most once (see [`Model::over_count`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OverCount {
    /// What the observing op saw, in words ("read 5", "dequeued 3 for the 2nd time").
    pub observed: String,
    /// What the other ops could have produced at most, in words ("the adds that could
    /// precede it total at most 3", "3 was enqueued once").
    pub possible: String,
    /// The ops that could supply effects (the adds, the enqueues), as indices into `before`
    /// followed by `maybe` (the lists [`Model::over_count`] was given), for the explanation to
    /// cite.
    pub counted: Vec<usize>,
    /// The ops that used effects up before the observer (earlier dequeues of the same
    /// element), indexed the same way.
    pub consumed: Vec<usize>,
}

/// A register op as the zone test reads it (see [`Model::register_access`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access<'a> {
    /// A read that returned this value (`None`: its result is unknown, so it constrains nothing).
    Read(Option<&'a Value>),
    /// A write of this value.
    Write(&'a Value),
    /// A compare-and-set: if the register holds `.0`, set it to `.1` (the cas-chain fast path
    /// reads it; the zone test leaves a key with one to others).
    Cas(&'a Value, &'a Value),
}

/// A sequential specification of one object.
///
/// Contract: `step` is a pure function of `(state, op)`; equal states (by `Eq`) must behave
/// identically, since the search memoizes on them.
///
/// Only [`Model::name`], [`Model::init`], [`Model::decode`] and [`Model::step`] are required;
/// the rest are hints for the searches and words for the reports, with sound defaults.
/// [`crate::check::check_with_model`] checks a history against any model and gives the same
/// certified reports (text, JSON, HTML, JUnit) as the built-in models get.
///
/// # Example
///
/// A max register, checked and reported (this is `examples/custom_model.rs`; run it with
/// `cargo run --release --example custom_model`):
///
/// ```
#[doc = include_str!("../../examples/custom_model.rs")]
/// ```
pub trait Model: Send + Sync {
    /// The object's state. Hashing and equality are used for memoization.
    type State: Clone + Eq + Hash + Debug + Send;
    /// An operation decoded from the history. Equality lets the search treat identical
    /// crashed ops as interchangeable.
    type Op: Clone + Debug + Eq + Hash + Send + Sync;

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

    /// Heap bytes `state` owns beyond its own `size_of` (a set's elements), which the searches
    /// charge against the memory budget (`--max-memory`) for every state they keep. The
    /// default, 0, is right for states that own no heap memory (a number, a flag); a model
    /// whose state holds a collection must override it, or the budget is not kept.
    fn state_heap_bytes(&self, _state: &Self::State) -> usize {
        0
    }

    /// Every state `op` may lead to from `state`. Deterministic models keep the default (the
    /// one result of [`Model::step`]); a model whose op has several possible outcomes (a crashed
    /// dequeue may have removed any element) overrides this.
    fn step_all(&self, state: &Self::State, op: &Self::Op, out: &mut Vec<Self::State>) {
        out.extend(self.step(state, op));
    }

    /// Orders every linearization must respect, and contradictions, derived from the values
    /// the ops saw: reads-from (a read saw the value only one write wrote) and the version
    /// order that follows. `ops` are the ops of one part (key) of the history: `ops[..completed]`
    /// completed, so they certainly took effect; the rest crashed and may or may not have.
    ///
    /// Must be sound: an edge `a → b` may only say that a precedes b in every linearization
    /// that includes b, and must imply that a is then included too (a read's unique writer, say);
    /// a conflict only what no linearization allows. The default derives nothing, which is
    /// always sound; the search then has less to prune with.
    fn implied_order(&self, _ops: &[Self::Op], _completed: usize) -> Implied {
        Implied::default()
    }

    /// What the op needs to find to take effect, whatever came before: a read's value, a
    /// cas's expected value. With [`Model::leaves`] and [`Model::holds`], lets the sequential
    /// search see early that an op can never take effect again (nothing left would bring back
    /// what it needs). Default: `None` (no look-ahead).
    fn needs(&self, _op: &Self::Op) -> Option<Fact> {
        None
    }

    /// What the op always leaves behind, whatever it found: a write's value, a cas's new value.
    /// Must be `Some` for every op that can bring about a fact some op [`Model::needs`], or the
    /// look-ahead would prune wrongly. Default: `None`.
    ///
    /// A model that implements this promises what the searches' pruning relies on (they drop
    /// crashed ops that leave a fact nobody needs, and the sequential search applies a crashed
    /// op only right before an op that needs what it left): the state is made of slots, each
    /// holding one value; an op that leaves `f` sets slot `f.slot` to the value `f` names,
    /// whatever it found, and changes no other slot; every op that changes a slot leaves a
    /// fact on it; an op that needs `f` succeeds only if slot `f.slot` holds that value, and
    /// its success depends on no other slot; every op whose success depends on the state needs
    /// a fact.
    fn leaves(&self, _op: &Self::Op) -> Option<Fact> {
        None
    }

    /// Whether `state` already satisfies `fact`. May say true wrongly (that only weakens the
    /// look-ahead), never false wrongly. Default: true.
    fn holds(&self, _state: &Self::State, _fact: Fact) -> bool {
        true
    }

    /// For models with a measure of the state that only grows (a counter's count while no add
    /// is negative): each op's ceiling, the highest [`Model::measure`] of a state it can
    /// succeed in (`i64::MAX`: any), or `None` when some of `ops` could lower the measure. Lets
    /// the linearizability search drop a configuration as soon as its measure passed the
    /// ceiling of a completed op not yet linearized, since nothing left can bring it back.
    ///
    /// Must be sound: `Some` only if, from the model's initial state, every op of `ops` leaves
    /// a state whose measure is at least the one it found, and each op succeeds only in states
    /// whose measure is at most its ceiling. Default: `None`.
    fn ceilings(&self, _ops: &[Self::Op]) -> Option<Vec<i64>> {
        None
    }

    /// The measure [`Model::ceilings`] bounds. Default: 0.
    fn measure(&self, _state: &Self::State) -> i64 {
        0
    }

    /// True when the op cannot change the state (a read): a crashed such op constrains
    /// nothing and is dropped before the search.
    fn is_read_only(&self, _op: &Self::Op) -> bool {
        false
    }

    /// Duplicate effects, for models whose effects can be counted (a counter's adds, a
    /// queue's enqueues): whether `observer`'s result needs more effects than `before` (ops
    /// that certainly took effect before it) and `maybe` (ops that may have) could have had,
    /// each applied at most once, starting from `init`. Must be sound: `Some` only when no
    /// subset of `maybe`, with all of `before`, applied once each in any order before
    /// `observer`, gives its result — so the history shows an effect applied twice (or one
    /// nobody asked for). Default: `None` (nothing counted).
    fn over_count(
        &self,
        _init: &Self::State,
        _observer: &Self::Op,
        _before: &[&Self::Op],
        _maybe: &[&Self::Op],
    ) -> Option<OverCount> {
        None
    }

    /// For models that are read/write registers: the initial value, so that keys whose written
    /// values are unique can be decided by the zone test (see [`Model::register_access`]).
    /// Default: `None` (not a register; every key is searched).
    fn register_init(&self) -> Option<&Value> {
        None
    }

    /// For models that are read/write registers ([`Model::register_init`] is `Some`): the op as
    /// a read or a write, or `None` for any other op (a key with one is searched). A model that
    /// answers promises that [`Model::step`] is exactly a register's on these ops: a read of
    /// `Some(v)` succeeds only when the state is `v`, a read of `None` always, neither changes
    /// the state, and a write of `v` always succeeds and leaves `v`. Default: `None`.
    fn register_access<'a>(&self, _op: &'a Self::Op) -> Option<Access<'a>> {
        None
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
    ("set", "add v, read (the whole set); initially empty (or --init, a collection)"),
    ("counter", "add/increment v (nil means 1), read; initially 0 (or --init)"),
    ("unordered-queue", "enqueue v, dequeue (nil: found it empty); a multiset"),
    ("fifo-queue", "enqueue v, dequeue (nil: found it empty); a FIFO queue"),
    ("kv", "get, put, append with :key; string values, initially \"\" (or --init, a map)"),
    (
        "multi-register",
        "txn of [:read k v] / [:write k v]; a map of registers, initially nil (or --init, a map)",
    ),
    ("list-append", "txn of [:append k v] / [:r k [v ...]] (Elle); checked by dependency cycles"),
    ("rw-register", "txn of [:w k v] / [:r k v] (Elle); checked by dependency cycles"),
    (
        "total-queue",
        "enqueue v, dequeue, drain (Jepsen's total-queue): each acknowledged element out exactly once",
    ),
    (
        "log",
        "send [k v], poll, assign, subscribe, crash, lag (Jepsen's Kafka workload): ordered logs and consumers",
    ),
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

/// Shared decoding helper: the elements of a collection (vector, list or set), sorted and without
/// duplicates. `nil` is the empty collection, as Clojure's `(set nil)` is. A set's elements are
/// shared with it, not copied.
pub(crate) fn elements(v: &Value, what: &str) -> Result<Arc<[Value]>, DecodeError> {
    let items = match v {
        Value::Nil => return Ok(Arc::from([])),
        Value::Set(items) => return Ok(items.clone()),
        Value::Vector(items) | Value::List(items) => items,
        _ => {
            return Err(DecodeError::new(format!(
                "{what} needs a collection (vector, list or set), got {v}"
            )));
        }
    };
    // Reads written in order (as JSON histories' set reads usually are) are shared too.
    if items.windows(2).all(|w| w[0] < w[1]) {
        return Ok(items.clone());
    }
    let mut items = items.to_vec();
    items.sort();
    items.dedup();
    Ok(items.into())
}

/// How many elements a description shows before eliding the rest: a state of 10,000 elements
/// in an explanation buries the one element that matters.
const SHOWN: usize = 32;

/// Shared display helper: `items` space-separated between `open` and `close`, eliding all but
/// the first [`SHOWN`] ("#{1 2 3 … and 97 more}").
pub(crate) fn show(open: &str, items: &[Value], close: &str) -> String {
    let mut s = String::from(open);
    for (i, v) in items.iter().take(SHOWN).enumerate() {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(&v.to_string());
    }
    if items.len() > SHOWN {
        s.push_str(&format!(" … and {} more", items.len() - SHOWN));
    }
    s.push_str(close);
    s
}

/// Shared display helper: elements named in a sentence ("3", "3 and 5", "3, 5 and 7"), eliding
/// all but the first [`SHOWN`].
pub(crate) fn and_list(items: &[Value]) -> String {
    let shown: Vec<String> = items.iter().take(SHOWN).map(Value::to_string).collect();
    let rest = items.len() - shown.len();
    match (shown.split_last(), rest) {
        (None, _) => String::new(),
        (Some((last, [])), 0) => last.clone(),
        (Some((last, init)), 0) => format!("{} and {last}", init.join(", ")),
        (Some(_), rest) => format!("{} and {rest} more", shown.join(", ")),
    }
}

/// Shared state helper for models whose state is a small map kept as `(key, value)` sorted by
/// key, holding only entries whose value differs from the default every absent key has (so
/// that equal contents are equal, equally hashed states): the value of `key`, if not default.
pub(crate) fn entry<'a, V>(entries: &'a [(Value, V)], key: &Value) -> Option<&'a V> {
    entries.binary_search_by(|(k, _)| k.cmp(key)).ok().map(|i| &entries[i].1)
}

/// Shared state helper: sets `key` to `value` in sorted `entries`; `None` (the default value)
/// removes the entry. See [`entry`].
pub(crate) fn set_entry<V>(entries: &mut Vec<(Value, V)>, key: &Value, value: Option<V>) {
    match (entries.binary_search_by(|(k, _)| k.cmp(key)), value) {
        (Ok(i), None) => drop(entries.remove(i)),
        (Ok(i), Some(v)) => entries[i].1 = v,
        (Err(_), None) => {}
        (Err(i), Some(v)) => entries.insert(i, (key.clone(), v)),
    }
}

/// Shared state helper: hand-built initial entries in the canonical form of [`entry`]: sorted,
/// one entry per key (the last given wins, as in [`Value::map`]), no default values.
pub(crate) fn canonical_entries<V: Clone>(
    entries: &[(Value, V)],
    is_default: impl Fn(&V) -> bool,
) -> Vec<(Value, V)> {
    let mut out = Vec::with_capacity(entries.len());
    for (k, v) in entries {
        set_entry(&mut out, k, (!is_default(v)).then(|| v.clone()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_sorts_dedups_and_rejects_scalars() {
        let v = Value::list(vec![3.into(), 1.into(), 3.into()]);
        assert_eq!(*elements(&v, "a read").unwrap(), [Value::Int(1), Value::Int(3)]);
        assert!(elements(&Value::Nil, "a read").unwrap().is_empty());
        // A set's elements are its own, shared.
        let set = Value::set(vec![2.into(), 1.into()]);
        let Value::Set(own) = &set else { unreachable!() };
        assert!(Arc::ptr_eq(own, &elements(&set, "a read").unwrap()));
        // So are a vector's, when it is written in order without repeats; else they are copied.
        let in_order = Value::vector(vec![1.into(), 2.into()]);
        let Value::Vector(own) = &in_order else { unreachable!() };
        assert!(Arc::ptr_eq(own, &elements(&in_order, "a read").unwrap()));
        let repeated = Value::vector(vec![1.into(), 1.into()]);
        assert_eq!(*elements(&repeated, "a read").unwrap(), [Value::Int(1)]);
        let e = elements(&Value::Int(3), "a set :read").unwrap_err();
        assert_eq!(e.message, "a set :read needs a collection (vector, list or set), got 3");
    }

    #[test]
    fn descriptions_elide_long_collections() {
        let few: Vec<Value> = (1..=3).map(Value::Int).collect();
        assert_eq!(show("#{", &few, "}"), "#{1 2 3}");
        assert_eq!(and_list(&few), "1, 2 and 3");
        assert_eq!(and_list(&few[..1]), "1");
        let many: Vec<Value> = (0..40).map(Value::Int).collect();
        assert!(show("[", &many, "]").ends_with("31 … and 8 more]"));
        assert!(and_list(&many).ends_with("31 and 8 more"));
    }

    #[test]
    fn entries_stay_sorted_without_defaults() {
        let (x, y) = (Value::keyword("x"), Value::keyword("y"));
        let mut e = canonical_entries(&[(y.clone(), 1), (x.clone(), 0), (y.clone(), 2)], |v| *v == 0);
        assert_eq!(e, vec![(y.clone(), 2)]);
        set_entry(&mut e, &x, Some(5));
        assert_eq!(e, vec![(x.clone(), 5), (y.clone(), 2)]);
        assert_eq!(entry(&e, &x), Some(&5));
        set_entry(&mut e, &y, None);
        assert_eq!(e, vec![(x.clone(), 5)]);
        assert_eq!(entry(&e, &y), None);
    }
}
