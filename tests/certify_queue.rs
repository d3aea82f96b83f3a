//! Queue and log claims are certified: every claim the checkers make on the examples and on
//! simulated histories passes, and each claim tampered with is refuted. Property tests hold the
//! checkers to brute-force oracles on small random histories.

mod common;

use labrys::certify::queue::certify_queue_report;
use labrys::history::{Format, History, ReadOptions, Value, read_bytes};
use labrys::outcome::Verdict;
use labrys::queue::{Claim, QueueOptions, QueueReport, log, total};
use proptest::prelude::*;

fn read(text: &str) -> History {
    read_bytes("t.edn", text.as_bytes(), Format::Edn, &ReadOptions::default()).unwrap()
}

fn example(file: &str) -> History {
    let text = std::fs::read_to_string(common::histories_dir().join("queue").join(file)).unwrap();
    read(&text)
}

fn check(h: &History, model: &str) -> QueueReport {
    if model == "total-queue" {
        total::check(h).unwrap()
    } else {
        log::check(h, &QueueOptions::default()).unwrap()
    }
}

const STUCK: Option<i64> = Some(labrys::queue::DEFAULT_STUCK_AFTER);

/// The same claim, made wrong in a way its kind allows.
fn tamper(c: &Claim) -> Claim {
    let mut c = c.clone();
    match &mut c {
        Claim::Lost { dequeued, .. } => *dequeued += 1,
        Claim::Unexpected { dequeues, .. } => dequeues.pop().map_or((), drop),
        Claim::Duplicated { attempts, .. } => *attempts += 1,
        Claim::LostWrite { offset, .. } => *offset += 1,
        Claim::Duplicate { offsets, .. } => offsets[1] = offsets[0],
        Claim::InconsistentOffsets { values, .. } => values[1] = values[0].clone(),
        Claim::PollSkip { skipped, .. } => *skipped += 100,
        Claim::NonmonotonicPoll { first, .. } => *first += 100,
        Claim::NonmonotonicSend { second, .. } => *second += 100,
        Claim::Unseen { value, .. } => *value = Value::Int(-12345),
        Claim::Stuck { polls, .. } => *polls += 1,
        Claim::LagMisreported { reported, at_least, .. } => *reported = *at_least,
        other => panic!("a queue check made a claim of another workload: {other:?}"),
    }
    c
}

#[test]
fn every_claim_on_the_examples_is_certified_and_each_tampered_claim_is_refuted() {
    let csv = std::fs::read_to_string(common::histories_dir().join("queue/expected.csv")).unwrap();
    let mut tampered = 0;
    for row in csv.lines().skip(1) {
        let cols: Vec<&str> = row.split(',').collect();
        let h = example(cols[0]);
        let report = check(&h, cols[1]);
        certify_queue_report(&h, &report, STUCK).unwrap_or_else(|e| panic!("{}: {e}", cols[0]));
        for i in 0..report.anomalies.len() {
            let mut bad = report.clone();
            bad.anomalies[i].claim = tamper(&bad.anomalies[i].claim);
            assert!(
                certify_queue_report(&h, &bad, STUCK).is_err(),
                "{}: {:?}",
                cols[0],
                bad.anomalies[i].claim
            );
            tampered += 1;
            // The claim kept, the evidence shown changed: an op more, or another key.
            let mut shown = report.clone();
            shown.anomalies[i].ops.push(u32::MAX);
            assert!(certify_queue_report(&h, &shown, STUCK).is_err(), "{}: an op more shown", cols[0]);
            let mut keyed = report.clone();
            keyed.anomalies[i].key = Some("another".into());
            assert!(certify_queue_report(&h, &keyed, STUCK).is_err(), "{}: another key shown", cols[0]);
        }
    }
    assert!(tampered >= 19, "{tampered}");
}

