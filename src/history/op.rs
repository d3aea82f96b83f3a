//! Operations (an invocation paired with its completion), the fault timeline, interned values,
//! and the `History` that holds them.

use super::event::EventKind;
use super::flat::{self, FlatValue};
use super::value::Value;

/// An interned value: an index into [`ValueTable`]. Checkers compare these, not trees.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ValueId(pub u32);

impl ValueId {
    /// `nil` is always interned first.
    pub const NIL: ValueId = ValueId(0);
    /// Marks an absent value (an op with no `:key`).
    pub const NONE: ValueId = ValueId(u32::MAX);
}

/// Interns values to dense small integers. `nil` is always [`ValueId::NIL`].
///
/// Each distinct value is held once: the index holds only ids and hashes, so a large value (a
/// set read of thousands of elements) is not kept a second time as a map key. Values are filed
/// under `flat::hash_value`, so that a flat value read without building a [`Value`] finds its
/// id the same way (`ValueTable::intern_flat`).
#[derive(Clone, Debug)]
pub struct ValueTable {
    values: Vec<Value>,
    /// Each id with its value's hash (kept, so that growing the index hashes no value again).
    ids: hashbrown::HashTable<(u64, ValueId)>,
}

impl Default for ValueTable {
    fn default() -> Self {
        let mut t = ValueTable { values: Vec::new(), ids: hashbrown::HashTable::new() };
        t.intern(Value::Nil);
        t
    }
}

impl ValueTable {
    /// The id of `v`, interning it if new.
    pub fn intern(&mut self, v: Value) -> ValueId {
        let hash = flat::hash_value(&v);
        match self.find(hash, |stored| *stored == v) {
            Some(id) => id,
            None => self.insert(hash, v),
        }
    }

    /// The id of the value `v` holds (whose [`FlatValue::hash`] is `hash`), interning it if new:
    /// the id [`ValueTable::intern`] gives the same value, without building it unless it is new.
    pub(crate) fn intern_flat(&mut self, v: &FlatValue, hash: u64) -> ValueId {
        debug_assert_eq!(hash, v.hash());
        match self.find(hash, |stored| v.matches(stored)) {
            Some(id) => id,
            None => self.insert(hash, v.built()),
        }
    }

    fn insert(&mut self, hash: u64, v: Value) -> ValueId {
        let id = ValueId(u32::try_from(self.values.len()).expect("more than 2^32 distinct values"));
        self.values.push(v);
        self.ids.insert_unique(hash, (hash, id), |&(h, _)| h);
        id
    }

    fn find(&self, hash: u64, is: impl Fn(&Value) -> bool) -> Option<ValueId> {
        let values = &self.values;
        self.ids.find(hash, |&(h, id)| h == hash && is(&values[id.0 as usize])).map(|&(_, id)| id)
    }

    /// The id of `v` if it was interned.
    pub fn lookup(&self, v: &Value) -> Option<ValueId> {
        self.find(flat::hash_value(v), |stored| stored == v)
    }

    /// The value behind `id`. Panics on an id from another table.
    pub fn get(&self, id: ValueId) -> &Value {
        &self.values[id.0 as usize]
    }

    /// How many distinct values are interned.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Never true: `nil` is always present.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Approximate heap bytes used by the table itself (not counting the text of strings).
    pub fn heap_bytes(&self) -> usize {
        let per_value = std::mem::size_of::<Value>();
        self.values.capacity() * per_value + self.ids.capacity() * (std::mem::size_of::<(u64, ValueId)>() + 1)
    }
}

/// How an operation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Outcome {
    /// `:ok`: it took effect, with the completion's value.
    Ok,
    /// `:fail`: it certainly did not take effect.
    Fail,
    /// `:info`: it may have taken effect at any moment after its invocation, or never.
    Info,
    /// No completion before the end of the history: treated exactly as `:info`.
    Open,
}

impl Outcome {
    /// True when the op may or may not have taken effect (`:info` or never completed).
    pub fn is_indeterminate(self) -> bool {
        matches!(self, Outcome::Info | Outcome::Open)
    }

    /// The name used in summaries and reports.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Fail => "fail",
            Outcome::Info => "info",
            Outcome::Open => "open",
        }
    }
}

/// One logical operation: an invocation paired with its completion.
///
/// Kept to 64 bytes so that a history of 10^7 register ops fits in well under a gigabyte.
/// Times are `:time` values when every event has one, else event positions (see
/// [`History::clock`]); an op that never completed has `complete_time == i64::MAX`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Op {
    /// The client process (an integer in the input).
    pub process: u32,
    /// `:f`, interned.
    pub f: ValueId,
    /// `:key`, interned, or [`ValueId::NONE`].
    pub key: ValueId,
    /// The invocation's `:value`.
    pub input: ValueId,
    /// The completion's `:value` (`nil` for an op that never completed).
    pub output: ValueId,
    /// How it ended.
    pub outcome: Outcome,
    /// When it was invoked.
    pub invoke_time: i64,
    /// When it completed (`i64::MAX` if never).
    pub complete_time: i64,
    /// The invocation's `:index` (or its position in the input when it had none).
    pub invoke_index: u64,
    /// The completion's `:index` (`u64::MAX` if never completed).
    pub complete_index: u64,
    /// The invocation's line in the input.
    pub invoke_line: u32,
    /// The completion's line (0 if never completed).
    pub complete_line: u32,
}

