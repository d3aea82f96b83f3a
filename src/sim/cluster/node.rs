//! One replica of the simulated service: a single-slot Paxos with a stable leader.
//!
//! The replicated state is one [`Slot`]: the whole object (a register, a set, a counter or a
//! few lists, see `data`), versioned by `(term, seq)`.
//! Acceptor state (`promised`, `accepted`) is durable and survives a crash; everything else is
//! lost on restart. A candidate becomes leader of a fresh term once a majority promised it, and
//! adopts the highest-versioned slot among those promises, so every value a majority accepted
//! survives (the majorities intersect). The leader runs one round at a time, of every client op
//! that queued while the last one was in flight: it computes the next slot from its state and
//! answers only once a majority accepted that slot. Its accepts double as heartbeats. Reads take a
//! round too, which proves the leader was not deposed before the read began. A round that stalls
//! makes the leader step down, so it never builds on a value that might not survive.
//!
//! `stale-read` and `lost-ack` break one of these rules each; `duplicate-retry` and
//! `silent-retry` run this protocol unchanged (the latter deduplicating retried updates by
//! their token) and put their bug in the client library.

use super::super::Rng;
use super::Service;
use super::data::{Applied, ClientOp, Snapshot, apply, debit_only};
use super::mail::Mail;
use super::msg::{Addr, Msg, Outcome, Slot};
use std::collections::VecDeque;

/// Heartbeat and timer period of a node, in microseconds.
pub(super) const TICK: i64 = 10_000;
/// A follower waits this long, plus up to [`ELECTION_SPREAD`], without hearing from a leader
/// before it campaigns.
const ELECTION_MIN: i64 = 50_000;
const ELECTION_SPREAD: u64 = 50_000;
/// A leader whose round has not reached a majority within this time steps down.
const ROUND_TIMEOUT: i64 = 30_000;

/// The newest request id each client sent that a node has received, kept with its durable
/// state. The network may deliver a message twice, and a request handled twice would be applied
/// twice, or refused (a certain `:fail`) while its other copy takes effect. Request ids of a
/// client only grow, and a client sends the next one only after it is done with the last, so a
/// request whose id is not above the newest one received is a copy (or an attempt its client
/// has given up on): dropping it unanswered keeps every node's handling of a request
/// exactly-once, and every reply true.
#[derive(Clone, Debug, Default)]
pub(super) struct RequestLog(Vec<u64>);

impl RequestLog {
    /// Whether request `req` of `client` is new (and now remembered as received).
    pub(super) fn first_copy(&mut self, client: u32, req: u64) -> bool {
        let client = client as usize;
        if self.0.len() <= client {
            self.0.resize(client + 1, 0);
        }
        let new = req > self.0[client];
        if new {
            self.0[client] = req;
        }
        new
    }
}

/// A client request a node holds.
#[derive(Clone, Copy, Debug)]
pub(super) struct Pending {
    pub(super) client: u32,
    pub(super) req: u64,
    pub(super) token: u64,
    pub(super) op: ClientOp,
}

impl Pending {
    /// The request, as a message to pass on.
    pub(super) fn forward(self) -> Msg {
        let Pending { client, req, token, op } = self;
        Msg::Request { client, req, token, op, forwarded: true }
    }
}

#[derive(Clone, Debug)]
enum Role {
    Follower,
    Candidate { term: u64, votes: u32, best: Slot },
    Leader { term: u64 },
}

/// The ops a leader is replicating, as one slot.
#[derive(Clone, Debug)]
struct Round {
    id: u64,
    acks: u32,
    /// Each op with what its client is told once a majority accepted the slot.
    replies: Vec<(Pending, Outcome)>,
    slot: Slot,
    started: i64,
}

