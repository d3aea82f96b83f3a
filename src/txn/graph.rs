//! The transaction dependency graph: one node per op (transactions that may have committed
//! carry edges; failed ones stay isolated), plus time points that carry real-time order.
//!
//! Real-time order has up to n² pairs; as in [`crate::graph::find_cycle`] it goes through a
//! chain of time points: each distinct invocation time is a node, chained in order, with an
//! edge from the point to every op invoked then, and from every `:ok` op to the first point
//! after its completion. A path from op a to op b through the chain exists exactly when a
//! completed before b was invoked. Crashed ops never complete, so no real-time edge leaves
//! them.

use crate::graph::csr::{Csr, Label};
use crate::history::{History, Outcome};
use crate::model::EdgeKind;

/// Edge labels: the dependency kinds, labelled as [`crate::graph::label`] labels them.
pub(crate) const WW: Label = EdgeKind::Version as Label;
pub(crate) const WR: Label = EdgeKind::ReadsFrom as Label;
pub(crate) const RW: Label = EdgeKind::AntiDependency as Label;
pub(crate) const RT: Label = EdgeKind::RealTime as Label;
pub(crate) const PROCESS: Label = EdgeKind::Process as Label;

/// The dependency kind a label stands for.
pub(crate) fn edge_kind(label: Label) -> EdgeKind {
    match label {
        WW => EdgeKind::Version,
        WR => EdgeKind::ReadsFrom,
        RW => EdgeKind::AntiDependency,
        RT => EdgeKind::RealTime,
        _ => EdgeKind::Process,
    }
}

/// Elle's name for a dependency kind.
pub(crate) fn elle_name(label: Label) -> &'static str {
    edge_kind(label).elle()
}

/// Whether an op is a node that can carry dependencies: it may have committed.
pub(crate) fn may_commit(outcome: Outcome) -> bool {
    outcome != Outcome::Fail
}

/// The graph: ops are nodes `0..ops`, time points `ops..`.
pub(crate) struct DepGraph {
    pub csr: Csr,
    pub ops: u32,
}

/// Which orders besides the data dependencies the graph holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Orders {
    pub realtime: bool,
    pub process: bool,
    /// With real-time order: A precedes B only if A completed more than this before B began.
    pub skew: i64,
}

/// Builds the graph from the data edges plus the orders asked for. O((n + e) log n).
pub(crate) fn build(history: &History, mut edges: Vec<(u32, u32, Label)>, orders: Orders) -> DepGraph {
    let n = history.ops.len() as u32;
    if orders.process {
        process_edges(history, &mut edges);
    }
    let points = if orders.realtime {
        // Crashed transactions hang from their invocation's point but never complete.
        let interval = |i: usize| {
            let op = &history.ops[i];
            let complete = if op.outcome == Outcome::Ok { op.complete_time } else { i64::MAX };
            may_commit(op.outcome).then_some((op.invoke_time, complete))
        };
        crate::graph::realtime_edges(history.ops.len(), interval, orders.skew, &mut edges)
    } else {
        0
    };
    let csr = Csr::from_edges((n + points) as usize, &edges);
    DepGraph { csr, ops: n }
}

/// An edge from each `:ok` transaction to the next transaction of the same process. (A crashed
/// transaction may take effect after its process's next one begins, so none leaves it.)
fn process_edges(history: &History, edges: &mut Vec<(u32, u32, Label)>) {
    let mut last: ahash::AHashMap<u32, u32> = ahash::AHashMap::new();
    // Ops are in invocation order, so each process's ops come in its own order.
    for (i, op) in history.ops.iter().enumerate() {
        if !may_commit(op.outcome) {
            continue;
        }
        if let Some(prev) = last.insert(op.process, i as u32) {
            if history.ops[prev as usize].outcome == Outcome::Ok {
                edges.push((prev, i as u32, PROCESS));
            }
        }
    }
}
