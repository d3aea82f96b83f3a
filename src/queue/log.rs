//! `--model log`: Kafka-style partitions, as Jepsen's `jepsen.tests.kafka` checks them.
//!
//! Each key is a log of `[offset value]` records; values are unique per key (the workload
//! sends each once). From the acknowledged sends and the `:ok` polls:
//!
//! - inconsistent-offsets: two values at one offset of a key;
//! - duplicate: one value at two offsets of a key;
//! - lost-write: an acknowledged send whose value no poll ever read, though some poll read
//!   that key at or past its offset;
//! - unseen: an acknowledged send no poll ever read, and no poll read its key that far;
//! - poll-skip: a consumer read a key up to offset L, then next from F, though an offset
//!   between them holds a record (the version order is the set of offsets known to hold one,
//!   so the gaps transactions leave in offsets are not skips);
//! - nonmonotonic-poll: a consumer read up to L, then next from F <= L;
//! - nonmonotonic-send: a producer's send to a key got an offset no higher than its previous
//!   send to that key.
//!
//! A consumer's reads are compared only with no `:assign`, `:subscribe`, `:crash`, or poll that
//! did not complete `:ok` between them (each may move the consumer). Stuck consumers and lag
//! are [`super::lag`]'s.

use super::decode::{LogOp, Mop, decode};
use super::{Claim, QueueAnomaly, QueueOptions, QueueReport, verdict_of};
use crate::history::{History, Outcome, Value};
use crate::outcome::DecodeFailure;
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap, HashSet};

/// An acknowledged send.
#[derive(Clone, Debug)]
pub(crate) struct Sent {
    pub key: u32,
    pub value: Value,
    pub offset: Option<i64>,
    pub op: u32,
}

/// What the whole history says of each key, built once: the anomalies' and lag's evidence.
pub(crate) struct Index {
    /// Keys, interned: `keys[k]` is key `k`'s value.
    pub keys: Vec<Value>,
    key_ids: HashMap<Value, u32>,
    /// Acknowledged sends, in history order.
    pub sends: Vec<Sent>,
    /// Per key: the offsets known to hold a record, sorted, each with an op that saw it.
    pub offsets: Vec<Vec<(i64, u32)>>,
    /// Per key: the highest offset any poll read, and that poll.
    pub high: Vec<Option<(i64, u32)>>,
    /// (key, value) pairs some poll read.
    polled: HashSet<(u32, Value)>,
}

impl Index {
    fn key(&mut self, k: &Value) -> u32 {
        if let Some(&id) = self.key_ids.get(k) {
            return id;
        }
        let id = self.keys.len() as u32;
        self.keys.push(k.clone());
        self.key_ids.insert(k.clone(), id);
        self.offsets.push(Vec::new());
        self.high.push(None);
        id
    }

    /// The key's id, if any op named it.
    pub fn key_id(&self, k: &Value) -> Option<u32> {
        self.key_ids.get(k).copied()
    }

    /// The lowest offset of `key` known to hold a record strictly between `low` and `high`.
    fn between(&self, key: u32, low: i64, high: i64) -> Option<(i64, u32)> {
        let offs = &self.offsets[key as usize];
        let i = offs.partition_point(|&(o, _)| o <= low);
        offs.get(i).copied().filter(|&(o, _)| o < high)
    }
}

/// Decodes every op (on all cores).
pub(crate) fn decode_all(history: &History) -> Result<Vec<LogOp>, DecodeFailure> {
    history.ops.par_iter().map(|op| decode(history, op)).collect()
}

