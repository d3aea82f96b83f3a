//! The simulation's event queue: a timing wheel of one slot per microsecond.
//!
//! Events come out by time, and events of the same time in the order they were scheduled: the
//! order a heap keyed by `(time, scheduled)` gives, which the histories depend on. Most events
//! are messages, scheduled less than [`WHEEL`] microseconds ahead: each goes straight into the
//! slot of its time, appended to that slot's list, and popping takes the head of the first
//! occupied slot, found with a bitmap. A slot only ever holds events of one time, since nothing
//! in the wheel is a whole turn ahead. Events scheduled further ahead (node timers, client
//! pauses, the nemesis) wait in a small heap, and move into the wheel as soon as their time
//! comes within a turn, before anything else can be scheduled at that time: so a slot's list is
//! always in scheduling order. Client timeouts, nearly always cancelled, are timers outside
//! the wheel, ordered against it as if they were events.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Slots in the wheel, one per microsecond (4.1 ms): a power of two above the network's
/// delays (under 1 ms, but for the flaky network's), which are most of the events. A wheel wide
/// enough for the nodes' timers and the clients' pauses (up to 20 ms) measured no faster: its
/// slots no longer fit the first-level cache, and most of its time went to missing it.
const WHEEL: usize = 1 << 12;
const MASK: usize = WHEEL - 1;
/// The end of a slot's list.
const NONE: u32 = u32::MAX;

/// One event in the slab, linked to the next of its slot.
struct Entry<T> {
    item: Option<T>,
    next: u32,
    /// When it was scheduled, to order it against a timer of the same time.
    scheduled: u64,
}

/// A timer: a time, when it was scheduled, and the item it delivers.
type Timer<T> = Option<(i64, u64, T)>;

/// A queue of items by time (a monotone discrete-event queue: nothing is scheduled before the
/// time of the last item popped).
pub(super) struct Queue<T> {
    /// The time of the last item popped: the wheel holds times in `now..now + WHEEL`.
    now: i64,
    /// Each slot's first and last entry (`NONE` when empty).
    ends: Vec<(u32, u32)>,
    /// One bit per slot: occupied.
    bits: Vec<u64>,
    /// One bit per word of `bits`: not zero.
    summary: Vec<u64>,
    slab: Vec<Entry<T>>,
    free: Vec<u32>,
    /// Items in the wheel.
    len: usize,
    /// Items further ahead than the wheel reaches, by time then scheduling order, each
    /// naming its entry in the slab (as a `u64`: a `u32` there was stored in 4 bytes and read
    /// back in 8 by the heap's sift, a stall on every push).
    far: BinaryHeap<Reverse<(i64, u64, u64)>>,
    /// The time of the first far item (`i64::MAX` if none): the clock moves at nearly every
    /// pop, and only looks into the heap when this comes within a turn.
    far_first: i64,
    scheduled: u64,
    /// Timers, at most one per id, ordered among the items as if they were items; and the
    /// id of the first, if any.
    timers: Vec<Timer<T>>,
    first_timer: Option<usize>,
}

impl<T> Default for Queue<T> {
    fn default() -> Self {
        Queue {
            now: 0,
            ends: vec![(NONE, NONE); WHEEL],
            bits: vec![0; WHEEL / 64],
            summary: vec![0; WHEEL.div_ceil(64 * 64)],
            slab: Vec::new(),
            free: Vec::new(),
            len: 0,
            far: BinaryHeap::new(),
            far_first: i64::MAX,
            scheduled: 0,
            timers: Vec::new(),
            first_timer: None,
        }
    }
}

impl<T> Queue<T> {
    /// Schedules `item` at `time` (not before the last item popped). Always inlined, as is
    /// [`Queue::pop`]: an item passed to (or returned from) an out-of-line call went through the
    /// stack, and was read back before its bytes got there, a stall on every event.
    #[inline(always)]
    pub(super) fn push(&mut self, time: i64, item: T) {
        debug_assert!(time >= self.now, "scheduled in the past");
        self.scheduled += 1;
        let at = self.store(item, self.scheduled);
        if time - self.now < WHEEL as i64 {
            self.link(time, at);
        } else {
            self.far.push(Reverse((time, self.scheduled, u64::from(at))));
            self.far_first = self.far_first.min(time);
        }
    }

