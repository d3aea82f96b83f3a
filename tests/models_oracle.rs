//! The linearizability checker agrees with the brute-force oracle for every model, on many small
//! random histories (at most 8 ops per key, with `:fail`, `:info` and never-completed ops); and
//! what models infer from values ([`Model::implied_order`]) holds in every linearization.
//!
//! Each agreement test also counts verdicts and fails if valid or invalid histories become
//! rare, so that a generator that degenerates (all valid, or all garbage) cannot pass silently.

mod common;

use common::generate::{self as hg, Rng};
use labrys::certify::linear::Keying;
use labrys::check::Options;
use labrys::history::{History, Value};
use labrys::model::{
    CasRegister, Counter, FifoQueue, Kv, Model, MultiRegister, Mutex, OpView, Register, Set, UnorderedQueue,
};
use labrys::outcome::Verdict;
use labrys::search::oracle;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Random histories per model.
const CASES: u32 = 10_000;

/// Checks `h` with both the checker and the oracle, asserts they agree, and returns the verdict.
fn agree<M: Model>(model: &M, h: &History, keying: Keying, skew: i64) -> Verdict {
    let expected = oracle::brute_force(model, h, keying, skew).expect("generated ops decode");
    let options =
        Options { clock_skew: skew, independent: Some(keying != Keying::Single), ..Options::default() };
    let report = labrys::check::check_linearizable(model, h, &options).expect("generated ops decode");
    assert_eq!(
        report.verdict,
        expected,
        "{}, skew {skew}: the checker says {:?}, the oracle {expected:?}, for\n{}\nkeys: {:#?}",
        model.name(),
        report.verdict,
        hg::dump(h),
        report.keys
    );
    // Left to guess how to split the history, the checker must guess right for every model
    // (a 2-micro-op txn is not a `[k v]` tuple, an op with a `:key` is keyed by it).
    let guessed = Options { clock_skew: skew, ..Options::default() };
    let guessed = labrys::check::check_linearizable(model, h, &guessed).expect("generated ops decode");
    assert_eq!(guessed.verdict, expected, "{}, keying guessed, for\n{}", model.name(), hg::dump(h));
    for key in report.keys.iter().filter(|k| k.verdict == Verdict::Invalid) {
        assert!(
            key.counterexample.is_some() || key.cycle.is_some() || key.conflict.is_some(),
            "an invalid key without an explanation: {key:#?}"
        );
    }
    expected
}

/// Runs `case` on [`CASES`] random (seed, ops, processes, timed) and asserts that at least 5%
/// of the verdicts are valid and 5% invalid.
fn run_cases(name: &str, max_ops: usize, case: impl Fn(&mut Rng, usize, u32, bool) -> Verdict) {
    let counts = [AtomicUsize::new(0), AtomicUsize::new(0)];
    let config = Config { failure_persistence: None, ..Config::with_cases(CASES) };
    let mut runner = TestRunner::new(config);
    let strategy = (any::<u64>(), 2usize..=max_ops, 1u32..=4, any::<bool>());
    let result = runner.run(&strategy, |(seed, n, procs, timed)| {
        let verdict = case(&mut Rng(seed), n, procs, timed);
        counts[usize::from(verdict != Verdict::Valid)].fetch_add(1, Ordering::Relaxed);
        Ok(())
    });
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
    let [valid, invalid] = counts.map(AtomicUsize::into_inner);
    let total = valid + invalid;
    let pct = |x: usize| 100.0 * x as f64 / total as f64;
    eprintln!("{name}: {total} histories, {:.1}% valid, {:.1}% invalid", pct(valid), pct(invalid));
    assert!(
        valid * 20 >= total,
        "{name}: only {valid} of {total} histories valid: the generator degenerated"
    );
    assert!(invalid * 20 >= total, "{name}: only {invalid} of {total} invalid: the generator degenerated");
}

#[test]
fn mutex_agrees_with_oracle() {
    run_cases("mutex", 8, |rng, n, procs, timed| {
        let mut g = hg::MutexGen::default();
        let h = hg::history(rng, n, procs, timed, |r| g.op(r));
        agree(&Mutex, &h, Keying::Single, 0)
    });
}

