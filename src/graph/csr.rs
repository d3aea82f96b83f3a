//! A compact directed graph with labelled edges (compressed sparse rows), its strongly
//! connected components, and shortest cycles under a rule on the edges they may use.
//!
//! Graphs of millions of transactions and time points live here: 4 bytes per node and 5 per
//! edge, built in O(n + e) by a counting sort, with no per-node allocation. Every algorithm is
//! iterative, so a component of a million nodes cannot overflow the stack.

use ahash::AHashMap;
use std::collections::VecDeque;
use std::hash::Hash;

/// An edge label: a small bitset or code the caller defines (edge kinds, for dependency graphs).
pub type Label = u8;

/// A directed graph over nodes `0..n` in compressed sparse row form.
#[derive(Clone, Debug, Default)]
pub struct Csr {
    /// `targets[offsets[v]..offsets[v + 1]]` are the edges leaving `v`.
    offsets: Vec<u32>,
    targets: Vec<u32>,
    labels: Vec<Label>,
}

impl Csr {
    /// Builds the graph of `nodes` nodes from `(source, target, label)` edges, in O(n + e).
    /// Parallel edges are kept; edges leaving a node keep their input order.
    ///
    /// Panics if an endpoint is not below `nodes` (a caller's bug, never bad input), or if there
    /// are 2^32 edges or more.
    pub fn from_edges(nodes: usize, edges: &[(u32, u32, Label)]) -> Csr {
        assert!(u32::try_from(edges.len()).is_ok(), "at most 2^32 - 1 edges");
        let mut offsets = vec![0u32; nodes + 1];
        for &(s, _, _) in edges {
            offsets[s as usize + 1] += 1;
        }
        for v in 0..nodes {
            offsets[v + 1] += offsets[v];
        }
        let mut next: Vec<u32> = offsets[..nodes].to_vec();
        let mut targets = vec![0u32; edges.len()];
        let mut labels = vec![0 as Label; edges.len()];
        for &(s, t, l) in edges {
            assert!((t as usize) < nodes, "edge target {t} out of range");
            let at = next[s as usize] as usize;
            next[s as usize] += 1;
            targets[at] = t;
            labels[at] = l;
        }
        Csr { offsets, targets, labels }
    }

    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// Number of edges.
    pub fn edge_count(&self) -> usize {
        self.targets.len()
    }

    /// The edges leaving `v`: `(target, label)`.
    #[inline]
    pub fn out(&self, v: u32) -> impl Iterator<Item = (u32, Label)> + '_ {
        let range = self.offsets[v as usize] as usize..self.offsets[v as usize + 1] as usize;
        self.targets[range.clone()].iter().copied().zip(self.labels[range].iter().copied())
    }

    /// The same nodes with only the edges whose label `keep` accepts. O(n + e).
    pub fn filter(&self, keep: impl Fn(Label) -> bool) -> Csr {
        let mut offsets = Vec::with_capacity(self.offsets.len());
        let (mut targets, mut labels) = (Vec::new(), Vec::new());
        offsets.push(0);
        for v in 0..self.node_count() as u32 {
            for (t, l) in self.out(v).filter(|&(_, l)| keep(l)) {
                targets.push(t);
                labels.push(l);
            }
            offsets.push(targets.len() as u32);
        }
        Csr { offsets, targets, labels }
    }

    /// The subgraph induced by `nodes` (sorted, distinct), renumbered: node `nodes[i]` becomes
    /// `i`. Edges leaving the subgraph are dropped. O(n' + e' log n') for the subgraph's size.
    pub fn induced(&self, nodes: &[u32]) -> Csr {
        let mut offsets = Vec::with_capacity(nodes.len() + 1);
        let (mut targets, mut labels) = (Vec::new(), Vec::new());
        offsets.push(0);
        for &v in nodes {
            for (t, l) in self.out(v) {
                if let Ok(i) = nodes.binary_search(&t) {
                    targets.push(i as u32);
                    labels.push(l);
                }
            }
            offsets.push(targets.len() as u32);
        }
        Csr { offsets, targets, labels }
    }
}

