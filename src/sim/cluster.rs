//! A deterministic simulation of a small replicated register service under faults, recorded as
//! a Jepsen history.
//!
//! Everything runs on one thread from one seeded [`Rng`], as a discrete-event simulation in
//! microseconds: a queue of timed events (message deliveries, node timers, client starts and
//! timeouts, nemesis steps), handled in time order. The same configuration therefore writes the
//! same bytes everywhere.
//!
//! The service is [`node`]'s single-register Paxos on 3–5 nodes. Clients are bound to a home
//! node, as Jepsen's are; followers forward requests to the leader they know. Clients record
//! what they saw exactly as Jepsen does: `:ok` when told so, `:fail` only when the op certainly
//! did not happen (a cas whose expected value did not match, a request refused before it was
//! applied, a connection refused by a dead node), and `:info` on a timeout, after which the
//! client thread continues as a new process (`process + clients`). The nemesis partitions the
//! network, kills and restarts nodes, and makes the network lossy, and logs each step as a pair
//! of `:info` events of `:process :nemesis`.

mod node;

use self::node::{Addr, ClientOp, Msg, Node, Outcome, TICK};
use super::{Rng, edn_event_line};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{self, Write};

/// How the simulated service behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    /// Linearizable under every fault: majority elections, and every op (reads too) answered
    /// only after a majority accepted it.
    Correct,
    /// Reads are answered from the local copy of whichever node the client reaches, so a
    /// lagging follower or a deposed leader serves stale values.
    StaleRead,
    /// The leader acknowledges writes before replicating them (and answers reads from its own
    /// state); a new leader never saw them, so acknowledged writes are rolled back.
    LostAck,
}

impl Service {
    /// The names `--service` accepts, in the order of [`Service::parse`].
    pub const NAMES: [&'static str; 3] = ["correct", "stale-read", "lost-ack"];

    /// The service called `name`, if any.
    pub fn parse(name: &str) -> Option<Service> {
        match name {
            "correct" => Some(Service::Correct),
            "stale-read" => Some(Service::StaleRead),
            "lost-ack" => Some(Service::LostAck),
            _ => None,
        }
    }
}

/// Which faults the nemesis injects.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Faults {
    /// Network partitions: a majority and a minority that cannot talk to each other.
    pub partition: bool,
    /// Node crashes and restarts (durable acceptor state survives).
    pub kill: bool,
    /// Message loss and long delays between nodes and clients.
    pub loss: bool,
}

impl Faults {
    /// Parses a comma-separated subset of `partition`, `kill`, `loss` (`none` or empty for no
    /// faults).
    pub fn parse(list: &str) -> Result<Faults, String> {
        let mut faults = Faults::default();
        for name in list.split(',').map(str::trim).filter(|s| !s.is_empty() && *s != "none") {
            match name {
                "partition" => faults.partition = true,
                "kill" => faults.kill = true,
                "loss" => faults.loss = true,
                other => {
                    return Err(format!("unknown fault {other:?}; the faults are partition, kill and loss"));
                }
            }
        }
        Ok(faults)
    }

    /// Every subset of the faults, the empty one first.
    pub fn all_subsets() -> Vec<Faults> {
        (0..8).map(|b| Faults { partition: b & 1 != 0, kill: b & 2 != 0, loss: b & 4 != 0 }).collect()
    }

    fn kinds(self) -> Vec<FaultKind> {
        let pairs = [
            (self.partition, FaultKind::Partition),
            (self.kill, FaultKind::Kill),
            (self.loss, FaultKind::Loss),
        ];
        pairs.into_iter().filter(|p| p.0).map(|p| p.1).collect()
    }
}

/// What to simulate.
#[derive(Clone, Debug)]
pub struct ClusterConfig {
    /// The service's behaviour.
    pub service: Service,
    /// The faults to inject.
    pub faults: Faults,
    /// Number of nodes (1 to 32; 3–5 is typical).
    pub nodes: usize,
    /// Include compare-and-set ops (the cas-register workload) or only reads and writes.
    pub cas: bool,
    /// Number of client ops to invoke.
    pub ops: usize,
    /// Concurrent client threads.
    pub clients: usize,
    /// Values written are drawn from `0..values`; 0 makes every written value unique (and a cas
    /// then expects the value its client last saw).
    pub values: u64,
    /// PRNG seed.
    pub seed: u64,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            service: Service::Correct,
            faults: Faults::default(),
            nodes: 3,
            cas: true,
            ops: 200,
            clients: 5,
            values: 0,
            seed: 0,
        }
    }
}

