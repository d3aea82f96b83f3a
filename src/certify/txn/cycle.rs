//! Cycle anomalies: the steps must close a cycle over distinct transactions, every edge must
//! follow from the raw micro-ops, times and processes, every transaction that did not complete
//! `:ok` must show it took effect, and the type must be the one the edges make.

use super::Ctx;
use super::facts::KeyFacts;
use crate::history::Outcome;
use crate::model::EdgeKind;
use crate::txn::ops::{Elem, Mop, MopKind, NIL};
use crate::txn::{CycleStep, TxnAnomaly, Workload};

const BASES: [&str; 5] = ["G0", "G1c", "G-single", "G-nonadjacent", "G2-item"];

/// Whether `kind` names a cycle anomaly (`G0`, `G-single-realtime`, ...).
pub(super) fn is_cycle_kind(kind: &str) -> bool {
    let base = kind.strip_suffix("-realtime").or_else(|| kind.strip_suffix("-process")).unwrap_or(kind);
    BASES.contains(&base)
}

/// The type of a cycle with these edge kinds (Adya's, as Elle names them): one anti-dependency
/// is G-single; two or more, none of them adjacent (the cycle wraps around), G-nonadjacent;
/// two adjacent, G2-item; without anti-dependencies, a read dependency makes G1c and write
/// dependencies alone G0. A real-time edge adds `-realtime`, else a process edge `-process`.
/// `None` for a cycle with no data dependency at all.
pub(super) fn classify(kinds: &[EdgeKind]) -> Option<String> {
    let n = kinds.len();
    let count = |k: EdgeKind| kinds.iter().filter(|&&x| x == k).count();
    let rw = count(EdgeKind::AntiDependency);
    if rw + count(EdgeKind::ReadsFrom) + count(EdgeKind::Version) == 0 {
        return None;
    }
    let adjacent = (0..n)
        .any(|i| kinds[i] == EdgeKind::AntiDependency && kinds[(i + 1) % n] == EdgeKind::AntiDependency);
    let base = match rw {
        0 if count(EdgeKind::ReadsFrom) > 0 => "G1c",
        0 => "G0",
        1 => "G-single",
        _ if adjacent => "G2-item",
        _ => "G-nonadjacent",
    };
    let variant = if count(EdgeKind::RealTime) > 0 {
        "-realtime"
    } else if count(EdgeKind::Process) > 0 {
        "-process"
    } else {
        ""
    };
    Some(format!("{base}{variant}"))
}

/// Certifies a cycle anomaly.
pub(super) fn certify(ctx: &Ctx<'_>, a: &TxnAnomaly) -> Result<(), String> {
    let Some(steps) = a.cycle.as_deref() else {
        return Err("a cycle anomaly without its edges".to_string());
    };
    let n = a.txns.len();
    if n < 2 {
        return Err(format!("a cycle needs two transactions or more; it cites {n}"));
    }
    if steps.len() != n {
        return Err(format!("{n} transactions, but {} edges", steps.len()));
    }
    let ops: Vec<u32> = a.txns.iter().map(|r| r.position).collect();
    let mut distinct = ops.clone();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() != n {
        return Err("a transaction appears twice on the cycle".to_string());
    }
    for (i, s) in steps.iter().enumerate() {
        if (s.from, s.to) != (i + 1, (i + 1) % n + 1) {
            return Err(format!(
                "edge {} goes from T{} to T{}, but the cycle's edge {} must go from T{} to T{}",
                i + 1,
                s.from,
                s.to,
                i + 1,
                i + 1,
                (i + 1) % n + 1
            ));
        }
    }
    for (i, &op) in ops.iter().enumerate() {
        if ctx.outcome(op) == Outcome::Fail {
            return Err(format!("T{} failed: it took no effect, so it orders nothing", i + 1));
        }
    }
    for (i, s) in steps.iter().enumerate() {
        let (from, to) = (ops[i], ops[(i + 1) % n]);
        edge(ctx, from, to, s).map_err(|why| format!("T{} -{}-> T{}: {why}", s.from, s.kind.elle(), s.to))?;
    }
    // A transaction that may not have committed is on the cycle only if it took effect: then
    // its edge out is a write some committed read saw (ww and wr edges say exactly that).
    for (i, &op) in ops.iter().enumerate() {
        if !ctx.ok(op) && !matches!(steps[i].kind, EdgeKind::Version | EdgeKind::ReadsFrom) {
            return Err(format!(
                "T{} did not complete :ok, and its edge out is {}, not a write some committed read saw, so \
                 nothing shows it took effect",
                i + 1,
                steps[i].kind.elle()
            ));
        }
    }
    let kinds: Vec<EdgeKind> = steps.iter().map(|s| s.kind).collect();
    match classify(&kinds) {
        Some(k) if k == a.kind.as_str() => {}
        Some(k) => {
            let names: Vec<&str> = kinds.iter().map(|k| k.elle()).collect();
            return Err(format!("its edges ({}) make a {k} cycle, not {}", names.join(", "), a.kind));
        }
        None => return Err("a cycle with no data dependency".to_string()),
    }
    explanation(ctx, a, steps)
}

