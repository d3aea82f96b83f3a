//! The JSON reader: an array of op objects, or JSON Lines (one object per line), in the shape
//! elle-cli reads: `{"index":7,"type":"ok","process":3,"f":"write","value":2}`.
//!
//! Like the EDN reader, a single-pass scanner rather than a generic JSON library, for speed.
//! Strings in `"type"`, `"f"` and `"process"` become keywords; all other strings stay strings.

use super::builder::HistoryBuilder;
use super::edn::{leading_uint, parse_i64, scan_string};
use super::error::{ErrorKind, Problem, ReadError};
use super::event::{Event, EventKind};
use super::fields::{EventFields, Field};
use super::value::{Float, Value};
use ahash::AHashMap;
use std::sync::Arc;

const MAX_DEPTH: usize = 256;

/// Reads every event of a JSON or JSON Lines history into `builder`.
pub fn read(file: &str, input: &[u8], builder: &mut HistoryBuilder) -> Result<(), ReadError> {
    let mut p =
        JsonParser { input, pos: 0, line: 1, depth: 0, strings: AHashMap::new(), recent_f: Vec::new() };
    p.read_events(builder).map_err(|problem| ReadError::locate(file, input, problem))
}

/// Parses the op object starting at `pos`, on line `line`: the event, the offset just past it,
/// and the line it ends on. For readers that scan the usual events themselves and hand the
/// rest to this one.
pub(crate) fn event_at(input: &[u8], pos: usize, line: u32) -> Result<(Event, usize, u32), Problem> {
    let mut p = JsonParser { input, pos, line, depth: 0, strings: AHashMap::new(), recent_f: Vec::new() };
    let event = p.event()?;
    Ok((event, p.pos, p.line))
}

struct JsonParser<'a> {
    input: &'a [u8],
    pos: usize,
    line: u32,
    depth: usize,
    /// Short strings seen before (keys, `"ok"`, `"read"`), so each is allocated once.
    strings: AHashMap<&'a [u8], Arc<str>>,
    /// The few `"f"` names a history uses, as keywords, found by their text without hashing.
    recent_f: Vec<(&'a [u8], Value)>,
}

/// How many distinct `"f"` names [`JsonParser::recent_f`] remembers; histories use a handful.
const RECENT_F: usize = 8;

impl<'a> JsonParser<'a> {
    fn problem(&self, len: usize, message: impl Into<String>, expected: impl Into<String>) -> Problem {
        Problem::new(ErrorKind::Syntax, self.pos, len, message, expected)
    }

    fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    #[inline]
    fn skip_ws(&mut self) {
        while let Some(b) = self.peek() {
            match b {
                b'\n' => self.line += 1,
                b' ' | b'\t' | b'\r' => {}
                _ => return,
            }
            self.pos += 1;
        }
    }

    fn expect(&mut self, b: u8, expected: &str) -> Result<(), Problem> {
        self.skip_ws();
        if self.peek() == Some(b) {
            self.pos += 1;
            Ok(())
        } else {
            let len = usize::from(self.peek().is_some());
            let found = self.peek().map_or("the end of input".to_string(), |c| format!("'{}'", c as char));
            Err(self.problem(len, format!("unexpected {found}"), expected))
        }
    }

    /// An array of objects, or objects one after another (JSON Lines).
    fn read_events(&mut self, builder: &mut HistoryBuilder) -> Result<(), Problem> {
        self.skip_ws();
        let in_array = self.peek() == Some(b'[');
        if in_array {
            self.pos += 1;
            self.skip_ws();
            if self.peek() == Some(b']') {
                self.pos += 1;
                return self.expect_end();
            }
        }
        loop {
            self.skip_ws();
            if !in_array && self.peek().is_none() {
                return Ok(());
            }
            builder.push(self.event()?)?;
            if in_array {
                self.skip_ws();
                match self.peek() {
                    Some(b',') => self.pos += 1,
                    Some(b']') => {
                        self.pos += 1;
                        return self.expect_end();
                    }
                    _ => return Err(self.problem(1, "unexpected text in the array of ops", "',' or ']'")),
                }
            }
        }
    }