/// Timing of the simulation, in microseconds.
mod timing {
    /// One-way network delay: at least this, plus up to `NET_SPREAD` (or `LOSSY_SPREAD` while
    /// the network is lossy).
    pub const NET_MIN: i64 = 200;
    pub const NET_SPREAD: u64 = 800;
    pub const LOSSY_SPREAD: u64 = 20_000;
    /// Chance that a message is dropped while the network is lossy.
    pub const LOSS: f64 = 0.3;
    /// A client gives up on an op after this long and records `:info`.
    pub const CLIENT_TIMEOUT: i64 = 50_000;
    /// Pause between a client's ops: up to this.
    pub const THINK: u64 = 20_000;
    /// Clients start once the first election has probably happened.
    pub const CLIENTS_START: i64 = 120_000;
    /// The nemesis waits this long, plus up to `QUIET_SPREAD`, between faults…
    pub const QUIET_MIN: i64 = 50_000;
    pub const QUIET_SPREAD: u64 = 150_000;
    /// …and keeps each fault this long, plus up to `ACTIVE_SPREAD`.
    pub const ACTIVE_MIN: i64 = 100_000;
    pub const ACTIVE_SPREAD: u64 = 200_000;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FaultKind {
    Partition,
    Kill,
    Loss,
}

/// Something that happens at a given time.
#[derive(Clone, Copy, Debug)]
enum Ev {
    Deliver {
        from: Addr,
        to: Addr,
        msg: Msg,
    },
    /// A node's timer; `epoch` tells the timers of a node's earlier lives, which are ignored.
    Tick {
        node: usize,
        epoch: u64,
    },
    ClientStart {
        client: usize,
    },
    ClientTimeout {
        client: usize,
        req: u64,
    },
    Nemesis,
}

/// An event in the queue, ordered by time, then by when it was scheduled (for determinism).
struct Scheduled {
    key: Reverse<(i64, u64)>,
    ev: Ev,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scheduled {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key.cmp(&other.key)
    }
}

/// A client thread.
#[derive(Clone, Debug)]
struct Client {
    process: usize,
    home: usize,
    req: u64,
    open: Option<ClientOp>,
    /// The last value it read or wrote, for the next cas's expected value.
    last_seen: Option<i64>,
}

/// The nemesis's current fault.
#[derive(Clone, Debug)]
enum Active {
    Partition,
    Kill(Vec<usize>),
    Loss,
}

/// The whole simulated world.
struct Sim<'a> {
    c: &'a ClusterConfig,
    rng: Rng,
    now: i64,
    scheduled: u64,
    queue: BinaryHeap<Scheduled>,
    nodes: Vec<Node>,
    up: Vec<bool>,
    epoch: Vec<u64>,
    /// Each node's side of the partition; all zero when the network is whole.
    side: Vec<u8>,
    lossy: bool,
    active: Option<Active>,
    clients: Vec<Client>,
    invoked: usize,
    next_value: i64,
    outbox: Vec<(Addr, Msg)>,
    history: String,
    events: usize,
}

/// Runs the simulation and writes its history as EDN, one event per line. Returns the number
/// of events written.
pub fn write_edn(c: &ClusterConfig, out: &mut impl Write) -> io::Result<usize> {
    let (text, events) = simulate(c);
    out.write_all(text.as_bytes())?;
    Ok(events)
}

/// Runs the simulation and returns its history as EDN text.
pub fn history_string(c: &ClusterConfig) -> String {
    simulate(c).0
}

fn simulate(c: &ClusterConfig) -> (String, usize) {
    let mut sim = Sim::new(c);
    sim.run();
    (sim.history, sim.events)
}

