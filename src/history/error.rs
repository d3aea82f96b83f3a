//! Errors from reading a history: always with file, line, column, the offending text and what
//! was expected, so the user can go straight to the spot.

use std::fmt;
use std::sync::Arc;

/// What kind of problem stopped the read. Lets callers and tests match on the class of error
/// without parsing the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The text is not valid EDN / JSON / log syntax.
    Syntax,
    /// An event lacks a field every event needs (`:type`, `:process`, `:f`).
    MissingField,
    /// A field holds a value of the wrong shape (a `:type` that is not a keyword, a `:time`
    /// that is not an integer...).
    BadField,
    /// `:type` is not one of `:invoke`, `:ok`, `:fail`, `:info`.
    UnknownType,
    /// An `:ok`/`:fail`/`:info` completion for a process that has no open invocation.
    CompletionWithoutInvocation,
    /// An `:invoke` on a process whose previous invocation has not completed.
    DoubleInvocation,
    /// A completion whose `:f` differs from its invocation's.
    MismatchedCompletion,
    /// The file could not be opened, read or decompressed.
    Io,
}

impl ErrorKind {
    /// True for the problems `--lenient` turns into warnings.
    pub fn is_pairing(self) -> bool {
        matches!(
            self,
            ErrorKind::CompletionWithoutInvocation
                | ErrorKind::DoubleInvocation
                | ErrorKind::MismatchedCompletion
        )
    }
}

/// A problem found at a position, before the file name and source line are attached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The class of problem.
    pub kind: ErrorKind,
    /// Byte offset in the input where the offending text starts.
    pub offset: usize,
    /// Length in bytes of the offending text (at least 1 when there is text to point at).
    pub len: usize,
    /// What went wrong, in words ("unknown :type :okk").
    pub message: String,
    /// What the reader expected at this point.
    pub expected: String,
}

impl Problem {
    /// A new problem at `offset..offset+len`.
    pub fn new(
        kind: ErrorKind,
        offset: usize,
        len: usize,
        message: impl Into<String>,
        expected: impl Into<String>,
    ) -> Problem {
        Problem { kind, offset, len, message: message.into(), expected: expected.into() }
    }
}

/// A read error, located in the user's file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadError {
    /// The file as the user named it (`-` for standard input).
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
    /// The class of problem.
    pub kind: ErrorKind,
    /// What went wrong.
    pub message: String,
    /// The offending text itself.
    pub found: String,
    /// The whole source line, for context (empty for I/O errors).
    pub source_line: String,
    /// What was expected.
    pub expected: String,
    /// The I/O error behind an [`ErrorKind::Io`] error: its [`std::error::Error::source`].
    io: Option<IoSource>,
}

/// An I/O error kept as a read error's source: shared, so the read error stays `Clone`, and
/// compared by kind and message, so it stays `Eq`.
#[derive(Clone, Debug)]
struct IoSource(Arc<std::io::Error>);

impl PartialEq for IoSource {
    fn eq(&self, other: &IoSource) -> bool {
        self.0.kind() == other.0.kind() && self.0.to_string() == other.0.to_string()
    }
}

impl Eq for IoSource {}

impl ReadError {
    /// Locates `problem` in `input`, read from `file`.
    pub fn locate(file: &str, input: &[u8], problem: Problem) -> ReadError {
        let offset = problem.offset.min(input.len());
        let line_start = input[..offset].iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let line_end = input[offset..].iter().position(|&b| b == b'\n').map_or(input.len(), |i| offset + i);
        let line = 1 + input[..line_start].iter().filter(|&&b| b == b'\n').count();
        let column = 1 + String::from_utf8_lossy(&input[line_start..offset]).chars().count();
        let found_end = (offset + problem.len).min(line_end).max(offset);
        let source_line =
            String::from_utf8_lossy(&input[line_start..line_end]).trim_end_matches('\r').to_string();
        ReadError {
            file: file.to_string(),
            line: u32::try_from(line).unwrap_or(u32::MAX),
            column: u32::try_from(column).unwrap_or(u32::MAX),
            kind: problem.kind,
            message: problem.message,
            found: String::from_utf8_lossy(&input[offset..found_end]).into_owned(),
            source_line,
            expected: problem.expected,
            io: None,
        }
    }

    /// An I/O error on `file`, kept as the error's source.
    pub fn io(file: &str, err: std::io::Error) -> ReadError {
        ReadError {
            file: file.to_string(),
            line: 0,
            column: 0,
            kind: ErrorKind::Io,
            message: format!("cannot read: {err}"),
            found: String::new(),
            source_line: String::new(),
            expected: "a readable history file".to_string(),
            io: Some(IoSource(Arc::new(err))),
        }
    }
}

/// How many characters of a long source line an error shows: Jepsen's transactional
/// histories have lines thousands of characters long.
const SHOWN_CHARS: usize = 160;

