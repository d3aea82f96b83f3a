//! Each consumer's true lag, stuck consumers, and lag the system misreported.
//!
//! A consumer is a process. Its position on a key is the last offset it polled there; its true
//! lag at a moment is the highest offset of that key acknowledged by then minus its position.
//! Positions are known from a consumer's first poll of a key until an `:assign`, `:subscribe`,
//! `:crash` or a poll that did not complete `:ok` (each may move it by records the history does
//! not show).
//!
//! A consumer owns a key when its last `:assign` named it, or when it never assigned nor
//! subscribed (it reads every key). Under `:subscribe` the system chooses which partitions a
//! consumer gets, and moves them without an op in the history, so nothing is claimed of
//! subscribed consumers' stalls or reported lag.
//!
//! - stuck-consumer: an owning consumer's position did not move, over polls, for longer than
//!   `--stuck-after`, from the moment a record past it was acknowledged (or it got there,
//!   whichever was later) to its last poll that still did not move it.
//! - lag-misreported: a `:lag` op reported a lag below the true lag's lower bound: the highest
//!   offset acknowledged before the `:lag` op began, minus the consumer's position.

use super::decode::{LogOp, Mop};
use super::log::Index;
use super::{Claim, DEFAULT_STUCK_AFTER, LagPoint, QueueAnomaly, QueueOptions};
use crate::history::{Clock, History, Outcome};
use std::collections::{BTreeMap, HashMap, HashSet};

/// What the lag analysis found.
pub(crate) struct Lag {
    pub anomalies: Vec<QueueAnomaly>,
    pub series: Vec<LagPoint>,
    pub notes: Vec<String>,
}

/// The most lag points a report keeps (the first ones).
const MAX_POINTS: usize = 10_000;

/// Per key, the acknowledged sends with an offset `(offset, completion, op)`, two ways: by
/// completion time with the running highest offset (the highest acknowledged by a moment), and
/// by offset with the earliest completion at or past each (when a record past a position first
/// existed). `best` holds, per entry, the index of the entry that answers.
struct Acked {
    by_time: Vec<Ranked>,
    by_offset: Vec<Ranked>,
}

/// Sends `(offset, completion, op)` in some order, and per entry the index of the best so far.
type Ranked = (Vec<(i64, i64, u32)>, Vec<usize>);

impl Acked {
    fn new(history: &History, ix: &Index) -> Acked {
        let n = ix.keys.len();
        let (mut by_time, mut by_offset) =
            (vec![(Vec::new(), Vec::new()); n], vec![(Vec::new(), Vec::new()); n]);
        for s in &ix.sends {
            let Some(o) = s.offset else { continue };
            let t = history.ops[s.op as usize].complete_time;
            by_time[s.key as usize].0.push((o, t, s.op));
            by_offset[s.key as usize].0.push((o, t, s.op));
        }
        for (v, best) in &mut by_time {
            v.sort_unstable_by_key(|e| (e.1, e.0));
            // Prefix: the highest offset acknowledged by each entry's completion.
            *best = running(v.len(), |i, b| v[i].0 > v[b].0);
        }
        for (v, best) in &mut by_offset {
            v.sort_unstable();
            // Suffix: the earliest completion at or past each entry's offset.
            let mut rev = running(v.len(), |i, b| v[v.len() - 1 - i].1 < v[v.len() - 1 - b].1);
            rev.reverse();
            *best = rev.iter().map(|&b| v.len() - 1 - b).collect();
        }
        Acked { by_time, by_offset }
    }

    /// The highest offset of `key` acknowledged strictly before `time`, and its send.
    fn highest_before(&self, key: u32, time: i64) -> Option<(i64, u32)> {
        let (v, best) = &self.by_time[key as usize];
        let i = v.partition_point(|&(_, t, _)| t < time).checked_sub(1)?;
        let (o, _, op) = v[best[i]];
        Some((o, op))
    }

    /// The earliest-acknowledged send of `key` past `position`: (its completion, its offset, it).
    fn first_past(&self, key: u32, position: i64) -> Option<(i64, i64, u32)> {
        let (v, best) = &self.by_offset[key as usize];
        let i = v.partition_point(|&(o, _, _)| o <= position);
        let (o, t, op) = v[*best.get(i)?];
        Some((t, o, op))
    }
}