/// Records every fact of `ops` in an index, and the anomalies facts alone show: two values
/// at one offset, one value at two.
fn index(history: &History, ops: &[LogOp], anomalies: &mut Vec<QueueAnomaly>) -> Index {
    let mut ix = Index {
        keys: Vec::new(),
        key_ids: HashMap::new(),
        sends: Vec::new(),
        offsets: Vec::new(),
        high: Vec::new(),
        polled: HashSet::new(),
    };
    let mut at: HashMap<(u32, i64), (Value, u32)> = HashMap::new();
    let mut where_: HashMap<(u32, Value), (i64, u32)> = HashMap::new();
    let mut flagged: HashSet<(u32, Value)> = HashSet::new();
    let mut flagged_at: HashSet<(u32, i64)> = HashSet::new();
    for (pos, (op, lop)) in history.ops.iter().zip(ops).enumerate() {
        let LogOp::Mops(mops) = lop else { continue };
        if op.outcome != Outcome::Ok {
            continue;
        }
        let pos = pos as u32;
        for m in mops {
            let mut see = |ix: &mut Index, k: u32, o: i64, v: &Value, anomalies: &mut Vec<QueueAnomaly>| {
                let key = &ix.keys[k as usize];
                match at.get(&(k, o)) {
                    Some((w, first)) if w != v => {
                        if flagged_at.insert((k, o)) {
                            anomalies.push(inconsistent(key, o, [w.clone(), v.clone()], [*first, pos]));
                        }
                    }
                    Some(_) => {}
                    None => {
                        at.insert((k, o), (v.clone(), pos));
                        ix.offsets[k as usize].push((o, pos));
                    }
                }
                match where_.get(&(k, v.clone())) {
                    Some(&(o1, first)) if o1 != o => {
                        if flagged.insert((k, v.clone())) {
                            let (offsets, ops) =
                                if o1 < o { ([o1, o], [first, pos]) } else { ([o, o1], [pos, first]) };
                            anomalies.push(duplicate(key, v, offsets, ops));
                        }
                    }
                    Some(_) => {}
                    None => {
                        where_.insert((k, v.clone()), (o, pos));
                    }
                }
            };
            match m {
                Mop::Send { key, value, offset } => {
                    let k = ix.key(key);
                    ix.sends.push(Sent { key: k, value: value.clone(), offset: *offset, op: pos });
                    if let Some(o) = offset {
                        see(&mut ix, k, *o, value, anomalies);
                    }
                }
                Mop::Poll(reads) => {
                    for (key, recs) in reads {
                        let k = ix.key(key);
                        for (o, v) in recs {
                            see(&mut ix, k, *o, v, anomalies);
                            ix.polled.insert((k, v.clone()));
                            if ix.high[k as usize].is_none_or(|(h, _)| *o > h) {
                                ix.high[k as usize] = Some((*o, pos));
                            }
                        }
                    }
                }
            }
        }
    }
    for offs in &mut ix.offsets {
        offs.sort_unstable();
    }
    ix
}

fn inconsistent(key: &Value, offset: i64, values: [Value; 2], ops: [u32; 2]) -> QueueAnomaly {
    QueueAnomaly {
        key: Some(key.to_string()),
        ops: ops.to_vec(),
        explanation: format!(
            "offset {offset} of key {key} holds two values: {} and {}",
            values[0], values[1]
        ),
        claim: Claim::InconsistentOffsets { key: key.clone(), offset, values, ops },
    }
}

fn duplicate(key: &Value, value: &Value, offsets: [i64; 2], ops: [u32; 2]) -> QueueAnomaly {
    QueueAnomaly {
        key: Some(key.to_string()),
        ops: ops.to_vec(),
        explanation: format!("{value} is at two offsets of key {key}: {} and {}", offsets[0], offsets[1]),
        claim: Claim::Duplicate { key: key.clone(), value: value.clone(), offsets, ops },
    }
}

/// Acknowledged sends no poll read: lost when some poll read their key at or past their
/// offset, unseen otherwise.
fn unread(ix: &Index, anomalies: &mut Vec<QueueAnomaly>) {
    for s in &ix.sends {
        if ix.polled.contains(&(s.key, s.value.clone())) {
            continue;
        }
        let key = &ix.keys[s.key as usize];
        let past = s.offset.zip(ix.high[s.key as usize]).filter(|(o, (h, _))| h >= o);
        anomalies.push(match past {
            Some((offset, (read_offset, poll))) => QueueAnomaly {
                key: Some(key.to_string()),
                ops: vec![s.op, poll],
                explanation: format!(
                    "the acknowledged send of {} to key {key} at offset {offset} was never read by any poll, though \
                     a poll read key {key} at offset {read_offset}",
                    s.value
                ),
                claim: Claim::LostWrite {
                    key: key.clone(),
                    value: s.value.clone(),
                    offset,
                    send: s.op,
                    poll,
                    read_offset,
                },
            },
            None => QueueAnomaly {
                key: Some(key.to_string()),
                ops: vec![s.op],
                explanation: format!(
                    "the acknowledged send of {} to key {key}{} was never read by any poll by the end of the history",
                    s.value,
                    s.offset.map(|o| format!(" at offset {o}")).unwrap_or_default()
                ),
                claim: Claim::Unseen { key: key.clone(), value: s.value.clone(), send: s.op },
            },
        });
    }
}

/// Per process, ops in history order (positions).
pub(crate) fn by_process(history: &History) -> BTreeMap<u32, Vec<u32>> {
    let mut procs: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for (pos, op) in history.ops.iter().enumerate() {
        procs.entry(op.process).or_default().push(pos as u32);
    }
    procs
}

