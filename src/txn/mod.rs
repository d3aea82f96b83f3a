//! Transactional isolation checking, after Elle (Kingsbury & Alvaro, VLDB 2020): infer version
//! orders from what transactions read, build the dependency graph (ww, wr, rw, plus process or
//! real-time order when the consistency model asks for it), find its strongly connected
//! components, and in each the shortest witness cycle of every anomaly type the model forbids.
//!
//! Two workloads: Elle's list-append (`[:append k v]`, `[:r k [v ...]]`), whose reads reveal
//! each key's whole version order, and rw-register (`[:w k v]`, `[:r k v]`), whose version
//! orders are only what the history forces and so find fewer anomalies.
//!
//! ```
//! use labrys::history::{read_bytes, Format, ReadOptions};
//! use labrys::txn::{check, TxnOptions};
//! // Read skew: T2 sees T1's append to :x but not its append to :y.
//! let text = "{:process 0 :type :invoke :f :txn :value [[:append :x 1] [:append :y 1]]}\n\
//!             {:process 1 :type :invoke :f :txn :value [[:r :x nil] [:r :y nil]]}\n\
//!             {:process 0 :type :ok :f :txn :value [[:append :x 1] [:append :y 1]]}\n\
//!             {:process 1 :type :ok :f :txn :value [[:r :x [1]] [:r :y []]]}\n";
//! let h = read_bytes("h.edn", text.as_bytes(), Format::Edn, &ReadOptions::default()).unwrap();
//! let report = check(&h, &TxnOptions::default()).unwrap();
//! assert_eq!(report.valid, labrys::outcome::Verdict::Invalid);
//! assert_eq!(report.anomalies[0].kind.as_str(), "G-single");
//! ```

mod anomaly;
pub(crate) mod consistency;
mod cycles;
mod explain;
mod findings;
mod graph;
mod infer;
pub(crate) mod ops;
pub mod read;
mod register;

pub use consistency::ConsistencyModel;
pub use ops::{Elem, Mop, MopKind, NIL, Txns, decode, guess_workload};

use crate::history::History;
use crate::model::EdgeKind;
use crate::outcome::DecodeFailure;
use crate::outcome::Verdict;
use crate::vocab::ModelName;
use serde::Serialize;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Which of Elle's transactional workloads a history follows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Workload {
    /// Appends to lists; every read returns a key's whole list.
    #[default]
    ListAppend,
    /// Writes of unique values to registers; reads return one value.
    RwRegister,
}

impl Workload {
    /// The name the command line uses (`list-append`).
    pub fn name(self) -> &'static str {
        self.model().as_str()
    }

    /// The workload a name stands for.
    pub fn from_name(name: &str) -> Option<Workload> {
        name.parse().ok().and_then(Workload::of_model)
    }

    /// The model name `--model` gives the workload by.
    pub fn model(self) -> ModelName {
        match self {
            Workload::ListAppend => ModelName::ListAppend,
            Workload::RwRegister => ModelName::RwRegister,
        }
    }

    /// The workload a model is, when it is one of Elle's.
    pub fn of_model(model: ModelName) -> Option<Workload> {
        match model {
            ModelName::ListAppend => Some(Workload::ListAppend),
            ModelName::RwRegister => Some(Workload::RwRegister),
            _ => None,
        }
    }

    fn example(self) -> &'static str {
        match self {
            Workload::ListAppend => "[[:append :x 1] [:r :y [1 2]]]",
            Workload::RwRegister => "[[:w :x 1] [:r :y 2]]",
        }
    }

    fn mop_names(self) -> &'static str {
        match self {
            Workload::ListAppend => ":append and :r",
            Workload::RwRegister => ":w and :r",
        }
    }
}

/// How to check.
#[derive(Clone, Debug)]
pub struct TxnOptions {
    /// The workload; guessed from the micro-ops when `None`.
    pub workload: Option<Workload>,
    /// The consistency models that must all hold (default: strict serializable).
    pub consistency: Vec<ConsistencyModel>,
    /// Wall-clock budget for the whole check; cycle searches still running then stop and say so.
    pub timeout: Option<Duration>,
    /// Memory budget in bytes: a check whose graph would not fit stops early with `unknown`.
    pub max_memory: Option<usize>,
    /// Real-time order tolerance: A precedes B only if A completed more than this before B was
    /// invoked (in the history's time unit).
    pub clock_skew: i64,
    /// Cycle-search steps allowed per strongly connected component (one step: one node taken
    /// from a search queue).
    pub max_steps: u64,
    /// Time allowed to search each strongly connected component for shortest cycles (Elle
    /// allows a second); `None` for no limit but `max_steps` and `timeout`. A search cut short
    /// still reports what it found, and says so.
    pub search_time: Option<Duration>,
    /// Where to write each witness cycle as a Graphviz DOT file, if anywhere.
    pub dot_dir: Option<PathBuf>,
}

