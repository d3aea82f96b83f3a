//! A fast reader for transactional histories: micro-ops go straight into compact form, never
//! through value trees, and the file is scanned in pieces on all cores.
//!
//! A large list-append history is mostly read lists; as value trees (32 bytes an element,
//! interned whole) it would need many times its own size in memory (docs/performance.md). Here
//! each event of the usual shape — an op map with `:index`, `:time`, `:type`, `:process`, `:f
//! :txn` and a vector of `[:append k v]` / `[:r k v]` / `[:w k v]` with integer values — is
//! scanned in place; any other event (a nemesis op, an `:error` field, a string value) goes
//! through the general reader's event parser, and its micro-ops through the same decoder as
//! [`super::decode`]. Pairing is the general [`HistoryBuilder`]'s, so errors, `--lenient`
//! and every later use of the history are unchanged; only the transactions' values are kept
//! aside, in [`Txns`], and left `nil` in the history.
//!
//! Pieces are cut at line ends. When an event spans a cut, or any piece meets an error, the
//! file is read again in one piece, so what is reported is exactly what a sequential read
//! reports.

use super::Workload;
use super::ops::{Elem, Mop, MopKind, NIL, OTHER, Shape, Txns, TxnsBuilder, decode_mop};
use crate::history::{
    Event, EventKind, Format, History, HistoryBuilder, Process, ReadError, ReadOptions, Value, edn, json,
};
use rayon::prelude::*;

/// Pieces smaller than this are not worth a thread.
const MIN_PIECE: usize = 4 << 20;

/// Why a piece could not be read the fast way.
enum Trouble {
    /// A syntax error, or a cut inside an event: read again in one piece, or the general way.
    Malformed,
    /// Not a transactional history of Elle's micro-ops: read it the general way.
    NotTxns,
}

/// The kinds of micro-ops seen, to decide (or check) the workload.
#[derive(Clone, Copy, Debug, Default)]
struct Seen {
    append: bool,
    write: bool,
    list_read: bool,
    value_read: bool,
}

impl Seen {
    fn add(&mut self, shape: Shape) {
        match shape {
            Shape::Append => self.append = true,
            Shape::Write => self.write = true,
            Shape::ListRead => self.list_read = true,
            Shape::ValueRead => self.value_read = true,
            Shape::NilRead => {}
        }
    }

    fn merge(&mut self, o: Seen) {
        self.append |= o.append;
        self.write |= o.write;
        self.list_read |= o.list_read;
        self.value_read |= o.value_read;
    }

    /// The workload these micro-ops belong to, if they belong to one (`given` if it fits).
    fn workload(self, given: Option<Workload>) -> Option<Workload> {
        let list = self.append || self.list_read;
        let register = self.write || self.value_read;
        let w = match (given, list, register) {
            (_, true, true) => return None,
            (Some(w), _, _) => w,
            (None, _, true) => Workload::RwRegister,
            (None, _, false) => Workload::ListAppend,
        };
        let fits = match w {
            Workload::ListAppend => !register,
            Workload::RwRegister => !list,
        };
        fits.then_some(w)
    }
}

/// One event as scanned: its fields, its micro-ops in the piece's builder, and for an event the
/// general parser read, the event itself (with a transaction's value left out).
struct Scanned {
    kind: EventKind,
    /// The client process; `u32::MAX` when the event has no `:process` (the scanner reads only
    /// client events; the general parser's events keep theirs in `general`).
    process: u32,
    /// Whether it is a client event (not a fault).
    client: bool,
    index: Option<u64>,
    time: Option<i64>,
    line: u32,
    offset: usize,
    len: usize,
    mops: (u32, u32),
    general: Option<Box<Event>>,
}

/// What a piece of the file holds.
struct Piece {
    events: Vec<Scanned>,
    builder: TxnsBuilder,
    seen: Seen,
    /// Where the last event ended.
    end: usize,
    /// Line breaks in the piece.
    lines: u32,
}

