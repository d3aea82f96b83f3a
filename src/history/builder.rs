//! Pairs invocations with completions as events stream in, interning values on the way.

use super::error::{ErrorKind, Problem};
use super::event::{Event, EventKind, Process};
use super::flat::{FlatEvent, FlatName, RecentValues};
use super::op::{Clock, ExtraFields, Fault, History, Op, Outcome, ValueId, ValueTable, Warning};
use super::value::Value;
use ahash::AHashMap;

/// What a history with client events both with and without `:process` should have had.
const EVERY_PROCESS: &str =
    "a :process on every client op, or on none (then invocations and completions alternate)";

/// Whether a history's client events name their processes, as far as it has been read.
#[derive(Clone, Copy, Debug)]
enum Naming {
    /// No client event yet.
    Unknown,
    /// They do; the first one's line.
    Named { line: u32 },
    /// They do not (see [`HistoryBuilder`]).
    Unnamed {
        /// The first client event's offset and length, for the error if a later one has a
        /// `:process`.
        first: (usize, usize),
        /// The process of the next op.
        process: u32,
        /// Whether an `:invoke` has been read: from then on each completion must close one.
        invoked: bool,
    },
}

/// Builds a [`History`] from events in input order (docs/design.md section 3).
///
/// Each `:invoke` opens an op for its process; the next `:ok`/`:fail`/`:info` of that process
/// completes it; an op still open at the end is [`Outcome::Open`]. Strict by default: a
/// pairing problem is an error. Lenient: it becomes a [`Warning`] and the builder carries on
/// (a completion with no invocation is skipped; a second invocation leaves the first open).
///
/// A history whose client events have no `:process` at all (Elle's example histories) is read
/// as one whose invocations and completions alternate: each completion closes the one open
/// invocation, and an `:invoke` while one is open is the same error as a second invocation of
/// one process. These ops all get process 0, except that after an op crashes (`:info`) the
/// next gets the next number, as Jepsen gives a crashed client's successor a new process: a
/// crashed op may still take effect after the ops that follow it, so it must not be ordered
/// before them as one process's ops are.
///
/// Until its first `:invoke`, each completion is an op of its own (elle-cli's histories of
/// completions only), completed at that event. When it was invoked is not recorded, so it is
/// taken to be invoked when the history began, as Elle takes it (Elle orders an op after
/// another in real time only from the later one's invocation): a completion seen later may
/// have been invoked earlier, and ordering them in real time would invent a constraint. For
/// the same reason each gets a process of its own.
///
/// A history where some client events have a `:process` and others not is an error at the
/// first op without one.
pub struct HistoryBuilder {
    source: String,
    lenient: bool,
    ops: Vec<Op>,
    /// Event positions of each op's invocation and completion, for when times are missing.
    op_positions: Vec<(i64, i64)>,
    faults: Vec<Fault>,
    fault_positions: Vec<i64>,
    values: ValueTable,
    extras: Vec<ExtraFields>,
    warnings: Vec<Warning>,
    /// Process → index of its open op.
    open: AHashMap<u32, u32>,
    /// Whether client events name their processes.
    naming: Naming,
    /// Ops recorded by their completion alone, whose invocation [`HistoryBuilder::finish`]
    /// moves to the start of the history.
    standalone: Vec<u32>,
    all_timed: bool,
    event_count: usize,
    /// The `:f` names of flat events seen so far, with their ids (see [`HistoryBuilder::push_flat`]).
    recent_f: Vec<(FlatName, ValueId)>,
    /// Flat values interned lately (see [`HistoryBuilder::push_flat`]).
    recent_values: RecentValues,
}

/// How many `:f` names [`HistoryBuilder::push_flat`] remembers; histories use a handful.
const RECENT_F: usize = 8;

