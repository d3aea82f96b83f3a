//! The nemesis: partitions, node kills and restarts, a flaky network and clock skew, taking
//! turns (composed when several are enabled), each step logged as Jepsen's nemesis logs it.

use super::config::FaultKind;
use super::history::{F, Kind, Value, Who};
use super::node::TICK;
use super::sim::{Clock, Ev, Replica, Sim};
use super::timing;

/// A fault the nemesis has started.
#[derive(Clone, Debug)]
pub(super) enum Active {
    Partition,
    Kill(Vec<usize>),
    Loss,
    Clock(Vec<usize>),
}

fn node_name(n: usize) -> String {
    format!("\"n{}\"", n + 1)
}

fn node_names(nodes: &[usize]) -> String {
    format!("[{}]", nodes.iter().map(|&n| node_name(n)).collect::<Vec<_>>().join(" "))
}

/// The nemesis: alternates quiet periods and faults. Every enabled fault takes its turn once per
/// round; with several enabled, others join it at random.
impl Sim<'_> {
    pub(super) fn nemesis(&mut self) {
        if !self.active.is_empty() {
            self.stop_faults();
            let quiet = if self.composed() {
                timing::COMPOSED_QUIET_MIN + self.rng.below(timing::COMPOSED_QUIET_SPREAD) as i64
            } else {
                timing::QUIET_MIN + self.rng.below(timing::QUIET_SPREAD) as i64
            };
            self.after(quiet, Ev::Nemesis);
        } else {
            let kinds = self.next_faults();
            if kinds.is_empty() {
                return;
            }
            for kind in kinds {
                self.start_fault(kind);
            }
            let active = if self.composed() {
                timing::COMPOSED_ACTIVE_MIN + self.rng.below(timing::COMPOSED_ACTIVE_SPREAD) as i64
            } else {
                timing::ACTIVE_MIN + self.rng.below(timing::ACTIVE_SPREAD) as i64
            };
            self.after(active, Ev::Nemesis);
        }
    }

    /// Whether several faults are enabled, and so composed.
    fn composed(&self) -> bool {
        self.c.faults.kinds().len() > 1
    }

    /// The faults of the next step. Each enabled fault takes its turn once per round, in random
    /// order (the flaky network `COMPOSED_LOSS_TURNS` times when it competes with partitions or
    /// kills), and every other enabled fault that does not clash with the step's joins it, as
    /// in Jepsen's composed nemeses, except the flaky network. A
    /// partition, a kill and a flaky network clash: a partition and a kill together leave no
    /// majority of 3 nodes, and a majority that loses messages too rarely makes progress for
    /// the minority's stale answers or lost acknowledgements to show. Clock skew clashes with
    /// nothing, so with several faults the clocks are skewed at every step. (With a single
    /// fault enabled this draws from the generator exactly as one fault at a time did.)
    fn next_faults(&mut self) -> Vec<FaultKind> {
        if self.bag.is_empty() {
            self.bag = self.c.faults.kinds();
            if self.c.faults.loss && (self.c.faults.partition || self.c.faults.kill) {
                self.bag.extend([FaultKind::Loss].repeat(timing::COMPOSED_LOSS_TURNS - 1));
            }
            for i in (1..self.bag.len()).rev() {
                self.bag.swap(i, self.rng.below(i as u64 + 1) as usize);
            }
        }
        let Some(turn) = self.bag.pop() else { return Vec::new() };
        let mut kinds = vec![turn];
        let clash = |a: FaultKind, b: FaultKind| a != FaultKind::Clock && b != FaultKind::Clock;
        for kind in self.c.faults.kinds() {
            // The flaky network comes only in its own turns: joining others it would leave
            // the network flaky almost all the time, and half the ops crashed.
            if kind != turn && kind != FaultKind::Loss && !kinds.iter().any(|&k| clash(k, kind)) {
                kinds.push(kind);
            }
        }
        kinds
    }

    /// Logs a nemesis op as Jepsen does: its invocation and its completion, both `:info`.
    fn record_nemesis(&mut self, f: F, value: String) {
        let value: Box<[u8]> = value.into_bytes().into();
        self.record(Kind::Info, Who::Nemesis, f, Value::Text(value.clone()));
        self.record(Kind::Info, Who::Nemesis, f, Value::Text(value));
    }

    /// The fault's victims: the current leader most of the time (the interesting case), else
    /// random nodes; at most a minority either way.
    fn victims(&mut self) -> Vec<usize> {
        let n = self.nodes.len();
        let leader = (0..n).filter(|&i| self.up[i]).max_by_key(|&i| self.nodes[i].leading());
        let leader = leader.filter(|&i| self.nodes[i].leading().is_some());
        let mut order: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            order.swap(i, self.rng.below(i as u64 + 1) as usize);
        }
        let count = 1 + self.rng.below(((n - 1) / 2).max(1) as u64) as usize;
        if let Some(l) = leader.filter(|_| self.rng.chance(timing::TARGET_LEADER)) {
            order.retain(|&i| i != l);
            order.insert(0, l);
        }
        let mut victims: Vec<usize> = order.into_iter().take(count.min(n - 1).max(1)).collect();
        victims.sort_unstable();
        victims
    }

    fn start_fault(&mut self, kind: FaultKind) {
        match kind {
            FaultKind::Partition => {
                let minority = self.victims();
                let majority: Vec<usize> = (0..self.nodes.len()).filter(|i| !minority.contains(i)).collect();
                minority.iter().for_each(|&i| self.side[i] = 1);
                let grouping = format!("[{} {}]", node_names(&minority), node_names(&majority));
                self.record_nemesis(F::StartPartition, grouping);
                self.active.push(Active::Partition);
            }
            FaultKind::Kill => {
                let victims = self.victims();
                victims.iter().for_each(|&i| self.up[i] = false);
                self.record_nemesis(F::Kill, node_names(&victims));
                self.active.push(Active::Kill(victims));
            }
            FaultKind::Loss => {
                self.lossy = true;
                let (drop, dup) = ((timing::LOSS * 100.0) as u32, (timing::DUPLICATE * 100.0) as u32);
                let what = format!("{{:drop-percent {drop}, :duplicate-percent {dup}}}");
                self.record_nemesis(F::StartLoss, what);
                self.active.push(Active::Loss);
            }
            FaultKind::Clock => self.skew_clocks(),
        }
    }

    /// Moves a minority's clocks by ±20–300 ms and makes them drift, recording by how much.
    fn skew_clocks(&mut self) {
        let victims = self.victims();
        let mut parts = Vec::new();
        for &i in &victims {
            let sign = if self.rng.chance(0.5) { -1 } else { 1 };
            let offset = sign * (timing::SKEW_MIN + self.rng.below(timing::SKEW_SPREAD) as i64);
            let ppm = self.rng.below(2 * timing::DRIFT_PPM + 1) as i64 - timing::DRIFT_PPM as i64;
            self.clocks[i] = Clock { offset, ppm, since: self.now };
            parts.push(format!("{} {{:offset-ms {}, :drift-ppm {ppm}}}", node_name(i), offset / 1000));
        }
        self.record_nemesis(F::StartClockSkew, format!("{{{}}}", parts.join(", ")));
        self.active.push(Active::Clock(victims));
    }

    /// Ends the faults in force, in the order they started.
    pub(super) fn stop_faults(&mut self) {
        for fault in std::mem::take(&mut self.active) {
            self.stop_fault(fault);
        }
    }

    fn stop_fault(&mut self, fault: Active) {
        match fault {
            Active::Partition => {
                self.side.fill(0);
                self.record_nemesis(F::StopPartition, ":network-healed".into());
            }
            Active::Kill(victims) => {
                for &i in &victims {
                    self.up[i] = true;
                    match &mut self.nodes[i] {
                        Replica::Paxos(n) => n.restart(self.now, &mut self.rng),
                        Replica::Lww(n) => n.restart(),
                    }
                    self.set_tick(i, self.now + TICK);
                }
                self.record_nemesis(F::Start, node_names(&victims));
            }
            Active::Loss => {
                self.lossy = false;
                self.record_nemesis(F::StopLoss, "nil".into());
            }
            Active::Clock(victims) => {
                victims.iter().for_each(|&i| self.clocks[i] = Clock::default());
                self.record_nemesis(F::StopClockSkew, node_names(&victims));
            }
        }
    }
}