#[test]
fn set_agrees_with_oracle() {
    run_cases("set", 8, |rng, n, procs, timed| {
        let mut g = hg::SetGen::default();
        let h = hg::history(rng, n, procs, timed, |r| g.op(r));
        agree(&Set::default(), &h, Keying::Single, 0)
    });
}

/// Many crashed ops (`:info`, never completed), mostly unique elements (so reads name the add
/// of what they saw and the implied orders have edges), sometimes an initial element.
#[test]
fn set_with_crashed_unique_adds_agrees_with_oracle() {
    let crashy = hg::Outcomes { stuck: 10, info: 25, fail: 10 };
    run_cases("set, crashed unique adds", 9, |rng, n, procs, timed| {
        let mut g = hg::SetGen::with_range(40);
        let init = if rng.chance(25) { Value::vector(vec![Value::Int(0)]) } else { Value::Nil };
        let h = hg::history_with(rng, n, procs, timed, crashy, |r| g.op(r));
        agree(&Set::with_init(init).unwrap(), &h, Keying::Single, 0)
    });
}

#[test]
fn counter_agrees_with_oracle() {
    run_cases("counter", 8, |rng, n, procs, timed| {
        let mut g = hg::CounterGen::default();
        let h = hg::history(rng, n, procs, timed, |r| g.op(r));
        agree(&Counter::default(), &h, Keying::Single, 0)
    });
}

/// Adds that never decrement, many of them crashed: the search drops a state as soon as the
/// count passed a read not yet linearized ([`Model::ceilings`]).
#[test]
fn growing_counter_with_crashed_adds_agrees_with_oracle() {
    let crashy = hg::Outcomes { stuck: 10, info: 25, fail: 10 };
    run_cases("growing counter, crashed adds", 9, |rng, n, procs, timed| {
        let mut g = hg::CounterGen::growing();
        let init = if rng.chance(25) { 3 } else { 0 };
        let h = hg::history_with(rng, n, procs, timed, crashy, |r| g.op(r));
        agree(&Counter { init }, &h, Keying::Single, 0)
    });
}

#[test]
fn unordered_queue_agrees_with_oracle() {
    run_cases("unordered-queue", 8, |rng, n, procs, timed| {
        let mut g = hg::QueueGen::new(false);
        let h = hg::history(rng, n, procs, timed, |r| g.op(r));
        agree(&UnorderedQueue, &h, Keying::Single, 0)
    });
}

#[test]
fn fifo_queue_agrees_with_oracle() {
    run_cases("fifo-queue", 8, |rng, n, procs, timed| {
        let mut g = hg::QueueGen::new(true);
        let h = hg::history(rng, n, procs, timed, |r| g.op(r));
        agree(&FifoQueue, &h, Keying::Single, 0)
    });
}

#[test]
fn multi_register_agrees_with_oracle() {
    run_cases("multi-register", 8, |rng, n, procs, timed| {
        let mut g = hg::MultiRegisterGen::default();
        let h = hg::history(rng, n, procs, timed, |r| g.op(r));
        agree(&MultiRegister::default(), &h, Keying::Single, 0)
    });
}

#[test]
fn kv_agrees_with_oracle() {
    run_cases("kv", 8, |rng, n, procs, timed| {
        let mut g = hg::KvGen::new(&[""], 8);
        let h = hg::history(rng, n, procs, timed, |r| g.op(r));
        agree(&Kv::default(), &h, Keying::KeyField, 0)
    });
}

/// Two keys, split by `:key` (P-compositionality), at most 8 ops each, some keys starting
/// with a value other than `""`.
#[test]
fn kv_two_keys_agrees_with_oracle() {
    run_cases("kv, two keys", 14, |rng, n, procs, timed| {
        let init = if rng.chance(50) { ["", ""] } else { ["i;", "a"] };
        let model = Kv::with_init(Value::map(vec![
            (Value::string("x"), Value::string(init[0])),
            (Value::string("y"), Value::string(init[1])),
        ]))
        .unwrap();
        let mut g = hg::KvGen::new(&init, 8);
        let h = hg::history(rng, n, procs, timed, |r| g.op(r));
        agree(&model, &h, Keying::KeyField, 0)
    });
}

