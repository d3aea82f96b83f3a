//! The violations a weak-isolation check reports, each with the witness that shows it: the
//! transactions (by index), the op positions inside them, the keys and values involved.

use super::history::{TxnId, WeakHistory};

/// Why one transaction must commit before another: one edge of a violating cycle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edge {
    /// The transaction that must come first.
    pub from: TxnId,
    /// The transaction that must come after.
    pub to: TxnId,
    /// Why.
    pub why: EdgeWhy,
}

/// The fact behind an [`Edge`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EdgeWhy {
    /// `from` precedes `to` in their session (the initial transaction precedes all).
    Session,
    /// `to`'s op `op` reads `key`'s value `value`, which `from` wrote last.
    ReadFrom {
        /// The read's position in `to`.
        op: u32,
        /// The key (interned).
        key: u32,
        /// The value.
        value: u64,
    },
    /// `from` writes `key`, `reader`'s op `op` reads `key` from `to`, and `premise` holds of
    /// `from` and `reader`: so `from` must commit before `to`.
    Commit {
        /// The transaction whose read forces the order.
        reader: TxnId,
        /// The read's position in `reader`.
        op: u32,
        /// The key.
        key: u32,
        /// The value read (written by `to`).
        value: u64,
        /// What relates `from` to `reader`.
        premise: Premise,
    },
    /// An anti-dependency (serializability, snapshot isolation): `from`'s op `op` reads
    /// `key`=`value` from `writer`, and `to`, which also writes `key`, must commit after
    /// `writer` — because `writer` happens before `to` (`via` none), or because `via` =
    /// `(reader, op)` reads `key` from `to` and `writer` happens before that reader. So `from`
    /// read before `to` wrote: `from` must commit first.
    AntiDependency {
        /// The read's position in `from`.
        op: u32,
        /// The key.
        key: u32,
        /// The value read.
        value: u64,
        /// The transaction `from` reads it from.
        writer: TxnId,
        /// A reader of `to`'s write that `writer` happens before, when that is the reason.
        via: Option<(TxnId, u32)>,
    },
}

/// One choice of a polygraph: the order of two writers of a key, which the history leaves
/// open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Choice {
    /// The key (interned).
    pub key: u32,
    /// One writer of it.
    pub first: TxnId,
    /// Another.
    pub second: TxnId,
}

/// What makes `reader` depend on `from` in a commit-order edge, per level.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Premise {
    /// Read committed: `reader`'s earlier op `op` read `from`'s write of `key`.
    EarlierRead {
        /// The earlier read's position in `reader`.
        op: u32,
        /// Its key.
        key: u32,
    },
    /// Read atomic: `from` precedes `reader` in session order.
    SessionOrder,
    /// Read atomic: `reader`'s op `op` reads `from`'s write of `key`.
    ReadsFrom {
        /// The read's position in `reader`.
        op: u32,
        /// Its key.
        key: u32,
    },
    /// Causal: `from` happens before `reader` (a path of session order and reads-from).
    HappensBefore,
}

