//! The data an HTML report embeds for one history: lanes, the ops shown in full, a density
//! summary of the others, fault windows, and each report's anomalies in a form the page's
//! script draws without knowing anything about labrys's types.

use crate::explain::fault_windows;
use crate::history::{History, Op, ValueId};
use crate::outcome::Verdict;
use crate::outcome::{Counterexample, OpRef};
use crate::report::{Anomaly, FileReport};
use crate::txn::Txns;
use ahash::AHashMap;
use serde::Serialize;

/// Histories with at most this many ops are shown in full.
const FULL: usize = 5_000;
/// Above [`FULL`], at most about this many ops are shown in full (around the anomalies): what
/// keeps the page of a history of any length small and quick to draw.
const MAX_DETAILED: usize = 10_000;
/// Ops shown on either side (in invocation order) of each op an anomaly cites.
const NEIGHBOURS: usize = 500;
/// Up to this many processes get a lane each; above it, processes that never overlap in time
/// share a lane (Jepsen replaces a crashed process by a new one on the same worker thread, so
/// long histories have thousands of processes but only a handful of threads).
const LANE_PER_PROCESS: usize = 32;
/// Buckets of the per-lane density histogram of the ops not shown in full.
const BUCKETS: usize = 600;
/// Fault windows kept; a longer fault timeline is cut (and says so).
const MAX_FAULTS: usize = 3_000;
/// Value texts longer than this many characters are cut.
const MAX_TEXT: usize = 200;
/// Anomalies per report shown on the page (the text and JSON reports have them all).
const MAX_ANOMALIES: usize = 50;
/// Characters of an explanation, or of a report's text, kept on the page.
const MAX_LONG_TEXT: usize = 20_000;
/// Nodes of a witness cycle drawn as a graph (longer cycles are listed, not drawn).
const MAX_CYCLE_NODES: usize = 100;