/// One replica. Its methods take the current time and push the messages it sends to `out`.
#[derive(Clone, Debug)]
pub(super) struct Node {
    id: usize,
    nodes: usize,
    service: Service,
    // Durable.
    promised: u64,
    accepted: Slot,
    requests: RequestLog,
    // Volatile.
    role: Role,
    leader_hint: Option<usize>,
    last_heard: i64,
    patience: i64,
    /// When it last sent its followers something as leader (an accept or a heartbeat).
    last_sent: i64,
    queue: VecDeque<Pending>,
    round: Option<Round>,
    /// The last committed round's buffer of replies, for the next round.
    spare: Vec<(Pending, Outcome)>,
    state: Slot,
    next_round: u64,
    /// The time of the event being handled, set by [`Node::tick`] and [`Node::receive`].
    now: i64,
}

impl Node {
    /// A fresh follower that has never heard of any leader.
    pub(super) fn new(id: usize, nodes: usize, service: Service, now: i64, rng: &mut Rng) -> Node {
        let mut node = Node {
            id,
            nodes,
            service,
            promised: 0,
            accepted: Slot::default(),
            requests: RequestLog::default(),
            role: Role::Follower,
            leader_hint: None,
            last_heard: now,
            patience: 0,
            last_sent: now,
            queue: VecDeque::new(),
            round: None,
            spare: Vec::new(),
            state: Slot::default(),
            next_round: 0,
            now,
        };
        node.hear(now, rng);
        node
    }

    /// Comes back after a crash with only its durable state.
    pub(super) fn restart(&mut self, now: i64, rng: &mut Rng) {
        *self = Node {
            promised: self.promised,
            accepted: self.accepted.clone(),
            requests: std::mem::take(&mut self.requests),
            ..Node::new(self.id, self.nodes, self.service, now, rng)
        };
    }

    /// The state it holds (its latest accepted one).
    #[cfg(test)]
    pub(super) fn data(&self) -> &super::data::Data {
        &self.accepted.data
    }

    /// The term it leads, if it believes it is the leader.
    pub(super) fn leading(&self) -> Option<u64> {
        match self.role {
            Role::Leader { term } => Some(term),
            _ => None,
        }
    }

    fn majority(&self) -> u32 {
        self.nodes as u32 / 2 + 1
    }

    fn broadcast(&self, msg: Msg, out: &mut Mail) {
        out.extend((0..self.nodes).filter(|&n| n != self.id).map(|n| (Addr::Node(n), msg.clone())));
    }

    /// Sends a leader's message to every other node. Any such message tells the followers the
    /// leader is alive, so the next heartbeat is due a whole [`TICK`] after it.
    fn broadcast_as_leader(&mut self, msg: Msg, out: &mut Mail) {
        self.last_sent = self.now;
        self.broadcast(msg, out);
    }

    pub(super) fn reply(p: &Pending, outcome: Outcome, out: &mut Mail) {
        out.push((Addr::Client(p.client as usize), Msg::Reply { req: p.req, outcome }));
    }

    /// Resets the election timer, with a random patience so that candidates rarely collide.
    fn hear(&mut self, now: i64, rng: &mut Rng) {
        self.last_heard = now;
        self.patience = ELECTION_MIN + rng.below(ELECTION_SPREAD) as i64;
    }

    /// When its timer must next go off: every [`TICK`] while it leads; otherwise when its
    /// patience runs out, as far as it knows now (hearing from a leader pushes that back, and
    /// the timer, going off early, just sets itself again).
    pub(super) fn next_tick(&self, now: i64) -> i64 {
        match self.role {
            Role::Leader { .. } => now + TICK,
            _ => (self.last_heard + self.patience + 1).max(now + 1),
        }
    }

    /// The timer: heartbeats (unless accepts went out since the last tick: they say the same)
    /// and stall detection for a leader; an election once its patience ran out otherwise.
    pub(super) fn tick(&mut self, now: i64, rng: &mut Rng, out: &mut Mail) {
        self.now = now;
        match self.role {
            Role::Leader { term } => {
                if self.round.as_ref().is_some_and(|r| now - r.started > ROUND_TIMEOUT) {
                    self.step_down(out);
                } else if now - self.last_sent >= TICK {
                    self.broadcast_as_leader(Msg::Heartbeat { term }, out);
                }
            }
            _ if now - self.last_heard > self.patience => self.campaign(now, rng, out),
            _ => {}
        }
    }

