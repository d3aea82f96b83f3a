//! A summary of a history: what `labrys check` prints before (or instead of) a verdict.

use super::op::{History, Outcome, ValueId};
use super::value::Value;
use ahash::{AHashMap, AHashSet};
use serde::Serialize;
use std::collections::BTreeMap;

/// Counts that describe a history at a glance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Events read (client and fault).
    pub events: usize,
    /// Client operations (= invocations).
    pub ops: usize,
    /// Ops by outcome: `ok`, `fail`, `info`, `open` (never completed).
    pub by_outcome: BTreeMap<&'static str, usize>,
    /// Ops by `:f`, then by outcome.
    pub by_f: BTreeMap<String, BTreeMap<&'static str, usize>>,
    /// Distinct client processes.
    pub processes: usize,
    /// Distinct keys: `:key` values, or the `k` of `[k v]` tuple values when every op has one.
    pub keys: usize,
    /// Ops whose effect is unknown (`info` plus `open`).
    pub crashed: usize,
    /// The most ops ever in flight at once.
    pub max_concurrency: usize,
    /// Fault (nemesis) events.
    pub fault_events: usize,
    /// Fault events by `:f`.
    pub faults_by_f: BTreeMap<String, usize>,
    /// Warnings from a lenient read.
    pub warnings: usize,
}

impl Summary {
    /// Summarizes `history` in O(n log n).
    pub fn of(history: &History) -> Summary {
        // Count by interned ids first and name them once at the end: naming each op's `:f`
        // would allocate a string per op.
        let mut by_id: AHashMap<(ValueId, Outcome), usize> = AHashMap::new();
        let mut processes = AHashSet::new();
        let mut field_keys = AHashSet::new();
        for op in &history.ops {
            *by_id.entry((op.f, op.outcome)).or_insert(0) += 1;
            processes.insert(op.process);
            if op.key != ValueId::NONE {
                field_keys.insert(op.key);
            }
        }
        let mut by_outcome = BTreeMap::new();
        let mut by_f: BTreeMap<String, BTreeMap<&'static str, usize>> = BTreeMap::new();
        for ((f, outcome), n) in by_id {
            *by_outcome.entry(outcome.name()).or_insert(0) += n;
            let f = history.value(f);
            let name = f.as_name().map_or_else(|| f.to_string(), str::to_string);
            *by_f.entry(name).or_default().entry(outcome.name()).or_insert(0) += n;
        }
        let keys = if !field_keys.is_empty() {
            field_keys.len()
        } else if history.tuple_keyed() {
            let tuple_keys: AHashSet<&Value> =
                history.distinct_inputs().filter_map(|v| v.as_tuple().map(|(k, _)| k)).collect();
            tuple_keys.len()
        } else {
            0
        };
        let mut faults_by_f = BTreeMap::new();
        for fault in &history.faults {
            let f = fault.f.as_name().map_or_else(|| fault.f.to_string(), str::to_string);
            *faults_by_f.entry(f).or_insert(0) += 1;
        }
        Summary {
            events: history.event_count,
            ops: history.ops.len(),
            crashed: history.ops.iter().filter(|op| op.outcome.is_indeterminate()).count(),
            by_outcome,
            by_f,
            processes: processes.len(),
            keys,
            max_concurrency: max_concurrency(history),
            fault_events: history.faults.len(),
            faults_by_f,
            warnings: history.warnings.len(),
        }
    }
}

/// The largest number of ops whose [invoke, complete] intervals overlap at one instant.
///
/// `:time` comes from the user's file and need not be sane: a completion stamped before its
/// invocation counts as completing at the invocation, and ops invoked at the same instant are
/// counted together, so the running count never goes below zero.
fn max_concurrency(history: &History) -> usize {
    let mut completions: Vec<i64> =
        history.ops.iter().map(|op| op.complete_time.max(op.invoke_time)).collect();
    completions.sort_unstable();
    let mut invokes: Vec<i64> = history.ops.iter().map(|op| op.invoke_time).collect();
    invokes.sort_unstable();
    let (mut best, mut i, mut c) = (0usize, 0usize, 0usize);
    while i < invokes.len() {
        let t = invokes[i];
        while i < invokes.len() && invokes[i] == t {
            i += 1;
        }
        // An op that completed at the same instant another was invoked did not overlap it.
        while c < completions.len() && completions[c] <= t {
            c += 1;
        }
        // Every op completed by `t` was invoked by `t`, so `c <= i`.
        best = best.max(i - c);
    }
    best
}

impl History {
    /// True when every client op's invocation value is a `[k v]` pair with a scalar key,
    /// Jepsen's `independent` shape (docs/design.md section 2). A collection in key position is not
    /// a key: `[[:w :x 1] [:r :y nil]]` is a two-step transaction.
    pub fn tuple_keyed(&self) -> bool {
        let scalar_key = |v: &Value| {
            v.as_tuple().is_some_and(|(k, _)| {
                !matches!(k, Value::Vector(_) | Value::List(_) | Value::Set(_) | Value::Map(_))
            })
        };
        !self.ops.is_empty() && self.distinct_inputs().all(scalar_key)
    }

    /// The ops' distinct invocation values, each once, in the order they were interned: a
    /// large history's ops repeat values (reads of the same key), and walking the table in
    /// order touches memory in order, where following each op's value would jump about.
    fn distinct_inputs(&self) -> impl Iterator<Item = &Value> {
        let mut used = vec![false; self.values.len()];
        for op in &self.ops {
            used[op.input.0 as usize] = true;
        }
        used.into_iter().enumerate().filter(|&(_, used)| used).map(|(id, _)| self.value(ValueId(id as u32)))
    }

    /// Ops that completed `:ok`, `:fail`, or neither.
    pub fn count_outcome(&self, outcome: Outcome) -> usize {
        self.ops.iter().filter(|op| op.outcome == outcome).count()
    }
}

#[cfg(test)]
mod tests {
    use crate::history::{Format, ReadOptions, Summary, read_bytes};

    fn summary(edn: &str) -> Summary {
        Summary::of(&read_bytes("t.edn", edn.as_bytes(), Format::Edn, &ReadOptions::default()).unwrap())
    }

    #[test]
    fn concurrency_survives_completions_stamped_before_invocations() {
        // Regression from fuzzing (json): the running count went below zero.
        let s = summary(
            "{:time 10, :type :invoke, :process 0, :f :read}\n{:time 5, :type :ok, :process 0, :f :read}\n",
        );
        assert_eq!(s.max_concurrency, 0);
        let s = summary(
            "{:time 5, :type :invoke, :process 0, :f :read}\n{:time 5, :type :invoke, :process 1, :f :read}\n\
             {:time 5, :type :ok, :process 0, :f :read}\n{:time 9, :type :ok, :process 1, :f :read}\n",
        );
        assert_eq!(s.max_concurrency, 1);
    }

    #[test]
    fn concurrency_counts_overlapping_ops() {
        let s = summary(
            "{:type :invoke, :process 0, :f :read}\n{:type :invoke, :process 1, :f :read}\n\
             {:type :ok, :process 0, :f :read}\n{:type :invoke, :process 2, :f :read}\n",
        );
        assert_eq!(s.max_concurrency, 2);
    }
}
