//! The long-fork check: decode the transactions, refuse what Jepsen's checker refuses (a key
//! written twice: unknown; a read of the wrong group size: bad input), then compare, per group
//! of keys, the distinct views the reads had.

use super::{Fork, LongForkAnomaly, LongForkOptions, LongForkReport, MAX_FORKS};
use crate::history::{History, Op, Outcome, Value};
use crate::outcome::{DecodeFailure, Verdict};
use ahash::AHashMap;
use std::collections::BTreeMap;

/// A read transaction that completed `:ok`: its keys, sorted, and the value read of each.
struct Read {
    op: u32,
    keys: Vec<Value>,
    values: Vec<Value>,
}

fn fail(op: &Op, line: u32, message: String) -> DecodeFailure {
    DecodeFailure { line, index: op.invoke_index, message }
}

/// The micro-ops `[f k v]` of a transaction value, `f` one of `r`, `w`.
fn mops<'h>(
    op: &Op,
    line: u32,
    value: &'h Value,
) -> Result<Vec<(&'h str, &'h Value, &'h Value)>, DecodeFailure> {
    let bad = || {
        fail(op, line, format!("a long-fork txn is a write [[:w k v]] or a read [[:r k v] ...], got {value}"))
    };
    let seq = value.as_seq().filter(|s| !s.is_empty()).ok_or_else(bad)?;
    seq.iter()
        .map(|m| match m.as_seq() {
            Some([f, k, v]) => match f.as_name() {
                Some(f @ ("r" | "w")) => Ok((f, k, v)),
                _ => Err(bad()),
            },
            _ => Err(bad()),
        })
        .collect()
}

/// The history's writes (per key: op and value) and its `:ok` reads.
type Decoded<'h> = (BTreeMap<&'h Value, Vec<(u32, &'h Value)>>, Vec<Read>);

fn decode(history: &History) -> Result<Decoded<'_>, DecodeFailure> {
    let mut writes: BTreeMap<&Value, Vec<(u32, &Value)>> = BTreeMap::new();
    let mut reads = Vec::new();
    for (pos, op) in history.ops.iter().enumerate() {
        let f = history.f_name(op);
        if f != "txn" {
            return Err(fail(op, op.invoke_line, format!("a long-fork history has :txn ops, not :{f}")));
        }
        let invoked = mops(op, op.invoke_line, history.value(op.input))?;
        match invoked.as_slice() {
            [("w", k, v)] => writes.entry(*k).or_default().push((pos as u32, *v)),
            m if m.iter().all(|(f, _, _)| *f == "r") => {
                if op.outcome == Outcome::Ok {
                    reads.push(read(op, pos as u32, mops(op, op.complete_line, history.value(op.output))?)?);
                }
            }
            _ => {
                return Err(fail(
                    op,
                    op.invoke_line,
                    format!("a long-fork txn is one write or only reads, got {}", history.value(op.input)),
                ));
            }
        }
    }
    Ok((writes, reads))
}

fn read(op: &Op, pos: u32, m: Vec<(&str, &Value, &Value)>) -> Result<Read, DecodeFailure> {
    let mut kv: Vec<(Value, Value)> = Vec::with_capacity(m.len());
    for (f, k, v) in m {
        if f != "r" {
            return Err(fail(op, op.complete_line, "a read txn completed with a write".to_string()));
        }
        kv.push((k.clone(), v.clone()));
    }
    kv.sort();
    kv.dedup_by(|a, b| a.0 == b.0);
    let (keys, values) = kv.into_iter().unzip();
    Ok(Read { op: pos, keys, values })
}

/// Checks `history` for long forks.
pub fn check(history: &History, options: &LongForkOptions) -> Result<LongForkReport, DecodeFailure> {
    let (writes, reads) = decode(history)?;
    let n = group_size(history, &reads, options)?;
    let mut counts = BTreeMap::new();
    counts.insert("read-count".to_string(), reads.len());
    counts.insert("write-count".to_string(), writes.values().map(Vec::len).sum());
    counts.insert("group-size".to_string(), n);
    let unknown = |counts, note: String| LongForkReport {
        valid: Verdict::Unknown,
        anomalies: Vec::new(),
        counts,
        notes: vec![note],
    };
    if let Some((k, ws)) = writes.iter().find(|(_, ws)| ws.len() > 1) {
        let at: Vec<String> =
            ws.iter().map(|(p, _)| history.ops[*p as usize].invoke_index.to_string()).collect();
        return Ok(unknown(
            counts,
            format!(
                "key {k} is written more than once (ops at index {}): long forks are only defined when each key is written once",
                at.join(", ")
            ),
        ));
    }
    if let Some(note) = unwritten_value(history, &writes, &reads) {
        return Ok(unknown(counts, note));
    }
    let mut groups: BTreeMap<&[Value], Vec<&Read>> = BTreeMap::new();
    for r in &reads {
        groups.entry(&r.keys).or_default().push(r);
    }
    counts.insert("group-count".to_string(), groups.len());
    let mut anomalies = Vec::new();
    let mut notes = Vec::new();
    for rs in groups.values() {
        forks(history, &writes, rs, &mut anomalies);
    }
    if anomalies.len() >= MAX_FORKS {
        anomalies.truncate(MAX_FORKS);
        notes.push(format!("stopped after {MAX_FORKS} forks: fork-count is a lower bound"));
    }
    counts.insert("fork-count".to_string(), anomalies.len());
    let valid = if !anomalies.is_empty() {
        Verdict::Invalid
    } else if reads.is_empty() {
        notes.push("no read transaction completed :ok: nothing was compared".to_string());
        Verdict::Unknown
    } else {
        Verdict::Valid
    };
    Ok(LongForkReport { valid, anomalies, counts, notes })
}