/// One consumer's reads and one producer's sends, in order: poll skips, non-monotonic polls
/// and sends.
fn walk_process(history: &History, ops: &[LogOp], ix: &Index, mine: &[u32]) -> Vec<QueueAnomaly> {
    let mut found = Vec::new();
    // key -> (last offset read, the op that read it)
    let mut read: HashMap<u32, (i64, u32)> = HashMap::new();
    let mut sent: HashMap<u32, (i64, u32)> = HashMap::new();
    for &pos in mine {
        let ok = history.ops[pos as usize].outcome == Outcome::Ok;
        match &ops[pos as usize] {
            LogOp::Assign(_) | LogOp::Subscribe(_) | LogOp::Crash | LogOp::Indeterminate => read.clear(),
            LogOp::Mops(mops) if ok => {
                for m in mops {
                    match m {
                        Mop::Poll(reads) => {
                            for (key, recs) in reads {
                                let k = ix.key_id(key).expect("indexed");
                                for &(o, _) in recs {
                                    if let Some(&(last, prev)) = read.get(&k) {
                                        found.extend(compare_reads(ix, k, (last, prev), (o, pos)));
                                    }
                                    read.insert(k, (o, pos));
                                }
                            }
                        }
                        Mop::Send { key, offset: Some(o), .. } => {
                            let k = ix.key_id(key).expect("indexed");
                            if let Some(&(first, prev)) = sent.get(&k) {
                                if *o <= first {
                                    found.push(nonmonotonic_send(&ix.keys[k as usize], prev, pos, first, *o));
                                }
                            }
                            sent.insert(k, (*o, pos));
                        }
                        Mop::Send { .. } => {}
                    }
                }
            }
            _ => {}
        }
    }
    found
}

/// A consumer read offset `last` (by `prev`), then `first` (by `next`): a skip or a step back,
/// or nothing wrong.
fn compare_reads(
    ix: &Index,
    k: u32,
    (last, prev): (i64, u32),
    (first, next): (i64, u32),
) -> Option<QueueAnomaly> {
    let key = &ix.keys[k as usize];
    if first <= last {
        return Some(QueueAnomaly {
            key: Some(key.to_string()),
            ops: vec![prev, next],
            explanation: format!(
                "a consumer read key {key} up to offset {last}, then next read offset {first}: it went back"
            ),
            claim: Claim::NonmonotonicPoll { key: key.clone(), prev, next, last, first },
        });
    }
    let (skipped, witness) = ix.between(k, last, first)?;
    Some(QueueAnomaly {
        key: Some(key.to_string()),
        ops: vec![prev, next, witness],
        explanation: format!(
            "a consumer read key {key} up to offset {last}, then next read offset {first}, skipping offset {skipped}, \
             which holds a record"
        ),
        claim: Claim::PollSkip { key: key.clone(), prev, next, last, first, skipped, witness },
    })
}

fn nonmonotonic_send(key: &Value, prev: u32, next: u32, first: i64, second: i64) -> QueueAnomaly {
    QueueAnomaly {
        key: Some(key.to_string()),
        ops: vec![prev, next],
        explanation: format!(
            "a producer's send to key {key} got offset {first}, and its next send to key {key} got offset {second}"
        ),
        claim: Claim::NonmonotonicSend { key: key.clone(), prev, next, first, second },
    }
}

/// Checks `history` as a Kafka-style log.
pub fn check(history: &History, options: &QueueOptions) -> Result<QueueReport, DecodeFailure> {
    let ops = decode_all(history)?;
    let mut anomalies = Vec::new();
    let ix = index(history, &ops, &mut anomalies);
    unread(&ix, &mut anomalies);
    let procs = by_process(history);
    let walked: Vec<Vec<QueueAnomaly>> =
        procs.par_iter().map(|(_, mine)| walk_process(history, &ops, &ix, mine)).collect();
    anomalies.extend(walked.into_iter().flatten());
    let lag = super::lag::analyze(history, &ops, &ix, &procs, options);
    anomalies.extend(lag.anomalies);
    let mut counts = BTreeMap::new();
    counts.insert("send-count".to_string(), ix.sends.len());
    counts.insert("key-count".to_string(), ix.keys.len());
    counts.insert(
        "poll-count".to_string(),
        ops.iter()
            .filter(|o| matches!(o, LogOp::Mops(m) if m.iter().any(|m| matches!(m, Mop::Poll(_)))))
            .count(),
    );
    Ok(QueueReport {
        model: "log",
        valid: verdict_of(&anomalies),
        anomalies,
        counts,
        elements: BTreeMap::new(),
        lag: lag.series,
        notes: lag.notes,
    })
}
