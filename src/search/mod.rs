//! Deciding single objects: check every key in parallel, first by what the values imply
//! (conflicts, cycles), then by a search, and give each key its own verdict, with a
//! counterexample when it is invalid.
//!
//! One file per strategy: `wgl` (the Wing–Gong–Lowe linearizability search), `sequential`
//! (the depth-first search for sequential consistency), `greedy` (the greedy replay tried
//! before it), `joint` (sequential consistency of all keys together), `saturate` (the orders
//! process order forces), and [`oracle`] (brute force, for tests); `budget` is what they all
//! draw on, `memo` the exact memo of configurations the two searches share, `result` what they
//! all return.
//!
//! A history is linearizable iff every key is (Herlihy & Wing's locality; Horn & Kroening's
//! P-compositionality), so keys never need to be searched together for linearizability.

mod budget;
pub mod chains;
mod greedy;
mod id_sets;
mod joint;
mod memo;
pub mod oracle;
mod result;
pub(crate) mod saturate;
pub(crate) mod sequential;
pub(crate) mod wgl;
pub mod zones;

pub(crate) use budget::Budget;
pub(crate) use budget::Limits;
pub(crate) use joint::check_sequential;
pub(crate) use result::{SearchResult, SearchStats, Stuck};

use crate::graph::{self, Cycle};
use crate::history::{History, Value};
use crate::model::{Conflict, EdgeKind, Model};
use crate::outcome::{
    ConflictWitness, Consistency, Counterexample, CycleStep, DecodeFailure, KeyResult, LinearReport,
    LinearStep, OpRef, TriedOp, Verdict,
};
use crate::split::{Entry, Keying, Order, Part, prepare, process_order, sub_part};
use crate::vocab::Procedure;
use rayon::prelude::*;
use std::borrow::Cow;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Budgets and switches for a check.
#[derive(Clone, Debug)]
pub struct Options {
    /// Split by key (`Some(true)`), never (`Some(false)`), or guess (`None`).
    pub independent: Option<bool>,
    /// Real-time order tolerance: A precedes B only if A completed more than this before B
    /// was invoked (same unit as the history's times).
    pub clock_skew: i64,
    /// Model steps allowed per key.
    pub max_steps: u64,
    /// Wall-clock budget for the whole check.
    pub timeout: Option<Duration>,
    /// Memory budget for the searches' memo tables and the states they keep (as
    /// [`crate::model::Model::state_heap_bytes`] counts them), all keys together, in bytes.
    pub max_memory: Option<usize>,
    /// Stop at the first invalid key (the others become unknown).
    pub fail_fast: bool,
    /// Decide keys by an exact polynomial procedure where one applies (the zone test for
    /// registers whose written values are unique, the cas chains for cas registers whose
    /// written values are unique); `false` searches every key
    /// (`--no-fast-path`), for comparison.
    pub fast_paths: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            independent: None,
            clock_skew: 0,
            max_steps: 100_000_000,
            timeout: None,
            max_memory: None,
            fail_fast: false,
            fast_paths: true,
        }
    }
}

/// What fills in an invalid key's explanation (its class, witness and faults), given to the
/// checks by their caller: explaining is a layer above the search, which must not import it,
/// yet it runs per key inside the parallel check, timed with the key.
pub(crate) trait Explainer: Sync {
    /// Explains the invalid `result` of `part`, checked under `order`. `refutes` is the search
    /// on a subset of the part's ops, on a small budget: true only for a definite violation.
    fn explain<M: Model>(
        &self,
        model: &M,
        history: &History,
        part: &Part<M::Op>,
        order: Order,
        result: &mut KeyResult,
        refutes: &dyn Fn(&Part<M::Op>) -> bool,
    );
}

/// Checks `history` against `model`, with invalid keys explained by `explainer`. Fails only
/// when an op does not fit the model (bad input for this model); budgets running out give
/// `unknown` keys, never an error.
pub(crate) fn check<M: Model>(
    model: &M,
    history: &History,
    options: &Options,
    explainer: &impl Explainer,
) -> Result<LinearReport, DecodeFailure> {
    let keying = Keying::detect(history, options.independent);
    let parts = prepare(model, history, keying)?;
    let order = Order::RealTime { skew: options.clock_skew };
    let keys = Budget::new(options)
        .run(|limits| check_parts(model, history, &parts, order, options, limits, explainer));
    Ok(LinearReport {
        model: model.name().to_string(),
        consistency: Consistency::Linearizable,
        verdict: Verdict::combine(keys.iter().map(|k| k.verdict)),
        keys,
        joint: None,
    })
}

