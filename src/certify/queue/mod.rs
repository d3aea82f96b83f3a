//! Certification of queue and log reports ([`crate::queue`]): each claim re-derived from the
//! raw ops, with code of its own. Total-queue reports are recounted whole (so a valid verdict is
//! certified too); each log claim is checked against the ops it cites and, where it says
//! "never", against every op.

mod log;
mod total;

use super::Refuted;
use crate::history::History;
use crate::queue::{Claim, QueueReport};

/// Certifies every claim of `report` (and, for a total queue, its counts and verdict);
/// `stuck_after` is the threshold the check used (`None` when stalls were not looked for).
pub fn certify_queue_report(
    history: &History,
    report: &QueueReport,
    stuck_after: Option<i64>,
) -> Result<(), Refuted> {
    if report.model == "total-queue" {
        return total::certify(history, report);
    }
    if report.anomalies.is_empty() {
        // A log's valid verdict is not re-derived (a gap: see docs/queues.md); with no claim,
        // the whole history's reads need not be indexed.
        return Ok(());
    }
    let facts = log::Facts::of(history);
    for a in &report.anomalies {
        facts
            .certify(&a.claim, stuck_after)
            .map_err(|why| Refuted::new(format!("{}: {}", a.kind, a.explanation), why))?;
    }
    Ok(())
}

/// A claim that is not the kind a model makes.
fn foreign(claim: &Claim) -> String {
    format!("this model makes no such claim: {claim:?}")
}
