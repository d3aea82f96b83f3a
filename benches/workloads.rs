//! Jepsen's set-full and long-fork checks on generated histories, check and certification
//! together (what `labrys check` runs after reading):
//! - set-full: 100,000 adds by 4 processes, and a read of everything acknowledged so far after
//!   every 1,000 adds (100 reads, 5,000,000 elements read in all), valid;
//! - long-fork: 100,000 transactions: each of 4 processes writes a fresh key, then reads that
//!   key's group of 4, valid.

use criterion::{Criterion, criterion_group, criterion_main};
use labrys::history::{Format, History, ReadOptions, read_bytes};
use labrys::long_fork::LongForkOptions;
use labrys::set_full::SetFullOptions;
use labrys::split::Keying;
use std::fmt::Write as _;

fn read(text: &str) -> History {
    read_bytes("gen.edn", text.as_bytes(), Format::Edn, &ReadOptions::default()).unwrap()
}

fn set_full_text(adds: usize) -> String {
    let mut out = String::new();
    let mut t = 0;
    let mut event = |out: &mut String, p: usize, ty: &str, f: &str, v: &str| {
        t += 1_000_000;
        let _ = writeln!(out, "{{:time {t} :process {p} :type :{ty} :f :{f} :value {v}}}");
    };
    for e in 0..adds {
        let p = e % 4;
        event(&mut out, p, "invoke", "add", &e.to_string());
        event(&mut out, p, "ok", "add", &e.to_string());
        if (e + 1) % 1000 == 0 {
            let all: Vec<String> = (0..=e).map(|x| x.to_string()).collect();
            event(&mut out, 4, "invoke", "read", "nil");
            event(&mut out, 4, "ok", "read", &format!("[{}]", all.join(" ")));
        }
    }
    out
}

fn long_fork_text(txns: usize) -> String {
    let mut out = String::new();
    for i in 0..txns / 2 {
        let p = i % 4;
        let w = format!("[[:w {i} 1]]");
        let _ = writeln!(out, "{{:process {p} :type :invoke :f :txn :value {w}}}");
        let _ = writeln!(out, "{{:process {p} :type :ok :f :txn :value {w}}}");
        let group = i - i % 4;
        let keys = group..group + 4;
        let inv: Vec<String> = keys.clone().map(|k| format!("[:r {k} nil]")).collect();
        let ok: Vec<String> =
            keys.map(|k| format!("[:r {k} {}]", if k <= i { "1" } else { "nil" })).collect();
        let _ = writeln!(out, "{{:process {p} :type :invoke :f :txn :value [{}]}}", inv.join(" "));
        let _ = writeln!(out, "{{:process {p} :type :ok :f :txn :value [{}]}}", ok.join(" "));
    }
    out
}

fn bench(c: &mut Criterion) {
    let h = read(&set_full_text(100_000));
    let mut g = c.benchmark_group("workloads");
    g.sample_size(10);
    g.bench_function("set-full 100k adds, 100 reads: check + certify", |b| {
        b.iter(|| {
            let r = labrys::set_full::check(&h, Keying::Single, &SetFullOptions::default()).unwrap();
            labrys::certify::set_full::certify_set_full_report(
                &h,
                Keying::Single,
                &SetFullOptions::default(),
                &r,
            )
            .unwrap();
            assert_eq!(r.valid, labrys::outcome::Verdict::Valid);
        })
    });
    // The same without certification, so its share can be read off.
    g.bench_function("set-full 100k adds, 100 reads: check only", |b| {
        b.iter(|| labrys::set_full::check(&h, Keying::Single, &SetFullOptions::default()).unwrap().valid)
    });
    let h = read(&long_fork_text(100_000));
    g.bench_function("long-fork 100k txns: check + certify", |b| {
        b.iter(|| {
            let r = labrys::long_fork::check(&h, &LongForkOptions::default()).unwrap();
            labrys::certify::long_fork::certify_long_fork_report(&h, &r).unwrap();
            assert_eq!(r.valid, labrys::outcome::Verdict::Valid);
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
