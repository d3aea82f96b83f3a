//! The state of a grow-only set, shared between the states a search keeps.
//!
//! A linearizability search keeps a state per memo entry and per frame of its stack, and the
//! states of a set history differ one element at a time. Held as whole sorted vectors, a
//! history of n adds kept O(n²) elements, and large set histories spent their time and memory
//! on copies (docs/performance.md). Here the sorted elements are cut into chunks of at most
//! [`CHUNK_MAX`], each behind an `Arc`: adding an element copies the one chunk it goes into
//! and the list of chunk pointers, and shares every other chunk with the state it came from.
//!
//! Hashing and the common inequalities are O(1): a state carries its size and a sum of its
//! elements' hashes, which do not depend on the order the elements came in.

use crate::history::Value;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// The most elements in one chunk: a chunk that grows past it is split in two halves. Adding an
/// element copies one chunk (up to this many elements) and the chunk list (one pointer per
/// chunk, each a reference count to bump): 128 keeps both small for sets of up to ~10^5.
const CHUNK_MAX: usize = 128;

/// A set of values, sorted, in shared chunks; compared and hashed as the set of its elements.
#[derive(Clone)]
pub struct SetState {
    /// Non-empty chunks in order: every element of a chunk is below every element of the next.
    chunks: Arc<[Arc<[Value]>]>,
    len: usize,
    /// Heap bytes the elements own (nested collections), for the memory charge.
    element_heap: usize,
    /// Wrapping sum of [`element_hash`] over the elements.
    sum: u64,
}

/// An element's hash, with fixed seeds so that the same set always sums alike.
fn element_hash(v: &Value) -> u64 {
    ahash::RandomState::with_seeds(21, 22, 23, 24).hash_one(v)
}

impl SetState {
    /// The set of `sorted`, which must be sorted and without duplicates (as
    /// `super::elements` returns them).
    pub fn from_sorted(sorted: Vec<Value>) -> SetState {
        debug_assert!(sorted.windows(2).all(|w| w[0] < w[1]), "elements not sorted and distinct");
        let sum = sorted.iter().fold(0u64, |s, v| s.wrapping_add(element_hash(v)));
        let element_heap = sorted.iter().map(Value::heap_bytes).sum();
        let chunks = sorted.chunks(CHUNK_MAX / 2).map(Arc::from).collect();
        SetState { chunks, len: sorted.len(), element_heap, sum }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the set has no element.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The elements in order.
    pub fn iter(&self) -> impl Iterator<Item = &Value> {
        self.chunks.iter().flat_map(|c| c.iter())
    }

    /// The elements in order, as a vector.
    pub fn to_vec(&self) -> Vec<Value> {
        self.iter().cloned().collect()
    }

    /// This set with `v` added (the same set if `v` is in it). O(log n + `CHUNK_MAX` + n /
    /// `CHUNK_MAX`).
    pub fn with(&self, v: &Value) -> SetState {
        // The first chunk whose last element is not below `v`, or the last chunk.
        let at = self.chunks.partition_point(|c| c.last().is_some_and(|last| last < v));
        let at = at.min(self.chunks.len().saturating_sub(1));
        let mut grown: Vec<Value> = match self.chunks.get(at) {
            Some(chunk) => match chunk.binary_search(v) {
                Ok(_) => return self.clone(),
                Err(i) => {
                    let mut grown = Vec::with_capacity(chunk.len() + 1);
                    grown.extend_from_slice(&chunk[..i]);
                    grown.push(v.clone());
                    grown.extend_from_slice(&chunk[i..]);
                    grown
                }
            },
            None => vec![v.clone()],
        };
        let replaced = usize::from(!self.chunks.is_empty());
        let mut chunks = Vec::with_capacity(self.chunks.len() + 1);
        chunks.extend(self.chunks[..at].iter().cloned());
        if grown.len() > CHUNK_MAX {
            let upper = grown.split_off(grown.len() / 2);
            chunks.push(Arc::from(grown));
            chunks.push(Arc::from(upper));
        } else {
            chunks.push(Arc::from(grown));
        }
        chunks.extend(self.chunks[at + replaced..].iter().cloned());
        SetState {
            chunks: chunks.into(),
            len: self.len + 1,
            element_heap: self.element_heap + v.heap_bytes(),
            sum: self.sum.wrapping_add(element_hash(v)),
        }
    }

    /// Whether the set's elements are exactly `sorted` (sorted, without duplicates). O(1) when
    /// the sizes differ, as they do for most reads that cannot go next.
    pub fn equals_sorted(&self, sorted: &[Value]) -> bool {
        self.len == sorted.len() && self.iter().eq(sorted.iter())
    }

    /// Heap bytes charged to this state against the memory budget, in O(1): its chunk list and
    /// a full chunk of average elements, about what adding an element allocates. The other
    /// chunks are shared with the states this one came from, and charged to them.
    pub fn charged_bytes(&self) -> usize {
        let list = self.chunks.len() * std::mem::size_of::<Arc<[Value]>>();
        let element = std::mem::size_of::<Value>() + self.element_heap / self.len.max(1);
        list + CHUNK_MAX * element
    }
}

impl PartialEq for SetState {
    fn eq(&self, other: &SetState) -> bool {
        if self.len != other.len || self.sum != other.sum {
            return false;
        }
        if Arc::ptr_eq(&self.chunks, &other.chunks) {
            return true;
        }
        // States reached from a common one share most chunks: those compare by address.
        let aligned = self.chunks.len() == other.chunks.len()
            && self.chunks.iter().zip(other.chunks.iter()).all(|(a, b)| a.len() == b.len());
        if aligned {
            self.chunks.iter().zip(other.chunks.iter()).all(|(a, b)| Arc::ptr_eq(a, b) || a == b)
        } else {
            self.iter().eq(other.iter())
        }
    }
}

impl Eq for SetState {}

impl Hash for SetState {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.len.hash(state);
        self.sum.hash(state);
    }
}

