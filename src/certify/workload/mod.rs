//! Certification of Jepsen's bank, counter-bounds and final-read set reports
//! ([`crate::workload`]): each report is re-derived whole from the raw ops, with code of its own
//! (every claim, every count and the verdict), so a valid verdict is certified too, and a report
//! that misses an anomaly is refuted as surely as one that invents one.

mod bank;
mod counter;
mod set;

use super::Refuted;
use super::queue::shows_what_it_claims;
use crate::history::History;
use crate::outcome::Verdict;
use crate::queue::{Claim, QueueReport};
use crate::workload::BankOptions;
use std::collections::{BTreeMap, HashMap};

/// Certifies `report` against `history`: its claims, counts, element lists and verdict.
/// `bank` and `skew` are the options the check used.
pub fn certify_workload_report(
    history: &History,
    report: &QueueReport,
    bank: &BankOptions,
    skew: i64,
) -> Result<(), Refuted> {
    let derived = match report.model {
        "bank" => bank::derive(history, bank),
        "counter-bounds" => counter::derive(history, skew),
        "set-final" => set::derive(history),
        other => {
            return Err(Refuted::new(
                format!("a {other} report"),
                "no workload of that name is certified here",
            ));
        }
    };
    same_claims(report, &derived)?;
    if report.counts != derived.counts {
        return Err(Refuted::new(
            format!("counts {:?}", report.counts),
            format!("the ops count {:?}", derived.counts),
        ));
    }
    // The lists are multisets: the checker keeps the order it met elements in.
    let sorted = |m: &BTreeMap<String, Vec<String>>| -> BTreeMap<String, Vec<String>> {
        m.iter()
            .map(|(k, v)| {
                (k.clone(), {
                    let mut v = v.clone();
                    v.sort();
                    v
                })
            })
            .collect()
    };
    if sorted(&report.elements) != sorted(&derived.elements) {
        return Err(Refuted::new(
            format!("elements {:?}", report.elements),
            format!("the ops show {:?}", derived.elements),
        ));
    }
    if report.valid != derived.valid {
        return Err(Refuted::new(
            format!("verdict {:?}", report.valid),
            format!("the ops show {:?}", derived.valid),
        ));
    }
    Ok(())
}

/// What the raw ops show: each claim with the ops its anomaly shows, the counts, the element
/// lists and the verdict.
pub(super) struct Derived {
    claims: Vec<(Claim, Vec<u32>)>,
    counts: BTreeMap<String, usize>,
    elements: BTreeMap<String, Vec<String>>,
    valid: Verdict,
}

/// Every anomaly of `report` is one the ops show, showing the ops its claim names; and every
/// anomaly the ops show is in `report`.
fn same_claims(report: &QueueReport, derived: &Derived) -> Result<(), Refuted> {
    let mut left: HashMap<String, &Vec<u32>> =
        derived.claims.iter().map(|(c, ops)| (format!("{c:?}"), ops)).collect();
    for a in &report.anomalies {
        let Some(ops) = left.remove(&format!("{:?}", a.claim)) else {
            return Err(Refuted::new(
                format!("{}: {}", a.kind(), a.explanation),
                format!("re-derived from the raw ops, {:?} does not hold (or is listed twice)", a.claim),
            ));
        };
        shows_what_it_claims(a, None, ops)?;
    }
    if let Some(missed) = derived.claims.iter().find(|(c, _)| left.contains_key(&format!("{c:?}"))) {
        return Err(Refuted::new(
            format!("the {} report's {} anomalies", report.model, report.anomalies.len()),
            format!("the raw ops also show {:?}, which it does not list", missed.0),
        ));
    }
    Ok(())
}
