//! `--model long-fork`, as Jepsen's `jepsen.tests.long-fork`: transactions that each write one
//! fresh key (`[[:w k v]]`), and transactions that read a group of keys (`[[:r k1 v1] [:r k2 v2]
//! ...]`). Each key is written once, so a read's view of a group is the set of keys it saw
//! written; snapshot isolation orders all snapshots, so any two reads of one group must see
//! nested sets. Two reads where one saw `x` written and not `y`, and the other `y` and not `x`,
//! saw the two writes in opposite orders: a long fork (allowed by parallel snapshot isolation,
//! forbidden by snapshot isolation).
//!
//! Every fork carries its [`Fork`] claim, which [`crate::certify::long_fork`] re-derives from the
//! raw ops with code of its own.

mod check;

pub use check::check;

use crate::history::Value;
use crate::outcome::Verdict;
use std::collections::BTreeMap;

/// How a long-fork history is checked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LongForkOptions {
    /// How many keys each read transaction reads (`--group-size`, Jepsen's `n`). `None`: the
    /// number of keys the first `:ok` read reads; every `:ok` read must read that many either
    /// way.
    pub group_size: Option<usize>,
}

/// A long fork, as data: `reads[0]` saw `keys[0]` written and `keys[1]` not (`nil`), `reads[1]`
/// saw `keys[1]` written and `keys[0]` not; the two reads read the same group of keys, and
/// `writes[i]` is the one transaction that wrote `keys[i]`, with the value read. Ops are
/// positions in [`crate::history::History::ops`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fork {
    /// The two reads.
    pub reads: [u32; 2],
    /// The two keys they disagree on.
    pub keys: [Value; 2],
    /// The writes of those keys.
    pub writes: [u32; 2],
}

impl Fork {
    /// The ops the claim names, in the order a report shows them: the reads, then the writes.
    pub fn ops(&self) -> Vec<u32> {
        vec![self.reads[0], self.reads[1], self.writes[0], self.writes[1]]
    }
}

/// One long fork found.
#[derive(Clone, Debug)]
pub struct LongForkAnomaly {
    /// What the reads saw, in one sentence that names only what the history shows.
    pub explanation: String,
    /// The fact, as data.
    pub fork: Fork,
}

impl LongForkAnomaly {
    /// Its kind: `long-fork`.
    pub fn kind(&self) -> &'static str {
        "long-fork"
    }
}

/// What a long-fork check found.
#[derive(Clone, Debug)]
pub struct LongForkReport {
    /// Invalid when a fork was found; unknown when a key is written twice, a read saw a value
    /// no write wrote, or no read completed `:ok`; else valid.
    pub valid: Verdict,
    /// One fork per pair of distinct views of a group that are not nested (the first read of
    /// each view), up to [`MAX_FORKS`].
    pub anomalies: Vec<LongForkAnomaly>,
    /// `read-count` (`:ok` read transactions), `write-count` (write transactions invoked),
    /// `group-count`, `group-size`, `fork-count`.
    pub counts: BTreeMap<String, usize>,
    /// What was and was not checked; why a verdict is unknown.
    pub notes: Vec<String>,
}

/// The most forks a check lists (all are counted in `fork-count` up to this; beyond it the note
/// says the count is a lower bound).
pub const MAX_FORKS: usize = 10_000;
