//! Stage two: the partial commit order each level forces, built incrementally, transaction
//! by transaction, with AWDIT's bounds: for read committed and read atomic each reader meets
//! each transaction it reads from once, intersecting the smaller of its read keys and that
//! transaction's write keys (O(n^1.5) over the history); for causal consistency a vector clock
//! per transaction over the k sessions (O(n·k)).
//!
//! Every edge `t2 -> t1` comes from one instance of Biswas & Enea's axiom: a transaction `t3`
//! reads `x` from `t1`, `t2 != t1` writes `x`, and `t2` is related to `t3` (by an earlier read
//! in `t3` for read committed; by session order or reads-from for read atomic; by happens-before
//! for causal). Edges implied by a path of others are left out: they cannot close a cycle the
//! path does not.

use super::history::{INIT, TxnId, WeakHistory};
use super::reads::{Facts, Read};
use super::{Edge, EdgeWhy, Level, Premise};

/// What relates `t2` to the reader in a [`CommitEdge`], compactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Because {
    /// The reader read from `t2` earlier, at this position (read committed).
    EarlierRead(u32),
    /// `t2` precedes the reader in its session (read atomic).
    SessionOrder,
    /// The reader reads from `t2` at this position (read atomic).
    ReadsFrom(u32),
    /// `t2` happens before the reader (causal).
    HappensBefore,
}

/// One forced commit-order edge `from -> to`: `reader`'s op `op` reads from `to`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommitEdge {
    /// The transaction that must commit first (`t2`).
    pub from: TxnId,
    /// The transaction read from (`t1`).
    pub to: TxnId,
    /// The reader (`t3`).
    pub reader: TxnId,
    /// The read's position in the reader.
    pub op: u32,
    /// The premise.
    pub because: Because,
}

impl CommitEdge {
    /// The edge as a witness states it.
    pub fn to_edge(&self, h: &WeakHistory) -> Edge {
        let read = h.txn_ops(self.reader)[self.op as usize];
        let key_at = |op: u32| h.txn_ops(self.reader)[op as usize].key;
        let premise = match self.because {
            Because::EarlierRead(op) => Premise::EarlierRead { op, key: key_at(op) },
            Because::SessionOrder => Premise::SessionOrder,
            Because::ReadsFrom(op) => Premise::ReadsFrom { op, key: key_at(op) },
            Because::HappensBefore => Premise::HappensBefore,
        };
        let why =
            EdgeWhy::Commit { reader: self.reader, op: self.op, key: read.key, value: read.value, premise };
        Edge { from: self.from, to: self.to, why }
    }
}

/// The commit-order edges `level` forces on `h`; `topo` is an order of the transactions that
/// respects session order and reads-from (used by causal consistency).
pub fn saturate(h: &WeakHistory, facts: &Facts, level: Level, topo: &[TxnId]) -> Vec<CommitEdge> {
    let mut out = Vec::new();
    match level {
        Level::ReadCommitted => read_committed(h, facts, &mut out),
        Level::ReadAtomic => read_atomic(h, facts, &mut out),
        Level::Causal | Level::SnapshotIsolation | Level::Serializable => causal(h, facts, topo, &mut out),
    }
    out
}

/// Pushes `from -> to` unless it is trivially true (from the initial transaction, which
/// commits first) or a self-loop of the same writer.
fn push(out: &mut Vec<CommitEdge>, from: TxnId, to: TxnId, reader: TxnId, op: u32, because: Because) {
    if from != to && from != INIT {
        out.push(CommitEdge { from, to, reader, op, because });
    }
}

/// Each distinct writer `t3` reads from (the initial transaction aside), with its first read.
fn first_reads(reads: &[Read], into: &mut Vec<Read>) {
    into.clear();
    into.extend(reads.iter().filter(|r| r.writer != INIT));
    into.sort_by_key(|r| (r.writer, r.op));
    into.dedup_by_key(|r| r.writer);
}

/// Calls `f` with each read in `by_key` (sorted by key, then position) of a key `t2` writes,
/// intersecting from the smaller side.
fn shared_keys(facts: &Facts, t2: TxnId, by_key: &[Read], distinct: usize, mut f: impl FnMut(&[Read])) {
    let writes = facts.writes(t2);
    if writes.len() <= distinct {
        for &(key, _) in writes {
            let lo = by_key.partition_point(|r| r.key < key);
            let hi = lo + by_key[lo..].partition_point(|r| r.key == key);
            if hi > lo {
                f(&by_key[lo..hi]);
            }
        }
    } else {
        for group in by_key.chunk_by(|a, b| a.key == b.key) {
            if facts.writes_key(t2, group[0].key) {
                f(group);
            }
        }
    }
}