    fn campaign(&mut self, now: i64, rng: &mut Rng, out: &mut Mail) {
        let term = self.promised + 1;
        self.promised = term;
        self.role = Role::Candidate { term, votes: 1 << self.id, best: self.accepted.clone() };
        self.leader_hint = None;
        self.hear(now, rng); // a failed election is retried after another patience
        self.broadcast(Msg::Prepare { term }, out);
        self.maybe_win(out);
    }

    /// Stops leading or campaigning. Queued ops were never started, so their failure is certain;
    /// the op of a stalled round may still take effect, so its client is told nothing.
    fn step_down(&mut self, out: &mut Mail) {
        self.role = Role::Follower;
        self.round = None;
        for p in self.queue.drain(..) {
            Self::reply(&p, Outcome::Fail, out);
        }
    }

    /// Handles one message from `from`.
    pub(super) fn receive(&mut self, from: Addr, msg: Msg, now: i64, rng: &mut Rng, out: &mut Mail) {
        self.now = now;
        if let Msg::Request { client, req, token, op, forwarded } = msg {
            if self.requests.first_copy(client, req) {
                self.request(Pending { client, req, token, op }, forwarded, out);
            }
            return;
        }
        let Addr::Node(peer) = from else { return };
        match msg {
            Msg::Request { .. } | Msg::Reply { .. } => {}
            Msg::Put { .. } | Msg::PutAck { .. } | Msg::Get { .. } | Msg::Got { .. } => {}
            Msg::Prepare { term } => self.prepare(peer, term, now, rng, out),
            Msg::Promise { term, accepted } => self.promise(peer, term, accepted, out),
            Msg::Accept { term, round, slot } => {
                if self.heard_leader(peer, term, now, rng, out) {
                    if slot.version() > self.accepted.version() {
                        self.accepted = slot;
                    }
                    out.push((from, Msg::Accepted { term, round }));
                }
            }
            Msg::Accepted { term, round } => self.ack(peer, term, round, out),
            Msg::Nack { term } => {
                if term > self.promised {
                    self.promised = term;
                    self.step_down(out);
                }
            }
            Msg::Heartbeat { term } => {
                self.heard_leader(peer, term, now, rng, out);
            }
        }
    }

    fn prepare(&mut self, peer: usize, term: u64, now: i64, rng: &mut Rng, out: &mut Mail) {
        if term > self.promised {
            self.promised = term;
            self.step_down(out);
            self.leader_hint = None;
            self.hear(now, rng);
            out.push((Addr::Node(peer), Msg::Promise { term, accepted: self.accepted.clone() }));
        } else {
            out.push((Addr::Node(peer), Msg::Nack { term: self.promised }));
        }
    }

    fn promise(&mut self, peer: usize, term: u64, accepted: Slot, out: &mut Mail) {
        if let Role::Candidate { term: t, votes, best } = &mut self.role
            && *t == term
        {
            *votes |= 1 << peer;
            if accepted.version() > best.version() {
                *best = accepted;
            }
            self.maybe_win(out);
        }
    }

    fn maybe_win(&mut self, out: &mut Mail) {
        if let Role::Candidate { term, votes, best } = &self.role
            && votes.count_ones() >= self.majority()
        {
            let term = *term;
            self.state = best.clone();
            self.role = Role::Leader { term };
            self.leader_hint = Some(self.id);
            self.broadcast_as_leader(Msg::Heartbeat { term }, out);
        }
    }

    /// A heartbeat or accept from the leader of `term`: follow it if the term is current,
    /// else tell it that it was deposed. Returns whether it is followed.
    fn heard_leader(&mut self, peer: usize, term: u64, now: i64, rng: &mut Rng, out: &mut Mail) -> bool {
        if term < self.promised {
            out.push((Addr::Node(peer), Msg::Nack { term: self.promised }));
            return false;
        }
        self.promised = term;
        if self.leading() != Some(term) {
            self.step_down(out);
        }
        self.leader_hint = Some(peer);
        self.hear(now, rng);
        true
    }

