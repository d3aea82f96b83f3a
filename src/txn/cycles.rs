//! Cycle anomalies: Elle's types, the path rules that find each, and the search for the
//! shortest cycle of each type in one strongly connected component.
//!
//! A cycle's type follows from its edges: one rw edge is G-single (read skew); two or more,
//! none adjacent, G-nonadjacent; two or more with two adjacent, G2-item (write skew); else any
//! wr edge makes it G1c (circular information flow) and ww edges alone G0 (write cycle). A
//! real-time edge adds `-realtime`, else a process edge `-process`.
//!
//! In a component, each type forbidden by the consistency model is searched in order of
//! severity, skipping types implied by one already found. A type's cycles lie in one strongly
//! connected component of the subgraph of the edges it may use, so the search runs only there;
//! two-transaction cycles are found directly (real-time order through time points is a
//! comparison of times), and longer ones by a breadth-first search over (transaction, rule
//! state) pairs from each possible start, each bounded by the best cycle so far, all under a
//! step budget.

use super::consistency;
use super::graph::{PROCESS, RT, RW, WR, WW};
use crate::graph::csr::{
    Csr, Label, OutOfSteps, PathRule, Scope, shortest_cycle_through, split_walk, strongly_connected,
};
use crate::vocab::TxnAnomalyKind as T;
use std::collections::BTreeSet;
use std::time::Instant;

/// The data part of a cycle's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Base {
    G0,
    G1c,
    GSingle,
    GNonadjacent,
    G2Item,
}

/// Which order besides data dependencies a cycle uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Variant {
    Data,
    Process,
    Realtime,
}

/// A cycle anomaly type. Ordered as the search goes: data before process before real-time,
/// and by severity within each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct CycleType {
    pub variant: Variant,
    pub base: Base,
}

const BASES: [Base; 5] = [Base::G0, Base::G1c, Base::GSingle, Base::GNonadjacent, Base::G2Item];
const VARIANTS: [Variant; 3] = [Variant::Data, Variant::Process, Variant::Realtime];
const NAMES: [[T; 5]; 3] = [
    [T::G0, T::G1c, T::GSingle, T::GNonadjacent, T::G2Item],
    [T::G0Process, T::G1cProcess, T::GSingleProcess, T::GNonadjacentProcess, T::G2ItemProcess],
    [T::G0Realtime, T::G1cRealtime, T::GSingleRealtime, T::GNonadjacentRealtime, T::G2ItemRealtime],
];

impl CycleType {
    /// Every type, in search order.
    pub(crate) fn all() -> impl Iterator<Item = CycleType> {
        VARIANTS
            .into_iter()
            .flat_map(|variant| BASES.into_iter().map(move |base| CycleType { variant, base }))
    }

    /// Elle's name.
    pub(crate) fn name(self) -> T {
        NAMES[self.variant as usize][self.base as usize]
    }

    /// The type of a cycle with these edge labels.
    pub(crate) fn classify(labels: &[Label]) -> CycleType {
        let count = |l: Label| labels.iter().filter(|&&x| x == l).count();
        let n = labels.len();
        let adjacent = (0..n).any(|i| labels[i] == RW && labels[(i + 1) % n] == RW);
        let base = match count(RW) {
            1 => Base::GSingle,
            0 if count(WR) > 0 => Base::G1c,
            0 => Base::G0,
            _ if adjacent => Base::G2Item,
            _ => Base::GNonadjacent,
        };
        let variant = if count(RT) > 0 {
            Variant::Realtime
        } else if count(PROCESS) > 0 {
            Variant::Process
        } else {
            Variant::Data
        };
        CycleType { variant, base }
    }

    /// Whether a cycle of this type may use an edge labelled `label`.
    pub(crate) fn allows(self, label: Label) -> bool {
        let data = match self.base {
            Base::G0 => label == WW,
            Base::G1c => label == WW || label == WR,
            _ => label == WW || label == WR || label == RW,
        };
        data || Some(label) == self.variant_label()
    }

