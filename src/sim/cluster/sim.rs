//! The event loop and the network: the simulated world ([`Sim`]), its events in time order,
//! the messages between nodes and clients (delayed, and while the network is lossy dropped and
//! duplicated; cut by partitions on delivery), and the nodes' timers and wall clocks.

use super::super::Rng;
use super::client::Client;
use super::config::{ClusterConfig, FaultKind, Service};
use super::lww::LwwNode;
use super::mail::Mail;
use super::msg::{Addr, Msg};
use super::nemesis::Active;
use super::node::{Node, TICK};
use super::queue::Queue;
use super::timing;
use super::writer::{Batch, Emit, FLUSH_AT, new_batch};
use std::io;

/// Something that happens at a given time.
#[derive(Clone, Debug)]
pub(super) enum Ev {
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

/// A node of either protocol.
#[derive(Clone, Debug)]
pub(super) enum Replica {
    Paxos(Box<Node>),
    Lww(LwwNode),
}

impl Replica {
    pub(super) fn leading(&self) -> Option<u64> {
        match self {
            Replica::Paxos(n) => n.leading(),
            Replica::Lww(_) => None,
        }
    }
}

/// A node's wall clock: off by `offset`, and drifting by `ppm` since `since`.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Clock {
    pub(super) offset: i64,
    pub(super) ppm: i64,
    pub(super) since: i64,
}

impl Clock {
    fn read(&self, now: i64) -> i64 {
        now + self.offset + (now - self.since) * self.ppm / 1_000_000
    }
}

/// The whole simulated world.
pub(super) struct Sim<'a> {
    pub(super) c: &'a ClusterConfig,
    pub(super) rng: Rng,
    pub(super) now: i64,
    pub(super) queue: Queue<Ev>,
    pub(super) nodes: Vec<Replica>,
    pub(super) up: Vec<bool>,
    /// When each node's timer is set to go off.
    pub(super) tick_at: Vec<i64>,
    pub(super) clocks: Vec<Clock>,
    /// Each node's side of the partition; all zero when the network is whole.
    pub(super) side: Vec<u8>,
    pub(super) lossy: bool,
    /// Messages the network duplicated so far.
    pub(super) duplicated: usize,
    /// The faults in force, in the order they started.
    pub(super) active: Vec<Active>,
    /// The faults still to take their turn in this round of the nemesis (each enabled fault
    /// once per round, in random order).
    pub(super) bag: Vec<FaultKind>,
    pub(super) clients: Vec<Client>,
    pub(super) invoked: usize,
    pub(super) next_value: i64,
    /// The first list-append key in use (the others follow it), and how many appends they had.
    pub(super) txn_keys: (u32, u32),
    /// The messages in flight, and those the node being run sent.
    pub(super) mail: Mail,
    /// The numbers of the messages being handed to the network.
    pub(super) sending: Vec<u32>,
    /// The recorded events not yet written, the first of them event number `written` (counting
    /// the removed ones too). They are written as soon as nothing can remove them, so that the
    /// history streams out in bounded memory.
    pub(super) lines: Batch,
    pub(super) written: usize,
    /// The most events held at once, for tests.
    pub(super) peak_held: usize,
}

impl<'a> Sim<'a> {
    pub(super) fn new(c: &'a ClusterConfig) -> Sim<'a> {
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
    pub(super) fn at(&mut self, time: i64, ev: Ev) {
        self.queue.push(time, ev);
    }

    /// Schedules `ev` after `delay`.
    #[inline(always)]
    pub(super) fn after(&mut self, delay: i64, ev: Ev) {
        self.at(self.now + delay, ev);
    }

    /// Runs until every client op has completed or timed out, then heals the last fault;
    /// writes the history to `sink` as it goes.
    pub(super) fn run(&mut self, emit: &mut Emit<'_>) -> io::Result<()> {
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
    pub(super) fn send(&mut self, from: Addr, to: Addr, msg: Msg) {
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
    pub(super) fn set_tick(&mut self, node: usize, time: i64) {
        self.tick_at[node] = time;
        self.at(time, Ev::Tick { node });
    }
}
