//! Streaming, parallel reading of EDN histories written one op map per line (Jepsen's
//! `history.edn`): the file is read a block at a time, never whole; each block is cut at line
//! breaks into pieces parsed on all cores, and the events are paired in file order while the
//! next block is parsed.
//!
//! Memory is then bounded by the history kept (ops and interned values) plus a few blocks,
//! not by the size of the file. Exactness is kept by handing anything unusual back to the
//! whole-file reader: a file that is not line-per-map EDN (an outer vector, `#_` discards, a map
//! cut by a block or piece boundary) and every error (syntax or pairing), which the whole-file
//! reader then reports with its file, line, column and text as always.

use super::builder::HistoryBuilder;
use super::event::Event;
use super::flat::PieceEvent;
use super::{BOM, Format, History, ReadError, ReadOptions, edn};
use rayon::prelude::*;
use std::io::{BufRead, BufReader, Read};

/// Bytes read at a time. Large enough that each piece is worth a task, small enough that the
/// blocks in flight (one being parsed, one being paired) are a few tens of megabytes.
const BLOCK: usize = 16 << 20;

/// A block is cut into pieces of at least `1 / PIECES_PER_BLOCK` of a block (256 KiB), each worth
/// a task.
const PIECES_PER_BLOCK: usize = 64;

/// The first bytes of the input whose events `accept` is shown (read by the general reader).
const HEAD: usize = 64 << 10;

/// Reads the EDN history at `path` by blocks, if it is a file of one op map per line whose first
/// events (in its first 64 KiB or so) `accept` approves. `Ok(None)` when it is not (or is
/// standard input, which cannot be read twice, or holds any error): the caller then reads it
/// whole, the one reader of record.
pub(crate) fn read_file(
    path: &str,
    options: &ReadOptions,
    accept: &(dyn Fn(&[Event]) -> bool + Sync),
) -> Result<Option<History>, ReadError> {
    read_file_by(path, options, accept, BLOCK)
}

/// [`read_file`] with blocks of about `block_size` bytes (tests cross many block boundaries with
/// small ones).
fn read_file_by(
    path: &str,
    options: &ReadOptions,
    accept: &(dyn Fn(&[Event]) -> bool + Sync),
    block_size: usize,
) -> Result<Option<History>, ReadError> {
    if path == "-" {
        return Ok(None);
    }
    let io = |e: std::io::Error| ReadError::io(path, e);
    let (reader, size) = open(path).map_err(io)?;
    let mut blocks = Blocks { reader, buf: Vec::new(), end: 0, filled: 0, block_size };
    blocks.next().map_err(io)?;
    let first = blocks.block();
    let bom = if first.starts_with(BOM) { BOM.len() } else { 0 };
    let format = match options.format.or_else(|| Format::from_path(path)) {
        Some(Format::JepsenLog) | None => Format::sniff(&first[bom..]),
        Some(f) => f,
    };
    if format != Format::Edn || !maps_at_top_level(&first[bom..]) || !head_accepted(&first[bom..], accept) {
        return Ok(None);
    }
    let mut builder = HistoryBuilder::new(path, options.lenient);
    let (mut parsed, mut next) = (Vec::new(), Vec::new());
    let mut at = Position { offset: 0, lines: 0 };
    let Some(mut lines) = parse_block(&first[bom..], block_size, at, &mut parsed) else { return Ok(None) };
    if let Some(size) = size {
        // Reserve the ops at once, from the first block's density: growing the vector by
        // doubling would copy it and fault its pages in twice.
        let events: usize = parsed.iter().map(|p| p.events.len()).sum();
        builder.reserve(((size as f64 / first.len().max(1) as f64) * events as f64 * 0.55) as usize);
    }
    let mut len = first.len() - bom;
    loop {
        at = Position { offset: at.offset + len, lines: at.lines + lines };
        // Pair this block's events while the next one is read and parsed.
        let (read, paired) = rayon::join(
            || blocks.next_parsed(at, &mut next),
            || parsed.iter_mut().try_for_each(|piece| piece.pair(&mut builder)),
        );
        if paired.is_err() {
            return Ok(None);
        }
        match read.map_err(io)? {
            Next::End => break,
            Next::Unreadable => return Ok(None),
            Next::Parsed(n) => {
                (len, lines) = (blocks.block().len(), n);
                std::mem::swap(&mut parsed, &mut next);
            }
        }
    }
    Ok(Some(builder.finish()))
}

