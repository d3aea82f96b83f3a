//! Stage three: cycles. The transactions with session order and reads-from (happens-before)
//! must be acyclic, and so must they be with the forced commit order added. A depth-first
//! search finds a transaction on a cycle, if there is one; a breadth-first search from it finds
//! the shortest cycle through it, which is the witness.

use super::commit::CommitEdge;
use super::history::{INIT, TxnId, WeakHistory};
use super::reads::Facts;
use super::{Edge, EdgeWhy, Violation};
use std::collections::VecDeque;

/// How a predecessor reaches a node: the fact behind the edge.
#[derive(Clone, Copy, Debug)]
enum Via {
    /// Session order (or the initial transaction, which precedes all).
    Session,
    /// The node's `i`-th read of another transaction.
    Read(u32),
    /// A commit-order edge, by index.
    Commit(u32),
}

/// Session order, reads-from and (optionally) commit-order edges, walked backwards: each
/// node's predecessors. The initial transaction, when there is one, is node `n`.
struct Graph<'a> {
    h: &'a WeakHistory,
    facts: &'a Facts,
    co: &'a [CommitEdge],
    /// Commit edges sorted by target: indices into `co`, grouped by `co_start`.
    co_by_to: Vec<u32>,
    co_start: Vec<u32>,
}

impl<'a> Graph<'a> {
    fn new(h: &'a WeakHistory, facts: &'a Facts, co: &'a [CommitEdge]) -> Graph<'a> {
        let n = h.txn_count();
        let node = |t: TxnId| if t == INIT { n } else { t as usize };
        let mut co_start = vec![0u32; n + 2];
        for e in co {
            co_start[node(e.to) + 1] += 1;
        }
        for i in 1..co_start.len() {
            co_start[i] += co_start[i - 1];
        }
        let mut fill = co_start.clone();
        let mut co_by_to = vec![0u32; co.len()];
        for (i, e) in co.iter().enumerate() {
            co_by_to[fill[node(e.to)] as usize] = i as u32;
            fill[node(e.to)] += 1;
        }
        Graph { h, facts, co, co_by_to, co_start }
    }

    fn nodes(&self) -> usize {
        self.h.txn_count() + usize::from(self.h.init)
    }

    fn txn(&self, node: usize) -> TxnId {
        if node == self.h.txn_count() { INIT } else { node as TxnId }
    }

    fn node(&self, t: TxnId) -> usize {
        if t == INIT { self.h.txn_count() } else { t as usize }
    }

    /// `v`'s predecessors, each with the fact behind its edge.
    fn preds(&self, v: usize, out: &mut Vec<(usize, Via)>) {
        out.clear();
        let n = self.h.txn_count();
        if v < n {
            let t = v as TxnId;
            if self.h.position(t) > 0 {
                out.push((v - 1, Via::Session));
            } else if self.h.init {
                out.push((n, Via::Session));
            }
            for (i, r) in self.facts.reads(t).iter().enumerate() {
                if r.writer != INIT && (r.writer + 1 != t || self.h.position(t) == 0) {
                    out.push((r.writer as usize, Via::Read(i as u32)));
                }
            }
        }
        let range = self.co_start[v] as usize..self.co_start[v + 1] as usize;
        out.extend(
            self.co_by_to[range].iter().map(|&i| (self.node(self.co[i as usize].from), Via::Commit(i))),
        );
    }

    /// The edge `from -> to` as a witness states it.
    fn edge(&self, from: usize, to: usize, via: Via) -> Edge {
        let (from, to) = (self.txn(from), self.txn(to));
        match via {
            Via::Session => Edge { from, to, why: EdgeWhy::Session },
            Via::Read(i) => {
                let r = self.facts.reads(to)[i as usize];
                Edge { from, to, why: EdgeWhy::ReadFrom { op: r.op, key: r.key, value: r.value } }
            }
            Via::Commit(i) => self.co[i as usize].to_edge(self.h),
        }
    }

    /// A topological order (predecessors first), or a node on a cycle.
    fn order(&self) -> Result<Vec<usize>, usize> {
        const WHITE: u8 = 0;
        const GRAY: u8 = 1;
        const BLACK: u8 = 2;
        let mut color = vec![WHITE; self.nodes()];
        let mut order = Vec::with_capacity(self.nodes());
        let mut preds = Vec::new();
        // (node, whether its predecessors were pushed): a node is popped twice, before and after.
        let mut stack: Vec<(usize, bool)> = Vec::new();
        for root in (0..self.nodes()).rev() {
            stack.push((root, false));
            while let Some((v, done)) = stack.pop() {
                if done {
                    color[v] = BLACK;
                    order.push(v);
                    continue;
                }
                // A node met again is finished (or, gray, on the path): back edges are caught below,
                // when the node that has one is expanded.
                if color[v] != WHITE {
                    continue;
                }
                color[v] = GRAY;
                stack.push((v, true));
                self.preds(v, &mut preds);
                for &(p, _) in &preds {
                    match color[p] {
                        WHITE => stack.push((p, false)),
                        GRAY => return Err(p),
                        _ => {}
                    }
                }
            }
        }
        Ok(order)
    }

    /// The shortest cycle through `start`, which lies on one.
    fn cycle_through(&self, start: usize) -> Violation {
        let mut parent: Vec<Option<(usize, Via)>> = vec![None; self.nodes()];
        let mut queue = VecDeque::from([start]);
        let mut preds = Vec::new();
        'search: while let Some(v) = queue.pop_front() {
            self.preds(v, &mut preds);
            for &(p, via) in &preds {
                if parent[p].is_none() {
                    // p -> v: walking back from start, v is the next node toward start.
                    parent[p] = Some((v, via));
                    if p == start {
                        break 'search;
                    }
                    queue.push_back(p);
                }
            }
        }
        let mut edges = Vec::new();
        let mut v = start;
        loop {
            let (next, via) = parent[v].expect("start lies on a cycle");
            edges.push(self.edge(v, next, via));
            v = next;
            if v == start {
                break;
            }
        }
        Violation::Cycle { edges }
    }
}

/// An order of the transactions respecting session order and reads-from, or the cycle that
/// makes one impossible.
pub fn hb_order(h: &WeakHistory, facts: &Facts) -> Result<Vec<TxnId>, Violation> {
    let g = Graph::new(h, facts, &[]);
    match g.order() {
        Ok(order) => Ok(order.into_iter().map(|v| g.txn(v)).filter(|&t| t != INIT).collect()),
        Err(v) => Err(g.cycle_through(v)),
    }
}

/// A cycle of session order, reads-from and the commit edges `co`, if there is one.
pub fn find(h: &WeakHistory, facts: &Facts, co: &[CommitEdge]) -> Option<Violation> {
    let g = Graph::new(h, facts, co);
    g.order().err().map(|v| g.cycle_through(v))
}
