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
use super::{BOM, Format, History, ReadError, ReadOptions, edn};
use rayon::prelude::*;
use std::io::{BufRead, BufReader, Read};

/// Bytes read at a time. Large enough that each piece is worth a task, small enough that the
/// blocks in flight (one being parsed, one being paired) are a few tens of megabytes.
const BLOCK: usize = 16 << 20;

/// A block is cut into pieces of at least `1 / PIECES_PER_BLOCK` of a block (256 KiB), each worth
/// a task.
const PIECES_PER_BLOCK: usize = 64;

/// Reads the EDN history at `path` by blocks, if it is a file of one op map per line whose first
/// block `accept` approves. `Ok(None)` when it is not (or is standard input, which cannot be read
/// twice, or holds any error): the caller then reads it whole, the one reader of record.
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
    let mut reader = open(path).map_err(io)?;
    let (mut carry, mut block) = (Vec::new(), Vec::new());
    next_block(&mut reader, &mut carry, &mut block, block_size).map_err(io)?;
    let bom = if block.starts_with(BOM) { BOM.len() } else { 0 };
    let format = match options.format.or_else(|| Format::from_path(path)) {
        Some(Format::JepsenLog) | None => Format::sniff(&block[bom..]),
        Some(f) => f,
    };
    if format != Format::Edn || !maps_at_top_level(&block[bom..]) {
        return Ok(None);
    }
    let Some(mut parsed) = parse_block(&block[bom..], block_size, (0, 0)) else { return Ok(None) };
    if !accept(&parsed.events) {
        return Ok(None);
    }
    let mut builder = HistoryBuilder::new(path, options.lenient);
    let (mut offset, mut lines) = (block.len() - bom, parsed.lines);
    loop {
        let events = std::mem::take(&mut parsed.events);
        // Pair this block's events while the next one is read and parsed.
        let (next, paired) = rayon::join(
            || read_and_parse(&mut reader, &mut carry, &mut block, block_size, (offset, lines)),
            || events.into_iter().try_for_each(|e| builder.push(e)),
        );
        if paired.is_err() {
            return Ok(None);
        }
        match next.map_err(io)? {
            Next::End => break,
            Next::Unreadable => return Ok(None),
            Next::Block(next) => {
                offset += block.len();
                lines += next.lines;
                parsed = next;
            }
        }
    }
    Ok(Some(builder.finish()))
}

/// What the next block holds.
enum Next {
    /// Nothing: the input is read.
    End,
    /// Something [`parse_block`] cannot read.
    Unreadable,
    /// Its events.
    Block(Parsed),
}

/// The events of a block, and its line breaks.
struct Parsed {
    events: Vec<Event>,
    lines: u32,
}

/// Reads the next block into `block` and parses it (it starts at byte `offset` of the input,
/// after `lines` line breaks).
fn read_and_parse(
    reader: &mut dyn Read,
    carry: &mut Vec<u8>,
    block: &mut Vec<u8>,
    block_size: usize,
    (offset, lines): (usize, u32),
) -> std::io::Result<Next> {
    if !next_block(reader, carry, block, block_size)? {
        return Ok(Next::End);
    }
    Ok(parse_block(block, block_size, (offset, lines)).map_or(Next::Unreadable, Next::Block))
}

/// The file at `path`, gunzipped if its name ends in `.gz` or it starts with gzip's magic bytes
/// (as the whole-file reader decides).
fn open(path: &str) -> std::io::Result<Box<dyn Read + Send>> {
    let mut file = BufReader::with_capacity(1 << 16, std::fs::File::open(path)?);
    let gz = path.ends_with(".gz") || file.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    Ok(if gz { Box::new(flate2::read::MultiGzDecoder::new(file)) } else { Box::new(file) })
}

/// Fills `block` with the next run of whole lines: what `carry` held from the last read, then
/// about `block_size` more bytes up to the last line break; the rest goes back to `carry`. At the
/// end of the input, the last line even without a break. False when nothing is left.
fn next_block(
    reader: &mut dyn Read,
    carry: &mut Vec<u8>,
    block: &mut Vec<u8>,
    block_size: usize,
) -> std::io::Result<bool> {
    block.clear();
    block.append(carry);
    let mut wanted = block.len() + block_size;
    loop {
        let at = block.len();
        block.resize(wanted, 0);
        let n = reader.read(&mut block[at..]).inspect_err(|_| block.truncate(at))?;
        block.truncate(at + n);
        if n == 0 {
            return Ok(!block.is_empty());
        }
        if block.len() < wanted {
            continue;
        }
        if let Some(nl) = block.iter().rposition(|&b| b == b'\n') {
            carry.extend_from_slice(&block[nl + 1..]);
            block.truncate(nl + 1);
            return Ok(true);
        }
        // A line longer than a block: read on until its break.
        wanted += block_size;
    }
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

/// The events of `block` (read by blocks of `block_size`; it starts at byte `offset` of the input,
/// after `lines` line breaks), its pieces parsed on all cores, with offsets and lines of the whole input. `None`
/// when some piece does not parse on its own (an error, a map cut by a piece boundary, or a
/// `#_` discard).
fn parse_block(block: &[u8], block_size: usize, (offset, lines): (usize, u32)) -> Option<Parsed> {
    let cuts = cuts(block, (block_size / PIECES_PER_BLOCK).max(1));
    let pieces: Vec<(Vec<Event>, u32)> = cuts
        .par_windows(2)
        .map(|w| {
            let piece = &block[w[0]..w[1]];
            if has_discard(piece) {
                return None;
            }
            edn::read_piece(piece).ok().map(|e| (e, count_lines(piece)))
        })
        .collect::<Option<_>>()?;
    let mut events = Vec::with_capacity(pieces.iter().map(|p| p.0.len()).sum());
    let mut line = lines;
    for ((piece, n), start) in pieces.into_iter().zip(&cuts) {
        events.extend(piece.into_iter().map(|mut e| {
            e.offset += offset + start;
            e.line += line;
            e
        }));
        line += n;
    }
    Some(Parsed { events, lines: line - lines })
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
