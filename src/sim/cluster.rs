//! A deterministic simulation of a small replicated service under faults, recorded as a Jepsen
//! history.
//!
//! Everything runs on one thread from one seeded [`Rng`], as a discrete-event simulation in
//! microseconds: a queue of timed events (message deliveries, node timers, client starts,
//! retries and timeouts, nemesis steps), handled in time order. The same configuration therefore
//! writes the same bytes everywhere. (Another thread may format and write the events, in their
//! order: see `simulate_in_parallel`.)
//!
//! The service replicates one object (a register, a set, a counter, or a few lists for Elle's
//! list-append, by [`Workload`]) on 3–5 nodes: `node`'s single-slot Paxos, or for
//! [`Service::ClockSkewLww`] `lww`'s leaderless last-write-wins quorum register. Clients are
//! bound to a home node, as Jepsen's are; followers forward requests to the leader they know.
//! Clients record what they saw exactly as Jepsen does: `:ok` when told so, `:fail` only when
//! the op certainly did not happen (a cas whose expected value did not match, a request refused
//! before it was applied, a connection refused by a dead node), and `:info` on a timeout, after
//! which the client thread continues as a new process (`process + clients`). The retrying
//! services' client libraries break exactly these rules; like real ones, they back off between
//! attempts and fail over to another node when theirs refuses connections. The nemesis partitions the network,
//! kills and restarts nodes, makes the network flaky (dropping, delaying and duplicating
//! messages), and skews and drifts clocks, composing them when several are enabled, and logs
//! each step as a pair of `:info` events of `:process :nemesis`.

mod data;
mod history;
mod lww;
mod mail;
mod msg;
mod node;
mod queue;

use self::data::{ClientOp, Mop, Snapshot};
use self::history::{F, Kind, Line, Sink, Value, Who};
use self::lww::LwwNode;
use self::mail::Mail;
use self::msg::{Addr, Msg, Outcome};
use self::node::{Node, TICK};
use self::queue::Queue;
use super::Rng;
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
    /// The leader acknowledges updates before replicating them (and answers reads from its own
    /// state); a new leader never saw them, so acknowledged updates are rolled back.
    LostAck,
    /// The correct service, but the client library resends an op whose reply did not come in
    /// time and records one op: a non-idempotent update (an increment, an append) that the
    /// first attempt already applied is applied twice. (Both retrying libraries back off
    /// between attempts, and fail over to another node when their own refuses connections.)
    DuplicateRetry,
    /// The correct service, deduplicating retried updates by a request token, but the client
    /// library retries internally and records only its last attempt: the op appears to begin
    /// after its first attempt took effect, so a later-acknowledged update was in fact
    /// overwritten by one the history shows as earlier.
    SilentRetry,
    /// A leaderless quorum register (reads and writes only) that orders writes by the wall
    /// clock of the node that took them: under clock skew, acknowledged writes are lost.
    ClockSkewLww,
}

impl Service {
    /// The names `--service` accepts, in the order of [`Service::ALL`].
    pub const NAMES: [&'static str; 6] =
        ["correct", "stale-read", "lost-ack", "duplicate-retry", "silent-retry", "clock-skew-lww"];

    /// Every service.
    pub const ALL: [Service; 6] = [
        Service::Correct,
        Service::StaleRead,
        Service::LostAck,
        Service::DuplicateRetry,
        Service::SilentRetry,
        Service::ClockSkewLww,
    ];

    /// The service called `name`, if any.
    pub fn parse(name: &str) -> Option<Service> {
        Service::NAMES.iter().position(|n| *n == name).map(|i| Service::ALL[i])
    }

    /// Its `--service` name.
    pub fn name(self) -> &'static str {
        Service::NAMES[Service::ALL.iter().position(|s| *s == self).unwrap_or(0)]
    }

    /// Whether the service runs `workload` (the last-write-wins store has only reads and
    /// writes).
    pub fn supports(self, workload: Workload) -> bool {
        self != Service::ClockSkewLww || workload == Workload::Register
    }

    /// Whether its client library retries timed-out ops.
    fn retries(self) -> bool {
        matches!(self, Service::DuplicateRetry | Service::SilentRetry)
    }
}