/// Checks every part in parallel, largest first (so one big key does not start last and run
/// alone), and returns the results in the parts' order.
pub(crate) fn check_parts<M: Model>(
    model: &M,
    history: &History,
    parts: &[Part<M::Op>],
    order: Order,
    options: &Options,
    limits: &Limits<'_>,
    explainer: &impl Explainer,
) -> Vec<KeyResult> {
    let mut by_size: Vec<usize> = (0..parts.len()).collect();
    by_size.sort_by_key(|&i| std::cmp::Reverse(parts[i].entries.len()));
    crate::progress::keys_planned(parts.len());
    let mut results: Vec<(usize, KeyResult)> = by_size
        .into_par_iter()
        .map(|i| {
            let r = check_part(model, history, &parts[i], order, limits, explainer);
            crate::progress::key_done();
            if r.verdict == Verdict::Invalid && options.fail_fast {
                if let Some(cancel) = limits.cancel {
                    cancel.store(true, Ordering::Relaxed);
                }
            }
            (i, r)
        })
        .collect();
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// The part without crashed ops whose whole effect is to leave a fact no op needs (a timed-out
/// write of a value nobody read), or `None` if there are none. Such an op can be dropped from
/// any valid order: the ops between it and the next write need nothing (any that needed
/// something would need that fact, and none does), so the order stays valid without it. Dropping
/// them up front saves the searches from trying each one at every point.
fn without_unneeded_crashed_ops<M: Model>(model: &M, part: &Part<M::Op>) -> Option<Part<M::Op>> {
    let needed: ahash::AHashSet<crate::model::Fact> =
        part.entries.iter().filter_map(|e| model.needs(&e.op)).collect();
    let unneeded = |e: &Entry<M::Op>| model.leaves(&e.op).is_some_and(|f| !needed.contains(&f));
    if !part.entries[part.determinate..].iter().any(unneeded) {
        return None;
    }
    let keep: Vec<u32> = (0..part.entries.len() as u32)
        .filter(|&i| (i as usize) < part.determinate || !unneeded(&part.entries[i as usize]))
        .collect();
    let mut pruned = sub_part(part, &keep);
    pruned.total_ops = part.total_ops;
    pruned.failed = part.failed;
    pruned.crashed_reads = part.crashed_reads;
    Some(pruned)
}

/// What decided a key.
enum Finding<S> {
    Search(SearchResult<S>, SearchStats),
    Cycle(Cycle),
    Conflict(Conflict),
}

/// Decides one key: by a fast path where one applies (see [`zones`], [`chains`]), else first by what the
/// values imply (conflicts, then cycles in the dependency graph), then, if that leaves the
/// question open, by the search, pruned by the implied orders.
pub(crate) fn check_part<M: Model>(
    model: &M,
    history: &History,
    part: &Part<M::Op>,
    order: Order,
    limits: &Limits<'_>,
    explainer: &impl Explainer,
) -> KeyResult {
    let started = Instant::now();
    let pruned;
    let zoned = if limits.fast_paths { by_fast_path(model, part, order) } else { None };
    // `evidence`: the ops the evidence is about, the whole key or the few the fast path named.
    let (part, evidence, finding, procedure) = match zoned {
        Some(((evidence, finding), procedure)) => (part, evidence, finding, procedure),
        None => {
            pruned = without_unneeded_crashed_ops(model, part);
            let part = pruned.as_ref().unwrap_or(part);
            (part, Cow::Borrowed(part), decide(model, part, order, limits), Procedure::Search)
        }
    };
    let mut result = KeyResult {
        key: part.key.as_ref().map(Value::to_string),
        verdict: Verdict::Invalid,
        procedure,
        ops: part.total_ops,
        searched_ops: part.entries.len(),
        crashed: part.entries.len() - part.determinate,
        unknown_reason: None,
        counterexample: None,
        cycle: None,
        conflict: None,
        class: None,
        witness: None,
        faults: Vec::new(),
        steps: 0,
        memo_entries: 0,
        max_depth: 0,
        millis: 0.0,
        order: None,
        linearization: None,
    };
    let part = evidence.as_ref();
    let cite = |entry: u32| {
        let e = &part.entries[entry as usize];
        OpRef::new(history, e.op_index, model.describe_op(&e.op))
    };
    match finding {
        Finding::Conflict(c) => {
            result.conflict = Some(ConflictWitness {
                ops: c.ops.iter().map(|&e| cite(e)).collect(),
                reason: c.reason,
                kind: c.kind,
            });
        }
        Finding::Cycle(cycle) => result.cycle = Some(cycle_steps(&cycle, &cite)),
        Finding::Search(found, stats) => {
            result.steps = stats.steps;
            result.memo_entries = stats.memo_entries;
            result.max_depth = stats.max_depth;
            match found {
                SearchResult::Linearizable(order) => {
                    result.verdict = Verdict::Valid;
                    result.order = Some(order.iter().map(|&e| part.entries[e as usize].op_index).collect());
                }
                SearchResult::NotLinearizable(stuck) => {
                    result.counterexample = Some(counterexample(model, history, &part.entries, &stuck));
                }
                SearchResult::Unknown(cause) => {
                    result.verdict = Verdict::Unknown;
                    result.unknown_reason = Some(format!(
                        "{} after {} steps: at most {} of {} ops linearized, {} configurations memoized",
                        cause.describe(),
                        stats.steps,
                        stats.max_depth,
                        part.entries.len(),
                        stats.memo_entries
                    ));
                }
            }
        }
    }
    if result.verdict == Verdict::Invalid {
        // Shrinking a witness probes hundreds of subsets: each gets a small budget, and one
        // that runs out only keeps the witness larger.
        let refutes = |sub: &Part<M::Op>| {
            matches!(
                decide(model, sub, order, &Limits::probe()),
                Finding::Cycle(_) | Finding::Search(SearchResult::NotLinearizable(_), _)
            )
        };
        explainer.explain(model, history, part, order, &mut result, &refutes);
    }
    result.millis = started.elapsed().as_secs_f64() * 1e3;
    result
}

/// The size of key (in ops) from which an invalid key a fast path decided is explained by the
/// ops it named rather than searched whole.
const ZONE_EVIDENCE_FROM: usize = 4096;

/// The zone test's decision: the part its evidence is about, and what it found.
type Decided<'p, M> = (Cow<'p, Part<<M as Model>::Op>>, Finding<<M as Model>::State>);

