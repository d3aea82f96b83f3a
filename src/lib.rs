//! labrys: a consistency checker for recorded histories of distributed systems.
//!
//! Read a Jepsen-style history ([`history`]), then check it. See `docs/design.md` and the
//! README in the repository for the shape of the whole.

#![warn(missing_docs)]
// A read error carries its file, line and text; it is built once per failed read, so its size
// does not matter.
#![allow(clippy::result_large_err)]

pub mod certify;
pub mod check;
pub mod explain;
pub mod graph;
pub mod history;
pub mod model;
pub mod outcome;
pub mod progress;
pub mod report;
pub mod search;
pub mod sim;
pub mod split;
pub mod txn;
pub mod vocab;
