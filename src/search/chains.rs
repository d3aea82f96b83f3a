//! Compare-and-set registers whose written values are unique: the cas chains fix most of the
//! version order, the zone test orders what they leave open, and linearizability is decided
//! exactly in O(n log n), without a search.
//!
//! # The setting
//!
//! A register model with cas ([`Access::Cas`]), at least one cas in the key, every value written
//! (by a write, or as a cas's new value) written by one op only and never the initial value,
//! and every completed read's value and every completed cas's expected value written or
//! initial. A crashed cas that expected a value nobody wrote never took effect, and is left
//! out (unless its own value was seen: the key then goes to the search).
//! Anything else is left to the search (or, without a cas, to the zone test).
//!
//! # Which crashed ops take effect
//!
//! A value is *needed* when a completed read saw it, a completed cas expected it, or a crashed
//! cas that writes a needed value expected it. A needed value's writer takes effect in every
//! linearization (values are unique and not initial, so nothing else produces it). A crashed
//! write or cas whose value is not needed is left out: in any linearization holding it, the ops
//! after it up to the next write need nothing of it, so removing it (the last such op first)
//! leaves a linearization. So the ops that take effect are fixed: the completed ones and the
//! crashed writers of needed values (crashed reads constrain nothing; reads of an unknown
//! value, see `NilReads`, fit anywhere and are placed last).
//!
//! # Chains
//!
//! An ok (or needed) cas `a→b` reads `a` and writes `b` at one instant, so `b` comes right
//! after `a` in the version order, and the value after `a` is unique: two such cas from one
//! value, or a loop of them, is a violation. The rest are chains: one headed by the initial
//! value, one by each plain write, each a run of values linked by cas. A chain's values are
//! consecutive in any version order, and the initial value's chain comes first.
//!
//! # The theorem
//!
//! Give each op a *layer* within its chain: the writer of the chain's `i`-th value `2i`, the
//! reads of that value `2i + 1`. Write `f(x)` for x's completion plus the clock skew (`+∞` if
//! crashed) and `s(x)` for its invocation; x precedes y in real time iff `f(x) < s(y)`. A
//! chain's *zone* is `[min f, max s]` over its ops (the initial value's chain has a virtual
//! writer with `f = -∞`). The key is linearizable iff
//!
//! 1. no value has two cas away from it, and no cas chain loops;
//! 2. within each chain, no op of a later layer precedes (in real time) an op of an earlier
//!    one: `min f` of each layer is at least `max s` of the layers before it; and
//! 3. the chains' zones pass the zone test: no two forward zones overlap, no backward zone lies
//!    inside a forward one.
//!
//! *Necessary.* A linearization (of exactly the ops above, which loses nothing) writes the
//! chains' values one chain after another, each read between its value's writer and the next
//! writer: a layered order, chain by chain. Real time holds in it, so no op precedes an op of
//! an earlier layer of its chain (2), and for chains `C` before `D`, `min f(D) >= max s(C)`.
//! Two chains with `min f(C) < max s(D)` and `min f(D) < max s(C)` could be in neither order:
//! those are exactly the zone test's conflicts (3).
//!
//! *Sufficient.* The relation "`C` must come before `D`" (`min f(C) < max s(D)`) has a cycle
//! only if it has one of two chains: in a longer cycle, the chain with the least `max s` can
//! be skipped (its predecessor's `min f` is below its `max s`, so below its successor's). So
//! (3) leaves an order of the chains; the zone test's instants give one (forward zones by
//! their opening, backward ones at their instant, before a forward zone opening at the same
//! instant), which is checked before use. Sorted by chain in that order, then layer, then
//! invocation, the ops respect real time: ops of one layer are sorted by invocation, a later
//! layer's ops follow by (2), a later chain's by (3). Reads of an unknown value are merged in
//! at their invocations (each op of the order taking effect at the latest invocation so far,
//! which lies in its own interval). The order found is checked against real time again, and
//! certification replays it through the model.
//!
//! # Evidence
//!
//! A violation names a few ops, closed under "the writer of the value it needs" and "the op
//! that needed this crashed writer's value". Any linearization of the key, restricted to such a
//! set, is one of the set (nothing it needs is missing, and nothing between a writer and its
//! readers is added), so a set with none shows the key has none; the caller has the search
//! find that on the set, for evidence certification accepts.

use super::zones::{self, Cluster, Zoned};
use crate::history::Value;
use crate::model::{Access, Model};
use crate::split::{Entry, Part};
use ahash::AHashMap;

/// No value, entry or chain.
const NONE: u32 = u32::MAX;