/// The group size: given, or the first read's; every read must read that many keys.
fn group_size(history: &History, reads: &[Read], options: &LongForkOptions) -> Result<usize, DecodeFailure> {
    let Some(first) = reads.first() else { return Ok(options.group_size.unwrap_or(0)) };
    let first_op = &history.ops[first.op as usize];
    let (n, why) = match options.group_size {
        Some(n) => (n, "--group-size".to_string()),
        None => (first.keys.len(), format!("as the first read's, at line {}", first_op.complete_line)),
    };
    match reads.iter().find(|r| r.keys.len() != n) {
        Some(r) => {
            let op = &history.ops[r.op as usize];
            Err(fail(
                op,
                op.complete_line,
                format!(
                    "every read should read the {n} keys of one group (the group size, {why}); this one reads {}: {}",
                    r.keys.len(),
                    history.value(op.output)
                ),
            ))
        }
        None => Ok(n),
    }
}

/// Why no fork can be claimed when some read saw a value that the key's one write did not
/// write (or a key no txn wrote): Jepsen's checker stops there too.
fn unwritten_value(
    history: &History,
    writes: &BTreeMap<&Value, Vec<(u32, &Value)>>,
    reads: &[Read],
) -> Option<String> {
    for r in reads {
        for (k, v) in r.keys.iter().zip(&r.values) {
            if v.is_nil() || writes.get(k).is_some_and(|w| w[0].1 == v) {
                continue;
            }
            let at = history.ops[r.op as usize].invoke_index;
            return Some(format!(
                "the read at index {at} saw key {k} = {v}, which no write of {k} wrote: its order among the writes is unknown"
            ));
        }
    }
    None
}

/// The forks among one group's reads: one per pair of distinct, non-nested views.
fn forks(
    history: &History,
    writes: &BTreeMap<&Value, Vec<(u32, &Value)>>,
    reads: &[&Read],
    out: &mut Vec<LongForkAnomaly>,
) {
    // Each distinct view (the positions of the keys seen written) and its first read.
    let mut views: Vec<(Vec<u16>, &Read)> = Vec::new();
    let mut seen: AHashMap<Vec<u16>, ()> = AHashMap::new();
    for r in reads {
        let view: Vec<u16> =
            (0..r.values.len()).filter(|&i| !r.values[i].is_nil()).map(|i| i as u16).collect();
        if seen.insert(view.clone(), ()).is_none() {
            views.push((view, r));
        }
    }
    for (i, (a, ra)) in views.iter().enumerate() {
        for (b, rb) in &views[i + 1..] {
            if out.len() >= MAX_FORKS {
                return;
            }
            let only_a = a.iter().find(|x| b.binary_search(x).is_err());
            let only_b = b.iter().find(|y| a.binary_search(y).is_err());
            if let (Some(&x), Some(&y)) = (only_a, only_b) {
                let (kx, ky) = (&ra.keys[x as usize], &ra.keys[y as usize]);
                let fork = Fork {
                    reads: [ra.op, rb.op],
                    keys: [kx.clone(), ky.clone()],
                    writes: [writes[kx][0].0, writes[ky][0].0],
                };
                out.push(LongForkAnomaly { explanation: explain(history, &fork), fork });
            }
        }
    }
}

fn explain(history: &History, f: &Fork) -> String {
    let at = |p: u32| history.ops[p as usize].invoke_index;
    let [x, y] = &f.keys;
    format!(
        "long fork: the read at index {} saw {x} written (by the txn at index {}) and {y} not; the read at index {} saw {y} written (by the txn at index {}) and {x} not: they saw the two writes in opposite orders, which snapshot isolation forbids",
        at(f.reads[0]),
        at(f.writes[0]),
        at(f.reads[1]),
        at(f.writes[1])
    )
}
