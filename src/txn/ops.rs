//! Transactions in compact form: every op's micro-ops, with keys interned to small integers and
//! values encoded in 32 bits, and read lists in one shared arena.
//!
//! A read list of Elle's list-append workload holds the whole history of its key, so read
//! lists dominate a history's size (tens of elements per transaction). Kept as 4-byte elements
//! in one arena, a million transactions take a few hundred megabytes instead of gigabytes of
//! value trees.

use super::{TxnError, Workload};
use crate::history::{History, Op, Outcome, Value};
use crate::outcome::DecodeFailure;
use ahash::AHashMap;
use std::fmt::Write as _;

/// What a micro-op does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum MopKind {
    /// `[:append k v]`.
    Append,
    /// `[:r k v]`: a list (list-append) or a value (rw-register).
    Read,
    /// `[:w k v]`.
    Write,
}

/// A value in 32 bits: a non-negative integer below 2^31 stands for itself; anything else is
/// an index into `Txns::others` with the top bit set; [`NIL`] is `nil`.
pub type Elem = u32;

/// `nil`: a register's initial value, or a read whose result is unknown.
pub const NIL: u32 = u32::MAX;
/// The bit that marks an [`Elem`] as an index into [`Txns::others`].
pub(crate) const OTHER: u32 = 1 << 31;

/// One micro-op. A nil read has both `value` and `len` [`NIL`], whatever the workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mop {
    /// What it does.
    pub kind: MopKind,
    /// List reads: which arena of [`Txns::elems`] holds the list (readers that scan a history
    /// in parallel fill one arena per piece).
    pub arena: u8,
    /// The key, interned (see [`Txns::key`]).
    pub key: u32,
    /// Appends and writes: the value. Register reads: the value read ([`NIL`] for nil). List
    /// reads: where the list starts in [`Txns::elems`].
    pub value: u32,
    /// List reads: the list's length, or [`NIL`] when the read returned nil (unknown for a
    /// transaction that did not complete `:ok`, the empty list for one that did).
    pub len: u32,
}

/// The micro-ops of every op of a history, indexed like [`History::ops`].
#[derive(Clone, Debug, Default)]
pub struct Txns {
    /// The workload the micro-ops were decoded for (it decides what a read holds).
    pub workload: Workload,
    /// `mops[starts[i]..starts[i + 1]]` are op i's micro-ops.
    pub(crate) starts: Vec<u32>,
    /// Every micro-op, op after op.
    pub mops: Vec<Mop>,
    /// Every list read's elements, in one or more arenas.
    pub elems: Vec<Vec<Elem>>,
    /// Key id → key.
    pub(crate) keys: Vec<Value>,
    /// Values that are not small non-negative integers, by [`Elem`] index.
    pub(crate) others: Vec<Value>,
}

impl Txns {
    /// The micro-ops of op `i`.
    #[inline]
    pub fn of(&self, i: usize) -> &[Mop] {
        &self.mops[self.starts[i] as usize..self.starts[i + 1] as usize]
    }

    /// The index in [`Txns::mops`] of op `i`'s first micro-op.
    #[inline]
    pub fn first_mop(&self, i: usize) -> usize {
        self.starts[i] as usize
    }

    /// Number of ops.
    pub fn len(&self) -> usize {
        self.starts.len().saturating_sub(1)
    }

    /// True when there are no ops.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of distinct keys.
    pub fn key_count(&self) -> usize {
        self.keys.len()
    }

    /// The key with id `k`.
    pub fn key(&self, k: u32) -> &Value {
        &self.keys[k as usize]
    }

    /// The elements a list read returned (empty for a nil read, and for any other micro-op).
    #[inline]
    pub fn list(&self, m: &Mop) -> &[Elem] {
        let is_list = m.kind == MopKind::Read && m.len != NIL && self.workload == Workload::ListAppend;
        if is_list {
            &self.elems[m.arena as usize][m.value as usize..(m.value + m.len) as usize]
        } else {
            &[]
        }
    }

    /// The value an [`Elem`] stands for.
    pub fn value(&self, e: Elem) -> Value {
        match e {
            NIL => Value::Nil,
            e if e & OTHER != 0 => self.others[(e & !OTHER) as usize].clone(),
            e => Value::Int(i64::from(e)),
        }
    }

