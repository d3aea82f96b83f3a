//! On small random histories of sessions and transactions, the weak-isolation checker's verdict
//! for read committed, read atomic and causal consistency agrees with a brute-force oracle that
//! tries every commit order of the transactions against Biswas & Enea's axioms, written here
//! from the definitions; and every violation it reports passes certification.
//!
//! Reads pick among the values written anywhere (own earlier or later writes, intermediate and
//! aborted writes, the initial 0) and a value nobody writes, so every violation kind comes up,
//! and valid histories too.

// The oracle indexes its matrices as the definitions do.
#![allow(clippy::needless_range_loop)]

use labrys::outcome::Verdict;
use labrys::weak::{INIT, Level, Op, TxnId, WeakBuilder, WeakHistory, check};
use proptest::prelude::*;

const LEVELS: [Level; 3] = [Level::ReadCommitted, Level::ReadAtomic, Level::Causal];

/// A random history: sessions of transactions of (is_write, key, choice) ops; a write takes a
/// fresh value, a read the value `choice` picks among those written and one nobody writes.
fn history() -> impl Strategy<Value = WeakHistory> {
    let op = (any::<bool>(), 0u64..3, 0usize..64);
    let txn = (prop::collection::vec(op, 1..4), prop::bool::weighted(0.1));
    let session = prop::collection::vec(txn, 1..3);
    prop::collection::vec(session, 1..4).prop_map(|sessions| {
        let mut next = 1u64;
        let mut written = vec![0u64];
        for s in &sessions {
            for (ops, _) in s {
                for &(write, _, _) in ops {
                    if write {
                        written.push(next);
                        next += 1;
                    }
                }
            }
        }
        written.push(next + 100);
        let mut b = WeakBuilder::new("random", true);
        let mut value = 1u64;
        for s in &sessions {
            for (ops, aborted) in s {
                b.begin_txn(0);
                for &(write, key, choice) in ops {
                    let key = b.number_key(key);
                    let v = if write {
                        value += 1;
                        value - 1
                    } else {
                        written[choice % written.len()]
                    };
                    b.push(Op { key, write, value: v });
                }
                b.end_txn(!aborted);
            }
            b.end_session();
        }
        b.finish()
    })
}

/// The last write of `key` in `t`, if any.
fn final_write(h: &WeakHistory, t: TxnId, key: u32) -> Option<u64> {
    h.txn_ops(t).iter().rev().find(|o| o.write && o.key == key).map(|o| o.value)
}

/// The oracle's reads-from: for each transaction, its reads of other transactions as
/// (position, key, writer); `None` when some read is not explained (the history is invalid at
/// every level).
fn reads_from(h: &WeakHistory) -> Option<Vec<Vec<(usize, u32, TxnId)>>> {
    let n = h.txn_count() as TxnId;
    let mut all = Vec::new();
    for t in 0..n {
        let ops = h.txn_ops(t);
        let mut mine = Vec::new();
        for (i, o) in ops.iter().enumerate().filter(|(_, o)| !o.write) {
            if let Some(own) = ops[..i].iter().rev().find(|p| p.write && p.key == o.key) {
                if own.value != o.value {
                    return None;
                }
                continue;
            }
            let writers: Vec<TxnId> =
                (0..n).filter(|&w| w != t && final_write(h, w, o.key) == Some(o.value)).collect();
            let writer = match writers.as_slice() {
                [w] => *w,
                [] if o.value == 0 => INIT,
                _ => return None,
            };
            if h.aborted.contains(&(o.key, o.value))
                || ops.iter().any(|p| p.write && p.key == o.key && p.value == o.value)
            {
                return None;
            }
            mine.push((i, o.key, writer));
        }
        all.push(mine);
    }
    Some(all)
}

