//! What the reads of a grow-only set imply about order.
//!
//! A grow-only set never loses an element, so the states any linearization passes through form
//! a chain under inclusion, and so do the results of the completed reads, in the order they take
//! effect. Hence:
//!
//! - two completed reads neither of which contains the other can never both be linearized, nor
//!   can a read that lacks an element of the initial set, nor one that contains an element no op
//!   adds (conflicts);
//! - a completed read that lacks `v` precedes every add of `v` (rw): once any add of `v` took
//!   effect, `v` stays; this holds for crashed adds too (if one is included, it comes later);
//! - if `v` (not initially present) has exactly one add, every completed read that contains `v`
//!   follows it (wr), and includes it.
//!
//! Spelled out, the last two are quadratic (every read × every element). The reads are grouped
//! into classes of equal results, chained by strict inclusion, and each element is connected
//! only to the class that first contains it and to the class just before it. A class whose new
//! elements include one added exactly once (a *hub*) links every read before it to every read
//! in it through that add (read → add → read), so those edges already imply the rest. Where a
//! class has no hub (every new element added several times), edges reach further back and
//! forward, up to the next hub, within a budget.
//!
//! Cost: O(n log n + R) to group and check the reads (R, the total size of the distinct read
//! results), plus the edges: O(n) in the usual case where each element is added once and few
//! reads see the same set; never more than [`MAX_EDGES`].

use super::{Conflict, Edge, EdgeKind, Implied, SetOp, and_list};
use crate::history::Value;
use crate::vocab::ClassKind;
use ahash::AHashMap;

/// The most edges derived: past it, the rest are left out, which only weakens pruning.
const MAX_EDGES: usize = 1 << 21;

/// The completed reads that saw the same elements.
struct Class<'a> {
    /// Their result, sorted without duplicates.
    seen: &'a [Value],
    /// The reads, in index order.
    reads: Vec<u32>,
}

/// Edges and conflicts for the set ops `ops`, of which `ops[..completed]` completed, on a set
/// that starts with `init` (sorted, without duplicates).
pub(super) fn implied(ops: &[SetOp], completed: usize, init: &[Value]) -> Implied {
    let mut adds: AHashMap<&Value, Vec<u32>> = AHashMap::new();
    let mut reads: Vec<(u32, &[Value])> = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        match op {
            // Adding an element the set starts with changes nothing: it orders nothing.
            SetOp::Add(v) if init.binary_search(v).is_err() => adds.entry(v).or_default().push(i as u32),
            SetOp::Add(_) => {}
            SetOp::Read(Some(seen)) if i < completed => reads.push((i as u32, &seen[..])),
            // A crashed read, or one whose result is unknown, constrains nothing.
            SetOp::Read(_) => {}
        }
    }
    let classes = classes(reads);
    let fresh = fresh(&classes, init);
    let conflicts = conflicts(&classes, &fresh, &adds, init);
    if !conflicts.is_empty() {
        // The key is decided by the conflict; edges would go unused.
        return Implied { edges: Vec::new(), conflicts };
    }
    let mut d = Derivation::new(&classes, &adds);
    d.derive(&fresh);
    Implied { edges: d.edges, conflicts: Vec::new() }
}

/// The reads grouped by result, smallest result first (so a valid history's classes form a
/// chain of strict inclusions).
fn classes(mut reads: Vec<(u32, &[Value])>) -> Vec<Class<'_>> {
    reads.sort_unstable_by(|a, b| (a.1.len(), a.1, a.0).cmp(&(b.1.len(), b.1, b.0)));
    let mut out: Vec<Class<'_>> = Vec::new();
    for (i, seen) in reads {
        match out.last_mut() {
            Some(c) if c.seen == seen => c.reads.push(i),
            _ => out.push(Class { seen, reads: vec![i] }),
        }
    }
    out
}

