//! The Jepsen EDN reader: `history.edn` as one op map per line, or one vector/list of maps.
//!
//! A purpose-built scanner rather than a general EDN library: it runs over the bytes once,
//! never builds a string for a keyword it has seen before, and reads integers in place, which
//! is what makes it an order of magnitude faster than a general reader on Jepsen histories.
//! It accepts the whole of EDN that histories use: comments, commas as whitespace, `#_`
//! discards, keywords, symbols, strings, characters, integers (with `N`), floats, ratios,
//! `nil`/`true`/`false`, vectors, lists, sets, maps and tagged literals (including Jepsen's
//! `#jepsen.history.Op{...}` records).

use super::builder::HistoryBuilder;
use super::error::{ErrorKind, Problem, ReadError};
use super::event::EventKind;
use super::fields::{EventFields, Field};
use super::flat::{self, PieceEvent};
use super::value::{Float, TaggedValue, Value};
use ahash::AHashMap;
use std::sync::Arc;

/// How deep collections may nest before the reader gives up (guards the stack).
const MAX_DEPTH: usize = 256;

/// Reads every event of an EDN history into `builder`.
pub(crate) fn read(file: &str, input: &[u8], builder: &mut HistoryBuilder) -> Result<(), ReadError> {
    let mut p = Parser::new(input);
    p.read_events(builder).map_err(|problem| ReadError::locate(file, input, problem))
}

/// Parses `piece`, a run of whole lines holding op maps at top level (no outer collection), into
/// its events, with offsets and lines counted from the piece's start (line 1). An error means
/// the piece is not such a run, or the text is wrong: the caller reads the file again whole,
/// which reports it where it is.
pub(crate) fn read_piece(piece: &[u8]) -> Result<Vec<super::event::Event>, Problem> {
    let mut p = Parser::new(piece);
    let mut events = Vec::new();
    loop {
        p.skip_ws()?;
        if p.pos >= p.input.len() {
            return Ok(events);
        }
        events.push(p.event()?);
    }
}

/// Like [`read_piece`], appending to `out`, with each flat op map (see [`flat`]) read by the
/// flat reader and only the others by the general one.
pub(crate) fn read_piece_flat(piece: &[u8], out: &mut Vec<PieceEvent>) -> Result<(), Problem> {
    let mut p = Parser::new(piece);
    loop {
        p.skip_ws()?;
        if p.pos >= p.input.len() {
            return Ok(());
        }
        match flat::parse_event(p.input, p.pos, p.line) {
            Some((event, end)) => {
                p.pos = end;
                out.push(PieceEvent::Flat(event));
            }
            None => out.push(PieceEvent::Full(Box::new(p.event()?))),
        }
    }
}

/// Parses one EDN value from `text` (used for `--init` and in tests). Trailing text other than
/// whitespace and comments is an error.
pub fn parse_value(text: &str) -> Result<Value, ReadError> {
    let mut p = Parser::new(text.as_bytes());
    let result = p.skip_ws().and_then(|_| p.value()).and_then(|v| {
        p.skip_ws()?;
        if p.pos < p.input.len() {
            return Err(p.problem(
                ErrorKind::Syntax,
                1,
                "unexpected text after the value",
                "the end of the input",
            ));
        }
        Ok(v)
    });
    result.map_err(|problem| ReadError::locate("<value>", text.as_bytes(), problem))
}

/// Scans the string literal whose opening quote is at `start` (EDN and JSON share the escapes).
/// Returns the decoded text, the offset just past the closing quote, and how many newlines the
/// literal spans.
pub(crate) fn scan_string(input: &[u8], start: usize) -> Result<(String, usize, u32), Problem> {
    let mut pos = start + 1;
    let mut out: Vec<u8> = Vec::new();
    let mut plain_from = pos;
    let mut newlines = 0;
    loop {
        let Some(&b) = input.get(pos) else {
            return Err(Problem::new(
                ErrorKind::Syntax,
                start,
                1,
                "this string is never closed",
                "a closing '\"'",
            ));
        };
        match b {
            b'"' => {
                out.extend_from_slice(&input[plain_from..pos]);
                pos += 1;
                break;
            }
            b'\\' => {
                out.extend_from_slice(&input[plain_from..pos]);
                pos = decode_escape(input, pos, &mut out)?;
                plain_from = pos;
            }
            b'\n' => {
                newlines += 1;
                pos += 1;
            }
            _ => pos += 1,
        }
    }
    match String::from_utf8(out) {
        Ok(s) => Ok((s, pos, newlines)),
        Err(_) => Err(Problem::new(
            ErrorKind::Syntax,
            start,
            pos - start,
            "this string is not valid UTF-8",
            "UTF-8 text",
        )),
    }
}

