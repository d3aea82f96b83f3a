//! Turning the fields of one op map into an [`Event`]: shared by the EDN and JSON readers, which
//! differ only in syntax.

use super::error::{ErrorKind, Problem};
use super::event::{Event, EventKind, Process};
use super::value::Value;

/// The fields labrys interprets. Readers match key names to these directly from the input
/// bytes, so a history's repeated keys never become [`Value`]s.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Field {
    Index,
    Time,
    Type,
    Process,
    F,
    Value,
    Key,
}

impl Field {
    /// The field a key names (without EDN's colon), if labrys interprets it.
    pub(crate) fn from_name(name: &[u8]) -> Option<Field> {
        match name {
            b"index" => Some(Field::Index),
            b"time" => Some(Field::Time),
            b"type" => Some(Field::Type),
            b"process" => Some(Field::Process),
            b"f" => Some(Field::F),
            b"value" => Some(Field::Value),
            b"key" => Some(Field::Key),
            _ => None,
        }
    }

    /// The field whose name `text` starts with, and the name's length. The caller checks that
    /// the name ends there. Matching on the first byte is quicker than finding the end of the
    /// name and then comparing it, and readers do this for every key of every op.
    #[inline]
    pub(crate) fn prefix_of(text: &[u8]) -> Option<(Field, usize)> {
        // Fixed-size comparisons compile to a load and a compare; a slice `starts_with`
        // would call memcmp.
        fn is<const N: usize>(text: &[u8], name: &[u8; N], field: Field) -> Option<(Field, usize)> {
            (text.first_chunk::<N>() == Some(name)).then_some((field, N))
        }
        match text.first()? {
            b'i' => is(text, b"index", Field::Index),
            b't' if text.get(1) == Some(&b'i') => is(text, b"time", Field::Time),
            b't' => is(text, b"type", Field::Type),
            b'p' => is(text, b"process", Field::Process),
            b'f' => Some((Field::F, 1)),
            b'v' => is(text, b"value", Field::Value),
            b'k' => is(text, b"key", Field::Key),
            _ => None,
        }
    }
}

/// The fields of one op map, collected as the reader meets them.
pub(crate) struct EventFields {
    index: Option<u64>,
    time: Option<i64>,
    kind: Option<EventKind>,
    process: Option<Process>,
    f: Option<Value>,
    value: Value,
    key: Option<Value>,
    extra: Vec<(Value, Value)>,
}

impl EventFields {
    pub(crate) fn new() -> EventFields {
        EventFields {
            index: None,
            time: None,
            kind: None,
            process: None,
            f: None,
            value: Value::Nil,
            key: None,
            extra: Vec::new(),
        }
    }

    /// Records one field. `span` is the byte range of the field's value, for errors.
    pub(crate) fn set(&mut self, key: Value, value: Value, span: (usize, usize)) -> Result<(), Problem> {
        let field = match &key {
            Value::Keyword(k) | Value::Str(k) => Field::from_name(k.as_bytes()),
            _ => None,
        };
        match field {
            Some(field) => self.set_field(field, value, span),
            None => {
                self.extra.push((key, value));
                Ok(())
            }
        }
    }

    /// Records an integer `:index`, `:time` or `:process` the reader has already read. False,
    /// recording nothing, when the integer is out of the field's range (or the field takes no
    /// integer): the reader then takes its general path, which reports the problem.
    pub(crate) fn set_int(&mut self, field: Field, n: i64) -> bool {
        match field {
            Field::Index => match u64::try_from(n) {
                Ok(i) => self.index = Some(i),
                Err(_) => return false,
            },
            Field::Time => self.time = Some(n),
            Field::Process => match u32::try_from(n) {
                Ok(p) => self.process = Some(Process::Client(p)),
                Err(_) => return false,
            },
            _ => return false,
        }
        true
    }

    /// Records a `:type` the reader has already recognised.
    pub(crate) fn set_kind(&mut self, kind: EventKind) {
        self.kind = Some(kind);
    }

    /// Records an `:f` the reader has already read as a keyword.
    pub(crate) fn set_f(&mut self, f: Value) {
        self.f = Some(f);
    }

