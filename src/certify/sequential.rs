//! Sequential consistency's named violations of registers, re-derived from the raw values over
//! process order alone (no real time):
//!
//! - `own-write-not-read` `[w, r]`: a process's op `w` left a value, and its later `r` saw an
//!   older one;
//! - `out-of-order-read` `[r1, r2]`: a process saw a value, and later an older one;
//! - `disagreeing-order` `[p1, p2, q1, q2]`: two processes saw two writes in opposite orders.
//!
//! "Older" is what two ops of one process show: if a completed op `o1` shows that write `a` had
//! happened (it is `a`, or it saw the value only `a` wrote), and its process's later `o2` saw
//! a value `t` other than `a`'s, then `o2`'s value came after `a`: written only by `b`, which
//! thus follows `a` (else `a` would have hidden `t` from `o2`); or the initial value, which nobody
//! writes, so every op leaving another value in that register follows `a`. Either is a
//! contradiction when the write it puts after `a` must come before it: `a` itself, or a write
//! `a`'s process completed before `a`; or, for two processes, each other's `a`.

use super::linear::{Check, ensure};
use super::saturation::ScView;
use crate::vocab::ClassKind;

/// What two ops of one process show must follow the write `a`.
#[derive(Clone, Copy, Debug)]
enum Target {
    /// The write `b`.
    Write(u32),
    /// Every op of register `slot` leaving another value than `value` (its initial value).
    Slot { slot: u32, value: u32 },
}

/// A write `a` that two ops of one process show must precede a [`Target`].
#[derive(Clone, Copy, Debug)]
struct Order {
    a: u32,
    target: Target,
}

/// The classes with rules here.
pub(super) const CLASSES: [ClassKind; 3] =
    [ClassKind::OwnWriteNotRead, ClassKind::OutOfOrderRead, ClassKind::DisagreeingOrder];

/// Whether `kind` has a rule here.
pub(super) fn knows(kind: ClassKind) -> bool {
    CLASSES.contains(&kind)
}

/// A named violation of sequential consistency over the cited ops (history positions).
pub(super) fn certify_class(view: &ScView, kind: ClassKind, ops: &[u32]) -> Check {
    let nodes: Vec<u32> = ops.iter().map(|&p| view.node(p)).collect::<Result<_, _>>()?;
    match (kind, nodes.as_slice()) {
        (ClassKind::OwnWriteNotRead, &[w, r]) => went_back(view, w, r, true),
        (ClassKind::OutOfOrderRead, &[r1, r2]) => went_back(view, r1, r2, false),
        (ClassKind::DisagreeingOrder, &[p1, p2, q1, q2]) => disagree(view, [p1, p2], [q1, q2]),
        _ => Err(format!("no rule for {kind} with {} ops", ops.len())),
    }
}

/// One process's `o1` (its own write when `own`, else what it saw) and later `o2` show an
/// order that process order or the initial value contradicts.
fn went_back(view: &ScView, o1: u32, o2: u32, own: bool) -> Check {
    let o = order(view, o1, o2, own)?;
    let contradicted = match o.target {
        Target::Write(b) => {
            let (nb, na) = (&view.nodes[b as usize], &view.nodes[o.a as usize]);
            nb.completed && nb.process == na.process && nb.pos < na.pos
        }
        Target::Slot { .. } => covers(view, o.target, o.a),
    };
    ensure(contradicted, || {
        "the older value's writer need not precede the first op's write in process order".into()
    })
}

/// Two processes' pairs of ops show two writes in opposite orders.
fn disagree(view: &ScView, p: [u32; 2], q: [u32; 2]) -> Check {
    let (np, nq) = (&view.nodes[p[0] as usize], &view.nodes[q[0] as usize]);
    ensure(np.process != nq.process, || "the two pairs are of one process".into())?;
    // A cas shows two writes: its own, and the one whose value it saw.
    let shown = |[o1, o2]: [u32; 2]| -> Vec<Order> {
        [true, false].into_iter().filter_map(|own| order(view, o1, o2, own).ok()).collect()
    };
    let (ps, qs) = (shown(p), shown(q));
    let opposite =
        ps.iter().any(|x| qs.iter().any(|y| covers(view, x.target, y.a) && covers(view, y.target, x.a)));
    ensure(opposite, || "the two processes' ops show no two writes in opposite orders".into())
}

/// Whether `target` names the op `w`.
fn covers(view: &ScView, target: Target, w: u32) -> bool {
    match target {
        Target::Write(b) => b == w,
        Target::Slot { slot, value } => {
            let n = &view.nodes[w as usize];
            n.slot == slot && n.leaves.is_some_and(|u| u != value)
        }
    }
}

/// The order `o1` then `o2` (completed, of one process, in its order) show: the write `o1`
/// shows (itself when `own`, else the only writer of what it saw) precedes what `o2` saw.
fn order(view: &ScView, o1: u32, o2: u32, own: bool) -> Result<Order, String> {
    let (n1, n2) = (&view.nodes[o1 as usize], &view.nodes[o2 as usize]);
    ensure(n1.completed && n2.completed, || "not two completed ops".into())?;
    ensure(n1.process == n2.process && n1.pos < n2.pos, || {
        "not two ops of one process, in its order".into()
    })?;
    let a = if own {
        n1.leaves.map(|_| o1).ok_or("the first op left no value")?
    } else {
        let seen = n1.sees.and_then(|v| view.unique_writer(v)).filter(|&w| w != o1);
        seen.ok_or("the first op saw no value written only once")?
    };
    let na = &view.nodes[a as usize];
    let t = n2.sees.ok_or("the second op saw no value")?;
    ensure(na.leaves.is_some_and(|u| u != t), || "the second op saw the first op's value".into())?;
    let target = if view.initial_unwritten(t) {
        Target::Slot { slot: n2.slot, value: t }
    } else {
        let b = view.unique_writer(t).filter(|&b| b != o2 && view.nodes[b as usize].slot == na.slot);
        Target::Write(b.ok_or("the second op's value is not written once in the first op's register")?)
    };
    Ok(Order { a, target })
}