    fn expect_end(&mut self) -> Result<(), Problem> {
        self.skip_ws();
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.problem(1, "unexpected text after the array of ops", "the end of the file")),
        }
    }

    fn event(&mut self) -> Result<Event, Problem> {
        let start = self.pos;
        let line = self.line;
        if self.peek() != Some(b'{') {
            let len = usize::from(self.peek().is_some());
            return Err(self.problem(
                len,
                "this is not an op object",
                r#"an op object such as {"type":"invoke","process":0,"f":"read","value":null}"#,
            ));
        }
        self.pos += 1;
        let mut fields = EventFields::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
        } else {
            loop {
                self.skip_ws();
                self.entry(&mut fields)?;
                self.skip_ws();
                match self.peek() {
                    Some(b',') => self.pos += 1,
                    Some(b'}') => {
                        self.pos += 1;
                        break;
                    }
                    _ => {
                        return Err(self.problem(
                            usize::from(self.peek().is_some()),
                            "unexpected text in the op object",
                            "',' or '}'",
                        ));
                    }
                }
            }
        }
        fields.finish(start, self.pos - start, line)
    }

    /// One key and its value in an op object. The keys labrys interprets are matched straight
    /// from the bytes and their usual values read in place (this is most of the input); any
    /// other key or value shape goes through the general value reader.
    fn entry(&mut self, fields: &mut EventFields) -> Result<(), Problem> {
        let field = self.known_key();
        let key = if field.is_none() { Some(self.key()?) } else { None };
        self.expect(b':', "':' after the key")?;
        self.skip_ws();
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

    /// The interpreted field a `"key"` at the cursor names, moving past it; `None`, with the
    /// cursor left in place, for any other key (or one with escapes).
    fn known_key(&mut self) -> Option<Field> {
        let name = self.input.get(self.pos..)?.strip_prefix(b"\"")?;
        let (field, len) = Field::prefix_of(name)?;
        // `"f"` must not match `"foo"`: the name must end where the string does.
        if name.get(len) != Some(&b'"') {
            return None;
        }
        self.pos += len + 2;
        Some(field)
    }

    /// The body of a string literal at `at` that has no escapes and no newline, else `None`.
    fn plain_string_at(&self, at: usize) -> Option<&'a [u8]> {
        let body = self.input.get(at..)?.strip_prefix(b"\"")?;
        // A raw newline (which JSON forbids, but labrys tolerates) must be counted, so it
        // takes the general path too.
        let end = body.iter().position(|&b| matches!(b, b'"' | b'\\' | b'\n'))?;
        (body[end] == b'"').then(|| &body[..end])
    }

    /// Reads the usual shape of an interpreted field's value in place: an integer `"index"`,
    /// `"time"` or `"process"`, a string `"type"`. Returns false, with the cursor left in
    /// place, for anything else (including every value that is an error).
    fn fast_value(&mut self, field: Field, fields: &mut EventFields) -> bool {
        let len = match field {
            Field::Index | Field::Time | Field::Process => match self.fast_int() {
                Some((n, len)) if fields.set_int(field, n) => len,
                _ => return false,
            },
            Field::Type => {
                let name = self.plain_string_at(self.pos);
                let Some((kind, len)) = name.and_then(|n| Some((EventKind::from_bytes(n)?, n.len()))) else {
                    return false;
                };
                fields.set_kind(kind);
                len + 2
            }
            Field::F => {
                let name = self.plain_string_at(self.pos);
                let Some((f, len)) = name.and_then(|n| Some((self.recent_f(n)?, n.len()))) else {
                    return false;
                };
                fields.set_f(f);
                len + 2
            }
            // Their values are general; `value` already reads strings and integers quickly.
            Field::Value | Field::Key => return false,
        };
        self.pos += len;
        true
    }

    /// The `"f"` name `name` as a keyword, from [`JsonParser::recent_f`] or made (and
    /// remembered) if it is new. `None` if it is not UTF-8, for the general path to report.
    fn recent_f(&mut self, name: &'a [u8]) -> Option<Value> {
        if let Some((_, f)) = self.recent_f.iter().find(|(n, _)| *n == name) {
            return Some(f.clone());
        }
        let f = Value::keyword(std::str::from_utf8(name).ok()?);
        if self.recent_f.len() < RECENT_F {
            self.recent_f.push((name, f.clone()));
        }
        Some(f)
    }

    /// A non-negative JSON integer at the cursor (no leading zero, not the start of a float)
    /// and its length: the shape of nearly every `"index"`, `"time"` and `"process"`.
    fn fast_int(&self) -> Option<(i64, usize)> {
        let rest = &self.input[self.pos..];
        let (n, len) = leading_uint(rest)?;
        let leading_zero = len > 1 && rest[0] == b'0';
        let more = rest.get(len).is_some_and(|b| matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'));
        (!leading_zero && !more).then_some((n, len))
    }

    /// The bytes at `at` that can belong to a JSON number.
    fn number_token_at(&self, at: usize) -> &'a [u8] {
        let rest = self.input.get(at..).unwrap_or_default();
        let len = rest
            .iter()
            .position(|&b| !(b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E')))
            .unwrap_or(rest.len());
        &rest[..len]
    }

    fn key(&mut self) -> Result<Value, Problem> {
        if self.peek() != Some(b'"') {
            return Err(self.problem(
                usize::from(self.peek().is_some()),
                "an object key must be a string",
                "a quoted key such as \"type\"",
            ));
        }
        self.string()
    }

    fn string(&mut self) -> Result<Value, Problem> {
        // Fast path: a short string with no escapes is looked up, not allocated.
        let body = &self.input[self.pos + 1..];
        if let Some(end) = body.iter().take(32).position(|&b| matches!(b, b'"' | b'\\' | b'\n')) {
            if body[end] == b'"' {
                let text = &body[..end];
                self.pos += end + 2;
                if let Some(s) = self.strings.get(text) {
                    return Ok(Value::Str(s.clone()));
                }
                if let Ok(s) = std::str::from_utf8(text) {
                    let s: Arc<str> = Arc::from(s);
                    self.strings.insert(text, s.clone());
                    return Ok(Value::Str(s));
                }
                self.pos -= end + 2;
            }
        }
        let (text, end, newlines) = scan_string(self.input, self.pos)?;
        self.pos = end;
        self.line += newlines;
        Ok(Value::Str(Arc::from(text)))
    }

    fn value(&mut self) -> Result<Value, Problem> {
        if self.depth > MAX_DEPTH {
            return Err(self.problem(
                1,
                format!("values nest deeper than {MAX_DEPTH} levels"),
                "a less deeply nested value",
            ));
        }
        match self.peek() {
            None => Err(self.problem(0, "unexpected end of input", "a value")),
            Some(b'"') => self.string(),
            Some(b'{') => self.object(),
            Some(b'[') => self.array(),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => self.literal(),
        }
    }

    fn array(&mut self) -> Result<Value, Problem> {
        let mut items = Vec::new();
        self.delimited(b']', "array", |p| {
            items.push(p.value()?);
            Ok(())
        })?;
        Ok(Value::Vector(items.into()))
    }

    fn object(&mut self) -> Result<Value, Problem> {
        let mut entries = Vec::new();
        self.delimited(b'}', "object", |p| {
            let k = p.key()?;
            p.expect(b':', "':' after the key")?;
            p.skip_ws();
            entries.push((k, p.value()?));
            Ok(())
        })?;
        Ok(Value::map(entries))
    }

    /// The comma-separated items of an array or object whose opening bracket is at the cursor,
    /// each read by `item` (called with the cursor at the item), up to and past `close`.
    fn delimited(
        &mut self,
        close: u8,
        what: &str,
        mut item: impl FnMut(&mut Self) -> Result<(), Problem>,
    ) -> Result<(), Problem> {
        self.pos += 1;
        self.depth += 1;
        self.skip_ws();
        if self.peek() == Some(close) {
            self.pos += 1;
            self.depth -= 1;
            return Ok(());
        }
        loop {
            self.skip_ws();
            item(self)?;
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b) if b == close => {
                    self.pos += 1;
                    self.depth -= 1;
                    return Ok(());
                }
                _ => {
                    return Err(self.problem(
                        usize::from(self.peek().is_some()),
                        format!("unexpected text in an {what}"),
                        format!("',' or '{}'", close as char),
                    ));
                }
            }
        }
    }

    fn number(&mut self) -> Result<Value, Problem> {
        let start = self.pos;
        let text = self.number_token_at(start);
        let len = text.len();
        self.pos += len;
        if let Some(n) = json_int(text) {
            return Ok(Value::Int(n));
        }
        let bad = || {
            Problem::new(
                ErrorKind::Syntax,
                start,
                len,
                format!("not a number: {}", String::from_utf8_lossy(text)),
                "a JSON number such as 42, -7 or 1.5e3",
            )
        };
        let digits = text.strip_prefix(b"-").unwrap_or(text);
        if is_json_int(text) {
            // Well-formed, but too large for 64 bits: kept as its text.
            return Ok(Value::Number(Arc::from(std::str::from_utf8(text).map_err(|_| bad())?)));
        }
        let s = std::str::from_utf8(text).map_err(|_| bad())?;
        let leading_zero = digits.len() > 1 && digits[0] == b'0' && digits[1].is_ascii_digit();
        let well_formed = digits.first().is_some_and(u8::is_ascii_digit)
            && !leading_zero
            && !s.ends_with(['.', 'e', 'E', '+', '-']);
        match s.parse::<f64>() {
            Ok(x) if well_formed => Ok(Value::Float(Float(x))),
            _ => Err(bad()),
        }
    }

    fn literal(&mut self) -> Result<Value, Problem> {
        let rest = &self.input[self.pos..];
        for (word, v) in
            [(&b"null"[..], Value::Nil), (b"true", Value::Bool(true)), (b"false", Value::Bool(false))]
        {
            if rest.starts_with(word) {
                self.pos += word.len();
                return Ok(v);
            }
        }
        let len = rest.iter().position(|b| b" \t\r\n,:]}".contains(b)).unwrap_or(rest.len()).max(1);
        Err(self.problem(
            len,
            format!("unexpected '{}'", String::from_utf8_lossy(&rest[..len.min(rest.len())])),
            "a JSON value: a string, number, object, array, true, false or null",
        ))
    }
}

