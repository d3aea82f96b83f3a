//! Certification of weak-isolation claims ([`crate::weak`]): each violation is re-derived from
//! the raw transactions with code of its own: which writes exist, which transaction wrote
//! each value last, which reads see their own transaction's writes, what session order and
//! reads-from relate. Nothing here uses the checker's reads-from, commit order or cycles.

use super::Refuted;
use crate::weak::{Edge, EdgeWhy, INIT, Level, Premise, TxnId, Violation, WeakHistory};
use ahash::RandomState;
use hashbrown::{HashMap, HashSet};
use std::collections::VecDeque;

/// Every write of a (key, value): the transaction, and whether it is that transaction's last
/// write of the key.
pub(super) struct Writes {
    by_value: HashMap<(u32, u64), Vec<(TxnId, bool)>, RandomState>,
    aborted: HashSet<(u32, u64), RandomState>,
}

impl Writes {
    pub(super) fn of(h: &WeakHistory) -> Writes {
        let mut by_value: HashMap<(u32, u64), Vec<(TxnId, bool)>, RandomState> = HashMap::default();
        for t in 0..h.txn_count() as TxnId {
            let ops = h.txn_ops(t);
            for (i, o) in ops.iter().enumerate().filter(|(_, o)| o.write) {
                let last = !ops[i + 1..].iter().any(|p| p.write && p.key == o.key);
                by_value.entry((o.key, o.value)).or_default().push((t, last));
            }
        }
        Writes { by_value, aborted: h.aborted.iter().copied().collect() }
    }

    /// The one transaction whose last write of `key` is `value` (the initial transaction for
    /// 0 when there is one and nobody else writes it), when that is unambiguous: no other
    /// write of the same value anywhere.
    pub(super) fn writer(&self, h: &WeakHistory, key: u32, value: u64) -> Result<TxnId, String> {
        if self.aborted.contains(&(key, value)) {
            return Err(format!("{}={value} is also written by an aborted transaction", h.keys.name(key)));
        }
        match self.by_value.get(&(key, value)).map(Vec::as_slice) {
            None | Some([]) if h.init && value == 0 => Ok(INIT),
            None | Some([]) => Err(format!("nobody writes {}={value}", h.keys.name(key))),
            Some(&[(t, true)]) => Ok(t),
            Some(_) => Err(format!(
                "{}={value} is not written last by exactly one transaction, once",
                h.keys.name(key)
            )),
        }
    }
}

/// The op at `t`'s position `op`, if it is a read of `key`=`value` that no earlier write of
/// `t` to `key` precedes.
pub(super) fn external_read(h: &WeakHistory, t: TxnId, op: u32, key: u32, value: u64) -> Result<(), String> {
    let ops = h.txn_ops(t);
    let o = ops.get(op as usize).ok_or_else(|| format!("{} has no op {op}", h.describe(t)))?;
    if o.write || o.key != key || o.value != value {
        return Err(format!("op {op} of {} is not a read of {}={value}", h.describe(t), h.keys.name(key)));
    }
    if ops[..op as usize].iter().any(|p| p.write && p.key == key) {
        return Err(format!("{} writes {} before op {op}", h.describe(t), h.keys.name(key)));
    }
    Ok(())
}

/// Whether `t` writes `key` (the initial transaction writes every key).
pub(super) fn writes_key(h: &WeakHistory, t: TxnId, key: u32) -> bool {
    t == INIT || h.txn_ops(t).iter().any(|o| o.write && o.key == key)
}

pub(super) fn valid_txn(h: &WeakHistory, t: TxnId) -> Result<(), String> {
    if t == INIT && h.init || (t as usize) < h.txn_count() {
        Ok(())
    } else {
        Err(format!("no transaction {t}"))
    }
}

/// Whether `a` precedes `b` in session order.
pub(super) fn session_before(h: &WeakHistory, a: TxnId, b: TxnId) -> bool {
    b != INIT && (a == INIT || (h.txn_session[a as usize] == h.txn_session[b as usize] && a < b))
}

/// Certifies what a check of `h` at `level` claims: each violation, and, for serializability
/// and snapshot isolation, the commit order a valid verdict must carry.
pub fn certify_outcome(
    h: &WeakHistory,
    level: Level,
    outcome: &crate::weak::WeakOutcome,
) -> Result<(), Refuted> {
    certify(h, level, &outcome.violations)?;
    let strong = matches!(level, Level::Serializable | Level::SnapshotIsolation);
    match &outcome.order {
        Some(order) => super::serial::certify_order(h, level, order),
        None if strong && outcome.verdict() == crate::outcome::Verdict::Valid && h.txn_count() > 0 => {
            Err(Refuted::new(format!("{} valid", level.as_str()), "a valid verdict carries no commit order"))
        }
        None => Ok(()),
    }
}

