//! Certification: every claim a report makes is re-derived from the raw history before it is
//! shown (docs/design.md section 1, step 6).
//!
//! This module is deliberately independent of the searches, the dependency graphs and the
//! explainers: it reads only the history (ops, their values, outcomes, times and processes, and
//! for transactions the micro-ops as the reader decoded them) and the claims, and checks each
//! claim against the raw ops with code of its own. A claim that fails is a bug in labrys, never a
//! fact about the history: the caller must not print it (the command line exits 255, "internal
//! error: a witness failed its own check").

mod counting;
mod counting_numbers;
mod joint;
mod kv;
pub mod linear;
mod multi_register;
mod mutex;
// Public only for the integration tests, which hold it to a slower oracle of their own.
pub mod long_fork;
#[doc(hidden)]
pub mod oracle;
pub mod queue;
mod register;
mod saturation;
mod sequential;
pub mod serial;
mod set;
pub mod set_full;
mod set_full_totals;
mod stepper;
mod told;
pub mod txn;
pub mod weak;
mod words;
pub mod workload;

use std::fmt;

/// A claim that the history does not support.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refuted {
    /// The claim, in words ("G-single cycle T1 -rw-> T2: ...").
    pub claim: String,
    /// What the raw ops say instead.
    pub why: String,
}

impl Refuted {
    /// A refutation of `claim`, because `why`.
    pub fn new(claim: impl Into<String>, why: impl Into<String>) -> Refuted {
        Refuted { claim: claim.into(), why: why.into() }
    }
}

impl fmt::Display for Refuted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.claim, self.why)
    }
}

impl std::error::Error for Refuted {}

/// A claim's sentence is the one certification words itself from the raw values (`told`).
fn told_as(said: &str, told: &str) -> Result<(), String> {
    if said == told { Ok(()) } else { Err(format!("it says \"{said}\", but the values say \"{told}\"")) }
}
