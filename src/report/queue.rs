//! Reports of queue and log checks ([`crate::queue`]): the shared [`FileReport`] shape with
//! Jepsen's counters (`attempt-count`, `lost`, ... for a total queue), anomaly counts, and each
//! consumer's lag over time.

use super::{Anomaly, Evidence, FileReport, SCHEMA_VERSION, Stats};
use crate::history::{History, Summary};
use crate::queue::{LagPoint, QueueReport};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

/// The most anomalies of one kind a report lists (all are counted in `anomaly_counts`, and
/// all were certified).
pub const MAX_PER_KIND: usize = 100;

/// What a queue or log report adds to [`FileReport`] (flattened into its JSON).
#[derive(Clone, Debug, Serialize)]
pub struct QueueDetails {
    /// How many anomalies of each kind were found (the list keeps [`MAX_PER_KIND`] of each).
    pub anomaly_counts: BTreeMap<String, usize>,
    /// Jepsen's counters, under Jepsen's names (`attempt-count`, `lost-count`, ...).
    #[serde(flatten)]
    pub counts: BTreeMap<String, usize>,
    /// Jepsen's total-queue multisets (`lost`, `unexpected`, `duplicated`, `recovered`): each
    /// element as EDN text, as often as it counts.
    #[serde(flatten)]
    pub elements: BTreeMap<String, Vec<String>>,
    /// Set-full's `stable-latencies` and `lost-latencies`: quantile to milliseconds.
    #[serde(flatten)]
    pub latencies: BTreeMap<String, BTreeMap<String, i64>>,
    /// Each consumer's true lag where it changed (log only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lag: Vec<LagPoint>,
    /// What was and was not checked.
    pub notes: Vec<String>,
}

/// One anomaly as a report lists it, from any counting checker (queues, logs, set-full, long
/// fork): its kind, key, ops (positions in the history) and explanation.
pub(super) struct Listed<'a> {
    pub(super) kind: &'static str,
    pub(super) key: Option<String>,
    pub(super) ops: Vec<u32>,
    pub(super) explanation: &'a str,
}

/// The report of a counting check: the listed anomalies (at most [`MAX_PER_KIND`] of each
/// kind) and `details`, in the shared [`FileReport`] shape.
pub(super) fn counting_report<'a>(
    history: &History,
    model: &str,
    valid: crate::outcome::Verdict,
    listed: impl Iterator<Item = Listed<'a>>,
    details: QueueDetails,
    elapsed: Duration,
) -> FileReport {
    let mut shown: BTreeMap<&str, usize> = BTreeMap::new();
    let anomalies = listed
        .filter(|a| {
            let n = shown.entry(a.kind).or_insert(0);
            *n += 1;
            *n <= MAX_PER_KIND
        })
        .map(|a| {
            let ops: Vec<&crate::history::Op> = a.ops.iter().map(|&p| &history.ops[p as usize]).collect();
            Anomaly {
                kind: a.kind.to_string(),
                key: a.key,
                ops: ops.iter().map(|o| o.invoke_index).collect(),
                lines: ops.iter().map(|o| o.invoke_line).collect(),
                explanation: a.explanation.to_string(),
                counterexample: None,
                txns: None,
                cycle: None,
                evidence: Evidence::default(),
            }
        })
        .collect();
    FileReport {
        version: SCHEMA_VERSION,
        file: history.source.clone(),
        model: model.to_string(),
        consistency: crate::vocab::Levels(Vec::new()),
        valid,
        anomalies,
        keys: Vec::new(),
        stats: Stats::whole(history.ops.len(), 0, elapsed),
        summary: Summary::of(history),
        warnings: history.warnings.iter().map(|w| format!("line {}: {}", w.line, w.message)).collect(),
        note: None,
        txn: None,
        queue: Some(details),
    }
}

impl FileReport {
    /// The report for a queue or log check of `history`.
    pub fn from_queue(history: &History, report: QueueReport, elapsed: Duration) -> FileReport {
        let listed = report.anomalies.iter().map(|a| Listed {
            kind: a.kind(),
            key: a.key.clone(),
            ops: a.ops.clone(),
            explanation: &a.explanation,
        });
        let details = QueueDetails {
            anomaly_counts: report.anomaly_counts(),
            counts: report.counts.clone(),
            elements: report.elements.clone(),
            latencies: BTreeMap::new(),
            lag: report.lag.clone(),
            notes: report.notes.clone(),
        };
        counting_report(history, report.model, report.valid, listed, details, elapsed)
    }
}

/// A queue or log report as text: the verdict line, each anomaly listed with its ops'
/// indices, counts, and notes.
pub(super) fn write_text(out: &mut String, r: &FileReport, d: &QueueDetails) {
    let _ = writeln!(out, "{}: {} ({} ops, {})", r.file, r.valid.word(), r.stats.ops, r.model);
    if let Some(note) = &r.note {
        let _ = writeln!(out, "  note: {note}");
    }
    for a in &r.anomalies {
        let key = a.key.as_deref().map(|k| format!("key {k}: ")).unwrap_or_default();
        let indices: Vec<String> = a.ops.iter().map(u64::to_string).collect();
        let _ = writeln!(out, "  {key}{}: {} (ops at index {})", a.kind, a.explanation, indices.join(", "));
    }
    if !d.anomaly_counts.is_empty() {
        let counts: Vec<String> = d.anomaly_counts.iter().map(|(k, n)| format!("{n} {k}")).collect();
        let _ = writeln!(out, "  found {} ({} listed)", counts.join(", "), r.anomalies.len());
    }
    if !d.counts.is_empty() {
        let counts: Vec<String> = d.counts.iter().map(|(k, n)| format!("{k} {n}")).collect();
        let _ = writeln!(out, "  {}", counts.join(", "));
    }
    for (name, q) in &d.latencies {
        let q: Vec<String> = q.iter().map(|(at, ms)| format!("{at}: {ms}")).collect();
        let _ = writeln!(out, "  {name} (ms): {}", q.join(", "));
    }
    for note in &d.notes {
        let _ = writeln!(out, "  note: {note}");
    }
}
