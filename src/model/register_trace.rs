//! What register values imply about order, when a value identifies the op that wrote it.
//!
//! If exactly one op writes value v (a write, or a cas to v) and v is not the initial value,
//! every read of v and every cas from v reads from that op (wr). If, moreover, exactly one
//! *completed* cas moves the register away from v, that cas is the next write after v's
//! writer (ww): values are never written twice, so nothing else can intervene, and every read
//! of v must come before it (rw). A read of a value nobody wrote, or two completed cas that
//! both moved away from a value written once, can never be linearized (conflicts).
//!
//! Cost: O(n) expected, with hashing.

use super::{Conflict, Edge, EdgeKind, Implied, RegisterOp};
use crate::history::Value;
use crate::vocab::ClassKind;
use ahash::AHashMap;

#[derive(Default)]
struct Uses {
    /// Ops that write the value (a write, a cas to it).
    writers: Vec<u32>,
    /// Completed reads of it, and completed cas from it to itself.
    readers: Vec<u32>,
    /// Cas from it to another value, completed or not.
    cas_from: Vec<u32>,
    /// Completed cas from it to another value.
    completed_cas_from: Vec<u32>,
}

/// Edges and conflicts for register ops; `ops[..completed]` completed.
pub(super) fn implied(ops: &[RegisterOp], completed: usize, init: &Value) -> Implied {
    let mut uses: AHashMap<&Value, Uses> = AHashMap::new();
    for (i, op) in ops.iter().enumerate() {
        let done = i < completed;
        let i = i as u32;
        match op {
            RegisterOp::Read(Some(v)) if done => uses.entry(v).or_default().readers.push(i),
            RegisterOp::Read(_) => {}
            RegisterOp::Write(v) => uses.entry(v).or_default().writers.push(i),
            RegisterOp::Cas(a, b) if a == b => {
                if done {
                    uses.entry(a).or_default().readers.push(i);
                }
            }
            RegisterOp::Cas(a, b) => {
                let from = uses.entry(a).or_default();
                from.cas_from.push(i);
                if done {
                    from.completed_cas_from.push(i);
                }
                uses.entry(b).or_default().writers.push(i);
            }
        }
    }
    let mut out = Implied::default();
    for (v, u) in &uses {
        let is_init = *v == init;
        let observers = || u.readers.iter().chain(&u.cas_from);
        if u.writers.is_empty() && !is_init {
            let completed_observer = u.readers.iter().chain(&u.completed_cas_from).copied().min();
            if let Some(op) = completed_observer {
                out.conflicts.push(Conflict {
                    ops: vec![op],
                    reason: format!("it saw {v}, but no op wrote {v}"),
                    kind: Some(ClassKind::GarbageRead),
                });
            }
            continue;
        }
        // The value is written exactly once (by an op, or only as the initial value).
        let unique_writer = match (u.writers.as_slice(), is_init) {
            ([w], false) => Some(Some(*w)),
            ([], true) => Some(None),
            _ => None,
        };
        let Some(writer) = unique_writer else { continue };
        if let Some(w) = writer {
            for &r in observers() {
                out.edges.push(Edge { before: w, after: r, kind: EdgeKind::ReadsFrom });
            }
        }
        match u.completed_cas_from.as_slice() {
            [] => {}
            [next] => {
                if let Some(w) = writer {
                    out.edges.push(Edge { before: w, after: *next, kind: EdgeKind::Version });
                }
                for &r in &u.readers {
                    out.edges.push(Edge { before: r, after: *next, kind: EdgeKind::AntiDependency });
                }
            }
            [first, second, ..] => out.conflicts.push(Conflict {
                ops: vec![*first, *second],
                reason: format!(
                    "both succeeded in moving the register away from {v}, but {v} was written only once"
                ),
                kind: None,
            }),
        }
    }
    out.conflicts.sort_by(|a, b| a.ops.cmp(&b.ops));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(v: i64) -> RegisterOp {
        RegisterOp::Write(Value::Int(v))
    }
    fn r(v: i64) -> RegisterOp {
        RegisterOp::Read(Some(Value::Int(v)))
    }
    fn cas(a: i64, b: i64) -> RegisterOp {
        RegisterOp::Cas(Value::Int(a), Value::Int(b))
    }

    #[test]
    fn unique_values_give_reads_from_and_version_order() {
        let ops = vec![w(1), r(1), cas(1, 2), r(2)];
        let implied = implied(&ops, 4, &Value::Nil);
        assert!(implied.conflicts.is_empty());
        let has = |before, after, kind| implied.edges.contains(&Edge { before, after, kind });
        assert!(has(0, 1, EdgeKind::ReadsFrom));
        assert!(has(0, 2, EdgeKind::ReadsFrom));
        assert!(has(0, 2, EdgeKind::Version));
        assert!(has(1, 2, EdgeKind::AntiDependency));
        assert!(has(2, 3, EdgeKind::ReadsFrom));
    }

    #[test]
    fn garbage_reads_and_double_cas_conflict() {
        let implied = implied(&[w(1), r(7)], 2, &Value::Nil);
        assert_eq!(implied.conflicts.len(), 1);
        assert!(implied.conflicts[0].reason.contains("no op wrote 7"));
        let implied2 = super::implied(&[w(1), cas(1, 2), cas(1, 3)], 3, &Value::Nil);
        assert_eq!(implied2.conflicts[0].ops, vec![1, 2]);
    }

    #[test]
    fn crashed_ops_and_repeated_values_imply_less() {
        // A crashed cas may not have happened: it is not "the next write".
        let implied1 = implied(&[w(1), r(1), cas(1, 2)], 2, &Value::Nil);
        assert!(!implied1.edges.iter().any(|e| e.kind == EdgeKind::AntiDependency));
        // 1 is written twice: no read of 1 identifies its writer.
        let implied2 = implied(&[w(1), w(1), r(1)], 3, &Value::Nil);
        assert!(implied2.edges.is_empty());
        // A crashed read of garbage is no conflict.
        assert!(implied(&[cas(9, 1)], 0, &Value::Nil).conflicts.is_empty());
    }
}