    fn variant_label(self) -> Option<Label> {
        match self.variant {
            Variant::Data => None,
            Variant::Process => Some(PROCESS),
            Variant::Realtime => Some(RT),
        }
    }

    /// The fewest transactions a cycle of this type can have.
    fn min_len(self) -> usize {
        if self.base == Base::GNonadjacent { 4 } else { 2 }
    }

    /// The label every cycle of this type can be rotated to start with, for choosing starts.
    fn start_label(self) -> Option<Label> {
        match self.base {
            Base::G0 => Some(WW),
            Base::G1c => Some(WR),
            Base::GSingle | Base::G2Item => Some(RW),
            Base::GNonadjacent => None,
        }
    }
}

/// Rule state bits.
const RW_ONE: u8 = 1;
const RW_MANY: u8 = 2;
const LAST_RW: u8 = 4;
const FIRST_RW: u8 = 8;
const ADJACENT: u8 = 16;
const SAW_WR: u8 = 32;
const SAW_VARIANT: u8 = 64;
const EMPTY: u8 = 128;

impl PathRule for CycleType {
    type State = u8;

    fn start(&self) -> u8 {
        EMPTY
    }

    fn step(&self, s: u8, label: Label) -> Option<u8> {
        if !self.allows(label) {
            return None;
        }
        let rw = label == RW;
        let mut t = s & !(EMPTY | LAST_RW);
        if rw {
            t |= if s & (RW_ONE | RW_MANY) != 0 { RW_MANY } else { RW_ONE };
            t |= LAST_RW;
            if s & LAST_RW != 0 {
                t |= ADJACENT;
            }
            if s & EMPTY != 0 {
                t |= FIRST_RW;
            }
        }
        t |= if label == WR { SAW_WR } else { 0 };
        t |= if Some(label) == self.variant_label() { SAW_VARIANT } else { 0 };
        let bad = match self.base {
            Base::GSingle => t & RW_MANY != 0,
            // Nonadjacent cycles are searched from the end of an rw edge: the first edge is not
            // rw, so the edge closing the cycle may be.
            Base::GNonadjacent => t & (ADJACENT | FIRST_RW) != 0,
            _ => false,
        };
        (!bad).then_some(t)
    }

    fn accepts(&self, s: u8) -> bool {
        if self.variant != Variant::Data && s & SAW_VARIANT == 0 {
            return false;
        }
        let wraps = s & LAST_RW != 0 && s & FIRST_RW != 0;
        match self.base {
            Base::G0 => true,
            Base::G1c => s & SAW_WR != 0,
            Base::GSingle => s & RW_ONE != 0 && s & RW_MANY == 0,
            Base::GNonadjacent => s & RW_MANY != 0 && s & ADJACENT == 0 && !wraps,
            Base::G2Item => s & RW_MANY != 0 && (s & ADJACENT != 0 || wraps),
        }
    }
}

/// The types to search for: those `prohibited` names, whose variant edges the graph has.
pub(crate) fn searched_types(
    prohibited: &BTreeSet<&'static str>,
    realtime: bool,
    process: bool,
) -> Vec<CycleType> {
    CycleType::all()
        .filter(|t| match t.variant {
            Variant::Data => true,
            Variant::Process => process,
            Variant::Realtime => realtime,
        })
        .filter(|t| prohibited.contains(t.name().as_str()))
        .collect()
}

/// What the search of one component found: cycles (as global op numbers, each with the label
/// of the edge to the next) and notes when the budget ran out.
#[derive(Debug, Default)]
pub(crate) struct ComponentResult {
    pub found: Vec<(CycleType, Vec<(u32, Label)>)>,
    pub notes: Vec<String>,
    /// A type that might exist here but was not searched to the end, with nothing forbidden
    /// found in its place.
    pub undecided: bool,
    pub steps: u64,
}

