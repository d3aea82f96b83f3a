//! Consistency models as a lattice, the anomalies each one forbids, and what a set of anomalies
//! rules out (Elle's `:not` and `:also-not`).
//!
//! The relations follow Adya's PL levels, Bailis et al.'s highly available transactions,
//! Cerone et al.'s axioms and Elle's choices where the literature is silent (the strong-session
//! and strong variants). One deliberate difference from Elle: every cycle labrys finds is over
//! single items (there are no predicate reads), so a G-single or G-nonadjacent cycle also counts
//! as G2-item, and repeatable read rules out read skew, as Adya's PL-2.99 does.

use std::collections::BTreeSet;

/// A transactional consistency model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ConsistencyModel {
    /// PL-1: no dirty writes (G0).
    ReadUncommitted,
    /// PL-2: no dirty reads (G1).
    ReadCommitted,
    /// PL-CS.
    CursorStability,
    /// PL-2L.
    MonotonicView,
    /// PL-MSR.
    MonotonicSnapshotRead,
    /// PL-2+.
    ConsistentView,
    /// PL-FCV.
    ForwardConsistentView,
    /// Bailis et al.'s monotonic atomic view.
    MonotonicAtomicView,
    /// Cerone et al.'s read atomic.
    ReadAtomic,
    /// Cerone et al.'s causal consistency.
    CausalCerone,
    /// Prefix consistency.
    Prefix,
    /// Parallel snapshot isolation.
    ParallelSnapshotIsolation,
    /// PL-2.99.
    RepeatableRead,
    /// PL-SI.
    SnapshotIsolation,
    /// PL-3U.
    UpdateSerializable,
    /// PL-3 (conflict serializability).
    Serializable,
    /// Read uncommitted, plus each process's own order.
    StrongSessionReadUncommitted,
    /// Read committed, plus each process's own order.
    StrongSessionReadCommitted,
    /// Read uncommitted, plus real-time order.
    StrongReadUncommitted,
    /// Read committed, plus real-time order.
    StrongReadCommitted,
    /// Snapshot isolation, plus each process's own order.
    StrongSessionSnapshotIsolation,
    /// Snapshot isolation, plus real-time order.
    StrongSnapshotIsolation,
    /// Serializable, plus each process's own order.
    StrongSessionSerializable,
    /// PL-SS: serializable, plus real-time order.
    StrictSerializable,
}

use crate::vocab::ConsistencyLevel as L;
use ConsistencyModel as M;

/// One model: its level (which spells it), the models it implies directly, the anomalies it
/// forbids beyond those.
struct Entry {
    model: M,
    level: L,
    weaker: &'static [M],
    forbids: &'static [&'static str],
}