/// The explanation must name each transaction as it is, and each edge by its key and values
/// (data edges), times (real time) or process.
fn explanation(ctx: &Ctx<'_>, a: &TxnAnomaly, steps: &[CycleStep]) -> Result<(), String> {
    let n = a.txns.len();
    let lines = &a.explanation;
    if lines.len() != 2 * n + 1 {
        return Err(format!("{} explanation lines for a cycle of {n}, expected {}", lines.len(), 2 * n + 1));
    }
    if !lines[0].starts_with(&format!("{}: ", a.kind)) {
        return Err(format!("the explanation begins {:?}, not with the type {}", lines[0], a.kind));
    }
    for (i, r) in a.txns.iter().enumerate() {
        let line = &lines[1 + i];
        let op = ctx.op(r.position);
        let head = format!("T{} = index {} (process {}, ", i + 1, op.invoke_index, op.process);
        if !line.starts_with(&head) || !line.ends_with(&ctx.t.txn_text(r.position as usize)) {
            return Err(format!("the explanation's line {:?} does not name T{} as it is", line, i + 1));
        }
    }
    for (i, s) in steps.iter().enumerate() {
        let line = &lines[1 + n + i];
        let (oa, ob) = (ctx.op(a.txns[i].position), ctx.op(a.txns[(i + 1) % n].position));
        let mut must: Vec<String> = vec![format!("T{} < T{}: ", s.from, s.to)];
        match s.kind {
            EdgeKind::RealTime => {
                must.push(format!("(index {})", oa.complete_index));
                must.push(format!("(index {})", ob.invoke_index));
            }
            EdgeKind::Process => must.push(format!("process {}", oa.process)),
            _ => must.extend(s.key.iter().chain(&s.value).chain(&s.value_after).cloned()),
        }
        if let Some(m) = must.iter().find(|m| !line.contains(m.as_str())) {
            return Err(format!("the explanation of edge {} ({line:?}) does not say {m:?}", i + 1));
        }
    }
    Ok(())
}

/// Certifies one edge from op `a` to op `b`.
pub(super) fn edge(ctx: &Ctx<'_>, a: u32, b: u32, s: &CycleStep) -> Result<(), String> {
    let (oa, ob) = (ctx.op(a), ctx.op(b));
    let data = matches!(s.kind, EdgeKind::Version | EdgeKind::ReadsFrom | EdgeKind::AntiDependency);
    if !data && (s.key.is_some() || s.value.is_some() || s.value_after.is_some()) {
        return Err(format!("a {} edge names a key or values", s.kind.elle()));
    }
    match s.kind {
        EdgeKind::RealTime => {
            if oa.outcome != Outcome::Ok {
                return Err(
                    "the earlier transaction never completed :ok, so it precedes nothing in real time".into(),
                );
            }
            if s.process.is_some() {
                return Err("a real-time edge names a process".into());
            }
            // i128: neither a time near the ends of i64 nor a large skew can overflow.
            if i128::from(oa.complete_time) + i128::from(ctx.skew) < i128::from(ob.invoke_time) {
                Ok(())
            } else {
                Err(format!(
                    "T{} completed at time {} (index {}), not more than the clock skew {} before T{} was invoked at \
                     time {} (index {})",
                    s.from,
                    oa.complete_time,
                    oa.complete_index,
                    ctx.skew,
                    s.to,
                    ob.invoke_time,
                    ob.invoke_index
                ))
            }
        }
        EdgeKind::Process => {
            if s.process != Some(oa.process) || oa.process != ob.process {
                return Err(format!(
                    "it names process {:?}, but the transactions ran on processes {} and {}",
                    s.process, oa.process, ob.process
                ));
            }
            if oa.outcome != Outcome::Ok {
                return Err(
                    "the earlier transaction never completed :ok, so its process's next one may have \
                            begun before it took effect"
                        .into(),
                );
            }
            // Ops are in invocation order; a process runs one at a time.
            if a < b && oa.invoke_index < ob.invoke_index {
                Ok(())
            } else {
                Err(format!(
                    "T{} (index {}) was invoked after T{} (index {})",
                    s.from, oa.invoke_index, s.to, ob.invoke_index
                ))
            }
        }
        EdgeKind::Version | EdgeKind::ReadsFrom | EdgeKind::AntiDependency => {
            if s.process.is_some() {
                return Err("a data edge names a process".into());
            }
            let Some(key) = &s.key else {
                return Err("a data edge that names no key".into());
            };
            let keys = ctx.keys_named(key, &[a, b]);
            if keys.is_empty() {
                return Err(format!("neither transaction touches {key}"));
            }
            let mut why = String::new();
            for k in keys {
                let f = ctx.facts(k)?;
                let r = f.usable().and_then(|f| match ctx.t.workload {
                    Workload::ListAppend => list_edge(ctx, f, k, a, b, s),
                    Workload::RwRegister => register_edge(ctx, f, k, a, b, s),
                });
                match r {
                    Ok(()) => return Ok(()),
                    Err(w) => why = format!("on {key}: {w}"),
                }
            }
            Err(why)
        }
    }
}

