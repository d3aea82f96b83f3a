//! Counter-bounds reports, re-derived by one sweep over time (not the checker's sorted prefix
//! sums): four running sums (certain and possible, positive and negative adds), read at each
//! read's invocation (the certain ones) and completion (the possible ones).

use super::Derived;
use crate::history::{History, Outcome, Value};
use crate::outcome::Verdict;
use crate::queue::Claim;
use std::collections::BTreeMap;

/// What happens at a point of the sweep. At equal times, `Possible` contributions come before
/// the reads' queries (an add that began when the read completed may have come first), and
/// `Certain` ones after (an add acknowledged just as the read began did not certainly precede
/// it).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    Possible(i64),
    QueryInvoke(usize),
    QueryComplete(usize),
    Certain(i64),
}

pub(super) fn derive(history: &History, skew: i64) -> Derived {
    let mut steps: Vec<(i64, Step)> = Vec::new();
    let mut reads: Vec<(u32, i64)> = Vec::new();
    for (i, op) in history.ops.iter().enumerate() {
        let f = history.value(op.f).as_name().unwrap_or_default();
        if f == "add" || f == "increment" {
            let by = match history.value(op.input) {
                Value::Nil => 1,
                v => v.as_int().unwrap_or(0),
            };
            if op.outcome == Outcome::Fail {
                continue;
            }
            steps.push((op.invoke_time.saturating_sub(skew), Step::Possible(by)));
            if op.outcome == Outcome::Ok {
                steps.push((op.complete_time.saturating_add(skew), Step::Certain(by)));
            }
        } else if f == "read" && op.outcome == Outcome::Ok {
            let r = reads.len();
            reads.push((i as u32, history.value(op.output).as_int().unwrap_or(0)));
            steps.push((op.invoke_time, Step::QueryInvoke(r)));
            steps.push((op.complete_time, Step::QueryComplete(r)));
        }
    }
    steps.sort_unstable();
    // (certain positive, certain negative, possible positive, possible negative)
    let (mut cp, mut cn, mut pp, mut pn) = (0i128, 0i128, 0i128, 0i128);
    let mut at_invoke = vec![(0i128, 0i128); reads.len()];
    let mut bounds = vec![(0i128, 0i128); reads.len()];
    for (_, step) in steps {
        match step {
            Step::Possible(by) if by < 0 => pn += i128::from(by),
            Step::Possible(by) => pp += i128::from(by),
            Step::Certain(by) if by < 0 => cn += i128::from(by),
            Step::Certain(by) => cp += i128::from(by),
            Step::QueryInvoke(r) => at_invoke[r] = (cp, cn),
            Step::QueryComplete(r) => bounds[r] = (at_invoke[r].0 + pn, pp + at_invoke[r].1),
        }
    }
    let claims: Vec<(Claim, Vec<u32>)> = reads
        .iter()
        .zip(&bounds)
        .filter(|((_, v), (lo, hi))| i128::from(*v) < *lo || i128::from(*v) > *hi)
        .map(|(&(read, value), &(lower, upper))| {
            (Claim::OutOfBounds { read, value, lower, upper }, vec![read])
        })
        .collect();
    let valid = match (claims.is_empty(), reads.is_empty()) {
        (false, _) => Verdict::Invalid,
        (true, true) => Verdict::Unknown,
        (true, false) => Verdict::Valid,
    };
    Derived {
        counts: BTreeMap::from([
            ("read-count".to_string(), reads.len()),
            ("error-count".to_string(), claims.len()),
        ]),
        claims,
        elements: BTreeMap::new(),
        valid,
    }
}
