//! Hunting for false claims: every service of the fault simulator, every workload it runs,
//! every subset of faults, many seeds, checked for linearizability (and sequential consistency
//! for registers) — every report must pass certification (a refuted claim is an error of the
//! check, `CheckError::Uncertified`), and the correct service's histories must be valid.
//!
//! Sized for CI (a few thousand short histories); `LABRYS_HUNT_SEEDS=N` runs N seeds per case
//! by hand.

mod common;

use common::generate::{self as hg, Rng};
use labrys::certify::linear::Keying;
use labrys::certify::linear::{Setting, certify_linear_report};
use labrys::check::Options;
use labrys::check::{CheckConfig, CheckError, check_history};
use labrys::history::{Format, History, ReadOptions, read_bytes};
use labrys::model::{CasRegister, Counter, FifoQueue, Kv, Model, Register, Set, UnorderedQueue};
use labrys::outcome::Verdict;
use labrys::sim::cluster::{ClusterConfig, Faults, Service, Workload, history_string};
use labrys::sim::lagging::LaggingConfig;
use labrys::sim::synthetic::SyntheticConfig;
use rayon::prelude::*;

fn seeds(default: u64) -> u64 {
    std::env::var("LABRYS_HUNT_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(default)
}

/// Checks `h` with `model` directly at each level of `consistency` and certifies the report:
/// for the models whose evidence certification re-derives, nothing may be left unchecked but
/// witnesses too large for the brute-force oracle.
fn fully_covered<M: Model>(model: &M, h: &History, consistency: &str, what: &str) {
    let options = Options { max_steps: 500_000, ..Default::default() };
    let setting = Setting { keying: Keying::detect(h, None), skew: 0, nil_reads_unknown: false, init: None };
    for level in consistency.split(',') {
        let report = match level {
            "linearizable" => labrys::check::check_linearizable(model, h, &options),
            "sequential" => labrys::check::check_sequential(model, h, &options),
            _ => continue,
        }
        .unwrap_or_else(|e| panic!("{what}: {e}"));
        let coverage = certify_linear_report(model, h, &report, &setting)
            .unwrap_or_else(|r| panic!("{what} ({level}): a claim failed certification: {r}"));
        let unchecked: Vec<&String> =
            coverage.unchecked.iter().filter(|u| !u.contains("brute-force oracle")).collect();
        assert!(unchecked.is_empty(), "{what} ({level}): left unchecked: {unchecked:?}");
    }
}

/// [`fully_covered`] for the models it covers, by name.
fn covered_by_name(model: &str, h: &History, consistency: &str, what: &str) {
    match model {
        "register" => fully_covered(&Register::default(), h, consistency, what),
        "cas-register" => fully_covered(&CasRegister::default(), h, consistency, what),
        "set" => fully_covered(&Set::default(), h, consistency, what),
        "counter" => fully_covered(&Counter::default(), h, consistency, what),
        "kv" => fully_covered(&Kv::default(), h, consistency, what),
        "unordered-queue" => fully_covered(&UnorderedQueue, h, consistency, what),
        "fifo-queue" => fully_covered(&FifoQueue, h, consistency, what),
        _ => {}
    }
}

/// Checks `text` and returns the verdicts, or panics with the refuted claim (or, for the models
/// certification covers, with a claim left unchecked).
fn certified(what: &str, text: &str, model: &str, consistency: &str) -> Vec<Verdict> {
    let h = read_bytes("hunt.edn", text.as_bytes(), Format::Edn, &ReadOptions::default()).unwrap();
    covered_by_name(model, &h, consistency, what);
    // Jepsen's workload checkers have no levels (`consistency` is empty).
    let levels = (!consistency.is_empty()).then(|| labrys::vocab::ConsistencyLevel::parse_list(consistency));
    let mut config = CheckConfig {
        model: Some(model.parse().unwrap()),
        consistency: levels.map(Result::unwrap),
        ..Default::default()
    };
    config.options.max_steps = 500_000;
    match check_history(&h, &config) {
        Ok(reports) => reports.iter().map(|r| r.valid).collect(),
        Err(CheckError::Uncertified(r)) => panic!("{what}: a claim failed certification: {r}\n{text}"),
        Err(e) => panic!("{what}: {e}"),
    }
}

#[test]
fn simulated_services_never_make_a_false_claim() {
    let n = seeds(6);
    let mut cases = Vec::new();
    for service in Service::ALL {
        for workload in Workload::ALL.into_iter().filter(|&w| service.supports(w)) {
            for faults in Faults::all_subsets() {
                cases.extend((0..n).map(|seed| (service, workload, faults, seed)));
            }
        }
    }
    let valid = cases
        .par_iter()
        .filter(|&&(service, workload, faults, seed)| {
            let c = ClusterConfig { service, workload, faults, ops: 120, seed, ..ClusterConfig::default() };
            let text = history_string(&c);
            let what = format!("{service:?} {workload:?} {faults:?} seed {seed}");
            let levels = match workload {
                Workload::Register | Workload::CasRegister => "linearizable,sequential",
                Workload::ListAppend => "strict-serializable,serializable,snapshot-isolation",
                Workload::Set | Workload::Counter => "linearizable,sequential",
                Workload::Bank | Workload::SetFull | Workload::LongFork => "",
            };
            let model = match workload {
                Workload::ListAppend => "list-append",
                w => w.name(),
            };
            let verdicts = certified(&what, &text, model, levels);
            if service == Service::Correct {
                assert!(verdicts.iter().all(|&v| v == Verdict::Valid), "{what}: {verdicts:?}");
            }
            verdicts.iter().all(|&v| v == Verdict::Valid)
        })
        .count();
    assert!(valid < cases.len(), "the faulty services are caught somewhere");
}

#[test]
fn synthetic_registers_never_make_a_false_claim() {
    let n = seeds(150);
    (0..n).into_par_iter().for_each(|seed| {
        for cas in [false, true] {
            let c = SyntheticConfig {
                cas,
                ops: 60,
                threads: 4,
                crash_rate: 0.1,
                values: 3,
                seed,
                ..Default::default()
            };
            let mut text = Vec::new();
            labrys::sim::synthetic::write_edn(&c, &mut text).unwrap();
            let text = String::from_utf8(text).unwrap();
            let model = if cas { "cas-register" } else { "register" };
            certified(&format!("synthetic {model} seed {seed}"), &text, model, "linearizable,sequential");
        }
        let lag = LaggingConfig {
            ops: 80,
            keys: 2,
            threads: 4,
            lagging_threads: 2,
            max_lag: 10,
            crash_rate: 0.05,
            seed,
        };
        let mut text = Vec::new();
        labrys::sim::lagging::write_edn(&lag, &mut text).unwrap();
        let text = String::from_utf8(text).unwrap();
        certified(&format!("lagging seed {seed}"), &text, "register", "linearizable,sequential");
    });
}

/// Random small histories of the set, counter, queue and kv models (with failed, crashed and
/// open ops): every claim certified, none left unchecked.
#[test]
fn generated_models_never_make_a_false_claim() {
    let n = seeds(300);
    (0..n).into_par_iter().for_each(|seed| {
        let mut rng = Rng(seed);
        // Sequential consistency too: its valid keys' orders once broke process order where a
        // process's completion and next invocation shared a timestamp (set seed 154).
        let both = "linearizable,sequential";
        let mut set = hg::SetGen::default();
        let h = hg::history(&mut rng, 14, 4, true, |r| set.op(r));
        covered_by_name("set", &h, both, &format!("set seed {seed}"));
        let mut counter = hg::CounterGen::default();
        let h = hg::history(&mut rng, 14, 4, true, |r| counter.op(r));
        covered_by_name("counter", &h, both, &format!("counter seed {seed}"));
        for (fifo, name) in [(false, "unordered-queue"), (true, "fifo-queue")] {
            let mut q = hg::QueueGen::new(fifo);
            let h = hg::history(&mut rng, 14, 4, true, |r| q.op(r));
            covered_by_name(name, &h, both, &format!("{name} seed {seed}"));
        }
        let mut kv = hg::KvGen::new(&["", ""], 8);
        let h = hg::history(&mut rng, 16, 4, true, |r| kv.op(r));
        covered_by_name("kv", &h, both, &format!("kv seed {seed}"));
    });
}