impl PartialEq<[Value]> for SetState {
    fn eq(&self, sorted: &[Value]) -> bool {
        self.equals_sorted(sorted)
    }
}

impl PartialEq<Vec<Value>> for SetState {
    fn eq(&self, sorted: &Vec<Value>) -> bool {
        self.equals_sorted(sorted)
    }
}

impl fmt::Debug for SetState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn ints(xs: impl IntoIterator<Item = i64>) -> Vec<Value> {
        xs.into_iter().map(Value::Int).collect()
    }

    fn hash_of(s: &SetState) -> u64 {
        ahash::RandomState::with_seeds(1, 2, 3, 4).hash_one(s)
    }

    /// Adds in a scrambled order, with repeats, across many chunk splits: the state always
    /// holds what a `BTreeSet` holds, and the states kept along the way are unchanged.
    #[test]
    fn adding_keeps_the_elements_sorted_and_the_old_states_intact() {
        let mut state = SetState::from_sorted(Vec::new());
        let mut model = BTreeSet::new();
        let mut kept = Vec::new();
        for i in 0..2_000i64 {
            let x = (i * 7_919) % 1_500;
            state = state.with(&Value::Int(x));
            model.insert(x);
            if i % 97 == 0 {
                kept.push((state.clone(), model.clone()));
            }
        }
        assert_eq!(state, ints(model.iter().copied()));
        assert_eq!(state.len(), 1_500);
        assert!(state.chunks.iter().all(|c| !c.is_empty() && c.len() <= CHUNK_MAX));
        for (s, m) in &kept {
            assert_eq!(s.to_vec(), ints(m.iter().copied()));
        }
    }

    /// The same set built in different orders (so cut into different chunks) is equal and
    /// hashes alike; sets that differ in one element are not equal.
    #[test]
    fn equal_sets_are_equal_however_they_were_built() {
        let up = (0..300).fold(SetState::from_sorted(Vec::new()), |s, x| s.with(&Value::Int(x)));
        let down = (0..300).rev().fold(SetState::from_sorted(Vec::new()), |s, x| s.with(&Value::Int(x)));
        let whole = SetState::from_sorted(ints(0..300));
        assert_ne!(up.chunks.len(), whole.chunks.len());
        for (a, b) in [(&up, &down), (&up, &whole), (&down, &whole)] {
            assert_eq!(a, b);
            assert_eq!(hash_of(a), hash_of(b));
        }
        let other = SetState::from_sorted(ints((0..299).chain([1_000])));
        assert_ne!(up, other);
        assert_ne!(up, up.with(&Value::Int(-1)));
        assert_eq!(up, up.with(&Value::Int(5)));
        assert!(!up.equals_sorted(&ints(0..299)));
    }

    proptest::proptest! {
        /// Random starting sets and adds, many of them repeats, across chunk splits: the state
        /// holds what a `BTreeSet` holds; a state built another way (added in reverse, or
        /// whole) is equal to it exactly when the sets are, and then hashes alike.
        #[test]
        fn states_behave_as_sets(
            start in proptest::collection::btree_set(0i64..1_000, 0..400),
            adds in proptest::collection::vec(0i64..1_000, 0..400),
            other in proptest::collection::btree_set(0i64..1_000, 0..400),
        ) {
            let mut state = SetState::from_sorted(ints(start.iter().copied()));
            let mut model = start.clone();
            for &x in &adds {
                state = state.with(&Value::Int(x));
                model.insert(x);
                proptest::prop_assert_eq!(state.len(), model.len());
            }
            proptest::prop_assert_eq!(state.to_vec(), ints(model.iter().copied()));
            proptest::prop_assert!(state.chunks.iter().all(|c| !c.is_empty() && c.len() <= CHUNK_MAX));
            let reversed = model.iter().rev().fold(SetState::from_sorted(Vec::new()), |s, &x| s.with(&Value::Int(x)));
            let whole = SetState::from_sorted(ints(model.iter().copied()));
            for built in [&reversed, &whole] {
                proptest::prop_assert_eq!(built, &state);
                proptest::prop_assert_eq!(hash_of(built), hash_of(&state));
            }
            let different = SetState::from_sorted(ints(other.iter().copied()));
            proptest::prop_assert_eq!(different == state, other == model);
            proptest::prop_assert_eq!(state.equals_sorted(&ints(other.iter().copied())), other == model);
        }
    }

    #[test]
    fn the_charge_covers_the_chunk_list_and_one_chunk() {
        let s = SetState::from_sorted(ints(0..1_000));
        let chunk = CHUNK_MAX * std::mem::size_of::<Value>();
        assert_eq!(s.charged_bytes(), s.chunks.len() * 16 + chunk);
        // Elements that own heap memory raise the charge by their average.
        let nested = SetState::from_sorted(vec![Value::vector(ints(0..10))]);
        assert_eq!(nested.charged_bytes(), 16 + chunk + CHUNK_MAX * Value::vec_heap_bytes(&ints(0..10)));
        assert!(SetState::from_sorted(Vec::new()).is_empty());
    }
}
