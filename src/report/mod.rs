//! Reports: a check's outcome as text, JSON, JUnit and HTML.

pub mod ci;
pub mod html;
mod queue;
mod txn;
pub(crate) mod weak;
mod workload;

use crate::history::{History, Summary};
use crate::outcome::{
    ConflictWitness, Consistency, Counterexample, CycleStep, KeyResult, LinearReport, OpRef, Verdict,
};
use crate::vocab::{ConsistencyLevel, Levels, Procedure};
use serde::Serialize;
use std::fmt::Write as _;
use std::time::Duration;

/// The schema version of the JSON report.
pub const SCHEMA_VERSION: u32 = 1;

/// One anomaly found in a history.
#[derive(Clone, Debug, Serialize)]
pub struct Anomaly {
    /// What kind of anomaly (`not-linearizable`, ...).
    #[serde(rename = "type")]
    pub kind: String,
    /// The key it was found on, if the history is keyed.
    pub key: Option<String>,
    /// The `:index` of every op involved.
    pub ops: Vec<u64>,
    /// The input line of every op involved, in the same order.
    pub lines: Vec<u32>,
    /// What went wrong, in one sentence.
    pub explanation: String,
    /// The search's furthest point, for linearizability anomalies.
    pub counterexample: Option<Counterexample>,
    /// For transactional anomalies: the transactions involved (T1..Tn for a cycle).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub txns: Option<Vec<crate::txn::TxnRef>>,
    /// For transactional cycles: each edge as data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cycle: Option<Vec<crate::txn::CycleStep>>,
    /// For single-object anomalies: the rest of this anomaly's own evidence, for the HTML
    /// report (the JSON report has it in the key's result).
    #[serde(skip)]
    pub evidence: Evidence,
}

/// What an anomaly of a single object shows besides the ops it cites: only its own.
#[derive(Clone, Debug, Default)]
pub struct Evidence {
    /// The shrunk witness's ops (`:index`), when the search decided the key.
    pub witness: Vec<u64>,
    /// The dependency cycle, when one decided the key.
    pub cycle: Option<Vec<CycleStep>>,
    /// The faults active while the anomaly's ops ran.
    pub faults: Vec<String>,
}

/// Counters for a checked history.
#[derive(Clone, Debug, Serialize)]
pub struct Stats {
    /// Client ops in the history.
    pub ops: usize,
    /// Keys checked separately.
    pub keys: usize,
    /// Keys by verdict.
    pub valid_keys: usize,
    /// Keys found invalid.
    pub invalid_keys: usize,
    /// Keys left unknown.
    pub unknown_keys: usize,
    /// Model steps over all keys.
    pub steps: u64,
    /// Memoized configurations over all keys.
    pub memo_entries: usize,
    /// Keys decided by the zone test (the rest by the search).
    pub zone_keys: usize,
    /// Milliseconds spent checking (reading excluded).
    pub check_millis: f64,
}

impl Stats {
    /// The figures of a check that decides the history as one whole, not key by key
    /// (transactions, queues, logs): no per-key counts.
    pub(crate) fn whole(ops: usize, steps: u64, elapsed: Duration) -> Stats {
        Stats {
            ops,
            keys: 0,
            valid_keys: 0,
            invalid_keys: 0,
            unknown_keys: 0,
            steps,
            memo_entries: 0,
            zone_keys: 0,
            check_millis: elapsed.as_secs_f64() * 1e3,
        }
    }
}

/// The report for one history file: the JSON schema of docs/design.md section 5.
#[derive(Clone, Debug, Serialize)]
pub struct FileReport {
    /// [`SCHEMA_VERSION`].
    pub version: u32,
    /// The file, as the user named it.
    pub file: String,
    /// The model checked against.
    pub model: String,
    /// The consistency model checked (for transactions, every model required, comma-separated).
    pub consistency: Levels,
    /// `true`, `false` or `"unknown"`.
    pub valid: Verdict,
    /// What was found, one entry per anomaly.
    pub anomalies: Vec<Anomaly>,
    /// Per-key verdicts.
    pub keys: Vec<KeyResult>,
    /// Counters.
    pub stats: Stats,
    /// A summary of the history itself.
    pub summary: Summary,
    /// Warnings from reading the history ("line N: ..."), then from checking it (how many
    /// reads of `nil` were read as reads of an unknown value).
    pub warnings: Vec<String>,
    /// A remark on the verdict that helps read it; for an `unknown` verdict that no budget
    /// explains, why it is unknown ("the history holds no client operations").
    pub note: Option<String>,
    /// For transactional checks: what the anomalies rule out, budget notes, counters.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub txn: Option<txn::TxnDetails>,
    /// For queue and log checks: Jepsen's counters, anomaly counts, lag.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub queue: Option<queue::QueueDetails>,
}

