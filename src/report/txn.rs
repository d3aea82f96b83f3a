//! Reports of transactional checks: the shared [`FileReport`] shape (docs/design.md section 5) with
//! Elle's extras — what the anomalies rule out, per-component budget notes — and their text.

use super::{Anomaly, Evidence, FileReport, SCHEMA_VERSION, Stats};
use crate::history::{History, Summary};
use crate::txn::{TxnReport, TxnStats};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

/// What a transactional report adds to [`FileReport`] (flattened into its JSON).
#[derive(Clone, Debug, Serialize)]
pub struct TxnDetails {
    /// The weakest consistency models the anomalies found rule out (Elle's `:not`).
    pub not: Vec<String>,
    /// Every stronger model they also rule out (Elle's `:also-not`).
    pub also_not: Vec<String>,
    /// How many instances of each forbidden anomaly type were found.
    pub anomaly_counts: BTreeMap<String, usize>,
    /// Why the verdict is unknown, when it is.
    pub unknown: Vec<String>,
    /// Per-component notes from cycle searches that ran out of budget.
    pub budget: Vec<String>,
    /// Other remarks.
    pub notes: Vec<String>,
    /// Transactional counters.
    pub txn_stats: TxnStats,
}

impl FileReport {
    /// The report for a transactional check of `history`.
    pub fn from_txn(history: &History, report: TxnReport, elapsed: Duration) -> FileReport {
        let anomalies = report
            .anomalies
            .into_iter()
            .map(|a| Anomaly {
                kind: a.kind.to_string(),
                key: a.key,
                ops: a.txns.iter().map(|t| t.index).collect(),
                lines: a.txns.iter().map(|t| t.line).collect(),
                explanation: a.explanation.join("\n"),
                counterexample: None,
                txns: Some(a.txns),
                cycle: a.cycle,
                evidence: Evidence::default(),
            })
            .collect();
        let s = &report.stats;
        // Transactions are checked together, not key by key (the key count is in txn_stats).
        let stats = Stats::whole(s.txns, s.search_steps, elapsed);
        FileReport {
            version: SCHEMA_VERSION,
            file: history.source.clone(),
            model: report.workload.name().to_string(),
            consistency: crate::vocab::Levels(report.consistency),
            valid: report.valid,
            anomalies,
            keys: Vec::new(),
            stats,
            summary: Summary::of(history),
            warnings: history.warnings.iter().map(|w| format!("line {}: {}", w.line, w.message)).collect(),
            note: None,
            txn: Some(TxnDetails {
                not: report.not,
                also_not: report.also_not,
                anomaly_counts: report.anomaly_counts,
                unknown: report.unknown,
                budget: report.budget,
                notes: report.notes,
                txn_stats: report.stats,
            }),
            queue: None,
        }
    }
}

/// Explanations longer than this many lines are shortened in text.
const LONG: usize = 60;

/// The body of a transactional report as text: each anomaly's explanation, then counts, what
/// the history rules out, and notes.
pub(super) fn write_text(out: &mut String, anomalies: &[Anomaly], d: &TxnDetails) {
    for a in anomalies {
        let lines: Vec<&str> = a.explanation.lines().collect();
        let Some((first, rest)) = lines.split_first() else { continue };
        let _ = writeln!(out, "  {first}");
        // A cycle of thousands of transactions is best read in the JSON report.
        let (head, tail) = if rest.len() > LONG { (LONG - 10, 10) } else { (rest.len(), 0) };
        for line in &rest[..head] {
            let _ = writeln!(out, "    {line}");
        }
        if tail > 0 {
            let _ =
                writeln!(out, "    … {} lines more (--output json has them all) …", rest.len() - head - tail);
            for line in &rest[rest.len() - tail..] {
                let _ = writeln!(out, "    {line}");
            }
        }
    }
    let shown: usize = anomalies.len();
    let total: usize = d.anomaly_counts.values().sum();
    if total > shown {
        let counts: Vec<String> = d.anomaly_counts.iter().map(|(k, n)| format!("{n} {k}")).collect();
        let _ = writeln!(out, "  found {} ({shown} shown)", counts.join(", "));
    }
    if !d.not.is_empty() {
        let _ = writeln!(out, "  not {}", d.not.join(", "));
    }
    if !d.also_not.is_empty() {
        let _ = writeln!(out, "  also not {}", d.also_not.join(", "));
    }
    for why in &d.unknown {
        let _ = writeln!(out, "  unknown: {why}");
    }
    for note in d.budget.iter().chain(&d.notes) {
        let _ = writeln!(out, "  note: {note}");
    }
}