impl Default for TxnOptions {
    fn default() -> Self {
        TxnOptions {
            workload: None,
            consistency: vec![ConsistencyModel::StrictSerializable],
            timeout: None,
            max_memory: None,
            clock_skew: 0,
            max_steps: 100_000_000,
            search_time: Some(Duration::from_secs(1)),
            dot_dir: None,
        }
    }
}

/// Why a history could not be checked as transactions.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TxnError {
    /// An op is not a transaction of the workload's micro-ops.
    #[error(transparent)]
    Decode(DecodeFailure),
    /// The workload could not be guessed from the micro-ops.
    #[error("{0}")]
    UnknownWorkload(String),
}

fn serialize_elle<S: serde::Serializer>(kind: &EdgeKind, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(kind.elle())
}

/// One step of a witness cycle, as data: why transaction `from` must precede `to`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CycleStep {
    /// Position of the earlier transaction in the cycle (T1 is 1).
    pub from: usize,
    /// Position of the later one.
    pub to: usize,
    /// The dependency, written as Elle writes it: `ww`, `wr`, `rw`, `realtime` or `process`.
    #[serde(rename = "type", serialize_with = "serialize_elle")]
    pub kind: EdgeKind,
    /// The key whose versions force the edge (data edges).
    pub key: Option<String>,
    /// The value `from` wrote or read last (data edges; absent for the initial state).
    pub value: Option<String>,
    /// The value `to` wrote or read last (data edges).
    pub value_after: Option<String>,
    /// The process both ran on (process edges).
    pub process: Option<u32>,
}

/// A transaction cited by an anomaly.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TxnRef {
    /// Its position in [`History::ops`] (not in the JSON report: `index` names it there).
    #[serde(skip)]
    pub position: u32,
    /// Its invocation's `:index`.
    pub index: u64,
    /// The input line of the event its micro-ops come from (the completion for an `:ok`
    /// transaction).
    pub line: u32,
    /// Its process.
    pub process: u32,
    /// `ok`, `info` or `fail`.
    pub outcome: &'static str,
    /// Its micro-ops, as EDN.
    pub text: String,
}

impl TxnRef {
    /// Cites `history.ops[op]`, whose micro-ops are `txns`'.
    pub fn of(history: &History, txns: &Txns, op: u32) -> TxnRef {
        use crate::history::Outcome;
        let o = &history.ops[op as usize];
        TxnRef {
            position: op,
            index: o.invoke_index,
            line: if o.outcome == Outcome::Ok { o.complete_line } else { o.invoke_line },
            process: o.process,
            outcome: if o.outcome == Outcome::Open { "info" } else { o.outcome.name() },
            text: txns.txn_text(op as usize),
        }
    }
}

/// One anomaly found.
#[derive(Clone, Debug, Serialize)]
pub struct TxnAnomaly {
    /// Elle's name: `G0`, `G1a`, `G-single-realtime`, `lost-update`, ...
    #[serde(rename = "type")]
    pub kind: crate::vocab::TxnAnomalyKind,
    /// The transactions involved: for a cycle T1..Tn in order.
    pub txns: Vec<TxnRef>,
    /// The key involved, for anomalies on one key.
    pub key: Option<String>,
    /// The explanation, one line per sentence (for a cycle: naming T1..Tn, then one line per
    /// edge, ending with the contradiction).
    pub explanation: Vec<String>,
    /// For a cycle: its edges as data.
    pub cycle: Option<Vec<CycleStep>>,
    /// For a cycle: the cycle as Graphviz DOT text.
    #[serde(skip)]
    pub dot: Option<String>,
}

/// Counters for a transactional check.
#[derive(Clone, Debug, Default, Serialize)]
pub struct TxnStats {
    /// Transactions: all, then by outcome.
    pub txns: usize,
    /// Completed `:ok`.
    pub ok: usize,
    /// Indeterminate (`:info` or never completed).
    pub info: usize,
    /// Failed.
    pub fail: usize,
    /// Distinct keys.
    pub keys: usize,
    /// Dependency edges (data, process and real-time, the last through time points).
    pub edges: usize,
    /// Strongly connected components with a cycle.
    pub cyclic_components: usize,
    /// Transactions in the largest of them.
    pub largest_component: usize,
    /// Cycle-search steps taken.
    pub search_steps: u64,
    /// Milliseconds spent checking (reading excluded).
    pub check_millis: f64,
}

