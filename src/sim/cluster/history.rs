//! How the simulation's events are written: the recorded events, their values, and the sink
//! that numbers and formats them as EDN (or JSON Lines).
//!
//! A history of 10^7 ops is 2·10^7 lines, so the EDN is written by hand into a buffer: values
//! are kept as what they are (a number, a pair, the snapshot a read saw) and rendered only when
//! written, without an allocation per event, and numbers are formatted two digits at a time.
//! `write!` and a `String` per value cost as much as the rest of the simulation.

use super::Workload;
use super::data::{ACCOUNTS, FORK_GROUP, Mop, Snapshot};
use std::io::{self, Write};

/// Who an event is by.
#[derive(Clone, Copy, Debug)]
pub(super) enum Who {
    Process(usize),
    Nemesis,
}

/// An event's `:type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Invoke,
    Ok,
    Fail,
    Info,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Invoke => "invoke",
            Kind::Ok => "ok",
            Kind::Fail => "fail",
            Kind::Info => "info",
        }
    }
}

/// An event's `:f`: the clients' ops, and the nemesis's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum F {
    Read,
    Write,
    Cas,
    Add,
    Txn,
    Transfer,
    StartPartition,
    StopPartition,
    Kill,
    /// Jepsen's name for bringing a killed node back.
    Start,
    StartLoss,
    StopLoss,
    StartClockSkew,
    StopClockSkew,
}

impl F {
    fn name(self) -> &'static str {
        match self {
            F::Read => "read",
            F::Write => "write",
            F::Cas => "cas",
            F::Add => "add",
            F::Txn => "txn",
            F::Transfer => "transfer",
            F::StartPartition => "start-partition",
            F::StopPartition => "stop-partition",
            F::Kill => "kill",
            F::Start => "start",
            F::StartLoss => "start-loss",
            F::StopLoss => "stop-loss",
            F::StartClockSkew => "start-clock-skew",
            F::StopClockSkew => "stop-clock-skew",
        }
    }
}

/// An event's `:value`, kept unrendered until the event is written (by another thread: a
/// value holds no reference into the simulation's state). Small (24 bytes), as every event
/// carries one from the simulation's thread to the writer's.
#[derive(Clone, Debug)]
pub(super) enum Value {
    Nil,
    Int(i64),
    /// A cas's `[expected new]`.
    Pair(i64, i64),
    /// A list-append transaction whose reads show `nil` (an invocation, or an op whose outcome
    /// is unknown or failed).
    Txn(Box<[Mop]>),
    /// A bank transfer, `{:from a, :to b, :amount n}`.
    Transfer {
        from: u8,
        to: u8,
        amount: i64,
    },
    /// Already EDN text: the nemesis's values, and values that show the state (a set read, a
    /// transaction's reads), rendered while the state is at hand.
    Text(Box<[u8]>),
}

impl Value {
    /// A register's value, `nil` when unset.
    pub(super) fn opt(v: Option<i64>) -> Value {
        v.map_or(Value::Nil, Value::Int)
    }

    /// A completed read's value, as `workload` shows what it saw.
    pub(super) fn read(workload: Workload, seen: &Snapshot) -> Value {
        match workload {
            // (List-append and long-fork reads are transactions: see `Value::txn`, `Value::group`.)
            Workload::Register | Workload::CasRegister | Workload::ListAppend | Workload::LongFork => {
                Value::opt(seen.reg)
            }
            Workload::Counter => Value::Int(seen.count),
            // A set, as the set model reads; set-full's table as a vector, which keeps an element
            // stored twice.
            Workload::Set | Workload::SetFull => {
                let mut elements = seen.set.clone();
                elements.sort_unstable();
                let mut out = Vec::with_capacity(TEXT_SLACK + elements.len() * PER_ELEMENT);
                out.extend_from_slice(if workload == Workload::Set { b"#{" } else { b"[" });
                push_list(&mut out, &elements);
                out.push(if workload == Workload::Set { b'}' } else { b']' });
                Value::Text(out.into())
            }
            Workload::Bank => {
                let mut out = Vec::with_capacity(TEXT_SLACK + ACCOUNTS * PER_ELEMENT);
                out.push(b'{');
                for (account, balance) in seen.bank.0.iter().enumerate() {
                    if account > 0 {
                        out.extend_from_slice(b", ");
                    }
                    push_int(&mut out, account as i64);
                    out.push(b' ');
                    push_int(&mut out, *balance);
                }
                out.push(b'}');
                Value::Text(out.into())
            }
        }
    }

