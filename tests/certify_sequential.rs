//! Certification of sequential-consistency claims about registers: the write orders and
//! anti-dependencies process order forces (saturation), and the classes named over process
//! order, and the joint check's evidence, are re-derived (nothing is left unchecked), and
//! tampered ones are refuted.

mod common;

use labrys::certify::linear::Keying;
use labrys::certify::linear::{Coverage, Setting, certify_linear_report};
use labrys::check::Options;
use labrys::check::check_sequential;
use labrys::history::{Format, History, ReadOptions, read_bytes, read_file};
use labrys::model::{EdgeKind, Register};
use labrys::outcome::LinearReport;
use labrys::outcome::Verdict;

fn setting(h: &History) -> Setting {
    Setting { keying: Keying::detect(h, None), skew: 0, nil_reads_unknown: false, init: None }
}

fn checked(file: &str) -> (History, LinearReport) {
    let path = common::histories_dir().join(file);
    let h = read_file(path.to_str().unwrap(), &ReadOptions::default()).unwrap();
    let report = check_sequential(&Register::default(), &h, &Options::default()).unwrap();
    (h, report)
}

fn certify(h: &History, report: &LinearReport) -> Result<Coverage, labrys::certify::Refuted> {
    certify_linear_report(&Register::default(), h, report, &setting(h))
}

/// The cycle's edges that the values alone do not give: those sequential consistency derives.
fn derived_steps(report: &LinearReport) -> Vec<usize> {
    let cycle = report.keys[0].cycle.as_ref().expect("a cycle");
    (0..cycle.len())
        .filter(|&i| matches!(cycle[i].edge, EdgeKind::Version | EdgeKind::AntiDependency))
        .collect()
}

#[test]
fn derived_write_orders_are_certified_and_tampering_is_refuted() {
    // Two readers saw two writes in opposite orders: the cycle orders the writes both ways by
    // what each reader's process order forces.
    let (h, report) = checked("sc-disagreeing-order.edn");
    assert_eq!(report.verdict, Verdict::Invalid);
    let coverage = certify(&h, &report).unwrap();
    assert!(coverage.unchecked.is_empty(), "{:?}", coverage.unchecked);
    let derived = derived_steps(&report);
    assert!(!derived.is_empty(), "{:?}", report.keys[0].cycle);
    for &i in &derived {
        // The other kind of data edge: a write is no op that saw a value (rw), a read leaves
        // none (ww).
        let mut r = report.clone();
        let step = &mut r.keys[0].cycle.as_mut().unwrap()[i];
        step.edge = if step.edge == EdgeKind::Version { EdgeKind::AntiDependency } else { EdgeKind::Version };
        let e = certify(&h, &r).unwrap_err();
        assert!(e.why.contains("nor does process order derive it"), "step {i}: {e}");
    }
}

/// A write order that only several rounds of the rules give: a chain of processes, each of
/// which saw the last write and then wrote its own, and readers that saw those writes out of
/// order. Certified; tampered, refuted.
#[test]
fn chained_derivations_are_followed() {
    // p0 writes 1. p1 reads 1, writes 2. p2 reads 2, writes 3. p3 reads 3 then 1: every write
    // before 3 must precede 3 and 1 is overwritten by 2 (process order through p1 and p2).
    let ops = [
        (0, "write", "1", "1"),
        (1, "read", "nil", "1"),
        (1, "write", "2", "2"),
        (2, "read", "nil", "2"),
        (2, "write", "3", "3"),
        (3, "read", "nil", "3"),
        (3, "read", "nil", "1"),
    ];
    let h = history(&ops);
    let report = check_sequential(&Register::default(), &h, &Options::default()).unwrap();
    assert_eq!(report.verdict, Verdict::Invalid);
    let coverage = certify(&h, &report).unwrap();
    assert!(coverage.unchecked.is_empty(), "{:?}", coverage.unchecked);
    // Not a pattern of one process's own writes: only the cycle shows it.
    assert!(report.keys[0].class.is_none(), "{:?}", report.keys[0].class);
    assert!(!derived_steps(&report).is_empty(), "{:?}", report.keys[0].cycle);
    for i in derived_steps(&report) {
        let mut r = report.clone();
        let step = &mut r.keys[0].cycle.as_mut().unwrap()[i];
        step.edge = if step.edge == EdgeKind::Version { EdgeKind::AntiDependency } else { EdgeKind::Version };
        assert!(certify(&h, &r).is_err(), "step {i} with its kind changed was certified");
    }
}