/// The key's values (id 0 the initial one) and what each entry does to them.
struct Values {
    /// Per value: the entry that writes it (`NONE` for the initial value).
    writer: Vec<u32>,
    /// Per entry: the value it needs (a read's, a cas's expected one), or `NONE`.
    needs: Vec<u32>,
    /// Per entry: the value it writes, or `NONE`.
    writes: Vec<u32>,
    /// Reads whose result is unknown: they fit anywhere.
    free: Vec<u32>,
    /// Crashed cas that expected a value nobody wrote: they never took effect.
    dead: Vec<u32>,
}

/// Groups `part`'s entries by value; `None` when the fast path does not apply.
fn values<M: Model>(model: &M, part: &Part<M::Op>) -> Option<Values> {
    let init = model.register_init()?;
    let e = &part.entries;
    let mut ids: AHashMap<&Value, u32> = AHashMap::with_capacity(e.len() / 2 + 1);
    ids.insert(init, 0);
    let mut v = Values {
        writer: vec![NONE],
        needs: vec![NONE; e.len()],
        writes: vec![NONE; e.len()],
        free: vec![],
        dead: vec![],
    };
    let mut accesses = Vec::with_capacity(e.len());
    let mut any_cas = false;
    for (i, x) in e.iter().enumerate() {
        let access = model.register_access(&x.op)?;
        accesses.push(access);
        let written = match access {
            Access::Write(b) => b,
            Access::Cas(_, b) => {
                any_cas = true;
                b
            }
            Access::Read(_) => continue,
        };
        let std::collections::hash_map::Entry::Vacant(slot) = ids.entry(written) else { return None };
        slot.insert(v.writer.len() as u32);
        v.writes[i] = v.writer.len() as u32;
        v.writer.push(i as u32);
    }
    if !any_cas {
        return None;
    }
    for (i, (x, access)) in e.iter().zip(accesses).enumerate() {
        let seen = match access {
            Access::Read(_) if x.is_crashed() => continue,
            Access::Read(None) => {
                v.free.push(i as u32);
                continue;
            }
            Access::Read(Some(seen)) | Access::Cas(seen, _) => seen,
            Access::Write(_) => continue,
        };
        if x.is_crashed() && !ids.contains_key(seen) {
            v.dead.push(i as u32);
            continue;
        }
        // A value nobody wrote: the search's conflicts name it.
        v.needs[i] = *ids.get(seen)?;
    }
    Some(v)
}

/// Which values are needed, and the op that first needed each (see the module's doc).
struct Needed {
    reason: Vec<u32>,
}

impl Needed {
    fn of<O>(e: &[Entry<O>], v: &Values) -> Needed {
        let mut reason = vec![NONE; v.writer.len()];
        for i in (0..e.len()).filter(|&i| !e[i].is_crashed() && v.needs[i] != NONE) {
            let (mut value, mut by) = (v.needs[i], i as u32);
            // Up a chain of crashed cas, each needed by the one after it.
            while value != NONE && reason[value as usize] == NONE {
                reason[value as usize] = by;
                let w = v.writer[value as usize];
                if w == NONE || !e[w as usize].is_crashed() {
                    break;
                }
                (value, by) = (v.needs[w as usize], w);
            }
        }
        Needed { reason }
    }

    fn is(&self, value: u32) -> bool {
        value != NONE && self.reason[value as usize] != NONE
    }
}

/// The key, read for the fast path.
struct Key<'p, O> {
    e: &'p [Entry<O>],
    v: Values,
    needed: Needed,
    skew: i64,
}

impl<O> Key<'_, O> {
    fn start(&self, i: u32) -> i64 {
        self.e[i as usize].invoke
    }

    fn finish(&self, i: u32) -> i64 {
        self.e[i as usize].complete.saturating_add(self.skew)
    }

    /// Whether the entry takes effect in every linearization (see the module's doc). Crashed
    /// reads are not among them.
    fn included(&self, i: u32) -> bool {
        let crashed = self.e[i as usize].is_crashed();
        !crashed || self.needed.is(self.v.writes[i as usize])
    }

    /// `seeds`, closed under "the writer of the value it needs" and "the op that needed this
    /// crashed writer's value": a set whose lack of a linearization is the key's.
    fn closure(&self, seeds: &[u32]) -> Vec<u32> {
        let mut inside = vec![false; self.e.len()];
        let mut todo: Vec<u32> = seeds.to_vec();
        let mut out = Vec::new();
        while let Some(i) = todo.pop() {
            if std::mem::replace(&mut inside[i as usize], true) {
                continue;
            }
            out.push(i);
            let need = self.v.needs[i as usize];
            if need != NONE && self.v.writer[need as usize] != NONE {
                todo.push(self.v.writer[need as usize]);
            }
            let wrote = self.v.writes[i as usize];
            if self.e[i as usize].is_crashed() && self.needed.is(wrote) {
                todo.push(self.needed.reason[wrote as usize]);
            }
        }
        out.sort_unstable();
        out
    }
}

