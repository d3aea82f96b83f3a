//! The Jepsen text-log reader: `history.txt` lines (`3 :invoke :cas [2 4]`) and the
//! `jepsen.log` lines that carry the same fields after `jepsen.util - `
//! (`INFO  jepsen.util - 3 :invoke :cas [2 4]`). Fields are separated by tabs or runs of
//! spaces; the value is EDN and may itself contain spaces.
//!
//! A full `jepsen.log` also holds lines that are not operations (test setup, stack traces).
//! Those are skipped, counted, and reported as one warning, never dropped silently; a line that
//! looks like an operation but does not parse is an error.

use super::builder::HistoryBuilder;
use super::edn::parse_value_at;
use super::error::{ErrorKind, Problem, ReadError};
use super::event::{Event, EventKind, Process};
use super::value::Value;
use std::sync::Arc;

const MARKER: &[u8] = b"jepsen.util - ";

/// Reads every event of a text log into `builder`.
pub fn read(file: &str, input: &[u8], builder: &mut HistoryBuilder) -> Result<(), ReadError> {
    let mut skipped = 0usize;
    let mut first_skipped = 0u32;
    let mut offset = 0usize;
    for (n, raw) in input.split(|&b| b == b'\n').enumerate() {
        let line_no = u32::try_from(n + 1).unwrap_or(u32::MAX);
        let line_start = offset;
        offset += raw.len() + 1;
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        let body_start = match find(line, MARKER) {
            Some(i) => i + MARKER.len(),
            // Without the marker, a line is an op when its second field is a keyword (the type).
            None if is_op_shaped(line) => 0,
            None if line.iter().all(u8::is_ascii_whitespace) => continue,
            None => {
                if skipped == 0 {
                    first_skipped = line_no;
                }
                skipped += 1;
                continue;
            }
        };
        let event = parse_line(input, line_start, line_start + line.len(), line_start + body_start, line_no)
            .map_err(|p| ReadError::locate(file, input, p))?;
        builder.push(event).map_err(|p| ReadError::locate(file, input, p))?;
    }
    if skipped > 0 {
        builder.warn(
            first_skipped,
            format!("skipped {skipped} line(s) that are not operations (the first is line {first_skipped})"),
        );
    }
    Ok(())
}

fn is_op_shaped(line: &[u8]) -> bool {
    field(line, 0, line.len())
        .and_then(|(_, end)| field(line, end, line.len()))
        .is_some_and(|(start, _)| line[start] == b':')
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The next whitespace-separated field at or after `pos` (before `end`): its start and end.
fn field(input: &[u8], mut pos: usize, end: usize) -> Option<(usize, usize)> {
    while pos < end && (input[pos] == b' ' || input[pos] == b'\t') {
        pos += 1;
    }
    let start = pos;
    while pos < end && input[pos] != b' ' && input[pos] != b'\t' {
        pos += 1;
    }
    (pos > start).then_some((start, pos))
}

fn parse_line(input: &[u8], line_start: usize, end: usize, body: usize, line: u32) -> Result<Event, Problem> {
    const SHAPE: &str =
        "an operation line: process, type, function and value, such as 3\t:invoke\t:cas\t[2 4]";
    let missing = |at: usize, what: &str| {
        Problem::new(ErrorKind::MissingField, at, 1, format!("this line has no {what}"), SHAPE)
    };
    let (ps, pe) = field(input, body, end).ok_or_else(|| missing(body, "process"))?;
    let (ts, te) = field(input, pe, end).ok_or_else(|| missing(pe, ":type"))?;
    let (fs, fe) = field(input, te, end).ok_or_else(|| missing(te, ":f"))?;
    let text = |s: usize, e: usize| String::from_utf8_lossy(&input[s..e]).into_owned();

    let process_text = text(ps, pe);
    let process = match process_text.parse::<i64>() {
        Ok(p) => Process::Client(u32::try_from(p).map_err(|_| {
            Problem::new(
                ErrorKind::BadField,
                ps,
                pe - ps,
                format!("process {p} is out of range"),
                "a process number from 0 to 4294967295",
            )
        })?),
        Err(_) => Process::Other(Value::Keyword(Arc::from(process_text.trim_start_matches(':')))),
    };
    let type_text = text(ts, te);
    let kind = type_text.strip_prefix(':').and_then(EventKind::from_name).ok_or_else(|| {
        Problem::new(
            ErrorKind::UnknownType,
            ts,
            te - ts,
            format!("unknown :type {type_text}"),
            EventKind::EXPECTED,
        )
    })?;
    let f_text = text(fs, fe);
    let f = Value::Keyword(Arc::from(f_text.strip_prefix(':').unwrap_or(&f_text)));

    let mut extra = Vec::new();
    let value = match field(input, fe, end) {
        None => Value::Nil,
        Some((vs, _)) => {
            let (v, after) = parse_value_at(&input[..end], vs)?;
            if let Some((rs, _)) = field(input, after, end) {
                extra.push((Value::keyword("error"), Value::string(&text(rs, end))));
            }
            v
        }
    };
    Ok(Event {
        index: None,
        time: None,
        kind,
        process,
        f,
        value,
        key: None,
        extra,
        offset: line_start,
        len: end - line_start,
        line,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::op::Outcome;

    fn history(text: &str) -> Result<crate::history::History, ReadError> {
        let mut b = HistoryBuilder::new("t.log", false);
        read("t.log", text.as_bytes(), &mut b)?;
        Ok(b.finish())
    }

    #[test]
    fn tabs_spaces_and_prefixes() {
        let text = "INFO  jepsen.util - 4\t:invoke\t:cas\t[2 4]\nINFO  jepsen.util - 4   :fail   :cas    [2 4]\n3 :invoke :read nil\n3\t:info\t:read\t:timed-out\n";
        let h = history(text).unwrap();
        assert_eq!(h.ops.len(), 2);
        assert_eq!(h.ops[0].outcome, Outcome::Fail);
        assert_eq!(h.value(h.ops[0].input).to_string(), "[2 4]");
        assert_eq!(h.ops[1].outcome, Outcome::Info);
        assert_eq!(h.value(h.ops[1].output), &Value::keyword("timed-out"));
        assert_eq!(h.ops[1].invoke_line, 3);
    }

    #[test]
    fn other_log_lines_are_counted_not_hidden() {
        let text = "2015-01-01 INFO jepsen.core - Worker 0 starting\n0 :invoke :read nil\n0 :ok :read 3\n";
        let h = history(text).unwrap();
        assert_eq!(h.ops.len(), 1);
        assert_eq!(h.warnings.len(), 1);
        assert!(h.warnings[0].message.contains("skipped 1 line"), "{:?}", h.warnings);
    }

    #[test]
    fn bad_lines_are_errors() {
        let e = history("0 :invoke :read nil\n0 :okay :read 1\n").unwrap_err();
        assert_eq!(e.kind, ErrorKind::UnknownType);
        assert_eq!((e.line, e.column, e.found.as_str()), (2, 3, ":okay"));
        let e = history("0 :invoke\n").unwrap_err();
        assert_eq!(e.kind, ErrorKind::MissingField);
        let e = history("0 :invoke :write [1 2\n").unwrap_err();
        assert_eq!(e.kind, ErrorKind::Syntax);
    }
}
