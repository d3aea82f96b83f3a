//! Histories with known truth, in every research format: serializable histories of `N`
//! transactions of 8 ops over distinct keys (half reads, unique written values), run serially
//! and dealt to sessions round-robin; and the same with one fault added, a small gadget on keys
//! of its own that shows one violation kind.

use super::Rng;
use std::fmt::Write as _;

/// One op of a generated transaction: key, write, value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GenOp {
    /// The key.
    pub key: u64,
    /// Whether it writes.
    pub write: bool,
    /// The value.
    pub value: u64,
}

/// A generated transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenTxn {
    /// Its ops, in program order.
    pub ops: Vec<GenOp>,
    /// Whether it committed.
    pub committed: bool,
}

/// A generated history: sessions of transactions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GenHistory {
    /// The sessions.
    pub sessions: Vec<Vec<GenTxn>>,
}

/// What to generate.
#[derive(Clone, Copy, Debug)]
pub struct GenConfig {
    /// Transactions.
    pub txns: usize,
    /// Sessions they are dealt to.
    pub sessions: usize,
    /// Keys to choose from (at least the ops per transaction).
    pub keys: u64,
    /// Ops per transaction, half of them reads.
    pub ops: usize,
    /// Seed: the same seed generates the same history.
    pub seed: u64,
}

impl Default for GenConfig {
    fn default() -> GenConfig {
        GenConfig { txns: 1000, sessions: 10, keys: 1000, ops: 8, seed: 0 }
    }
}

/// A serializable history: transactions run one after another (each reads the latest values,
/// initially 0, and writes fresh ones), transaction `i` in session `i % sessions`.
pub fn serializable(config: &GenConfig) -> GenHistory {
    serial_with_skew(config, None)
}

/// As [`serializable`], but transactions `at` and `at + 1` (in sessions `at % sessions` and
/// the next) are a write skew: both read the same two keys' latest values, and each writes
/// one of them. The history is then snapshot isolated but not serializable, and which it is
/// turns on the write order of those keys, which nothing records.
pub fn serial_with_skew(config: &GenConfig, at: Option<usize>) -> GenHistory {
    let mut rng = Rng::new(config.seed);
    let keys = config.keys.max(config.ops as u64).max(2);
    let mut state = vec![0u64; keys as usize];
    let mut next_value = 1;
    let sessions = config.sessions.max(1);
    let mut h = GenHistory { sessions: vec![Vec::new(); sessions] };
    let mut chosen: Vec<u64> = Vec::with_capacity(config.ops);
    for i in 0..config.txns {
        if Some(i) == at {
            let x = rng.below(keys);
            let y = (x + 1 + rng.below(keys - 1)) % keys;
            let reads = [x, y].map(|key| GenOp { key, write: false, value: state[key as usize] });
            for (j, key) in [x, y].into_iter().enumerate() {
                state[key as usize] = next_value;
                let write = GenOp { key, write: true, value: next_value };
                next_value += 1;
                h.sessions[(i + j) % sessions]
                    .push(GenTxn { ops: vec![reads[0], reads[1], write], committed: true });
            }
            continue;
        }
        chosen.clear();
        while chosen.len() < config.ops {
            let k = rng.below(keys);
            if !chosen.contains(&k) {
                chosen.push(k);
            }
        }
        let mut ops = Vec::with_capacity(config.ops);
        for (j, &key) in chosen.iter().enumerate() {
            // Reads and writes alternate: half of each, on distinct keys.
            if j % 2 == 0 {
                ops.push(GenOp { key, write: false, value: state[key as usize] });
            } else {
                state[key as usize] = next_value;
                ops.push(GenOp { key, write: true, value: next_value });
                next_value += 1;
            }
        }
        h.sessions[i % sessions].push(GenTxn { ops, committed: true });
    }
    h.sessions.retain(|s| !s.is_empty());
    h
}

/// A violation kind a fault gadget shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// A read of a value nobody writes.
    ThinAir,
    /// A read of an aborted write.
    Aborted,
    /// A read of the transaction's own later write.
    Future,
    /// A read, after the transaction's own write, of another's value.
    NotMyOwnWrite,
    /// A read, after two own writes, of the first.
    NotMyLastWrite,
    /// A read of an overwritten value.
    Intermediate,
    /// Two reads of one key from two writers.
    NonRepeatable,
    /// Read committed violated: a later read sees an older version (non-monotonic).
    NonMonotonic,
    /// Read atomic violated (read committed holds): a fractured read.
    Fractured,
    /// Causal violated (read atomic holds): a missed causal dependency.
    Causal,
    /// Session order and reads-from alone are cyclic.
    HbCycle,
}