impl<'a> Sim<'a> {
    fn new(c: &'a ClusterConfig) -> Sim<'a> {
        let n = c.nodes.clamp(1, 32);
        let mut rng = Rng::new(c.seed);
        let nodes = (0..n).map(|i| Node::new(i, n, c.service, 0, &mut rng)).collect();
        let clients = (0..c.clients.max(1))
            .map(|i| Client { process: i, home: i % n, req: 0, open: None, last_seen: None })
            .collect();
        let mut sim = Sim {
            c,
            rng,
            now: 0,
            scheduled: 0,
            queue: BinaryHeap::new(),
            nodes,
            up: vec![true; n],
            epoch: vec![0; n],
            side: vec![0; n],
            lossy: false,
            active: None,
            clients,
            invoked: 0,
            next_value: 0,
            outbox: Vec::new(),
            history: String::new(),
            events: 0,
        };
        for node in 0..n {
            let first = sim.rng.below(TICK as u64) as i64;
            sim.at(first, Ev::Tick { node, epoch: 0 });
        }
        for client in 0..sim.clients.len() {
            let start = timing::CLIENTS_START + sim.rng.below(timing::THINK) as i64;
            sim.at(start, Ev::ClientStart { client });
        }
        if !c.faults.kinds().is_empty() {
            sim.at(timing::CLIENTS_START + timing::QUIET_MIN, Ev::Nemesis);
        }
        sim
    }

    /// Schedules `ev` at time `time`.
    fn at(&mut self, time: i64, ev: Ev) {
        self.scheduled += 1;
        self.queue.push(Scheduled { key: Reverse((time, self.scheduled)), ev });
    }

    /// Schedules `ev` after `delay`.
    fn after(&mut self, delay: i64, ev: Ev) {
        self.at(self.now + delay, ev);
    }

    /// Runs until every client op has completed or timed out, then heals the last fault.
    fn run(&mut self) {
        while let Some(Scheduled { key: Reverse((time, _)), ev }) = self.queue.pop() {
            self.now = time;
            match ev {
                Ev::Deliver { from, to, msg } => self.deliver(from, to, msg),
                Ev::Tick { node, epoch } => self.tick(node, epoch),
                Ev::ClientStart { client } => self.client_start(client),
                Ev::ClientTimeout { client, req } => self.client_timeout(client, req),
                Ev::Nemesis => self.nemesis(),
            }
            if self.invoked >= self.c.ops && self.clients.iter().all(|c| c.open.is_none()) {
                break;
            }
        }
        if self.active.is_some() {
            self.stop_fault();
        }
    }

    /// Sends a message through the network: delayed at random, and dropped at random while
    /// the network is lossy. Partitions are applied on delivery.
    fn send(&mut self, from: Addr, to: Addr, msg: Msg) {
        if self.lossy && self.rng.chance(timing::LOSS) {
            return;
        }
        let spread = if self.lossy { timing::LOSSY_SPREAD } else { timing::NET_SPREAD };
        let delay = timing::NET_MIN + self.rng.below(spread) as i64;
        self.after(delay, Ev::Deliver { from, to, msg });
    }

    fn deliver(&mut self, from: Addr, to: Addr, msg: Msg) {
        match to {
            Addr::Client(client) => {
                if let Msg::Reply { req, outcome } = msg {
                    self.client_reply(client, req, outcome);
                }
            }
            Addr::Node(n) => {
                let cut = matches!(from, Addr::Node(f) if self.side[f] != self.side[n]);
                if self.up[n] && !cut {
                    let mut out = std::mem::take(&mut self.outbox);
                    self.nodes[n].receive(from, msg, self.now, &mut self.rng, &mut out);
                    self.flush(n, out);
                }
            }
        }
    }

    /// Sends what node `n` wrote to its outbox.
    fn flush(&mut self, n: usize, mut out: Vec<(Addr, Msg)>) {
        for (to, msg) in out.drain(..) {
            self.send(Addr::Node(n), to, msg);
        }
        self.outbox = out;
    }

    fn tick(&mut self, node: usize, epoch: u64) {
        if !self.up[node] || self.epoch[node] != epoch {
            return;
        }
        let mut out = std::mem::take(&mut self.outbox);
        self.nodes[node].tick(self.now, &mut self.rng, &mut out);
        self.flush(node, out);
        self.after(TICK, Ev::Tick { node, epoch });
    }

    /// Appends one event to the history.
    fn record(&mut self, kind: &str, process: &dyn std::fmt::Display, f: &str, value: &str) {
        edn_event_line(&mut self.history, self.events, self.now * 1000, kind, process, f, value);
        self.events += 1;
    }
}

fn edn_opt(v: Option<i64>) -> String {
    v.map_or_else(|| "nil".to_string(), |v| v.to_string())
}

fn node_name(n: usize) -> String {
    format!("\"n{}\"", n + 1)
}

fn node_names(nodes: &[usize]) -> String {
    format!("[{}]", nodes.iter().map(|&n| node_name(n)).collect::<Vec<_>>().join(" "))
}

/// The clients: Jepsen's recording rules.
impl Sim<'_> {
    fn choose_op(&mut self, client: usize) -> ClientOp {
        let value = |sim: &mut Self| {
            if sim.c.values == 0 {
                sim.next_value += 1;
                sim.next_value
            } else {
                sim.rng.below(sim.c.values) as i64
            }
        };
        let kinds = if self.c.cas { 3 } else { 2 };
        match self.rng.below(kinds) {
            0 => ClientOp::Read,
            1 => ClientOp::Write(value(self)),
            _ => {
                let expected = match self.clients[client].last_seen {
                    Some(seen) if self.c.values == 0 => seen,
                    _ => value(self),
                };
                ClientOp::Cas(expected, value(self))
            }
        }
    }

    fn op_text(op: ClientOp, read: Option<i64>) -> (&'static str, String) {
        match op {
            ClientOp::Read => ("read", edn_opt(read)),
            ClientOp::Write(v) => ("write", v.to_string()),
            ClientOp::Cas(old, new) => ("cas", format!("[{old} {new}]")),
        }
    }

