//! Stage one: read consistency. Each read is matched with the write it observed, and the reads
//! no commit order can explain are reported by name (thin-air, aborted, future, intermediate,
//! non-repeatable reads, reads that miss the transaction's own write), as AWDIT and Biswas &
//! Enea define them. What passes is the reads-from relation the later stages build on.
//!
//! Written values are assumed unique per key, as all three tools assume; a read of a value
//! written twice has no definite writer, and the verdict is then unknown, never a guess.

use super::history::{INIT, Op, TxnId, WeakHistory};
use super::{Level, MAX_REPORTED, Violation};
use ahash::RandomState;
use hashbrown::{HashMap, HashSet};

/// A read of another transaction's write: its position, key, value and writer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Read {
    /// Position of the read in its transaction.
    pub op: u32,
    /// The key.
    pub key: u32,
    /// The value read.
    pub value: u64,
    /// The transaction whose last write of `key` it reads ([`INIT`] for the initial value).
    pub writer: TxnId,
}

/// What the read-consistency stage establishes: each transaction's reads of other
/// transactions (in program order) and its final writes (sorted by key).
#[derive(Debug)]
pub struct Facts {
    read_start: Vec<u32>,
    reads: Vec<Read>,
    write_start: Vec<u32>,
    writes: Vec<(u32, u64)>,
}

/// Why the read-consistency stage ended the check.
#[derive(Debug)]
pub enum Stop {
    /// Violations: how many in all, and the first [`MAX_REPORTED`].
    Violations(usize, Vec<Violation>),
    /// A read whose writer cannot be told (a value written more than once), and why.
    Ambiguous(String),
}

/// The marker of a (key, value) that more than one transaction writes.
const DUPLICATE: TxnId = u32::MAX - 1;

/// Collects violations, keeping the first [`MAX_REPORTED`] and counting all.
#[derive(Default)]
struct Found {
    count: usize,
    kept: Vec<Violation>,
}

impl Found {
    fn add(&mut self, v: Violation) {
        self.count += 1;
        if self.kept.len() < MAX_REPORTED {
            self.kept.push(v);
        }
    }
}

impl Facts {
    /// Runs the read-consistency checks `level` makes and derives reads-from.
    pub fn derive(h: &WeakHistory, level: Level) -> Result<Facts, Stop> {
        let mut found = Found::default();
        let OwnReads { pending, writes, write_start, intermediate } = own_reads(h, &mut found);
        let finals = final_writers(h, &writes, &write_start);
        let aborted: HashSet<(u32, u64), RandomState> = h.aborted.iter().copied().collect();
        let mut facts =
            Facts { read_start: vec![0; h.txn_count() + 1], reads: Vec::new(), write_start, writes };
        facts.reads.reserve(pending.len());
        let mut ambiguous = None;
        let mut next = 0;
        for t in 0..h.txn_count() as TxnId {
            while next < pending.len() && pending[next].0 == t {
                let (_, op, key, value) = pending[next];
                next += 1;
                let writer = match finals.get(&(key, value)) {
                    _ if aborted.contains(&(key, value)) => {
                        found.add(Violation::AbortedRead { txn: t, op, key, value });
                        continue;
                    }
                    Some(&w) if w == t => continue,
                    Some(&DUPLICATE) => {
                        ambiguous.get_or_insert((key, value));
                        continue;
                    }
                    Some(&w) => w,
                    None if h.init && value == 0 => INIT,
                    None => {
                        match intermediate.get(&(key, value)) {
                            Some(&w) if w != t => found.add(Violation::IntermediateRead {
                                reader: t,
                                op,
                                writer: w,
                                key,
                                value,
                            }),
                            Some(_) => {}
                            None => found.add(Violation::ThinAirRead { txn: t, op, key, value }),
                        }
                        continue;
                    }
                };
                facts.reads.push(Read { op, key, value, writer });
            }
            facts.read_start[t as usize + 1] = facts.reads.len() as u32;
        }
        if level != Level::ReadCommitted {
            facts.non_repeatable(h, &mut found);
        }
        if found.count > 0 {
            return Err(Stop::Violations(found.count, found.kept));
        }
        if let Some((key, value)) = ambiguous {
            return Err(Stop::Ambiguous(format!(
                "{}={value} is written more than once and read, so which write it reads cannot be told",
                h.keys.name(key)
            )));
        }
        Ok(facts)
    }

    /// Transaction `t`'s reads of other transactions, in program order.
    pub fn reads(&self, t: TxnId) -> &[Read] {
        &self.reads[self.read_start[t as usize] as usize..self.read_start[t as usize + 1] as usize]
    }

    /// Transaction `t`'s last write of each key it writes, sorted by key.
    pub fn writes(&self, t: TxnId) -> &[(u32, u64)] {
        if t == INIT {
            return &[];
        }
        &self.writes[self.write_start[t as usize] as usize..self.write_start[t as usize + 1] as usize]
    }

    /// Whether `t` writes `key` (the initial transaction writes every key).
    pub fn writes_key(&self, t: TxnId, key: u32) -> bool {
        t == INIT || self.writes(t).binary_search_by_key(&key, |w| w.0).is_ok()
    }

