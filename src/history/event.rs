//! Raw events, one per line (or map) of the input, before invocations are paired with
//! completions.

use super::value::Value;

/// The `:type` of an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventKind {
    /// `:invoke`: a process starts an operation.
    Invoke,
    /// `:ok`: the operation took effect.
    Ok,
    /// `:fail`: the operation certainly did not take effect.
    Fail,
    /// `:info`: the outcome is unknown (a timeout, a crash).
    Info,
}

impl EventKind {
    /// Parses a `:type` name (without colon).
    pub fn from_name(name: &str) -> Option<EventKind> {
        match name {
            "invoke" => Some(EventKind::Invoke),
            "ok" => Some(EventKind::Ok),
            "fail" => Some(EventKind::Fail),
            "info" => Some(EventKind::Info),
            _ => None,
        }
    }

    /// Parses a `:type` name (without colon) from raw input bytes.
    pub(crate) fn from_bytes(name: &[u8]) -> Option<EventKind> {
        match name {
            b"invoke" => Some(EventKind::Invoke),
            b"ok" => Some(EventKind::Ok),
            b"fail" => Some(EventKind::Fail),
            b"info" => Some(EventKind::Info),
            _ => None,
        }
    }

    /// The name as Jepsen writes it, without colon.
    pub fn name(self) -> &'static str {
        match self {
            EventKind::Invoke => "invoke",
            EventKind::Ok => "ok",
            EventKind::Fail => "fail",
            EventKind::Info => "info",
        }
    }

    /// The words every reader uses when a `:type` is not one of these.
    pub const EXPECTED: &'static str = "one of :invoke, :ok, :fail, :info";
}

/// Who issued an event: a client process (an integer) or something else, such as the
/// `:nemesis`, whose events are faults rather than operations.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Process {
    /// A client process.
    Client(u32),
    /// A non-integer process: the nemesis, or another fault injector.
    Other(Value),
    /// A client event with no `:process` at all, as in Elle's example histories. Allowed only
    /// when no client event of the history has one: the builder then reads the history as one
    /// whose invocations and completions alternate (see [`super::HistoryBuilder`]).
    Absent,
}

/// One event as read, with its position in the input.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// `:index`, when the event carries one.
    pub index: Option<u64>,
    /// `:time` (nanoseconds, by Jepsen's convention), when the event carries one.
    pub time: Option<i64>,
    /// `:type`.
    pub kind: EventKind,
    /// `:process`.
    pub process: Process,
    /// `:f`, the operation's function (`:read`, `:write`, `:cas`, `:txn`...).
    pub f: Value,
    /// `:value` (`nil` when absent).
    pub value: Value,
    /// `:key`, when the event carries one (Porcupine's KV histories, some Jepsen workloads).
    pub key: Option<Value>,
    /// Every other field, kept in the order read.
    pub extra: Vec<(Value, Value)>,
    /// Byte offset of the event's start in the input.
    pub offset: usize,
    /// Byte length of the event's text, for quoting it in errors.
    pub len: usize,
    /// 1-based line of the event's start.
    pub line: u32,
}
