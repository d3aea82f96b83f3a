//! The register family's claims (`register`, `cas-register`), re-derived from the raw values:
//! which ops wrote and saw which value, and when.

use super::linear::{Check, ModelFacts, Setting, ensure, op_view};
use super::saturation::{Derivation, ScView};
use crate::history::{History, Op, Outcome, Value, ValueId};
use crate::model::EdgeKind;
use crate::split::Keying;
use crate::vocab::ClassKind;
use ahash::AHashMap;
use rayon::prelude::*;
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
    fn of(history: &History, pos: u32, e: &Effect<'_>) -> RegOp {
        let o = &history.ops[pos as usize];
        RegOp {
            outcome: o.outcome,
            invoke: o.invoke_time,
            complete: if o.outcome == Outcome::Ok { o.complete_time } else { i64::MAX },
            process: o.process,
            sees: e.sees.cloned(),
            writes: e.writes.cloned(),
            is_read: e.is_read,
        }
    }

    pub(super) fn completed(&self) -> bool {
        self.outcome == Outcome::Ok
    }

    /// The value the register held once it took effect, for an op that changes or keeps it
    /// (a write, a cas, a cas from a value to itself); `None` for a read.
    pub(super) fn leaves(&self) -> Option<&Value> {
        if self.is_read { None } else { self.writes.as_ref().or(self.sees.as_ref()) }
    }
}

/// A register's ops, by position, with the writers of each value: of every op of the key, or
/// only of the ops that touch the values some claims name.
#[derive(Default)]
struct Index {
    ops: AHashMap<u32, RegOp>,
    /// Value → positions of ops that may have written it (failed ops excluded).
    writers: AHashMap<Value, Vec<u32>>,
    /// Value → positions of failed ops that would have written it.
    failed_writers: AHashMap<Value, Vec<u32>>,
    /// Value → positions of the completed cas ops that moved the register away from it.
    cas_from: AHashMap<Value, Vec<u32>>,
}

impl Index {
    fn add(&mut self, pos: u32, op: RegOp) {
        if let Some(w) = &op.writes {
            let table =
                if op.outcome == Outcome::Fail { &mut self.failed_writers } else { &mut self.writers };
            table.entry(w.clone()).or_default().push(pos);
        }
        if let (Some(old), Some(_), Outcome::Ok) = (&op.sees, &op.writes, op.outcome) {
            self.cas_from.entry(old.clone()).or_default().push(pos);
        }
        self.ops.insert(pos, op);
    }
}

/// The values an op of a register saw and wrote, borrowed from the history.
struct Effect<'h> {
    sees: Option<&'h Value>,
    writes: Option<&'h Value>,
    is_read: bool,
}

/// A register's facts. Most claims name a handful of values: the facts index only the ops
/// that touch those (one pass over the key, nothing cloned for the rest), and index every op
/// the first time a rule asks about another value.
pub(crate) struct RegisterFacts<'h> {
    history: &'h History,
    positions: &'h [u32],
    setting: &'h Setting,
    /// The values `narrow` holds every op of.
    interest: Interest,
    narrow: Index,
    full: OnceCell<Index>,
    pub(super) init: Value,
    skew: i64,
    /// The ops as sequential consistency's rules read them, built when a claim needs them.
    sc: OnceCell<ScView>,
}

