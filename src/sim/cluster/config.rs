//! What to simulate: the service's behaviour ([`Service`]), what its clients do ([`Workload`]),
//! the faults to inject ([`Faults`]), and the whole configuration ([`ClusterConfig`]).

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
    pub(super) fn retries(self) -> bool {
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
    /// Jepsen's bank: transfers between a few accounts holding a fixed total, and reads of
    /// every balance.
    Bank,
    /// Jepsen's set-full: adds of unique elements to a table that keeps what it is given, and
    /// reads of the whole table.
    SetFull,
    /// Jepsen's long fork: transactions that each write one fresh key, and transactions that
    /// read a group of keys.
    LongFork,
}

impl Workload {
    /// The names `--workload` accepts, in the order of [`Workload::ALL`].
    pub const NAMES: [&'static str; 8] =
        ["register", "cas-register", "set", "counter", "list-append", "bank", "set-full", "long-fork"];

    /// Every workload.
    pub const ALL: [Workload; 8] = [
        Workload::Register,
        Workload::CasRegister,
        Workload::Set,
        Workload::Counter,
        Workload::ListAppend,
        Workload::Bank,
        Workload::SetFull,
        Workload::LongFork,
    ];

    /// The workload called `name`, if any.
    pub fn parse(name: &str) -> Option<Workload> {
        Workload::NAMES.iter().position(|n| *n == name).map(|i| Workload::ALL[i])
    }

    /// Its name, which is also the name of the model that checks its histories.
    pub fn name(self) -> &'static str {
        Workload::NAMES[Workload::ALL.iter().position(|w| *w == self).unwrap_or(0)]
    }

    /// Whether its histories are judged by one of Jepsen's counting workload checkers (bank,
    /// set-full, long-fork), which `labrys check` does not guess (give `--model`) and which have
    /// no consistency levels, rather than by a model's linearizability search or Elle's
    /// dependency graphs.
    pub fn jepsen_checker(self) -> bool {
        matches!(self, Workload::Bank | Workload::SetFull | Workload::LongFork)
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

    pub(super) fn kinds(self) -> Vec<FaultKind> {
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

/// One kind of fault, as the nemesis takes turns with them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum FaultKind {
    Partition,
    Kill,
    Loss,
    Clock,
}