/// The strongly connected components of a graph: a component number for every node.
#[derive(Clone, Debug)]
pub struct Components {
    /// `of[v]` is the component of node `v`, in `0..count`. Components are numbered in reverse
    /// topological order (a component's successors have smaller numbers).
    pub of: Vec<u32>,
    /// Number of components.
    pub count: u32,
}

impl Components {
    /// The members of every component that satisfies `keep` (given its size), grouped: one
    /// vector per kept component, each sorted by node.
    pub fn groups(&self, mut keep: impl FnMut(usize) -> bool) -> Vec<Vec<u32>> {
        let mut size = vec![0usize; self.count as usize];
        for &c in &self.of {
            size[c as usize] += 1;
        }
        let mut slot = vec![u32::MAX; self.count as usize];
        let mut groups: Vec<Vec<u32>> = Vec::new();
        for (c, &s) in size.iter().enumerate() {
            if keep(s) {
                slot[c] = groups.len() as u32;
                groups.push(Vec::with_capacity(s));
            }
        }
        for (v, &c) in self.of.iter().enumerate() {
            if slot[c as usize] != u32::MAX {
                groups[slot[c as usize] as usize].push(v as u32);
            }
        }
        groups
    }
}

const UNVISITED: u32 = u32::MAX;

/// Tarjan's strongly connected components, iterative (an explicit stack of frames instead of
/// recursion). O(n + e) time, 16 bytes per node.
pub fn strongly_connected(g: &Csr) -> Components {
    let n = g.node_count();
    let mut index = vec![UNVISITED; n];
    let mut low = vec![0u32; n];
    // `of[v] == UNVISITED` while v is unvisited or on the stack: then `index` tells which.
    let mut of = vec![UNVISITED; n];
    let mut stack: Vec<u32> = Vec::new();
    // Frames: (node, position of the next edge to follow).
    let mut frames: Vec<(u32, u32)> = Vec::new();
    let mut counter = 0u32;
    let mut count = 0u32;
    for root in 0..n as u32 {
        if index[root as usize] != UNVISITED {
            continue;
        }
        index[root as usize] = counter;
        low[root as usize] = counter;
        counter += 1;
        stack.push(root);
        frames.push((root, g.offsets[root as usize]));
        while let Some(frame) = frames.last_mut() {
            let v = frame.0;
            if frame.1 < g.offsets[v as usize + 1] {
                let w = g.targets[frame.1 as usize];
                frame.1 += 1;
                if index[w as usize] == UNVISITED {
                    index[w as usize] = counter;
                    low[w as usize] = counter;
                    counter += 1;
                    stack.push(w);
                    frames.push((w, g.offsets[w as usize]));
                } else if of[w as usize] == UNVISITED {
                    low[v as usize] = low[v as usize].min(index[w as usize]);
                }
                continue;
            }
            frames.pop();
            if let Some(&(u, _)) = frames.last() {
                low[u as usize] = low[u as usize].min(low[v as usize]);
            }
            if low[v as usize] == index[v as usize] {
                while let Some(x) = stack.pop() {
                    of[x as usize] = count;
                    if x == v {
                        break;
                    }
                }
                count += 1;
            }
        }
    }
    Components { of, count }
}

/// Which paths a cycle search may take: a small automaton over edge labels. The search explores
/// (node, state) pairs, so a rule such as "exactly one anti-dependency" or "no two
/// anti-dependencies in a row" costs a constant factor, not a blow-up.
pub trait PathRule {
    /// What the rule remembers about the path so far.
    type State: Copy + Eq + Hash;
    /// The state of the empty path.
    fn start(&self) -> Self::State;
    /// The state after following an edge labelled `label`, or `None` if the rule forbids it.
    fn step(&self, state: Self::State, label: Label) -> Option<Self::State>;
    /// Whether a path in this state, back at its first node, is a cycle the rule wants.
    fn accepts(&self, state: Self::State) -> bool;
}

/// A rule that takes every edge and accepts every cycle.
#[derive(Clone, Copy, Debug, Default)]
pub struct AnyCycle;

impl PathRule for AnyCycle {
    type State = ();
    fn start(&self) {}
    fn step(&self, _: (), _: Label) -> Option<()> {
        Some(())
    }
    fn accepts(&self, _: ()) -> bool {
        true
    }
}

/// A cycle search ran out of its step budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutOfSteps;

