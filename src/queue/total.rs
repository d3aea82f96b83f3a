//! `--model total-queue`, as Jepsen's `jepsen.checker/total-queue`: every acknowledged enqueue
//! is dequeued exactly once. Elements are counted as multisets:
//!
//! - attempts: enqueues that did not fail (`:ok`, `:info`, or never completed). Jepsen counts
//!   every invocation; an enqueue that failed certainly did not take effect, so an element only
//!   a failed enqueue carried is, here, unexpected when it comes out (`attempt-count` is still
//!   Jepsen's, every invocation);
//! - acknowledged: `:ok` enqueues;
//! - dequeued: the values of `:ok` dequeues (a `nil` value dequeued nothing) and each element
//!   of an `:ok` drain's list.
//!
//! Lost: acknowledged more often than dequeued. Unexpected: dequeued, never attempted.
//! Duplicated: dequeued more often than attempted. Recovered: dequeued beyond the acknowledged
//! count, within the attempts (an `:info` enqueue that took effect). Valid when nothing is lost,
//! unexpected or duplicated.

use super::{Claim, QueueAnomaly, QueueReport, verdict_of};
use crate::history::{History, Outcome, Value};
use crate::outcome::DecodeFailure;
use std::collections::{BTreeMap, HashMap};

/// Per element: ops that enqueued it (and whether acknowledged), and ops that dequeued it.
#[derive(Default)]
struct Tally {
    attempts: usize,
    failed: usize,
    acked: Vec<u32>,
    dequeues: Vec<u32>,
}

/// What the history did with each element, first-seen order kept for stable reports.
fn tally(history: &History) -> Result<(Vec<(Value, Tally)>, usize), DecodeFailure> {
    let mut index: HashMap<Value, usize> = HashMap::new();
    let mut tallies: Vec<(Value, Tally)> = Vec::new();
    let mut invocations = 0;
    let mut slot = |v: &Value, tallies: &mut Vec<(Value, Tally)>| {
        *index.entry(v.clone()).or_insert_with(|| {
            tallies.push((v.clone(), Tally::default()));
            tallies.len() - 1
        })
    };
    for (pos, op) in history.ops.iter().enumerate() {
        let pos = pos as u32;
        let ok = op.outcome == Outcome::Ok;
        match history.f_name(op).as_str() {
            "enqueue" => {
                invocations += 1;
                let i = slot(history.value(op.input), &mut tallies);
                if op.outcome == Outcome::Fail {
                    tallies[i].1.failed += 1;
                    continue;
                }
                tallies[i].1.attempts += 1;
                if ok {
                    tallies[i].1.acked.push(pos);
                }
            }
            "dequeue" if ok && !history.value(op.output).is_nil() => {
                let i = slot(history.value(op.output), &mut tallies);
                tallies[i].1.dequeues.push(pos);
            }
            "drain" if ok => {
                let out = history.value(op.output);
                let items = match out {
                    Value::Nil => &[][..],
                    Value::Vector(s) | Value::List(s) | Value::Set(s) => s,
                    _ => {
                        return Err(DecodeFailure {
                            line: op.complete_line,
                            index: op.invoke_index,
                            message: format!(
                                "a :drain should complete with the list of elements dequeued, got {out}"
                            ),
                        });
                    }
                };
                for v in items {
                    let i = slot(v, &mut tallies);
                    tallies[i].1.dequeues.push(pos);
                }
            }
            "dequeue" | "drain" => {}
            other => {
                return Err(DecodeFailure {
                    line: op.invoke_line,
                    index: op.invoke_index,
                    message: format!(
                        "a total-queue history has :enqueue, :dequeue and :drain ops, not :{other}"
                    ),
                });
            }
        }
    }
    Ok((tallies, invocations))
}

