//! The multi-register's claims (`multi-register`), re-derived from the raw transactions: what
//! each one read before writing a register (its external reads), what it read after its own
//! write, and the last value it wrote to each register (the only one others can see, since a
//! transaction applies atomically).
//!
//! The checker derives no data edges, conflicts or classes for this model (it has no value
//! inference: only counterexamples and witnesses are claimed, replayed through the model). These
//! rules say which such claims hold, so that none is ever shown on trust:
//!
//! - `wr` a → b: b completed and read register k = v before writing k, v is not k's initial
//!   value, and a is the only transaction that may have happened whose last write to k is v;
//! - `ww` a → b: as `wr`, and b then writes k itself (a's write came directly before b's);
//! - `rw` a → b: a completed and read k = v before writing k, b may have happened and last
//!   writes w ≠ v to k, and v cannot come back after b: v is k's initial value and nobody
//!   writes it, or v is written once (initially or by one transaction) and b itself read it;
//! - a conflict on one transaction: it read a value no transaction that may have happened wrote
//!   and that is not initial (`garbage-read`), or (unnamed) it read, after writing a register
//!   itself, something else than it wrote, or read one register twice, before writing it,
//!   with different results;
//! - classes `garbage-read` and `read-of-failed-write` (a failed transaction wrote the value).
//!
//! When reads of `nil` were read as unknown values (Knossos's reading, `--nil-reads`), every read
//! of `nil` is taken as unknown here: a claim resting on one is refuted, never accepted.

use super::linear::{Check, ModelFacts, Setting, ensure, raw_ops};
use crate::history::{History, Value};
use crate::model::EdgeKind;
use crate::vocab::ClassKind;
use ahash::{AHashMap, AHashSet};

/// What one transaction did, per register, from its raw micro-ops.
#[derive(Default)]
struct TxnFacts {
    completed: bool,
    /// Reported failed: it did not happen.
    failed: bool,
    /// Known reads of a register before the transaction wrote it: (register, value).
    external: Vec<(Value, Value)>,
    /// The last value it wrote to each register: (register, value).
    last_writes: Vec<(Value, Value)>,
    /// Why its own reads contradict each other or its own writes, if they do.
    inconsistent: Option<String>,
}

impl TxnFacts {
    fn read(&self, k: &Value) -> Option<&Value> {
        self.external.iter().find(|(r, _)| r == k).map(|(_, v)| v)
    }

    fn last_write(&self, k: &Value) -> Option<&Value> {
        self.last_writes.iter().find(|(r, _)| r == k).map(|(_, v)| v)
    }
}

/// The multi-register's transactions by position, with who last-wrote each (register, value).
pub(super) struct MultiRegisterFacts {
    txns: AHashMap<u32, TxnFacts>,
    /// (register, value) → transactions that may have happened whose last write it is.
    writers: AHashMap<(Value, Value), Vec<u32>>,
    /// (register, value) pairs only failed transactions last-wrote.
    failed_writes: AHashSet<(Value, Value)>,
    /// The registers' initial values (absent: `nil`).
    init: Vec<(Value, Value)>,
}

/// `[f k v]` as (is it a read, k, v); `None` for another shape.
fn micro(m: &Value) -> Option<(bool, &Value, &Value)> {
    let [f, k, v] = m.as_seq()? else { return None };
    match f.as_name()? {
        "read" | "r" => Some((true, k, v)),
        "write" | "w" => Some((false, k, v)),
        _ => None,
    }
}

/// A transaction's facts from its micro-ops; reads count only when `reads_known`.
fn txn_facts(micros: &[Value], reads_known: bool, nil_unknown: bool) -> Option<TxnFacts> {
    let mut t = TxnFacts::default();
    for m in micros {
        let (is_read, k, v) = micro(m)?;
        if !is_read {
            match t.last_writes.iter_mut().find(|(r, _)| r == k) {
                Some(w) => w.1 = v.clone(),
                None => t.last_writes.push((k.clone(), v.clone())),
            }
            continue;
        }
        if !reads_known || (nil_unknown && v.is_nil()) {
            continue;
        }
        let problem = match (t.last_write(k).cloned(), t.read(k).cloned()) {
            (Some(w), _) if w != *v => Some(format!("it wrote {w} to {k}, then read {v}")),
            (Some(_), _) => None,
            (None, Some(seen)) if seen != *v => Some(format!("it read {k} twice: {seen}, then {v}")),
            (None, Some(_)) => None,
            (None, None) => {
                t.external.push((k.clone(), v.clone()));
                None
            }
        };
        t.inconsistent = t.inconsistent.or(problem);
    }
    Some(t)
}