/// A data edge's `value` (or with `after`, its `value_after`), which must be there.
fn value(s: &CycleStep, after: bool) -> Result<&str, String> {
    let v = if after { &s.value_after } else { &s.value };
    v.as_deref().ok_or_else(|| {
        format!("a {} edge without {}", s.kind.elle(), if after { "value_after" } else { "value" })
    })
}

/// The value a wr edge says was read: the same on both ends, read by a transaction that
/// completed `:ok` (only those returned what they read). Shared by both workloads.
fn wr_value<'s>(ctx: &Ctx<'_>, b: u32, s: &'s CycleStep) -> Result<&'s str, String> {
    let v = value(s, false)?;
    if s.value_after.as_deref().is_some_and(|x| x != v) {
        return Err(format!("a wr edge whose values differ ({v} and {:?})", s.value_after));
    }
    if !ctx.ok(b) {
        return Err(format!("T{} did not complete :ok, so its reads returned nothing", s.to));
    }
    Ok(v)
}

/// Whether micro-op `j` of `mops` reads `k` before any append or write of the transaction to
/// `k` (what it read came from other transactions).
fn external(mops: &[Mop], j: usize) -> bool {
    let k = mops[j].key;
    mops[j].kind == MopKind::Read && !mops[..j].iter().any(|m| m.key == k && m.kind != MopKind::Read)
}

/// List-append edges: ww from consecutive elements (or an unseen append after the last element
/// seen), wr from the last element of an external read, rw from an external read to the
/// append right after what it saw.
fn list_edge(ctx: &Ctx<'_>, f: &KeyFacts, k: u32, a: u32, b: u32, s: &CycleStep) -> Result<(), String> {
    let key = ctx.key_name(k);
    let appended = |op: u32, v: &str, t: usize| {
        ctx.written(op, k, v)
            .filter(|&e| f.unique_writer(e).is_some_and(|w| w.op == op))
            .ok_or_else(|| format!("T{t} did not append {v} to {key} (or not alone)"))
    };
    match s.kind {
        EdgeKind::Version => {
            let (v1, v2) = (value(s, false)?, value(s, true)?);
            let (e1, e2) = (appended(a, v1, s.from)?, appended(b, v2, s.to)?);
            match (f.pos.get(&e1).copied(), f.pos.get(&e2).copied()) {
                (Some(p), Some(q)) if q == p + 1 => Ok(()),
                (Some(p), None) if p as usize + 1 == f.longest.len() => Ok(()),
                (None, _) => Err(format!("no committed read of {key} saw {v1}")),
                (Some(p), Some(q)) => Err(format!(
                    "the committed reads of {key} have {v2} at position {q}, not right after {v1} at {p}"
                )),
                (Some(_), None) => Err(format!(
                    "no read saw {v2}, but {v1} is not the last element any read of {key} saw (that is {})",
                    ctx.text(*f.longest.last().expect("p is a position in it"))
                )),
            }
        }
        EdgeKind::ReadsFrom => {
            let v = wr_value(ctx, b, s)?;
            let mops = ctx.mops(b);
            let read = (0..mops.len()).filter(|&j| mops[j].key == k && external(mops, j)).find_map(|j| {
                let last = *ctx.list(&mops[j]).last()?;
                (ctx.text(last) == v).then_some(last)
            });
            let Some(e) = read else {
                return Err(format!("T{} has no read of {key} (before its own appends) ending in {v}", s.to));
            };
            match f.unique_writer(e) {
                Some(w) if w.op == a => Ok(()),
                _ => Err(format!("{v} on {key} was not appended by T{} alone", s.from)),
            }
        }
        EdgeKind::AntiDependency => {
            if !ctx.ok(a) {
                return Err(format!("T{} did not complete :ok, so its reads returned nothing", s.from));
            }
            let e2 = appended(b, value(s, true)?, s.to)?;
            let next = f.pos.get(&e2).copied();
            let mops = ctx.mops(a);
            let lens = (0..mops.len()).filter(|&j| mops[j].key == k && external(mops, j)).filter_map(|j| {
                let list = ctx.list(&mops[j]);
                let fits = match (&s.value, list.last()) {
                    (None, None) => true,
                    (Some(v), Some(&e)) => ctx.text(e) == *v,
                    _ => false,
                };
                fits.then_some(list.len())
            });
            let mut saw = None;
            for len in lens {
                saw = Some(len);
                match next {
                    Some(q) if q as usize == len => return Ok(()),
                    None if len == f.longest.len() => return Ok(()),
                    _ => {}
                }
            }
            let up_to = s.value.as_deref().map_or("empty".to_string(), |v| format!("up to {v}"));
            Err(match (saw, next) {
                (None, _) => format!("T{} has no read of {key} (before its own appends) {up_to}", s.from),
                (Some(len), Some(q)) => format!(
                    "T{} read {len} elements of {key}, but {} is element {} of the committed reads, not the next",
                    s.from,
                    ctx.text(e2),
                    q + 1
                ),
                (Some(len), None) => format!(
                    "no read saw {}, but T{} read {len} of the {} elements of {key} reads saw, not all",
                    ctx.text(e2),
                    s.from,
                    f.longest.len()
                ),
            })
        }
        _ => unreachable!("data edges only"),
    }
}

