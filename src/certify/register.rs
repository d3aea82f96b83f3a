//! The register family's claims (`register`, `cas-register`), re-derived from the raw values:
//! which ops wrote and saw which value, and when.

use super::linear::{Check, ModelFacts, Setting, ensure, op_view};
use super::saturation::{Derivation, ScView};
use crate::history::{History, Outcome, Value};
use crate::model::EdgeKind;
use ahash::AHashMap;
use std::cell::OnceCell;

/// What one op of a register did, from its raw values.
#[derive(Clone, Debug)]
pub(super) struct RegOp {
    pub(super) outcome: Outcome,
    invoke: i64,
    /// `i64::MAX` unless it completed `:ok`.
    complete: i64,
    pub(super) process: u32,
    /// The value it saw: a completed read's result, a cas's expected value (`None`: nothing,
    /// or a read whose result is unknown).
    pub(super) sees: Option<Value>,
    /// The value it wrote: a write's, a cas's new one.
    pub(super) writes: Option<Value>,
    pub(super) is_read: bool,
}

impl RegOp {
    pub(super) fn completed(&self) -> bool {
        self.outcome == Outcome::Ok
    }

    /// The value the register held once it took effect, for an op that changes or keeps it
    /// (a write, a cas, a cas from a value to itself); `None` for a read.
    pub(super) fn leaves(&self) -> Option<&Value> {
        if self.is_read { None } else { self.writes.as_ref().or(self.sees.as_ref()) }
    }
}

/// A register's ops, by position, with the writers of each value.
pub(crate) struct RegisterFacts {
    pub(super) ops: AHashMap<u32, RegOp>,
    /// Value → positions of ops that may have written it (failed ops excluded).
    writers: AHashMap<Value, Vec<u32>>,
    /// Value → positions of failed ops that would have written it.
    failed_writers: AHashMap<Value, Vec<u32>>,
    /// Value → positions of the completed cas ops that moved the register away from it.
    cas_from: AHashMap<Value, Vec<u32>>,
    pub(super) init: Value,
    skew: i64,
    /// The ops as sequential consistency's rules read them, built when a claim needs them.
    sc: OnceCell<ScView>,
}

impl RegisterFacts {
    /// The facts of one key's ops (`positions`), for models of the register family; `None` for
    /// other models.
    pub(crate) fn of(
        model: &str,
        history: &History,
        positions: &[u32],
        setting: &Setting,
    ) -> Option<RegisterFacts> {
        if model != "register" && model != "cas-register" {
            return None;
        }
        let mut facts = RegisterFacts {
            ops: AHashMap::with_capacity(positions.len()),
            writers: AHashMap::new(),
            failed_writers: AHashMap::new(),
            cas_from: AHashMap::new(),
            init: setting.init.clone().unwrap_or(Value::Nil),
            skew: setting.skew,
            sc: OnceCell::new(),
        };
        for &pos in positions {
            let o = &history.ops[pos as usize];
            let (_, input, output) = op_view(history, pos, setting.keying)?;
            let f = history.value(o.f).as_name().unwrap_or_default();
            let (sees, writes, is_read) = match f {
                "read" => {
                    let v = output.filter(|v| !(setting.nil_reads_unknown && **v == Value::Nil));
                    (v.cloned(), None, true)
                }
                "write" => (None, Some(input.clone()), false),
                // A cas from a value to itself changes nothing: it sees the value, writes none.
                "cas" => match input.as_seq() {
                    Some([old, new]) if old == new => (Some(old.clone()), None, false),
                    Some([old, new]) => (Some(old.clone()), Some(new.clone()), false),
                    _ => return None,
                },
                _ => return None,
            };
            if let Some(w) = &writes {
                let table =
                    if o.outcome == Outcome::Fail { &mut facts.failed_writers } else { &mut facts.writers };
                table.entry(w.clone()).or_default().push(pos);
            }
            if let (Some(old), Some(_), Outcome::Ok) = (&sees, &writes, o.outcome) {
                facts.cas_from.entry(old.clone()).or_default().push(pos);
            }
            let complete = if o.outcome == Outcome::Ok { o.complete_time } else { i64::MAX };
            facts.ops.insert(
                pos,
                RegOp {
                    outcome: o.outcome,
                    invoke: o.invoke_time,
                    complete,
                    process: o.process,
                    sees,
                    writes,
                    is_read,
                },
            );
        }
        Some(facts)
    }

    /// This register's ops as sequential consistency's rules read them.
    fn sc_view(&self) -> &ScView {
        self.sc.get_or_init(|| ScView::of(&[self]))
    }

    fn op(&self, pos: u32) -> Result<&RegOp, String> {
        self.ops.get(&pos).ok_or_else(|| format!("position {pos} is not an op of this register"))
    }

