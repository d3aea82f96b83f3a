//! Registers at scale (issue 20): one hot key, hundreds of thousands of ops, many clients,
//! crashes, every written value unique — decided by the zone test. Each case is timed end to
//! end as `labrys check --model register` runs it: read the EDN text, check, certify.
//!
//! - the 200,000-op history of `labrys simulate --workload register --ops 200000 --keys 1
//!   --threads 20 --crash-rate 0.05 --values 0 --seed 3` (valid);
//! - the same with one read made stale deep inside (invalid, the stale read named);
//! - a 1,000,000-op history with 100 client threads and 5% crashed ops (valid);
//! - 200,000 ops with 5 and with 500 client threads (how concurrency changes the cost);
//! - the 200,000-op cas-register history of `labrys simulate --workload cas-register --ops
//!   200000 --keys 1 --threads 20 --crash-rate 0.05 --values 0 --seed 3` (valid, decided by the
//!   cas chains), as `labrys check --model cas-register` runs it.

use criterion::{Criterion, criterion_group, criterion_main};
use labrys::check::{CheckConfig, check_history};
use labrys::history::{Format, ReadOptions, read_bytes};
use labrys::outcome::Verdict;
use labrys::sim::inject::stale_read;
use labrys::sim::synthetic::{SyntheticConfig, write_edn};
use labrys::vocab::ModelName;

/// What `labrys simulate --workload register --keys 1 --values 0` writes.
fn simulated(ops: usize, threads: usize, seed: u64) -> String {
    simulated_with(false, ops, threads, seed)
}

/// The same, with cas when `cas` (`--workload cas-register`).
fn simulated_with(cas: bool, ops: usize, threads: usize, seed: u64) -> String {
    let c = SyntheticConfig { cas, ops, keys: 1, threads, crash_rate: 0.05, values: 0, seed };
    let mut out = Vec::with_capacity(ops * 180);
    write_edn(&c, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// Read, check and certify, as `labrys check --model register` does; the verdict.
fn check(text: &str) -> Verdict {
    check_as(ModelName::Register, text)
}

/// The same under `model`.
fn check_as(model: ModelName, text: &str) -> Verdict {
    let h = read_bytes("h.edn", text.as_bytes(), Format::Edn, &ReadOptions::default()).unwrap();
    let config = CheckConfig { model: Some(model), ..CheckConfig::default() };
    check_history(&h, &config).unwrap()[0].valid
}

fn register_scale(c: &mut Criterion) {
    let mut g = c.benchmark_group("register_scale");
    g.sample_size(10);
    let valid = simulated(200_000, 20, 3);
    assert_eq!(check(&valid), Verdict::Valid);
    g.bench_function("200k_ops_20_threads_valid", |b| b.iter(|| check(&valid)));
    let lines = valid.lines().count();
    let (stale, _) = stale_read(&valid, lines / 2).unwrap();
    assert_eq!(check(&stale), Verdict::Invalid);
    g.bench_function("200k_ops_20_threads_one_stale_read", |b| b.iter(|| check(&stale)));
    drop((valid, stale));
    for threads in [5, 500] {
        let text = simulated(200_000, threads, 3);
        assert_eq!(check(&text), Verdict::Valid);
        g.bench_function(format!("200k_ops_{threads}_threads_valid"), |b| b.iter(|| check(&text)));
    }
    let million = simulated(1_000_000, 100, 3);
    assert_eq!(check(&million), Verdict::Valid);
    g.bench_function("1m_ops_100_threads_valid", |b| b.iter(|| check(&million)));
    g.finish();
}

/// The cas-register case, in a group of its own.
fn cas_register_scale(c: &mut Criterion) {
    let mut g = c.benchmark_group("cas_register_scale");
    g.sample_size(10);
    let cas = simulated_with(true, 200_000, 20, 3);
    assert_eq!(check_as(ModelName::CasRegister, &cas), Verdict::Valid);
    g.bench_function("200k_ops_20_threads_valid", |b| b.iter(|| check_as(ModelName::CasRegister, &cas)));
    g.finish();
}

criterion_group!(benches, cas_register_scale, register_scale);
criterion_main!(benches);