/// rw-register edges, from the forced versions: wr from a value's writer to its readers, ww
/// from `v1`'s writer to `v2`'s when `v1` precedes `v2`, rw from a reader of `v1` (or `nil`) to
/// `v2`'s writer. Only an op's last write to a key is a version.
fn register_edge(ctx: &Ctx<'_>, f: &KeyFacts, k: u32, a: u32, b: u32, s: &CycleStep) -> Result<(), String> {
    let key = ctx.key_name(k);
    let wrote = |op: u32, v: &str, t: usize| {
        ctx.written(op, k, v)
            .filter(|&e| f.unique_writer(e).is_some_and(|w| w.op == op && w.last))
            .ok_or_else(|| format!("T{t} did not write {v} to {key} (alone, as its last write to it)"))
    };
    // What op's first micro-op on the key read, if it was a read.
    let first_read = |op: u32| ctx.mops(op).iter().find(|m| m.key == k).filter(|m| m.kind == MopKind::Read);
    let precedes = |e1: Elem, e2: Elem| e1 == NIL || f.versions.contains(&(e1, e2));
    match s.kind {
        EdgeKind::ReadsFrom => {
            let v = wr_value(ctx, b, s)?;
            let e = wrote(a, v, s.from)?;
            match first_read(b) {
                Some(m) if m.value == e => Ok(()),
                _ => Err(format!("T{}'s first micro-op on {key} is not a read of {v}", s.to)),
            }
        }
        EdgeKind::Version => {
            let (v1, v2) = (value(s, false)?, value(s, true)?);
            let (e1, e2) = (wrote(a, v1, s.from)?, wrote(b, v2, s.to)?);
            if precedes(e1, e2) {
                Ok(())
            } else {
                Err(format!("no committed transaction read {key} = {v1} and then wrote {v2}"))
            }
        }
        EdgeKind::AntiDependency => {
            if !ctx.ok(a) {
                return Err(format!("T{} did not complete :ok, so its reads returned nothing", s.from));
            }
            let v1 = s.value.as_deref();
            let e2 = wrote(b, value(s, true)?, s.to)?;
            let read = first_read(a).filter(|m| match v1 {
                None => m.value == NIL,
                Some(v) => m.value != NIL && ctx.text(m.value) == v,
            });
            let Some(m) = read else {
                return Err(format!(
                    "T{}'s first micro-op on {key} is not a read of {}",
                    s.from,
                    v1.unwrap_or("nil")
                ));
            };
            if precedes(m.value, e2) {
                Ok(())
            } else {
                Err(format!(
                    "nothing forces {} before {}: no committed transaction read the one and then wrote the other",
                    v1.unwrap_or("nil"),
                    ctx.text(e2)
                ))
            }
        }
        _ => unreachable!("data edges only"),
    }
}
