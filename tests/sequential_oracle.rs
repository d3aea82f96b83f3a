//! The sequential-consistency check agrees with a brute-force oracle over process-order
//! interleavings, on single-key and multi-key random histories.

mod common;

use common::generate::{self as hg, Rng};
use labrys::certify::linear::Keying;
use labrys::check::Options;
use labrys::history::History;
use labrys::model::{CasRegister, Counter, FifoQueue, Model, Mutex, Register, Set, UnorderedQueue};
use labrys::outcome::Verdict;
use labrys::search::oracle;
use proptest::prelude::*;

fn check<M: Model>(model: &M, h: &History, keyed: bool) -> (Verdict, Verdict) {
    let keying = if keyed { Keying::Tuple } else { Keying::Single };
    let expected = oracle::brute_force_sequential(model, h, keying).expect("generated ops decode");
    let options = Options { independent: Some(keyed), ..Options::default() };
    let report = labrys::check::check_sequential(model, h, &options).expect("generated ops decode");
    (report.verdict, expected)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10_000))]

    #[test]
    fn single_register_agrees_with_oracle(seed in any::<u64>(), n in 1usize..=8, procs in 1u32..=3) {
        let mut rng = Rng(seed);
        let h = hg::history(&mut rng, n, procs, false, |r| hg::register_op(r, true));
        let (got, want) = check(&CasRegister::default(), &h, false);
        prop_assert_eq!(got, want, "{:#?}", h.ops);
    }

    #[test]
    fn keyed_registers_agree_with_oracle(seed in any::<u64>(), n in 2usize..=8, procs in 1u32..=3) {
        let mut rng = Rng(seed);
        let h = hg::history(&mut rng, n, procs, false, |r| { let op = hg::register_op(r, false); hg::keyed(r, 2, op) });
        let (got, want) = check(&Register::default(), &h, true);
        prop_assert_eq!(got, want, "{:#?}", h.ops);
    }
}

/// Outcomes like etcd's Jepsen histories: many crashed ops, each retiring its process, so
/// many short chains and many crashed writes and cas that may go anywhere after their invoke.
const ETCD_LIKE: hg::Outcomes = hg::Outcomes { stuck: 5, info: 25, fail: 10 };