const LATTICE: &[Entry] = &[
    Entry {
        model: M::ReadUncommitted,
        level: L::ReadUncommitted,
        weaker: &[],
        forbids: &["G0", "duplicate-elements", "cyclic-versions", "garbage-read"],
    },
    Entry {
        model: M::ReadCommitted,
        level: L::ReadCommitted,
        weaker: &[M::ReadUncommitted],
        forbids: &["G1"],
    },
    Entry {
        model: M::CursorStability,
        level: L::CursorStability,
        weaker: &[M::ReadCommitted],
        forbids: &["G1", "G-cursor", "lost-update"],
    },
    Entry {
        model: M::MonotonicView,
        level: L::MonotonicView,
        weaker: &[M::ReadCommitted],
        forbids: &["G1", "G-monotonic"],
    },
    Entry {
        model: M::MonotonicSnapshotRead,
        level: L::MonotonicSnapshotRead,
        weaker: &[M::ReadCommitted],
        forbids: &["G1", "G-MSR"],
    },
    Entry {
        model: M::ConsistentView,
        level: L::ConsistentView,
        weaker: &[M::CursorStability, M::MonotonicView],
        forbids: &["G1", "G-single"],
    },
    Entry {
        model: M::ForwardConsistentView,
        level: L::ForwardConsistentView,
        weaker: &[M::ConsistentView],
        forbids: &["G1", "G-SIb"],
    },
    Entry {
        model: M::MonotonicAtomicView,
        level: L::MonotonicAtomicView,
        weaker: &[M::ReadCommitted],
        forbids: &[],
    },
    Entry {
        model: M::ReadAtomic,
        level: L::ReadAtomic,
        weaker: &[M::MonotonicAtomicView],
        forbids: &["internal", "G1a", "future-read"],
    },
    Entry {
        model: M::CausalCerone,
        level: L::CausalCerone,
        weaker: &[M::ReadAtomic],
        forbids: &["internal", "G1a"],
    },
    Entry { model: M::Prefix, level: L::Prefix, weaker: &[M::CausalCerone], forbids: &["internal", "G1a"] },
    Entry {
        model: M::ParallelSnapshotIsolation,
        level: L::ParallelSnapshotIsolation,
        weaker: &[M::CausalCerone],
        forbids: &["internal", "G1a"],
    },
    Entry {
        model: M::RepeatableRead,
        level: L::RepeatableRead,
        weaker: &[M::CursorStability, M::MonotonicAtomicView],
        forbids: &["G1", "G2-item", "lost-update"],
    },
    Entry {
        model: M::SnapshotIsolation,
        level: L::SnapshotIsolation,
        weaker: &[
            M::ForwardConsistentView,
            M::MonotonicAtomicView,
            M::MonotonicSnapshotRead,
            M::ParallelSnapshotIsolation,
            M::Prefix,
        ],
        forbids: &["internal", "G1", "G-SI", "G-nonadjacent"],
    },
    Entry {
        model: M::UpdateSerializable,
        level: L::UpdateSerializable,
        weaker: &[M::ForwardConsistentView],
        forbids: &["G1", "G-update"],
    },
    Entry {
        model: M::Serializable,
        level: L::Serializable,
        weaker: &[M::RepeatableRead, M::SnapshotIsolation, M::UpdateSerializable],
        forbids: &["internal", "G1", "G2"],
    },
    Entry {
        model: M::StrongSessionReadUncommitted,
        level: L::StrongSessionReadUncommitted,
        weaker: &[M::ReadUncommitted],
        forbids: &["G0-process"],
    },
    Entry {
        model: M::StrongSessionReadCommitted,
        level: L::StrongSessionReadCommitted,
        weaker: &[M::ReadCommitted, M::StrongSessionReadUncommitted],
        forbids: &["G1c-process"],
    },
    Entry {
        model: M::StrongReadUncommitted,
        level: L::StrongReadUncommitted,
        weaker: &[M::StrongSessionReadUncommitted],
        forbids: &["G0-realtime"],
    },
    Entry {
        model: M::StrongReadCommitted,
        level: L::StrongReadCommitted,
        weaker: &[M::StrongSessionReadCommitted, M::StrongReadUncommitted],
        forbids: &["G1c-realtime"],
    },
    Entry {
        model: M::StrongSessionSnapshotIsolation,
        level: L::StrongSessionSnapshotIsolation,
        weaker: &[M::SnapshotIsolation, M::StrongSessionReadCommitted],
        forbids: &["internal", "G1-process", "G-nonadjacent-process"],
    },
    Entry {
        model: M::StrongSnapshotIsolation,
        level: L::StrongSnapshotIsolation,
        weaker: &[M::StrongSessionSnapshotIsolation, M::StrongReadCommitted],
        forbids: &["internal", "G1-realtime", "G-nonadjacent-realtime"],
    },
    Entry {
        model: M::StrongSessionSerializable,
        level: L::StrongSessionSerializable,
        weaker: &[M::Serializable, M::StrongSessionSnapshotIsolation],
        forbids: &["G1-process", "G2-process"],
    },
    Entry {
        model: M::StrictSerializable,
        level: L::StrictSerializable,
        weaker: &[M::Serializable, M::StrongSnapshotIsolation, M::StrongSessionSerializable],
        forbids: &["G1", "G1c-realtime", "G2-realtime"],
    },
];

