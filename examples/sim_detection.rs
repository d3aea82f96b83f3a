//! Measures how often labrys catches each faulty service of the cluster simulator: for every
//! (service, workload, faults) case, the share of seeds whose history is checked INVALID, and
//! which anomaly types the reports name.
//!
//! ```text
//! cargo run --release --example sim_detection -- [SEEDS] [OPS] [FILTER...]
//! ```
//!
//! SEEDS (default 200) seeds `0..SEEDS` per case, histories of OPS ops (default 200); each
//! FILTER keeps only the cases whose line contains it (e.g. `lost-ack`), or with a leading `^`
//! drops them (e.g. `^correct`).

use labrys::check::{CheckConfig, check_history};
use labrys::history::{Format, ReadOptions, read_bytes};
use labrys::outcome::Verdict;
use labrys::sim::cluster::{ClusterConfig, Faults, Service, Workload, history_string};
use rayon::prelude::*;
use std::collections::BTreeMap;

/// The search budget per history: a history the search cannot refute within it counts as
/// not caught.
const MAX_STEPS: u64 = 2_000_000;

/// What one seed gave: its verdict and the anomaly types reported.
fn run(
    service: Service,
    workload: Workload,
    faults: Faults,
    ops: usize,
    seed: u64,
) -> (Verdict, Vec<String>) {
    let c = ClusterConfig { service, workload, faults, ops, seed, ..ClusterConfig::default() };
    let text = history_string(&c);
    let Ok(h) = read_bytes("sim.edn", text.as_bytes(), Format::Edn, &ReadOptions::default()) else {
        return (Verdict::Unknown, vec!["unreadable".into()]);
    };
    let mut config = CheckConfig { model: Some(workload.name().parse().unwrap()), ..Default::default() };
    config.options.max_steps = MAX_STEPS;
    match check_history(&h, &config) {
        Ok(reports) => {
            let verdict = labrys::check::overall(&reports);
            let kinds = reports.iter().flat_map(|r| r.anomalies.iter().map(|a| a.kind.clone())).collect();
            (verdict, kinds)
        }
        Err(e) => (Verdict::Unknown, vec![format!("error: {e}")]),
    }
}

fn cases() -> Vec<(Service, Workload, Faults)> {
    let f = |list: &str| Faults::parse(list).unwrap_or_default();
    let mut cases = Vec::new();
    for w in Workload::ALL {
        cases.push((Service::Correct, w, Faults::ALL));
    }
    for faults in ["partition", "partition,kill,loss,clock"] {
        for w in Workload::ALL {
            cases.push((Service::StaleRead, w, f(faults)));
            cases.push((Service::LostAck, w, f(faults)));
        }
    }
    for faults in ["loss", "partition,kill,loss,clock"] {
        for w in
            [Workload::Counter, Workload::ListAppend, Workload::Bank, Workload::SetFull, Workload::LongFork]
        {
            cases.push((Service::DuplicateRetry, w, f(faults)));
        }
        for w in Workload::ALL {
            cases.push((Service::SilentRetry, w, f(faults)));
        }
    }
    cases.push((Service::ClockSkewLww, Workload::Register, f("clock")));
    cases.push((Service::ClockSkewLww, Workload::Register, Faults::ALL));
    cases
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let seeds: u64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(200);
    let ops: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(200);
    let filters: Vec<&String> = args.iter().skip(2).collect();
    println!("{seeds} seeds per case, {ops} ops per history");
    for (service, workload, faults) in cases() {
        let label = format!("{:<16} {:<13} {:<26}", service.name(), workload.name(), faults.to_string());
        let keep = |f: &&String| match f.strip_prefix('^') {
            Some(drop) => !label.contains(drop),
            None => label.contains(f.as_str()),
        };
        if !filters.iter().all(keep) {
            continue;
        }
        let results: Vec<(Verdict, Vec<String>)> =
            (0..seeds).into_par_iter().map(|seed| run(service, workload, faults, ops, seed)).collect();
        let invalid = results.iter().filter(|r| r.0 == Verdict::Invalid).count();
        let unknown = results.iter().filter(|r| r.0 == Verdict::Unknown).count();
        let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
        for kind in results.iter().filter(|r| r.0 == Verdict::Invalid).flat_map(|r| {
            let mut k: Vec<&str> = r.1.iter().map(String::as_str).collect();
            k.dedup();
            k
        }) {
            *kinds.entry(kind).or_default() += 1;
        }
        let pct = 100.0 * invalid as f64 / seeds as f64;
        println!("{label} invalid {invalid:>4}/{seeds} ({pct:5.1}%) unknown {unknown:>3}  {kinds:?}");
    }
}
