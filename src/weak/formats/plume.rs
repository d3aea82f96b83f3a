//! Plume/PolySI/IsoVista text: one op per line, `r(key,value,session,txn)` or
//! `w(key,value,session,txn)`; transaction `-1` holds aborted writes (its reads are ignored);
//! an implicit initial transaction writes 0 to every key. A transaction's ops need not be
//! adjacent: sessions and transactions are ordered by their first appearance.

use super::{error, lines, number};
use crate::history::ReadError;
use crate::weak::history::{Op, WeakBuilder, WeakHistory};
use ahash::RandomState;
use hashbrown::HashMap;

/// One parsed line: read or write, key, value, session, transaction (-1: aborted).
pub(super) struct Line {
    write: bool,
    key: u64,
    value: u64,
    session: u64,
    txn: i64,
}

/// Parses one op line; on failure, the byte range within the line and what was expected.
pub(super) fn parse_line(line: &str) -> Result<Line, (usize, usize, &'static str)> {
    let write = match line.as_bytes().first() {
        Some(b'r') => false,
        Some(b'w') => true,
        _ => return Err((0, 1, "r( or w(")),
    };
    let inner = line[1..].trim_start();
    let open = line.len() - inner.len();
    let Some(inner) = inner.strip_prefix('(') else { return Err((open, 1, "(")) };
    let Some(inner) = inner.trim_end().strip_suffix(')') else {
        return Err((line.len() - 1, 1, "a closing )"));
    };
    let mut fields = [0i128; 4];
    let mut at = open + 1;
    let mut parts = inner.split(',');
    for (i, field) in fields.iter_mut().enumerate() {
        let Some(part) = parts.next() else { return Err((at, 1, "four comma-separated numbers")) };
        let t = part.trim();
        let parsed = if i == 3 && t == "-1" { Some(-1) } else { number(t).map(i128::from) };
        *field =
            parsed.ok_or((at, part.len(), "a non-negative integer (or -1 for an aborted transaction)"))?;
        at += part.len() + 1;
    }
    if parts.next().is_some() {
        return Err((at - 1, 1, "only four fields: key, value, session, transaction"));
    }
    let txn = i64::try_from(fields[3]).map_err(|_| (at, 1, "a transaction id that fits 64 bits"))?;
    Ok(Line { write, key: fields[0] as u64, value: fields[1] as u64, session: fields[2] as u64, txn })
}

/// Reads a Plume history.
pub(super) fn read(source: &str, input: &[u8]) -> Result<WeakHistory, ReadError> {
    // (transaction index, line number, op): collected, then laid out transaction by transaction.
    let mut ops: Vec<(u32, Op)> = Vec::new();
    let mut txn_of: HashMap<i64, (u32, u64), RandomState> = HashMap::default();
    let mut session_of: HashMap<u64, u32, RandomState> = HashMap::default();
    // Per transaction index: its session's index and its first line.
    let mut txns: Vec<(u32, u32)> = Vec::new();
    let mut b = WeakBuilder::new(source, true);
    let mut last: Option<(i64, u64, u32)> = None;
    for item in lines(source, input) {
        let (offset, number, text) = item?;
        let trimmed = text.trim();
        if trimmed.is_empty() {
            continue;
        }
        let lead = text.len() - text.trim_start().len();
        let l = parse_line(trimmed).map_err(|(at, len, expected)| {
            error(source, input, offset + lead + at, len, "not a Plume op", expected)
        })?;
        let op = Op { key: b.number_key(l.key), write: l.write, value: l.value };
        if l.txn == -1 {
            if l.write {
                b.aborted_write(op.key, op.value);
            }
            continue;
        }
        // A transaction's ops are usually adjacent: the last line's transaction saves two lookups.
        if let Some((txn, session, t)) = last {
            if txn == l.txn && session == l.session {
                ops.push((t, op));
                continue;
            }
        }
        let sessions = session_of.len() as u32;
        let session = *session_of.entry(l.session).or_insert(sessions);
        let next = txns.len() as u32;
        let &mut (t, s) = txn_of.entry(l.txn).or_insert((next, l.session));
        last = Some((l.txn, l.session, t));
        if s != l.session {
            let message = format!("transaction {} appears in sessions {s} and {}", l.txn, l.session);
            return Err(error(
                source,
                input,
                offset + lead,
                trimmed.len(),
                &message,
                "one session per transaction",
            ));
        }
        if t == next {
            txns.push((session, number));
        }
        ops.push((t, op));
    }
    lay_out(b, &txns, ops)
}

/// Builds the history: sessions in order of first appearance, each one's transactions in order
/// of first appearance, each transaction's ops in file order.
fn lay_out(
    mut b: WeakBuilder,
    txns: &[(u32, u32)],
    mut ops: Vec<(u32, Op)>,
) -> Result<WeakHistory, ReadError> {
    let mut order: Vec<u32> = (0..txns.len() as u32).collect();
    order.sort_by_key(|&t| (txns[t as usize].0, t));
    let mut rank = vec![0u32; txns.len()];
    for (r, &t) in order.iter().enumerate() {
        rank[t as usize] = r as u32;
    }
    ops.sort_by_key(|&(t, _)| rank[t as usize]);
    let mut i = 0;
    let mut session = None;
    for &t in &order {
        let (s, line) = txns[t as usize];
        if session.is_some_and(|p| p != s) {
            b.end_session();
        }
        session = Some(s);
        b.begin_txn(line);
        while i < ops.len() && ops[i].0 == t {
            b.push(ops[i].1);
            i += 1;
        }
    }
    Ok(b.finish())
}
