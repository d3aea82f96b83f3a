//! Final-read set reports, re-derived: the last `:ok` read in completion order, and each
//! element's adds.

use super::Derived;
use crate::history::{History, Outcome, Value};
use crate::outcome::Verdict;
use crate::queue::Claim;
use std::collections::{BTreeMap, BTreeSet};

pub(super) fn derive(history: &History) -> Derived {
    // Per element: attempted (an add not failed), and its acknowledged adds.
    let mut adds: BTreeMap<Value, (bool, Vec<u32>)> = BTreeMap::new();
    let mut last: Option<((u64, u32), u32)> = None;
    for (i, op) in history.ops.iter().enumerate() {
        let f = history.value(op.f).as_name().unwrap_or_default();
        if f == "add" && op.outcome != Outcome::Fail {
            let e = adds.entry(history.value(op.input).clone()).or_default();
            e.0 = true;
            if op.outcome == Outcome::Ok {
                e.1.push(i as u32);
            }
        } else if f == "read" && op.outcome == Outcome::Ok {
            let at = (op.complete_index, op.complete_line);
            if last.is_none_or(|(l, _)| at > l) {
                last = Some((at, i as u32));
            }
        }
    }
    let Some((_, read)) = last else {
        return Derived {
            claims: Vec::new(),
            counts: BTreeMap::from([("attempt-count".to_string(), adds.len())]),
            elements: BTreeMap::new(),
            valid: Verdict::Unknown,
        };
    };
    let held: BTreeSet<Value> = match history.value(history.ops[read as usize].output) {
        Value::Vector(s) | Value::List(s) | Value::Set(s) => s.iter().cloned().collect(),
        _ => BTreeSet::new(),
    };
    let mut claims = Vec::new();
    let (mut lost, mut recovered) = (Vec::new(), Vec::new());
    for (v, (_, acked)) in &adds {
        match (held.contains(v), acked.is_empty()) {
            (false, false) => {
                lost.push(v.to_string());
                let mut shown = acked.clone();
                shown.push(read);
                claims.push((Claim::SetLost { value: v.clone(), adds: acked.clone(), read }, shown));
            }
            (true, true) => recovered.push(v.to_string()),
            _ => {}
        }
    }
    let unexpected: Vec<&Value> = held.iter().filter(|v| !adds.contains_key(*v)).collect();
    for v in &unexpected {
        claims.push((Claim::SetUnexpected { value: (*v).clone(), read }, vec![read]));
    }
    let counts = BTreeMap::from([
        ("attempt-count".to_string(), adds.len()),
        ("acknowledged-count".to_string(), adds.values().filter(|e| !e.1.is_empty()).count()),
        ("ok-count".to_string(), held.iter().filter(|v| adds.contains_key(*v)).count()),
        ("lost-count".to_string(), lost.len()),
        ("recovered-count".to_string(), recovered.len()),
        ("unexpected-count".to_string(), unexpected.len()),
    ]);
    let valid = if claims.is_empty() { Verdict::Valid } else { Verdict::Invalid };
    let elements = BTreeMap::from([
        ("lost".to_string(), lost),
        ("recovered".to_string(), recovered),
        ("unexpected".to_string(), unexpected.iter().map(ToString::to_string).collect()),
    ]);
    Derived { claims, counts, elements, valid }
}
