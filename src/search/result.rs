//! What a search finds, shared by the strategies: a witness order, where it got stuck, or
//! which budget ran out, with its counters.

use super::budget::Exhausted;

/// Where a failed search got furthest: the material for a counterexample.
#[derive(Clone, Debug)]
pub struct Stuck<S> {
    /// The longest linearization found: entries in order, each with the state after it.
    pub prefix: Vec<(u32, S)>,
    /// The state after the prefix.
    pub state: S,
    /// The entry that had to be linearized next (its completion came) but could not be.
    pub blocked: u32,
    /// The entries that could have gone next (invoked, not linearized), `blocked` excluded.
    pub candidates: Vec<u32>,
}

/// What a search found.
#[derive(Clone, Debug)]
pub enum SearchResult<S> {
    /// A linearization: entry indices in order (crashed ops that never took effect omitted).
    Linearizable(Vec<u32>),
    /// No linearization exists; where the search got furthest.
    NotLinearizable(Stuck<S>),
    /// A budget ran out.
    Unknown(Exhausted),
}

/// Counters from a search, for reports and budgets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SearchStats {
    /// Model steps taken.
    pub steps: u64,
    /// Configurations memoized.
    pub memo_entries: usize,
    /// Approximate bytes held by the memo.
    pub memo_bytes: usize,
    /// The most ops linearized at once.
    pub max_depth: usize,
}
