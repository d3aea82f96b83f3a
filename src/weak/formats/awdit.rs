//! AWDIT's test format: `r <key> <value>` / `w <key> <value>` lines, a line of `-` between
//! transactions, a line of `=` between sessions. No initial transaction: every value read must
//! be written by some transaction.

use super::{error, is_separator, lines, number};
use crate::history::ReadError;
use crate::weak::history::{Op, WeakBuilder, WeakHistory};

/// Parses one op line into (write, key, value); on failure, the byte range and what was
/// expected.
pub(super) fn parse_line(line: &str) -> Result<(bool, u64, u64), (usize, usize, &'static str)> {
    let mut at = 0;
    let mut fields = line.split_whitespace().map(|f| {
        let start = line[at..].find(f).map_or(at, |i| at + i);
        at = start + f.len();
        (start, f)
    });
    let write = match fields.next() {
        Some((_, "r")) => false,
        Some((_, "w")) => true,
        Some((s, f)) => return Err((s, f.len(), "r or w, a line of - or a line of =")),
        None => return Err((0, 1, "an op")),
    };
    let mut num = |what| match fields.next() {
        Some((s, f)) => number(f).ok_or((s, f.len(), what)),
        None => Err((line.len().saturating_sub(1), 1, what)),
    };
    let key = num("a key: a non-negative integer")?;
    let value = num("a value: a non-negative integer")?;
    if let Some((s, f)) = fields.next() {
        return Err((s, f.len(), "the end of the line after the value"));
    }
    Ok((write, key, value))
}

/// Reads an AWDIT test history.
pub(super) fn read(source: &str, input: &[u8]) -> Result<WeakHistory, ReadError> {
    let mut b = WeakBuilder::new(source, false);
    let mut open = false;
    for item in lines(source, input) {
        let (offset, number, text) = item?;
        let t = text.trim();
        if t.is_empty() {
            continue;
        }
        if is_separator(t, '=') {
            b.end_session();
            open = false;
            continue;
        }
        if is_separator(t, '-') {
            b.end_txn(true);
            open = false;
            continue;
        }
        let lead = text.len() - text.trim_start().len();
        let (write, key, value) = parse_line(t).map_err(|(at, len, expected)| {
            error(source, input, offset + lead + at, len, "not an AWDIT op", expected)
        })?;
        if !open {
            b.begin_txn(number);
            open = true;
        }
        let key = b.number_key(key);
        b.push(Op { key, write, value });
    }
    Ok(b.finish())
}
