//! The grow-only set's claims (`set`), re-derived from the raw values: which ops added which
//! element, and what each completed read saw.
//!
//! A grow-only set never loses an element, so: a completed read that lacks `v` took effect
//! before every add of `v` (rw); the only add of `v` (not initially present) took effect before
//! every completed read that contains `v` (wr); two completed reads neither of which contains
//! the other, a read that lacks an initial element, and a read of an element nobody added
//! cannot all be (conflicts).

use super::linear::{Check, ModelFacts, Setting, ensure, raw_ops};
use crate::history::{History, Value};
use crate::model::EdgeKind;
use crate::vocab::ClassKind;
use ahash::{AHashMap, AHashSet};

/// The elements of a collection, sorted without duplicates (`nil`: none); `None` for a scalar.
pub(super) fn collection(v: &Value) -> Option<Vec<Value>> {
    let mut items = match v {
        Value::Nil => Vec::new(),
        Value::Vector(xs) | Value::List(xs) | Value::Set(xs) => xs.to_vec(),
        _ => return None,
    };
    items.sort();
    items.dedup();
    Some(items)
}

/// One op of a set.
enum SetOp {
    /// An add of this element; `failed`: it was reported failed.
    Add { v: Value, failed: bool },
    /// A read that completed with these elements (sorted).
    Read(Vec<Value>),
    /// A read whose result is unknown, or a failed one.
    Unknown,
}

pub(super) struct SetFacts {
    ops: AHashMap<u32, SetOp>,
    /// Element → positions of the adds of it that did not fail.
    adders: AHashMap<Value, Vec<u32>>,
    /// Elements some failed add would have added.
    failed_adds: AHashSet<Value>,
    init: Vec<Value>,
}

impl SetFacts {
    /// The facts of one key's ops; `None` if an op is not a set op.
    pub(super) fn of(history: &History, positions: &[u32], setting: &Setting) -> Option<SetFacts> {
        let init = match &setting.init {
            Some(v) => collection(v)?,
            None => Vec::new(),
        };
        let mut facts =
            SetFacts { ops: AHashMap::new(), adders: AHashMap::new(), failed_adds: AHashSet::new(), init };
        for o in raw_ops(history, positions, setting.keying)? {
            let op = match o.f {
                "add" => SetOp::Add { v: o.input.clone(), failed: o.failed() },
                "read" => match o.output {
                    Some(out) if o.completed() => SetOp::Read(collection(out)?),
                    _ => SetOp::Unknown,
                },
                _ => return None,
            };
            if let SetOp::Add { v, failed } = &op {
                if *failed {
                    facts.failed_adds.insert(v.clone());
                } else {
                    facts.adders.entry(v.clone()).or_default().push(o.pos);
                }
            }
            facts.ops.insert(o.pos, op);
        }
        Some(facts)
    }

    fn op(&self, pos: u32) -> Result<&SetOp, String> {
        self.ops.get(&pos).ok_or_else(|| format!("position {pos} is not an op of this set"))
    }

    fn read(&self, pos: u32) -> Result<&[Value], String> {
        match self.op(pos)? {
            SetOp::Read(seen) => Ok(seen),
            _ => Err(format!("the op at position {pos} is not a completed read")),
        }
    }

    fn is_init(&self, v: &Value) -> bool {
        self.init.binary_search(v).is_ok()
    }

    /// The elements `r` saw that are not initial and that no op which may have happened adds.
    fn garbage(&self, r: u32) -> Result<Vec<&Value>, String> {
        let seen = self.read(r)?;
        let garbage: Vec<&Value> =
            seen.iter().filter(|v| !self.is_init(v) && !self.adders.contains_key(*v)).collect();
        ensure(!garbage.is_empty(), || "every element it saw was initial or added".into())?;
        Ok(garbage)
    }
}

/// The elements of sorted `all` that sorted `some` lacks, in order.
fn missing<'v>(all: &'v [Value], some: &[Value]) -> Vec<&'v Value> {
    all.iter().filter(|v| some.binary_search(v).is_err()).collect()
}

