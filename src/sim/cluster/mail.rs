//! The messages in flight, each stored once: where its sender wrote it, until it is delivered
//! or lost. The event queue carries only a message's number.
//!
//! Why not carry the message in its event: a message was written by its sender a moment before
//! it is scheduled, and copying it on at once (from the sender's outbox into the event, and from
//! the event into the queue) read it back while its bytes were still on their way to memory, a
//! stall on every copy. Stored once and read only when delivered, it is copied once; the events
//! are small.

use super::node::{Addr, Msg};

/// Messages in flight, by number, and those sent by the node being run that the network has
/// not taken yet.
#[derive(Debug, Default)]
pub(super) struct Mail {
    /// Each message and its packed destination ([`Addr::pack`]); `None` for a free number.
    slots: Vec<Option<(u32, Msg)>>,
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
        let entry = Some((to.pack(), msg));
        match self.free.pop() {
            Some(id) => {
                self.slots[id as usize] = entry;
                id
            }
            None => {
                self.slots.push(entry);
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
        let (to, msg) = self.slots.get(id as usize)?.clone()?;
        Some(self.store(Addr::unpack(to), msg))
    }

    /// Message `id` and its destination, freeing its number (`None` if it was already taken,
    /// which the queue never does: each number is scheduled once).
    pub(super) fn take(&mut self, id: u32) -> Option<(Addr, Msg)> {
        let (to, msg) = self.slots.get_mut(id as usize)?.take()?;
        self.free.push(id);
        Some((Addr::unpack(to), msg))
    }

    /// Drops message `id` (the network lost it).
    pub(super) fn lose(&mut self, id: u32) {
        self.take(id);
    }

    /// The messages sent since the network last took them, in order.
    #[cfg(test)]
    pub(super) fn sent(&self) -> Vec<(Addr, &Msg)> {
        let message = |&id: &u32| self.slots[id as usize].as_ref().map(|(to, msg)| (Addr::unpack(*to), msg));
        self.fresh.iter().filter_map(message).collect()
    }
}