    fn ack(&mut self, peer: usize, term: u64, round: u64, out: &mut Mail) {
        if self.leading() != Some(term) {
            return;
        }
        let Some(r) = &mut self.round else { return };
        if r.id == round {
            r.acks |= 1 << peer;
            self.maybe_commit(out);
        }
    }

    fn maybe_commit(&mut self, out: &mut Mail) {
        if self.round.as_ref().is_some_and(|r| r.acks.count_ones() >= self.majority())
            && let Some(mut r) = self.round.take()
        {
            self.state = r.slot;
            for (p, outcome) in r.replies.drain(..) {
                Self::reply(&p, outcome, out);
            }
            self.spare = r.replies;
            self.pump(out);
        }
    }

    fn request(&mut self, p: Pending, forwarded: bool, out: &mut Mail) {
        if self.service == Service::StaleRead && p.op.is_read() {
            // The bug: answer from the local copy, whatever this node's role and however old.
            let local = if self.leading().is_some() { &self.state } else { &self.accepted };
            return Self::reply(&p, Outcome::Ok(local.data.clone()), out);
        }
        match (&self.role, self.leader_hint) {
            (Role::Leader { .. }, _) => {
                self.queue.push_back(p);
                self.pump(out);
            }
            (_, Some(leader)) if leader != self.id && !forwarded => {
                out.push((Addr::Node(leader), p.forward()))
            }
            // Refused before anything was done: a certain failure.
            _ => Self::reply(&p, Outcome::Fail, out),
        }
    }

    /// Starts queued ops while no round is in flight.
    fn pump(&mut self, out: &mut Mail) {
        while self.round.is_none() && !self.queue.is_empty() {
            if self.service == Service::LostAck {
                let p = self.queue.pop_front().expect("the queue is not empty");
                self.answer_at_once(p, out);
            } else {
                self.start_round(out);
            }
        }
    }

    /// Starts a round for every queued op, as a leader batches what arrived while its last
    /// round was in flight: applied one after another to its state, they are replicated as one
    /// slot, and each client is answered once a majority accepted it. An op refused is told so
    /// at once: it certainly took no effect.
    fn start_round(&mut self, out: &mut Mail) {
        let mut queued = std::mem::take(&mut self.queue);
        let Role::Leader { term } = self.role else { return };
        let dedup = self.service == Service::SilentRetry;
        let mut replies = std::mem::take(&mut self.spare);
        let mut data = self.state.data.clone();
        for p in queued.drain(..) {
            match apply(&data, p.op, (p.client as usize, p.token), dedup) {
                Applied::Changed(next) => data = Snapshot::new(next),
                // Done by an earlier attempt: acknowledged again without redoing it.
                Applied::Unchanged | Applied::Duplicate => {}
                Applied::Refused => {
                    Self::reply(&p, Outcome::Fail, out);
                    continue;
                }
            }
            replies.push((p, Outcome::Ok(data.clone())));
        }
        self.queue = queued;
        if replies.is_empty() {
            self.spare = replies;
            return;
        }
        let slot = Slot { term, seq: self.state.seq + 1, data };
        self.accepted = slot.clone(); // the leader's own acceptance
        self.next_round += 1;
        let id = self.next_round;
        self.broadcast_as_leader(Msg::Accept { term, round: id, slot: slot.clone() }, out);
        self.round = Some(Round { id, acks: 1 << self.id, replies, slot, started: self.now });
        self.maybe_commit(out);
    }

    /// `lost-ack`'s bug: an asynchronous primary. It answers at once from its own state and
    /// replicates updates in the background, unchecked, so a deposed primary goes on
    /// acknowledging updates that the next leader never sees. It ships each account a bank
    /// transfer changes as a change of its own (the debit, then the whole transfer), so a
    /// follower that missed the second holds half a transfer, and serves it once elected.
    fn answer_at_once(&mut self, p: Pending, out: &mut Mail) {
        let Role::Leader { term } = self.role else { return };
        let data = match apply(&self.state.data, p.op, (p.client as usize, p.token), false) {
            Applied::Unchanged | Applied::Duplicate => self.state.data.clone(),
            Applied::Changed(next) => Snapshot::new(next),
            Applied::Refused => return Self::reply(&p, Outcome::Fail, out),
        };
        if !p.op.is_read() {
            if let Some(half) = debit_only(&self.state.data, p.op) {
                self.ship(Slot { term, seq: self.state.seq + 1, data: Snapshot::new(half) }, out);
            }
            self.ship(Slot { term, seq: self.state.seq + 1, data: data.clone() }, out);
        }
        Self::reply(&p, Outcome::Ok(data), out);
    }

