//! Log claims, re-derived from the raw ops: what each op sent and read is read again here from
//! its `:value` (Jepsen's micro-ops `[:send k [o v]]`, `[:poll {k [[o v] ...]}]`, or the simple
//! `[k [o v]]` send and `{k [[o v] ...]}` poll), and each claim is checked against it.

use super::foreign;
use crate::history::{History, Outcome, Value};
use crate::queue::Claim;
use std::collections::{HashMap, HashSet};

/// What one op shows: its sends `(key, offset, value)` and its reads, in order.
#[derive(Default)]
struct Seen {
    sent: Vec<(Value, Option<i64>, Value)>,
    read: Vec<(Value, i64, Value)>,
}

fn name(v: &Value) -> &str {
    v.as_name().unwrap_or_default()
}

fn pair(v: &Value) -> Option<(Option<i64>, Value)> {
    match v.as_seq()? {
        [o, v] => Some((o.as_int(), v.clone())),
        _ => None,
    }
}

fn reads_of(map: &Value, out: &mut Vec<(Value, i64, Value)>) {
    if let Value::Map(entries) = map {
        for (k, recs) in entries.iter() {
            for r in recs.as_seq().unwrap_or_default() {
                if let Some((Some(o), v)) = pair(r) {
                    out.push((k.clone(), o, v));
                }
            }
        }
    }
}

fn seen(history: &History, pos: u32) -> Seen {
    let op = &history.ops[pos as usize];
    let mut s = Seen::default();
    if op.outcome != Outcome::Ok {
        return s;
    }
    let value = history.value(op.output);
    let f = name(history.value(op.f));
    match value {
        Value::Map(_) if f == "poll" => reads_of(value, &mut s.read),
        Value::Vector(items) if f == "send" && items.len() == 2 && items[0].as_seq().is_none() => {
            if let Some((o, v)) = pair(&items[1]) {
                s.sent.push((items[0].clone(), o, v));
            }
        }
        _ => {
            for m in value.as_seq().unwrap_or_default() {
                match m.as_seq().unwrap_or_default() {
                    [p, map] if name(p) == "poll" => reads_of(map, &mut s.read),
                    [p, k, ov] if name(p) == "send" => {
                        let (o, v) = pair(ov).unwrap_or((None, ov.clone()));
                        s.sent.push((k.clone(), o, v));
                    }
                    _ => {}
                }
            }
        }
    }
    s
}

/// Whether `pos` may move its process's consumer by reads the history does not show.
fn resets(history: &History, pos: u32) -> bool {
    let op = &history.ops[pos as usize];
    match name(history.value(op.f)) {
        "assign" | "subscribe" | "crash" => true,
        "poll" | "txn" => op.outcome != Outcome::Ok,
        _ => false,
    }
}

/// The whole history's reads, for claims that say "never".
pub(super) struct Facts<'h> {
    history: &'h History,
    read_values: HashSet<(Value, Value)>,
    high: HashMap<Value, i64>,
}

type Check = Result<(), String>;

fn require(holds: bool, why: impl FnOnce() -> String) -> Check {
    if holds { Ok(()) } else { Err(why()) }
}

