//! Queues and logs, checked as Jepsen's `total-queue` and Kafka workload check them: not by a
//! linearization search but by counting and by walking each consumer's reads.
//!
//! - [`total`]: `--model total-queue`. Every acknowledged enqueue is dequeued exactly once.
//! - [`log`]: `--model log`. Kafka-style partitions (keys) of `[offset value]` records: lost
//!   writes, duplicates, poll skips, non-monotonic polls and sends, inconsistent offsets, unseen
//!   sends.
//! - [`lag`]: each consumer's true lag, stuck consumers, and lag the system misreported.
//!
//! Every anomaly carries a [`Claim`]: the fact it rests on, as data, which
//! [`crate::certify::queue`] re-derives from the raw ops with code of its own before any report
//! shows it.

pub mod decode;
pub mod lag;
pub mod log;
pub mod total;

use crate::history::Value;
use crate::outcome::Verdict;
use serde::Serialize;
use std::collections::BTreeMap;

/// How a queue or log history is checked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueOptions {
    /// A consumer whose position does not advance for longer than this (in the history's
    /// `:time` units) while its lag is positive is stuck (`--stuck-after`). `None`: the
    /// default, [`DEFAULT_STUCK_AFTER`].
    pub stuck_after: Option<i64>,
}

/// `--stuck-after` when none is given: 10 seconds of Jepsen's nanosecond `:time`.
pub const DEFAULT_STUCK_AFTER: i64 = 10_000_000_000;

