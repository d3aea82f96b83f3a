//! The dependency graph of ops: real-time order plus the orders a model infers from values
//! (reads-from, version order, anti-dependencies). A cycle is a definite violation, and the
//! cycle itself is the explanation (DESIGN.md section 1).
//!
//! Real-time order has up to n² pairs; it is represented in O(n) by a chain of time points:
//! each distinct invocation time is a node, chained in order, with an edge from the point to
//! every op invoked then, and from every completed op to the first point after its completion.
//! A path from op a to op b through the chain exists exactly when a completed before b began.

pub mod csr;

use crate::model::{Edge, EdgeKind};
use petgraph::algo::kosaraju_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use std::collections::VecDeque;

/// A cycle of ops: each op, and why it must precede the next one (the last precedes the first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cycle {
    /// `(op, kind)`: op must take effect before the next op in the cycle, for reason `kind`.
    pub steps: Vec<(u32, EdgeKind)>,
}

/// The interval of an op: invocation and completion time (`i64::MAX` if it never completed).
pub type Interval = (i64, i64);

/// Finds a shortest cycle (fewest ops) in real-time order plus `edges`, over ops with the given
/// `intervals`. `skew`: A precedes B in real time only if A completed more than `skew` before B
/// began. O((n + e) log n) to build and find strongly connected components (Kosaraju's
/// algorithm, iterative, so long cycles cannot overflow the stack); then a 0-1 BFS in the first
/// component that has a cycle.
///
/// `skew: None` leaves real-time order out (sequential consistency passes process order among
/// `edges` instead); the intervals still say which ops completed.
pub fn find_cycle(intervals: &[Interval], skew: Option<i64>, edges: &[Edge]) -> Option<Cycle> {
    let n = intervals.len();
    let mut times: Vec<i64> = intervals.iter().map(|iv| iv.0).collect();
    times.sort_unstable();
    times.dedup();
    let mut g: DiGraph<(), EdgeKind> =
        DiGraph::with_capacity(n + times.len(), 2 * n + times.len() + edges.len());
    for _ in 0..n + times.len() {
        g.add_node(());
    }
    let point = |j: usize| NodeIndex::new(n + j);
    for j in 1..times.len() {
        g.add_edge(point(j - 1), point(j), EdgeKind::RealTime);
    }
    for (i, &(invoke, complete)) in intervals.iter().enumerate() {
        let Some(skew) = skew else { break };
        let at = times.partition_point(|&t| t < invoke);
        g.add_edge(point(at), NodeIndex::new(i), EdgeKind::RealTime);
        if complete != i64::MAX {
            let after = times.partition_point(|&t| t <= complete.saturating_add(skew));
            if after < times.len() {
                g.add_edge(NodeIndex::new(i), point(after), EdgeKind::RealTime);
            }
        }
    }
    for e in edges {
        g.add_edge(NodeIndex::new(e.before as usize), NodeIndex::new(e.after as usize), e.kind);
    }
    // A cycle is a violation only if its ops certainly happened. Crashed ops may not have; but
    // an op with an edge into a completed op did (edges imply their source is included), so a
    // cycle through one completed op is definite. Only search from completed ops.
    let completed = |v: &NodeIndex| v.index() < n && intervals[v.index()].1 != i64::MAX;
    let component = kosaraju_scc(&g).into_iter().find(|c| c.len() > 1 && c.iter().any(completed))?;
    let mut member = vec![false; g.node_count()];
    for v in &component {
        member[v.index()] = true;
    }
    component
        .iter()
        .filter(|v| completed(v))
        .take(16)
        .filter_map(|&start| shortest_cycle_through(&g, &member, start, n))
        .min_by_key(|c| c.steps.len())
}

/// The cycle through `start` with the fewest ops (time points are free), within `member`.
fn shortest_cycle_through(
    g: &DiGraph<(), EdgeKind>,
    member: &[bool],
    start: NodeIndex,
    n: usize,
) -> Option<Cycle> {
    let cost = |v: NodeIndex| usize::from(v.index() < n);
    let mut dist = vec![usize::MAX; g.node_count()];
    let mut parent: Vec<Option<(NodeIndex, EdgeKind)>> = vec![None; g.node_count()];
    let mut queue = VecDeque::new();
    dist[start.index()] = 0;
    queue.push_back(start);
    let mut best: Option<(usize, NodeIndex, EdgeKind)> = None;
    while let Some(u) = queue.pop_front() {
        for e in g.edges(u) {
            let v = e.target();
            if !member[v.index()] {
                continue;
            }
            let d = dist[u.index()] + cost(v);
            if v == start {
                if best.is_none_or(|(bd, _, _)| d < bd) {
                    best = Some((d, u, *e.weight()));
                }
                continue;
            }
            if d < dist[v.index()] {
                dist[v.index()] = d;
                parent[v.index()] = Some((u, *e.weight()));
                if cost(v) == 0 { queue.push_front(v) } else { queue.push_back(v) }
            }
        }
    }
    let (_, last, closing) = best?;
    // The cycle is start → … → last → start. Walk the parents back from `last`.
    let mut nodes = Vec::new(); // (node, kind of the edge leaving it along the cycle)
    let mut v = last;
    let mut leaving = closing;
    while v != start {
        let (p, into_v) = parent[v.index()]?;
        nodes.push((v, leaving));
        leaving = into_v;
        v = p;
    }
    nodes.push((start, leaving));
    nodes.reverse();
    // Time points only carry real-time order from one op to the next: an op followed by a time
    // point leaves by a real-time edge already, so keeping just the ops loses nothing.
    let steps =
        nodes.into_iter().filter(|(v, _)| v.index() < n).map(|(v, k)| (v.index() as u32, k)).collect();
    Some(Cycle { steps })
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
