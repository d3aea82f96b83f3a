//! Certification of set-full reports ([`crate::set_full`]): each claim re-derived from the raw
//! ops of its set, with code of its own (its own reading of keys and of reads' completions),
//! and the `lost`, `stale`, `duplicated` and `unexpected` lists and the verdict held to the
//! certified claims.

use super::Refuted;
use crate::history::{History, Op, Outcome, Value, ValueId};
use crate::outcome::Verdict;
use crate::set_full::{Claim, SetFullAnomaly, SetFullOptions, SetFullReport};
use crate::split::Keying;
use ahash::{AHashMap, AHashSet};

/// The ops of one set, as this module reads them.
struct SetView<'h> {
    history: &'h History,
    key: Option<&'h Value>,
}

impl<'h> SetView<'h> {
    /// Whether `op` belongs to this set, and the value it carries for it (the element of an
    /// add; `nil` or the read's completion for a read).
    fn inner(&self, op: &'h Op) -> Option<&'h Value> {
        let input = self.history.value(op.input);
        match self.key {
            None => Some(input),
            Some(k) if op.key != ValueId::NONE => (self.history.value(op.key) == k).then_some(input),
            Some(k) => match input {
                Value::Vector(kv) if kv.len() == 2 && &kv[0] == k => Some(&kv[1]),
                Value::Tagged(_) => input.as_tuple().filter(|(k2, _)| *k2 == k).map(|(_, v)| v),
                _ => None,
            },
        }
    }

    fn is(&self, op: &Op, f: &str) -> bool {
        self.history.value(op.f).as_name() == Some(f)
    }

    /// The element an add of this set carried.
    fn added(&self, op: &'h Op) -> Option<&'h Value> {
        if self.is(op, "add") { self.inner(op) } else { None }
    }

    /// What an `:ok` read of this set returned, repeats kept.
    fn read(&self, op: &'h Op) -> Option<&'h [Value]> {
        if !self.is(op, "read") || op.outcome != Outcome::Ok {
            return None;
        }
        self.inner(op)?;
        let out = self.history.value(op.output);
        let flat = |v: &'h Value| match v {
            Value::Nil => Some(&[][..]),
            Value::Vector(s) | Value::List(s) | Value::Set(s) => Some(&s[..]),
            _ => None,
        };
        match (self.key, out) {
            (Some(k), Value::Vector(kv)) if kv.len() == 2 && &kv[0] == k && flat(&kv[1]).is_some() => {
                flat(&kv[1])
            }
            _ => flat(out),
        }
    }

    fn contains(&self, op: &'h Op, e: &Value) -> Option<bool> {
        self.read(op).map(|items| items.contains(e))
    }

    fn op(&self, p: u32) -> Option<&'h Op> {
        self.history.ops.get(p as usize)
    }
}

/// One set's `:ok` reads, by invocation `:index`, each with its elements hashed; and the
/// elements its adds carried. Built once per set that a claim names.
struct SetIndex<'h> {
    reads: Vec<(u64, AHashSet<&'h Value>)>,
    added: AHashSet<&'h Value>,
}

impl<'h> SetIndex<'h> {
    fn of(set: &SetView<'h>) -> SetIndex<'h> {
        let mut reads = Vec::new();
        let mut added = AHashSet::new();
        for op in &set.history.ops {
            if let Some(items) = set.read(op) {
                reads.push((op.invoke_index, items.iter().collect()));
            } else if let Some(e) = set.added(op) {
                added.insert(e);
            }
        }
        reads.sort_unstable_by_key(|r| r.0);
        SetIndex { reads, added }
    }

    /// Whether each `:ok` read invoked after `index` contains `e`.
    fn later<'a>(&'a self, index: u64, e: &'a Value) -> impl Iterator<Item = (u64, bool)> + 'a {
        let from = self.reads.partition_point(|r| r.0 <= index);
        self.reads[from..].iter().map(move |(i, items)| (*i, items.contains(e)))
    }
}

/// Certifies every claim of `report`, and its lists and verdict against them; then its totals
/// (every element's fate, the counts, lists, latencies and verdict) re-derived from the raw
/// ops, each set by `keying`, as checked with `options`.
pub fn certify_set_full_report(
    history: &History,
    keying: Keying,
    options: &SetFullOptions,
    report: &SetFullReport,
) -> Result<(), Refuted> {
    let mut indexes: AHashMap<Option<&Value>, SetIndex> = AHashMap::new();
    for a in report.anomalies.iter().chain(&report.stale) {
        let set = SetView { history, key: a.key.as_ref() };
        let index = indexes.entry(a.key.as_ref()).or_insert_with(|| SetIndex::of(&set));
        certify_claim(&set, index, a)
            .map_err(|why| Refuted::new(format!("{}: {}", a.claim.kind(), a.explanation), why))?;
    }
    let listed = |name: &str| report.elements.get(name).map_or(0, Vec::len);
    let claimed = |kind: &str| report.anomalies.iter().filter(|a| a.claim.kind() == kind).count();
    for kind in ["lost", "duplicated", "unexpected"] {
        if listed(kind) != claimed(kind)
            || report.counts.get(&format!("{kind}-count")) != Some(&claimed(kind))
        {
            return Err(Refuted::new(
                format!("{} {kind} element(s) listed", listed(kind)),
                format!("{} {kind} claim(s) were certified", claimed(kind)),
            ));
        }
    }
    if listed("stale") != report.stale.len() || report.stale.iter().any(|a| a.claim.kind() != "stale") {
        return Err(Refuted::new(
            format!("{} stale element(s) listed", listed("stale")),
            format!("{} stale claim(s) were made", report.stale.len()),
        ));
    }
    let invalid = !report.anomalies.is_empty();
    if invalid != (report.valid == Verdict::Invalid) {
        return Err(Refuted::new(
            format!("verdict {:?}", report.valid),
            format!("{} certified anomalies", report.anomalies.len()),
        ));
    }
    super::set_full_totals::certify_set_full_totals(history, keying, options, report)
}

fn certify_claim(set: &SetView, index: &SetIndex, a: &SetFullAnomaly) -> Result<(), String> {
    let e = a.claim.element();
    let get = |p: u32| set.op(p).ok_or_else(|| format!("op {p} is not in the history"));
    match &a.claim {
        Claim::Lost { known, absent, .. } => {
            let absent = known_then_missed(set, e, get(*known)?, get(*absent)?)?;
            match index.later(absent.invoke_index, e).find(|r| r.1) {
                Some((i, _)) => Err(format!("the later read at index {i} contains it")),
                None => Ok(()),
            }
        }
        Claim::Stale { known, absent, present, .. } => {
            let absent = known_then_missed(set, e, get(*known)?, get(*absent)?)?;
            let present = get(*present)?;
            if present.invoke_index <= absent.invoke_index || set.contains(present, e) != Some(true) {
                return Err(format!(
                    "op {} is not a read invoked after it that contains it",
                    present.invoke_index
                ));
            }
            match index.later(absent.invoke_index, e).find(|r| !r.1) {
                Some((i, _)) => Err(format!("the later read at index {i} misses it too")),
                None => Ok(()),
            }
        }
        Claim::Duplicated { read, times, .. } => {
            let items = set.read(get(*read)?).ok_or("it is not an :ok read of this set")?;
            let n = items.iter().filter(|v| *v == e).count();
            if n > 1 && n == *times { Ok(()) } else { Err(format!("the read has it {n} time(s)")) }
        }
        Claim::Unexpected { read, .. } => {
            if set.contains(get(*read)?, e) != Some(true) {
                return Err("the read does not contain it".to_string());
            }
            if index.added.contains(e) { Err("an add of it was invoked".to_string()) } else { Ok(()) }
        }
    }
}

/// Checks that `known` showed `e` present (an `:ok` add of it, or an `:ok` read containing it)
/// and that `absent`, an `:ok` read invoked after `known` completed, did not contain it.
fn known_then_missed<'h>(
    set: &SetView<'h>,
    e: &Value,
    known: &'h Op,
    absent: &'h Op,
) -> Result<&'h Op, String> {
    let shows =
        (known.outcome == Outcome::Ok && set.added(known) == Some(e)) || set.contains(known, e) == Some(true);
    if !shows {
        return Err(format!("op {} neither added it with :ok nor read it", known.invoke_index));
    }
    if set.contains(absent, e) != Some(false) {
        return Err(format!("op {} is not an :ok read of this set without it", absent.invoke_index));
    }
    if absent.invoke_index <= known.complete_index {
        return Err(format!(
            "the read at index {} was invoked before op {} completed",
            absent.invoke_index, known.invoke_index
        ));
    }
    Ok(absent)
}