/// Limits on one component's search.
pub(crate) struct Limits {
    pub max_steps: u64,
    /// Time allowed per component (Elle allows a second).
    pub per_component: Option<std::time::Duration>,
    /// When the whole check must end.
    pub deadline: Option<Instant>,
}

impl Limits {
    fn describe(&self) -> String {
        match self.per_component {
            Some(t) => format!("{} steps or {:.1} s", self.max_steps, t.as_secs_f64()),
            None => format!("{} steps", self.max_steps),
        }
    }
}

/// Searches one component (`members`: its nodes, sorted, ops before time points; `ops`: the
/// number of op nodes in the whole graph) for the shortest cycle of each of `types`.
pub(crate) fn search_component(
    graph: &Csr,
    ops: u32,
    members: &[u32],
    types: &[CycleType],
    limits: &Limits,
) -> ComponentResult {
    let local = graph.induced(members);
    let local_ops = members.partition_point(|&v| v < ops) as u32;
    let own = limits.per_component.map(|t| Instant::now() + t);
    let deadline = match (own, limits.deadline) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let mut search = Search { steps: limits.max_steps, deadline, out_of_budget: false };
    let mut best: Vec<Option<Vec<(u32, Label)>>> = vec![None; types.len()];
    let mut result = ComponentResult::default();
    let mut skip: BTreeSet<&'static str> = BTreeSet::new();
    for (i, &ty) in types.iter().enumerate() {
        if skip.contains(ty.name().as_str()) {
            continue;
        }
        let exhausted_before = search.out_of_budget;
        search.shortest(&local, local_ops, ty, types, &mut best, i);
        if search.out_of_budget && !exhausted_before {
            result.notes.push(format!(
                "a component of {local_ops} transactions: the search for {} ran out of budget ({}); {}",
                ty.name(),
                limits.describe(),
                if best[i].is_some() {
                    "the cycle shown may not be the shortest"
                } else {
                    "cycles longer than two transactions were not searched for it or later types"
                }
            ));
        }
        if let Some(c) = &best[i] {
            let name = CycleType::classify(&c.iter().map(|s| s.1).collect::<Vec<_>>()).name().as_str();
            skip.extend(consistency::implied(&[name]).into_iter().filter(|&n| n != name));
        }
    }
    result.steps = limits.max_steps - search.steps;
    for (i, c) in best.into_iter().enumerate() {
        if let Some(c) = c {
            result.found.push((types[i], c.into_iter().map(|(v, l)| (members[v as usize], l)).collect()));
        }
    }
    if search.out_of_budget && result.found.is_empty() {
        result.undecided = true;
        if let Some(c) = any_cycle(&local, local_ops) {
            let ty = CycleType::classify(&c.iter().map(|s| s.1).collect::<Vec<_>>());
            if types.contains(&ty) {
                result.undecided = false;
                result.notes.push(format!("a component of {local_ops} transactions: showing some {} cycle, found without the budget", ty.name()));
                result.found.push((ty, c.into_iter().map(|(v, l)| (members[v as usize], l)).collect()));
            }
        }
    }
    result
}

/// Some cycle through the component's first transaction (a component always has one),
/// with time points left out. O(n + e).
fn any_cycle(g: &Csr, ops: u32) -> Option<Vec<(u32, Label)>> {
    let all = |_: u32| true;
    let scope = Scope { graph: g, allowed: &all, free_from: ops };
    let mut steps = u64::MAX;
    let walk =
        shortest_cycle_through(&scope, 0, &crate::graph::csr::AnyCycle, u32::MAX, &mut steps).ok()??;
    Some(walk.into_iter().filter(|&(v, _)| v < ops).collect())
}

/// The state of one component's search: the step budget left, and whether it ran out.
struct Search {
    steps: u64,
    deadline: Option<Instant>,
    out_of_budget: bool,
}

