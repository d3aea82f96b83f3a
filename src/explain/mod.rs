//! Explanations: name what went wrong on an invalid key, shrink the evidence to a handful of
//! ops, and tie it to the faults that were active (issue: "read like the first paragraph of an
//! incident report").
//!
//! Classification works for models that say what their ops need and leave
//! ([`Model::needs`], [`Model::leaves`]: registers, and the register part of other models): a
//! read is an op that needs a value and leaves none, a write one that leaves a value. Each class
//! is a pattern over values and real-time order that makes the key non-linearizable by itself,
//! so a class is never claimed where the pattern is not there.

mod duplicate;
mod faults;
mod key;
mod sequential;
mod shrink;

pub(crate) use duplicate::{Precedence, classify_duplicate};
pub(crate) use faults::{fault_windows, faults_during};
pub(crate) use key::explain_invalid;
pub use sequential::classify_sequential;
pub(crate) use shrink::shrink;

use crate::model::{Fact, Model};
use crate::split::{Entry, Part};
use crate::vocab::ClassKind;
use ahash::AHashMap;
use serde::Serialize;

/// A named kind of violation, with the ops that show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Classified {
    /// `stale-read`, `lost-write`, `garbage-read`, `read-of-failed-write`, `future-read`,
    /// `own-write-not-read`, `non-monotonic-read`, `duplicate-effect`; for sequential
    /// consistency `own-write-not-read`, `out-of-order-read`, `disagreeing-order`,
    /// `duplicate-effect`.
    pub kind: ClassKind,
    /// The ops (entry indices into the part, or into its failed ops for a failed write:
    /// see [`Classified::failed_op`]).
    pub ops: Vec<u32>,
    /// A failed op involved (index into [`Part::failed_ops`]).
    pub failed_op: Option<u32>,
    /// One sentence, with `{0}`, `{1}`… standing for `ops[0]`, `ops[1]`… for the caller to
    /// fill in with how it cites ops.
    pub template: String,
}

struct Roles {
    /// Completed reads and what they saw, by completion time.
    reads: Vec<(u32, Fact)>,
    /// Every op that leaves a fact, and the fact.
    writes: Vec<(u32, Fact)>,
    /// The writers of each fact, so that patterns look them up rather than scan every write.
    writers: AHashMap<Fact, Vec<u32>>,
    /// Every fact some completed op saw: a read's value, a cas's expected one.
    seen: ahash::AHashSet<Fact>,
}

impl Roles {
    fn writers_of(&self, f: Fact) -> impl Iterator<Item = u32> + '_ {
        self.writers.get(&f).into_iter().flatten().copied()
    }

    /// Whether a completed op saw `f` (a read of it, or a cas from it).
    fn is_seen(&self, f: Fact) -> bool {
        self.seen.contains(&f)
    }
}

fn roles<M: Model>(model: &M, entries: &[Entry<M::Op>], completed: usize) -> Roles {
    let mut reads = Vec::new();
    let mut writes = Vec::new();
    let mut seen = ahash::AHashSet::new();
    for (i, e) in entries.iter().enumerate() {
        if let Some(f) = model.needs(&e.op).filter(|_| i < completed) {
            seen.insert(f);
        }
        match (model.needs(&e.op), model.leaves(&e.op)) {
            (Some(f), None) if i < completed => reads.push((i as u32, f)),
            (_, Some(f)) => writes.push((i as u32, f)),
            _ => {}
        }
    }
    reads.sort_by_key(|(i, _)| entries[*i as usize].complete);
    let mut writers: AHashMap<Fact, Vec<u32>> = AHashMap::new();
    for &(w, f) in &writes {
        writers.entry(f).or_default().push(w);
    }
    Roles { reads, writes, writers, seen }
}

fn class(kind: ClassKind, ops: Vec<u32>, template: &str) -> Classified {
    Classified { kind, ops, failed_op: None, template: template.to_string() }
}

