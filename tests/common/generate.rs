//! Random small histories for property tests: processes invoke and complete ops in a random
//! interleaving, with failures, crashes (`:info`) and ops left open, Jepsen-style (a process
//! that crashed is retired and a fresh one takes its place).
//!
//! Op generators for the models other than registers keep a *shadow* of the object, updated as
//! if each op took effect at its invocation, and usually complete ops with what the shadow
//! says (so that a good share of histories are linearizable), sometimes with another plausible
//! value (a value written earlier, an element added earlier), so that many are not.

use labrys::history::{Event, EventKind, History, HistoryBuilder, Outcome, Process, Value};

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

/// What one op does: its `:f`, its invocation value, the value an `:ok` completion carries,
/// and its `:key` field, if it has one (the kv model's ops do).
pub struct OpSpec {
    pub f: &'static str,
    pub input: Value,
    pub output: Value,
    pub key: Option<Value>,
}

impl OpSpec {
    /// An op without a `:key` field.
    pub fn new(f: &'static str, input: Value, output: Value) -> OpSpec {
        OpSpec { f, input, output, key: None }
    }
}

/// Builds a history of `n_ops` ops from `spec`, over at most `processes` concurrent processes.
/// Outcomes: mostly `:ok`, some `:fail`, some `:info`, some never completed. With `timed`,
/// events carry `:time` with deliberate ties (so equal-time ops are concurrent).
pub fn history(
    rng: &mut Rng,
    n_ops: usize,
    processes: u32,
    timed: bool,
    spec: impl FnMut(&mut Rng) -> OpSpec,
) -> History {
    history_with(rng, n_ops, processes, timed, Outcomes { stuck: 8, info: 10, fail: 12 }, spec)
}

/// How ops end, in percent; the rest complete `:ok`.
#[derive(Clone, Copy, Debug)]
pub struct Outcomes {
    /// Never completes (the process is stuck for good).
    pub stuck: u64,
    /// Completes `:info` (crashed; the process is retired).
    pub info: u64,
    /// Completes `:fail`.
    pub fail: u64,
}

/// [`history`] with the given mix of outcomes: etcd's Jepsen histories, say, have many
/// crashed ops, each of which retires its process.
pub fn history_with(
    rng: &mut Rng,
    n_ops: usize,
    processes: u32,
    timed: bool,
    outcomes: Outcomes,
    mut spec: impl FnMut(&mut Rng) -> OpSpec,
) -> History {
    let mut b = HistoryBuilder::new("generated", false);
    let mut next_process = processes;
    let mut idle: Vec<u32> = (0..processes).collect();
    let mut in_flight: Vec<(u32, OpSpec)> = Vec::new();
    let (mut started, mut t) = (0, 0i64);
    let push = |b: &mut HistoryBuilder, p: u32, kind, op: &OpSpec, value: Value, t: i64| {
        let ev = Event {
            index: None,
            time: timed.then_some(t / 2),
            kind,
            process: Process::Client(p),
            f: Value::keyword(op.f),
            value,
            key: op.key.clone(),
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
            push(&mut b, p, EventKind::Invoke, &op, op.input.clone(), t);
            in_flight.push((p, op));
            started += 1;
            continue;
        }
        let (p, op) = in_flight.swap_remove(rng.below(in_flight.len() as u64) as usize);
        let roll = rng.below(100);
        let (info_from, fail_from) = (outcomes.stuck, outcomes.stuck + outcomes.info);
        if roll < info_from {
            // Never completes: the process is stuck for good; a fresh one replaces it.
            idle.push(next_process);
            next_process += 1;
            continue;
        }
        let (kind, value) = if roll < fail_from {
            (EventKind::Info, op.input.clone())
        } else if roll < fail_from + outcomes.fail {
            (EventKind::Fail, op.input.clone())
        } else {
            (EventKind::Ok, op.output.clone())
        };
        push(&mut b, p, kind, &op, value, t);
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
    keyed_as(k, op)
}

/// Wraps every value `v` of a spec as the keyed tuple `[k v]`.
pub fn keyed_as(k: Value, op: OpSpec) -> OpSpec {
    OpSpec {
        f: op.f,
        input: Value::vector(vec![k.clone(), op.input]),
        output: Value::vector(vec![k, op.output]),
        key: op.key,
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
        0 => OpSpec::new("read", Value::Nil, small_value(rng)),
        1 => {
            let v = small_value(rng);
            OpSpec::new("write", v.clone(), v)
        }
        _ => {
            let pair = Value::vector(vec![small_value(rng), small_value(rng)]);
            OpSpec::new("cas", pair.clone(), pair)
        }
    }
}

/// The history, one op a line, for assertion messages: process, key, `:f`, invocation value,
/// outcome and completion value, and the op's interval.
pub fn dump(h: &History) -> String {
    let mut s = String::new();
    for op in &h.ops {
        let key = if op.key == labrys::history::ValueId::NONE {
            String::new()
        } else {
            format!(" :key {}", h.value(op.key))
        };
        let done = match op.outcome {
            Outcome::Ok => format!("ok {}", h.value(op.output)),
            other => other.name().to_string(),
        };
        let until =
            if op.complete_time == i64::MAX { "∞".to_string() } else { op.complete_time.to_string() };
        s.push_str(&format!(
            "  p{}{key} {} {} → {done}   [{}, {until}]\n",
            op.process,
            h.value(op.f),
            h.value(op.input),
            op.invoke_time
        ));
    }
    s
}

/// One of `items`, at random.
pub fn pick<'a, T>(rng: &mut Rng, items: &'a [T]) -> &'a T {
    &items[rng.below(items.len() as u64) as usize]
}