    /// `lost-ack`'s primary takes `slot` as its state and sends it to its followers, unchecked.
    fn ship(&mut self, slot: Slot, out: &mut Mail) {
        let Role::Leader { term } = self.role else { return };
        (self.state, self.accepted) = (slot.clone(), slot.clone());
        self.broadcast_as_leader(Msg::Accept { term, round: 0, slot }, out);
    }
}

#[cfg(test)]
mod tests {
    use super::{
        Addr, ClientOp, ELECTION_MIN, ELECTION_SPREAD, Mail, Msg, Node, Outcome, Rng, Service, Slot, TICK,
    };

    /// A one-node cluster elects itself at its first tick after its patience.
    fn leader() -> (Node, Rng) {
        let mut rng = Rng::new(1);
        let mut node = Node::new(0, 1, Service::Correct, 0, &mut rng);
        node.tick(1_000_000, &mut rng, &mut Mail::default());
        assert!(node.leading().is_some());
        (node, rng)
    }

    fn request(req: u64, op: ClientOp) -> Msg {
        Msg::Request { client: 2, req, token: req, op, forwarded: false }
    }

    /// Node 0 of three, elected at 1 s with node 1's promise; and its term.
    fn leader_of_three() -> (Node, Rng, u64) {
        let mut rng = Rng::new(1);
        let mut node = Node::new(0, 3, Service::Correct, 0, &mut rng);
        node.tick(1_000_000, &mut rng, &mut Mail::default());
        let term = node.promised;
        let promise = Msg::Promise { term, accepted: Slot::default() };
        node.receive(Addr::Node(1), promise, 1_000_100, &mut rng, &mut Mail::default());
        assert_eq!(node.leading(), Some(term));
        (node, rng, term)
    }

    fn count(out: &Mail, what: fn(&Msg) -> bool) -> usize {
        out.sent().into_iter().filter(|(_, m)| what(m)).count()
    }

    /// Ops that arrive while a round is in flight go out together as the next round, and each
    /// is answered once a majority accepted it.
    #[test]
    fn a_leader_batches_what_queued_during_a_round() {
        let (mut node, mut rng, term) = leader_of_three();
        let (mut out, t) = (Mail::default(), 2_000_000);
        for client in 2..5 {
            let msg = Msg::Request { client, req: 1, token: 1, op: ClientOp::Incr(1), forwarded: false };
            node.receive(Addr::Client(client as usize), msg, t, &mut rng, &mut out);
        }
        let is_accept = |m: &Msg| matches!(m, Msg::Accept { .. });
        let is_reply = |m: &Msg| matches!(m, Msg::Reply { .. });
        assert_eq!((count(&out, is_accept), count(&out, is_reply)), (2, 0), "one round, to both followers");
        let first = node.round.as_ref().map(|r| r.id).unwrap();
        node.receive(Addr::Node(1), Msg::Accepted { term, round: first }, t, &mut rng, &mut out);
        assert_eq!(
            (count(&out, is_accept), count(&out, is_reply)),
            (4, 1),
            "the two queued ops, as one round"
        );
        let second = node.round.as_ref().map(|r| r.id).unwrap();
        node.receive(Addr::Node(2), Msg::Accepted { term, round: second }, t, &mut rng, &mut out);
        assert_eq!(count(&out, is_reply), 3);
        assert_eq!(node.state.data.count, 3);
    }

