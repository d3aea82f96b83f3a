//! Re-derives a set-full report's totals from the raw ops, with code of its own: every
//! element's fate (stable, lost or never read; stale), the duplicated and unexpected elements,
//! Jepsen's counts and element lists, the latency quantiles and the verdict. So a `valid`
//! verdict — no element lost — is certified too, not only the anomalies a report claims.
//!
//! The definitions are Jepsen's, as `crate::set_full` states them: an element is tracked from
//! its last add's invocation; only `:ok` reads completing after that speak of it; it is known
//! from the first (by completion) acknowledged add or read containing it; its last present and
//! last absent reads are the latest invoked that did and did not contain it.
//!
//! Cost: one pass over the reads' elements, then per element a walk over the reads, latest
//! first, that stops at the first one missing it: linear in the size of the reads.

use super::Refuted;
use crate::history::{Clock, History, Op, Outcome, Value, ValueId};
use crate::outcome::Verdict;
use crate::set_full::{SetFullOptions, SetFullReport};
use crate::split::Keying;
use ahash::AHashMap;
use std::collections::BTreeMap;

/// One set's ops, as this module reads them.
#[derive(Default)]
struct OneSet<'h> {
    adds: Vec<(&'h Op, &'h Value)>,
    reads: Vec<(&'h Op, &'h [Value])>,
}

/// The set an op is of under `keying`, with what it carries for that set (an add's element,
/// a read's completion); `None` when the op has not the shape of one.
fn set_of<'h>(
    history: &'h History,
    op: &'h Op,
    keying: Keying,
) -> Option<(Option<&'h Value>, &'h Value, &'h Value)> {
    let (input, output) = (history.value(op.input), history.value(op.output));
    match keying {
        Keying::Single => Some((None, input, output)),
        Keying::KeyField => (op.key != ValueId::NONE).then(|| (Some(history.value(op.key)), input, output)),
        Keying::Tuple => {
            let (k, v) = input.as_tuple()?;
            // A keyed read may complete with `[k elements]` or with the flat elements.
            let out = match output.as_tuple() {
                Some((k2, o)) if k2 == k && elements(o).is_some() => o,
                _ => output,
            };
            Some((Some(k), v, out))
        }
    }
}

/// A read's completion as its elements, repeats kept.
fn elements(v: &Value) -> Option<&[Value]> {
    match v {
        Value::Nil => Some(&[]),
        Value::Vector(s) | Value::List(s) | Value::Set(s) => Some(s),
        _ => None,
    }
}

/// What the totals of all sets come to.
#[derive(Default)]
struct Totals {
    lists: BTreeMap<&'static str, Vec<String>>,
    counts: BTreeMap<String, usize>,
    stable_ms: Vec<i64>,
    lost_ms: Vec<i64>,
    verdicts: Vec<Verdict>,
}

/// Certifies `report`'s counts, element lists, latencies and verdict against the totals
/// re-derived from `history` (each set by `keying`), checked with `options`.
pub fn certify_set_full_totals(
    history: &History,
    keying: Keying,
    options: &SetFullOptions,
    report: &SetFullReport,
) -> Result<(), Refuted> {
    let mut sets: BTreeMap<Option<&Value>, OneSet> = BTreeMap::new();
    for op in &history.ops {
        let f = history.value(op.f).as_name();
        let Some((key, input, output)) = set_of(history, op, keying) else { continue };
        match (f, elements(output)) {
            (Some("add"), _) => sets.entry(key).or_default().adds.push((op, input)),
            (Some("read"), Some(items)) if op.outcome == Outcome::Ok => {
                sets.entry(key).or_default().reads.push((op, items));
            }
            _ => {}
        }
    }
    let mut totals = Totals::default();
    for (key, set) in &sets {
        one_set(*key, set, options, &mut totals);
    }
    compare(history, report, totals)
}

/// Each element of one set: its tracking start, its acknowledged adds.
struct Tracked<'h> {
    value: &'h Value,
    from: u64,
    acks: Vec<&'h Op>,
}

