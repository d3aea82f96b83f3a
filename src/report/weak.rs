//! A weak-isolation check as a [`FileReport`], so that every output (text, JSON, JUnit, HTML)
//! renders it as it renders the others: one report per level, each violation an anomaly named
//! as AWDIT names it, its transactions cited with their session and line.

use super::txn::TxnDetails;
use super::{Anomaly, Evidence, FileReport, SCHEMA_VERSION, Stats};
use crate::history::Summary;
use crate::outcome::Verdict;
use crate::txn::{TxnRef, TxnStats};
use crate::vocab::Levels;
use crate::weak::{Level, Violation, WeakHistory, WeakOutcome};
use std::collections::BTreeMap;
use std::time::Duration;

/// The model name weak reports give: transactions of reads and writes of registers.
const MODEL: &str = "rw-register";

/// Why a history with no transaction is `unknown` (`--allow-empty` makes it valid).
const NO_TXNS: &str = "the history holds no transactions";

/// The report of `outcome`, a check of `h` for `level` that took `elapsed`.
pub fn file_report(
    h: &WeakHistory,
    level: Level,
    outcome: &WeakOutcome,
    elapsed: Duration,
    allow_empty: bool,
) -> FileReport {
    let anomalies: Vec<Anomaly> = outcome.violations.iter().map(|v| anomaly(h, v)).collect();
    let mut valid = outcome.verdict();
    let mut note = outcome.unknown.clone();
    if outcome.found > outcome.violations.len() {
        note = Some(format!(
            "{} violations found; the first {} are listed",
            outcome.found,
            outcome.violations.len()
        ));
    }
    if h.txn_count() == 0 {
        valid = if allow_empty { Verdict::Valid } else { Verdict::Unknown };
        note = Some(NO_TXNS.to_string());
    }
    FileReport {
        version: SCHEMA_VERSION,
        file: h.source.clone(),
        model: MODEL.to_string(),
        consistency: Levels::from(level.consistency()),
        valid,
        anomalies,
        keys: Vec::new(),
        stats: Stats::whole(h.ops.len(), outcome.commit_edges as u64, elapsed),
        summary: summary(h),
        warnings: Vec::new(),
        note,
        txn: Some(details(h, level, outcome, valid, elapsed)),
        queue: None,
    }
}

/// What the text and JSON reports say beyond the anomalies: what they rule out, how many of
/// each were found, why the verdict is unknown.
fn details(
    h: &WeakHistory,
    level: Level,
    outcome: &WeakOutcome,
    valid: Verdict,
    elapsed: Duration,
) -> TxnDetails {
    let mut anomaly_counts = BTreeMap::new();
    for v in &outcome.violations {
        *anomaly_counts.entry(v.name().to_string()).or_insert(0) += 1;
    }
    if outcome.found > outcome.violations.len() {
        anomaly_counts.insert("violations in all".to_string(), outcome.found);
    }
    let stronger: &[Level] = match level {
        Level::ReadCommitted => {
            &[Level::ReadAtomic, Level::Causal, Level::SnapshotIsolation, Level::Serializable]
        }
        Level::ReadAtomic => &[Level::Causal, Level::SnapshotIsolation, Level::Serializable],
        Level::Causal => &[Level::SnapshotIsolation, Level::Serializable],
        Level::SnapshotIsolation => &[Level::Serializable],
        Level::Serializable => &[],
    };
    let invalid = valid == Verdict::Invalid;
    TxnDetails {
        not: if invalid { vec![level.as_str().to_string()] } else { Vec::new() },
        also_not: if invalid {
            stronger.iter().map(|l| l.as_str().to_string()).collect()
        } else {
            Vec::new()
        },
        anomaly_counts,
        unknown: outcome.unknown.iter().cloned().collect(),
        budget: Vec::new(),
        notes: Vec::new(),
        txn_stats: TxnStats {
            txns: h.txn_count(),
            ok: h.txn_count(),
            keys: h.keys.len(),
            edges: outcome.commit_edges,
            check_millis: elapsed.as_secs_f64() * 1000.0,
            ..TxnStats::default()
        },
    }
}

/// A summary of the history: transactions count as ok ops, sessions as processes.
fn summary(h: &WeakHistory) -> Summary {
    let reads = h.ops.iter().filter(|o| !o.write).count();
    let by_f: BTreeMap<String, BTreeMap<&'static str, usize>> =
        [("read", reads), ("write", h.ops.len() - reads)]
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|(f, n)| (f.to_string(), BTreeMap::from([("ok", n)])))
            .collect();
    Summary {
        events: h.ops.len(),
        ops: h.ops.len(),
        by_outcome: BTreeMap::from([("ok", h.ops.len())]),
        by_f,
        processes: h.session_count(),
        keys: h.keys.len(),
        crashed: 0,
        max_concurrency: h.session_count(),
        fault_events: 0,
        faults_by_f: BTreeMap::new(),
        warnings: 0,
    }
}

fn anomaly(h: &WeakHistory, v: &Violation) -> Anomaly {
    let txns: Vec<TxnRef> = v.txns().into_iter().map(|t| txn_ref(h, t)).collect();
    let key = match v {
        Violation::ThinAirRead { key, .. }
        | Violation::AbortedRead { key, .. }
        | Violation::FutureRead { key, .. }
        | Violation::NotMyOwnWrite { key, .. }
        | Violation::IntermediateRead { key, .. }
        | Violation::NonRepeatableRead { key, .. } => Some(h.keys.name(*key)),
        Violation::Cycle { .. } | Violation::NoCommitOrder { .. } => None,
    };
    Anomaly {
        kind: v.name().to_string(),
        key,
        ops: txns.iter().map(|t| t.index).collect(),
        lines: txns.iter().map(|t| t.line).collect(),
        explanation: match v {
            Violation::Cycle { .. } => v.explain(h),
            _ => format!("{}: {}", v.name(), v.explain(h)),
        },
        counterexample: None,
        txns: Some(txns),
        cycle: None,
        evidence: Evidence::default(),
    }
}

/// Cites transaction `t`: its index, line, session (as the process) and ops.
fn txn_ref(h: &WeakHistory, t: u32) -> TxnRef {
    if t == crate::weak::INIT {
        return TxnRef {
            position: 0,
            index: u64::from(t),
            line: 0,
            process: 0,
            outcome: "ok",
            text: "[initial: every key 0]".into(),
        };
    }
    let ops: Vec<String> = h
        .txn_ops(t)
        .iter()
        .map(|o| format!("[:{} {} {}]", if o.write { "w" } else { "r" }, h.keys.name(o.key), o.value))
        .collect();
    TxnRef {
        position: t,
        index: u64::from(t),
        line: h.txn_line[t as usize],
        process: h.txn_session[t as usize],
        outcome: "ok",
        text: format!("[{}]", ops.join(" ")),
    }
}