/// The elements of `a` that are not in `b`; both sorted. A merge, O(|a| + |b|): read results
/// can hold thousands of elements each, and binary searches showed up in profiles.
fn difference<'a>(a: &'a [Value], b: &[Value]) -> Vec<&'a Value> {
    let mut out = Vec::new();
    let mut j = 0;
    for v in a {
        while j < b.len() && b[j] < *v {
            j += 1;
        }
        if j == b.len() || b[j] != *v {
            out.push(v);
        }
    }
    out
}

/// For each class, the elements it is the first to contain: those not in the class before it
/// (nor, for the first class, in `init`). Every element of every class is among them, for this
/// class or an earlier one.
fn fresh<'a>(classes: &[Class<'a>], init: &[Value]) -> Vec<Vec<&'a Value>> {
    let mut before = init;
    classes
        .iter()
        .map(|c| {
            let new = difference(c.seen, before);
            before = c.seen;
            new
        })
        .collect()
}

/// Elements named in a sentence.
fn named(items: &[&Value]) -> String {
    and_list(&items.iter().map(|v| (*v).clone()).collect::<Vec<_>>())
}

/// What no linearization allows, most specific first (the checker reports the first): a read of
/// elements nobody added, a read that lost an initial element, two reads that saw incomparable
/// sets.
fn conflicts(
    classes: &[Class<'_>],
    fresh: &[Vec<&Value>],
    adds: &AHashMap<&Value, Vec<u32>>,
    init: &[Value],
) -> Vec<Conflict> {
    let mut out = Vec::new();
    // An element never added first shows in some class's fresh elements (the initial ones
    // never do).
    let garbage = classes.iter().zip(fresh).find_map(|(c, new)| {
        let never_added: Vec<&Value> = new.iter().copied().filter(|v| !adds.contains_key(v)).collect();
        (!never_added.is_empty()).then_some((c, never_added))
    });
    if let Some((c, never_added)) = garbage {
        let what = named(&never_added);
        out.push(Conflict {
            ops: vec![c.reads[0]],
            reason: format!("it saw {what}, but no op added {what}"),
            kind: Some(ClassKind::GarbageRead),
        });
    }
    let lost_init = classes.iter().filter(|_| !init.is_empty()).find_map(|c| {
        let lost = difference(init, c.seen);
        (!lost.is_empty()).then_some((c, lost))
    });
    if let Some((c, lost)) = lost_init {
        let (what, verb) = (named(&lost), if lost.len() == 1 { "was" } else { "were" });
        out.push(Conflict {
            ops: vec![c.reads[0]],
            reason: format!(
                "it lacks {what}, which {verb} in the set from the start: a grow-only set never loses an element"
            ),
            kind: None,
        });
    }
    out.extend(classes.windows(2).find_map(|w| incomparable(&w[0], &w[1])));
    out
}

/// The conflict between two classes (`small` no larger than `large`) when neither contains the
/// other: whichever read took effect first, the later one would have lost an element.
fn incomparable(small: &Class<'_>, large: &Class<'_>) -> Option<Conflict> {
    let lost = difference(small.seen, large.seen);
    if lost.is_empty() {
        return None;
    }
    // `large` is at least as big and differs, so it has elements `small` lacks.
    let gained = difference(large.seen, small.seen);
    let (a, b) = (small.reads[0], large.reads[0]);
    // The report lists the ops in the order given: the reason speaks of them in that order.
    let (first, second, ops) =
        if a < b { (&lost, &gained, vec![a, b]) } else { (&gained, &lost, vec![b, a]) };
    let (first, second) = (named(first), named(second));
    Some(Conflict {
        ops,
        reason: format!(
            "the first read saw {first} but not {second}, the second saw {second} but not {first}: \
             a grow-only set never loses an element, so neither read can have taken effect before the other"
        ),
        kind: None,
    })
}

/// The edges of a history whose read classes form a chain.
struct Derivation<'a> {
    classes: &'a [Class<'a>],
    adds: &'a AHashMap<&'a Value, Vec<u32>>,
    /// Per class: whether an element it is the first to contain is added exactly once, so that
    /// that add's edges order every read of the previous class before every read of this one.
    hub: Vec<bool>,
    edges: Vec<Edge>,
}