    /// Sets timer `id` to deliver `item` at `time`, in place of what it held: pops as if it
    /// were pushed now, but a timer that is replaced or cancelled costs nothing.
    pub(super) fn set_timer(&mut self, id: usize, time: i64, item: T) {
        debug_assert!(time >= self.now, "scheduled in the past");
        self.scheduled += 1;
        if self.timers.len() <= id {
            self.timers.resize_with(id + 1, || None);
        }
        self.timers[id] = Some((time, self.scheduled, item));
        self.find_first_timer();
    }

    /// Cancels timer `id`, if set.
    pub(super) fn cancel_timer(&mut self, id: usize) {
        if self.timers.get(id).is_some_and(Option::is_some) {
            self.timers[id] = None;
            self.find_first_timer();
        }
    }

    fn find_first_timer(&mut self) {
        let mut first: Option<(i64, u64, usize)> = None;
        for (id, timer) in self.timers.iter().enumerate() {
            if let Some((time, scheduled, _)) = timer
                && first.is_none_or(|f| (*time, *scheduled) < (f.0, f.1))
            {
                first = Some((*time, *scheduled, id));
            }
        }
        self.first_timer = first.map(|f| f.2);
    }

    /// The first timer's time, when it was scheduled, and its id.
    fn timer(&self) -> Option<(i64, u64, usize)> {
        let id = self.first_timer?;
        self.timers[id].as_ref().map(|t| (t.0, t.1, id))
    }

    #[inline(always)]
    fn pop_timer(&mut self, id: usize) -> Option<(i64, T)> {
        let (time, _, item) = self.timers[id].take()?;
        self.find_first_timer();
        self.advance(time);
        Some((time, item))
    }

    /// The next item (or timer) and its time.
    #[inline(always)]
    pub(super) fn pop(&mut self) -> Option<(i64, T)> {
        let timer = self.timer();
        if self.len == 0 {
            // Nothing within a turn: the first timer, or a jump to the first far item.
            let far = self.far.peek().map(|&Reverse((time, scheduled, _))| (time, scheduled));
            match (far, timer) {
                (_, Some(t)) if far.is_none_or(|f| (t.0, t.1) < f) => return self.pop_timer(t.2),
                (Some((time, _)), _) => {
                    self.now = time;
                    self.pull_far();
                }
                (None, _) => return None,
            }
        }
        let slot = self.next_slot(self.now as usize & MASK);
        let time = self.now + ((slot.wrapping_sub(self.now as usize)) & MASK) as i64;
        let at = self.ends[slot].0;
        if let Some(t) = timer
            && (t.0, t.1) < (time, self.slab[at as usize].scheduled)
        {
            return self.pop_timer(t.2);
        }
        let entry = &mut self.slab[at as usize];
        let (item, next) = (entry.item.take(), entry.next);
        self.free.push(at);
        self.ends[slot].0 = next;
        if next == NONE {
            self.ends[slot].1 = NONE;
            self.bits[slot / 64] &= !(1 << (slot % 64));
            if self.bits[slot / 64] == 0 {
                self.summary[slot / 4096] &= !(1 << (slot / 64 % 64));
            }
        }
        self.len -= 1;
        self.advance(time);
        item.map(|item| (time, item))
    }

    /// Moves the clock to `time`, and the far items that came within a turn into the wheel.
    fn advance(&mut self, time: i64) {
        if time != self.now {
            self.now = time;
            if self.far_first - self.now < WHEEL as i64 {
                self.pull_far();
            }
        }
    }

    #[inline(always)]
    fn store(&mut self, item: T, scheduled: u64) -> u32 {
        let entry = Entry { item: Some(item), next: NONE, scheduled };
        match self.free.pop() {
            Some(at) => {
                self.slab[at as usize] = entry;
                at
            }
            None => {
                self.slab.push(entry);
                (self.slab.len() - 1) as u32
            }
        }
    }

