//! Readers for the research community's history formats: Plume/PolySI/IsoVista text, AWDIT's
//! test format, dbcop's JSON and `.hist` text. Each gives a [`WeakHistory`]; bad input is a
//! [`ReadError`] with file, line, column, the offending text and what was expected.
//!
//! Cobra's binary client logs are not read: see docs/weak-isolation.md.

mod awdit;
mod dbcop;
mod plume;

use super::history::WeakHistory;
use crate::history::{ErrorKind, Problem, ReadError};

pub use crate::history::WeakFormat;

/// Reads `input` (from `source`, which names it in errors) in `format`.
pub fn read_bytes(source: &str, input: &[u8], format: WeakFormat) -> Result<WeakHistory, ReadError> {
    let input = crate::history::skip_bom(input);
    match format {
        WeakFormat::Plume => plume::read(source, input),
        WeakFormat::Awdit => awdit::read(source, input),
        WeakFormat::Dbcop if first_byte(input) == Some(b'{') => dbcop::read_json(source, input),
        WeakFormat::Dbcop => dbcop::read_hist(source, input),
    }
}

fn first_byte(input: &[u8]) -> Option<u8> {
    input.iter().copied().find(|b| !b.is_ascii_whitespace())
}

/// The research format `input` is in, when its first lines leave no doubt: a Plume op, an
/// AWDIT op line (`r 1 2`), a dbcop transaction (`[x:=1`) or a dbcop JSON history (an object
/// whose first key is `"params"`, `"info"` or `"data"`).
pub fn sniff(input: &[u8]) -> Option<WeakFormat> {
    let input = crate::history::skip_bom(input);
    let head = &input[..input.len().min(4096)];
    let text = String::from_utf8_lossy(head);
    let trimmed = text.trim_start();
    if let Some(after) = trimmed.strip_prefix('{') {
        let after = after.trim_start();
        let dbcop = ["\"params\"", "\"info\"", "\"data\""].iter().any(|k| after.starts_with(k));
        return dbcop.then_some(WeakFormat::Dbcop);
    }
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !is_separator(l, '-') && !is_separator(l, '='))?;
    if plume::parse_line(line).is_ok() {
        return Some(WeakFormat::Plume);
    }
    if awdit::parse_line(line).is_ok() {
        return Some(WeakFormat::Awdit);
    }
    let dbcop_txn = line.starts_with('[')
        && line[1..].split([' ', ']']).next().is_some_and(|e| dbcop::parse_event(e).is_ok());
    dbcop_txn.then_some(WeakFormat::Dbcop)
}

/// Whether `line` is made only of `c` (at least one).
fn is_separator(line: &str, c: char) -> bool {
    !line.is_empty() && line.chars().all(|x| x == c)
}

/// The lines of `input` with their byte offsets and 1-based numbers, as text (invalid UTF-8 is
/// an error at its line).
fn lines<'a>(
    source: &'a str,
    input: &'a [u8],
) -> impl Iterator<Item = Result<(usize, u32, &'a str), ReadError>> + 'a {
    let mut offset = 0;
    input.split(|&b| b == b'\n').enumerate().map(move |(i, raw)| {
        let at = offset;
        offset += raw.len() + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        std::str::from_utf8(raw).map(|s| (at, (i + 1) as u32, s)).map_err(|e| {
            let bad = at + e.valid_up_to();
            error(source, input, bad, 1, "invalid UTF-8", "text")
        })
    })
}

/// A syntax error at `offset..offset + len` of `input`.
fn error(source: &str, input: &[u8], offset: usize, len: usize, message: &str, expected: &str) -> ReadError {
    ReadError::locate(source, input, Problem::new(ErrorKind::Syntax, offset, len.max(1), message, expected))
}

/// Parses a value or key number: decimal digits, fitting in 64 bits.
fn number(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}
