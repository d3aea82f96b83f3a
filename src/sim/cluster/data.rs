//! The replicated object and the ops clients run on it, shared by both replication protocols.

use std::collections::VecDeque;
use std::rc::Rc;

/// How many recent update tokens the store remembers for deduplicating retried requests.
const DEDUP_WINDOW: usize = 256;

/// How many lists the list-append store keeps: the clients retire keys, always using the newest
/// (see `Sim::txn_op`), and the store forgets the lists of the oldest keys, so that its state,
/// copied at every update, stays small however long the run.
const LIST_WINDOW: usize = 12;

/// The bank workload's accounts (`0..ACCOUNTS`)…
pub(crate) const ACCOUNTS: usize = 5;
/// …each holding this much at first: the total every read must see is their sum.
pub(crate) const INITIAL_BALANCE: i64 = 20;

/// How many keys a long-fork read reads: the group `[k - k % GROUP, k - k % GROUP + GROUP)`.
pub(crate) const FORK_GROUP: u32 = 3;

/// One micro-op of a list-append transaction: append `value` to list `key`, or read list `key`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Mop {
    pub(crate) append: bool,
    /// (32 bits: a smaller op is cheaper to send around; 3 keys per 300 appends never run out.)
    pub(crate) key: u32,
    pub(crate) value: i64,
}

/// What a client asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ClientOp {
    /// Reads the register, the set or the counter (whichever the workload uses).
    Read,
    Write(i64),
    Cas(i64, i64),
    /// Adds an element to the set.
    Insert(i64),
    /// Adds to the counter.
    Incr(i64),
    /// A list-append transaction of `len` micro-ops (1 or 2), appends before reads.
    Txn {
        mops: [Mop; 2],
        len: u8,
    },
    /// Moves `amount` from account `from` to account `to`, refused (certainly not done) when
    /// `from` holds less.
    Transfer {
        from: u8,
        to: u8,
        amount: i64,
    },
    /// Adds an element to set-full's table, which keeps whatever it is given: an add applied
    /// twice leaves the element in it twice.
    AddRow(i64),
    /// Long fork: writes a fresh key.
    WriteKey(u32),
    /// Long fork: reads the group of [`FORK_GROUP`] keys that starts at this key.
    ReadGroup(u32),
}

impl ClientOp {
    /// Whether the op changes nothing (a read, or a transaction of reads only).
    pub(crate) fn is_read(&self) -> bool {
        match self {
            ClientOp::Read | ClientOp::ReadGroup(_) => true,
            ClientOp::Txn { mops, len } => mops[..usize::from(*len)].iter().all(|m| !m.append),
            _ => false,
        }
    }
}

/// The replicated object: every workload's state, of which a run uses one part.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Data {
    /// The register (`nil` at first).
    pub(crate) reg: Option<i64>,
    /// The counter.
    pub(crate) count: i64,
    /// The set's elements, in the order they were added.
    pub(crate) set: Vec<i64>,
    /// The lists of the list-append workload: the newest `LIST_WINDOW` keys appended to, by
    /// key (shared between snapshots until appended to)…
    pub(crate) lists: Vec<(u64, Rc<Vec<i64>>)>,
    /// …and every key below this one is forgotten: ops on them are refused.
    pub(crate) forgotten: u64,
    /// The bank's balances.
    pub(crate) bank: Balances,
    /// The long-fork keys written (of the newest).
    pub(crate) keys: KeyWindow,
    /// The tokens `(client, token)` of recent updates, when the store deduplicates retries.
    pub(crate) applied: VecDeque<(usize, u64)>,
}

/// The bank's balances, by account: [`INITIAL_BALANCE`] each at first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Balances(pub(crate) [i64; ACCOUNTS]);

impl Default for Balances {
    fn default() -> Self {
        Balances([INITIAL_BALANCE; ACCOUNTS])
    }
}

/// Which of the newest [`KeyWindow::SPAN`] long-fork keys were written: reads are of the
/// groups of recently written keys, and a fixed window keeps the state, copied at every
/// update, small however long the run. Keys below `floor` are forgotten: reads of them, and
/// writes that come too late for them, are refused.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct KeyWindow {
    floor: u32,
    bits: u128,
}

impl KeyWindow {
    const SPAN: u32 = 128;

    /// Whether `key` was written; `None` when it is forgotten.
    pub(crate) fn written(&self, key: u32) -> Option<bool> {
        let at = key.checked_sub(self.floor)?;
        Some(at < Self::SPAN && self.bits >> at & 1 == 1)
    }

