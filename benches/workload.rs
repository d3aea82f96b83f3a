//! Jepsen's bank, counter-bounds and set-final checkers on generated histories of about
//! 1,000,000 ops each (correct systems, so every read is judged and nothing stops early): the
//! whole check, certification included, as `labrys check --model M` runs it after reading.

use criterion::{Criterion, criterion_group, criterion_main};
use labrys::check::{CheckConfig, check_history};
use labrys::history::{Format, History, ReadOptions, read_bytes};
use labrys::outcome::Verdict;
use labrys::vocab::ModelName;
use std::fmt::Write as _;

const OPS: usize = 1_000_000;

/// Two processes: one transfers between 10 accounts (100 each), one reads them all; the two
/// alternate, so half the ops are reads of 10 balances.
fn bank() -> String {
    let mut balances = [100i64; 10];
    let mut text = String::new();
    for i in 0..OPS / 2 {
        let (from, to, amount) = (i % 10, (i * 7 + 3) % 10, (i % 5) as i64);
        let t = format!("{{:from {from} :to {to} :amount {amount}}}");
        let _ = writeln!(text, "{{:process 0 :type :invoke :f :transfer :value {t}}}");
        if balances[from] >= amount && from != to {
            balances[from] -= amount;
            balances[to] += amount;
            let _ = writeln!(text, "{{:process 0 :type :ok :f :transfer :value {t}}}");
        } else {
            let _ = writeln!(text, "{{:process 0 :type :fail :f :transfer :value {t}}}");
        }
        let read: Vec<String> = balances.iter().enumerate().map(|(a, b)| format!("{a} {b}")).collect();
        let _ = writeln!(text, "{{:process 1 :type :invoke :f :read :value nil}}");
        let _ = writeln!(text, "{{:process 1 :type :ok :f :read :value {{{}}}}}", read.join(", "));
    }
    text
}

/// Two processes, each adding 1 then reading, overlapping: every read sees one of the values
/// its bounds allow.
fn counter() -> String {
    let mut text = String::new();
    let mut value = 0;
    for _ in 0..OPS / 2 {
        let _ = writeln!(text, "{{:process 0 :type :invoke :f :add :value 1}}");
        let _ = writeln!(text, "{{:process 1 :type :invoke :f :read :value nil}}");
        value += 1;
        let _ = writeln!(text, "{{:process 0 :type :ok :f :add :value 1}}");
        let _ = writeln!(text, "{{:process 1 :type :ok :f :read :value {value}}}");
    }
    text
}

/// 1,000,000 adds of distinct elements, then one read of them all.
fn set() -> String {
    let mut text = String::new();
    for i in 0..OPS {
        let _ = writeln!(text, "{{:process {} :type :invoke :f :add :value {i}}}", i % 4);
        let _ = writeln!(text, "{{:process {} :type :ok :f :add :value {i}}}", i % 4);
    }
    let all: Vec<String> = (0..OPS).map(|i| i.to_string()).collect();
    let _ = writeln!(text, "{{:process 9 :type :invoke :f :read :value nil}}");
    let _ = writeln!(text, "{{:process 9 :type :ok :f :read :value [{}]}}", all.join(" "));
    text
}

fn read(text: &str) -> History {
    read_bytes("w.edn", text.as_bytes(), Format::Edn, &ReadOptions::default()).unwrap()
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("workload");
    group.sample_size(10);
    for (name, model, text) in [
        ("bank 1M ops", ModelName::Bank, bank()),
        ("counter-bounds 1M ops", ModelName::CounterBounds, counter()),
        ("set-final 1M adds", ModelName::SetFinal, set()),
    ] {
        let history = read(&text);
        drop(text);
        let config = CheckConfig { model: Some(model), ..CheckConfig::default() };
        group.bench_function(name, |b| {
            b.iter(|| {
                let reports = check_history(&history, &config).unwrap();
                assert_eq!(reports[0].valid, Verdict::Valid, "{}", reports[0].to_text());
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
