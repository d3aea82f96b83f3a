//! Linearizability checking benchmarks (figures go in the issue notes, never in tests):
//! - the 102 etcd histories of `../shared/peers/porcupine/jepsen/`, read and checked in one
//!   process (Porcupine: 1.08–1.31 s of CPU for checking alone);
//! - `kv/c50-bad.txt`, every key decided (Porcupine leaves three unknown after 30 s each);
//! - a generated keyed cas-register history (1,000 keys, 20 threads, 1% crashed), read and
//!   checked; 100,000 ops here to keep the bench short (run `labrys simulate` with
//!   `--ops 1000000` and time `labrys check` for the full-size figure);
//! - a set history of the simulated correct service under partitions (5,000 ops, every read
//!   returning the whole set: the states the search keeps share their elements);
//! - a register history of the simulated correct service under partitions and kills (200,000
//!   ops, 505 of them crashed and searched: memo keys name the linearized ones with one number).
//!
//! The peer histories are skipped when `../shared` is absent.

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, criterion_group, criterion_main};
use labrys::check::{CheckConfig, check_history};
use labrys::history::{Format, ReadOptions, read_bytes, read_file};
use labrys::sim::cluster::{ClusterConfig, Faults, Workload, history_string};
use labrys::sim::synthetic::{SyntheticConfig, write_edn};
use std::path::{Path, PathBuf};

fn peers() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/peers/porcupine");
    dir.join("expected.csv").is_file().then_some(dir)
}

fn check_file(path: &Path, model: &str) -> labrys::outcome::Verdict {
    let h = read_file(path.to_str().unwrap(), &ReadOptions::default()).unwrap();
    let config = CheckConfig { model: Some(model.parse().unwrap()), ..CheckConfig::default() };
    check_history(&h, &config).unwrap()[0].valid
}

fn etcd(c: &mut Criterion) {
    let Some(dir) = peers() else {
        eprintln!("skipping the etcd bench: ../shared/peers/porcupine is absent");
        return;
    };
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(dir.join("jepsen")).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let mut g = c.benchmark_group("porcupine");
    g.sample_size(20);
    g.bench_function("etcd_all_102_read_and_check", |b| {
        b.iter(|| {
            files
                .iter()
                .map(|f| check_file(f, "cas-register"))
                .filter(|v| *v == labrys::outcome::Verdict::Valid)
                .count()
        })
    });
    let c50 = dir.join("kv/c50-bad.txt");
    g.bench_function("kv_c50_bad_read_and_check", |b| b.iter(|| check_file(&c50, "kv")));
    let c50ok = dir.join("kv/c50-ok.txt");
    g.bench_function("kv_c50_ok_read_and_check", |b| b.iter(|| check_file(&c50ok, "kv")));
    g.finish();
}

fn generated(c: &mut Criterion) {
    let config =
        SyntheticConfig { ops: 100_000, keys: 1000, threads: 20, crash_rate: 0.01, ..Default::default() };
    let mut bytes = Vec::new();
    write_edn(&config, &mut bytes).unwrap();
    let mut g = c.benchmark_group("generated");
    g.sample_size(10);
    g.bench_function("cas_register_100k_ops_1000_keys_read_and_check", |b| {
        b.iter(|| {
            let h = read_bytes("gen.edn", &bytes, Format::Edn, &ReadOptions::default()).unwrap();
            let config =
                CheckConfig { model: Some("cas-register".parse().unwrap()), ..CheckConfig::default() };
            check_history(&h, &config).unwrap()[0].valid
        })
    });
    g.finish();
}

/// Reads and checks, in each iteration, the history `config` simulates (a valid one).
fn bench_simulated(g: &mut BenchmarkGroup<'_, WallTime>, name: &str, model: &str, config: &ClusterConfig) {
    let text = history_string(config);
    g.bench_function(name, |b| {
        b.iter(|| {
            let h = read_bytes("sim.edn", text.as_bytes(), Format::Edn, &ReadOptions::default()).unwrap();
            let config = CheckConfig { model: Some(model.parse().unwrap()), ..CheckConfig::default() };
            let verdict = check_history(&h, &config).unwrap()[0].valid;
            assert_eq!(verdict, labrys::outcome::Verdict::Valid);
        })
    });
}

fn simulated(c: &mut Criterion) {
    let mut g = c.benchmark_group("simulated");
    g.sample_size(10);
    let correct = |workload, faults, ops| ClusterConfig {
        workload,
        faults: Faults::parse(faults).unwrap(),
        ops,
        seed: 1,
        ..ClusterConfig::default()
    };
    let set = correct(Workload::Set, "partition", 5_000);
    bench_simulated(&mut g, "set_5k_ops_partitions_read_and_check", "set", &set);
    let register = correct(Workload::Register, "partition,kill", 200_000);
    bench_simulated(&mut g, "register_200k_ops_partitions_kills_read_and_check", "register", &register);
    g.finish();
}

criterion_group!(benches, etcd, generated, simulated);
criterion_main!(benches);
