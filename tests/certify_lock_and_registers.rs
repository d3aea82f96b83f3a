//! Certification of the mutex and multi-register models' evidence, and of witnesses past the
//! brute-force oracle's dozen ops. The checker claims no data edge, conflict or class for
//! these two models (only counterexamples and witnesses); claims of those shapes are
//! re-derived from the raw ops when they hold, and refuted when they do not, never left
//! unchecked.

use labrys::certify::Refuted;
use labrys::certify::linear::Keying;
use labrys::certify::linear::{Coverage, Setting, certify_linear_report};
use labrys::check::Options;
use labrys::check::check_linearizable;
use labrys::history::{Format, History, Outcome, ReadOptions, Value, read_bytes};
use labrys::model::{EdgeKind, Model, MultiRegister, Mutex, OpView};
use labrys::outcome::Verdict;
use labrys::outcome::{ClassInfo, ConflictWitness, CycleStep, LinearReport, OpRef};

fn edn(text: &str) -> History {
    read_bytes("t.edn", text.as_bytes(), Format::Edn, &ReadOptions::default()).unwrap()
}

fn certify<M: Model>(
    model: &M,
    h: &History,
    r: &LinearReport,
    init: Option<Value>,
) -> Result<Coverage, Refuted> {
    let setting = Setting { keying: Keying::detect(h, None), skew: 0, nil_reads_unknown: false, init };
    certify_linear_report(model, h, &in_words(model, h, r), &setting)
}

/// `r` with every op it cites described by the model and every cycle edge told as the checker
/// tells it: these tests forge claims, not sentences (certification checks both).
fn in_words<M: Model>(model: &M, h: &History, r: &LinearReport) -> LinearReport {
    let describe = |o: &mut OpRef| {
        let op = &h.ops[o.position as usize];
        let f = h.value(op.f).as_name().unwrap_or_default();
        let output = (op.outcome == Outcome::Ok).then(|| h.value(op.output));
        if let Ok(d) = model.decode(&OpView { f, input: h.value(op.input), output, key: None }) {
            o.text = model.describe_op(&d);
        }
    };
    let mut t = r.clone();
    for k in &mut t.keys {
        if let Some(cycle) = &mut k.cycle {
            let index: Vec<u64> = cycle.iter().map(|s| s.op.index).collect();
            for (i, s) in cycle.iter_mut().enumerate() {
                describe(&mut s.op);
                let (a, b) = (index[i], index[(i + 1) % index.len()]);
                s.why = match s.edge {
                    EdgeKind::RealTime => format!("index {a} completed before index {b} began"),
                    EdgeKind::Process => format!("process {} ran index {a} before index {b}", s.op.process),
                    EdgeKind::ReadsFrom => format!("index {b} saw what index {a} wrote"),
                    EdgeKind::Version => {
                        format!("the values read show index {b}'s write came after index {a}'s")
                    }
                    EdgeKind::AntiDependency => format!(
                        "index {a} saw a state from before index {b}'s write (the values read show that write came later)"
                    ),
                };
            }
        }
        k.conflict.iter_mut().flat_map(|c| &mut c.ops).for_each(describe);
        k.class.iter_mut().flat_map(|c| &mut c.ops).for_each(describe);
        k.witness.iter_mut().flatten().for_each(describe);
    }
    t
}

/// `r` (one invalid key) with its evidence replaced by `f`.
fn with_evidence(r: &LinearReport, f: impl FnOnce(&mut labrys::outcome::KeyResult)) -> LinearReport {
    let mut t = r.clone();
    let k = &mut t.keys[0];
    assert_eq!(k.verdict, Verdict::Invalid);
    (k.counterexample, k.cycle, k.conflict, k.class, k.witness) = (None, None, None, None, None);
    f(k);
    t
}

fn cite(h: &History, pos: u32) -> OpRef {
    OpRef::new(h, pos, format!("op {pos}"))
}

fn step(h: &History, pos: u32, edge: EdgeKind) -> CycleStep {
    CycleStep { op: cite(h, pos), edge, why: String::new() }
}

fn conflict(h: &History, ops: &[u32], kind: Option<&'static str>) -> ConflictWitness {
    ConflictWitness {
        ops: ops.iter().map(|&p| cite(h, p)).collect(),
        reason: "claimed".into(),
        kind: kind.map(|k| k.parse().unwrap()),
    }
}

fn class(h: &History, kind: &str, ops: &[u32]) -> ClassInfo {
    ClassInfo {
        kind: kind.parse().unwrap(),
        ops: ops.iter().map(|&p| cite(h, p)).collect(),
        explanation: "claimed".into(),
        faults: Vec::new(),
    }
}