    fn writers_of(&self, v: &Value) -> &[u32] {
        self.writers.get(v).map_or(&[], Vec::as_slice)
    }

    /// `a` certainly took effect before `b` began: it completed more than the skew before.
    fn precedes(&self, a: &RegOp, b: &RegOp) -> bool {
        a.completed() && a.complete.saturating_add(self.skew) < b.invoke
    }

    /// The one op that may have written `v`, when `v` is not the initial value.
    fn unique_writer(&self, v: &Value) -> Option<u32> {
        match self.writers_of(v) {
            [w] if *v != self.init => Some(*w),
            _ => None,
        }
    }

    /// `v` is written at most once: by one op and not initially, or only initially.
    fn written_once(&self, v: &Value) -> bool {
        self.unique_writer(v).is_some() || (*v == self.init && self.writers_of(v).is_empty())
    }

    /// The completed cas ops that moved the register away from `v`.
    fn completed_cas_from(&self, v: &Value) -> &[u32] {
        self.cas_from.get(v).map_or(&[], Vec::as_slice)
    }

    /// A data edge a → b of a cycle.
    fn edge(&self, a: u32, b: u32, kind: EdgeKind) -> Check {
        let (oa, ob) = (self.op(a)?, self.op(b)?);
        match kind {
            EdgeKind::ReadsFrom => {
                let v = ob.sees.as_ref().ok_or("the second op saw no value")?;
                ensure(ob.completed() || !ob.is_read, || {
                    "the second op is a read that did not complete".into()
                })?;
                ensure(self.unique_writer(v) == Some(a), || {
                    format!("the first op is not the only writer of {v}")
                })
            }
            EdgeKind::Version => {
                let v = oa.writes.as_ref().ok_or("the first op wrote nothing")?;
                ensure(self.unique_writer(v) == Some(a), || {
                    format!("the first op is not the only writer of {v}")
                })?;
                ensure(self.completed_cas_from(v) == [b], || {
                    format!("the second op is not the one completed cas away from {v}")
                })
            }
            EdgeKind::AntiDependency => {
                let v = oa.sees.as_ref().ok_or("the first op saw no value")?;
                ensure(oa.completed(), || "the first op did not complete".into())?;
                ensure(oa.writes.is_none(), || "the first op is no read of the value".into())?;
                ensure(self.written_once(v), || format!("{v} is written more than once"))?;
                ensure(self.completed_cas_from(v) == [b], || {
                    format!("the second op is not the one completed cas away from {v}")
                })
            }
            EdgeKind::RealTime | EdgeKind::Process => Err("not a data edge".into()),
        }
    }

    /// A conflict: a garbage read, or two cas away from a value written once.
    fn conflict(&self, ops: &[u32], kind: Option<&str>) -> Check {
        match (kind, ops) {
            (Some("garbage-read"), [r]) => self.garbage(*r),
            (None, [c1, c2]) => {
                let v = self.op(*c1)?.sees.clone().ok_or("the first op saw no value")?;
                let cas = self.completed_cas_from(&v);
                ensure(self.written_once(&v) && cas.contains(c1) && cas.contains(c2) && c1 != c2, || {
                    format!("these are not two completed cas away from {v}, written once")
                })
            }
            _ => Err(format!("no rule for a {kind:?} conflict of {} ops", ops.len())),
        }
    }

    /// A completed op saw a value that no op that may have happened wrote, and that is not
    /// the initial value.
    fn garbage(&self, r: u32) -> Check {
        let o = self.op(r)?;
        let v = o.sees.as_ref().ok_or("the op saw no value")?;
        ensure(o.completed(), || "the op did not complete".into())?;
        ensure(*v != self.init && self.writers_of(v).is_empty(), || format!("{v} is written, or initial"))
    }

    /// Whether a class of this name has a rule here.
    fn knows(&self, kind: &str, process_order: bool) -> bool {
        let timed = [
            "garbage-read",
            "read-of-failed-write",
            "future-read",
            "stale-read",
            "own-write-not-read",
            "non-monotonic-read",
            "lost-write",
        ];
        let untimed = ["garbage-read", "read-of-failed-write"];
        if process_order {
            untimed.contains(&kind) || super::sequential::knows(kind)
        } else {
            timed.contains(&kind)
        }
    }

