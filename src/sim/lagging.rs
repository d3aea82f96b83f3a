//! Large register histories that are sequentially consistent but not linearizable, by
//! construction: the stale reads of followers that lag behind the leader.
//!
//! Ops are first laid out in one order, the order the (imaginary) leader applies them in; each
//! read returns what its key held at that point, so that order is a witness of sequential
//! consistency. Then each client thread is given a lag: its ops are shown happening that many
//! positions later in real time than the leader applied them. A lagging thread's reads then
//! complete after writes that, in real time, came before them — stale reads, which no
//! real-time order explains. Every thread's own ops keep their order, so process order still
//! agrees with the leader's order and the history stays sequentially consistent.
//!
//! Written values are unique per key (1, 2, 3, … for each key), as Jepsen's register workloads
//! with unique values have them. Crashed writes (`:info`) took effect or not, at random; the
//! thread then continues as a new process.

use super::Rng;
use std::io::{self, Write};

/// What to generate.
#[derive(Clone, Debug)]
pub struct LaggingConfig {
    /// Number of ops.
    pub ops: usize,
    /// Number of keys (at least one; each op's value is a `[k v]` tuple).
    pub keys: usize,
    /// Client threads.
    pub threads: usize,
    /// Threads, among them, that lag (followers).
    pub lagging_threads: usize,
    /// The most positions of the leader's order a follower lags by.
    pub max_lag: usize,
    /// Fraction of writes that crash (`:info`).
    pub crash_rate: f64,
    /// PRNG seed.
    pub seed: u64,
}

impl Default for LaggingConfig {
    fn default() -> Self {
        LaggingConfig {
            ops: 1000,
            keys: 10,
            threads: 10,
            lagging_threads: 5,
            max_lag: 50,
            crash_rate: 0.0,
            seed: 0,
        }
    }
}

struct LagOp {
    process: u32,
    key: u32,
    write: bool,
    /// Written or read value; 0 is the initial `nil`.
    value: u64,
    crashed: bool,
    time: i64,
}

/// The ops in the leader's order, with their values and their real times.
fn make_ops(c: &LaggingConfig, rng: &mut Rng) -> Vec<LagOp> {
    let threads = c.threads.max(1);
    let keys = c.keys.max(1);
    let lag: Vec<usize> = (0..threads)
        .map(|t| if t < c.lagging_threads { 1 + rng.below(c.max_lag.max(1) as u64) as usize } else { 0 })
        .collect();
    let mut process: Vec<u32> = (0..threads as u32).collect();
    let mut current = vec![0u64; keys];
    let mut fresh = vec![0u64; keys];
    let mut ops = Vec::with_capacity(c.ops);
    for i in 0..c.ops {
        let thread = rng.below(threads as u64) as usize;
        let key = rng.below(keys as u64) as usize;
        let write = rng.below(2) == 0;
        let crashed = write && rng.below(1_000_000) < (c.crash_rate * 1e6) as u64;
        let value = if write {
            fresh[key] += 1;
            // A crashed write took effect, or not.
            if !crashed || rng.below(2) == 0 {
                current[key] = fresh[key];
            }
            fresh[key]
        } else {
            current[key]
        };
        // Unique per op, increasing along each thread: the thread's ops never overlap.
        let time = (((i + lag[thread]) * threads + thread) * 4) as i64;
        ops.push(LagOp { process: process[thread], key: key as u32, write, value, crashed, time });
        if crashed {
            process[thread] += threads as u32;
        }
    }
    ops
}

/// Writes the history as EDN, one event a line, with `:index` and `:time` (nanoseconds).
/// Returns the number of events written.
pub fn write_edn(c: &LaggingConfig, out: &mut impl Write) -> io::Result<usize> {
    let mut rng = Rng::new(c.seed);
    let ops = make_ops(c, &mut rng);
    let mut events: Vec<(i64, u32)> = Vec::with_capacity(2 * ops.len());
    for (i, op) in ops.iter().enumerate() {
        events.push((op.time, 2 * i as u32));
        events.push((op.time + 2, 2 * i as u32 + 1));
    }
    events.sort_unstable();
    let mut line = String::with_capacity(128);
    let v = |x: u64| if x == 0 { "nil".to_string() } else { x.to_string() };
    for (index, &(time, id)) in events.iter().enumerate() {
        let (op, completion) = (&ops[id as usize / 2], id % 2 == 1);
        let kind = match (completion, op.crashed) {
            (false, _) => "invoke",
            (true, true) => "info",
            (true, false) => "ok",
        };
        let (f, shown) = match (op.write, completion) {
            (true, _) => ("write", v(op.value)),
            (false, false) => ("read", "nil".to_string()),
            (false, true) => ("read", v(op.value)),
        };
        line.clear();
        let value = format!("[{} {shown}]", op.key);
        super::edn_event_line(&mut line, index, time * 1000, kind, &op.process, f, &value);
        out.write_all(line.as_bytes())?;
    }
    Ok(events.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{CheckConfig, check_history};
    use crate::history::{Format, ReadOptions, read_bytes};
    use crate::outcome::Verdict;

    #[test]
    fn lagging_histories_are_sequential_but_not_linearizable() {
        for seed in 0..10 {
            let c = LaggingConfig { ops: 400, keys: 3, seed, crash_rate: 0.05, ..Default::default() };
            let mut buf = Vec::new();
            write_edn(&c, &mut buf).unwrap();
            let h = read_bytes("lagging.edn", &buf, Format::Edn, &ReadOptions::default()).unwrap();
            let config = CheckConfig {
                model: Some("register".parse().unwrap()),
                consistency: Some(
                    crate::vocab::ConsistencyLevel::parse_list("linearizable,sequential").unwrap(),
                ),
                ..Default::default()
            };
            let reports = check_history(&h, &config).unwrap();
            assert_eq!(reports[0].valid, Verdict::Invalid, "seed {seed}: {}", reports[0].to_text());
            assert_eq!(reports[1].valid, Verdict::Valid, "seed {seed}: {}", reports[1].to_text());
        }
    }
}