proptest! {
    #![proptest_config(ProptestConfig::with_cases(8_000))]

    #[test]
    fn etcd_shaped_cas_register_agrees_with_oracle(seed in any::<u64>(), n in 3usize..=10, procs in 2u32..=4) {
        let mut rng = Rng(seed);
        let h = hg::history_with(&mut rng, n, procs, false, ETCD_LIKE, |r| hg::register_op(r, true));
        let (got, want) = check(&CasRegister::default(), &h, false);
        prop_assert_eq!(got, want, "{}", hg::dump(&h));
    }

    #[test]
    fn unique_valued_cas_register_agrees_with_oracle(seed in any::<u64>(), n in 3usize..=10, procs in 2u32..=4) {
        // Mostly fresh values: reads name their writer, so the implied orders have edges.
        let mut rng = Rng(seed);
        let mut values = hg::RegisterGen::new(true);
        let h = hg::history_with(&mut rng, n, procs, false, ETCD_LIKE, |r| values.op(r));
        let (got, want) = check(&CasRegister::default(), &h, false);
        prop_assert_eq!(got, want, "{}", hg::dump(&h));
    }

    #[test]
    fn two_plausible_keys_agree_with_oracle(seed in any::<u64>(), n in 4usize..=11, procs in 2u32..=4) {
        let h = two_keys(&mut Rng(seed), n, procs);
        let (got, want) = check(&CasRegister::default(), &h, true);
        prop_assert_eq!(got, want, "{}", hg::dump(&h));
    }

    #[test]
    fn lagging_replicas_agree_with_oracle(seed in any::<u64>(), n in 4usize..=11, procs in 2u32..=3) {
        let mut rng = Rng(seed);
        let h = lagging_replicas(&mut rng, n, procs);
        let (got, want) = check(&CasRegister::default(), &h, true);
        prop_assert_eq!(got, want, "{}", hg::dump(&h));
    }

    #[test]
    fn keyed_cas_registers_with_crashes_agree_with_oracle(seed in any::<u64>(), n in 3usize..=9, procs in 2u32..=3) {
        let mut rng = Rng(seed);
        let h = hg::history_with(&mut rng, n, procs, false, ETCD_LIKE, |r| {
            let op = hg::register_op(r, true);
            hg::keyed(r, 2, op)
        });
        let (got, want) = check(&CasRegister::default(), &h, true);
        prop_assert_eq!(got, want, "{}", hg::dump(&h));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(8_000))]

    /// Sets with many crashed ops and mostly unique elements: reads name the one add of what
    /// they saw, so the implied orders (and their conflicts) decide much of it.
    #[test]
    fn set_with_crashed_unique_adds_agrees_with_oracle(seed in any::<u64>(), n in 2usize..=9, procs in 1u32..=4) {
        let mut rng = Rng(seed);
        let mut set = hg::SetGen::with_range(40);
        let h = hg::history_with(&mut rng, n, procs, false, ETCD_LIKE, |r| set.op(r));
        let (got, want) = check(&Set::default(), &h, false);
        prop_assert_eq!(got, want, "set\n{}", hg::dump(&h));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3_000))]

    /// The search's general rules (greedy reads, crashed ops that change nothing skipped) hold
    /// for models without look-ahead facts too.
    #[test]
    fn other_models_agree_with_oracle(seed in any::<u64>(), n in 2usize..=8, procs in 1u32..=3) {
        let mut rng = Rng(seed);
        let mut set = hg::SetGen::default();
        let h = hg::history_with(&mut rng, n, procs, false, ETCD_LIKE, |r| set.op(r));
        let (got, want) = check(&Set::default(), &h, false);
        prop_assert_eq!(got, want, "set\n{}", hg::dump(&h));
        let mut counter = hg::CounterGen::default();
        let h = hg::history_with(&mut rng, n, procs, false, ETCD_LIKE, |r| counter.op(r));
        let (got, want) = check(&Counter::default(), &h, false);
        prop_assert_eq!(got, want, "counter\n{}", hg::dump(&h));
        let mut fifo = hg::QueueGen::new(true);
        let h = hg::history_with(&mut rng, n, procs, false, ETCD_LIKE, |r| fifo.op(r));
        let (got, want) = check(&FifoQueue, &h, false);
        prop_assert_eq!(got, want, "fifo-queue\n{}", hg::dump(&h));
        let mut bag = hg::QueueGen::new(false);
        let h = hg::history_with(&mut rng, n, procs, false, ETCD_LIKE, |r| bag.op(r));
        let (got, want) = check(&UnorderedQueue, &h, false);
        prop_assert_eq!(got, want, "unordered-queue\n{}", hg::dump(&h));
        let mut mutex = hg::MutexGen::default();
        let h = hg::history_with(&mut rng, n, procs, false, ETCD_LIKE, |r| mutex.op(r));
        let (got, want) = check(&Mutex, &h, false);
        prop_assert_eq!(got, want, "mutex\n{}", hg::dump(&h));
    }
}

/// A sequential-consistency class is named only where the violation is real: on any key of a
/// random history, valid or not, a class implies the oracle finds no order.
fn classes_are_sound(h: &History, keyed: bool) -> Result<usize, TestCaseError> {
    let model = CasRegister::default();
    let keying = if keyed { Keying::Tuple } else { Keying::Single };
    let parts = labrys::split::prepare(&model, h, keying).expect("generated ops decode");
    let named = parts.iter().filter_map(|p| labrys::explain::classify_sequential(&model, p)).count();
    if named > 0 {
        let want = oracle::brute_force_sequential(&model, h, keying).expect("generated ops decode");
        prop_assert_eq!(
            want,
            Verdict::Invalid,
            "a class was named on a consistent history:\n{}",
            hg::dump(h)
        );
    }
    Ok(named)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6_000))]

    #[test]
    fn sequential_classes_name_only_real_violations(seed in any::<u64>(), n in 3usize..=10, procs in 2u32..=4) {
        let mut rng = Rng(seed);
        let h = hg::history_with(&mut rng, n, procs, false, ETCD_LIKE, |r| hg::register_op(r, true));
        classes_are_sound(&h, false)?;
        let mut values = hg::RegisterGen::new(true);
        let h = hg::history_with(&mut rng, n, procs, false, ETCD_LIKE, |r| values.op(r));
        classes_are_sound(&h, false)?;
        let h = lagging_replicas(&mut rng, n, procs.min(3));
        classes_are_sound(&h, true)?;
    }
}