/// One nemesis (or other non-client) event: the fault timeline.
#[derive(Clone, Debug, PartialEq)]
pub struct Fault {
    /// Who issued it (usually `:nemesis`).
    pub process: Value,
    /// Its `:type`.
    pub kind: EventKind,
    /// Its `:f` (`:start-partition`, `:kill`...).
    pub f: Value,
    /// Its `:value` (often the partition's grouping or the nodes affected).
    pub value: Value,
    /// When, on the same clock as the ops' times.
    pub time: i64,
    /// `:index`, or position.
    pub index: u64,
    /// Line in the input.
    pub line: u32,
}

/// Fields of an event beyond the ones labrys interprets, kept for reports.
#[derive(Clone, Debug, PartialEq)]
pub struct ExtraFields {
    /// The op they belong to (index into [`History::ops`]).
    pub op: u32,
    /// Whether they were on the invocation or the completion.
    pub on: EventKind,
    /// The fields, in input order.
    pub fields: Vec<(Value, Value)>,
}

/// What clock the ops' times are on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    /// Every event carried `:time`; times are those.
    Time,
    /// Some event lacked `:time`; times are event positions (0, 1, 2...).
    Position,
}

/// A pairing problem that `--lenient` turned into a warning.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    /// 1-based line.
    pub line: u32,
    /// What was wrong and what was done about it.
    pub message: String,
}

/// A history, read and paired: the input to every checker.
#[derive(Clone, Debug)]
pub struct History {
    /// The file it came from, as the user named it.
    pub source: String,
    /// Client operations, in invocation order.
    pub ops: Vec<Op>,
    /// Non-client events, in input order.
    pub faults: Vec<Fault>,
    /// Interned `:f`, `:key` and `:value` values.
    pub values: ValueTable,
    /// Extra fields, only for ops that had any.
    pub extras: Vec<ExtraFields>,
    /// What `invoke_time` and `complete_time` measure.
    pub clock: Clock,
    /// Pairing problems tolerated under `--lenient`.
    pub warnings: Vec<Warning>,
    /// Events in the input (client and fault).
    pub event_count: usize,
}

impl History {
    /// The value behind an id.
    pub fn value(&self, id: ValueId) -> &Value {
        self.values.get(id)
    }

    /// The name of an op's `:f` (`"read"`), or its EDN text if it is not a keyword or string.
    pub fn f_name(&self, op: &Op) -> String {
        let f = self.value(op.f);
        f.as_name().map_or_else(|| f.to_string(), str::to_string)
    }

    /// Approximate heap bytes held: ops, faults, values, extras.
    pub fn heap_bytes(&self) -> usize {
        self.ops.capacity() * std::mem::size_of::<Op>()
            + self.faults.capacity() * std::mem::size_of::<Fault>()
            + self.extras.capacity() * std::mem::size_of::<ExtraFields>()
            + self.values.heap_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn op_is_64_bytes() {
        assert_eq!(std::mem::size_of::<Op>(), 64);
    }

    #[test]
    fn nil_is_interned_first() {
        let mut t = ValueTable::default();
        assert_eq!(t.intern(Value::Nil), ValueId::NIL);
        let a = t.intern(Value::Int(3));
        assert_eq!(t.intern(Value::Int(3)), a);
        assert_ne!(a, ValueId::NIL);
        assert_eq!(t.get(a), &Value::Int(3));
    }

    /// Many values, large and small, through the index's growth: equal values get one id,
    /// lookups find exactly the interned ones.
    #[test]
    fn interning_gives_one_id_per_distinct_value() {
        let mut t = ValueTable::default();
        let value = |i: i64| match i % 3 {
            0 => Value::Int(i),
            1 => Value::Str(format!("s{i}").into()),
            _ => Value::set((0..i % 50).map(Value::Int).collect()),
        };
        let ids: Vec<ValueId> = (0..5_000).map(|i| t.intern(value(i))).collect();
        for i in 0..5_000 {
            assert_eq!(t.intern(value(i)), ids[i as usize]);
            assert_eq!(t.lookup(&value(i)), Some(ids[i as usize]));
            assert_eq!(t.get(ids[i as usize]), &value(i));
        }
        // nil, 1,667 integers, 1,667 strings, and 50 sets (one per size: the rest repeat them).
        assert_eq!(t.len(), 1 + 1_667 + 1_667 + 50);
        assert_eq!(t.lookup(&Value::Int(-1)), None);
    }
}
