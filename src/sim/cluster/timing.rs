//! Timing of the simulation, in microseconds: the network's delays and losses, the clients'
//! timeouts, backoffs and pauses, and the nemesis's rhythm and clock skews.

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
