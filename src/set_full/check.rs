//! The set-full check, with Jepsen's definitions. Per set (key) and element `e`:
//!
//! - `e` is *tracked* from its last add's invocation; only `:ok` reads that complete after it
//!   say anything of `e` (Jepsen folds over the history and starts each element at its add);
//! - *known*: the first, in history order, of an `:ok` add of `e` and an `:ok` read that
//!   contained it;
//! - *last present* / *last absent*: the `:ok` read invoked last (by `:index`) that did / did
//!   not contain `e`;
//! - *stable*: a last present read invoked after the last absent one (or none absent);
//! - *lost*: known, and a last absent read invoked after the last present one (or none
//!   present) and after `e` became known;
//! - *never read*: neither;
//! - *stale*: stable, with the last absent read invoked after `e` became known: a read began
//!   after `e` was certainly in the set and did not see it. (Jepsen calls an element stale when
//!   its stable latency is at least 1 ms; ours also counts a miss within that millisecond.)
//! - latencies, in ms (only with `:time`): stable, from known to just after the last absent
//!   read's invocation; lost, from known to just after the last present read's invocation; both
//!   at least 0.
//!
//! The last absent read is found by walking the reads from the latest invoked, skipping those
//! that contained `e`: the walk costs what `e`'s presence does, so the whole check is linear in
//! the size of the reads (Jepsen's is elements × reads).

use super::{Claim, SetFullAnomaly, SetFullOp, SetFullOptions, SetFullReport, decode};
use crate::history::{Clock, History, Op, Outcome, Value};
use crate::outcome::{DecodeFailure, Verdict};
use crate::split::Keying;
use ahash::AHashMap;
use std::collections::BTreeMap;

/// One set's ops: its adds (with the element) and its `:ok` reads (with what they read).
#[derive(Default)]
struct SetOps<'h> {
    adds: Vec<(u32, &'h Value)>,
    reads: Vec<(u32, &'h [Value])>,
}

/// Checks `history` as Jepsen's set-full, each key (under `keying`) its own set.
pub fn check(
    history: &History,
    keying: Keying,
    options: &SetFullOptions,
) -> Result<SetFullReport, DecodeFailure> {
    let mut index: AHashMap<Option<&Value>, usize> = AHashMap::new();
    let mut sets: Vec<(Option<&Value>, SetOps)> = Vec::new();
    for (pos, op) in history.ops.iter().enumerate() {
        let decoded = decode(history, op, keying)?;
        let key = match &decoded {
            SetFullOp::Add { key, .. } | SetFullOp::Read { key, .. } => *key,
        };
        let i = *index.entry(key).or_insert_with(|| {
            sets.push((key, SetOps::default()));
            sets.len() - 1
        });
        match decoded {
            SetFullOp::Add { element, .. } => sets[i].1.adds.push((pos as u32, element)),
            SetFullOp::Read { elements: Some(items), .. } => sets[i].1.reads.push((pos as u32, items)),
            SetFullOp::Read { elements: None, .. } => {}
        }
    }
    let mut acc = Totals::default();
    for (key, ops) in &sets {
        check_set(history, *key, ops, options, &mut acc);
    }
    Ok(acc.finish(history.clock == Clock::Time))
}

/// Per element of one set: where it is tracked from, and its acknowledged adds.
struct Element<'h> {
    value: &'h Value,
    from: u64,
    acks: Vec<u32>,
}

/// What every set contributes to the report.
#[derive(Default)]
struct Totals {
    verdict: Vec<Verdict>,
    anomalies: Vec<SetFullAnomaly>,
    stale: Vec<SetFullAnomaly>,
    counts: BTreeMap<String, usize>,
    elements: BTreeMap<String, Vec<String>>,
    stable_latencies: Vec<i64>,
    lost_latencies: Vec<i64>,
    notes: Vec<String>,
}

/// One element's reads, as ranks in the set's reads sorted latest-invoked first.
struct Seen {
    known: Option<u32>,
    last_present: Option<usize>,
    last_absent: Option<usize>,
}

