//! Sequential consistency of a whole history.
//!
//! Unlike linearizability, sequential consistency is not local: every key can be sequentially
//! consistent on its own while the history is not (two processes that disagree on the order of
//! writes to two different keys). So keys are checked on their own first — a key that is
//! inconsistent alone is a definite violation, reported with its key — and then, if every key
//! passed, all keys together, as one object whose state is the tuple of the keys' states.
//!
//! A linearizable history is sequentially consistent, and linearizability is local, so keys
//! (and histories) that are linearizable need no sequential search at all; that also tells the
//! user when a history is sequentially consistent but not linearizable — the signature of stale
//! reads from lagging replicas.

use super::{Budget, Entry, Explainer, Keying, Options, Order, Part, check_part, check_parts, prepare};
use crate::history::History;
use crate::model::{DecodeError, Edge, Fact, Implied, Model, OpView};
use crate::outcome::Verdict;
use crate::outcome::{Consistency, DecodeFailure, JOINT_KEY, LinearReport};

/// Checks `history` for sequential consistency under `model`, with invalid keys (and an invalid
/// joint check) explained by `explainer`.
pub fn check_sequential<M: Model>(
    model: &M,
    history: &History,
    options: &Options,
    explainer: &impl Explainer,
) -> Result<LinearReport, DecodeFailure> {
    let keying = Keying::detect(history, options.independent);
    let parts = prepare(model, history, keying)?;
    let budget = Budget::new(options);
    let linear = budget.run(|limits| {
        check_parts(model, history, &parts, Order::RealTime { skew: 0 }, options, limits, explainer)
    });
    // Keys that are not linearizable get the sequential search of their own; so do those whose
    // linearization breaks process order, which real time allows when a process's completion
    // and its next invocation share a timestamp (neither precedes the other then).
    let not_linear: Vec<usize> = (0..parts.len())
        .filter(|&i| {
            linear[i].verdict != Verdict::Valid
                || !linear[i].order.as_deref().is_some_and(|o| in_process_order(history, o))
        })
        .collect();
    let subset: Vec<Part<M::Op>> = not_linear.iter().map(|&i| parts[i].clone()).collect();
    let sequential =
        budget.run(|limits| check_parts(model, history, &subset, Order::Process, options, limits, explainer));
    let mut keys = linear;
    for (i, result) in not_linear.iter().zip(sequential) {
        keys[*i] = result;
    }
    let every_key_consistent = keys.iter().all(|k| k.verdict == Verdict::Valid);
    let joint = (every_key_consistent && parts.len() > 1 && !not_linear.is_empty()).then(|| {
        let names =
            parts.iter().map(|p| p.key.as_ref().map_or_else(String::new, |k| k.to_string())).collect();
        let joint_model = Joint { model, keys: parts.len(), names };
        let whole = join(&parts);
        budget.run(|limits| {
            let mut r = check_part(&joint_model, history, &whole, Order::Process, limits, explainer);
            r.key = Some(JOINT_KEY.to_string());
            r
        })
    });
    let verdict = Verdict::combine(keys.iter().chain(&joint).map(|k| k.verdict));
    Ok(LinearReport {
        model: model.name().to_string(),
        consistency: Consistency::Sequential,
        verdict,
        keys,
        joint,
    })
}

/// Whether `order` (positions in the history) keeps each process's ops in the order it ran them.
fn in_process_order(history: &History, order: &[u32]) -> bool {
    let mut last: ahash::AHashMap<u32, u32> = ahash::AHashMap::new();
    order.iter().all(|&p| last.insert(history.ops[p as usize].process, p).is_none_or(|prev| prev < p))
}

/// One object made of every key: the state is the tuple of the keys' states, an op acts on
/// its own key's state.
struct Joint<'m, M> {
    model: &'m M,
    keys: usize,
    /// Each key as the history writes it, for descriptions.
    names: Vec<String>,
}