/// Decodes the backslash escape at `at` into `out`; returns the offset after it. A `\\uXXXX`
/// high surrogate followed by a `\\uXXXX` low surrogate decodes to one character, as JSON needs.
fn decode_escape(input: &[u8], at: usize, out: &mut Vec<u8>) -> Result<usize, Problem> {
    let bad = |len| {
        Problem::new(
            ErrorKind::Syntax,
            at,
            len,
            "invalid escape in string",
            "one of \\\" \\\\ \\n \\t \\r \\b \\f \\uXXXX",
        )
    };
    let hex4 = |from: usize| input.get(from..from + 4).and_then(hex4);
    let (c, next) = match input.get(at + 1) {
        Some(b'"') => ('"', at + 2),
        Some(b'\\') => ('\\', at + 2),
        Some(b'/') => ('/', at + 2),
        Some(b'n') => ('\n', at + 2),
        Some(b't') => ('\t', at + 2),
        Some(b'r') => ('\r', at + 2),
        Some(b'b') => ('\u{8}', at + 2),
        Some(b'f') => ('\u{c}', at + 2),
        Some(b'u') => {
            let code = hex4(at + 2).ok_or_else(|| bad(6))?;
            if (0xD800..0xDC00).contains(&code) && input.get(at + 6..at + 8) == Some(b"\\u") {
                if let Some(low) = hex4(at + 8).filter(|l| (0xDC00..0xE000).contains(l)) {
                    let c = char::from_u32(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00))
                        .unwrap_or('\u{fffd}');
                    out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                    return Ok(at + 12);
                }
            }
            (char::from_u32(code).unwrap_or('\u{fffd}'), at + 6)
        }
        _ => return Err(bad(2)),
    };
    out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
    Ok(next)
}

/// Four hex digits as a number. (`u32::from_str_radix` alone would also take a sign.)
fn hex4(digits: &[u8]) -> Option<u32> {
    if digits.len() != 4 || !digits.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    u32::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()
}

/// Parses one EDN value starting at byte `pos` of `input`; returns it and the offset after it.
/// Used by the text-log reader, whose values are EDN.
/// Parses the op map (optionally tagged) starting at `pos`, on line `line`: the event, the
/// offset just past it, and the line it ends on. For readers that scan the usual events
/// themselves and hand the rest to this one.
pub(crate) fn event_at(
    input: &[u8],
    pos: usize,
    line: u32,
) -> Result<(super::event::Event, usize, u32), Problem> {
    let mut p = Parser::new(input);
    p.pos = pos;
    p.line = line;
    let event = p.event()?;
    Ok((event, p.pos, p.line))
}

pub(crate) fn parse_value_at(input: &[u8], pos: usize) -> Result<(Value, usize), Problem> {
    let mut p = Parser::new(input);
    p.pos = pos;
    let v = p.value()?;
    Ok((v, p.pos))
}

pub(crate) struct Parser<'a> {
    input: &'a [u8],
    pos: usize,
    line: u32,
    /// Keywords seen so far, so each distinct keyword is allocated once.
    keywords: AHashMap<&'a [u8], Arc<str>>,
    /// Collections open around the cursor.
    depth: usize,
    /// The few `:f` keywords a history uses, found by their text without hashing it.
    recent_f: Vec<(&'a [u8], Value)>,
}

/// How many distinct `:f` keywords [`Parser::recent_f`] remembers; histories use a handful.
const RECENT_F: usize = 8;

/// Bytes that end a token, as a table: `token` runs over every byte of a history.
const DELIMITERS: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = matches!(
            i as u8,
            b' ' | b'\t' | b'\n' | b'\r' | b',' | b'(' | b')' | b'[' | b']' | b'{' | b'}' | b'"' | b';'
        );
        i += 1;
    }
    table
};

pub(crate) fn is_delimiter(b: u8) -> bool {
    DELIMITERS[usize::from(b)]
}

/// `text` as an `i64`, when it is an optionally signed run of decimal digits that fits.
pub(crate) fn parse_i64(text: &[u8]) -> Option<i64> {
    let (neg, digits) = match text.split_first()? {
        (b'-', d) => (true, d),
        (b'+', d) => (false, d),
        _ => (false, text),
    };
    if digits.is_empty() {
        return None;
    }
    let mut n: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        let d = i64::from(d - b'0');
        n = n.checked_mul(10)?;
        // Accumulating negatives directly lets i64::MIN through.
        n = if neg { n.checked_sub(d)? } else { n.checked_add(d)? };
    }
    Some(n)
}

