//! The cas-chain fast path (cas registers whose written values are unique) agrees with the
//! brute-force oracle and with the search, its reports pass certification, and it decides long
//! simulated histories the search cannot, naming the culprit of a stale read deep inside one.

mod common;

use common::generate::{self as hg, OpSpec, Rng};
use labrys::certify::linear::Keying;
use labrys::check::{CheckConfig, Options, check_history};
use labrys::history::{Format, History, Outcome, ReadOptions, Value, read_bytes};
use labrys::model::{CasRegister, NilReads};
use labrys::outcome::Verdict;
use labrys::report::FileReport;
use labrys::search::chains;
use labrys::search::oracle;
use labrys::search::zones::Zoned;
use labrys::sim::cluster::{ClusterConfig, Faults, Service, Workload, history_string};
use labrys::vocab::{ModelName, Procedure};
use proptest::prelude::*;

/// Writes and cas of fresh values, and reads. A cas mostly expects the latest value written
/// (so chains form), else any value written so far or the initial one, now and then a value
/// nobody wrote (left to the search). Reads likewise; some return `nil`.
struct UniqueCas {
    written: Vec<i64>,
    init: Value,
}

impl UniqueCas {
    fn seen(&self, rng: &mut Rng) -> Value {
        match rng.below(20) {
            0 => Value::Int(1000),
            1..=3 => Value::Nil,
            _ if self.written.is_empty() => self.init.clone(),
            4..=8 => Value::Int(*hg::pick(rng, &self.written)),
            9 => self.init.clone(),
            _ => Value::Int(*self.written.last().expect("not empty")),
        }
    }

    fn op(&mut self, rng: &mut Rng) -> OpSpec {
        let fresh = self.written.len() as i64 + 1;
        match rng.below(10) {
            0..=2 => {
                self.written.push(fresh);
                OpSpec::new("write", Value::Int(fresh), Value::Int(fresh))
            }
            3..=6 => {
                let pair = Value::vector(vec![self.seen(rng), Value::Int(fresh)]);
                self.written.push(fresh);
                OpSpec::new("cas", pair.clone(), pair)
            }
            _ => OpSpec::new("read", Value::Nil, self.seen(rng)),
        }
    }
}

fn small_history(seed: u64, n: usize, procs: u32, timed: bool, init: &Value) -> History {
    let mut rng = Rng(seed);
    let mut g = UniqueCas { written: Vec::new(), init: init.clone() };
    hg::history(&mut rng, n, procs, timed, |r| g.op(r))
}

fn config(init: &Value, skew: i64, fast_paths: bool) -> CheckConfig {
    CheckConfig {
        model: Some(ModelName::CasRegister),
        init: (!init.is_nil()).then(|| init.clone()),
        options: Options { clock_skew: skew, independent: Some(false), fast_paths, ..Options::default() },
        ..CheckConfig::default()
    }
}

/// The model as the check reads the history: starting at `init`; reads of `nil` are unknown
/// values when `nil` can never be the state (the generator never writes `nil`).
fn model_for(init: &Value) -> CasRegister {
    let mut model = CasRegister::with_init(init.clone()).expect("any value");
    if !init.is_nil() {
        model.nil_reads = NilReads::Unknown;
    }
    model
}