/// Reads `input` as a history of Elle's transactions. `Ok(None)` when it is not one — some
/// client op is not a `:txn` of `:append`/`:r`/`:w` micro-ops, or they do not fit `workload`,
/// or the text is not well-formed — so the caller reads it the general way (which also reports
/// what is wrong with it). A pairing problem is reported here, as the general reader would.
pub fn read_bytes(
    source: &str,
    input: &[u8],
    format: Format,
    options: &ReadOptions,
    workload: Option<Workload>,
) -> Result<Option<(History, Txns)>, ReadError> {
    if format == Format::JepsenLog {
        return Ok(None);
    }
    let input = crate::history::skip_bom(input);
    let Some((start, end)) = body(input, format) else { return Ok(None) };
    let cuts = cut(input, start, end);
    let pieces = match read_pieces(input, format, &cuts) {
        Ok(p) if joined(&p, &cuts) => p,
        Err(Trouble::NotTxns) => return Ok(None),
        _ => match read_pieces(input, format, &[start, end]) {
            Ok(p) => p,
            // The general reader pairs as it parses, so it may meet a pairing problem before a
            // syntax error further on: let it read the file and say which comes first.
            Err(_) => return Ok(None),
        },
    };
    // With no client op, nothing says the history is transactional: the general reader reads
    // it, and the model is guessed as for any other history.
    if workload.is_none() && !pieces.iter().any(|p| p.events.iter().any(|e| e.client)) {
        return Ok(None);
    }
    let mut seen = Seen::default();
    pieces.iter().for_each(|p| seen.merge(p.seen));
    let Some(workload) = seen.workload(workload) else { return Ok(None) };
    assemble(source, input, options, workload, pieces).map(Some)
}

/// The part of `input` that holds the events: all of it, or inside the brackets of one
/// vector (EDN) or array (JSON) of them. `None` if an opening bracket is never closed.
fn body(input: &[u8], format: Format) -> Option<(usize, usize)> {
    let mut s = Scanner { input, pos: 0, line: 1, json: format == Format::Json };
    s.ws();
    match s.peek() {
        Some(open @ (b'[' | b'(')) => {
            let close = if open == b'[' { b']' } else { b')' };
            let last = input.iter().rposition(|b| !b.is_ascii_whitespace())?;
            (input[last] == close && last > s.pos).then_some((s.pos + 1, last))
        }
        _ => Some((0, input.len())),
    }
}

/// Piece boundaries: `start`, cuts just after line breaks, `end`.
fn cut(input: &[u8], start: usize, end: usize) -> Vec<usize> {
    let pieces = ((end - start) / MIN_PIECE).clamp(1, 4 * rayon::current_num_threads());
    let mut cuts = vec![start];
    for i in 1..pieces {
        let at = start + (end - start) * i / pieces;
        if let Some(nl) = input[at..end].iter().position(|&b| b == b'\n') {
            if at + nl + 1 > *cuts.last().expect("cuts start with start") {
                cuts.push(at + nl + 1);
            }
        }
    }
    cuts.push(end);
    cuts.dedup();
    cuts
}

fn read_pieces(input: &[u8], format: Format, cuts: &[usize]) -> Result<Vec<Piece>, Trouble> {
    cuts.par_windows(2).map(|w| read_piece(input, format, w[0], w[1])).collect()
}

/// Whether every piece ended where the next began (no event spans a cut).
fn joined(pieces: &[Piece], cuts: &[usize]) -> bool {
    pieces.iter().zip(&cuts[1..]).all(|(p, &next)| p.end <= next)
}

fn read_piece(input: &[u8], format: Format, start: usize, end: usize) -> Result<Piece, Trouble> {
    let json = format == Format::Json;
    let mut s = Scanner { input, pos: start, line: 1, json };
    let mut piece = Piece {
        events: Vec::new(),
        builder: TxnsBuilder::new(Workload::ListAppend),
        seen: Seen::default(),
        end: start,
        lines: 0,
    };
    piece.builder.txns.elems.push(Vec::new());
    loop {
        s.ws();
        if s.pos >= end {
            break;
        }
        let (at, line) = (s.pos, s.line);
        let marks = (piece.builder.txns.mops.len(), piece.builder.txns.elems[0].len());
        if let Some(mut ev) = s.event(&mut piece.builder, &mut piece.seen) {
            ev.line = line;
            ev.offset = at;
            ev.len = s.pos - at;
            piece.events.push(ev);
        } else {
            // Not the usual shape: undo what was scanned, and let the general parser read it.
            piece.builder.txns.mops.truncate(marks.0);
            piece.builder.txns.elems[0].truncate(marks.1);
            let (event, next, next_line) =
                if json { json::event_at(input, at, line) } else { edn::event_at(input, at, line) }
                    .map_err(|_| Trouble::Malformed)?;
            s.pos = next;
            s.line = next_line;
            let scanned = general(event, &mut piece)?;
            piece.events.push(scanned);
        }
        piece.end = s.pos;
    }
    piece.lines = count_lines(&input[start..end]);
    Ok(piece)
}