impl FileReport {
    /// The report for a linearizability check of `history`.
    pub fn from_linear(history: &History, linear: LinearReport, elapsed: Duration) -> FileReport {
        let anomaly_kind = match linear.consistency {
            Consistency::Linearizable => "not-linearizable",
            Consistency::Sequential => "not-sequentially-consistent",
        };
        let anomalies =
            linear.keys.iter().chain(&linear.joint).flat_map(|k| key_anomalies(k, anomaly_kind)).collect();
        let count = |v: Verdict| linear.keys.iter().filter(|k| k.verdict == v).count();
        let joint = linear.joint.iter();
        let stats = Stats {
            ops: history.ops.len(),
            keys: linear.keys.len(),
            valid_keys: count(Verdict::Valid),
            invalid_keys: count(Verdict::Invalid),
            unknown_keys: count(Verdict::Unknown),
            steps: linear.keys.iter().chain(joint.clone()).map(|k| k.steps).sum(),
            memo_entries: linear.keys.iter().chain(joint).map(|k| k.memo_entries).sum(),
            zone_keys: linear.keys.iter().filter(|k| k.procedure == Procedure::Zones).count(),
            check_millis: elapsed.as_secs_f64() * 1e3,
        };
        FileReport {
            version: SCHEMA_VERSION,
            file: history.source.clone(),
            model: linear.model,
            consistency: linear.consistency.level().into(),
            valid: linear.verdict,
            anomalies,
            keys: linear.keys.into_iter().chain(linear.joint).collect(),
            stats,
            summary: Summary::of(history),
            warnings: history.warnings.iter().map(|w| format!("line {}: {}", w.line, w.message)).collect(),
            note: None,
            txn: None,
            queue: None,
        }
    }

    /// The report as text for people: a verdict line, then a paragraph per invalid or
    /// unknown key.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        if let Some(q) = &self.queue {
            queue::write_text(&mut out, self, q);
            return out;
        }
        let s = &self.stats;
        let keys = if s.keys > 1 {
            format!(
                ", {} keys: {} valid, {} invalid, {} unknown",
                s.keys, s.valid_keys, s.invalid_keys, s.unknown_keys
            )
        } else {
            String::new()
        };
        let zones = match s.zone_keys {
            0 => String::new(),
            n if n == s.keys => ", decided by the zone test".to_string(),
            n => format!(", {n} keys decided by the zone test"),
        };
        let _ = writeln!(
            out,
            "{}: {} ({} ops, {}, {}{keys}{zones})",
            self.file,
            self.valid.word(),
            s.ops,
            self.model,
            self.consistency
        );
        if let Some(note) = &self.note {
            let _ = writeln!(out, "  note: {note}");
        }
        if let Some(details) = &self.txn {
            txn::write_text(&mut out, &self.anomalies, details);
            return out;
        }
        let label = if self.consistency.is(ConsistencyLevel::Sequential) {
            "not sequentially consistent"
        } else {
            "not linearizable"
        };
        for k in &self.keys {
            let key = match k.key.as_deref() {
                None => String::new(),
                Some(crate::outcome::JOINT_KEY) => format!("{}: ", crate::outcome::JOINT_KEY),
                Some(k) => format!("key {k}: "),
            };
            if let Some(why) = &k.unknown_reason {
                let _ = writeln!(out, "  {key}unknown: {why}");
            }
            let shows_class = k.evidence_shows_class();
            if let Some(c) = &k.class {
                let _ = writeln!(out, "  {key}{}: {}", c.kind, c.explanation);
                for f in &c.faults {
                    let _ = writeln!(out, "    {f}");
                }
            }
            // The evidence's faults: under the class when it shows the class (the class's own
            // are those), first when there is no class, after it when it shows other ops.
            let faults_after = k.class.is_some() && !shows_class;
            if k.class.is_none() {
                for f in &k.faults {
                    let _ = writeln!(out, "    {f}");
                }
            }
            if let Some(w) = k.witness.as_ref().filter(|w| k.counterexample.is_some() && !w.is_empty()) {
                let _ = writeln!(out, "    the smallest still-invalid set of ops found has {}:", w.len());
                for op in w {
                    let _ = writeln!(
                        out,
                        "      index {:<6} process {:<4} line {:<6} {}",
                        op.index, op.process, op.line, op.text
                    );
                }
            }
            if let Some(c) = &k.counterexample {
                write_counterexample(&mut out, &key, label, c, k.procedure);
            }
            if let Some(cycle) = &k.cycle {
                write_cycle(&mut out, &key, label, cycle);
            }
            if let Some(c) = &k.conflict {
                write_conflict(&mut out, &key, label, c);
            }
            if faults_after {
                for f in &k.faults {
                    let _ = writeln!(out, "    {f}");
                }
            }
        }
        out
    }
}

