//! The whole analysis: inference, the dependency graph, the search of every cyclic component,
//! and the report — which anomalies the consistency models forbid, which models the history
//! rules out, and the verdict.

use super::consistency::{self, ConsistencyModel};
use super::cycles::{CycleType, Limits, search_component, searched_types};
use super::explain::{Explainer, Why};
use super::findings::{COUNT_PER_TYPE, Findings, KEEP_PER_TYPE};
use super::graph::{self, Orders};
use super::infer::ListAppend;
use super::ops::Txns;
use super::{TxnOptions, TxnReport, TxnStats, Workload};
use crate::graph::csr::{Label, strongly_connected};
use crate::history::{History, Outcome};
use crate::outcome::Verdict;
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

/// What a workload's inference gives the analysis: the data edges, and why each holds.
pub(crate) trait Inference: Why {
    /// The ww, wr and rw edges between ops.
    fn edges(&self) -> Vec<(u32, u32, Label)>;
}

impl Inference for ListAppend<'_> {
    fn edges(&self) -> Vec<(u32, u32, Label)> {
        ListAppend::edges(self)
    }
}

/// The order anomalies are listed in: the worst first.
const SEVERITY: &[&str] = &[
    "garbage-read",
    "duplicate-elements",
    "incompatible-order",
    "cyclic-versions",
    "G0",
    "G1a",
    "dirty-update",
    "G1b",
    "internal",
    "future-read",
    "G1c",
    "G-single",
    "G-nonadjacent",
    "G2-item",
    "lost-update",
];

fn severity(kind: &str) -> (usize, usize) {
    let variant = usize::from(kind.ends_with("-process")) + 2 * usize::from(kind.ends_with("-realtime"));
    let base = kind.trim_end_matches("-process").trim_end_matches("-realtime");
    (variant, SEVERITY.iter().position(|&k| k == base).unwrap_or(SEVERITY.len()))
}

/// Runs the analysis. `deadline` bounds the cycle searches.
pub(crate) fn analyze(
    history: &History,
    txns: &Txns,
    options: &TxnOptions,
    deadline: Option<Instant>,
) -> TxnReport {
    let mut findings = Findings::default();
    let inference: Box<dyn Inference + '_> = match txns.workload {
        Workload::ListAppend => Box::new(ListAppend::infer(history, txns, &mut findings)),
        Workload::RwRegister => Box::new(super::register::Registers::infer(history, txns, &mut findings)),
    };
    let prohibited = consistency::prohibited(&options.consistency);
    let realtime = prohibited.iter().any(|a| a.ends_with("-realtime"));
    let process = !realtime && prohibited.iter().any(|a| a.ends_with("-process"));
    let mut stats = txn_stats(history, txns);
    if stats.ok == 0 && !history.ops.is_empty() {
        findings.unknown("no transaction completed :ok, so nothing was observed to check".to_string());
    }
    let edges = inference.edges();
    if let Some(max) = options.max_memory {
        // The graph takes about 5 bytes per edge and 16 per node while its components are found.
        let need = edges.len() * 17 + history.ops.len() * 48;
        if need > max {
            findings.unknown(format!(
                "the dependency graph needs about {} MiB, more than --max-memory allows ({} MiB)",
                need >> 20,
                max >> 20
            ));
            return report(history, txns, options, findings, &prohibited, Vec::new(), stats, &*inference);
        }
    }
    let g = graph::build(history, edges, Orders { realtime, process, skew: options.clock_skew });
    stats.edges = g.csr.edge_count();
    let comps = strongly_connected(&g.csr);
    let groups: Vec<Vec<u32>> = comps
        .groups(|size| size > 1)
        .into_iter()
        .filter(|members| members.partition_point(|&v| v < g.ops) > 1)
        .collect();
    stats.cyclic_components = groups.len();
    stats.largest_component = groups.iter().map(|m| m.partition_point(|&v| v < g.ops)).max().unwrap_or(0);
    let types = searched_types(&prohibited, realtime, process);
    let limits = Limits { max_steps: options.max_steps, per_component: options.search_time, deadline };
    let results: Vec<_> =
        groups.par_iter().map(|members| search_component(&g.csr, g.ops, members, &types, &limits)).collect();
    stats.search_steps = results.iter().map(|r| r.steps).sum();
    report(history, txns, options, findings, &prohibited, results, stats, &*inference)
}