/// The decimal digits `text` starts with, as a non-negative `i64`, and how many there are;
/// `None` when there are none or they overflow. The readers' common case for `:index`,
/// `:time` and `:process`, read in one pass.
#[inline]
pub(crate) fn leading_uint(text: &[u8]) -> Option<(i64, usize)> {
    // Eight bytes at a time while they are there: numbers are most of a history's bytes.
    let (mut n, mut len) = (0i64, 0usize);
    while let Some(chunk) = text.get(len..len + 8) {
        let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        let digits = swar::leading_digits(word);
        if len + digits > 18 {
            // It may not fit in an i64: the careful way.
            return leading_uint_by_digit(text, 0, 0);
        }
        if digits > 0 {
            n = n * swar::POW10[digits] + swar::value(word, digits);
            len += digits;
        }
        if digits < 8 {
            return (len > 0).then_some((n, len));
        }
    }
    leading_uint_by_digit(text, n, len)
}

/// [`leading_uint`] one digit at a time, from `len` digits read with value `n`.
fn leading_uint_by_digit(text: &[u8], mut n: i64, mut len: usize) -> Option<(i64, usize)> {
    while let Some(&d) = text.get(len) {
        if !d.is_ascii_digit() {
            break;
        }
        n = n.checked_mul(10)?.checked_add(i64::from(d - b'0'))?;
        len += 1;
    }
    (len > 0).then_some((n, len))
}

/// Decimal digits eight at a time, in a `u64` holding eight bytes of text (the first in its
/// lowest byte).
mod swar {
    const HIGH: u64 = 0xF0F0_F0F0_F0F0_F0F0;
    const ZEROS: u64 = 0x3030_3030_3030_3030;

    /// Powers of ten up to 10^8.
    pub(super) const POW10: [i64; 9] =
        [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000];

    /// How many of the bytes, from the first, are ASCII digits.
    pub(super) fn leading_digits(word: u64) -> usize {
        // A byte is a digit when its high nibble is 3, and still is once 6 is added to it. An
        // addition carries out of a byte only if it is 0xFA or more, which is no digit: the
        // bytes after the first non-digit may be wrong, which does not matter.
        let high_not_3 = (word & HIGH) ^ ZEROS;
        let above_9 = (word.wrapping_add(0x0606_0606_0606_0606) & HIGH) ^ ZEROS;
        ((high_not_3 | above_9).trailing_zeros() / 8) as usize
    }

    /// The number the first `digits` bytes (1 to 8, all digits) spell.
    pub(super) fn value(word: u64, digits: usize) -> i64 {
        // Drop the other bytes: the digits move up, zeros (leading zero digits) fill in.
        let v = (word ^ ZEROS) << (8 * (8 - digits));
        let v = (v.wrapping_mul(10) + (v >> 8)) & 0x00FF_00FF_00FF_00FF;
        let v = (v.wrapping_mul(100) + (v >> 16)) & 0x0000_FFFF_0000_FFFF;
        ((v.wrapping_mul(10_000) + (v >> 32)) & 0xFFFF_FFFF) as i64
    }
}

/// A number token that is not a 64-bit integer: a big integer (`12N`, or too many digits), a
/// ratio (`1/2`), a decimal (`1.5M`) or a float. `None` when it is none of these (including
/// when it is not UTF-8).
fn number_text(text: &[u8]) -> Option<Value> {
    let s = std::str::from_utf8(text).ok()?;
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    let digits = |d: &str| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit());
    let kept = || Some(Value::Number(Arc::from(s)));
    if digits(body.strip_suffix('N').unwrap_or(body)) {
        return kept();
    }
    if let Some((a, b)) = body.split_once('/') {
        return if digits(a) && digits(b) { kept() } else { None };
    }
    let decimal = body.ends_with('M');
    let float = s.strip_suffix('M').unwrap_or(s);
    let float_chars = |b: u8| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+');
    // Rust's parser also takes "inf" and "nan", which EDN spells ##Inf and ##NaN.
    if !float.bytes().all(float_chars) {
        return None;
    }
    let x = float.parse::<f64>().ok()?;
    if decimal { kept() } else { Some(Value::Float(Float(x))) }
}

impl<'a> Parser<'a> {
    fn new(input: &'a [u8]) -> Parser<'a> {
        Parser { input, pos: 0, line: 1, keywords: AHashMap::new(), depth: 0, recent_f: Vec::new() }
    }

    fn problem(
        &self,
        kind: ErrorKind,
        len: usize,
        message: impl Into<String>,
        expected: impl Into<String>,
    ) -> Problem {
        Problem::new(kind, self.pos, len, message, expected)
    }

    fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    /// Skips whitespace, commas, `;` comments and `#_` discarded forms, counting lines.
    #[inline(always)]
    fn skip_ws(&mut self) -> Result<(), Problem> {
        // Between the fields of an op map there are only spaces and commas: skip them here,
        // inlined, and leave newlines, comments and discards to the general loop.
        while let Some(b' ' | b',') = self.peek() {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'\n' | b'\t' | b'\r' | b';' | b'#') => self.skip_ws_slow(),
            _ => Ok(()),
        }
    }