impl Fault {
    /// Every fault.
    pub const ALL: [Fault; 11] = [
        Fault::ThinAir,
        Fault::Aborted,
        Fault::Future,
        Fault::NotMyOwnWrite,
        Fault::NotMyLastWrite,
        Fault::Intermediate,
        Fault::NonRepeatable,
        Fault::NonMonotonic,
        Fault::Fractured,
        Fault::Causal,
        Fault::HbCycle,
    ];

    /// The violation name a check reports for it.
    pub fn name(self) -> &'static str {
        match self {
            Fault::ThinAir => "thin-air-read",
            Fault::Aborted => "aborted-read",
            Fault::Future => "future-read",
            Fault::NotMyOwnWrite => "not-my-own-write",
            Fault::NotMyLastWrite => "not-my-last-write",
            Fault::Intermediate => "intermediate-read",
            Fault::NonRepeatable => "non-repeatable-read",
            Fault::NonMonotonic => "non-monotonic-read",
            Fault::Fractured => "fractured-read",
            Fault::Causal => "causality-violation",
            Fault::HbCycle => "cyclic-happens-before",
        }
    }

    /// The weakest level among read committed, read atomic, causal (0, 1, 2) the fault
    /// violates: it violates that level and every stronger one, and no weaker one.
    pub fn weakest_level(self) -> usize {
        match self {
            Fault::NonRepeatable | Fault::Fractured => 1,
            Fault::Causal => 2,
            _ => 0,
        }
    }
}

fn w(key: u64, value: u64) -> GenOp {
    GenOp { key, write: true, value }
}

fn r(key: u64, value: u64) -> GenOp {
    GenOp { key, write: false, value }
}

fn txn(ops: Vec<GenOp>) -> GenTxn {
    GenTxn { ops, committed: true }
}

/// Adds `fault`'s gadget to `h` as sessions of their own, on keys from `key` up and values
/// from `value` up (both beyond any the history uses). The gadget writes every value it reads
/// from a transaction of its own, so it needs no initial transaction.
pub fn add_fault(h: &mut GenHistory, fault: Fault, key: u64, value: u64) {
    let (x, y) = (key, key + 1);
    let v = |i: u64| value + i;
    let gadget: Vec<Vec<GenTxn>> = match fault {
        Fault::ThinAir => vec![vec![txn(vec![r(x, v(0))])]],
        Fault::Aborted => {
            vec![vec![GenTxn { ops: vec![w(x, v(0))], committed: false }, txn(vec![r(x, v(0))])]]
        }
        Fault::Future => vec![vec![txn(vec![r(x, v(0)), w(x, v(0))])]],
        Fault::NotMyOwnWrite => vec![vec![txn(vec![w(x, v(0))]), txn(vec![w(x, v(1)), r(x, v(0))])]],
        Fault::NotMyLastWrite => vec![vec![txn(vec![w(x, v(0)), w(x, v(1)), r(x, v(0))])]],
        Fault::Intermediate => vec![vec![txn(vec![w(x, v(0)), w(x, v(1))])], vec![txn(vec![r(x, v(0))])]],
        Fault::NonRepeatable => {
            vec![vec![txn(vec![w(x, v(0))]), txn(vec![w(x, v(1))])], vec![txn(vec![r(x, v(0)), r(x, v(1))])]]
        }
        Fault::NonMonotonic => vec![
            vec![txn(vec![w(x, v(0)), w(y, v(1))]), txn(vec![w(x, v(2)), w(y, v(3))])],
            vec![txn(vec![r(x, v(2)), r(y, v(1))])],
        ],
        Fault::Fractured => vec![
            vec![txn(vec![w(x, v(0)), w(y, v(1))]), txn(vec![w(x, v(2)), w(y, v(3))])],
            vec![txn(vec![r(y, v(1)), r(x, v(2))])],
        ],
        Fault::Causal => vec![
            vec![txn(vec![w(x, v(0))]), txn(vec![w(x, v(1))])],
            vec![txn(vec![r(x, v(1)), w(y, v(2))])],
            vec![txn(vec![r(y, v(2)), r(x, v(0))])],
        ],
        Fault::HbCycle => {
            vec![vec![txn(vec![r(x, v(1)), w(y, v(0))])], vec![txn(vec![r(y, v(0)), w(x, v(1))])]]
        }
    };
    h.sessions.extend(gadget);
}

