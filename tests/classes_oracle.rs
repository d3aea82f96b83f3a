//! The explainer's classes are sound: whenever `explain::classify` names a violation on a key
//! (stale read, lost write, …), the brute-force oracle agrees the key is not linearizable — on
//! many small random register histories, with crashed ops and clock skew. A class is a claim
//! about what happened; it must never be made of a history that could have happened.

mod common;

use common::generate::{self as hg, Rng};
use labrys::history::History;
use labrys::model::{CasRegister, Model, Register};
use labrys::outcome::Verdict;
use labrys::search::oracle;
use labrys::split::{Keying, prepare};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::cell::Cell;

/// Classifies `h` as one key; if a class is named, asserts the oracle finds `h` invalid.
/// Returns whether a class was named.
fn sound<M: Model>(model: &M, h: &History, skew: i64) -> bool {
    let parts = prepare(model, h, Keying::Single).expect("generated ops decode");
    let init = model.init();
    let Some(part) = parts.first() else { return false };
    let Some(class) = labrys::explain::classify(model, part, skew, &|f| model.holds(&init, f)) else {
        return false;
    };
    let verdict = oracle::brute_force(model, h, Keying::Single, skew).expect("generated ops decode");
    assert_eq!(
        verdict,
        Verdict::Invalid,
        "{} claimed ({class:?}) of a linearizable history, skew {skew}:\n{}",
        class.kind,
        hg::dump(h)
    );
    true
}

/// Runs `case` on many random histories and asserts classes were named often enough for the
/// test to mean something.
fn run(name: &str, cases: u32, case: impl Fn(&mut Rng, usize, u32, i64) -> bool) {
    let named = Cell::new(0u32);
    let mut runner = TestRunner::new(Config { failure_persistence: None, ..Config::with_cases(cases) });
    runner
        .run(&(any::<u64>(), 2usize..=8, 1u32..=4, 0i64..3), |(seed, n, procs, skew)| {
            named.set(named.get() + u32::from(case(&mut Rng(seed), n, procs, skew)));
            Ok(())
        })
        .unwrap();
    eprintln!("{name}: {cases} histories, {} classified", named.get());
    assert!(named.get() * 50 >= cases, "{name}: too few classified ({})", named.get());
}

/// A random register history: small values (often repeated), or mostly unique ones.
fn register_history(rng: &mut Rng, n: usize, procs: u32, with_cas: bool) -> History {
    if rng.chance(50) {
        hg::history(rng, n, procs, true, |r| hg::register_op(r, with_cas))
    } else {
        let mut g = hg::RegisterGen::new(with_cas);
        hg::history(rng, n, procs, true, |r| g.op(r))
    }
}

#[test]
fn register_classes_are_sound() {
    run("register", 20_000, |rng, n, procs, skew| {
        sound(&Register::default(), &register_history(rng, n, procs, false), skew)
    });
}

#[test]
fn cas_register_classes_are_sound() {
    run("cas-register", 20_000, |rng, n, procs, skew| {
        sound(&CasRegister::default(), &register_history(rng, n, procs, true), skew)
    });
}