    fn client_start(&mut self, client: usize) {
        if self.invoked >= self.c.ops {
            return;
        }
        self.invoked += 1;
        let op = self.choose_op(client);
        let cl = &mut self.clients[client];
        cl.req += 1;
        cl.open = Some(op);
        let (req, home, process) = (cl.req, cl.home, cl.process);
        let (f, value) = Self::op_text(op, None);
        self.record("invoke", &process, f, &value);
        let from = Addr::Client(client);
        if self.up[home] {
            self.send(from, Addr::Node(home), Msg::Request { client, req, op, forwarded: false });
        } else {
            // Connection refused: the request certainly never arrived.
            let refused = Msg::Reply { req, outcome: Outcome::Fail };
            self.after(timing::NET_MIN, Ev::Deliver { from: Addr::Node(home), to: from, msg: refused });
        }
        self.after(timing::CLIENT_TIMEOUT, Ev::ClientTimeout { client, req });
    }

    fn client_reply(&mut self, client: usize, req: u64, outcome: Outcome) {
        let cl = &mut self.clients[client];
        let Some(op) = cl.open.filter(|_| cl.req == req) else { return }; // a late reply
        cl.open = None;
        let process = cl.process;
        let (kind, read) = match outcome {
            Outcome::Ok(read) => ("ok", read),
            Outcome::Fail => ("fail", None),
        };
        if outcome != Outcome::Fail {
            cl.last_seen = match op {
                ClientOp::Read => read,
                ClientOp::Write(v) | ClientOp::Cas(_, v) => Some(v),
            };
        }
        let (f, value) = Self::op_text(op, read);
        self.record(kind, &process, f, &value);
        self.think(client);
    }

    fn client_timeout(&mut self, client: usize, req: u64) {
        let threads = self.clients.len();
        let cl = &mut self.clients[client];
        let Some(op) = cl.open.filter(|_| cl.req == req) else { return };
        cl.open = None;
        let process = cl.process;
        // The op may or may not have happened; Jepsen retires the process.
        cl.process += threads;
        let (f, value) = Self::op_text(op, None);
        self.record("info", &process, f, &value);
        self.think(client);
    }

    fn think(&mut self, client: usize) {
        let pause = self.rng.below(timing::THINK) as i64;
        self.after(pause, Ev::ClientStart { client });
    }
}

/// The nemesis: alternates quiet periods and one fault at a time.
impl Sim<'_> {
    fn nemesis(&mut self) {
        if self.active.is_some() {
            self.stop_fault();
            let quiet = timing::QUIET_MIN + self.rng.below(timing::QUIET_SPREAD) as i64;
            self.after(quiet, Ev::Nemesis);
        } else {
            let kinds = self.c.faults.kinds();
            let kind = kinds[self.rng.below(kinds.len() as u64) as usize];
            self.start_fault(kind);
            let active = timing::ACTIVE_MIN + self.rng.below(timing::ACTIVE_SPREAD) as i64;
            self.after(active, Ev::Nemesis);
        }
    }

    /// Logs a nemesis op as Jepsen does: its invocation and its completion, both `:info`.
    fn record_nemesis(&mut self, f: &str, value: &str) {
        self.record("info", &":nemesis", f, value);
        self.record("info", &":nemesis", f, value);
    }

    /// The fault's victims: the current leader half the time (the interesting case), else
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
        if let Some(l) = leader.filter(|_| self.rng.chance(0.5)) {
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
                self.record_nemesis("start-partition", &grouping);
                self.active = Some(Active::Partition);
            }
            FaultKind::Kill => {
                let victims = self.victims();
                victims.iter().for_each(|&i| self.up[i] = false);
                self.record_nemesis("kill", &node_names(&victims));
                self.active = Some(Active::Kill(victims));
            }
            FaultKind::Loss => {
                self.lossy = true;
                let what = format!("{{:drop-percent {}}}", (timing::LOSS * 100.0) as u32);
                self.record_nemesis("start-loss", &what);
                self.active = Some(Active::Loss);
            }
        }
    }

    fn stop_fault(&mut self) {
        match self.active.take() {
            Some(Active::Partition) => {
                self.side.fill(0);
                self.record_nemesis("stop-partition", ":network-healed");
            }
            Some(Active::Kill(victims)) => {
                for &i in &victims {
                    self.up[i] = true;
                    self.epoch[i] += 1;
                    self.nodes[i].restart(self.now, &mut self.rng);
                    self.after(TICK, Ev::Tick { node: i, epoch: self.epoch[i] });
                }
                // Jepsen's name for bringing a killed node back.
                self.record_nemesis("start", &node_names(&victims));
            }
            Some(Active::Loss) => {
                self.lossy = false;
                self.record_nemesis("stop-loss", "nil");
            }
            None => {}
        }
    }
}
