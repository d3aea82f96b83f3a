//! Classes of sequential-consistency violations, over process order only (no real time):
//!
//! - `own-write-not-read`: a process wrote a value and later read an older one — one that only
//!   it had written, before that write, or the initial value nobody writes again.
//! - `out-of-order-read`: a process read a value and later an older one (older by the writer's
//!   own process order, or the initial value): its reads went back.
//! - `disagreeing-order`: two processes saw two writes in opposite orders (each saw one write
//!   and, after it, the other's value, or the initial value of the other's slot).
//!
//! Each pattern is a definite violation: "A before B" is only claimed when every sequentially
//! consistent order must have it. Values are told apart by the facts of [`Model::needs`] and
//! [`Model::leaves`] (registers, and several keys together); a value counts as written by one
//! op only if exactly one op leaves it (a cas from it to itself aside).

use super::Classified;
use crate::model::{Fact, Model};
use crate::split::Part;
use crate::vocab::ClassKind;
use ahash::AHashMap;

/// How far back in a process's order a pair of observations is looked for: bounds the work on
/// long processes; patterns further apart go unnamed (the verdict stands regardless).
const WINDOW: usize = 64;

/// What one op of a process shows about the writes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Seen {
    /// Write `w` had happened (the op is `w`, or read what only `w` wrote).
    Write { w: u32, own: bool },
    /// No write to this slot had happened (the op read the initial value nobody writes).
    Initial { slot: u32 },
}

/// "`a` happened before `b`": `b` is a write, or every write to a slot.
#[derive(Clone, Copy)]
struct Order {
    a: u32,
    b: Target,
    /// The two ops of the process that show it, in its order.
    by: (u32, u32),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    Write(u32),
    Slot(u32),
}

/// Names the sequential-consistency violation on `part`, when one of the patterns is there.
pub fn classify_sequential<M: Model>(model: &M, part: &Part<M::Op>) -> Option<Classified> {
    let seen = observations(model, part);
    let fact = |w: u32| model.leaves(&part.entries[w as usize].op);
    let slot = |w: u32| fact(w).map(|f| f.slot);
    let mut orders = Vec::new();
    for ops in &seen {
        for (j, &(o2, s2)) in ops.iter().enumerate() {
            for &(o1, s1) in ops[j.saturating_sub(WINDOW)..j].iter().rev() {
                let Seen::Write { w: a, own } = s1 else { continue };
                let b = match s2 {
                    // A different value on the same slot (a write of the same value again, a
                    // cas from it to itself, could come between).
                    Seen::Write { w, own: false } if fact(w) != fact(a) && slot(w) == slot(a) => {
                        Target::Write(w)
                    }
                    Seen::Initial { slot } => Target::Slot(slot),
                    _ => continue,
                };
                let order = Order { a, b, by: (o1, o2) };
                if let Some(c) = contradicted_within(part, &order, own, &slot) {
                    return Some(c);
                }
                orders.push(order);
            }
        }
    }
    disagreeing(part, &orders, &slot)
}

/// Each process's completed ops that show something about the writes, in its order.
fn observations<M: Model>(model: &M, part: &Part<M::Op>) -> Vec<Vec<(u32, Seen)>> {
    let e = &part.entries;
    let mut writers: AHashMap<Fact, Vec<u32>> = AHashMap::new();
    let written: ahash::AHashSet<Fact> = e.iter().filter_map(|x| model.leaves(&x.op)).collect();
    for (i, x) in e.iter().enumerate() {
        if let Some(f) = model.leaves(&x.op).filter(|&f| model.needs(&x.op) != Some(f)) {
            writers.entry(f).or_default().push(i as u32);
        }
    }
    let init = model.init();
    let mut by_process: AHashMap<u32, Vec<(u32, Seen)>> = AHashMap::new();
    let mut order: Vec<u32> = (0..part.determinate as u32).collect();
    order.sort_by_key(|&i| (e[i as usize].process, e[i as usize].invoke));
    for i in order {
        let x = &e[i as usize];
        let mut shown = Vec::new();
        if let Some(f) = model.needs(&x.op) {
            // The initial value counts as one more writer of what it holds.
            let initially = model.step(&init, &x.op).is_some();
            match writers.get(&f).map(Vec::as_slice) {
                Some(&[w]) if w != i && !initially => shown.push(Seen::Write { w, own: false }),
                None if !written.contains(&f) && initially => shown.push(Seen::Initial { slot: f.slot }),
                _ => {}
            }
        }
        if model.leaves(&x.op).is_some() {
            shown.push(Seen::Write { w: i, own: true });
        }
        by_process.entry(x.process).or_default().extend(shown.into_iter().map(|s| (i, s)));
    }
    let mut out: Vec<Vec<(u32, Seen)>> = by_process.into_values().collect();
    out.sort_by_key(|ops| ops.first().map(|&(i, _)| i));
    out
}

/// A process that saw `order` while its own writes (or the initial value) say the opposite:
/// it read, after write a, a value written before a by a's own process, or the initial one.
fn contradicted_within<O>(
    part: &Part<O>,
    order: &Order,
    own: bool,
    slot: &dyn Fn(u32) -> Option<u32>,
) -> Option<Classified> {
    let e = &part.entries;
    let before_a = match order.b {
        // b wrote a value, and a's process wrote b before a.
        Target::Write(b) => {
            (b as usize) < part.determinate
                && e[b as usize].process == e[order.a as usize].process
                && b < order.a
        }
        // The initial value of a's own slot.
        Target::Slot(s) => slot(order.a) == Some(s),
    };
    if !before_a {
        return None;
    }
    let (o1, o2) = order.by;
    Some(if own {
        super::class(
            ClassKind::OwnWriteNotRead,
            vec![o1, o2],
            "the process that ran {0} did not see its own write: its later {1} returned an older value",
        )
    } else {
        super::class(
            ClassKind::OutOfOrderRead,
            vec![o1, o2],
            "one process saw {0} and then {1}, an older value: its reads went back in time",
        )
    })
}

/// Two processes that saw two writes in opposite orders.
fn disagreeing<O>(part: &Part<O>, orders: &[Order], slot: &dyn Fn(u32) -> Option<u32>) -> Option<Classified> {
    let e = &part.entries;
    let covers = |t: Target, w: u32| match t {
        Target::Write(b) => b == w,
        Target::Slot(s) => slot(w) == Some(s),
    };
    let mut by_first: AHashMap<u32, Vec<&Order>> = AHashMap::new();
    for o in orders.iter().take(20_000) {
        by_first.entry(o.a).or_default().push(o);
    }
    for p in orders.iter().take(20_000) {
        let candidates = match p.b {
            Target::Write(b) => by_first.get(&b).map(Vec::as_slice).unwrap_or_default().to_vec(),
            Target::Slot(_) => {
                by_first.iter().filter(|(w, _)| covers(p.b, **w)).flat_map(|(_, v)| v.clone()).collect()
            }
        };
        let q = candidates.into_iter().find(|q| {
            covers(p.b, q.a) && covers(q.b, p.a) && e[q.by.0 as usize].process != e[p.by.0 as usize].process
        });
        if let Some(q) = q {
            return Some(super::class(
                ClassKind::DisagreeingOrder,
                vec![p.by.0, p.by.1, q.by.0, q.by.1],
                "two processes disagree on the order of two writes: one saw {0} and then {1}; the other saw {2} and then {3}",
            ));
        }
    }
    None
}
