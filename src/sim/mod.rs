//! Histories with known truth, written by the project itself: for tests, benchmarks and
//! examples.
//!
//! [`synthetic`] writes large linearizable register histories fast, by construction: every op
//! gets a linearization point inside its interval and its result is computed by applying the
//! ops in that order, streaming. [`cluster`] simulates a small replicated service (register,
//! cas-register, set, counter or list-append workloads; a correct service and five buggy ones)
//! under network partitions, crashes, message loss and clock skew, and records what its clients
//! saw, Jepsen-style. [`list_append`] writes large strict serializable transactional histories.
//! [`lagging`] writes large register histories that are sequentially consistent but not
//! linearizable (followers serving stale reads). [`log`] writes Kafka-style log histories from a
//! correct log service or one with a bug (lost records on a leader change, duplicates after a
//! retry, a stuck consumer whose lag is reported as zero). [`inject`] puts one known stale read
//! into a generated history. [`weak`] writes sessions of transactions in the research formats
//! (Plume, AWDIT, dbcop), serializable or with one weak-isolation fault.

pub mod cluster;
pub mod inject;
pub mod lagging;
pub mod list_append;
pub mod log;
pub mod synthetic;
pub mod weak;

/// Appends one Jepsen EDN event line (with a trailing newline) to `line`: `time` is in
/// nanoseconds, `process` is a number or `:nemesis`, `kind` and `f` are keyword names without
/// the colon, and `value` is already EDN text. Shared by the generators so that they all write
/// the same shape.
pub(crate) fn edn_event_line(
    line: &mut String,
    index: usize,
    time: i64,
    kind: &str,
    process: &dyn std::fmt::Display,
    f: &str,
    value: &str,
) {
    use std::fmt::Write as _;
    let _ = writeln!(
        line,
        "{{:index {index}, :time {time}, :type :{kind}, :process {process}, :f :{f}, :value {value}}}"
    );
}

/// Client threads issuing ops back to back, as Jepsen's do: each op gets a random interval
/// after its thread's previous one, and a random point inside it where it takes effect.
#[derive(Clone, Debug)]
pub(crate) struct Clients {
    clock: Vec<i64>,
    process: Vec<u32>,
}

/// One op's slot: which thread runs it (as which process), and when.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Slot {
    /// The thread (index into the clients).
    pub thread: usize,
    /// The process the thread runs as.
    pub process: u32,
    /// Invocation time.
    pub invoke: i64,
    /// Completion time.
    pub complete: i64,
    /// When the op takes effect, inside its interval.
    pub point: i64,
}

impl Clients {
    /// `threads` clients (at least one), processes `0..threads`.
    pub fn new(threads: usize) -> Clients {
        let threads = threads.max(1);
        Clients { clock: vec![0; threads], process: (0..threads as u32).collect() }
    }

    /// The next op, on a random thread.
    pub fn next(&mut self, rng: &mut Rng) -> Slot {
        let thread = rng.below(self.clock.len() as u64) as usize;
        let invoke = self.clock[thread] + 1 + rng.below(50) as i64;
        let complete = invoke + 1 + rng.below(200) as i64;
        let point = invoke + rng.below((complete - invoke) as u64 + 1) as i64;
        self.clock[thread] = complete;
        Slot { thread, process: self.process[thread], invoke, complete, point }
    }

    /// After an indeterminate op, a thread continues as a new process, as Jepsen's do.
    pub fn crashed(&mut self, thread: usize) {
        self.process[thread] += self.clock.len() as u32;
    }
}

/// A small deterministic PRNG (splitmix64): the same seed gives the same history everywhere.
// Public only for the integration tests, whose generators draw on the same sequence; the
// simulators take a seed.
#[doc(hidden)]
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p && p > 0.0
    }
}

/// The decimal digits of `n`, written into the end of `buf`: the generators' hot loops format
/// numbers by hand, as `write!` would cost more than the rest of a line.
pub(crate) fn decimal(buf: &mut [u8; 20], mut n: u64) -> &str {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    // ASCII digits only, so always UTF-8.
    std::str::from_utf8(&buf[i..]).unwrap_or_default()
}
