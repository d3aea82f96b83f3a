//! Certification of queue and log reports ([`crate::queue`]): each claim re-derived from the
//! raw ops, with code of its own. Total-queue reports are recounted whole (so a valid verdict is
//! certified too); each log claim is checked against the ops it cites and, where it says
//! "never", against every op.

mod log;
mod total;

use super::Refuted;
use crate::history::History;
use crate::queue::{Claim, QueueAnomaly, QueueReport};

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
        let claim = || format!("{}: {}", a.kind(), a.explanation);
        let (key, cited) = log_cited(&a.claim).ok_or_else(|| Refuted::new(claim(), foreign(&a.claim)))?;
        shows_what_it_claims(a, Some(key), &cited)?;
        facts.certify(&a.claim, stuck_after).map_err(|why| Refuted::new(claim(), why))?;
    }
    Ok(())
}

/// The key and the ops a log claim names, in the order an anomaly shows them.
fn log_cited(claim: &Claim) -> Option<(&crate::history::Value, Vec<u32>)> {
    Some(match claim {
        Claim::LostWrite { key, send, poll, .. } => (key, vec![*send, *poll]),
        Claim::Duplicate { key, ops, .. } | Claim::InconsistentOffsets { key, ops, .. } => {
            (key, ops.to_vec())
        }
        Claim::PollSkip { key, prev, next, witness, .. } => (key, vec![*prev, *next, *witness]),
        Claim::NonmonotonicPoll { key, prev, next, .. } | Claim::NonmonotonicSend { key, prev, next, .. } => {
            (key, vec![*prev, *next])
        }
        Claim::Unseen { key, send, .. } => (key, vec![*send]),
        Claim::Stuck { key, since, ahead, last_poll, .. } => (key, vec![*since, *ahead, *last_poll]),
        Claim::LagMisreported { key, lag_op, position_poll, send, .. } => {
            (key, vec![*lag_op, *position_poll, *send])
        }
        _ => return None,
    })
}

/// An anomaly shows the key and the ops its claim names, and no other: its evidence is its
/// own claim's.
pub(crate) fn shows_what_it_claims(
    a: &QueueAnomaly,
    key: Option<&crate::history::Value>,
    ops: &[u32],
) -> Result<(), Refuted> {
    let key = key.map(ToString::to_string);
    if a.key != key || a.ops != ops {
        return Err(Refuted::new(
            format!("{}: {}", a.kind(), a.explanation),
            format!(
                "it shows key {:?} and ops {:?}; its claim names key {key:?} and ops {ops:?}",
                a.key, a.ops
            ),
        ));
    }
    Ok(())
}

/// A claim that is not the kind a model makes.
fn foreign(claim: &Claim) -> String {
    format!("this model makes no such claim: {claim:?}")
}
