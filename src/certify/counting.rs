//! Duplicate effects on models whose effects can be counted (`counter`, `unordered-queue`,
//! `fifo-queue`), re-derived from the raw values: an observation that needs more effects than
//! the ops that could precede it can have had, each applied once.
//!
//! - A counter read of `c`: the initial count plus every positive add that could precede the
//!   read (not failed, and not certainly after it) is below `c`, and no sum of those amounts
//!   can wrap around.
//! - A queue dequeue of `x`: it and the completed dequeues of `x` that certainly came before it
//!   take `x` more often than the enqueues of `x` that could precede it put it there.
//!
//! "Could precede" and "certainly before" are real time (with the skew) for linearizability,
//! process order for sequential consistency. A failed op named as having taken effect after all
//! must account for the excess; its retry, when one is cited, is the same op again, begun after
//! the failure was reported.

use super::linear::{Check, ModelFacts, RawOp, Setting, ensure, raw_ops};
use crate::history::{History, Value};
use crate::model::EdgeKind;
use crate::vocab::ClassKind;
use ahash::{AHashMap, AHashSet};

/// What an op did, as far as counting goes.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Effect {
    /// A counter add of this amount.
    Add(i64),
    /// A counter read that completed with this count.
    Read(i64),
    /// An enqueue of this element.
    Enqueue(Value),
    /// A dequeue that completed with this element.
    Dequeue(Value),
    /// Anything else: a read or dequeue whose result is unknown, a dequeue that found the queue
    /// empty.
    Other,
}

struct CountOp {
    effect: Effect,
    completed: bool,
    failed: bool,
    invoke: i64,
    complete: i64,
    failed_at: i64,
    process: u32,
}

pub(super) struct CountFacts {
    ops: AHashMap<u32, CountOp>,
    /// Positions, in order.
    positions: Vec<u32>,
    counter: bool,
    init: i64,
    skew: i64,
}

impl CountFacts {
    /// The facts of one key's ops under `model` (a counter or a queue); `None` if an op does
    /// not fit it.
    pub(super) fn of(
        model: &str,
        history: &History,
        positions: &[u32],
        setting: &Setting,
    ) -> Option<CountFacts> {
        let counter = model == "counter";
        let init = match (&setting.init, counter) {
            (Some(v), true) => v.as_int()?,
            (None, _) => 0,
            // Queues start empty: no initial contents can be given.
            (Some(_), false) => return None,
        };
        let mut ops = AHashMap::with_capacity(positions.len());
        for o in raw_ops(history, positions, setting.keying)? {
            let effect = if counter { counter_effect(&o)? } else { queue_effect(&o)? };
            ops.insert(
                o.pos,
                CountOp {
                    effect,
                    completed: o.completed(),
                    failed: o.failed(),
                    invoke: o.invoke,
                    complete: o.complete,
                    failed_at: o.failed_at,
                    process: o.process,
                },
            );
        }
        Some(CountFacts { ops, positions: positions.to_vec(), counter, init, skew: setting.skew })
    }

    fn op(&self, pos: u32) -> Result<&CountOp, String> {
        self.ops.get(&pos).ok_or_else(|| format!("position {pos} is not an op of this key"))
    }

    /// `a` certainly took effect before the completed op `o`.
    fn certainly(&self, a: &CountOp, o: &CountOp, process_order: bool) -> bool {
        if process_order {
            a.completed && a.process == o.process && a.invoke < o.invoke
        } else {
            a.completed && a.complete.saturating_add(self.skew) < o.invoke
        }
    }

    /// `a` (of any outcome) may have taken effect before the completed op `o`.
    fn maybe(&self, a: &CountOp, o: &CountOp, process_order: bool) -> bool {
        if process_order {
            !(a.process == o.process && a.invoke > o.invoke)
        } else {
            a.invoke < o.complete.saturating_add(self.skew)
        }
    }

    /// The ops other than `o` that did not fail and may precede it.
    fn may_precede(&self, o: u32, process_order: bool) -> impl Iterator<Item = (u32, &CountOp)> {
        let obs = &self.ops[&o];
        self.positions
            .iter()
            .filter(move |&&p| p != o)
            .map(|&p| (p, &self.ops[&p]))
            .filter(move |(_, a)| !a.failed && self.maybe(a, obs, process_order))
    }

    /// How far `o`'s observation is beyond what the ops that may precede it supply: the excess
    /// (positive), or why there is none.
    fn excess(&self, o: u32, process_order: bool) -> Result<i128, String> {
        let obs = self.op(o)?;
        ensure(obs.completed, || "the observer did not complete".into())?;
        match &obs.effect {
            Effect::Read(c) if self.counter => {
                let mut magnitude = i128::from(self.init).abs();
                let mut most = 0i128;
                for (_, a) in self.may_precede(o, process_order) {
                    if let Effect::Add(n) = a.effect {
                        magnitude += i128::from(n).abs();
                        most += i128::from(n.max(0));
                    }
                }
                ensure(magnitude <= i128::from(i64::MAX), || "the sums involved could wrap around".into())?;
                let excess = i128::from(*c) - i128::from(self.init) - most;
                ensure(excess > 0, || {
                    format!(
                        "the count {c} is within the initial {} plus the adds that could precede",
                        self.init
                    )
                })?;
                Ok(excess)
            }
            Effect::Dequeue(x) if !self.counter => {
                let taken = 1 + self.consumed(o, x, process_order).count() as i128;
                let supplied = self
                    .may_precede(o, process_order)
                    .filter(|(_, a)| a.effect == Effect::Enqueue(x.clone()))
                    .count() as i128;
                ensure(taken > supplied, || {
                    format!(
                        "{x} was taken {taken} times by then, and could have been enqueued {supplied} times"
                    )
                })?;
                Ok(taken - supplied)
            }
            _ => Err("the first op is not a completed read of a count or dequeue of an element".into()),
        }
    }

