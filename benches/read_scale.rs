//! Reading and checking at scale, end to end: `check::load` then `check::check_loaded` on a
//! generated 1,000,000-op register history over 10,000 keys (unique values, 50 client threads,
//! 1% crashed ops; ~180 MB of EDN, one op map per line), as `labrys check` does. The file is
//! streamed by blocks and parsed on all cores (src/history/stream.rs).
//!
//! The history is written once to a temporary file (`LABRYS_BENCH_SCALE_OPS` changes its
//! length). Each sample takes seconds, so the bench takes 10 samples. docs/scale-reading.md has
//! the figures, and those for 10,000,000 ops measured by hand.

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use labrys::check::{CheckConfig, check_loaded, load};
use labrys::history::ReadOptions;
use labrys::sim::synthetic::{SyntheticConfig, write_edn};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let ops = std::env::var("LABRYS_BENCH_SCALE_OPS").ok().and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let config =
        SyntheticConfig { cas: false, ops, keys: 10_000, threads: 50, crash_rate: 0.01, values: 0, seed: 1 };
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("register.edn");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).expect("a temporary file"));
    write_edn(&config, &mut out).expect("the history is written");
    drop(out);
    let path = path.to_str().expect("a UTF-8 path").to_string();
    let bytes = std::fs::metadata(&path).expect("the file").len();
    let check = CheckConfig { model: Some("register".parse().expect("a model")), ..Default::default() };
    let mut group = c.benchmark_group("read_scale");
    group.sample_size(10).sampling_mode(SamplingMode::Flat).throughput(Throughput::Bytes(bytes));
    group.bench_function(format!("register_{ops}_ops_10000_keys"), |b| {
        b.iter(|| {
            let loaded = load(&path, &ReadOptions::default(), &check).expect("the history reads");
            let reports = check_loaded(&loaded, &check).expect("the history checks");
            assert_eq!(reports[0].valid, labrys::outcome::Verdict::Valid);
            black_box(reports)
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
