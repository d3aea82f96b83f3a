//! Weak isolation levels for the research community's histories: Biswas & Enea's (OOPSLA 2019)
//! read committed, read atomic and causal consistency, as AWDIT, dbcop and Plume decide them,
//! over histories of sessions and transactions with no times (see docs/weak-isolation.md).
//!
//! A check runs in three stages, each of which may end it: the read-consistency checks
//! ([`reads`]: thin-air, aborted, future, intermediate, non-repeatable reads, reads that miss
//! the transaction's own write), then a partial commit order built incrementally ([`commit`]),
//! then cycle detection over session order, reads-from and that commit order ([`cycle`]). Every
//! violation is a [`Violation`] with its witness; [`crate::certify::weak`] re-derives each one
//! from the raw transactions before it is shown.
//!
//! ```
//! use labrys::weak::{self, Level};
//! let text = b"w(1,5,0,1)\nr(1,5,1,2)\n";
//! let h = weak::formats::read_bytes("h.txt", text, weak::WeakFormat::Plume).unwrap();
//! assert!(weak::check(&h, Level::Causal).violations.is_empty());
//! ```

pub mod commit;
pub mod cycle;
pub mod formats;
mod history;
mod polygraph;
pub mod reads;
mod solve;
pub mod strong;
mod violation;

pub use crate::history::WeakFormat;
pub use history::{INIT, Keys, Op, TxnId, WeakBuilder, WeakHistory};
pub use violation::{Choice, Edge, EdgeWhy, Premise, Violation};

use crate::outcome::Verdict;

/// One of Biswas & Enea's levels, as `--consistency` names them for the research formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Level {
    /// Read committed: a transaction never reads a version older than one it has already
    /// observed through an earlier read of the same transaction.
    ReadCommitted,
    /// Read atomic: a transaction sees all of a transaction's writes or none, and never
    /// misses a write its session made before it.
    ReadAtomic,
    /// Causal consistency: a transaction sees every write that happened before it.
    Causal,
    /// Snapshot isolation: some commit order in which each transaction reads from a prefix of
    /// it that holds everything that happened before it and every write it conflicts with.
    SnapshotIsolation,
    /// Serializability: some total order of the transactions in which each read sees the last
    /// write before it.
    Serializable,
}

impl Level {
    /// The level's name as `--consistency` spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::ReadCommitted => "read-committed",
            Level::ReadAtomic => "read-atomic",
            Level::Causal => "causal",
            Level::SnapshotIsolation => "snapshot-isolation",
            Level::Serializable => "serializable",
        }
    }

    /// The Biswas–Enea level a `--consistency` level names, if it names one.
    pub fn of(level: crate::vocab::ConsistencyLevel) -> Option<Level> {
        use crate::vocab::ConsistencyLevel as L;
        match level {
            L::ReadCommitted => Some(Level::ReadCommitted),
            L::ReadAtomic => Some(Level::ReadAtomic),
            L::Causal | L::CausalCerone => Some(Level::Causal),
            L::SnapshotIsolation => Some(Level::SnapshotIsolation),
            L::Serializable => Some(Level::Serializable),
            _ => None,
        }
    }

    /// The `--consistency` level that names this one.
    pub fn consistency(self) -> crate::vocab::ConsistencyLevel {
        use crate::vocab::ConsistencyLevel as L;
        match self {
            Level::ReadCommitted => L::ReadCommitted,
            Level::ReadAtomic => L::ReadAtomic,
            Level::Causal => L::Causal,
            Level::SnapshotIsolation => L::SnapshotIsolation,
            Level::Serializable => L::Serializable,
        }
    }

    /// Whether the level implies causal consistency (so every causal violation violates it).
    pub fn implies_causal(self) -> bool {
        matches!(self, Level::Causal | Level::SnapshotIsolation | Level::Serializable)
    }
}

/// What a check found: the violations (each with its witness), or why no verdict could be
/// reached.
#[derive(Clone, Debug, Default)]
pub struct WeakOutcome {
    /// Every violation reported (capped at [`MAX_REPORTED`] of each stage's), certified.
    pub violations: Vec<Violation>,
    /// How many violations were found in all, reported or not.
    pub found: usize,
    /// Why the verdict is unknown, when it is.
    pub unknown: Option<String>,
    /// Commit-order edges the saturation added (for serializability and snapshot isolation:
    /// the edges of the pruned polygraph).
    pub commit_edges: usize,
    /// For serializability and snapshot isolation, when the history satisfies the level: a
    /// commit order (every transaction once) that witnesses it.
    pub order: Option<Vec<TxnId>>,
}

impl WeakOutcome {
    /// Invalid with any violation; unknown with a reason; else valid.
    pub fn verdict(&self) -> Verdict {
        if !self.violations.is_empty() {
            Verdict::Invalid
        } else if self.unknown.is_some() {
            Verdict::Unknown
        } else {
            Verdict::Valid
        }
    }
}

/// The most violations of one stage that a report lists (the count says how many there were).
pub const MAX_REPORTED: usize = 100;

/// What the checks that search (serializability, snapshot isolation) may spend. Running out
/// gives `unknown`, never a verdict.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    /// Solver rounds plus solver conflicts allowed (`--max-steps`).
    pub max_steps: u64,
    /// Wall-clock budget (`--timeout`).
    pub timeout: Option<std::time::Duration>,
    /// Bytes allowed for the pruning matrices (`--max-memory`; 4 GiB when not given).
    pub max_memory: Option<usize>,
}

impl Default for Budget {
    fn default() -> Budget {
        Budget { max_steps: 100_000_000, timeout: None, max_memory: None }
    }
}

/// Checks `history` for `level` with the default [`Budget`]; see [`check_within`].
pub fn check(history: &WeakHistory, level: Level) -> WeakOutcome {
    check_within(history, level, &Budget::default())
}

/// Checks `history` for `level`: the read-consistency checks, then (if they pass) the commit
/// order and its cycles; for serializability and snapshot isolation, then the polygraph and
/// its SAT solving ([`strong`]) within `budget`. Not yet certified: see
/// [`crate::certify::weak::certify`] and [`crate::certify::serial`].
pub fn check_within(history: &WeakHistory, level: Level, budget: &Budget) -> WeakOutcome {
    if matches!(level, Level::Serializable | Level::SnapshotIsolation) {
        return strong::check(history, level, budget);
    }
    let facts = match reads::Facts::derive(history, level) {
        Ok(f) => f,
        Err(reads::Stop::Violations(found, violations)) => {
            return WeakOutcome { violations, found, ..WeakOutcome::default() };
        }
        Err(reads::Stop::Ambiguous(why)) => {
            return WeakOutcome { unknown: Some(why), ..WeakOutcome::default() };
        }
    };
    let topo = match cycle::hb_order(history, &facts) {
        Ok(t) => t,
        Err(cycle) => return WeakOutcome { violations: vec![cycle], found: 1, ..WeakOutcome::default() },
    };
    let order = commit::saturate(history, &facts, level, &topo);
    let commit_edges = order.len();
    let violations: Vec<Violation> = cycle::find(history, &facts, &order).into_iter().collect();
    WeakOutcome { found: violations.len(), violations, unknown: None, commit_edges, order: None }
}
