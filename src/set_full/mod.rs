//! `--model set-full`, as Jepsen's `jepsen.checker/set-full`: a grow-only set of unique
//! elements, added one at a time and read whole. Not a linearization search: each element's
//! timeline of reads is walked once.
//!
//! Ops: `:add v` (or `:add [k v]`, one set per key), and `:read` invoked with `nil` (or
//! `[k nil]`) completing with the elements (`[e ...]`, or `[k [e ...]]` for a keyed read; a
//! keyed read may also complete with the flat list). See [`check`] for the definitions, which
//! are Jepsen's.
//!
//! Every anomaly carries a [`Claim`]: the fact it rests on, as data, which
//! [`crate::certify::set_full`] re-derives from the raw ops with code of its own.

mod check;
mod decode;

pub use check::check;
pub use decode::{SetFullOp, decode};

use crate::history::Value;
use crate::outcome::Verdict;
use std::collections::BTreeMap;

/// How a set-full history is checked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SetFullOptions {
    /// Jepsen's `:linearizable?` (`--linearizable`): stale elements make the history invalid.
    pub linearizable: bool,
}

/// The fact behind one anomaly, as data. Ops are positions in
/// [`crate::history::History::ops`]; "index" below is the ops' `:index` (history order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// `element` was known present by `known` (an `:ok` add of it, or an `:ok` read that
    /// contained it); the `:ok` read `absent`, invoked after `known` completed, did not contain
    /// it, and no `:ok` read invoked after `absent` did.
    Lost {
        /// The element.
        element: Value,
        /// The op that made it known.
        known: u32,
        /// The last read that missed it.
        absent: u32,
    },
    /// `element` was known present by `known`; the `:ok` read `absent`, invoked after `known`
    /// completed, did not contain it; every `:ok` read invoked after `absent` did, `present`
    /// among them.
    Stale {
        /// The element.
        element: Value,
        /// The op that made it known.
        known: u32,
        /// The last read that missed it.
        absent: u32,
        /// A read invoked after `absent` that contained it.
        present: u32,
    },
    /// The `:ok` read `read` contained `element` `times` (> 1) times.
    Duplicated {
        /// The element.
        element: Value,
        /// The read.
        read: u32,
        /// How often it appears in that read.
        times: usize,
    },
    /// The `:ok` read `read` contained `element`, which no add of this set ever carried.
    Unexpected {
        /// The element.
        element: Value,
        /// The read.
        read: u32,
    },
}

impl Claim {
    /// The anomaly this claim is the fact of: `lost`, `stale`, `duplicated`, `unexpected`.
    pub fn kind(&self) -> &'static str {
        match self {
            Claim::Lost { .. } => "lost",
            Claim::Stale { .. } => "stale",
            Claim::Duplicated { .. } => "duplicated",
            Claim::Unexpected { .. } => "unexpected",
        }
    }

    /// The ops the claim names, in the order an anomaly shows them.
    pub fn ops(&self) -> Vec<u32> {
        match self {
            Claim::Lost { known, absent, .. } => vec![*known, *absent],
            Claim::Stale { known, absent, present, .. } => vec![*known, *absent, *present],
            Claim::Duplicated { read, .. } | Claim::Unexpected { read, .. } => vec![*read],
        }
    }

    /// The element the claim is about.
    pub fn element(&self) -> &Value {
        match self {
            Claim::Lost { element, .. }
            | Claim::Stale { element, .. }
            | Claim::Duplicated { element, .. }
            | Claim::Unexpected { element, .. } => element,
        }
    }
}

/// One anomaly of a set-full history.
#[derive(Clone, Debug)]
pub struct SetFullAnomaly {
    /// The set's key, for a keyed history.
    pub key: Option<Value>,
    /// What happened, in one sentence that names only what the history shows.
    pub explanation: String,
    /// The fact, as data; the anomaly's kind and ops are the claim's.
    pub claim: Claim,
}

/// What a set-full check found: Jepsen's results, summed over keys.
#[derive(Clone, Debug)]
pub struct SetFullReport {
    /// Invalid when an element is lost, duplicated or unexpected (or, with `linearizable`,
    /// stale); unknown when some set has no stable element; else valid.
    pub valid: Verdict,
    /// Every anomaly, each with its claim.
    pub anomalies: Vec<SetFullAnomaly>,
    /// Every stale element's claim, whether or not staleness is an anomaly (it is with
    /// `linearizable`, and then each is in `anomalies` too): certification holds the `stale`
    /// list to them.
    pub stale: Vec<SetFullAnomaly>,
    /// Jepsen's counters: `attempt-count`, `stable-count`, `lost-count`, `never-read-count`,
    /// `stale-count`, `duplicated-count`, and `unexpected-count` (ours).
    pub counts: BTreeMap<String, usize>,
    /// Jepsen's element lists (`lost`, `never-read`, `stale`, `duplicated`, and `unexpected`):
    /// each element as EDN text, `[k v]` in a keyed history.
    pub elements: BTreeMap<String, Vec<String>>,
    /// `stable-latencies` and `lost-latencies`: quantile (`"0"`, `"0.5"`, `"0.95"`, `"0.99"`,
    /// `"1"`) to milliseconds, as Jepsen computes them. Empty when the history has no `:time`.
    pub latencies: BTreeMap<String, BTreeMap<String, i64>>,
    /// What was and was not checked; the reason for an unknown verdict.
    pub notes: Vec<String>,
}