    fn skip_ws_slow(&mut self) -> Result<(), Problem> {
        // `#_ #_ a b` discards both a and b: count pending discards instead of recursing, so
        // a long chain of them cannot exhaust the stack.
        let mut discards = 0usize;
        loop {
            match self.peek() {
                Some(b'\n') => {
                    self.line += 1;
                    self.pos += 1;
                }
                Some(b' ' | b'\t' | b'\r' | b',') => self.pos += 1,
                Some(b';') => {
                    while self.peek().is_some_and(|b| b != b'\n') {
                        self.pos += 1;
                    }
                }
                Some(b'#') if self.input.get(self.pos + 1) == Some(&b'_') => {
                    self.pos += 2;
                    discards += 1;
                }
                Some(_) if discards > 0 => {
                    self.value()?;
                    discards -= 1;
                }
                _ => return Ok(()),
            }
        }
    }

    /// The events: a sequence of op maps, or one vector/list holding them.
    fn read_events(&mut self, builder: &mut HistoryBuilder) -> Result<(), Problem> {
        self.skip_ws()?;
        let close = match self.peek() {
            Some(b'[') => Some(b']'),
            Some(b'(') => Some(b')'),
            _ => None,
        };
        if close.is_some() {
            self.pos += 1;
        }
        loop {
            self.skip_ws()?;
            match (self.peek(), close) {
                (None, None) => return Ok(()),
                (None, Some(c)) => {
                    return Err(self.problem(
                        ErrorKind::Syntax,
                        0,
                        "the history's outer collection is never closed",
                        format!("'{}' or another op map", c as char),
                    ));
                }
                (Some(b), Some(c)) if b == c => {
                    self.pos += 1;
                    self.skip_ws()?;
                    if self.pos < self.input.len() {
                        return Err(self.problem(
                            ErrorKind::Syntax,
                            1,
                            "unexpected text after the history's closing bracket",
                            "the end of the file",
                        ));
                    }
                    return Ok(());
                }
                _ => {}
            }
            let event = self.event()?;
            builder.push(event)?;
        }
    }

    /// One op map, optionally tagged (`#jepsen.history.Op{...}`).
    fn event(&mut self) -> Result<super::event::Event, Problem> {
        let start = self.pos;
        let line = self.line;
        if self.peek() == Some(b'#') && self.input.get(self.pos + 1).is_some_and(|b| b.is_ascii_alphabetic())
        {
            self.pos += 1;
            self.token();
            self.skip_ws()?;
        }
        if self.peek() != Some(b'{') {
            let len = self.token_len_here();
            return Err(self.problem(
                ErrorKind::Syntax,
                len,
                "this is not an op map",
                "an op map such as {:type :invoke, :process 0, :f :read, :value nil}",
            ));
        }
        self.pos += 1;
        let mut fields = EventFields::new();
        loop {
            self.skip_ws()?;
            match self.peek() {
                Some(b'}') => {
                    self.pos += 1;
                    break;
                }
                None => return Err(self.unclosed(start, '}')),
                _ => self.entry(&mut fields)?,
            }
        }
        fields.finish(start, self.pos - start, line)
    }

    /// One key and its value in an op map. The keys labrys interprets are matched straight
    /// from the bytes and their usual values read in place (this is most of the input); any
    /// other key or value shape goes through the general value reader.
    fn entry(&mut self, fields: &mut EventFields) -> Result<(), Problem> {
        let key_start = self.pos;
        let field = self.known_key();
        let key = if field.is_none() { Some(self.value()?) } else { None };
        let key_end = self.pos;
        self.skip_ws()?;
        if matches!(self.peek(), Some(b'}') | None) {
            let key = String::from_utf8_lossy(&self.input[key_start..key_end]);
            return Err(self.problem(
                ErrorKind::Syntax,
                1,
                format!("the key {key} has no value"),
                "a value after each key of the map",
            ));
        }
        let value_start = self.pos;
        if let Some(field) = field {
            if self.fast_value(field, fields) {
                return Ok(());
            }
        }
        let value = self.value()?;
        let span = (value_start, self.pos - value_start);
        match key {
            Some(key) => fields.set(key, value, span),
            None => fields.set_field(field.expect("a known key"), value, span),
        }
    }

    /// The interpreted field a `:keyword` at the cursor names, moving past it; `None`, with the
    /// cursor left in place, for any other key.
    fn known_key(&mut self) -> Option<Field> {
        if self.peek() != Some(b':') {
            return None;
        }
        let (field, len) = Field::prefix_of(&self.input[self.pos + 1..])?;
        // `:f` must not match `:foo`: the name must end where the keyword does.
        if self.input.get(self.pos + 1 + len).is_some_and(|&b| !is_delimiter(b)) {
            return None;
        }
        self.pos += 1 + len;
        Some(field)
    }

