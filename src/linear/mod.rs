//! Linearizability checking: split the history by key, check every key in parallel with the WGL
//! search, and give each key its own verdict, with a counterexample when it is invalid.
//!
//! A history is linearizable iff every key is (Herlihy & Wing's locality; Horn & Kroening's
//! P-compositionality), so keys never need to be searched together.

mod id_sets;
mod joint;
pub mod oracle;
pub(crate) mod saturate;
pub mod search;
pub mod sequential;

pub use joint::check_sequential;
pub use search::{Exhausted, Limits, SearchResult, SearchStats, Stuck};

use crate::graph::{self, Cycle};
use crate::history::{History, Value};
use crate::model::{Conflict, EdgeKind, Fact, Model};
use crate::outcome::{
    ClassInfo, ConflictWitness, Consistency, Counterexample, CycleStep, DecodeFailure, KeyResult,
    LinearReport, LinearStep, OpRef, TriedOp, Verdict,
};
use crate::split::{Entry, Keying, Order, Part, prepare, process_order, sub_part};
use ahash::AHashMap;
use rayon::prelude::*;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Budgets and switches for a check.
#[derive(Clone, Debug)]
pub struct Options {
    /// Split by key (`Some(true)`), never (`Some(false)`), or guess (`None`).
    pub independent: Option<bool>,
    /// Real-time order tolerance: A precedes B only if A completed more than this before B
    /// was invoked (same unit as the history's times).
    pub clock_skew: i64,
    /// Model steps allowed per key.
    pub max_steps: u64,
    /// Wall-clock budget for the whole check.
    pub timeout: Option<Duration>,
    /// Memory budget for the searches' memo tables and the states they keep (as
    /// [`crate::model::Model::state_heap_bytes`] counts them), all keys together, in bytes.
    pub max_memory: Option<usize>,
    /// Stop at the first invalid key (the others become unknown).
    pub fail_fast: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            independent: None,
            clock_skew: 0,
            max_steps: 100_000_000,
            timeout: None,
            max_memory: None,
            fail_fast: false,
        }
    }
}

/// Checks `history` against `model`. Fails only when an op does not fit the model (bad input
/// for this model); budgets running out give `unknown` keys, never an error.
pub fn check<M: Model>(
    model: &M,
    history: &History,
    options: &Options,
) -> Result<LinearReport, DecodeFailure> {
    let keying = Keying::detect(history, options.independent);
    let parts = prepare(model, history, keying)?;
    let order = Order::RealTime { skew: options.clock_skew };
    let keys = Budget::new(options).run(|limits| check_parts(model, history, &parts, order, options, limits));
    Ok(LinearReport {
        model: model.name().to_string(),
        consistency: Consistency::Linearizable,
        verdict: Verdict::combine(keys.iter().map(|k| k.verdict)),
        keys,
        joint: None,
    })
}

/// The shared budget of one check: a deadline, a memory counter, a cancel flag.
pub(crate) struct Budget {
    options: Options,
    memory_used: AtomicUsize,
    cancel: AtomicBool,
    deadline: Option<Instant>,
}

impl Budget {
    pub(crate) fn new(options: &Options) -> Budget {
        Budget {
            options: options.clone(),
            memory_used: AtomicUsize::new(0),
            cancel: AtomicBool::new(false),
            deadline: options.timeout.map(|t| Instant::now() + t),
        }
    }