/// Checks `history` as a total queue.
pub fn check(history: &History) -> Result<QueueReport, DecodeFailure> {
    let (tallies, invocations) = tally(history)?;
    let mut anomalies = Vec::new();
    let mut elements: BTreeMap<String, Vec<String>> = ["lost", "unexpected", "duplicated", "recovered"]
        .iter()
        .map(|k| (k.to_string(), Vec::new()))
        .collect();
    let mut add = |kind: &str, v: &Value, n: usize| {
        elements.get_mut(kind).expect("listed above").extend(std::iter::repeat_n(v.to_string(), n));
    };
    let (mut acked_total, mut ok_total) = (0, 0);
    for (v, t) in &tallies {
        let (acked, deq) = (t.acked.len(), t.dequeues.len());
        acked_total += acked;
        ok_total += deq.min(t.attempts);
        add("recovered", v, deq.min(t.attempts).saturating_sub(acked));
        if acked > deq {
            add("lost", v, acked - deq);
            anomalies.push(lost(v, t));
        }
        if t.attempts == 0 && deq > 0 {
            add("unexpected", v, deq);
            anomalies.push(QueueAnomaly {
                key: None,
                ops: t.dequeues.clone(),
                explanation: format!(
                    "{v} was dequeued {} but no enqueue of it {}",
                    times(deq),
                    if t.failed > 0 { "that did not fail was invoked" } else { "was invoked" }
                ),
                claim: Claim::Unexpected { value: v.clone(), dequeues: t.dequeues.clone() },
            });
        } else if deq > t.attempts {
            add("duplicated", v, deq - t.attempts);
            anomalies.push(QueueAnomaly {
                key: None,
                ops: t.dequeues.clone(),
                explanation: format!(
                    "{v} was dequeued {} but enqueued (or attempted) only {}",
                    times(deq),
                    times(t.attempts)
                ),
                claim: Claim::Duplicated {
                    value: v.clone(),
                    dequeues: t.dequeues.clone(),
                    attempts: t.attempts,
                },
            });
        }
    }
    let mut counts = BTreeMap::new();
    counts.insert("attempt-count".to_string(), invocations);
    counts.insert("acknowledged-count".to_string(), acked_total);
    counts.insert("ok-count".to_string(), ok_total);
    for (kind, list) in &elements {
        counts.insert(format!("{kind}-count"), list.len());
    }
    Ok(QueueReport {
        model: "total-queue",
        valid: verdict_of(&anomalies),
        anomalies,
        counts,
        elements,
        lag: Vec::new(),
        notes: Vec::new(),
    })
}

fn lost(v: &Value, t: &Tally) -> QueueAnomaly {
    let (acked, deq) = (t.acked.len(), t.dequeues.len());
    let mut ops = t.acked.clone();
    ops.extend(&t.dequeues);
    QueueAnomaly {
        key: None,
        ops,
        explanation: format!(
            "{v} was enqueued and acknowledged {} but {}",
            times(acked),
            if deq == 0 { "never dequeued".to_string() } else { format!("dequeued only {}", times(deq)) }
        ),
        claim: Claim::Lost { value: v.clone(), enqueues: t.acked.clone(), dequeued: deq },
    }
}

fn times(n: usize) -> String {
    match n {
        1 => "once".to_string(),
        2 => "twice".to_string(),
        n => format!("{n} times"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{Format, ReadOptions, read_bytes};

    fn run(text: &str) -> QueueReport {
        let h = read_bytes("t.edn", text.as_bytes(), Format::Edn, &ReadOptions::default()).unwrap();
        check(&h).unwrap()
    }

    #[test]
    fn lost_unexpected_duplicated_and_recovered_are_counted_as_jepsen_counts_them() {
        let r = run(
            "{:process 0 :type :invoke :f :enqueue :value 1}\n{:process 0 :type :ok :f :enqueue :value 1}\n\
             {:process 0 :type :invoke :f :enqueue :value 2}\n{:process 0 :type :info :f :enqueue :value 2}\n\
             {:process 1 :type :invoke :f :enqueue :value 3}\n{:process 1 :type :ok :f :enqueue :value 3}\n\
             {:process 2 :type :invoke :f :dequeue :value nil}\n{:process 2 :type :ok :f :dequeue :value 2}\n\
             {:process 2 :type :invoke :f :drain :value nil}\n{:process 2 :type :ok :f :drain :value [3 3 9]}\n",
        );
        let c = |k: &str| r.counts[k];
        assert_eq!((c("attempt-count"), c("acknowledged-count"), c("ok-count")), (3, 2, 2));
        assert_eq!(
            (c("lost-count"), c("unexpected-count"), c("duplicated-count"), c("recovered-count")),
            (1, 1, 1, 1)
        );
        assert_eq!(r.elements["lost"], ["1"]);
        assert_eq!(r.elements["recovered"], ["2"]);
        let kinds: Vec<&str> = r.anomalies.iter().map(|a| a.kind()).collect();
        assert_eq!(kinds, ["lost", "duplicated", "unexpected"]);
        assert_eq!(r.valid, crate::outcome::Verdict::Invalid);
    }
}