/// Where a cycle search may go and what it costs.
pub struct Scope<'a> {
    /// The graph.
    pub graph: &'a Csr,
    /// Nodes the search may visit (usually: the start's strongly connected component).
    pub allowed: &'a dyn Fn(u32) -> bool,
    /// Nodes at or above this number cost nothing to pass through (time points that only carry
    /// real-time order); the others cost 1.
    pub free_from: u32,
}

/// One entry of the search: a (node, state) reached at some cost, and how.
struct Reached<S> {
    node: u32,
    state: S,
    cost: u32,
    /// Index of the entry it was reached from, and the label of that edge.
    parent: u32,
    label: Label,
}

/// The cheapest cycle through `start` that `rule` accepts, costing at most `max_cost` (the
/// number of non-free nodes on it), as `(node, label of the edge leaving it)` from `start`,
/// free nodes included. A 0-1 breadth-first search over (node, state) pairs: O((n + e) · s)
/// for s rule states, each pop charged to `steps`.
///
/// The walk found may pass through a node twice (in different rule states); callers that need
/// a simple cycle split it (see [`split_walk`]).
pub fn shortest_cycle_through<R: PathRule>(
    scope: &Scope<'_>,
    start: u32,
    rule: &R,
    max_cost: u32,
    steps: &mut u64,
) -> Result<Option<Vec<(u32, Label)>>, OutOfSteps> {
    let cost_of = |v: u32| u32::from(v < scope.free_from);
    let mut arena: Vec<Reached<R::State>> =
        vec![Reached { node: start, state: rule.start(), cost: 0, parent: u32::MAX, label: 0 }];
    let mut best: AHashMap<(u32, R::State), u32> = AHashMap::new();
    best.insert((start, rule.start()), 0);
    let mut queue: VecDeque<u32> = VecDeque::from([0]);
    while let Some(i) = queue.pop_front() {
        let (u, s, d) = (arena[i as usize].node, arena[i as usize].state, arena[i as usize].cost);
        if best.get(&(u, s)) != Some(&i) {
            continue; // superseded by a cheaper entry
        }
        if *steps == 0 {
            return Err(OutOfSteps);
        }
        *steps -= 1;
        for (v, label) in scope.graph.out(u) {
            if !(scope.allowed)(v) {
                continue;
            }
            let Some(s2) = rule.step(s, label) else { continue };
            let d2 = d + cost_of(v);
            if d2 > max_cost {
                continue;
            }
            if v == start {
                if rule.accepts(s2) {
                    return Ok(Some(walk_back(&arena, i, label)));
                }
                continue;
            }
            if best.get(&(v, s2)).is_some_and(|&j| arena[j as usize].cost <= d2) {
                continue;
            }
            let j = arena.len() as u32;
            arena.push(Reached { node: v, state: s2, cost: d2, parent: i, label });
            best.insert((v, s2), j);
            if cost_of(v) == 0 { queue.push_front(j) } else { queue.push_back(j) }
        }
    }
    Ok(None)
}

/// The walk from the search's start to entry `last`, closed by an edge labelled `closing`.
fn walk_back<S>(arena: &[Reached<S>], last: u32, closing: Label) -> Vec<(u32, Label)> {
    let mut walk = Vec::new();
    let mut i = last;
    let mut leaving = closing;
    loop {
        let e = &arena[i as usize];
        walk.push((e.node, leaving));
        if e.parent == u32::MAX {
            break;
        }
        leaving = e.label;
        i = e.parent;
    }
    walk.reverse();
    walk
}

