//! Duplicate effects: an observation that needs more effects than were ever asked for — a
//! counter read above every increment that could precede it, an element dequeued more often
//! than it was enqueued. The signature of a retried non-idempotent op: the client timed out,
//! tried again, and both attempts took effect; or the failure it reported was not one.

use super::{Classified, class};
use crate::model::Model;
use crate::split::{Entry, Part};
use crate::vocab::ClassKind;

/// Above this many ops on a key, duplicate effects are not looked for: each completed op is
/// weighed against all the others, so the work is quadratic.
pub const MAX_OPS: usize = 4_000;

/// How many of the counted ops an explanation cites by name.
const CITED: usize = 4;

/// Whether one entry certainly took effect before another (`certainly`), or may have (`maybe`):
/// real-time order (with skew) for linearizability, process order for sequential consistency.
pub struct Precedence<'a, O> {
    /// `a` certainly took effect before `b`.
    pub certainly: &'a dyn Fn(&Entry<O>, &Entry<O>) -> bool,
    /// `a` may have taken effect before `b`.
    pub maybe: &'a dyn Fn(&Entry<O>, &Entry<O>) -> bool,
}

/// Names a duplicate effect on `part`, if some completed op's result needs more effects than
/// the ops that may precede it can have had, each once ([`Model::over_count`]). The ops cited
/// are entry indices; a failed op that would account for the excess is named as having taken
/// effect after all, and a later op equal to it as its retry.
pub fn classify_duplicate<M: Model>(
    model: &M,
    part: &Part<M::Op>,
    init: &M::State,
    order: &Precedence<'_, M::Op>,
) -> Option<Classified> {
    let e = &part.entries;
    if e.len() > MAX_OPS {
        return None;
    }
    for o in 0..part.determinate {
        let (before, maybe) = preceding(e, o, order);
        let ops = |idx: &[usize]| idx.iter().map(|&i| &e[i].op).collect::<Vec<_>>();
        let (before_ops, maybe_ops) = (ops(&before), ops(&maybe));
        let Some(over) = model.over_count(init, &e[o].op, &before_ops, &maybe_ops) else { continue };
        let entry = |&i: &usize| if i < before.len() { before[i] } else { maybe[i - before.len()] } as u32;
        let counted: Vec<u32> = over.counted.iter().map(entry).collect();
        let consumed: Vec<u32> = over.consumed.iter().map(entry).collect();
        let observed = Observed { observer: o as u32, observed: &over.observed, consumed: &consumed };
        let failed = failed_culprit(model, part, init, o, &before_ops, maybe_ops, order);
        return Some(match failed {
            Some(f) => failed_took_effect(part, &observed, f, &over.possible),
            None => unexplained(&observed, &counted, &over.possible),
        });
    }
    None
}

/// The entries other than `o` that certainly, and that only may, precede it.
fn preceding<O>(e: &[Entry<O>], o: usize, order: &Precedence<'_, O>) -> (Vec<usize>, Vec<usize>) {
    let (mut before, mut maybe) = (Vec::new(), Vec::new());
    for (i, a) in e.iter().enumerate() {
        if i == o {
            continue;
        }
        if (order.certainly)(a, &e[o]) {
            before.push(i);
        } else if (order.maybe)(a, &e[o]) {
            maybe.push(i);
        }
    }
    (before, maybe)
}

/// A failed op that, had it taken effect, would account for what `o` saw.
fn failed_culprit<'a, M: Model>(
    model: &M,
    part: &'a Part<M::Op>,
    init: &M::State,
    o: usize,
    before: &[&M::Op],
    mut maybe: Vec<&'a M::Op>,
    order: &Precedence<'_, M::Op>,
) -> Option<usize> {
    let e = &part.entries;
    part.failed_ops.iter().enumerate().filter(|(_, f)| (order.maybe)(f, &e[o])).find_map(|(i, f)| {
        // Try it in the last place of `maybe`, then take it out again.
        maybe.push(&f.op);
        let explained = model.over_count(init, &e[o].op, before, &maybe).is_none();
        maybe.pop();
        explained.then_some(i)
    })
}

/// The op whose result shows the excess, what it saw, and the ops that used up effects before it.
struct Observed<'a> {
    observer: u32,
    observed: &'a str,
    consumed: &'a [u32],
}

impl Observed<'_> {
    /// The ops to cite: the observer as `{0}`, then the consumers, then `more`; and the
    /// sentence's opening, with those placeholders.
    fn opening(&self, more: &[u32]) -> (Vec<u32>, String) {
        let mut ops = vec![self.observer];
        ops.extend(self.consumed.iter().take(CITED));
        let after = cite(1, self.consumed.len());
        ops.extend(more.iter().take(CITED));
        let after = if after.is_empty() { String::new() } else { format!(" (after {after})") };
        (ops, format!("{{0}} {}{after}", self.observed))
    }
}

/// Placeholders `{first}`… for `n` ops, of which at most [`CITED`] are named.
fn cite(first: usize, n: usize) -> String {
    let mut cited: Vec<String> = (first..first + n.min(CITED)).map(|i| format!("{{{i}}}")).collect();
    if n > CITED {
        cited.push(format!("{} more", n - CITED));
    }
    cited.join(", ")
}

fn failed_took_effect<O: PartialEq>(
    part: &Part<O>,
    observed: &Observed<'_>,
    failed: usize,
    possible: &str,
) -> Classified {
    let f = &part.failed_ops[failed];
    // Its retry: the same op again, begun after the failure was reported.
    let retry = part.entries.iter().position(|r| r.op == f.op && r.invoke > f.complete);
    let (mut ops, opening) = observed.opening(&[]);
    let mut c = match retry {
        Some(r) => {
            ops.push(r as u32);
            let k = ops.len() - 1;
            class(
                ClassKind::DuplicateEffect,
                ops,
                &format!(
                    "{opening}, but {possible}: {{failed}} was reported failed yet took effect, and was retried \
                     as {{{k}}}: the op was applied twice"
                ),
            )
        }
        None => class(
            ClassKind::ReadOfFailedWrite,
            ops,
            &format!("{opening}, but {possible}: {{failed}} was reported failed yet took effect"),
        ),
    };
    c.failed_op = Some(failed as u32);
    c
}

fn unexplained(observed: &Observed<'_>, counted: &[u32], possible: &str) -> Classified {
    let (ops, opening) = observed.opening(counted);
    let first = 1 + observed.consumed.len().min(CITED);
    let from = if counted.is_empty() { String::new() } else { format!(" ({})", cite(first, counted.len())) };
    class(
        ClassKind::DuplicateEffect,
        ops,
        &format!(
            "{opening}, but {possible}{from}: an effect was applied more than once, the signature of a retried \
             non-idempotent op"
        ),
    )
}