#[test]
fn sequential_classes_are_certified_and_tampering_is_refuted() {
    for (file, kind) in [
        ("sc-disagreeing-order.edn", "disagreeing-order"),
        ("sc-out-of-order-read.edn", "out-of-order-read"),
        ("sc-own-write-lost.edn", "own-write-not-read"),
    ] {
        let (h, report) = checked(file);
        let class = report.keys[0].class.as_ref().unwrap_or_else(|| panic!("{file}: a class"));
        assert_eq!(class.kind.as_str(), kind, "{file}");
        let coverage = certify(&h, &report).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(coverage.unchecked.is_empty(), "{file}: {:?}", coverage.unchecked);
        // Its ops in the other order, or named as another class, show nothing.
        let mut r = report.clone();
        r.keys[0].class.as_mut().unwrap().ops.reverse();
        assert!(certify(&h, &r).is_err(), "{file}: reversed ops certified");
        for other in ["disagreeing-order", "out-of-order-read", "own-write-not-read"] {
            if other != kind {
                let mut r = report.clone();
                r.keys[0].class.as_mut().unwrap().kind = other.parse().unwrap();
                assert!(certify(&h, &r).is_err(), "{file}: certified as {other}");
            }
        }
    }
}

/// The disagreeing processes must be two: one process's reads in the second pair's place
/// show no disagreement.
#[test]
fn disagreeing_order_needs_two_processes() {
    let (h, report) = checked("sc-disagreeing-order.edn");
    let mut r = report.clone();
    let ops = &mut r.keys[0].class.as_mut().unwrap().ops;
    let (first, second) = (ops[0].clone(), ops[1].clone());
    ops[2] = first;
    ops[3] = second;
    let e = certify(&h, &r).unwrap_err();
    assert!(e.why.contains("one process"), "{e}");
}

/// A history of ops that each complete before the next begins: (process, f, invoked value,
/// completed value).
fn history(ops: &[(u32, &str, &str, &str)]) -> History {
    let mut text = String::new();
    for (i, (p, f, input, output)) in ops.iter().enumerate() {
        let t = i * 2;
        text += &format!("{{:process {p}, :type :invoke, :f :{f}, :value {input}, :time {t}}}\n");
        text += &format!("{{:process {p}, :type :ok, :f :{f}, :value {output}, :time {}}}\n", t + 1);
    }
    read_bytes("h.edn", text.as_bytes(), Format::Edn, &ReadOptions::default()).unwrap()
}

/// The joint check's evidence (Dekker's pattern on two keys, each consistent alone): its cycle
/// through both keys and its class are certified; tampered, refuted.
#[test]
fn the_joint_checks_evidence_is_certified_and_tampering_is_refuted() {
    let (h, report) = checked("sc-dekker.edn");
    let joint = report.joint.as_ref().expect("a joint check");
    assert_eq!(joint.verdict, Verdict::Invalid);
    let coverage = certify(&h, &report).unwrap();
    assert!(coverage.unchecked.is_empty(), "{:?}", coverage.unchecked);
    assert_eq!(joint.class.as_ref().map(|c| c.kind.as_str()), Some("disagreeing-order"));
    let tampered = |edit: &dyn Fn(&mut labrys::outcome::KeyResult)| {
        let mut r = report.clone();
        edit(r.joint.as_mut().unwrap());
        certify(&h, &r)
    };
    // The class's pairs of ops swapped within each pair: each process's ops out of order.
    assert!(tampered(&|j| j.class.as_mut().unwrap().ops.swap(0, 1)).is_err());
    // A cycle step of another kind: process order between keys holds, data edges do not.
    let cycle = joint.cycle.as_ref().expect("a cycle");
    for (i, step) in cycle.iter().enumerate() {
        let other = if step.edge == EdgeKind::Process { EdgeKind::AntiDependency } else { EdgeKind::Process };
        let e = tampered(&|j| j.cycle.as_mut().unwrap()[i].edge = other);
        assert!(e.is_err(), "step {i} as {other:?} was certified");
    }
    // No evidence at all.
    assert!(tampered(&|j| j.cycle = None).is_err());
}

