//! The zone test (registers whose written values are unique) agrees with the brute-force oracle
//! and with the search, its reports pass certification, and it names the culprit of a stale
//! read deep inside a long history.

mod common;

use common::generate::{self as hg, OpSpec, Rng};
use labrys::certify::linear::Keying;
use labrys::check::{CheckConfig, Options, check_history};
use labrys::history::{History, Value};
use labrys::model::Register;
use labrys::outcome::Verdict;
use labrys::report::FileReport;
use labrys::search::oracle;
use labrys::search::zones::Zoned;
use labrys::sim::cluster::{ClusterConfig, Faults, Service, Workload, history_string};
use labrys::vocab::{ClassKind, ModelName, Procedure};
use proptest::prelude::*;

/// Reads and writes, every written value fresh; reads mostly of the latest value written, else
/// of any value written so far or the initial `nil`, and now and then of a value nobody wrote
/// (which the zone test leaves to the search).
#[derive(Default)]
struct UniqueWrites {
    written: Vec<i64>,
}

impl UniqueWrites {
    fn op(&mut self, rng: &mut Rng) -> OpSpec {
        if rng.chance(50) {
            let v = self.written.len() as i64 + 1;
            self.written.push(v);
            return OpSpec::new("write", Value::Int(v), Value::Int(v));
        }
        let seen = match rng.below(20) {
            0 => Value::Int(1000),
            1..=3 => Value::Nil,
            _ if self.written.is_empty() => Value::Nil,
            4..=9 => Value::Int(*hg::pick(rng, &self.written)),
            _ => Value::Int(*self.written.last().expect("not empty")),
        };
        OpSpec::new("read", Value::Nil, seen)
    }
}

fn config(skew: i64, fast_paths: bool) -> CheckConfig {
    CheckConfig {
        model: Some(ModelName::Register),
        options: Options { clock_skew: skew, independent: Some(false), fast_paths, ..Options::default() },
        ..CheckConfig::default()
    }
}

/// Checks `h` with and without the fast path, each report certified (a refuted claim is an
/// error); returns both reports.
fn both_ways(h: &History, skew: i64) -> (FileReport, FileReport) {
    let fast = check_history(h, &config(skew, true)).expect("certified").remove(0);
    let searched = check_history(h, &config(skew, false)).expect("certified").remove(0);
    assert!(searched.keys.iter().all(|k| k.procedure == Procedure::Search));
    (fast, searched)
}

fn small_history(seed: u64, n: usize, procs: u32, timed: bool) -> History {
    let mut rng = Rng(seed);
    let mut g = UniqueWrites::default();
    hg::history(&mut rng, n, procs, timed, |r| g.op(r))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(5_000))]

    #[test]
    fn zones_agree_with_the_oracle_and_the_search(
        seed in any::<u64>(), n in 1usize..=9, procs in 1u32..=5, timed in any::<bool>(), skew in 0i64..3,
    ) {
        let h = small_history(seed, n, procs, timed);
        let expected = oracle::brute_force(&Register::default(), &h, Keying::Single, skew).expect("decodes");
        // The zone test alone (small invalid keys are then searched whole for their explanation).
        let model = Register::default();
        let part = &labrys::split::prepare(&model, &h, Keying::Single).expect("decodes")[0];
        match labrys::search::zones::decide(&model, part, skew) {
            Some(Zoned::Linearizable(_)) => prop_assert_eq!(expected, Verdict::Valid),
            Some(Zoned::Violation(_)) => prop_assert_eq!(expected, Verdict::Invalid),
            None => {}
        }
        let (fast, searched) = both_ways(&h, skew);
        prop_assert_eq!(fast.valid, expected, "zones, history:\n{}\nkeys: {:#?}", hg::dump(&h), fast.keys);
        prop_assert_eq!(searched.valid, expected);
        for k in fast.keys.iter().filter(|k| k.procedure == Procedure::Zones && k.verdict == Verdict::Invalid) {
            // An invalid key decided by zones carries the search's evidence on a few ops.
            prop_assert!(k.counterexample.is_some() || k.cycle.is_some(), "{:#?}", k);
        }
    }
}