/// The result of a transactional check.
#[derive(Clone, Debug, Serialize)]
pub struct TxnReport {
    /// The workload checked.
    pub workload: Workload,
    /// The consistency models that were required to hold.
    pub consistency: Vec<crate::vocab::ConsistencyLevel>,
    /// `true`, `false` or `"unknown"`.
    pub valid: Verdict,
    /// Anomalies the required models forbid, worst first.
    pub anomalies: Vec<TxnAnomaly>,
    /// The anomalies counted but not shown (up to 4,096 of each type), kept so that
    /// certification can re-derive `anomaly_counts`; not part of the report's JSON.
    #[serde(skip)]
    pub counted: Vec<TxnAnomaly>,
    /// How many instances of each forbidden anomaly type were found (`anomalies` lists a few
    /// of each).
    pub anomaly_counts: std::collections::BTreeMap<String, usize>,
    /// The weakest consistency models the anomalies found rule out (Elle's `:not`).
    pub not: Vec<String>,
    /// Every stronger model they also rule out (Elle's `:also-not`).
    pub also_not: Vec<String>,
    /// Why the verdict is unknown, when it is.
    pub unknown: Vec<String>,
    /// Per-component notes from cycle searches that ran out of budget.
    pub budget: Vec<String>,
    /// Other remarks (DOT files written, or why they could not be).
    pub notes: Vec<String>,
    /// Counters.
    pub stats: TxnStats,
}

/// Checks a history of transactions: decodes the micro-ops, then [`check_decoded`].
pub fn check(history: &History, options: &TxnOptions) -> Result<TxnReport, TxnError> {
    let workload = match options.workload {
        Some(w) => w,
        None => guess_workload(history).ok_or_else(|| {
            TxnError::UnknownWorkload(
                "the ops are not transactions of [:append k v] / [:r k v] / [:w k v] micro-ops".to_string(),
            )
        })?,
    };
    let txns = decode(history, workload)?;
    Ok(check_decoded(history, &txns, options))
}

/// Checks a history whose micro-ops are already decoded (`txns` is indexed like
/// `history.ops`).
pub fn check_decoded(history: &History, txns: &Txns, options: &TxnOptions) -> TxnReport {
    let started = Instant::now();
    let deadline = options.timeout.map(|t| started + t);
    let mut report = anomaly::analyze(history, txns, options, deadline);
    report.stats.check_millis = started.elapsed().as_secs_f64() * 1e3;
    report
}

/// Writes each cycle anomaly's DOT text to `dir` as `<stem>-<type>-<n>.dot`, where `<stem>` is
/// the history file's name without its extension (so that several histories checked into one
/// directory do not overwrite each other), noting in the report what was written or why it
/// could not be.
pub(crate) fn write_dot(report: &mut TxnReport, source: &str, dir: &std::path::Path) {
    if let Err(e) = std::fs::create_dir_all(dir) {
        report.notes.push(format!("could not create {}: {e}", dir.display()));
        return;
    }
    let mut written = 0;
    let mut seen: std::collections::BTreeMap<crate::vocab::TxnAnomalyKind, usize> =
        std::collections::BTreeMap::new();
    for a in &report.anomalies {
        let Some(dot) = &a.dot else { continue };
        let n = seen.entry(a.kind).or_insert(0);
        *n += 1;
        let path = dir.join(format!("{}-{}-{}.dot", dot_stem(source), a.kind, n));
        match std::fs::write(&path, dot) {
            Ok(()) => written += 1,
            Err(e) => report.notes.push(format!("could not write {}: {e}", path.display())),
        }
    }
    report.notes.push(format!("wrote {written} cycle(s) as Graphviz DOT to {}", dir.display()));
}

