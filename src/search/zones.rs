//! Gibbons & Korach's zone test: linearizability of a read/write register whose written values
//! are unique, decided exactly in O(n log n), without a search.
//!
//! Each written value's *cluster* is its write and the completed reads that saw it; the initial
//! value's cluster has a virtual write before everything. In any linearization a cluster's ops
//! are contiguous, write first. A cluster's *zone* runs between the earliest completion of its
//! ops (`min_finish`) and the latest invocation (`max_start`): when `min_finish < max_start`
//! the zone is *forward* and the cluster must hold the register over all of it; otherwise it is
//! *backward* and all of its ops may take effect at one instant of `[max_start, min_finish]`.
//! The key is linearizable iff no read completed before its write began, no two forward zones
//! overlap, and no backward zone lies inside a forward one. Then a linearization is built from
//! the zones (each op placed at an instant of its own interval, so real time holds); else a few
//! ops that are not linearizable on their own are named, for the caller to explain.
//!
//! Crashed ops are handled exactly: a crashed read constrains nothing (it is left out), a
//! crashed write no read saw is left out (never taking effect is one of its outcomes), and a
//! crashed write some read saw stays, with no completion. Reads whose result is unknown (a read
//! of `nil` where `nil` can never be the state) go anywhere. Clock skew widens every
//! completion, as real-time order does.
//!
//! Applies only where the question is this one: a register model, reads and writes only, each
//! value written at most once and never the initial value, and each completed read's value
//! written or initial. Anything else (a cas, a repeated value, a read of a value nobody wrote)
//! is left to the search.

use crate::history::Value;
use crate::model::{Access, Model};
use crate::split::Part;
use ahash::AHashMap;

/// What the zone test found for a key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Zoned {
    /// Linearizable: this order (entry indices) is a linearization, every completed op in it.
    Linearizable(Vec<u32>),
    /// Not linearizable: these entries (with the write of every value they read) are not
    /// linearizable on their own, so neither is the key.
    Violation(Vec<u32>),
}

/// An entry's place: its cluster, or one of these.
const FREE: u32 = u32::MAX;
const LEFT_OUT: u32 = u32::MAX - 1;

/// One value's write and the completed reads that saw it (or, for the cas-chain fast path, a
/// chain's head and the rest of its ops: `chains` orders chains by their zones).
#[derive(Clone, Debug)]
pub(super) struct Cluster {
    /// The write (`None`: the initial value's virtual write).
    writer: Option<u32>,
    /// Completed reads of the value.
    reads: u32,
    /// The earliest completion (skew added) among its ops, and whose it is.
    pub(super) min_finish: (i64, Option<u32>),
    /// The latest invocation among its ops, and whose it is.
    pub(super) max_start: (i64, Option<u32>),
}

impl Cluster {
    fn initial() -> Cluster {
        Cluster { writer: None, reads: 0, min_finish: (i64::MIN, None), max_start: (i64::MIN, None) }
    }

    fn written(w: u32, start: i64, finish: i64) -> Cluster {
        Cluster { writer: Some(w), reads: 0, min_finish: (finish, Some(w)), max_start: (start, Some(w)) }
    }

    /// A cluster headed by `writer` (`None`: the initial value's), with no other op yet.
    pub(super) fn headed(writer: Option<u32>, start: i64, finish: i64) -> Cluster {
        match writer {
            Some(w) => Cluster::written(w, start, finish),
            None => Cluster::initial(),
        }
    }

    /// Adds an op that is not the head (a read; for a chain, any later op).
    pub(super) fn add_read(&mut self, r: u32, start: i64, finish: i64) {
        self.reads += 1;
        if finish < self.min_finish.0 {
            self.min_finish = (finish, Some(r));
        }
        if start > self.max_start.0 {
            self.max_start = (start, Some(r));
        }
    }

    /// A cluster with something to place: a read, or a write that certainly happened.
    fn active(&self, crashed: impl Fn(u32) -> bool) -> bool {
        self.reads > 0 || self.writer.is_some_and(|w| !crashed(w))
    }

    /// Whether its zone is forward: it must hold the register from `min_finish` to `max_start`.
    pub(super) fn forward(&self) -> bool {
        self.min_finish.0 < self.max_start.0
    }

    /// The ops that bound its zone, and its write.
    pub(super) fn bounds(&self) -> impl Iterator<Item = u32> {
        [self.min_finish.1, self.max_start.1, self.writer].into_iter().flatten()
    }
}

/// The clusters of a key and each entry's place, or `None` when the zone test does not apply.
struct Clusters {
    clusters: Vec<Cluster>,
    /// Per entry: its cluster, [`FREE`] (a completed read of an unknown value) or [`LEFT_OUT`].
    of: Vec<u32>,
}