/// The part of `line` to show for an error at 0-based character `column`, as (text,
/// characters of the line before it, whether it was cut at the start). Long lines are cut to a
/// window around the column, marked with `…` at the cut ends, so the carets always fall under
/// the offending text.
fn window(line: &str, column: usize) -> (String, usize, bool) {
    let chars: Vec<char> = line.chars().collect();
    if chars.len() <= SHOWN_CHARS {
        return (line.to_string(), 0, false);
    }
    let column = column.min(chars.len());
    let start = column.saturating_sub(SHOWN_CHARS / 4).min(chars.len() - SHOWN_CHARS);
    let end = start + SHOWN_CHARS;
    let mut text = String::new();
    if start > 0 {
        text.push('…');
    }
    text.extend(&chars[start..end]);
    if end < chars.len() {
        text.push('…');
    }
    (text, start, start > 0)
}

/// Renders as `file:line:column: message`, then the source line with the offending text
/// underlined, then what was expected:
///
/// ```text
/// h.edn:3:21: unknown :type :okk
///     3 | {:process 0, :type :okk, :f :read, :value nil}
///       |                    ^^^^
///   expected one of :invoke, :ok, :fail, :info
/// ```
impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.kind == ErrorKind::Io {
            return write!(f, "{}: {}", self.file, self.message);
        }
        writeln!(f, "{}:{}:{}: {}", self.file, self.line, self.column, self.message)?;
        let gutter = self.line.to_string();
        let column = self.column.saturating_sub(1) as usize;
        let (shown, skipped, cut) = window(&self.source_line, column);
        writeln!(f, "  {gutter} | {shown}")?;
        // The padding copies the line's tabs, so the carets line up however tabs are shown.
        let pad: String = std::iter::once(' ')
            .take(usize::from(cut))
            .chain(
                self.source_line
                    .chars()
                    .skip(skipped)
                    .take(column.saturating_sub(skipped))
                    .map(|c| if c == '\t' { '\t' } else { ' ' }),
            )
            .collect();
        // Underline the offending text, but not past the end of what is shown.
        let room = shown.chars().count().saturating_sub(pad.chars().count()).max(1);
        let carets = "^".repeat(self.found.chars().count().clamp(1, 80).min(room));
        writeln!(f, "  {} | {pad}{carets}", " ".repeat(gutter.len()))?;
        write!(f, "  expected {}", self.expected)
    }
}

impl std::error::Error for ReadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.io.as_ref().map(|io| &*io.0 as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_line_and_column() {
        let input = b"first line\nsecond :bad here\n";
        let p = Problem::new(ErrorKind::Syntax, 18, 4, "unexpected", "something");
        let e = ReadError::locate("f.edn", input, p);
        assert_eq!((e.line, e.column), (2, 8));
        assert_eq!(e.found, ":bad");
        assert_eq!(e.source_line, "second :bad here");
        let shown = e.to_string();
        assert!(shown.starts_with("f.edn:2:8: unexpected\n"), "{shown}");
        assert!(shown.contains("  2 | second :bad here\n    |        ^^^^\n  expected something"), "{shown}");
    }

    #[test]
    fn long_lines_are_cut_around_the_error() {
        // A 1000-character line with the error at column 701: the carets still sit under it.
        let line = format!("{}:bad{}", "x".repeat(700), "y".repeat(296));
        let p = Problem::new(ErrorKind::Syntax, 700, 4, "unexpected", "something");
        let e = ReadError::locate("f.edn", line.as_bytes(), p);
        assert_eq!((e.line, e.column, e.found.as_str()), (1, 701, ":bad"));
        assert_eq!(e.source_line, line, "the whole line is kept");
        let shown = e.to_string();
        let rows: Vec<&str> = shown.lines().collect();
        let source = rows[1].strip_prefix("  1 | ").unwrap();
        let carets = rows[2].strip_prefix("    | ").unwrap();
        assert!(source.starts_with('…') && source.ends_with('…'), "{source}");
        assert_eq!(source.chars().count(), SHOWN_CHARS + 2);
        let at = carets.find('^').unwrap();
        let under: String = source.chars().skip(at).take(4).collect();
        assert_eq!(under, ":bad", "{shown}");
        assert_eq!(&carets[at..], "^^^^");
        // Near the end of the line, the window ends with the line.
        let p = Problem::new(ErrorKind::Syntax, 998, 2, "unexpected", "something");
        let shown = ReadError::locate("f.edn", line.as_bytes(), p).to_string();
        let source = shown.lines().nth(1).unwrap();
        assert!(source.ends_with("yy") && source.contains('…'), "{shown}");
    }

    #[test]
    fn offset_at_end_of_input_is_located() {
        let p = Problem::new(ErrorKind::Syntax, 3, 1, "unexpected end of input", "]");
        let e = ReadError::locate("f", b"[1 ", p);
        assert_eq!((e.line, e.column), (1, 4));
        assert_eq!(e.found, "");
    }
}