/// Names the violation on `part`, if one of the known patterns is there. `is_init` says
/// whether the initial state satisfies a fact (for a register: holds `nil`, or `--init`).
/// `skew`: real-time order tolerates this much clock skew, as in the search.
pub fn classify<M: Model>(
    model: &M,
    part: &Part<M::Op>,
    skew: i64,
    is_init: &dyn Fn(Fact) -> bool,
) -> Option<Classified> {
    let e = &part.entries;
    let r = roles(model, e, part.determinate);
    let precedes = |a: u32, b: u32| e[a as usize].complete.saturating_add(skew) < e[b as usize].invoke;
    for &(read, f) in &r.reads {
        let is_init = is_init(f);
        if r.writers_of(f).next().is_none() && !is_init {
            let failed = part.failed_ops.iter().position(|x| model.leaves(&x.op) == Some(f));
            return Some(match failed {
                Some(x) => Classified {
                    failed_op: Some(x as u32),
                    ..class(
                        ClassKind::ReadOfFailedWrite,
                        vec![read],
                        "{0} read a value that only a failed op ({failed}) wrote: the failure was reported, but the write took effect",
                    )
                },
                None => class(ClassKind::GarbageRead, vec![read], "{0} read a value that no op wrote"),
            });
        }
        if !is_init && r.writers_of(f).all(|w| precedes(read, w)) {
            let w = r.writers_of(f).next().expect("checked above");
            return Some(class(
                ClassKind::FutureRead,
                vec![read, w],
                "{0} read the value of {1}, which began only after the read had completed",
            ));
        }
    }
    classify_stale(e, &r, skew, &precedes)
}

/// A read of f after a write of another value completed that itself began after every write
/// of f had completed: the read cannot be linearized. Named by who missed what: the reader's
/// own write (own-write-not-read), a newer value the same process had already read
/// (non-monotonic-read), a write no read ever saw while several later reads saw older values
/// (lost-write), or else a stale read.
fn classify_stale<O>(
    e: &[Entry<O>],
    r: &Roles,
    skew: i64,
    precedes: &dyn Fn(u32, u32) -> bool,
) -> Option<Classified> {
    // `old` was gone by the time `read` ran: `w` (writing something else) took effect before
    // `read`, and every writer of `old` either took effect before `w` or began only after
    // `read` had completed. So no write of `old` can fall between `w` and `read` (a crashed
    // write of `old` still pending is allowed for, if it began too late to matter).
    let replaced =
        |old: Fact, w: u32, read: u32| r.writers_of(old).all(|o| precedes(o, w) || precedes(read, o));
    for &(read, f) in &r.reads {
        let newer = r.writes.iter().find(|&&(w, g)| g != f && precedes(w, read) && replaced(f, w, read));
        let Some(&(newer, g)) = newer else { continue };
        let process = e[read as usize].process;
        if e[newer as usize].process == process {
            return Some(class(
                ClassKind::OwnWriteNotRead,
                vec![newer, read],
                "the process that ran {0} did not see its own write: its later {1} returned an older value",
            ));
        }
        let earlier = r.reads.iter().find(|&&(r2, h)| {
            h != f
                && e[r2 as usize].process == process
                && precedes(r2, read)
                && r.writers_of(h).next().is_some()
                && r.writers_of(h).all(|w| replaced(f, w, read))
        });
        if let Some(&(earlier, _)) = earlier {
            return Some(class(
                ClassKind::NonMonotonicRead,
                vec![earlier, read],
                "one process read a value ({0}) and then an older one ({1}): its reads went back in time",
            ));
        }
        // A write nobody ever saw, while two or more later reads saw what it replaced: lost,
        // not merely read late.
        let later_stale = r
            .reads
            .iter()
            .filter(|&&(r2, h)| h != g && precedes(newer, r2) && replaced(h, newer, r2))
            .count();
        if !r.is_seen(g) && later_stale >= 2 {
            return Some(class(
                ClassKind::LostWrite,
                vec![newer, read],
                "{0} was acknowledged but never seen: {1}, which began after it completed, saw an older value",
            ));
        }
        return Some(class(
            ClassKind::StaleRead,
            vec![read, newer],
            "{0} returned a stale value: {1} had already replaced it, and completed before the read began",
        ));
    }
    classify_seen_newer(e, r, skew)
}

