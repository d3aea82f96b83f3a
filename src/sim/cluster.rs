//! A deterministic simulation of a small replicated service under faults, recorded as a Jepsen
//! history.
//!
//! Everything runs on one thread from one seeded `Rng`, as a discrete-event simulation in
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

mod client;
mod config;
mod data;
mod history;
mod lww;
mod mail;
mod msg;
mod nemesis;
mod node;
mod queue;
mod sim;
mod timing;
mod writer;

#[cfg(test)]
mod tests;

pub use self::config::{ClusterConfig, Faults, Service, Workload};
pub use self::writer::{history_string, write_edn, write_json};