/// The set's `:ok` reads, latest invoked first, with what the walk needs of them.
struct Reads<'a, 'h> {
    sorted: Vec<(u32, &'h [Value])>,
    /// Completion `:index` of each.
    done: Vec<u64>,
    /// The largest completion `:index` from each rank on: past it, no read can concern an
    /// element tracked later.
    done_after: Vec<u64>,
    history: &'a History,
}

impl<'a, 'h> Reads<'a, 'h> {
    fn new(history: &'a History, reads: &[(u32, &'h [Value])]) -> Self {
        let op = |p: u32| &history.ops[p as usize];
        let mut sorted = reads.to_vec();
        sorted.sort_by_key(|(p, _)| std::cmp::Reverse(op(*p).invoke_index));
        let done: Vec<u64> = sorted.iter().map(|(p, _)| op(*p).complete_index).collect();
        let mut done_after = done.clone();
        for k in (0..done_after.len().saturating_sub(1)).rev() {
            done_after[k] = done_after[k].max(done_after[k + 1]);
        }
        Reads { sorted, done, done_after, history }
    }

    fn op(&self, rank: usize) -> &'a Op {
        &self.history.ops[self.sorted[rank].0 as usize]
    }

    /// What the reads say of an element tracked from `from`, present in the reads at `present`
    /// (ranks, ascending), acknowledged by `acks`.
    fn seen(&self, from: u64, present: &[u32], acks: &[u32]) -> Seen {
        let ops = &self.history.ops;
        let eligible: Vec<usize> =
            present.iter().map(|&r| r as usize).filter(|&r| self.done[r] > from).collect();
        let known = acks
            .iter()
            .copied()
            .filter(|&a| ops[a as usize].complete_index > from)
            .chain(eligible.iter().map(|&r| self.sorted[r].0))
            .min_by_key(|&p| ops[p as usize].complete_index);
        let (mut p, mut k) = (0, 0);
        let mut last_absent = None;
        while k < self.sorted.len() && self.done_after[k] > from {
            if present.get(p).is_some_and(|&r| r as usize == k) {
                p += 1;
            } else if self.done[k] > from {
                last_absent = Some(k);
                break;
            }
            k += 1;
        }
        Seen { known, last_present: eligible.first().copied(), last_absent }
    }
}

fn check_set(
    history: &History,
    key: Option<&Value>,
    ops: &SetOps,
    options: &SetFullOptions,
    acc: &mut Totals,
) {
    let op = |p: u32| &history.ops[p as usize];
    let mut ids: AHashMap<&Value, usize> = AHashMap::new();
    let mut elements: Vec<Element> = Vec::new();
    for &(p, v) in &ops.adds {
        let id = *ids.entry(v).or_insert_with(|| {
            elements.push(Element { value: v, from: 0, acks: Vec::new() });
            elements.len() - 1
        });
        elements[id].from = elements[id].from.max(op(p).invoke_index);
        if op(p).outcome == Outcome::Ok {
            elements[id].acks.push(p);
        }
    }
    let reads = Reads::new(history, &ops.reads);
    let mut present: Vec<Vec<u32>> = vec![Vec::new(); elements.len()];
    let mut dups: BTreeMap<&Value, (usize, u32)> = BTreeMap::new();
    let mut unexpected: BTreeMap<&Value, u32> = BTreeMap::new();
    let mut count: AHashMap<&Value, usize> = AHashMap::new();
    for (rank, &(p, items)) in reads.sorted.iter().enumerate() {
        count.clear();
        for v in items {
            *count.entry(v).or_insert(0) += 1;
        }
        for (&v, &n) in &count {
            if n > 1 && dups.get(v).is_none_or(|&(m, _)| n > m) {
                dups.insert(v, (n, p));
            }
            match ids.get(v) {
                Some(&id) => present[id].push(rank as u32),
                // Walking latest first, the last kept is the earliest invoked.
                None => _ = unexpected.insert(v, p),
            }
        }
    }
    let show = |v: &Value| key.map_or_else(|| v.to_string(), |k| format!("[{k} {v}]"));
    let timed = history.clock == Clock::Time;
    let ms = |nanos: i64| nanos.max(0) / 1_000_000;
    let mut set = SetVerdict::default();
    let mut lost_claims = Vec::new();
    let mut stale_claims = Vec::new();
    for (id, e) in elements.iter().enumerate() {
        let seen = reads.seen(e.from, &present[id], &e.acks);
        let inv = |rank: usize| reads.op(rank).invoke_index;
        let stable = seen.last_present.is_some_and(|lp| seen.last_absent.is_none_or(|ab| inv(ab) < inv(lp)));
        let known_done = seen.known.map(|k| op(k).complete_index);
        let lost = matches!((known_done, seen.last_absent), (Some(kd), Some(ab))
            if kd < inv(ab) && seen.last_present.is_none_or(|lp| inv(lp) < inv(ab)));
        let known_time = seen.known.map_or(0, |k| op(k).complete_time);
        let after = |rank: Option<usize>| rank.map_or(0, |r| reads.op(r).invoke_time + 1);
        if stable {
            set.stable += 1;
            if timed {
                acc.stable_latencies.push(ms(after(seen.last_absent) - known_time));
            }
            // Every read invoked after the last absent one contained it (it is stable), so the
            // one ranked just before it is the first that did.
            if let (Some(kd), Some(ab)) = (known_done, seen.last_absent) {
                if kd < inv(ab) && ab > 0 {
                    stale_claims.push((e, seen.known.unwrap_or(0), ab));
                }
            }
        } else if lost {
            if timed {
                acc.lost_latencies.push(ms(after(seen.last_present) - known_time));
            }
            lost_claims.push((e, seen.known.unwrap_or(0), seen.last_absent.unwrap_or(0)));
        } else {
            acc.list("never-read", show(e.value));
        }
    }
    let wrap = |claim: Claim, explanation: String| SetFullAnomaly { key: key.cloned(), explanation, claim };
    let known_words = |k: u32| {
        let o = op(k);
        let how = if history.f_name(o) == "add" { "its add was acknowledged" } else { "a read returned it" };
        format!("{how} (op at index {}, completed at index {})", o.invoke_index, o.complete_index)
    };
    for (e, known, ab) in lost_claims {
        acc.list("lost", show(e.value));
        let absent = reads.op(ab);
        let explanation = format!(
            "{} was lost: {}, then the read invoked at index {} did not contain it, nor did any read invoked after that one",
            show(e.value),
            known_words(known),
            absent.invoke_index
        );
        let claim = Claim::Lost { element: e.value.clone(), known, absent: reads.sorted[ab].0 };
        acc.anomalies.push(wrap(claim, explanation));
        set.anomalies += 1;
    }
    for (e, known, ab) in stale_claims {
        acc.list("stale", show(e.value));
        let explanation = format!(
            "{} was stale{}: {}, yet the read invoked at index {} did not contain it; every read invoked after that one did (the first at index {})",
            show(e.value),
            if options.linearizable { "" } else { " (allowed without --linearizable)" },
            known_words(known),
            reads.op(ab).invoke_index,
            reads.op(ab - 1).invoke_index
        );
        let claim = Claim::Stale {
            element: e.value.clone(),
            known,
            absent: reads.sorted[ab].0,
            present: reads.sorted[ab - 1].0,
        };
        acc.stale.push(wrap(claim, explanation));
        if options.linearizable {
            acc.anomalies.push(acc.stale[acc.stale.len() - 1].clone());
            set.anomalies += 1;
        }
    }
    for (v, (times, read)) in dups {
        acc.list("duplicated", show(v));
        let explanation =
            format!("{} appears {times} times in the read at index {}", show(v), op(read).invoke_index);
        acc.anomalies.push(wrap(Claim::Duplicated { element: v.clone(), read, times }, explanation));
        set.anomalies += 1;
    }
    for (v, read) in unexpected {
        acc.list("unexpected", show(v));
        let explanation = format!(
            "{} was read (op at index {}) but no add of it was ever invoked",
            show(v),
            op(read).invoke_index
        );
        acc.anomalies.push(wrap(Claim::Unexpected { element: v.clone(), read }, explanation));
        set.anomalies += 1;
    }
    acc.count("attempt-count", elements.len());
    acc.count("stable-count", set.stable);
    acc.verdict.push(if set.anomalies > 0 {
        Verdict::Invalid
    } else if set.stable == 0 {
        let which = key.map(|k| format!("set {k}: ")).unwrap_or_default();
        acc.notes.push(format!(
            "{which}no element is stable (in every read invoked after the last read that missed it), so nothing shows the set kept what was added"
        ));
        Verdict::Unknown
    } else {
        Verdict::Valid
    });
}