    /// Reads the usual shape of an interpreted field's value in place: an integer `:index`,
    /// `:time` or `:process`, a keyword `:type`. Returns false, with the cursor left in place,
    /// for anything else (including every value that is an error).
    fn fast_value(&mut self, field: Field, fields: &mut EventFields) -> bool {
        let len = match field {
            Field::Index | Field::Time | Field::Process => match self.fast_int() {
                Some((n, len)) if fields.set_int(field, n) => len,
                _ => return false,
            },
            Field::Type => {
                let token = self.token_at(self.pos);
                let Some(kind) = token.strip_prefix(b":").and_then(EventKind::from_bytes) else {
                    return false;
                };
                fields.set_kind(kind);
                token.len()
            }
            Field::F => {
                let token = self.token_at(self.pos);
                let Some(f) = self.recent_f(token) else { return false };
                fields.set_f(f);
                token.len()
            }
            // Their values are general; `value` already reads keywords and integers quickly.
            Field::Value | Field::Key => return false,
        };
        self.pos += len;
        true
    }

    /// The keyword `token` (an `:f` value) from [`Parser::recent_f`], reading and remembering
    /// it if it is new. `None` for a token that is not a plain keyword.
    fn recent_f(&mut self, token: &'a [u8]) -> Option<Value> {
        if let Some((_, f)) = self.recent_f.iter().find(|(t, _)| *t == token) {
            return Some(f.clone());
        }
        if token.len() < 2 || token[0] != b':' || token[1] == b':' {
            return None;
        }
        let name = std::str::from_utf8(&token[1..]).ok()?;
        let f = Value::keyword(name);
        if self.recent_f.len() < RECENT_F {
            self.recent_f.push((token, f.clone()));
        }
        Some(f)
    }

    /// A non-negative decimal integer at the cursor, ending at a delimiter, and its length:
    /// the shape of nearly every `:index`, `:time` and `:process`. Read in one pass, without
    /// first finding the end of the token.
    fn fast_int(&self) -> Option<(i64, usize)> {
        let (n, len) = leading_uint(&self.input[self.pos..])?;
        let ends = self.input.get(self.pos + len).is_none_or(|&b| is_delimiter(b));
        ends.then_some((n, len))
    }

