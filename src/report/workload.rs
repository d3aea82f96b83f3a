//! Reports of Jepsen's set-full and long-fork checks ([`crate::set_full`],
//! [`crate::long_fork`]), in the counting checkers' shape ([`super::queue`]): anomalies, Jepsen's
//! counters and element lists, set-full's latency quantiles, notes.

use super::FileReport;
use super::queue::{Listed, QueueDetails, counting_report};
use crate::history::History;
use crate::long_fork::LongForkReport;
use crate::set_full::SetFullReport;
use std::collections::BTreeMap;
use std::time::Duration;

/// How many anomalies of each kind `kinds` holds.
fn tally<'a>(kinds: impl Iterator<Item = &'a str>) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for k in kinds {
        *counts.entry(k.to_string()).or_insert(0) += 1;
    }
    counts
}

impl FileReport {
    /// The report for a set-full check of `history`.
    pub fn from_set_full(history: &History, report: SetFullReport, elapsed: Duration) -> FileReport {
        let listed = report.anomalies.iter().map(|a| Listed {
            kind: a.claim.kind(),
            key: a.key.as_ref().map(ToString::to_string),
            ops: a.claim.ops(),
            explanation: &a.explanation,
        });
        let details = QueueDetails {
            anomaly_counts: tally(report.anomalies.iter().map(|a| a.claim.kind())),
            counts: report.counts.clone(),
            elements: report.elements.clone(),
            latencies: report.latencies.clone(),
            lag: Vec::new(),
            notes: report.notes.clone(),
        };
        counting_report(history, "set-full", report.valid, listed, details, elapsed)
    }

    /// The report for a long-fork check of `history`.
    pub fn from_long_fork(history: &History, report: LongForkReport, elapsed: Duration) -> FileReport {
        let listed = report.anomalies.iter().map(|a| Listed {
            kind: a.kind(),
            key: None,
            ops: a.fork.ops(),
            explanation: &a.explanation,
        });
        let details = QueueDetails {
            anomaly_counts: tally(report.anomalies.iter().map(|a| a.kind())),
            counts: report.counts.clone(),
            elements: BTreeMap::new(),
            latencies: BTreeMap::new(),
            lag: Vec::new(),
            notes: report.notes.clone(),
        };
        counting_report(history, "long-fork", report.valid, listed, details, elapsed)
    }
}