/// The chains: each a run of values, the next after each value, and where each value is.
struct Chains {
    /// The values of all chains, chain after chain.
    values: Vec<u32>,
    /// Where each chain's values start in `values` (one more entry at the end).
    starts: Vec<usize>,
}

/// Links each value to the one a cas moves it to, and walks the chains from their heads; or
/// the ops of a violation (two cas away from one value, a loop of cas).
fn chains<O>(key: &Key<'_, O>) -> Result<Chains, Vec<u32>> {
    let v = &key.v;
    let mut next = vec![NONE; v.writer.len()];
    for i in (0..key.e.len() as u32).filter(|&i| v.writes[i as usize] != NONE && key.included(i)) {
        let from = v.needs[i as usize];
        if from == NONE {
            continue;
        }
        if next[from as usize] != NONE {
            let other = v.writer[next[from as usize] as usize];
            return Err(key.closure(&[other, i]));
        }
        next[from as usize] = v.writes[i as usize];
    }
    let heads = std::iter::once(0)
        .chain((1..v.writer.len() as u32).filter(|&b| v.needs[v.writer[b as usize] as usize] == NONE));
    let mut chains = Chains { values: Vec::with_capacity(v.writer.len()), starts: Vec::new() };
    for head in heads.filter(|&b| b == 0 || key.included(v.writer[b as usize])) {
        chains.starts.push(chains.values.len());
        let mut b = head;
        while b != NONE {
            chains.values.push(b);
            b = next[b as usize];
        }
    }
    chains.starts.push(chains.values.len());
    let included = 1 + (1..v.writer.len()).filter(|&b| key.included(v.writer[b])).count();
    if chains.values.len() < included {
        // Each value has one writer and at most one successor: one left out lies on a loop.
        let mut on = vec![false; v.writer.len()];
        chains.values.iter().for_each(|&b| on[b as usize] = true);
        let stray = (1..v.writer.len()).find(|&b| !on[b] && key.included(v.writer[b])).expect("one is left");
        let mut loop_ops = Vec::new();
        let mut b = stray as u32;
        while !std::mem::replace(&mut on[b as usize], true) {
            loop_ops.push(v.writer[b as usize]);
            b = v.needs[v.writer[b as usize] as usize];
        }
        return Err(key.closure(&loop_ops));
    }
    Ok(chains)
}

/// Per value, the earliest-finishing and the latest-starting of its included reads.
fn read_bounds<O>(key: &Key<'_, O>) -> Vec<((i64, u32), (i64, u32))> {
    let mut bounds = vec![((i64::MAX, NONE), (i64::MIN, NONE)); key.v.writer.len()];
    for i in 0..key.e.len() as u32 {
        let (need, wrote) = (key.v.needs[i as usize], key.v.writes[i as usize]);
        if wrote != NONE || need == NONE || key.e[i as usize].is_crashed() {
            continue;
        }
        let b = &mut bounds[need as usize];
        b.0 = b.0.min((key.finish(i), i));
        b.1 = b.1.max((key.start(i), i));
    }
    bounds
}

/// Checks each chain's layers against real time (condition 2 of the module's doc) and gives
/// each chain's zone; or the ops of a violation.
fn layers<O>(key: &Key<'_, O>, chains: &Chains) -> Result<Vec<Cluster>, Vec<u32>> {
    let reads = read_bounds(key);
    let mut zones = Vec::with_capacity(chains.starts.len());
    for c in chains.starts.windows(2) {
        let values = &chains.values[c[0]..c[1]];
        let head = key.v.writer[values[0] as usize];
        let mut zone = match head {
            NONE => Cluster::headed(None, i64::MIN, i64::MIN),
            w => Cluster::headed(Some(w), key.start(w), key.finish(w)),
        };
        // The latest invocation of the layers so far, and whose.
        let mut latest = (i64::MIN, NONE);
        for &b in values {
            let w = key.v.writer[b as usize];
            let (first, last) = reads[b as usize];
            let layers = [
                (w != NONE).then(|| ((key.finish(w), w), (key.start(w), w))),
                (first.1 != NONE).then_some((first, last)),
            ];
            for (finish, start) in layers.into_iter().flatten() {
                if finish.0 < latest.0 {
                    return Err(key.closure(&[finish.1, latest.1]));
                }
                for op in [finish.1, start.1] {
                    zone.add_read(op, key.start(op), key.finish(op));
                }
                latest = latest.max(start);
            }
        }
        zones.push(zone);
    }
    Ok(zones)
}

