//! One replica of the last-write-wins register behind the `clock-skew-lww` service.
//!
//! A leaderless quorum register in the style of ABD: the node a client reaches coordinates its
//! op. A write is stamped with the coordinator's wall clock (ties broken by node id) and sent to
//! every replica, each of which keeps the value with the newest stamp; it is acknowledged once a
//! majority stored it. A read asks every replica, takes the newest stamp among a majority's
//! answers, writes that back to a majority, and only then answers, so reads never go back in
//! time. With synchronized clocks a write that begins after another ended gets the newer stamp
//! and the register is linearizable. The bug is trusting wall clocks: on a node whose clock is
//! behind, a write is stamped older than writes that already completed, and it is acknowledged
//! and silently lost; on a node whose clock is ahead, a write wins over later ones.

use super::data::{ClientOp, Data, Snapshot};
use super::mail::Mail;
use super::msg::{Addr, Msg, Outcome, Stamp};
use super::node::{Node, Pending, RequestLog};

/// A coordinator forgets an op it could not finish within this time (its client has timed out
/// by then; replicas that stored the value keep it).
const COORD_TIMEOUT: i64 = 100_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// A read collecting the replicas' values.
    Query,
    /// A read writing back the newest value before it answers.
    WriteBack,
    /// A write.
    Write,
}

/// An op the node coordinates.
#[derive(Clone, Debug)]
struct Coord {
    id: u64,
    pending: Pending,
    phase: Phase,
    acks: u32,
    best: (Stamp, Option<i64>),
    started: i64,
}

/// One replica. Its methods take the current time, the node's own wall clock, and push the
/// messages it sends to `out`.
#[derive(Clone, Debug)]
pub(super) struct LwwNode {
    id: usize,
    nodes: usize,
    // Durable.
    stored: (Stamp, Option<i64>),
    requests: RequestLog,
    // Volatile.
    coords: Vec<Coord>,
    next_id: u64,
}

impl LwwNode {
    /// A replica holding the initial `nil`.
    pub(super) fn new(id: usize, nodes: usize) -> LwwNode {
        LwwNode {
            id,
            nodes,
            stored: ((i64::MIN, 0), None),
            requests: RequestLog::default(),
            coords: Vec::new(),
            next_id: 0,
        }
    }

    /// Comes back after a crash with only its stored value.
    pub(super) fn restart(&mut self) {
        let requests = std::mem::take(&mut self.requests);
        *self = LwwNode { stored: self.stored, requests, ..LwwNode::new(self.id, self.nodes) };
    }

    fn majority(&self) -> u32 {
        self.nodes as u32 / 2 + 1
    }

    fn store(&mut self, stamp: Stamp, value: Option<i64>) {
        if stamp > self.stored.0 {
            self.stored = (stamp, value);
        }
    }

    fn broadcast(&self, msg: &Msg, out: &mut Mail) {
        out.extend((0..self.nodes).filter(|&n| n != self.id).map(|n| (Addr::Node(n), msg.clone())));
    }

    /// The periodic timer: forgets ops that stalled (a partition or a dead majority).
    pub(super) fn tick(&mut self, now: i64) {
        self.coords.retain(|c| now - c.started <= COORD_TIMEOUT);
    }

    /// Handles one message; `clock` is this node's wall clock, which stamps writes.
    pub(super) fn receive(&mut self, from: Addr, msg: Msg, now: i64, clock: i64, out: &mut Mail) {
        match (from, msg) {
            // A copy of a request already coordinated would be stamped anew, and win again
            // over writes that came after it.
            (_, Msg::Request { client, req, token, op, .. }) if self.requests.first_copy(client, req) => {
                self.request(Pending { client, req, token, op }, now, clock, out)
            }
            (Addr::Node(peer), Msg::Put { id, stamp, value }) => {
                self.store(stamp, value);
                out.push((Addr::Node(peer), Msg::PutAck { id }));
            }
            (Addr::Node(peer), Msg::Get { id }) => {
                let (stamp, value) = self.stored;
                out.push((Addr::Node(peer), Msg::Got { id, stamp, value }));
            }
            (Addr::Node(peer), Msg::Got { id, stamp, value }) => self.got(peer, id, (stamp, value), out),
            (Addr::Node(peer), Msg::PutAck { id }) => self.put_ack(peer, id, out),
            _ => {}
        }
    }

    fn request(&mut self, p: Pending, now: i64, clock: i64, out: &mut Mail) {
        self.next_id += 1;
        let id = self.next_id;
        let (phase, best) = match p.op {
            ClientOp::Read => (Phase::Query, self.stored),
            ClientOp::Write(v) => {
                // The bug: the stamp is this node's wall clock, however wrong it is.
                let stamp = (clock, self.id);
                self.store(stamp, Some(v));
                self.broadcast(&Msg::Put { id, stamp, value: Some(v) }, out);
                (Phase::Write, (stamp, Some(v)))
            }
            // Only reads and writes: anything else is refused before it is done.
            _ => return Node::reply(&p, Outcome::Fail, out),
        };
        if phase == Phase::Query {
            self.broadcast(&Msg::Get { id }, out);
        }
        self.coords.push(Coord { id, pending: p, phase, acks: 1 << self.id, best, started: now });
        self.progress(id, out);
    }

    fn got(&mut self, peer: usize, id: u64, seen: (Stamp, Option<i64>), out: &mut Mail) {
        if let Some(c) = self.coords.iter_mut().find(|c| c.id == id && c.phase == Phase::Query) {
            c.acks |= 1 << peer;
            if seen.0 > c.best.0 {
                c.best = seen;
            }
            self.progress(id, out);
        }
    }

    fn put_ack(&mut self, peer: usize, id: u64, out: &mut Mail) {
        if let Some(c) = self.coords.iter_mut().find(|c| c.id == id && c.phase != Phase::Query) {
            c.acks |= 1 << peer;
            self.progress(id, out);
        }
    }

    /// Moves op `id` on once a majority answered its current phase.
    fn progress(&mut self, id: u64, out: &mut Mail) {
        let majority = self.majority();
        let Some(at) = self.coords.iter().position(|c| c.id == id && c.acks.count_ones() >= majority) else {
            return;
        };
        if self.coords[at].phase == Phase::Query {
            // Write back what will be answered, so that no later read sees anything older.
            let (stamp, value) = self.coords[at].best;
            self.coords[at].phase = Phase::WriteBack;
            self.coords[at].acks = 1 << self.id;
            self.store(stamp, value);
            self.broadcast(&Msg::Put { id, stamp, value }, out);
            return self.progress(id, out);
        }
        let c = self.coords.swap_remove(at);
        let seen = Snapshot::new(Data { reg: c.best.1, ..Data::default() });
        Node::reply(&c.pending, Outcome::Ok(seen), out);
    }
}
