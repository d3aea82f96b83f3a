//! The greedy replay: a fast path before the sequential search, its own strategy. It never
//! refutes anything; when it finds a witness, the search is not needed.

use super::sequential::{Lookahead, due_times};
use crate::model::{Edge, Model};
use crate::split::Entry;
use ahash::AHashMap;

/// A fast path before the search: a greedy replay of the completed ops that respects `edges`
/// (which must include process order, [`super::process_order`], and may add inferred ones).
/// Crashed ops are taken only as updates, preferably when a read of what they leave is due.
/// Read-only ops are taken as soon as they are free to go and the state fits them; otherwise
/// the earliest free op that can take effect goes, "earliest" by when it was invoked or, if
/// sooner, when a read of what it wrote was invoked (a lagging client's write shows late in
/// real time, but others read it early; `ReadsFrom` edges say who). An update that would
/// overwrite a fact some untaken op still needs (a lagging reader of the current value, held
/// back by its process's earlier ops on other keys) waits while another update can go instead:
/// with unique values, the value never comes back. If every completed op takes effect, that
/// order is a sequential witness (crashed ops not in it never took effect) and is returned;
/// otherwise `None` and the search decides — a greedy choice that turns out wrong costs only
/// the time spent here, bounded by 64 model steps per op. Histories that are sequentially
/// consistent and close to real time (lagging replicas serving stale reads) usually pass here
/// in O((n + e) log n) when few reads wait at once.
pub fn ordered_witness<M: Model>(
    model: &M,
    entries: &[Entry<M::Op>],
    determinate: usize,
    edges: &[Edge],
) -> Option<Vec<u32>> {
    let mut g = Greedy::new(model, entries, determinate, edges);
    let mut budget = 64 * determinate as u64 + 1_000;
    loop {
        g.take_fitting_reads(&mut budget)?;
        if g.completed_taken == determinate {
            return Some(g.order);
        }
        g.take_first_fitting_update(&mut budget)?;
    }
}

/// The state of [`ordered_witness`]'s replay.
struct Greedy<'a, M: Model> {
    model: &'a M,
    entries: &'a [Entry<M::Op>],
    /// Entries before this index completed; the rest crashed.
    determinate: usize,
    state: M::State,
    /// Unmet predecessors of each op.
    waiting: Vec<u32>,
    after: Vec<Vec<u32>>,
    /// When each op is due: its invocation (never, for a crashed op), or the earliest
    /// invocation of a read of what it wrote.
    due: Vec<i64>,
    /// Free read-only ops, and free others by when they are due.
    reads: Vec<u32>,
    updates: std::collections::BTreeSet<(i64, u32)>,
    order: Vec<u32>,
    /// How many of `order` completed: the replay is done when all of them are taken.
    completed_taken: usize,
    /// Facts as dense ids, and how many untaken completed ops need each (the search's
    /// look-ahead counts, kept as ops are taken).
    lookahead: Lookahead,
    /// The fact (id) each slot holds now, as far as the taken ops (or the initial state) say.
    current: AHashMap<u32, u32>,
    /// Processes some of whose ops are taken.
    started: ahash::AHashSet<u32>,
}

impl<'a, M: Model> Greedy<'a, M> {
    fn new(model: &'a M, entries: &'a [Entry<M::Op>], determinate: usize, edges: &[Edge]) -> Self {
        let n = entries.len();
        let mut waiting = vec![0u32; n];
        let mut after: Vec<Vec<u32>> = vec![Vec::new(); n];
        for e in edges {
            waiting[e.after as usize] += 1;
            after[e.before as usize].push(e.after);
        }
        let due = due_times(entries, determinate, edges);
        let mut g = Greedy {
            model,
            entries,
            determinate,
            state: model.init(),
            waiting,
            after,
            due,
            reads: Vec::new(),
            updates: Default::default(),
            order: Vec::with_capacity(determinate),
            completed_taken: 0,
            lookahead: Lookahead::new(model, entries, determinate),
            current: AHashMap::new(),
            started: Default::default(),
        };
        // What the initial state holds, reads of it are awaited like any other.
        for (f, fact) in g.lookahead.facts.iter().enumerate() {
            if g.lookahead.awaits(f as u32) && model.holds(&g.state, *fact) {
                g.current.insert(fact.slot, f as u32);
            }
        }
        for i in 0..n as u32 {
            if g.waiting[i as usize] == 0 {
                g.free(i);
            }
        }
        g
    }