/// For each i in 0..n, the index b <= i that is best so far, `better(i, b)` saying when i beats b.
fn running(n: usize, better: impl Fn(usize, usize) -> bool) -> Vec<usize> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let b = match out.last() {
            Some(&b) if !better(i, b) => b,
            _ => i,
        };
        out.push(b);
    }
    out
}

/// Which keys a consumer owns.
#[derive(Clone, Debug)]
enum Owns {
    Everything,
    Assigned(HashSet<u32>),
    Unknown,
}

impl Owns {
    fn owns(&self, k: u32) -> bool {
        match self {
            Owns::Everything => true,
            Owns::Assigned(s) => s.contains(&k),
            Owns::Unknown => false,
        }
    }
}

/// A consumer's position on a key since the poll that put it there.
#[derive(Clone, Copy, Debug)]
struct Position {
    offset: i64,
    since: u32,
    since_time: i64,
    polls: usize,
    last_poll: Option<(u32, i64)>,
}

struct Walk<'a> {
    history: &'a History,
    ix: &'a Index,
    acked: &'a Acked,
    stuck_after: Option<i64>,
    process: u32,
    owns: Owns,
    at: HashMap<u32, Position>,
    found: Vec<QueueAnomaly>,
    series: Vec<LagPoint>,
}

impl Walk<'_> {
    /// The consumer's position on `k` ends: a stall past `--stuck-after` is a stuck consumer.
    fn close(&mut self, k: u32, p: Position) {
        let (Some(limit), Some((last_poll, to)), true) = (self.stuck_after, p.last_poll, self.owns.owns(k))
        else {
            return;
        };
        let Some((acked_at, ahead_offset, ahead)) = self.acked.first_past(k, p.offset) else { return };
        let from = acked_at.max(p.since_time);
        if to.saturating_sub(from) <= limit {
            return;
        }
        let key = &self.ix.keys[k as usize];
        self.found.push(QueueAnomaly {
            key: Some(key.to_string()),
            ops: vec![p.since, ahead, last_poll],
            explanation: format!(
                "the consumer of process {} stayed at offset {} of key {key} for {} while its lag was positive: \
                 offset {ahead_offset} was acknowledged, and {} polls did not read past offset {}",
                self.process,
                p.offset,
                duration(to - from),
                p.polls,
                p.offset
            ),
            claim: Claim::Stuck {
                key: key.clone(),
                process: self.process,
                position: p.offset,
                since: p.since,
                ahead,
                ahead_offset,
                last_poll,
                polls: p.polls,
                from,
                to,
            },
        });
    }

    fn reset(&mut self) {
        let at = std::mem::take(&mut self.at);
        for (k, p) in at {
            self.close(k, p);
        }
    }

    fn poll(&mut self, pos: u32, read: &HashMap<u32, i64>) {
        let time = self.history.ops[pos as usize].complete_time;
        let keys: Vec<u32> =
            self.at.keys().copied().chain(read.keys().copied()).collect::<HashSet<_>>().into_iter().collect();
        for k in keys {
            match (read.get(&k), self.at.get(&k).copied()) {
                (Some(&o), prev) if prev.is_none_or(|p| o != p.offset) => {
                    if let Some(p) = prev {
                        self.close(k, p);
                    }
                    self.at.insert(
                        k,
                        Position { offset: o, since: pos, since_time: time, polls: 0, last_poll: None },
                    );
                }
                (_, Some(mut p)) => {
                    p.polls += 1;
                    p.last_poll = Some((pos, time));
                    self.at.insert(k, p);
                }
                _ => continue,
            }
            self.point(k, time);
        }
    }

    /// A point of the lag series, when the consumer's true lag on `k` changed.
    fn point(&mut self, k: u32, time: i64) {
        let (Some(p), Some((high, _))) =
            (self.at.get(&k), self.acked.highest_before(k, time.saturating_add(1)))
        else {
            return;
        };
        let lag = (high - p.offset).max(0);
        let key = self.ix.keys[k as usize].to_string();
        let last = self.series.iter().rev().find(|q| q.key == key);
        if last.is_none_or(|q| q.lag != lag) {
            self.series.push(LagPoint { time, process: self.process, key, lag });
        }
    }

    fn lag_op(&mut self, pos: u32, reported: &[(crate::history::Value, i64)]) {
        let begun = self.history.ops[pos as usize].invoke_time;
        for (key, n) in reported {
            let Some(k) = self.ix.key_id(key) else { continue };
            let (Some(p), true) = (self.at.get(&k), self.owns.owns(k)) else { continue };
            let Some((high, send)) = self.acked.highest_before(k, begun) else { continue };
            let at_least = high - p.offset;
            if *n >= at_least {
                continue;
            }
            self.found.push(QueueAnomaly {
                key: Some(key.to_string()),
                ops: vec![pos, p.since, send],
                explanation: format!(
                    "the system reported lag {n} for the consumer of process {} on key {key}, but its lag was at least \
                     {at_least}: it had read up to offset {}, and offset {high} was acknowledged before the report was asked for",
                    self.process, p.offset
                ),
                claim: Claim::LagMisreported {
                    key: key.clone(),
                    process: self.process,
                    reported: *n,
                    at_least,
                    lag_op: pos,
                    position_poll: p.since,
                    position: p.offset,
                    send,
                },
            });
        }
    }
}

