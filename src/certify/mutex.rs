//! The mutex's claims (`mutex`), re-derived from the raw ops: which acquires and releases
//! completed, which failed (and so did not happen), when, and by which process.
//!
//! The checker derives no data edges, conflicts or classes for a mutex (its ops carry no
//! values: only counterexamples and witnesses are claimed, and those are replayed through the
//! model). So a data edge or a class claimed for a mutex is refuted; a conflict is certified only
//! when one of the two patterns a lock that starts free rules out is there:
//!
//! - counting: more completed acquires than there are releases that may have happened, plus one
//!   (acquires and releases alternate, starting with an acquire), or more completed releases than
//!   acquires that may have happened;
//! - under real time (linearizability): two completed acquires, the first completed before the
//!   second began, and no release that may have happened could fall between them.

use super::linear::{Check, ModelFacts, Setting, ensure, raw_ops};
use crate::history::History;
use crate::model::EdgeKind;
use crate::vocab::ClassKind;
use ahash::AHashMap;

/// One op of a lock, from its raw fields.
struct LockOp {
    acquire: bool,
    completed: bool,
    invoke: i64,
    /// `i64::MAX` unless it completed `:ok`.
    complete: i64,
}

/// A mutex's ops by position, with the releases and acquires that may have happened.
pub(super) struct MutexFacts {
    ops: AHashMap<u32, LockOp>,
    /// Releases that did not fail (they may have happened): (invocation, completion).
    releases: Vec<(i64, i64)>,
    /// How many acquires did not fail.
    acquires: usize,
    skew: i64,
    /// Whether only process order holds (sequential consistency): real time proves nothing.
    process_order: bool,
}

impl MutexFacts {
    /// The facts of one key's ops; `None` if an op is not `acquire` or `release`.
    pub(super) fn of(
        history: &History,
        positions: &[u32],
        setting: &Setting,
        process_order: bool,
    ) -> Option<MutexFacts> {
        let mut facts = MutexFacts {
            ops: AHashMap::with_capacity(positions.len()),
            releases: Vec::new(),
            acquires: 0,
            skew: setting.skew,
            process_order,
        };
        for o in raw_ops(history, positions, setting.keying)? {
            let acquire = match o.f {
                "acquire" => true,
                "release" => false,
                _ => return None,
            };
            if !o.failed() {
                if acquire {
                    facts.acquires += 1;
                } else {
                    facts.releases.push((o.invoke, o.complete));
                }
            }
            let op = LockOp { acquire, completed: o.completed(), invoke: o.invoke, complete: o.complete };
            facts.ops.insert(o.pos, op);
        }
        Some(facts)
    }

    fn op(&self, pos: u32) -> Result<&LockOp, String> {
        self.ops.get(&pos).ok_or_else(|| format!("position {pos} is not an op of this mutex"))
    }

    /// Completed ops at `ops`, all acquires (or all releases): how many.
    fn completed_all(&self, ops: &[u32], acquire: bool) -> Result<usize, String> {
        for &p in ops {
            let o = self.op(p)?;
            ensure(o.completed && o.acquire == acquire, || {
                format!(
                    "the op at position {p} is not a completed {}",
                    if acquire { "acquire" } else { "release" }
                )
            })?;
        }
        let mut distinct = ops.to_vec();
        distinct.sort_unstable();
        distinct.dedup();
        ensure(distinct.len() == ops.len(), || "an op is cited twice".into())?;
        Ok(ops.len())
    }

    /// Two completed acquires, `a` certainly before `b`, and no release that may have happened
    /// can fall between them.
    fn double_acquire(&self, a: u32, b: u32) -> Check {
        ensure(!self.process_order, || "under process order, real time orders nothing".into())?;
        self.completed_all(&[a, b], true)?;
        let (a, b) = (self.op(a)?, self.op(b)?);
        ensure(a.complete.saturating_add(self.skew) < b.invoke, || {
            "the first acquire did not complete before the second began".into()
        })?;
        let between = self.releases.iter().find(|&&(invoke, complete)| {
            let before_a = complete != i64::MAX && complete.saturating_add(self.skew) < a.invoke;
            let after_b = b.complete.saturating_add(self.skew) < invoke;
            !before_a && !after_b
        });
        ensure(between.is_none(), || "a release that may have happened could fall between them".into())
    }
}

impl ModelFacts for MutexFacts {
    fn certify_edge(&self, _a: u32, _b: u32, kind: EdgeKind) -> Check {
        Err(format!("a mutex's ops carry no values: there is no {} edge between them", kind.short()))
    }

    fn rewords_conflicts(&self) -> bool {
        false
    }
    fn certify_conflict(&self, ops: &[u32], kind: Option<ClassKind>, _reason: &str) -> Check {
        ensure(kind.is_none(), || format!("no {kind:?} conflict is named for a mutex"))?;
        let first = ops.first().map(|&p| self.op(p)).transpose()?;
        match first {
            Some(o) if o.acquire => {
                let n = self.completed_all(ops, true)?;
                let counted = ensure(n > self.releases.len() + 1, || {
                    format!("{n} completed acquires, but {} releases may have happened", self.releases.len())
                });
                match (counted, ops) {
                    (Ok(()), _) => Ok(()),
                    (Err(why), [a, b]) => self.double_acquire(*a, *b).map_err(|w| format!("{why}; and {w}")),
                    (Err(why), _) => Err(why),
                }
            }
            Some(_) => {
                let n = self.completed_all(ops, false)?;
                ensure(n > self.acquires, || {
                    format!("{n} completed releases, but {} acquires may have happened", self.acquires)
                })
            }
            None => Err("a conflict needs ops".into()),
        }
    }

    /// No explainer names a class for a mutex: any is refuted.
    fn knows_class(&self, _kind: ClassKind, _process_order: bool) -> bool {
        true
    }

    fn certify_class(
        &self,
        kind: ClassKind,
        _ops: &[u32],
        _explanation: &str,
        _process_order: bool,
    ) -> Check {
        Err(format!("no class is named for a mutex, {kind} included"))
    }
}