/// A read of `f` after another read, completed before it began, had seen a value `g` that
/// replaced `f`: every writer of `f` took effect before that earlier read (so before the write
/// it saw), or began after the later read completed. The later read is stale, whoever wrote
/// what the earlier one saw.
///
/// O(r log r + w) for r reads and w writes: an earlier read qualifies when it completed before
/// the read began and was invoked after every writer of `f` that could still matter had
/// completed, so among the reads completed in time only the latest-invoked one, or the
/// latest-invoked one of another value, needs looking at.
fn classify_seen_newer<O>(e: &[Entry<O>], r: &Roles, skew: i64) -> Option<Classified> {
    let latest = latest_invoked_prefixes(e, &r.reads);
    for &(read, f) in &r.reads {
        let (invoke, complete) = (e[read as usize].invoke, e[read as usize].complete);
        // Writers of f that could fall before the read must all have completed before the
        // earlier read began.
        let mut after = i64::MIN;
        for o in r.writers_of(f).filter(|&o| complete.saturating_add(skew) >= e[o as usize].invoke) {
            after = after.max(e[o as usize].complete.saturating_add(skew));
        }
        let done_in_time =
            r.reads.partition_point(|&(r2, _)| e[r2 as usize].complete.saturating_add(skew) < invoke);
        let Some(earlier) = latest[done_in_time].pick(f, after) else { continue };
        return Some(if e[earlier as usize].process == e[read as usize].process {
            class(
                ClassKind::NonMonotonicRead,
                vec![earlier, read],
                "one process read a value ({0}) and then an older one ({1}): its reads went back in time",
            )
        } else {
            class(
                ClassKind::StaleRead,
                vec![read, earlier],
                "{0} returned a stale value: {1}, which completed before it began, had already seen a newer one",
            )
        });
    }
    None
}

/// Among the first k reads (by completion), the latest-invoked one, and the latest-invoked one
/// of a different value than that: (invocation, read, fact).
#[derive(Clone, Copy, Default)]
struct Latest {
    best: Option<(i64, u32, Fact)>,
    other: Option<(i64, u32, Fact)>,
}

impl Latest {
    fn with(mut self, invoke: i64, read: u32, f: Fact) -> Latest {
        let new = Some((invoke, read, f));
        match self.best {
            Some((i, _, g)) if g == f => {
                if invoke > i {
                    self.best = new;
                }
            }
            Some((i, ..)) if invoke > i => {
                self.other = self.best;
                self.best = new;
            }
            Some(_) => {
                if self.other.is_none_or(|(i, ..)| invoke > i) {
                    self.other = new;
                }
            }
            None => self.best = new,
        }
        self
    }

    /// A read of a value other than `f` invoked after `after`, if any.
    fn pick(&self, f: Fact, after: i64) -> Option<u32> {
        [self.best, self.other]
            .into_iter()
            .flatten()
            .find(|&(_, _, g)| g != f)
            .filter(|&(i, ..)| i > after)
            .map(|(_, r, _)| r)
    }
}

/// [`Latest`] for every prefix of `reads` (index k: the first k).
fn latest_invoked_prefixes<O>(e: &[Entry<O>], reads: &[(u32, Fact)]) -> Vec<Latest> {
    let mut out = Vec::with_capacity(reads.len() + 1);
    out.push(Latest::default());
    for &(read, f) in reads {
        let last = *out.last().expect("starts with one");
        out.push(last.with(e[read as usize].invoke, read, f));
    }
    out
}
