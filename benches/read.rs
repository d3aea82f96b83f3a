//! Read throughput: `read_bytes` on a generated register history, in EDN (one map per line)
//! and JSON Lines, reported in bytes per second.
//!
//! The history is ~100 MB of text per format by default (`LABRYS_BENCH_READ_MB` changes it).
//! Each format is read 10 times, so the whole bench takes well under a minute at the target
//! speed of 300 MB/s. Before measuring it prints the memory the read history holds per op.
//! With `LABRYS_BENCH_WRITE_DIR` set, it also writes the two histories there (as
//! `register.edn` and `register.jsonl`), for measuring the CLI by hand:
//!
//! ```text
//! LABRYS_BENCH_WRITE_DIR=/tmp cargo bench --bench read
//! /usr/bin/time -v target/release/labrys check --summary /tmp/register.edn
//! ```

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use labrys::history::{Format, ReadOptions, read_bytes};
use std::fmt::Write;
use std::hint::black_box;

/// Client processes; each has at most one op in flight, as in Jepsen.
const CONCURRENCY: u64 = 10;

/// A small, fast, deterministic generator (SplitMix64): the bench needs the same history on
/// every run, and no dependency for it.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// One event of the generated history.
struct Event<'a> {
    index: u64,
    time: u64,
    kind: &'a str,
    process: u64,
    f: &'a str,
    /// `None` for a read's invocation (`nil`).
    value: Option<u64>,
}

/// A worker slot: its current process and its open op (`:f`, value), if any.
type Slot = (u64, Option<(&'static str, Option<u64>)>);

/// Generates events of a register history until `emit` has written `target_bytes`: random
/// processes invoke reads and writes of small integers and complete them (mostly `:ok`, some
/// `:fail`, a few `:info` after which the process is replaced, as Jepsen does).
fn generate(target_bytes: usize, out: &mut String, emit: fn(&mut String, &Event<'_>)) {
    let mut rng = Rng(42);
    let mut slots: Vec<Slot> = (0..CONCURRENCY).map(|p| (p, None)).collect();
    let (mut index, mut time) = (0u64, 0u64);
    while out.len() < target_bytes {
        let slot = rng.below(CONCURRENCY) as usize;
        let (process, open) = slots[slot];
        time += 1 + rng.below(2_000_000);
        let event = match open {
            None => {
                let (f, value) =
                    if rng.below(2) == 0 { ("read", None) } else { ("write", Some(rng.below(5))) };
                slots[slot].1 = Some((f, value));
                Event { index, time, kind: "invoke", process, f, value }
            }
            Some((f, value)) => {
                let roll = rng.below(100);
                let kind = if roll < 90 {
                    "ok"
                } else if roll < 97 {
                    "fail"
                } else {
                    "info"
                };
                // A read completes with the value it saw; a write with the value it wrote.
                let value = if f == "read" && kind == "ok" { Some(rng.below(5)) } else { value };
                slots[slot] = (if kind == "info" { process + CONCURRENCY } else { process }, None);
                Event { index, time, kind, process, f, value }
            }
        };
        emit(out, &event);
        index += 1;
    }
}

fn emit_edn(out: &mut String, e: &Event<'_>) {
    let _ = write!(
        out,
        "{{:index {}, :time {}, :type :{}, :process {}, :f :{}, :value ",
        e.index, e.time, e.kind, e.process, e.f
    );
    match e.value {
        Some(v) => writeln!(out, "{v}}}"),
        None => writeln!(out, "nil}}"),
    }
    .expect("write to a String");
}

fn emit_json(out: &mut String, e: &Event<'_>) {
    let _ = write!(
        out,
        "{{\"index\":{},\"time\":{},\"type\":\"{}\",\"process\":{},\"f\":\"{}\",\"value\":",
        e.index, e.time, e.kind, e.process, e.f
    );
    match e.value {
        Some(v) => writeln!(out, "{v}}}"),
        None => writeln!(out, "null}}"),
    }
    .expect("write to a String");
}

/// The generated history in one format, of about `mb` megabytes.
fn history_text(mb: usize, format: Format) -> String {
    let target = mb * 1_000_000;
    let mut out = String::with_capacity(target + 200);
    let emit = if format == Format::Json { emit_json } else { emit_edn };
    generate(target, &mut out, emit);
    out
}

fn read(c: &mut Criterion) {
    let mb = std::env::var("LABRYS_BENCH_READ_MB").ok().and_then(|s| s.parse().ok()).unwrap_or(100);
    let mut group = c.benchmark_group("read");
    // Each iteration reads the whole history: few, flat samples keep the run short.
    group.sample_size(10).sampling_mode(SamplingMode::Flat);
    for (name, format) in [("edn", Format::Edn), ("jsonl", Format::Json)] {
        let text = history_text(mb, format);
        if let Ok(dir) = std::env::var("LABRYS_BENCH_WRITE_DIR") {
            let ext = if format == Format::Json { "jsonl" } else { "edn" };
            let path = std::path::Path::new(&dir).join(format!("register.{ext}"));
            std::fs::write(&path, &text).expect("write the generated history");
        }
        let options = ReadOptions::default();
        let history = read_bytes(name, text.as_bytes(), format, &options).expect("generated history reads");
        let (ops, heap) = (history.ops.len(), history.heap_bytes());
        eprintln!(
            "read/{name}: {} bytes, {} events, {ops} ops, {} distinct values; heap {heap} bytes = {:.1} bytes/op",
            text.len(),
            history.event_count,
            history.values.len(),
            heap as f64 / ops as f64
        );
        drop(history);
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_function(name, |b| {
            b.iter_with_large_drop(|| {
                read_bytes(name, black_box(text.as_bytes()), format, &options).expect("reads")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, read);
criterion_main!(benches);
