//! An invalid key's explanation: the class of violation it shows, a shrunk witness, and the
//! faults active while its ops ran.
//!
//! Runs after the search has decided the key, on what it found; the search itself is asked
//! again only through the `refutes` oracle its caller passes in, so explanations never import
//! the searches (nor they the explanations).

use super::{
    Classified, Precedence, classify, classify_duplicate, classify_sequential, fault_windows, faults_during,
    shrink,
};
use crate::history::History;
use crate::model::{Fact, Model};
use crate::outcome::{ClassInfo, ConflictWitness, KeyResult, OpRef};
use crate::split::{Entry, Order, Part, sub_part};
use crate::vocab::ClassKind;
use ahash::AHashMap;

/// Fills in the class, the shrunk witness and the active faults of an invalid key. `refutes`
/// is the search's verdict on a subset of the part's ops (true only for a definite violation,
/// on a small budget): the witness is shrunk with it, so every witness claimed was checked.
pub fn explain_invalid<M: Model>(
    model: &M,
    history: &History,
    part: &Part<M::Op>,
    order: Order,
    result: &mut KeyResult,
    refutes: &dyn Fn(&Part<M::Op>) -> bool,
) {
    let cite_entry = |e: &Entry<M::Op>| OpRef::new(history, e.op_index, model.describe_op(&e.op));
    let init = model.init();
    // Real-time patterns for linearizability; process-order patterns for sequential
    // consistency. Duplicate effects are counted under either order.
    let classified = match order {
        Order::RealTime { skew } => classify(model, part, skew, &|f| model.holds(&init, f)),
        Order::Process => classify_sequential(model, part),
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
        result.class = Some(ClassInfo { kind: c.kind, ops, explanation: text, faults: Vec::new() });
    } else if let Some((c, kind)) = result.conflict.as_ref().and_then(|c| Some((c, c.kind?))) {
        // What the model saw in the values already names it.
        result.class = Some(conflict_class(model, history, part, c, kind));
    }
    let witness = shrunk_witness(model, part, order, result, refutes);
    let windows = fault_windows(history);
    let faults = |ops: &mut dyn Iterator<Item = u32>| {
        let (from, to) = ops.fold((i64::MAX, i64::MIN), |(lo, hi), position| {
            let op = &history.ops[position as usize];
            let end =
                if op.outcome == crate::history::Outcome::Ok { op.complete_time } else { op.invoke_time };
            (lo.min(op.invoke_time), hi.max(end))
        });
        faults_during(&windows, history.clock, from, to)
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
    kind: ClassKind,
) -> ClassInfo {
    let cited: Vec<String> =
        c.ops.iter().map(|op| format!("{} (index {}, process {})", op.text, op.index, op.process)).collect();
    let mut class = ClassInfo {
        kind,
        ops: c.ops.clone(),
        explanation: format!("{}: {}", cited.join(" and "), c.reason),
        faults: Vec::new(),
    };
    let failed = if kind == ClassKind::GarbageRead { failed_writers(model, part, c) } else { None };
    if let Some(failed) = failed {
        let failed: Vec<String> = failed
            .iter()
            .map(|&f| {
                OpRef::new(history, part.failed_ops[f].op_index, model.describe_op(&part.failed_ops[f].op))
            })
            .map(|op| format!("{} (index {})", op.text, op.index))
            .collect();
        let which = if failed.len() == 1 { "which" } else { "each of which" };
        class.kind = ClassKind::ReadOfFailedWrite;
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
            .find(|c| c.kind == Some(ClassKind::GarbageRead) && c.ops == reads)
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

/// A duplicate effect on `part` ([`classify_duplicate`]), under `order`: real
/// time (an op certainly precedes another that began after it completed, allowing for skew; may
/// precede one that had not completed when it began), or process order (an op certainly
/// precedes its process's later ops, and may precede any op but those).
fn duplicate_effect<M: Model>(
    model: &M,
    part: &Part<M::Op>,
    init: &M::State,
    order: Order,
) -> Option<Classified> {
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
fn shrunk_witness<M: Model>(
    model: &M,
    part: &Part<M::Op>,
    order: Order,
    result: &KeyResult,
    refutes: &dyn Fn(&Part<M::Op>) -> bool,
) -> Vec<u32> {
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
    let blocked_op = part.entries[blocked as usize].op_index;
    let init = model.init();
    let mut still_invalid = |sub: &Part<M::Op>| {
        // Keep the op the search could not place: the witness is about it. Outright conflicts
        // do not count, nor do subsets where some op needs a value none of them wrote:
        // dropping the write a read (or a crashed cas) saw makes it "garbage", which is
        // invalid but says nothing about what really went wrong.
        sub.entries.iter().any(|e| e.op_index == blocked_op)
            && every_need_is_written(model, sub, &init, order)
            && refutes(sub)
    };
    // Every set shrinking keeps after a drop was shown invalid; the start was not, so a start
    // kept whole is checked before it is claimed. Under real-time order later ops cannot rescue
    // the blocked op, so the window usually is invalid; under process order they can (they may
    // be placed before it), so the whole part is tried next.
    let window: Vec<u32> = window.iter().copied().chain([blocked]).collect();
    let all: Vec<u32> = (0..part.entries.len() as u32).collect();
    let mut kept = Vec::new();
    for start in [window, all] {
        let shrunk = shrink(part, start.clone(), &mut still_invalid, 300);
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