impl<'h> Facts<'h> {
    pub(super) fn of(history: &'h History) -> Facts<'h> {
        let mut read_values = HashSet::new();
        let mut high: HashMap<Value, i64> = HashMap::new();
        for pos in 0..history.ops.len() as u32 {
            for (k, o, v) in seen(history, pos).read {
                let h = high.entry(k.clone()).or_insert(o);
                *h = (*h).max(o);
                read_values.insert((k, v));
            }
        }
        Facts { history, read_values, high }
    }

    fn op(&self, pos: u32) -> Result<&crate::history::Op, String> {
        self.history.ops.get(pos as usize).ok_or_else(|| format!("there is no op {pos}"))
    }

    fn sent_at(&self, pos: u32, key: &Value, offset: Option<i64>, value: Option<&Value>) -> Check {
        let ok = seen(self.history, pos)
            .sent
            .iter()
            .any(|(k, o, v)| k == key && (offset.is_none() || *o == offset) && value.is_none_or(|w| w == v));
        require(ok, || format!("op {pos} did not acknowledge a send to key {key} at {offset:?} of {value:?}"))
    }

    fn saw(&self, pos: u32, key: &Value, offset: i64, value: Option<&Value>) -> Check {
        let s = seen(self.history, pos);
        let read = s.read.iter().any(|(k, o, v)| k == key && *o == offset && value.is_none_or(|w| w == v));
        let sent =
            s.sent.iter().any(|(k, o, v)| k == key && *o == Some(offset) && value.is_none_or(|w| w == v));
        require(read || sent, || {
            format!("op {pos} saw no record of key {key} at offset {offset} ({value:?})")
        })
    }

    pub(super) fn certify(&self, claim: &Claim, stuck_after: Option<i64>) -> Check {
        match claim {
            Claim::LostWrite { key, value, offset, send, poll, read_offset } => {
                self.sent_at(*send, key, Some(*offset), Some(value))?;
                self.saw(*poll, key, *read_offset, None)?;
                require(read_offset >= offset, || format!("offset {read_offset} is not past {offset}"))?;
                require(!self.read_values.contains(&(key.clone(), value.clone())), || {
                    format!("a poll read {value}")
                })
            }
            Claim::Unseen { key, value, send } => {
                let offset = seen(self.history, *send)
                    .sent
                    .iter()
                    .find(|(k, _, v)| k == key && v == value)
                    .map(|s| s.1);
                require(offset.is_some(), || {
                    format!("op {send} acknowledged no send of {value} to key {key}")
                })?;
                require(!self.read_values.contains(&(key.clone(), value.clone())), || {
                    format!("a poll read {value}")
                })?;
                let high = self.high.get(key);
                require(offset.flatten().zip(high).is_none_or(|(o, h)| *h < o), || {
                    format!("a poll read key {key} at {high:?}")
                })
            }
            Claim::Duplicate { key, value, offsets, ops } => {
                self.saw(ops[0], key, offsets[0], Some(value))?;
                self.saw(ops[1], key, offsets[1], Some(value))?;
                require(offsets[0] != offsets[1], || "the offsets are the same".to_string())
            }
            Claim::InconsistentOffsets { key, offset, values, ops } => {
                self.saw(ops[0], key, *offset, Some(&values[0]))?;
                self.saw(ops[1], key, *offset, Some(&values[1]))?;
                require(values[0] != values[1], || "the values are the same".to_string())
            }
            Claim::PollSkip { key, prev, next, last, first, skipped, witness } => {
                self.consecutive_reads(key, *prev, *next, *last, *first)?;
                self.saw(*witness, key, *skipped, None)?;
                require(last < skipped && skipped < first, || {
                    format!("{skipped} is not between {last} and {first}")
                })
            }
            Claim::NonmonotonicPoll { key, prev, next, last, first } => {
                self.consecutive_reads(key, *prev, *next, *last, *first)?;
                require(first <= last, || format!("{first} is past {last}"))
            }
            Claim::NonmonotonicSend { key, prev, next, first, second } => {
                self.consecutive_sends(key, *prev, *next, *first, *second)
            }
            Claim::Stuck { .. } => self.stuck(claim, stuck_after),
            Claim::LagMisreported { .. } => self.lag(claim),
            other => Err(foreign(other)),
        }
    }

    /// The offsets of `key` that process `process` read in `from..=to` (positions), in order,
    /// each with its op; `Err` when an op between may have moved the consumer.
    fn reads_between(
        &self,
        key: &Value,
        process: u32,
        from: u32,
        to: u32,
    ) -> Result<Vec<(i64, u32)>, String> {
        let mut out = Vec::new();
        for pos in from..=to {
            if self.op(pos)?.process != process {
                continue;
            }
            if pos != from && resets(self.history, pos) {
                return Err(format!(
                    "op {pos} (an assign, subscribe, crash or unfinished poll) comes between"
                ));
            }
            out.extend(seen(self.history, pos).read.iter().filter(|r| &r.0 == key).map(|r| (r.1, pos)));
        }
        Ok(out)
    }

    fn consecutive_reads(&self, key: &Value, prev: u32, next: u32, last: i64, first: i64) -> Check {
        let process = self.op(prev)?.process;
        require(self.op(next)?.process == process && prev <= next, || {
            "not one consumer's reads, in order".to_string()
        })?;
        // Every read of the key by this consumer from prev to next, in order: the two must be
        // adjacent (so no read of the key comes between them).
        let reads = self.reads_between(key, process, prev, next)?;
        let adjacent = reads.windows(2).any(|w| w[0] == (last, prev) && w[1] == (first, next));
        require(adjacent, || {
            format!("the consumer's reads of key {key} from op {prev} to op {next} are {reads:?}")
        })
    }

    fn consecutive_sends(&self, key: &Value, prev: u32, next: u32, first: i64, second: i64) -> Check {
        let process = self.op(prev)?.process;
        require(self.op(next)?.process == process && prev < next, || {
            "not one producer's sends, in order".to_string()
        })?;
        let mut offs = Vec::new();
        for pos in prev..=next {
            if self.op(pos)?.process == process {
                offs.extend(
                    seen(self.history, pos)
                        .sent
                        .iter()
                        .filter(|s| &s.0 == key)
                        .filter_map(|s| s.1)
                        .map(|o| (o, pos)),
                );
            }
        }
        let ok = offs.windows(2).any(|w| w[0] == (first, prev) && w[1] == (second, next)) && second <= first;
        require(ok && offs.first() == Some(&(first, prev)) && offs.last() == Some(&(second, next)), || {
            format!("the producer's sends to key {key} from op {prev} to op {next} got offsets {offs:?}")
        })
    }

    /// Whether process `process` owned `key` at `pos`: its last assign before named it, or it
    /// never assigned nor subscribed before.
    fn owned(&self, key: &Value, process: u32, pos: u32) -> Check {
        let last = (0..pos).rev().find(|&p| {
            let op = &self.history.ops[p as usize];
            op.process == process && matches!(name(self.history.value(op.f)), "assign" | "subscribe")
        });
        let Some(p) = last else { return Ok(()) };
        let op = &self.history.ops[p as usize];
        let named = self.history.value(op.input).as_seq().is_some_and(|ks| ks.contains(key));
        require(name(self.history.value(op.f)) == "assign" && named, || {
            format!("op {p} did not assign key {key}")
        })
    }

    fn stuck(&self, claim: &Claim, stuck_after: Option<i64>) -> Check {
        let Claim::Stuck { key, process, position, since, ahead, ahead_offset, last_poll, polls, from, to } =
            claim
        else {
            return Err(foreign(claim));
        };
        let limit = stuck_after.ok_or("stalls were not looked for")?;
        self.owned(key, *process, *since)?;
        require(self.op(*since)?.process == *process, || format!("op {since} is not process {process}'s"))?;
        let reads = self.reads_between(key, *process, *since, *last_poll)?;
        require(reads.iter().rfind(|r| r.1 == *since).map(|r| r.0) == Some(*position), || {
            format!("op {since} did not end its reads of key {key} at {position}")
        })?;
        require(reads.iter().all(|r| r.1 == *since || r.0 == *position), || {
            format!("the consumer moved: {reads:?}")
        })?;
        let mine = (*since + 1..=*last_poll).filter(|&p| {
            let op = &self.history.ops[p as usize];
            op.process == *process
                && op.outcome == Outcome::Ok
                && matches!(name(self.history.value(op.f)), "poll" | "txn")
        });
        require(mine.count() == *polls && *polls > 0, || {
            format!("process {process} did not poll {polls} times")
        })?;
        self.sent_at(*ahead, key, Some(*ahead_offset), None)?;
        require(ahead_offset > position, || format!("offset {ahead_offset} is not past {position}"))?;
        let t = |p: u32| self.history.ops[p as usize].complete_time;
        require(*from == t(*ahead).max(t(*since)) && *to == t(*last_poll), || {
            "the times are not the ops'".to_string()
        })?;
        require(to - from > limit, || format!("{} is not longer than {limit}", to - from))
    }

    fn lag(&self, claim: &Claim) -> Check {
        let Claim::LagMisreported { key, process, reported, at_least, lag_op, position_poll, position, send } =
            claim
        else {
            return Err(foreign(claim));
        };
        let op = self.op(*lag_op)?;
        require(op.process == *process && op.outcome == Outcome::Ok, || {
            "not the process's completed :lag".to_string()
        })?;
        let said = self.history.value(op.output).get(key).and_then(Value::as_int);
        require(said == Some(*reported), || format!("the :lag op reported {said:?} for key {key}"))?;
        self.owned(key, *process, *lag_op)?;
        let reads = self.reads_between(key, *process, *position_poll, *lag_op)?;
        require(reads.last() == Some(&(*position, *position_poll)), || {
            format!("the consumer's last reads were {reads:?}")
        })?;
        self.sent_at(*send, key, Some(position + at_least), None)?;
        require(self.history.ops[*send as usize].complete_time < op.invoke_time, || {
            "the send was not acknowledged before".to_string()
        })?;
        require(reported < at_least, || format!("{reported} is not below {at_least}"))
    }
}