impl HistoryBuilder {
    /// A builder for a history read from `source`.
    pub fn new(source: &str, lenient: bool) -> HistoryBuilder {
        HistoryBuilder {
            source: source.to_string(),
            lenient,
            ops: Vec::new(),
            op_positions: Vec::new(),
            faults: Vec::new(),
            fault_positions: Vec::new(),
            values: ValueTable::default(),
            extras: Vec::new(),
            warnings: Vec::new(),
            open: AHashMap::new(),
            naming: Naming::Unknown,
            standalone: Vec::new(),
            all_timed: true,
            event_count: 0,
            recent_f: Vec::new(),
            recent_values: RecentValues::default(),
        }
    }

    /// Makes room for about `ops` ops (a reader that knows the input's size), so that the ops
    /// are not copied as they grow. [`HistoryBuilder::finish`] gives back what is not used.
    pub(crate) fn reserve(&mut self, ops: usize) {
        self.ops.reserve(ops);
        self.op_positions.reserve(ops);
    }

    /// Adds the next event. A pairing problem is returned as an error unless the builder is
    /// lenient, in which case it is recorded as a warning.
    #[inline]
    pub fn push(&mut self, ev: Event) -> Result<(), Problem> {
        self.push_op(ev).map(|_| ())
    }

    /// Like [`HistoryBuilder::push`], and says which op (index into [`History::ops`]) a client
    /// event opened or completed: `None` for a fault, or a completion skipped under
    /// `--lenient`. Readers that keep part of an event aside (the transactional reader keeps
    /// micro-ops in compact form) use it to find the event's op again.
    #[inline]
    pub fn push_op(&mut self, ev: Event) -> Result<Option<u32>, Problem> {
        let (position, time, index) = self.stamp(ev.time, ev.index);
        let process = match ev.process {
            Process::Client(p) => {
                if !matches!(self.naming, Naming::Named { .. }) {
                    self.first_named(&ev)?;
                }
                p
            }
            Process::Absent => match self.unnamed(&ev)? {
                Some(p) => p,
                None => return self.standalone(ev, time, index, position),
            },
            Process::Other(who) => {
                self.faults.push(Fault {
                    process: who,
                    kind: ev.kind,
                    f: ev.f,
                    value: ev.value,
                    time,
                    index,
                    line: ev.line,
                });
                self.fault_positions.push(position);
                return Ok(None);
            }
        };
        match ev.kind {
            EventKind::Invoke => self.invoke(process, ev, time, index, position).map(Some),
            _ => self.complete(process, ev, time, index, position),
        }
    }

    /// Adds the next event, read flat: what [`HistoryBuilder::push_op`] does with
    /// `ev.built()`, without building its values when it opens an op or completes its
    /// process's open op of the same `:f` (nearly always); anything else (a pairing problem,
    /// a history without `:process`) goes through `push_op`.
    pub(crate) fn push_flat(&mut self, ev: &FlatEvent) -> Result<Option<u32>, Problem> {
        if !matches!(self.naming, Naming::Named { .. }) {
            return self.push_op(ev.built());
        }
        let open = self.open.get(&ev.process).copied();
        match (ev.kind, open) {
            (EventKind::Invoke, None) => {
                let (position, time, index) = self.stamp(ev.time, ev.index);
                // Interned in push_op's order (f, then the value), so ids are the same.
                let f = self.flat_f(&ev.f);
                let input = self.intern_flat(ev);
                let op = self.open_op(ev.process, f, ValueId::NONE, input, (time, index, ev.line), position);
                Ok(Some(op))
            }
            (EventKind::Ok | EventKind::Fail | EventKind::Info, Some(op))
                if self.known_f(&ev.f) == Some(self.ops[op as usize].f) =>
            {
                let (position, time, index) = self.stamp(ev.time, ev.index);
                self.open.remove(&ev.process);
                let output = self.intern_flat(ev);
                self.close_op(op, ev.kind, output, (time, index, ev.line), position);
                Ok(Some(op))
            }
            _ => self.push_op(ev.built()),
        }
    }