    /// The completed dequeues of `x` other than `o` that certainly took effect before it.
    fn consumed<'a>(&'a self, o: u32, x: &'a Value, process_order: bool) -> impl Iterator<Item = u32> + 'a {
        let obs = &self.ops[&o];
        self.positions.iter().copied().filter(move |&p| {
            let a = &self.ops[&p];
            p != o && a.effect == Effect::Dequeue(x.clone()) && self.certainly(a, obs, process_order)
        })
    }

    /// Whether `c` is an op that could supply the observation of `o`: a positive add, or an
    /// enqueue of the dequeued element, that did not fail and may precede it.
    fn counted(&self, c: u32, o: u32, process_order: bool) -> bool {
        let (a, obs) = (&self.ops[&c], &self.ops[&o]);
        let supplies = match (&a.effect, &obs.effect) {
            (Effect::Add(n), Effect::Read(_)) => *n > 0,
            (Effect::Enqueue(y), Effect::Dequeue(x)) => x == y,
            _ => false,
        };
        c != o && supplies && !a.failed && self.maybe(a, obs, process_order)
    }

    /// Whether `c` used up an effect before `o`: a completed dequeue of the same element that
    /// certainly came first.
    fn is_consumer(&self, c: u32, o: u32, process_order: bool) -> bool {
        let (a, obs) = (&self.ops[&c], &self.ops[&o]);
        c != o
            && matches!(&obs.effect, Effect::Dequeue(_))
            && a.effect == obs.effect
            && self.certainly(a, obs, process_order)
    }

    /// The failed ops that may precede `o` and, had they taken effect, would account for the
    /// excess.
    fn failed_culprits(&self, o: u32, excess: i128, process_order: bool) -> Vec<u32> {
        let obs = &self.ops[&o];
        self.positions
            .iter()
            .copied()
            .filter(|&p| {
                let f = &self.ops[&p];
                let accounts = match (&f.effect, &obs.effect) {
                    (Effect::Add(n), Effect::Read(_)) => i128::from(*n) >= excess,
                    (Effect::Enqueue(y), Effect::Dequeue(x)) => x == y && excess <= 1,
                    _ => false,
                };
                f.failed && accounts && self.maybe(f, obs, process_order)
            })
            .collect()
    }

    /// The numbers the class's sentence states (see [`super::counting_numbers`]): `consumers`
    /// cited ops used the effect up before `o`; `suppliers`, when the sentence lists the ops
    /// that could supply it, is how many of those are cited.
    fn certify_numbers(
        &self,
        o: u32,
        consumers: usize,
        suppliers: Option<usize>,
        explanation: &str,
        process_order: bool,
    ) -> Check {
        use super::counting_numbers::{after, int_after, listed, ordinal, times};
        let supplying =
            self.may_precede(o, process_order).filter(|(p, _)| self.counted(*p, o, process_order));
        let supplying: Vec<(u32, &CountOp)> = supplying.collect();
        match &self.op(o)?.effect {
            Effect::Read(c) => {
                let (c, init) = (i128::from(*c), i128::from(self.init));
                let stated = int_after(explanation, " returned ")?;
                ensure(stated.is_none_or(|s| s == c), || format!("the read returned {c}"))?;
                let stated = int_after(explanation, " started at ")?;
                ensure(stated.is_none_or(|s| s == init), || format!("the counter started at {init}"))?;
                let supply: i128 = supplying
                    .iter()
                    .map(|(_, a)| match a.effect {
                        Effect::Add(n) => i128::from(n),
                        _ => 0,
                    })
                    .sum();
                let stated = int_after(explanation, " total at most ")?;
                ensure(stated.is_none_or(|most| supply <= most && c > init + most), || {
                    format!(
                        "the adds that could precede it total {supply}: the stated bound is not one short of {c}"
                    )
                })?;
            }
            Effect::Dequeue(x) => {
                let taken = 1 + self.consumed(o, x, process_order).count();
                let ord = after(explanation, &format!(" removed {x} for the "), &[' ']);
                ensure(ord.is_none_or(|t| ordinal(t) == Some(taken)), || {
                    format!("it took {x} for the time numbered {taken}, by the dequeues certainly before")
                })?;
                let before = !explanation.contains(" (after ")
                    || listed(explanation, "), but ", consumers) + 1 == taken;
                ensure(before, || {
                    "the dequeues it lists as before it are not all of those certainly before".into()
                })?;
                let supply = supplying.len();
                let enqueued = after(explanation, &format!("{x} was enqueued "), &[':', '(']);
                ensure(
                    enqueued.is_none_or(|t| times(t.trim()).is_some_and(|n| supply <= n && taken > n)),
                    || {
                        format!(
                            "{supply} enqueues of {x} could precede it: the stated count is not a bound short of {taken}"
                        )
                    },
                )?;
            }
            _ => return Err("the observer is not a completed read or dequeue".into()),
        }
        match suppliers.filter(|_| explanation.contains("): an effect")) {
            Some(cited) => ensure(listed(explanation, "): an effect", cited) == supplying.len(), || {
                format!("{} ops could supply the effect, not as many as it lists", supplying.len())
            }),
            None => Ok(()),
        }
    }