/// With clock-skew tolerance, real-time order (in the search and in the dependency graph) is
/// looser; the implied orders are not.
#[test]
fn kv_with_clock_skew_agrees_with_oracle() {
    run_cases("kv, clock skew", 8, |rng, n, procs, _| {
        let skew = rng.below(4) as i64;
        let mut g = hg::KvGen::new(&[""], 8);
        let h = hg::history(rng, n, procs, true, |r| g.op(r));
        agree(&Kv::default(), &h, Keying::KeyField, skew)
    });
}

/// Keyed by `[k v]` tuples, two keys with their own shadows, at most 8 ops each.
#[test]
fn keyed_set_agrees_with_oracle() {
    run_cases("set, keyed", 14, |rng, n, procs, timed| {
        let mut gens = [hg::SetGen::default(), hg::SetGen::default()];
        let mut count = [0; 2];
        let h = hg::history(rng, n, procs, timed, |r| {
            let k = if count[0] == 8 {
                1
            } else if count[1] == 8 {
                0
            } else {
                r.below(2) as usize
            };
            count[k] += 1;
            let op = gens[k].op(r);
            hg::keyed_as(Value::Int(k as i64), op)
        });
        agree(&Set::default(), &h, Keying::Tuple, 0)
    });
}

#[test]
fn keyed_fifo_queue_agrees_with_oracle() {
    run_cases("fifo-queue, keyed", 14, |rng, n, procs, timed| {
        let mut gens = [hg::QueueGen::new(true), hg::QueueGen::new(true)];
        let mut count = [0; 2];
        let h = hg::history(rng, n, procs, timed, |r| {
            let k = if count[0] == 8 {
                1
            } else if count[1] == 8 {
                0
            } else {
                r.below(2) as usize
            };
            count[k] += 1;
            let op = gens[k].op(r);
            hg::keyed_as(Value::keyword(["a", "b"][k]), op)
        });
        agree(&FifoQueue, &h, Keying::Tuple, 0)
    });
}

// ---------------------------------------------------------------------------------------------
// Soundness of `implied_order`, directly: every legal sequence of the ops (all completed ops,
// any subset of crashed ones, in any order the model allows — as if all ops were concurrent,
// which real time can only restrict) must respect every edge, and there must be none when a
// conflict is reported.

/// What one soundness case found, for the non-vacuity counts.
#[derive(Default)]
struct Found {
    cases: usize,
    with_edges: usize,
    with_conflicts: usize,
    linearizable: usize,
}

/// Every legal sequence of `ops` from `state` that includes all of `ops[..completed]`, handed
/// to `visit` (with `seq` the sequence so far). Nondeterministic ops are followed into every
/// state they may lead to.
fn sequences<M: Model>(
    model: &M,
    ops: &[M::Op],
    completed: usize,
    state: &M::State,
    seq: &mut Vec<usize>,
    visit: &mut dyn FnMut(&[usize]),
) {
    if (0..completed).all(|i| seq.contains(&i)) {
        visit(seq);
    }
    for i in 0..ops.len() {
        if seq.contains(&i) {
            continue;
        }
        let mut next = Vec::new();
        model.step_all(state, &ops[i], &mut next);
        for s in next {
            seq.push(i);
            sequences(model, ops, completed, &s, seq, visit);
            seq.pop();
        }
    }
}