/// What the clients do, and so which model checks the history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    /// Reads and writes of unique values.
    Register,
    /// Reads, writes and compare-and-sets.
    CasRegister,
    /// Adds of unique elements, and reads of the whole set.
    Set,
    /// Increments (`:add 1` to `:add 5`) and reads.
    Counter,
    /// Elle's list-append: transactions of one or two micro-ops over a few keys.
    ListAppend,
}

impl Workload {
    /// The names `--workload` accepts, in the order of [`Workload::ALL`].
    pub const NAMES: [&'static str; 5] = ["register", "cas-register", "set", "counter", "list-append"];

    /// Every workload.
    pub const ALL: [Workload; 5] =
        [Workload::Register, Workload::CasRegister, Workload::Set, Workload::Counter, Workload::ListAppend];

    /// The workload called `name`, if any.
    pub fn parse(name: &str) -> Option<Workload> {
        Workload::NAMES.iter().position(|n| *n == name).map(|i| Workload::ALL[i])
    }

    /// Its name, which is also the name of the model that checks its histories.
    pub fn name(self) -> &'static str {
        Workload::NAMES[Workload::ALL.iter().position(|w| *w == self).unwrap_or(0)]
    }
}

/// Which faults the nemesis injects.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Faults {
    /// Network partitions: a majority and a minority that cannot talk to each other.
    pub partition: bool,
    /// Node crashes and restarts (durable state survives).
    pub kill: bool,
    /// A flaky network between nodes and clients: messages are dropped, delayed for long (and
    /// so reordered), and duplicated.
    pub loss: bool,
    /// Clock skew: a minority of nodes' wall clocks jump and drift, until they are reset.
    pub clock: bool,
}

impl Faults {
    /// The names `--faults` accepts.
    pub const NAMES: [&'static str; 4] = ["partition", "kill", "loss", "clock"];

    /// Every fault.
    pub const ALL: Faults = Faults { partition: true, kill: true, loss: true, clock: true };

    /// Parses a comma-separated subset of `partition`, `kill`, `loss`, `clock` (`none` or
    /// empty for no faults).
    pub fn parse(list: &str) -> Result<Faults, String> {
        let mut faults = Faults::default();
        for name in list.split(',').map(str::trim).filter(|s| !s.is_empty() && *s != "none") {
            match name {
                "partition" => faults.partition = true,
                "kill" => faults.kill = true,
                "loss" => faults.loss = true,
                "clock" => faults.clock = true,
                other => {
                    return Err(format!(
                        "unknown fault {other:?}; the faults are {}",
                        Faults::NAMES.join(", ")
                    ));
                }
            }
        }
        Ok(faults)
    }

    /// Every subset of the faults, the empty one first.
    pub fn all_subsets() -> Vec<Faults> {
        (0..16)
            .map(|b| Faults { partition: b & 1 != 0, kill: b & 2 != 0, loss: b & 4 != 0, clock: b & 8 != 0 })
            .collect()
    }

    fn kinds(self) -> Vec<FaultKind> {
        let pairs = [
            (self.partition, FaultKind::Partition),
            (self.kill, FaultKind::Kill),
            (self.loss, FaultKind::Loss),
            (self.clock, FaultKind::Clock),
        ];
        pairs.into_iter().filter(|p| p.0).map(|p| p.1).collect()
    }
}

impl std::fmt::Display for Faults {
    /// The `--faults` list (`none` for no faults).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let on = [self.partition, self.kill, self.loss, self.clock];
        let names: Vec<&str> = Faults::NAMES.iter().zip(on).filter(|p| p.1).map(|p| *p.0).collect();
        f.write_str(if names.is_empty() { "none".to_string() } else { names.join(",") }.as_str())
    }
}