/// Whether the fast path may leave `h` to the search: some op that did not fail sees a value
/// that no op that did not fail writes and that is not initial (1000, a value only a failed
/// op wrote, `nil` when the register starts at 0), as a completed read or as a cas; or no cas
/// may have happened. Every other generated history is in its setting, and must be decided.
fn may_be_left(h: &History, init: &Value) -> bool {
    let happened = || h.ops.iter().filter(|o| o.outcome != Outcome::Fail);
    let written: Vec<&Value> = happened()
        .filter_map(|o| match h.f_name(o).as_str() {
            "write" => Some(h.value(o.input)),
            "cas" => h.value(o.input).as_seq().map(|pair| &pair[1]),
            _ => None,
        })
        .collect();
    let unwritten = |v: &Value| v != init && !written.contains(&v);
    // Without a cas, the key is the zone test's.
    happened().all(|o| h.f_name(o) != "cas")
        || happened().any(|o| match h.f_name(o).as_str() {
            "read" => {
                o.outcome == Outcome::Ok
                    && !(init != &Value::Nil && h.value(o.output).is_nil())
                    && unwritten(h.value(o.output))
            }
            "cas" => h.value(o.input).as_seq().is_some_and(|pair| unwritten(&pair[0])),
            _ => false,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(5_000))]

    #[test]
    fn chains_agree_with_the_oracle_and_the_search(
        seed in any::<u64>(), n in 1usize..=9, procs in 1u32..=5, timed in any::<bool>(), skew in 0i64..3,
        init_zero in any::<bool>(),
    ) {
        let init = if init_zero { Value::Int(0) } else { Value::Nil };
        let h = small_history(seed, n, procs, timed, &init);
        let model = model_for(&init);
        let expected = oracle::brute_force(&model, &h, Keying::Single, skew).expect("decodes");
        let part = &labrys::split::prepare(&model, &h, Keying::Single).expect("decodes")[0];
        match chains::decide(&model, part, skew) {
            Some(Zoned::Linearizable(_)) => prop_assert_eq!(expected, Verdict::Valid, "{}", hg::dump(&h)),
            Some(Zoned::Violation(_)) => prop_assert_eq!(expected, Verdict::Invalid, "{}", hg::dump(&h)),
            None => prop_assert!(may_be_left(&h, &init), "left to the search:\n{}", hg::dump(&h)),
        }
        // Both ways, each report certified (a refuted claim is an error).
        let fast = check_history(&h, &config(&init, skew, true)).expect("certified").remove(0);
        let searched = check_history(&h, &config(&init, skew, false)).expect("certified").remove(0);
        prop_assert_eq!(fast.valid, expected, "history:\n{}\nkeys: {:#?}", hg::dump(&h), fast.keys);
        prop_assert_eq!(searched.valid, expected);
        prop_assert!(searched.keys.iter().all(|k| k.procedure == Procedure::Search));
    }
}

/// The generator exercises the fast path: it decides most of its histories, valid and invalid.
#[test]
fn most_generated_histories_are_decided_by_the_chains() {
    let (mut valid, mut invalid) = (0, 0);
    for seed in 0..2000 {
        let h = small_history(seed, 8, 4, seed % 2 == 0, &Value::Nil);
        let model = model_for(&Value::Nil);
        let part = &labrys::split::prepare(&model, &h, Keying::Single).expect("decodes")[0];
        match chains::decide(&model, part, 0) {
            Some(Zoned::Linearizable(_)) => valid += 1,
            Some(Zoned::Violation(_)) => invalid += 1,
            None => {}
        }
    }
    assert!(valid + invalid > 1000, "only {} of 2000 decided", valid + invalid);
    assert!(valid > 200 && invalid > 200, "{valid} valid and {invalid} invalid");
}

fn read(text: &str) -> History {
    hg::read_edn(text)
}

fn synthetic(ops: usize, threads: usize, seed: u64) -> String {
    hg::synthetic_unique(true, ops, threads, seed)
}

fn check_cas(h: &History) -> FileReport {
    let config = CheckConfig { model: Some(ModelName::CasRegister), ..CheckConfig::default() };
    check_history(h, &config).expect("certified").remove(0)
}

#[test]
fn a_long_synthetic_history_is_valid_by_the_chains() {
    let report = check_cas(&read(&synthetic(20_000, 20, 3)));
    assert_eq!(report.valid, Verdict::Valid);
    assert_eq!(report.keys.len(), 1);
    assert_eq!(report.keys[0].procedure, Procedure::CasChains);
    assert!(report.keys[0].crashed > 300, "crashed ops: {}", report.keys[0].crashed);
}

