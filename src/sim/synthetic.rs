//! Large linearizable register histories, by construction.
//!
//! Each client thread issues ops back to back; every op gets a random duration and a random
//! linearization point inside it. Applying the ops in linearization-point order to one register
//! per key gives every read its value and every cas its outcome, so the history is linearizable
//! whatever the interleaving. Crashed ops (`:info`) take effect or not at random, and the
//! thread continues as a new process, as Jepsen does.

use super::Rng;
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

#[derive(Clone, Copy)]
struct GenOp {
    process: u32,
    key: u32,
    f: F,
    /// Write: the value; cas: the expected value.
    a: i64,
    /// Cas: the new value; read: the value read.
    b: i64,
    invoke: i64,
    complete: i64,
    lin: i64,
    crashed: bool,
    /// Whether a cas succeeded.
    ok: bool,
}

/// `NIL` stands for a register that was never written.
const NIL: i64 = i64::MIN;

fn make_ops(c: &SyntheticConfig, rng: &mut Rng) -> Vec<GenOp> {
    let mut clients = super::Clients::new(c.threads);
    let mut next_value = vec![0i64; c.keys.max(1)];
    let mut ops = Vec::with_capacity(c.ops);
    for _ in 0..c.ops {
        let slot = clients.next(rng);
        let (invoke, complete, lin) = (slot.invoke, slot.complete, slot.point);
        let key = rng.below(c.keys.max(1) as u64) as u32;
        let mut value = |rng: &mut Rng| {
            if c.values == 0 {
                next_value[key as usize] += 1;
                next_value[key as usize]
            } else {
                rng.below(c.values) as i64
            }
        };
        let roll = rng.below(4);
        let f = match roll {
            0 | 1 => F::Read,
            2 => F::Write,
            _ if c.cas => F::Cas,
            _ => F::Write,
        };
        let (a, b) = match f {
            F::Read => (NIL, NIL),
            F::Write => (value(rng), NIL),
            F::Cas => (value(rng), value(rng)),
        };
        let crashed = rng.chance(c.crash_rate);
        ops.push(GenOp { process: slot.process, key, f, a, b, invoke, complete, lin, crashed, ok: false });
        if crashed {
            clients.crashed(slot.thread);
        }
    }
    ops
}

/// Applies the ops in linearization order, filling in reads and cas outcomes.
fn apply(ops: &mut [GenOp], keys: usize, rng: &mut Rng) {
    let mut order: Vec<u32> = (0..ops.len() as u32).collect();
    order.sort_unstable_by_key(|&i| ops[i as usize].lin);
    let mut state = vec![NIL; keys.max(1)];
    for i in order {
        let op = &mut ops[i as usize];
        let s = &mut state[op.key as usize];
        if op.crashed && rng.chance(0.5) {
            continue; // this crashed op never took effect
        }
        match op.f {
            F::Read => op.b = *s,
            F::Write => *s = op.a,
            F::Cas => {
                // Expect the current value half the time, so that cas often succeeds.
                if rng.chance(0.5) {
                    op.a = *s;
                }
                op.ok = op.a == *s;
                if op.ok {
                    *s = op.b;
                }
            }
        }
    }
}

/// Writes a linearizable history as EDN, one op map per line, with `:index` and `:time`.
/// Returns the number of events written.
pub fn write_edn(c: &SyntheticConfig, out: &mut impl Write) -> io::Result<usize> {
    let mut rng = Rng::new(c.seed);
    let mut ops = make_ops(c, &mut rng);
    apply(&mut ops, c.keys, &mut rng);
    // Events: (time, completion?, op).
    let mut events: Vec<(i64, bool, u32)> = Vec::with_capacity(2 * ops.len());
    for (i, op) in ops.iter().enumerate() {
        events.push((op.invoke, false, i as u32));
        events.push((op.complete, true, i as u32));
    }
    events.sort_unstable();
    let mut line = String::with_capacity(128);
    for (index, &(time, completion, i)) in events.iter().enumerate() {
        let op = &ops[i as usize];
        line.clear();
        event_line(&mut line, index, time, completion, op, c.keys > 0);
        out.write_all(line.as_bytes())?;
    }
    Ok(events.len())
}

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
    let v = |x: i64| if x == NIL { "nil".to_string() } else { x.to_string() };
    let value = match op.f {
        F::Read if completion && !op.crashed => v(op.b),
        F::Read => "nil".to_string(),
        F::Write => v(op.a),
        F::Cas => format!("[{} {}]", v(op.a), v(op.b)),
    };
    let value = if keyed { format!("[{} {value}]", op.key) } else { value };
    super::edn_event_line(line, index, time * 1000, kind, &op.process, f, &value);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{CheckConfig, check_history};
    use crate::history::{Format, ReadOptions, read_bytes};
    use crate::report::Verdict;

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
                let config = CheckConfig { model: Some("cas-register".into()), ..Default::default() };
                let report = check_history(&h, &config).unwrap().remove(0);
                assert_eq!(report.valid, Verdict::Valid, "seed {seed} keys {keys}: {}", report.to_text());
            }
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