    /// A long-fork write of `key`: `[[:w key 1]]` (each key is written once, so one value
    /// will do).
    pub(super) fn write_key(key: u32) -> Value {
        let mut out = Vec::with_capacity(TEXT_SLACK);
        out.extend_from_slice(b"[[:w ");
        push_int(&mut out, i64::from(key));
        out.extend_from_slice(b" 1]]");
        Value::Text(out.into())
    }

    /// A long-fork read of the group starting at `first`: `[[:r k v] ...]`, each `v` the 1
    /// written or `nil`, as `seen` shows it if the read completed (else `nil`).
    pub(super) fn group(first: u32, seen: Option<&Snapshot>) -> Value {
        let mut out = Vec::with_capacity(TEXT_SLACK + FORK_GROUP as usize * PER_ELEMENT);
        out.push(b'[');
        for key in first..first + FORK_GROUP {
            if key > first {
                out.push(b' ');
            }
            out.extend_from_slice(b"[:r ");
            push_int(&mut out, i64::from(key));
            let written = seen.and_then(|s| s.keys.written(key)) == Some(true);
            out.extend_from_slice(if written { b" 1]" } else { b" nil]" });
        }
        out.push(b']');
        Value::Text(out.into())
    }

    /// A transaction, with what its reads saw if it completed.
    pub(super) fn txn(mops: [Mop; 2], len: u8, seen: Option<&Snapshot>) -> Value {
        match seen {
            Some(seen) => {
                let mops = &mops[..usize::from(len)];
                let read: usize =
                    mops.iter().filter(|m| !m.append).map(|m| seen.list(u64::from(m.key)).len()).sum();
                let mut out = Vec::with_capacity(TEXT_SLACK + read * PER_ELEMENT);
                render_txn(mops, Some(seen), &mut out);
                Value::Text(out.into())
            }
            None => Value::Txn(mops[..usize::from(len)].into()),
        }
    }

    /// Appends the value as EDN to `out`.
    fn render(&self, out: &mut Vec<u8>) {
        match self {
            Value::Nil => out.extend_from_slice(b"nil"),
            Value::Int(v) => push_int(out, *v),
            Value::Pair(a, b) => {
                out.push(b'[');
                push_int(out, *a);
                out.push(b' ');
                push_int(out, *b);
                out.push(b']');
            }
            Value::Txn(mops) => render_txn(mops, None, out),
            Value::Transfer { from, to, amount } => {
                out.extend_from_slice(b"{:from ");
                push_int(out, i64::from(*from));
                out.extend_from_slice(b", :to ");
                push_int(out, i64::from(*to));
                out.extend_from_slice(b", :amount ");
                push_int(out, *amount);
                out.push(b'}');
            }
            Value::Text(text) => out.extend_from_slice(text),
        }
    }
}

/// `[[:append k v] [:r k [list]]]`: reads show whole lists, most of what a long list-append
/// history holds.
fn render_txn(mops: &[Mop], seen: Option<&Snapshot>, out: &mut Vec<u8>) {
    out.push(b'[');
    for (i, m) in mops.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        out.extend_from_slice(if m.append { b"[:append " } else { b"[:r " });
        push_int(out, i64::from(m.key));
        out.push(b' ');
        match (m.append, seen) {
            (true, _) => push_int(out, m.value),
            (false, None) => out.extend_from_slice(b"nil"),
            (false, Some(data)) => {
                out.push(b'[');
                push_list(out, data.list(u64::from(m.key)));
                out.push(b']');
            }
        }
        out.push(b']');
    }
    out.push(b']');
}

/// Numbers separated by spaces.
fn push_list(out: &mut Vec<u8>, items: &[i64]) {
    for (i, v) in items.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        push_int(out, *v);
    }
}

