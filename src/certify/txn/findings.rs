//! Anomalies without a cycle: each one's defining fact, re-derived from the micro-ops of the
//! transactions it cites (and, where the fact is about a key's reads, from the key's facts).

use super::Ctx;
use super::facts::KeyFacts;
use crate::history::Outcome;
use crate::txn::ops::{Elem, Mop, MopKind, NIL};
use crate::txn::{TxnAnomaly, Workload};

/// Certifies an anomaly that is not a cycle.
pub(super) fn certify(ctx: &Ctx<'_>, a: &TxnAnomaly) -> Result<(), String> {
    if a.cycle.is_some() {
        return Err(format!("a {} anomaly is not a cycle, but it has edges", a.kind));
    }
    let ops: Vec<u32> = a.txns.iter().map(|r| r.position).collect();
    let cites = |n: usize| {
        if ops.len() == n {
            Ok(())
        } else {
            Err(format!("a {} anomaly cites {n} transaction(s), this one {}", a.kind, ops.len()))
        }
    };
    let list = ctx.list_workload();
    let fact = match a.kind.as_str() {
        "G1a" => cites(2).and_then(|()| on_key(ctx, a, &ops, |k, f| aborted_read(ctx, f, k, ops[0], ops[1]))),
        "G1b" => {
            cites(2).and_then(|()| on_key(ctx, a, &ops, |k, f| intermediate_read(ctx, f, k, ops[0], ops[1])))
        }
        "dirty-update" if list => {
            cites(2).and_then(|()| on_key(ctx, a, &ops, |_, f| dirty_update(ctx, f, ops[0], ops[1])))
        }
        "garbage-read" => {
            cites(1).and_then(|()| on_key(ctx, a, &ops, |k, f| garbage_read(ctx, f, k, ops[0])))
        }
        "duplicate-elements" if list => {
            cites(1).and_then(|()| on_key(ctx, a, &ops, |k, f| duplicate(ctx, f, k, ops[0])))
        }
        "incompatible-order" if list && ops.len() == 2 => {
            on_key(ctx, a, &ops, |k, _| incompatible_reads(ctx, k, ops[0], ops[1]))
        }
        "incompatible-order" if list => {
            cites(1).and_then(|()| on_key(ctx, a, &ops, |k, f| own_order(ctx, f, k, ops[0])))
        }
        "internal" => cites(1).and_then(|()| internal(ctx, ops[0])),
        "future-read" => cites(1).and_then(|()| on_key(ctx, a, &ops, |k, _| future_read(ctx, k, ops[0]))),
        "lost-update" => on_key(ctx, a, &ops, |k, _| lost_update(ctx, k, &ops)),
        "cyclic-versions" if !list => cites(0).and_then(|()| on_key(ctx, a, &ops, |_, f| cyclic_versions(f))),
        other => Err(format!(
            "{other} is not an anomaly type of {} this certifier knows, so nothing vouches for it",
            ctx.t.workload.name()
        )),
    };
    fact?;
    mentions(ctx, a, &ops)
}

/// The explanation must name every transaction cited, and the key.
fn mentions(ctx: &Ctx<'_>, a: &TxnAnomaly, ops: &[u32]) -> Result<(), String> {
    let text = a.explanation.join("\n");
    if !text.starts_with(a.kind.as_str()) && !text.starts_with(&a.kind.as_str().replace('-', " ")) {
        return Err(format!("the explanation {text:?} does not begin with its type"));
    }
    for &op in ops {
        let o = ctx.op(op);
        let name = format!("index {} (process {}", o.invoke_index, o.process);
        if !text.contains(&name) {
            return Err(format!("the explanation {text:?} does not name the transaction with {name})"));
        }
    }
    match &a.key {
        Some(k) if !text.contains(k.as_str()) => {
            Err(format!("the explanation {text:?} does not name the key {k}"))
        }
        _ => Ok(()),
    }
}

/// Runs `check` on the key the anomaly names (any key of that name the cited transactions
/// touch, or for an anomaly citing none, any key of that name).
fn on_key(
    ctx: &Ctx<'_>,
    a: &TxnAnomaly,
    ops: &[u32],
    check: impl Fn(u32, &KeyFacts) -> Result<(), String>,
) -> Result<(), String> {
    let Some(name) = &a.key else {
        return Err(format!("a {} anomaly that names no key", a.kind));
    };
    let keys = if ops.is_empty() {
        (0..ctx.t.key_count() as u32).filter(|&k| ctx.key_name(k) == *name).collect()
    } else {
        ctx.keys_named(name, ops)
    };
    let mut why = format!("no transaction it cites touches {name}");
    for k in keys {
        match check(k, ctx.facts(k)?) {
            Ok(()) => return Ok(()),
            Err(w) => why = w,
        }
    }
    Err(why)
}

fn must_be_ok(ctx: &Ctx<'_>, op: u32) -> Result<(), String> {
    if ctx.ok(op) {
        Ok(())
    } else {
        Err(format!(
            "the transaction with index {} did not complete :ok, so its reads returned nothing",
            ctx.index(op)
        ))
    }
}