/// An anomaly shown with another anomaly's claim (its kind comes with the claim) is refuted:
/// it would show one anomaly's ops under another's name.
#[test]
fn an_anomaly_shown_with_another_anomalys_claim_is_refuted() {
    let csv = std::fs::read_to_string(common::histories_dir().join("queue/expected.csv")).unwrap();
    let mut swapped = 0;
    for (h, report) in csv.lines().skip(1).map(|row| {
        let cols: Vec<&str> = row.split(',').collect();
        let h = example(cols[0]);
        let report = check(&h, cols[1]);
        (h, report)
    }) {
        swapped += swaps_refuted(&h, &report);
    }
    assert!(swapped > 0, "no example has two anomalies with different ops");
}

/// Gives each anomaly of `report` each other's claim in turn; all must be refuted.
fn swaps_refuted(h: &History, report: &QueueReport) -> usize {
    let mut swapped = 0;
    for i in 0..report.anomalies.len() {
        for j in 0..report.anomalies.len() {
            if report.anomalies[i].ops == report.anomalies[j].ops {
                continue;
            }
            let mut bad = report.clone();
            bad.anomalies[i].claim = report.anomalies[j].claim.clone();
            assert!(certify_queue_report(h, &bad, STUCK).is_err(), "{}: {i} with {j}'s claim", h.source);
            swapped += 1;
        }
    }
    swapped
}

#[test]
fn a_total_queue_report_with_a_wrong_count_or_verdict_is_refuted() {
    let h = example("total-queue-lost.edn");
    let report = check(&h, "total-queue");
    let mut bad = report.clone();
    *bad.counts.get_mut("lost-count").unwrap() = 0;
    assert!(certify_queue_report(&h, &bad, None).is_err());
    let mut bad = report.clone();
    bad.anomalies.clear();
    bad.valid = Verdict::Valid;
    assert!(certify_queue_report(&h, &bad, None).is_err(), "a lost element hidden behind a valid verdict");
}

#[test]
fn a_stall_shorter_than_the_threshold_certification_was_given_is_refuted() {
    let h = example("log-stuck-zero-lag.edn");
    let report = check(&h, "log");
    assert!(certify_queue_report(&h, &report, Some(40_000_000_000)).is_err());
    assert!(certify_queue_report(&h, &report, None).is_err(), "stalls were not looked for");
}

#[test]
fn simulated_log_services_show_their_bugs_and_only_them() {
    use labrys::sim::log::{LogBug, LogSimConfig, write_edn};
    let cases: [(LogBug, &[&str]); 4] = [
        (LogBug::None, &[]),
        (LogBug::LostOnLeaderChange, &["inconsistent-offsets", "lost-write", "nonmonotonic-send"]),
        (LogBug::DuplicateRetry, &["duplicate"]),
        (LogBug::StuckConsumer, &["lag-misreported", "stuck-consumer"]),
    ];
    for (bug, want) in cases {
        let mut text = Vec::new();
        write_edn(&LogSimConfig { sends: 600, bug, ..LogSimConfig::default() }, &mut text).unwrap();
        let h = read(std::str::from_utf8(&text).unwrap());
        let report = check(&h, "log");
        certify_queue_report(&h, &report, STUCK).unwrap();
        let kinds: Vec<String> = report.anomaly_counts().into_keys().collect();
        assert_eq!(kinds, want, "{bug:?}");
    }
}