/// Whether some commit order satisfies `level`'s axioms.
fn oracle(h: &WeakHistory, level: Level) -> bool {
    let Some(rf) = reads_from(h) else { return false };
    let n = h.txn_count();
    let so = |a: usize, b: usize| h.txn_session[a] == h.txn_session[b] && a < b;
    let wr = |a: usize, b: usize| rf[b].iter().any(|r| r.2 == a as TxnId);
    // Happens-before: the transitive closure of session order and reads-from.
    let mut hb = vec![vec![false; n]; n];
    for a in 0..n {
        for b in 0..n {
            hb[a][b] = so(a, b) || wr(a, b);
        }
    }
    for k in 0..n {
        for a in 0..n {
            for b in 0..n {
                hb[a][b] |= hb[a][k] && hb[k][b];
            }
        }
    }
    // Each axiom instance: (t2, t1) with t2 required before t1 (INIT as t1: impossible).
    let mut required: Vec<(usize, TxnId)> = Vec::new();
    for t3 in 0..n {
        for &(pos, x, t1) in &rf[t3] {
            for t2 in (0..n).filter(|&t2| t2 as TxnId != t1 && final_write(h, t2 as TxnId, x).is_some()) {
                let premise = match level {
                    Level::ReadCommitted => rf[t3].iter().any(|r| r.0 < pos && r.2 == t2 as TxnId),
                    Level::ReadAtomic => so(t2, t3) || wr(t2, t3),
                    Level::Causal => hb[t2][t3],
                    Level::SnapshotIsolation | Level::Serializable => unreachable!("see strong_oracle"),
                };
                if premise {
                    required.push((t2, t1));
                }
            }
        }
    }
    if required.iter().any(|r| r.1 == INIT) {
        return false;
    }
    let mut order: Vec<usize> = (0..n).collect();
    permutations(&mut order, 0, &mut |perm| {
        let mut at = vec![0; n];
        for (i, &t) in perm.iter().enumerate() {
            at[t] = i;
        }
        let base = (0..n).all(|a| (0..n).all(|b| !(so(a, b) || wr(a, b)) || at[a] < at[b]));
        base && required.iter().all(|&(t2, t1)| at[t2] < at[t1 as usize])
    })
}

/// Whether `f` holds of some permutation of `items[k..]` (after `items[..k]`).
fn permutations(items: &mut Vec<usize>, k: usize, f: &mut impl FnMut(&[usize]) -> bool) -> bool {
    if k == items.len() {
        return f(items);
    }
    for i in k..items.len() {
        items.swap(k, i);
        let found = permutations(items, k + 1, f);
        items.swap(k, i);
        if found {
            return true;
        }
    }
    false
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn verdicts_agree_with_the_brute_force_oracle(h in history()) {
        prop_assume!(h.txn_count() <= 6);
        for level in LEVELS {
            let outcome = check(&h, level);
            let expected = if oracle(&h, level) { Verdict::Valid } else { Verdict::Invalid };
            prop_assert_eq!(outcome.verdict(), expected, "{:?} on {:?}: {:?}", level, h, outcome.violations);
            labrys::certify::weak::certify(&h, level, &outcome.violations)
                .map_err(|e| TestCaseError::fail(format!("{level:?}: {e}")))?;
        }
    }
}

#[test]
fn the_random_histories_give_both_verdicts_at_every_level() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = history();
    let mut counts = [[0usize; 2]; 3];
    for _ in 0..2000 {
        let h = strategy.new_tree(&mut runner).unwrap().current();
        for (i, level) in LEVELS.into_iter().enumerate() {
            counts[i][usize::from(oracle(&h, level))] += 1;
        }
    }
    for (i, [invalid, valid]) in counts.into_iter().enumerate() {
        assert!(invalid > 200 && valid > 200, "{:?}: {invalid} invalid, {valid} valid", LEVELS[i]);
    }
}

/// Histories whose reads mostly match a write: one write per key per transaction, and reads of
/// the initial 0 or of another transaction's write, over two keys, so that each key has several
/// writers and their order is what serializability and snapshot isolation turn on.
fn consistent_history() -> impl Strategy<Value = WeakHistory> {
    let op = (any::<bool>(), 0u64..2, 0usize..64);
    let txn = prop::collection::vec(op, 1..4);
    let session = prop::collection::vec(txn, 1..3);
    prop::collection::vec(session, 1..4).prop_map(|sessions| {
        // (transaction number, value) of every write.
        let mut writes: Vec<(usize, u64)> = Vec::new();
        let mut t = 0;
        for s in &sessions {
            for ops in s {
                for &(write, _, _) in ops {
                    if write {
                        writes.push((t, writes.len() as u64 + 1));
                    }
                }
                t += 1;
            }
        }
        let mut b = WeakBuilder::new("random", true);
        let (mut t, mut next) = (0, 0usize);
        for s in &sessions {
            for ops in s {
                b.begin_txn(0);
                let mut written = [false; 2];
                for &(write, key, choice) in ops {
                    let k = b.number_key(key);
                    if write {
                        next += 1;
                        if !std::mem::replace(&mut written[key as usize], true) {
                            b.push(Op { key: k, write, value: next as u64 });
                        }
                    } else if !written[key as usize] {
                        let others: Vec<u64> =
                            writes.iter().filter(|w| w.0 != t).map(|w| w.1).chain([0]).collect();
                        // The initial value half the time: concurrent transactions that all
                        // read it are what write skews and lost updates are made of.
                        let value = if choice < 32 { 0 } else { others[choice % others.len()] };
                        b.push(Op { key: k, write, value });
                    }
                }
                b.end_txn(true);
                t += 1;
            }
            b.end_session();
        }
        b.finish()
    })
}