/// What an exact fast path decides of `part`, when one applies (the zone test, else the cas
/// chains), and which: a linearization, or a violation shown by the search on the few ops the
/// fast path named (the evidence's part, returned with it). `None` sends the key to the search:
/// no fast path applies, or the search did not find the named ops invalid within its probe's
/// budget.
fn by_fast_path<'p, M: Model>(
    model: &M,
    part: &'p Part<M::Op>,
    order: Order,
) -> Option<(Decided<'p, M>, Procedure)> {
    let Order::RealTime { skew } = order else { return None };
    match zones::decide(model, part, skew) {
        Some(zoned) => Some((by_zones(model, part, order, zoned)?, Procedure::Zones)),
        None => {
            Some((by_zones(model, part, order, chains::decide(model, part, skew)?)?, Procedure::CasChains))
        }
    }
}

/// The decision `zoned` of a fast path on `part`, as a finding (see [`by_fast_path`]).
fn by_zones<'p, M: Model>(
    model: &M,
    part: &'p Part<M::Op>,
    order: Order,
    zoned: zones::Zoned,
) -> Option<Decided<'p, M>> {
    match zoned {
        zones::Zoned::Linearizable(found) => {
            let stats = SearchStats { max_depth: found.len(), ..SearchStats::default() };
            Some((Cow::Borrowed(part), Finding::Search(SearchResult::Linearizable(found), stats)))
        }
        // A small key is searched whole: the explanations then see all of its ops (a lost
        // write is told from a stale read by the other reads that missed it), as they always
        // did. Past this size the whole-key classifiers cost too much, and the ops the zone
        // test named are explained alone.
        zones::Zoned::Violation(_) if part.entries.len() < ZONE_EVIDENCE_FROM => None,
        zones::Zoned::Violation(ops) => {
            let witness = sub_part(part, &ops);
            let finding = decide(model, &witness, order, &Limits::probe());
            let refuted = matches!(
                finding,
                Finding::Cycle(_)
                    | Finding::Conflict(_)
                    | Finding::Search(SearchResult::NotLinearizable(_), _)
            );
            refuted.then_some((Cow::Owned(witness), finding))
        }
    }
}