/// Splits a closed walk (each node with the label of the edge leaving it) into simple cycles:
/// whenever a node repeats, the loop between its two visits is cut out as a cycle of its own.
/// O(length) expected time.
pub fn split_walk(walk: &[(u32, Label)]) -> Vec<Vec<(u32, Label)>> {
    let mut cycles = Vec::new();
    let mut path: Vec<(u32, Label)> = Vec::with_capacity(walk.len());
    let mut at: AHashMap<u32, usize> = AHashMap::new();
    for &(v, label) in walk {
        if let Some(&i) = at.get(&v) {
            // path[i..] is a loop from v back to v.
            let cycle: Vec<(u32, Label)> = path.drain(i..).collect();
            for &(u, _) in &cycle {
                at.remove(&u);
            }
            cycles.push(cycle);
        }
        at.insert(v, path.len());
        path.push((v, label));
    }
    if !path.is_empty() {
        cycles.push(path);
    }
    cycles
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(n: usize, edges: &[(u32, u32)]) -> Csr {
        let e: Vec<(u32, u32, Label)> = edges.iter().map(|&(a, b)| (a, b, 0)).collect();
        Csr::from_edges(n, &e)
    }

    #[test]
    fn components_of_a_small_graph() {
        // 0 <-> 1 -> 2 <-> 3, 4 alone.
        let g = graph(5, &[(0, 1), (1, 0), (1, 2), (2, 3), (3, 2)]);
        let c = strongly_connected(&g);
        assert_eq!(c.count, 3);
        assert_eq!(c.of[0], c.of[1]);
        assert_eq!(c.of[2], c.of[3]);
        assert_ne!(c.of[0], c.of[2]);
        // Reverse topological numbering: {2,3} is downstream of {0,1}.
        assert!(c.of[2] < c.of[0]);
        let big = c.groups(|s| s > 1);
        assert_eq!(big, vec![vec![2, 3], vec![0, 1]]);
    }

    #[test]
    fn a_million_node_ring_does_not_overflow_the_stack() {
        let n = 1_000_000u32;
        let edges: Vec<(u32, u32, Label)> = (0..n).map(|i| (i, (i + 1) % n, 0)).collect();
        let g = Csr::from_edges(n as usize, &edges);
        let c = strongly_connected(&g);
        assert_eq!(c.count, 1);
        let allowed = |_: u32| true;
        let scope = Scope { graph: &g, allowed: &allowed, free_from: n };
        let mut steps = u64::MAX;
        let cycle = shortest_cycle_through(&scope, 5, &AnyCycle, u32::MAX, &mut steps).unwrap().unwrap();
        assert_eq!(cycle.len(), n as usize);
        assert_eq!(cycle[0].0, 5);
    }

    /// Exactly one edge labelled 1.
    struct ExactlyOne;
    impl PathRule for ExactlyOne {
        type State = bool;
        fn start(&self) -> bool {
            false
        }
        fn step(&self, seen: bool, label: Label) -> Option<bool> {
            match (seen, label) {
                (true, 1) => None,
                (_, 1) => Some(true),
                (s, _) => Some(s),
            }
        }
        fn accepts(&self, seen: bool) -> bool {
            seen
        }
    }

    #[test]
    fn rules_and_free_nodes_shape_the_shortest_cycle() {
        // 0 -> 1 -> 0 (no labelled edge), and 0 -> 3 (free) -> 2 -> 0 with label 1 on 2 -> 0.
        let e = [(0, 1, 0), (1, 0, 0), (0, 3, 0), (3, 2, 0), (2, 0, 1)];
        let g = Csr::from_edges(4, &e);
        let allowed = |_: u32| true;
        let scope = Scope { graph: &g, allowed: &allowed, free_from: 3 };
        let mut steps = 1000;
        let any = shortest_cycle_through(&scope, 1, &AnyCycle, 10, &mut steps).unwrap().unwrap();
        assert_eq!(any, vec![(1, 0), (0, 0)]);
        let one = shortest_cycle_through(&scope, 0, &ExactlyOne, 10, &mut steps).unwrap().unwrap();
        assert_eq!(one, vec![(0, 0), (3, 0), (2, 1)]);
        // Costs: 0 and 2 are not free, 3 is: the cycle costs 2.
        assert!(shortest_cycle_through(&scope, 0, &ExactlyOne, 1, &mut steps).unwrap().is_none());
        let mut none = 0;
        assert_eq!(shortest_cycle_through(&scope, 0, &AnyCycle, 10, &mut none), Err(OutOfSteps));
    }

    #[test]
    fn walks_split_into_simple_cycles() {
        let walk = [(0, 1), (1, 2), (2, 3), (1, 4), (3, 5)];
        let cycles = split_walk(&walk);
        assert_eq!(cycles, vec![vec![(1, 2), (2, 3)], vec![(0, 1), (1, 4), (3, 5)]]);
    }
}