/// Whether some commit order satisfies serializability or snapshot isolation, by Biswas &
/// Enea's axioms as written: for each read of `x` from `t1` in `t3` and each other writer `t2`
/// of `x`, `t2` must commit before `t1` when `t2` commits before `t3` (serializability), or
/// when it commits before (or is) a transaction that precedes `t3` in session order or that
/// `t3` reads from (Prefix), or one that writes a key `t3` writes and commits before `t3`
/// (Conflict).
fn strong_oracle(h: &WeakHistory, level: Level) -> bool {
    let Some(rf) = reads_from(h) else { return false };
    let n = h.txn_count();
    let so = |a: usize, b: usize| h.txn_session[a] == h.txn_session[b] && a < b;
    let wr = |a: usize, b: usize| rf[b].iter().any(|r| r.2 == a as TxnId);
    let writes = |t: usize, x: u32| final_write(h, t as TxnId, x).is_some();
    let conflict = |a: usize, b: usize| h.txn_ops(b as TxnId).iter().any(|o| o.write && writes(a, o.key));
    let mut order: Vec<usize> = (0..n).collect();
    permutations(&mut order, 0, &mut |perm| {
        let mut at = vec![0; n];
        for (i, &t) in perm.iter().enumerate() {
            at[t] = i;
        }
        if !(0..n).all(|a| (0..n).all(|b| !(so(a, b) || wr(a, b)) || at[a] < at[b])) {
            return false;
        }
        let upto = |t2: usize, t4: usize| t4 == t2 || at[t2] < at[t4];
        (0..n).all(|t3| {
            rf[t3].iter().all(|&(_, x, t1)| {
                (0..n).filter(|&t2| t2 as TxnId != t1 && writes(t2, x)).all(|t2| {
                    let premise = match level {
                        Level::Serializable => at[t2] < at[t3],
                        _ => (0..n).any(|t4| {
                            let prefix = so(t4, t3) || wr(t4, t3);
                            let conflicts = t4 != t3 && conflict(t4, t3) && at[t4] < at[t3];
                            (prefix || conflicts) && upto(t2, t4)
                        }),
                    };
                    !premise || (t1 != INIT && at[t2] < at[t1 as usize])
                })
            })
        })
    })
}

const STRONG: [Level; 2] = [Level::SnapshotIsolation, Level::Serializable];

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn serializability_and_snapshot_isolation_agree_with_the_brute_force_oracle(h in consistent_history()) {
        prop_assume!(h.txn_count() <= 6);
        for level in STRONG {
            let outcome = check(&h, level);
            let expected = if strong_oracle(&h, level) { Verdict::Valid } else { Verdict::Invalid };
            prop_assert_eq!(outcome.verdict(), expected, "{:?} on {:?}: {:?}", level, h, outcome.violations);
            labrys::certify::weak::certify_outcome(&h, level, &outcome)
                .map_err(|e| TestCaseError::fail(format!("{level:?}: {e}")))?;
        }
    }
}

#[test]
fn the_consistent_histories_give_both_verdicts_for_both_levels_and_tell_them_apart() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = consistent_history();
    let mut counts = [[0usize; 2]; 2];
    let mut si_only = 0;
    for _ in 0..2000 {
        let h = strategy.new_tree(&mut runner).unwrap().current();
        if h.txn_count() > 6 {
            continue;
        }
        let verdicts = STRONG.map(|l| strong_oracle(&h, l));
        for i in 0..2 {
            counts[i][usize::from(verdicts[i])] += 1;
        }
        si_only += usize::from(verdicts[0] && !verdicts[1]);
    }
    for (i, [invalid, valid]) in counts.into_iter().enumerate() {
        assert!(invalid > 100 && valid > 100, "{:?}: {invalid} invalid, {valid} valid", STRONG[i]);
    }
    assert!(si_only >= 5, "{si_only} histories are snapshot isolated but not serializable");
}