/// What to simulate.
#[derive(Clone, Debug)]
pub struct ClusterConfig {
    /// The service's behaviour.
    pub service: Service,
    /// What the clients do.
    pub workload: Workload,
    /// The faults to inject.
    pub faults: Faults,
    /// Number of nodes (1 to 32; 3–5 is typical).
    pub nodes: usize,
    /// Number of client ops to invoke.
    pub ops: usize,
    /// Concurrent client threads.
    pub clients: usize,
    /// Register values written are drawn from `0..values`; 0 makes every written value unique
    /// (and a cas then expects the value its client last saw). Other workloads always use
    /// unique values.
    pub values: u64,
    /// PRNG seed.
    pub seed: u64,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            service: Service::Correct,
            workload: Workload::CasRegister,
            faults: Faults::default(),
            nodes: 3,
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
    /// Chance that a message is dropped while the network is lossy…
    pub const LOSS: f64 = 0.3;
    /// …and that one it does not drop is delivered twice, each copy with its own delay.
    pub const DUPLICATE: f64 = 0.2;
    /// A client gives up on an op after this long.
    pub const CLIENT_TIMEOUT: i64 = 50_000;
    /// A retrying client library gives up on each attempt after `CLIENT_TIMEOUT`, and makes
    /// this many attempts before it reports a timeout…
    pub const ATTEMPTS: u32 = 7;
    /// …backing off before each retry for a random time (full jitter) up to this, doubled at
    /// every retry (10, 20, 40… ms), as client libraries do so as not to pile onto a struggling
    /// service. The backoff carries a retry past the fault that timed it out, while other
    /// clients' ops complete: what shows the silent retry's bug (with retries at once, the
    /// hidden attempt and the recorded one were often both inside one flaky stretch, in which
    /// no other op completes).
    pub const BACKOFF: u64 = 10_000;
    /// Pause between a client's ops: up to this.
    pub const THINK: u64 = 20_000;
    /// Clients start once the first election has probably happened.
    pub const CLIENTS_START: i64 = 120_000;
    /// The nemesis waits this long, plus up to `QUIET_SPREAD`, between faults…
    pub const QUIET_MIN: i64 = 30_000;
    pub const QUIET_SPREAD: u64 = 100_000;
    /// …and keeps each fault this long, plus up to `ACTIVE_SPREAD` (long enough for the
    /// majority to elect a new leader and serve clients while the minority is cut off).
    pub const ACTIVE_MIN: i64 = 100_000;
    pub const ACTIVE_SPREAD: u64 = 150_000;
    /// With several faults enabled the nemesis composes them (see `Sim::next_faults`), and
    /// its steps are shorter and closer together, so that a short history sees many of them:
    /// this long, plus up to `COMPOSED_QUIET_SPREAD`, between steps…
    pub const COMPOSED_QUIET_MIN: i64 = 6_000;
    pub const COMPOSED_QUIET_SPREAD: u64 = 20_000;
    /// …and each step this long, plus up to `COMPOSED_ACTIVE_SPREAD` (still long enough for an
    /// election on the majority side of a partition).
    pub const COMPOSED_ACTIVE_MIN: i64 = 70_000;
    pub const COMPOSED_ACTIVE_SPREAD: u64 = 105_000;
    /// Composed with partitions or kills, a round of the nemesis gives the flaky network this
    /// many turns (the other faults one each): the retrying clients' bugs need a reply lost at the right moment,
    /// which takes more lossy time to happen than a partition takes to expose a stale read.
    pub const COMPOSED_LOSS_TURNS: usize = 3;
    /// Chance that a fault's victims include the current leader, as Jepsen's nemeses often
    /// target primaries: that is where the interesting failures are.
    pub const TARGET_LEADER: f64 = 0.8;
    /// A clock fault moves a clock by at least this, plus up to `SKEW_SPREAD`, either way…
    pub const SKEW_MIN: i64 = 20_000;
    pub const SKEW_SPREAD: u64 = 280_000;
    /// …and makes it drift by up to this many parts per million.
    pub const DRIFT_PPM: u64 = 2_000;
}

/// Keys of the list-append workload in use at a time…
const TXN_KEYS: u32 = 3;
/// …all retired together after this many appends, for as many fresh ones: lists stay short (a
/// read shows the whole list), as Jepsen's list-append workload keeps them, and the keys in use
/// are always the newest, which the store relies on when it forgets old lists.
const TXN_GENERATION_APPENDS: u32 = 300;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FaultKind {
    Partition,
    Kill,
    Loss,
    Clock,
}

/// Something that happens at a given time.
#[derive(Clone, Debug)]
enum Ev {
    /// A message, by its number in [`Mail`], from an address packed by [`Addr::pack`].
    Deliver {
        from: u32,
        msg: u32,
    },
    /// A node's timer; only the one set last for it (`Sim::tick_at`) goes off, so a timer
    /// set again earlier, or one from a node's earlier life, is ignored.
    Tick {
        node: usize,
    },
    ClientStart {
        client: usize,
    },
    /// A retrying client library's next attempt, after its backoff.
    Retry {
        client: usize,
    },
    ClientTimeout {
        client: usize,
        req: u64,
    },
    Nemesis,
}