/// The chains in an order their zones allow (module doc, "sufficient"), checked; `None` if the
/// check fails (never expected: the key then goes to the search).
fn chain_order(zones: &[Cluster], instants: &[i64]) -> Option<Vec<u32>> {
    let key = |c: u32| {
        let z = &zones[c as usize];
        if z.forward() { (z.min_finish.0, 1) } else { (instants[c as usize], 0) }
    };
    let mut order: Vec<u32> = (0..zones.len() as u32).collect();
    order.sort_by_key(|&c| (key(c), c));
    let mut latest = i64::MIN;
    for &c in &order {
        let z = &zones[c as usize];
        if z.min_finish.0 < latest {
            debug_assert!(false, "the chains' zones allow no order");
            return None;
        }
        latest = latest.max(z.max_start.0);
    }
    Some(order)
}

/// The linearization: chains in `order`, each value's writer then its reads by invocation,
/// the free reads merged in at their invocations; checked against real time (`None` if it
/// fails, never expected).
fn linearization<O>(key: &Key<'_, O>, chains: &Chains, order: &[u32]) -> Option<Vec<u32>> {
    let mut rank = vec![(NONE, 0u32); key.v.writer.len()];
    for (r, &c) in order.iter().enumerate() {
        let values = &chains.values[chains.starts[c as usize]..chains.starts[c as usize + 1]];
        for (p, &b) in values.iter().enumerate() {
            rank[b as usize] = (r as u32, 2 * p as u32);
        }
    }
    let mut placed: Vec<(u32, u32, i64, u32)> = Vec::with_capacity(key.e.len());
    for i in (0..key.e.len() as u32).filter(|&i| key.included(i)) {
        let (wrote, need) = (key.v.writes[i as usize], key.v.needs[i as usize]);
        let (chain, layer) = if wrote != NONE {
            rank[wrote as usize]
        } else if need != NONE {
            rank[need as usize]
        } else {
            continue;
        };
        placed.push((chain, layer + u32::from(wrote == NONE), key.start(i), i));
    }
    placed.sort_unstable();
    let mut free = key.v.free.clone();
    free.sort_by_key(|&i| (key.start(i), i));
    let mut out = Vec::with_capacity(placed.len() + free.len());
    let (mut latest, mut f) = (i64::MIN, 0);
    for (.., i) in placed {
        latest = latest.max(key.start(i));
        while f < free.len() && key.start(free[f]) <= latest {
            out.push(free[f]);
            f += 1;
        }
        out.push(i);
    }
    out.extend_from_slice(&free[f..]);
    respects_real_time(key, &out).then_some(out)
}

/// Whether no op of `order` completed before an earlier one began.
fn respects_real_time<O>(key: &Key<'_, O>, order: &[u32]) -> bool {
    let mut latest = i64::MIN;
    let ok = order.iter().all(|&i| {
        latest = latest.max(key.start(i));
        key.finish(i) >= latest
    });
    debug_assert!(ok, "the chains' order breaks real time");
    ok
}

/// Decides `part` (under real-time order with `skew`) by its cas chains, or `None` when the
/// fast path does not apply (see the module's documentation). A linearization holds every
/// completed op; a violation names entries none of whose orders is a linearization, so that
/// none of the key's is.
pub fn decide<M: Model>(model: &M, part: &Part<M::Op>, skew: i64) -> Option<Zoned> {
    if skew < 0 {
        return None;
    }
    let v = values(model, part)?;
    let needed = Needed::of(&part.entries, &v);
    if v.dead.iter().any(|&i| needed.is(v.writes[i as usize])) {
        // A value only a cas that never took effect wrote, yet seen: the search names it.
        return None;
    }
    let key = Key { e: &part.entries, v, needed, skew };
    let chains = match chains(&key) {
        Ok(chains) => chains,
        Err(ops) => return Some(Zoned::Violation(ops)),
    };
    let zones = match layers(&key, &chains) {
        Ok(zones) => zones,
        Err(ops) => return Some(Zoned::Violation(ops)),
    };
    let active: Vec<u32> = (0..zones.len() as u32).collect();
    let instants = match zones::instants(&zones, &active) {
        Ok(instants) => instants,
        Err(ops) => return Some(Zoned::Violation(key.closure(&ops))),
    };
    let order = chain_order(&zones, &instants)?;
    linearization(&key, &chains, &order).map(Zoned::Linearizable)
}
