//! Shrinking a counterexample: delta debugging (Zeller and Hildebrandt's ddmin) over the ops of
//! an invalid key, keeping a subset only when a check shows it is still invalid.

use crate::split::{Part, sub_part};

/// The smallest subset of `start` (entry indices of `part`) found to be still invalid, trying
/// to drop ever smaller chunks of ops. `still_invalid` is a real check (it should give up
/// quickly, counting "gave up" as not invalid), so every subset kept is a genuine witness. At
/// most `max_probes` checks: O(n log n) of them in the usual case.
pub fn shrink<O: Clone>(
    part: &Part<O>,
    start: Vec<u32>,
    still_invalid: &mut dyn FnMut(&Part<O>) -> bool,
    max_probes: usize,
) -> Vec<u32> {
    let mut current = start;
    let mut chunks = 2usize;
    let mut probes = 0;
    while current.len() >= 2 && probes < max_probes {
        let size = current.len().div_ceil(chunks);
        // Try dropping each chunk in turn; keep the first drop that stays invalid.
        let mut dropped = None;
        for c in 0..chunks {
            let (from, to) = (c * size, ((c + 1) * size).min(current.len()));
            if from >= to || probes >= max_probes {
                break;
            }
            let candidate: Vec<u32> = current[..from].iter().chain(&current[to..]).copied().collect();
            probes += 1;
            if still_invalid(&sub_part(part, &candidate)) {
                dropped = Some(candidate);
                break;
            }
        }
        match dropped {
            Some(candidate) => {
                current = candidate;
                chunks = (chunks - 1).max(2);
            }
            None if chunks >= current.len() => break,
            None => chunks = (chunks * 2).min(current.len()),
        }
    }
    current
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::split::Entry;

    fn part(n: u32) -> Part<u32> {
        Part {
            key: None,
            entries: (0..n)
                .map(|i| Entry { op: i, invoke: 0, complete: 1, op_index: i, process: 0 })
                .collect(),
            determinate: n as usize,
            total_ops: n as usize,
            failed: 0,
            crashed_reads: 0,
            failed_ops: Vec::new(),
        }
    }

    #[test]
    fn finds_the_two_ops_that_matter() {
        // "Invalid" exactly when ops 3 and 11 are both present.
        let p = part(16);
        let mut invalid =
            |sub: &Part<u32>| sub.entries.iter().any(|e| e.op == 3) && sub.entries.iter().any(|e| e.op == 11);
        let kept = shrink(&p, (0..16).collect(), &mut invalid, 1000);
        assert_eq!(kept, vec![3, 11]);
    }

    #[test]
    fn respects_the_probe_budget() {
        let p = part(64);
        let mut calls = 0;
        let mut never = |_: &Part<u32>| {
            calls += 1;
            false
        };
        let kept = shrink(&p, (0..64).collect(), &mut never, 10);
        assert_eq!(kept.len(), 64);
        assert!(calls <= 10);
    }
}
