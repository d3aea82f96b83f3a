//! Anomalies in words, as data, and as Graphviz DOT: for a cycle, the transactions named T1..Tn,
//! one line per edge giving the key and value that force it, and the contradiction at the end.

use super::findings::Finding;
use super::graph::{PROCESS, RT, RW, WR, WW, edge_kind, elle_name};
use super::ops::{Elem, Txns};
use super::{CycleStep, TxnAnomaly, TxnRef, Workload};
use crate::graph::csr::Label;
use crate::history::History;
use crate::model::EdgeKind;
use crate::vocab::TxnAnomalyKind;
use std::fmt::Write as _;

/// Why one transaction must precede another by a data dependency.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DataWhy {
    /// The key.
    pub key: u32,
    /// What the earlier transaction wrote, or what the reader saw last (`None`: the initial
    /// state).
    pub before: Option<Elem>,
    /// What the later transaction wrote or saw.
    pub after: Option<Elem>,
    /// The later write was never read: it is ordered after `before` only because it was not
    /// seen (list-append) or not known to be first (rw-register).
    pub unseen: bool,
}

/// What can say why a data edge holds: the workload's inference.
pub(crate) trait Why: Sync {
    /// Why `a` precedes `b` by an edge labelled `label` (ww, wr or rw).
    fn why(&self, a: u32, b: u32, label: Label) -> Option<DataWhy>;
}

/// Puts anomalies into words.
pub(crate) struct Explainer<'a> {
    pub history: &'a History,
    pub txns: &'a Txns,
}