/// The fact behind one anomaly, as data: what certification re-derives. Ops are positions in
/// [`crate::history::History::ops`]; offsets and values are as the history gave them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// Total queue: `value` was enqueued with `:ok` `acked` times (`enqueues` are those ops) but
    /// dequeued only `dequeued` times.
    Lost {
        /// The element.
        value: Value,
        /// Its acknowledged enqueues.
        enqueues: Vec<u32>,
        /// How many times it was dequeued.
        dequeued: usize,
    },
    /// Total queue: `value` was dequeued (`dequeues`) but no enqueue of it that did not fail was
    /// ever invoked.
    Unexpected {
        /// The element.
        value: Value,
        /// The dequeues (or drains) that returned it.
        dequeues: Vec<u32>,
    },
    /// Total queue: `value` was dequeued more times (`dequeues`) than enqueues of it were
    /// attempted (`attempts`, those that did not fail).
    Duplicated {
        /// The element.
        value: Value,
        /// The dequeues (or drains) that returned it, one entry per time.
        dequeues: Vec<u32>,
        /// Enqueues of it that did not fail.
        attempts: usize,
    },
    /// Log: the acknowledged send `send` put `value` at `offset` of `key`; no poll ever read
    /// `value`, though `poll` read `key` at `read_offset` >= `offset`.
    LostWrite {
        /// The key (partition).
        key: Value,
        /// The value sent.
        value: Value,
        /// Its acknowledged offset.
        offset: i64,
        /// The send.
        send: u32,
        /// A poll that read past it.
        poll: u32,
        /// The offset that poll read.
        read_offset: i64,
    },
    /// Log: `value` of `key` is at two offsets, as `ops` (a send or poll each) saw it.
    Duplicate {
        /// The key.
        key: Value,
        /// The value.
        value: Value,
        /// Its two offsets, lower first.
        offsets: [i64; 2],
        /// The op that saw it at each.
        ops: [u32; 2],
    },
    /// Log: two different values at one offset of `key`, as `ops` saw them.
    InconsistentOffsets {
        /// The key.
        key: Value,
        /// The offset.
        offset: i64,
        /// The two values.
        values: [Value; 2],
        /// The op that saw each.
        ops: [u32; 2],
    },
    /// Log: one consumer (`prev` and `next` are its ops, the same op for a skip inside one
    /// poll) read `key` up to `last`, then next from `first`, though `skipped` (between them)
    /// holds a record, as `witness` shows.
    PollSkip {
        /// The key.
        key: Value,
        /// The op whose read ended at `last`.
        prev: u32,
        /// The op whose read began at `first`.
        next: u32,
        /// Last offset read before.
        last: i64,
        /// First offset read after.
        first: i64,
        /// An offset between them that holds a record.
        skipped: i64,
        /// An op that saw a record at `skipped`.
        witness: u32,
    },
    /// Log: one consumer read `key` up to `last` (`prev`), then next from `first` <= `last`
    /// (`next`), with no assign, subscribe or crash between.
    NonmonotonicPoll {
        /// The key.
        key: Value,
        /// The earlier read.
        prev: u32,
        /// The later read.
        next: u32,
        /// Last offset of the earlier read.
        last: i64,
        /// First offset of the later read.
        first: i64,
    },
    /// Log: one producer's send to `key` got `second` <= `first`, the offset its previous send
    /// to `key` got.
    NonmonotonicSend {
        /// The key.
        key: Value,
        /// The earlier send.
        prev: u32,
        /// The later send.
        next: u32,
        /// The earlier send's offset.
        first: i64,
        /// The later send's offset.
        second: i64,
    },
    /// Log: the acknowledged send `send` of `value` to `key` was never read by any poll, and no
    /// poll read `key` at or past its offset.
    Unseen {
        /// The key.
        key: Value,
        /// The value.
        value: Value,
        /// The send.
        send: u32,
    },
    /// Lag: the consumer of process `process` read `key` up to `position` (`since`), then polled
    /// until `last_poll` without reading past it, though the send `ahead` (offset `ahead_offset`
    /// > `position`) had been acknowledged: stuck from `from` to `to` (times).
    Stuck {
        /// The key.
        key: Value,
        /// The consumer's process.
        process: u32,
        /// Its position: the last offset it read.
        position: i64,
        /// The poll that read `position`.
        since: u32,
        /// An acknowledged send past `position`.
        ahead: u32,
        /// Its offset.
        ahead_offset: i64,
        /// The last poll that did not advance.
        last_poll: u32,
        /// How many polls did not advance.
        polls: usize,
        /// When the stall began (the later of `since`'s and `ahead`'s completions).
        from: i64,
        /// When it was last seen (`last_poll`'s completion).
        to: i64,
    },
    /// Lag: the system reported lag `reported` for the consumer of process `process` on `key`
    /// (`lag_op`), while its true lag was at least `at_least`: its position was `position`
    /// (read by `position_poll`) and `send` had put offset `position + at_least` before
    /// `lag_op` began.
    LagMisreported {
        /// The key.
        key: Value,
        /// The consumer's process.
        process: u32,
        /// The lag the system reported.
        reported: i64,
        /// A lower bound of the true lag.
        at_least: i64,
        /// The op that reported it.
        lag_op: u32,
        /// The poll that read up to `position`.
        position_poll: u32,
        /// The consumer's position.
        position: i64,
        /// The acknowledged send at `position + at_least`.
        send: u32,
    },
    /// Bank ([`crate::workload::bank`]): the ok read `read` saw balances summing to `total`, not
    /// `expected`.
    WrongTotal {
        /// The read.
        read: u32,
        /// The sum of its balances.
        total: i128,
        /// The total every read should see.
        expected: i128,
    },
    /// Bank: the ok read `read` saw these accounts with a negative balance.
    NegativeValue {
        /// The read.
        read: u32,
        /// Each negative account and its balance.
        negative: Vec<(Value, i64)>,
    },
    /// Bank: the ok read `read` saw accounts that are not the expected ones.
    UnexpectedKey {
        /// The read.
        read: u32,
        /// The accounts it should not have seen.
        unexpected: Vec<Value>,
    },
    /// Bank: the ok read `read` lacked some of the expected accounts.
    MissingKey {
        /// The read.
        read: u32,
        /// The accounts it did not see.
        missing: Vec<Value>,
    },
    /// Bank: the ok read `read` saw `nil` as the balance of these accounts.
    NilBalance {
        /// The read.
        read: u32,
        /// The accounts read as `nil`.
        nils: Vec<Value>,
    },
    /// Counter bounds ([`crate::workload::counter`]): the ok read `read` saw `value`, outside
    /// `[lower, upper]`: the least and the most the adds that may have taken effect before it
    /// completed can sum to, given those certainly done before it began.
    OutOfBounds {
        /// The read.
        read: u32,
        /// What it read.
        value: i64,
        /// The least the counter could have been.
        lower: i128,
        /// The most the counter could have been.
        upper: i128,
    },
    /// Final-read set ([`crate::workload::set`]): `value` was added with `:ok` (`adds`) but the
    /// final read `read` does not hold it.
    SetLost {
        /// The element.
        value: Value,
        /// Its acknowledged adds.
        adds: Vec<u32>,
        /// The final read.
        read: u32,
    },
    /// Final-read set: the final read `read` holds `value`, though no add of it that did not
    /// fail was invoked.
    SetUnexpected {
        /// The element.
        value: Value,
        /// The final read.
        read: u32,
    },
}