/// Decides `part` (under real-time order with `skew`) by the zone test, or `None` when it does
/// not apply (see the module's documentation).
pub fn decide<M: Model>(model: &M, part: &Part<M::Op>, skew: i64) -> Option<Zoned> {
    let init = model.register_init()?;
    if skew < 0 {
        return None;
    }
    let e = &part.entries;
    let finish = |i: u32| e[i as usize].complete.saturating_add(skew);
    let start = |i: u32| e[i as usize].invoke;
    let Clusters { clusters, mut of } = clusters(model, part, init, skew)?;
    // A read that completed before its write began.
    for (i, &c) in of.iter().enumerate() {
        let i = i as u32;
        let writer = clusters.get(c as usize).and_then(|c| c.writer).filter(|&w| w != i);
        if let Some(w) = writer.filter(|&w| finish(i) < start(w)) {
            return Some(Zoned::Violation(vec![w, i]));
        }
    }
    let crashed = |i: u32| e[i as usize].is_crashed();
    let active: Vec<u32> =
        (0..clusters.len() as u32).filter(|&c| clusters[c as usize].active(crashed)).collect();
    for (c, cluster) in clusters.iter().enumerate() {
        if let Some(w) = cluster.writer.filter(|_| !cluster.active(crashed)) {
            debug_assert_eq!(of[w as usize], c as u32);
            of[w as usize] = LEFT_OUT;
        }
    }
    let instants = match instants(&clusters, &active) {
        Ok(instants) => instants,
        Err(violation) => return Some(Zoned::Violation(violation)),
    };
    Some(Zoned::Linearizable(linearization(e, &clusters, &of, &instants, &start)))
}

/// Groups `part`'s entries by the value written or read; `None` when the zone test does not
/// apply.
fn clusters<M: Model>(model: &M, part: &Part<M::Op>, init: &Value, skew: i64) -> Option<Clusters> {
    let e = &part.entries;
    let mut by_value: AHashMap<&Value, u32> = AHashMap::with_capacity(e.len() / 2 + 1);
    by_value.insert(init, 0);
    let mut clusters = vec![Cluster::initial()];
    let mut of = vec![FREE; e.len()];
    let mut accesses = Vec::with_capacity(e.len());
    for (i, x) in e.iter().enumerate() {
        let access = model.register_access(&x.op)?;
        if matches!(access, Access::Cas(..)) {
            // The cas-chain fast path's (see `chains`).
            return None;
        }
        accesses.push(access);
        let Access::Write(v) = access else { continue };
        // A value written twice (or written and initial) leaves reads of it ambiguous.
        let slot = match by_value.entry(v) {
            std::collections::hash_map::Entry::Occupied(_) => return None,
            std::collections::hash_map::Entry::Vacant(slot) => slot,
        };
        slot.insert(clusters.len() as u32);
        of[i] = clusters.len() as u32;
        clusters.push(Cluster::written(i as u32, x.invoke, x.complete.saturating_add(skew)));
    }
    for (i, (x, access)) in e.iter().zip(accesses).enumerate() {
        let Access::Read(seen) = access else { continue };
        if x.is_crashed() {
            // It constrains nothing.
            of[i] = LEFT_OUT;
            continue;
        }
        let Some(v) = seen else { continue };
        // A value nobody wrote: the search's conflicts name it.
        let c = *by_value.get(v)?;
        of[i] = c;
        clusters[c as usize].add_read(i as u32, x.invoke, x.complete.saturating_add(skew));
    }
    Some(Clusters { clusters, of })
}

/// The instant each backward cluster takes effect at (forward ones get `i64::MIN`, unused), or
/// the ops of two zones that cannot both hold: two forward zones that overlap, or a backward
/// zone inside a forward one.
pub(super) fn instants(clusters: &[Cluster], active: &[u32]) -> Result<Vec<i64>, Vec<u32>> {
    let zone = |c: u32| &clusters[c as usize];
    let both = |a: u32, b: u32| -> Vec<u32> {
        let mut ops: Vec<u32> = zone(a).bounds().chain(zone(b).bounds()).collect();
        ops.sort_unstable();
        ops.dedup();
        ops
    };
    let mut forward: Vec<u32> = active.iter().copied().filter(|&c| zone(c).forward()).collect();
    forward.sort_unstable_by_key(|&c| zone(c).min_finish.0);
    for w in forward.windows(2) {
        if zone(w[1]).min_finish.0 < zone(w[0]).max_start.0 {
            return Err(both(w[0], w[1]));
        }
    }
    let mut instants = vec![i64::MIN; clusters.len()];
    for &c in active.iter().filter(|&&c| !zone(c).forward()) {
        let (from, to) = (zone(c).max_start.0, zone(c).min_finish.0);
        // The only forward zone that can hold `from` inside: the last one opening before it.
        let j = forward.partition_point(|&f| zone(f).min_finish.0 < from);
        let around = j.checked_sub(1).map(|j| forward[j]).filter(|&f| from < zone(f).max_start.0);
        instants[c as usize] = match around {
            Some(f) if to < zone(f).max_start.0 => return Err(both(f, c)),
            Some(f) => zone(f).max_start.0,
            None => from,
        };
    }
    Ok(instants)
}