    /// The id of a flat event's value, interning it if new.
    #[inline]
    fn intern_flat(&mut self, ev: &FlatEvent) -> ValueId {
        if let Some(id) = self.recent_values.get(&ev.value, ev.hash) {
            return id;
        }
        let id = self.values.intern_flat(&ev.value, ev.hash);
        self.recent_values.put(&ev.value, ev.hash, id);
        id
    }

    /// The next event's position, and its time and index (the position when it has none).
    #[inline]
    fn stamp(&mut self, time: Option<i64>, index: Option<u64>) -> (i64, i64, u64) {
        let position = self.event_count as i64;
        self.event_count += 1;
        self.all_timed &= time.is_some();
        (position, time.unwrap_or(position), index.unwrap_or(position as u64))
    }

    /// The id of the keyword `:f` names, from the few a history uses.
    fn flat_f(&mut self, f: &FlatName) -> ValueId {
        if let Some(&(_, id)) = self.recent_f.iter().find(|(name, _)| name == f) {
            return id;
        }
        let id = self.values.intern(Value::keyword(f.as_str()));
        if self.recent_f.len() < RECENT_F {
            self.recent_f.push((*f, id));
        }
        id
    }

    /// The id of the keyword `:f` names, if it is interned (not interning it: a completion's
    /// `:f` is only compared).
    fn known_f(&self, f: &FlatName) -> Option<ValueId> {
        match self.recent_f.iter().find(|(name, _)| name == f) {
            Some(&(_, id)) => Some(id),
            None => self.values.lookup(&Value::keyword(f.as_str())),
        }
    }

    /// Opens op `f key input` for `process`, invoked at `(time, index, line)`, the event at
    /// `position`; returns its index.
    fn open_op(
        &mut self,
        process: u32,
        f: ValueId,
        key: ValueId,
        input: ValueId,
        (time, index, line): (i64, u64, u32),
        position: i64,
    ) -> u32 {
        let op_index = u32::try_from(self.ops.len()).expect("more than 2^32 ops");
        self.ops.push(Op {
            process,
            f,
            key,
            input,
            output: ValueId::NIL,
            outcome: Outcome::Open,
            invoke_time: time,
            complete_time: i64::MAX,
            invoke_index: index,
            complete_index: u64::MAX,
            invoke_line: line,
            complete_line: 0,
        });
        self.op_positions.push((position, i64::MAX));
        self.open.insert(process, op_index);
        op_index
    }

    /// Completes op `op_index` with `kind` and `output` at `(time, index, line)`, the event at
    /// `position` (its process's open op is already closed).
    fn close_op(
        &mut self,
        op_index: u32,
        kind: EventKind,
        output: ValueId,
        (time, index, line): (i64, u64, u32),
        position: i64,
    ) {
        let op = &mut self.ops[op_index as usize];
        op.outcome = match kind {
            EventKind::Ok => Outcome::Ok,
            EventKind::Fail => Outcome::Fail,
            _ => Outcome::Info,
        };
        if let (Naming::Unnamed { process, .. }, Outcome::Info) = (&mut self.naming, op.outcome) {
            *process += 1;
        }
        op.output = output;
        op.complete_time = time;
        op.complete_index = index;
        op.complete_line = line;
        self.op_positions[op_index as usize].1 = position;
    }

    fn invoke(
        &mut self,
        process: u32,
        ev: Event,
        time: i64,
        index: u64,
        position: i64,
    ) -> Result<u32, Problem> {
        if let Some(&prev) = self.open.get(&process) {
            let (message, expected) = self.still_open(process, &ev, prev);
            self.problem(ErrorKind::DoubleInvocation, &ev, message, expected)?;
        }
        let key = match ev.key {
            Some(k) => self.values.intern(k),
            None => ValueId::NONE,
        };
        let f = self.values.intern(ev.f);
        let input = self.values.intern(ev.value);
        let op_index = self.open_op(process, f, key, input, (time, index, ev.line), position);
        if !ev.extra.is_empty() {
            self.extras.push(ExtraFields { op: op_index, on: EventKind::Invoke, fields: ev.extra });
        }
        Ok(op_index)
    }