/// `op`'s reads of key `k`, with their positions among its micro-ops.
fn reads_of<'a>(ctx: &Ctx<'a>, op: u32, k: u32) -> impl Iterator<Item = (usize, &'a Mop)> + 'a {
    ctx.mops(op).iter().enumerate().filter(move |(_, m)| m.key == k && m.kind == MopKind::Read)
}

/// The values a read saw: a list's elements, or a register's value (none for nil).
fn seen<'a>(ctx: &Ctx<'a>, m: &'a Mop) -> &'a [Elem] {
    if ctx.list_workload() {
        ctx.list(m)
    } else if m.value == NIL {
        &[]
    } else {
        std::slice::from_ref(&m.value)
    }
}

/// G1a: a committed read of the key saw a value that only `writer`, which failed, wrote.
fn aborted_read(ctx: &Ctx<'_>, f: &KeyFacts, k: u32, reader: u32, writer: u32) -> Result<(), String> {
    must_be_ok(ctx, reader)?;
    if ctx.outcome(writer) != Outcome::Fail {
        return Err(format!("the transaction with index {} did not fail", ctx.index(writer)));
    }
    let hit = reads_of(ctx, reader, k)
        .flat_map(|(_, m)| seen(ctx, m))
        .any(|&e| f.unique_writer(e).is_some_and(|w| w.op == writer));
    if hit {
        Ok(())
    } else {
        Err("no read of the reader saw a value the failed transaction alone wrote".into())
    }
}

/// G1b: a committed read ended with (read, for registers) a value that `writer` overwrote
/// within itself.
fn intermediate_read(ctx: &Ctx<'_>, f: &KeyFacts, k: u32, reader: u32, writer: u32) -> Result<(), String> {
    must_be_ok(ctx, reader)?;
    if reader == writer {
        return Err("the reader and the writer are the same transaction".into());
    }
    let hit = reads_of(ctx, reader, k)
        .filter_map(|(_, m)| seen(ctx, m).last())
        .any(|&e| f.unique_writer(e).is_some_and(|w| w.op == writer && !w.last));
    if hit {
        Ok(())
    } else {
        Err("no read of the reader ends with a value the writer alone wrote and then wrote over".into())
    }
}

/// dirty-update: a committed read of the key shows `committed`'s append after `failed`'s,
/// with only appends of transactions that did not commit between them.
fn dirty_update(ctx: &Ctx<'_>, f: &KeyFacts, failed: u32, committed: u32) -> Result<(), String> {
    if ctx.outcome(failed) != Outcome::Fail || ctx.outcome(committed) != Outcome::Ok {
        return Err(format!(
            "it needs a failed then a committed transaction; index {} is {}, index {} {}",
            ctx.index(failed),
            ctx.outcome(failed).name(),
            ctx.index(committed),
            ctx.outcome(committed).name()
        ));
    }
    let writer = |e: &Elem| f.unique_writer(*e).map(|w| w.op);
    let shows = |list: &[Elem]| {
        let mut after_failed = false;
        for e in list {
            match writer(e) {
                Some(op) if op == committed && after_failed => return true,
                Some(op) if op == failed => after_failed = true,
                Some(op) if ctx.ok(op) => after_failed = false,
                _ => {}
            }
        }
        false
    };
    if f.reads.iter().any(|&(_, m)| shows(ctx.list(&ctx.t.mops[m as usize]))) {
        Ok(())
    } else {
        Err("no committed read shows the committed append right after the failed one".into())
    }
}

/// garbage-read: a committed read saw a value nobody appended or wrote to the key.
fn garbage_read(ctx: &Ctx<'_>, f: &KeyFacts, k: u32, reader: u32) -> Result<(), String> {
    must_be_ok(ctx, reader)?;
    if reads_of(ctx, reader, k).flat_map(|(_, m)| seen(ctx, m)).any(|e| !f.writers.contains_key(e)) {
        Ok(())
    } else {
        Err("every value its reads of the key saw was written by some transaction".into())
    }
}

/// duplicate-elements: a committed read holds an element twice that was appended at most once.
fn duplicate(ctx: &Ctx<'_>, f: &KeyFacts, k: u32, reader: u32) -> Result<(), String> {
    must_be_ok(ctx, reader)?;
    let twice = |list: &[Elem]| {
        let mut sorted = list.to_vec();
        sorted.sort_unstable();
        sorted.windows(2).any(|w| w[0] == w[1] && f.writers.get(&w[0]).is_none_or(|x| x.count <= 1))
    };
    if reads_of(ctx, reader, k).any(|(_, m)| twice(ctx.list(m))) {
        Ok(())
    } else {
        Err("no read of the key holds an element twice that was appended once".into())
    }
}

/// incompatible-order: a read of each of two transactions, neither list a prefix of the other.
fn incompatible_reads(ctx: &Ctx<'_>, k: u32, a: u32, b: u32) -> Result<(), String> {
    must_be_ok(ctx, a)?;
    must_be_ok(ctx, b)?;
    for (i, m) in reads_of(ctx, a, k) {
        for (j, n) in reads_of(ctx, b, k) {
            if a == b && i == j {
                continue;
            }
            let (x, y) = (ctx.list(m), ctx.list(n));
            let len = x.len().min(y.len());
            if x[..len] != y[..len] {
                return Ok(());
            }
        }
    }
    Err("every read of the key by the one is a prefix of every read by the other, or the other way".into())
}

/// incompatible-order (a transaction's own appends): it appended `e1` and then `e2`, but a
/// committed read shows `e2` without `e1` before it.
fn own_order(ctx: &Ctx<'_>, f: &KeyFacts, k: u32, op: u32) -> Result<(), String> {
    let mops = ctx.mops(op);
    let mine = |e: Elem| f.unique_writer(e).is_some_and(|w| w.op == op);
    let appends: Vec<Elem> = mops
        .iter()
        .filter(|m| m.key == k && m.kind == MopKind::Append && mine(m.value))
        .map(|m| m.value)
        .collect();
    for &(_, r) in &f.reads {
        let list = ctx.list(&ctx.t.mops[r as usize]);
        for (j, &e2) in appends.iter().enumerate().skip(1) {
            if let Some(q) = list.iter().position(|&e| e == e2) {
                if appends[..j].iter().any(|e1| !list[..q].contains(e1)) {
                    return Ok(());
                }
            }
        }
    }
    Err("every committed read of the key shows its appends in the order it made them".into())
}

/// internal: a read that differs from what the transaction's own earlier reads and writes of
/// the key imply.
fn internal(ctx: &Ctx<'_>, op: u32) -> Result<(), String> {
    must_be_ok(ctx, op)?;
    let mops = ctx.mops(op);
    let bad = if ctx.t.workload == Workload::ListAppend {
        // Per key: the whole list, once read; before that, what was appended.
        let mut state: Vec<(u32, Option<Vec<Elem>>, Vec<Elem>)> = Vec::new();
        mops.iter().any(|m| {
            let at = match state.iter().position(|s| s.0 == m.key) {
                Some(at) => at,
                None => {
                    state.push((m.key, None, Vec::new()));
                    state.len() - 1
                }
            };
            let (_, known, tail) = &mut state[at];
            match (m.kind, known) {
                (MopKind::Append, Some(list)) => list.push(m.value),
                (MopKind::Append, None) => tail.push(m.value),
                (_, known) => {
                    let got = ctx.list(m);
                    let fits = match known {
                        Some(list) => got == list.as_slice(),
                        None => got.ends_with(tail),
                    };
                    if !fits {
                        return true;
                    }
                    *known = Some(got.to_vec());
                }
            }
            false
        })
    } else {
        mops.iter().enumerate().any(|(j, m)| {
            m.kind == MopKind::Read
                && mops[..j].iter().rev().find(|p| p.key == m.key).is_some_and(|p| p.value != m.value)
        })
    };
    if bad {
        Ok(())
    } else {
        Err("every read agrees with the transaction's own earlier reads and writes".into())
    }
}

/// future-read: a committed read saw a value the transaction itself appends or writes only
/// later.
fn future_read(ctx: &Ctx<'_>, k: u32, op: u32) -> Result<(), String> {
    must_be_ok(ctx, op)?;
    let mops = ctx.mops(op);
    let writes =
        |range: &[Mop], e: Elem| range.iter().any(|w| w.key == k && w.kind != MopKind::Read && w.value == e);
    let hit = reads_of(ctx, op, k)
        .any(|(j, m)| seen(ctx, m).iter().any(|&e| writes(&mops[j + 1..], e) && !writes(&mops[..j], e)));
    if hit { Ok(()) } else { Err("no read of the key saw a value the transaction writes only later".into()) }
}

/// lost-update: committed transactions whose first micro-op on the key read the same version,
/// each of which then appended or wrote the key.
fn lost_update(ctx: &Ctx<'_>, k: u32, ops: &[u32]) -> Result<(), String> {
    let mut distinct = ops.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < 2 || distinct.len() != ops.len() {
        return Err("a lost update needs two distinct transactions or more".into());
    }
    let mut version: Option<&[Elem]> = None;
    for &op in ops {
        must_be_ok(ctx, op)?;
        let mops = ctx.mops(op);
        let Some(j) = mops.iter().position(|m| m.key == k) else {
            return Err(format!("the transaction with index {} does not touch the key", ctx.index(op)));
        };
        let first = &mops[j];
        if first.kind != MopKind::Read || !mops[j + 1..].iter().any(|m| m.key == k && m.kind != MopKind::Read)
        {
            return Err(format!(
                "the transaction with index {} does not read the key first and then write it",
                ctx.index(op)
            ));
        }
        let read = if ctx.list_workload() { ctx.list(first) } else { std::slice::from_ref(&first.value) };
        if version.is_some_and(|v| v != read) {
            return Err("the transactions read different versions of the key".into());
        }
        version = Some(read);
    }
    Ok(())
}

/// cyclic-versions: the versions the reads force on a register form a cycle.
fn cyclic_versions(f: &KeyFacts) -> Result<(), String> {
    if f.cyclic { Ok(()) } else { Err("the versions the reads force on the key form no cycle".into()) }
}
