//! What certification costs beside the check it certifies (issue 18: under 5% of check time).
//! Each history is checked once, then the check and the certification of its report are timed
//! apart, on the same report:
//! - a cas-register history of the simulated stale-read service under partitions and kills
//!   (20,000 ops, invalid: a class, a cycle, a counterexample);
//! - a register history of the correct service under partitions and kills (100,000 ops,
//!   valid: the whole linearization replayed);
//! - a list-append history of 20,000 transactions with stale reads (invalid: cycles).
//!
//! For the register history, reading and checking are also timed together, as `labrys check`
//! runs them before it certifies.

use criterion::{Criterion, criterion_group, criterion_main};
use labrys::certify::linear::Keying;
use labrys::certify::linear::{Setting, certify_linear_report};
use labrys::certify::txn::certify_txn_report;
use labrys::check::Options;
use labrys::history::{Format, History, ReadOptions, read_bytes};
use labrys::model::{CasRegister, Register};
use labrys::sim::cluster::{ClusterConfig, Faults, Service, Workload, history_string};
use labrys::sim::list_append::{TxnFormat, TxnGenConfig, history_string as txn_history};
use labrys::txn::{TxnOptions, Workload as TxnWorkload};

fn simulated_text(service: Service, workload: Workload, ops: usize) -> String {
    let faults = Faults::parse("partition,kill").unwrap();
    let c = ClusterConfig { service, workload, faults, ops, seed: 1, ..ClusterConfig::default() };
    history_string(&c)
}

fn read(text: &str) -> History {
    read_bytes("sim.edn", text.as_bytes(), Format::Edn, &ReadOptions::default()).unwrap()
}

fn simulated(service: Service, workload: Workload, ops: usize) -> History {
    read(&simulated_text(service, workload, ops))
}

fn setting() -> Setting {
    Setting { keying: Keying::Single, skew: 0, nil_reads_unknown: false, init: None }
}

fn registers(c: &mut Criterion) {
    let mut g = c.benchmark_group("certify");
    g.sample_size(10);
    let stale = simulated(Service::StaleRead, Workload::CasRegister, 20_000);
    let model = CasRegister::default();
    let options = Options::default();
    g.bench_function("stale_read_cas_20k_check", |b| {
        b.iter(|| labrys::check::check_linearizable(&model, &stale, &options))
    });
    let report = labrys::check::check_linearizable(&model, &stale, &options).unwrap();
    g.bench_function("stale_read_cas_20k_certify", |b| {
        b.iter(|| certify_linear_report(&model, &stale, &report, &setting()).unwrap())
    });
    let text = simulated_text(Service::Correct, Workload::Register, 100_000);
    let correct = read(&text);
    let model = Register::default();
    // What `labrys check` does before certifying: read the file, then check.
    g.bench_function("correct_register_100k_read_and_check", |b| {
        b.iter(|| labrys::check::check_linearizable(&model, &read(&text), &options))
    });
    g.bench_function("correct_register_100k_check", |b| {
        b.iter(|| labrys::check::check_linearizable(&model, &correct, &options))
    });
    let report = labrys::check::check_linearizable(&model, &correct, &options).unwrap();
    g.bench_function("correct_register_100k_certify", |b| {
        b.iter(|| certify_linear_report(&model, &correct, &report, &setting()).unwrap())
    });
    g.finish();
}

fn transactions(c: &mut Criterion) {
    let mut g = c.benchmark_group("certify");
    g.sample_size(10);
    let config = TxnGenConfig {
        txns: 20_000,
        stale_reads: 0.05,
        stale_window: 20,
        seed: 1,
        ..TxnGenConfig::default()
    };
    let text = txn_history(&config, TxnFormat::Edn);
    let h = read_bytes("txn.edn", text.as_bytes(), Format::Edn, &ReadOptions::default()).unwrap();
    let txns = labrys::txn::decode(&h, TxnWorkload::ListAppend).unwrap();
    let options = TxnOptions::default();
    g.bench_function("list_append_20k_stale_check", |b| {
        b.iter(|| labrys::txn::check_decoded(&h, &txns, &options))
    });
    let report = labrys::txn::check_decoded(&h, &txns, &options);
    g.bench_function("list_append_20k_stale_certify", |b| {
        b.iter(|| certify_txn_report(&h, &txns, &report, 0).unwrap())
    });
    g.finish();
}

criterion_group!(benches, registers, transactions);
criterion_main!(benches);