fn count_lines(bytes: &[u8]) -> u32 {
    bytes.iter().filter(|&&b| b == b'\n').count() as u32
}

/// An event the general parser read: a fault as it is; a client op must be a transaction, whose
/// micro-ops are decoded into the piece's builder and whose value is then dropped.
fn general(mut event: Event, piece: &mut Piece) -> Result<Scanned, Trouble> {
    let client = !matches!(event.process, Process::Other(_));
    let first = piece.builder.txns.mops.len() as u32;
    if client {
        if event.f.as_name() != Some("txn") {
            return Err(Trouble::NotTxns);
        }
        for m in event.value.as_seq().unwrap_or_default() {
            let (mop, shape) = decode_mop(m, &mut piece.builder).map_err(|_| Trouble::NotTxns)?;
            piece.seen.add(shape);
            piece.builder.push(mop);
        }
        if !event.value.is_nil() && event.value.as_seq().is_none() {
            return Err(Trouble::NotTxns);
        }
        event.value = Value::Nil;
    }
    let count = piece.builder.txns.mops.len() as u32 - first;
    Ok(Scanned {
        kind: event.kind,
        // Unused: the event itself is pushed.
        process: u32::MAX,
        client,
        index: event.index,
        time: event.time,
        line: event.line,
        offset: event.offset,
        len: event.len,
        mops: (first, count),
        general: Some(Box::new(event)),
    })
}

/// Pairs the events (in file order) with the general builder, then gathers each op's
/// micro-ops — the completion's for an `:ok` op, else the invocation's unless the completion
/// has some — into one [`Txns`], keys and values renumbered across pieces.
fn assemble(
    source: &str,
    input: &[u8],
    options: &ReadOptions,
    workload: Workload,
    pieces: Vec<Piece>,
) -> Result<(History, Txns), ReadError> {
    let mut builder = HistoryBuilder::new(source, options.lenient);
    let txn = Value::keyword("txn");
    let mut from: Vec<(u32, u32)> = Vec::new(); // per op: (piece, event)
    let mut line_base = 0;
    for (p, piece) in pieces.iter().enumerate() {
        for (e, sc) in piece.events.iter().enumerate() {
            let event = match &sc.general {
                Some(g) => Event { line: g.line + line_base, ..(**g).clone() },
                None => Event {
                    index: sc.index,
                    time: sc.time,
                    kind: sc.kind,
                    process: if sc.process == u32::MAX {
                        Process::Absent
                    } else {
                        Process::Client(sc.process)
                    },
                    f: txn.clone(),
                    value: Value::Nil,
                    key: None,
                    extra: Vec::new(),
                    offset: sc.offset,
                    len: sc.len,
                    line: sc.line + line_base,
                },
            };
            let op = builder.push_op(event).map_err(|problem| ReadError::locate(source, input, problem))?;
            // A new op (an invocation, or in a history without :process a completion that is
            // an op of its own) takes its event's micro-ops until a completion brings others.
            match (op, sc.kind) {
                (Some(op), _) if op as usize == from.len() => from.push((p as u32, e as u32)),
                (Some(op), EventKind::Ok) => from[op as usize] = (p as u32, e as u32),
                (Some(op), _) if sc.mops.1 > 0 => from[op as usize] = (p as u32, e as u32),
                _ => {}
            }
        }
        line_base += piece.lines;
    }
    let history = builder.finish();
    let txns = gather(workload, pieces, &from);
    Ok((history, txns))
}