impl<'h> RegisterFacts<'h> {
    /// The facts of one key's ops (`positions`), for models of the register family, indexed
    /// first for the values the ops at `cited` (ascending) saw and wrote; `None` for other models or ops
    /// of another shape.
    pub(crate) fn of(
        model: &str,
        history: &'h History,
        positions: &'h [u32],
        setting: &'h Setting,
        cited: &[u32],
    ) -> Option<RegisterFacts<'h>> {
        if model != "register" && model != "cas-register" {
            return None;
        }
        let mut values: Vec<&Value> = Vec::new();
        for &pos in cited {
            let e = effect(history, pos, setting)?;
            values.extend(e.sees.into_iter().chain(e.writes));
        }
        let interest = Interest::of(values);
        let quick = QuickFilter::new(history, setting.keying, &interest);
        // One pass over the key's ops, in stretches on all cores: most ops are passed over on
        // their interned ids alone, but each costs a cache miss.
        let touching = |stretch: &[u32]| -> Option<Vec<(u32, RegOp)>> {
            let (Some(&first), Some(&last)) = (stretch.first(), stretch.last()) else {
                return Some(Vec::new());
            };
            let cited_here =
                &cited[cited.partition_point(|&c| c < first)..cited.partition_point(|&c| c <= last)];
            let mut candidates = quick.candidates(history, stretch);
            candidates.extend_from_slice(cited_here);
            candidates.sort_unstable();
            candidates.dedup();
            let mut found = Vec::new();
            for pos in candidates {
                let is_cited = cited_here.binary_search(&pos).is_ok();
                if !is_cited && quick.untouched(history, &history.ops[pos as usize], &interest) {
                    continue;
                }
                let e = effect(history, pos, setting)?;
                let touches = |v: Option<&Value>| v.is_some_and(|v| interest.contains(v));
                if is_cited || touches(e.sees) || touches(e.writes) {
                    found.push((pos, RegOp::of(history, pos, &e)));
                }
            }
            Some(found)
        };
        const STRETCH: usize = 1 << 13;
        let found: Vec<Option<Vec<(u32, RegOp)>>> = if positions.len() <= STRETCH {
            vec![touching(positions)]
        } else {
            positions.par_chunks(STRETCH).map(touching).collect()
        };
        let mut narrow = Index::default();
        // In order, so each value's writers stay ascending.
        for (pos, op) in found.into_iter().collect::<Option<Vec<_>>>()?.into_iter().flatten() {
            narrow.add(pos, op);
        }
        Some(RegisterFacts {
            history,
            positions,
            setting,
            interest,
            narrow,
            full: OnceCell::new(),
            init: setting.init.clone().unwrap_or(Value::Nil),
            skew: setting.skew,
            sc: OnceCell::new(),
        })
    }

    /// The index that holds every op touching `v`.
    fn index_for(&self, v: &Value) -> &Index {
        if self.interest.contains(v) { &self.narrow } else { self.full() }
    }

    fn full(&self) -> &Index {
        self.full.get_or_init(|| {
            let mut index = Index::default();
            for &pos in self.positions {
                let e = effect(self.history, pos, self.setting).expect("shape checked when built");
                index.add(pos, RegOp::of(self.history, pos, &e));
            }
            index
        })
    }

    /// Every op of this register, by position.
    pub(super) fn all_ops(&self) -> &AHashMap<u32, RegOp> {
        &self.full().ops
    }

    /// This register's ops as sequential consistency's rules read them.
    fn sc_view(&self) -> &ScView {
        self.sc.get_or_init(|| ScView::of(&[self]))
    }

    fn op(&self, pos: u32) -> Result<&RegOp, String> {
        self.narrow
            .ops
            .get(&pos)
            .or_else(|| self.full().ops.get(&pos))
            .ok_or_else(|| format!("position {pos} is not an op of this register"))
    }

    /// The op at `pos`, one a table of this register's facts names.
    fn at(&self, pos: u32) -> &RegOp {
        self.op(pos).expect("indexed ops are ops of this register")
    }

    fn writers_of(&self, v: &Value) -> &[u32] {
        self.index_for(v).writers.get(v).map_or(&[], Vec::as_slice)
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
        self.index_for(v).cas_from.get(v).map_or(&[], Vec::as_slice)
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
    fn conflict(&self, ops: &[u32], kind: Option<ClassKind>) -> Check {
        match (kind, ops) {
            (Some(ClassKind::GarbageRead), [r]) => self.garbage(*r),
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
    fn knows(&self, kind: ClassKind, process_order: bool) -> bool {
        let timed = [
            ClassKind::GarbageRead,
            ClassKind::ReadOfFailedWrite,
            ClassKind::FutureRead,
            ClassKind::StaleRead,
            ClassKind::OwnWriteNotRead,
            ClassKind::NonMonotonicRead,
            ClassKind::LostWrite,
        ];
        let untimed = [ClassKind::GarbageRead, ClassKind::ReadOfFailedWrite];
        if process_order {
            untimed.contains(&kind) || super::sequential::knows(kind)
        } else {
            timed.contains(&kind)
        }
    }

    /// A named violation, by its defining pattern over the cited ops.
    fn class(&self, kind: ClassKind, ops: &[u32]) -> Check {
        match (kind, ops) {
            (ClassKind::GarbageRead, [r]) => self.garbage(*r),
            (ClassKind::ReadOfFailedWrite, [r]) => {
                self.garbage(*r)?;
                let v = self.op(*r)?.sees.as_ref().expect("checked");
                ensure(self.index_for(v).failed_writers.contains_key(v), || format!("no failed op wrote {v}"))
            }
            (ClassKind::FutureRead, [r, w]) => self.future_read(*r, *w),
            (ClassKind::StaleRead, [r, x]) => {
                let later = self.op(*r)?;
                let earlier = self.op(*x)?;
                ensure(later.process != earlier.process || earlier.is_read, || {
                    "one process: own-write".into()
                })?;
                self.stale(*r, *x)
            }
            (ClassKind::OwnWriteNotRead, [w, r]) => {
                ensure(!self.op(*w)?.is_read && self.op(*w)?.process == self.op(*r)?.process, || {
                    "not a write and a read of one process".into()
                })?;
                self.stale(*r, *w)
            }
            (ClassKind::NonMonotonicRead, [x, r]) => {
                ensure(self.op(*x)?.is_read && self.op(*x)?.process == self.op(*r)?.process, || {
                    "not two reads of one process".into()
                })?;
                self.stale(*r, *x)
            }
            (ClassKind::LostWrite, [w, r]) => {
                let ow = self.op(*w)?;
                let g = ow.writes.as_ref().ok_or("the first op wrote nothing")?;
                let seen =
                    self.index_for(g).ops.values().any(|o| o.completed() && o.sees.as_ref() == Some(g));
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
        ensure(writers.iter().all(|p| self.precedes(o, self.at(*p))), || {
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
        let relevant = self.writers_of(f).iter().map(|p| self.at(*p)).filter(|o| !self.precedes(or, o));
        let sources: Option<Vec<&RegOp>> = if ox.is_read {
            // x read h: its value came from some writer of h (or from the initial state).
            (*h != self.init && !self.writers_of(h).is_empty())
                .then(|| self.writers_of(h).iter().map(|p| self.at(*p)).collect())
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

impl ModelFacts for RegisterFacts<'_> {
    fn certify_edge(&self, a: u32, b: u32, kind: EdgeKind) -> Check {
        self.edge(a, b, kind)
    }
    fn certify_conflict(&self, ops: &[u32], kind: Option<ClassKind>, reason: &str) -> Check {
        self.conflict(ops, kind)?;
        // Both rules' ops saw the value the sentence quotes.
        let v = self.op(ops[0])?.sees.as_ref().ok_or("the first op saw no value")?;
        let told = match kind {
            Some(_) => format!("it saw {v}, but no op wrote {v}"),
            None => {
                format!("both succeeded in moving the register away from {v}, but {v} was written only once")
            }
        };
        super::told_as(reason, &told)
    }
    fn knows_class(&self, kind: ClassKind, process_order: bool) -> bool {
        self.knows(kind, process_order)
    }
    fn certify_class(&self, kind: ClassKind, ops: &[u32], _explanation: &str, process_order: bool) -> Check {
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

/// A set of values, with integers (registers' usual values) apart, for a fast test.
struct Interest {
    /// Sorted: a claim names a handful of values, where a scan beats a hash.
    ints: Vec<i64>,
    /// Bit `i mod 64` set for each of `ints`: most ints are ruled out by one test.
    int_bits: u64,
    others: Vec<Value>,
}

impl Interest {
    fn of(values: Vec<&Value>) -> Interest {
        let (mut ints, mut others) = (Vec::new(), Vec::new());
        for v in values {
            match v {
                Value::Int(i) => ints.push(*i),
                v => others.push(v.clone()),
            }
        }
        ints.sort_unstable();
        ints.dedup();
        others.sort_unstable();
        others.dedup();
        let int_bits = ints.iter().fold(0u64, |bits, i| bits | 1 << i.rem_euclid(64));
        Interest { ints, int_bits, others }
    }

    fn contains(&self, v: &Value) -> bool {
        match v {
            Value::Int(i) if self.int_bits & 1 << i.rem_euclid(64) == 0 => false,
            Value::Int(i) if self.ints.len() <= 16 => self.ints.contains(i),
            Value::Int(i) => self.ints.binary_search(i).is_ok(),
            v => self.others.binary_search(v).is_ok(),
        }
    }
}

/// A test on an op's interned ids alone (no value read) that a plain read or write touches no
/// value of interest: equal values share one id, so an id outside the interest's ids is a
/// value outside it. A cas's pair, interned whole, is looked into. Other ops, and keyed
/// tuples, are left to the full test.
struct QuickFilter {
    read: Option<ValueId>,
    write: Option<ValueId>,
    cas: Option<ValueId>,
    /// The interest's ids, sorted: a handful, where a scan beats a hash.
    ids: Vec<ValueId>,
    /// Whether an op's input and output ids are its per-key values.
    whole_values: bool,
}

impl QuickFilter {
    fn new(history: &History, keying: Keying, interest: &Interest) -> QuickFilter {
        let id = |name: &str| history.values.lookup(&Value::Keyword(name.into()));
        let ints = interest.ints.iter().map(|i| Value::Int(*i));
        let mut ids: Vec<ValueId> =
            ints.chain(interest.others.iter().cloned()).filter_map(|v| history.values.lookup(&v)).collect();
        ids.sort_unstable();
        QuickFilter {
            read: id("read"),
            write: id("write"),
            cas: id("cas"),
            ids,
            whole_values: keying != Keying::Tuple,
        }
    }

    /// The ops of `stretch` that a plain read or write does not rule out by its ids: every
    /// other op (a cas, an op of another kind) and the reads and writes whose value's id is of
    /// interest. The kinds of ops come in no order a branch predictor learns, so each op is
    /// tested without a branch and the few left are looked at after.
    fn candidates(&self, history: &History, stretch: &[u32]) -> Vec<u32> {
        const FEW: usize = 8;
        if !self.whole_values {
            return stretch.to_vec();
        }
        if self.ids.len() > FEW {
            let interest_free = |op: &Op| {
                let plain = Some(op.f) == self.read || Some(op.f) == self.write;
                let id = if Some(op.f) == self.read { op.output } else { op.input };
                plain && self.ids.binary_search(&id).is_err()
            };
            return stretch.iter().copied().filter(|&p| !interest_free(&history.ops[p as usize])).collect();
        }
        // Padded with a repeat of an id (or with an id no value has): a repeat changes nothing.
        let mut ids = [self.ids.first().copied().unwrap_or(ValueId::NONE); FEW];
        ids[..self.ids.len()].copy_from_slice(&self.ids);
        let (read, write) = (self.read.unwrap_or(ValueId::NONE), self.write.unwrap_or(ValueId::NONE));
        let mut out = vec![0u32; stretch.len()];
        let mut kept = 0;
        for &pos in stretch {
            let op = &history.ops[pos as usize];
            let (is_read, is_write) = (op.f == read, op.f == write);
            let (input_of_interest, output_of_interest) =
                ids.iter().fold((false, false), |(i, o), &id| (i | (op.input == id), o | (op.output == id)));
            let keep =
                !(is_read | is_write) | (is_read & output_of_interest) | (is_write & input_of_interest);
            out[kept] = pos;
            kept += keep as usize;
        }
        out.truncate(kept);
        out
    }

    fn untouched(&self, history: &History, op: &Op, interest: &Interest) -> bool {
        let outside = |id: ValueId| {
            if self.ids.len() <= 16 { !self.ids.contains(&id) } else { self.ids.binary_search(&id).is_err() }
        };
        if !self.whole_values {
            false
        } else if Some(op.f) == self.read {
            op.outcome != Outcome::Ok || outside(op.output)
        } else if Some(op.f) == self.write {
            outside(op.input)
        } else if Some(op.f) == self.cas {
            // A cas's `[old new]` is interned whole: its two values are looked at.
            match history.value(op.input).as_seq() {
                Some([old, new]) => !interest.contains(old) && !interest.contains(new),
                _ => false,
            }
        } else {
            false
        }
    }
}

/// What the op at `pos` saw and wrote; `None` if it is not a register op.
fn effect<'h>(history: &'h History, pos: u32, setting: &Setting) -> Option<Effect<'h>> {
    let o = &history.ops[pos as usize];
    let (_, input, output) = op_view(history, pos, setting.keying)?;
    let f = history.value(o.f).as_name().unwrap_or_default();
    Some(match f {
        "read" => {
            let v = output.filter(|v| !(setting.nil_reads_unknown && **v == Value::Nil));
            Effect { sees: v, writes: None, is_read: true }
        }
        "write" => Effect { sees: None, writes: Some(input), is_read: false },
        // A cas from a value to itself changes nothing: it sees the value, writes none.
        "cas" => match input.as_seq() {
            Some([old, new]) if old == new => Effect { sees: Some(old), writes: None, is_read: false },
            Some([old, new]) => Effect { sees: Some(old), writes: Some(new), is_read: false },
            _ => return None,
        },
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{Format, ReadOptions, read_bytes};

    fn history(text: &str) -> History {
        read_bytes("t.edn", text.as_bytes(), Format::Edn, &ReadOptions::default()).unwrap()
    }

    fn setting() -> Setting {
        Setting { keying: Keying::Single, skew: 0, nil_reads_unknown: false, init: Some(Value::Int(0)) }
    }

    /// Process 0 writes 1, process 1 writes 1 too (later, and uncited), process 2 writes 2,
    /// then process 3 reads 1.
    const TWO_WRITERS: &str = "
        {:process 0 :type :invoke :f :write :value 1 :time 0}
        {:process 0 :type :ok :f :write :value 1 :time 1}
        {:process 2 :type :invoke :f :write :value 2 :time 2}
        {:process 2 :type :ok :f :write :value 2 :time 3}
        {:process 1 :type :invoke :f :write :value 1 :time 4}
        {:process 1 :type :ok :f :write :value 1 :time 5}
        {:process 3 :type :invoke :f :read :value nil :time 6}
        {:process 3 :type :ok :f :read :value 1 :time 7}";

    #[test]
    fn narrow_facts_still_hold_every_writer_of_a_cited_value() {
        let h = history(TWO_WRITERS);
        let s = setting();
        let positions: Vec<u32> = (0..h.ops.len() as u32).collect();
        // The read (position 3) and the first write of 1 (position 0) are cited; the second
        // writer of 1 (position 2) is not, yet it must be indexed: 1 is not uniquely written.
        let facts = RegisterFacts::of("register", &h, &positions, &s, &[0, 3]).unwrap();
        assert!(facts.edge(0, 3, EdgeKind::ReadsFrom).is_err());
        // With the second writer gone the stale read stands, whatever was cited.
        let h = history(
            &TWO_WRITERS
                .replace(":value 1 :time 4", ":value 3 :time 4")
                .replace(":ok :f :write :value 1 :time 5", ":ok :f :write :value 3 :time 5"),
        );
        for cited in [&[0u32, 3][..], &[], &[1, 3]] {
            let facts = RegisterFacts::of("register", &h, &positions, &s, cited).unwrap();
            assert_eq!(facts.edge(0, 3, EdgeKind::ReadsFrom), Ok(()), "cited {cited:?}");
            assert_eq!(facts.class(ClassKind::StaleRead, &[3, 1]), Ok(()), "cited {cited:?}");
            assert_eq!(facts.class(ClassKind::StaleRead, &[3, 2]), Ok(()), "cited {cited:?}");
            // The read's own writer is no overwrite.
            assert!(facts.class(ClassKind::StaleRead, &[3, 0]).is_err(), "cited {cited:?}");
        }
    }

    /// The branch-free pass keeps every op the per-op test keeps, for few and for many ids of
    /// interest, over reads (ok and failed), writes and cas ops in no learnable order.
    #[test]
    fn candidates_keep_every_op_the_full_filter_keeps() {
        let mut text = String::new();
        let mut seed = 7u64;
        let mut next = |n: u64| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) % n
        };
        for p in 0..300 {
            let (a, b) = (next(20), next(20));
            let (f, input, output, end) = match next(4) {
                0 => ("read", "nil".to_string(), a.to_string(), "ok"),
                1 => ("read", "nil".to_string(), "nil".to_string(), "fail"),
                2 => ("write", a.to_string(), a.to_string(), "ok"),
                _ => ("cas", format!("[{a} {b}]"), format!("[{a} {b}]"), "ok"),
            };
            text += &format!("{{:process {p} :type :invoke :f :{f} :value {input}}}\n");
            text += &format!("{{:process {p} :type :{end} :f :{f} :value {output}}}\n");
        }
        let h = history(&text);
        let positions: Vec<u32> = (0..h.ops.len() as u32).collect();
        for count in [1, 3, 8, 12] {
            let values: Vec<Value> = (0..count).map(|i| Value::Int(i * 3 % 20)).collect();
            let interest = Interest::of(values.iter().collect());
            let quick = QuickFilter::new(&h, Keying::Single, &interest);
            let candidates = quick.candidates(&h, &positions);
            let kept: Vec<u32> = positions
                .iter()
                .copied()
                .filter(|&p| !quick.untouched(&h, &h.ops[p as usize], &interest))
                .collect();
            assert!(kept.len() > count as usize, "{count} values: too few ops kept to tell");
            for p in kept {
                assert!(candidates.binary_search(&p).is_ok(), "{count} values: op {p} dropped");
            }
        }
    }
}
