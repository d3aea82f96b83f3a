//! The messages in flight, each stored once: where its sender wrote it, until it is delivered
//! or lost. The event queue carries only a message's number.
//!
//! Why not carry the message in its event: a message was written by its sender a moment before
//! it is scheduled, and copying it on at once (from the sender's outbox into the event, and from
//! the event into the queue) read it back while its bytes were still on their way to memory, a
//! stall on every copy. Stored once and read only when delivered, it is copied once; the events
//! are small.

use super::msg::{Addr, Msg};

/// The destination of a free number.
const FREE: u32 = u32::MAX;
/// What a free number holds: any message will do, as it is never read.
const FREE_MSG: Msg = Msg::Heartbeat { term: 0 };

/// Messages in flight, by number, and those sent by the node being run that the network has
/// not taken yet.
#[derive(Debug, Default)]
pub(super) struct Mail {
    /// Each message (a free number holds [`FREE_MSG`])…
    slots: Vec<Msg>,
    /// …and its destination, packed by [`Addr::pack`] ([`FREE`] for a free number). (Not an
    /// `Option<(u32, Msg)>`: moving a message out of one copied it at odd offsets, and reading
    /// it cost another stall.)
    to: Vec<u32>,
    free: Vec<u32>,
    /// Numbers of the messages sent since the network last took them, in the order sent.
    fresh: Vec<u32>,
}

impl Mail {
    /// Sends `msg` to `to`: stored, and handed to the network by [`Mail::take_fresh`].
    #[inline(always)]
    pub(super) fn push(&mut self, (to, msg): (Addr, Msg)) {
        let id = self.store(to, msg);
        self.fresh.push(id);
    }

    /// Sends each message, in order.
    pub(super) fn extend(&mut self, messages: impl IntoIterator<Item = (Addr, Msg)>) {
        messages.into_iter().for_each(|m| self.push(m));
    }

    /// Stores `msg` to `to` and returns its number, without handing it to the network.
    #[inline(always)]
    pub(super) fn store(&mut self, to: Addr, msg: Msg) -> u32 {
        match self.free.pop() {
            Some(id) => {
                self.slots[id as usize] = msg;
                self.to[id as usize] = to.pack();
                id
            }
            None => {
                self.slots.push(msg);
                self.to.push(to.pack());
                (self.slots.len() - 1) as u32
            }
        }
    }

    /// Moves the numbers of the messages sent since the last call into `into` (emptied first).
    pub(super) fn take_fresh(&mut self, into: &mut Vec<u32>) {
        into.clear();
        std::mem::swap(into, &mut self.fresh);
    }

    /// A copy of message `id` under a number of its own (the network delivering it twice);
    /// `None` if there is no message `id`.
    pub(super) fn copy(&mut self, id: u32) -> Option<u32> {
        let to = self.to.get(id as usize).copied().filter(|&to| to != FREE)?;
        let msg = self.slots[id as usize].clone();
        Some(self.store(Addr::unpack(to), msg))
    }

    /// Message `id` and its destination, freeing its number (`None` if it was already taken,
    /// which the queue never does: each number is scheduled once).
    pub(super) fn take(&mut self, id: u32) -> Option<(Addr, Msg)> {
        let to = self.to.get(id as usize).copied().filter(|&to| to != FREE)?;
        self.to[id as usize] = FREE;
        self.free.push(id);
        Some((Addr::unpack(to), std::mem::replace(&mut self.slots[id as usize], FREE_MSG)))
    }

    /// Drops message `id` (the network lost it).
    pub(super) fn lose(&mut self, id: u32) {
        self.take(id);
    }

    /// The messages sent since the network last took them, in order.
    #[cfg(test)]
    pub(super) fn sent(&self) -> Vec<(Addr, &Msg)> {
        let message = |&id: &u32| (Addr::unpack(self.to[id as usize]), &self.slots[id as usize]);
        self.fresh.iter().map(message).collect()
    }
}