    /// A named violation, by its defining pattern over the cited ops.
    fn class(&self, kind: &str, ops: &[u32]) -> Check {
        match (kind, ops) {
            ("garbage-read", [r]) => self.garbage(*r),
            ("read-of-failed-write", [r]) => {
                self.garbage(*r)?;
                let v = self.op(*r)?.sees.as_ref().expect("checked");
                ensure(self.failed_writers.contains_key(v), || format!("no failed op wrote {v}"))
            }
            ("future-read", [r, w]) => self.future_read(*r, *w),
            ("stale-read", [r, x]) => {
                let later = self.op(*r)?;
                let earlier = self.op(*x)?;
                ensure(later.process != earlier.process || earlier.is_read, || {
                    "one process: own-write".into()
                })?;
                self.stale(*r, *x)
            }
            ("own-write-not-read", [w, r]) => {
                ensure(!self.op(*w)?.is_read && self.op(*w)?.process == self.op(*r)?.process, || {
                    "not a write and a read of one process".into()
                })?;
                self.stale(*r, *w)
            }
            ("non-monotonic-read", [x, r]) => {
                ensure(self.op(*x)?.is_read && self.op(*x)?.process == self.op(*r)?.process, || {
                    "not two reads of one process".into()
                })?;
                self.stale(*r, *x)
            }
            ("lost-write", [w, r]) => {
                let ow = self.op(*w)?;
                let g = ow.writes.as_ref().ok_or("the first op wrote nothing")?;
                let seen = self.ops.values().any(|o| o.completed() && o.sees.as_ref() == Some(g));
                ensure(!ow.is_read && !seen, || format!("{g} was seen by a completed op"))?;
                self.stale(*r, *w)
            }
            _ => Err(format!("no rule for {kind} with {} ops", ops.len())),
        }
    }

    /// The read `r` saw `f`, and every op that may have written `f` began only after `r`
    /// completed (`w` among them); `f` is not the initial value.
    fn future_read(&self, r: u32, w: u32) -> Check {
        let o = self.op(r)?;
        let f = o.sees.as_ref().ok_or("the read saw no value")?;
        ensure(o.is_read && o.completed() && *f != self.init, || {
            "not a completed read of a written value".into()
        })?;
        let writers = self.writers_of(f);
        ensure(writers.contains(&w), || format!("the second op did not write {f}"))?;
        ensure(writers.iter().all(|p| self.precedes(o, &self.ops[p])), || {
            format!("some writer of {f} began before the read completed")
        })
    }

    /// The read `r` saw `f`, but `x` (a write of another value, or a read of one), which took
    /// effect before `r`, did so after every op that may have written `f` and could still
    /// precede `r`: so `f` could not be there any more when `r` took effect.
    fn stale(&self, r: u32, x: u32) -> Check {
        let (or, ox) = (self.op(r)?, self.op(x)?);
        let f = or.sees.as_ref().ok_or("the read saw no value")?;
        ensure(or.is_read && or.completed(), || "not a completed read".into())?;
        ensure(self.precedes(ox, or), || "the other op did not complete before the read began".into())?;
        // What the register held once x took effect: what it read, or what it left (a cas
        // from a value to itself leaves the value it saw).
        let h = if ox.is_read { ox.sees.as_ref() } else { ox.writes.as_ref().or(ox.sees.as_ref()) };
        let h = h.ok_or("the other op neither saw nor wrote a value")?;
        ensure(h != f, || format!("the other op's value is {f} too"))?;
        // The writers of f that could still take effect before r.
        let relevant = self.writers_of(f).iter().map(|p| &self.ops[p]).filter(|o| !self.precedes(or, o));
        let sources: Option<Vec<&RegOp>> = if ox.is_read {
            // x read h: its value came from some writer of h (or from the initial state).
            (*h != self.init && !self.writers_of(h).is_empty())
                .then(|| self.writers_of(h).iter().map(|p| &self.ops[p]).collect())
        } else {
            Some(vec![ox])
        };
        for o in relevant {
            let before_x = self.precedes(o, ox);
            let before_sources = sources.as_ref().is_some_and(|s| s.iter().all(|s| self.precedes(o, s)));
            if !(before_x || before_sources) {
                return Err(format!(
                    "a writer of {f} (invoked at {}) may take effect after the other op and before the read",
                    o.invoke
                ));
            }
        }
        Ok(())
    }
}

impl ModelFacts for RegisterFacts {
    fn certify_edge(&self, a: u32, b: u32, kind: EdgeKind) -> Check {
        self.edge(a, b, kind)
    }
    fn certify_conflict(&self, ops: &[u32], kind: Option<&str>) -> Check {
        self.conflict(ops, kind)
    }
    fn knows_class(&self, kind: &str, process_order: bool) -> bool {
        self.knows(kind, process_order)
    }
    fn certify_class(&self, kind: &str, ops: &[u32], _explanation: &str, process_order: bool) -> Check {
        // Own-write-not-read is a class of both levels, with a pattern of each's own.
        if process_order && super::sequential::knows(kind) {
            super::sequential::certify_class(self.sc_view(), kind, ops)
        } else {
            self.class(kind, ops)
        }
    }
    fn certify_derived_edge(&self, a: u32, b: u32, kind: EdgeKind) -> Option<Derivation> {
        Some(self.sc_view().certify_derived(a, b, kind))
    }
}
