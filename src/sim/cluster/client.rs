//! The clients and their retries: each client thread picks ops for the workload, sends them to
//! its node and records what it saw as Jepsen does; the retrying services' client libraries
//! resend timed-out ops after a backoff, with their bugs.

use super::config::{Service, Workload};
use super::data::{ACCOUNTS, ClientOp, FORK_GROUP, Mop, Snapshot};
use super::history::{F, Kind, Value, Who};
use super::msg::{Addr, Msg, Outcome};
use super::sim::{Ev, Sim};
use super::timing;

/// Keys of the list-append workload in use at a time…
const TXN_KEYS: u32 = 3;
/// …all retired together after this many appends, for as many fresh ones: lists stay short (a
/// read shows the whole list), as Jepsen's list-append workload keeps them, and the keys in use
/// are always the newest, which the store relies on when it forgets old lists.
const TXN_GENERATION_APPENDS: u32 = 300;

/// A client thread.
#[derive(Clone, Debug)]
pub(super) struct Client {
    pub(super) process: usize,
    pub(super) home: usize,
    /// The last attempt's request id (each attempt has its own).
    pub(super) req: u64,
    /// The last op's token (the same over its attempts).
    pub(super) token: u64,
    pub(super) open: Option<Open>,
    /// The last register value it read or wrote, for the next cas's expected value.
    pub(super) last_seen: Option<i64>,
}

/// A client's op in flight.
#[derive(Clone, Copy, Debug)]
pub(super) struct Open {
    pub(super) op: ClientOp,
    /// Attempts made so far (1 without retries).
    pub(super) attempt: u32,
    /// Where its invocation is in the history, so that a silent retry can move it.
    pub(super) invoke: usize,
}

/// How ops are written in the history: `:f` and the value, from what the op saw (`None` for
/// an invocation, or an op whose outcome is unknown or failed).
fn op_value(op: ClientOp, seen: Option<&Snapshot>) -> (F, Value) {
    match op {
        // A completed read is rendered by `Value::read`, which knows the workload.
        ClientOp::Read => (F::Read, Value::Nil),
        ClientOp::Write(v) => (F::Write, Value::Int(v)),
        ClientOp::Cas(old, new) => (F::Cas, Value::Pair(old, new)),
        ClientOp::Insert(v) | ClientOp::Incr(v) | ClientOp::AddRow(v) => (F::Add, Value::Int(v)),
        ClientOp::Txn { mops, len } => (F::Txn, Value::txn(mops, len, seen)),
        ClientOp::Transfer { from, to, amount } => (F::Transfer, Value::Transfer { from, to, amount }),
        ClientOp::WriteKey(key) => (F::Txn, Value::write_key(key)),
        ClientOp::ReadGroup(first) => (F::Txn, Value::group(first, seen)),
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
            Workload::Bank if self.rng.chance(0.5) => self.transfer_op(),
            Workload::SetFull if self.rng.chance(0.6) => ClientOp::AddRow(self.unique()),
            Workload::Set | Workload::Counter | Workload::Bank | Workload::SetFull => ClientOp::Read,
            Workload::ListAppend => self.txn_op(),
            Workload::LongFork => self.fork_op(),
        }
    }

    /// A transfer of 1 to 5 between two distinct accounts, as Jepsen's bank generator draws
    /// them (its `:max-transfer` is 5).
    fn transfer_op(&mut self) -> ClientOp {
        let accounts = ACCOUNTS as u64;
        let from = self.rng.below(accounts);
        let to = (from + 1 + self.rng.below(accounts - 1)) % accounts;
        ClientOp::Transfer { from: from as u8, to: to as u8, amount: 1 + self.rng.below(5) as i64 }
    }

    /// As Jepsen's long-fork generator: half the ops write the next fresh key (keys count up
    /// from 0, each written once); the others read the group of one of the last few keys
    /// written, where writes are still landing and replicas that disagree show it.
    fn fork_op(&mut self) -> ClientOp {
        if self.rng.chance(0.5) {
            return ClientOp::WriteKey((self.unique() - 1) as u32);
        }
        let back = 1 + self.rng.below(u64::from(FORK_GROUP)) as i64;
        let key = (self.next_value - back).max(0) as u32;
        ClientOp::ReadGroup(key - key % FORK_GROUP)
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

    pub(super) fn client_start(&mut self, client: usize) {
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

    pub(super) fn client_reply(&mut self, client: usize, req: u64, outcome: Outcome) {
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

    pub(super) fn client_timeout(&mut self, client: usize, req: u64) {
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
    pub(super) fn resend(&mut self, client: usize) {
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