/// True when `text` is a JSON integer: an optional `-`, then digits without a leading zero.
fn is_json_int(text: &[u8]) -> bool {
    let digits = text.strip_prefix(b"-").unwrap_or(text);
    !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) && (digits.len() == 1 || digits[0] != b'0')
}

/// `text` as an `i64`, when it is a JSON integer that fits.
fn json_int(text: &[u8]) -> Option<i64> {
    if is_json_int(text) { parse_i64(text) } else { None }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::op::Outcome;

    fn history(text: &str) -> Result<crate::history::History, ReadError> {
        let mut b = HistoryBuilder::new("t.json", false);
        read("t.json", text.as_bytes(), &mut b)?;
        Ok(b.finish())
    }

    #[test]
    fn reads_lines_and_arrays_alike() {
        let lines = "{\"index\":0,\"type\":\"invoke\",\"process\":0,\"f\":\"write\",\"value\":2}\n{\"index\":1,\"type\":\"ok\",\"process\":0,\"f\":\"write\",\"value\":2}\n";
        let array = format!("[{}]", lines.trim_end().replace('\n', ",\n"));
        for text in [lines.to_string(), array] {
            let h = history(&text).unwrap();
            assert_eq!(h.ops.len(), 1);
            assert_eq!(h.ops[0].outcome, Outcome::Ok);
            assert_eq!(h.value(h.ops[0].f), &Value::keyword("write"));
            assert_eq!(h.value(h.ops[0].input), &Value::Int(2));
        }
    }

    #[test]
    fn values_keep_their_shape() {
        let h = history(r#"{"type":"invoke","process":1,"f":"txn","value":[["append","x",1],["r","y",null]],"extra":{"a":1.5}}"#).unwrap();
        let v = h.value(h.ops[0].input);
        assert_eq!(v.to_string(), r#"[["append" "x" 1] ["r" "y" nil]]"#);
        assert_eq!(h.extras[0].fields[0].0, Value::string("extra"));
    }

    #[test]
    fn newlines_inside_strings_are_counted() {
        let text = "{\"type\":\"invoke\",\"process\":0,\"f\":\"a\nb\",\"value\":\"x\ny\"}\n{\"type\":\"invoke\",\"process\":1,\"f\":\"read\"}\n";
        let h = history(text).unwrap();
        assert_eq!(h.ops[1].invoke_line, 4);
        assert_eq!(h.value(h.ops[0].f), &Value::keyword("a\nb"));
    }

    #[test]
    fn syntax_errors_are_located() {
        let e = history("{\"type\":\"invoke\",\n\"process\":0,\"f\":\"read\" \"value\":1}").unwrap_err();
        assert_eq!((e.line, e.column), (2, 24));
        assert!(e.expected.contains("','"));
        let e = history("[{\"type\":\"invoke\",\"process\":0,\"f\":\"read\"} {}]").unwrap_err();
        assert!(e.message.contains("array of ops"), "{e}");
        let e = history("{\"type\":\"invoke\",\"process\":0,\"f\":\"read\",\"value\":01}").unwrap_err();
        assert!(e.message.contains("not a number"), "{e}");
        let e = history("{\"type\":\"invoke\",\"process\":0,\"f\":\"read\",\"value\":nul}").unwrap_err();
        assert!(e.message.contains("unexpected 'nul'"), "{e}");
    }

    #[test]
    fn nested_values_errors_name_the_bracket_they_wanted() {
        let op = |value: &str| {
            history(&format!("{{\"type\":\"invoke\",\"process\":0,\"f\":\"r\",\"value\":{value}}}"))
        };
        let e = op("[1 2]").unwrap_err();
        assert_eq!(
            (e.message.as_str(), e.expected.as_str(), e.column),
            ("unexpected text in an array", "',' or ']'", 49)
        );
        let e = op(r#"{"a":1 "b":2}"#).unwrap_err();
        assert_eq!(
            (e.message.as_str(), e.expected.as_str(), e.column),
            ("unexpected text in an object", "',' or '}'", 53)
        );
        // Empty and nested collections still read.
        let h = op(r#"[[], {}, [{"a":[1]}]]"#).unwrap();
        assert_eq!(h.value(h.ops[0].input).to_string(), "[[] {} [{\"a\" [1]}]]");
    }
}