/// A violation of a weak isolation level, by name, with its witness.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Violation {
    /// `txn`'s op `op` reads a value of `key` that no transaction writes.
    ThinAirRead {
        /// The reader.
        txn: TxnId,
        /// The read's position.
        op: u32,
        /// The key.
        key: u32,
        /// The value read.
        value: u64,
    },
    /// `txn`'s op `op` reads a value that only an aborted transaction wrote.
    AbortedRead {
        /// The reader.
        txn: TxnId,
        /// The read's position.
        op: u32,
        /// The key.
        key: u32,
        /// The value read.
        value: u64,
    },
    /// `txn`'s op `op` reads the value its own later op `write_op` writes.
    FutureRead {
        /// The transaction.
        txn: TxnId,
        /// The read's position.
        op: u32,
        /// The later write's position.
        write_op: u32,
        /// The key.
        key: u32,
        /// The value.
        value: u64,
    },
    /// `txn` wrote `key` (last `own`, at `write_op`) and then read `value` (op `op`): a value
    /// it did not write (`last_write` false) or an earlier write of its own (`last_write`).
    NotMyOwnWrite {
        /// The transaction.
        txn: TxnId,
        /// The read's position.
        op: u32,
        /// The key.
        key: u32,
        /// The value read.
        value: u64,
        /// The position of the transaction's last write of `key` before the read.
        write_op: u32,
        /// The value it wrote there.
        own: u64,
        /// Whether the value read is one the transaction wrote earlier (not-my-last-write).
        last_write: bool,
    },
    /// `reader`'s op `op` reads a value `writer` overwrote within the same transaction.
    IntermediateRead {
        /// The reader.
        reader: TxnId,
        /// The read's position.
        op: u32,
        /// The writer.
        writer: TxnId,
        /// The key.
        key: u32,
        /// The intermediate value read.
        value: u64,
    },
    /// `txn` reads `key` twice (ops `first` and `second`) and sees two different
    /// transactions' writes (`v1` from `w1`, `v2` from `w2`).
    NonRepeatableRead {
        /// The reader.
        txn: TxnId,
        /// The key.
        key: u32,
        /// The first read's position.
        first: u32,
        /// The second read's position.
        second: u32,
        /// The first value.
        v1: u64,
        /// The second value.
        v2: u64,
        /// The first value's writer.
        w1: TxnId,
        /// The second value's writer.
        w2: TxnId,
    },
    /// A cycle of transactions each of which must commit before the next.
    Cycle {
        /// The edges, `edges[i].to == edges[i + 1].from`, the last back to the first.
        edges: Vec<Edge>,
    },
    /// No commit order exists (serializability, snapshot isolation), as the SAT solver
    /// decided: every orientation of the open choices closes a forbidden cycle.
    NoCommitOrder {
        /// The choices the refutation turned on (all of the history's, when `complete`).
        choices: Vec<Choice>,
        /// Whether `choices` are all the history's choices, so that trying each of their
        /// orientations re-decides the claim.
        complete: bool,
        /// How many cycle clauses the solver learnt.
        clauses: u64,
    },
}

impl Violation {
    /// The violation's name, as reports and AWDIT spell it.
    pub fn name(&self) -> &'static str {
        match self {
            Violation::ThinAirRead { .. } => "thin-air-read",
            Violation::AbortedRead { .. } => "aborted-read",
            Violation::FutureRead { .. } => "future-read",
            Violation::NotMyOwnWrite { last_write: false, .. } => "not-my-own-write",
            Violation::NotMyOwnWrite { last_write: true, .. } => "not-my-last-write",
            Violation::IntermediateRead { .. } => "intermediate-read",
            Violation::NonRepeatableRead { .. } => "non-repeatable-read",
            Violation::Cycle { edges } => cycle_name(edges),
            Violation::NoCommitOrder { .. } => "no-commit-order",
        }
    }

    /// The transactions involved, each once, in the order the witness names them.
    pub fn txns(&self) -> Vec<TxnId> {
        let mut all = match self {
            Violation::ThinAirRead { txn, .. }
            | Violation::AbortedRead { txn, .. }
            | Violation::FutureRead { txn, .. }
            | Violation::NotMyOwnWrite { txn, .. } => vec![*txn],
            Violation::IntermediateRead { reader, writer, .. } => vec![*writer, *reader],
            Violation::NonRepeatableRead { txn, w1, w2, .. } => vec![*w1, *w2, *txn],
            Violation::Cycle { edges } => edges
                .iter()
                .flat_map(|e| match &e.why {
                    EdgeWhy::Commit { reader, .. } => vec![e.from, *reader],
                    _ => vec![e.from],
                })
                .collect(),
            Violation::NoCommitOrder { choices, .. } => {
                choices.iter().flat_map(|c| [c.first, c.second]).collect()
            }
        };
        let mut seen = std::collections::HashSet::new();
        all.retain(|t| seen.insert(*t));
        all
    }

    /// The violation in one or more sentences a database engineer can act on.
    pub fn explain(&self, h: &WeakHistory) -> String {
        let k = |key: &u32| h.keys.name(*key);
        let t = |txn: &TxnId| h.describe(*txn);
        match self {
            Violation::ThinAirRead { txn, op, key, value } => {
                format!("{} (op {op}) reads {}={value}, which no transaction writes", t(txn), k(key))
            }
            Violation::AbortedRead { txn, op, key, value } => {
                format!(
                    "{} (op {op}) reads {}={value}, written only by an aborted transaction",
                    t(txn),
                    k(key)
                )
            }
            Violation::FutureRead { txn, op, write_op, key, value } => format!(
                "{} (op {op}) reads {}={value}, which it writes itself only later (op {write_op})",
                t(txn),
                k(key)
            ),
            Violation::NotMyOwnWrite { txn, op, key, value, write_op, own, last_write } => format!(
                "{} wrote {}={own} (op {write_op}) and then read {}={value} (op {op}){}",
                t(txn),
                k(key),
                k(key),
                if *last_write { ", an earlier write of its own" } else { ", not its own write" }
            ),
            Violation::IntermediateRead { reader, op, writer, key, value } => format!(
                "{} (op {op}) reads {}={value}, which {} overwrote before committing",
                t(reader),
                k(key),
                t(writer)
            ),
            Violation::NonRepeatableRead { txn, key, first, second, v1, v2, w1, w2 } => format!(
                "{} reads {} twice and sees two transactions' writes: {v1} from {} (op {first}), then {v2} from {} (op {second})",
                t(txn),
                k(key),
                t(w1),
                t(w2)
            ),
            Violation::Cycle { edges } => {
                let steps: Vec<String> = edges.iter().map(|e| explain_edge(h, e)).collect();
                let n = edges.len();
                format!(
                    "{}: no commit order exists, {n} transactions each must commit before the next:\n{}",
                    self.name(),
                    steps.join("\n")
                )
            }
            Violation::NoCommitOrder { choices, complete, clauses } => {
                let listed: Vec<String> = choices
                    .iter()
                    .take(20)
                    .map(|c| format!("{} vs {} on {}", h.describe(c.first), h.describe(c.second), k(&c.key)))
                    .collect();
                format!(
                    "no commit order exists: the SAT solver refuted every order of the writers whose order the \
                     history leaves open ({clauses} cycle clauses learnt); the refutation turned on {} of these \
                     choices{}{}:\n{}",
                    choices.len(),
                    if *complete { " (every open choice of the history)" } else { "" },
                    if choices.len() > listed.len() { ", the first 20 listed" } else { "" },
                    listed.join("\n")
                )
            }
        }
    }
}