/// Whether the events of the first lines of `text` (the first [`HEAD`] bytes, to a line break),
/// as the general reader reads them, are ones `accept` approves.
fn head_accepted(text: &[u8], accept: &(dyn Fn(&[Event]) -> bool + Sync)) -> bool {
    let end = match text.get(HEAD..).and_then(|rest| memchr::memchr(b'\n', rest)) {
        Some(nl) => HEAD + nl + 1,
        None => text.len(),
    };
    edn::read_piece(&text[..end]).is_ok_and(|events| accept(&events))
}

/// Where a block or piece starts in the input.
#[derive(Clone, Copy)]
struct Position {
    /// Bytes before it.
    offset: usize,
    /// Line breaks before it.
    lines: u32,
}

/// What the next block holds.
enum Next {
    /// Nothing: the input is read.
    End,
    /// Something [`parse_block`] cannot read.
    Unreadable,
    /// Events, parsed into the pieces given; and the block's line breaks.
    Parsed(u32),
}

/// The events of one piece of a block, and where the piece starts in the input. Kept from
/// block to block, so that its vector's memory is reused rather than faulted in afresh.
#[derive(Default)]
struct Piece {
    events: Vec<PieceEvent>,
    at: Option<Position>,
}

impl Piece {
    /// Pushes the piece's events into `builder`, in order, leaving the piece empty.
    fn pair(&mut self, builder: &mut HistoryBuilder) -> Result<(), super::Problem> {
        let at = self.at.take().expect("a parsed piece");
        for mut event in self.events.drain(..) {
            event.shift(at.offset, at.lines);
            match event {
                PieceEvent::Flat(e) => builder.push_flat(&e)?,
                PieceEvent::Full(e) => builder.push_op(*e)?,
            };
        }
        Ok(())
    }
}

/// The input, read by blocks of whole lines into one buffer reused from block to block.
struct Blocks {
    reader: Box<dyn Read + Send>,
    buf: Vec<u8>,
    /// The current block is `buf[..end]`.
    end: usize,
    /// Bytes read into `buf`: those past `end` start the next block.
    filled: usize,
    block_size: usize,
}

impl Blocks {
    /// The current block: whole lines (the last one maybe without its break, at the end).
    fn block(&self) -> &[u8] {
        &self.buf[..self.end]
    }

    /// Makes the next run of whole lines the current block: what was read past the last one,
    /// then about `block_size` more bytes up to the last line break. At the end of the input,
    /// the last line even without a break. False when nothing is left.
    fn next(&mut self) -> std::io::Result<bool> {
        self.buf.copy_within(self.end..self.filled, 0);
        self.filled -= self.end;
        self.end = 0;
        let mut wanted = self.filled + self.block_size;
        loop {
            if self.buf.len() < wanted {
                // Only new bytes are zeroed: the buffer keeps its length from block to block.
                self.buf.resize(wanted, 0);
            }
            let n = self.reader.read(&mut self.buf[self.filled..wanted])?;
            self.filled += n;
            if n == 0 {
                self.end = self.filled;
                return Ok(self.filled > 0);
            }
            if self.filled < wanted {
                continue;
            }
            if let Some(nl) = memchr::memrchr(b'\n', &self.buf[..self.filled]) {
                self.end = nl + 1;
                return Ok(true);
            }
            // A line longer than a block: read on until its break.
            wanted += self.block_size;
        }
    }

    /// Reads the next block and parses it (it starts at `at` in the input) into `pieces`.
    fn next_parsed(&mut self, at: Position, pieces: &mut Vec<Piece>) -> std::io::Result<Next> {
        if !self.next()? {
            return Ok(Next::End);
        }
        Ok(parse_block(self.block(), self.block_size, at, pieces).map_or(Next::Unreadable, Next::Parsed))
    }
}

/// The file at `path`, gunzipped if its name ends in `.gz` or it starts with gzip's magic bytes
/// (as the whole-file reader decides), and its size when it is not gzipped.
fn open(path: &str) -> std::io::Result<(Box<dyn Read + Send>, Option<u64>)> {
    let file = std::fs::File::open(path)?;
    let size = file.metadata()?.len();
    let mut file = BufReader::with_capacity(1 << 16, file);
    let gz = path.ends_with(".gz") || file.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    Ok(if gz {
        (Box::new(flate2::read::MultiGzDecoder::new(file)), None)
    } else {
        (Box::new(file), Some(size))
    })
}

/// Whether the text starts, after blank space and comments, with an op map rather than the
/// vector or list holding them (which only the whole-file reader reads).
fn maps_at_top_level(text: &[u8]) -> bool {
    let mut rest = text;
    loop {
        rest = rest.trim_ascii_start();
        match rest.first() {
            Some(b',') => rest = &rest[1..],
            Some(b';') => rest = rest.iter().position(|&b| b == b'\n').map_or(&[][..], |nl| &rest[nl..]),
            Some(b'[' | b'(') => return false,
            _ => return true,
        }
    }
}