/// The micro-ops of every op, from the events chosen for them.
fn gather(workload: Workload, mut pieces: Vec<Piece>, from: &[(u32, u32)]) -> Txns {
    let mut out = TxnsBuilder::new(workload);
    let maps: Vec<(Vec<u32>, Vec<u32>)> = pieces
        .iter()
        .map(|p| {
            let keys = p.builder.txns.keys.iter().map(|k| out.key_id(k)).collect();
            let others = p.builder.txns.others.iter().map(|v| out.elem(v)).collect();
            (keys, others)
        })
        .collect();
    let remap =
        |others: &[u32], e: Elem| if e != NIL && e & OTHER != 0 { others[(e & !OTHER) as usize] } else { e };
    for &(p, e) in from {
        let piece = &pieces[p as usize];
        let (first, count) = piece.events[e as usize].mops;
        let (keys, others) = &maps[p as usize];
        for m in &piece.builder.txns.mops[first as usize..(first + count) as usize] {
            let list = m.kind == MopKind::Read && m.len != NIL && workload == Workload::ListAppend;
            let value = if list { m.value } else { remap(others, m.value) };
            out.push(Mop { kind: m.kind, arena: p as u8, key: keys[m.key as usize], value, len: m.len });
        }
        out.end_op();
    }
    let mut txns = out.finish();
    txns.elems = pieces
        .iter_mut()
        .zip(&maps)
        .map(|(piece, (_, others))| {
            let mut arena = std::mem::take(&mut piece.builder.txns.elems[0]);
            if !others.is_empty() {
                arena.iter_mut().for_each(|e| *e = remap(others, *e));
            }
            arena
        })
        .collect();
    txns
}

/// A byte scanner over the usual shape of events.
struct Scanner<'a> {
    input: &'a [u8],
    pos: usize,
    line: u32,
    json: bool,
}

impl<'a> Scanner<'a> {
    #[inline]
    fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    /// Skips whitespace (and in EDN commas and `;` comments; in JSON the commas between the
    /// events of an array).
    #[inline]
    fn ws(&mut self) {
        while let Some(b) = self.peek() {
            match b {
                b'\n' => self.line += 1,
                b' ' | b'\t' | b'\r' | b',' => {}
                b';' if !self.json => {
                    while self.peek().is_some_and(|b| b != b'\n') {
                        self.pos += 1;
                    }
                    continue;
                }
                _ => return,
            }
            self.pos += 1;
        }
    }

    /// Whitespace inside an event, which must stay on its line.
    #[inline]
    fn blank(&mut self) {
        while let Some(b' ' | b'\t' | b',') = self.peek() {
            self.pos += 1;
        }
    }

    #[inline]
    fn eat(&mut self, b: u8) -> Option<()> {
        self.blank();
        (self.peek()? == b).then(|| self.pos += 1)
    }

    /// Whether a token ends at the cursor. EDN's delimiters are the general reader's: a `;`
    /// there starts a comment, a `"` a string.
    fn delimited(&self) -> bool {
        self.peek().is_none_or(|b| match b {
            b' ' | b'\t' | b'\r' | b'\n' | b',' | b'}' | b']' => true,
            b')' | b'(' | b'[' | b'{' | b'"' | b';' => !self.json,
            _ => false,
        })
    }

    /// A non-negative decimal integer, ending at a delimiter.
    #[inline]
    fn uint(&mut self) -> Option<u64> {
        let start = self.pos;
        let mut n: u64 = 0;
        while let Some(d @ b'0'..=b'9') = self.peek() {
            n = n.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
            self.pos += 1;
        }
        (self.pos > start && self.delimited()).then_some(n)
    }

    /// A value that fits an [`Elem`] as itself.
    #[inline]
    fn small(&mut self) -> Option<Elem> {
        self.uint().filter(|&n| n < u64::from(OTHER)).map(|n| n as u32)
    }