/// Shuffles `items` in place (Fisher–Yates).
pub fn shuffle<T>(rng: &mut Rng, items: &mut [T]) {
    for i in (1..items.len()).rev() {
        items.swap(i, rng.below(i as u64 + 1) as usize);
    }
}

fn ints(xs: &[i64]) -> Value {
    Value::vector(xs.iter().map(|&x| Value::Int(x)).collect())
}

/// Mutex ops: mostly the op the lock allows at invocation, sometimes the other one.
#[derive(Default)]
pub struct MutexGen {
    held: bool,
}

impl MutexGen {
    pub fn op(&mut self, rng: &mut Rng) -> OpSpec {
        let acquire = if rng.chance(80) { !self.held } else { self.held };
        self.held = acquire;
        OpSpec::new(if acquire { "acquire" } else { "release" }, Value::Nil, Value::Nil)
    }
}

/// Set ops: `add v` of small integers (repeats happen), and reads of the whole set: usually the
/// shadow's contents, sometimes with one element added or removed, sometimes any subset of
/// the elements added so far; in any order, with repeats, `nil` for empty now and then.
pub struct SetGen {
    shadow: Vec<i64>,
    added: Vec<i64>,
    /// Adds pick from `0..range`: small ranges repeat elements, large ones mostly do not (so
    /// that a read names the one add of what it saw).
    range: u64,
}

impl Default for SetGen {
    fn default() -> SetGen {
        SetGen::with_range(5)
    }
}

impl SetGen {
    /// Adds of elements in `0..range`.
    pub fn with_range(range: u64) -> SetGen {
        SetGen { shadow: Vec::new(), added: Vec::new(), range }
    }

    pub fn op(&mut self, rng: &mut Rng) -> OpSpec {
        if rng.chance(50) {
            let v = rng.below(self.range) as i64;
            if !self.shadow.contains(&v) {
                self.shadow.push(v);
            }
            if !self.added.contains(&v) {
                self.added.push(v);
            }
            return OpSpec::new("add", Value::Int(v), Value::Int(v));
        }
        let mut seen = self.shadow.clone();
        match rng.below(10) {
            0..=5 => {}
            6..=7 if !self.added.is_empty() => {
                let v = *pick(rng, &self.added);
                match seen.iter().position(|&x| x == v) {
                    Some(i) => drop(seen.remove(i)),
                    None => seen.push(v),
                }
            }
            _ => seen = self.added.iter().copied().filter(|_| rng.chance(50)).collect(),
        }
        shuffle(rng, &mut seen);
        if !seen.is_empty() && rng.chance(10) {
            seen.push(seen[0]);
        }
        let out = if seen.is_empty() && rng.chance(30) { Value::Nil } else { ints(&seen) };
        OpSpec::new("read", Value::Nil, out)
    }
}

