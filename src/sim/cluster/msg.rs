//! The messages of the simulated service, between its nodes and its clients, and the addresses
//! they are sent to: the types both the nodes (`node`, `lww`) and the network (`mail`) use, in a
//! leaf module of their own so that those depend on it and not on each other.

use super::data::{ClientOp, Snapshot};

/// The replicated state with its version.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Slot {
    pub(super) term: u64,
    pub(super) seq: u64,
    pub(super) data: Snapshot,
}

impl Slot {
    pub(super) fn version(&self) -> (u64, u64) {
        (self.term, self.seq)
    }
}

/// What a client is told: done (with the state the op saw, from which reads are rendered), or
/// certainly not done.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Outcome {
    Ok(Snapshot),
    Fail,
}

/// A stamp of the last-write-wins store: the writer's wall clock, then its node id.
pub(super) type Stamp = (i64, usize);

/// Who a message is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Addr {
    Node(usize),
    Client(usize),
}

impl Addr {
    /// The address in 32 bits, as events carry it (a smaller event is cheaper to queue).
    pub(super) fn pack(self) -> u32 {
        match self {
            Addr::Node(n) => n as u32,
            Addr::Client(c) => c as u32 | CLIENT_BIT,
        }
    }

    /// The address [`Addr::pack`] packed.
    pub(super) fn unpack(packed: u32) -> Addr {
        match packed & CLIENT_BIT {
            0 => Addr::Node(packed as usize),
            _ => Addr::Client((packed & !CLIENT_BIT) as usize),
        }
    }
}

/// Marks a packed client address.
const CLIENT_BIT: u32 = 1 << 31;

/// The messages of the protocols, and the client requests and replies.
#[derive(Clone, Debug)]
pub(super) enum Msg {
    /// A client op: `req` names this attempt, `token` the logical op (the same over retries);
    /// `forwarded` once a follower passed it on to the leader it knows.
    Request {
        /// (32 bits, beside the tag: the largest message, and so every message, is smaller.)
        client: u32,
        req: u64,
        token: u64,
        op: ClientOp,
        forwarded: bool,
    },
    Reply {
        req: u64,
        outcome: Outcome,
    },
    Prepare {
        term: u64,
    },
    Promise {
        term: u64,
        accepted: Slot,
    },
    Accept {
        term: u64,
        round: u64,
        slot: Slot,
    },
    Accepted {
        term: u64,
        round: u64,
    },
    /// "I promised a higher term": the sender of a stale message should step down.
    Nack {
        term: u64,
    },
    Heartbeat {
        term: u64,
    },
    /// Last-write-wins: store `value` if `stamp` is newer than what the replica has.
    Put {
        id: u64,
        stamp: Stamp,
        value: Option<i64>,
    },
    PutAck {
        id: u64,
    },
    /// Last-write-wins: what do you have?
    Get {
        id: u64,
    },
    Got {
        id: u64,
        stamp: Stamp,
        value: Option<i64>,
    },
}