    /// Runs `f` with limits drawn from this budget.
    pub(crate) fn run<T>(&self, f: impl FnOnce(&Limits<'_>) -> T) -> T {
        let limits = Limits {
            max_steps: self.options.max_steps,
            deadline: self.deadline,
            memory: self.options.max_memory.map(|cap| (&self.memory_used, cap)),
            cancel: self.options.fail_fast.then_some(&self.cancel),
        };
        f(&limits)
    }
}

/// Checks every part in parallel, largest first (so one big key does not start last and run
/// alone), and returns the results in the parts' order.
pub(crate) fn check_parts<M: Model>(
    model: &M,
    history: &History,
    parts: &[Part<M::Op>],
    order: Order,
    options: &Options,
    limits: &Limits<'_>,
) -> Vec<KeyResult> {
    let mut by_size: Vec<usize> = (0..parts.len()).collect();
    by_size.sort_by_key(|&i| std::cmp::Reverse(parts[i].entries.len()));
    crate::progress::keys_planned(parts.len());
    let mut results: Vec<(usize, KeyResult)> = by_size
        .into_par_iter()
        .map(|i| {
            let r = check_part(model, history, &parts[i], order, limits);
            crate::progress::key_done();
            if r.verdict == Verdict::Invalid && options.fail_fast {
                if let Some(cancel) = limits.cancel {
                    cancel.store(true, Ordering::Relaxed);
                }
            }
            (i, r)
        })
        .collect();
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// The part without crashed ops whose whole effect is to leave a fact no op needs (a timed-out
/// write of a value nobody read), or `None` if there are none. Such an op can be dropped from
/// any valid order: the ops between it and the next write need nothing (any that needed
/// something would need that fact, and none does), so the order stays valid without it. Dropping
/// them up front saves the searches from trying each one at every point.
fn without_unneeded_crashed_ops<M: Model>(model: &M, part: &Part<M::Op>) -> Option<Part<M::Op>> {
    let needed: ahash::AHashSet<crate::model::Fact> =
        part.entries.iter().filter_map(|e| model.needs(&e.op)).collect();
    let unneeded = |e: &Entry<M::Op>| model.leaves(&e.op).is_some_and(|f| !needed.contains(&f));
    if !part.entries[part.determinate..].iter().any(unneeded) {
        return None;
    }
    let keep: Vec<u32> = (0..part.entries.len() as u32)
        .filter(|&i| (i as usize) < part.determinate || !unneeded(&part.entries[i as usize]))
        .collect();
    let mut pruned = sub_part(part, &keep);
    pruned.total_ops = part.total_ops;
    pruned.failed = part.failed;
    pruned.crashed_reads = part.crashed_reads;
    Some(pruned)
}

/// Fills in the class, the shrunk witness and the active faults of an invalid key.
fn explain_invalid<M: Model>(
    model: &M,
    history: &History,
    part: &Part<M::Op>,
    order: Order,
    result: &mut KeyResult,
) {
    let cite_entry = |e: &Entry<M::Op>| OpRef::new(history, e.op_index, model.describe_op(&e.op));
    let init = model.init();
    // Real-time patterns for linearizability; process-order patterns for sequential
    // consistency. Duplicate effects are counted under either order.
    let classified = match order {
        Order::RealTime { skew } => crate::explain::classify(model, part, skew, &|f| model.holds(&init, f)),
        Order::Process => crate::explain::classify_sequential(model, part),
    }
    .or_else(|| duplicate_effect(model, part, &init, order));
    if let Some(c) = classified {
        let ops: Vec<OpRef> = c.ops.iter().map(|&i| cite_entry(&part.entries[i as usize])).collect();
        let mut text = c.template.clone();
        for (i, op) in ops.iter().enumerate() {
            text = text.replace(
                &format!("{{{i}}}"),
                &format!("{} (index {}, process {})", op.text, op.index, op.process),
            );
        }
        if let Some(f) = c.failed_op.map(|f| &part.failed_ops[f as usize]) {
            let failed = cite_entry(f);
            text = text.replace("{failed}", &format!("{} at index {}", failed.text, failed.index));
        }
        result.class =
            Some(ClassInfo { kind: c.kind.to_string(), ops, explanation: text, faults: Vec::new() });
    } else if let Some(c) = result.conflict.as_ref().filter(|c| c.kind.is_some()) {
        // What the model saw in the values already names it.
        result.class = Some(conflict_class(model, history, part, c));
    }
    let witness = shrunk_witness(model, part, order, result);
    let windows = crate::explain::fault_windows(history);
    let faults = |ops: &mut dyn Iterator<Item = u32>| {
        let (from, to) = ops.fold((i64::MAX, i64::MIN), |(lo, hi), position| {
            let op = &history.ops[position as usize];
            let end =
                if op.outcome == crate::history::Outcome::Ok { op.complete_time } else { op.invoke_time };
            (lo.min(op.invoke_time), hi.max(end))
        });
        crate::explain::faults_during(&windows, history.clock, from, to)
    };
    result.faults = faults(&mut witness.iter().map(|&i| part.entries[i as usize].op_index));
    if let Some(class) = &mut result.class {
        class.faults = faults(&mut class.ops.iter().map(|o| o.position));
    }
    // No witness is claimed when none was shown still invalid.
    result.witness = (!witness.is_empty())
        .then(|| witness.iter().map(|&i| cite_entry(&part.entries[i as usize])).collect());
}

/// The class a conflict names: its own kind, except that a garbage read that failed ops would
/// explain is a read of a failed write.
fn conflict_class<M: Model>(
    model: &M,
    history: &History,
    part: &Part<M::Op>,
    c: &ConflictWitness,
) -> ClassInfo {
    let cited: Vec<String> =
        c.ops.iter().map(|op| format!("{} (index {}, process {})", op.text, op.index, op.process)).collect();
    let mut class = ClassInfo {
        kind: c.kind.unwrap_or_default().to_string(),
        ops: c.ops.clone(),
        explanation: format!("{}: {}", cited.join(" and "), c.reason),
        faults: Vec::new(),
    };
    let failed = if c.kind == Some("garbage-read") { failed_writers(model, part, c) } else { None };
    if let Some(failed) = failed {
        let failed: Vec<String> = failed
            .iter()
            .map(|&f| {
                OpRef::new(history, part.failed_ops[f].op_index, model.describe_op(&part.failed_ops[f].op))
            })
            .map(|op| format!("{} (index {})", op.text, op.index))
            .collect();
        let which = if failed.len() == 1 { "which" } else { "each of which" };
        class.kind = "read-of-failed-write".to_string();
        class.explanation = format!(
            "{}, except {}, {which} failed: the failure was reported, but the op took effect",
            class.explanation,
            failed.join(" and ")
        );
    }
    class
}

/// How many [`Model::implied_order`] calls [`failed_writers`] makes at most: past it, the
/// failed ops it names may be more than the read needs (never fewer).
const MAX_FAILED_TRIES: usize = 64;

/// For a garbage read that a model's values showed (a `garbage-read` conflict, whose classes
/// need no look-ahead facts): failed ops which, had they taken effect, would have written what
/// was read, so that the read is no longer garbage (or less of it). Asks the model again with
/// every failed op added as crashed, then narrows them down by halves (delta debugging:
/// O(k log f) model calls for k ops needed of f failed), so a read is explained however many
/// ops failed before it.
fn failed_writers<M: Model>(model: &M, part: &Part<M::Op>, conflict: &ConflictWitness) -> Option<Vec<usize>> {
    let at = |r: &OpRef| part.entries.iter().position(|e| e.op_index == r.position).map(|i| i as u32);
    let reads: Vec<u32> = conflict.ops.iter().filter_map(at).collect();
    let base: Vec<M::Op> = part.entries.iter().map(|e| e.op.clone()).collect();
    // What stays unexplained with `extra` failed ops added as crashed (`None`: nothing).
    let with = |extra: &[usize]| {
        let mut ops = base.clone();
        ops.extend(extra.iter().map(|&f| part.failed_ops[f].op.clone()));
        let implied = model.implied_order(&ops, part.determinate);
        implied
            .conflicts
            .into_iter()
            .find(|c| c.kind == Some("garbage-read") && c.ops == reads)
            .map(|c| c.reason)
    };
    let unexplained = with(&[])?;
    let all: Vec<usize> = (0..part.failed_ops.len()).collect();
    let target = with(&all);
    if target.as_ref() == Some(&unexplained) {
        return None;
    }
    let mut tries = 2;
    Some(narrow(&all, &[], &target, &with, &mut tries))
}

/// A subset of `set` that, with `outside`, leaves `target` unexplained, as `set` does: a half
/// that does so alone is kept alone; otherwise each half is narrowed with the other kept.
fn narrow(
    set: &[usize],
    outside: &[usize],
    target: &Option<String>,
    with: &dyn Fn(&[usize]) -> Option<String>,
    tries: &mut usize,
) -> Vec<usize> {
    if set.len() <= 1 || *tries + 2 > MAX_FAILED_TRIES {
        return set.to_vec();
    }
    let joined = |a: &[usize], b: &[usize]| [a, b].concat();
    let (a, b) = set.split_at(set.len() / 2);
    for half in [a, b] {
        *tries += 1;
        if with(&joined(outside, half)) == *target {
            return narrow(half, outside, target, with, tries);
        }
    }
    let kept_a = narrow(a, &joined(outside, b), target, with, tries);
    let kept_b = narrow(b, &joined(outside, &kept_a), target, with, tries);
    joined(&kept_a, &kept_b)
}

/// A duplicate effect on `part` ([`crate::explain::classify_duplicate`]), under `order`: real
/// time (an op certainly precedes another that began after it completed, allowing for skew; may
/// precede one that had not completed when it began), or process order (an op certainly
/// precedes its process's later ops, and may precede any op but those).
fn duplicate_effect<M: Model>(
    model: &M,
    part: &Part<M::Op>,
    init: &M::State,
    order: Order,
) -> Option<crate::explain::Classified> {
    use crate::explain::{Precedence, classify_duplicate};
    match order {
        Order::RealTime { skew } => {
            let certainly = |a: &Entry<M::Op>, b: &Entry<M::Op>| a.complete.saturating_add(skew) < b.invoke;
            let maybe = |a: &Entry<M::Op>, b: &Entry<M::Op>| a.invoke < b.complete.saturating_add(skew);
            classify_duplicate(model, part, init, &Precedence { certainly: &certainly, maybe: &maybe })
        }
        Order::Process => {
            let later = |a: &Entry<M::Op>, b: &Entry<M::Op>| a.process == b.process && a.invoke > b.invoke;
            let certainly = |a: &Entry<M::Op>, b: &Entry<M::Op>| later(b, a) && a.complete != i64::MAX;
            let maybe = |a: &Entry<M::Op>, b: &Entry<M::Op>| !later(a, b);
            classify_duplicate(model, part, init, &Precedence { certainly: &certainly, maybe: &maybe })
        }
    }
}

/// The smallest still-invalid set of ops found, starting from what decided the key: the ops
/// of a cycle or conflict as they are, or, for a failed search, every op invoked before the
/// blocked op completed (later ops cannot rescue it), shrunk by delta debugging with the
/// blocked op kept.
fn shrunk_witness<M: Model>(model: &M, part: &Part<M::Op>, order: Order, result: &KeyResult) -> Vec<u32> {
    let entry_of = |r: &OpRef| part.entries.iter().position(|e| e.op_index == r.position).map(|i| i as u32);
    if let Some(cycle) = &result.cycle {
        return cycle.iter().filter_map(|s| entry_of(&s.op)).collect();
    }
    if let Some(conflict) = &result.conflict {
        return conflict.ops.iter().filter_map(entry_of).collect();
    }
    let Some(blocked) = result.counterexample.as_ref().and_then(|c| entry_of(&c.op)) else {
        return Vec::new();
    };
    let deadline = part.entries[blocked as usize].complete;
    let window: Vec<u32> = (0..part.entries.len() as u32)
        .filter(|&i| i != blocked && part.entries[i as usize].invoke <= deadline)
        .collect();
    let probe_limits = Limits { max_steps: 20_000, deadline: None, memory: None, cancel: None };
    let blocked_op = part.entries[blocked as usize].op_index;
    let init = model.init();
    let mut still_invalid = |sub: &Part<M::Op>| {
        // Keep the op the search could not place: the witness is about it. Outright conflicts
        // do not count, nor do subsets where some op needs a value none of them wrote:
        // dropping the write a read (or a crashed cas) saw makes it "garbage", which is
        // invalid but says nothing about what really went wrong.
        sub.entries.iter().any(|e| e.op_index == blocked_op)
            && every_need_is_written(model, sub, &init, order)
            && matches!(
                decide(model, sub, order, &probe_limits),
                Finding::Cycle(_) | Finding::Search(SearchResult::NotLinearizable(_), _)
            )
    };
    // Every set shrinking keeps after a drop was shown invalid; the start was not, so a start
    // kept whole is checked before it is claimed. Under real-time order later ops cannot rescue
    // the blocked op, so the window usually is invalid; under process order they can (they may
    // be placed before it), so the whole part is tried next.
    let window: Vec<u32> = window.iter().copied().chain([blocked]).collect();
    let all: Vec<u32> = (0..part.entries.len() as u32).collect();
    let mut kept = Vec::new();
    for start in [window, all] {
        let shrunk = crate::explain::shrink(part, start.clone(), &mut still_invalid, 300);
        if shrunk != start || still_invalid(&sub_part(part, &start)) {
            kept = shrunk;
            break;
        }
    }
    kept.sort_unstable();
    kept
}

/// Whether every value an op of `part` needs is the initial one or left by some op of it that
/// could precede it (in real time: began before it completed) and could itself take effect:
/// what it needs can be reached from the initial state through the ops' own needs and leaves
/// (a cas 3→2 and a cas 2→3 alone do not make a 3).
///
/// Runs on every subset the shrinking tries, so it is a worklist, O(n log n): for each value,
/// the earliest invocation among the able ops that leave it; the ops waiting for a value, latest
/// completion first, become able as that earliest invocation falls below their completion.
fn every_need_is_written<M: Model>(model: &M, part: &Part<M::Op>, init: &M::State, order: Order) -> bool {
    let e = &part.entries;
    // An op needing f may follow a writer invoked at `t` when t < this op's deadline.
    let deadline = |r: &Entry<M::Op>| match order {
        Order::RealTime { skew } => r.complete.saturating_add(skew),
        Order::Process => i64::MAX,
    };
    let mut waiting: AHashMap<Fact, Vec<u32>> = AHashMap::new();
    let mut able: Vec<u32> = Vec::new();
    for (i, x) in e.iter().enumerate() {
        match model.needs(&x.op) {
            Some(f) if !model.holds(init, f) => waiting.entry(f).or_default().push(i as u32),
            _ => able.push(i as u32),
        }
    }
    for ops in waiting.values_mut() {
        ops.sort_unstable_by_key(|&i| deadline(&e[i as usize]));
    }
    let mut earliest: AHashMap<Fact, i64> = AHashMap::new();
    let mut unable = e.len() - able.len();
    while let Some(w) = able.pop() {
        let Some(f) = model.leaves(&e[w as usize].op) else { continue };
        let t = e[w as usize].invoke;
        if earliest.get(&f).is_some_and(|&known| known <= t) {
            continue;
        }
        earliest.insert(f, t);
        let Some(ops) = waiting.get_mut(&f) else { continue };
        // Sorted by deadline ascending: the ones this writer can feed are at the end.
        while ops.last().is_some_and(|&r| t < deadline(&e[r as usize])) {
            able.push(ops.pop().expect("checked"));
            unable -= 1;
        }
    }
    unable == 0
}

/// What decided a key.
enum Finding<S> {
    Search(SearchResult<S>, SearchStats),
    Cycle(Cycle),
    Conflict(Conflict),
}

/// Decides one key: first what the values imply (conflicts, then cycles in the dependency
/// graph), then, if that leaves the question open, the search, pruned by the implied orders.
pub fn check_part<M: Model>(
    model: &M,
    history: &History,
    part: &Part<M::Op>,
    order: Order,
    limits: &Limits<'_>,
) -> KeyResult {
    let started = Instant::now();
    let pruned = without_unneeded_crashed_ops(model, part);
    let part = pruned.as_ref().unwrap_or(part);
    let finding = decide(model, part, order, limits);
    let mut result = KeyResult {
        key: part.key.as_ref().map(Value::to_string),
        verdict: Verdict::Invalid,
        ops: part.total_ops,
        searched_ops: part.entries.len(),
        crashed: part.entries.len() - part.determinate,
        unknown_reason: None,
        counterexample: None,
        cycle: None,
        conflict: None,
        class: None,
        witness: None,
        faults: Vec::new(),
        steps: 0,
        memo_entries: 0,
        max_depth: 0,
        millis: 0.0,
        order: None,
        linearization: None,
    };
    let cite = |entry: u32| {
        let e = &part.entries[entry as usize];
        OpRef::new(history, e.op_index, model.describe_op(&e.op))
    };
    match finding {
        Finding::Conflict(c) => {
            result.conflict = Some(ConflictWitness {
                ops: c.ops.iter().map(|&e| cite(e)).collect(),
                reason: c.reason,
                kind: c.kind,
            });
        }
        Finding::Cycle(cycle) => result.cycle = Some(cycle_steps(&cycle, &cite)),
        Finding::Search(found, stats) => {
            result.steps = stats.steps;
            result.memo_entries = stats.memo_entries;
            result.max_depth = stats.max_depth;
            match found {
                SearchResult::Linearizable(order) => {
                    result.verdict = Verdict::Valid;
                    result.order = Some(order.iter().map(|&e| part.entries[e as usize].op_index).collect());
                }
                SearchResult::NotLinearizable(stuck) => {
                    result.counterexample = Some(counterexample(model, history, &part.entries, &stuck));
                }
                SearchResult::Unknown(cause) => {
                    result.verdict = Verdict::Unknown;
                    result.unknown_reason = Some(format!(
                        "{} after {} steps: at most {} of {} ops linearized, {} configurations memoized",
                        cause.describe(),
                        stats.steps,
                        stats.max_depth,
                        part.entries.len(),
                        stats.memo_entries
                    ));
                }
            }
        }
    }
    if result.verdict == Verdict::Invalid {
        explain_invalid(model, history, part, order, &mut result);
    }
    result.millis = started.elapsed().as_secs_f64() * 1e3;
    result
}

fn decide<M: Model>(model: &M, part: &Part<M::Op>, order: Order, limits: &Limits<'_>) -> Finding<M::State> {
    let ops: Vec<M::Op> = part.entries.iter().map(|e| e.op.clone()).collect();
    let mut implied = model.implied_order(&ops, part.determinate);
    if !implied.conflicts.is_empty() {
        return Finding::Conflict(implied.conflicts.swap_remove(0));
    }
    let intervals: Vec<graph::Interval> = part.entries.iter().map(|e| (e.invoke, e.complete)).collect();
    let cycle = match order {
        Order::RealTime { skew } if !implied.edges.is_empty() => {
            graph::find_cycle(&intervals, Some(skew), &implied.edges)
        }
        Order::RealTime { .. } => None,
        Order::Process => {
            let mut edges = process_order(&part.entries, part.determinate);
            edges.extend_from_slice(&implied.edges);
            // The write orders and anti-dependencies process order forces: a cycle refutes
            // sequential consistency outright, and the edges prune the search.
            let derived = saturate::saturate(model, &part.entries, part.determinate, &edges);
            edges.extend_from_slice(&derived);
            implied.edges.extend(derived);
            graph::find_cycle(&intervals, None, &edges)
        }
    };
    if let Some(cycle) = cycle {
        return Finding::Cycle(cycle);
    }
    let edges = implied.edges;
    let (found, stats) = match order {
        Order::RealTime { skew } => {
            let twins = interchangeable_crashed_ops(part);
            let ceilings = model.ceilings(&ops);
            search::search(
                model,
                &part.entries,
                part.determinate,
                skew,
                search::Pruning { edges: &edges, twins: &twins, ceilings: ceilings.as_deref() },
                limits,
            )
        }
        Order::Process => {
            // The search keeps process order itself; the fast path needs it as edges.
            let mut ordered = process_order(&part.entries, part.determinate);
            ordered.extend_from_slice(&edges);
            if let Some(order) = sequential::ordered_witness(model, &part.entries, part.determinate, &ordered)
            {
                let stats = SearchStats {
                    steps: order.len() as u64,
                    max_depth: order.len(),
                    ..SearchStats::default()
                };
                return Finding::Search(SearchResult::Linearizable(order), stats);
            }
            sequential::search(model, &part.entries, part.determinate, &edges, limits)
        }
    };
    Finding::Search(found, stats)
}

/// Symmetry breaking for the search: of two identical crashed ops, the later-invoked one is
/// only linearized after the earlier. Any linearization using the later one alone can use the
/// earlier instead (it was invoked no later, and neither has a completion to respect), so no
/// verdict changes; the search just stops trying both orders. Not facts about the history, so
/// these never feed cycle detection.
fn interchangeable_crashed_ops<O: Eq + std::hash::Hash>(part: &Part<O>) -> Vec<crate::model::Edge> {
    let mut last: ahash::AHashMap<&O, u32> = ahash::AHashMap::new();
    let mut edges = Vec::new();
    for (i, e) in part.entries.iter().enumerate().skip(part.determinate) {
        if let Some(prev) = last.insert(&e.op, i as u32) {
            edges.push(crate::model::Edge { before: prev, after: i as u32, kind: EdgeKind::Version });
        }
    }
    edges
}

/// A cycle in words: each op and why it must precede the next.
fn cycle_steps(cycle: &Cycle, cite: &dyn Fn(u32) -> OpRef) -> Vec<CycleStep> {
    let ops: Vec<OpRef> = cycle.steps.iter().map(|&(e, _)| cite(e)).collect();
    cycle
        .steps
        .iter()
        .enumerate()
        .map(|(i, &(_, edge))| {
            let (a, b) = (&ops[i], &ops[(i + 1) % ops.len()]);
            let why = match edge {
                EdgeKind::RealTime => format!("index {} completed before index {} began", a.index, b.index),
                EdgeKind::Process => {
                    format!("process {} ran index {} before index {}", a.process, a.index, b.index)
                }
                EdgeKind::ReadsFrom => format!("index {} saw what index {} wrote", b.index, a.index),
                EdgeKind::Version => {
                    format!("the values read show index {}'s write came after index {}'s", b.index, a.index)
                }
                // Not "just before": a set read that lacks an element precedes its add, with
                // other adds possibly in between.
                EdgeKind::AntiDependency => format!(
                    "index {} saw a state from before index {}'s write (the values read show that write came later)",
                    a.index, b.index
                ),
            };
            CycleStep { op: a.clone(), edge, why }
        })
        .collect()
}

/// Puts a failed search's furthest point into words.
fn counterexample<M: Model>(
    model: &M,
    history: &History,
    entries: &[Entry<M::Op>],
    stuck: &Stuck<M::State>,
) -> Counterexample {
    let cite = |entry: u32| {
        let e = &entries[entry as usize];
        OpRef::new(history, e.op_index, model.describe_op(&e.op))
    };
    let why_not = |entry: u32| {
        let op = &entries[entry as usize].op;
        match model.step(&stuck.state, op) {
            None => model.explain(&stuck.state, op),
            Some(_) => format!(
                "{} could take effect here, but every way of continuing from there fails",
                model.describe_op(op)
            ),
        }
    };
    let skip = stuck.prefix.len().saturating_sub(Counterexample::SHOWN_PREFIX);
    Counterexample {
        op: cite(stuck.blocked),
        reason: why_not(stuck.blocked),
        state: model.describe_state(&stuck.state),
        prefix_len: stuck.prefix.len(),
        prefix_tail: stuck.prefix[skip..]
            .iter()
            .map(|(e, s)| LinearStep { op: cite(*e), state_after: model.describe_state(s) })
            .collect(),
        tried: stuck.candidates.iter().map(|&e| TriedOp { op: cite(e), reason: why_not(e) }).collect(),
        prefix: stuck.prefix.iter().map(|(e, _)| entries[*e as usize].op_index).collect(),
    }
}
