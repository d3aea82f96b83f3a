//! Version order for the kv store, recovered from what gets returned.
//!
//! A get returns the whole string, which is the value of the last put (or the initial value)
//! followed by every append since, in order. When the append strings can be told apart, a
//! get's value spells out that sequence — like Elle's list-append reads — and so fixes the
//! version order of the writes it saw (ww), which write it read from (wr), and, together with
//! other gets, which write came next (rw). Only values that decompose in exactly one way are
//! used, so every inferred edge holds in every linearization.
//!
//! Cost: O(L · d) per get, for a value of length L and d distinct append lengths.

use super::{Conflict, Edge, EdgeKind, Implied, KvAction, KvOp};
use crate::history::Value;
use crate::vocab::ClassKind;
use ahash::AHashMap;
use std::sync::Arc;

/// A write that a get's value can start from: the initial value, or a put.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Node {
    Init,
    Op(u32),
}

/// The ops of one key, by role.
#[derive(Default)]
struct KeyOps<'a> {
    puts: Vec<(u32, &'a str)>,
    appends: Vec<(u32, &'a str)>,
    gets: Vec<(u32, &'a str)>,
}

/// Edges and conflicts for the kv ops `ops`, whose keys start with the values in `init`.
pub(super) fn implied(ops: &[KvOp], init: &[(Value, Arc<str>)]) -> Implied {
    let mut keys: AHashMap<&Value, KeyOps<'_>> = AHashMap::new();
    for (i, op) in ops.iter().enumerate() {
        let k = keys.entry(&op.key).or_default();
        match &op.action {
            KvAction::Put(v) => k.puts.push((i as u32, v)),
            KvAction::Append(v) => k.appends.push((i as u32, v)),
            KvAction::Get(Some(v)) => k.gets.push((i as u32, v)),
            KvAction::Get(None) => {}
        }
    }
    let mut out = Implied::default();
    for (key, k) in keys {
        let init_value = init.iter().find(|(ik, _)| ik == key).map_or("", |(_, v)| v);
        trace_key(&k, init_value, &mut out);
    }
    out
}

/// How many ways (capped at 2) each suffix `value[pos..]` splits into append strings.
fn suffix_ways(value: &[u8], by_len: &AHashMap<usize, AHashMap<&[u8], Vec<u32>>>) -> Vec<u8> {
    let mut ways = vec![0u8; value.len() + 1];
    ways[value.len()] = 1;
    for pos in (0..value.len()).rev() {
        let mut w = 0u32;
        for (&len, strings) in by_len {
            if pos + len <= value.len() && ways[pos + len] > 0 {
                if let Some(appends) = strings.get(&value[pos..pos + len]) {
                    w += appends.len() as u32 * u32::from(ways[pos + len]);
                }
            }
        }
        ways[pos] = w.min(2) as u8;
    }
    ways
}

fn trace_key(k: &KeyOps<'_>, init_value: &str, out: &mut Implied) {
    // An empty append changes nothing and could sit anywhere: no order can be read off.
    if k.appends.iter().any(|(_, s)| s.is_empty()) || k.gets.is_empty() {
        return;
    }
    let mut by_len: AHashMap<usize, AHashMap<&[u8], Vec<u32>>> = AHashMap::new();
    for &(i, s) in &k.appends {
        by_len.entry(s.len()).or_default().entry(s.as_bytes()).or_default().push(i);
    }
    let bases: Vec<(Node, &str)> = std::iter::once((Node::Init, init_value))
        .chain(k.puts.iter().map(|&(i, v)| (Node::Op(i), v)))
        .collect();
    let mut next: AHashMap<Node, (Node, u32)> = AHashMap::new();
    let mut last_seen: Vec<(u32, Node)> = Vec::new();
    for &(get, value) in &k.gets {
        let bytes = value.as_bytes();
        let ways = suffix_ways(bytes, &by_len);
        let starts: Vec<&(Node, &str)> =
            bases.iter().filter(|(_, b)| bytes.starts_with(b.as_bytes()) && ways[b.len()] > 0).collect();
        let total: u32 = starts.iter().map(|(_, b)| u32::from(ways[b.len()])).sum();
        if total == 0 {
            out.conflicts.push(Conflict {
                ops: vec![get],
                reason: format!(
                    "no sequence of puts and appends to this key produces {value:?}: nobody wrote it"
                ),
                kind: Some(ClassKind::GarbageRead),
            });
            continue;
        }
        if total > 1 {
            continue; // ambiguous: this get fixes no order
        }
        let (base, base_value) = *starts[0];
        let chain = unique_chain(bytes, base_value.len(), &ways, &by_len);
        if let Some(dup) = first_repeat(&chain) {
            out.conflicts.push(Conflict {
                ops: vec![get, dup],
                reason: format!(
                    "the value {value:?} contains the same append twice, but it was applied once"
                ),
                kind: Some(ClassKind::DuplicateEffect),
            });
            continue;
        }
        let mut prev = base;
        for &a in &chain {
            if let Node::Op(p) = prev {
                out.edges.push(Edge { before: p, after: a, kind: EdgeKind::Version });
            }
            match next.get(&prev) {
                Some(&(other, other_get)) if other != Node::Op(a) => {
                    out.conflicts.push(Conflict {
                        ops: vec![other_get, get],
                        reason: "these gets saw different writes follow the same write: no single order of \
                                 writes explains both"
                            .to_string(),
                        kind: None,
                    });
                }
                _ => {
                    next.insert(prev, (Node::Op(a), get));
                }
            }
            prev = Node::Op(a);
        }
        if let Node::Op(w) = prev {
            out.edges.push(Edge { before: w, after: get, kind: EdgeKind::ReadsFrom });
        }
        last_seen.push((get, prev));
    }
    for (get, last) in last_seen {
        if let Some(&(Node::Op(successor), _)) = next.get(&last) {
            out.edges.push(Edge { before: get, after: successor, kind: EdgeKind::AntiDependency });
        }
    }
}

/// The appends that spell `value[from..]`, given that they do so in exactly one way.
fn unique_chain(
    value: &[u8],
    from: usize,
    ways: &[u8],
    by_len: &AHashMap<usize, AHashMap<&[u8], Vec<u32>>>,
) -> Vec<u32> {
    let mut chain = Vec::new();
    let mut pos = from;
    while pos < value.len() {
        let step = by_len.iter().find_map(|(&len, strings)| {
            let end = pos + len;
            (end <= value.len() && ways[end] > 0)
                .then(|| strings.get(&value[pos..end]).map(|a| (a[0], len)))?
        });
        let Some((append, len)) = step else { break };
        chain.push(append);
        pos += len;
    }
    chain
}

fn first_repeat(chain: &[u32]) -> Option<u32> {
    let mut seen = ahash::AHashSet::new();
    chain.iter().copied().find(|a| !seen.insert(*a))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(action: KvAction) -> KvOp {
        KvOp { key: Value::string("k"), action }
    }
    fn s(x: &str) -> Arc<str> {
        Arc::from(x)
    }

    #[test]
    fn gets_reveal_the_version_order() {
        let ops = vec![
            op(KvAction::Append(s("a;"))),
            op(KvAction::Append(s("b;"))),
            op(KvAction::Get(Some(s("a;")))),
            op(KvAction::Get(Some(s("a;b;")))),
        ];
        let implied = implied(&ops, &[]);
        assert!(implied.conflicts.is_empty());
        let has = |before, after, kind| implied.edges.contains(&Edge { before, after, kind });
        assert!(has(0, 1, EdgeKind::Version));
        assert!(has(0, 2, EdgeKind::ReadsFrom));
        assert!(has(1, 3, EdgeKind::ReadsFrom));
        assert!(has(2, 1, EdgeKind::AntiDependency));
    }

    #[test]
    fn garbage_and_disagreeing_gets_conflict() {
        let ops = vec![
            op(KvAction::Append(s("a;"))),
            op(KvAction::Append(s("b;"))),
            op(KvAction::Get(Some(s("a;b;")))),
            op(KvAction::Get(Some(s("b;a;")))),
            op(KvAction::Get(Some(s("zz")))),
        ];
        let implied = implied(&ops, &[]);
        assert!(implied.conflicts.iter().any(|c| c.ops == vec![4]));
        assert!(implied.conflicts.iter().any(|c| c.ops.len() == 2 && c.reason.contains("different writes")));
    }

    #[test]
    fn ambiguous_values_imply_nothing() {
        let ops = vec![
            op(KvAction::Append(s("a"))),
            op(KvAction::Append(s("ab"))),
            op(KvAction::Append(s("b"))),
            op(KvAction::Get(Some(s("ab")))),
        ];
        let implied = implied(&ops, &[]);
        assert_eq!(implied, Implied::default());
    }
}
