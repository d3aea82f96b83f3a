//! Serializability and snapshot isolation of histories whose version order is unknown
//! (figures go in docs/weak-isolation.md, never in tests): the hard shape of the literature —
//! few keys, so many writers per key, and many sessions running concurrently — at 1,000 and
//! 10,000 transactions of 4 ops (2 reads, 2 writes), serializable, and with one write skew
//! in the middle (snapshot isolated, not serializable). Checking only; the histories are built
//! once.
//!
//! With `LABRYS_BENCH_WRITE_DIR` set, the bench first writes the histories there as Plume text
//! (`serial-N.txt`, `skew-N.txt`) for measuring the CLI by hand.

use criterion::{Criterion, criterion_group, criterion_main};
use labrys::outcome::Verdict;
use labrys::sim::weak::{GenConfig, serial_with_skew};
use labrys::weak::formats::{WeakFormat, read_bytes};
use labrys::weak::{Level, WeakHistory, check};

fn history(txns: usize, skew: bool) -> WeakHistory {
    let config = GenConfig { txns, sessions: 20, keys: 10, ops: 4, seed: 7 };
    let text = serial_with_skew(&config, skew.then_some(txns / 2)).to_plume();
    if let Ok(dir) = std::env::var("LABRYS_BENCH_WRITE_DIR") {
        let name = format!("{}-{txns}.txt", if skew { "skew" } else { "serial" });
        std::fs::write(std::path::Path::new(&dir).join(name), &text).expect("write the history");
    }
    read_bytes("bench", text.as_bytes(), WeakFormat::Plume).expect("read")
}

fn bench(c: &mut Criterion) {
    for txns in [1_000, 10_000] {
        let mut group = c.benchmark_group(format!("serial-{txns}"));
        group.sample_size(10);
        for skew in [false, true] {
            let h = history(txns, skew);
            // Snapshot isolation at 10,000 transactions is not decided in minutes yet
            // (docs/weak-isolation.md): benched at 1,000 only, so the bench finishes.
            let levels: &[Level] = if txns <= 1_000 {
                &[Level::Serializable, Level::SnapshotIsolation]
            } else {
                &[Level::Serializable]
            };
            for &level in levels {
                let expected =
                    if skew && level == Level::Serializable { Verdict::Invalid } else { Verdict::Valid };
                assert_eq!(check(&h, level).verdict(), expected, "{txns} {skew} {level:?}");
                let name = format!("{}{}", if skew { "skew-" } else { "" }, level.as_str());
                group.bench_function(name, |b| b.iter(|| check(&h, level).verdict()));
            }
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