    /// A micro-op as EDN (`[:append 3 7]`), long lists shortened to their first and last
    /// elements.
    pub fn mop_text(&self, m: &Mop) -> String {
        let mut s = String::new();
        let f = match m.kind {
            MopKind::Append => "append",
            MopKind::Read => "r",
            MopKind::Write => "w",
        };
        let _ = write!(s, "[:{f} {} ", self.key(m.key));
        match m.kind {
            MopKind::Read if self.workload == Workload::ListAppend => {
                if m.len == NIL {
                    s.push_str("nil");
                } else {
                    s.push_str(&self.list_text(self.list(m)));
                }
            }
            _ => {
                let _ = write!(s, "{}", self.value(m.value));
            }
        }
        s.push(']');
        s
    }

    /// A list as EDN, shortened to its first three and last three elements when longer than 8.
    pub fn list_text(&self, list: &[Elem]) -> String {
        let show = |es: &[Elem]| es.iter().map(|&e| self.value(e).to_string()).collect::<Vec<_>>().join(" ");
        if list.len() <= 8 {
            format!("[{}]", show(list))
        } else {
            format!("[{} … {}] ({} elements)", show(&list[..3]), show(&list[list.len() - 3..]), list.len())
        }
    }

    /// Op `i`'s micro-ops as EDN.
    pub fn txn_text(&self, i: usize) -> String {
        let mops: Vec<String> = self.of(i).iter().map(|m| self.mop_text(m)).collect();
        format!("[{}]", mops.join(" "))
    }

    /// Approximate heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.starts.capacity() * 4
            + self.mops.capacity() * std::mem::size_of::<Mop>()
            + self.elems.iter().map(|a| a.capacity() * 4).sum::<usize>()
            + (self.keys.capacity() + self.others.capacity()) * std::mem::size_of::<Value>()
    }
}

/// Builds [`Txns`] op by op, interning keys and values.
/// (A `Default` builder is for list-append.)
#[derive(Default)]
pub(crate) struct TxnsBuilder {
    pub(crate) txns: Txns,
    key_ids: AHashMap<Value, u32>,
    /// Integer keys, looked up without building a [`Value`] (the fast reader's common case).
    int_keys: AHashMap<i64, u32>,
    other_ids: AHashMap<Value, u32>,
}

impl TxnsBuilder {
    /// An empty builder for micro-ops of `workload`.
    pub fn new(workload: Workload) -> TxnsBuilder {
        let mut b = TxnsBuilder::default();
        b.txns.workload = workload;
        b.txns.starts.push(0);
        b
    }

    /// Ends the current op: the micro-ops pushed since the last call are its own.
    pub fn end_op(&mut self) {
        self.txns.starts.push(self.txns.mops.len() as u32);
    }

    /// The id of key `k`.
    pub fn key_id(&mut self, k: &Value) -> u32 {
        if let Some(&id) = self.key_ids.get(k) {
            return id;
        }
        let id = self.txns.keys.len() as u32;
        self.txns.keys.push(k.clone());
        self.key_ids.insert(k.clone(), id);
        id
    }

    /// The id of the integer key `k`.
    #[inline]
    pub fn int_key_id(&mut self, k: i64) -> u32 {
        if let Some(&id) = self.int_keys.get(&k) {
            return id;
        }
        let id = self.key_id(&Value::Int(k));
        self.int_keys.insert(k, id);
        id
    }

    /// The [`Elem`] for value `v`.
    pub fn elem(&mut self, v: &Value) -> Elem {
        match v {
            Value::Nil => NIL,
            Value::Int(i) if (0..i64::from(OTHER)).contains(i) => *i as u32,
            other => {
                if let Some(&id) = self.other_ids.get(other) {
                    return id;
                }
                let id = OTHER | self.txns.others.len() as u32;
                self.txns.others.push(other.clone());
                self.other_ids.insert(other.clone(), id);
                id
            }
        }
    }

    /// Pushes a micro-op of the current op.
    #[inline]
    pub fn push(&mut self, mop: Mop) {
        self.txns.mops.push(mop);
    }