fn duration(nanos: i64) -> String {
    if nanos >= 1_000_000 { format!("{:.1} s", nanos as f64 / 1e9) } else { format!("{nanos} time units") }
}

/// Lag, stalls and misreported lag, for every consumer.
pub(crate) fn analyze(
    history: &History,
    ops: &[LogOp],
    ix: &Index,
    procs: &BTreeMap<u32, Vec<u32>>,
    options: &QueueOptions,
) -> Lag {
    let acked = Acked::new(history, ix);
    let mut notes = Vec::new();
    let stuck_after = if history.clock == Clock::Time {
        Some(options.stuck_after.unwrap_or(DEFAULT_STUCK_AFTER))
    } else {
        notes.push("stuck consumers were not looked for: some events have no :time".to_string());
        None
    };
    let (mut anomalies, mut series) = (Vec::new(), Vec::new());
    for (&process, mine) in procs {
        let mut w = Walk {
            history,
            ix,
            acked: &acked,
            stuck_after,
            process,
            owns: Owns::Everything,
            at: HashMap::new(),
            found: Vec::new(),
            series: Vec::new(),
        };
        for &pos in mine {
            walk_op(&mut w, pos, &ops[pos as usize]);
        }
        w.reset();
        anomalies.append(&mut w.found);
        series.append(&mut w.series);
    }
    if series.len() > MAX_POINTS {
        notes.push(format!(
            "the lag series has {} points; the report keeps the first {MAX_POINTS}",
            series.len()
        ));
        series.truncate(MAX_POINTS);
    }
    Lag { anomalies, series, notes }
}

fn walk_op(w: &mut Walk<'_>, pos: u32, op: &LogOp) {
    let ok = w.history.ops[pos as usize].outcome == Outcome::Ok;
    match op {
        LogOp::Assign(keys) => {
            w.reset();
            w.owns = Owns::Assigned(keys.iter().filter_map(|k| w.ix.key_id(k)).collect());
        }
        LogOp::Subscribe(_) => {
            w.reset();
            w.owns = Owns::Unknown;
        }
        LogOp::Crash | LogOp::Indeterminate => w.reset(),
        LogOp::Mops(mops) if ok && mops.iter().any(|m| matches!(m, Mop::Poll(_))) => {
            let mut read = HashMap::new();
            for m in mops {
                if let Mop::Poll(reads) = m {
                    for (key, recs) in reads {
                        if let (Some(k), Some(&(o, _))) = (w.ix.key_id(key), recs.last()) {
                            read.insert(k, o);
                        }
                    }
                }
            }
            w.poll(pos, &read);
        }
        LogOp::Lag(reported) => w.lag_op(pos, reported),
        _ => {}
    }
}
