//! The log checker (`--model log`) on a simulated history of 1,000,000 sends over 10 keys and
//! the polls that read them (a correct service): the whole check, certification included, as
//! `labrys check --model log` runs it after reading.

use criterion::{Criterion, criterion_group, criterion_main};
use labrys::check::{CheckConfig, check_history};
use labrys::history::{Format, ReadOptions, read_bytes};
use labrys::sim::log::{LogBug, LogSimConfig, write_edn};
use labrys::vocab::ModelName;

fn bench(c: &mut Criterion) {
    let config = LogSimConfig { sends: 1_000_000, keys: 10, producers: 10, round: 1000, bug: LogBug::None };
    let mut text = Vec::new();
    write_edn(&config, &mut text).unwrap();
    let history = read_bytes("log.edn", &text, Format::Edn, &ReadOptions::default()).unwrap();
    drop(text);
    let check = CheckConfig { model: Some(ModelName::Log), ..CheckConfig::default() };
    let mut group = c.benchmark_group("log");
    group.sample_size(10);
    group.bench_function("check 1M sends", |b| {
        b.iter(|| {
            let reports = check_history(&history, &check).unwrap();
            assert_eq!(reports[0].valid, labrys::outcome::Verdict::Valid);
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
