//! The exact decision left after pruning: each open choice of the polygraph is a SAT variable
//! (batsat, a pure-Rust MiniSat), and acyclicity is enforced lazily. The solver proposes an
//! orientation of the open choices; with the decided ones it gives each key a tournament on
//! its writers. A tournament that is not a total order has a 3-cycle, forbidden by a clause;
//! total orders give a graph of session order, reads-from, consecutive writes and
//! anti-dependencies to the next writer (the rest follow by transitivity), whose shortest
//! cycle — any cycle for serializability, one with no two anti-dependencies in a row for
//! snapshot isolation — is forbidden by a clause over the choices on it. No cycle: the
//! orientation is a witness, and a topological order of the graph is the commit order.
//! Unsatisfiable: no commit order exists.

use super::history::{INIT, TxnId};
use super::polygraph::{BitMatrix, Mode, Polygraph, ReadRef, topological};
use crate::graph::csr::{AnyCycle, Csr, Label, Scope, shortest_cycle_through, strongly_connected};
use ahash::AHashMap;
use batsat::{BasicSolver, Lit, SolverInterface, Var, lbool};
use std::time::Instant;

/// What the solver may spend: rounds of solving plus its conflicts, and a deadline.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Spend {
    /// Steps allowed (a round costs one, each conflict one).
    pub max_steps: u64,
    /// The deadline.
    pub deadline: Option<Instant>,
}

/// How the solving ended.
#[derive(Debug)]
pub(crate) enum Solved {
    /// A commit order: every transaction once.
    Order(Vec<TxnId>),
    /// No orientation is acyclic: the solver refuted `clauses` cycle clauses over these choices
    /// (key index, writer, writer).
    Refuted { clauses: u64, choices: Vec<(usize, TxnId, TxnId)> },
    /// The budget ran out after `rounds` rounds; `why` says which.
    OutOfBudget { rounds: u64, why: &'static str },
}

/// The label of an edge: whether it is an anti-dependency (which snapshot isolation treats
/// apart), and the choice literal that puts it there (`None` for known edges).
#[derive(Clone, Copy)]
struct EdgeLit {
    rw: bool,
    lit: Option<Lit>,
}

/// The open choices as variables: `var(k, i, j)` (`i < j`) is true when writer `i` of key `k`
/// precedes writer `j`.
struct Vars {
    of: Vec<AHashMap<(u32, u32), Var>>,
    pairs: Vec<(usize, u32, u32)>,
}

impl Vars {
    fn new(g: &Polygraph<'_>, solver: &mut BasicSolver) -> Vars {
        let mut of = Vec::with_capacity(g.keys.len());
        let mut pairs = Vec::new();
        for (k, key) in g.keys.iter().enumerate() {
            let mut map = AHashMap::new();
            for i in 0..key.writers.len() {
                for j in i + 1..key.writers.len() {
                    if !key.decided(i, j) {
                        map.insert((i as u32, j as u32), solver.new_var_default());
                        pairs.push((k, i as u32, j as u32));
                    }
                }
            }
            of.push(map);
        }
        Vars { of, pairs }
    }