fn decide<M: Model>(model: &M, part: &Part<M::Op>, order: Order, limits: &Limits<'_>) -> Finding<M::State> {
    let ops: Vec<M::Op> = part.entries.iter().map(|e| e.op.clone()).collect();
    let mut implied = model.implied_order(&ops, part.determinate);
    if !implied.conflicts.is_empty() {
        return Finding::Conflict(implied.conflicts.swap_remove(0));
    }
    let intervals: Vec<graph::Interval> = part.entries.iter().map(|e| (e.invoke, e.complete)).collect();
    let cycle = match order {
        Order::RealTime { skew } if !implied.edges.is_empty() => {
            graph::find_cycle(&intervals, Some(skew), &implied.edges)
        }
        Order::RealTime { .. } => None,
        Order::Process => {
            let mut edges = process_order(&part.entries, part.determinate);
            edges.extend_from_slice(&implied.edges);
            // The write orders and anti-dependencies process order forces: a cycle refutes
            // sequential consistency outright, and the edges prune the search.
            let derived = saturate::saturate(model, &part.entries, part.determinate, &edges);
            edges.extend_from_slice(&derived);
            implied.edges.extend(derived);
            graph::find_cycle(&intervals, None, &edges)
        }
    };
    if let Some(cycle) = cycle {
        return Finding::Cycle(cycle);
    }
    let edges = implied.edges;
    let (found, stats) = match order {
        Order::RealTime { skew } => {
            let twins = interchangeable_crashed_ops(part);
            let ceilings = model.ceilings(&ops);
            wgl::search(
                model,
                &part.entries,
                part.determinate,
                skew,
                wgl::Pruning { edges: &edges, twins: &twins, ceilings: ceilings.as_deref() },
                limits,
            )
        }
        Order::Process => {
            // The search keeps process order itself; the fast path needs it as edges.
            let mut ordered = process_order(&part.entries, part.determinate);
            ordered.extend_from_slice(&edges);
            if let Some(order) = greedy::ordered_witness(model, &part.entries, part.determinate, &ordered) {
                let stats = SearchStats {
                    steps: order.len() as u64,
                    max_depth: order.len(),
                    ..SearchStats::default()
                };
                return Finding::Search(SearchResult::Linearizable(order), stats);
            }
            sequential::search(model, &part.entries, part.determinate, &edges, limits)
        }
    };
    Finding::Search(found, stats)
}

/// Symmetry breaking for the search: of two identical crashed ops, the later-invoked one is
/// only linearized after the earlier. Any linearization using the later one alone can use the
/// earlier instead (it was invoked no later, and neither has a completion to respect), so no
/// verdict changes; the search just stops trying both orders. Not facts about the history, so
/// these never feed cycle detection.
fn interchangeable_crashed_ops<O: Eq + std::hash::Hash>(part: &Part<O>) -> Vec<crate::model::Edge> {
    let mut last: ahash::AHashMap<&O, u32> = ahash::AHashMap::new();
    let mut edges = Vec::new();
    for (i, e) in part.entries.iter().enumerate().skip(part.determinate) {
        if let Some(prev) = last.insert(&e.op, i as u32) {
            edges.push(crate::model::Edge { before: prev, after: i as u32, kind: EdgeKind::Version });
        }
    }
    edges
}

/// A cycle in words: each op and why it must precede the next.
fn cycle_steps(cycle: &Cycle, cite: &dyn Fn(u32) -> OpRef) -> Vec<CycleStep> {
    let ops: Vec<OpRef> = cycle.steps.iter().map(|&(e, _)| cite(e)).collect();
    cycle
        .steps
        .iter()
        .enumerate()
        .map(|(i, &(_, edge))| {
            let (a, b) = (&ops[i], &ops[(i + 1) % ops.len()]);
            let why = match edge {
                EdgeKind::RealTime => format!("index {} completed before index {} began", a.index, b.index),
                EdgeKind::Process => {
                    format!("process {} ran index {} before index {}", a.process, a.index, b.index)
                }
                EdgeKind::ReadsFrom => format!("index {} saw what index {} wrote", b.index, a.index),
                EdgeKind::Version => {
                    format!("the values read show index {}'s write came after index {}'s", b.index, a.index)
                }
                // Not "just before": a set read that lacks an element precedes its add, with
                // other adds possibly in between.
                EdgeKind::AntiDependency => format!(
                    "index {} saw a state from before index {}'s write (the values read show that write came later)",
                    a.index, b.index
                ),
            };
            CycleStep { op: a.clone(), edge, why }
        })
        .collect()
}

/// Puts a failed search's furthest point into words.
fn counterexample<M: Model>(
    model: &M,
    history: &History,
    entries: &[Entry<M::Op>],
    stuck: &Stuck<M::State>,
) -> Counterexample {
    let cite = |entry: u32| {
        let e = &entries[entry as usize];
        OpRef::new(history, e.op_index, model.describe_op(&e.op))
    };
    let why_not = |entry: u32| {
        let op = &entries[entry as usize].op;
        match model.step(&stuck.state, op) {
            None => model.explain(&stuck.state, op),
            Some(_) => format!(
                "{} could take effect here, but every way of continuing from there fails",
                model.describe_op(op)
            ),
        }
    };
    let skip = stuck.prefix.len().saturating_sub(Counterexample::SHOWN_PREFIX);
    Counterexample {
        op: cite(stuck.blocked),
        reason: why_not(stuck.blocked),
        state: model.describe_state(&stuck.state),
        prefix_len: stuck.prefix.len(),
        prefix_tail: stuck.prefix[skip..]
            .iter()
            .map(|(e, s)| LinearStep { op: cite(*e), state_after: model.describe_state(s) })
            .collect(),
        tried: stuck.candidates.iter().map(|&e| TriedOp { op: cite(e), reason: why_not(e) }).collect(),
        prefix: stuck.prefix.iter().map(|(e, _)| entries[*e as usize].op_index).collect(),
    }
}