/// One op shown in full, as a JSON array: lane, process, invocation time, completion time
/// (`null` if never), outcome (`ok`, `fail`, `info`, `open`), index of `:f` in
/// [`FileData::fs`], input value, output value, invocation index, completion index (`null`
/// if never), invocation line, completion line (0 if never). Times are relative to the
/// history's start.
#[derive(Serialize)]
struct OpRow(u32, u32, i64, Option<i64>, &'static str, u32, String, String, u64, Option<u64>, u32, u32);

/// A lane of the timeline.
#[derive(Serialize)]
struct Lane {
    /// "process 3", or "processes 2, 7, 12 … (40)".
    label: String,
}

/// A fault window, relative to the history's start.
#[derive(Serialize)]
struct FaultRow {
    what: String,
    start: i64,
    end: Option<i64>,
}

/// Counts of the ops not shown in full, per lane and time bucket (by invocation time).
#[derive(Serialize)]
struct Density {
    /// Width of a bucket, in the history's time unit.
    width: f64,
    /// `counts[lane][bucket]`.
    counts: Vec<Vec<u32>>,
}

/// A dependency cycle as a graph: nodes in cycle order, labelled edges between them.
#[derive(Serialize)]
struct Graph {
    nodes: Vec<Node>,
    edges: Vec<GraphEdge>,
    /// Nodes left out of a very long cycle.
    omitted: usize,
}

#[derive(Serialize)]
struct Node {
    label: String,
    index: u64,
    process: u32,
    text: String,
}

#[derive(Serialize)]
struct GraphEdge {
    from: usize,
    to: usize,
    label: String,
    title: String,
}

/// One anomaly, as the page shows it.
#[derive(Serialize)]
struct AnomalyData {
    kind: String,
    key: Option<String>,
    explanation: String,
    /// Invocation indices of the ops to highlight.
    ops: Vec<u64>,
    /// For linearizability: how far the search got (the linearization up to the failure).
    linearization: Option<Counterexample>,
    /// Faults active while the anomaly's ops ran.
    faults: Vec<String>,
    /// The witness cycle, when there is one.
    cycle: Option<Graph>,
}

/// One report (one consistency level) of the history.
#[derive(Serialize)]
struct ReportData {
    model: String,
    consistency: String,
    verdict: &'static str,
    anomalies: Vec<AnomalyData>,
    /// Anomalies left off the page (beyond [`MAX_ANOMALIES`]).
    anomalies_omitted: usize,
    /// The text report, for reading in full (cut at [`MAX_LONG_TEXT`] characters).
    text: String,
}

/// Everything the page draws for one history file.
#[derive(Serialize)]
pub(super) struct FileData {
    file: String,
    /// `time` (nanoseconds) or `position` (event positions).
    clock: &'static str,
    /// The history's length on its clock (times are relative to its start).
    span: i64,
    total_ops: usize,
    lanes: Vec<Lane>,
    fs: Vec<String>,
    ops: Vec<OpRow>,
    faults: Vec<FaultRow>,
    faults_omitted: usize,
    density: Option<Density>,
    reports: Vec<ReportData>,
    /// Why the file could not be checked, when it could not.
    error: Option<String>,
}

impl FileData {
    /// The history file, as the user named it.
    pub(super) fn file(&self) -> &str {
        &self.file
    }

    /// A file that could not be read or checked.
    pub(super) fn error(file: &str, message: &str) -> FileData {
        FileData {
            file: file.to_string(),
            clock: "position",
            span: 1,
            total_ops: 0,
            lanes: Vec::new(),
            fs: Vec::new(),
            ops: Vec::new(),
            faults: Vec::new(),
            faults_omitted: 0,
            density: None,
            reports: Vec::new(),
            error: Some(message.to_string()),
        }
    }

    /// The data for `history` and its reports (one per consistency level). `txns` gives the
    /// transactions' micro-ops when the transactional reader kept them aside.
    pub(super) fn new(history: &History, txns: Option<&Txns>, reports: &[FileReport]) -> FileData {
        let positions: AHashMap<u64, u32> =
            history.ops.iter().enumerate().map(|(i, op)| (op.invoke_index, i as u32)).collect();
        let reports: Vec<ReportData> = reports.iter().map(report_data).collect();
        let (t0, span) = time_range(history);
        let detailed = detailed_ops(history, &reports, &positions);
        let (lanes, lane_of) = assign_lanes(history);
        let mut fs = FTable::default();
        let ops = history
            .ops
            .iter()
            .enumerate()
            .filter(|(i, _)| detailed[*i])
            .map(|(i, op)| op_row(history, txns, i, op, t0, lane_of(op.process), &mut fs))
            .collect();
        let density = (detailed.iter().any(|d| !d))
            .then(|| density(history, &detailed, t0, span, lanes.len(), &lane_of));
        let windows = fault_windows(history);
        let faults_omitted = windows.len().saturating_sub(MAX_FAULTS);
        let faults = windows
            .into_iter()
            .take(MAX_FAULTS)
            .map(|w| FaultRow {
                what: cut(&w.what),
                start: w.start.saturating_sub(t0),
                end: w.end.map(|e| e.saturating_sub(t0)),
            })
            .collect();
        FileData {
            file: history.source.clone(),
            clock: match history.clock {
                crate::history::Clock::Time => "time",
                crate::history::Clock::Position => "position",
            },
            span,
            total_ops: history.ops.len(),
            lanes,
            fs: fs.names,
            ops,
            faults,
            faults_omitted,
            density,
            reports,
            error: None,
        }
    }
}

/// Interns `:f` names for the page.
#[derive(Default)]
struct FTable {
    names: Vec<String>,
    ids: AHashMap<ValueId, u32>,
}

impl FTable {
    fn id(&mut self, history: &History, op: &Op) -> u32 {
        if let Some(&id) = self.ids.get(&op.f) {
            return id;
        }
        let id = self.names.len() as u32;
        self.names.push(history.f_name(op));
        self.ids.insert(op.f, id);
        id
    }
}

/// `text` cut to [`MAX_TEXT`] characters.
fn cut(text: &str) -> String {
    cut_to(text, MAX_TEXT)
}

/// `text` cut to `max` characters, with an ellipsis when cut.
fn cut_to(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

fn op_row(
    history: &History,
    txns: Option<&Txns>,
    i: usize,
    op: &Op,
    t0: i64,
    lane: u32,
    fs: &mut FTable,
) -> OpRow {
    let finished = op.complete_time != i64::MAX;
    // The transactional reader keeps micro-ops aside and leaves the values nil.
    let (input, output) = match txns.filter(|t| i < t.len()) {
        Some(t) => (String::new(), cut(&t.txn_text(i))),
        None => (cut(&history.value(op.input).to_string()), cut(&history.value(op.output).to_string())),
    };
    OpRow(
        lane,
        op.process,
        op.invoke_time.saturating_sub(t0),
        finished.then(|| op.complete_time.saturating_sub(t0)),
        op.outcome.name(),
        fs.id(history, op),
        input,
        output,
        op.invoke_index,
        (op.complete_index != u64::MAX).then_some(op.complete_index),
        op.invoke_line,
        op.complete_line,
    )
}

/// The history's start and length on its clock: from the first invocation (or fault) to the
/// last completion (or fault). Never zero, so the page can divide by it.
fn time_range(history: &History) -> (i64, i64) {
    let op_times = history.ops.iter().flat_map(|op| {
        let end = (op.complete_time != i64::MAX).then_some(op.complete_time);
        std::iter::once(op.invoke_time).chain(end)
    });
    let times = op_times.chain(history.faults.iter().map(|f| f.time));
    let (lo, hi) = times.fold((i64::MAX, i64::MIN), |(lo, hi), t| (lo.min(t), hi.max(t)));
    if lo > hi { (0, 1) } else { (lo, hi.saturating_sub(lo).max(1)) }
}

/// Which ops the page shows in full: all of a small history; in a large one, the ops each
/// anomaly cites and their neighbours in invocation order, about [`MAX_DETAILED`] in all.
fn detailed_ops(history: &History, reports: &[ReportData], positions: &AHashMap<u64, u32>) -> Vec<bool> {
    let n = history.ops.len();
    if n <= FULL {
        return vec![true; n];
    }
    let mut focus: Vec<usize> = Vec::new();
    let cited = reports.iter().flat_map(|r| &r.anomalies).flat_map(|a| {
        let linear = a.linearization.iter().flat_map(|c| {
            let steps = c.prefix_tail.iter().map(|s| &s.op);
            std::iter::once(&c.op).chain(steps).chain(c.tried.iter().map(|t| &t.op)).map(|o| o.index)
        });
        let cycle = a.cycle.iter().flat_map(|g| g.nodes.iter().map(|n| n.index));
        a.ops.iter().copied().chain(linear).chain(cycle)
    });
    for index in cited {
        if let Some(&p) = positions.get(&index) {
            focus.push(p as usize);
        }
    }
    if focus.is_empty() {
        // Nothing to point at (a valid history): show how it begins.
        focus.push(NEIGHBOURS);
    }
    focus.sort_unstable();
    focus.dedup();
    // Many cited ops (a long cycle) get fewer neighbours each, so the total stays bounded.
    focus.truncate(MAX_DETAILED / 2);
    let k = NEIGHBOURS.min(MAX_DETAILED / focus.len().max(1) / 2);
    let mut shown = vec![false; n];
    for p in focus {
        shown[p.saturating_sub(k)..(p + k + 1).min(n)].fill(true);
    }
    shown
}

/// Lanes, and which lane each process's ops go in: one lane per process when there are few;
/// otherwise processes that never overlap in time share lanes (first free lane, in order of
/// first invocation).
fn assign_lanes(history: &History) -> (Vec<Lane>, impl Fn(u32) -> u32 + use<>) {
    // Each process's first invocation and last completion (`i64::MAX` if an op never ended).
    let mut spans: AHashMap<u32, (i64, i64)> = AHashMap::new();
    for op in &history.ops {
        let s = spans.entry(op.process).or_insert((op.invoke_time, op.complete_time));
        s.0 = s.0.min(op.invoke_time);
        s.1 = s.1.max(op.complete_time);
    }
    let mut processes: Vec<(u32, i64, i64)> = spans.into_iter().map(|(p, (a, b))| (p, a, b)).collect();
    let mut members: Vec<Vec<u32>> = Vec::new();
    let mut lane_of: AHashMap<u32, u32> = AHashMap::new();
    if processes.len() <= LANE_PER_PROCESS {
        processes.sort_unstable();
        for (lane, (p, _, _)) in processes.iter().enumerate() {
            members.push(vec![*p]);
            lane_of.insert(*p, lane as u32);
        }
    } else {
        processes.sort_unstable_by_key(|&(p, start, _)| (start, p));
        let mut free_at: Vec<i64> = Vec::new();
        for (p, start, end) in processes {
            let lane = match free_at.iter().position(|&f| f < start) {
                Some(l) => l,
                None => {
                    free_at.push(i64::MIN);
                    members.push(Vec::new());
                    free_at.len() - 1
                }
            };
            free_at[lane] = end;
            members[lane].push(p);
            lane_of.insert(p, lane as u32);
        }
    }
    let lanes = members.iter().map(|ps| Lane { label: lane_label(ps) }).collect();
    (lanes, move |p| lane_of.get(&p).copied().unwrap_or(0))
}

fn lane_label(processes: &[u32]) -> String {
    match processes {
        [p] => format!("process {p}"),
        ps if ps.len() <= 3 => {
            format!("processes {}", ps.iter().map(u32::to_string).collect::<Vec<_>>().join(", "))
        }
        ps => format!("processes {}, {}, {} … ({})", ps[0], ps[1], ps[2], ps.len()),
    }
}

fn density(
    history: &History,
    detailed: &[bool],
    t0: i64,
    span: i64,
    lanes: usize,
    lane_of: &impl Fn(u32) -> u32,
) -> Density {
    let width = span as f64 / BUCKETS as f64;
    let mut counts = vec![vec![0u32; BUCKETS]; lanes.max(1)];
    for (op, _) in history.ops.iter().zip(detailed).filter(|(_, d)| !**d) {
        let bucket = ((op.invoke_time.saturating_sub(t0)) as f64 / width) as usize;
        let lane = (lane_of(op.process) as usize).min(counts.len() - 1);
        counts[lane][bucket.min(BUCKETS - 1)] += 1;
    }
    Density { width, counts }
}

fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Valid => "valid",
        Verdict::Invalid => "invalid",
        Verdict::Unknown => "unknown",
    }
}