impl Search {
    /// Finds the shortest cycle of type `types[i]` in `g` (a component, ops numbered below
    /// `ops`), improving `best[i]`; cycles of other types met on the way improve theirs.
    fn shortest(
        &mut self,
        g: &Csr,
        ops: u32,
        ty: CycleType,
        types: &[CycleType],
        best: &mut [Option<Vec<(u32, Label)>>],
        i: usize,
    ) {
        let sub = g.filter(|l| ty.allows(l));
        let comps = strongly_connected(&sub);
        for group in comps.groups(|size| size > 1) {
            let group_ops = group.partition_point(|&v| v < ops) as u32;
            if group_ops < 2 {
                continue;
            }
            let h = sub.induced(&group);
            let to_local =
                |c: Vec<(u32, Label)>| c.into_iter().map(|(v, l)| (group[v as usize], l)).collect::<Vec<_>>();
            if let Some(c) = two_cycle(&h, group_ops, ty) {
                best[i] = Some(to_local(c));
                return;
            }
            if self.out_of_budget {
                return;
            }
            let found = self.bfs_all(&h, group_ops, ty, best[i].as_ref().map_or(usize::MAX, Vec::len));
            for c in found {
                let c = to_local(c);
                let t = CycleType::classify(&c.iter().map(|s| s.1).collect::<Vec<_>>());
                if let Some(j) = types.iter().position(|&x| x == t) {
                    if best[j].as_ref().is_none_or(|b| b.len() > c.len()) {
                        best[j] = Some(c);
                    }
                }
            }
        }
    }

    /// Breadth-first searches from every possible start of `h` (ops below `ops`), each bounded
    /// by the best cycle of type `ty` so far. Returns every simple cycle met, of any type.
    fn bfs_all(&mut self, h: &Csr, ops: u32, ty: CycleType, mut best_len: usize) -> Vec<Vec<(u32, Label)>> {
        let all = |_: u32| true;
        let scope = Scope { graph: h, allowed: &all, free_from: ops };
        let floor = ty.min_len().max(3); // two-transaction cycles were ruled out already
        // A strongly connected graph with as many edges as nodes is one simple cycle: the first
        // cycle found is the only one.
        let single = h.node_count() == ops as usize && h.edge_count() == ops as usize;
        let mut found = Vec::new();
        for start in 0..ops {
            if best_len <= floor || (single && !found.is_empty()) || self.expired() {
                break;
            }
            if ty.start_label().is_some_and(|l| !h.out(start).any(|(_, x)| x == l)) {
                continue;
            }
            let max_cost = u32::try_from(best_len - 1).unwrap_or(u32::MAX);
            match shortest_cycle_through(&scope, start, &ty, max_cost, &mut self.steps) {
                Ok(Some(walk)) => {
                    let ops_only: Vec<(u32, Label)> = walk.into_iter().filter(|&(v, _)| v < ops).collect();
                    for c in split_walk(&ops_only) {
                        let t = CycleType::classify(&c.iter().map(|s| s.1).collect::<Vec<_>>());
                        if t == ty {
                            best_len = best_len.min(c.len());
                        }
                        found.push(c);
                    }
                }
                Ok(None) => {}
                Err(OutOfSteps) => {
                    self.out_of_budget = true;
                    break;
                }
            }
        }
        found
    }

    fn expired(&mut self) -> bool {
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            self.out_of_budget = true;
        }
        self.out_of_budget
    }
}

