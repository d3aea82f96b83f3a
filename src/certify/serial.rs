//! Certification of serializability and snapshot-isolation claims about research-format
//! histories ([`crate::weak::strong`]), from the raw transactions, with code of its own:
//!
//! - a commit order (valid verdicts) is replayed against Biswas & Enea's axioms: session order
//!   and reads-from inside it; for serializability no write of a key read falls between the
//!   write read and the reader; for snapshot isolation none falls between the write read and
//!   the last transaction the reader must see (its session and reads-from predecessors — the
//!   Prefix axiom — and the writers of the keys it writes — the Conflict axiom);
//! - a refutation (no commit order exists) has each choice it names re-derived (two
//!   transactions that both write the key); when it names every choice of the history, every
//!   orientation of them is tried, and each must close a forbidden cycle with session order,
//!   reads-from and the anti-dependencies they imply. A refutation that names only some choices
//!   rests on the solver for the rest: that is the one claim certified only in part.

use super::Refuted;
use super::weak::{Writes, external_read, session_before, valid_txn, writes_key};
use crate::weak::{Choice, INIT, Level, TxnId, WeakHistory};
use ahash::AHashMap;

/// The most choices whose orientations certification tries (2^this graphs).
const MAX_TRIED: usize = 16;

/// Certifies that `order` is a commit order witnessing `level` (serializable or snapshot
/// isolation) of `h`.
pub fn certify_order(h: &WeakHistory, level: Level, order: &[TxnId]) -> Result<(), Refuted> {
    let refuted = |why: String| Refuted::new(format!("the commit order claimed for {}", level.as_str()), why);
    let n = h.txn_count();
    let mut pos = vec![u32::MAX; n];
    for (i, &t) in order.iter().enumerate() {
        if (t as usize) >= n || pos[t as usize] != u32::MAX {
            return Err(refuted(format!("T{t} is not a transaction, or is listed twice")));
        }
        pos[t as usize] = i as u32;
    }
    if order.len() != n {
        return Err(refuted(format!("{} of the {n} transactions are listed", order.len())));
    }
    let writes = Writes::of(h);
    let mut writers: AHashMap<u32, Vec<u32>> = AHashMap::new();
    for t in 0..n as TxnId {
        let mut keys: Vec<u32> = h.txn_ops(t).iter().filter(|o| o.write).map(|o| o.key).collect();
        keys.sort_unstable();
        keys.dedup();
        for k in keys {
            writers.entry(k).or_default().push(pos[t as usize]);
        }
    }
    writers.values_mut().for_each(|v| v.sort_unstable());
    for t in 0..n as TxnId {
        replay(h, level, &writes, &writers, &pos, t)
            .map_err(|why| refuted(format!("{}: {why}", h.describe(t))))?;
    }
    Ok(())
}

/// Replays transaction `t`'s reads against the order (`pos`) and `writers` (each key's
/// writers' positions, sorted).
fn replay(
    h: &WeakHistory,
    level: Level,
    writes: &Writes,
    writers: &AHashMap<u32, Vec<u32>>,
    pos: &[u32],
    t: TxnId,
) -> Result<(), String> {
    let at = |w: TxnId| if w == INIT { -1 } else { i64::from(pos[w as usize]) };
    let me = at(t);
    if h.position(t) > 0 && at(t - 1) >= me {
        return Err("it precedes its session predecessor".into());
    }
    let ops = h.txn_ops(t);
    // (key, position of the write read) of each read of another transaction.
    let mut reads: Vec<(u32, i64)> = Vec::new();
    let mut seen = if h.position(t) > 0 { at(t - 1) } else { -1 };
    for (i, o) in ops.iter().enumerate().filter(|(_, o)| !o.write) {
        if let Some(own) = ops[..i].iter().rev().find(|p| p.write && p.key == o.key) {
            if own.value != o.value {
                return Err(format!(
                    "op {i} reads {}={} after writing {}",
                    h.keys.name(o.key),
                    o.value,
                    own.value
                ));
            }
            continue;
        }
        external_read(h, t, i as u32, o.key, o.value)?;
        let w = writes.writer(h, o.key, o.value)?;
        if w == t || at(w) >= me {
            return Err(format!("op {i} reads from a transaction that does not precede it"));
        }
        reads.push((o.key, at(w)));
        seen = seen.max(at(w));
    }
    let bound = match level {
        Level::Serializable => me - 1,
        _ => seen.max(conflict_bound(h, writers, t, me)),
    };
    for (key, from) in reads {
        let list = writers.get(&key).map_or(&[][..], Vec::as_slice);
        let next = list.partition_point(|&q| i64::from(q) <= from);
        if let Some(&q) = list.get(next).filter(|&&q| i64::from(q) <= bound) {
            return Err(format!(
                "it reads {} from the write at position {from}, but the write at position {q} comes between it and the \
                 snapshot it must see",
                h.keys.name(key)
            ));
        }
    }
    Ok(())
}

/// The position of the last transaction before `t` (at `me`) that writes a key `t` writes.
fn conflict_bound(h: &WeakHistory, writers: &AHashMap<u32, Vec<u32>>, t: TxnId, me: i64) -> i64 {
    let mut bound = -1;
    for o in h.txn_ops(t).iter().filter(|o| o.write) {
        let list = writers.get(&o.key).map_or(&[][..], Vec::as_slice);
        let before = list.partition_point(|&q| i64::from(q) < me);
        if before > 0 {
            bound = bound.max(i64::from(list[before - 1]));
        }
    }
    bound
}

