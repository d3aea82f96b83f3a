//! The report's summary, re-derived from the anomalies it shows (each certified on its own):
//! `anomaly_counts`, and the consistency models the history is said to rule out (`not`, the
//! weakest; `also_not`, the rest).
//!
//! - A count is certified when the report shows that many distinct anomalies of the kind;
//!   a count above what is shown (the report keeps a few of each) rests on anomalies not shown,
//!   and is left unchecked, saying how many.
//! - Every shown anomaly must be one the required models forbid: it rules out one of them.
//! - What the shown anomalies rule out is worked out here from a table of certification's own
//!   (what each anomaly rules out at the weakest, and which model is stronger than which, after
//!   Adya, Cerone et al. and Elle's lattice, with labrys's reading that every cycle is over
//!   single items). Every model it rules out must be listed; the listed models must be closed
//!   upwards (a history that is not M is not any model stronger than M); `not` must be the
//!   weakest of them and `also_not` the rest. A listed model no shown anomaly rules out rests
//!   on anomalies the required models allow, which the report neither counts nor shows: it is
//!   left unchecked.

use crate::certify::linear::Coverage;
use crate::txn::TxnReport;
use std::collections::{BTreeMap, BTreeSet};

/// Each model and the models it directly strengthens (it implies them).
const STRENGTHENS: &[(&str, &[&str])] = &[
    ("read-uncommitted", &[]),
    ("read-committed", &["read-uncommitted"]),
    ("cursor-stability", &["read-committed"]),
    ("monotonic-view", &["read-committed"]),
    ("monotonic-snapshot-read", &["read-committed"]),
    ("monotonic-atomic-view", &["read-committed"]),
    ("consistent-view", &["cursor-stability", "monotonic-view"]),
    ("forward-consistent-view", &["consistent-view"]),
    ("read-atomic", &["monotonic-atomic-view"]),
    ("causal-cerone", &["read-atomic"]),
    ("prefix", &["causal-cerone"]),
    ("parallel-snapshot-isolation", &["causal-cerone"]),
    ("repeatable-read", &["cursor-stability", "monotonic-atomic-view"]),
    (
        "snapshot-isolation",
        &[
            "forward-consistent-view",
            "monotonic-atomic-view",
            "monotonic-snapshot-read",
            "parallel-snapshot-isolation",
            "prefix",
        ],
    ),
    ("update-serializable", &["forward-consistent-view"]),
    ("serializable", &["repeatable-read", "snapshot-isolation", "update-serializable"]),
    ("strong-session-read-uncommitted", &["read-uncommitted"]),
    ("strong-session-read-committed", &["read-committed", "strong-session-read-uncommitted"]),
    ("strong-read-uncommitted", &["strong-session-read-uncommitted"]),
    ("strong-read-committed", &["strong-session-read-committed", "strong-read-uncommitted"]),
    ("strong-session-snapshot-isolation", &["snapshot-isolation", "strong-session-read-committed"]),
    ("strong-snapshot-isolation", &["strong-session-snapshot-isolation", "strong-read-committed"]),
    ("strong-session-serializable", &["serializable", "strong-session-snapshot-isolation"]),
    ("strict-serializable", &["serializable", "strong-snapshot-isolation", "strong-session-serializable"]),
];

/// Each anomaly kind labrys reports, and the weakest models a history with it cannot satisfy
/// (every stronger model is ruled out too).
const RULES_OUT: &[(&str, &[&str])] = &[
    // Versions that cannot be ordered, or values nobody wrote: not even PL-1.
    ("garbage-read", &["read-uncommitted"]),
    ("duplicate-elements", &["read-uncommitted"]),
    ("cyclic-versions", &["read-uncommitted"]),
    ("G0", &["read-uncommitted"]),
    // Dirty and intermediate reads (an incompatible order or a dirty update reads aborted or
    // intermediate state: G1a), and circular information flow: PL-2.
    ("G1a", &["read-committed"]),
    ("G1b", &["read-committed"]),
    ("G1c", &["read-committed"]),
    ("incompatible-order", &["read-committed"]),
    ("dirty-update", &["read-committed"]),
    // A future read is a G1c cycle (read-atomic, above it, forbids it by name too).
    ("future-read", &["read-committed"]),
    // A transaction not seeing its own writes: Cerone et al.'s INT axiom, read atomic and up.
    ("internal", &["read-atomic"]),
    // One anti-dependency: PL-2+; and, over single items, G2-item: PL-2.99.
    ("G-single", &["consistent-view", "repeatable-read"]),
    ("G-nonadjacent", &["snapshot-isolation", "repeatable-read"]),
    ("G2-item", &["repeatable-read"]),
    ("lost-update", &["cursor-stability"]),
    // The same cycles through process (session) or real-time order.
    ("G0-process", &["strong-session-read-uncommitted"]),
    ("G0-realtime", &["strong-read-uncommitted"]),
    ("G1c-process", &["strong-session-read-committed"]),
    ("G1c-realtime", &["strong-read-committed"]),
    ("G-single-process", &["strong-session-snapshot-isolation"]),
    ("G-single-realtime", &["strong-snapshot-isolation"]),
    ("G-nonadjacent-process", &["strong-session-snapshot-isolation"]),
    ("G-nonadjacent-realtime", &["strong-snapshot-isolation"]),
    ("G2-item-process", &["strong-session-serializable"]),
    ("G2-item-realtime", &["strict-serializable"]),
];