/// Two acquires, the second begun after the first completed, nobody releasing; a release
/// crashed (it may have happened) on another history.
const DOUBLE_ACQUIRE: &str = r#"
{:index 0, :time 0, :type :invoke, :process 0, :f :acquire, :value nil}
{:index 1, :time 1, :type :ok, :process 0, :f :acquire, :value nil}
{:index 2, :time 2, :type :invoke, :process 1, :f :acquire, :value nil}
{:index 3, :time 3, :type :ok, :process 1, :f :acquire, :value nil}
"#;

#[test]
fn mutex_conflicts_are_rederived_and_other_claims_refuted() {
    let h = edn(DOUBLE_ACQUIRE);
    let r = check_linearizable(&Mutex, &h, &Options::default()).unwrap();
    assert_eq!(r.verdict, Verdict::Invalid);
    let fine = |t: &LinearReport| {
        let c = certify(&Mutex, &h, t, None).unwrap_or_else(|e| panic!("{e}"));
        // The ops are certified; the sentence (a mutex's search never words one) is not.
        assert!(c.unchecked.len() == 1 && c.unchecked[0].contains("sentence: claimed"), "{:?}", c.unchecked);
    };
    let refuted = |t: &LinearReport| certify(&Mutex, &h, t, None).unwrap_err().why;
    // Two completed acquires, no release at all: by counting, and by real time.
    fine(&with_evidence(&r, |k| k.conflict = Some(conflict(&h, &[0, 1], None))));
    fine(&with_evidence(&r, |k| k.conflict = Some(conflict(&h, &[1, 0], None))));
    // One acquire is no conflict; a data edge or a class has no meaning for a lock.
    let why = refuted(&with_evidence(&r, |k| k.conflict = Some(conflict(&h, &[1], None))));
    assert!(why.contains("1 completed acquires, but 0 releases"), "{why}");
    let cycle = vec![step(&h, 0, EdgeKind::RealTime), step(&h, 1, EdgeKind::ReadsFrom)];
    let why = refuted(&with_evidence(&r, |k| k.cycle = Some(cycle)));
    assert!(why.contains("no wr edge"), "{why}");
    let why = refuted(&with_evidence(&r, |k| {
        k.conflict = Some(conflict(&h, &[0, 1], None));
        k.class = Some(class(&h, "stale-read", &[0, 1]));
    }));
    assert!(why.contains("no class is named for a mutex"), "{why}");

    // With a release that may have happened between them (it crashed), the same pair is no
    // conflict: neither by counting (two acquires, one release) nor by real time.
    let h = edn(&format!(
        "{DOUBLE_ACQUIRE}{{:index 4, :time 1, :type :invoke, :process 2, :f :release, :value nil}}\n"
    ));
    let r = check_linearizable(&Mutex, &h, &Options::default()).unwrap();
    assert_eq!(r.verdict, Verdict::Valid);
    let mut t = r.clone();
    t.verdict = Verdict::Invalid;
    let t = {
        t.keys[0].verdict = Verdict::Invalid;
        with_evidence(&t, |k| k.conflict = Some(conflict(&h, &[0, 1], None)))
    };
    let why = certify(&Mutex, &h, &t, None).unwrap_err().why;
    assert!(why.contains("a release that may have happened could fall between them"), "{why}");
}

/// A torn read (initially {:x 0 :y 0}): T1 writes x and y, T2 reads the new x and the old y.
const TORN: &str = r#"
{:index 0, :time 0, :type :invoke, :process 0, :f :txn, :value [[:write :x 1] [:write :y 1]]}
{:index 1, :time 1, :type :ok, :process 0, :f :txn, :value [[:write :x 1] [:write :y 1]]}
{:index 2, :time 2, :type :invoke, :process 1, :f :txn, :value [[:read :x nil] [:read :y nil]]}
{:index 3, :time 3, :type :ok, :process 1, :f :txn, :value [[:read :x 1] [:read :y 0]]}
"#;

fn xy0() -> Value {
    Value::map(vec![(Value::keyword("x"), Value::Int(0)), (Value::keyword("y"), Value::Int(0))])
}