    /// Appends entry `at` to the slot of `time`.
    #[inline(always)]
    fn link(&mut self, time: i64, at: u32) {
        let slot = time as usize & MASK;
        match self.ends[slot].1 {
            NONE => {
                self.ends[slot].0 = at;
                self.bits[slot / 64] |= 1 << (slot % 64);
                self.summary[slot / 4096] |= 1 << (slot / 64 % 64);
            }
            last => self.slab[last as usize].next = at,
        }
        self.ends[slot].1 = at;
        self.len += 1;
    }

    /// Moves the far items that came within a turn into the wheel, in their order.
    fn pull_far(&mut self) {
        while let Some(&Reverse((time, _, at))) = self.far.peek() {
            if time - self.now >= WHEEL as i64 {
                break;
            }
            self.far.pop();
            self.link(time, at as u32);
        }
        self.far_first = self.far.peek().map_or(i64::MAX, |&Reverse((time, _, _))| time);
    }

    /// The first occupied slot from `from` on, wrapping around (the wheel is not empty).
    fn next_slot(&self, from: usize) -> usize {
        let word = from / 64;
        let here = self.bits[word] & (!0u64 << (from % 64));
        if here != 0 {
            return word * 64 + here.trailing_zeros() as usize;
        }
        // The next word that is not zero, by the summary, from the word after `word`.
        let words = WHEEL / 64;
        let mut w = (word + 1) % words;
        loop {
            let group = w / 64;
            let rest = self.summary[group] & (!0u64 << (w % 64));
            if rest != 0 {
                let w = group * 64 + rest.trailing_zeros() as usize;
                return w * 64 + self.bits[w].trailing_zeros() as usize;
            }
            w = ((group + 1) * 64) % words;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::Rng;
    use super::{Queue, WHEEL};
    use std::cmp::Reverse;
    use std::collections::{BinaryHeap, HashSet};

    /// The wheel pops what a heap keyed by time and scheduling order pops, with delays short
    /// and long, ties, jumps over empty stretches, and timers set, replaced and cancelled.
    #[test]
    fn the_wheel_pops_in_heap_order() {
        let mut rng = Rng::new(9);
        let mut queue = Queue::default();
        let mut heap = BinaryHeap::new();
        // What each timer holds in the heap (cancelled ones are skipped when popped).
        let mut timers = [None; 4];
        let mut cancelled = HashSet::new();
        let (mut now, mut scheduled) = (0i64, 0u64);
        type Heap = BinaryHeap<Reverse<(i64, u64)>>;
        fn pop(
            heap: &mut Heap,
            timers: &mut [Option<u64>; 4],
            cancelled: &HashSet<u64>,
        ) -> Option<(i64, u64)> {
            loop {
                let next = heap.pop().map(|Reverse(p)| p);
                match next {
                    Some((_, s)) if cancelled.contains(&s) => continue,
                    _ => {
                        timers.iter_mut().filter(|t| **t == next.map(|n| n.1)).for_each(|t| *t = None);
                        return next;
                    }
                }
            }
        }
        for round in 0..200_000u64 {
            let pushes = if round % 1000 == 999 { 0 } else { rng.below(3) };
            for _ in 0..pushes {
                let delay = match rng.below(6) {
                    0 => 0,
                    1 => rng.below(4) as i64,
                    2 => WHEEL as i64 - 1 + rng.below(3) as i64,
                    3 => rng.below(4 * WHEEL as u64) as i64,
                    _ => rng.below(1000) as i64,
                };
                scheduled += 1;
                heap.push(Reverse((now + delay, scheduled)));
                let id = rng.below(8) as usize;
                if id < timers.len() {
                    if let Some(old) = timers[id].replace(scheduled) {
                        cancelled.insert(old);
                    }
                    queue.set_timer(id, now + delay, scheduled);
                } else {
                    queue.push(now + delay, scheduled);
                }
            }
            let id = rng.below(16) as usize;
            if id < timers.len()
                && let Some(old) = timers[id].take()
            {
                cancelled.insert(old);
                queue.cancel_timer(id);
            }
            let expected = pop(&mut heap, &mut timers, &cancelled);
            assert_eq!(queue.pop(), expected, "round {round}");
            if let Some((time, _)) = expected {
                now = time;
            }
        }
        while let Some(p) = pop(&mut heap, &mut timers, &cancelled) {
            assert_eq!(queue.pop(), Some(p));
        }
        assert_eq!(queue.pop(), None);
    }
}