    fn complete(
        &mut self,
        process: u32,
        ev: Event,
        time: i64,
        index: u64,
        position: i64,
    ) -> Result<Option<u32>, Problem> {
        let Some(&op_index) = self.open.get(&process) else {
            let (message, expected) = self.nothing_open(process, &ev);
            return self
                .problem(ErrorKind::CompletionWithoutInvocation, &ev, message, expected)
                .map(|_| None);
        };
        let invoked_f = self.ops[op_index as usize].f;
        if self.values.get(invoked_f) != &ev.f {
            let open_line = self.ops[op_index as usize].invoke_line;
            let (f, invoked) = (&ev.f, self.values.get(invoked_f));
            let message = if self.unnamed_processes() {
                format!("{f} completed, but the open invocation on line {open_line} is {invoked}")
            } else {
                format!(
                    "process {process} completed {f}, but its open invocation on line {open_line} is {invoked}"
                )
            };
            let expected = format!("a completion with :f {}", self.values.get(invoked_f));
            self.problem(ErrorKind::MismatchedCompletion, &ev, message, expected)?;
        }
        self.open.remove(&process);
        let output = self.values.intern(ev.value);
        self.close_op(op_index, ev.kind, output, (time, index, ev.line), position);
        if !ev.extra.is_empty() {
            self.extras.push(ExtraFields { op: op_index, on: ev.kind, fields: ev.extra });
        }
        Ok(Some(op_index))
    }

    /// Whether the history's client events have no `:process` (the builder numbers them).
    fn unnamed_processes(&self) -> bool {
        matches!(self.naming, Naming::Unnamed { .. })
    }

    /// What is wrong, and what was expected, when `ev` invokes while op `prev` of its process
    /// is open.
    #[cold]
    fn still_open(&self, process: u32, ev: &Event, prev: u32) -> (String, String) {
        let prev = self.ops[prev as usize];
        let (prev_f, line) = (self.values.get(prev.f), prev.invoke_line);
        if self.unnamed_processes() {
            return (
                format!("{} invoked while the {prev_f} invoked on line {line} is still open", ev.f),
                format!(
                    "a completion (:ok, :fail or :info) of the open {prev_f} before the next :invoke \
                     (with no :process in the history, invocations and completions alternate)"
                ),
            );
        }
        (
            format!(
                "process {process} invoked {} while its {prev_f} invoked on line {line} is still open",
                ev.f
            ),
            format!(
                "a completion (:ok, :fail or :info) of process {process}'s open {prev_f} before its next :invoke"
            ),
        )
    }

    /// What is wrong, and what was expected, when `ev` completes with no op of its process open.
    #[cold]
    fn nothing_open(&self, process: u32, ev: &Event) -> (String, String) {
        let kind = ev.kind.name();
        if self.unnamed_processes() {
            return (
                format!("{} completed with :{kind}, but no invocation is open", ev.f),
                format!(
                    "an :invoke of {} before this completion (with no :process in the history, invocations and \
                     completions alternate)",
                    ev.f
                ),
            );
        }
        (
            format!("process {process} completed {} with :{kind}, but has no open invocation", ev.f),
            format!("an :invoke of {} by process {process} before this completion", ev.f),
        )
    }

    /// The first client event with a `:process`: an error if earlier ones had none.
    #[cold]
    fn first_named(&mut self, ev: &Event) -> Result<(), Problem> {
        if let Naming::Unnamed { first: (offset, len), .. } = self.naming {
            let message = format!("this op has no :process, but the op on line {} has one", ev.line);
            return Err(Problem::new(ErrorKind::MissingField, offset, len, message, EVERY_PROCESS));
        }
        self.naming = Naming::Named { line: ev.line };
        Ok(())
    }

