//! From a history to what the checks need: ops split by key (P-compositionality), decoded by
//! the model, failed ops and crashed reads dropped, each with its real-time interval; and the
//! orders the ops of a key must respect besides what their values imply.
//!
//! Below both the searches and the explanations, which read the same parts.

use crate::history::{History, Op, Outcome, Value, ValueId};
use crate::model::{Edge, EdgeKind, Model, OpView};
use crate::outcome::DecodeFailure;
use ahash::AHashMap;

/// How a history's ops are split into independently checked parts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keying {
    /// One part: the whole history is one object.
    Single,
    /// By the ops' `:key` field.
    KeyField,
    /// By the `k` of `[k v]` tuple values (Jepsen's `independent`).
    Tuple,
}

impl Keying {
    /// The keying docs/design.md section 2 implies, unless `independent` overrides the guess:
    /// `:key` fields when ops have them, else tuples when every op's value is `[k v]`.
    pub fn detect(history: &History, independent: Option<bool>) -> Keying {
        let has_key_field = history.ops.iter().any(|op| op.key != ValueId::NONE);
        match independent {
            Some(false) => Keying::Single,
            _ if has_key_field => Keying::KeyField,
            Some(true) => Keying::Tuple,
            None if history.tuple_keyed() => Keying::Tuple,
            None => Keying::Single,
        }
    }
}

/// One op ready for the search.
#[derive(Clone, Debug)]
pub struct Entry<O> {
    /// The model's decoded op.
    pub op: O,
    /// Invocation time (or position).
    pub invoke: i64,
    /// Completion time; `i64::MAX` for an op whose outcome is unknown.
    pub complete: i64,
    /// Index of the op in [`History::ops`].
    pub op_index: u32,
    /// The process that ran it (sequential consistency orders ops by process).
    pub process: u32,
}

impl<O> Entry<O> {
    /// True for an op that may or may not have taken effect.
    pub fn is_crashed(&self) -> bool {
        self.complete == i64::MAX
    }
}

/// The ops of one key, ready for the search.
#[derive(Clone, Debug)]
pub struct Part<O> {
    /// The key (`None` for an unkeyed history).
    pub key: Option<Value>,
    /// Entries: ops that completed `:ok` first, sorted by invocation, then crashed ops that may
    /// have taken effect, sorted by invocation. Keeping crashed ops last lets the search
    /// describe "every op below k is linearized" with one number.
    pub entries: Vec<Entry<O>>,
    /// How many entries completed (`entries[..determinate]`).
    pub determinate: usize,
    /// All ops of this key in the history, including dropped ones.
    pub total_ops: usize,
    /// `:fail` ops dropped (they certainly did not happen).
    pub failed: usize,
    /// Crashed ops dropped because they cannot change the state (reads).
    pub crashed_reads: usize,
    /// The `:fail` ops, decoded (interval as invoked and failed), for explanations only: they
    /// certainly did not happen, but a read of what only they wrote says something.
    pub failed_ops: Vec<Entry<O>>,
}

/// The key and per-key views of one op's input and output.
fn split_op<'h>(
    history: &'h History,
    op: &Op,
    keying: Keying,
) -> Result<(Option<&'h Value>, &'h Value, Option<&'h Value>), String> {
    let input = history.value(op.input);
    let output = (op.outcome == Outcome::Ok).then(|| history.value(op.output));
    match keying {
        Keying::Single => Ok((None, input, output)),
        Keying::KeyField if op.key == ValueId::NONE => {
            Err("this op has no :key, while others in the history do".to_string())
        }
        Keying::KeyField => Ok((Some(history.value(op.key)), input, output)),
        Keying::Tuple => {
            let (k, v) =
                input.as_tuple().ok_or_else(|| format!("expected a [key value] tuple, got {input}"))?;
            let out = match output {
                None => None,
                Some(o) => match o.as_tuple() {
                    Some((_, v)) => Some(v),
                    None => {
                        return Err(format!("the completion of a keyed op should be [key value], got {o}"));
                    }
                },
            };
            Ok((Some(k), v, out))
        }
    }
}

/// Every op of `history` as [`prepare`] shows it to the model: its per-key view under
/// `keying`, with an output only if it completed `:ok`. Ops that do not fit the keying, or
/// whose `:f` is not a name, are left out: decoding reports them. For what a model must know
/// of the whole history before it decodes any op (how reads of `nil` are read).
pub(crate) fn op_views(history: &History, keying: Keying) -> impl Iterator<Item = OpView<'_>> {
    history.ops.iter().filter_map(move |op| {
        let (key, input, output) = split_op(history, op, keying).ok()?;
        let f = history.value(op.f).as_name()?;
        Some(OpView { f, input, output, key })
    })
}