impl Explainer<'_> {
    /// The transaction `op` as cited by an anomaly.
    pub(crate) fn txn_ref(&self, op: u32) -> TxnRef {
        TxnRef::of(self.history, self.txns, op)
    }

    fn key(&self, k: u32) -> String {
        self.txns.key(k).to_string()
    }

    fn value(&self, e: Option<Elem>) -> String {
        e.map_or_else(|| "nil".to_string(), |e| self.txns.value(e).to_string())
    }

    /// A cycle, as an anomaly of type `kind`: `cycle` is `(op, label of the edge to the next
    /// op)`, the last op's edge leading back to the first.
    pub(crate) fn cycle(&self, kind: TxnAnomalyKind, cycle: &[(u32, Label)], why: &dyn Why) -> TxnAnomaly {
        let n = cycle.len();
        let name = |i: usize| format!("T{}", i % n + 1);
        let mut lines = Vec::with_capacity(2 * n + 1);
        lines.push(format!("{kind}: a cycle of {n} transactions, each of which must precede the next"));
        let txns: Vec<TxnRef> = cycle.iter().map(|&(op, _)| self.txn_ref(op)).collect();
        for (i, t) in txns.iter().enumerate() {
            lines.push(format!(
                "{} = index {} (process {}, {}, line {}): {}",
                name(i),
                t.index,
                t.process,
                t.outcome,
                t.line,
                t.text
            ));
        }
        let mut steps = Vec::with_capacity(n);
        for (i, &(a, label)) in cycle.iter().enumerate() {
            let b = cycle[(i + 1) % n].0;
            let (step, words) = self.edge(a, b, label, why, (&name(i), &name(i + 1)));
            steps.push(CycleStep { from: i + 1, to: (i + 1) % n + 1, ..step });
            lines.push(format!("{} < {}: {words}", name(i), name(i + 1)));
        }
        if let Some(last) = lines.last_mut() {
            let order = if n <= 6 {
                (0..=n).map(name).collect::<Vec<_>>().join(" < ")
            } else {
                format!("T1 < T2 < … < T{n} < T1")
            };
            let _ = write!(last, "; so {order}: T1 precedes itself, a contradiction");
        }
        let dot = self.dot(kind, &txns, &steps);
        TxnAnomaly { kind, txns, key: None, explanation: lines, cycle: Some(steps), dot: Some(dot) }
    }

    /// One edge as data and in words.
    fn edge(
        &self,
        a: u32,
        b: u32,
        label: Label,
        why: &dyn Why,
        (ta, tb): (&str, &str),
    ) -> (CycleStep, String) {
        let mut step = CycleStep {
            from: 0,
            to: 0,
            kind: edge_kind(label),
            key: None,
            value: None,
            value_after: None,
            process: None,
        };
        let (oa, ob) = (&self.history.ops[a as usize], &self.history.ops[b as usize]);
        let words = match label {
            RT => format!(
                "{ta} completed (index {}) before {tb} was invoked (index {})",
                oa.complete_index, ob.invoke_index
            ),
            PROCESS => {
                step.process = Some(oa.process);
                format!("both ran on process {}, {ta} first", oa.process)
            }
            _ => match why.why(a, b, label) {
                Some(w) => {
                    step.key = Some(self.key(w.key));
                    step.value = w.before.map(|e| self.value(Some(e)));
                    step.value_after = w.after.map(|e| self.value(Some(e)));
                    self.data_words(label, &w, (ta, tb))
                }
                None => format!("{} dependency", elle_name(label)),
            },
        };
        (step, words)
    }

    fn data_words(&self, label: Label, w: &DataWhy, (ta, tb): (&str, &str)) -> String {
        let k = self.key(w.key);
        let (before, after) = (self.value(w.before), self.value(w.after));
        let list = self.txns.workload == Workload::ListAppend;
        match (label, list, w.unseen) {
            (WW, true, false) => {
                format!("{tb} appended {after} to {k} right after {ta}'s append of {before}")
            }
            (WW, true, true) => format!(
                "{tb}'s append of {after} to {k} was never read, so it came after {before}, the last element \
                 any read of {k} saw, which {ta} appended"
            ),
            (WW, false, _) => {
                format!("{tb} read {k} = {before}, which {ta} wrote, and then wrote {after} over it")
            }
            (WR, true, _) => {
                format!("{tb} read {ta}'s append of {before} to {k} (the last element of its read)")
            }
            (WR, false, _) => format!("{tb} read {k} = {before}, which {ta} wrote"),
            (RW, true, false) if w.before.is_none() => {
                format!("{ta} read {k} empty, so it did not see {tb}'s append of {after}, the first to {k}")
            }
            (RW, true, false) => format!(
                "{ta} read {k} up to {before}, so it did not see {tb}'s append of {after} that came next"
            ),
            (RW, true, true) if w.before.is_none() => format!(
                "{ta} read {k} empty, and {tb}'s append of {after} to {k}, which no read saw, came after that"
            ),
            (RW, true, true) => format!(
                "{ta} read {k} up to {before}, the last element any read saw, so it did not see {tb}'s append of \
                 {after}, which no read saw"
            ),
            (RW, false, _) if w.before.is_none() => {
                format!("{ta} read {k} = nil, the initial state, which {tb}'s write of {after} came after")
            }
            (RW, false, _) => {
                format!(
                    "{ta} read {k} = {before}, a version that {tb} read too and then overwrote with {after}"
                )
            }
            _ => format!("{} dependency on {k}", elle_name(label)),
        }
    }

    /// The cycle as a Graphviz digraph: transactions as boxes (node `i` is T`i+1`), edges
    /// labelled and coloured by kind. petgraph writes the nodes and edges and escapes their
    /// labels; the header names the graph after the anomaly.
    fn dot(&self, kind: TxnAnomalyKind, txns: &[TxnRef], steps: &[CycleStep]) -> String {
        use petgraph::dot::{Config, Dot};
        use petgraph::visit::EdgeRef;
        let mut graph = petgraph::Graph::<String, String>::new();
        let nodes: Vec<_> = txns
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let label =
                    format!("T{} index {} process {} ({})\n{}", i + 1, t.index, t.process, t.outcome, t.text);
                graph.add_node(label)
            })
            .collect();
        for s in steps {
            let what = match (&s.key, &s.value_after) {
                (Some(k), Some(v)) => format!("{} {k} {v}", s.kind.elle()),
                (Some(k), None) => format!("{} {k}", s.kind.elle()),
                _ => s.kind.elle().to_string(),
            };
            graph.add_edge(nodes[s.from - 1], nodes[s.to - 1], what);
        }
        // Edges were added in the order of `steps`, so an edge's index is its step's.
        let color = |step: usize| match steps[step].kind {
            EdgeKind::Version => "#d62728",
            EdgeKind::ReadsFrom => "#1f77b4",
            EdgeKind::AntiDependency => "#9467bd",
            EdgeKind::RealTime => "#2ca02c",
            EdgeKind::Process => "#ff7f0e",
        };
        let esc = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
        format!(
            "digraph \"{}\" {{\n    node [shape=box, fontname=\"monospace\"];\n{}}}\n",
            esc(kind.as_str()),
            Dot::with_attr_getters(
                &graph,
                &[Config::GraphContentOnly],
                &|_, e| format!("color=\"{}\" ", color(e.id().index())),
                &|_, _| String::new(),
            )
        )
    }

    /// An anomaly found without a cycle.
    pub(crate) fn finding(&self, f: &Finding) -> TxnAnomaly {
        let anomaly = |ops: Vec<u32>, key: Option<u32>, lines: Vec<String>| TxnAnomaly {
            kind: f.kind(),
            txns: ops.iter().map(|&o| self.txn_ref(o)).collect(),
            key: key.map(|k| self.key(k)),
            explanation: lines,
            cycle: None,
            dot: None,
        };
        let t = |op: u32| {
            let r = self.txn_ref(op);
            format!("the transaction with index {} (process {}, line {})", r.index, r.process, r.line)
        };
        // A micro-op of transaction `op` (global index `m`), with its place in the transaction
        // when another of its micro-ops prints the same (two identical reads): otherwise two
        // findings about them would read, and be shown, as one anomaly twice.
        let mop = |op: u32, m: u32| {
            let text = self.txns.mop_text(&self.txns.mops[m as usize]);
            let alike = self.txns.of(op as usize).iter().filter(|x| self.txns.mop_text(x) == text).count();
            match m as usize - self.txns.first_mop(op as usize) {
                i if alike > 1 => format!("{text} (its micro-op {})", i + 1),
                _ => text,
            }
        };
        let v = |e: Elem| self.value(Some(e));
        let list = self.txns.workload == Workload::ListAppend;
        match f {
            Finding::AbortedRead { key, elem, writer, reader } => anomaly(
                vec![reader.0, *writer],
                Some(*key),
                vec![format!(
                    "G1a (aborted read): {} read {} and saw {} on {}, {} by {}, which failed",
                    t(reader.0),
                    mop(reader.0, reader.1),
                    v(*elem),
                    self.key(*key),
                    if list { "appended" } else { "written" },
                    t(*writer)
                )],
            ),
            Finding::IntermediateRead { key, elem, writer, reader } => anomaly(
                vec![reader.0, *writer],
                Some(*key),
                vec![format!(
                    "G1b (intermediate read): {} read {}, ending in {}, but {} {} {} again after {}",
                    t(reader.0),
                    mop(reader.0, reader.1),
                    v(*elem),
                    t(*writer),
                    if list { "appended to" } else { "wrote" },
                    self.key(*key),
                    v(*elem)
                )],
            ),
            Finding::DirtyUpdate { key, failed, committed } => anomaly(
                vec![failed.0, committed.0],
                Some(*key),
                vec![format!(
                    "dirty update: the reads of {} show {}, appended by {}, right after {}, appended by {}, which \
                     failed: a committed append was made on top of an aborted one",
                    self.key(*key),
                    v(committed.1),
                    t(committed.0),
                    v(failed.1),
                    t(failed.0)
                )],
            ),
            Finding::GarbageRead { key, elem, reader } => anomaly(
                vec![reader.0],
                Some(*key),
                vec![format!(
                    "garbage read: {} read {}, which holds {}, a value no transaction ever wrote to {}",
                    t(reader.0),
                    mop(reader.0, reader.1),
                    v(*elem),
                    self.key(*key)
                )],
            ),
            Finding::DuplicateElements { key, elem, reader } => anomaly(
                vec![reader.0],
                Some(*key),
                vec![format!(
                    "duplicate elements: {} read {}, which holds {} twice although it was appended once — the mark of \
                 a retried append that took effect twice",
                    t(reader.0),
                    mop(reader.0, reader.1),
                    v(*elem)
                )],
            ),
            Finding::IncompatibleOrder { key, reads: [a, b] } => anomaly(
                vec![a.0, b.0],
                Some(*key),
                vec![format!(
                    "incompatible order: {} read {} and {} read {}; neither list is a prefix of the other, so no single \
                 order of appends to {} explains both",
                    t(a.0),
                    mop(a.0, a.1),
                    t(b.0),
                    mop(b.0, b.1),
                    self.key(*key)
                )],
            ),
            Finding::OwnOrder { key, op, first, second, shown } => anomaly(
                vec![*op],
                Some(*key),
                vec![format!(
                    "incompatible order: {} appended {} and then {} to {}, but the reads of {} show {}, with {} not \
                 before {}",
                    t(*op),
                    v(*first),
                    v(*second),
                    self.key(*key),
                    self.key(*key),
                    self.txns.list_text(shown),
                    v(*first),
                    v(*second)
                )],
            ),
            Finding::Internal { op, mop: m, expected } => anomaly(
                vec![*op],
                None,
                vec![format!(
                    "internal: {} read {}, but its own earlier reads and writes imply {expected}",
                    t(*op),
                    mop(*op, *m)
                )],
            ),
            Finding::FutureRead { key, elem, op, mop: m } => anomaly(
                vec![*op],
                Some(*key),
                vec![format!(
                    "future read: {} read {}, which holds {}, a value it appends to {} only later",
                    t(*op),
                    mop(*op, *m),
                    v(*elem),
                    self.key(*key)
                )],
            ),
            Finding::LostUpdate { key, read, txns } => {
                let who: Vec<String> = txns.iter().map(|&o| t(o)).collect();
                anomaly(
                    txns.clone(),
                    Some(*key),
                    vec![format!(
                        "lost update: {} each read {} = {read} and then wrote {}; in any serial order all but one of \
                     them would have seen another's write",
                        who.join(", "),
                        self.key(*key),
                        self.key(*key)
                    )],
                )
            }
            Finding::CyclicVersions { key, values } => {
                let vs: Vec<String> = values.iter().map(|&e| v(e)).collect();
                anomaly(
                    vec![],
                    Some(*key),
                    vec![format!(
                        "cyclic versions: the history forces the versions of {} into a cycle: {} -> {}",
                        self.key(*key),
                        vs.join(" -> "),
                        vs.first().cloned().unwrap_or_default()
                    )],
                )
            }
        }
    }
}