/// Two keys, each with its own plausible values (reads mostly of what the key held at their
/// invocation, or earlier): each key is often consistent alone, so the joint check decides.
fn two_keys(rng: &mut Rng, n: usize, procs: u32) -> labrys::history::History {
    let mut keys = [hg::RegisterGen::new(true), hg::RegisterGen::new(true)];
    hg::history_with(rng, n, procs, false, ETCD_LIKE, |r| {
        let k = r.below(2) as usize;
        let op = keys[k].op(r);
        hg::keyed_as(labrys::history::Value::Int(k as i64), op)
    })
}

/// Replicas that lag independently per key: every process reads each key at a version no older
/// than the last it saw or wrote there (so each key alone is usually consistent), but the keys
/// move on independently, so processes often disagree about the order of writes to different
/// keys (IRIW, Dekker) and only the joint check can tell. Writes and cas are sometimes crashed
/// (the process is retired, a fresh one takes over); reads sometimes see garbage or the past.
fn lagging_replicas(rng: &mut Rng, n: usize, procs: u32) -> History {
    use labrys::history::{Format, ReadOptions, read_bytes};
    let mut versions: [Vec<i64>; 2] = [vec![0], vec![0]];
    let mut fresh = 0;
    let mut seen = vec![[0usize; 2]; procs as usize];
    let mut ids: Vec<u32> = (0..procs).collect();
    let mut next_id = procs;
    let mut text = String::new();
    let val = |v: i64| if v == 0 { "nil".to_string() } else { v.to_string() };
    for i in 0..n {
        let p = rng.below(procs as u64) as usize;
        let k = rng.below(2) as usize;
        let roll = rng.below(100);
        let (f, input, output, kind) = if roll < 45 {
            let latest = versions[k].len() - 1;
            seen[p][k] += rng.below((latest - seen[p][k]) as u64 + 1) as usize;
            let v = if rng.chance(8) { *hg::pick(rng, &versions[k]) } else { versions[k][seen[p][k]] };
            ("read", "nil".to_string(), val(v), "ok")
        } else {
            fresh += 1;
            let old = versions[k][seen[p][k]];
            let crashed = rng.chance(25);
            let (f, input) =
                if roll < 75 { ("write", val(fresh)) } else { ("cas", format!("[{} {}]", val(old), fresh)) };
            if !crashed || rng.chance(50) {
                versions[k].push(fresh);
                seen[p][k] = versions[k].len() - 1;
            }
            (f, input.clone(), input, if crashed { "info" } else { "ok" })
        };
        let id = ids[p];
        text +=
            &format!("{{:index {}, :type :invoke, :process {id}, :f :{f}, :value [{k} {input}]}}\n", 2 * i);
        text += &format!(
            "{{:index {}, :type :{kind}, :process {id}, :f :{f}, :value [{k} {output}]}}\n",
            2 * i + 1
        );
        if kind == "info" {
            ids[p] = next_id;
            next_id += 1;
        }
    }
    read_bytes("lagging.edn", text.as_bytes(), Format::Edn, &ReadOptions::default())
        .expect("generated EDN reads")
}