/// The two-digit pairs `00` to `99`, for formatting numbers two digits at a time.
const PAIRS: &[u8; 200] = b"\
0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// Room for a rendered value's brackets and keywords, and for each number it lists: the
/// buffer is sized up front, as growing it (a copy each time) cost more than rendering.
const TEXT_SLACK: usize = 64;
const PER_ELEMENT: usize = 9;

/// Appends the decimal digits of `n`.
fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    while n >= 100 {
        let pair = (n % 100) as usize * 2;
        n /= 100;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    }
    if n >= 10 {
        i -= 2;
        buf[i..i + 2].copy_from_slice(&PAIRS[n as usize * 2..n as usize * 2 + 2]);
    } else {
        i -= 1;
        buf[i] = b'0' + n as u8;
    }
    out.extend_from_slice(&buf[i..]);
}

fn push_int(out: &mut Vec<u8>, n: i64) {
    if n < 0 {
        out.push(b'-');
    }
    push_u64(out, n.unsigned_abs());
}

/// One history event, numbered only when the history is written (a silent retry drops its
/// op's earlier invocation). Kept small (56 bytes): the events cross from the simulation's
/// thread to the writer's, and at 96 bytes that traffic cost the simulation a fifth of its
/// time.
#[derive(Clone, Debug)]
pub(super) struct Line {
    /// In microseconds (written in nanoseconds).
    pub(super) time: i64,
    pub(super) kind: Kind,
    pub(super) who: Who,
    pub(super) f: F,
    pub(super) value: Value,
}

/// The event number of the next line, as decimal digits that count up in place: every line
/// writes one, and it is one more than the last.
struct Counter {
    digits: [u8; 20],
    start: usize,
}

impl Counter {
    fn new() -> Counter {
        Counter { digits: [b'0'; 20], start: 19 }
    }

    fn text(&self) -> &[u8] {
        &self.digits[self.start..]
    }

    fn increment(&mut self) {
        for i in (self.start..self.digits.len()).rev() {
            if self.digits[i] != b'9' {
                self.digits[i] += 1;
                return;
            }
            self.digits[i] = b'0';
        }
        // All nines: one more digit (20 digits hold any `usize`).
        self.start -= 1;
        self.digits[self.start] = b'1';
    }
}

/// Bytes the sink gathers before it writes them out.
const BUFFER: usize = 1 << 16;

/// Where the history goes, and in which format.
pub(super) struct Sink<'a> {
    out: &'a mut dyn Write,
    json: bool,
    /// Events written so far (their `:index`).
    pub(super) events: usize,
    index: Counter,
    buf: Vec<u8>,
}

