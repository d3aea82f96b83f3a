//! The linearizability search agrees with a brute-force oracle on many small random histories.

mod common;

use common::generate::{self as hg, Rng};
use labrys::certify::linear::Keying;
use labrys::check::Options;
use labrys::history::History;
use labrys::model::{CasRegister, Model, Register};
use labrys::search::oracle;
use proptest::prelude::*;

/// Checks `h` both ways. `keyed`: split by `[k v]` tuples; otherwise one object (a history of
/// only cas ops would otherwise look keyed by the cas's old value).
fn agree<M: Model>(model: &M, h: &History, skew: i64, keyed: bool) {
    let keying = if keyed { Keying::Tuple } else { Keying::Single };
    let expected = oracle::brute_force(model, h, keying, skew).expect("generated ops decode");
    let options = Options { clock_skew: skew, independent: Some(keyed), ..Options::default() };
    let report = labrys::check::check_linearizable(model, h, &options).expect("generated ops decode");
    assert_eq!(
        report.verdict,
        expected,
        "{}, skew {skew}, history:\n{}\nkeys: {:#?}",
        model.name(),
        hg::dump(h),
        report.keys
    );
    for key in &report.keys {
        if let Some(c) = &key.counterexample {
            assert!(!c.reason.is_empty());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20_000))]

    #[test]
    fn cas_register_agrees_with_oracle(seed in any::<u64>(), n in 1usize..=8, procs in 1u32..=4, timed in any::<bool>()) {
        let mut rng = Rng(seed);
        let h = hg::history(&mut rng, n, procs, timed, |r| hg::register_op(r, true));
        agree(&CasRegister::default(), &h, 0, false);
    }

    #[test]
    fn register_agrees_with_oracle(seed in any::<u64>(), n in 1usize..=8, procs in 1u32..=4) {
        let mut rng = Rng(seed);
        let h = hg::history(&mut rng, n, procs, false, |r| hg::register_op(r, false));
        agree(&Register::default(), &h, 0, false);
    }

    #[test]
    fn keyed_cas_register_agrees_with_oracle(seed in any::<u64>(), n in 1usize..=10, procs in 1u32..=4) {
        let mut rng = Rng(seed);
        let h = hg::history(&mut rng, n, procs, false, |r| { let op = hg::register_op(r, true); hg::keyed(r, 2, op) });
        agree(&CasRegister::default(), &h, 0, true);
    }

    /// Mostly unique values, reads and cas of values actually written: what lets the registers'
    /// value-based order inference find reads-from, version and anti-dependency edges.
    #[test]
    fn unique_value_cas_register_agrees_with_oracle(seed in any::<u64>(), n in 2usize..=8, procs in 1u32..=4, timed in any::<bool>()) {
        let mut rng = Rng(seed);
        let mut g = hg::RegisterGen::new(true);
        let h = hg::history(&mut rng, n, procs, timed, |r| g.op(r));
        agree(&CasRegister::default(), &h, 0, false);
    }

    #[test]
    fn unique_value_register_agrees_with_oracle(seed in any::<u64>(), n in 2usize..=8, procs in 1u32..=4, timed in any::<bool>(), skew in 0i64..3) {
        let mut rng = Rng(seed);
        let mut g = hg::RegisterGen::new(false);
        let h = hg::history(&mut rng, n, procs, timed, |r| g.op(r));
        agree(&Register::default(), &h, skew, false);
    }

    #[test]
    fn clock_skew_agrees_with_oracle(seed in any::<u64>(), n in 1usize..=7, procs in 1u32..=3, skew in 0i64..4) {
        let mut rng = Rng(seed);
        let h = hg::history(&mut rng, n, procs, true, |r| hg::register_op(r, true));
        agree(&CasRegister::default(), &h, skew, false);
    }
}

/// The generator must give both verdicts often, or the agreement above proves little.
#[test]
fn generated_register_histories_are_both_valid_and_invalid() {
    let (mut valid, mut invalid) = (0, 0);
    for seed in 0..4000u64 {
        let mut rng = Rng(seed);
        let h = hg::history(&mut rng, 6, 3, false, |r| hg::register_op(r, true));
        match oracle::brute_force(&CasRegister::default(), &h, Keying::Single, 0).unwrap() {
            labrys::outcome::Verdict::Valid => valid += 1,
            _ => invalid += 1,
        }
    }
    assert!(valid > 400 && invalid > 400, "valid {valid}, invalid {invalid}");
}

/// Likewise for the mostly-unique-value generator.
#[test]
fn unique_value_register_histories_are_both_valid_and_invalid() {
    let (mut valid, mut invalid) = (0, 0);
    for seed in 0..4000u64 {
        let mut rng = Rng(seed);
        let mut g = hg::RegisterGen::new(seed % 2 == 0);
        let h = hg::history(&mut rng, 6, 3, false, |r| g.op(r));
        match oracle::brute_force(&CasRegister::default(), &h, Keying::Single, 0).unwrap() {
            labrys::outcome::Verdict::Valid => valid += 1,
            _ => invalid += 1,
        }
    }
    eprintln!("unique-value registers: {valid} valid, {invalid} invalid");
    assert!(valid > 400 && invalid > 400, "valid {valid}, invalid {invalid}");
}