/// A cycle of type `ty` through two transactions of `h` (ops below `ops`, then time points in
/// time order), if there is one: a direct edge each way, or an edge one way and real-time
/// order (the other's completion before the one's invocation) back. O(e · d) for degree d.
fn two_cycle(h: &Csr, ops: u32, ty: CycleType) -> Option<Vec<(u32, Label)>> {
    let (before, after) = time_points(h, ops);
    let accepts = |l1: Label, l2: Label| {
        let s = ty.step(ty.start(), l1).and_then(|s| ty.step(s, l2));
        s.is_some_and(|s| ty.accepts(s))
    };
    for s in 0..ops {
        for (v, l1) in h.out(s) {
            if v >= ops {
                continue;
            }
            if let Some((_, l2)) = h.out(v).find(|&(t, l2)| t == s && accepts(l1, l2)) {
                return Some(vec![(s, l1), (v, l2)]);
            }
            // v completed before s was invoked: v -rt-> s through the time points. Both points
            // must be in the component: when s's invocation point is not, no real-time path
            // from v reaches s here (and `before[s]` is the `u32::MAX` that compares above all).
            let (done, begun) = (after[v as usize], before[s as usize]);
            let rt_back = done != u32::MAX && begun != u32::MAX && done <= begun;
            if ty.allows(RT) && rt_back && accepts(l1, RT) {
                return Some(vec![(s, l1), (v, RT)]);
            }
        }
    }
    None
}

/// For each op of `h`: the time point its invocation hangs from, and the first point after its
/// completion (`u32::MAX` for none). Points are numbered in time order.
fn time_points(h: &Csr, ops: u32) -> (Vec<u32>, Vec<u32>) {
    let mut before = vec![u32::MAX; ops as usize];
    let mut after = vec![u32::MAX; ops as usize];
    for p in ops..h.node_count() as u32 {
        for (t, l) in h.out(p) {
            if t < ops && l == RT {
                before[t as usize] = p;
            }
        }
    }
    for v in 0..ops {
        if let Some((p, _)) = h.out(v).find(|&(t, l)| t >= ops && l == RT) {
            after[v as usize] = p;
        }
    }
    (before, after)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_follows_elle() {
        let t = |ls: &[Label]| CycleType::classify(ls).name().as_str();
        assert_eq!(t(&[WW, WW]), "G0");
        assert_eq!(t(&[WW, WR]), "G1c");
        assert_eq!(t(&[RW, WR]), "G-single");
        assert_eq!(t(&[RW, RW]), "G2-item");
        assert_eq!(t(&[RW, WW, RW, WR]), "G-nonadjacent");
        assert_eq!(t(&[RW, WR, RT]), "G-single-realtime");
        assert_eq!(t(&[WW, PROCESS]), "G0-process");
    }

    /// Real-time order back from v to s needs s's invocation point in the component: here it
    /// is not (nothing leads back to the time before s began), so s -rw-> v with v completed
    /// early is no two-transaction cycle, only the three-transaction one through op 2.
    #[test]
    fn two_cycles_need_the_invocation_point_in_the_component() {
        // Ops 0 (s), 1 (v), 2; point 3 is the first time after v completed, when op 2 began.
        let h = Csr::from_edges(4, &[(0, 1, RW), (1, 3, RT), (3, 2, RT), (2, 0, WW)]);
        let ty = CycleType { variant: Variant::Realtime, base: Base::GSingle };
        assert_eq!(two_cycle(&h, 3, ty), None);
        let mut search = Search { steps: 1_000, deadline: None, out_of_budget: false };
        let found = search.bfs_all(&h, 3, ty, usize::MAX);
        assert_eq!(found, vec![vec![(0, RW), (1, RT), (2, WW)]]);
    }

    #[test]
    fn rules_accept_exactly_their_type() {
        let seqs: &[&[Label]] =
            &[&[WW, WW], &[WW, WR], &[RW, WR], &[RW, RW], &[WR, RW, WW, RW], &[RW, WR, RT], &[WW, RT]];
        for &seq in seqs {
            let actual = CycleType::classify(seq);
            for ty in CycleType::all() {
                // Try every rotation: the search may start anywhere on the cycle.
                let accepted = (0..seq.len()).any(|r| {
                    let rot: Vec<Label> = seq[r..].iter().chain(&seq[..r]).copied().collect();
                    let mut s = Some(ty.start());
                    for &l in &rot {
                        s = s.and_then(|s| ty.step(s, l));
                    }
                    s.is_some_and(|s| ty.accepts(s))
                });
                assert_eq!(accepted, ty == actual, "{:?} as {}", seq, ty.name());
            }
        }
    }
}