/// Line breaks in `text`.
fn count_lines(text: &[u8]) -> u32 {
    memchr::memchr_iter(b'\n', text).count() as u32
}

/// Whether `text` has a `#_` discard (or those two bytes in a string, which is harmless to
/// count): one may discard a map across a piece boundary.
fn has_discard(text: &[u8]) -> bool {
    memchr::memchr_iter(b'#', text).any(|at| text.get(at + 1) == Some(&b'_'))
}

/// Parses `block` (read by blocks of `block_size`; it starts at `at` in the input) into
/// `pieces`, parsed on all cores, each with its place in the input; returns its line breaks.
/// `None` when some piece does not parse on its own (an error, a map cut by a piece boundary,
/// or a `#_` discard).
fn parse_block(block: &[u8], block_size: usize, at: Position, pieces: &mut Vec<Piece>) -> Option<u32> {
    let cuts = cuts(block, (block_size / PIECES_PER_BLOCK).max(1));
    pieces.resize_with(cuts.len() - 1, Piece::default);
    let parsed = pieces.par_iter_mut().zip(cuts.par_windows(2)).map(|(piece, w)| {
        let text = &block[w[0]..w[1]];
        piece.events.clear();
        if has_discard(text) || edn::read_piece_flat(text, &mut piece.events).is_err() {
            return None;
        }
        Some(count_lines(text))
    });
    let lines = parsed.collect::<Option<Vec<u32>>>()?;
    let mut line = at.lines;
    for ((piece, n), start) in pieces.iter_mut().zip(lines).zip(&cuts) {
        piece.at = Some(Position { offset: at.offset + start, lines: line });
        line += n;
    }
    Some(line - at.lines)
}

