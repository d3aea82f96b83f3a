//! Random small histories for property tests: processes invoke and complete ops in a random
//! interleaving, with failures, crashes (`:info`) and ops left open, Jepsen-style (a process
//! that crashed is retired and a fresh one takes its place).

use labrys::history::{Event, EventKind, History, HistoryBuilder, Process, Value};

/// A tiny deterministic PRNG (splitmix64), so a failing case is reproducible from its seed.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// What one op does: its `:f`, its invocation value, and the value an `:ok` completion carries.
pub struct OpSpec {
    pub f: &'static str,
    pub input: Value,
    pub output: Value,
}

/// Builds a history of `n_ops` ops from `spec`, over at most `processes` concurrent processes.
/// Outcomes: mostly `:ok`, some `:fail`, some `:info`, some never completed. With `timed`,
/// events carry `:time` with deliberate ties (so equal-time ops are concurrent).
pub fn history(
    rng: &mut Rng,
    n_ops: usize,
    processes: u32,
    timed: bool,
    mut spec: impl FnMut(&mut Rng) -> OpSpec,
) -> History {
    let mut b = HistoryBuilder::new("generated", false);
    let mut next_process = processes;
    let mut idle: Vec<u32> = (0..processes).collect();
    let mut in_flight: Vec<(u32, OpSpec)> = Vec::new();
    let (mut started, mut t) = (0, 0i64);
    let push = |b: &mut HistoryBuilder, p: u32, kind, f: &str, value: Value, t: i64| {
        let ev = Event {
            index: None,
            time: timed.then_some(t / 2),
            kind,
            process: Process::Client(p),
            f: Value::keyword(f),
            value,
            key: None,
            extra: Vec::new(),
            offset: 0,
            len: 0,
            line: 1,
        };
        b.push(ev).expect("generated histories pair up");
    };
    while started < n_ops || !in_flight.is_empty() {
        t += 1;
        let invoke = started < n_ops && !idle.is_empty() && (in_flight.is_empty() || rng.chance(50));
        if invoke {
            let p = idle.swap_remove(rng.below(idle.len() as u64) as usize);
            let op = spec(rng);
            push(&mut b, p, EventKind::Invoke, op.f, op.input.clone(), t);
            in_flight.push((p, op));
            started += 1;
            continue;
        }
        let (p, op) = in_flight.swap_remove(rng.below(in_flight.len() as u64) as usize);
        let roll = rng.below(100);
        if roll < 8 {
            // Never completes: the process is stuck for good; a fresh one replaces it.
            idle.push(next_process);
            next_process += 1;
            continue;
        }
        let (kind, value) = match roll {
            8..=17 => (EventKind::Info, op.input.clone()),
            18..=29 => (EventKind::Fail, op.input.clone()),
            _ => (EventKind::Ok, op.output.clone()),
        };
        push(&mut b, p, kind, op.f, value, t);
        if kind == EventKind::Info {
            idle.push(next_process);
            next_process += 1;
        } else {
            idle.push(p);
        }
    }
    b.finish()
}

/// Wraps every value `v` of a spec as a keyed tuple `[k v]` with a random key below `keys`.
pub fn keyed(rng: &mut Rng, keys: u64, op: OpSpec) -> OpSpec {
    let k = Value::Int(rng.below(keys) as i64);
    OpSpec {
        f: op.f,
        input: Value::Vector(vec![k.clone(), op.input]),
        output: Value::Vector(vec![k, op.output]),
    }
}

/// A small register value, sometimes nil.
pub fn small_value(rng: &mut Rng) -> Value {
    match rng.below(4) {
        0 => Value::Nil,
        v => Value::Int(v as i64),
    }
}

/// A random register / cas-register op.
pub fn register_op(rng: &mut Rng, with_cas: bool) -> OpSpec {
    match rng.below(if with_cas { 3 } else { 2 }) {
        0 => OpSpec { f: "read", input: Value::Nil, output: small_value(rng) },
        1 => {
            let v = small_value(rng);
            OpSpec { f: "write", input: v.clone(), output: v }
        }
        _ => {
            let pair = Value::Vector(vec![small_value(rng), small_value(rng)]);
            OpSpec { f: "cas", input: pair.clone(), output: pair }
        }
    }
}