#[derive(Default)]
struct SetVerdict {
    stable: usize,
    anomalies: usize,
}

impl Totals {
    fn list(&mut self, name: &str, element: String) {
        self.elements.entry(name.to_string()).or_default().push(element);
    }

    fn count(&mut self, name: &str, n: usize) {
        *self.counts.entry(name.to_string()).or_insert(0) += n;
    }

    fn finish(mut self, timed: bool) -> SetFullReport {
        for name in ["lost", "never-read", "stale", "duplicated", "unexpected"] {
            let n = self.elements.entry(name.to_string()).or_default().len();
            self.counts.insert(format!("{name}-count"), n);
        }
        let mut latencies = BTreeMap::new();
        for (name, values) in
            [("stable-latencies", self.stable_latencies), ("lost-latencies", self.lost_latencies)]
        {
            if let Some(q) = quantiles(values) {
                latencies.insert(name.to_string(), q);
            }
        }
        if !timed {
            self.notes.push("no :time on every event: latencies are not computed".to_string());
        }
        SetFullReport {
            valid: Verdict::combine(self.verdict),
            anomalies: self.anomalies,
            stale: self.stale,
            counts: self.counts,
            elements: self.elements,
            latencies,
            notes: self.notes,
        }
    }
}

/// Jepsen's `frequency-distribution` at 0, 0.5, 0.95, 0.99 and 1: the value at
/// `min(n - 1, floor(n * q))` of the sorted values.
pub(crate) fn quantiles(mut values: Vec<i64>) -> Option<BTreeMap<String, i64>> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let n = values.len();
    let at = |q: f64| values[((n as f64 * q).floor() as usize).min(n - 1)];
    Some(
        [("0", 0.0), ("0.5", 0.5), ("0.95", 0.95), ("0.99", 0.99), ("1", 1.0)]
            .into_iter()
            .map(|(name, q)| (name.to_string(), at(q)))
            .collect(),
    )
}