fn report_data(r: &FileReport) -> ReportData {
    ReportData {
        model: r.model.clone(),
        consistency: r.consistency.to_string(),
        verdict: verdict_word(r.valid),
        anomalies: r.anomalies.iter().take(MAX_ANOMALIES).map(anomaly_data).collect(),
        anomalies_omitted: r.anomalies.len().saturating_sub(MAX_ANOMALIES),
        text: cut_to(&r.to_text(), MAX_LONG_TEXT),
    }
}

fn anomaly_data(a: &Anomaly) -> AnomalyData {
    // Only the anomaly's own evidence: its ops, its witness, its cycle, its faults.
    let mut ops = a.ops.clone();
    ops.extend(&a.evidence.witness);
    ops.sort_unstable();
    ops.dedup();
    let cycle = match (&a.txns, &a.cycle) {
        (Some(txns), Some(steps)) => Some(txn_graph(txns, steps)),
        _ => a.evidence.cycle.as_ref().map(|c| op_graph(c)),
    };
    AnomalyData {
        kind: a.kind.clone(),
        key: a.key.clone(),
        explanation: cut_to(&a.explanation, MAX_LONG_TEXT),
        ops,
        linearization: a.counterexample.clone(),
        // The explanation may already say which fault was active: not twice.
        faults: a.evidence.faults.iter().filter(|f| !a.explanation.contains(f.as_str())).cloned().collect(),
        cycle,
    }
}