    /// The process of a client event without `:process`, or `None` for a completion that is an
    /// op of its own (no `:invoke` yet in the history, none open).
    fn unnamed(&mut self, ev: &Event) -> Result<Option<u32>, Problem> {
        match &mut self.naming {
            Naming::Named { line } => {
                let message = format!("this op has no :process, but the op on line {line} has one");
                Err(Problem::new(ErrorKind::MissingField, ev.offset, ev.len, message, EVERY_PROCESS))
            }
            Naming::Unknown => {
                self.naming = Naming::Unnamed { first: (ev.offset, ev.len), process: 0, invoked: false };
                self.unnamed(ev)
            }
            Naming::Unnamed { process, invoked, .. } => {
                if ev.kind == EventKind::Invoke {
                    *invoked = true;
                } else if !*invoked && !self.open.contains_key(process) {
                    return Ok(None);
                }
                Ok(Some(*process))
            }
        }
    }

    /// A completion with no invocation event, in a history of completions only: an op of a
    /// process of its own, completed at this event, whose invocation's value is the
    /// completion's (the only one recorded). Its invocation is moved to the start of the
    /// history when it is finished.
    fn standalone(
        &mut self,
        ev: Event,
        time: i64,
        index: u64,
        position: i64,
    ) -> Result<Option<u32>, Problem> {
        let Naming::Unnamed { ref mut process, .. } = self.naming else {
            unreachable!("only histories without :process have ops of completions alone")
        };
        let p = *process;
        *process += 1;
        let invocation = Event {
            index: ev.index,
            time: ev.time,
            kind: EventKind::Invoke,
            process: Process::Absent,
            f: ev.f.clone(),
            value: ev.value.clone(),
            key: ev.key.clone(),
            extra: Vec::new(),
            offset: ev.offset,
            len: ev.len,
            line: ev.line,
        };
        let op = self.invoke(p, invocation, time, index, position)?;
        self.standalone.push(op);
        self.complete(p, ev, time, index, position)
    }

    /// Moves the invocations of ops recorded by their completion alone to the start of the
    /// history: the earliest time any event has, or position 0.
    fn invoke_standalone_ops_at_start(&mut self, clock: Clock) {
        if self.standalone.is_empty() {
            return;
        }
        let completions = self.ops.iter().map(|op| op.complete_time).filter(|&t| t != i64::MAX);
        let start = match clock {
            Clock::Position => 0,
            Clock::Time => {
                let invocations = self.ops.iter().map(|op| op.invoke_time);
                let faults = self.faults.iter().map(|f| f.time);
                invocations.chain(completions).chain(faults).min().unwrap_or(0)
            }
        };
        for &op in &self.standalone {
            self.ops[op as usize].invoke_time = start;
        }
    }

    /// Fails, or under `--lenient` records a warning and lets the caller carry on.
    fn problem(
        &mut self,
        kind: ErrorKind,
        ev: &Event,
        message: String,
        expected: String,
    ) -> Result<(), Problem> {
        if self.lenient {
            // The callers carry on: a completion with no invocation is skipped, a second
            // invocation leaves the first op open (indeterminate), a mismatched completion
            // still completes the open op.
            self.warnings.push(Warning { line: ev.line, message });
            return Ok(());
        }
        Err(Problem::new(kind, ev.offset, ev.len, message, expected))
    }

    /// Records a reader's warning (such as lines it skipped on purpose).
    pub fn warn(&mut self, line: u32, message: String) {
        self.warnings.push(Warning { line, message });
    }

