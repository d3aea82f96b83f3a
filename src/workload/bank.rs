//! `--model bank`, as Jepsen's `jepsen.tests.bank` checker (and elle-cli's `bank`) checks a
//! bank: ops `:transfer {:from a :to b :amount n}` and `:read`, which completes with a map of
//! account to balance (`{0 10, 1 20}`; EDN keys may be integers or keywords, JSON keys are
//! strings). Every `:ok` read must
//!
//! - see the expected accounts: those of the first `:ok` read (as elle-cli infers them), none
//!   other (`unexpected-key`) and none fewer (`missing-key`, ours: Jepsen does not look);
//! - see a balance for each (`nil-balance`);
//! - see the expected total (`wrong-total`): `--total`, or the total of the first `:ok` read
//!   that saw every balance (elle-cli takes the first read's);
//! - see no negative balance (`negative-value`), unless `--allow-negative-balances`.
//!
//! "First" is in completion order, as Jepsen reads its history. Unlike Jepsen, which reports
//! only the first of these a read breaks, every one is reported. Transfers are checked only for
//! their shape: the checker, like Jepsen's, judges reads.

use super::{BankOptions, completion_order, fail, field, unknown_f};
use crate::history::{History, Outcome, Value};
use crate::outcome::DecodeFailure;
use crate::queue::{Claim, QueueAnomaly, QueueReport};
use std::collections::{BTreeMap, BTreeSet};

/// An `:ok` read: its op and each account with its balance (`None` for `nil`).
struct Read {
    op: u32,
    balances: Vec<(Value, Option<i64>)>,
}

/// The `:ok` reads in completion order; every transfer's shape checked on the way.
fn reads(history: &History) -> Result<Vec<Read>, DecodeFailure> {
    let mut reads = Vec::new();
    for (pos, op) in history.ops.iter().enumerate() {
        match history.f_name(op).as_str() {
            "transfer" => transfer_shape(history, op)?,
            "read" if op.outcome == Outcome::Ok => {
                let out = history.value(op.output);
                let Value::Map(entries) = out else {
                    return Err(fail(
                        op,
                        format!("a bank :read should complete with a map {{account balance}}, got {out}"),
                    ));
                };
                let balances = entries
                    .iter()
                    .map(|(k, v)| match v {
                        Value::Int(n) => Ok((k.clone(), Some(*n))),
                        Value::Nil => Ok((k.clone(), None)),
                        _ => Err(fail(
                            op,
                            format!("a balance should be an integer or nil, got {v} for account {k}"),
                        )),
                    })
                    .collect::<Result<_, _>>()?;
                reads.push(Read { op: pos as u32, balances });
            }
            "read" => {}
            _ => return Err(unknown_f(history, op, "bank", ":read and :transfer")),
        }
    }
    reads.sort_by_key(|r| completion_order(&history.ops[r.op as usize]));
    Ok(reads)
}

/// A transfer's invocation is `{:from a :to b :amount n}` with an integer amount.
fn transfer_shape(history: &History, op: &crate::history::Op) -> Result<(), DecodeFailure> {
    let v = history.value(op.input);
    let want = "a :transfer's value should be a map {:from account :to account :amount integer}";
    if !matches!(v, Value::Map(_)) {
        return Err(fail(op, format!("{want}, got {v}")));
    }
    for name in ["from", "to", "amount"] {
        let Some(x) = field(v, name) else {
            return Err(fail(op, format!("{want}, got {v} (no :{name})")));
        };
        if name == "amount" && x.as_int().is_none() {
            return Err(fail(op, format!("{want}, got {v} (:amount {x} is not an integer)")));
        }
    }
    Ok(())
}

/// The total every read should see, and where it came from.
fn expected_total(history: &History, reads: &[Read], opts: &BankOptions) -> Option<(i128, String)> {
    if let Some(t) = opts.total {
        return Some((t.into(), format!("expected total {t}, as --total gave")));
    }
    let first = reads.iter().find(|r| r.balances.iter().all(|(_, b)| b.is_some()))?;
    let total: i128 = first.balances.iter().filter_map(|(_, b)| b.map(i128::from)).sum();
    let index = history.ops[first.op as usize].invoke_index;
    Some((
        total,
        format!(
            "expected total {total}: the total of the first ok read that saw every balance (op at index {index})"
        ),
    ))
}

/// Checks `history` as Jepsen's bank.
pub fn check(history: &History, opts: &BankOptions) -> Result<QueueReport, DecodeFailure> {
    let reads = reads(history)?;
    let accounts: BTreeSet<Value> =
        reads.first().map(|r| r.balances.iter().map(|(k, _)| k.clone()).collect()).unwrap_or_default();
    let expected = expected_total(history, &reads, opts);
    let mut anomalies = Vec::new();
    let mut bad_reads = 0;
    for r in &reads {
        let before = anomalies.len();
        judge(history, r, &accounts, expected.as_ref().map(|e| e.0), opts, &mut anomalies);
        bad_reads += usize::from(anomalies.len() > before);
    }
    let mut notes = Vec::new();
    notes.extend(expected.as_ref().map(|e| e.1.clone()));
    if let Some(first) = reads.first() {
        let index = history.ops[first.op as usize].invoke_index;
        notes.push(format!("expected accounts: those of the first ok read (op at index {index})"));
    }
    if opts.allow_negative_balances {
        notes.push("negative balances allowed (--allow-negative-balances)".to_string());
    }
    let valid = super::verdict(&anomalies, reads.len(), &mut notes);
    let counts =
        BTreeMap::from([("read-count".to_string(), reads.len()), ("error-count".to_string(), bad_reads)]);
    let elements =
        BTreeMap::from([("accounts".to_string(), accounts.iter().map(Value::to_string).collect())]);
    Ok(QueueReport { model: "bank", valid, anomalies, counts, elements, lag: Vec::new(), notes })
}

