//! Tests of the simulation as a whole: the network, and the history streaming out.

use super::history::{Sink, edn_to_json};
use super::sim::{Replica, Sim};
use super::writer::FLUSH_AT;
use super::{ClusterConfig, Faults, Service, Workload, write_edn};

/// Runs `sim`, writing its history to `out`; returns the number of events.
fn run(sim: &mut Sim<'_>, out: &mut Vec<u8>) -> usize {
    let mut sink = Sink::new(out, false);
    sim.run(&mut |mut batch| {
        sink.write_all(&batch)?;
        batch.clear();
        Ok(batch)
    })
    .unwrap();
    sink.finish().unwrap();
    sink.events
}

/// A lossy network also duplicates messages, and the correct service's requests, copies
/// included, are each applied once (the property test in `tests/sim_cluster.rs` checks the
/// histories).
#[test]
fn a_lossy_network_duplicates_messages() {
    let faults = Faults { loss: true, ..Faults::default() };
    let c = ClusterConfig { workload: Workload::Counter, faults, ops: 300, ..ClusterConfig::default() };
    let mut sim = Sim::new(&c);
    run(&mut sim, &mut Vec::new());
    assert!(sim.duplicated > 20, "{} messages duplicated", sim.duplicated);
    let quiet = ClusterConfig { faults: Faults { partition: true, ..Faults::default() }, ..c.clone() };
    let mut sim = Sim::new(&quiet);
    run(&mut sim, &mut Vec::new());
    assert_eq!(sim.duplicated, 0, "only a lossy network duplicates");
    assert_eq!(c.service, Service::Correct);
}

/// The history streams out: however long the run, the simulation holds a bounded number of
/// events (a silent retry's open invocations too), and the list-append store a bounded
/// number of lists.
#[test]
fn long_runs_stream_in_bounded_memory() {
    for (service, workload) in [
        (Service::SilentRetry, Workload::Register),
        (Service::Correct, Workload::ListAppend),
        (Service::DuplicateRetry, Workload::ListAppend),
    ] {
        let faults = Faults { loss: true, ..Faults::default() };
        let c = ClusterConfig { service, workload, faults, ops: 30_000, ..ClusterConfig::default() };
        let mut out = Vec::new();
        let mut sim = Sim::new(&c);
        let events = run(&mut sim, &mut out);
        assert!(events > 60_000, "{events}");
        assert!(sim.peak_held < 2 * FLUSH_AT, "{service:?}: {} events held", sim.peak_held);
        let Some(Replica::Paxos(node)) = sim.nodes.first() else { panic!() };
        assert!(node.data().lists.len() <= 12);
        if workload == Workload::ListAppend {
            assert!(node.data().forgotten > 100, "old lists are forgotten");
            let text = String::from_utf8(out).unwrap();
            assert!(text.lines().all(|l| l.len() < 2_000), "lists stay short");
        }
    }
}

/// Written by a thread of its own or not, the history is the same.
#[test]
fn the_writer_thread_writes_the_same_history() {
    let c = ClusterConfig { faults: Faults::ALL, ops: 5_000, ..ClusterConfig::default() };
    let (mut alone, mut parallel) = (Vec::new(), Vec::new());
    let events = run(&mut Sim::new(&c), &mut alone);
    assert_eq!(write_edn(&c, &mut parallel).unwrap(), events);
    assert!(alone == parallel && events > 10_000);
}

#[test]
fn edn_values_become_json() {
    assert_eq!(edn_to_json("nil"), "null");
    assert_eq!(edn_to_json("-12"), "-12");
    assert_eq!(edn_to_json(":network-healed"), "\"network-healed\"");
    assert_eq!(edn_to_json("[[:append 1 5] [:r 2 [1 5]]]"), "[[\"append\",1,5],[\"r\",2,[1,5]]]");
    assert_eq!(edn_to_json("#{1 2 3}"), "[1,2,3]");
    assert_eq!(edn_to_json("#{}"), "[]");
    assert_eq!(edn_to_json("[[\"n1\"] [\"n2\" \"n3\"]]"), "[[\"n1\"],[\"n2\",\"n3\"]]");
    assert_eq!(
        edn_to_json("{\"n3\" {:offset-ms 122, :drift-ppm -5}}"),
        "{\"n3\":{\"offset-ms\":122,\"drift-ppm\":-5}}"
    );
    assert_eq!(edn_to_json("{:drop-percent 30}"), "{\"drop-percent\":30}");
    assert_eq!(edn_to_json("{0 20, 1 -3}"), "{\"0\":20,\"1\":-3}");
    assert_eq!(edn_to_json("{:from 0, :to 4, :amount 5}"), "{\"from\":0,\"to\":4,\"amount\":5}");
}