/// Anomaly A implies anomalies B...: a history with A also has B (so a model forbidding B
/// forbids A too).
const IMPLIES: &[(&str, &[&str])] = &[
    ("G0", &["G1c", "G0-process"]),
    ("G0-process", &["G1c-process", "G0-realtime"]),
    ("G0-realtime", &["G1c-realtime"]),
    ("G1a", &["G1"]),
    ("G1b", &["G1"]),
    ("G1c", &["G1", "G1c-process"]),
    ("G1c-process", &["G1c-realtime", "G1-process"]),
    ("G1c-realtime", &["G1-realtime"]),
    ("G1", &["G1-process"]),
    ("G1-process", &["G1-realtime"]),
    // Item-level cycles (the only kind labrys finds): G-single and G-nonadjacent are G2-item.
    ("G-single", &["G-nonadjacent", "G-SIb", "G-single-process", "G2-item"]),
    ("G-single-process", &["G-nonadjacent-process", "G-single-realtime", "G2-item-process"]),
    ("G-single-realtime", &["G-nonadjacent-realtime", "G2-item-realtime"]),
    ("G-nonadjacent", &["G2", "G-nonadjacent-process", "G2-item"]),
    ("G-nonadjacent-process", &["G2-process", "G-nonadjacent-realtime", "G2-item-process"]),
    ("G-nonadjacent-realtime", &["G2-realtime", "G2-item-realtime"]),
    ("G2", &["G2-process"]),
    ("G2-item", &["G2", "G2-item-process"]),
    ("G2-item-process", &["G2-process", "G2-item-realtime"]),
    ("G2-item-realtime", &["G2-realtime"]),
    ("G2-process", &["G2-realtime"]),
    ("incompatible-order", &["G1a"]),
    ("future-read", &["G1c"]),
    ("dirty-update", &["G1a"]),
    ("lost-update", &["G2-item"]),
];

impl ConsistencyModel {
    /// Every model, weakest first (roughly).
    pub fn all() -> impl Iterator<Item = ConsistencyModel> {
        LATTICE.iter().map(|e| e.model)
    }

    fn entry(self) -> &'static Entry {
        LATTICE.iter().find(|e| e.model == self).expect("every model has an entry")
    }

    /// The model's name (`snapshot-isolation`).
    pub fn name(self) -> &'static str {
        self.level().as_str()
    }

    /// The level `--consistency` names it by.
    pub fn level(self) -> L {
        self.entry().level
    }

    /// The model a level is, when it is a transactional one.
    pub fn of_level(level: L) -> Option<ConsistencyModel> {
        LATTICE.iter().find(|e| e.level == level).map(|e| e.model)
    }

    /// The model a name or alias (`PL-SI`) stands for.
    pub fn from_name(name: &str) -> Option<ConsistencyModel> {
        name.parse().ok().and_then(ConsistencyModel::of_level)
    }

    /// Every model name, for error messages.
    pub fn names() -> Vec<&'static str> {
        LATTICE.iter().map(|e| e.level.as_str()).collect()
    }
}

/// `start` and everything reachable from it by `next`.
fn closure<T: Ord + Copy>(start: impl IntoIterator<Item = T>, next: impl Fn(T) -> Vec<T>) -> BTreeSet<T> {
    let mut seen = BTreeSet::new();
    let mut todo: Vec<T> = start.into_iter().collect();
    while let Some(x) = todo.pop() {
        if seen.insert(x) {
            todo.extend(next(x));
        }
    }
    seen
}

fn implied_by(a: &str) -> Vec<&'static str> {
    IMPLIES.iter().find(|(x, _)| *x == a).map_or_else(Vec::new, |(_, bs)| bs.to_vec())
}

fn implying(b: &str) -> Vec<&'static str> {
    IMPLIES.iter().filter(|(_, bs)| bs.contains(&b)).map(|(a, _)| *a).collect()
}

/// Every anomaly name that occurs in the tables.
fn known_anomaly(name: &str) -> Option<&'static str> {
    let from_models = LATTICE.iter().flat_map(|e| e.forbids.iter());
    let from_implications = IMPLIES.iter().flat_map(|(a, bs)| std::iter::once(a).chain(bs.iter()));
    from_models.chain(from_implications).find(|a| **a == name).copied()
}

/// `found` and every anomaly they imply.
pub(crate) fn implied(found: &[&str]) -> BTreeSet<&'static str> {
    closure(found.iter().filter_map(|a| known_anomaly(a)), implied_by)
}

