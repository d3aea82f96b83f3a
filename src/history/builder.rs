//! Pairs invocations with completions as events stream in, interning values on the way.

use super::error::{ErrorKind, Problem};
use super::event::{Event, EventKind, Process};
use super::op::{Clock, ExtraFields, Fault, History, Op, Outcome, ValueId, ValueTable, Warning};
use ahash::AHashMap;

/// Builds a [`History`] from events in input order (DESIGN.md section 3).
///
/// Each `:invoke` opens an op for its process; the next `:ok`/`:fail`/`:info` of that process
/// completes it; an op still open at the end is [`Outcome::Open`]. Strict by default: a
/// pairing problem is an error. Lenient: it becomes a [`Warning`] and the builder carries on
/// (a completion with no invocation is skipped; a second invocation leaves the first open).
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
    all_timed: bool,
    event_count: usize,
}

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
            all_timed: true,
            event_count: 0,
        }
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
        let position = self.event_count as i64;
        self.event_count += 1;
        self.all_timed &= ev.time.is_some();
        let index = ev.index.unwrap_or(position as u64);
        let time = ev.time.unwrap_or(position);
        let process = match ev.process {
            Process::Client(p) => p,
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

    fn invoke(
        &mut self,
        process: u32,
        ev: Event,
        time: i64,
        index: u64,
        position: i64,
    ) -> Result<u32, Problem> {
        if let Some(&prev) = self.open.get(&process) {
            let prev = self.ops[prev as usize];
            let message = format!(
                "process {process} invoked {} while its {} invoked on line {} is still open",
                ev.f,
                self.values.get(prev.f),
                prev.invoke_line
            );
            let expected = format!(
                "a completion (:ok, :fail or :info) of process {process}'s open {} before its next :invoke",
                self.values.get(prev.f)
            );
            self.problem(ErrorKind::DoubleInvocation, &ev, message, expected)?;
        }
        let op_index = u32::try_from(self.ops.len()).expect("more than 2^32 ops");
        let key = match ev.key {
            Some(k) => self.values.intern(k),
            None => ValueId::NONE,
        };
        let op = Op {
            process,
            f: self.values.intern(ev.f),
            key,
            input: self.values.intern(ev.value),
            output: ValueId::NIL,
            outcome: Outcome::Open,
            invoke_time: time,
            complete_time: i64::MAX,
            invoke_index: index,
            complete_index: u64::MAX,
            invoke_line: ev.line,
            complete_line: 0,
        };
        if !ev.extra.is_empty() {
            self.extras.push(ExtraFields { op: op_index, on: EventKind::Invoke, fields: ev.extra });
        }
        self.ops.push(op);
        self.op_positions.push((position, i64::MAX));
        self.open.insert(process, op_index);
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
            let message = format!(
                "process {process} completed {} with :{}, but has no open invocation",
                ev.f,
                ev.kind.name()
            );
            let expected = format!("an :invoke of {} by process {process} before this completion", ev.f);
            return self
                .problem(ErrorKind::CompletionWithoutInvocation, &ev, message, expected)
                .map(|_| None);
        };
        let invoked_f = self.ops[op_index as usize].f;
        if self.values.get(invoked_f) != &ev.f {
            let message = format!(
                "process {process} completed {}, but its open invocation on line {} is {}",
                ev.f,
                self.ops[op_index as usize].invoke_line,
                self.values.get(invoked_f)
            );
            let expected = format!("a completion with :f {}", self.values.get(invoked_f));
            self.problem(ErrorKind::MismatchedCompletion, &ev, message, expected)?;
        }
        self.open.remove(&process);
        let output = self.values.intern(ev.value);
        let op = &mut self.ops[op_index as usize];
        op.outcome = match ev.kind {
            EventKind::Ok => Outcome::Ok,
            EventKind::Fail => Outcome::Fail,
            _ => Outcome::Info,
        };
        op.output = output;
        op.complete_time = time;
        op.complete_index = index;
        op.complete_line = ev.line;
        self.op_positions[op_index as usize].1 = position;
        if !ev.extra.is_empty() {
            self.extras.push(ExtraFields { op: op_index, on: ev.kind, fields: ev.extra });
        }
        Ok(Some(op_index))
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