/// Dekker's pattern on two counters: each key is consistent alone, and no cycle shows the
/// whole is not (counters imply no order), so the joint search's counterexample and shrunk
/// witness are the evidence. Certified; tampered, refuted.
#[test]
fn the_joint_checks_counterexample_is_replayed_key_by_key() {
    let text = "{:process 0, :type :invoke, :f :add, :value [:x 1]}\n{:process 0, :type :ok, :f :add, :value [:x 1]}\n\
                {:process 1, :type :invoke, :f :add, :value [:y 1]}\n{:process 1, :type :ok, :f :add, :value [:y 1]}\n\
                {:process 0, :type :invoke, :f :read, :value [:y nil]}\n{:process 0, :type :ok, :f :read, :value [:y 0]}\n\
                {:process 1, :type :invoke, :f :read, :value [:x nil]}\n{:process 1, :type :ok, :f :read, :value [:x 0]}\n";
    let h = read_bytes("dekker.edn", text.as_bytes(), Format::Edn, &ReadOptions::default()).unwrap();
    let model = labrys::model::Counter::default();
    let report = check_sequential(&model, &h, &Options::default()).unwrap();
    assert!(report.keys.iter().all(|k| k.verdict == Verdict::Valid), "{:?}", report.keys);
    let joint = report.joint.as_ref().expect("a joint check");
    assert_eq!(joint.verdict, Verdict::Invalid);
    assert!(joint.counterexample.is_some() && joint.witness.is_some(), "{joint:?}");
    let certify = |r: &LinearReport| certify_linear_report(&model, &h, r, &setting(&h));
    let coverage = certify(&report).unwrap();
    assert!(coverage.unchecked.is_empty(), "{:?}", coverage.unchecked);
    let tampered = |edit: &dyn Fn(&mut labrys::outcome::KeyResult)| {
        let mut r = report.clone();
        edit(r.joint.as_mut().unwrap());
        certify(&r)
    };
    // The blocked op said to fit where it does not (or the reverse).
    let flipped = |j: &mut labrys::outcome::KeyResult| {
        let c = j.counterexample.as_mut().unwrap();
        c.reason = if c.reason.contains("could take effect here") {
            "no".into()
        } else {
            "it could take effect here".into()
        };
    };
    assert!(tampered(&flipped).is_err());
    // The state told with the keys in another order than they first appear, or with another
    // value after a step shown.
    let c = joint.counterexample.as_ref().unwrap();
    let inner = c.state.trim_start_matches('{').trim_end_matches('}');
    let mut each: Vec<&str> = inner.split(", ").collect();
    assert!(each.len() == 2 && each[0] != each[1], "{}", c.state);
    each.reverse();
    let reordered = format!("{{{}}}", each.join(", "));
    let e = tampered(&|j| j.counterexample.as_mut().unwrap().state = reordered.clone()).unwrap_err();
    assert!(e.why.contains("the state where the search got stuck"), "{e}");
    assert!(!c.prefix_tail.is_empty(), "{c:?}");
    let e = tampered(&|j| {
        let step = j.counterexample.as_mut().unwrap().prefix_tail.last_mut().unwrap();
        step.state_after = step.state_after.replace('1', "7");
    })
    .unwrap_err();
    assert!(e.why.contains("the state cannot be"), "{e}");
    // The blocked op put in the prefix too.
    assert!(
        tampered(&|j| {
            let c = j.counterexample.as_mut().unwrap();
            c.prefix.push(c.op.position);
            c.prefix_len += 1;
        })
        .is_err()
    );
    // A witness without one of its reads can be ordered.
    let e = tampered(&|j| j.witness.as_mut().unwrap().retain(|o| o.position != 3)).unwrap_err();
    assert!(e.why.contains("can be ordered"), "{e}");
}