/// Where an op goes among those placed at the same instant: reads of unknown values (they fit
/// anywhere), then the reads of a forward zone that opened earlier, then whole backward
/// clusters, then the forward zone that opens here (its write, then its reads).
const ANYWHERE: u8 = 0;
const CLOSING: u8 = 1;
const BACKWARD: u8 = 2;
const OPENING: u8 = 3;

/// The linearization the zones give: every op at an instant of its own interval (so real time
/// holds), each cluster contiguous, write first.
fn linearization<O>(
    e: &[crate::split::Entry<O>],
    clusters: &[Cluster],
    of: &[u32],
    instants: &[i64],
    start: &dyn Fn(u32) -> i64,
) -> Vec<u32> {
    let mut placed: Vec<(i64, u8, u32, u8, u32)> = Vec::with_capacity(e.len());
    for (i, &c) in of.iter().enumerate() {
        let i = i as u32;
        match c {
            LEFT_OUT => continue,
            FREE => placed.push((start(i), ANYWHERE, 0, 0, i)),
            c => {
                let cluster = &clusters[c as usize];
                let rank = u8::from(cluster.writer != Some(i));
                if !cluster.forward() {
                    placed.push((instants[c as usize], BACKWARD, c, rank, i));
                    continue;
                }
                let opens = cluster.min_finish.0;
                let at = if rank == 0 { opens } else { start(i).max(opens) };
                let slot = if at == opens { OPENING } else { CLOSING };
                placed.push((at, slot, c, rank, i));
            }
        }
    }
    placed.sort_unstable();
    placed.into_iter().map(|p| p.4).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Register, RegisterOp};
    use crate::split::Entry;

    fn part(ops: &[(RegisterOp, i64, i64)]) -> Part<RegisterOp> {
        let mut entries: Vec<Entry<RegisterOp>> = ops
            .iter()
            .enumerate()
            .map(|(i, (op, invoke, complete))| Entry {
                op: op.clone(),
                invoke: *invoke,
                complete: *complete,
                op_index: i as u32,
                process: i as u32,
            })
            .collect();
        entries.sort_by_key(|e| (e.is_crashed(), e.invoke));
        let determinate = entries.iter().filter(|e| !e.is_crashed()).count();
        Part {
            key: None,
            entries,
            determinate,
            total_ops: ops.len(),
            failed: 0,
            crashed_reads: 0,
            failed_ops: Vec::new(),
        }
    }

    fn w(v: i64) -> RegisterOp {
        RegisterOp::Write(Value::Int(v))
    }
    fn r(v: i64) -> RegisterOp {
        RegisterOp::Read(Some(Value::Int(v)))
    }

    #[test]
    fn a_stale_read_is_a_violation_naming_it() {
        // write 1, then write 2, then a read of 1.
        let p = part(&[(w(1), 0, 1), (w(2), 2, 3), (r(1), 4, 5)]);
        assert_eq!(decide(&Register::default(), &p, 0), Some(Zoned::Violation(vec![0, 1, 2])));
        // With the read overlapping the second write it is fine.
        let p = part(&[(w(1), 0, 1), (w(2), 2, 5), (r(1), 4, 6)]);
        assert_eq!(decide(&Register::default(), &p, 0), Some(Zoned::Linearizable(vec![0, 2, 1])));
    }

    #[test]
    fn crashed_writes_nobody_saw_are_left_out_and_seen_ones_stay() {
        let p = part(&[(w(1), 0, i64::MAX), (w(2), 2, i64::MAX), (r(2), 4, 5)]);
        let Some(Zoned::Linearizable(order)) = decide(&Register::default(), &p, 0) else { panic!() };
        let ops: Vec<u32> = order.iter().map(|&i| p.entries[i as usize].op_index).collect();
        assert_eq!(ops, vec![1, 2]);
    }

    #[test]
    fn repeated_values_and_cas_are_left_to_the_search() {
        let p = part(&[(w(1), 0, 1), (w(1), 2, 3)]);
        assert_eq!(decide(&Register::default(), &p, 0), None);
        let p = part(&[(w(1), 0, 1), (r(7), 2, 3)]);
        assert_eq!(decide(&Register::default(), &p, 0), None);
        let p = part(&[(RegisterOp::Cas(Value::Nil, Value::Int(1)), 0, 1)]);
        assert_eq!(decide(&crate::model::CasRegister::default(), &p, 0), None);
    }
}