/// A random total-queue history: enqueues of small values (ok, info or fail), dequeues and a
/// drain returning small values, sequential.
fn total_queue_history() -> impl Strategy<Value = String> {
    let op = (0..4u8, 0..5i64, 0..3u8);
    proptest::collection::vec(op, 0..14).prop_map(|ops| {
        let mut text = String::new();
        for (i, (f, v, outcome)) in ops.into_iter().enumerate() {
            let (f, inv, out) = match f {
                0 | 1 => ("enqueue", v.to_string(), v.to_string()),
                2 => ("dequeue", "nil".to_string(), v.to_string()),
                _ => ("drain", "nil".to_string(), format!("[{v} {}]", (v + 1) % 5)),
            };
            let kind = match (f, outcome) {
                ("enqueue", 1) => "info",
                ("enqueue", 2) => "fail",
                _ => "ok",
            };
            text.push_str(&format!("{{:process {i} :type :invoke :f :{f} :value {inv}}}\n"));
            text.push_str(&format!("{{:process {i} :type :{kind} :f :{f} :value {out}}}\n"));
        }
        text
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// The total queue's verdict and counts, against counting element by element over the
    /// whole history for each value 0..6.
    #[test]
    fn total_queue_agrees_with_counting_each_value(text in total_queue_history()) {
        let h = read(&text);
        let report = total::check(&h).unwrap();
        certify_queue_report(&h, &report, None).unwrap();
        let mut lost = 0;
        let mut bad = false;
        for v in 0..6i64 {
            let val = Value::Int(v);
            let count = |f: &str, pred: &dyn Fn(&labrys::history::Op) -> bool| {
                h.ops.iter().filter(|op| h.f_name(op) == f && pred(op)).count()
            };
            let attempts = count("enqueue", &|op| op.outcome != labrys::history::Outcome::Fail && h.value(op.input) == &val);
            let acked = count("enqueue", &|op| op.outcome == labrys::history::Outcome::Ok && h.value(op.input) == &val);
            let deq = count("dequeue", &|op| h.value(op.output) == &val)
                + h.ops.iter().filter(|op| h.f_name(op) == "drain")
                    .map(|op| h.value(op.output).as_seq().unwrap().iter().filter(|x| **x == val).count()).sum::<usize>();
            lost += acked.saturating_sub(deq);
            bad |= acked > deq || deq > attempts;
        }
        prop_assert_eq!(report.counts["lost-count"], lost);
        prop_assert_eq!(report.valid == Verdict::Invalid, bad);
    }

    /// Lost writes and unseen sends together are exactly the acknowledged sends whose value no
    /// poll read, on random logs of one key where the service drops some records and consumers
    /// read random windows.
    #[test]
    fn unread_sends_are_lost_or_unseen_exactly(
        dropped in proptest::collection::vec(any::<bool>(), 1..12),
        windows in proptest::collection::vec((0..12usize, 0..12usize), 0..4),
    ) {
        let mut text = String::new();
        let mut log = Vec::new();
        for (i, &drop) in dropped.iter().enumerate() {
            text.push_str(&format!("{{:process 0 :type :invoke :f :send :value [[:send 0 {i}]]}}\n"));
            text.push_str(&format!("{{:process 0 :type :ok :f :send :value [[:send 0 [{i} {i}]]]}}\n"));
            if !drop { log.push(i); }
        }
        for (p, &(a, b)) in windows.iter().enumerate() {
            let recs: Vec<String> = log.iter().filter(|&&o| o >= a.min(b) && o <= a.max(b)).map(|o| format!("[{o} {o}]")).collect();
            let p = p + 1;
            text.push_str(&format!("{{:process {p} :type :invoke :f :poll :value [[:poll]]}}\n"));
            text.push_str(&format!("{{:process {p} :type :ok :f :poll :value [[:poll {{0 [{}]}}]]}}\n", recs.join(" ")));
        }
        let h = read(&text);
        let report = log::check(&h, &QueueOptions::default()).unwrap();
        certify_queue_report(&h, &report, STUCK).unwrap();
        let read_values: std::collections::BTreeSet<usize> = windows.iter()
            .flat_map(|&(a, b)| log.iter().copied().filter(move |&o| o >= a.min(b) && o <= a.max(b))).collect();
        let unread = (0..dropped.len()).filter(|i| !read_values.contains(i)).count();
        let counts = report.anomaly_counts();
        let n = |k: &str| counts.get(k).copied().unwrap_or(0);
        prop_assert_eq!(n("lost-write") + n("unseen"), unread);
        let high = read_values.iter().max();
        let lost = (0..dropped.len()).filter(|i| !read_values.contains(i) && high.is_some_and(|h| h >= i)).count();
        prop_assert_eq!(n("lost-write"), lost);
    }
}