/// A transactional witness cycle: T1..Tn, edges labelled with their kind, key and values.
fn txn_graph(txns: &[crate::txn::TxnRef], steps: &[crate::txn::CycleStep]) -> Graph {
    let shown = txns.len().min(MAX_CYCLE_NODES);
    let nodes = txns[..shown]
        .iter()
        .enumerate()
        .map(|(i, t)| Node {
            label: format!("T{}", i + 1),
            index: t.index,
            process: t.process,
            text: cut(&t.text),
        })
        .collect();
    let edges = steps
        .iter()
        .filter(|s| s.from >= 1 && s.to >= 1 && s.from <= shown && s.to <= shown)
        .map(|s| {
            // The page spells real-time edges as the object graphs do; the rest as Elle does.
            let kind = match s.kind {
                crate::model::EdgeKind::RealTime => "rt",
                other => other.elle(),
            };
            let label = match (&s.key, &s.process) {
                (Some(k), _) => {
                    let before = s.value.as_deref().unwrap_or("init");
                    let after = s.value_after.as_deref().unwrap_or("?");
                    format!("{kind} {k}: {before}→{after}")
                }
                (None, Some(p)) => format!("{kind} (process {p})"),
                (None, None) => kind.to_string(),
            };
            GraphEdge {
                from: s.from - 1,
                to: s.to - 1,
                title: format!("T{} → T{}: {label}", s.from, s.to),
                label,
            }
        })
        .collect();
    Graph { nodes, edges, omitted: txns.len() - shown }
}