    /// The name of a keyword (EDN) or of a plain string without escapes (JSON).
    fn name(&mut self) -> Option<&'a [u8]> {
        self.blank();
        if self.json {
            self.eat(b'"')?;
            let start = self.pos;
            let len = self.input[start..].iter().position(|&b| b == b'"' || b == b'\\' || b == b'\n')?;
            (self.input[start + len] == b'"').then_some(())?;
            self.pos = start + len + 1;
            Some(&self.input[start..start + len])
        } else {
            self.eat(b':')?;
            let start = self.pos;
            // Plain names only (`::auto`, odd bytes and the like are the general reader's).
            let plain = |b: u8| b.is_ascii_alphanumeric() || b"-_.*+!?<>=/".contains(&b);
            while self.peek().is_some_and(plain) {
                self.pos += 1;
            }
            (self.pos > start && self.delimited()).then(|| &self.input[start..self.pos])
        }
    }

    fn nil(&mut self) -> bool {
        let word: &[u8] = if self.json { b"null" } else { b"nil" };
        if self.input[self.pos..].starts_with(word) {
            self.pos += word.len();
            if self.delimited() {
                return true;
            }
            self.pos -= word.len();
        }
        false
    }

    /// An op map of the usual shape (the cursor on its `{`); `None`, with the cursor anywhere,
    /// for anything else.
    fn event(&mut self, b: &mut TxnsBuilder, seen: &mut Seen) -> Option<Scanned> {
        // Jepsen writes ops as records: #jepsen.history.Op{...}.
        // (`#_` is a discard, not a tag.)
        let tag = self.input.get(self.pos + 1).is_some_and(u8::is_ascii_alphabetic);
        if !self.json && self.peek() == Some(b'#') && tag {
            self.pos += 1;
            while self.peek().is_some_and(|c| c.is_ascii_alphanumeric() || b"._-".contains(&c)) {
                self.pos += 1;
            }
        }
        self.eat(b'{')?;
        let mut ev = Scanned {
            kind: EventKind::Invoke,
            process: u32::MAX,
            client: true,
            index: None,
            time: None,
            line: 0,
            offset: 0,
            len: 0,
            mops: (0, 0),
            general: None,
        };
        // `:f` may be left out (Elle's histories do) when the value is micro-ops.
        let (mut kind, mut f) = (false, None);
        let first = b.txns.mops.len() as u32;
        loop {
            self.blank();
            if self.peek()? == b'}' {
                self.pos += 1;
                break;
            }
            let key = self.name()?;
            if self.json {
                self.eat(b':')?;
            }
            self.blank();
            match key {
                b"index" => ev.index = Some(self.uint()?),
                b"time" => ev.time = Some(i64::try_from(self.uint()?).ok()?),
                b"process" => ev.process = u32::try_from(self.uint()?).ok().filter(|&p| p != u32::MAX)?,
                b"type" => {
                    ev.kind = EventKind::from_bytes(self.name()?)?;
                    kind = true;
                }
                b"f" => f = Some(self.name()? == b"txn"),
                b"value" => self.mops(b, seen)?,
                _ => return None,
            }
            self.blank();
            if self.json && self.peek() == Some(b',') {
                self.pos += 1;
            }
        }
        ev.mops = (first, b.txns.mops.len() as u32 - first);
        let txn = f.unwrap_or(ev.mops.1 > 0);
        // No :process (Elle's examples) leaves `process` at u32::MAX: the builder decides.
        (kind && txn).then_some(ev)
    }

    /// A transaction's micro-ops: `nil`, or a vector of `[f k v]`.
    fn mops(&mut self, b: &mut TxnsBuilder, seen: &mut Seen) -> Option<()> {
        if self.nil() {
            return Some(());
        }
        self.eat(b'[')?;
        loop {
            self.blank();
            match self.peek()? {
                b']' => {
                    self.pos += 1;
                    return Some(());
                }
                b'[' => {
                    self.pos += 1;
                    let (mop, shape) = self.mop(b)?;
                    seen.add(shape);
                    b.push(mop);
                }
                _ => return None,
            }
        }
    }

    /// One micro-op after its `[`, through its `]`.
    fn mop(&mut self, b: &mut TxnsBuilder) -> Option<(Mop, Shape)> {
        let f = self.name()?;
        let kind = match f {
            b"append" => MopKind::Append,
            b"r" => MopKind::Read,
            b"w" => MopKind::Write,
            _ => return None,
        };
        self.blank();
        let key = self.key(b)?;
        self.blank();
        let mop = |value, len| Mop { kind, arena: 0, key, value, len };
        let result = match kind {
            MopKind::Append => (mop(self.small()?, 0), Shape::Append),
            MopKind::Write => (mop(self.small()?, 0), Shape::Write),
            MopKind::Read if self.nil() => (mop(NIL, NIL), Shape::NilRead),
            MopKind::Read if self.peek()? == b'[' => {
                let (start, len) = self.list(b)?;
                (mop(start, len), Shape::ListRead)
            }
            MopKind::Read => (mop(self.small()?, 0), Shape::ValueRead),
        };
        self.eat(b']')?;
        Some(result)
    }

    /// A key: a non-negative integer, an EDN keyword or a JSON string.
    fn key(&mut self, b: &mut TxnsBuilder) -> Option<u32> {
        if self.peek()?.is_ascii_digit() {
            return Some(b.int_key_id(i64::try_from(self.uint()?).ok()?));
        }
        let json = self.json;
        let name = std::str::from_utf8(self.name()?).ok()?;
        Some(b.key_id(&if json { Value::string(name) } else { Value::keyword(name) }))
    }

    /// A list of small integers into the piece's arena: where it starts, and its length.
    fn list(&mut self, b: &mut TxnsBuilder) -> Option<(u32, u32)> {
        self.pos += 1; // '['
        let arena = &mut b.txns.elems[0];
        let start = arena.len();
        loop {
            self.blank();
            match self.peek()? {
                b']' => {
                    self.pos += 1;
                    break;
                }
                b'0'..=b'9' => arena.push(self.small()?),
                _ => return None,
            }
        }
        Some((u32::try_from(start).ok()?, (arena.len() - start) as u32))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::list_append::{TxnFormat, TxnGenConfig, TxnWorkload, history_string};

    /// The fast reader and the general reader plus [`super::super::decode`] agree on
    /// everything: ops, and every op's micro-ops.
    fn agree(text: &str, format: Format, pieces: usize) {
        let options = ReadOptions::default();
        let general = crate::history::read_bytes("t", text.as_bytes(), format, &options).unwrap();
        let workload = super::super::guess_workload(&general).unwrap();
        let expected = super::super::decode(&general, workload).unwrap();
        let (start, end) = body(text.as_bytes(), format).unwrap();
        let cuts: Vec<usize> =
            if pieces == 1 { vec![start, end] } else { cut_into(text.as_bytes(), start, end, pieces) };
        let ps = read_pieces(text.as_bytes(), format, &cuts).ok().unwrap();
        assert!(joined(&ps, &cuts));
        let (history, txns) = assemble("t", text.as_bytes(), &options, workload, ps).unwrap();
        assert_eq!(history.ops.len(), general.ops.len());
        for (i, (a, b)) in history.ops.iter().zip(&general.ops).enumerate() {
            let same = (
                a.process,
                a.outcome,
                a.invoke_time,
                a.complete_time,
                a.invoke_line,
                a.complete_line,
                a.invoke_index,
            );
            assert_eq!(
                same,
                (
                    b.process,
                    b.outcome,
                    b.invoke_time,
                    b.complete_time,
                    b.invoke_line,
                    b.complete_line,
                    b.invoke_index
                ),
                "op {i}"
            );
            assert_eq!(txns.txn_text(i), expected.txn_text(i), "op {i}");
        }
        assert_eq!(history.faults, general.faults);
    }

    fn cut_into(input: &[u8], start: usize, end: usize, n: usize) -> Vec<usize> {
        let mut cuts = vec![start];
        for i in 1..n {
            let at = start + (end - start) * i / n;
            let nl = input[at..end].iter().position(|&b| b == b'\n').map_or(end, |p| at + p + 1);
            if nl > *cuts.last().unwrap() && nl < end {
                cuts.push(nl);
            }
        }
        cuts.push(end);
        cuts
    }

    #[test]
    fn agrees_with_the_general_reader_on_generated_histories() {
        for (workload, format, tf) in [
            (TxnWorkload::ListAppend, Format::Edn, TxnFormat::Edn),
            (TxnWorkload::ListAppend, Format::Json, TxnFormat::Json),
            (TxnWorkload::RwRegister, Format::Edn, TxnFormat::Edn),
            (TxnWorkload::RwRegister, Format::Json, TxnFormat::Json),
        ] {
            let c = TxnGenConfig {
                workload,
                txns: 300,
                processes: 5,
                active_keys: 4,
                max_writes_per_key: 6,
                crash_rate: 0.1,
                fail_rate: 0.1,
                ..TxnGenConfig::default()
            };
            let text = history_string(&c, tf);
            agree(&text, format, 1);
            agree(&text, format, 5);
        }
    }

    #[test]
    fn unusual_events_go_through_the_general_parser() {
        let text = ";; a comment\n\
            #jepsen.history.Op{:index 9, :time 1, :type :invoke, :process 5, :f :txn, :value [[:r 3 nil]]}\n\
            #jepsen.history.Op{:index 10, :time 2, :type :ok, :process 5, :f :txn, :value [[:r 3 []]]}\n\
            {:index 0, :time 5, :type :info, :process :nemesis, :f :start, :value [:isolated {\"n1\" #{\"n2\"}}]}\n\
            {:index 1, :time 6, :type :invoke, :process 0, :f :txn, :value [[:append :x 1] [:r \"y\" nil]]}\n\
            {:index 2, :time 7, :type :ok, :process 0, :f :txn, :value [[:append :x 1] [:r \"y\" [-1 :a]]], :node \"n1\"}\n\
            {:index 3, :time 8, :type :invoke, :process 1, :f :txn, :value [[:r :x nil]]}\n\
            {:index 4, :time 9, :type :fail, :process 1, :f :txn, :value [[:r :x nil]], :error [:timeout]}\n";
        agree(text, Format::Edn, 1);
        agree(text, Format::Edn, 3);
        let json = "[{\"index\":0,\"type\":\"invoke\",\"process\":0,\"f\":\"txn\",\"value\":[[\"append\",\"x\",1]]},\n\
                    {\"index\":1,\"type\":\"ok\",\"process\":0,\"f\":\"txn\",\"value\":[[\"append\",\"x\",1]]}]\n";
        agree(json, Format::Json, 1);
        // elle-cli's histories leave :f out.
        let json = "[{\"index\":0,\"type\":\"invoke\",\"process\":0,\"value\":[[\"append\",\"x\",1]]},\n\
                    {\"index\":1,\"type\":\"ok\",\"process\":0,\"value\":[[\"append\",\"x\",1]]}]\n";
        agree(json, Format::Json, 1);
    }

    #[test]
    fn histories_without_process_are_read_as_the_general_reader_reads_them() {
        // Elle's example shape: no :process, no :f, alternating; one event the general parser
        // reads (a string value).
        let text = "{:index 0 :type :invoke :value [[:append 1 1] [:r 1 nil]]}\n\
                    {:index 1 :type :ok :value [[:append 1 1] [:r 1 [1]]]}\n\
                    {:index 2 :type :info :process :nemesis :f :kill :value nil}\n\
                    {:index 3 :type :invoke :value [[:r 1 nil] [:append \"k\" 2]]}\n\
                    {:index 4 :type :info :value [[:r 1 nil] [:append \"k\" 2]]}\n\
                    {:index 5 :type :invoke :value [[:r 1 nil]]}\n\
                    {:index 6 :type :ok :value [[:r 1 [1]]]}\n";
        agree(text, Format::Edn, 1);
        agree(text, Format::Edn, 3);
        // elle-cli's: completions only, without :index either.
        let json = "[{\"type\":\"ok\",\"value\":[[\"append\",\"x\",1]]},\n\
                    {\"type\":\"ok\",\"value\":[[\"r\",\"x\",[1]]]},\n\
                    {\"type\":\"fail\",\"value\":[[\"append\",\"x\",2]]}]\n";
        agree(json, Format::Json, 1);
        agree(json, Format::Json, 2);
        let (h, t) =
            read_bytes("t", json.as_bytes(), Format::Json, &ReadOptions::default(), None).unwrap().unwrap();
        assert_eq!((h.ops.len(), t.workload), (3, Workload::ListAppend));
        assert_eq!(t.txn_text(1), "[[:r \"x\" [1]]]");
    }

    #[test]
    fn histories_without_client_ops_are_left_to_the_general_reader_unless_a_workload_is_given() {
        let options = ReadOptions::default();
        for (text, format) in [
            ("", Format::Edn),
            ("[]", Format::Json),
            ("{:type :info, :process :nemesis, :f :kill}\n", Format::Edn),
        ] {
            assert!(read_bytes("t", text.as_bytes(), format, &options, None).unwrap().is_none(), "{text:?}");
            let (h, t) = read_bytes("t", text.as_bytes(), format, &options, Some(Workload::RwRegister))
                .unwrap()
                .unwrap();
            assert_eq!((h.ops.len(), t.workload), (0, Workload::RwRegister), "{text:?}");
        }
    }

    #[test]
    fn regressions_from_fuzzing() {
        // `#_` discards an event; it is not a tagged record.
        let text = "{:type :invoke, :process 3, :f :txn, :value [[:append :x 9]]}\n\
                    #_{:type :invoke, :process 3, :f :txn, :value [[:append :x 9]]}\n\
                    {:type :fail, :process 3, :f :txn, :value [[:append :x 9]]}\n";
        assert!(
            read_bytes("t", text.as_bytes(), Format::Edn, &ReadOptions::default(), None).unwrap().is_none()
        );
        // A nil value is a transaction without micro-ops, for both readers.
        let text = "{:type :invoke, :process 0, :f :txn, :value nil}\n{:type :fail, :process 0, :f :txn, :value nil}\n\
                    {:type :invoke, :process 1, :f :txn, :value [[:r :x nil]]}\n{:type :ok, :process 1, :f :txn, :value [[:r :x []]]}\n";
        agree(text, Format::Edn, 1);
        // Auto-resolved keywords are the general reader's to read, and read the same.
        let text = "{:type :invoke, :process 0, :f :txn, :value [[:r ::y nil]]}\n";
        agree(text, Format::Edn, 1);
        // A keyword ends where a comment begins.
        let text = "{:type :invoke, :process 0, :f :txn, :value [[:r :x; nil]]}\n";
        assert!(
            read_bytes("t", text.as_bytes(), Format::Edn, &ReadOptions::default(), None).unwrap().is_none()
        );
    }

    #[test]
    fn other_histories_are_declined() {
        let options = ReadOptions::default();
        let register = "{:type :invoke, :process 0, :f :write, :value 1}\n{:type :ok, :process 0, :f :write, :value 1}\n";
        assert!(read_bytes("t", register.as_bytes(), Format::Edn, &options, None).unwrap().is_none());
        let multi = "{:type :invoke, :process 0, :f :txn, :value [[:write :x 1]]}\n";
        assert!(read_bytes("t", multi.as_bytes(), Format::Edn, &options, None).unwrap().is_none());
        let mixed = "{:type :invoke, :process 0, :f :txn, :value [[:append :x 1] [:w :y 2]]}\n";
        assert!(read_bytes("t", mixed.as_bytes(), Format::Edn, &options, None).unwrap().is_none());
        let la = "{:type :invoke, :process 0, :f :txn, :value [[:append :x 1]]}\n";
        assert!(
            read_bytes("t", la.as_bytes(), Format::Edn, &options, Some(Workload::RwRegister))
                .unwrap()
                .is_none()
        );
        let (h, t) = read_bytes("t", la.as_bytes(), Format::Edn, &options, None).unwrap().unwrap();
        assert_eq!((h.ops.len(), t.workload), (1, Workload::ListAppend));
    }

    #[test]
    fn errors_are_the_general_readers() {
        let read = |text: &str| read_bytes("t", text.as_bytes(), Format::Edn, &ReadOptions::default(), None);
        // A syntax error: the general reader reads it (and reports it).
        let text = "{:type :invoke, :process 0, :f :txn, :value [[:append :x 1]]}\n{:type :ok, :process 0, :f :txn\n";
        assert!(read(text).unwrap().is_none());
        // A pairing problem before a syntax error (found by fuzzing): that too, so that the
        // problem reported is the first one either way.
        assert!(
            read("{:type :ok, :process 0, :f :txn, :value nil}\n{:type :invoke, :process 1, :f }\n")
                .unwrap()
                .is_none()
        );
        // A pairing problem alone is reported as the general reader reports it.
        let text = "{:type :ok, :process 0, :f :txn, :value [[:append :x 1]]}\n";
        let general = crate::history::read_bytes("t", text.as_bytes(), Format::Edn, &ReadOptions::default());
        assert_eq!(read(text).unwrap_err().to_string(), general.unwrap_err().to_string());
    }
}