/// Certifies every violation of `violations`, claimed of `h` at `level`.
pub fn certify(h: &WeakHistory, level: Level, violations: &[Violation]) -> Result<(), Refuted> {
    if violations.is_empty() {
        return Ok(());
    }
    let writes = Writes::of(h);
    for v in violations {
        certify_one(h, level, &writes, v).map_err(|why| Refuted::new(format!("{} {v:?}", v.name()), why))?;
    }
    Ok(())
}

fn certify_one(h: &WeakHistory, level: Level, writes: &Writes, v: &Violation) -> Result<(), String> {
    for &t in &v.txns() {
        valid_txn(h, t)?;
    }
    match *v {
        Violation::ThinAirRead { txn, op, key, value } => {
            external_read(h, txn, op, key, value)?;
            let written =
                writes.by_value.contains_key(&(key, value)) || writes.aborted.contains(&(key, value));
            if written || (h.init && value == 0) {
                return Err(format!("{}={value} is written", h.keys.name(key)));
            }
            Ok(())
        }
        Violation::AbortedRead { txn, op, key, value } => {
            external_read(h, txn, op, key, value)?;
            if !writes.aborted.contains(&(key, value)) {
                return Err("no aborted transaction writes the value".into());
            }
            Ok(())
        }
        Violation::FutureRead { txn, op, write_op, key, value } => {
            external_read(h, txn, op, key, value)?;
            match h.txn_ops(txn).get(write_op as usize) {
                Some(o) if write_op > op && o.write && o.key == key && o.value == value => Ok(()),
                _ => Err(format!("op {write_op} is not a later write of the value read")),
            }
        }
        Violation::NotMyOwnWrite { txn, op, key, value, write_op, own, last_write } => {
            let ops = h.txn_ops(txn);
            let read = ops.get(op as usize).filter(|o| !o.write && o.key == key && o.value == value);
            let last = ops[..(op as usize).min(ops.len())].iter().rposition(|o| o.write && o.key == key);
            let earlier = ops[..(op as usize).min(ops.len())]
                .iter()
                .any(|o| o.write && o.key == key && o.value == value);
            let fits =
                read.is_some() && last == Some(write_op as usize) && ops[write_op as usize].value == own;
            if !fits || own == value || earlier != last_write {
                return Err("the read does not follow a different own write as claimed".into());
            }
            Ok(())
        }
        Violation::IntermediateRead { reader, op, writer, key, value } => {
            external_read(h, reader, op, key, value)?;
            let list = writes.by_value.get(&(key, value)).map_or(&[][..], Vec::as_slice);
            let overwritten = list.contains(&(writer, false));
            let final_elsewhere = list.iter().any(|w| w.1) || writes.aborted.contains(&(key, value));
            if writer == reader || !overwritten || final_elsewhere {
                return Err("the value is not only an overwritten write of another transaction".into());
            }
            Ok(())
        }
        Violation::NonRepeatableRead { txn, key, first, second, v1, v2, w1, w2 } => {
            if level == Level::ReadCommitted {
                return Err("read committed allows non-repeatable reads".into());
            }
            external_read(h, txn, first, key, v1)?;
            external_read(h, txn, second, key, v2)?;
            let (a, b) = (writes.writer(h, key, v1)?, writes.writer(h, key, v2)?);
            if first >= second || a != w1 || b != w2 || a == b {
                return Err("the two reads do not see two different writers as claimed".into());
            }
            Ok(())
        }
        Violation::Cycle { ref edges } => certify_cycle(h, level, writes, edges),
        Violation::NoCommitOrder { ref choices, complete, .. } => {
            super::serial::certify_refutation(h, level, writes, choices, complete)
        }
    }
}

fn certify_cycle(h: &WeakHistory, level: Level, writes: &Writes, edges: &[Edge]) -> Result<(), String> {
    if edges.is_empty() {
        return Err("an empty cycle".into());
    }
    for (i, e) in edges.iter().enumerate() {
        if e.to != edges[(i + 1) % edges.len()].from {
            return Err(format!("edge {i} ends where the next does not start"));
        }
        certify_edge(h, level, writes, e).map_err(|why| format!("edge {i} ({:?}): {why}", e.why))?;
        let anti = |e: &Edge| matches!(e.why, EdgeWhy::AntiDependency { .. });
        if level == Level::SnapshotIsolation && anti(e) && anti(&edges[(i + 1) % edges.len()]) {
            return Err(format!(
                "edges {i} and the next are two anti-dependencies in a row, which snapshot isolation allows"
            ));
        }
    }
    Ok(())
}

