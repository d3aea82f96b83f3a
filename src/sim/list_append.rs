//! Transactional histories with known truth, in the shape of Elle's workloads: list-append
//! (`[:append k v]`, `[:r k [v ...]]`) and rw-register (`[:w k v]`, `[:r k v]`).
//!
//! Clients run transactions of 1–4 micro-ops over a pool of active keys; a key is retired once
//! it has had `max_writes_per_key` writes and replaced by a fresh one, as Jepsen's generator
//! does. Each transaction gets a random interval per client and an atomic commit point inside
//! it; applying the transactions at their commit points to a serial store gives every read its
//! value. So the history is strict serializable by construction, unless `stale_reads` asks
//! some reads to see an older state (which makes realtime anomalies, and with enough of them,
//! one large strongly connected dependency graph).

use super::Rng;
use std::io::{self, Write};

/// Which of Elle's transactional workloads to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxnWorkload {
    /// Appends to lists; reads return the whole list.
    ListAppend,
    /// Writes of unique values to registers; reads return the current value.
    RwRegister,
}

/// The text format to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxnFormat {
    /// Jepsen EDN, one op map per line.
    Edn,
    /// JSON Lines, as elle-cli reads.
    Json,
}

/// What to generate.
#[derive(Clone, Debug)]
pub struct TxnGenConfig {
    /// Which workload.
    pub workload: TxnWorkload,
    /// Number of transactions.
    pub txns: usize,
    /// Concurrent client threads (each one process at a time, as in Jepsen).
    pub processes: usize,
    /// Keys in use at any time.
    pub active_keys: usize,
    /// Writes after which a key is retired and replaced by a fresh key.
    pub max_writes_per_key: usize,
    /// Micro-ops per transaction: uniformly `min_len..=max_len`.
    pub min_len: usize,
    /// See `min_len`.
    pub max_len: usize,
    /// Fraction of micro-ops that are reads.
    pub read_fraction: f64,
    /// Fraction of transactions that crash (`:info`); half of them take effect.
    pub crash_rate: f64,
    /// Fraction of transactions that fail (`:fail`) and take no effect.
    pub fail_rate: f64,
    /// Fraction of reads that see the state of an earlier commit point instead of the current
    /// one (up to `stale_window` commits back). 0 keeps the history strict serializable.
    pub stale_reads: f64,
    /// How many commits back a stale read may look.
    pub stale_window: usize,
    /// PRNG seed: the same seed writes the same bytes.
    pub seed: u64,
}