/// Certifies a refutation over `choices` (see the module's documentation).
pub(super) fn certify_refutation(
    h: &WeakHistory,
    level: Level,
    writes: &Writes,
    choices: &[Choice],
    complete: bool,
) -> Result<(), String> {
    if !matches!(level, Level::Serializable | Level::SnapshotIsolation) {
        return Err(format!("{} is not decided by a refutation", level.as_str()));
    }
    for c in choices {
        valid_txn(h, c.first)?;
        valid_txn(h, c.second)?;
        let writes_both = writes_key(h, c.first, c.key) && writes_key(h, c.second, c.key);
        if c.first == c.second || c.first == INIT || c.second == INIT || !writes_both {
            return Err(format!("{c:?} is not a choice between two writers of the key"));
        }
    }
    if !complete {
        return Ok(());
    }
    let facts = RawFacts::of(h, writes)?;
    if facts.choices != choices.len() || choices.len() > MAX_TRIED {
        return Err(format!(
            "{} choices are listed as all of the history's {}",
            choices.len(),
            facts.choices
        ));
    }
    for mask in 0..1u32 << choices.len() {
        let mut edges = facts.base.clone();
        for (i, c) in choices.iter().enumerate() {
            let (a, b) = if mask >> i & 1 == 1 { (c.first, c.second) } else { (c.second, c.first) };
            edges.push((a, b, false));
            for &r in facts.readers.get(&(c.key, a)).map_or(&[][..], Vec::as_slice) {
                if r != b {
                    edges.push((r, b, true));
                }
            }
        }
        if acyclic(h.txn_count(), &edges, level == Level::SnapshotIsolation) {
            return Err(format!("orientation {mask:#b} of the choices leaves no forbidden cycle"));
        }
    }
    Ok(())
}

/// What trying orientations needs, derived from the raw ops: session order, reads-from and the
/// anti-dependencies from reads of initial values (`(from, to, is anti-dependency)`); each
/// write's readers; how many choices the history has.
struct RawFacts {
    base: Vec<(TxnId, TxnId, bool)>,
    readers: AHashMap<(u32, TxnId), Vec<TxnId>>,
    choices: usize,
}

impl RawFacts {
    fn of(h: &WeakHistory, writes: &Writes) -> Result<RawFacts, String> {
        let mut base = Vec::new();
        let mut readers: AHashMap<(u32, TxnId), Vec<TxnId>> = AHashMap::new();
        let mut writers: AHashMap<u32, Vec<TxnId>> = AHashMap::new();
        for t in 0..h.txn_count() as TxnId {
            if t > 0 && session_before(h, t - 1, t) {
                base.push((t - 1, t, false));
            }
            let ops = h.txn_ops(t);
            for (i, o) in ops.iter().enumerate() {
                if o.write {
                    if !ops[i + 1..].iter().any(|p| p.write && p.key == o.key) {
                        writers.entry(o.key).or_default().push(t);
                    }
                } else if external_read(h, t, i as u32, o.key, o.value).is_ok() {
                    let w = writes.writer(h, o.key, o.value)?;
                    if w != INIT && w != t {
                        base.push((w, t, false));
                    }
                    readers.entry((o.key, w)).or_default().push(t);
                }
            }
        }
        for (&(key, w), rs) in &readers {
            if w == INIT {
                for &b in writers.get(&key).map_or(&[][..], Vec::as_slice) {
                    base.extend(rs.iter().filter(|&&r| r != b).map(|&r| (r, b, true)));
                }
            }
        }
        let choices = writers.values().map(|w| w.len() * w.len().saturating_sub(1) / 2).sum();
        Ok(RawFacts { base, readers, choices })
    }
}

/// Whether `edges` over `n` transactions have no forbidden cycle: none at all, or (snapshot
/// isolation) none without two anti-dependencies in a row. Kahn's algorithm over the graph of
/// (transaction, whether reached by an anti-dependency).
fn acyclic(n: usize, edges: &[(TxnId, TxnId, bool)], snapshot: bool) -> bool {
    let mut succ: Vec<Vec<usize>> = vec![Vec::new(); 2 * n];
    for &(a, b, anti) in edges {
        let (a, b) = (a as usize, b as usize);
        match (snapshot, anti) {
            (false, _) => succ[2 * a].push(2 * b),
            (true, false) => {
                succ[2 * a].push(2 * b);
                succ[2 * a + 1].push(2 * b);
            }
            (true, true) => succ[2 * a].push(2 * b + 1),
        }
    }
    let mut indegree = vec![0usize; 2 * n];
    succ.iter().flatten().for_each(|&b| indegree[b] += 1);
    let mut ready: Vec<usize> = (0..2 * n).filter(|&v| indegree[v] == 0).collect();
    let mut done = 0;
    while let Some(v) = ready.pop() {
        done += 1;
        for &b in &succ[v] {
            indegree[b] -= 1;
            if indegree[b] == 0 {
                ready.push(b);
            }
        }
    }
    done == 2 * n
}