    /// Records one interpreted field, checking that its value has the right shape.
    pub(crate) fn set_field(
        &mut self,
        field: Field,
        value: Value,
        span: (usize, usize),
    ) -> Result<(), Problem> {
        let bad = |what: &str, expected: &str| {
            Err(Problem::new(ErrorKind::BadField, span.0, span.1, format!("{what} is {value}"), expected))
        };
        match field {
            Field::Type => match value.as_name().and_then(EventKind::from_name) {
                Some(kind) => self.kind = Some(kind),
                None if value.as_name().is_some() => {
                    return Err(Problem::new(
                        ErrorKind::UnknownType,
                        span.0,
                        span.1,
                        format!("unknown :type {value}"),
                        EventKind::EXPECTED,
                    ));
                }
                None => return bad(":type", EventKind::EXPECTED),
            },
            Field::Process => {
                self.process = Some(match &value {
                    Value::Int(p) => match u32::try_from(*p) {
                        Ok(p) => Process::Client(p),
                        Err(_) => {
                            return bad(
                                ":process",
                                "a process number from 0 to 4294967295, or a name such as :nemesis",
                            );
                        }
                    },
                    Value::Keyword(_) | Value::Str(_) | Value::Symbol(_) => Process::Other(keywordize(value)),
                    _ => return bad(":process", "a process number, or a name such as :nemesis"),
                })
            }
            Field::Index => match value.as_int().and_then(|i| u64::try_from(i).ok()) {
                Some(i) => self.index = Some(i),
                None => return bad(":index", "a non-negative integer"),
            },
            Field::Time => match value.as_int() {
                Some(t) => self.time = Some(t),
                None => return bad(":time", "an integer (nanoseconds)"),
            },
            Field::F => self.f = Some(keywordize(value)),
            Field::Value => self.value = value,
            Field::Key => self.key = Some(value),
        }
        Ok(())
    }

    /// The event, or a [`ErrorKind::MissingField`] problem pointing at the whole map.
    #[inline]
    pub(crate) fn finish(self, offset: usize, len: usize, line: u32) -> Result<Event, Problem> {
        let missing_all = |fields: &[&str]| {
            Err(Problem::new(
                ErrorKind::MissingField,
                offset,
                len,
                format!("this op has no {}", fields.join(" and no ")),
                format!("an op map with :type, :process and :f (missing {})", fields.join(" and ")),
            ))
        };
        let missing = |field: &str| missing_all(&[field]);
        let Some(kind) = self.kind else { return missing(":type") };
        // Elle's example histories have no :process; whether that is allowed depends on the
        // rest of the history, which the builder sees.
        let process = self.process.unwrap_or(Process::Absent);
        let f = match (self.f, &process) {
            (Some(f), _) => f,
            // Fault injectors are not always consistent about :f; a client op always has one.
            (None, Process::Other(_)) => Value::Nil,
            // ... except in Elle's and elle-cli's histories, which leave it out of transactions.
            (None, _) if is_transaction(&self.value) => Value::keyword("txn"),
            (None, Process::Absent) => return missing_all(&[":process", ":f"]),
            (None, Process::Client(_)) => return missing(":f"),
        };
        Ok(Event {
            index: self.index,
            time: self.time,
            kind,
            process,
            f,
            value: self.value,
            key: self.key,
            extra: self.extra,
            offset,
            len,
            line,
        })
    }
}

/// Whether a value is a transaction's micro-ops: a non-empty vector of `[f k v]` vectors whose
/// `f` is a name (`:append`, `:r`, `:w`...).
fn is_transaction(v: &Value) -> bool {
    v.as_seq().is_some_and(|mops| {
        !mops.is_empty()
            && mops.iter().all(|m| m.as_seq().is_some_and(|m| m.len() == 3 && m[0].as_name().is_some()))
    })
}

/// JSON spells keywords as strings; `:f` and process names are keywords in every format.
fn keywordize(v: Value) -> Value {
    match v {
        Value::Str(s) => Value::Keyword(s),
        other => other,
    }
}
