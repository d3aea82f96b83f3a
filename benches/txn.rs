//! Transactional checking benchmarks (figures go in the issue notes, never in tests):
//! - a generated list-append history (50 processes, 1,000 keys in use at a time, each retired
//!   after 100 appends, 1–4 micro-ops per transaction), read with the transactional reader and
//!   checked for strict serializability: 100,000 transactions here, to keep the bench short
//!   (the full 1,000,000 is measured by hand, see below);
//! - a history whose dependency graph is one strongly connected component of about 10,000
//!   transactions (stale reads on three keys), read and checked: a definite answer with
//!   witnesses;
//! - the worst shapes for a shortest-cycle search, checked for serializability: 10,000
//!   transactions each missing the next one's append (one anti-dependency ring), and the same
//!   ring with one chord across it (the shortest cycle is half the ring, and proving it so
//!   takes a breadth-first search from every transaction: the per-component time limit, a
//!   second, ends it with the witness found and a note).
//!
//! With `LABRYS_BENCH_WRITE_DIR` set, the bench first writes the full-size histories there
//! (`list-append-1m.edn`, `scc-10k.edn`, `ring-10k.edn`) for measuring the CLI by hand:
//!
//! ```text
//! LABRYS_BENCH_WRITE_DIR=/tmp cargo bench --bench txn
//! /usr/bin/time -v target/release/labrys check /tmp/list-append-1m.edn
//! ```

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use labrys::history::{Format, ReadOptions};
use labrys::outcome::Verdict;
use labrys::sim::list_append::{TxnFormat, TxnGenConfig, history_string, write_history};
use labrys::txn::{ConsistencyModel, TxnOptions, TxnReport, check_decoded, read::read_bytes};
use std::fmt::Write as _;

/// The 1M-transaction shape, at `txns` transactions.
fn list_append(txns: usize) -> TxnGenConfig {
    TxnGenConfig {
        txns,
        processes: 50,
        active_keys: 1000,
        max_writes_per_key: 100,
        ..TxnGenConfig::default()
    }
}

/// Stale reads on three keys: real-time and anti-dependency edges tie everything together.
fn one_component() -> TxnGenConfig {
    TxnGenConfig {
        txns: 10_000,
        processes: 10,
        active_keys: 3,
        max_writes_per_key: 1_000_000,
        stale_reads: 0.8,
        stale_window: 100,
        seed: 1,
        ..TxnGenConfig::default()
    }
}

/// T_i appends to key i and reads key i + 1 empty, all concurrently: T_i must precede T_(i+1),
/// around a ring of `n`. With `chord`, T_0 also reads key n/2 empty.
fn ring(n: usize, chord: bool) -> String {
    let mut out = String::new();
    for (i, kind) in (0..n).map(|i| (i, "invoke")).chain((0..n).map(|i| (i, "ok"))) {
        let read = if kind == "ok" { "[]" } else { "nil" };
        let extra = if chord && i == 0 { format!(" [:r {} {read}]", n / 2) } else { String::new() };
        let _ = writeln!(
            out,
            "{{:type :{kind}, :process {i}, :f :txn, :value [[:append {i} 1] [:r {} {read}]{extra}]}}",
            (i + 1) % n
        );
    }
    out
}

fn check(text: &str, model: ConsistencyModel) -> TxnReport {
    let (h, t) = read_bytes("bench.edn", text.as_bytes(), Format::Edn, &ReadOptions::default(), None)
        .unwrap()
        .unwrap();
    check_decoded(&h, &t, &TxnOptions { consistency: vec![model], ..TxnOptions::default() })
}

fn write_full_size() {
    let Ok(dir) = std::env::var("LABRYS_BENCH_WRITE_DIR") else { return };
    let dir = std::path::PathBuf::from(dir);
    let file = |name: &str| std::io::BufWriter::new(std::fs::File::create(dir.join(name)).unwrap());
    write_history(&list_append(1_000_000), TxnFormat::Edn, &mut file("list-append-1m.edn")).unwrap();
    write_history(&one_component(), TxnFormat::Edn, &mut file("scc-10k.edn")).unwrap();
    std::fs::write(dir.join("ring-10k.edn"), ring(10_000, false)).unwrap();
    eprintln!("wrote list-append-1m.edn, scc-10k.edn and ring-10k.edn to {}", dir.display());
}

fn large(c: &mut Criterion) {
    write_full_size();
    let text = history_string(&list_append(100_000), TxnFormat::Edn);
    assert_eq!(check(&text, ConsistencyModel::StrictSerializable).valid, Verdict::Valid);
    let mut g = c.benchmark_group("txn");
    g.sample_size(10);
    g.throughput(Throughput::Elements(100_000));
    g.bench_function("list_append_100k_read_and_check_strict", |b| {
        b.iter(|| check(&text, ConsistencyModel::StrictSerializable).valid)
    });
    g.finish();
}

fn components(c: &mut Criterion) {
    let scc = history_string(&one_component(), TxnFormat::Edn);
    let r = check(&scc, ConsistencyModel::StrictSerializable);
    assert_eq!(r.valid, Verdict::Invalid);
    assert!(r.stats.largest_component >= 9_900 && r.stats.cyclic_components == 1, "{:?}", r.stats);
    let ring_chord = ring(10_000, true);
    let ring = ring(10_000, false);
    let r = check(&ring, ConsistencyModel::Serializable);
    assert_eq!(r.anomalies[0].txns.len(), 10_000);
    let r = check(&ring_chord, ConsistencyModel::Serializable);
    assert_eq!(r.valid, Verdict::Invalid);
    let mut g = c.benchmark_group("txn");
    g.sample_size(10);
    g.bench_function("one_component_10k_read_and_check_strict", |b| {
        b.iter(|| check(&scc, ConsistencyModel::StrictSerializable).valid)
    });
    g.bench_function("ring_10k_read_and_check_serializable", |b| {
        b.iter(|| check(&ring, ConsistencyModel::Serializable).valid)
    });
    g.bench_function("ring_with_chord_10k_read_and_check_serializable", |b| {
        b.iter(|| check(&ring_chord, ConsistencyModel::Serializable).valid)
    });
    g.finish();
}

criterion_group!(benches, large, components);
criterion_main!(benches);
