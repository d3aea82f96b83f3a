//! What a check finds, as data: verdicts and the per-key results with their evidence.
//!
//! A leaf below the checks and above the reports: the searches, the explanations and
//! certification produce and read these types, and the reports print them, so none of those
//! modules has to import another to share them.

use crate::history::History;
use crate::model::EdgeKind;
use crate::vocab::{ClassKind, ConsistencyLevel, Procedure};
use serde::Serialize;

/// The answer for a history, a key, or a whole run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Verdict {
    /// Consistent: a witness order exists.
    Valid,
    /// A budget ran out before a definite answer; never a pass.
    Unknown,
    /// Definitely inconsistent.
    Invalid,
}

impl Verdict {
    /// Invalid if any is, else unknown if any is, else valid (also for no parts at all).
    pub fn combine(verdicts: impl IntoIterator<Item = Verdict>) -> Verdict {
        verdicts.into_iter().max().unwrap_or(Verdict::Valid)
    }

    /// The word used in text output.
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Valid => "valid",
            Verdict::Unknown => "unknown",
            Verdict::Invalid => "INVALID",
        }
    }

    /// The process exit code for this verdict (docs/design.md section 5).
    pub fn exit_code(self) -> u8 {
        match self {
            Verdict::Valid => 0,
            Verdict::Invalid => 1,
            Verdict::Unknown => 2,
        }
    }
}

/// In JSON: `true`, `false` or `"unknown"`, as docs/design.md section 5 specifies.
impl Serialize for Verdict {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Verdict::Valid => s.serialize_bool(true),
            Verdict::Invalid => s.serialize_bool(false),
            Verdict::Unknown => s.serialize_str("unknown"),
        }
    }
}

/// An op the model could not decode: bad input for this model.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line} (op index {index}): {message}")]
pub struct DecodeFailure {
    /// The op's line in the input.
    pub line: u32,
    /// The op's `:index`.
    pub index: u64,
    /// What was wrong.
    pub message: String,
}

/// What the joint check's result is called in place of a key.
pub const JOINT_KEY: &str = "(all keys together)";

/// An op of the history as reports cite it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OpRef {
    /// Position in [`History::ops`].
    #[serde(skip)]
    pub position: u32,
    /// The invocation's `:index` in the user's history.
    pub index: u64,
    /// The invocation's line in the user's file.
    pub line: u32,
    /// The process that ran it.
    pub process: u32,
    /// The op as the model describes it ("write 3").
    pub text: String,
}

impl OpRef {
    /// Cites `history.ops[position]`, described as `text`.
    pub fn new(history: &History, position: u32, text: String) -> OpRef {
        let op = &history.ops[position as usize];
        OpRef { position, index: op.invoke_index, line: op.invoke_line, process: op.process, text }
    }
}

/// One step of a linearization, in words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LinearStep {
    /// The op.
    pub op: OpRef,
    /// The state after it.
    pub state_after: String,
}

/// An op that could have gone next but did not fit, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TriedOp {
    /// The op.
    pub op: OpRef,
    /// Why it could not go next.
    pub reason: String,
}

/// Why a key is not linearizable: where the search got furthest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Counterexample {
    /// The op that had to take effect next (it had completed) but could not.
    pub op: OpRef,
    /// Why, in the model's words ("read 3, but the register held 4").
    pub reason: String,
    /// The state the object was in at that point.
    pub state: String,
    /// How many ops the longest linearizable prefix has.
    pub prefix_len: usize,
    /// The last steps of that prefix (at most [`Counterexample::SHOWN_PREFIX`]).
    pub prefix_tail: Vec<LinearStep>,
    /// The other ops that could have gone next, and why each did not fit (Knossos's
    /// "final paths").
    pub tried: Vec<TriedOp>,
    /// The whole prefix, as positions in [`History::ops`], for certification to replay.
    #[serde(skip)]
    pub prefix: Vec<u32>,
}

impl Counterexample {
    /// How many of the prefix's last steps a counterexample keeps.
    pub const SHOWN_PREFIX: usize = 12;
}

/// A named violation: its kind, the ops that show it, and a sentence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ClassInfo {
    /// `stale-read`, `lost-write`, `garbage-read`, `read-of-failed-write`, `future-read`,
    /// `own-write-not-read`, `non-monotonic-read`, `duplicate-effect`; for sequential
    /// consistency `own-write-not-read`, `out-of-order-read`, `disagreeing-order`,
    /// `duplicate-effect`.
    pub kind: ClassKind,
    /// The ops that show it.
    pub ops: Vec<OpRef>,
    /// What happened, in one sentence.
    pub explanation: String,
    /// The faults that were active while its ops ran.
    pub faults: Vec<String>,
}

/// One op of a dependency cycle, and why it must take effect before the next one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CycleStep {
    /// The op.
    pub op: OpRef,
    /// The kind of edge to the next op (`wr`, `ww`, `rw`, `rt`).
    pub edge: EdgeKind,
    /// Why, in words.
    pub why: String,
}