/// A client thread.
#[derive(Clone, Debug)]
struct Client {
    process: usize,
    home: usize,
    /// The last attempt's request id (each attempt has its own).
    req: u64,
    /// The last op's token (the same over its attempts).
    token: u64,
    open: Option<Open>,
    /// The last register value it read or wrote, for the next cas's expected value.
    last_seen: Option<i64>,
}

/// A client's op in flight.
#[derive(Clone, Copy, Debug)]
struct Open {
    op: ClientOp,
    /// Attempts made so far (1 without retries).
    attempt: u32,
    /// Where its invocation is in the history, so that a silent retry can move it.
    invoke: usize,
}

/// A fault the nemesis has started.
#[derive(Clone, Debug)]
enum Active {
    Partition,
    Kill(Vec<usize>),
    Loss,
    Clock(Vec<usize>),
}

/// A node of either protocol.
#[derive(Clone, Debug)]
enum Replica {
    Paxos(Box<Node>),
    Lww(LwwNode),
}

impl Replica {
    fn leading(&self) -> Option<u64> {
        match self {
            Replica::Paxos(n) => n.leading(),
            Replica::Lww(_) => None,
        }
    }
}

/// A node's wall clock: off by `offset`, and drifting by `ppm` since `since`.
#[derive(Clone, Copy, Debug, Default)]
struct Clock {
    offset: i64,
    ppm: i64,
    since: i64,
}

impl Clock {
    fn read(&self, now: i64) -> i64 {
        now + self.offset + (now - self.since) * self.ppm / 1_000_000
    }
}

/// The whole simulated world.
struct Sim<'a> {
    c: &'a ClusterConfig,
    rng: Rng,
    now: i64,
    queue: Queue<Ev>,
    nodes: Vec<Replica>,
    up: Vec<bool>,
    /// When each node's timer is set to go off.
    tick_at: Vec<i64>,
    clocks: Vec<Clock>,
    /// Each node's side of the partition; all zero when the network is whole.
    side: Vec<u8>,
    lossy: bool,
    /// Messages the network duplicated so far.
    duplicated: usize,
    /// The faults in force, in the order they started.
    active: Vec<Active>,
    /// The faults still to take their turn in this round of the nemesis (each enabled fault
    /// once per round, in random order).
    bag: Vec<FaultKind>,
    clients: Vec<Client>,
    invoked: usize,
    next_value: i64,
    /// The first list-append key in use (the others follow it), and how many appends they had.
    txn_keys: (u32, u32),
    /// The messages in flight, and those the node being run sent.
    mail: Mail,
    /// The numbers of the messages being handed to the network.
    sending: Vec<u32>,
    /// The recorded events not yet written, the first of them event number `written` (counting
    /// the removed ones too). They are written as soon as nothing can remove them, so that the
    /// history streams out in bounded memory.
    lines: Batch,
    written: usize,
    /// The most events held at once, for tests.
    peak_held: usize,
}

/// How many recorded events the simulation holds before it writes those it can.
const FLUSH_AT: usize = 4096;

/// Runs the simulation and writes its history as EDN, one event per line, as it goes (in
/// bounded memory). Returns the number of events written. The same configuration always writes
/// the same bytes.
pub fn write_edn(c: &ClusterConfig, out: &mut impl Write) -> io::Result<usize> {
    simulate_in_parallel(c, false, out)
}

/// Runs the simulation and writes its history as JSON Lines (the shape elle-cli reads: the
/// same keys without colons, keywords as strings, sets as arrays). Returns the number of
/// events written; the events are those [`write_edn`] writes.
pub fn write_json(c: &ClusterConfig, out: &mut impl Write) -> io::Result<usize> {
    simulate_in_parallel(c, true, out)
}

/// Runs the simulation and returns its history as EDN text (what [`write_edn`] writes).
pub fn history_string(c: &ClusterConfig) -> String {
    let mut text = Vec::new();
    // Writing to a vector cannot fail, and the simulator writes only UTF-8.
    let _ = simulate(c, false, &mut text);
    String::from_utf8(text).unwrap_or_default()
}

/// Recorded events in order; `None` for one a silent retry removed.
type Batch = Vec<Option<Line>>;