    /// Reports each transaction that reads one key from two different writers.
    fn non_repeatable(&self, h: &WeakHistory, found: &mut Found) {
        let mut scratch: Vec<Read> = Vec::new();
        for t in 0..h.txn_count() as TxnId {
            scratch.clear();
            scratch.extend_from_slice(self.reads(t));
            scratch.sort_by_key(|r| (r.key, r.op));
            for pair in scratch.windows(2) {
                let (a, b) = (pair[0], pair[1]);
                if a.key == b.key && a.writer != b.writer {
                    found.add(Violation::NonRepeatableRead {
                        txn: t,
                        key: a.key,
                        first: a.op,
                        second: b.op,
                        v1: a.value,
                        v2: b.value,
                        w1: a.writer,
                        w2: b.writer,
                    });
                }
            }
        }
    }
}

/// A read not of the transaction's own write: (transaction, position, key, value).
type Pending = (TxnId, u32, u32, u64);

/// What the checks inside transactions leave: the reads of other transactions, the final
/// writes (sorted by key per transaction, with their starts), the intermediate writes.
struct OwnReads {
    pending: Vec<Pending>,
    writes: Vec<(u32, u64)>,
    write_start: Vec<u32>,
    intermediate: WriterMap,
}

/// Which transaction wrote each (key, value).
type WriterMap = HashMap<(u32, u64), TxnId, RandomState>;

/// The checks inside each transaction (future reads, reads that miss its own write), key by
/// key in program order. Returns the reads left to match with other transactions' writes,
/// each transaction's final writes (sorted by key, with their starts) and the intermediate
/// writes (overwritten in the same transaction).
fn own_reads(h: &WeakHistory, found: &mut Found) -> OwnReads {
    let mut pending = Vec::with_capacity(h.ops.len() / 2);
    let mut writes = Vec::with_capacity(h.ops.len() / 2);
    let mut write_start = Vec::with_capacity(h.txn_count() + 1);
    write_start.push(0);
    let mut intermediate = HashMap::default();
    let mut order: Vec<(u32, u32)> = Vec::new();
    for t in 0..h.txn_count() as TxnId {
        let ops = h.txn_ops(t);
        order.clear();
        order.extend(ops.iter().enumerate().map(|(i, o)| (o.key, i as u32)));
        order.sort_unstable();
        let first_pending = pending.len();
        for group in order.chunk_by(|a, b| a.0 == b.0) {
            let last = key_group(t, ops, group, found, &mut pending, &mut intermediate);
            writes.extend(last);
        }
        pending[first_pending..].sort_unstable_by_key(|p| p.1);
        write_start.push(writes.len() as u32);
    }
    OwnReads { pending, writes, write_start, intermediate }
}

/// One key's ops in one transaction, in program order: reports what misses the
/// transaction's own writes, queues the reads of other transactions, records intermediate
/// writes; returns the final write, if any.
fn key_group(
    t: TxnId,
    ops: &[Op],
    group: &[(u32, u32)],
    found: &mut Found,
    pending: &mut Vec<Pending>,
    intermediate: &mut WriterMap,
) -> Option<(u32, u64)> {
    let mut last: Option<(u32, u64)> = None; // position and value of the last own write
    let external_start = pending.len();
    for (i, &(key, pos)) in group.iter().enumerate() {
        let op = ops[pos as usize];
        if op.write {
            if let Some(p) = pending[external_start..].iter().find(|p| p.3 == op.value) {
                found.add(Violation::FutureRead { txn: t, op: p.1, write_op: pos, key, value: op.value });
            }
            if let Some((_, v)) = last {
                intermediate.insert((key, v), t);
            }
            last = Some((pos, op.value));
            continue;
        }
        match last {
            None => pending.push((t, pos, key, op.value)),
            Some((_, v)) if v == op.value => {}
            Some((write_op, own)) => {
                let earlier = group[..i]
                    .iter()
                    .any(|&(_, p)| ops[p as usize].write && ops[p as usize].value == op.value);
                found.add(Violation::NotMyOwnWrite {
                    txn: t,
                    op: pos,
                    key,
                    value: op.value,
                    write_op,
                    own,
                    last_write: earlier,
                });
            }
        }
    }
    last.map(|(_, v)| (group[0].0, v))
}

/// Which transaction last-wrote each (key, value), [`DUPLICATE`] where more than one did (or
/// where the initial transaction's 0 is written again).
fn final_writers(
    h: &WeakHistory,
    writes: &[(u32, u64)],
    start: &[u32],
) -> HashMap<(u32, u64), TxnId, RandomState> {
    let mut map: HashMap<(u32, u64), TxnId, RandomState> = HashMap::default();
    map.reserve(writes.len());
    for t in 0..h.txn_count() {
        for &(key, value) in &writes[start[t] as usize..start[t + 1] as usize] {
            let dup = h.init && value == 0;
            map.entry((key, value)).and_modify(|w| *w = DUPLICATE).or_insert(if dup {
                DUPLICATE
            } else {
                t as TxnId
            });
        }
    }
    map
}