impl GenHistory {
    /// Keys and values beyond any this history uses: (next key, next value).
    pub fn fresh(&self) -> (u64, u64) {
        let ops = self.sessions.iter().flatten().flat_map(|t| &t.ops);
        let (k, v) = ops.fold((0, 0), |(k, v), o| (k.max(o.key + 1), v.max(o.value + 1)));
        (k, v.max(1))
    }

    /// As Plume text: aborted transactions' ops with transaction `-1`.
    pub fn to_plume(&self) -> String {
        let mut out = String::new();
        let mut id = 0;
        for (s, session) in self.sessions.iter().enumerate() {
            for t in session {
                let tid = if t.committed { id.to_string() } else { "-1".to_string() };
                id += 1;
                for o in &t.ops {
                    let kind = if o.write { 'w' } else { 'r' };
                    let _ = writeln!(out, "{kind}({},{},{s},{tid})", o.key, o.value);
                }
            }
        }
        out
    }

    /// As AWDIT's test format (which cannot hold aborted transactions: they are left out).
    /// The format has no initial transaction: when some read sees a key's initial 0, a session
    /// of its own comes first, with one transaction that writes 0 to each such key.
    pub fn to_awdit(&self) -> String {
        let mut zeros: Vec<u64> = self
            .sessions
            .iter()
            .flatten()
            .flat_map(|t| &t.ops)
            .filter(|o| !o.write && o.value == 0)
            .map(|o| o.key)
            .collect();
        zeros.sort_unstable();
        zeros.dedup();
        let init = (!zeros.is_empty())
            .then(|| vec![GenTxn { ops: zeros.iter().map(|&k| w(k, 0)).collect(), committed: true }]);
        let op = |o: &GenOp| format!("{} {} {}", if o.write { 'w' } else { 'r' }, o.key, o.value);
        committed_text(
            init.iter().chain(&self.sessions),
            |ops| ops.iter().map(op).collect::<Vec<_>>().join("\n"),
            "\n-\n",
            "\n=\n",
        )
    }

    /// As dbcop's JSON.
    pub fn to_dbcop_json(&self) -> String {
        let data: Vec<serde_json::Value> = self
            .sessions
            .iter()
            .map(|s| {
                s.iter()
                    .map(|t| {
                        let events: Vec<serde_json::Value> = t
                            .ops
                            .iter()
                            .map(|o| {
                                serde_json::json!({"write": o.write, "variable": o.key, "value": o.value, "success": t.committed})
                            })
                            .collect();
                        serde_json::json!({"events": events, "success": t.committed})
                    })
                    .collect()
            })
            .collect();
        let params = serde_json::json!({"n_node": self.sessions.len(), "n_variable": self.fresh().0});
        serde_json::json!({"params": params, "info": "generated by labrys", "data": data}).to_string()
    }

    /// As dbcop's `.hist` text (which cannot hold aborted transactions: they are left out);
    /// key `k` is named `x<k>`.
    pub fn to_dbcop_hist(&self) -> String {
        let op = |o: &GenOp| format!("x{}{}{}", o.key, if o.write { ":=" } else { "==" }, o.value);
        let txn = |ops: &[GenOp]| format!("[{}]", ops.iter().map(op).collect::<Vec<_>>().join(" "));
        committed_text(&self.sessions, txn, "\n", "\n---\n")
    }
}

/// The committed transactions of `sessions` as text: each transaction written by `txn`, the
/// transactions of a session joined by `between_txns`, sessions by `between_sessions`, and a
/// final line break.
fn committed_text<'a>(
    sessions: impl IntoIterator<Item = &'a Vec<GenTxn>>,
    txn: impl Fn(&[GenOp]) -> String,
    between_txns: &str,
    between_sessions: &str,
) -> String {
    let sessions: Vec<String> = sessions
        .into_iter()
        .map(|s| s.iter().filter(|t| t.committed).map(|t| txn(&t.ops)).collect::<Vec<_>>().join(between_txns))
        .collect();
    let mut out = sessions.join(between_sessions);
    out.push('\n');
    out
}
