//! The budgets every search draws on: steps, a deadline, memory shared by the searches running
//! at once, and cancellation; and how a search's memo and stack are charged against memory.

use super::Options;
use crate::model::Model;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

/// How many steps pass between checks of the clock, the memory budget and cancellation.
pub(crate) const CHECK_EVERY: u64 = 1 << 10;

/// Limits on one search. Running out of any is an `Unknown` result, never a verdict.
#[derive(Clone, Copy, Debug)]
pub struct Limits<'a> {
    /// Model steps allowed.
    pub max_steps: u64,
    /// Wall-clock deadline.
    pub deadline: Option<Instant>,
    /// Memory shared by all searches running at once: bytes in use, and the cap.
    pub memory: Option<(&'a AtomicUsize, usize)>,
    /// Set by another thread to stop this search (`--fail-fast`).
    pub cancel: Option<&'a AtomicBool>,
    /// Whether a key may be decided by an exact polynomial procedure ([`Options::fast_paths`]).
    pub fast_paths: bool,
}

/// Why a search stopped without a verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exhausted {
    /// The step budget ran out.
    Steps,
    /// The deadline passed.
    Time,
    /// The memory cap was reached.
    Memory,
    /// Another part was found invalid and `--fail-fast` stopped this one.
    Cancelled,
}

impl Limits<'static> {
    /// The small budget of a probe on a handful of ops (shrinking a witness, showing the zone
    /// test's violation): one that runs out only leaves the probe undecided.
    pub fn probe() -> Limits<'static> {
        Limits { max_steps: 20_000, deadline: None, memory: None, cancel: None, fast_paths: false }
    }
}

impl Limits<'_> {
    /// Checks the budgets: the step count every time, the rest every [`CHECK_EVERY`] moves.
    /// `charge` says how many bytes the caller's memo holds; the difference from what it last
    /// reported (`reported`) is added to the shared counter. The budget that ran out comes
    /// says which budget ran out... in `Err`; `Ok` carries the memo's size as last measured.
    pub(crate) fn check(
        &self,
        steps: u64,
        moves: u64,
        reported: &mut usize,
        charge: impl FnOnce() -> usize,
    ) -> Result<usize, Exhausted> {
        if steps >= self.max_steps {
            return Err(Exhausted::Steps);
        }
        if moves % CHECK_EVERY != 0 {
            return Ok(*reported);
        }
        if self.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
            return Err(Exhausted::Cancelled);
        }
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(Exhausted::Time);
        }
        let bytes = charge();
        if let Some((used, cap)) = self.memory {
            let total = if bytes >= *reported {
                used.fetch_add(bytes - *reported, Ordering::Relaxed) + (bytes - *reported)
            } else {
                used.fetch_sub(*reported - bytes, Ordering::Relaxed) - (*reported - bytes)
            };
            *reported = bytes;
            if total > cap {
                return Err(Exhausted::Memory);
            }
        }
        *reported = bytes;
        Ok(bytes)
    }
}

/// Bytes to charge for a memo: a hash table of `table_capacity` entries of type `E` and an
/// arena of `arena_capacity` u32 keys. Both grow by doubling, and the old allocation lives
/// on while the new one fills, so each is charged twice: the cap then holds even across the
/// growth that happens between two checks.
pub(crate) fn memo_charge<E>(table_capacity: usize, arena_capacity: usize) -> usize {
    2 * table_capacity * (std::mem::size_of::<E>() + 1) + 2 * 4 * arena_capacity
}

impl Exhausted {
    /// In words, for reports.
    pub fn describe(self) -> &'static str {
        match self {
            Exhausted::Steps => "the step budget ran out",
            Exhausted::Time => "the time budget (--timeout) ran out",
            Exhausted::Memory => "the memory budget (--max-memory) ran out",
            Exhausted::Cancelled => "stopped early (--fail-fast) after another key was found invalid",
        }
    }
}

/// Heap bytes of the states a search's stack frame keeps: the state before its op, and the
/// other states the op could have led to ([`Model::state_heap_bytes`]). Computed once per frame
/// and kept with it, since a state may be large (a set's).
pub(crate) fn kept_bytes<M: Model>(model: &M, prev_state: &M::State, alternatives: &[M::State]) -> usize {
    let heap = |s: &M::State| model.state_heap_bytes(s);
    heap(prev_state) + alternatives.iter().map(heap).sum::<usize>()
}

/// The shared budget of one check: a deadline, a memory counter, a cancel flag.
pub(crate) struct Budget {
    options: Options,
    memory_used: AtomicUsize,
    cancel: AtomicBool,
    deadline: Option<Instant>,
}

impl Budget {
    pub(crate) fn new(options: &Options) -> Budget {
        Budget {
            options: options.clone(),
            memory_used: AtomicUsize::new(0),
            cancel: AtomicBool::new(false),
            deadline: options.timeout.map(|t| Instant::now() + t),
        }
    }

    /// Runs `f` with limits drawn from this budget.
    pub(crate) fn run<T>(&self, f: impl FnOnce(&Limits<'_>) -> T) -> T {
        let limits = Limits {
            max_steps: self.options.max_steps,
            deadline: self.deadline,
            memory: self.options.max_memory.map(|cap| (&self.memory_used, cap)),
            cancel: self.options.fail_fast.then_some(&self.cancel),
            fast_paths: self.options.fast_paths,
        };
        f(&limits)
    }
}
