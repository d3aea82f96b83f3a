//! The linearizability search agrees with a brute-force oracle on many small random histories.

mod common;

use common::generate::{self as gen, Rng};
use labrys::history::History;
use labrys::linear::{self, oracle, Keying, Options};
use labrys::model::{CasRegister, Model, Register};
use proptest::prelude::*;

fn agree<M: Model>(model: &M, h: &History, skew: i64) {
    let keying = Keying::detect(h, None);
    let expected = oracle::brute_force(model, h, keying, skew).expect("generated ops decode");
    let options = Options { clock_skew: skew, ..Options::default() };
    let report = linear::check(model, h, &options).expect("generated ops decode");
    assert_eq!(report.verdict, expected, "history: {:#?}", h.ops);
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
        let h = gen::history(&mut rng, n, procs, timed, |r| gen::register_op(r, true));
        agree(&CasRegister::default(), &h, 0);
    }

    #[test]
    fn register_agrees_with_oracle(seed in any::<u64>(), n in 1usize..=8, procs in 1u32..=4) {
        let mut rng = Rng(seed);
        let h = gen::history(&mut rng, n, procs, false, |r| gen::register_op(r, false));
        agree(&Register::default(), &h, 0);
    }

    #[test]
    fn keyed_cas_register_agrees_with_oracle(seed in any::<u64>(), n in 1usize..=10, procs in 1u32..=4) {
        let mut rng = Rng(seed);
        let h = gen::history(&mut rng, n, procs, false, |r| { let op = gen::register_op(r, true); gen::keyed(r, 2, op) });
        agree(&CasRegister::default(), &h, 0);
    }

    #[test]
    fn clock_skew_agrees_with_oracle(seed in any::<u64>(), n in 1usize..=7, procs in 1u32..=3, skew in 0i64..4) {
        let mut rng = Rng(seed);
        let h = gen::history(&mut rng, n, procs, true, |r| gen::register_op(r, true));
        agree(&CasRegister::default(), &h, skew);
    }
}