#[test]
fn multi_register_edges_are_rederived_and_tampering_refuted() {
    let h = edn(TORN);
    let model = MultiRegister::with_init(xy0()).unwrap();
    let r = check_linearizable(&model, &h, &Options::default()).unwrap();
    assert_eq!(r.verdict, Verdict::Invalid);
    // T1 -wr-> T2 (T2 saw x = 1, which only T1 wrote), T2 -rw-> T1 (T2 saw y's initial 0, which
    // T1 overwrote and nobody writes back).
    let cycle = vec![step(&h, 0, EdgeKind::ReadsFrom), step(&h, 1, EdgeKind::AntiDependency)];
    let c = certify(&model, &h, &with_evidence(&r, |k| k.cycle = Some(cycle.clone())), Some(xy0())).unwrap();
    assert!(c.unchecked.is_empty(), "{:?}", c.unchecked);
    // Each data edge turned into each other data kind is refuted.
    for (i, kind) in [(0, EdgeKind::Version), (0, EdgeKind::AntiDependency), (1, EdgeKind::ReadsFrom)] {
        let mut bad = cycle.clone();
        bad[i].edge = kind;
        let t = with_evidence(&r, |k| k.cycle = Some(bad));
        assert!(certify(&model, &h, &t, Some(xy0())).is_err(), "{i} {kind:?}");
    }
    // Without the initial values, y = 0 was never written: T2's read is garbage.
    assert!(certify(&model, &h, &with_evidence(&r, |k| k.cycle = Some(cycle)), None).is_err());
    let garbage = |k: &mut labrys::outcome::KeyResult| {
        k.conflict = Some(conflict(&h, &[1], Some("garbage-read")));
        k.class = Some(class(&h, "garbage-read", &[1]));
    };
    let plain = MultiRegister::default();
    let c = certify(&plain, &h, &with_evidence(&r, garbage), None).unwrap();
    // Its ops and kind are certified; its sentence (the model never words one) is not.
    assert!(c.certified == 2 && c.unchecked.len() == 1 && c.unchecked[0].contains("claimed"), "{c:?}");
    let why = certify(&model, &h, &with_evidence(&r, garbage), Some(xy0())).unwrap_err().why;
    assert!(why.contains("every value it read was initial or written"), "{why}");
}