/// Read committed: a read of `x` from `t1` after a read from `t2`, which writes `x`, forces
/// `t2 -> t1`. Per key the consecutive writers read are chained; from each writer's first read,
/// the first later read of each key it writes.
fn read_committed(h: &WeakHistory, facts: &Facts, out: &mut Vec<CommitEdge>) {
    let (mut by_key, mut firsts) = (Vec::new(), Vec::new());
    for t3 in 0..h.txn_count() as TxnId {
        let reads = facts.reads(t3);
        by_key.clear();
        by_key.extend_from_slice(reads);
        by_key.sort_by_key(|r: &Read| (r.key, r.op));
        for pair in by_key.windows(2) {
            if pair[0].key == pair[1].key && pair[0].writer != pair[1].writer {
                push(out, pair[0].writer, pair[1].writer, t3, pair[1].op, Because::EarlierRead(pair[0].op));
            }
        }
        let distinct = by_key.chunk_by(|a, b| a.key == b.key).count();
        first_reads(reads, &mut firsts);
        for first in &firsts {
            shared_keys(facts, first.writer, &by_key, distinct, |group| {
                if let Some(r) = group.iter().find(|r| r.op > first.op) {
                    push(out, first.writer, r.writer, t3, r.op, Because::EarlierRead(first.op));
                }
            });
        }
    }
}

/// Read atomic: a read of `x` from `t1` forces `t2 -> t1` for the last transaction `t2` of the
/// reader's session before it that writes `x`, and for each transaction `t2` it reads from
/// that writes `x`.
fn read_atomic(h: &WeakHistory, facts: &Facts, out: &mut Vec<CommitEdge>) {
    // Per key: the session and the last transaction of it that wrote the key so far.
    let mut last: Vec<(u32, TxnId)> = vec![(u32::MAX, INIT); h.keys.len()];
    let (mut by_key, mut firsts) = (Vec::new(), Vec::new());
    for t3 in 0..h.txn_count() as TxnId {
        let session = h.txn_session[t3 as usize];
        let reads = facts.reads(t3);
        for r in reads {
            let (s, t2) = last[r.key as usize];
            if s == session {
                push(out, t2, r.writer, t3, r.op, Because::SessionOrder);
            }
        }
        by_key.clear();
        by_key.extend_from_slice(reads);
        by_key.sort_by_key(|r: &Read| (r.key, r.op));
        let distinct = by_key.chunk_by(|a, b| a.key == b.key).count();
        first_reads(reads, &mut firsts);
        for first in &firsts {
            shared_keys(facts, first.writer, &by_key, distinct, |group| {
                push(out, first.writer, group[0].writer, t3, group[0].op, Because::ReadsFrom(first.op));
            });
        }
        for &(key, _) in facts.writes(t3) {
            last[key as usize] = (session, t3);
        }
    }
}

/// Causal: a read of `x` from `t1` forces `t2 -> t1` for, in each session, the last
/// transaction `t2` that writes `x` and happens before the reader. Vector clocks (per
/// transaction, how many of each session's transactions happen before it) are computed in
/// `topo` order.
fn causal(h: &WeakHistory, facts: &Facts, topo: &[TxnId], out: &mut Vec<CommitEdge>) {
    let k = h.session_count();
    let writers = writers_by_key(h, facts);
    let mut clock = vec![0u32; h.txn_count() * k];
    let mut row = vec![0u32; k];
    for &t3 in topo {
        row.iter_mut().for_each(|c| *c = 0);
        let mut join = |p: TxnId| {
            let base = p as usize * k;
            for (c, &v) in row.iter_mut().zip(&clock[base..base + k]) {
                *c = (*c).max(v);
            }
            let s = h.txn_session[p as usize] as usize;
            row[s] = row[s].max(h.position(p) + 1);
        };
        if h.position(t3) > 0 {
            join(t3 - 1);
        }
        let reads = facts.reads(t3);
        for r in reads.iter().filter(|r| r.writer != INIT) {
            join(r.writer);
        }
        clock[t3 as usize * k..(t3 as usize + 1) * k].copy_from_slice(&row);
        for r in reads {
            let list = writers.of(r.key);
            let mut i = 0;
            while i < list.len() {
                let s = h.txn_session[list[i] as usize] as usize;
                let end = i + list[i..].partition_point(|&t| t < h.session_start[s + 1]);
                let limit = h.session_start[s] + row[s];
                let before = list[i..end].partition_point(|&t| t < limit);
                if before > 0 {
                    push(out, list[i + before - 1], r.writer, t3, r.op, Because::HappensBefore);
                }
                i = end;
            }
        }
    }
}

/// For each key, the transactions that write it, in index order (so grouped by session).
struct WritersByKey {
    start: Vec<u32>,
    txns: Vec<TxnId>,
}

impl WritersByKey {
    fn of(&self, key: u32) -> &[TxnId] {
        &self.txns[self.start[key as usize] as usize..self.start[key as usize + 1] as usize]
    }
}

fn writers_by_key(h: &WeakHistory, facts: &Facts) -> WritersByKey {
    let mut start = vec![0u32; h.keys.len() + 1];
    for t in 0..h.txn_count() as TxnId {
        for &(key, _) in facts.writes(t) {
            start[key as usize + 1] += 1;
        }
    }
    for i in 1..start.len() {
        start[i] += start[i - 1];
    }
    let mut fill = start.clone();
    let mut txns = vec![0; *start.last().expect("marker") as usize];
    for t in 0..h.txn_count() as TxnId {
        for &(key, _) in facts.writes(t) {
            txns[fill[key as usize] as usize] = t;
            fill[key as usize] += 1;
        }
    }
    WritersByKey { start, txns }
}
