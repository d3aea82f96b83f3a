//! The sequential-consistency check agrees with a brute-force oracle over process-order
//! interleavings, on single-key and multi-key random histories.

mod common;

use common::generate::{self as hg, Rng};
use labrys::history::History;
use labrys::linear::{self, Keying, Options, oracle};
use labrys::model::{CasRegister, Model, Register};
use labrys::report::Verdict;
use proptest::prelude::*;

fn check<M: Model>(model: &M, h: &History, keyed: bool) -> (Verdict, Verdict) {
    let keying = if keyed { Keying::Tuple } else { Keying::Single };
    let expected = oracle::brute_force_sequential(model, h, keying).expect("generated ops decode");
    let options = Options { independent: Some(keyed), ..Options::default() };
    let report = linear::check_sequential(model, h, &options).expect("generated ops decode");
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
        let report = linear::check_sequential(&Register::default(), &h, &options).unwrap();
        match report.verdict {
            Verdict::Valid => valid += 1,
            _ => invalid += 1,
        }
        if report.joint.as_ref().is_some_and(|j| j.verdict == Verdict::Invalid) {
            only_jointly_invalid += 1;
        }
        let linear = linear::check(&Register::default(), &h, &options).unwrap();
        if report.verdict == Verdict::Valid && linear.verdict == Verdict::Invalid {
            sc_not_linear += 1;
        }
    }
    assert!(valid > 2000 && invalid > 2000, "valid {valid}, invalid {invalid}");
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
                let report = linear::check_sequential(&Register::default(), &h, &options).unwrap();
                if report.joint.as_ref().is_some_and(|j| j.verdict == Verdict::Invalid) {
                    jointly_invalid += 1;
                }
            }
        }
    }
    assert!(jointly_invalid >= 1, "the nil/nil case is caught only jointly");
}