impl MultiRegisterFacts {
    /// The facts of one key's transactions; `None` if an op is not a `txn` of reads and writes,
    /// or the initial value is not a map.
    pub(super) fn of(history: &History, positions: &[u32], setting: &Setting) -> Option<MultiRegisterFacts> {
        let init = match &setting.init {
            None | Some(Value::Nil) => Vec::new(),
            Some(Value::Map(entries)) => entries.to_vec(),
            Some(_) => return None,
        };
        let mut facts = MultiRegisterFacts {
            txns: AHashMap::with_capacity(positions.len()),
            writers: AHashMap::new(),
            failed_writes: AHashSet::new(),
            init,
        };
        for o in raw_ops(history, positions, setting.keying)? {
            if o.f != "txn" {
                return None;
            }
            // A completed transaction's reads are in its completion (which echoes its writes);
            // one completed with nil, or not at all, has only its invocation, read nothing known.
            let (micros, known) = match o.output {
                Some(out) if o.completed() && !out.is_nil() => (out, true),
                _ => (o.input, false),
            };
            let mut t = txn_facts(micros.as_seq()?, known, setting.nil_reads_unknown)?;
            t.completed = o.completed();
            t.failed = o.failed();
            for w in &t.last_writes {
                if o.failed() {
                    facts.failed_writes.insert(w.clone());
                } else {
                    facts.writers.entry(w.clone()).or_default().push(o.pos);
                }
            }
            facts.txns.insert(o.pos, t);
        }
        Some(facts)
    }

    fn txn(&self, pos: u32) -> Result<&TxnFacts, String> {
        self.txns.get(&pos).ok_or_else(|| format!("position {pos} is not a transaction of these registers"))
    }

    fn initial(&self, k: &Value) -> &Value {
        static NIL: Value = Value::Nil;
        self.init.iter().find(|(r, _)| r == k).map_or(&NIL, |(_, v)| v)
    }

    fn writers_of(&self, k: &Value, v: &Value) -> &[u32] {
        self.writers.get(&(k.clone(), v.clone())).map_or(&[], Vec::as_slice)
    }

    /// Some register b read before writing it, whose value only `a` last-wrote, not initially.
    fn read_from(&self, a: u32, b: u32, and_wrote: bool) -> Check {
        let tb = self.txn(b)?;
        self.txn(a)?;
        let found = tb.external.iter().any(|(k, v)| {
            v != self.initial(k) && self.writers_of(k, v) == [a] && (!and_wrote || tb.last_write(k).is_some())
        });
        ensure(found, || {
            let what = if and_wrote { "then overwrote" } else { "read" };
            format!("the second read no register whose value only the first wrote (and {what})")
        })
    }

    /// A register a read that b then last-wrote with another value, which cannot come back.
    fn anti_dependency(&self, a: u32, b: u32) -> Check {
        let (ta, tb) = (self.txn(a)?, self.txn(b)?);
        ensure(ta.completed, || "the first transaction did not complete".into())?;
        ensure(!tb.failed, || "the second transaction failed".into())?;
        let found = ta.external.iter().any(|(k, v)| {
            let Some(w) = tb.last_write(k) else { return false };
            let writers = self.writers_of(k, v);
            let initial_only = v == self.initial(k) && writers.is_empty();
            let once = initial_only || (v != self.initial(k) && writers.len() == 1);
            w != v && (initial_only || (once && tb.read(k) == Some(v)))
        });
        ensure(found, || "no register the first read is one the second overwrote for good".into())
    }

    /// The (register, value) reads of `r` that no transaction that may have happened wrote and
    /// that are not initial.
    fn garbage(&self, r: u32) -> Result<Vec<(&Value, &Value)>, String> {
        let t = self.txn(r)?;
        let garbage: Vec<(&Value, &Value)> = t
            .external
            .iter()
            .filter(|(k, v)| v != self.initial(k) && self.writers_of(k, v).is_empty())
            .map(|(k, v)| (k, v))
            .collect();
        ensure(!garbage.is_empty(), || "every value it read was initial or written".into())?;
        Ok(garbage)
    }
}

impl ModelFacts for MultiRegisterFacts {
    fn certify_edge(&self, a: u32, b: u32, kind: EdgeKind) -> Check {
        match kind {
            EdgeKind::ReadsFrom => self.read_from(a, b, false),
            EdgeKind::Version => self.read_from(a, b, true),
            EdgeKind::AntiDependency => self.anti_dependency(a, b),
            _ => Err(format!("no rule for a {} edge between transactions", kind.short())),
        }
    }

    fn rewords_conflicts(&self) -> bool {
        false
    }
    fn certify_conflict(&self, ops: &[u32], kind: Option<ClassKind>, _reason: &str) -> Check {
        match (kind, ops) {
            (Some(ClassKind::GarbageRead), [r]) => self.garbage(*r).map(|_| ()),
            (None, [r]) => {
                let t = self.txn(*r)?;
                ensure(t.inconsistent.is_some(), || "its reads agree with each other and its writes".into())
            }
            _ => Err(format!("no rule for a {kind:?} conflict of {} transactions", ops.len())),
        }
    }

    /// Every class a rule exists for is named here: any other is refuted.
    fn knows_class(&self, _kind: ClassKind, _process_order: bool) -> bool {
        true
    }

    fn certify_class(&self, kind: ClassKind, ops: &[u32], _explanation: &str, _process_order: bool) -> Check {
        match (kind, ops) {
            (ClassKind::GarbageRead, [r]) => self.garbage(*r).map(|_| ()),
            (ClassKind::ReadOfFailedWrite, [r]) => {
                let garbage = self.garbage(*r)?;
                ensure(
                    garbage.iter().any(|&(k, v)| self.failed_writes.contains(&(k.clone(), v.clone()))),
                    || "no failed transaction wrote a value it read that nobody else wrote".into(),
                )
            }
            _ => Err(format!("no rule for {kind} with {} transactions", ops.len())),
        }
    }
}