    /// Warns, once per process, when a process's own timestamps run backwards (an op invoked
    /// before its previous op completed, or completed before it was invoked): the clocks of
    /// the machines that merged the history disagree, and `--clock-skew` may be needed.
    fn warn_backwards_clocks(&mut self) {
        let mut last: AHashMap<u32, (i64, u32)> = AHashMap::new();
        let mut warned: ahash::AHashSet<u32> = ahash::AHashSet::new();
        let mut found = Vec::new();
        for op in &self.ops {
            let backwards_here = op.complete_time != i64::MAX && op.complete_time < op.invoke_time;
            let backwards_since = last.get(&op.process).is_some_and(|&(t, _)| op.invoke_time < t);
            if (backwards_here || backwards_since) && warned.insert(op.process) {
                found.push(Warning {
                    line: op.invoke_line,
                    message: format!(
                        "process {}'s timestamps run backwards here (clock skew between the machines that \
                         recorded the history?); consider --clock-skew",
                        op.process
                    ),
                });
            }
            if op.complete_time != i64::MAX {
                last.insert(op.process, (op.complete_time, op.complete_line));
            }
        }
        self.warnings.extend(found);
    }

    /// Finishes the history: ops still open become [`Outcome::Open`], and when some event
    /// lacked `:time`, every time is replaced by the event's position.
    pub fn finish(mut self) -> History {
        let clock = if self.all_timed { Clock::Time } else { Clock::Position };
        if clock == Clock::Position {
            for (op, &(inv, comp)) in self.ops.iter_mut().zip(&self.op_positions) {
                op.invoke_time = inv;
                op.complete_time = comp;
            }
            for (fault, &pos) in self.faults.iter_mut().zip(&self.fault_positions) {
                fault.time = pos;
            }
        }
        self.invoke_standalone_ops_at_start(clock);
        if clock == Clock::Time {
            self.warn_backwards_clocks();
        }
        // The vectors grew by doubling; a history lives as long as the check, so give the
        // slack back (up to half of the largest allocation a read makes).
        self.ops.shrink_to_fit();
        self.faults.shrink_to_fit();
        self.extras.shrink_to_fit();
        History {
            source: self.source,
            ops: self.ops,
            faults: self.faults,
            values: self.values,
            extras: self.extras,
            clock,
            warnings: self.warnings,
            event_count: self.event_count,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::history::{ErrorKind, Format, History, Outcome, ReadError, ReadOptions, read_bytes};

    fn read(text: &str, lenient: bool) -> Result<History, ReadError> {
        read_bytes("t.edn", text.as_bytes(), Format::Edn, &ReadOptions { format: None, lenient })
    }

    #[test]
    fn without_process_invocations_and_completions_alternate() {
        let h = read(
            "{:type :invoke :f :write :value 1}\n{:type :ok :f :write :value 1}\n\
             {:type :invoke :f :read :value nil}\n{:type :info :f :read :value nil}\n\
             {:type :invoke :f :write :value 2}\n{:type :fail :f :write :value 2}\n\
             {:type :invoke :f :read :value nil}\n",
            false,
        )
        .unwrap();
        let ops: Vec<(u32, Outcome, i64, i64)> =
            h.ops.iter().map(|op| (op.process, op.outcome, op.invoke_time, op.complete_time)).collect();
        // After the crashed read, a new process, as Jepsen numbers a crashed client's successor.
        assert_eq!(
            ops,
            vec![
                (0, Outcome::Ok, 0, 1),
                (0, Outcome::Info, 2, 3),
                (1, Outcome::Fail, 4, 5),
                (1, Outcome::Open, 6, i64::MAX)
            ]
        );
        assert!(h.warnings.is_empty());
    }

    #[test]
    fn without_process_an_open_invocation_blocks_the_next() {
        let text = "{:type :invoke :f :write :value 1}\n{:type :invoke :f :read :value nil}\n{:type :ok :f :read :value 1}\n";
        let e = read(text, false).unwrap_err();
        assert_eq!((e.kind, e.line), (ErrorKind::DoubleInvocation, 2));
        assert_eq!(e.message, ":read invoked while the :write invoked on line 1 is still open");
        // Leniently, the first stays open (it may or may not have happened).
        let h = read(text, true).unwrap();
        assert_eq!(h.ops.iter().map(|op| op.outcome).collect::<Vec<_>>(), vec![Outcome::Open, Outcome::Ok]);
        assert_eq!(h.warnings.len(), 1);
        // Once an :invoke was seen, a completion must close one.
        let e = read("{:type :invoke :f :write :value 1}\n{:type :ok :f :write :value 1}\n{:type :ok :f :write :value 1}\n", false)
            .unwrap_err();
        assert_eq!((e.kind, e.line), (ErrorKind::CompletionWithoutInvocation, 3));
        assert_eq!(e.message, ":write completed with :ok, but no invocation is open");
        // A completion closes the open invocation only if it is of the same :f.
        let e =
            read("{:type :invoke :f :write :value 1}\n{:type :ok :f :read :value 1}\n", false).unwrap_err();
        assert_eq!((e.kind, e.line), (ErrorKind::MismatchedCompletion, 2));
        assert_eq!(e.message, ":read completed, but the open invocation on line 1 is :write");
    }

    #[test]
    fn completions_alone_are_ops_invoked_when_the_history_began() {
        let h = read(
            "{:time 50 :type :info :process :nemesis :f :start :value nil}\n\
             {:index 7 :time 100 :type :ok :f :write :value 1}\n{:index 8 :time 40 :type :ok :f :read :value 1}\n\
             {:index 9 :time 300 :type :invoke :f :read :value nil}\n{:index 10 :time 310 :type :ok :f :read :value 1}\n",
            false,
        )
        .unwrap();
        let ops: Vec<(u32, i64, i64, u64, u32)> = h
            .ops
            .iter()
            .map(|op| (op.process, op.invoke_time, op.complete_time, op.invoke_index, op.invoke_line))
            .collect();
        // Each its own process, invoked at the earliest time of the history (the read that
        // completed at 40); the op with an :invoke as recorded.
        assert_eq!(ops, vec![(0, 40, 100, 7, 2), (1, 40, 40, 8, 3), (2, 300, 310, 9, 4)]);
        assert_eq!(h.value(h.ops[0].input), &crate::history::Value::Int(1));
        // Without :time, positions: invoked at the first event.
        let h = read("{:type :ok :f :write :value 1}\n{:type :ok :f :read :value 1}\n", false).unwrap();
        let times: Vec<(i64, i64)> = h.ops.iter().map(|op| (op.invoke_time, op.complete_time)).collect();
        assert_eq!(times, vec![(0, 0), (0, 1)]);
    }

    #[test]
    fn some_ops_with_process_and_some_without_is_an_error() {
        let e =
            read("{:process 0 :type :invoke :f :write :value 1}\n{:type :ok :f :write :value 1}\n", false)
                .unwrap_err();
        assert_eq!((e.kind, e.line, e.column), (ErrorKind::MissingField, 2, 1));
        assert_eq!(e.message, "this op has no :process, but the op on line 1 has one");
        // Named after unnamed: the error points at the first op without one, leniently too.
        let text = "; a comment\n{:type :invoke :f :write :value 1}\n{:type :ok :f :write :value 1}\n\
                    {:type :info :process :nemesis :f :kill :value nil}\n{:process 2 :type :invoke :f :read :value nil}\n";
        let e = read(text, true).unwrap_err();
        assert_eq!((e.kind, e.line, e.column), (ErrorKind::MissingField, 2, 1));
        assert_eq!(e.message, "this op has no :process, but the op on line 5 has one");
        assert_eq!(e.expected, super::EVERY_PROCESS);
        // Neither :process nor :f, and not a transaction: both are missing.
        let e = read("{:type :invoke :value 1}\n", false).unwrap_err();
        assert_eq!(e.message, "this op has no :process and no :f");
    }
}