/// An empty batch with room for what the simulation holds before it writes.
fn new_batch() -> Batch {
    Vec::with_capacity(FLUSH_AT + 64)
}

/// Hands a batch of events on to be written, and returns an empty buffer for the next one
/// (the simulation's buffers are recycled rather than allocated per batch); an error stops the
/// simulation.
type Emit<'e> = dyn FnMut(Batch) -> io::Result<Batch> + 'e;

/// Runs the simulation, writing its events to `out` on this thread (for short histories).
fn simulate(c: &ClusterConfig, json: bool, out: &mut dyn Write) -> io::Result<usize> {
    let mut sink = Sink::new(out, json);
    Sim::new(c).run(&mut |mut batch| {
        sink.write_all(&batch)?;
        batch.clear();
        Ok(batch)
    })?;
    sink.finish()?;
    Ok(sink.events)
}

/// Runs the simulation on another thread while this one formats and writes its events: the
/// simulation itself is sequential, and formatting and writing take a fifth of the time.
/// A few batches wait at most, so memory stays bounded.
fn simulate_in_parallel(c: &ClusterConfig, json: bool, out: &mut dyn Write) -> io::Result<usize> {
    std::thread::scope(|scope| {
        let (batches, received) = std::sync::mpsc::sync_channel::<Batch>(4);
        let (emptied, recycled) = std::sync::mpsc::channel::<Batch>();
        let sim = scope.spawn(move || {
            let stopped = |_| io::Error::other("the history's writer stopped");
            Sim::new(c).run(&mut |batch| {
                batches.send(batch).map_err(stopped)?;
                Ok(recycled.try_recv().unwrap_or_else(|_| new_batch()))
            })
        });
        let mut sink = Sink::new(out, json);
        let mut written = Ok(());
        while let Ok(mut batch) = received.recv() {
            written = sink.write_all(&batch);
            if written.is_err() {
                break;
            }
            batch.clear();
            // The simulation may have finished, and no longer want it.
            let _ = emptied.send(batch);
        }
        // Dropping the receiver stops a simulation whose history can no longer be written.
        drop(received);
        let ran = sim.join().unwrap_or_else(|_| Err(io::Error::other("the simulation panicked")));
        written?;
        ran?;
        sink.finish()?;
        Ok(sink.events)
    })
}

