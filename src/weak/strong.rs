//! Serializability and snapshot isolation (Biswas & Enea's definitions: sessions as program
//! order, no real time) for histories whose version order is unknown, exactly: causal
//! consistency first (every violation of it violates both), then the polygraph, pruned to a
//! fixed point (`polygraph`), then the SAT solver with lazy acyclicity
//! (`solve`). A valid verdict carries its commit order; an invalid one a cycle whose
//! every edge follows from happens-before, or the solver's refutation; a budget that runs out
//! gives `unknown`, never `valid`.

use super::polygraph::{Contradiction, Mode, Polygraph, Pred, ReadRef, Why};
use super::reads::Facts;
use super::solve::{Solved, Spend, solve};
use super::{Budget, Choice, Edge, EdgeWhy, Level, Premise, Violation, WeakHistory, WeakOutcome};
use crate::outcome::Verdict;
use std::time::Instant;

/// Pruning rounds at most (each costs a reachability matrix); the solver decides the rest.
const MAX_ROUNDS: u32 = 64;

/// Bytes of pruning matrices allowed when no `--max-memory` is given.
const DEFAULT_MATRIX_CAP: usize = 4 << 30;

/// Bytes of reachability matrix worth spending on a history with no choice, for a cycle witness.
const WITNESS_ONLY_BYTES: usize = 64 << 20;

/// Histories with at most this many choices list all of them in a refutation, so that
/// certification can try every orientation.
const COMPLETE_UP_TO: u64 = 12;

/// Checks `h` for `level` (serializable or snapshot isolation) within `budget`.
pub fn check(h: &WeakHistory, level: Level, budget: &Budget) -> WeakOutcome {
    let mode = if level == Level::Serializable { Mode::Serializable } else { Mode::Snapshot };
    let causal = super::check(h, Level::Causal);
    if causal.verdict() != Verdict::Valid {
        return causal;
    }
    let started = Instant::now();
    let facts = match Facts::derive(h, Level::Causal) {
        Ok(f) => f,
        Err(_) => return unknown("the reads could not be matched with their writes".into(), 0),
    };
    let mut g = Polygraph::new(h, &facts, mode);
    let pairs = g.pairs();
    let cap = budget.max_memory.unwrap_or(DEFAULT_MATRIX_CAP);
    if pairs > 0 && g.matrix_bytes() > cap {
        let why = format!(
            "{} is not decided: pruning its {pairs} write-order choices needs {} MB of reachability matrices, over \
             the memory budget of {} MB; causal consistency holds",
            level.as_str(),
            g.matrix_bytes() >> 20,
            cap >> 20
        );
        return unknown(why, 0);
    }
    // With no choice pruning only looks for a cycle the solver would find too; it still runs
    // when cheap, for its witness.
    if pairs > 0 || g.matrix_bytes() <= WITNESS_ONLY_BYTES {
        if let Err(c) = g.prune(MAX_ROUNDS) {
            return contradiction(&g, c);
        }
    }
    let deadline = budget.timeout.map(|t| started + t);
    let spend = Spend { max_steps: budget.max_steps, deadline };
    match solve(&g, mode, h.txn_count(), spend) {
        Solved::Order(order) => {
            WeakOutcome { order: Some(order), commit_edges: g.edges.len(), ..WeakOutcome::default() }
        }
        Solved::Refuted { clauses, choices } => {
            let choices = choices.into_iter().map(|(k, a, b)| choice(&g, k, a, b)).collect();
            refuted(&g, choices, clauses)
        }
        Solved::OutOfBudget { rounds, why } => {
            let open = pairs - g.decided;
            let why = format!(
                "{} is not decided: {why} after {rounds} solver rounds; pruning decided {} of the {pairs} \
                 write-order choices and {open} remain open; causal consistency holds",
                level.as_str(),
                g.decided
            );
            unknown(why, g.edges.len())
        }
    }
}