/// The anomalies an invalid key shows, each with its own evidence: the named class with the
/// ops that show it, and the evidence that decided the key (counterexample, cycle or conflict)
/// — one anomaly when that evidence is about the class's own ops, two when it is not.
fn key_anomalies(k: &KeyResult, kind: &str) -> Vec<Anomaly> {
    let during = |faults: &[String]| {
        if faults.is_empty() { String::new() } else { format!(" ({})", faults.join("; ")) }
    };
    let anomaly = |kind: &str, cited: Vec<&OpRef>, explanation: String| Anomaly {
        kind: kind.to_string(),
        key: k.key.clone(),
        ops: cited.iter().map(|o| o.index).collect(),
        lines: cited.iter().map(|o| o.line).collect(),
        explanation,
        counterexample: None,
        txns: None,
        cycle: None,
        evidence: Evidence::default(),
    };
    let decided = evidence_anomaly(k).map(|(cited, text)| Anomaly {
        counterexample: k.counterexample.clone(),
        evidence: Evidence {
            witness: k
                .witness
                .iter()
                .flatten()
                .filter(|_| k.counterexample.is_some())
                .map(|o| o.index)
                .collect(),
            cycle: k.cycle.clone(),
            faults: k.faults.clone(),
        },
        ..anomaly(kind, cited, format!("{text}{}", during(&k.faults)))
    });
    let Some(c) = &k.class else { return decided.into_iter().collect() };
    let named =
        anomaly(c.kind.as_str(), c.ops.iter().collect(), format!("{}{}", c.explanation, during(&c.faults)));
    match decided {
        Some(d) if k.evidence_shows_class() => {
            vec![Anomaly {
                counterexample: d.counterexample,
                evidence: Evidence { faults: c.faults.clone(), ..d.evidence },
                ..named
            }]
        }
        Some(d) => vec![
            Anomaly { evidence: Evidence { faults: c.faults.clone(), ..Evidence::default() }, ..named },
            d,
        ],
        None => vec![named],
    }
}

/// The ops and words of the evidence that decided an invalid key, if any.
fn evidence_anomaly(k: &KeyResult) -> Option<(Vec<&OpRef>, String)> {
    if let Some(c) = &k.counterexample {
        let mut cited = vec![&c.op];
        cited.extend(c.prefix_tail.iter().rev().take(3).map(|s| &s.op));
        let text = format!(
            "{} (process {}, index {}) cannot take effect: {}",
            c.op.text, c.op.process, c.op.index, c.reason
        );
        return Some((cited, text));
    }
    if let Some(cycle) = &k.cycle {
        let whys: Vec<&str> = cycle.iter().map(|s| s.why.as_str()).collect();
        let text = format!(
            "{} ops must each take effect before the next, in a cycle: {}",
            cycle.len(),
            whys.join("; ")
        );
        return Some((cycle.iter().map(|s| &s.op).collect(), text));
    }
    let c = k.conflict.as_ref()?;
    Some((c.ops.iter().collect(), c.reason.clone()))
}

fn write_cycle(out: &mut String, key: &str, label: &str, cycle: &[CycleStep]) {
    let _ = writeln!(
        out,
        "  {key}{label}: {} ops must each take effect before the next, in a cycle",
        cycle.len()
    );
    for step in cycle {
        let _ = writeln!(
            out,
            "    index {:<6} process {:<4} {:<32} -{}-> {}",
            step.op.index,
            step.op.process,
            step.op.text,
            step.edge.short(),
            step.why
        );
    }
}

fn write_conflict(out: &mut String, key: &str, label: &str, c: &ConflictWitness) {
    let _ = writeln!(out, "  {key}{label}: {}", c.reason);
    for op in &c.ops {
        let _ = writeln!(out, "    index {:<6} process {:<4} {}", op.index, op.process, op.text);
    }
}

fn write_counterexample(out: &mut String, key: &str, label: &str, c: &Counterexample, by: Procedure) {
    let _ = writeln!(out, "  {key}{label}");
    let _ = writeln!(
        out,
        "    {} (process {}, index {}, line {}) cannot take effect: {}",
        c.op.text, c.op.process, c.op.index, c.op.line, c.reason
    );
    if c.prefix_len == 0 {
        let _ = writeln!(out, "    no op can be linearized first; the initial state is {}", c.state);
    } else {
        let shown = c.prefix_tail.len();
        // The zone test names a few ops; the search on those alone found the prefix.
        let among = match by {
            Procedure::Zones => " (searching only the ops the zone test named)",
            Procedure::CasChains => " (searching only the ops the cas chains named)",
            Procedure::Search => "",
        };
        let _ = writeln!(
            out,
            "    the longest valid prefix found{among} has {} ops; its last {shown}, leaving the state {}:",
            c.prefix_len, c.state
        );
        for step in &c.prefix_tail {
            let _ = writeln!(
                out,
                "      index {:<6} process {:<4} {:<24} -> {}",
                step.op.index, step.op.process, step.op.text, step.state_after
            );
        }
    }
    if !c.tried.is_empty() {
        let _ = writeln!(out, "    ops that could have gone next instead:");
        for t in &c.tried {
            let _ = writeln!(out, "      index {:<6} process {:<4} {}", t.op.index, t.op.process, t.reason);
        }
    }
}
