//! The dependency graph of ops: real-time order plus the orders a model infers from values
//! (reads-from, version order, anti-dependencies). A cycle is a definite violation, and the
//! cycle itself is the explanation (docs/design.md section 1).
//!
//! Real-time order has up to n² pairs; it is represented in O(n) by a chain of time points:
//! each distinct invocation time is a node, chained in order, with an edge from the point to
//! every op invoked then, and from every completed op to the first point after its completion.
//! A path from op a to op b through the chain exists exactly when a completed before b began.

pub mod csr;

use crate::model::{Edge, EdgeKind};
use csr::{AnyCycle, Csr, Label, Scope, shortest_cycle_through, strongly_connected};

/// A cycle of ops: each op, and why it must precede the next one (the last precedes the first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cycle {
    /// `(op, kind)`: op must take effect before the next op in the cycle, for reason `kind`.
    pub steps: Vec<(u32, EdgeKind)>,
}

/// The interval of an op: invocation and completion time (`i64::MAX` if it never completed).
pub type Interval = (i64, i64);

/// The label of an edge of this kind in a [`Csr`] graph.
pub fn label(kind: EdgeKind) -> Label {
    kind as Label
}

/// The kind of edge a label (from [`label`]) stands for.
pub fn kind(label: Label) -> EdgeKind {
    const KINDS: [EdgeKind; 5] = [
        EdgeKind::ReadsFrom,
        EdgeKind::Version,
        EdgeKind::AntiDependency,
        EdgeKind::RealTime,
        EdgeKind::Process,
    ];
    KINDS.into_iter().find(|&k| k as Label == label).unwrap_or(EdgeKind::Process)
}

/// Adds real-time order among `n` ops to `edges`, through time points numbered from `n`: the
/// points are the distinct invocation times, chained in order; each op that `interval` gives an
/// interval hangs from the point of its invocation, and one that completed leads to the first
/// point more than `skew` after its completion. Returns the number of points. O(n log n).
pub fn realtime_edges(
    n: usize,
    interval: impl Fn(usize) -> Option<Interval>,
    skew: i64,
    edges: &mut Vec<(u32, u32, Label)>,
) -> u32 {
    let rt = label(EdgeKind::RealTime);
    let mut times: Vec<i64> = (0..n).filter_map(|i| interval(i).map(|iv| iv.0)).collect();
    times.sort_unstable();
    times.dedup();
    let point = |j: usize| (n + j) as u32;
    for j in 1..times.len() {
        edges.push((point(j - 1), point(j), rt));
    }
    for i in 0..n {
        let Some((invoke, complete)) = interval(i) else { continue };
        edges.push((point(times.partition_point(|&t| t < invoke)), i as u32, rt));
        if complete != i64::MAX {
            let after = times.partition_point(|&t| t <= complete.saturating_add(skew));
            if after < times.len() {
                edges.push((i as u32, point(after), rt));
            }
        }
    }
    times.len() as u32
}

/// Finds a shortest cycle (fewest ops) in real-time order plus `edges`, over ops with the given
/// `intervals`. `skew`: A precedes B in real time only if A completed more than `skew` before B
/// began. O((n + e) log n) to build the graph and find its strongly connected components
/// (iteratively, so long cycles cannot overflow the stack); then a 0-1 breadth-first search
/// (time points are free) from up to 16 ops of the first component that has a cycle.
///
/// `skew: None` leaves real-time order out (sequential consistency passes process order among
/// `edges` instead); the intervals still say which ops completed.
pub fn find_cycle(intervals: &[Interval], skew: Option<i64>, edges: &[Edge]) -> Option<Cycle> {
    let n = intervals.len();
    let mut all: Vec<(u32, u32, Label)> = edges.iter().map(|e| (e.before, e.after, label(e.kind))).collect();
    let points = skew.map_or(0, |skew| realtime_edges(n, |i| Some(intervals[i]), skew, &mut all));
    let g = Csr::from_edges(n + points as usize, &all);
    let comps = strongly_connected(&g);
    // A cycle is a violation only if its ops certainly happened. Crashed ops may not have; but
    // an op with an edge into a completed op did (edges imply their source is included), so a
    // cycle through one completed op is definite. Only search from completed ops.
    let completed = |v: u32| (v as usize) < n && intervals[v as usize].1 != i64::MAX;
    let members = comps.groups(|size| size > 1).into_iter().find(|c| c.iter().any(|&v| completed(v)))?;
    let component = comps.of[members[0] as usize];
    let allowed = |v: u32| comps.of[v as usize] == component;
    let scope = Scope { graph: &g, allowed: &allowed, free_from: n as u32 };
    members
        .iter()
        .filter(|&&v| completed(v))
        .take(16)
        .filter_map(|&start| {
            let mut steps = u64::MAX;
            let walk = shortest_cycle_through(&scope, start, &AnyCycle, u32::MAX, &mut steps).ok()??;
            // Time points only carry real-time order from one op to the next: an op followed by
            // a time point leaves by a real-time edge already, so keeping just the ops loses
            // nothing.
            let steps =
                walk.into_iter().filter(|&(v, _)| (v as usize) < n).map(|(v, l)| (v, kind(l))).collect();
            Some(Cycle { steps })
        })
        .min_by_key(|c| c.steps.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_time_alone_has_no_cycle() {
        let intervals = [(0, 1), (2, 3), (4, i64::MAX)];
        assert!(find_cycle(&intervals, Some(0), &[]).is_none());
    }

    #[test]
    fn an_edge_against_real_time_is_a_cycle() {
        // Op 0 completes before op 1 begins, but a read says op 1 came first.
        let intervals = [(0, 1), (2, 3)];
        let edges = [Edge { before: 1, after: 0, kind: EdgeKind::ReadsFrom }];
        let c = find_cycle(&intervals, Some(0), &edges).unwrap();
        assert_eq!(c.steps.len(), 2);
        assert!(c.steps.contains(&(0, EdgeKind::RealTime)), "{c:?}");
        assert!(c.steps.contains(&(1, EdgeKind::ReadsFrom)), "{c:?}");
        // With enough skew tolerance the two are concurrent.
        assert!(find_cycle(&intervals, Some(1), &edges).is_none());
    }

    #[test]
    fn shortest_of_several_cycles() {
        // 0 -> 1 -> 2 -> 0 by inferred edges, and 1 -> 0 directly: the 2-cycle wins.
        let intervals = [(0, 10), (0, 10), (0, 10)];
        let e = |before, after| Edge { before, after, kind: EdgeKind::Version };
        let edges = [e(0, 1), e(1, 2), e(2, 0), e(1, 0)];
        let c = find_cycle(&intervals, Some(0), &edges).unwrap();
        assert_eq!(c.steps.len(), 2);
    }

    #[test]
    fn cycles_of_crashed_ops_alone_are_not_violations() {
        // Two crashed ops that would each have to precede the other: both may never have
        // happened, so there is no violation.
        let intervals = [(0, i64::MAX), (0, i64::MAX), (0, 1)];
        let e = |before, after| Edge { before, after, kind: EdgeKind::ReadsFrom };
        assert!(find_cycle(&intervals, Some(0), &[e(0, 1), e(1, 0)]).is_none());
    }
}