/// One anomaly of a queue or log history.
#[derive(Clone, Debug)]
pub struct QueueAnomaly {
    /// The key (partition), for a log.
    pub key: Option<String>,
    /// The ops involved (positions in the history's ops), most telling first.
    pub ops: Vec<u32>,
    /// What happened, in one sentence that names only what the history shows.
    pub explanation: String,
    /// The fact, as data, for certification; the anomaly's kind is the claim's.
    pub claim: Claim,
}

impl QueueAnomaly {
    /// Its kind, as [`Claim::kind`] names it: derived, so a claim is never shown under another
    /// anomaly's name.
    pub fn kind(&self) -> &'static str {
        self.claim.kind()
    }
}

impl Claim {
    /// The anomaly this claim is the fact of: `lost`, `unexpected`, `duplicated` (total queue);
    /// `lost-write`, `duplicate`, `poll-skip`, `nonmonotonic-poll`, `nonmonotonic-send`,
    /// `inconsistent-offsets`, `unseen`, `stuck-consumer`, `lag-misreported` (log);
    /// `wrong-total`, `negative-value`, `unexpected-key`, `missing-key`, `nil-balance` (bank);
    /// `out-of-bounds` (counter bounds); `lost`, `unexpected` (final-read set).
    pub fn kind(&self) -> &'static str {
        match self {
            Claim::Lost { .. } => "lost",
            Claim::Unexpected { .. } => "unexpected",
            Claim::Duplicated { .. } => "duplicated",
            Claim::LostWrite { .. } => "lost-write",
            Claim::Duplicate { .. } => "duplicate",
            Claim::InconsistentOffsets { .. } => "inconsistent-offsets",
            Claim::PollSkip { .. } => "poll-skip",
            Claim::NonmonotonicPoll { .. } => "nonmonotonic-poll",
            Claim::NonmonotonicSend { .. } => "nonmonotonic-send",
            Claim::Unseen { .. } => "unseen",
            Claim::Stuck { .. } => "stuck-consumer",
            Claim::LagMisreported { .. } => "lag-misreported",
            Claim::WrongTotal { .. } => "wrong-total",
            Claim::NegativeValue { .. } => "negative-value",
            Claim::UnexpectedKey { .. } => "unexpected-key",
            Claim::MissingKey { .. } => "missing-key",
            Claim::NilBalance { .. } => "nil-balance",
            Claim::OutOfBounds { .. } => "out-of-bounds",
            Claim::SetLost { .. } => "lost",
            Claim::SetUnexpected { .. } => "unexpected",
        }
    }
}

/// A consumer's true lag on one key at one moment: a point of the lag series.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LagPoint {
    /// When (the history's clock).
    pub time: i64,
    /// The consumer's process.
    pub process: u32,
    /// The key.
    pub key: String,
    /// Highest offset acknowledged by then minus the consumer's position.
    pub lag: i64,
}

/// What a queue or log check found.
#[derive(Clone, Debug)]
pub struct QueueReport {
    /// `total-queue` or `log`.
    pub model: &'static str,
    /// Invalid when any anomaly was found; unknown when nothing could be tested.
    pub valid: Verdict,
    /// Every anomaly, each with its claim.
    pub anomalies: Vec<QueueAnomaly>,
    /// Counters, Jepsen's names (`attempt-count`, `lost-count`, ...).
    pub counts: BTreeMap<String, usize>,
    /// Jepsen's total-queue multisets (`lost`, `unexpected`, `duplicated`, `recovered`), each
    /// element as EDN text, repeated as often as it counts.
    pub elements: BTreeMap<String, Vec<String>>,
    /// Each consumer's true lag over time (log only; the points where it changed).
    pub lag: Vec<LagPoint>,
    /// Remarks on what was and was not checked.
    pub notes: Vec<String>,
}

impl QueueReport {
    /// How many anomalies of each kind.
    pub fn anomaly_counts(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for a in &self.anomalies {
            *counts.entry(a.kind().to_string()).or_insert(0) += 1;
        }
        counts
    }
}

/// The verdict of a check that found `anomalies`: invalid when there are any.
pub(crate) fn verdict_of(anomalies: &[QueueAnomaly]) -> Verdict {
    if anomalies.is_empty() { Verdict::Valid } else { Verdict::Invalid }
}