fn txn_stats(history: &History, txns: &Txns) -> TxnStats {
    let count = |f: fn(Outcome) -> bool| history.ops.iter().filter(|op| f(op.outcome)).count();
    TxnStats {
        txns: history.ops.len(),
        ok: count(|o| o == Outcome::Ok),
        info: count(Outcome::is_indeterminate),
        fail: count(|o| o == Outcome::Fail),
        keys: txns.key_count(),
        ..TxnStats::default()
    }
}

/// Puts findings and cycles into a report.
#[allow(clippy::too_many_arguments)]
fn report(
    history: &History,
    txns: &Txns,
    options: &TxnOptions,
    findings: Findings,
    prohibited: &BTreeSet<&'static str>,
    results: Vec<super::cycles::ComponentResult>,
    stats: TxnStats,
    why: &dyn Why,
) -> TxnReport {
    let explainer = Explainer { history, txns };
    let mut counts: BTreeMap<String, usize> =
        findings.counts.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    // The first few of each type are shown; the others kept (up to a bound) are only counted,
    // and handed to certification with the report.
    let (mut anomalies, mut counted) = (Vec::new(), Vec::new());
    let mut kept_per_kind: BTreeMap<&str, usize> = BTreeMap::new();
    for f in &findings.kept {
        let n = kept_per_kind.entry(f.kind().as_str()).or_insert(0);
        *n += 1;
        if *n <= KEEP_PER_TYPE { &mut anomalies } else { &mut counted }.push(explainer.finding(f));
    }
    let mut cycles: Vec<(CycleType, Vec<(u32, Label)>)> = Vec::new();
    let mut budget = Vec::new();
    let mut unknown = findings.unknown;
    for r in results {
        for (ty, _) in &r.found {
            *counts.entry(ty.name().to_string()).or_insert(0) += 1;
        }
        cycles.extend(r.found);
        budget.extend(r.notes);
        if r.undecided {
            unknown.push(
                "a cycle search ran out of budget before it could rule out every forbidden cycle".to_string(),
            );
        }
    }
    // Keep the shortest few cycles of each type.
    cycles.sort_by_key(|(ty, c)| (*ty, c.len()));
    let mut kept_per_type: BTreeMap<CycleType, usize> = BTreeMap::new();
    for (ty, c) in &cycles {
        let n = kept_per_type.entry(*ty).or_insert(0);
        *n += 1;
        if *n <= KEEP_PER_TYPE {
            anomalies.push(explainer.cycle(ty.name(), c, why));
        } else if *n <= COUNT_PER_TYPE {
            counted.push(explainer.cycle(ty.name(), c, why));
        }
    }
    let (not, also_not) = consistency::boundary(counts.keys().map(String::as_str));
    anomalies.retain(|a| prohibited.contains(a.kind.as_str()));
    counted.retain(|a| prohibited.contains(a.kind.as_str()));
    anomalies.sort_by_key(|a| severity(a.kind.as_str()));
    counts.retain(|k, _| prohibited.contains(k.as_str()));
    unknown.dedup();
    let valid = if !counts.is_empty() {
        Verdict::Invalid
    } else if !unknown.is_empty() {
        Verdict::Unknown
    } else {
        Verdict::Valid
    };
    let mut report = TxnReport {
        workload: txns.workload,
        consistency: options.consistency.iter().map(|m: &ConsistencyModel| m.level()).collect(),
        valid,
        anomalies,
        counted,
        anomaly_counts: counts,
        not,
        also_not,
        unknown,
        budget,
        notes: Vec::new(),
        stats,
    };
    if let Some(dir) = &options.dot_dir {
        super::write_dot(&mut report, &history.source, dir);
    }
    report
}