impl<'a> Sim<'a> {
    fn new(c: &'a ClusterConfig) -> Sim<'a> {
        let n = c.nodes.clamp(1, 32);
        let mut rng = Rng::new(c.seed);
        let nodes = (0..n)
            .map(|i| match c.service {
                Service::ClockSkewLww => Replica::Lww(LwwNode::new(i, n)),
                _ => Replica::Paxos(Box::new(Node::new(i, n, c.service, 0, &mut rng))),
            })
            .collect();
        let clients = (0..c.clients.max(1))
            .map(|i| Client { process: i, home: i % n, req: 0, token: 0, open: None, last_seen: None })
            .collect();
        let mut sim = Sim {
            c,
            rng,
            now: 0,
            queue: Queue::default(),
            nodes,
            up: vec![true; n],
            tick_at: vec![0; n],
            clocks: vec![Clock::default(); n],
            side: vec![0; n],
            lossy: false,
            duplicated: 0,
            active: Vec::new(),
            bag: Vec::new(),
            clients,
            invoked: 0,
            next_value: 0,
            txn_keys: (0, 0),
            mail: Mail::default(),
            sending: Vec::new(),
            lines: new_batch(),
            written: 0,
            peak_held: 0,
        };
        for node in 0..n {
            let first = sim.rng.below(TICK as u64) as i64;
            sim.set_tick(node, first);
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
    #[inline(always)]
    fn at(&mut self, time: i64, ev: Ev) {
        self.queue.push(time, ev);
    }

    /// Schedules `ev` after `delay`.
    #[inline(always)]
    fn after(&mut self, delay: i64, ev: Ev) {
        self.at(self.now + delay, ev);
    }

    /// Runs until every client op has completed or timed out, then heals the last fault;
    /// writes the history to `sink` as it goes.
    fn run(&mut self, emit: &mut Emit<'_>) -> io::Result<()> {
        while let Some((time, ev)) = self.queue.pop() {
            self.now = time;
            match ev {
                Ev::Deliver { from, msg } => {
                    if let Some((to, msg)) = self.mail.take(msg) {
                        self.deliver(Addr::unpack(from), to, msg);
                    }
                }
                Ev::Tick { node } => self.tick(node),
                Ev::ClientStart { client } => self.client_start(client),
                Ev::Retry { client } => self.resend(client),
                Ev::ClientTimeout { client, req } => self.client_timeout(client, req),
                Ev::Nemesis => self.nemesis(),
            }
            if self.invoked >= self.c.ops && self.clients.iter().all(|c| c.open.is_none()) {
                break;
            }
            if self.lines.len() >= FLUSH_AT {
                self.write_lines(emit, false)?;
            }
        }
        self.stop_faults();
        self.write_lines(emit, true)
    }

    /// Sends a message through the network.
    fn send(&mut self, from: Addr, to: Addr, msg: Msg) {
        let id = self.mail.store(to, msg);
        self.transmit(from, id);
    }

    /// Hands message `id` to the network: delayed at random, and while the network is lossy
    /// dropped or duplicated at random. Partitions are applied on delivery.
    fn transmit(&mut self, from: Addr, id: u32) {
        if self.lossy && self.rng.chance(timing::LOSS) {
            return self.mail.lose(id);
        }
        let spread = if self.lossy { timing::LOSSY_SPREAD } else { timing::NET_SPREAD };
        if self.lossy && self.rng.chance(timing::DUPLICATE) {
            self.duplicated += 1;
            let delay = timing::NET_MIN + self.rng.below(spread) as i64;
            if let Some(copy) = self.mail.copy(id) {
                self.after(delay, Ev::Deliver { from: from.pack(), msg: copy });
            }
        }
        let delay = timing::NET_MIN + self.rng.below(spread) as i64;
        self.after(delay, Ev::Deliver { from: from.pack(), msg: id });
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
                    let now = self.now;
                    match &mut self.nodes[n] {
                        Replica::Paxos(node) => {
                            node.receive(from, msg, now, &mut self.rng, &mut self.mail);
                            // A node that just won an election ticks as a leader from now on.
                            let wanted = node.next_tick(now);
                            if wanted < self.tick_at[n] {
                                self.set_tick(n, wanted);
                            }
                        }
                        Replica::Lww(node) => {
                            node.receive(from, msg, now, self.clocks[n].read(now), &mut self.mail)
                        }
                    }
                    self.flush(n);
                }
            }
        }
    }

    /// Hands what node `n` sent to the network.
    fn flush(&mut self, n: usize) {
        let mut sending = std::mem::take(&mut self.sending);
        self.mail.take_fresh(&mut sending);
        for &id in &sending {
            self.transmit(Addr::Node(n), id);
        }
        self.sending = sending;
    }

    fn tick(&mut self, node: usize) {
        if !self.up[node] || self.tick_at[node] != self.now {
            return;
        }
        let next = match &mut self.nodes[node] {
            Replica::Paxos(n) => {
                n.tick(self.now, &mut self.rng, &mut self.mail);
                n.next_tick(self.now)
            }
            Replica::Lww(n) => {
                n.tick(self.now);
                self.now + TICK
            }
        };
        self.flush(node);
        self.set_tick(node, next);
    }

    /// Sets node `node`'s timer to go off at `time`, instead of when it was set to.
    fn set_tick(&mut self, node: usize, time: i64) {
        self.tick_at[node] = time;
        self.at(time, Ev::Tick { node });
    }

    /// Appends one event to the history; returns its number.
    fn record(&mut self, kind: Kind, who: Who, f: F, value: Value) -> usize {
        self.lines.push(Some(Line { time: self.now, kind, who, f, value }));
        self.written + self.lines.len() - 1
    }

    /// Writes the recorded events (`all`, or those before the first that a silent retry may
    /// still remove: the invocation of an op in flight).
    fn write_lines(&mut self, emit: &mut Emit<'_>, all: bool) -> io::Result<()> {
        self.peak_held = self.peak_held.max(self.lines.len());
        let open = self.clients.iter().filter_map(|c| c.open.map(|o| o.invoke));
        let keep = match (all, self.c.service) {
            (false, Service::SilentRetry) => open.min().unwrap_or(usize::MAX),
            _ => usize::MAX,
        };
        let ready = keep.saturating_sub(self.written).min(self.lines.len());
        if ready == 0 {
            return Ok(());
        }
        self.written += ready;
        let mut batch = std::mem::take(&mut self.lines);
        // What is not ready (a silent retry's open invocations, and what follows them) stays,
        // at the front of the next buffer.
        let held = batch.split_off(ready);
        self.lines = emit(batch)?;
        self.lines.extend(held);
        Ok(())
    }
}