    /// The token (up to the next delimiter) starting at `at`, without moving the cursor.
    fn token_at(&self, at: usize) -> &'a [u8] {
        let rest = self.input.get(at..).unwrap_or_default();
        let len = rest.iter().position(|&b| is_delimiter(b)).unwrap_or(rest.len());
        &rest[..len]
    }

    fn unclosed(&self, start: usize, close: char) -> Problem {
        Problem::new(
            ErrorKind::Syntax,
            start,
            1,
            "this collection is never closed",
            format!("'{close}' before the end of the input"),
        )
    }

    /// Length of the token at the cursor (at least 1 if there is input), for error carets.
    fn token_len_here(&self) -> usize {
        let rest = &self.input[self.pos..];
        if rest.is_empty() {
            return 0;
        }
        rest.iter().position(|&b| is_delimiter(b)).unwrap_or(rest.len()).max(1)
    }

    /// Advances over a token (symbol, keyword, number) and returns its bytes.
    fn token(&mut self) -> &'a [u8] {
        let token = self.token_at(self.pos);
        self.pos += token.len();
        token
    }

    /// One value.
    pub(crate) fn value(&mut self) -> Result<Value, Problem> {
        if self.depth > MAX_DEPTH {
            return Err(self.problem(
                ErrorKind::Syntax,
                1,
                format!("values nest deeper than {MAX_DEPTH} levels"),
                "a less deeply nested value",
            ));
        }
        let Some(b) = self.peek() else {
            return Err(self.problem(ErrorKind::Syntax, 0, "unexpected end of input", "a value"));
        };
        match b {
            b'[' => self.seq(b']').map(|items| Value::Vector(items.into())),
            b'(' => self.seq(b')').map(|items| Value::List(items.into())),
            b'{' => self.map(),
            b'"' => self.string(),
            b':' => self.keyword(),
            b'\\' => self.character(),
            b'#' => self.dispatch(),
            b'0'..=b'9' => match self.fast_int() {
                Some((n, len)) => {
                    self.pos += len;
                    Ok(Value::Int(n))
                }
                None => self.number(),
            },
            b'-' | b'+' if self.input.get(self.pos + 1).is_some_and(u8::is_ascii_digit) => self.number(),
            b')' | b']' | b'}' => {
                Err(self.problem(ErrorKind::Syntax, 1, format!("unexpected '{}'", b as char), "a value"))
            }
            _ => self.symbol(),
        }
    }

    fn seq(&mut self, close: u8) -> Result<Vec<Value>, Problem> {
        let start = self.pos;
        self.pos += 1;
        self.depth += 1;
        let mut items = Vec::new();
        loop {
            self.skip_ws()?;
            match self.peek() {
                Some(b) if b == close => {
                    self.pos += 1;
                    self.depth -= 1;
                    return Ok(items);
                }
                None => return Err(self.unclosed(start, close as char)),
                Some(b @ (b')' | b']' | b'}')) => return Err(self.mismatched(start, b, close)),
                _ => items.push(self.value()?),
            }
        }
    }

    /// A closing bracket that is not the one the collection opened at `start` needs: point at
    /// the stray bracket, and say where the open one began.
    fn mismatched(&self, start: usize, found: u8, close: u8) -> Problem {
        let line_start = self.input[..start].iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let column = String::from_utf8_lossy(&self.input[line_start..start]).chars().count() + 1;
        // Counted afresh rather than from `self.line`: the text-log reader starts parsing
        // values mid-input. An error happens once per read, so the scan costs nothing.
        let line = 1 + self.input[..line_start].iter().filter(|&&b| b == b'\n').count();
        let open = self.input[start] as char;
        self.problem(
            ErrorKind::Syntax,
            1,
            format!(
                "unexpected '{}': the '{open}' opened at line {line}, column {column} is not closed yet",
                found as char
            ),
            format!("'{}' to close the '{open}' first", close as char),
        )
    }

    fn map(&mut self) -> Result<Value, Problem> {
        let start = self.pos;
        let items = self.seq(b'}')?;
        if items.len() % 2 != 0 {
            return Err(Problem::new(
                ErrorKind::Syntax,
                start,
                self.pos - start,
                "this map has a key without a value",
                "an even number of forms in a map",
            ));
        }
        let mut it = items.into_iter();
        let mut entries = Vec::with_capacity(it.len() / 2);
        while let (Some(k), Some(v)) = (it.next(), it.next()) {
            entries.push((k, v));
        }
        Ok(Value::map(entries))
    }

    fn string(&mut self) -> Result<Value, Problem> {
        let (text, end, newlines) = scan_string(self.input, self.pos)?;
        self.pos = end;
        self.line += newlines;
        Ok(Value::Str(Arc::from(text)))
    }

    fn keyword(&mut self) -> Result<Value, Problem> {
        let start = self.pos;
        self.pos += 1;
        if self.peek() == Some(b':') {
            self.pos += 1; // ::auto-resolved keywords read as plain keywords
        }
        let name = self.token();
        // `:::x` is no keyword in EDN; reading it as `::x` would print back as `:x`.
        if name.is_empty() || name[0] == b':' {
            let len = self.pos - start;
            self.pos = start;
            return Err(self.problem(
                ErrorKind::Syntax,
                len.max(1),
                "not a keyword name",
                "a keyword such as :read",
            ));
        }
        if let Some(k) = self.keywords.get(name) {
            return Ok(Value::Keyword(k.clone()));
        }
        let Ok(text) = std::str::from_utf8(name) else {
            self.pos = start;
            return Err(self.problem(
                ErrorKind::Syntax,
                name.len() + 1,
                "this keyword is not valid UTF-8",
                "UTF-8 text",
            ));
        };
        let k: Arc<str> = Arc::from(text);
        self.keywords.insert(name, k.clone());
        Ok(Value::Keyword(k))
    }

    fn character(&mut self) -> Result<Value, Problem> {
        let start = self.pos;
        self.pos += 1;
        // A character is the next char, plus any following letters for names like \newline.
        let rest = &self.input[self.pos..];
        let first_len = match rest.first() {
            None => {
                return Err(Problem::new(
                    ErrorKind::Syntax,
                    start,
                    1,
                    "a '\\' at the end of input",
                    "a character such as \\a",
                ));
            }
            // The UTF-8 length its lead byte announces; whether the bytes really are one
            // character is checked below, with the rest of the literal.
            Some(&b) => match b.leading_ones() {
                2 => 2,
                3 => 3,
                4 => 4,
                _ => 1,
            }
            .min(rest.len()),
        };
        let tail = rest[first_len..].iter().position(|&b| is_delimiter(b)).unwrap_or(rest.len() - first_len);
        let text = &rest[..first_len + tail];
        self.pos += text.len();
        let c = match text {
            b"newline" => Some('\n'),
            b"space" => Some(' '),
            b"tab" => Some('\t'),
            b"return" => Some('\r'),
            b"formfeed" => Some('\u{c}'),
            b"backspace" => Some('\u{8}'),
            t if t.len() == 5 && t[0] == b'u' => hex4(&t[1..]).and_then(char::from_u32),
            t => std::str::from_utf8(t).ok().and_then(|s| {
                let mut cs = s.chars();
                let c = cs.next()?;
                cs.next().is_none().then_some(c)
            }),
        };
        c.map(Value::Char).ok_or_else(|| {
            Problem::new(
                ErrorKind::Syntax,
                start,
                text.len() + 1,
                "not a character literal",
                "a character such as \\a, \\newline or \\u0041",
            )
        })
    }

    /// `#{...}` sets, `##Inf`-style symbolic values, and `#tag value` tagged literals.
    fn dispatch(&mut self) -> Result<Value, Problem> {
        let start = self.pos;
        match self.input.get(self.pos + 1) {
            Some(b'{') => {
                self.pos += 1;
                self.seq(b'}').map(Value::set)
            }
            Some(b'#') => {
                self.pos += 2;
                match self.token() {
                    b"Inf" => Ok(Value::Float(Float(f64::INFINITY))),
                    b"-Inf" => Ok(Value::Float(Float(f64::NEG_INFINITY))),
                    b"NaN" => Ok(Value::Float(Float(f64::NAN))),
                    _ => Err(Problem::new(
                        ErrorKind::Syntax,
                        start,
                        self.pos - start,
                        "unknown symbolic value",
                        "##Inf, ##-Inf or ##NaN",
                    )),
                }
            }
            Some(b) if b.is_ascii_alphabetic() => {
                self.pos += 1;
                let tag = self.token();
                let tag: Arc<str> = Arc::from(String::from_utf8_lossy(tag).as_ref());
                self.depth += 1;
                self.skip_ws()?;
                let v = self.value()?;
                self.depth -= 1;
                Ok(Value::Tagged(Box::new(TaggedValue { tag, value: v })))
            }
            _ => Err(Problem::new(
                ErrorKind::Syntax,
                start,
                2,
                "unsupported '#' form",
                "#{...} for a set, ##Inf, or a tagged literal #tag value",
            )),
        }
    }

    fn number(&mut self) -> Result<Value, Problem> {
        let start = self.pos;
        let text = self.token();
        if let Some(n) = parse_i64(text) {
            return Ok(Value::Int(n));
        }
        number_text(text).ok_or_else(|| {
            Problem::new(
                ErrorKind::Syntax,
                start,
                text.len(),
                format!("not a number: {}", String::from_utf8_lossy(text)),
                "a number such as 42, -7, 12N, 1.5, 1.5M or 1/2",
            )
        })
    }

    fn symbol(&mut self) -> Result<Value, Problem> {
        let start = self.pos;
        let text = self.token();
        match text {
            b"nil" => Ok(Value::Nil),
            b"true" => Ok(Value::Bool(true)),
            b"false" => Ok(Value::Bool(false)),
            b"" => Err(Problem::new(
                ErrorKind::Syntax,
                start,
                1,
                format!("unexpected '{}'", self.input[start] as char),
                "a value",
            )),
            _ => match std::str::from_utf8(text) {
                Ok(s) => Ok(Value::Symbol(Arc::from(s))),
                Err(_) => Err(Problem::new(
                    ErrorKind::Syntax,
                    start,
                    text.len(),
                    "this symbol is not valid UTF-8",
                    "UTF-8 text",
                )),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> Value {
        parse_value(text).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn scalars() {
        assert_eq!(v("nil"), Value::Nil);
        assert_eq!(v("true"), Value::Bool(true));
        assert_eq!(v("-42"), Value::Int(-42));
        assert_eq!(v("+7"), Value::Int(7));
        assert_eq!(v("12N"), Value::Number(Arc::from("12N")));
        assert_eq!(v("99999999999999999999"), Value::Number(Arc::from("99999999999999999999")));
        assert_eq!(v("1/2"), Value::Number(Arc::from("1/2")));
        assert_eq!(v("1.5"), Value::Float(Float(1.5)));
        assert_eq!(v("1e3"), Value::Float(Float(1000.0)));
        assert_eq!(v("1.5M"), Value::Number(Arc::from("1.5M")));
        assert_eq!(v(":read"), Value::keyword("read"));
        assert_eq!(v("::foo"), Value::keyword("foo"));
        assert_eq!(v("\"a\\\"b\\n\\u0041\""), Value::string("a\"b\nA"));
        assert_eq!(v("\\a"), Value::Char('a'));
        assert_eq!(v("\\newline"), Value::Char('\n'));
        assert_eq!(v("\\u00e9"), Value::Char('é'));
        assert_eq!(v("foo/bar"), Value::Symbol(Arc::from("foo/bar")));
        assert_eq!(v("##Inf"), Value::Float(Float(f64::INFINITY)));
        assert_eq!(v("-9223372036854775808"), Value::Int(i64::MIN));
    }

    #[test]
    fn collections_comments_and_discards() {
        assert_eq!(v("[1, 2 ; two\n 3]"), Value::vector(vec![1.into(), 2.into(), 3.into()]));
        assert_eq!(v("(1 #_ 2 3)"), Value::list(vec![1.into(), 3.into()]));
        assert_eq!(v("#{3 1 2 1}"), Value::set(vec![1.into(), 2.into(), 3.into()]));
        assert_eq!(v("{:x 0 :y 1}").get(&Value::keyword("y")), Some(&Value::Int(1)));
        assert_eq!(
            v("#jepsen.independent.Tuple{:key 1 :value 2}"),
            Value::tagged(
                "jepsen.independent.Tuple",
                Value::map(vec![(Value::keyword("key"), 1.into()), (Value::keyword("value"), 2.into())])
            )
        );
        assert_eq!(v("#inst \"2020\""), Value::tagged("inst", Value::string("2020")));
    }

    #[test]
    fn errors_are_located() {
        let e = parse_value("[1 2").unwrap_err();
        assert_eq!(e.kind, ErrorKind::Syntax);
        assert_eq!((e.line, e.column), (1, 1));
        assert!(e.message.contains("never closed"));
        let e = parse_value("{:a}").unwrap_err();
        assert!(e.message.contains("key without a value"), "{e}");
        let e = parse_value("1 2").unwrap_err();
        assert_eq!(e.column, 3);
        let e = parse_value("\"abc").unwrap_err();
        assert!(e.message.contains("never closed"));
        let e = parse_value("1.2.3").unwrap_err();
        assert!(e.message.contains("not a number"), "{e}");
        let deep = "[".repeat(1000);
        assert!(parse_value(&deep).unwrap_err().message.contains("nest deeper"));
    }

    #[test]
    fn number_with_invalid_utf8_is_an_error_not_a_panic() {
        // Regression from fuzzing (edn, jepsen_log): a sign, a digit, then a byte that is not
        // UTF-8 sliced an empty string.
        for input in [&b"-1\xff"[..], b"+1\xff", b"1\xfe2"] {
            let mut p = Parser::new(input);
            let e = p.value().unwrap_err();
            assert_eq!((e.kind, e.offset, e.len), (ErrorKind::Syntax, 0, input.len()));
            assert!(e.message.starts_with("not a number"), "{}", e.message);
        }
    }

    proptest::proptest! {
        /// Integers read eight digits at a time are the ones read one at a time, whatever
        /// follows them and however long they are.
        #[test]
        fn leading_uint_reads_digit_by_digit(
            text in proptest::collection::vec(proptest::sample::select(b"0123456789/:a \xff\xfa".to_vec()), 0..30),
        ) {
            proptest::prop_assert_eq!(leading_uint(&text), leading_uint_by_digit(&text, 0, 0));
        }
    }

    #[test]
    fn leading_uint_reads_long_numbers() {
        let max = i64::MAX.to_string();
        assert_eq!(leading_uint(max.as_bytes()), Some((i64::MAX, 19)));
        assert_eq!(leading_uint(b"9223372036854775808"), None);
        assert_eq!(leading_uint(b"123456789012345678,"), Some((123_456_789_012_345_678, 18)));
        assert_eq!(leading_uint(b"00000000000000000000000000001 "), Some((1, 29)));
        assert_eq!(leading_uint(b"12345678"), Some((12_345_678, 8)));
        assert_eq!(leading_uint(b"x2345678"), None);
    }

    #[test]
    fn characters_end_at_delimiters() {
        // Regression from fuzzing (edn_value): a non-ASCII character swallowed what followed.
        assert_eq!(v("(\\é)"), Value::list(vec![Value::Char('é')]));
        assert_eq!(v("[\\é \\a]"), Value::vector(vec![Value::Char('é'), Value::Char('a')]));
        assert_eq!(v("\\😀"), Value::Char('😀'));
        assert!(parse_value("\\u+041").is_err());
        assert!(parse_value("\"\\u+041\"").is_err());
    }

    #[test]
    fn what_is_read_prints_back_as_the_same_value() {
        // The property the edn_value fuzz target checks, on the inputs that first broke it.
        for text in
            ["[\\newline \\space \\u0000 \\é]", "\"a\\u0001\\\\\\\"\"", "1e300", "-0.0", "#{1.5 ##NaN}"]
        {
            let value = v(text);
            assert_eq!(v(&value.to_string()), value, "{text} printed as {value}");
        }
        assert!(parse_value(":::x").is_err());
    }

    #[test]
    fn a_wrong_closing_bracket_says_which_one_is_open() {
        let e = parse_value("{:a\n [1 2}").unwrap_err();
        assert_eq!((e.line, e.column, e.found.as_str()), (2, 6, "}"));
        assert_eq!(e.message, "unexpected '}': the '[' opened at line 2, column 2 is not closed yet");
        assert_eq!(e.expected, "']' to close the '[' first");
    }
}