/// A cycle is named after the strongest reason among its commit-order edges, as AWDIT names
/// them: a causality violation, a fractured read, a non-monotonic read; with none, the
/// session order and reads-from alone are cyclic.
fn cycle_name(edges: &[Edge]) -> &'static str {
    let premises = edges.iter().filter_map(|e| match &e.why {
        EdgeWhy::Commit { premise, .. } => Some(premise),
        _ => None,
    });
    let anti = edges.iter().filter(|e| matches!(e.why, EdgeWhy::AntiDependency { .. })).count();
    match anti {
        0 => {}
        1 => return "G-single",
        _ => return "G2-item",
    }
    let mut name = "cyclic-happens-before";
    for p in premises {
        name = match (p, name) {
            (Premise::HappensBefore, _) => return "causality-violation",
            (Premise::SessionOrder | Premise::ReadsFrom { .. }, _) => "fractured-read",
            (Premise::EarlierRead { .. }, "fractured-read") => name,
            (Premise::EarlierRead { .. }, _) => "non-monotonic-read",
        };
    }
    name
}

fn explain_edge(h: &WeakHistory, e: &Edge) -> String {
    let (from, to) = (h.describe(e.from), h.describe(e.to));
    match &e.why {
        EdgeWhy::Session => format!("{from} precedes {to} in session order"),
        EdgeWhy::ReadFrom { op, key, value } => {
            format!("{to} (op {op}) reads {}={value} from {from}", h.keys.name(*key))
        }
        EdgeWhy::Commit { reader, op, key, value, premise } => {
            let why = match premise {
                Premise::EarlierRead { op, key } => {
                    format!(
                        "{} read {} from {from} earlier (op {op})",
                        h.describe(*reader),
                        h.keys.name(*key)
                    )
                }
                Premise::SessionOrder => format!("{from} precedes {} in session order", h.describe(*reader)),
                Premise::ReadsFrom { op, key } => {
                    format!("{} reads {} from {from} (op {op})", h.describe(*reader), h.keys.name(*key))
                }
                Premise::HappensBefore => format!("{from} happens before {}", h.describe(*reader)),
            };
            format!(
                "{from} must commit before {to}: {} (op {op}) reads {}={value} from {to}, {from} also writes {}, and {why}",
                h.describe(*reader),
                h.keys.name(*key),
                h.keys.name(*key)
            )
        }
        EdgeWhy::AntiDependency { op, key, value, writer, via } => {
            let key = h.keys.name(*key);
            let w = h.describe(*writer);
            let because = match via {
                None => format!("{w} happens before {to}"),
                Some((r, o)) => {
                    format!("{} (op {o}) reads {key} from {to} and {w} happens before it", h.describe(*r))
                }
            };
            format!(
                "{from} must commit before {to}: {from} (op {op}) reads {key}={value} from {w}, {to} also writes {key} and \
                 must come after {w} ({because}), so {from} read before {to} wrote"
            )
        }
    }
}