impl<M: Model> Model for Joint<'_, M> {
    type State = Vec<M::State>;
    type Op = (u32, M::Op);

    fn name(&self) -> &str {
        self.model.name()
    }

    fn init(&self) -> Vec<M::State> {
        vec![self.model.init(); self.keys]
    }

    fn decode(&self, _op: &OpView<'_>) -> Result<Self::Op, DecodeError> {
        Err(DecodeError::new("the joint model is built from decoded ops, not from a history"))
    }

    fn step(&self, state: &Vec<M::State>, (key, op): &Self::Op) -> Option<Vec<M::State>> {
        let next = self.model.step(&state[*key as usize], op)?;
        let mut s = state.clone();
        s[*key as usize] = next;
        Some(s)
    }

    fn step_all(&self, state: &Vec<M::State>, (key, op): &Self::Op, out: &mut Vec<Vec<M::State>>) {
        let mut nexts = Vec::new();
        self.model.step_all(&state[*key as usize], op, &mut nexts);
        out.extend(nexts.into_iter().map(|next| {
            let mut s = state.clone();
            s[*key as usize] = next;
            s
        }));
    }

    fn implied_order(&self, ops: &[Self::Op], completed: usize) -> Implied {
        // Each key's inferences, renumbered into the joint list.
        let mut out = Implied::default();
        let mut by_key: Vec<Vec<u32>> = vec![Vec::new(); self.keys];
        for (i, (key, _)) in ops.iter().enumerate() {
            by_key[*key as usize].push(i as u32);
        }
        for members in by_key {
            let key_ops: Vec<M::Op> = members.iter().map(|&i| ops[i as usize].1.clone()).collect();
            let key_completed = members.iter().filter(|&&i| (i as usize) < completed).count();
            let implied = self.model.implied_order(&key_ops, key_completed);
            let global = |i: u32| members[i as usize];
            out.edges.extend(implied.edges.iter().map(|e| Edge {
                before: global(e.before),
                after: global(e.after),
                kind: e.kind,
            }));
            out.conflicts.extend(implied.conflicts.into_iter().map(|mut c| {
                c.ops.iter_mut().for_each(|i| *i = global(*i));
                c
            }));
        }
        out
    }

    fn needs(&self, (key, op): &Self::Op) -> Option<Fact> {
        self.model.needs(op).map(|f| Fact { slot: *key, value: f.value })
    }

    fn leaves(&self, (key, op): &Self::Op) -> Option<Fact> {
        self.model.leaves(op).map(|f| Fact { slot: *key, value: f.value })
    }

    fn holds(&self, state: &Vec<M::State>, fact: Fact) -> bool {
        self.model.holds(&state[fact.slot as usize], Fact { slot: 0, value: fact.value })
    }

    fn is_read_only(&self, (_, op): &Self::Op) -> bool {
        self.model.is_read_only(op)
    }

    fn describe_op(&self, (key, op): &Self::Op) -> String {
        format!("{} (key {})", self.model.describe_op(op), self.names[*key as usize])
    }

    fn describe_state(&self, state: &Vec<M::State>) -> String {
        let parts: Vec<String> = state
            .iter()
            .zip(&self.names)
            .map(|(s, k)| format!("{k} {}", self.model.describe_state(s)))
            .collect();
        format!("{{{}}}", parts.join(", "))
    }

    fn explain(&self, state: &Vec<M::State>, (key, op): &Self::Op) -> String {
        self.model.explain(&state[*key as usize], op)
    }
}

/// All parts as one, ops tagged with their part: completed ops first, then crashed ones, as
/// the searches expect. Each part keeps that order internally, so implied orders renumber
/// consistently.
fn join<O: Clone>(parts: &[Part<O>]) -> Part<(u32, O)> {
    let tag = |k: usize, e: &Entry<O>| Entry {
        op: (k as u32, e.op.clone()),
        invoke: e.invoke,
        complete: e.complete,
        op_index: e.op_index,
        process: e.process,
    };
    let mut entries = Vec::new();
    for (k, p) in parts.iter().enumerate() {
        entries.extend(p.entries[..p.determinate].iter().map(|e| tag(k, e)));
    }
    let determinate = entries.len();
    for (k, p) in parts.iter().enumerate() {
        entries.extend(p.entries[p.determinate..].iter().map(|e| tag(k, e)));
    }
    Part {
        key: None,
        entries,
        determinate,
        total_ops: parts.iter().map(|p| p.total_ops).sum(),
        failed: parts.iter().map(|p| p.failed).sum(),
        crashed_reads: parts.iter().map(|p| p.crashed_reads).sum(),
        failed_ops: Vec::new(),
    }
}
