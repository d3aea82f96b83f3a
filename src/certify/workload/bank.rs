//! Bank reports, re-derived: the `:ok` reads in completion order, the accounts and total they
//! should see, and what each breaks.

use super::Derived;
use crate::history::{History, Outcome, Value};
use crate::outcome::Verdict;
use crate::queue::Claim;
use crate::workload::BankOptions;
use std::collections::{BTreeMap, BTreeSet};

/// An `:ok` read's op and its balances (`None` for `nil`), keyed by completion order.
type Reads = BTreeMap<(u64, u32), (u32, Vec<(Value, Option<i64>)>)>;

fn ok_reads(history: &History) -> Reads {
    let mut reads = Reads::new();
    for (i, op) in history.ops.iter().enumerate() {
        if op.outcome != Outcome::Ok || history.value(op.f).as_name() != Some("read") {
            continue;
        }
        let Value::Map(entries) = history.value(op.output) else { continue };
        let balances = entries.iter().map(|(k, v)| (k.clone(), v.as_int())).collect();
        reads.insert((op.complete_index, op.complete_line), (i as u32, balances));
    }
    reads
}

pub(super) fn derive(history: &History, opts: &BankOptions) -> Derived {
    let reads = ok_reads(history);
    let accounts: BTreeSet<Value> =
        reads.values().next().map(|(_, b)| b.iter().map(|(k, _)| k.clone()).collect()).unwrap_or_default();
    let sum = |b: &[(Value, Option<i64>)]| -> Option<i128> { b.iter().map(|(_, v)| v.map(i128::from)).sum() };
    let expected = opts.total.map(i128::from).or_else(|| reads.values().find_map(|(_, b)| sum(b)));
    let mut claims = Vec::new();
    let mut bad = 0;
    for (read, balances) in reads.values() {
        let before = claims.len();
        let keys: BTreeSet<Value> = balances.iter().map(|(k, _)| k.clone()).collect();
        let unexpected: Vec<Value> = keys.difference(&accounts).cloned().collect();
        let missing: Vec<Value> = accounts.difference(&keys).cloned().collect();
        let nils: Vec<Value> = balances.iter().filter(|(_, v)| v.is_none()).map(|(k, _)| k.clone()).collect();
        let negative: Vec<(Value, i64)> =
            balances.iter().filter_map(|(k, v)| v.filter(|n| *n < 0).map(|n| (k.clone(), n))).collect();
        if !unexpected.is_empty() {
            claims.push(Claim::UnexpectedKey { read: *read, unexpected });
        }
        if !missing.is_empty() {
            claims.push(Claim::MissingKey { read: *read, missing });
        }
        if !nils.is_empty() {
            claims.push(Claim::NilBalance { read: *read, nils });
        }
        if let (Some(total), Some(expected)) = (sum(balances), expected) {
            if total != expected {
                claims.push(Claim::WrongTotal { read: *read, total, expected });
            }
        }
        if !negative.is_empty() && !opts.allow_negative_balances {
            claims.push(Claim::NegativeValue { read: *read, negative });
        }
        bad += usize::from(claims.len() > before);
    }
    let valid = match (claims.is_empty(), reads.is_empty()) {
        (false, _) => Verdict::Invalid,
        (true, true) => Verdict::Unknown,
        (true, false) => Verdict::Valid,
    };
    let claims: Vec<(Claim, Vec<u32>)> = claims
        .into_iter()
        .map(|c| {
            let read = match &c {
                Claim::UnexpectedKey { read, .. }
                | Claim::MissingKey { read, .. }
                | Claim::NilBalance { read, .. }
                | Claim::WrongTotal { read, .. }
                | Claim::NegativeValue { read, .. } => *read,
                _ => unreachable!("only bank claims are derived here"),
            };
            (c, vec![read])
        })
        .collect();
    Derived {
        claims,
        counts: BTreeMap::from([("read-count".to_string(), reads.len()), ("error-count".to_string(), bad)]),
        elements: BTreeMap::from([(
            "accounts".to_string(),
            accounts.iter().map(ToString::to_string).collect(),
        )]),
        valid,
    }
}
