//! Anomalies found without a cycle, as inference meets them, before they are put into words.

use super::ops::Elem;
use crate::vocab::TxnAnomalyKind as T;
use crate::vocab::TxnAnomalyKind;
use std::collections::BTreeMap;

/// How many instances of each anomaly type the report shows (all are counted).
pub(crate) const KEEP_PER_TYPE: usize = 8;

/// How many instances of each anomaly type are kept in all, shown or not, so that
/// certification can re-derive the counts (a count above this is left not re-derived, which
/// bounds the memory a history full of anomalies takes).
pub(crate) const COUNT_PER_TYPE: usize = 4096;

/// One anomaly that needs no cycle. Ops are indices into the history's ops; a reader is
/// `(op, micro-op index)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Finding {
    /// G1a: a committed read saw an element that only a failed transaction appended.
    AbortedRead { key: u32, elem: Elem, writer: u32, reader: (u32, u32) },
    /// A committed append came right after (crashed appends aside) one by a failed transaction:
    /// `(op, element)` of each.
    DirtyUpdate { key: u32, failed: (u32, Elem), committed: (u32, Elem) },
    /// G1b: a committed read ended with an element its writer later appended after.
    IntermediateRead { key: u32, elem: Elem, writer: u32, reader: (u32, u32) },
    /// A read saw an element nobody wrote.
    GarbageRead { key: u32, elem: Elem, reader: (u32, u32) },
    /// A read holds the same element twice.
    DuplicateElements { key: u32, elem: Elem, reader: (u32, u32) },
    /// Two reads of a key that no single order of appends can explain.
    IncompatibleOrder { key: u32, reads: [(u32, u32); 2] },
    /// A transaction appended `first` and then `second` to a key, but the version order (as
    /// far as `shown`) has `second` without `first` before it.
    OwnOrder { key: u32, op: u32, first: Elem, second: Elem, shown: Vec<Elem> },
    /// A transaction read something other than what its own earlier reads and writes imply.
    Internal { op: u32, mop: u32, expected: String },
    /// A transaction read an element it appends only later.
    FutureRead { key: u32, elem: Elem, op: u32, mop: u32 },
    /// Committed transactions that read the same version of a key and then all wrote it.
    LostUpdate { key: u32, read: String, txns: Vec<u32> },
    /// A register's inferred version order has a cycle.
    CyclicVersions { key: u32, values: Vec<Elem> },
}

impl Finding {
    /// Elle's name for the anomaly.
    pub(crate) fn kind(&self) -> TxnAnomalyKind {
        match self {
            Finding::AbortedRead { .. } => T::G1a,
            Finding::IntermediateRead { .. } => T::G1b,
            Finding::DirtyUpdate { .. } => T::DirtyUpdate,
            Finding::GarbageRead { .. } => T::GarbageRead,
            Finding::DuplicateElements { .. } => T::DuplicateElements,
            Finding::IncompatibleOrder { .. } | Finding::OwnOrder { .. } => T::IncompatibleOrder,
            Finding::Internal { .. } => T::Internal,
            Finding::FutureRead { .. } => T::FutureRead,
            Finding::LostUpdate { .. } => T::LostUpdate,
            Finding::CyclicVersions { .. } => T::CyclicVersions,
        }
    }
}

/// The findings so far: a few instances of each type, a count of all, and reasons the verdict
/// cannot be definite.
#[derive(Debug, Default)]
pub(crate) struct Findings {
    pub kept: Vec<Finding>,
    pub counts: BTreeMap<&'static str, usize>,
    pub unknown: Vec<String>,
}

impl Findings {
    /// Records a finding, keeping it if fewer than [`COUNT_PER_TYPE`] of its type are kept.
    pub(crate) fn push(&mut self, f: Finding) {
        let n = self.counts.entry(f.kind().as_str()).or_insert(0);
        *n += 1;
        if *n <= COUNT_PER_TYPE {
            self.kept.push(f);
        }
    }

    /// Records why part of the history could not be checked.
    pub(crate) fn unknown(&mut self, why: String) {
        self.unknown.push(why);
    }
}