    /// Whether `r` is a retry of the failed op `f`: the same op, not failed, begun after the
    /// failure was reported.
    fn is_retry(&self, r: u32, f: u32) -> bool {
        let (r, f) = (&self.ops[&r], &self.ops[&f]);
        !r.failed && r.effect == f.effect && r.invoke > f.failed_at
    }
}

fn counter_effect(o: &RawOp<'_>) -> Option<Effect> {
    match o.f {
        "add" | "increment" if o.input.is_nil() => Some(Effect::Add(1)),
        "add" | "increment" => Some(Effect::Add(o.input.as_int()?)),
        "read" => match o.output {
            Some(v) if o.completed() => Some(Effect::Read(v.as_int()?)),
            _ => Some(Effect::Other),
        },
        _ => None,
    }
}

fn queue_effect(o: &RawOp<'_>) -> Option<Effect> {
    match o.f {
        "enqueue" => Some(Effect::Enqueue(o.input.clone())),
        "dequeue" => match o.output {
            Some(v) if o.completed() && !v.is_nil() => Some(Effect::Dequeue(v.clone())),
            _ => Some(Effect::Other),
        },
        _ => None,
    }
}

impl ModelFacts for CountFacts {
    fn certify_edge(&self, _a: u32, _b: u32, kind: EdgeKind) -> Check {
        Err(format!("this model's values imply no {} edges", kind.short()))
    }

    fn rewords_conflicts(&self) -> bool {
        false
    }
    fn certify_conflict(&self, ops: &[u32], kind: Option<ClassKind>, _reason: &str) -> Check {
        Err(format!("this model's values imply no {kind:?} conflict of {} ops", ops.len()))
    }

    /// Every class this model's explainers name has a rule: any other is refuted.
    fn knows_class(&self, _kind: ClassKind, _process_order: bool) -> bool {
        true
    }

    /// The observer first, then the ops that used effects up before it, then either the ops
    /// that could supply effects (unexplained) or the retry of the failed op that took effect.
    fn certify_class(&self, kind: ClassKind, ops: &[u32], explanation: &str, process_order: bool) -> Check {
        let Some((&o, rest)) = ops.split_first() else { return Err("no ops".into()) };
        for &p in ops {
            self.op(p)?;
        }
        let mut distinct = AHashSet::new();
        ensure(ops.iter().all(|p| distinct.insert(*p)), || "an op is cited twice".into())?;
        let excess = self.excess(o, process_order)?;
        let failed_variant = explanation.contains("was reported failed yet took effect");
        let retried = explanation.contains("was retried as");
        // How many cited ops used the effect up before the observer, and how many could supply
        // it (the unexplained variant lists those).
        let (consumers, suppliers) = match (kind, failed_variant, retried) {
            (ClassKind::DuplicateEffect, false, false) => {
                let consumers = rest.iter().take_while(|&&c| self.is_consumer(c, o, process_order)).count();
                ensure(rest[consumers..].iter().all(|&c| self.counted(c, o, process_order)), || {
                    "a cited op neither used the effect up before the observer nor could supply it".into()
                })?;
                (consumers, Some(rest.len() - consumers))
            }
            (ClassKind::DuplicateEffect, true, true) | (ClassKind::ReadOfFailedWrite, true, false) => {
                let (consumers, retry) = if retried {
                    let (r, c) = rest.split_last().ok_or("no retry cited")?;
                    (c, Some(*r))
                } else {
                    (rest, None)
                };
                ensure(consumers.iter().all(|&c| self.is_consumer(c, o, process_order)), || {
                    "a cited op did not use the effect up before the observer".into()
                })?;
                let culprits = self.failed_culprits(o, excess, process_order);
                ensure(!culprits.is_empty(), || {
                    "no failed op that may precede it accounts for the excess".into()
                })?;
                if let Some(r) = retry {
                    ensure(culprits.iter().any(|&f| self.is_retry(r, f)), || {
                        "the op cited as a retry is not the same op as a failed one that accounts for the excess, begun after its failure"
                            .into()
                    })?;
                }
                (consumers.len(), None)
            }
            _ => return Err(format!("no rule for {kind} as explained: {explanation}")),
        };
        self.certify_numbers(o, consumers, suppliers, explanation, process_order)
    }
}
