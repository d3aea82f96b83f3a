//! `--model set-final`, as Jepsen's `jepsen.checker/set` (elle-cli's `set`): ops `:add x` and
//! `:read`, whose `:ok` value is every element of the set. Only the final read (the last `:ok`
//! read, in completion order) is judged:
//!
//! - lost: added with `:ok`, not in the final read;
//! - unexpected: in the final read, no add of it that did not fail was invoked (Jepsen counts
//!   every invocation; a failed add certainly did not take effect);
//! - recovered: in the final read, attempted, never acknowledged (an `:info` add that took
//!   effect).
//!
//! Valid when nothing is lost or unexpected; unknown when the set was never read. `set` (without
//! `-final`) is the linearizable set model, which judges every read.

use super::{completion_order, fail, unknown_f};
use crate::history::{History, Outcome, Value};
use crate::outcome::{DecodeFailure, Verdict};
use crate::queue::{Claim, QueueAnomaly, QueueReport};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Per element: was an add of it attempted (not failed), and its acknowledged adds.
#[derive(Default)]
struct Tally {
    attempted: bool,
    acked: Vec<u32>,
}

/// Every element's adds (first-seen order kept for stable reports) and the final read.
type Decoded = (Vec<(Value, Tally)>, Option<u32>);

fn decode(history: &History) -> Result<Decoded, DecodeFailure> {
    let mut index: HashMap<Value, usize> = HashMap::new();
    let mut tallies: Vec<(Value, Tally)> = Vec::new();
    let mut last_read: Option<u32> = None;
    for (pos, op) in history.ops.iter().enumerate() {
        match history.f_name(op).as_str() {
            "add" if op.outcome != Outcome::Fail => {
                let v = history.value(op.input);
                let i = *index.entry(v.clone()).or_insert_with(|| {
                    tallies.push((v.clone(), Tally::default()));
                    tallies.len() - 1
                });
                tallies[i].1.attempted = true;
                if op.outcome == Outcome::Ok {
                    tallies[i].1.acked.push(pos as u32);
                }
            }
            "read" if op.outcome == Outcome::Ok => {
                let out = history.value(op.output);
                if !matches!(out, Value::Vector(_) | Value::List(_) | Value::Set(_)) {
                    return Err(fail(
                        op,
                        format!(
                            "a set :read should complete with the collection of elements read, got {out}"
                        ),
                    ));
                }
                let later = |p: u32| completion_order(op) > completion_order(&history.ops[p as usize]);
                if last_read.is_none_or(later) {
                    last_read = Some(pos as u32);
                }
            }
            "add" | "read" => {}
            _ => return Err(unknown_f(history, op, "set", ":add and :read")),
        }
    }
    Ok((tallies, last_read))
}

/// Checks `history` as Jepsen's set: every acknowledged add is in the final read.
pub fn check(history: &History) -> Result<QueueReport, DecodeFailure> {
    let (tallies, last_read) = decode(history)?;
    let empty = (Vec::new(), BTreeMap::new());
    let Some(read) = last_read else {
        let counts = BTreeMap::from([("attempt-count".to_string(), tallies.len())]);
        let notes = vec!["the set was never read (no :read completed ok): nothing was checked".to_string()];
        return Ok(QueueReport {
            model: "set-final",
            valid: Verdict::Unknown,
            anomalies: empty.0,
            counts,
            elements: empty.1,
            lag: Vec::new(),
            notes,
        });
    };
    let seq = history.value(history.ops[read as usize].output);
    let final_read: HashSet<&Value> = match seq {
        Value::Vector(s) | Value::List(s) | Value::Set(s) => s.iter().collect(),
        _ => unreachable!("decode refused any other read"),
    };
    let mut anomalies = Vec::new();
    let mut elements: BTreeMap<String, Vec<String>> =
        ["lost", "unexpected", "recovered"].iter().map(|k| (k.to_string(), Vec::new())).collect();
    let (mut acknowledged, mut ok) = (0, 0);
    for (v, t) in &tallies {
        let read_it = final_read.contains(v);
        acknowledged += usize::from(!t.acked.is_empty());
        ok += usize::from(read_it);
        if read_it && t.acked.is_empty() {
            elements.get_mut("recovered").expect("listed").push(v.to_string());
        }
        if !read_it && !t.acked.is_empty() {
            elements.get_mut("lost").expect("listed").push(v.to_string());
            let mut ops = t.acked.clone();
            ops.push(read);
            anomalies.push(QueueAnomaly {
                key: None,
                ops,
                explanation: format!("{v} was added and acknowledged, but the final read does not hold it"),
                claim: Claim::SetLost { value: v.clone(), adds: t.acked.clone(), read },
            });
        }
    }
    let attempted: HashSet<&Value> = tallies.iter().map(|(v, _)| v).collect();
    let mut unexpected: Vec<&Value> = final_read.iter().copied().filter(|v| !attempted.contains(v)).collect();
    unexpected.sort();
    for v in unexpected {
        elements.get_mut("unexpected").expect("listed").push(v.to_string());
        anomalies.push(QueueAnomaly {
            key: None,
            ops: vec![read],
            explanation: format!("the final read holds {v}, but no add of it that did not fail was invoked"),
            claim: Claim::SetUnexpected { value: v.clone(), read },
        });
    }
    let mut counts = BTreeMap::from([
        ("attempt-count".to_string(), tallies.len()),
        ("acknowledged-count".to_string(), acknowledged),
        ("ok-count".to_string(), ok),
    ]);
    for (kind, list) in &elements {
        counts.insert(format!("{kind}-count"), list.len());
    }
    let valid = if anomalies.is_empty() { Verdict::Valid } else { Verdict::Invalid };
    Ok(QueueReport {
        model: "set-final",
        valid,
        anomalies,
        counts,
        elements,
        lag: Vec::new(),
        notes: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{Format, ReadOptions, read_bytes};

    #[test]
    fn lost_unexpected_and_recovered_are_judged_on_the_final_read() {
        let text = "{:process 0 :type :invoke :f :add :value 1}\n{:process 0 :type :ok :f :add :value 1}\n\
             {:process 0 :type :invoke :f :add :value 2}\n{:process 0 :type :info :f :add :value 2}\n\
             {:process 1 :type :invoke :f :add :value 3}\n{:process 1 :type :ok :f :add :value 3}\n\
             {:process 2 :type :invoke :f :read :value nil}\n{:process 2 :type :ok :f :read :value [1 3]}\n\
             {:process 2 :type :invoke :f :read :value nil}\n{:process 2 :type :ok :f :read :value #{1 2 9}}\n";
        let h = read_bytes("t.edn", text.as_bytes(), Format::Edn, &ReadOptions::default()).unwrap();
        let r = check(&h).unwrap();
        let kinds: Vec<&str> = r.anomalies.iter().map(|a| a.kind()).collect();
        assert_eq!(kinds, ["lost", "unexpected"]);
        assert_eq!(r.elements["lost"], ["3"]);
        assert_eq!(r.elements["recovered"], ["2"]);
        assert_eq!(r.elements["unexpected"], ["9"]);
        assert_eq!(
            (r.counts["attempt-count"], r.counts["acknowledged-count"], r.counts["ok-count"]),
            (3, 2, 2)
        );
    }
}
