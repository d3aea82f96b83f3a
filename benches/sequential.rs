//! Sequential-consistency benchmarks (figures go in the issue notes, never in tests):
//! - the etcd histories (103 files) of `../shared/peers/porcupine/jepsen/` checked for sequential
//!   consistency in one process, already read (the target: under 200 ms in total),
//!   and read and checked;
//! - a generated 100,000-op, 10-key register history with unique written values, whose
//!   followers serve stale reads: sequentially consistent, not linearizable (target: under
//!   2 s), checked for sequential consistency alone and for both levels; and the same with 1%
//!   of writes crashed.
//!
//! The etcd histories are skipped when `../shared` is absent.

use criterion::{Criterion, criterion_group, criterion_main};
use labrys::check::{CheckConfig, check_history};
use labrys::history::{Format, History, ReadOptions, read_bytes, read_file};
use labrys::outcome::Verdict;
use labrys::sim::lagging::{LaggingConfig, write_edn};
use std::path::PathBuf;

fn config(model: &str, consistency: &str) -> CheckConfig {
    CheckConfig {
        model: Some(model.parse().unwrap()),
        consistency: Some(labrys::vocab::ConsistencyLevel::parse_list(consistency).unwrap()),
        ..CheckConfig::default()
    }
}

/// How many of `histories` are decided (valid or invalid) for sequential consistency.
fn decided(histories: &[History]) -> usize {
    let config = config("cas-register", "sequential");
    histories.iter().filter(|h| check_history(h, &config).unwrap()[0].valid != Verdict::Unknown).count()
}

fn etcd(c: &mut Criterion) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/peers/porcupine/jepsen");
    let Ok(listing) = std::fs::read_dir(&dir) else {
        eprintln!("skipping the etcd bench: {} is absent", dir.display());
        return;
    };
    let mut files: Vec<PathBuf> = listing.map(|e| e.unwrap().path()).collect();
    files.retain(|p| p.extension().is_some_and(|e| e == "log"));
    files.sort();
    let histories: Vec<History> =
        files.iter().map(|f| read_file(f.to_str().unwrap(), &ReadOptions::default()).unwrap()).collect();
    eprintln!(
        "etcd: {} of {} histories decided for sequential consistency",
        decided(&histories),
        files.len()
    );
    let mut g = c.benchmark_group("sequential");
    g.sample_size(20);
    g.bench_function("etcd_all_check", |b| b.iter(|| decided(&histories)));
    g.bench_function("etcd_all_read_and_check", |b| {
        b.iter(|| {
            let read: Vec<History> = files
                .iter()
                .map(|f| read_file(f.to_str().unwrap(), &ReadOptions::default()).unwrap())
                .collect();
            decided(&read)
        })
    });
    g.finish();
}

fn lagging(c: &mut Criterion) {
    let lag = LaggingConfig {
        ops: 100_000,
        keys: 10,
        threads: 10,
        lagging_threads: 5,
        max_lag: 50,
        ..Default::default()
    };
    let mut bytes = Vec::new();
    write_edn(&lag, &mut bytes).unwrap();
    // For measuring the CLI by hand: `LABRYS_BENCH_WRITE_DIR=/tmp cargo bench --bench sequential`.
    if let Ok(dir) = std::env::var("LABRYS_BENCH_WRITE_DIR") {
        std::fs::write(std::path::Path::new(&dir).join("lagging-100k.edn"), &bytes).unwrap();
    }
    let h = read_bytes("lagging.edn", &bytes, Format::Edn, &ReadOptions::default()).unwrap();
    let both = check_history(&h, &config("register", "linearizable,sequential")).unwrap();
    eprintln!(
        "lagging 100k: linearizable {:?}, sequential {:?}",
        both[0].valid,
        both.get(1).map(|r| r.valid)
    );
    let mut g = c.benchmark_group("sequential");
    g.sample_size(10);
    g.bench_function("register_100k_ops_10_keys_stale_reads_check", |b| {
        b.iter(|| check_history(&h, &config("register", "sequential")).unwrap()[0].valid)
    });
    g.bench_function("register_100k_ops_10_keys_stale_reads_both_levels", |b| {
        b.iter(|| check_history(&h, &config("register", "linearizable,sequential")).unwrap()[0].valid)
    });
    g.finish();
    lagging_crashed(c, &lag);
}

/// The same history with 1% of writes crashed, each crashed client going on as a new process:
/// about 550 processes, so saturation's vector clocks are 550 wide.
fn lagging_crashed(c: &mut Criterion, lag: &LaggingConfig) {
    let lag = LaggingConfig { crash_rate: 0.01, ..lag.clone() };
    let mut bytes = Vec::new();
    write_edn(&lag, &mut bytes).unwrap();
    let h = read_bytes("lagging-crashed.edn", &bytes, Format::Edn, &ReadOptions::default()).unwrap();
    let mut g = c.benchmark_group("sequential");
    g.sample_size(10);
    g.bench_function("register_100k_ops_10_keys_stale_reads_1pct_crashed_check", |b| {
        b.iter(|| check_history(&h, &config("register", "sequential")).unwrap()[0].valid)
    });
    g.finish();
}

criterion_group!(benches, etcd, lagging);
criterion_main!(benches);