/// Asserts that `implied_order(ops, completed)` is sound (see above); `ops[..completed]`
/// completed, the rest crashed.
fn assert_implied_sound<M: Model>(model: &M, ops: &[M::Op], completed: usize, found: &mut Found) {
    let implied = model.implied_order(ops, completed);
    let mut legal = 0usize;
    let mut visit = |seq: &[usize]| {
        legal += 1;
        let at = |op: u32| seq.iter().position(|&i| i == op as usize);
        for e in &implied.edges {
            let Some(after) = at(e.after) else { continue };
            let ok = at(e.before).is_some_and(|before| before < after);
            assert!(
                ok,
                "{}: edge {e:?} is violated by the legal sequence {seq:?} of\n{}\n(completed: {completed})",
                model.name(),
                describe(model, ops)
            );
        }
    };
    sequences(model, ops, completed, &model.init(), &mut Vec::new(), &mut visit);
    if let Some(c) = implied.conflicts.first() {
        assert_eq!(
            legal,
            0,
            "{}: conflict {c:?}, but {legal} legal sequences exist for\n{}\n(completed: {completed})",
            model.name(),
            describe(model, ops)
        );
    }
    found.cases += 1;
    found.with_edges += usize::from(!implied.edges.is_empty());
    found.with_conflicts += usize::from(!implied.conflicts.is_empty());
    found.linearizable += usize::from(legal > 0);
}

fn describe<M: Model>(model: &M, ops: &[M::Op]) -> String {
    ops.iter().enumerate().map(|(i, op)| format!("  {i}: {}\n", model.describe_op(op))).collect()
}

/// Decodes generated specs as the checker would: `:fail` ops dropped (not generated here),
/// crashed reads dropped, completed ops first, then crashed ones. Returns the ops and how
/// many completed.
fn decode_ops<M: Model>(model: &M, rng: &mut Rng, specs: Vec<hg::OpSpec>) -> (Vec<M::Op>, usize) {
    let (mut done, mut crashed) = (Vec::new(), Vec::new());
    for spec in specs {
        let is_crashed = rng.chance(25);
        let view = OpView {
            f: spec.f,
            input: &spec.input,
            output: (!is_crashed).then_some(&spec.output),
            key: spec.key.as_ref(),
        };
        let op = model.decode(&view).expect("generated ops decode");
        match is_crashed {
            true if model.is_read_only(&op) => {}
            true => crashed.push(op),
            false => done.push(op),
        }
    }
    let completed = done.len();
    done.extend(crashed);
    (done, completed)
}

/// Asserts the counts show the test exercised edges and conflicts, on linearizable and
/// non-linearizable op sets alike.
fn assert_not_vacuous(name: &str, f: &Found) {
    let pct = |x: usize| 100.0 * x as f64 / f.cases as f64;
    eprintln!(
        "{name}: {} op sets, {:.1}% with edges, {:.1}% with conflicts, {:.1}% linearizable",
        f.cases,
        pct(f.with_edges),
        pct(f.with_conflicts),
        pct(f.linearizable)
    );
    assert!(f.with_edges * 5 >= f.cases, "{name}: too few cases with edges");
    assert!(f.with_conflicts * 20 >= f.cases, "{name}: too few cases with conflicts");
    assert!(f.linearizable * 20 >= f.cases, "{name}: too few linearizable cases");
}

#[test]
fn kv_implied_order_is_sound() {
    let mut found = Found::default();
    for seed in 0..CASES as u64 * 2 {
        let mut rng = Rng(seed);
        let init: &[&str] = match rng.below(4) {
            0 => &["", ""],
            1 => &["p;"],
            _ => &[""],
        };
        let mut g = hg::KvGen::new(init, 8);
        let n = 3 + rng.below(6) as usize;
        let specs = (0..n).map(|_| g.op(&mut rng)).collect();
        let entries = init.iter().zip(g.keys()).map(|(v, k)| (k.clone(), Value::string(v))).collect();
        let model = Kv::with_init(Value::map(entries)).unwrap();
        let (ops, completed) = decode_ops(&model, &mut rng, specs);
        assert_implied_sound(&model, &ops, completed, &mut found);
    }
    assert_not_vacuous("kv implied_order", &found);
}