fn certify_edge(h: &WeakHistory, level: Level, writes: &Writes, e: &Edge) -> Result<(), String> {
    match e.why {
        EdgeWhy::Session => {
            session_before(h, e.from, e.to).then_some(()).ok_or_else(|| "not in session order".into())
        }
        EdgeWhy::ReadFrom { op, key, value } => {
            external_read(h, e.to, op, key, value)?;
            (writes.writer(h, key, value)? == e.from && e.from != e.to)
                .then_some(())
                .ok_or_else(|| "the value read is not the source's".into())
        }
        EdgeWhy::Commit { reader, op, key, value, ref premise } => {
            external_read(h, reader, op, key, value)?;
            if writes.writer(h, key, value)? != e.to || e.from == e.to || !writes_key(h, e.from, key) {
                return Err(
                    "the reader does not read the key from the target, or the source does not write it"
                        .into(),
                );
            }
            certify_premise(h, level, writes, e.from, reader, op, premise)
        }
        EdgeWhy::AntiDependency { op, key, value, writer, via } => {
            if !matches!(level, Level::Serializable | Level::SnapshotIsolation) {
                return Err(format!("{} does not order anti-dependencies", level.as_str()));
            }
            external_read(h, e.from, op, key, value)?;
            if writes.writer(h, key, value)? != writer || e.to == writer || e.to == e.from || e.to == INIT {
                return Err("the source does not read the key from the writer named".into());
            }
            if !writes_key(h, e.to, key) {
                return Err("the target does not write the key".into());
            }
            match via {
                None => happens_before(h, writes, writer, e.to),
                Some((reader, b)) => {
                    let o = h.txn_ops(reader).get(b as usize).copied().ok_or("no such op")?;
                    external_read(h, reader, b, key, o.value)?;
                    if writes.writer(h, key, o.value)? != e.to {
                        return Err("the reader named does not read the key from the target".into());
                    }
                    happens_before(h, writes, writer, reader)
                }
            }
        }
    }
}

fn certify_premise(
    h: &WeakHistory,
    level: Level,
    writes: &Writes,
    from: TxnId,
    reader: TxnId,
    op: u32,
    premise: &Premise,
) -> Result<(), String> {
    let reads_from = |b: u32, key: u32| -> Result<(), String> {
        let o = h.txn_ops(reader).get(b as usize).copied().ok_or("no such op")?;
        external_read(h, reader, b, key, o.value)?;
        (writes.writer(h, key, o.value)? == from)
            .then_some(())
            .ok_or_else(|| "the reader does not read from the source".into())
    };
    match (premise, level) {
        (Premise::EarlierRead { op: b, key }, _) => {
            if *b >= op {
                return Err("the earlier read is not earlier".into());
            }
            reads_from(*b, *key)
        }
        (Premise::SessionOrder, l) if l == Level::ReadAtomic || l.implies_causal() => {
            session_before(h, from, reader).then_some(()).ok_or_else(|| "not in session order".into())
        }
        (Premise::ReadsFrom { op: b, key }, l) if l == Level::ReadAtomic || l.implies_causal() => {
            reads_from(*b, *key)
        }
        (Premise::HappensBefore, l) if l.implies_causal() => happens_before(h, writes, from, reader),
        _ => Err(format!("this premise does not force commit order under {}", level.as_str())),
    }
}

/// Whether `a` happens before `b`: a breadth-first search back from `b` over session order and
/// reads-from, derived here from the raw reads.
pub(super) fn happens_before(h: &WeakHistory, writes: &Writes, a: TxnId, b: TxnId) -> Result<(), String> {
    if a == INIT {
        return Ok(());
    }
    let mut seen: HashSet<TxnId, RandomState> = HashSet::default();
    let mut queue = VecDeque::from([b]);
    while let Some(t) = queue.pop_front() {
        let mut preds: Vec<TxnId> = Vec::new();
        if t > 0 && h.txn_session[t as usize - 1] == h.txn_session[t as usize] {
            preds.push(t - 1);
        }
        for (i, o) in h.txn_ops(t).iter().enumerate() {
            if !o.write && external_read(h, t, i as u32, o.key, o.value).is_ok() {
                if let Ok(w) = writes.writer(h, o.key, o.value) {
                    if w != INIT && w != t {
                        preds.push(w);
                    }
                }
            }
        }
        for p in preds {
            if p == a {
                return Ok(());
            }
            if seen.insert(p) {
                queue.push_back(p);
            }
        }
    }
    Err("the source does not happen before the reader".into())
}
