//! Hunting for false claims: every service of the fault simulator, every workload it runs,
//! every subset of faults, many seeds, checked for linearizability (and sequential consistency
//! for registers) — every report must pass certification (a refuted claim is an error of the
//! check, `CheckError::Uncertified`), and the correct service's histories must be valid.
//!
//! Sized for CI (a few thousand short histories); `LABRYS_HUNT_SEEDS=N` runs N seeds per case
//! by hand.

use labrys::check::{CheckConfig, CheckError, check_history};
use labrys::history::{Format, ReadOptions, read_bytes};
use labrys::report::Verdict;
use labrys::sim::cluster::{ClusterConfig, Faults, Service, Workload, history_string};
use labrys::sim::lagging::LaggingConfig;
use labrys::sim::synthetic::SyntheticConfig;
use rayon::prelude::*;

fn seeds(default: u64) -> u64 {
    std::env::var("LABRYS_HUNT_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(default)
}

/// Checks `text` and returns the verdicts, or panics with the refuted claim.
fn certified(what: &str, text: &str, model: &str, consistency: &str) -> Vec<Verdict> {
    let h = read_bytes("hunt.edn", text.as_bytes(), Format::Edn, &ReadOptions::default()).unwrap();
    let mut config = CheckConfig {
        model: Some(model.into()),
        consistency: Some(consistency.into()),
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
                _ => "linearizable",
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