fn known_model(m: &str) -> bool {
    STRENGTHENS.iter().any(|(n, _)| *n == m)
}

/// The models directly stronger than `m`.
fn stronger(m: &str) -> impl Iterator<Item = &'static str> + '_ {
    STRENGTHENS.iter().filter(move |(_, ws)| ws.contains(&m)).map(|(n, _)| *n)
}

/// The models strictly weaker than `m`.
fn below(m: &str) -> BTreeSet<&'static str> {
    let mut seen = BTreeSet::new();
    let mut todo: Vec<&str> =
        STRENGTHENS.iter().filter(|(n, _)| *n == m).flat_map(|(_, ws)| *ws).copied().collect();
    while let Some(w) = todo.pop() {
        if seen.insert(w) {
            todo.extend(STRENGTHENS.iter().filter(|(n, _)| *n == w).flat_map(|(_, ws)| *ws).copied());
        }
    }
    seen
}

/// Every model a history with an anomaly of `kind` cannot satisfy; `None` for a kind the
/// table does not know.
fn ruled_out(kind: &str) -> Option<BTreeSet<&'static str>> {
    let weakest = RULES_OUT.iter().find(|(k, _)| *k == kind)?.1;
    let mut seen = BTreeSet::new();
    let mut todo: Vec<&'static str> = weakest.to_vec();
    while let Some(m) = todo.pop() {
        if seen.insert(m) {
            todo.extend(stronger(m));
        }
    }
    Some(seen)
}

/// Certifies `anomaly_counts` against the anomalies shown and those only counted (each of
/// which the caller certifies): what is re-derived is counted in `coverage`, counts beyond the
/// anomalies kept are left in `coverage.unchecked`.
pub(super) fn certify_counts(report: &TxnReport, coverage: &mut Coverage) -> Result<(), String> {
    let mut shown: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for a in report.anomalies.iter().chain(&report.counted) {
        // Distinct: the same anomaly shown twice would stand for two.
        let identity = format!("{:?} {:?} {:?}", a.txns, a.key, a.explanation);
        if !shown.entry(a.kind.as_str()).or_default().insert(identity) {
            return Err(format!("it shows the same {} anomaly twice", a.kind));
        }
    }
    for (kind, &count) in &report.anomaly_counts {
        let n = shown.get(kind.as_str()).map_or(0, BTreeSet::len);
        if n > count {
            return Err(format!("it counts {count} {kind} anomalies but shows {n}"));
        }
        if n == 0 && count > 0 {
            return Err(format!("it counts {count} {kind} anomalies but shows none"));
        }
        if n == count {
            coverage.certified += 1;
        } else {
            coverage.unchecked.push(format!(
                "the count of {count} {kind} anomalies: {} of them are not kept, so not re-derived",
                count - n
            ));
        }
    }
    Ok(())
}

/// Certifies that every anomaly shown is one the required models forbid, and the models the
/// report says the history rules out (`not`, `also_not`).
pub(super) fn certify_boundary(report: &TxnReport, coverage: &mut Coverage) -> Result<(), String> {
    let mut found: BTreeSet<&str> = BTreeSet::new();
    for a in &report.anomalies {
        let out = ruled_out(a.kind.as_str())
            .ok_or_else(|| format!("no rule says what a {} anomaly rules out", a.kind))?;
        if !report.consistency.iter().any(|m| out.contains(m.as_str())) {
            return Err(format!(
                "it shows a {} anomaly, which none of the required models ({}) forbids",
                a.kind,
                report.consistency.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(", ")
            ));
        }
        found.extend(out);
    }
    let listed: BTreeSet<&str> = report.not.iter().chain(&report.also_not).map(String::as_str).collect();
    if listed.len() != report.not.len() + report.also_not.len() {
        return Err("a model is listed twice among the models ruled out".to_string());
    }
    if let Some(m) = listed.iter().find(|m| !known_model(m)) {
        return Err(format!("it rules out {m}, a consistency model certification does not know"));
    }
    if let Some(m) = found.iter().find(|m| !listed.contains(*m)) {
        return Err(format!("the anomalies it shows rule out {m}, which it does not list"));
    }
    for m in &listed {
        if let Some(s) = stronger(m).find(|s| !listed.contains(s)) {
            return Err(format!("it rules out {m} but not {s}, which is stronger"));
        }
    }
    let weakest = |m: &str| below(m).is_disjoint(&listed);
    if let Some(m) = report.not.iter().find(|m| !weakest(m)) {
        return Err(format!(
            "it lists {m} among the weakest models ruled out, but a weaker one is ruled out too"
        ));
    }
    if let Some(m) = report.also_not.iter().find(|m| weakest(m)) {
        return Err(format!("it lists {m} among the stronger models ruled out, but no weaker one is"));
    }
    for m in &listed {
        if found.contains(m) {
            coverage.certified += 1;
        } else {
            coverage.unchecked.push(format!(
                "the history is not {m}: no anomaly shown rules it out (it rests on anomalies the \
                 required models allow, which the report neither counts nor shows)"
            ));
        }
    }
    Ok(())
}