fn one_set(key: Option<&Value>, set: &OneSet, options: &SetFullOptions, totals: &mut Totals) {
    let mut ids: AHashMap<&Value, usize> = AHashMap::new();
    let mut tracked: Vec<Tracked> = Vec::new();
    for &(add, v) in &set.adds {
        let id = *ids.entry(v).or_insert_with(|| {
            tracked.push(Tracked { value: v, from: 0, acks: Vec::new() });
            tracked.len() - 1
        });
        tracked[id].from = tracked[id].from.max(add.invoke_index);
        if add.outcome == Outcome::Ok {
            tracked[id].acks.push(add);
        }
    }
    // Reads latest invoked first; per element, the ranks of the reads holding it.
    let mut reads: Vec<(&Op, &[Value])> = set.reads.clone();
    reads.sort_by_key(|(op, _)| std::cmp::Reverse(op.invoke_index));
    let mut holding: Vec<Vec<u32>> = vec![Vec::new(); tracked.len()];
    let (mut duplicated, mut unexpected) = (BTreeMap::new(), BTreeMap::new());
    // One lookup per element read: an added element read twice by one read is caught by the
    // rank it was last read at; elements never added are rare, and counted apart.
    let mut last_read = vec![usize::MAX; tracked.len()];
    for (rank, (_, items)) in reads.iter().enumerate() {
        let mut strangers: AHashMap<&Value, usize> = AHashMap::new();
        for v in *items {
            let again = match ids.get(v) {
                Some(&id) if last_read[id] == rank => true,
                Some(&id) => {
                    last_read[id] = rank;
                    holding[id].push(rank as u32);
                    false
                }
                None => {
                    unexpected.insert(v, ());
                    let n = strangers.entry(v).or_default();
                    *n += 1;
                    *n > 1
                }
            };
            if again {
                duplicated.insert(v, ());
            }
        }
    }
    let show = |v: &Value| key.map_or_else(|| v.to_string(), |k| format!("[{k} {v}]"));
    let (mut stable, mut anomalies) = (0, duplicated.len() + unexpected.len());
    let by_rank = Ranked {
        ops: reads.iter().map(|(op, _)| *op).collect(),
        done: reads.iter().map(|(op, _)| op.complete_index).collect(),
    };
    for (e, ranks) in tracked.iter().zip(&holding) {
        let fate = fate(e, ranks, &by_rank);
        let list = match fate.kind {
            Fate::Stable => {
                stable += 1;
                totals.stable_ms.push(fate.latency);
                if fate.stale {
                    totals.lists.entry("stale").or_default().push(show(e.value));
                    anomalies += usize::from(options.linearizable);
                }
                continue;
            }
            Fate::Lost => {
                totals.lost_ms.push(fate.latency);
                anomalies += 1;
                "lost"
            }
            Fate::NeverRead => "never-read",
        };
        totals.lists.entry(list).or_default().push(show(e.value));
    }
    totals.lists.entry("duplicated").or_default().extend(duplicated.keys().map(|v| show(v)));
    totals.lists.entry("unexpected").or_default().extend(unexpected.keys().map(|v| show(v)));
    *totals.counts.entry("attempt-count".into()).or_default() += tracked.len();
    *totals.counts.entry("stable-count".into()).or_default() += stable;
    totals.verdicts.push(match (anomalies, stable) {
        (0, 0) => Verdict::Unknown,
        (0, _) => Verdict::Valid,
        _ => Verdict::Invalid,
    });
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Fate {
    Stable,
    Lost,
    NeverRead,
}

/// An element's fate, its latency in ms (stable or lost), and whether it was stale.
struct Outcomes {
    kind: Fate,
    latency: i64,
    stale: bool,
}

/// The reads latest invoked first, and each one's completion `:index` (read once per element
/// holding it, so kept together).
struct Ranked<'h> {
    ops: Vec<&'h Op>,
    done: Vec<u64>,
}