/// Elements named in a sentence as the set model names them: "3", "3 and 5", "3, 5 and 7",
/// and past 32 of them "… and N more".
fn listed(items: &[&Value]) -> String {
    const SHOWN: usize = 32;
    let shown: Vec<String> = items.iter().take(SHOWN).map(|v| v.to_string()).collect();
    match (shown.split_last(), items.len() - shown.len()) {
        (None, _) => String::new(),
        (Some((last, [])), 0) => last.clone(),
        (Some((last, init)), 0) => format!("{} and {last}", init.join(", ")),
        (Some(_), rest) => format!("{} and {rest} more", shown.join(", ")),
    }
}

impl ModelFacts for SetFacts {
    fn certify_edge(&self, a: u32, b: u32, kind: EdgeKind) -> Check {
        match kind {
            EdgeKind::AntiDependency => {
                let seen = self.read(a)?;
                let SetOp::Add { v, failed: false } = self.op(b)? else {
                    return Err("the second op is not an add that may have happened".into());
                };
                ensure(!self.is_init(v), || format!("{v} was in the set from the start"))?;
                ensure(seen.binary_search(v).is_err(), || format!("the read saw {v}"))
            }
            EdgeKind::ReadsFrom => {
                let SetOp::Add { v, failed: false } = self.op(a)? else {
                    return Err("the first op is not an add that may have happened".into());
                };
                let seen = self.read(b)?;
                ensure(!self.is_init(v), || format!("{v} was in the set from the start"))?;
                ensure(self.adders.get(v).is_some_and(|a_s| a_s == &[a]), || {
                    format!("the first op is not the only add of {v}")
                })?;
                ensure(seen.binary_search(v).is_ok(), || format!("the read did not see {v}"))
            }
            _ => Err(format!("a set has no {} edges", kind.short())),
        }
    }

    /// Each rule's sentence names the elements that show it, in the set's order.
    fn certify_conflict(&self, ops: &[u32], kind: Option<ClassKind>, reason: &str) -> Check {
        let told = match (kind, ops) {
            (Some(ClassKind::GarbageRead), [r]) => {
                let what = listed(&self.garbage(*r)?);
                format!("it saw {what}, but no op added {what}")
            }
            (None, [r]) => {
                let seen = self.read(*r)?;
                let lost = missing(&self.init, seen);
                ensure(!lost.is_empty(), || "the read lacks no initial element".into())?;
                let verb = if lost.len() == 1 { "was" } else { "were" };
                format!(
                    "it lacks {}, which {verb} in the set from the start: a grow-only set never loses an element",
                    listed(&lost)
                )
            }
            (None, [r1, r2]) => {
                let (s1, s2) = (self.read(*r1)?, self.read(*r2)?);
                let (first, second) = (missing(s1, s2), missing(s2, s1));
                ensure(!first.is_empty() && !second.is_empty(), || "one read contains the other".into())?;
                let (first, second) = (listed(&first), listed(&second));
                format!(
                    "the first read saw {first} but not {second}, the second saw {second} but not {first}: \
                     a grow-only set never loses an element, so neither read can have taken effect before the other"
                )
            }
            _ => return Err(format!("no rule for a {kind:?} conflict of {} ops", ops.len())),
        };
        super::told_as(reason, &told)
    }

    /// Every class this model's explainers name has a rule: any other is refuted.
    fn knows_class(&self, _kind: ClassKind, _process_order: bool) -> bool {
        true
    }

    fn certify_class(&self, kind: ClassKind, ops: &[u32], _explanation: &str, _process_order: bool) -> Check {
        match (kind, ops) {
            (ClassKind::GarbageRead, [r]) => self.garbage(*r).map(|_| ()),
            (ClassKind::ReadOfFailedWrite, [r]) => {
                let garbage = self.garbage(*r)?;
                ensure(garbage.iter().any(|v| self.failed_adds.contains(*v)), || {
                    "no failed op adds an element the read saw that nobody else added".into()
                })
            }
            _ => Err(format!("no rule for {kind} with {} ops", ops.len())),
        }
    }
}