/// The generator exercises the zone test: it decides most of its histories, both valid and
/// invalid ones.
#[test]
fn most_generated_histories_are_decided_by_zones() {
    let (mut zones, mut valid, mut invalid) = (0, 0, 0);
    let model = Register::default();
    for seed in 0..2000 {
        let h = small_history(seed, 8, 4, seed % 2 == 0);
        let part = &labrys::split::prepare(&model, &h, Keying::Single).expect("decodes")[0];
        match labrys::search::zones::decide(&model, part, 0) {
            Some(Zoned::Linearizable(_)) => valid += 1,
            Some(Zoned::Violation(_)) => invalid += 1,
            None => continue,
        }
        zones += 1;
    }
    assert!(zones > 1000, "only {zones} of 2000 decided by zones");
    assert!(valid > 200 && invalid > 200, "{valid} valid and {invalid} invalid");
}

fn read(text: &str) -> History {
    hg::read_edn(text)
}

fn synthetic(ops: usize, threads: usize, seed: u64) -> String {
    hg::synthetic_unique(false, ops, threads, seed)
}

fn check_keyed(h: &History) -> FileReport {
    let config = CheckConfig { model: Some(ModelName::Register), ..CheckConfig::default() };
    check_history(h, &config).expect("certified").remove(0)
}

#[test]
fn a_long_synthetic_history_is_valid_by_zones() {
    let report = check_keyed(&read(&synthetic(20_000, 20, 3)));
    assert_eq!(report.valid, Verdict::Valid);
    assert_eq!(report.keys.len(), 1);
    assert_eq!(report.keys[0].procedure, Procedure::Zones);
    assert!(report.keys[0].crashed > 300, "crashed ops: {}", report.keys[0].crashed);
}

#[test]
fn a_stale_read_deep_inside_is_named() {
    let text = synthetic(20_000, 20, 3);
    let (stale, line) = labrys::sim::inject::stale_read(&text, 30_000).expect("a read qualifies");
    let culprit = stale.lines().nth(line).expect("the line exists");
    let h = read(&stale);
    let report = check_keyed(&h);
    assert_eq!(report.valid, Verdict::Invalid);
    let k = &report.keys[0];
    assert_eq!(k.procedure, Procedure::Zones);
    let class = k.class.as_ref().expect("a class is named");
    assert_eq!(class.kind, ClassKind::StaleRead, "{}", class.explanation);
    // The stale read is the one made stale: same process, and it returned the first write's value.
    let read = &class.ops[0];
    assert!(culprit.contains(&format!(":process {},", read.process)), "{culprit} vs {read:?}");
    assert_eq!(read.text, "read 1");
    assert!(h.ops[read.position as usize].invoke_line as usize <= line + 1);
    let witness = k.witness.as_ref().expect("a witness");
    assert!(witness.len() <= 3, "{witness:?}");
}

/// The simulated services, correct and faulty, under every fault: the zone test and the search
/// agree wherever the search decides, and every valid register history with unique values is
/// decided by zones.
#[test]
fn simulated_services_agree_with_the_search() {
    let mut decided = 0;
    for service in [Service::Correct, Service::StaleRead, Service::LostAck, Service::ClockSkewLww] {
        for seed in 0..6 {
            let faults = Faults::parse("partition,kill,clock").expect("known faults");
            let c = ClusterConfig {
                service,
                workload: Workload::Register,
                faults,
                ops: 150,
                seed,
                ..ClusterConfig::default()
            };
            let h = read(&history_string(&c));
            let (fast, searched) = both_ways(&h, 0);
            // Small invalid keys are searched whole, for their explanation.
            if fast.valid == Verdict::Valid {
                assert!(fast.keys.iter().all(|k| k.procedure == Procedure::Zones), "{service:?} {seed}");
            }
            if service == Service::Correct {
                assert_eq!(fast.valid, Verdict::Valid, "{service:?} {seed}");
            }
            if searched.valid != Verdict::Unknown {
                decided += 1;
                assert_eq!(fast.valid, searched.valid, "{service:?} seed {seed}");
            }
        }
    }
    assert!(decided > 12, "the search decided only {decided}");
}