fn node_name(n: usize) -> String {
    format!("\"n{}\"", n + 1)
}

fn node_names(nodes: &[usize]) -> String {
    format!("[{}]", nodes.iter().map(|&n| node_name(n)).collect::<Vec<_>>().join(" "))
}

/// How ops are written in the history: `:f` and the value, from what the op saw (`None` for
/// an invocation, or an op whose outcome is unknown or failed).
fn op_value(op: ClientOp, seen: Option<&Snapshot>) -> (F, Value) {
    match op {
        // A completed read is rendered by `Value::read`, which knows the workload.
        ClientOp::Read => (F::Read, Value::Nil),
        ClientOp::Write(v) => (F::Write, Value::Int(v)),
        ClientOp::Cas(old, new) => (F::Cas, Value::Pair(old, new)),
        ClientOp::Insert(v) | ClientOp::Incr(v) => (F::Add, Value::Int(v)),
        ClientOp::Txn { mops, len } => (F::Txn, Value::txn(mops, len, seen)),
    }
}

/// The clients: Jepsen's recording rules, and the retrying client libraries' bugs.
impl Sim<'_> {
    fn unique(&mut self) -> i64 {
        self.next_value += 1;
        self.next_value
    }

    fn choose_op(&mut self, client: usize) -> ClientOp {
        match self.c.workload {
            Workload::Register | Workload::CasRegister => self.register_op(client),
            Workload::Set if self.rng.chance(0.6) => ClientOp::Insert(self.unique()),
            // Increments of different sizes: an extra (or a missing) one then rarely sums to
            // what the crashed ops could explain.
            Workload::Counter if self.rng.chance(0.5) => ClientOp::Incr(1 + self.rng.below(5) as i64),
            Workload::Set | Workload::Counter => ClientOp::Read,
            Workload::ListAppend => self.txn_op(),
        }
    }

    fn register_op(&mut self, client: usize) -> ClientOp {
        let value = |sim: &mut Self| {
            if sim.c.values == 0 { sim.unique() } else { sim.rng.below(sim.c.values) as i64 }
        };
        let kinds = if self.c.workload == Workload::CasRegister { 3 } else { 2 };
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

    /// One or two micro-ops on random keys, appends of unique values first, then reads.
    fn txn_op(&mut self) -> ClientOp {
        let len = 1 + self.rng.below(2) as u8;
        let mut mops = [Mop { append: false, key: 0, value: 0 }; 2];
        for m in &mut mops[..usize::from(len)] {
            m.key = self.txn_keys.0 + self.rng.below(u64::from(TXN_KEYS)) as u32;
            if self.rng.chance(0.5) {
                m.append = true;
                m.value = self.unique();
                self.txn_keys.1 += 1;
                if self.txn_keys.1 == TXN_GENERATION_APPENDS {
                    self.txn_keys = (self.txn_keys.0 + TXN_KEYS, 0);
                }
            }
        }
        mops[..usize::from(len)].sort_by_key(|m| !m.append);
        ClientOp::Txn { mops, len }
    }

    fn client_start(&mut self, client: usize) {
        if self.invoked >= self.c.ops {
            return;
        }
        self.invoked += 1;
        let op = self.choose_op(client);
        let (f, value) = op_value(op, None);
        let invoke = self.record(Kind::Invoke, Who::Process(self.clients[client].process), f, value);
        let cl = &mut self.clients[client];
        cl.token += 1;
        cl.open = Some(Open { op, attempt: 1, invoke });
        self.attempt(client, op);
    }

    /// Sends `op`, the open op of `client`, to its node, and times it out. (The op is passed,
    /// not read back from the client: read back just after it was stored, it cost a stall.)
    fn attempt(&mut self, client: usize, op: ClientOp) {
        let cl = &mut self.clients[client];
        cl.req += 1;
        let (req, token, mut home) = (cl.req, cl.token, cl.home);
        let n = self.nodes.len();
        if self.c.service.retries()
            && let Some(next) = (0..n).map(|k| (home + k) % n).find(|&i| self.up[i])
        {
            // A retrying library knows every node, and connects to the next live one when its
            // own refuses the connection (it would time out on an unreachable one instead).
            home = next;
        }
        let from = Addr::Client(client);
        if self.up[home] {
            let msg = Msg::Request { client: client as u32, req, token, op, forwarded: false };
            self.send(from, Addr::Node(home), msg);
        } else {
            // Connection refused: the request certainly never arrived.
            let refused = self.mail.store(from, Msg::Reply { req, outcome: Outcome::Fail });
            self.after(timing::NET_MIN, Ev::Deliver { from: Addr::Node(home).pack(), msg: refused });
        }
        // A timer, not an event: the reply nearly always comes first, and cancels it.
        self.queue.set_timer(client, self.now + timing::CLIENT_TIMEOUT, Ev::ClientTimeout { client, req });
    }

    fn client_reply(&mut self, client: usize, req: u64, outcome: Outcome) {
        let cl = &mut self.clients[client];
        let Some(open) = cl.open.filter(|_| cl.req == req) else { return }; // a late reply
        cl.open = None;
        self.queue.cancel_timer(client);
        let cl = &mut self.clients[client];
        let process = cl.process;
        let (kind, seen) = match &outcome {
            Outcome::Ok(seen) => (Kind::Ok, Some(seen)),
            Outcome::Fail => (Kind::Fail, None),
        };
        if let Some(seen) = seen {
            cl.last_seen = match open.op {
                ClientOp::Write(v) | ClientOp::Cas(_, v) => Some(v),
                _ => seen.reg,
            };
        }
        let (f, value) = match (open.op, seen) {
            (ClientOp::Read, Some(seen)) => (F::Read, Value::read(self.c.workload, seen)),
            (op, seen) => op_value(op, seen),
        };
        self.record(kind, Who::Process(process), f, value);
        self.think(client);
    }

    fn client_timeout(&mut self, client: usize, req: u64) {
        let threads = self.clients.len();
        let cl = &mut self.clients[client];
        let Some(open) = cl.open.filter(|_| cl.req == req) else { return };
        let process = cl.process;
        if self.c.service.retries() && open.attempt < timing::ATTEMPTS {
            return self.retry(client, open);
        }
        cl.open = None;
        // The op may or may not have happened; Jepsen retires the process.
        cl.process += threads;
        let (f, value) = op_value(open.op, None);
        self.record(Kind::Info, Who::Process(process), f, value);
        self.think(client);
    }

    /// The retrying client libraries: the op is sent again after a backoff, as one op in the
    /// history. The timed-out attempt is abandoned: its late reply, if any, is ignored.
    fn retry(&mut self, client: usize, mut open: Open) {
        open.attempt += 1;
        let cl = &mut self.clients[client];
        cl.req += 1;
        cl.open = Some(open);
        let pause = self.rng.below(timing::BACKOFF << (open.attempt - 2)) as i64;
        self.after(pause, Ev::Retry { client });
    }

    /// The retry after its backoff.
    fn resend(&mut self, client: usize) {
        let Some(mut open) = self.clients[client].open else { return };
        if self.c.service == Service::SilentRetry {
            // The bug: only the last attempt is recorded, as if the op began now.
            self.lines[open.invoke - self.written] = None;
            let (f, value) = op_value(open.op, None);
            open.invoke = self.record(Kind::Invoke, Who::Process(self.clients[client].process), f, value);
        }
        self.clients[client].open = Some(open);
        self.attempt(client, open.op);
    }

    fn think(&mut self, client: usize) {
        let pause = self.rng.below(timing::THINK) as i64;
        self.after(pause, Ev::ClientStart { client });
    }
}

/// The nemesis: alternates quiet periods and faults. Every enabled fault takes its turn once per
/// round; with several enabled, others join it at random.
impl Sim<'_> {
    fn nemesis(&mut self) {
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
    fn stop_faults(&mut self) {
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

#[cfg(test)]
mod tests {
    use super::history::edn_to_json;
    use super::{ClusterConfig, Faults, Service, Sim, Sink, Workload, write_edn};

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
            assert!(sim.peak_held < 2 * super::FLUSH_AT, "{service:?}: {} events held", sim.peak_held);
            let Some(super::Replica::Paxos(node)) = sim.nodes.first() else { panic!() };
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
    }
}
