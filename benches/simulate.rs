//! Simulator throughput (figures go in the issue notes, never in tests): the correct service on
//! 3 nodes writing a register history without faults, and a list-append history under every
//! fault, formatted as EDN into a sink (the simulation runs on its own thread, as
//! `labrys simulate` runs it). Throughput is in client ops (an op is an invocation and its
//! completion: two history events).
//!
//! The 10^7-op figure is measured by hand:
//!
//! ```text
//! /usr/bin/time target/release/labrys simulate --service correct --workload register \
//!     --ops 10000000 -o /tmp/r.edn
//! ```

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use labrys::sim::cluster::{ClusterConfig, Faults, Service, Workload, write_edn};

fn config(workload: Workload, faults: Faults, ops: usize) -> ClusterConfig {
    ClusterConfig { service: Service::Correct, workload, faults, ops, ..ClusterConfig::default() }
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("simulate");
    group.sample_size(10);
    let cases = [
        ("register_200k_ops_no_faults", config(Workload::Register, Faults::default(), 200_000)),
        ("list_append_50k_txns_all_faults", config(Workload::ListAppend, Faults::ALL, 50_000)),
    ];
    for (name, c) in cases {
        group.throughput(Throughput::Elements(c.ops as u64));
        group.bench_function(name, |b| b.iter(|| write_edn(&c, &mut std::io::sink()).expect("a sink")));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
