//! dbcop's histories: its JSON (`{"params":…, "data":[sessions[transactions{"events":[…],
//! "success"|"committed":bool}]]}`, each event `{"write":bool, "variable":n, "value":n,
//! "success":bool}`) and its `.hist` text (one transaction per `[...]`, events `x:=1` for a
//! write and `x==1` for a read, a line of `-` between sessions). An implicit initial
//! transaction writes 0 to every key. A failed write, or a write of a transaction that did not
//! commit, is an aborted write; a failed read is ignored (as AWDIT reads dbcop's histories).

use super::{error, is_separator, lines, number};
use crate::history::ReadError;
use crate::weak::history::{Op, WeakBuilder, WeakHistory};
use serde::Deserialize;

#[derive(Deserialize)]
struct Json {
    data: Vec<Vec<JsonTxn>>,
}

#[derive(Deserialize)]
struct JsonTxn {
    events: Vec<JsonEvent>,
    #[serde(alias = "committed")]
    success: bool,
}

#[derive(Deserialize)]
struct JsonEvent {
    write: bool,
    variable: u64,
    value: u64,
    #[serde(default = "yes")]
    success: bool,
}

fn yes() -> bool {
    true
}

/// Reads dbcop's JSON history.
pub(super) fn read_json(source: &str, input: &[u8]) -> Result<WeakHistory, ReadError> {
    let json: Json = serde_json::from_slice(input).map_err(|e| {
        let offset = offset_of(input, e.line(), e.column());
        let message = format!("not a dbcop JSON history: {e}");
        error(
            source,
            input,
            offset,
            1,
            &message,
            "{\"data\": [[{\"events\": [...], \"success\": true}, ...], ...]}",
        )
    })?;
    let mut b = WeakBuilder::new(source, true);
    for session in &json.data {
        for txn in session {
            b.begin_txn(0);
            for e in &txn.events {
                let key = b.number_key(e.variable);
                match (e.write, e.success && txn.success) {
                    (true, true) => b.push(Op { key, write: true, value: e.value }),
                    (true, false) => b.aborted_write(key, e.value),
                    (false, true) => b.push(Op { key, write: false, value: e.value }),
                    (false, false) => {}
                }
            }
            // The aborted transaction's writes are already recorded as aborted.
            b.end_txn(txn.success);
        }
        b.end_session();
    }
    Ok(b.finish())
}

/// The byte offset of 1-based `line` and `column` (serde_json's position) in `input`.
fn offset_of(input: &[u8], line: usize, column: usize) -> usize {
    let start: usize = input.split(|&b| b == b'\n').take(line.saturating_sub(1)).map(|l| l.len() + 1).sum();
    (start + column.saturating_sub(1)).min(input.len())
}

/// Parses one `.hist` event: (key, write, value); on failure, what was expected.
pub(super) fn parse_event(event: &str) -> Result<(&str, bool, u64), &'static str> {
    let (key, write, value) = if let Some((k, v)) = event.split_once(":=") {
        (k, true, v)
    } else if let Some((k, v)) = event.split_once("==") {
        (k, false, v)
    } else {
        return Err("an event: key:=value (a write) or key==value (a read)");
    };
    let ident = !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !ident {
        return Err("a key: letters, digits or _");
    }
    Ok((key, write, number(value).ok_or("a value: a non-negative integer")?))
}

/// Reads dbcop's `.hist` text.
pub(super) fn read_hist(source: &str, input: &[u8]) -> Result<WeakHistory, ReadError> {
    let mut b = WeakBuilder::new(source, true);
    for item in lines(source, input) {
        let (offset, number, text) = item?;
        let t = text.trim();
        if t.is_empty() {
            continue;
        }
        if is_separator(t, '-') {
            b.end_session();
            continue;
        }
        let mut rest = text;
        let mut at = offset;
        let fail = |pos: usize, len: usize, expected: &str| {
            error(source, input, pos, len, "not a dbcop transaction", expected)
        };
        while !rest.trim().is_empty() {
            let lead = rest.len() - rest.trim_start().len();
            let body = rest.trim_start();
            let Some(body) = body.strip_prefix('[') else {
                return Err(fail(at + lead, 1, "[ to open a transaction"));
            };
            let Some(close) = body.find(']') else {
                return Err(fail(at + lead, body.len() + 1, "] to close the transaction"));
            };
            b.begin_txn(number);
            let mut pos = at + lead + 1;
            for part in body[..close].split(' ') {
                if !part.is_empty() {
                    let (key, write, value) = parse_event(part).map_err(|exp| fail(pos, part.len(), exp))?;
                    let key = b.name_key(key);
                    b.push(Op { key, write, value });
                }
                pos += part.len() + 1;
            }
            b.end_txn(true);
            at += lead + close + 2;
            rest = &body[close + 1..];
        }
    }
    Ok(b.finish())
}