#[test]
fn a_stale_read_deep_inside_is_named() {
    let text = synthetic(20_000, 20, 3);
    let (stale, line) = labrys::sim::inject::stale_read(&text, 30_000).expect("a read qualifies");
    let culprit = stale.lines().nth(line).expect("the line exists");
    let h = read(&stale);
    let report = check_cas(&h);
    assert_eq!(report.valid, Verdict::Invalid);
    let k = &report.keys[0];
    assert_eq!(k.procedure, Procedure::CasChains);
    // The evidence (certified above) is about the stale read.
    let cited: Vec<u32> = match (&k.cycle, &k.counterexample) {
        (Some(cycle), _) => cycle.iter().map(|s| s.op.process).collect(),
        (_, Some(c)) => vec![c.op.process],
        _ => panic!("no evidence: {k:#?}"),
    };
    let process: u32 =
        culprit.split(":process ").nth(1).and_then(|s| s.split(',').next()).unwrap().parse().unwrap();
    assert!(cited.contains(&process), "{culprit} vs {cited:?}");
}

/// The simulated services, correct and faulty, under every fault, with unique values: the fast
/// path and the search agree wherever the search decides, and every valid history is decided
/// by the chains.
#[test]
fn simulated_services_agree_with_the_search() {
    let (mut decided, mut invalid) = (0, 0);
    for service in [Service::Correct, Service::StaleRead, Service::LostAck, Service::DuplicateRetry] {
        for seed in 0..6 {
            let faults = Faults::parse("partition,kill,clock").expect("known faults");
            let c = ClusterConfig {
                service,
                workload: Workload::CasRegister,
                faults,
                ops: 150,
                seed,
                ..ClusterConfig::default()
            };
            let h = read(&history_string(&c));
            let config = |fast| CheckConfig {
                options: Options { fast_paths: fast, ..Options::default() },
                ..config(&Value::Nil, 0, fast)
            };
            let fast = check_history(&h, &config(true)).expect("certified").remove(0);
            let searched = check_history(&h, &config(false)).expect("certified").remove(0);
            if fast.valid == Verdict::Valid {
                assert!(fast.keys.iter().all(|k| k.procedure == Procedure::CasChains), "{service:?} {seed}");
            }
            if service == Service::Correct {
                assert_eq!(fast.valid, Verdict::Valid, "{service:?} {seed}");
            }
            if searched.valid != Verdict::Unknown {
                decided += 1;
                invalid += usize::from(searched.valid == Verdict::Invalid);
                assert_eq!(fast.valid, searched.valid, "{service:?} seed {seed}");
            }
        }
    }
    assert!(decided > 12 && invalid > 2, "the search decided {decided}, {invalid} invalid");
}

/// Crashed cas: one whose value was seen took effect, one whose value nobody saw may be
/// dropped; two cas away from one value, or a stale read across a chain, are violations.
#[test]
fn hand_written_cases() {
    let cases = [
        ("cas-crashed-seen-valid.edn", Verdict::Valid),
        ("cas-double-invalid.edn", Verdict::Invalid),
        ("cas-chain-stale-read-invalid.edn", Verdict::Invalid),
    ];
    for (file, verdict) in cases {
        let path = format!("{}/histories/{file}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).expect("the example exists");
        let h = read_bytes(&path, text.as_bytes(), Format::Edn, &ReadOptions::default()).expect("reads");
        let model = model_for(&Value::Nil);
        let part = &labrys::split::prepare(&model, &h, Keying::Single).expect("decodes")[0];
        let decided = chains::decide(&model, part, 0).expect("the fast path applies");
        assert_eq!(matches!(decided, Zoned::Linearizable(_)), verdict == Verdict::Valid, "{file}");
        assert_eq!(check_cas(&h).valid, verdict, "{file}");
        assert_eq!(oracle::brute_force(&model, &h, Keying::Single, 0), Some(verdict), "{file}");
    }
}
