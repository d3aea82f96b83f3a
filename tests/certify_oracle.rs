//! Certification's exact witness oracle (`search`, up to 64 ops within a budget) agrees with
//! its brute-force oracle (`some_order`, up to 12) on many small random op sets, under real
//! time (with and without skew) and process order; every order it returns is checked here
//! step by step; and it decides sets far past the brute-force bound.

use labrys::certify::oracle::{MAX_CONFIGS, OracleOp, Search, search, some_order};
use labrys::history::Value;
use labrys::model::{CasRegister, Model, Mutex, MutexOp, RegisterOp};
use proptest::prelude::*;

/// One generated op: its model op, interval (`None` completion: crashed) and process.
#[derive(Clone, Debug)]
struct Gen<O> {
    op: O,
    invoke: i64,
    complete: Option<i64>,
    process: u32,
}

fn oracle_ops<O>(ops_in: &[Gen<O>]) -> Vec<OracleOp<'_, O>> {
    ops_in
        .iter()
        .enumerate()
        .map(|(i, g)| OracleOp {
            op: &g.op,
            invoke: g.invoke,
            complete: g.complete.unwrap_or(i64::MAX),
            process: g.process,
            position: i as u32,
        })
        .collect()
}

/// Whether `order` is one the oracles promise: distinct ops, every completed one in it, the
/// model's steps succeed, and real time (or process order, crashed ops of a process placed
/// only before its later ops) holds.
fn valid_order<M: Model>(
    model: &M,
    ops: &[OracleOp<'_, M::Op>],
    order: &[usize],
    po: bool,
    skew: i64,
) -> bool {
    let mut placed = vec![false; ops.len()];
    for &i in order {
        if std::mem::replace(&mut placed[i], true) {
            return false;
        }
    }
    if ops.iter().zip(&placed).any(|(o, p)| o.complete != i64::MAX && !p) {
        return false;
    }
    for (x, &a) in order.iter().enumerate() {
        for &b in &order[x + 1..] {
            let (a, b) = (&ops[a], &ops[b]);
            let broken = if po {
                a.process == b.process && b.position < a.position
            } else {
                b.complete != i64::MAX && b.complete.saturating_add(skew) < a.invoke
            };
            if broken {
                return false;
            }
        }
    }
    let mut states = vec![model.init()];
    for &i in order {
        let mut next = Vec::new();
        for s in &states {
            model.step_all(s, ops[i].op, &mut next);
        }
        if next.is_empty() {
            return false;
        }
        states = next;
    }
    true
}

/// Both oracles decide `ops_in` alike, and an order found is valid.
fn agree<M: Model>(model: &M, ops_in: &[Gen<M::Op>], po: bool, skew: i64) -> Result<(), TestCaseError> {
    let ops = oracle_ops(ops_in);
    let brute = some_order(model, &ops, po, skew);
    match search(model, &ops, po, skew, MAX_CONFIGS) {
        Search::Order(order) => {
            prop_assert!(brute.is_some(), "search found {order:?}, brute force none: {ops_in:?}");
            prop_assert!(valid_order(model, &ops, &order, po, skew), "invalid order {order:?}: {ops_in:?}");
        }
        Search::NoOrder => prop_assert!(brute.is_none(), "brute force found {brute:?}: {ops_in:?}"),
        Search::OutOfBudget => prop_assert!(false, "a dozen ops ran out of budget"),
    }
    Ok(())
}

/// Ops with random intervals (times 0..20), processes and crashes, from `op`.
fn ops_of<O: std::fmt::Debug>(
    op: impl Strategy<Value = O>,
    max: usize,
) -> impl Strategy<Value = Vec<Gen<O>>> {
    prop::collection::vec((op, 0i64..20, 0i64..8, any::<bool>(), 0u32..3), 0..=max).prop_map(|raw| {
        raw.into_iter()
            .map(|(op, invoke, len, crashed, process)| Gen {
                op,
                invoke,
                complete: (!crashed).then_some(invoke + len),
                process,
            })
            .collect()
    })
}

fn register_op() -> impl Strategy<Value = RegisterOp> {
    let v = (0i64..3).prop_map(Value::Int);
    prop_oneof![
        v.clone().prop_map(|x| RegisterOp::Read(Some(x))),
        v.clone().prop_map(RegisterOp::Write),
        (v.clone(), v).prop_map(|(a, b)| RegisterOp::Cas(a, b)),
    ]
}

fn mutex_op() -> impl Strategy<Value = MutexOp> {
    prop_oneof![Just(MutexOp::Acquire), Just(MutexOp::Release)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3_000))]

    #[test]
    fn search_agrees_with_brute_force_on_registers(ops_in in ops_of(register_op(), 9), po in any::<bool>(), skew in 0i64..3) {
        agree(&CasRegister::default(), &ops_in, po, skew)?;
    }

    #[test]
    fn search_agrees_with_brute_force_on_mutexes(ops_in in ops_of(mutex_op(), 10), po in any::<bool>()) {
        agree(&Mutex, &ops_in, po, 0)?;
    }
}

/// `n` sequential ops of one process each: acquire, release, acquire, ...
fn alternating(n: usize) -> Vec<Gen<MutexOp>> {
    (0..n)
        .map(|i| Gen {
            op: if i % 2 == 0 { MutexOp::Acquire } else { MutexOp::Release },
            invoke: 2 * i as i64,
            complete: Some(2 * i as i64 + 1),
            process: i as u32,
        })
        .collect()
}

#[test]
fn sixty_four_ops_are_decided_exactly() {
    // 64 sequential ops alternating acquire and release: one order, found.
    let ops_in = alternating(64);
    let Search::Order(order) = search(&Mutex, &oracle_ops(&ops_in), false, 0, MAX_CONFIGS) else {
        panic!("a valid history has an order")
    };
    assert_eq!(order, (0..64).collect::<Vec<_>>());
    // Make the last release an acquire: two acquires in a row, nothing between.
    let mut bad = ops_in.clone();
    bad[63].op = MutexOp::Acquire;
    assert_eq!(search(&Mutex, &oracle_ops(&bad), false, 0, MAX_CONFIGS), Search::NoOrder);
    // 54 sequential ops, then 10 overlapping ones: 6 acquires and 4 releases, more acquires
    // than the releases can separate. Only the last ten are ever reordered.
    let mut tail = alternating(54);
    tail.extend((0..10).map(|i| Gen {
        op: if i < 6 { MutexOp::Acquire } else { MutexOp::Release },
        invoke: 200,
        complete: Some(300),
        process: 100 + i,
    }));
    assert_eq!(search(&Mutex, &oracle_ops(&tail), false, 0, MAX_CONFIGS), Search::NoOrder);
    // Five acquires and five releases there can alternate.
    tail[59].op = MutexOp::Release;
    assert!(matches!(search(&Mutex, &oracle_ops(&tail), false, 0, MAX_CONFIGS), Search::Order(_)));
}

/// 40 overlapping acquires and 24 releases: too many subsets to memoize, and the search says
/// so rather than guessing.
#[test]
fn a_search_past_its_budget_says_so() {
    let wide: Vec<Gen<MutexOp>> = (0..64)
        .map(|i| Gen {
            op: if i < 40 { MutexOp::Acquire } else { MutexOp::Release },
            invoke: 0,
            complete: Some(100),
            process: i,
        })
        .collect();
    assert_eq!(search(&Mutex, &oracle_ops(&wide), false, 0, 100), Search::OutOfBudget);
}