/// Counter ops: `add`/`increment` by 1 (`nil` or 1), 2 or -1, and reads, usually of the
/// shadow's count, sometimes one off, sometimes anything in a plausible range.
#[derive(Default)]
pub struct CounterGen {
    shadow: i64,
    high: i64,
    /// Never decrement: the count only grows (what the simulator's counter does).
    growing: bool,
}

impl CounterGen {
    pub fn growing() -> CounterGen {
        CounterGen { growing: true, ..CounterGen::default() }
    }

    pub fn op(&mut self, rng: &mut Rng) -> OpSpec {
        if rng.chance(50) {
            let (f, input, delta) = match rng.below(if self.growing { 4 } else { 5 }) {
                0 => ("increment", Value::Nil, 1),
                1 => ("add", Value::Nil, 1),
                2 => ("increment", Value::Int(1), 1),
                3 => ("add", Value::Int(2), 2),
                _ => ("add", Value::Int(-1), -1),
            };
            self.shadow += delta;
            self.high += delta.max(0);
            return OpSpec::new(f, input.clone(), input);
        }
        let seen = match rng.below(10) {
            0..=5 => self.shadow,
            6..=7 => self.shadow + if rng.chance(50) { 1 } else { -1 },
            _ => rng.below(self.high as u64 + 1) as i64,
        };
        OpSpec::new("read", Value::Nil, Value::Int(seen))
    }
}

/// Queue ops for a FIFO or an unordered queue: enqueues of mostly distinct small integers, and
/// dequeues that usually take what the shadow queue gives (the head, or any element), or
/// `nil` when it is empty, and sometimes any element enqueued so far, or `nil`.
#[derive(Default)]
pub struct QueueGen {
    fifo: bool,
    shadow: Vec<i64>,
    enqueued: Vec<i64>,
    fresh: i64,
}

impl QueueGen {
    pub fn new(fifo: bool) -> QueueGen {
        QueueGen { fifo, ..QueueGen::default() }
    }

    pub fn op(&mut self, rng: &mut Rng) -> OpSpec {
        if rng.chance(55) {
            let v = if self.enqueued.is_empty() || rng.chance(75) {
                self.fresh += 1;
                self.fresh
            } else {
                *pick(rng, &self.enqueued)
            };
            self.shadow.push(v);
            self.enqueued.push(v);
            return OpSpec::new("enqueue", Value::Int(v), Value::Int(v));
        }
        let out = if rng.chance(65) {
            match self.shadow.len() {
                0 => None,
                n => Some(self.shadow.remove(if self.fifo { 0 } else { rng.below(n as u64) as usize })),
            }
        } else if self.enqueued.is_empty() || rng.chance(25) {
            None
        } else {
            let v = *pick(rng, &self.enqueued);
            if let Some(i) = self.shadow.iter().position(|&x| x == v) {
                self.shadow.remove(i);
            }
            Some(v)
        };
        OpSpec::new("dequeue", Value::Nil, out.map_or(Value::Nil, Value::Int))
    }
}

/// Porcupine-style kv ops over one or two keys (`:key "x"`, `"y"`), at most `max_per_key` per
/// key: appends of distinct short strings (`"a;"`, `"b;"` …), sometimes of ambiguous ones
/// (`"a"`, `"b"`, `"ab"`, rarely `""`); puts (some of them ambiguous with appends or the initial
/// value); and gets, which return the shadow's value, or a value it held before (stale), or a
/// random put (or the initial value) followed by a random subsequence of the appends so far,
/// sometimes shuffled, or now and then garbage (an append nobody made, or one seen twice).
pub struct KvGen {
    keys: Vec<Value>,
    init: Vec<String>,
    shadow: Vec<String>,
    /// Every value each key's shadow has held, for stale reads.
    past: Vec<Vec<String>>,
    appended: Vec<Vec<String>>,
    puts: Vec<Vec<String>>,
    fresh: Vec<u8>,
    count: Vec<usize>,
    max_per_key: usize,
}

