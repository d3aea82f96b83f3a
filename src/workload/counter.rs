//! `--model counter-bounds`, as Jepsen's `jepsen.checker/counter` (elle-cli's `counter`): ops
//! `:add n` (or `:increment`; a `nil` value means 1) and `:read`. A counter starts at 0. An `:ok`
//! read of `v` is within bounds when `lower <= v <= upper`, where, for the read's interval:
//!
//! - an add *certainly* took effect before the read when it completed `:ok` before the read
//!   began (more than `--clock-skew` before);
//! - an add *possibly* took effect before the read completed when it did not fail and the read
//!   did not complete before it began;
//! - `lower` is the sum of the certain adds plus every possible negative add; `upper`, the sum of
//!   the certain adds plus every possible positive add: the least and the most any set of adds
//!   that may have taken effect can sum to.
//!
//! With only non-negative adds these are Jepsen's bounds (acknowledged before the read began;
//! acknowledged or pending before it completed). Jepsen bounds a negative add by the read's
//! invocation alone, which calls a read wrong that saw a negative add concurrent with it; here
//! it is bounded as above. Unlike Jepsen, failed adds are left out of the upper bound: they
//! certainly did not take effect. `counter` (without `-bounds`) is the linearizable model.

use super::{fail, unknown_f};
use crate::history::{History, Op, Outcome, Value};
use crate::outcome::DecodeFailure;
use crate::queue::{Claim, QueueAnomaly, QueueReport};
use std::collections::BTreeMap;

/// One add that did not fail: when it began, when it completed `:ok` (`None` otherwise), by how
/// much.
struct Add {
    invoke: i64,
    ok_at: Option<i64>,
    by: i64,
}

/// An `:ok` read.
struct Read {
    op: u32,
    value: i64,
}

fn amount(history: &History, op: &Op) -> Result<i64, DecodeFailure> {
    match history.value(op.input) {
        Value::Nil => Ok(1),
        Value::Int(n) => Ok(*n),
        v => Err(fail(
            op,
            format!("a counter :{} should add an integer (nil means 1), got {v}", history.f_name(op)),
        )),
    }
}

fn decode(history: &History) -> Result<(Vec<Add>, Vec<Read>), DecodeFailure> {
    let (mut adds, mut reads) = (Vec::new(), Vec::new());
    for (pos, op) in history.ops.iter().enumerate() {
        match history.f_name(op).as_str() {
            "add" | "increment" => {
                let by = amount(history, op)?;
                if op.outcome != Outcome::Fail {
                    let ok_at = (op.outcome == Outcome::Ok).then_some(op.complete_time);
                    adds.push(Add { invoke: op.invoke_time, ok_at, by });
                }
            }
            "read" if op.outcome == Outcome::Ok => {
                let out = history.value(op.output);
                let value = out.as_int().ok_or_else(|| {
                    fail(op, format!("a counter :read should complete with an integer, got {out}"))
                })?;
                reads.push(Read { op: pos as u32, value });
            }
            "read" => {}
            _ => return Err(unknown_f(history, op, "counter", ":add, :increment and :read")),
        }
    }
    Ok((adds, reads))
}

/// Times paired with amounts, sorted by time, with running sums: the sum of the amounts at
/// times `<= t` (or `< t`) by binary search.
struct Prefix {
    times: Vec<i64>,
    sums: Vec<i128>,
}

impl Prefix {
    fn new(mut items: Vec<(i64, i64)>) -> Prefix {
        items.sort_unstable();
        let mut sum = 0i128;
        let sums = std::iter::once(0)
            .chain(items.iter().map(|&(_, by)| {
                sum += i128::from(by);
                sum
            }))
            .collect();
        Prefix { times: items.into_iter().map(|(t, _)| t).collect(), sums }
    }

    /// The sum of the amounts at times strictly before `t`.
    fn before(&self, t: i64) -> i128 {
        self.sums[self.times.partition_point(|&x| x < t)]
    }