/// What the reads (`ranks`: those holding `e`, ascending) say of `e`.
fn fate(e: &Tracked, ranks: &[u32], reads: &Ranked) -> Outcomes {
    let speaks = |r: usize| reads.done[r] > e.from;
    let last_present = ranks.iter().map(|&r| r as usize).find(|&r| speaks(r));
    let mut held = ranks.iter().peekable();
    let mut last_absent = None;
    for r in 0..reads.ops.len() {
        if held.peek().is_some_and(|&&h| h as usize == r) {
            held.next();
        } else if speaks(r) {
            last_absent = Some(r);
            break;
        }
    }
    let first_read = ranks.iter().map(|&r| r as usize).filter(|&r| speaks(r)).min_by_key(|&r| reads.done[r]);
    let known = e
        .acks
        .iter()
        .copied()
        .filter(|a| a.complete_index > e.from)
        .chain(first_read.map(|r| reads.ops[r]))
        .min_by_key(|o| o.complete_index);
    let invoked = |r: usize| reads.ops[r].invoke_index;
    let ms = |nanos: i64| nanos.max(0) / 1_000_000;
    let known_time = known.map_or(0, |k| k.complete_time);
    let just_after = |r: Option<usize>| r.map_or(0, |r| reads.ops[r].invoke_time + 1);
    let stable = last_present.is_some_and(|p| last_absent.is_none_or(|a| invoked(a) < invoked(p)));
    let known_before_absent =
        matches!((known, last_absent), (Some(k), Some(a)) if k.complete_index < invoked(a));
    if stable {
        return Outcomes {
            kind: Fate::Stable,
            latency: ms(just_after(last_absent) - known_time),
            stale: known_before_absent,
        };
    }
    let lost = known_before_absent
        && last_absent.is_some_and(|a| last_present.is_none_or(|p| invoked(p) < invoked(a)));
    if lost {
        Outcomes { kind: Fate::Lost, latency: ms(just_after(last_present) - known_time), stale: false }
    } else {
        Outcomes { kind: Fate::NeverRead, latency: 0, stale: false }
    }
}

/// Jepsen's quantiles (0, 0.5, 0.95, 0.99, 1) of `values`: the value at `min(n - 1, ⌊n·q⌋)`
/// once sorted.
fn quantiles(mut values: Vec<i64>) -> Option<BTreeMap<String, i64>> {
    values.sort_unstable();
    let n = values.len();
    (n > 0).then(|| {
        [("0", 0.0), ("0.5", 0.5), ("0.95", 0.95), ("0.99", 0.99), ("1", 1.0)]
            .into_iter()
            .map(|(name, q)| (name.to_string(), values[((n as f64 * q) as usize).min(n - 1)]))
            .collect()
    })
}

/// The report's totals are the ones re-derived.
fn compare(history: &History, report: &SetFullReport, mut totals: Totals) -> Result<(), Refuted> {
    for name in ["lost", "never-read", "stale", "duplicated", "unexpected"] {
        let mut derived = totals.lists.remove(name).unwrap_or_default();
        derived.sort_unstable();
        let mut listed = report.elements.get(name).cloned().unwrap_or_default();
        listed.sort_unstable();
        if listed != derived {
            return Err(Refuted::new(
                format!("the {name} elements listed ({})", listed.len()),
                format!("the ops show {} {name}: {}", derived.len(), derived.join(" ")),
            ));
        }
        totals.counts.insert(format!("{name}-count"), derived.len());
    }
    if report.counts != totals.counts {
        return Err(Refuted::new(
            format!("the counts {:?}", report.counts),
            format!("the ops give {:?}", totals.counts),
        ));
    }
    let mut latencies = BTreeMap::new();
    if history.clock == Clock::Time {
        for (name, values) in [("stable-latencies", totals.stable_ms), ("lost-latencies", totals.lost_ms)] {
            if let Some(q) = quantiles(values) {
                latencies.insert(name.to_string(), q);
            }
        }
    }
    if report.latencies != latencies {
        return Err(Refuted::new(
            format!("the latencies {:?}", report.latencies),
            format!("the ops give {latencies:?}"),
        ));
    }
    let verdict = Verdict::combine(totals.verdicts);
    if report.valid != verdict {
        return Err(Refuted::new(format!("verdict {:?}", report.valid), format!("the ops give {verdict:?}")));
    }
    Ok(())
}