impl KvGen {
    /// Ops over `init.len()` keys (`"x"`, `"y"`), whose initial values are `init` (the kv
    /// model's default is `""` for every key).
    pub fn new(init: &[&str], max_per_key: usize) -> KvGen {
        let n = init.len();
        KvGen {
            keys: ["x", "y", "z"][..n].iter().map(|k| Value::string(k)).collect(),
            init: init.iter().map(|s| s.to_string()).collect(),
            shadow: init.iter().map(|s| s.to_string()).collect(),
            past: init.iter().map(|s| vec![s.to_string()]).collect(),
            appended: vec![Vec::new(); n],
            puts: vec![Vec::new(); n],
            fresh: vec![b'a'; n],
            count: vec![0; n],
            max_per_key,
        }
    }

    /// The keys, as ops carry them.
    pub fn keys(&self) -> &[Value] {
        &self.keys
    }

    pub fn op(&mut self, rng: &mut Rng) -> OpSpec {
        let open: Vec<usize> = (0..self.keys.len()).filter(|&k| self.count[k] < self.max_per_key).collect();
        let k = if open.is_empty() { 0 } else { *pick(rng, &open) };
        self.count[k] += 1;
        let key = Some(self.keys[k].clone());
        let roll = rng.below(100);
        if roll < 35 {
            let s = if rng.chance(80) {
                let c = self.fresh[k] as char;
                self.fresh[k] += 1;
                format!("{c};")
            } else if rng.chance(90) {
                pick(rng, &["a", "b", "ab", "ba"]).to_string()
            } else {
                String::new()
            };
            self.shadow[k].push_str(&s);
            self.past[k].push(self.shadow[k].clone());
            self.appended[k].push(s.clone());
            return OpSpec { f: "append", input: Value::string(&s), output: Value::string(&s), key };
        }
        if roll < 50 {
            let s = pick(rng, &["p;", "q;", "", "a;", "p;a;"]).to_string();
            self.shadow[k] = s.clone();
            self.past[k].push(s.clone());
            self.puts[k].push(s.clone());
            return OpSpec { f: "put", input: Value::string(&s), output: Value::string(&s), key };
        }
        let roll = rng.below(100);
        let seen = if roll < 45 {
            self.shadow[k].clone()
        } else if roll < 60 {
            pick(rng, &self.past[k]).clone()
        } else if roll < 64 {
            // Garbage: a string nobody appended, or an append seen twice.
            let extra = self.appended[k].first().map_or("z;", |s| s.as_str());
            self.shadow[k].clone() + if rng.chance(50) { "z;" } else { extra }
        } else {
            let base = if self.puts[k].is_empty() || rng.chance(30) {
                self.init[k].clone()
            } else {
                pick(rng, &self.puts[k]).clone()
            };
            let mut tail: Vec<&String> = self.appended[k].iter().filter(|_| rng.chance(60)).collect();
            if rng.chance(40) {
                shuffle(rng, &mut tail);
            }
            tail.into_iter().fold(base, |acc, s| acc + s)
        };
        let out = if seen.is_empty() && rng.chance(30) { Value::Nil } else { Value::string(&seen) };
        OpSpec { f: "get", input: Value::Nil, output: out, key }
    }
}

/// Multi-register txns of one to three micro-ops over registers `:x` and `:y`: writes of 1–3,
/// and reads that usually see the shadow's value (the txn's own earlier writes included),
/// sometimes `nil` or any value written to that register so far. Write-only txns sometimes
/// complete with `nil`, as some clients record them.
#[derive(Default)]
pub struct MultiRegisterGen {
    shadow: [Option<i64>; 2],
    written: [Vec<i64>; 2],
}

