//! Large linearizable register histories, by construction.
//!
//! Each client thread issues ops back to back; every op gets a random duration and a random
//! linearization point inside it. Applying the ops in linearization-point order to one register
//! per key gives every read its value and every cas its outcome, so the history is linearizable
//! whatever the interleaving. Crashed ops (`:info`) take effect or not at random, and the
//! thread continues as a new process, as Jepsen does. Events are produced in time order and
//! written as they happen, so any number of ops streams to disk in constant memory.

use super::Rng;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{self, Write};

/// What to generate.
#[derive(Clone, Debug)]
pub struct SyntheticConfig {
    /// Include compare-and-set ops (a cas-register workload) or only reads and writes.
    pub cas: bool,
    /// Number of ops.
    pub ops: usize,
    /// Number of keys; 0 writes an unkeyed history (one register).
    pub keys: usize,
    /// Concurrent client threads.
    pub threads: usize,
    /// Fraction of ops that crash (`:info`).
    pub crash_rate: f64,
    /// Values written are drawn from `0..values`; 0 makes every written value unique per key.
    pub values: u64,
    /// PRNG seed.
    pub seed: u64,
}

impl Default for SyntheticConfig {
    fn default() -> Self {
        SyntheticConfig { cas: true, ops: 1000, keys: 0, threads: 5, crash_rate: 0.01, values: 5, seed: 0 }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum F {
    Read,
    Write,
    Cas,
}

/// A client thread's op in flight.
#[derive(Clone, Copy)]
struct GenOp {
    process: u32,
    key: u32,
    f: F,
    /// Write: the value; cas: the expected value.
    a: i64,
    /// Cas: the new value; read: the value read.
    b: i64,
    crashed: bool,
    /// Whether a cas succeeded.
    ok: bool,
}

/// `NIL` stands for a register that was never written.
const NIL: i64 = i64::MIN;

/// What happens to a thread's op at a given time. At equal times effects come first, then
/// completions, then invocations: an op invoked at the instant another completes takes effect
/// after it, as the history's order says.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    Effect,
    Complete,
    Invoke,
}

/// The generator's state: one op in flight per thread, and a queue of what happens next. It
/// holds O(threads) memory whatever the number of ops, and writes each event as it happens.
struct Gen<'a> {
    c: &'a SyntheticConfig,
    rng: Rng,
    ops: Vec<GenOp>,
    queue: BinaryHeap<Reverse<(i64, Phase, u32)>>,
    state: Vec<i64>,
    next_value: Vec<i64>,
    started: usize,
    events: usize,
    line: String,
}

/// Writes a linearizable history as EDN, one op map per line, with `:index` and `:time`,
/// streaming: memory stays proportional to the number of threads. Returns the number of
/// events written. The same configuration writes the same bytes.
pub fn write_edn(c: &SyntheticConfig, out: &mut impl Write) -> io::Result<usize> {
    let threads = c.threads.max(1);
    let mut g = Gen {
        c,
        rng: Rng::new(c.seed),
        ops: (0..threads as u32)
            .map(|process| GenOp { process, key: 0, f: F::Read, a: NIL, b: NIL, crashed: false, ok: false })
            .collect(),
        queue: BinaryHeap::with_capacity(3 * threads),
        state: vec![NIL; c.keys.max(1)],
        next_value: vec![0; c.keys.max(1)],
        started: 0,
        events: 0,
        line: String::with_capacity(128),
    };
    for thread in 0..threads as u32 {
        g.schedule_invoke(thread, 0);
    }
    while let Some(Reverse((time, phase, thread))) = g.queue.pop() {
        match phase {
            Phase::Invoke => g.invoke(thread, time, out)?,
            Phase::Effect => g.effect(thread),
            Phase::Complete => g.complete(thread, time, out)?,
        }
    }
    Ok(g.events)
}

impl Gen<'_> {
    fn schedule_invoke(&mut self, thread: u32, after: i64) {
        if self.started < self.c.ops {
            self.started += 1;
            let invoke = after + 1 + self.rng.below(50) as i64;
            self.queue.push(Reverse((invoke, Phase::Invoke, thread)));
        }
    }

    fn value(&mut self, key: usize) -> i64 {
        if self.c.values == 0 {
            self.next_value[key] += 1;
            self.next_value[key]
        } else {
            self.rng.below(self.c.values) as i64
        }
    }

    /// Chooses the op, writes its invocation, and schedules its effect and completion.
    fn invoke(&mut self, thread: u32, time: i64, out: &mut impl Write) -> io::Result<()> {
        let key = self.rng.below(self.c.keys.max(1) as u64) as usize;
        let f = match self.rng.below(4) {
            0 | 1 => F::Read,
            2 => F::Write,
            _ if self.c.cas => F::Cas,
            _ => F::Write,
        };
        let (a, b) = match f {
            F::Read => (NIL, NIL),
            F::Write => (self.value(key), NIL),
            F::Cas => {
                // Expect the current value half the time, so that cas often succeeds.
                let current = self.rng.chance(0.5).then_some(self.state[key]);
                let expected = match current {
                    Some(v) => v,
                    None => self.value(key),
                };
                (expected, self.value(key))
            }
        };
        let crashed = self.rng.chance(self.c.crash_rate);
        let op = &mut self.ops[thread as usize];
        *op = GenOp { key: key as u32, f, a, b, crashed, ok: false, ..*op };
        let complete = time + 1 + self.rng.below(200) as i64;
        let point = time + self.rng.below((complete - time) as u64 + 1) as i64;
        self.queue.push(Reverse((point, Phase::Effect, thread)));
        self.queue.push(Reverse((complete, Phase::Complete, thread)));
        self.emit(thread, time, false, out)
    }

    /// The op takes effect: reads see the register, writes and cas change it. A crashed op
    /// takes effect half the time.
    fn effect(&mut self, thread: u32) {
        let op = &mut self.ops[thread as usize];
        if op.crashed && self.rng.chance(0.5) {
            return;
        }
        let s = &mut self.state[op.key as usize];
        match op.f {
            F::Read => op.b = *s,
            F::Write => *s = op.a,
            F::Cas => {
                op.ok = op.a == *s;
                if op.ok {
                    *s = op.b;
                }
            }
        }
    }

    fn complete(&mut self, thread: u32, time: i64, out: &mut impl Write) -> io::Result<()> {
        self.emit(thread, time, true, out)?;
        let threads = self.ops.len() as u32;
        let op = &mut self.ops[thread as usize];
        if op.crashed {
            // After an indeterminate op, the thread continues as a new process, as Jepsen's do.
            op.process += threads;
        }
        self.schedule_invoke(thread, time);
        Ok(())
    }

    fn emit(&mut self, thread: u32, time: i64, completion: bool, out: &mut impl Write) -> io::Result<()> {
        self.line.clear();
        let op = self.ops[thread as usize];
        event_line(&mut self.line, self.events, time, completion, &op, self.c.keys > 0);
        self.events += 1;
        out.write_all(self.line.as_bytes())
    }
}