impl Default for TxnGenConfig {
    fn default() -> Self {
        TxnGenConfig {
            workload: TxnWorkload::ListAppend,
            txns: 1000,
            processes: 50,
            active_keys: 1000,
            max_writes_per_key: 100,
            min_len: 1,
            max_len: 4,
            read_fraction: 0.5,
            crash_rate: 0.0,
            fail_rate: 0.0,
            stale_reads: 0.0,
            stale_window: 0,
            seed: 0,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Status {
    Ok,
    Info,
    Fail,
}

#[derive(Clone, Copy)]
struct GenTxn {
    process: u32,
    status: Status,
    /// Whether it took effect (always for ok, never for fail, at random for info).
    applied: bool,
    invoke: i64,
    complete: i64,
    commit: i64,
    /// Its micro-ops: `mops[first..first + len]`.
    first: u32,
    len: u8,
}

/// A micro-op: for reads, `value` is filled in when applied — the list's length for
/// list-append, the register's value (0 for nil) for rw-register.
#[derive(Clone, Copy)]
struct GenMop {
    read: bool,
    key: u32,
    value: u32,
}

/// Per-client intervals and commit points, plus outcomes; micro-ops are chosen later, in
/// invocation order.
fn make_txns(c: &TxnGenConfig, rng: &mut Rng) -> Vec<GenTxn> {
    let mut clients = super::Clients::new(c.processes);
    let mut txns = Vec::with_capacity(c.txns);
    for _ in 0..c.txns {
        let slot = clients.next(rng);
        let (invoke, complete, commit) = (slot.invoke, slot.complete, slot.point);
        let (status, applied) = if rng.chance(c.crash_rate) {
            (Status::Info, rng.chance(0.5))
        } else if rng.chance(c.fail_rate) {
            (Status::Fail, false)
        } else {
            (Status::Ok, true)
        };
        txns.push(GenTxn {
            process: slot.process,
            status,
            applied,
            invoke,
            complete,
            commit,
            first: 0,
            len: 0,
        });
        if status == Status::Info {
            // Jepsen never reuses a process after an indeterminate op.
            clients.crashed(slot.thread);
        }
    }
    txns
}

/// Chooses every transaction's micro-ops in invocation order, retiring keys as they fill up.
/// Writes get per-key counters (1, 2, ...) as values, so every write is unique per key.
fn choose_mops(c: &TxnGenConfig, txns: &mut [GenTxn], rng: &mut Rng) -> Vec<GenMop> {
    let mut order: Vec<u32> = (0..txns.len() as u32).collect();
    order.sort_by_key(|&i| txns[i as usize].invoke);
    let pool = c.active_keys.max(1);
    let mut active: Vec<u32> = (0..pool as u32).collect();
    let mut next_key = pool as u32;
    let mut writes: Vec<u32> = vec![0; pool];
    let mut mops = Vec::with_capacity(txns.len() * (c.min_len + c.max_len) / 2);
    let span = (c.max_len.max(c.min_len) - c.min_len + 1) as u64;
    for i in order {
        let txn = &mut txns[i as usize];
        txn.first = mops.len() as u32;
        txn.len = (c.min_len.max(1) as u64 + rng.below(span)).min(255) as u8;
        for _ in 0..txn.len {
            let slot = rng.below(pool as u64) as usize;
            let key = active[slot];
            if rng.chance(c.read_fraction) {
                mops.push(GenMop { read: true, key, value: 0 });
                continue;
            }
            let k = key as usize;
            if writes.len() <= k {
                writes.resize(k + 1, 0);
            }
            writes[k] += 1;
            mops.push(GenMop { read: false, key, value: writes[k] });
            if writes[k] as usize >= c.max_writes_per_key.max(1) {
                active[slot] = next_key;
                next_key += 1;
            }
        }
    }
    mops
}

/// The store: per key, the values written in commit order, and a log of every commit's
/// writes so that a stale read can be served by rolling back.
struct Store {
    lists: Vec<Vec<u32>>,
}

impl Store {
    fn list(&mut self, key: u32) -> &mut Vec<u32> {
        let k = key as usize;
        if self.lists.len() <= k {
            self.lists.resize_with(k + 1, Vec::new);
        }
        &mut self.lists[k]
    }
}

/// Applies the transactions that took effect at their commit points, filling in reads. A
/// stale read sees the key as it was `s` commits ago: its list truncated to exclude writes made
/// since then.
fn apply(c: &TxnGenConfig, txns: &[GenTxn], mops: &mut [GenMop], rng: &mut Rng) -> Store {
    let mut order: Vec<u32> = (0..txns.len() as u32).filter(|&i| txns[i as usize].applied).collect();
    order.sort_by_key(|&i| txns[i as usize].commit);
    let mut store = Store { lists: Vec::new() };
    // For stale reads: the commit sequence number at which each (key, length) was reached.
    let mut written_at: Vec<Vec<u32>> = Vec::new();
    for (seq, &i) in order.iter().enumerate() {
        let txn = txns[i as usize];
        let stale = c.stale_window > 0 && rng.chance(c.stale_reads);
        let horizon = seq.saturating_sub(1 + rng.below(c.stale_window.max(1) as u64) as usize) as u32;
        for m in &mut mops[txn.first as usize..(txn.first + u32::from(txn.len)) as usize] {
            let k = m.key as usize;
            if written_at.len() <= k {
                written_at.resize_with(k + 1, Vec::new);
            }
            if m.read {
                let mut len = store.list(m.key).len();
                if stale {
                    // Roll back writes by other transactions committed after the horizon.
                    while len > 0 && written_at[k][len - 1] > horizon && written_at[k][len - 1] != seq as u32
                    {
                        len -= 1;
                    }
                }
                m.value = match c.workload {
                    TxnWorkload::ListAppend => len as u32,
                    TxnWorkload::RwRegister => len.checked_sub(1).map_or(0, |j| store.list(m.key)[j]),
                };
            } else {
                store.list(m.key).push(m.value);
                written_at[k].push(seq as u32);
            }
        }
    }
    store
}

/// Writes a history, one event per line, in time order, with `:index` and `:time`. Returns the
/// number of events written.
pub fn write_history(c: &TxnGenConfig, format: TxnFormat, out: &mut impl Write) -> io::Result<usize> {
    let mut rng = Rng::new(c.seed);
    let mut txns = make_txns(c, &mut rng);
    let mut mops = choose_mops(c, &mut txns, &mut rng);
    let store = apply(c, &txns, &mut mops, &mut rng);
    let mut events: Vec<(i64, bool, u32)> = Vec::with_capacity(2 * txns.len());
    for (i, t) in txns.iter().enumerate() {
        events.push((t.invoke, false, i as u32));
        events.push((t.complete, true, i as u32));
    }
    events.sort_unstable();
    let mut w = EventWriter { c, format, store: &store, line: Vec::with_capacity(4096) };
    for (index, &(time, completion, i)) in events.iter().enumerate() {
        let txn = &txns[i as usize];
        let txn_mops = &mops[txn.first as usize..(txn.first + u32::from(txn.len)) as usize];
        w.line.clear();
        w.event(index, time, completion, txn, txn_mops);
        out.write_all(&w.line)?;
    }
    Ok(events.len())
}

/// Writes the history to a string (for tests and benches).
pub fn history_string(c: &TxnGenConfig, format: TxnFormat) -> String {
    let mut buf = Vec::new();
    write_history(c, format, &mut buf).expect("writing to memory cannot fail");
    String::from_utf8(buf).expect("the generator writes ASCII")
}

struct EventWriter<'a> {
    c: &'a TxnGenConfig,
    format: TxnFormat,
    store: &'a Store,
    line: Vec<u8>,
}

impl EventWriter<'_> {
    fn event(&mut self, index: usize, time: i64, completion: bool, txn: &GenTxn, mops: &[GenMop]) {
        let kind = match (completion, txn.status) {
            (false, _) => "invoke",
            (true, Status::Ok) => "ok",
            (true, Status::Info) => "info",
            (true, Status::Fail) => "fail",
        };
        let show_reads = completion && txn.status == Status::Ok;
        let json = self.format == TxnFormat::Json;
        let head = if json {
            format!(
                "{{\"index\":{index},\"time\":{},\"type\":\"{kind}\",\"process\":{},\"f\":\"txn\",\"value\":[",
                time * 1000,
                txn.process
            )
        } else {
            format!(
                "{{:index {index}, :time {}, :type :{kind}, :process {}, :f :txn, :value [",
                time * 1000,
                txn.process
            )
        };
        self.line.extend_from_slice(head.as_bytes());
        for (j, m) in mops.iter().enumerate() {
            if j > 0 {
                self.line.push(if json { b',' } else { b' ' });
            }
            self.mop(m, show_reads);
        }
        self.line.extend_from_slice(b"]}\n");
    }

    fn mop(&mut self, m: &GenMop, show_reads: bool) {
        let json = self.format == TxnFormat::Json;
        let (sep, nil) = if json { (b',', &b"null"[..]) } else { (b' ', &b"nil"[..]) };
        let f: &[u8] = match (m.read, self.c.workload, json) {
            (true, _, false) => b"[:r ",
            (true, _, true) => b"[\"r\",",
            (false, TxnWorkload::ListAppend, false) => b"[:append ",
            (false, TxnWorkload::ListAppend, true) => b"[\"append\",",
            (false, TxnWorkload::RwRegister, false) => b"[:w ",
            (false, TxnWorkload::RwRegister, true) => b"[\"w\",",
        };
        self.line.extend_from_slice(f);
        push_int(&mut self.line, u64::from(m.key));
        self.line.push(sep);
        match (m.read, show_reads, self.c.workload) {
            (true, false, _) => self.line.extend_from_slice(nil),
            (true, true, TxnWorkload::ListAppend) => {
                self.line.push(b'[');
                let list = &self.store.lists[m.key as usize][..m.value as usize];
                for (j, &v) in list.iter().enumerate() {
                    if j > 0 {
                        self.line.push(sep);
                    }
                    push_int(&mut self.line, u64::from(v));
                }
                self.line.push(b']');
            }
            (true, true, TxnWorkload::RwRegister) if m.value == 0 => self.line.extend_from_slice(nil),
            _ => push_int(&mut self.line, u64::from(m.value)),
        }
        self.line.push(b']');
    }
}

/// Appends the decimal digits of `n` (faster than `write!`, which matters for the hundreds of
/// megabytes the large benchmark writes).
fn push_int(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(super::decimal(&mut [0; 20], n).as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_bytes_and_sane_shape() {
        let c =
            TxnGenConfig { txns: 300, active_keys: 5, max_writes_per_key: 4, seed: 3, ..Default::default() };
        let a = history_string(&c, TxnFormat::Edn);
        assert_eq!(a, history_string(&c, TxnFormat::Edn));
        assert_eq!(a.lines().count(), 600);
        assert!(a.contains(":append"), "{a}");
        assert!(a.contains("[:r "), "{a}");
        let j = history_string(&c, TxnFormat::Json);
        assert!(j.lines().all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()));
    }

    #[test]
    fn keys_retire_after_max_writes() {
        let c = TxnGenConfig {
            txns: 200,
            active_keys: 2,
            max_writes_per_key: 3,
            read_fraction: 0.0,
            ..Default::default()
        };
        let text = history_string(&c, TxnFormat::Edn);
        // No key is ever written a fourth time.
        assert!(!text.contains(" 4]"), "{text}");
    }
}