    /// Appends a read list's elements to the arena; returns where they start.
    pub fn push_list(&mut self, items: &[Value]) -> u32 {
        if self.txns.elems.is_empty() {
            self.txns.elems.push(Vec::new());
        }
        let start = self.txns.elems[0].len() as u32;
        for v in items {
            let e = self.elem(v);
            self.txns.elems[0].push(e);
        }
        start
    }

    /// The finished micro-ops.
    pub fn finish(self) -> Txns {
        self.txns
    }
}

/// Guesses the workload from the micro-ops: any `:append` means list-append; otherwise `:w`
/// means rw-register; a history of reads alone is list-append when some read returned a list.
/// `None` when the ops are not transactions of `:append`, `:r` and `:w` micro-ops.
pub fn guess_workload(history: &History) -> Option<Workload> {
    let (mut append, mut write, mut list_read, mut any) = (false, false, false, false);
    for op in &history.ops {
        if history.f_name(op) != "txn" {
            return None;
        }
        for v in [op.input, op.output] {
            for m in history.value(v).as_seq().unwrap_or_default() {
                let items = m.as_seq()?;
                any = true;
                match items.first().and_then(Value::as_name)? {
                    "append" => append = true,
                    "w" => write = true,
                    "r" => list_read |= items.get(2).is_some_and(|v| v.as_seq().is_some()),
                    _ => return None,
                }
            }
        }
    }
    match (append, write, list_read || !any) {
        (true, _, _) => Some(Workload::ListAppend),
        (false, true, _) => Some(Workload::RwRegister),
        (false, false, true) => Some(Workload::ListAppend),
        (false, false, false) => Some(Workload::RwRegister),
    }
}

/// Decodes every op's micro-ops for `workload`. An op that is not a transaction of the
/// workload's micro-ops is an error naming its line and what was expected.
pub fn decode(history: &History, workload: Workload) -> Result<Txns, TxnError> {
    let mut b = TxnsBuilder::new(workload);
    for op in &history.ops {
        decode_op(history, op, workload, &mut b).map_err(|message| {
            let line = if op.outcome == Outcome::Ok { op.complete_line } else { op.invoke_line };
            TxnError::Decode(DecodeFailure { line, index: op.invoke_index, message })
        })?;
        b.end_op();
    }
    Ok(b.finish())
}

/// The value whose micro-ops count: the completion's for an `:ok` op (it has what reads
/// returned), else the invocation's (a crashed or failed op's reads returned nothing).
fn txn_value<'h>(history: &'h History, op: &Op) -> &'h Value {
    let out = history.value(op.output);
    if op.outcome == Outcome::Ok || out.as_seq().is_some_and(|s| !s.is_empty()) {
        out
    } else {
        history.value(op.input)
    }
}

fn decode_op(history: &History, op: &Op, workload: Workload, b: &mut TxnsBuilder) -> Result<(), String> {
    let f = history.f_name(op);
    if f != "txn" {
        return Err(format!("a {} history holds :txn ops, but this op's :f is :{f}", workload.name()));
    }
    let value = txn_value(history, op);
    // Some clients record a crashed or failed transaction's value as nil: no micro-ops.
    if value.is_nil() {
        return Ok(());
    }
    let Some(mops) = value.as_seq() else {
        return Err(format!(
            "a transaction's value is a vector of micro-ops such as {}, got {value}",
            workload.example()
        ));
    };
    for m in mops {
        let (mop, shape) = decode_mop(m, b).map_err(|why| format!("micro-op {m}: {why}"))?;
        shape.fits(workload).map_err(|why| format!("micro-op {m}: {why}"))?;
        b.push(mop);
    }
    Ok(())
}

/// What a decoded micro-op turned out to be, for checking it against the workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    Append,
    Write,
    /// A read that returned a list.
    ListRead,
    /// A read that returned one value.
    ValueRead,
    /// A read that returned nil (either workload).
    NilRead,
}

impl Shape {
    /// Whether a micro-op of this shape belongs to `workload`, and if not, why.
    pub(crate) fn fits(self, workload: Workload) -> Result<(), String> {
        match (self, workload) {
            (Shape::Append | Shape::ListRead, Workload::RwRegister)
            | (Shape::Write | Shape::ValueRead, Workload::ListAppend) => Err(format!(
                "expected a {} micro-op: [f k v] with f one of {}{}",
                workload.name(),
                workload.mop_names(),
                if workload == Workload::ListAppend { ", and a read returning a list (or nil)" } else { "" }
            )),
            _ => Ok(()),
        }
    }
}