#[test]
fn register_implied_order_is_sound() {
    let mut found = Found::default();
    for seed in 0..CASES as u64 * 2 {
        let mut rng = Rng(seed);
        let with_cas = rng.chance(70);
        let n = 2 + rng.below(6) as usize;
        // Small values (often repeated), or mostly unique ones, which name their writer.
        let specs = if rng.chance(50) {
            (0..n).map(|_| hg::register_op(&mut rng, with_cas)).collect()
        } else {
            let mut g = hg::RegisterGen::new(with_cas);
            (0..n).map(|_| g.op(&mut rng)).collect()
        };
        let init = if rng.chance(50) { hg::small_value(&mut rng) } else { Value::Nil };
        let model = Register::with_init(init.clone()).unwrap();
        let cas_model = CasRegister::with_init(init).unwrap();
        if with_cas {
            let (ops, completed) = decode_ops(&cas_model, &mut rng, specs);
            assert_implied_sound(&cas_model, &ops, completed, &mut found);
        } else {
            let (ops, completed) = decode_ops(&model, &mut rng, specs);
            assert_implied_sound(&model, &ops, completed, &mut found);
        }
    }
    assert_not_vacuous("register implied_order", &found);
}

#[test]
fn set_implied_order_is_sound() {
    let mut found = Found::default();
    for seed in 0..CASES as u64 * 2 {
        let mut rng = Rng(seed);
        // Repeated elements, or mostly unique ones, whose one add a read then names.
        let mut g = hg::SetGen::with_range(if rng.chance(50) { 4 } else { 40 });
        let n = 2 + rng.below(7) as usize;
        let specs = (0..n).map(|_| g.op(&mut rng)).collect();
        let init =
            if rng.chance(25) { Value::vector(vec![Value::Int(rng.below(4) as i64)]) } else { Value::Nil };
        let model = Set::with_init(init).unwrap();
        let (ops, completed) = decode_ops(&model, &mut rng, specs);
        assert_implied_sound(&model, &ops, completed, &mut found);
    }
    assert_not_vacuous("set implied_order", &found);
}

/// Kv ops over a tiny alphabet, so that values decompose in several ways, or in one way that
/// is easy to get wrong: appends and puts of short strings of `a` and `b`, over initial values
/// `""`, `"a"` or `"ab"`; gets of a put (or the initial value) followed by some of the appends
/// in any order, or of any short string.
#[test]
fn kv_implied_order_is_sound_on_ambiguous_strings() {
    fn word(rng: &mut Rng, min: u64, max: u64) -> String {
        (0..min + rng.below(max - min + 1)).map(|_| if rng.chance(50) { 'a' } else { 'b' }).collect()
    }
    let mut found = Found::default();
    for seed in 0..CASES as u64 * 2 {
        let mut rng = Rng(seed);
        let init = *hg::pick(&mut rng, &["", "a", "ab"]);
        let model = Kv::with_init(Value::map(vec![(Value::string("x"), Value::string(init))])).unwrap();
        let op = |f, input: &str, output: &str| hg::OpSpec {
            f,
            input: Value::string(input),
            output: Value::string(output),
            key: Some(Value::string("x")),
        };
        let (mut bases, mut appends, mut specs) = (vec![init.to_string()], Vec::new(), Vec::new());
        for _ in 0..2 + rng.below(3) {
            if rng.chance(75) {
                let s = word(&mut rng, 1, 2);
                specs.push(op("append", &s, &s));
                appends.push(s);
            } else {
                let s = word(&mut rng, 0, 2);
                specs.push(op("put", &s, &s));
                bases.push(s);
            }
        }
        for _ in 0..1 + rng.below(3) {
            let seen = if rng.chance(70) {
                let base = hg::pick(&mut rng, &bases).clone();
                let tail: Vec<String> = (0..rng.below(appends.len() as u64 + 1))
                    .map(|_| hg::pick(&mut rng, &appends).clone())
                    .collect();
                base + &tail.concat()
            } else {
                word(&mut rng, 0, 4)
            };
            specs.push(op("get", "", &seen));
        }
        let (ops, completed) = decode_ops(&model, &mut rng, specs);
        assert_implied_sound(&model, &ops, completed, &mut found);
    }
    assert_not_vacuous("kv implied_order, ambiguous strings", &found);
}