/// The generators give every outcome often enough for the agreement to mean something: SC
/// histories, non-SC ones, and (keyed) histories whose keys are each SC while the whole is not.
#[test]
fn generated_histories_cover_every_outcome() {
    let (mut valid, mut invalid, mut only_jointly_invalid, mut sc_not_linear) = (0, 0, 0, 0);
    for seed in 0..20_000u64 {
        let mut rng = Rng(seed);
        let h = hg::history(&mut rng, 7, 3, false, |r| {
            let op = hg::register_op(r, false);
            hg::keyed(r, 2, op)
        });
        let options = Options { independent: Some(true), ..Options::default() };
        let report = labrys::check::check_sequential(&Register::default(), &h, &options).unwrap();
        match report.verdict {
            Verdict::Valid => valid += 1,
            _ => invalid += 1,
        }
        if report.joint.as_ref().is_some_and(|j| j.verdict == Verdict::Invalid) {
            only_jointly_invalid += 1;
        }
        let linear = labrys::check::check_linearizable(&Register::default(), &h, &options).unwrap();
        if report.verdict == Verdict::Valid && linear.verdict == Verdict::Invalid {
            sc_not_linear += 1;
        }
    }
    assert!(valid > 2000 && invalid > 2000, "valid {valid}, invalid {invalid}");
    // Lagging replicas: invalid only jointly often enough for their oracle test to mean it.
    let lagging_jointly_invalid = (0..4_000u64)
        .filter(|&seed| {
            let h = lagging_replicas(&mut Rng(seed), 11, 3);
            let options = Options { independent: Some(true), ..Options::default() };
            let report = labrys::check::check_sequential(&CasRegister::default(), &h, &options).unwrap();
            report.joint.as_ref().is_some_and(|j| j.verdict == Verdict::Invalid)
        })
        .count();
    assert!(lagging_jointly_invalid > 80, "lagging replicas jointly invalid: {lagging_jointly_invalid}");
    assert!(only_jointly_invalid > 5, "jointly invalid only: {only_jointly_invalid}");
    assert!(sc_not_linear > 200, "sequential but not linearizable: {sc_not_linear}");
}

/// Dekker's pattern, exhaustively: P0 writes x then reads y, P1 writes y then reads x, over
/// every pair of read results and several interleavings. Each key alone is always sequentially
/// consistent; only the joint check can tell that both reads missing both writes is not.
#[test]
fn dekker_patterns_agree_with_oracle() {
    use labrys::history::{Format, ReadOptions, read_bytes};
    let layouts: [[usize; 8]; 3] = [
        [0, 1, 2, 3, 4, 5, 6, 7], // P0 entirely before P1
        [0, 4, 1, 5, 2, 6, 3, 7], // interleaved
        [0, 4, 5, 1, 6, 2, 7, 3], // writes overlap, reads overlap
    ];
    let mut jointly_invalid = 0;
    for a in ["nil", "1"] {
        for b in ["nil", "1"] {
            for layout in &layouts {
                let events = [
                    "{:process 0, :type :invoke, :f :write, :value [:x 1]}".to_string(),
                    "{:process 0, :type :ok, :f :write, :value [:x 1]}".to_string(),
                    "{:process 0, :type :invoke, :f :read, :value [:y nil]}".to_string(),
                    format!("{{:process 0, :type :ok, :f :read, :value [:y {a}]}}"),
                    "{:process 1, :type :invoke, :f :write, :value [:y 1]}".to_string(),
                    "{:process 1, :type :ok, :f :write, :value [:y 1]}".to_string(),
                    "{:process 1, :type :invoke, :f :read, :value [:x nil]}".to_string(),
                    format!("{{:process 1, :type :ok, :f :read, :value [:x {b}]}}"),
                ];
                let text: String = layout.iter().map(|&i| format!("{}\n", events[i])).collect();
                let h =
                    read_bytes("dekker.edn", text.as_bytes(), Format::Edn, &ReadOptions::default()).unwrap();
                let (got, want) = check(&Register::default(), &h, true);
                assert_eq!(got, want, "{text}");
                let options = Options { independent: Some(true), ..Options::default() };
                let report = labrys::check::check_sequential(&Register::default(), &h, &options).unwrap();
                if report.joint.as_ref().is_some_and(|j| j.verdict == Verdict::Invalid) {
                    jointly_invalid += 1;
                }
            }
        }
    }
    assert!(jointly_invalid >= 1, "the nil/nil case is caught only jointly");
}
