//! labrys: a consistency checker for recorded histories of distributed systems.
//!
//! Read a Jepsen-style history ([`history`]), then check it ([`check`]) against a [`model`] —
//! a built-in one or one of your own — or, for transactions, with [`txn`]. What a check finds
//! is in [`outcome`] (words in [`vocab`]); [`report`] renders it, [`certify`] re-derives its
//! claims from the raw ops, and [`sim`] generates histories with known truth. See
//! `docs/design.md` and the README in the repository for the shape of the whole.

#![warn(missing_docs)]
// A read error carries its file, line and text; it is built once per failed read, so its size
// does not matter.
#![allow(clippy::result_large_err)]

pub mod certify;
pub mod check;
// Public only for the integration tests, which hold the classifiers to their oracle.
#[doc(hidden)]
pub mod explain;
mod graph;
pub mod history;
pub mod long_fork;
pub mod model;
pub mod outcome;
// Public only for the binary, which draws the bar; a library caller has no terminal to draw on.
#[doc(hidden)]
pub mod progress;
pub mod report;
// Public only for the integration tests (the brute-force oracles); what a caller passes, the
// options, is re-exported from `check`.
#[doc(hidden)]
pub mod search;
pub mod set_full;
pub mod sim;
// Public only for the integration tests and benches; the keying a caller passes is re-exported
// from `certify::linear`.
pub mod queue;
#[doc(hidden)]
pub mod split;
pub mod txn;
pub mod vocab;
pub mod weak;
pub mod workload;