/// Splits `history` into parts by `keying`, decodes every op with `model`, and drops what
/// cannot matter: `:fail` ops, and crashed ops the model says are read-only. Parts come in order
/// of their keys' first appearance.
pub fn prepare<M: Model>(
    model: &M,
    history: &History,
    keying: Keying,
) -> Result<Vec<Part<M::Op>>, DecodeFailure> {
    let mut parts: Vec<Part<M::Op>> = Vec::new();
    let mut by_key: AHashMap<Option<&Value>, usize> = AHashMap::new();
    let mut crashed: Vec<Vec<Entry<M::Op>>> = Vec::new();
    for (i, op) in history.ops.iter().enumerate() {
        let fail = |message: String| DecodeFailure { line: op.invoke_line, index: op.invoke_index, message };
        let (key, input, output) = split_op(history, op, keying).map_err(fail)?;
        let f = history.value(op.f);
        let f = f.as_name().ok_or_else(|| fail(format!(":f should be a keyword, got {f}")))?;
        let part = *by_key.entry(key).or_insert_with(|| {
            parts.push(Part {
                key: key.cloned(),
                entries: Vec::new(),
                determinate: 0,
                total_ops: 0,
                failed: 0,
                crashed_reads: 0,
                failed_ops: Vec::new(),
            });
            crashed.push(Vec::new());
            parts.len() - 1
        });
        let p = &mut parts[part];
        p.total_ops += 1;
        let view = OpView { f, input, output, key };
        if op.outcome == Outcome::Fail {
            p.failed += 1;
            if let Ok(decoded) = model.decode(&view) {
                let complete = op.complete_time;
                p.failed_ops.push(Entry {
                    op: decoded,
                    invoke: op.invoke_time,
                    complete,
                    op_index: i as u32,
                    process: op.process,
                });
            }
            continue;
        }
        let decoded = model.decode(&view).map_err(|e| fail(e.message))?;
        let is_crashed = op.outcome.is_indeterminate();
        if is_crashed && model.is_read_only(&decoded) {
            p.crashed_reads += 1;
            continue;
        }
        let entry = Entry {
            op: decoded,
            invoke: op.invoke_time,
            complete: if is_crashed { i64::MAX } else { op.complete_time },
            op_index: i as u32,
            process: op.process,
        };
        if is_crashed { crashed[part].push(entry) } else { p.entries.push(entry) }
    }
    for (p, crashed) in parts.iter_mut().zip(crashed) {
        // Ops are in invocation order already; a stable sort keeps it so if times tie.
        p.entries.sort_by_key(|e| e.invoke);
        p.determinate = p.entries.len();
        let mut crashed = crashed;
        crashed.sort_by_key(|e| e.invoke);
        p.entries.extend(crashed);
    }
    Ok(parts)
}

/// The part restricted to the entries `keep` (completed ones stay first, as searches expect).
pub(crate) fn sub_part<O: Clone>(part: &Part<O>, keep: &[u32]) -> Part<O> {
    let mut keep = keep.to_vec();
    keep.sort_unstable();
    let entries: Vec<_> = keep.iter().map(|&i| part.entries[i as usize].clone()).collect();
    let determinate = keep.iter().filter(|&&i| (i as usize) < part.determinate).count();
    Part {
        key: part.key.clone(),
        entries,
        determinate,
        total_ops: keep.len(),
        failed: 0,
        crashed_reads: 0,
        failed_ops: part.failed_ops.clone(),
    }
}

/// The order ops must respect besides what their values imply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Order {
    /// Linearizability: A precedes B when A completed more than `skew` before B began.
    RealTime {
        /// Tolerated clock skew, in the history's time unit.
        skew: i64,
    },
    /// Sequential consistency: each process's ops in the order it ran them.
    Process,
}

/// Process order as edges: each process's completed ops in invocation order, and each crashed
/// op after the completed op its process ran before it. O(n log n).
pub(crate) fn process_order<O>(entries: &[Entry<O>], determinate: usize) -> Vec<Edge> {
    let mut by_process: Vec<u32> = (0..entries.len() as u32).collect();
    by_process.sort_by_key(|&i| (entries[i as usize].process, entries[i as usize].invoke, i));
    let mut edges = Vec::new();
    let mut last_completed: Option<u32> = None;
    for w in 0..by_process.len() {
        let i = by_process[w];
        let e = &entries[i as usize];
        if w > 0 && entries[by_process[w - 1] as usize].process != e.process {
            last_completed = None;
        }
        if let Some(prev) = last_completed {
            edges.push(Edge { before: prev, after: i, kind: EdgeKind::Process });
        }
        if (i as usize) < determinate {
            last_completed = Some(i);
        }
    }
    edges
}