/// Ops that cannot all have happened as they were observed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConflictWitness {
    /// The ops.
    pub ops: Vec<OpRef>,
    /// Why, in words.
    pub reason: String,
    /// The class of violation, when the model named one.
    #[serde(skip)]
    pub kind: Option<ClassKind>,
}

/// The verdict for one key.
#[derive(Clone, Debug, Serialize)]
pub struct KeyResult {
    /// The key (`None` for an unkeyed history).
    pub key: Option<String>,
    /// Valid, invalid or unknown (`valid` in JSON, as for a whole file).
    #[serde(rename = "valid")]
    pub verdict: Verdict,
    /// Which procedure decided the key: `zones` (the zone test; an invalid key's evidence then
    /// comes from the search on the few ops the test named) or `search`.
    pub procedure: Procedure,
    /// Ops of this key in the history.
    pub ops: usize,
    /// Ops searched over (completed ops plus crashed ops that may have taken effect).
    pub searched_ops: usize,
    /// Crashed ops that may have taken effect.
    pub crashed: usize,
    /// Why the verdict is unknown, with how far the search got.
    pub unknown_reason: Option<String>,
    /// Why the key is invalid, when the search found it: where it got furthest.
    pub counterexample: Option<Counterexample>,
    /// Why the key is invalid, when the dependency graph has a cycle: ops that must each take
    /// effect before the next, around a loop.
    pub cycle: Option<Vec<CycleStep>>,
    /// Why the key is invalid, when the values seen contradict each other outright.
    pub conflict: Option<ConflictWitness>,
    /// What kind of violation it is, when one of the known patterns shows it.
    pub class: Option<ClassInfo>,
    /// A small set of this key's ops that is still invalid on its own (delta debugging).
    pub witness: Option<Vec<OpRef>>,
    /// The faults that were active while the evidence's ops ran (the witness, or the cycle or
    /// conflict).
    pub faults: Vec<String>,
    /// Search counters.
    pub steps: u64,
    /// Configurations memoized.
    pub memo_entries: usize,
    /// The most ops linearized at once.
    pub max_depth: usize,
    /// Time spent on this key.
    pub millis: f64,
    /// For a valid key: the order found, as positions in [`History::ops`] (crashed ops that
    /// never took effect left out). Certification replays it; `--linearization` reports it.
    #[serde(skip)]
    pub order: Option<Vec<u32>>,
    /// For a valid key, when asked for (`--linearization`): the order found, as the ops'
    /// `:index`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub linearization: Option<Vec<u64>>,
}

impl KeyResult {
    /// Whether the evidence that decided this invalid key (a cycle, a conflict, or the op the
    /// search could not place) is about the named violation: all its ops are the class's own.
    /// When it is not, the two are separate anomalies, each shown with its own ops.
    pub fn evidence_shows_class(&self) -> bool {
        let Some(class) = &self.class else { return false };
        let mine = |op: &OpRef| class.ops.iter().any(|c| c.position == op.position);
        match (&self.cycle, &self.conflict, &self.counterexample) {
            (Some(cycle), ..) => cycle.iter().all(|s| mine(&s.op)),
            (_, Some(conflict), _) => conflict.ops.iter().all(mine),
            (.., Some(c)) => mine(&c.op),
            _ => false,
        }
    }
}

/// The consistency models checked for single objects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Consistency {
    /// Every op takes effect at one instant between its invocation and completion.
    Linearizable,
    /// Every op takes effect in one order that respects each process's own order.
    Sequential,
}

impl Consistency {
    /// The name `--consistency` takes.
    pub fn name(self) -> &'static str {
        self.level().as_str()
    }

    /// The level `--consistency` names it by.
    pub fn level(self) -> ConsistencyLevel {
        match self {
            Consistency::Linearizable => ConsistencyLevel::Linearizable,
            Consistency::Sequential => ConsistencyLevel::Sequential,
        }
    }

    /// The object consistency a level is, when it is one.
    pub fn of_level(level: ConsistencyLevel) -> Option<Consistency> {
        match level {
            ConsistencyLevel::Linearizable => Some(Consistency::Linearizable),
            ConsistencyLevel::Sequential => Some(Consistency::Sequential),
            _ => None,
        }
    }
}

/// The result of checking one history against one consistency model.
#[derive(Clone, Debug, Serialize)]
pub struct LinearReport {
    /// The model's name.
    pub model: String,
    /// What was checked.
    pub consistency: Consistency,
    /// The overall verdict: invalid if any key (or the joint check) is, else unknown if any
    /// is, else valid.
    pub verdict: Verdict,
    /// One result per key, in order of first appearance.
    pub keys: Vec<KeyResult>,
    /// Sequential consistency is not local: the check of all keys together, when every key
    /// was consistent on its own but not linearizable.
    pub joint: Option<KeyResult>,
}