impl<'a> Sink<'a> {
    /// A sink writing EDN, or JSON Lines if `json`, to `out`.
    pub(super) fn new(out: &'a mut dyn Write, json: bool) -> Sink<'a> {
        Sink { out, json, events: 0, index: Counter::new(), buf: Vec::with_capacity(BUFFER + 4096) }
    }

    /// Writes events, numbered in order (`None`: an event removed after it was recorded).
    pub(super) fn write_all(&mut self, lines: &[Option<Line>]) -> io::Result<()> {
        lines.iter().flatten().try_for_each(|line| self.write(line))
    }

    /// Writes one event, numbered next.
    pub(super) fn write(&mut self, line: &Line) -> io::Result<()> {
        if self.json {
            self.write_json(line);
        } else {
            self.write_edn(line);
        }
        self.events += 1;
        self.index.increment();
        if self.buf.len() >= BUFFER {
            self.out.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    /// Writes out what is buffered.
    pub(super) fn finish(&mut self) -> io::Result<()> {
        self.out.write_all(&self.buf)?;
        self.buf.clear();
        Ok(())
    }

    /// What `edn_event_line` writes.
    fn write_edn(&mut self, line: &Line) {
        let b = &mut self.buf;
        b.extend_from_slice(b"{:index ");
        b.extend_from_slice(self.index.text());
        b.extend_from_slice(b", :time ");
        if line.time != 0 {
            push_int(b, line.time);
            b.extend_from_slice(b"000");
        } else {
            b.push(b'0');
        }
        b.extend_from_slice(b", :type :");
        b.extend_from_slice(line.kind.name().as_bytes());
        b.extend_from_slice(b", :process ");
        match line.who {
            Who::Process(p) => push_u64(b, p as u64),
            Who::Nemesis => b.extend_from_slice(b":nemesis"),
        }
        b.extend_from_slice(b", :f :");
        b.extend_from_slice(line.f.name().as_bytes());
        b.extend_from_slice(b", :value ");
        line.value.render(b);
        b.extend_from_slice(b"}\n");
    }

    fn write_json(&mut self, line: &Line) {
        let mut edn = Vec::new();
        line.value.render(&mut edn);
        let value = edn_to_json(&String::from_utf8_lossy(&edn));
        let process = match line.who {
            Who::Process(p) => p.to_string(),
            Who::Nemesis => "\"nemesis\"".to_string(),
        };
        let (index, time, kind, f) = (self.events, line.time * 1000, line.kind.name(), line.f.name());
        let _ = writeln!(
            self.buf,
            "{{\"index\":{index},\"time\":{time},\"type\":\"{kind}\",\"process\":{process},\"f\":\"{f}\",\"value\":{value}}}"
        );
    }
}

/// Converts the EDN values this simulator writes (`nil`, integers, keywords, strings without
/// escapes, vectors, sets and maps) to JSON: keywords become strings without the colon, sets
/// become arrays, map keys become strings.
pub(super) fn edn_to_json(edn: &str) -> String {
    let b = edn.as_bytes();
    let mut out = String::with_capacity(edn.len() + 8);
    // The open containers: whether each is a map, and how many items it holds so far.
    let mut open: Vec<(bool, usize)> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b' ' || c == b',' {
            i += 1;
            continue;
        }
        if c == b']' || c == b'}' {
            out.push(if open.pop().is_some_and(|o| o.0) { '}' } else { ']' });
            i += 1;
            continue;
        }
        // An item: first the separator its container needs.
        let mut map_key = false;
        if let Some((map, count)) = open.last_mut() {
            out.push_str(match (*map, *count) {
                (_, 0) => "",
                (true, n) if n % 2 == 1 => ":",
                _ => ",",
            });
            map_key = *map && *count % 2 == 0;
            *count += 1;
        }
        let end = |from: usize| from + b[from..].iter().take_while(|c| !b" ,]}".contains(c)).count();
        match c {
            b'[' | b'{' => {
                open.push((c == b'{', 0));
                out.push(c as char);
                i += 1;
            }
            b'#' => {
                open.push((false, 0));
                out.push('[');
                i += 2;
            }
            b'"' => {
                let close = b[i + 1..].iter().position(|&c| c == b'"').map_or(b.len(), |p| i + 2 + p);
                out.push_str(&edn[i..close]);
                i = close;
            }
            b':' => {
                let e = end(i);
                out.push('"');
                out.push_str(&edn[i + 1..e]);
                out.push('"');
                i = e;
            }
            // A number as a map's key (a bank read's account) becomes a string, as JSON's keys are.
            _ if map_key => {
                let e = end(i);
                out.push('"');
                out.push_str(&edn[i..e]);
                out.push('"');
                i = e;
            }
            _ => {
                let e = end(i);
                out.push_str(if &edn[i..e] == "nil" { "null" } else { &edn[i..e] });
                i = e;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{Counter, Line, Value, push_int};

    /// Every event crosses from the simulation's thread to the writer's: they stay small.
    #[test]
    fn events_stay_small() {
        assert!(std::mem::size_of::<Value>() <= 24, "{}", std::mem::size_of::<Value>());
        assert!(std::mem::size_of::<Line>() <= 56, "{}", std::mem::size_of::<Line>());
    }

    #[test]
    fn numbers_are_formatted_as_display_does() {
        let mut out = Vec::new();
        for n in [0, 7, 10, 99, 100, 101, 12_345, -1, -100, i64::MAX, i64::MIN, 1_000_000_007] {
            out.clear();
            push_int(&mut out, n);
            assert_eq!(String::from_utf8(out.clone()).unwrap(), n.to_string());
        }
        let mut counter = Counter::new();
        for n in 0..100_500usize {
            assert_eq!(counter.text(), n.to_string().as_bytes());
            counter.increment();
        }
    }
}
