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

/// The least bytes worth a parallel piece.
const MIN_PIECE: usize = 256 << 10;

/// Reads the EDN history at `path` by blocks, if it is a file of one op map per line whose first
/// block `accept` approves. `Ok(None)` when it is not (or is standard input, which cannot be read
/// twice, or holds any error): the caller then reads it whole, the one reader of record.
pub(crate) fn read_file(
    path: &str,
    options: &ReadOptions,
    accept: &(dyn Fn(&[Event]) -> bool + Sync),
) -> Result<Option<History>, ReadError> {
    if path == "-" {
        return Ok(None);
    }
    let io = |e: std::io::Error| ReadError::io(path, e);
    let mut reader = open(path).map_err(io)?;
    let (mut carry, mut block) = (Vec::new(), Vec::new());
    next_block(&mut reader, &mut carry, &mut block).map_err(io)?;
    let bom = if block.starts_with(BOM) { BOM.len() } else { 0 };
    let format = match options.format.or_else(|| Format::from_path(path)) {
        Some(Format::JepsenLog) | None => Format::sniff(&block[bom..]),
        Some(f) => f,
    };
    if format != Format::Edn || !maps_at_top_level(&block[bom..]) {
        return Ok(None);
    }
    let Some(mut parsed) = parse_block(&block[bom..], 0, 0) else { return Ok(None) };
    if !accept(&parsed.events) {
        return Ok(None);
    }
    let mut builder = HistoryBuilder::new(path, options.lenient);
    let (mut offset, mut lines) = (block.len() - bom, parsed.lines);
    loop {
        let events = std::mem::take(&mut parsed.events);
        // Pair this block's events while the next one is read and parsed.
        let (next, paired) = rayon::join(
            || read_and_parse(&mut reader, &mut carry, &mut block, offset, lines),
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
    offset: usize,
    lines: u32,
) -> std::io::Result<Next> {
    if !next_block(reader, carry, block)? {
        return Ok(Next::End);
    }
    Ok(parse_block(block, offset, lines).map_or(Next::Unreadable, Next::Block))
}

/// The file at `path`, gunzipped if its name ends in `.gz` or it starts with gzip's magic bytes
/// (as the whole-file reader decides).
fn open(path: &str) -> std::io::Result<Box<dyn Read + Send>> {
    let mut file = BufReader::with_capacity(1 << 16, std::fs::File::open(path)?);
    let gz = path.ends_with(".gz") || file.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    Ok(if gz { Box::new(flate2::read::MultiGzDecoder::new(file)) } else { Box::new(file) })
}

/// Fills `block` with the next run of whole lines: what `carry` held from the last read, then
/// about [`BLOCK`] more bytes up to the last line break; the rest goes back to `carry`. At the
/// end of the input, the last line even without a break. False when nothing is left.
fn next_block(reader: &mut dyn Read, carry: &mut Vec<u8>, block: &mut Vec<u8>) -> std::io::Result<bool> {
    block.clear();
    block.append(carry);
    let wanted = block.len() + BLOCK;
    let mut eof = false;
    while block.len() < wanted {
        let at = block.len();
        block.resize(wanted, 0);
        let n = reader.read(&mut block[at..]).inspect_err(|_| block.truncate(at))?;
        block.truncate(at + n);
        if n == 0 {
            eof = true;
            break;
        }
    }
    if !eof {
        // A line longer than a block grows the block until its break is read.
        match block.iter().rposition(|&b| b == b'\n') {
            Some(nl) => carry.extend_from_slice(&block[nl + 1..]),
            None => {
                std::mem::swap(carry, block);
                return next_block(reader, carry, block);
            }
        }
        block.truncate(block.len() - carry.len());
    }
    Ok(!block.is_empty())
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

/// The events of `block` (which starts at byte `offset` of the input, after `lines` line
/// breaks), its pieces parsed on all cores, with offsets and lines of the whole input. `None`
/// when some piece does not parse on its own (an error, a map cut by a piece boundary, or a
/// `#_` discard).
fn parse_block(block: &[u8], offset: usize, lines: u32) -> Option<Parsed> {
    let cuts = cuts(block);
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

/// Piece boundaries in `block`: 0, cuts just after line breaks, the end.
fn cuts(block: &[u8]) -> Vec<usize> {
    let pieces = (block.len() / MIN_PIECE).clamp(1, 4 * rayon::current_num_threads());
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