/// Every anomaly of one read, in Jepsen's order of kinds.
fn judge(
    history: &History,
    r: &Read,
    accounts: &BTreeSet<Value>,
    expected: Option<i128>,
    opts: &BankOptions,
    out: &mut Vec<QueueAnomaly>,
) {
    let seen = history.value(history.ops[r.op as usize].output);
    let mut push = |claim: Claim, what: String| {
        out.push(QueueAnomaly {
            key: None,
            ops: vec![r.op],
            explanation: format!("a read saw {seen}: {what}"),
            claim,
        });
    };
    let keys: BTreeSet<&Value> = r.balances.iter().map(|(k, _)| k).collect();
    let unexpected: Vec<Value> =
        keys.iter().filter(|k| !accounts.contains(**k)).map(|k| (*k).clone()).collect();
    if !unexpected.is_empty() {
        push(
            Claim::UnexpectedKey { read: r.op, unexpected: unexpected.clone() },
            format!("account(s) {} were not expected", list(&unexpected)),
        );
    }
    let missing: Vec<Value> = accounts.iter().filter(|k| !keys.contains(k)).cloned().collect();
    if !missing.is_empty() {
        push(
            Claim::MissingKey { read: r.op, missing: missing.clone() },
            format!("account(s) {} are missing", list(&missing)),
        );
    }
    let nils: Vec<Value> = r.balances.iter().filter(|(_, b)| b.is_none()).map(|(k, _)| k.clone()).collect();
    if !nils.is_empty() {
        push(
            Claim::NilBalance { read: r.op, nils: nils.clone() },
            format!("account(s) {} have a nil balance", list(&nils)),
        );
    } else if let Some(expected) = expected {
        let total: i128 = r.balances.iter().filter_map(|(_, b)| b.map(i128::from)).sum();
        if total != expected {
            push(
                Claim::WrongTotal { read: r.op, total, expected },
                format!("total {total}, expected {expected}"),
            );
        }
    }
    let negative: Vec<(Value, i64)> =
        r.balances.iter().filter_map(|(k, b)| b.filter(|b| *b < 0).map(|b| (k.clone(), b))).collect();
    if !negative.is_empty() && !opts.allow_negative_balances {
        let shown: Vec<String> = negative.iter().map(|(k, b)| format!("{k} ({b})")).collect();
        push(
            Claim::NegativeValue { read: r.op, negative },
            format!("negative balance(s): {}", shown.join(", ")),
        );
    }
}

fn list(values: &[Value]) -> String {
    values.iter().map(Value::to_string).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{Format, ReadOptions, read_bytes};
    use crate::outcome::Verdict;

    fn run(text: &str, opts: BankOptions) -> QueueReport {
        let h = read_bytes("t.edn", text.as_bytes(), Format::Edn, &ReadOptions::default()).unwrap();
        check(&h, &opts).unwrap()
    }

    const READS: &str = "{:process 0 :type :invoke :f :read :value nil}\n{:process 0 :type :ok :f :read :value {0 10 1 20}}\n\
        {:process 1 :type :invoke :f :transfer :value {:from 0 :to 1 :amount 15}}\n{:process 1 :type :ok :f :transfer :value {:from 0 :to 1 :amount 15}}\n\
        {:process 0 :type :invoke :f :read :value nil}\n{:process 0 :type :ok :f :read :value {0 -5 1 30 2 nil}}\n";

    #[test]
    fn every_kind_a_read_breaks_is_reported() {
        let r = run(READS, BankOptions::default());
        let kinds: Vec<&str> = r.anomalies.iter().map(|a| a.kind()).collect();
        assert_eq!(kinds, ["unexpected-key", "nil-balance", "negative-value"]);
        assert_eq!((r.counts["read-count"], r.counts["error-count"]), (2, 1));
        assert_eq!(r.valid, Verdict::Invalid);
        assert!(r.notes[0].contains("expected total 30"), "{:?}", r.notes);
    }

    #[test]
    fn a_given_total_and_allowed_negatives_change_what_is_wrong() {
        let opts = BankOptions { total: Some(31), allow_negative_balances: true };
        let r = run(READS, opts);
        let kinds: Vec<&str> = r.anomalies.iter().map(|a| a.kind()).collect();
        assert_eq!(kinds, ["wrong-total", "unexpected-key", "nil-balance"]);
        assert_eq!(r.anomalies[0].claim, Claim::WrongTotal { read: 0, total: 30, expected: 31 });
    }
}
