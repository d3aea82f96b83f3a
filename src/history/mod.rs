//! Histories: reading them from every input format, pairing invocations with completions, and
//! the compact, interned form the checkers work on (docs/design.md sections 2 and 3).
//!
//! ```
//! use labrys::history::{read_bytes, Format, ReadOptions};
//! let text = b"{:process 0, :type :invoke, :f :write, :value 1}\n{:process 0, :type :ok, :f :write, :value 1}\n";
//! let h = read_bytes("example.edn", text, Format::Edn, &ReadOptions::default()).unwrap();
//! assert_eq!(h.ops.len(), 1);
//! ```

mod builder;
pub mod edn;
mod error;
mod event;
mod fields;
mod flat;
pub(crate) mod jepsen_log;
pub(crate) mod json;
mod op;
pub(crate) mod stream;
mod summary;
mod value;

pub use builder::HistoryBuilder;
pub use error::{ErrorKind, Problem, ReadError};
pub use event::{Event, EventKind, Process};
pub use op::{Clock, ExtraFields, Fault, History, Op, Outcome, ValueId, ValueTable, Warning};
pub use summary::Summary;
pub use value::{Float, TaggedValue, Value};

use std::io::Read;
use std::path::Path;

/// A research history format (`--input-format plume|awdit|dbcop`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WeakFormat {
    /// Plume/PolySI/IsoVista: `r(key,value,session,txn)` per line.
    Plume,
    /// AWDIT's test format: `r key value` lines, `-` lines between transactions, `=` lines
    /// between sessions.
    Awdit,
    /// dbcop: its JSON history, or its `.hist` text (`[x:=1 y==2]` per transaction).
    Dbcop,
}

/// An input format (docs/design.md section 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Jepsen EDN: op maps, one per line or in one vector.
    Edn,
    /// A JSON array of op objects, or JSON Lines.
    Json,
    /// Jepsen text log lines (`history.txt`, `jepsen.log`).
    JepsenLog,
    /// A research format of sessions and transactions, read by [`crate::weak::formats`].
    Weak(WeakFormat),
}

impl Format {
    /// The format a file name implies, looking through a `.gz` suffix: `.edn`; `.json`,
    /// `.jsonl`, `.ndjson`; `.txt`, `.log` (which [`read_file`] confirms by content).
    pub fn from_path(path: &str) -> Option<Format> {
        let name = path.strip_suffix(".gz").unwrap_or(path);
        let ext = Path::new(name).extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "edn" => Some(Format::Edn),
            "json" | "jsonl" | "ndjson" => Some(Format::Json),
            "txt" | "log" => Some(Format::JepsenLog),
            "hist" => Some(Format::Weak(WeakFormat::Dbcop)),
            _ => None,
        }
    }

    /// Guesses from the first non-blank byte of the content: `{`, `[`, `(`, `#` or `;` mean EDN
    /// (unless the object keys are quoted, which means JSON); anything else a text log.
    pub fn sniff(input: &[u8]) -> Format {
        let mut rest = skip_bom(input).iter().skip_while(|b| b.is_ascii_whitespace());
        match rest.next() {
            Some(b'{' | b'[') => {
                let next = rest.find(|b| !b.is_ascii_whitespace() && **b != b'[' && **b != b'{');
                if next == Some(&b'"') { Format::Json } else { Format::Edn }
            }
            Some(b'(' | b'#' | b';') => Format::Edn,
            _ => Format::JepsenLog,
        }
    }
}

/// How to read a history.
#[derive(Clone, Debug, Default)]
pub struct ReadOptions {
    /// Force a format instead of choosing by extension.
    pub format: Option<Format>,
    /// Turn pairing problems into warnings (`--lenient`).
    pub lenient: bool,
}

/// Reads a history from a file (`-` for standard input), gunzipping `.gz` files, in the format
/// the options force, else the one the extension implies, else the one the content suggests.
///
/// A file of one EDN op map per line is read by blocks on all cores, never held whole (see
/// [`read_file_streaming`]); anything else is read whole. Both give the same history, and the
/// same error for a file that has one.
pub fn read_file(path: &str, options: &ReadOptions) -> Result<History, ReadError> {
    read_file_streaming(path, options, &|_| true)
}

/// Like [`read_file`], streaming only if `accept` approves the events of the file's first lines
/// (its first 64 KiB or so): for a caller with another reader for some histories, which must
/// then be read whole. Falls back to reading the file whole whenever streaming cannot read it
/// exactly: standard input, a file that is not EDN with op maps at top level, `#_` discards,
/// a map spanning lines at a block boundary, and any error, which the whole-file reader reports
/// with its file, line and column.
pub fn read_file_streaming(
    path: &str,
    options: &ReadOptions,
    accept: &(dyn Fn(&[Event]) -> bool + Sync),
) -> Result<History, ReadError> {
    if let Some(history) = stream::read_file(path, options, accept)? {
        return Ok(history);
    }
    let (bytes, format) = read_input(path, options)?;
    read_bytes(path, &bytes, format, options)
}

/// A file's bytes (standard input for `-`), gunzipped, and the format to read them in: the one
/// the options force, else the one the extension implies, else the one the content suggests.
pub(crate) fn read_input(path: &str, options: &ReadOptions) -> Result<(Vec<u8>, Format), ReadError> {
    let mut bytes = Vec::new();
    let io = |e: std::io::Error| ReadError::io(path, e);
    if path == "-" {
        std::io::stdin().read_to_end(&mut bytes).map_err(io)?;
    } else {
        std::fs::File::open(path).and_then(|mut f| f.read_to_end(&mut bytes)).map_err(io)?;
    }
    if path.ends_with(".gz") || bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&bytes[..]).read_to_end(&mut out).map_err(io)?;
        bytes = out;
    }
    if bytes.starts_with(BOM) {
        bytes.drain(..BOM.len());
    }
    // `.txt` and `.log` files are sometimes EDN maps (Porcupine's KV histories): the content
    // decides between a text log and EDN. (The research formats, which the content can also
    // reveal, are sniffed by `check::load`: this layer does not know them.)
    let format = match (options.format, Format::from_path(path)) {
        (Some(f), _) => f,
        (None, Some(Format::JepsenLog) | None) => Format::sniff(&bytes),
        (None, Some(f)) => f,
    };
    Ok((bytes, format))
}

/// The UTF-8 byte-order mark some editors (and Windows tools) put at the start of a text file:
/// the readers skip it.
pub(crate) const BOM: &[u8] = b"\xEF\xBB\xBF";

/// `input` without a leading [`BOM`].
pub(crate) fn skip_bom(input: &[u8]) -> &[u8] {
    input.strip_prefix(BOM).unwrap_or(input)
}

/// Reads a history from bytes already in memory. `source` names it in errors and reports.
pub fn read_bytes(
    source: &str,
    input: &[u8],
    format: Format,
    options: &ReadOptions,
) -> Result<History, ReadError> {
    let input = skip_bom(input);
    let mut builder = HistoryBuilder::new(source, options.lenient);
    match format {
        Format::Edn => edn::read(source, input, &mut builder)?,
        Format::Json => json::read(source, input, &mut builder)?,
        Format::JepsenLog => jepsen_log::read(source, input, &mut builder)?,
        Format::Weak(f) => {
            let message = format!("a {f:?} history holds sessions of transactions, not Jepsen ops");
            let expected = "a Jepsen history (read research formats with labrys::weak::formats::read_bytes)";
            return Err(ReadError::locate(
                source,
                input,
                Problem::new(ErrorKind::BadField, 0, 1, message, expected),
            ));
        }
    }
    Ok(builder.finish())
}