    /// The literal of "writer `a` precedes writer `b`" of key `k`, if that choice is open.
    fn lit(&self, k: usize, a: u32, b: u32) -> Option<Lit> {
        let (i, j) = (a.min(b), a.max(b));
        self.of[k].get(&(i, j)).map(|&v| Lit::new(v, a < b))
    }
}

/// Decides the polygraph `g` (pruned) within `spend`.
pub(crate) fn solve(g: &Polygraph<'_>, mode: Mode, n: usize, spend: Spend) -> Solved {
    let mut solver = BasicSolver::default();
    if let Some(deadline) = spend.deadline {
        let mut cb = batsat::BasicCallbacks::new();
        cb.set_stop(move || Instant::now() >= deadline);
        solver = batsat::Solver::new(batsat::SolverOpts::default(), cb);
    }
    let vars = Vars::new(g, &mut solver);
    let mut in_clauses = vec![false; vars.pairs.len()];
    let mut clauses = 0u64;
    let mut rounds = 0u64;
    loop {
        if rounds + solver.num_conflicts() >= spend.max_steps {
            return Solved::OutOfBudget { rounds, why: "the step budget ran out" };
        }
        if spend.deadline.is_some_and(|d| Instant::now() >= d) {
            return Solved::OutOfBudget { rounds, why: "the time budget (--timeout) ran out" };
        }
        rounds += 1;
        let result = solver.solve_limited(&[]);
        if result == lbool::FALSE {
            return Solved::Refuted { clauses, choices: used(g, &vars, &in_clauses) };
        }
        if result != lbool::TRUE {
            return Solved::OutOfBudget { rounds, why: "the time budget (--timeout) ran out" };
        }
        let value = |l: Lit| solver.value_lit(l) == lbool::TRUE;
        let (orders, triangles) = key_orders(g, &vars, &value);
        let mut learnt: Vec<Vec<Lit>> = triangles;
        if learnt.is_empty() {
            match cycle_clause(g, mode, n, &orders, &vars, &value) {
                None => return Solved::Order(commit_order(g, mode, n, &orders)),
                Some(clause) => learnt.push(clause),
            }
        }
        for mut clause in learnt {
            for l in &clause {
                // Variables are created from 0 in the order of `pairs`.
                in_clauses[l.var().idx() as usize] = true;
            }
            clauses += 1;
            if clause.is_empty() || !solver.add_clause_reuse(&mut clause) {
                return Solved::Refuted { clauses, choices: used(g, &vars, &in_clauses) };
            }
        }
    }
}

/// The choices some clause used, as (key index, writer, writer).
fn used(g: &Polygraph<'_>, vars: &Vars, in_clauses: &[bool]) -> Vec<(usize, TxnId, TxnId)> {
    (vars.pairs.iter().zip(in_clauses).filter(|(_, used)| **used))
        .map(|(&(k, i, j), _)| (k, g.keys[k].writers[i as usize], g.keys[k].writers[j as usize]))
        .collect()
}

/// Each key's writers in the order the model gives them (as indices), or, for each key whose
/// tournament is not a total order, a clause forbidding one of its 3-cycles.
fn key_orders(g: &Polygraph<'_>, vars: &Vars, value: &dyn Fn(Lit) -> bool) -> (Vec<Vec<u32>>, Vec<Vec<Lit>>) {
    let mut orders = Vec::with_capacity(g.keys.len());
    let mut triangles = Vec::new();
    for (k, key) in g.keys.iter().enumerate() {
        let m = key.writers.len();
        let mut cur = key.before.clone();
        for (&(i, j), &v) in &vars.of[k] {
            let (a, b) = if value(Lit::new(v, true)) { (i, j) } else { (j, i) };
            cur.set(a as usize, b as usize);
        }
        match total_order(&cur, m) {
            Ok(order) => orders.push(order),
            Err((u, v, w)) => {
                let clause = [(u, v), (v, w), (w, u)]
                    .into_iter()
                    .filter_map(|(a, b)| vars.lit(k, a, b).map(|l| !l))
                    .collect();
                triangles.push(clause);
                orders.push(Vec::new());
            }
        }
    }
    (orders, triangles)
}

/// The total order a tournament `cur` (`cur.get(a, b)`: `a` precedes `b`) is, or a 3-cycle
/// `u -> v -> w -> u` of it. A tournament is a total order exactly when its out-degrees are
/// distinct; two equal ones, `u -> v`, give a `w` with `v -> w` and not `u -> w`.
fn total_order(cur: &BitMatrix, m: usize) -> Result<Vec<u32>, (u32, u32, u32)> {
    let mut by_score: Vec<(u32, u32)> = (0..m as u32).map(|v| (cur.row_count(v as usize), v)).collect();
    by_score.sort_unstable_by(|a, b| b.cmp(a));
    for pair in by_score.windows(2) {
        if pair[0].0 == pair[1].0 {
            let (u, v) = if cur.get(pair[0].1 as usize, pair[1].1 as usize) {
                (pair[0].1, pair[1].1)
            } else {
                (pair[1].1, pair[0].1)
            };
            let w = (0..m as u32)
                .find(|&w| {
                    w != u && w != v && cur.get(v as usize, w as usize) && !cur.get(u as usize, w as usize)
                })
                .expect("equal out-degrees leave such a writer");
            return Err((u, v, w));
        }
    }
    Ok(by_score.into_iter().map(|(_, v)| v).collect())
}

/// The graph of the keys' `orders`: session order and reads-from, consecutive writers, and
/// each reader's anti-dependency to the writer after the one it reads. Each edge with the
/// choice literal behind it (known edges have none).
fn order_edges(
    g: &Polygraph<'_>,
    orders: &[Vec<u32>],
    vars: &Vars,
    value: &dyn Fn(Lit) -> bool,
) -> Vec<(u32, u32, EdgeLit)> {
    let mut out: Vec<(u32, u32, EdgeLit)> =
        g.edges[..g.base_edges].iter().map(|&(a, b, _)| (a, b, EdgeLit { rw: false, lit: None })).collect();
    for (k, key) in g.keys.iter().enumerate() {
        let order = &orders[k];
        let Some(&first) = order.first() else { continue };
        anti(&mut out, &key.init_readers, key.writers[first as usize], None);
        for pair in order.windows(2) {
            let lit = vars.lit(k, pair[0], pair[1]).filter(|&l| value(l));
            let (a, b) = (key.writers[pair[0] as usize], key.writers[pair[1] as usize]);
            out.push((a, b, EdgeLit { rw: false, lit }));
            anti(&mut out, &key.readers[pair[0] as usize], b, lit);
        }
    }
    out
}

fn anti(out: &mut Vec<(u32, u32, EdgeLit)>, readers: &[ReadRef], to: TxnId, lit: Option<Lit>) {
    for r in readers.iter().filter(|r| r.reader != to) {
        out.push((r.reader, to, EdgeLit { rw: true, lit }));
    }
}

/// A clause forbidding a shortest forbidden cycle of the orders' graph, or `None` if it has
/// none. Snapshot isolation searches a doubled graph: node `2v` is `v` reached by a
/// dependency, `2v + 1` by an anti-dependency, which may not follow another.
fn cycle_clause(
    g: &Polygraph<'_>,
    mode: Mode,
    n: usize,
    orders: &[Vec<u32>],
    vars: &Vars,
    value: &dyn Fn(Lit) -> bool,
) -> Option<Vec<Lit>> {
    let edges = order_edges(g, orders, vars, value);
    let (nodes, doubled) = match mode {
        Mode::Serializable => (n, edges.iter().map(|&(a, b, _)| (a, b, 0 as Label)).collect::<Vec<_>>()),
        Mode::Snapshot => (2 * n, double(&edges)),
    };
    let csr = Csr::from_edges(nodes, &doubled);
    let comps = strongly_connected(&csr);
    let mut size = vec![0u32; comps.count as usize];
    comps.of.iter().for_each(|&c| size[c as usize] += 1);
    let start = (0..nodes as u32).find(|&v| size[comps.of[v as usize] as usize] > 1)?;
    let c = comps.of[start as usize];
    let allowed = |v: u32| comps.of[v as usize] == c;
    let scope = Scope { graph: &csr, allowed: &allowed, free_from: u32::MAX };
    let mut steps = u64::MAX;
    let walk = shortest_cycle_through(&scope, start, &AnyCycle, u32::MAX, &mut steps).ok()??;
    // The literal of each (doubled) edge, known edges first so that a clause uses them.
    let mut lit_of: AHashMap<(u32, u32), Option<Lit>> = AHashMap::new();
    for (i, &(a, b, _)) in doubled.iter().enumerate() {
        let lit = edges[match mode {
            Mode::Serializable => i,
            Mode::Snapshot => doubled_source(&edges, i),
        }]
        .2
        .lit;
        let entry = lit_of.entry((a, b)).or_insert(lit);
        if lit.is_none() {
            *entry = None;
        }
    }
    let mut clause: Vec<Lit> = (0..walk.len())
        .filter_map(|i| lit_of[&(walk[i].0, walk[(i + 1) % walk.len()].0)])
        .map(|l| !l)
        .collect();
    clause.sort_unstable();
    clause.dedup();
    Some(clause)
}

/// Snapshot isolation's doubled graph: a dependency `a -> b` leaves both `2a` and `2a + 1`
/// for `2b`; an anti-dependency leaves `2a` only, for `2b + 1`. Edge `i` of `edges` gives
/// edges `2i` and `2i + 1` (the second a copy for anti-dependencies).
fn double(edges: &[(u32, u32, EdgeLit)]) -> Vec<(u32, u32, Label)> {
    let mut out = Vec::with_capacity(2 * edges.len());
    for &(a, b, e) in edges {
        if e.rw {
            out.push((2 * a, 2 * b + 1, 1));
            out.push((2 * a, 2 * b + 1, 1));
        } else {
            out.push((2 * a, 2 * b, 0));
            out.push((2 * a + 1, 2 * b, 0));
        }
    }
    out
}

/// The edge of `edges` that doubled edge `i` comes from.
fn doubled_source(_edges: &[(u32, u32, EdgeLit)], i: usize) -> usize {
    i / 2
}

/// A commit order for the acyclic orders' graph: its topological order for serializability;
/// for snapshot isolation, one of `D ∪ D;RW` (each anti-dependency `r -> w` also leaves every
/// `D`-predecessor of `r`), whose topological orders satisfy Biswas & Enea's axioms.
fn commit_order(g: &Polygraph<'_>, mode: Mode, n: usize, orders: &[Vec<u32>]) -> Vec<TxnId> {
    let all = |_: Lit| true;
    let no_vars = Vars { of: vec![AHashMap::new(); g.keys.len()], pairs: Vec::new() };
    let edges = order_edges(g, orders, &no_vars, &all);
    let mut list: Vec<(u32, u32, Label)> = Vec::with_capacity(edges.len());
    if mode == Mode::Snapshot {
        let mut dpreds: Vec<Vec<u32>> = vec![Vec::new(); n];
        for &(a, b, e) in &edges {
            if !e.rw {
                dpreds[b as usize].push(a);
            }
        }
        for &(r, w, e) in &edges {
            if e.rw {
                list.extend(dpreds[r as usize].iter().map(|&p| (p, w, 0)));
            }
        }
    }
    list.extend(edges.iter().filter(|e| mode == Mode::Serializable || !e.2.rw).map(|&(a, b, _)| (a, b, 0)));
    let order = topological(&Csr::from_edges(n, &list)).unwrap_or_else(|| (0..n as u32).collect());
    order.into_iter().filter(|&t| t != INIT).collect()
}