/// The anomalies that must be absent for all of `models` to hold: what they and every model
/// they imply forbid, and every anomaly that implies one of those.
pub(crate) fn prohibited(models: &[ConsistencyModel]) -> BTreeSet<&'static str> {
    let implied = closure(models.iter().copied(), |m| m.entry().weaker.to_vec());
    let direct = implied.iter().flat_map(|m| m.entry().forbids.iter().copied());
    closure(direct, implying)
}

/// What the anomalies `found` rule out: the weakest models they violate (`not`) and every other
/// model they violate (`also_not`), by name.
pub(crate) fn boundary<'a>(found: impl IntoIterator<Item = &'a str>) -> (Vec<String>, Vec<String>) {
    let found: Vec<&'static str> = found.into_iter().filter_map(known_anomaly).collect();
    let anomalies = closure(found, implied_by);
    let direct: Vec<M> =
        LATTICE.iter().filter(|e| e.forbids.iter().any(|a| anomalies.contains(a))).map(|e| e.model).collect();
    let stronger_of = |m: M| LATTICE.iter().filter(|e| e.weaker.contains(&m)).map(|e| e.model).collect();
    let impossible = closure(direct, stronger_of);
    // A model is among the weakest when no other impossible model is weaker than it.
    let is_weakest = |m: &M| {
        let below = closure(m.entry().weaker.iter().copied(), |w| w.entry().weaker.to_vec());
        !impossible.iter().any(|other| other != m && below.contains(other))
    };
    let (not, also): (Vec<M>, Vec<M>) = impossible.iter().copied().partition(|m| is_weakest(m));
    let names = |ms: Vec<M>| {
        let mut v: Vec<String> = ms.into_iter().map(|m| m.name().to_string()).collect();
        v.sort();
        v
    };
    (names(not), names(also))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_aliases() {
        assert_eq!(ConsistencyModel::from_name("PL-SI"), Some(M::SnapshotIsolation));
        assert_eq!(ConsistencyModel::from_name(":strict-serializable"), Some(M::StrictSerializable));
        assert_eq!(ConsistencyModel::from_name("linearizable"), None);
        for m in ConsistencyModel::all() {
            assert_eq!(ConsistencyModel::from_name(m.name()), Some(m));
        }
    }

    #[test]
    fn what_models_forbid() {
        let ser = prohibited(&[M::Serializable]);
        for a in
            ["G0", "G1a", "G1b", "G1c", "G-single", "G-nonadjacent", "G2-item", "internal", "lost-update"]
        {
            assert!(ser.contains(a), "serializable forbids {a}");
        }
        assert!(!ser.contains("G-single-realtime"));
        let si = prohibited(&[M::SnapshotIsolation]);
        assert!(si.contains("G-single") && si.contains("G-nonadjacent"));
        assert!(!si.contains("G2-item"), "snapshot isolation allows write skew");
        let strict = prohibited(&[M::StrictSerializable]);
        for a in ["G0-realtime", "G1c-realtime", "G-single-realtime", "G2-item-realtime", "G2-item"] {
            assert!(strict.contains(a), "strict serializable forbids {a}");
        }
        let rc = prohibited(&[M::ReadCommitted]);
        assert!(rc.contains("G1c") && rc.contains("G0") && !rc.contains("G-single"));
    }

    #[test]
    fn boundaries() {
        let (not, also) = boundary(["G2-item"]);
        assert_eq!(not, vec!["repeatable-read"]);
        assert!(also.contains(&"serializable".to_string()));
        assert!(also.contains(&"strict-serializable".to_string()));
        assert!(!also.contains(&"snapshot-isolation".to_string()));
        let (not, _) = boundary(["G-single"]);
        assert!(not.contains(&"consistent-view".to_string()), "{not:?}");
        let (not, also) = boundary(["G1c-realtime"]);
        assert_eq!(not, vec!["strong-read-committed"]);
        assert!(also.contains(&"strict-serializable".to_string()));
        let (not, also) = boundary(["G0"]);
        assert_eq!(not, vec!["read-uncommitted"]);
        assert!(also.contains(&"serializable".to_string()));
        assert_eq!(boundary(["no-such-anomaly"]), (vec![], vec![]));
    }
}