/// Writes one event in the shape of [`super::edn_event_line`], by hand: this is the hot loop
/// of 10^7-op histories, and the formatting machinery would cost more than the rest.
fn event_line(line: &mut String, index: usize, time: i64, completion: bool, op: &GenOp, keyed: bool) {
    let kind = match (completion, op.crashed, op.f) {
        (false, _, _) => "invoke",
        (true, true, _) => "info",
        (true, false, F::Cas) if !op.ok => "fail",
        _ => "ok",
    };
    let f = match op.f {
        F::Read => "read",
        F::Write => "write",
        F::Cas => "cas",
    };
    let v = |line: &mut String, x: i64| if x == NIL { line.push_str("nil") } else { push_int(line, x) };
    line.push_str("{:index ");
    push_int(line, index as i64);
    line.push_str(", :time ");
    push_int(line, time * 1000);
    line.push_str(", :type :");
    line.push_str(kind);
    line.push_str(", :process ");
    push_int(line, i64::from(op.process));
    line.push_str(", :f :");
    line.push_str(f);
    line.push_str(", :value ");
    if keyed {
        line.push('[');
        push_int(line, i64::from(op.key));
        line.push(' ');
    }
    match op.f {
        F::Read if completion && !op.crashed => v(line, op.b),
        F::Read => line.push_str("nil"),
        F::Write => v(line, op.a),
        F::Cas => {
            line.push('[');
            v(line, op.a);
            line.push(' ');
            v(line, op.b);
            line.push(']');
        }
    }
    if keyed {
        line.push(']');
    }
    line.push_str("}\n");
}

/// Appends the decimal digits of `v` to `s`.
fn push_int(s: &mut String, v: i64) {
    if v < 0 {
        s.push('-');
    }
    s.push_str(super::decimal(&mut [0; 20], v.unsigned_abs()));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{CheckConfig, check_history};
    use crate::history::{Format, ReadOptions, read_bytes};
    use crate::outcome::Verdict;

    fn generate(c: &SyntheticConfig) -> crate::history::History {
        let mut buf = Vec::new();
        write_edn(c, &mut buf).unwrap();
        read_bytes("synthetic.edn", &buf, Format::Edn, &ReadOptions::default()).unwrap()
    }

    #[test]
    fn synthetic_histories_are_linearizable() {
        for seed in 0..40 {
            for (keys, values) in [(0, 3), (4, 0), (3, 5)] {
                let c =
                    SyntheticConfig { ops: 300, keys, values, seed, crash_rate: 0.05, ..Default::default() };
                let h = generate(&c);
                let config =
                    CheckConfig { model: Some("cas-register".parse().unwrap()), ..Default::default() };
                let report = check_history(&h, &config).unwrap().remove(0);
                assert_eq!(report.valid, Verdict::Valid, "seed {seed} keys {keys}: {}", report.to_text());
            }
        }
    }

    #[test]
    fn event_lines_have_the_shared_shape() {
        let op = GenOp { process: 3, key: 2, f: F::Cas, a: NIL, b: -7, crashed: false, ok: false };
        let (mut fast, mut shared) = (String::new(), String::new());
        event_line(&mut fast, 12, 34, true, &op, true);
        crate::sim::edn_event_line(&mut shared, 12, 34_000, "fail", &3, "cas", "[2 [nil -7]]");
        assert_eq!(fast, shared);
        let mut n = String::new();
        for v in [0, 9, 10, -1, i64::MAX, i64::MIN + 1] {
            n.clear();
            push_int(&mut n, v);
            assert_eq!(n, v.to_string());
        }
    }

    #[test]
    fn same_seed_same_bytes() {
        let c = SyntheticConfig { ops: 200, keys: 3, seed: 7, ..Default::default() };
        let (mut a, mut b) = (Vec::new(), Vec::new());
        write_edn(&c, &mut a).unwrap();
        write_edn(&c, &mut b).unwrap();
        assert_eq!(a, b);
    }
}