    /// Records `key` as written, moving the window up to it if it is past the end; false
    /// (nothing recorded) when it is forgotten.
    fn write(&mut self, key: u32) -> bool {
        let Some(at) = key.checked_sub(self.floor) else { return false };
        if at >= Self::SPAN {
            let shift = at - Self::SPAN + 1;
            self.bits = self.bits.checked_shr(shift).unwrap_or(0);
            self.floor += shift;
        }
        self.bits |= 1 << (key - self.floor);
        true
    }
}

impl Data {
    /// The list of `key` (empty if never appended to).
    pub(crate) fn list(&self, key: u64) -> &[i64] {
        self.lists.iter().find(|l| l.0 == key).map_or(&[], |l| l.1.as_slice())
    }

    fn append(&mut self, key: u64, value: i64) {
        match self.lists.iter().position(|l| l.0 == key) {
            Some(i) => Rc::make_mut(&mut self.lists[i].1).push(value),
            None => {
                self.lists.push((key, Rc::new(vec![value])));
                if self.lists.len() > LIST_WINDOW
                    && let Some(oldest) = self.lists.iter().map(|l| l.0).min()
                {
                    self.lists.retain(|l| l.0 != oldest);
                    self.forgotten = self.forgotten.max(oldest + 1);
                }
            }
        }
    }
}

/// The result of running an op against the state.
pub(crate) enum Applied {
    /// Nothing changed (a read).
    Unchanged,
    /// The new state.
    Changed(Data),
    /// A compare-and-set whose expected value did not match: certainly not done.
    Refused,
    /// A retry of an update already applied (same token): done before, not redone.
    Duplicate,
}

/// Runs `op` on `data`. With `dedup`, an update whose `(client, token)` was applied recently is
/// reported as [`Applied::Duplicate`] instead of being applied again.
pub(crate) fn apply(data: &Data, op: ClientOp, who: (usize, u64), dedup: bool) -> Applied {
    if let ClientOp::Txn { mops, len } = op
        && mops[..usize::from(len)].iter().any(|m| u64::from(m.key) < data.forgotten)
    {
        // Its list is gone, so a read could not be answered: refused, certainly not done.
        return Applied::Refused;
    }
    if let ClientOp::ReadGroup(first) = op
        && data.keys.written(first).is_none()
    {
        return Applied::Refused;
    }
    if op.is_read() {
        return Applied::Unchanged;
    }
    if dedup && data.applied.contains(&who) {
        return Applied::Duplicate;
    }
    let mut next = data.clone();
    match op {
        ClientOp::Read => {}
        ClientOp::Write(v) => next.reg = Some(v),
        ClientOp::Cas(old, new) if data.reg == Some(old) => next.reg = Some(new),
        ClientOp::Cas(..) => return Applied::Refused,
        ClientOp::Insert(v) => {
            if !next.set.contains(&v) {
                next.set.push(v);
            }
        }
        ClientOp::Incr(d) => next.count = next.count.wrapping_add(d),
        ClientOp::Transfer { from, to, amount } => {
            if data.bank.0[usize::from(from)] < amount {
                // Insufficient funds: refused, as Jepsen's bank clients refuse it.
                return Applied::Refused;
            }
            next.bank.0[usize::from(from)] -= amount;
            next.bank.0[usize::from(to)] += amount;
        }
        ClientOp::AddRow(v) => next.set.push(v),
        ClientOp::WriteKey(k) if next.keys.write(k) => {}
        ClientOp::WriteKey(_) => return Applied::Refused,
        ClientOp::ReadGroup(_) => {}
        ClientOp::Txn { mops, len } => {
            for m in mops[..usize::from(len)].iter().filter(|m| m.append) {
                next.append(u64::from(m.key), m.value);
            }
        }
    }
    if dedup {
        if next.applied.len() >= DEDUP_WINDOW {
            next.applied.pop_front();
        }
        next.applied.push_back(who);
    }
    Applied::Changed(next)
}

/// `lost-ack`'s primary ships each account a transfer changes as a change of its own: the
/// state once only the debit of `op` is applied to `data`, if `op` is a transfer `data` can
/// pay for (a follower that receives this and not the credit holds half a transfer).
pub(crate) fn debit_only(data: &Data, op: ClientOp) -> Option<Data> {
    let ClientOp::Transfer { from, amount, .. } = op else { return None };
    let from = usize::from(from);
    (data.bank.0[from] >= amount).then(|| {
        let mut half = data.clone();
        half.bank.0[from] -= amount;
        half
    })
}

/// A shared, immutable snapshot of the state: replies carry one so that clients can render
/// what they read.
pub(crate) type Snapshot = Rc<Data>;