impl<'a> Derivation<'a> {
    fn new(classes: &'a [Class<'a>], adds: &'a AHashMap<&'a Value, Vec<u32>>) -> Derivation<'a> {
        Derivation { classes, adds, hub: vec![false; classes.len()], edges: Vec::new() }
    }

    /// Derives every edge: for each element, from the reads that lack it to its adds, and from
    /// its only add to the reads that contain it.
    fn derive(&mut self, fresh: &[Vec<&Value>]) {
        if self.classes.is_empty() {
            return;
        }
        // `fresh` holds none of the initial elements: every read contains those, or there was
        // a conflict.
        for (j, new) in fresh.iter().enumerate() {
            self.hub[j] = new.iter().any(|v| self.adds_of(v).len() == 1);
        }
        for (j, new) in fresh.iter().enumerate() {
            for v in new {
                self.lacking(v, j);
                if let [only] = self.adds_of(v) {
                    self.seeing(*only, j);
                }
            }
        }
        // Elements no completed read contains: every read lacks them.
        let last = self.classes[self.classes.len() - 1].seen;
        let unseen = self.adds.keys().filter(|v| last.binary_search(v).is_err());
        for v in unseen {
            self.lacking(v, self.classes.len());
        }
    }

    fn adds_of(&self, v: &Value) -> &'a [u32] {
        self.adds.get(v).map_or(&[], Vec::as_slice)
    }

    /// Edges from the reads of the classes before `first_with` (which lack `v`) to every add
    /// of `v`: from the class just before, and further back until a class with a hub, through
    /// which the earlier ones reach these.
    fn lacking(&mut self, v: &Value, first_with: usize) {
        let adds = self.adds_of(v);
        for i in (0..first_with).rev() {
            for &r in &self.classes[i].reads {
                for &a in adds {
                    if self.edges.len() >= MAX_EDGES {
                        return;
                    }
                    self.edges.push(Edge { before: r, after: a, kind: EdgeKind::AntiDependency });
                }
            }
            if self.hub[i] {
                return;
            }
        }
    }

    /// Edges from `add`, the only add of an element that class `first_with` is the first to
    /// contain, to the reads of that class, and of the later ones up to the next with a hub
    /// (which the reads of this class precede).
    fn seeing(&mut self, add: u32, first_with: usize) {
        for i in first_with..self.classes.len() {
            if i > first_with && self.hub[i] {
                return;
            }
            for &r in &self.classes[i].reads {
                if self.edges.len() >= MAX_EDGES {
                    return;
                }
                self.edges.push(Edge { before: add, after: r, kind: EdgeKind::ReadsFrom });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add(v: i64) -> SetOp {
        SetOp::Add(Value::Int(v))
    }
    fn read(vs: &[i64]) -> SetOp {
        SetOp::Read(Some(vs.iter().map(|&v| Value::Int(v)).collect()))
    }
    fn has(implied: &Implied, before: u32, after: u32, kind: EdgeKind) -> bool {
        implied.edges.contains(&Edge { before, after, kind })
    }

    #[test]
    fn unique_adds_order_the_reads_around_them() {
        // 0: add 1, 1: add 2, 2: read {}, 3: read {1}, 4: read {1 2}, 5: add 3 (crashed)
        let ops = vec![add(1), add(2), read(&[]), read(&[1]), read(&[1, 2]), add(3)];
        let implied = implied(&ops, 5, &[]);
        assert!(implied.conflicts.is_empty());
        assert!(has(&implied, 2, 0, EdgeKind::AntiDependency));
        assert!(has(&implied, 0, 3, EdgeKind::ReadsFrom));
        assert!(has(&implied, 3, 1, EdgeKind::AntiDependency));
        assert!(has(&implied, 1, 4, EdgeKind::ReadsFrom));
        // The crashed add of an element nobody saw comes after every read, if at all.
        assert!(has(&implied, 4, 5, EdgeKind::AntiDependency));
        // Implied through the hubs, not repeated: read {} → add 1 → read {1} → add 2.
        assert!(!has(&implied, 2, 1, EdgeKind::AntiDependency));
        assert!(!has(&implied, 0, 4, EdgeKind::ReadsFrom));
        assert_eq!(implied.edges.len(), 5);
    }

    #[test]
    fn repeated_adds_order_only_reads_before_them() {
        // 1 is added twice: no read names its add, but reads lacking 1 precede both adds, all
        // the way back (no class has a hub).
        let ops = vec![add(1), add(1), read(&[]), read(&[]), read(&[1])];
        let implied = implied(&ops, 5, &[]);
        assert!(implied.conflicts.is_empty());
        for (r, a) in [(2, 0), (2, 1), (3, 0), (3, 1)] {
            assert!(has(&implied, r, a, EdgeKind::AntiDependency));
        }
        assert!(!implied.edges.iter().any(|e| e.kind == EdgeKind::ReadsFrom));
        // Without a hub at {1 2}, the add of 3 reaches back to read {}.
        let ops = vec![add(1), add(1), add(2), add(2), add(3), read(&[]), read(&[1, 2]), read(&[1, 2, 3])];
        let implied = super::implied(&ops, 8, &[]);
        assert!(has(&implied, 5, 4, EdgeKind::AntiDependency));
        assert!(has(&implied, 6, 4, EdgeKind::AntiDependency));
    }

    #[test]
    fn initial_elements_order_nothing() {
        let init = [Value::Int(1)];
        let ops = vec![add(1), read(&[1]), add(2), read(&[1, 2])];
        let implied = implied(&ops, 4, &init);
        assert!(implied.conflicts.is_empty());
        assert!(!implied.edges.iter().any(|e| e.before == 0 || e.after == 0));
        assert!(has(&implied, 1, 2, EdgeKind::AntiDependency));
        assert!(has(&implied, 2, 3, EdgeKind::ReadsFrom));
    }

    #[test]
    fn crashed_and_unknown_reads_constrain_nothing() {
        let ops = vec![add(1), SetOp::Read(None), read(&[7])];
        // The read of 7 crashed (index 2 is past `completed`): no garbage.
        assert_eq!(implied(&ops, 2, &[]), Implied::default());
    }

    #[test]
    fn garbage_lost_and_incomparable_reads_conflict() {
        let garbage = implied(&[add(1), read(&[1, 7, 9])], 2, &[]);
        assert_eq!(garbage.conflicts[0].ops, vec![1]);
        assert_eq!(garbage.conflicts[0].reason, "it saw 7 and 9, but no op added 7 and 9");
        assert_eq!(garbage.conflicts[0].kind, Some(ClassKind::GarbageRead));
        assert!(garbage.edges.is_empty());
        let lost = implied(&[read(&[2])], 1, &[Value::Int(1), Value::Int(2)]);
        assert_eq!(
            lost.conflicts[0].reason,
            "it lacks 1, which was in the set from the start: a grow-only set never loses an element"
        );
        let split = implied(&[add(1), add(2), read(&[1, 2]), add(3), read(&[1, 3])], 5, &[]);
        assert_eq!(split.conflicts.len(), 1);
        assert_eq!(split.conflicts[0].ops, vec![2, 4]);
        assert_eq!(
            split.conflicts[0].reason,
            "the first read saw 2 but not 3, the second saw 3 but not 2: a grow-only set never loses an \
             element, so neither read can have taken effect before the other"
        );
    }

    #[test]
    fn many_equal_reads_stay_linear_with_hubs() {
        // 1,000 elements added once each, read one more at a time by two reads each.
        let n = 1_000;
        let mut ops: Vec<SetOp> = (0..n).map(add).collect();
        for k in 0..=n {
            let seen: Vec<i64> = (0..k).collect();
            ops.push(read(&seen));
            ops.push(read(&seen));
        }
        let implied = implied(&ops, ops.len(), &[]);
        assert!(implied.conflicts.is_empty());
        // Per element: two reads lack it just before, two see it first.
        assert_eq!(implied.edges.len(), 4 * n as usize);
    }
}
