//! Jepsen's other standard workload checkers, as elle-cli exposes them: they count and bound,
//! they do not search for a linearization.
//!
//! - [`bank`]: `--model bank` (`jepsen.tests.bank`): every read sees the same total, the
//!   expected accounts, and no negative balance.
//! - [`counter`]: `--model counter-bounds` (`jepsen.checker/counter`): each read lies within
//!   what the adds that certainly and possibly took effect allow. (`--model counter` is the
//!   linearizable counter model, [`crate::model::Counter`].)
//! - [`set`]: `--model set-final` (`jepsen.checker/set`): every acknowledged add is in the
//!   final read. (`--model set` is the linearizable set model, [`crate::model::Set`].)
//!
//! Each produces a [`QueueReport`] whose anomalies carry a [`crate::queue::Claim`], which
//! [`crate::certify::workload`] re-derives from the raw ops before any report shows it.

pub mod bank;
pub mod counter;
pub mod set;

use crate::history::{History, Op, Value};
use crate::outcome::{DecodeFailure, Verdict};
use crate::queue::QueueAnomaly;
#[cfg(doc)]
use crate::queue::QueueReport;

/// How a bank is checked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BankOptions {
    /// The total every bank read must see (`--total`, elle-cli's `--total-amount`); `None`:
    /// the total of the first `:ok` read that saw every balance, as elle-cli infers it.
    pub total: Option<i64>,
    /// Negative balances are no anomaly (`--allow-negative-balances`).
    pub allow_negative_balances: bool,
}

/// A bad-input failure at `op`: its completion's line when it has one.
pub(crate) fn fail(op: &Op, message: String) -> DecodeFailure {
    let line = if op.complete_line > 0 { op.complete_line } else { op.invoke_line };
    DecodeFailure { line, index: op.invoke_index, message }
}

/// The failure for an `:f` the workload does not have.
pub(crate) fn unknown_f(history: &History, op: &Op, workload: &str, fs: &str) -> DecodeFailure {
    DecodeFailure {
        line: op.invoke_line,
        index: op.invoke_index,
        message: format!("a {workload} history has {fs} ops, not :{}", history.f_name(op)),
    }
}

/// `field` of a map, whether its keys are keywords (EDN, `:from`) or strings (JSON, `"from"`).
pub fn field<'v>(map: &'v Value, field: &str) -> Option<&'v Value> {
    map.get(&Value::keyword(field)).or_else(|| map.get(&Value::string(field)))
}

/// The order of ops in the history as Jepsen's checkers see it: by completion.
pub(crate) fn completion_order(op: &Op) -> (u64, u32) {
    (op.complete_index, op.complete_line)
}

/// The verdict of a check that judged `reads` reads and found `anomalies`: invalid when any was
/// found, unknown (saying why in `notes`) when no read was judged.
pub(crate) fn verdict(anomalies: &[QueueAnomaly], reads: usize, notes: &mut Vec<String>) -> Verdict {
    if !anomalies.is_empty() {
        Verdict::Invalid
    } else if reads == 0 {
        notes.push("no read completed ok: nothing was checked".to_string());
        Verdict::Unknown
    } else {
        Verdict::Valid
    }
}
