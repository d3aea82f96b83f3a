//! Weak-isolation benchmarks (figures go in docs/weak-isolation.md, never in tests): a
//! serializable history of 100,000 transactions of 8 ops over distinct keys (half reads,
//! unique written values, 20 sessions, 10,000 keys), as Plume text, read and checked for read
//! committed, read atomic and causal consistency — the shape AWDIT's figures are for.
//!
//! With `LABRYS_BENCH_WRITE_DIR` set, the bench first writes the 100,000- and
//! 1,000,000-transaction histories there (`weak-100k.txt`, `weak-1m.txt`) for measuring the
//! CLI by hand:
//!
//! ```text
//! LABRYS_BENCH_WRITE_DIR=/tmp cargo bench --bench weak
//! /usr/bin/time -v target/release/labrys check --consistency causal /tmp/weak-1m.txt
//! ```

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use labrys::outcome::Verdict;
use labrys::sim::weak::{GenConfig, serializable};
use labrys::weak::formats::{WeakFormat, read_bytes};
use labrys::weak::{Level, check};

fn config(txns: usize) -> GenConfig {
    GenConfig { txns, sessions: 20, keys: 10_000, ops: 8, seed: 1 }
}

fn bench(c: &mut Criterion) {
    if let Ok(dir) = std::env::var("LABRYS_BENCH_WRITE_DIR") {
        for (name, txns) in [("weak-100k.txt", 100_000), ("weak-1m.txt", 1_000_000)] {
            let path = std::path::Path::new(&dir).join(name);
            std::fs::write(&path, serializable(&config(txns)).to_plume()).expect("write the history");
        }
    }
    let text = serializable(&config(100_000)).to_plume();
    let mut group = c.benchmark_group("weak-100k");
    group.sample_size(10);
    group.throughput(Throughput::Elements(100_000));
    for level in [Level::ReadCommitted, Level::ReadAtomic, Level::Causal] {
        let h = read_bytes("bench", text.as_bytes(), WeakFormat::Plume).expect("read");
        assert_eq!(check(&h, level).verdict(), Verdict::Valid, "{level:?}");
        group.bench_function(format!("read+{}", level.as_str()), |b| {
            b.iter(|| {
                let h = read_bytes("bench", text.as_bytes(), WeakFormat::Plume).expect("read");
                check(&h, level).verdict()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