    /// Makes `i` a candidate, now that everything it must follow is taken. A crashed read
    /// never is: leaving it out is always possible and changes nothing.
    fn free(&mut self, i: u32) {
        let op = &self.entries[i as usize].op;
        if !self.model.is_read_only(op) {
            self.updates.insert((self.due[i as usize], i));
        } else if (i as usize) < self.determinate {
            self.reads.push(i);
        }
    }

    fn take(&mut self, i: u32, state: M::State) {
        self.state = state;
        self.order.push(i);
        self.started.insert(self.entries[i as usize].process);
        self.completed_taken += usize::from((i as usize) < self.determinate);
        self.lookahead.set_taken(i, true);
        let left = self.lookahead.leaves[i as usize];
        if left != u32::MAX {
            self.current.insert(self.lookahead.facts[left as usize].slot, left);
        }
        for k in 0..self.after[i as usize].len() {
            let j = self.after[i as usize][k];
            self.waiting[j as usize] -= 1;
            if self.waiting[j as usize] == 0 {
                self.free(j);
            }
        }
    }

    /// Takes free read-only ops that fit the state until none does. `None` when out of budget.
    fn take_fitting_reads(&mut self, budget: &mut u64) -> Option<()> {
        loop {
            let mut progressed = false;
            let mut k = 0;
            while k < self.reads.len() {
                *budget = budget.checked_sub(1)?;
                let i = self.reads[k];
                match self.model.step(&self.state, &self.entries[i as usize].op) {
                    Some(s) => {
                        self.reads.swap_remove(k);
                        self.take(i, s);
                        progressed = true;
                    }
                    None => k += 1,
                }
            }
            if !progressed {
                return Some(());
            }
        }
    }

    /// Takes the earliest-due free op that changes the state and can take effect, preferring
    /// one that overwrites no awaited fact, and among those one that leaves nothing anyone
    /// needs. `None` when none can, or out of budget.
    fn take_first_fitting_update(&mut self, budget: &mut u64) -> Option<()> {
        // (overwrites an awaited fact, leaves a needed one), due, entry, the state after it.
        type Choice<S> = ((bool, bool), i64, u32, S);
        let mut best: Option<Choice<M::State>> = None;
        for &(t, i) in &self.updates {
            *budget = budget.checked_sub(1)?;
            let Some(s) = self.model.step(&self.state, &self.entries[i as usize].op) else { continue };
            let rank = (self.overwrites_awaited(i, &s), self.leaves_needed(i));
            if best.as_ref().is_none_or(|b| rank < b.0) {
                best = Some((rank, t, i, s));
                if rank == (false, false) {
                    break;
                }
            }
        }
        let (_, t, i, s) = best?;
        self.updates.remove(&(t, i));
        self.take(i, s);
        Some(())
    }

    /// Whether some untaken op needs what `i` leaves, or its process has not begun. An update
    /// of a running process that leaves nothing needed goes first when it overwrites nothing
    /// awaited either: it is harmless then, and it lets its process go on (a lagging
    /// follower's unread write may be all that holds its reads back). A process that has not
    /// begun waits for its turn: running it far ahead only moves the state far ahead.
    fn leaves_needed(&self, i: u32) -> bool {
        !self.started.contains(&self.entries[i as usize].process) || !self.lookahead.harmless(i)
    }

    /// Whether taking `i`, leading to `next`, destroys the fact its slot holds now while an
    /// untaken op still needs it.
    fn overwrites_awaited(&self, i: u32, next: &M::State) -> bool {
        let left = self.lookahead.leaves[i as usize];
        if left == u32::MAX {
            return false;
        }
        let la = &self.lookahead;
        let Some(&now) = self.current.get(&la.facts[left as usize].slot) else {
            return false;
        };
        now != left && la.awaits(now) && !self.model.holds(next, la.facts[now as usize])
    }
}
