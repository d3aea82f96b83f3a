//! The exact memo the searches share: the configurations seen so far, each a key (a few u32s
//! naming the ops applied, in whatever form the search chose) and a model state.
//!
//! Exact: a configuration is refused only if an equal key and an equal state were stored
//! before. The hash picks the bucket and filters cheaply, but two configurations with the same
//! hash are both kept, since a search that skipped a configuration it never saw could miss
//! the order that makes a history valid, and report a false violation.

use super::budget::memo_charge;
use hashbrown::HashTable;

/// A stored configuration. Its key lives in the memo's arena, not in a small allocation of its
/// own: one allocation for all keys, and an entry stays small.
struct Entry<S> {
    hash: u64,
    key_start: u32,
    key_len: u32,
    state: S,
}

/// The set of configurations (key, state) a search has seen, compared exactly.
///
/// Cost: an insert hashes nothing (the caller gives the hash, which the searches keep
/// incrementally); it probes the table in expected O(1) and compares the key (O(key length))
/// and the state only for entries with the same full 64-bit hash. Memory: one table entry per
/// configuration plus its key in the arena.
pub(crate) struct ExactMemo<S> {
    table: HashTable<Entry<S>>,
    /// Every stored key, end to end.
    arena: Vec<u32>,
}

impl<S: Eq + Clone> ExactMemo<S> {
    pub(crate) fn new() -> Self {
        ExactMemo { table: HashTable::new(), arena: Vec::new() }
    }

    /// Records the configuration (`key`, `state`) under `hash`, which must be a function of
    /// the key and the state; true if it is new, false if an equal one was stored before.
    // Called once per step of the hot loops; left out of line, the call's prologue and
    // epilogue cost about a sixth of the memo's instructions (cachegrind).
    #[inline(always)]
    pub(crate) fn insert(&mut self, hash: u64, key: &[u32], state: &S) -> bool {
        let arena = &self.arena;
        let same = |e: &Entry<S>| {
            e.hash == hash
                && e.key_len as usize == key.len()
                && arena[e.key_start as usize..e.key_start as usize + key.len()] == *key
                && e.state == *state
        };
        if self.table.find(hash, same).is_some() {
            return false;
        }
        // A start past u32 would alias another key and make the memo inexact; 16 GiB of keys
        // is far beyond any memory budget, so stop rather than answer wrongly.
        let key_start = u32::try_from(self.arena.len()).expect("memo keys beyond 2^32 ids");
        let entry = Entry { hash, key_start, key_len: key.len() as u32, state: state.clone() };
        self.arena.extend_from_slice(key);
        self.table.insert_unique(hash, entry, |e| e.hash);
        true
    }

    /// Configurations stored.
    pub(crate) fn len(&self) -> usize {
        self.table.len()
    }

    /// Bytes to charge against the memory budget for the table and the arena
    /// ([`memo_charge`]); the states' own heap bytes are the caller's to count.
    pub(crate) fn charge(&self) -> usize {
        memo_charge::<Entry<S>>(self.table.capacity(), self.arena.capacity())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_on_key_and_state_never_on_the_hash_alone() {
        let mut memo = ExactMemo::<u8>::new();
        assert!(memo.insert(7, &[1, 2], &0));
        assert!(!memo.insert(7, &[1, 2], &0), "the same key and state are refused");
        // Same hash, something else differs: a collision, so both are kept.
        assert!(memo.insert(7, &[1, 3], &0));
        assert!(memo.insert(7, &[1, 2], &1));
        assert!(memo.insert(7, &[1], &0), "a prefix of a stored key is another key");
        assert!(memo.insert(7, &[1, 2, 0], &0), "so is an extension");
        assert!(memo.insert(7, &[], &0));
        assert!(!memo.insert(7, &[], &0));
        assert_eq!(memo.len(), 6);
        assert!(memo.charge() > 0);
    }
}