    /// Accepts tell the followers their leader lives: no heartbeat goes out until a whole
    /// period passed without one.
    #[test]
    fn a_busy_leader_sends_no_heartbeats() {
        let (mut node, mut rng, _) = leader_of_three();
        let (mut out, t) = (Mail::default(), 2_000_000);
        node.receive(Addr::Client(2), request(1, ClientOp::Incr(1)), t, &mut rng, &mut out);
        let is_heartbeat = |m: &Msg| matches!(m, Msg::Heartbeat { .. });
        node.tick(t + TICK / 2, &mut rng, &mut out);
        assert_eq!(count(&out, is_heartbeat), 0);
        node.tick(t + TICK, &mut rng, &mut out);
        assert_eq!(count(&out, is_heartbeat), 2);
    }

    /// A leader's timer goes off every tick; a follower's only once its patience ran out, and
    /// hearing from its leader puts that off.
    #[test]
    fn timers_go_off_when_they_are_needed() {
        let mut rng = Rng::new(1);
        let mut node = Node::new(0, 3, Service::Correct, 0, &mut rng);
        let due = node.next_tick(0);
        assert!((ELECTION_MIN + 1..=ELECTION_MIN + ELECTION_SPREAD as i64 + 1).contains(&due), "{due}");
        let mut out = Mail::default();
        node.receive(Addr::Node(1), Msg::Heartbeat { term: 1 }, 30_000, &mut rng, &mut out);
        assert!(node.next_tick(due) > 30_000 + ELECTION_MIN, "put off by the heartbeat");
        node.tick(due, &mut rng, &mut out);
        assert_eq!(node.promised, 1, "no election yet");
        node.tick(node.next_tick(due), &mut rng, &mut out);
        assert_eq!(node.promised, 2, "patience ran out: it campaigns");
        let (leader, _, _) = leader_of_three();
        assert_eq!(leader.next_tick(5_000_000), 5_000_000 + TICK);
    }

    /// Every message is stored once and moved out when delivered: they stay small.
    #[test]
    fn messages_stay_small() {
        assert!(std::mem::size_of::<Msg>() <= 64, "{}", std::mem::size_of::<Msg>());
    }

    /// The network may deliver a request twice: the copy is neither applied nor answered.
    #[test]
    fn a_duplicated_request_is_applied_once() {
        let (mut node, mut rng) = leader();
        let mut out = Mail::default();
        for _ in 0..2 {
            node.receive(Addr::Client(2), request(1, ClientOp::Incr(3)), 2_000_000, &mut rng, &mut out);
        }
        let sent = out.sent();
        assert_eq!(sent.len(), 1, "{sent:?}");
        assert!(
            matches!(sent[0], (Addr::Client(2), Msg::Reply { req: 1, outcome: Outcome::Ok(s) }) if s.count == 3)
        );
        assert_eq!(node.state.data.count, 3);
        // A copy of an older request, arriving after a newer one, is dropped too.
        out = Mail::default();
        node.receive(Addr::Client(2), request(2, ClientOp::Incr(1)), 2_000_000, &mut rng, &mut out);
        node.receive(Addr::Client(2), request(1, ClientOp::Incr(3)), 2_000_000, &mut rng, &mut out);
        assert_eq!((out.sent().len(), node.state.data.count), (1, 4));
    }

    /// A refused cas is a certain failure only if no copy of it can take effect later.
    #[test]
    fn a_duplicated_refused_cas_stays_refused() {
        let (mut node, mut rng) = leader();
        let mut out = Mail::default();
        node.receive(Addr::Client(2), request(1, ClientOp::Cas(5, 6)), 2_000_000, &mut rng, &mut out);
        let sent = out.sent();
        assert!(matches!(sent[..], [(_, Msg::Reply { outcome: Outcome::Fail, .. })]), "{sent:?}");
        node.receive(
            Addr::Client(3),
            Msg::Request { client: 3, req: 1, token: 1, op: ClientOp::Write(5), forwarded: false },
            2_000_000,
            &mut rng,
            &mut out,
        );
        node.receive(Addr::Client(2), request(1, ClientOp::Cas(5, 6)), 2_000_000, &mut rng, &mut out);
        assert_eq!(node.state.data.reg, Some(5), "the copy of the refused cas did not apply");
        assert_eq!(out.sent().len(), 2);
    }
}
