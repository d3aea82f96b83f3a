//! The compact form of a history of sessions and transactions: committed transactions in
//! session order, their operations in program order, the writes of aborted transactions kept
//! aside, and no times at all (these formats record none, so no real-time order is implied).

use ahash::RandomState;
use hashbrown::HashMap;

/// A transaction: its index among the committed transactions (sessions in order, each
/// session's transactions in order), or [`INIT`].
pub type TxnId = u32;

/// The implicit initial transaction, which writes 0 to every key and precedes every other
/// transaction in session order (Biswas & Enea's ⊥ transaction).
pub const INIT: TxnId = u32::MAX;

/// One read or write of a key: the key's index in [`WeakHistory::keys`] and the value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Op {
    /// The key, interned.
    pub key: u32,
    /// Whether it writes (else it reads).
    pub write: bool,
    /// The value read or written.
    pub value: u64,
}

/// The keys' names, as the input spelled them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Keys {
    /// Numbered keys (Plume, AWDIT, dbcop's JSON): the number of each interned key.
    Numbers(Vec<u64>),
    /// Named keys (dbcop's `.hist` text).
    Names(Vec<String>),
}

impl Keys {
    /// The name of interned key `key`.
    pub fn name(&self, key: u32) -> String {
        match self {
            Keys::Numbers(n) => n.get(key as usize).map_or_else(|| format!("#{key}"), u64::to_string),
            Keys::Names(n) => n.get(key as usize).cloned().unwrap_or_else(|| format!("#{key}")),
        }
    }

    /// How many keys there are.
    pub fn len(&self) -> usize {
        match self {
            Keys::Numbers(n) => n.len(),
            Keys::Names(n) => n.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A history of committed transactions grouped in sessions. Transaction `t`'s ops are
/// `ops[txn_start[t]..txn_start[t + 1]]`; session `s` holds transactions
/// `session_start[s]..session_start[s + 1]`.
#[derive(Clone, Debug)]
pub struct WeakHistory {
    /// The file, as the user named it.
    pub source: String,
    /// Whether an implicit initial transaction writes 0 to every key ([`INIT`]).
    pub init: bool,
    /// Every op of every committed transaction, transaction after transaction.
    pub ops: Vec<Op>,
    /// Where each transaction's ops start, plus one end marker.
    pub txn_start: Vec<u32>,
    /// Where each session's transactions start, plus one end marker.
    pub session_start: Vec<u32>,
    /// The session of each transaction.
    pub txn_session: Vec<u32>,
    /// The input line each transaction starts on (0 where the format has no lines).
    pub txn_line: Vec<u32>,
    /// The writes of aborted transactions (and writes marked as failed), as (key, value).
    pub aborted: Vec<(u32, u64)>,
    /// The keys' names.
    pub keys: Keys,
}

impl WeakHistory {
    /// How many committed transactions there are (the initial one not counted).
    pub fn txn_count(&self) -> usize {
        self.txn_session.len()
    }

    /// How many sessions there are.
    pub fn session_count(&self) -> usize {
        self.session_start.len() - 1
    }

    /// Transaction `t`'s ops, in program order (none for [`INIT`]).
    pub fn txn_ops(&self, t: TxnId) -> &[Op] {
        if t == INIT {
            return &[];
        }
        &self.ops[self.txn_start[t as usize] as usize..self.txn_start[t as usize + 1] as usize]
    }

    /// Transaction `t`'s position in its session (0 for the first).
    pub fn position(&self, t: TxnId) -> u32 {
        t - self.session_start[self.txn_session[t as usize] as usize]
    }

    /// How a report names transaction `t`: `T5 (session 2, #3, line 17)`.
    pub fn describe(&self, t: TxnId) -> String {
        if t == INIT {
            return "the initial transaction".to_string();
        }
        let line = self.txn_line[t as usize];
        let at = if line > 0 { format!(", line {line}") } else { String::new() };
        format!("T{t} (session {}, #{}{at})", self.txn_session[t as usize], self.position(t))
    }
}

/// Builds a [`WeakHistory`] one session, transaction and op at a time, interning keys.
#[derive(Debug)]
pub struct WeakBuilder {
    history: WeakHistory,
    numbers: HashMap<u64, u32, RandomState>,
    names: HashMap<String, u32, RandomState>,
    /// Ops of the transaction being built start here.
    open: Option<usize>,
}

impl WeakBuilder {
    /// An empty history read from `source`; `init` says whether an implicit initial
    /// transaction writes 0 to every key.
    pub fn new(source: &str, init: bool) -> WeakBuilder {
        WeakBuilder {
            history: WeakHistory {
                source: source.to_string(),
                init,
                ops: Vec::new(),
                txn_start: vec![0],
                session_start: vec![0],
                txn_session: Vec::new(),
                txn_line: Vec::new(),
                aborted: Vec::new(),
                keys: Keys::Numbers(Vec::new()),
            },
            numbers: HashMap::default(),
            names: HashMap::default(),
            open: None,
        }
    }

    /// The interned index of numbered key `n`.
    pub fn number_key(&mut self, n: u64) -> u32 {
        let Keys::Numbers(list) = &mut self.history.keys else { unreachable!("keys are named") };
        *self.numbers.entry(n).or_insert_with(|| {
            list.push(n);
            (list.len() - 1) as u32
        })
    }

    /// The interned index of named key `name` (a builder holds numbered or named keys, not
    /// both: the first key named decides).
    pub fn name_key(&mut self, name: &str) -> u32 {
        if self.history.keys.is_empty() {
            self.history.keys = Keys::Names(Vec::new());
        }
        let Keys::Names(list) = &mut self.history.keys else { unreachable!("keys are numbered") };
        if let Some(&k) = self.names.get(name) {
            return k;
        }
        list.push(name.to_string());
        let k = (list.len() - 1) as u32;
        self.names.insert(name.to_string(), k);
        k
    }

    /// Starts a transaction at input line `line` (ending any open one as committed).
    pub fn begin_txn(&mut self, line: u32) {
        self.end_txn(true);
        self.open = Some(self.history.ops.len());
        self.history.txn_line.push(line);
    }

    /// Adds an op to the open transaction (opening one if none is).
    pub fn push(&mut self, op: Op) {
        if self.open.is_none() {
            self.begin_txn(0);
        }
        self.history.ops.push(op);
    }

    /// Ends the open transaction: kept if `committed`, else dropped with its writes recorded
    /// as aborted.
    pub fn end_txn(&mut self, committed: bool) {
        let Some(start) = self.open.take() else { return };
        let h = &mut self.history;
        if committed {
            h.txn_start.push(h.ops.len() as u32);
            h.txn_session.push((h.session_start.len() - 1) as u32);
        } else {
            let aborted: Vec<(u32, u64)> =
                h.ops[start..].iter().filter(|o| o.write).map(|o| (o.key, o.value)).collect();
            h.aborted.extend(aborted);
            h.ops.truncate(start);
            h.txn_line.pop();
        }
    }

    /// Records a write of an aborted transaction (or one marked as failed).
    pub fn aborted_write(&mut self, key: u32, value: u64) {
        self.history.aborted.push((key, value));
    }

    /// Ends the open session (and transaction); an empty session is dropped.
    pub fn end_session(&mut self) {
        self.end_txn(true);
        let h = &mut self.history;
        if *h.session_start.last().expect("marker") as usize != h.txn_session.len() {
            h.session_start.push(h.txn_session.len() as u32);
        }
    }

    /// The history built.
    pub fn finish(mut self) -> WeakHistory {
        self.end_session();
        self.history
    }
}