/// Decodes one micro-op, `[:append k v]`, `[:w k v]` or `[:r k v]`, whatever the workload.
pub(crate) fn decode_mop(m: &Value, b: &mut TxnsBuilder) -> Result<(Mop, Shape), String> {
    let expected = || "expected [f k v] with f one of :append, :r, :w".to_string();
    let Some([f, k, v]) = m.as_seq().and_then(|s| <&[Value; 3]>::try_from(s).ok()) else {
        return Err(expected());
    };
    let key = b.key_id(k);
    let mop = |kind, value, len| Mop { kind, arena: 0, key, value, len };
    match f.as_name() {
        Some("append" | "w") if v.is_nil() => {
            Err("a write needs a value; nil is the initial state of every key".to_string())
        }
        Some("append") => Ok((mop(MopKind::Append, b.elem(v), 0), Shape::Append)),
        Some("w") => Ok((mop(MopKind::Write, b.elem(v), 0), Shape::Write)),
        Some("r") => Ok(match v {
            Value::Nil => (mop(MopKind::Read, NIL, NIL), Shape::NilRead),
            Value::Vector(items) | Value::List(items) => {
                let start = b.push_list(items);
                (mop(MopKind::Read, start, items.len() as u32), Shape::ListRead)
            }
            _ => (mop(MopKind::Read, b.elem(v), 0), Shape::ValueRead),
        }),
        _ => Err(expected()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{Format, ReadOptions, read_bytes};

    fn history(text: &str) -> History {
        read_bytes("t.edn", text.as_bytes(), Format::Edn, &ReadOptions::default()).unwrap()
    }

    #[test]
    fn decodes_appends_and_reads() {
        let h = history(
            "{:process 0 :type :invoke :f :txn :value [[:append :x 1] [:r :y nil]]}\n\
             {:process 0 :type :ok :f :txn :value [[:append :x 1] [:r :y [1 \"a\" 2]]]}\n",
        );
        assert_eq!(guess_workload(&h), Some(Workload::ListAppend));
        let t = decode(&h, Workload::ListAppend).unwrap();
        assert_eq!(t.len(), 1);
        let mops = t.of(0);
        assert_eq!(mops.len(), 2);
        assert_eq!(mops[0].kind, MopKind::Append);
        assert_eq!(t.key(mops[0].key), &Value::keyword("x"));
        assert_eq!(t.list(&mops[1]).len(), 3);
        assert_eq!(t.value(t.list(&mops[1])[1]), Value::string("a"));
        assert_eq!(t.txn_text(0), "[[:append :x 1] [:r :y [1 \"a\" 2]]]");
    }

    #[test]
    fn bad_micro_ops_name_their_line() {
        let h = history(
            "{:process 0 :type :invoke :f :txn :value [[:append :x 1]]}\n\
             {:process 0 :type :ok :f :txn :value [[:append :x 1] [:r :y 3]]}\n",
        );
        let Err(TxnError::Decode(d)) = decode(&h, Workload::ListAppend) else { panic!() };
        assert_eq!(d.line, 2);
        assert!(d.message.contains("returning a list"), "{}", d.message);
        let h = history("{:process 0 :type :invoke :f :read :value nil}\n");
        let Err(TxnError::Decode(d)) = decode(&h, Workload::ListAppend) else { panic!() };
        assert!(d.message.contains(":txn"), "{}", d.message);
    }

    #[test]
    fn guesses_rw_register_from_writes() {
        let h = history(
            "{:process 0 :type :invoke :f :txn :value [[:w :x 1] [:r :y nil]]}\n\
             {:process 0 :type :ok :f :txn :value [[:w :x 1] [:r :y 2]]}\n",
        );
        assert_eq!(guess_workload(&h), Some(Workload::RwRegister));
        let t = decode(&h, Workload::RwRegister).unwrap();
        assert_eq!(t.txn_text(0), "[[:w :x 1] [:r :y 2]]");
    }
}