/// Piece boundaries in `block`: 0, cuts just after line breaks (pieces of at least
/// `min_piece` bytes, a few per core), the end.
fn cuts(block: &[u8], min_piece: usize) -> Vec<usize> {
    let pieces = (block.len() / min_piece).clamp(1, 4 * rayon::current_num_threads());
    let mut cuts = vec![0];
    for i in 1..pieces {
        let at = block.len() * i / pieces;
        if let Some(nl) = block[at..].iter().position(|&b| b == b'\n') {
            if at + nl + 1 > *cuts.last().expect("cuts start with 0") && at + nl + 1 < block.len() {
                cuts.push(at + nl + 1);
            }
        }
    }
    cuts.push(block.len());
    cuts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{ErrorKind, History, read_bytes};
    use crate::sim::synthetic::{SyntheticConfig, write_edn};
    use proptest::prelude::*;
    use std::io::Write;

    fn file(text: &[u8], name: &str) -> (tempfile::TempDir, String) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name).to_str().unwrap().to_string();
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    fn whole(text: &[u8], lenient: bool) -> Result<History, ReadError> {
        read_bytes("h.edn", text, Format::Edn, &ReadOptions { format: None, lenient })
    }

    fn streamed(path: &str, lenient: bool, block: usize) -> Result<Option<History>, ReadError> {
        read_file_by(path, &ReadOptions { format: None, lenient }, &|_| true, block)
    }

    /// Everything a history holds, its source aside.
    fn assert_same(a: &History, b: &History) {
        assert_eq!(a.ops, b.ops);
        assert_eq!(a.faults, b.faults);
        assert_eq!(a.extras, b.extras);
        assert_eq!((a.clock, a.event_count), (b.clock, b.event_count));
        assert_eq!(a.warnings, b.warnings);
        assert_eq!(a.values.len(), b.values.len());
        for id in 0..a.values.len() as u32 {
            assert_eq!(a.values.get(super::super::ValueId(id)), b.values.get(super::super::ValueId(id)));
        }
    }

    fn synthetic(keys: usize, seed: u64) -> Vec<u8> {
        let c = SyntheticConfig { ops: 400, keys, values: 0, seed, crash_rate: 0.05, ..Default::default() };
        let mut buf = Vec::new();
        write_edn(&c, &mut buf).unwrap();
        buf
    }

    #[test]
    fn streaming_reads_what_the_whole_file_reader_reads() {
        for (keys, seed) in [(0, 1), (5, 2), (40, 3)] {
            let text = synthetic(keys, seed);
            let (_dir, path) = file(&text, "h.edn");
            let expected = whole(&text, false).unwrap();
            for block in [1, 64, 1000, 4096, 1 << 20] {
                let got = streamed(&path, false, block).unwrap().expect("line-per-map EDN streams");
                assert_same(&got, &expected);
            }
        }
    }

    #[test]
    fn gzipped_files_stream_too() {
        let text = synthetic(3, 7);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&text).unwrap();
        let (_dir, path) = file(&gz.finish().unwrap(), "h.edn.gz");
        let got = streamed(&path, false, 512).unwrap().expect("streams");
        assert_same(&got, &whole(&text, false).unwrap());
    }

    #[test]
    fn what_streaming_cannot_read_exactly_is_left_to_the_whole_file_reader() {
        let op = "{:process 0, :type :invoke, :f :read, :value nil}\n{:process 0, :type :ok, :f :read, :value 1}\n";
        let cases = [
            format!("[{op}]"),
            format!("; comment\n ({op})"),
            format!("{op}#_ {{:process 1}}\n{op}"),
            format!("{op}{{:process 0, :type :invoke,\n :f :read, :value nil}}\n"),
            format!("{op}{{:process 0, :type :invoke, :f :read, :value \"a\nb\"}}\n"),
            format!(
                "{op}{{:process 0, :type :invoke, :f :read, :value nil}}\n{{:process 0, :type :invoke, :f :read, :value nil}}\n"
            ),
            format!("{op}{{:process 0 :type :nope}}\n"),
        ];
        for text in &cases {
            let (_dir, path) = file(text.as_bytes(), "h.edn");
            assert!(streamed(&path, false, 8).unwrap().is_none(), "{text:?}");
            // And the public reader, falling back, says what the whole-file reader says.
            match (crate::history::read_file(&path, &ReadOptions::default()), whole(text.as_bytes(), false)) {
                (Ok(a), Ok(b)) => assert_same(&a, &b),
                (Err(a), Err(b)) => {
                    assert_eq!(
                        (a.kind, a.line, a.column, &a.message),
                        (b.kind, b.line, b.column, &b.message)
                    );
                    assert_ne!(a.kind, ErrorKind::Io);
                }
                (a, b) => panic!("{text:?}: {a:?} vs {b:?}"),
            }
        }
        // A JSON file and standard input are not streamed.
        let (_dir, path) = file(b"{\"process\": 0, \"type\": \"invoke\", \"f\": \"read\"}\n", "h.json");
        assert!(streamed(&path, false, 8).unwrap().is_none());
        assert!(streamed("-", false, 8).unwrap().is_none());
    }

    #[test]
    fn a_refused_first_block_is_left_to_the_caller() {
        let (_dir, path) = file(&synthetic(2, 1), "h.edn");
        let refuse = |_: &[Event]| false;
        assert!(read_file_by(&path, &ReadOptions::default(), &refuse, 64).unwrap().is_none());
    }

    /// One line of a history: client events of a few processes (some pairing wrongly), faults,
    /// comments and blank lines, some without `:time`, some with extra fields.
    fn line() -> impl Strategy<Value = String> {
        let kind = prop::sample::select(vec![":invoke", ":ok", ":fail", ":info"]);
        prop_oneof![
            8 => (0..4u32, kind, 0..3u32, prop::bool::ANY, prop::bool::ANY).prop_map(|(p, k, v, timed, extra)| {
                let time = if timed { format!(":time {}, ", v * 10) } else { String::new() };
                let extra = if extra { ", :node \"n1\"" } else { "" };
                format!("{{{time}:process {p}, :type {k}, :f :write, :value [{v} {p}]{extra}}}")
            }),
            1 => Just("{:process :nemesis, :type :info, :f :kill, :value [\"n1\"]}".to_string()),
            1 => Just("; a comment".to_string()),
            1 => Just(String::new()),
        ]
    }

    proptest! {
        /// Any line-per-map history, at any block size, streams to exactly the history (or the
        /// error) the whole-file reader gives, strictly and leniently.
        #[test]
        fn streaming_agrees_with_the_whole_file_reader(
            lines in prop::collection::vec(line(), 0..60),
            block in 1usize..400,
            lenient in prop::bool::ANY,
        ) {
            let text = lines.join("\n");
            let (_dir, path) = file(text.as_bytes(), "h.edn");
            match (streamed(&path, lenient, block).unwrap(), whole(text.as_bytes(), lenient)) {
                (Some(got), Ok(expected)) => assert_same(&got, &expected),
                (None, Err(_)) => {}
                (got, expected) => panic!("streamed {:?}, whole {:?}", got.is_some(), expected.map(|_| ())),
            }
        }
    }
}
