//! `Model::over_count` is sound: whenever it says an observation needs more effects than the
//! ops before it could have had, no order of the certain ops and any subset of the possible
//! ones, each applied once, lets the observer take effect (checked by brute force on many small
//! random op sets). A duplicate-effect explanation rests on this claim.

mod common;

use common::generate::Rng;
use labrys::history::Value;
use labrys::model::{Counter, CounterOp, Dequeued, FifoQueue, Model, QueueOp, UnorderedQueue};

/// Random op sets per model.
const CASES: u64 = 20_000;

/// Whether some order of all of `before` and any subset of `maybe`, from `state`, lets
/// `observer` take effect. Nondeterministic ops are followed into every state they may reach.
fn observable<M: Model>(
    model: &M,
    state: &M::State,
    observer: &M::Op,
    before: &[M::Op],
    maybe: &[M::Op],
) -> bool {
    if before.is_empty() && model.step(state, observer).is_some() {
        return true;
    }
    let all: Vec<(bool, &M::Op)> =
        before.iter().map(|o| (true, o)).chain(maybe.iter().map(|o| (false, o))).collect();
    (0..all.len()).any(|i| {
        let mut next = Vec::new();
        model.step_all(state, all[i].1, &mut next);
        let rest = |certain: bool| -> Vec<M::Op> {
            all.iter()
                .enumerate()
                .filter(|&(j, o)| j != i && o.0 == certain)
                .map(|(_, o)| o.1.clone())
                .collect()
        };
        let (b, m) = (rest(true), rest(false));
        next.iter().any(|s| observable(model, s, observer, &b, &m))
    })
}

/// Asserts soundness on one op set; returns whether a claim was made.
fn check<M: Model>(model: &M, observer: &M::Op, before: &[M::Op], maybe: &[M::Op]) -> bool {
    let (b, m): (Vec<&M::Op>, Vec<&M::Op>) = (before.iter().collect(), maybe.iter().collect());
    let claim = model.over_count(&model.init(), observer, &b, &m);
    if let Some(c) = &claim {
        assert!(
            !observable(model, &model.init(), observer, before, maybe),
            "{}: claimed {c:?}, yet {} can take effect after\n  certainly: {before:?}\n  maybe: {maybe:?}",
            model.name(),
            model.describe_op(observer),
        );
        let n = before.len() + maybe.len();
        assert!(c.counted.iter().chain(&c.consumed).all(|&i| i < n), "{c:?} cites ops that are not there");
    }
    claim.is_some()
}

/// Runs `case` on [`CASES`] seeds; asserts claims are neither absent nor universal.
fn run(name: &str, case: impl Fn(&mut Rng) -> bool) {
    let (mut claims, mut observable_cases) = (0u64, 0u64);
    for seed in 0..CASES {
        let claimed = case(&mut Rng(seed));
        claims += u64::from(claimed);
        observable_cases += u64::from(!claimed);
    }
    eprintln!("{name}: {CASES} op sets, {claims} claims");
    assert!(claims * 20 >= CASES && observable_cases * 20 >= CASES, "{name}: vacuous ({claims} claims)");
}

fn split<T>(rng: &mut Rng, ops: Vec<T>) -> (Vec<T>, Vec<T>) {
    let (mut before, mut maybe) = (Vec::new(), Vec::new());
    for op in ops {
        if rng.chance(50) { before.push(op) } else { maybe.push(op) }
    }
    (before, maybe)
}

#[test]
fn counter_over_count_is_sound() {
    run("counter", |rng| {
        let model = Counter { init: rng.below(3) as i64 - 1 };
        // Reads among the others would only make the observer unreachable for their own sake.
        let ops: Vec<CounterOp> =
            (0..rng.below(6)).map(|_| CounterOp::Add(rng.below(5) as i64 - 1)).collect();
        let (before, maybe) = split(rng, ops);
        let observer = CounterOp::Read(Some(rng.below(7) as i64 - 1));
        check(&model, &observer, &before, &maybe)
    });
}

fn queue_ops(rng: &mut Rng) -> (Vec<QueueOp>, Vec<QueueOp>, QueueOp) {
    let value = |rng: &mut Rng| Value::Int(rng.below(2) as i64);
    let ops: Vec<QueueOp> = (0..rng.below(6))
        .map(|_| match rng.below(6) {
            0..=2 => QueueOp::Enqueue(value(rng)),
            3 | 4 => QueueOp::Dequeue(Dequeued::Value(value(rng))),
            _ => QueueOp::Dequeue(Dequeued::Unknown),
        })
        .collect();
    let (mut before, mut maybe) = split(rng, ops);
    // A dequeue whose outcome is unknown never certainly came first: it never completed.
    let unknown = QueueOp::Dequeue(Dequeued::Unknown);
    maybe.extend(before.iter().filter(|o| **o == unknown).cloned());
    before.retain(|o| *o != unknown);
    (before, maybe, QueueOp::Dequeue(Dequeued::Value(value(rng))))
}

#[test]
fn unordered_queue_over_count_is_sound() {
    run("unordered-queue", |rng| {
        let (before, maybe, observer) = queue_ops(rng);
        check(&UnorderedQueue, &observer, &before, &maybe)
    });
}

#[test]
fn fifo_queue_over_count_is_sound() {
    run("fifo-queue", |rng| {
        let (before, maybe, observer) = queue_ops(rng);
        check(&FifoQueue, &observer, &before, &maybe)
    });
}
