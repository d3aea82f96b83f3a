//! Hash-consed sets of ids, each named by one number.
//!
//! The linearizability search keys its memo by the set of ops linearized. Crashed ops stay
//! linearizable to the end of the history, so the search may hold thousands of them linearized
//! at once, and a memo key that listed them would cost that many words per entry (gigabytes
//! of keys on a large crash-heavy history: docs/performance.md). Here every set is a node of
//! a trie of its elements in increasing order, interned, so equal sets get equal names however
//! they were built, and a key holds one number.

use hashbrown::HashTable;

/// Interned sets of `u32` ids. Set 0 is the empty set; set `n > 0` is set
/// `nodes[n].parent` with `nodes[n].last` added, `last` being its largest element.
pub(crate) struct IdSets {
    nodes: Vec<Node>,
    /// Every node but the root, by (parent, last).
    index: HashTable<u32>,
    hasher: ahash::RandomState,
    scratch: Vec<u32>,
}

#[derive(Clone, Copy)]
struct Node {
    parent: u32,
    last: u32,
}

/// The empty set's name.
pub(crate) const EMPTY: u32 = 0;

impl IdSets {
    pub(crate) fn new() -> IdSets {
        IdSets {
            nodes: vec![Node { parent: EMPTY, last: u32::MAX }],
            index: HashTable::new(),
            hasher: ahash::RandomState::with_seeds(5, 6, 7, 8),
            scratch: Vec::new(),
        }
    }

    /// The name of `set` with `id` added; `id` must not be in `set`. O(1) when `id` is above
    /// every element of `set`, as it is when ids are added in increasing order; otherwise
    /// O(elements of `set` above `id`).
    pub(crate) fn with(&mut self, set: u32, id: u32) -> u32 {
        let mut base = set;
        let mut above = std::mem::take(&mut self.scratch);
        while base != EMPTY && self.nodes[base as usize].last > id {
            above.push(self.nodes[base as usize].last);
            base = self.nodes[base as usize].parent;
        }
        debug_assert!(base == EMPTY || self.nodes[base as usize].last != id, "{id} already in the set");
        let mut named = self.node(base, id);
        while let Some(last) = above.pop() {
            named = self.node(named, last);
        }
        self.scratch = above;
        named
    }

    /// The interned node (parent, last), made if new.
    fn node(&mut self, parent: u32, last: u32) -> u32 {
        let hash = self.hasher.hash_one((parent, last));
        let nodes = &self.nodes;
        let found = self.index.find(hash, |&n| {
            let node = nodes[n as usize];
            node.parent == parent && node.last == last
        });
        if let Some(&n) = found {
            return n;
        }
        let n = u32::try_from(self.nodes.len()).expect("fewer than 2^32 interned sets");
        self.nodes.push(Node { parent, last });
        let (hasher, nodes) = (&self.hasher, &self.nodes);
        self.index.insert_unique(hash, n, |&m| {
            let node = nodes[m as usize];
            hasher.hash_one((node.parent, node.last))
        });
        n
    }

    /// The elements of `set`, largest first.
    #[cfg(test)]
    pub(crate) fn elements(&self, mut set: u32) -> Vec<u32> {
        let mut out = Vec::new();
        while set != EMPTY {
            out.push(self.nodes[set as usize].last);
            set = self.nodes[set as usize].parent;
        }
        out
    }

    /// Bytes held, charged twice over as the memo's tables are ([`super::budget::memo_charge`]):
    /// both grow by doubling.
    pub(crate) fn charge(&self) -> usize {
        2 * self.nodes.capacity() * std::mem::size_of::<Node>() + 2 * self.index.capacity() * (4 + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::{EMPTY, IdSets};
    use std::collections::{BTreeSet, HashMap};

    /// Sets built by adding ids in every order get one name per distinct set, and the name
    /// gives back the set.
    #[test]
    fn equal_sets_share_a_name_and_different_sets_do_not() {
        let mut sets = IdSets::new();
        let mut names: HashMap<BTreeSet<u32>, u32> = HashMap::new();
        let mut seed = 11u64;
        for _ in 0..3_000 {
            let (mut set, mut name) = (BTreeSet::new(), EMPTY);
            for _ in 0..12 {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let id = (seed >> 33) as u32 % 16;
                if set.insert(id) {
                    name = sets.with(name, id);
                }
                assert_eq!(sets.elements(name), set.iter().rev().copied().collect::<Vec<_>>());
                let known = *names.entry(set.clone()).or_insert(name);
                assert_eq!(known, name, "{set:?}");
            }
        }
        let distinct: BTreeSet<u32> = names.values().copied().collect();
        assert_eq!(distinct.len(), names.len());
        assert!(sets.charge() > 0);
    }
}