fn unknown(why: String, commit_edges: usize) -> WeakOutcome {
    WeakOutcome { unknown: Some(why), commit_edges, ..WeakOutcome::default() }
}

fn choice(g: &Polygraph<'_>, k: usize, first: u32, second: u32) -> Choice {
    Choice { key: g.keys[k].key, first, second }
}

/// The violation of a refutation over `choices`: every choice of the history instead, when
/// there are few enough for certification to try each orientation.
fn refuted(g: &Polygraph<'_>, choices: Vec<Choice>, clauses: u64) -> WeakOutcome {
    let complete = g.pairs() <= COMPLETE_UP_TO;
    let choices = if complete { all_choices(g) } else { choices };
    let v = Violation::NoCommitOrder { choices, complete, clauses };
    WeakOutcome { violations: vec![v], found: 1, commit_edges: g.edges.len(), ..WeakOutcome::default() }
}

fn all_choices(g: &Polygraph<'_>) -> Vec<Choice> {
    let mut out = Vec::new();
    for k in &g.keys {
        for (i, &a) in k.writers.iter().enumerate() {
            out.extend(k.writers[i + 1..].iter().map(|&b| Choice { key: k.key, first: a, second: b }));
        }
    }
    out
}

/// The violation pruning found: its cycle when every edge on it has a first-round
/// justification, else a refutation naming the pair both of whose orders close a cycle.
fn contradiction(g: &Polygraph<'_>, c: Contradiction) -> WeakOutcome {
    let pair = match c {
        Contradiction::Witness(edges) => match witness(g.facts(), &edges) {
            Some(edges) => {
                let v = Violation::Cycle { edges };
                return WeakOutcome {
                    violations: vec![v],
                    found: 1,
                    commit_edges: g.edges.len(),
                    ..WeakOutcome::default()
                };
            }
            None => None,
        },
        Contradiction::Deep(pair) => pair,
    };
    refuted(g, pair.into_iter().map(|(k, a, b)| choice(g, k, a, b)).collect(), 0)
}

/// A first-round cycle as the witness edges it stands for (a composite edge is two), or `None`
/// if an edge has no first-round justification.
fn witness(facts: &Facts, cycle: &[(u32, u32, Why)]) -> Option<Vec<Edge>> {
    let mut out = Vec::new();
    for &(from, to, why) in cycle {
        let read = |t: u32, idx: u32| facts.reads(t)[idx as usize];
        let anti = |r: u32, idx: u32, w1: u32, via: Option<ReadRef>| {
            let x = read(r, idx);
            let via = via.map(|v| (v.reader, read(v.reader, v.idx).op));
            EdgeWhy::AntiDependency { op: x.op, key: x.key, value: x.value, writer: w1, via }
        };
        match why {
            Why::Session => out.push(Edge { from, to, why: EdgeWhy::Session }),
            Why::Read(i) => {
                let x = read(to, i);
                out.push(Edge { from, to, why: EdgeWhy::ReadFrom { op: x.op, key: x.key, value: x.value } });
            }
            Why::Commit(r) => {
                let x = read(r.reader, r.idx);
                let why = EdgeWhy::Commit {
                    reader: r.reader,
                    op: x.op,
                    key: x.key,
                    value: x.value,
                    premise: Premise::HappensBefore,
                };
                out.push(Edge { from, to, why });
            }
            Why::Anti { idx, w1, via } => out.push(Edge { from, to, why: anti(from, idx, w1, via) }),
            Why::Composite { r, pred, idx, w1, via } => {
                let first = match pred {
                    Pred::Session => EdgeWhy::Session,
                    Pred::Read(i) => {
                        let x = read(r, i);
                        EdgeWhy::ReadFrom { op: x.op, key: x.key, value: x.value }
                    }
                };
                out.push(Edge { from, to: r, why: first });
                out.push(Edge { from: r, to, why: anti(r, idx, w1, via) });
            }
            Why::Deep => return None,
        }
    }
    Some(out)
}