#[test]
fn multi_register_conflicts_within_a_transaction_are_rederived() {
    // A transaction that read x = 2 after writing 1 to it; one whose read nobody wrote, except a
    // failed transaction.
    let h = edn(r#"
{:index 0, :time 0, :type :invoke, :process 0, :f :txn, :value [[:w :x 1] [:r :x nil]]}
{:index 1, :time 1, :type :ok, :process 0, :f :txn, :value [[:w :x 1] [:r :x 2]]}
{:index 2, :time 2, :type :invoke, :process 1, :f :txn, :value [[:w :y 7]]}
{:index 3, :time 3, :type :fail, :process 1, :f :txn, :value [[:w :y 7]]}
{:index 4, :time 4, :type :invoke, :process 2, :f :txn, :value [[:r :y nil]]}
{:index 5, :time 5, :type :ok, :process 2, :f :txn, :value [[:r :y 7]]}
"#);
    let model = MultiRegister::default();
    let r = check_linearizable(&model, &h, &Options::default()).unwrap();
    assert_eq!(r.verdict, Verdict::Invalid);
    let c = certify(&model, &h, &with_evidence(&r, |k| k.conflict = Some(conflict(&h, &[0], None))), None)
        .unwrap();
    // Certified but for the sentence (the model words no conflict of its own).
    let sentence_only = |c: &labrys::certify::linear::Coverage| {
        c.unchecked.len() == 1 && c.unchecked[0].ends_with("sentence: claimed")
    };
    assert!(sentence_only(&c), "{:?}", c.unchecked);
    let failed_write = |k: &mut labrys::outcome::KeyResult| {
        k.conflict = Some(conflict(&h, &[2], Some("garbage-read")));
        k.class = Some(class(&h, "read-of-failed-write", &[2]));
    };
    let c = certify(&model, &h, &with_evidence(&r, failed_write), None).unwrap();
    assert!(sentence_only(&c), "{:?}", c.unchecked);
    // The reader of y is consistent within itself; the writer of x read nothing unwritten.
    let why = certify(&model, &h, &with_evidence(&r, |k| k.conflict = Some(conflict(&h, &[2], None))), None)
        .unwrap_err()
        .why;
    assert!(why.contains("its reads agree"), "{why}");
    let t = with_evidence(&r, |k| k.conflict = Some(conflict(&h, &[0], Some("garbage-read"))));
    assert!(certify(&model, &h, &t, None).is_err());
}

/// Fourteen ops of one lock, one after another: six acquire-release pairs, then two acquires.
fn long_mutex_history() -> History {
    let mut text = String::new();
    for i in 0..14u32 {
        let f = if i < 12 && i % 2 == 1 { "release" } else { "acquire" };
        let t = 10 * i;
        text.push_str(&format!(
            "{{:index {}, :time {t}, :type :invoke, :process 0, :f :{f}, :value nil}}\n\
             {{:index {}, :time {}, :type :ok, :process 0, :f :{f}, :value nil}}\n",
            2 * i,
            2 * i + 1,
            t + 1
        ));
    }
    edn(&text)
}

#[test]
fn witnesses_past_a_dozen_ops_are_decided() {
    let h = long_mutex_history();
    let r = check_linearizable(&Mutex, &h, &Options::default()).unwrap();
    assert_eq!(r.verdict, Verdict::Invalid);
    assert!(r.keys[0].counterexample.is_some());
    // All fourteen ops as the witness: they cannot be ordered, and that is re-derived.
    let mut all = r.clone();
    all.keys[0].witness = Some((0..14).map(|p| cite(&h, p)).collect());
    let c = certify(&Mutex, &h, &all, None).unwrap();
    assert!(c.unchecked.is_empty(), "{:?}", c.unchecked);
    // The first thirteen can: refuted.
    let mut some = r.clone();
    some.keys[0].witness = Some((0..13).map(|p| cite(&h, p)).collect());
    let why = certify(&Mutex, &h, &some, None).unwrap_err().why;
    assert!(why.contains("can be ordered"), "{why}");
}

fn history_file(name: &str) -> History {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("histories").join(name);
    labrys::history::read_file(path.to_str().unwrap(), &ReadOptions::default()).unwrap()
}

/// Each number a duplicate-effect sentence states is re-derived: `from` replaced by `to` in the
/// class's explanation is refuted, naming why.
fn number_tampered<M: Model>(model: &M, h: &History, r: &LinearReport, from: &str, to: &str) -> String {
    let mut t = r.clone();
    let class = t.keys[0].class.as_mut().expect("a class");
    assert!(class.explanation.contains(from), "{from:?} not in {}", class.explanation);
    class.explanation = class.explanation.replacen(from, to, 1);
    certify(model, h, &t, None).unwrap_err().why
}

#[test]
fn numbers_in_duplicate_effect_sentences_are_rederived() {
    use labrys::model::{Counter, UnorderedQueue};
    // One increment, a read of 2: "returned 2, but the counter started at 0 and the adds that
    // could have taken effect before it total at most 1".
    let h = history_file("counter-double-increment.edn");
    let r = check_linearizable(&Counter::default(), &h, &Options::default()).unwrap();
    let c = certify(&Counter::default(), &h, &r, None).unwrap();
    assert!(c.unchecked.is_empty(), "{:?}", c.unchecked);
    let text = &r.keys[0].class.as_ref().unwrap().explanation;
    assert!(
        text.contains("returned 2") && text.contains("started at 0") && text.contains("at most 1"),
        "{text}"
    );
    let counter = Counter::default();
    assert!(number_tampered(&counter, &h, &r, "returned 2", "returned 3").contains("returned 2"));
    assert!(number_tampered(&counter, &h, &r, "started at 0", "started at 1").contains("started at 0"));
    // A bound below what the adds supply, or one that no longer falls short of the read.
    assert!(number_tampered(&counter, &h, &r, "at most 1", "at most 0").contains("total 1"));
    assert!(number_tampered(&counter, &h, &r, "at most 1", "at most 2").contains("total 1"));
    assert!(number_tampered(&counter, &h, &r, "at most 1", "at most one").contains("not a number"));

    // One enqueue of 1, two dequeues of it: "removed 1 for the 2nd time (after …), but 1 was
    // enqueued only once".
    let h = history_file("unordered-queue-duplicate.edn");
    let r = check_linearizable(&UnorderedQueue, &h, &Options::default()).unwrap();
    let c = certify(&UnorderedQueue, &h, &r, None).unwrap();
    assert!(c.unchecked.is_empty(), "{:?}", c.unchecked);
    let why = number_tampered(&UnorderedQueue, &h, &r, "for the 2nd time", "for the 3rd time");
    assert!(why.contains("numbered 2"), "{why}");
    let why = number_tampered(&UnorderedQueue, &h, &r, "enqueued only once", "enqueued never");
    assert!(why.contains("1 enqueues of 1 could precede it"), "{why}");
    let why = number_tampered(&UnorderedQueue, &h, &r, "enqueued only once", "enqueued only twice");
    assert!(why.contains("not a bound short of 2"), "{why}");
}