    /// The sum of the amounts at times at or before `t`.
    fn up_to(&self, t: i64) -> i128 {
        self.sums[self.times.partition_point(|&x| x <= t)]
    }
}

/// Checks `history`'s reads against the bounds its adds allow; op A certainly precedes op B
/// only when A completed more than `skew` (`--clock-skew`, in `:time` units) before B began.
pub fn check(history: &History, skew: i64) -> Result<QueueReport, DecodeFailure> {
    let (adds, reads) = decode(history)?;
    // Certain: completed ok at c with c + skew < the read's invocation. Possible: began at i with
    // not (read's completion + skew < i), i.e. i - skew <= the read's completion.
    let certain = |positive: bool| {
        Prefix::new(
            adds.iter()
                .filter(|a| (a.by >= 0) == positive)
                .filter_map(|a| a.ok_at.map(|c| (c.saturating_add(skew), a.by)))
                .collect(),
        )
    };
    let possible = |positive: bool| {
        Prefix::new(
            adds.iter()
                .filter(|a| (a.by >= 0) == positive)
                .map(|a| (a.invoke.saturating_sub(skew), a.by))
                .collect(),
        )
    };
    let (certain_pos, certain_neg, possible_pos, possible_neg) =
        (certain(true), certain(false), possible(true), possible(false));
    let mut anomalies = Vec::new();
    for r in &reads {
        let op = &history.ops[r.op as usize];
        let lower = certain_pos.before(op.invoke_time) + possible_neg.up_to(op.complete_time);
        let upper = possible_pos.up_to(op.complete_time) + certain_neg.before(op.invoke_time);
        let v = i128::from(r.value);
        if v < lower || v > upper {
            anomalies.push(QueueAnomaly {
                key: None,
                ops: vec![r.op],
                explanation: format!(
                    "a read saw {}, but the adds that may have taken effect before it completed, with those \
                     acknowledged before it began, allow only {lower} to {upper}",
                    r.value
                ),
                claim: Claim::OutOfBounds { read: r.op, value: r.value, lower, upper },
            });
        }
    }
    let mut notes = Vec::new();
    let valid = super::verdict(&anomalies, reads.len(), &mut notes);
    let counts = BTreeMap::from([
        ("read-count".to_string(), reads.len()),
        ("error-count".to_string(), anomalies.len()),
    ]);
    Ok(QueueReport {
        model: "counter-bounds",
        valid,
        anomalies,
        counts,
        elements: BTreeMap::new(),
        lag: Vec::new(),
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{Format, ReadOptions, read_bytes};
    use crate::outcome::Verdict;

    fn run(text: &str) -> QueueReport {
        let h = read_bytes("t.edn", text.as_bytes(), Format::Edn, &ReadOptions::default()).unwrap();
        check(&h, 0).unwrap()
    }

    #[test]
    fn a_negative_add_concurrent_with_a_read_may_lower_what_it_sees() {
        // Jepsen would bound this read by [10, 5] and call it wrong.
        let r =
            run("{:process 0 :type :invoke :f :add :value 10}\n{:process 0 :type :ok :f :add :value 10}\n\
             {:process 1 :type :invoke :f :read :value nil}\n{:process 0 :type :invoke :f :add :value -5}\n\
             {:process 0 :type :ok :f :add :value -5}\n{:process 1 :type :ok :f :read :value 5}\n");
        assert_eq!(r.valid, Verdict::Valid, "{:?}", r.anomalies);
    }

    #[test]
    fn a_read_past_every_add_is_out_of_bounds_with_its_bounds() {
        let r =
            run("{:process 0 :type :invoke :f :add :value 2}\n{:process 0 :type :info :f :add :value 2}\n\
             {:process 1 :type :invoke :f :add :value 3}\n{:process 1 :type :fail :f :add :value 3}\n\
             {:process 2 :type :invoke :f :read :value nil}\n{:process 2 :type :ok :f :read :value 3}\n");
        assert_eq!(r.anomalies[0].claim, Claim::OutOfBounds { read: 2, value: 3, lower: 0, upper: 2 });
    }
}