/// A cycle of single-object ops: each must take effect before the next.
fn op_graph(cycle: &[crate::outcome::CycleStep]) -> Graph {
    let shown = cycle.len().min(MAX_CYCLE_NODES);
    let node = |i: usize, o: &OpRef| Node {
        label: format!("#{}", o.index),
        index: o.index,
        process: o.process,
        text: cut(&format!("{} (op {})", o.text, i + 1)),
    };
    let nodes = cycle[..shown].iter().enumerate().map(|(i, s)| node(i, &s.op)).collect();
    let edges = (0..shown)
        .filter(|&i| shown == cycle.len() || i + 1 < shown)
        .map(|i| GraphEdge {
            from: i,
            to: (i + 1) % shown,
            label: cycle[i].edge.short().to_string(),
            title: cycle[i].why.clone(),
        })
        .collect();
    Graph { nodes, edges, omitted: cycle.len() - shown }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_long_text_on_a_character_boundary() {
        let long = "é".repeat(MAX_TEXT + 5);
        let c = cut(&long);
        assert_eq!(c.chars().count(), MAX_TEXT + 1);
        assert!(c.ends_with('…'));
        assert_eq!(cut("short"), "short");
    }

    #[test]
    fn lane_labels_name_the_processes() {
        assert_eq!(lane_label(&[3]), "process 3");
        assert_eq!(lane_label(&[2, 7]), "processes 2, 7");
        assert_eq!(lane_label(&[2, 7, 12, 17]), "processes 2, 7, 12 … (4)");
    }

    fn read(text: &str) -> History {
        let options = crate::history::ReadOptions::default();
        crate::history::read_bytes("t.edn", text.as_bytes(), crate::history::Format::Edn, &options).unwrap()
    }

    /// `n` processes one after the other (each runs one write, then the next starts), as
    /// Jepsen's replacement processes on one worker thread.
    fn sequential_processes(n: u32) -> String {
        let mut text = String::new();
        for p in 0..n {
            let t = u64::from(p) * 10;
            text.push_str(&format!("{{:process {p}, :type :invoke, :f :write, :value {p}, :time {t}}}\n"));
            text.push_str(&format!("{{:process {p}, :type :ok, :f :write, :value {p}, :time {}}}\n", t + 5));
        }
        text
    }

    #[test]
    fn few_processes_get_a_lane_each_and_many_share_lanes_when_they_never_overlap() {
        let (lanes, lane_of) = assign_lanes(&read(&sequential_processes(3)));
        assert_eq!(lanes.len(), 3);
        assert_eq!((lane_of(0), lane_of(2)), (0, 2));
        let (lanes, lane_of) = assign_lanes(&read(&sequential_processes(40)));
        assert_eq!(lanes.len(), 1, "40 processes one after the other fit in one lane");
        assert_eq!(lane_of(39), 0);
        assert_eq!(lanes[0].label, "processes 0, 1, 2 … (40)");
    }

    #[test]
    fn a_large_history_shows_the_neighbourhood_of_cited_ops_and_summarizes_the_rest() {
        let h = read(&sequential_processes(FULL as u32 + 1000));
        let cited = h.ops[3000].invoke_index;
        let anomaly = AnomalyData {
            kind: "stale-read".into(),
            key: None,
            explanation: String::new(),
            ops: vec![cited],
            linearization: None,
            faults: Vec::new(),
            cycle: None,
        };
        let report = ReportData {
            model: "register".into(),
            consistency: "linearizable".into(),
            verdict: "invalid",
            anomalies: vec![anomaly],
            anomalies_omitted: 0,
            text: String::new(),
        };
        let positions = h.ops.iter().enumerate().map(|(i, op)| (op.invoke_index, i as u32)).collect();
        let shown = detailed_ops(&h, &[report], &positions);
        assert_eq!(shown.iter().filter(|s| **s).count(), 2 * NEIGHBOURS + 1);
        assert!(shown[3000] && shown[3000 - NEIGHBOURS] && shown[3000 + NEIGHBOURS]);
        assert!(!shown[0] && !shown[3000 + NEIGHBOURS + 1]);
        let (lanes, lane_of) = assign_lanes(&h);
        let d = density(&h, &shown, 0, time_range(&h).1, lanes.len(), &lane_of);
        let summarized: u32 = d.counts.iter().flatten().sum();
        assert_eq!(summarized as usize, h.ops.len() - (2 * NEIGHBOURS + 1), "every other op is counted once");
    }

    #[test]
    fn an_empty_history_has_a_nonzero_span() {
        let h = crate::history::read_bytes(
            "e.edn",
            b"",
            crate::history::Format::Edn,
            &crate::history::ReadOptions::default(),
        )
        .unwrap();
        assert_eq!(time_range(&h), (0, 1));
        let d = FileData::new(&h, None, &[]);
        assert!(d.ops.is_empty() && d.lanes.is_empty() && d.density.is_none());
    }
}