impl MultiRegisterGen {
    pub fn op(&mut self, rng: &mut Rng) -> OpSpec {
        let names = ["x", "y"];
        let (r, w) = if rng.chance(80) { ("r", "w") } else { ("read", "write") };
        let mut local = self.shadow;
        let (mut input, mut output, mut reads) = (Vec::new(), Vec::new(), false);
        for _ in 0..1 + rng.below(3) {
            let k = rng.below(2) as usize;
            let reg = Value::keyword(names[k]);
            let micro = |f: &str, v: Value| Value::vector(vec![Value::keyword(f), reg.clone(), v]);
            if rng.chance(50) {
                reads = true;
                let seen = if rng.chance(75) || self.written[k].is_empty() {
                    local[k]
                } else if rng.chance(25) {
                    None
                } else {
                    Some(*pick(rng, &self.written[k]))
                };
                input.push(micro(r, Value::Nil));
                output.push(micro(r, seen.map_or(Value::Nil, Value::Int)));
            } else {
                let v = 1 + rng.below(3) as i64;
                local[k] = Some(v);
                self.written[k].push(v);
                input.push(micro(w, Value::Int(v)));
                output.push(micro(w, Value::Int(v)));
            }
        }
        self.shadow = local;
        let output = if !reads && rng.chance(20) { Value::Nil } else { Value::vector(output) };
        OpSpec::new("txn", Value::vector(input), output)
    }
}

/// Register / cas-register ops with mostly distinct written values (so that a value usually
/// names the op that wrote it, which is what value-based order inference keys on): writes and
/// cas to fresh values, cas usually from the shadow's value, reads usually of it, and otherwise
/// of any value written so far, or the initial `nil`.
#[derive(Default)]
pub struct RegisterGen {
    with_cas: bool,
    shadow: Option<i64>,
    written: Vec<i64>,
    fresh: i64,
}

impl RegisterGen {
    pub fn new(with_cas: bool) -> RegisterGen {
        RegisterGen { with_cas, ..RegisterGen::default() }
    }

    fn plausible(&mut self, rng: &mut Rng) -> Option<i64> {
        if rng.chance(65) || self.written.is_empty() {
            self.shadow
        } else if rng.chance(20) {
            None
        } else {
            Some(*pick(rng, &self.written))
        }
    }

    fn new_value(&mut self, rng: &mut Rng) -> i64 {
        if self.written.is_empty() || rng.chance(85) {
            self.fresh += 1;
            self.fresh
        } else {
            *pick(rng, &self.written)
        }
    }

    pub fn op(&mut self, rng: &mut Rng) -> OpSpec {
        let v = |x: Option<i64>| x.map_or(Value::Nil, Value::Int);
        match rng.below(if self.with_cas { 3 } else { 2 }) {
            0 => {
                let seen = self.plausible(rng);
                OpSpec::new("read", Value::Nil, v(seen))
            }
            1 => {
                let new = self.new_value(rng);
                self.written.push(new);
                self.shadow = Some(new);
                OpSpec::new("write", Value::Int(new), Value::Int(new))
            }
            _ => {
                let old = self.plausible(rng);
                let new = self.new_value(rng);
                if old == self.shadow {
                    self.shadow = Some(new);
                }
                self.written.push(new);
                let pair = Value::vector(vec![v(old), Value::Int(new)]);
                OpSpec::new("cas", pair.clone(), pair)
            }
        }
    }
}

/// Reads EDN text a generator wrote.
pub fn read_edn(text: &str) -> History {
    use labrys::history::{Format, ReadOptions, read_bytes};
    read_bytes("sim.edn", text.as_bytes(), Format::Edn, &ReadOptions::default())
        .expect("generated text reads")
}

/// What `labrys simulate --workload register` (or `cas-register`, with `cas`) `--keys 1
/// --crash-rate 0.05 --values 0` writes: one key, 5% crashed ops, every written value unique.
pub fn synthetic_unique(cas: bool, ops: usize, threads: usize, seed: u64) -> String {
    use labrys::sim::synthetic::{SyntheticConfig, write_edn};
    let c = SyntheticConfig { cas, ops, keys: 1, threads, crash_rate: 0.05, values: 0, seed };
    let mut out = Vec::new();
    write_edn(&c, &mut out).expect("writes to memory");
    String::from_utf8(out).expect("EDN is text")
}
