//! Total-queue reports, recounted from the raw ops: every element's enqueues and dequeues,
//! then each claim, each count and the verdict compared with the recount.

use super::{Refuted, foreign};
use crate::history::{History, Outcome, Value};
use crate::outcome::Verdict;
use crate::queue::{Claim, QueueReport};
use std::collections::BTreeMap;

/// Per element: (enqueues not failed, acknowledged enqueue ops, dequeue ops).
type Recount = BTreeMap<Value, Counted>;
type Counted = (usize, Vec<u32>, Vec<u32>);

fn recount(history: &History) -> (Recount, usize) {
    let mut r: Recount = BTreeMap::new();
    let mut invoked = 0;
    for (i, op) in history.ops.iter().enumerate() {
        let f = history.value(op.f).as_name().unwrap_or_default().to_string();
        let ok = op.outcome == Outcome::Ok;
        if f == "enqueue" {
            invoked += 1;
            if op.outcome != Outcome::Fail {
                let e = r.entry(history.value(op.input).clone()).or_default();
                e.0 += 1;
                if ok {
                    e.1.push(i as u32);
                }
            }
        } else if ok && (f == "dequeue" || f == "drain") {
            let out = history.value(op.output);
            let got: Vec<Value> = match (f.as_str(), out) {
                (_, Value::Nil) => vec![],
                ("drain", Value::Vector(s) | Value::List(s) | Value::Set(s)) => s.to_vec(),
                _ => vec![out.clone()],
            };
            for v in got {
                r.entry(v).or_default().2.push(i as u32);
            }
        }
    }
    (r, invoked)
}

pub(super) fn certify(history: &History, report: &QueueReport) -> Result<(), Refuted> {
    let (r, invoked) = recount(history);
    let none = (0, Vec::new(), Vec::new());
    for a in &report.anomalies {
        let claim = format!("{}: {}", a.kind(), a.explanation);
        let (attempts, acked, deq) = match &a.claim {
            Claim::Lost { value, .. } | Claim::Unexpected { value, .. } | Claim::Duplicated { value, .. } => {
                r.get(value).unwrap_or(&none)
            }
            other => return Err(Refuted::new(claim, foreign(other))),
        };
        let holds = match &a.claim {
            Claim::Lost { enqueues, dequeued, .. } => {
                enqueues == acked && *dequeued == deq.len() && acked.len() > deq.len()
            }
            Claim::Unexpected { dequeues, .. } => *attempts == 0 && dequeues == deq && !deq.is_empty(),
            Claim::Duplicated { dequeues, attempts: n, .. } => {
                n == attempts && dequeues == deq && *attempts > 0 && deq.len() > *attempts
            }
            _ => false,
        };
        let shown: Vec<u32> = match &a.claim {
            Claim::Lost { .. } => acked.iter().chain(deq).copied().collect(),
            _ => deq.clone(),
        };
        super::shows_what_it_claims(a, None, &shown)?;
        if !holds {
            return Err(Refuted::new(
                claim,
                format!(
                    "the ops say: {attempts} enqueue(s) not failed, acknowledged at {acked:?}, dequeued at {deq:?}"
                ),
            ));
        }
    }
    let sum = |f: &dyn Fn(&Counted) -> usize| r.values().map(f).sum::<usize>();
    let want = [
        ("attempt-count", invoked),
        ("acknowledged-count", sum(&|e| e.1.len())),
        ("ok-count", sum(&|e| e.2.len().min(e.0))),
        ("lost-count", sum(&|e| e.1.len().saturating_sub(e.2.len()))),
        ("unexpected-count", sum(&|e| if e.0 == 0 { e.2.len() } else { 0 })),
        ("duplicated-count", sum(&|e| if e.0 > 0 { e.2.len().saturating_sub(e.0) } else { 0 })),
        ("recovered-count", sum(&|e| e.2.len().min(e.0).saturating_sub(e.1.len()))),
    ];
    for (name, n) in want {
        if report.counts.get(name) != Some(&n) {
            return Err(Refuted::new(
                format!("{name} {:?}", report.counts.get(name)),
                format!("the ops count {n}"),
            ));
        }
    }
    let bad = r.values().filter(|e| e.1.len() > e.2.len() || e.2.len() > e.0).count();
    let verdict = if bad > 0 { Verdict::Invalid } else { Verdict::Valid };
    if report.valid != verdict || report.anomalies.len() != bad {
        return Err(Refuted::new(
            format!("verdict {:?} with {} anomalies", report.valid, report.anomalies.len()),
            format!("the ops show {bad} element(s) lost, unexpected or duplicated"),
        ));
    }
    Ok(())
}