/// A history's file name without directories or extensions (`-` for standard input).
fn dot_stem(source: &str) -> String {
    let name = std::path::Path::new(source).file_name().map_or("-".into(), |n| n.to_string_lossy());
    let stem = name.split('.').next().unwrap_or_default();
    if stem.is_empty() { "history".to_string() } else { stem.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{Format, ReadOptions, read_bytes};
    use crate::sim::list_append::{TxnFormat, TxnGenConfig, history_string};

    fn run(text: &str, consistency: ConsistencyModel) -> TxnReport {
        let h = read_bytes("t.edn", text.as_bytes(), Format::Edn, &ReadOptions::default()).unwrap();
        check(&h, &TxnOptions { consistency: vec![consistency], ..TxnOptions::default() }).unwrap()
    }

    #[test]
    fn generated_histories_are_strict_serializable() {
        for seed in 0..30 {
            let c = TxnGenConfig {
                txns: 400,
                processes: 8,
                active_keys: 6,
                max_writes_per_key: 10,
                crash_rate: 0.05,
                fail_rate: 0.05,
                seed,
                ..TxnGenConfig::default()
            };
            let text = history_string(&c, TxnFormat::Edn);
            let r = run(&text, ConsistencyModel::StrictSerializable);
            assert_eq!(
                r.valid,
                Verdict::Valid,
                "seed {seed}: {:#?}",
                r.anomalies.first().map(|a| &a.explanation)
            );
        }
    }

    /// T_i appends to key i and reads key i + 1 empty, all concurrently: one ring of `n`
    /// anti-dependencies (G2-item), with no shorter cycle.
    fn ring(n: usize) -> String {
        let mut out = String::new();
        for (i, kind) in (0..n).map(|i| (i, "invoke")).chain((0..n).map(|i| (i, "ok"))) {
            let read = if kind == "ok" { "[]" } else { "nil" };
            out += &format!(
                "{{:type :{kind}, :process {i}, :f :txn, :value [[:append {i} 1] [:r {} {read}]]}}\n",
                (i + 1) % n
            );
        }
        out
    }

    #[test]
    fn budgets_are_reported_per_component_and_what_was_found_is_kept() {
        let h = read_bytes("ring.edn", ring(50).as_bytes(), Format::Edn, &ReadOptions::default()).unwrap();
        let options = |c, max_steps| TxnOptions { consistency: vec![c], max_steps, ..TxnOptions::default() };
        // Every cycle is forbidden: the witness is definite even when the search is cut short.
        let r = check(&h, &options(ConsistencyModel::Serializable, 5)).unwrap();
        assert_eq!(r.valid, Verdict::Invalid);
        assert_eq!((r.anomalies[0].kind.as_str(), r.anomalies[0].txns.len()), ("G2-item", 50));
        assert!(r.budget.iter().any(|b| b.contains("ran out of budget")), "{:?}", r.budget);
        // Snapshot isolation allows write skew, and the search for what it forbids ran out.
        let r = check(&h, &options(ConsistencyModel::SnapshotIsolation, 5)).unwrap();
        assert_eq!(r.valid, Verdict::Unknown, "{:?}", r.anomalies);
        assert!(!r.budget.is_empty() && !r.unknown.is_empty());
        // With the default budget it knows.
        assert_eq!(
            check(&h, &options(ConsistencyModel::SnapshotIsolation, 20_000_000)).unwrap().valid,
            Verdict::Valid
        );
    }

    #[test]
    fn stale_reads_are_caught() {
        let c = TxnGenConfig {
            txns: 400,
            processes: 8,
            active_keys: 6,
            max_writes_per_key: 10,
            stale_reads: 0.3,
            stale_window: 20,
            seed: 1,
            ..TxnGenConfig::default()
        };
        let text = history_string(&c, TxnFormat::Edn);
        let r = run(&text, ConsistencyModel::StrictSerializable);
        assert_eq!(r.valid, Verdict::Invalid);
        assert!(r.anomalies.iter().any(|a| a.kind.as_str().ends_with("-realtime")), "{:?}", r.anomaly_counts);
    }

    /// T1 appended 1 and 2 to :x; T2 read [1]. The anti-dependency T2 -rw-> T1 is on 2, the
    /// append no read saw — not on 1, which T2 itself read.
    #[test]
    fn an_unseen_append_named_after_a_seen_one_of_the_same_transaction() {
        let text = "{:process 0 :type :invoke :f :txn :value [[:append :x 1] [:append :x 2]]}\n\
                    {:process 1 :type :invoke :f :txn :value [[:r :x nil]]}\n\
                    {:process 0 :type :ok :f :txn :value [[:append :x 1] [:append :x 2]]}\n\
                    {:process 1 :type :ok :f :txn :value [[:r :x [1]]]}\n";
        let r = run(text, ConsistencyModel::Serializable);
        let a = r
            .anomalies
            .iter()
            .find(|a| a.kind == crate::vocab::TxnAnomalyKind::GSingle)
            .expect("a G-single cycle");
        let rw = a.cycle.as_ref().unwrap().iter().find(|s| s.kind == EdgeKind::AntiDependency).unwrap();
        assert_eq!((rw.value.as_deref(), rw.value_after.as_deref()), (Some("1"), Some("2")));
        assert!(
            a.explanation.iter().any(|l| l.contains("did not see T1's append of 2")),
            "{:#?}",
            a.explanation
        );
    }
}
