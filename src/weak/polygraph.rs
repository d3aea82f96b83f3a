//! The polygraph of a history whose version order is unknown (Papadimitriou 1979), for
//! serializability and, generalized as PolySI does (Huang et al., PVLDB 2023, after Cerone &
//! Gotsman's characterization of snapshot isolation), for snapshot isolation; and its pruning.
//!
//! Known edges are session order and reads-from. For each key, each pair of its writers
//! `w1, w2` is a choice: `w1` before `w2` (then every reader of `w1` reads before `w2`: an
//! anti-dependency `r -> w2`), or the other way round. Under snapshot isolation the graph that
//! must be acyclic is `D ∪ D;RW` (`D` = session order, reads-from, write order; `RW` the
//! anti-dependencies), so a choice adds the composite edges `p -> w2` for each `p` with
//! `p D r` instead of `r -> w2`.
//!
//! Pruning (as Cobra, PolySI and Viper do) decides a choice whose one side closes a cycle with
//! the edges already known, to a fixed point, over a reachability matrix. Every decided choice
//! is forced, so a contradiction is a definite violation. Choices decided in the first round
//! follow from happens-before alone and keep their justification, so a cycle found among them
//! is a witness anyone can check edge by edge.

use super::history::{INIT, TxnId, WeakHistory};
use super::reads::Facts;
use crate::graph::csr::{AnyCycle, Csr, Scope, shortest_cycle_through, strongly_connected};

/// Which polygraph: serializability's, or snapshot isolation's generalized one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Papadimitriou's polygraph: `D ∪ RW` must be acyclic.
    Serializable,
    /// PolySI's generalized polygraph: `D ∪ D;RW` must be acyclic.
    Snapshot,
}

/// A read of another transaction: the reader and the read's index in `facts.reads(reader)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ReadRef {
    /// The reader.
    pub reader: TxnId,
    /// The read's index among the reader's reads of other transactions.
    pub idx: u32,
}

/// Why `p` precedes `r` in `D` (session order or reads-from), for a composite edge.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Pred {
    /// `p` precedes `r` in their session.
    Session,
    /// `r`'s read `idx` reads from `p`.
    Read(u32),
}

/// Why an edge of the known graph holds.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Why {
    /// Session order.
    Session,
    /// The target's read `idx` reads from the source.
    Read(u32),
    /// Write order: the source precedes the target, both write the key `read` reads, because
    /// `read` reads it from the target and the source happens before the reader.
    Commit(ReadRef),
    /// Anti-dependency: the source's read `idx` reads the key from `w1`, which precedes the
    /// target (a writer of the key): because `w1` happens before it (`via` none), or because
    /// `via` reads the key from the target and `w1` happens before `via`.
    Anti { idx: u32, w1: TxnId, via: Option<ReadRef> },
    /// Snapshot isolation's `D;RW`: the source precedes `r` (by `pred`) and `r` has the
    /// anti-dependency `Anti { idx, w1, via }` to the target.
    Composite { r: TxnId, pred: Pred, idx: u32, w1: TxnId, via: Option<ReadRef> },
    /// Forced by a later round of pruning (its justification is not kept).
    Deep,
}

/// A square matrix of bits: `get(a, b)`.
#[derive(Clone)]
pub(crate) struct BitMatrix {
    words: usize,
    bits: Vec<u64>,
}

impl BitMatrix {
    /// An all-zero `n`×`n` matrix.
    pub fn new(n: usize) -> BitMatrix {
        let words = n.div_ceil(64);
        BitMatrix { words, bits: vec![0; words * n] }
    }

    /// Bytes an `n`×`n` matrix takes.
    pub fn bytes(n: usize) -> usize {
        n.div_ceil(64) * n * 8
    }

    /// Bit `(a, b)`.
    pub fn get(&self, a: usize, b: usize) -> bool {
        self.bits[a * self.words + b / 64] >> (b % 64) & 1 == 1
    }

    /// Sets bit `(a, b)`.
    pub fn set(&mut self, a: usize, b: usize) {
        self.bits[a * self.words + b / 64] |= 1 << (b % 64);
    }

    /// How many bits of row `a` are set.
    pub fn row_count(&self, a: usize) -> u32 {
        self.bits[a * self.words..(a + 1) * self.words].iter().map(|w| w.count_ones()).sum()
    }

    /// Row `a` |= row `b`.
    fn or_row(&mut self, a: usize, b: usize) {
        let w = self.words;
        let (lo, hi) = self.bits.split_at_mut(a.max(b) * w);
        let (dst, src) = if a < b {
            (&mut lo[a * w..(a + 1) * w], &hi[..w])
        } else {
            (&mut hi[..w], &lo[b * w..(b + 1) * w])
        };
        for (d, s) in dst.iter_mut().zip(src) {
            *d |= *s;
        }
    }
}

/// One key's writers (each transaction's last write of it), who reads each, and which of
/// their orders are decided.
pub(crate) struct KeyOrder {
    /// The key.
    pub key: u32,
    /// The transactions that write it, by index.
    pub writers: Vec<TxnId>,
    /// Per writer, the reads of its write.
    pub readers: Vec<Vec<ReadRef>>,
    /// The reads of the initial value.
    pub init_readers: Vec<ReadRef>,
    /// `before.get(i, j)`: writer `i` is decided to precede writer `j`.
    pub before: BitMatrix,
}

impl KeyOrder {
    /// Whether the order of writers `i` and `j` is decided.
    pub fn decided(&self, i: usize, j: usize) -> bool {
        self.before.get(i, j) || self.before.get(j, i)
    }
}

/// A contradiction pruning found: no commit order exists.
#[derive(Debug)]
pub(crate) enum Contradiction {
    /// A cycle of edges each decided in the first round, as `(from, to, why)`.
    Witness(Vec<(TxnId, TxnId, Why)>),
    /// A later round found a cycle, or a pair both of whose orders close one: `(key index,
    /// writer, writer)` names the pair when there is one.
    Deep(Option<(usize, TxnId, TxnId)>),
}

/// The polygraph of a history: known edges (session order, reads-from, decided choices) and
/// each key's choices.
pub(crate) struct Polygraph<'a> {
    facts: &'a Facts,
    mode: Mode,
    n: usize,
    /// Each key written by some transaction.
    pub keys: Vec<KeyOrder>,
    /// The known edges, as `(from, to, why)`.
    pub edges: Vec<(TxnId, TxnId, Why)>,
    /// How many edges are session order and reads-from.
    pub base_edges: usize,
    /// Each transaction's predecessors in `D` from session order and reads-from.
    dpreds: Vec<Vec<(TxnId, Pred)>>,
    /// Choices decided so far.
    pub decided: u64,
}

/// Why a choice's other side closes a cycle: a path in the known graph (`Direct`: from the
/// first writer to the second), or through a reader of the second (`Via`).
#[derive(Clone, Copy)]
enum Reason {
    Direct,
    Via(ReadRef),
}

impl<'a> Polygraph<'a> {
    /// The polygraph of `h` (whose reads `facts` matched), with session order, reads-from and
    /// the choices against the initial transaction (which precedes every writer).
    pub fn new(h: &WeakHistory, facts: &'a Facts, mode: Mode) -> Polygraph<'a> {
        let n = h.txn_count();
        let mut edges = Vec::new();
        let mut dpreds: Vec<Vec<(TxnId, Pred)>> = vec![Vec::new(); n];
        for t in 0..n as TxnId {
            if h.position(t) > 0 {
                edges.push((t - 1, t, Why::Session));
                dpreds[t as usize].push((t - 1, Pred::Session));
            }
            for (i, r) in facts.reads(t).iter().enumerate() {
                let new = !dpreds[t as usize].iter().any(|&(p, _)| p == r.writer);
                if r.writer != INIT && r.writer != t && new {
                    edges.push((r.writer, t, Why::Read(i as u32)));
                    dpreds[t as usize].push((r.writer, Pred::Read(i as u32)));
                }
            }
        }
        let base_edges = edges.len();
        let keys = key_orders(h, facts);
        let mut g = Polygraph { facts, mode, n, keys, edges, base_edges, dpreds, decided: 0 };
        for k in 0..g.keys.len() {
            for r in g.keys[k].init_readers.clone() {
                for w in g.keys[k].writers.clone() {
                    g.anti_edges(r, w, INIT, Some(Reason::Direct), None);
                }
            }
        }
        g
    }

    /// How many choices there are (pairs of writers of a key).
    pub fn pairs(&self) -> u64 {
        self.keys
            .iter()
            .map(|k| (k.writers.len() as u64) * (k.writers.len().saturating_sub(1) as u64) / 2)
            .sum()
    }

    /// Bytes pruning needs: the reachability matrix and each key's decision matrix.
    pub fn matrix_bytes(&self) -> usize {
        BitMatrix::bytes(self.n) + self.keys.iter().map(|k| BitMatrix::bytes(k.writers.len())).sum::<usize>()
    }

    /// Prunes to a fixed point: decides every choice one side of which closes a cycle with the
    /// known edges. `rounds` bounds the rounds (each O(e·n/64 + pairs)).
    pub fn prune(&mut self, rounds: u32) -> Result<u32, Contradiction> {
        for round in 0..rounds {
            // The first round sees happens-before alone, so that what it decides is justified by
            // happens-before (and the anti-dependencies from initial reads wait a round).
            let upto = if round == 0 { self.base_edges } else { self.edges.len() };
            let reach = self.closure(upto).map_err(|cycle| self.contradiction(cycle, round))?;
            let forced = self.scan(&reach, round == 0).map_err(|pair| Contradiction::Deep(Some(pair)))?;
            // The first round's closure left out the initial reads' anti-dependencies: the
            // second always runs.
            if forced == 0 && round > 0 {
                return Ok(round + 1);
            }
        }
        self.closure(self.edges.len()).map_err(|_| Contradiction::Deep(None))?;
        Ok(rounds)
    }

    /// A cycle found after round `round`: a witness when only first-round edges exist.
    fn contradiction(&self, cycle: Vec<usize>, round: u32) -> Contradiction {
        if round > 1 {
            return Contradiction::Deep(None);
        }
        Contradiction::Witness(cycle.into_iter().map(|e| self.edges[e]).collect())
    }

    /// The reachability matrix of the first `upto` known edges (a transaction does not reach itself), or a
    /// shortest cycle through some transaction on one, as edge indices.
    fn closure(&self, upto: usize) -> Result<BitMatrix, Vec<usize>> {
        let edges: Vec<(u32, u32, u8)> = self.edges[..upto].iter().map(|&(a, b, _)| (a, b, 0)).collect();
        let g = Csr::from_edges(self.n, &edges);
        let order = topological(&g).ok_or_else(|| self.cycle(&g))?;
        let mut reach = BitMatrix::new(self.n);
        for &v in order.iter().rev() {
            for (s, _) in g.out(v) {
                reach.or_row(v as usize, s as usize);
                reach.set(v as usize, s as usize);
            }
        }
        Ok(reach)
    }

    /// A shortest cycle of `g` (known to have one), as indices into `edges`.
    fn cycle(&self, g: &Csr) -> Vec<usize> {
        let comps = strongly_connected(g);
        let mut size = vec![0u32; comps.count as usize];
        comps.of.iter().for_each(|&c| size[c as usize] += 1);
        let start = (0..self.n as u32).find(|&v| size[comps.of[v as usize] as usize] > 1).unwrap_or(0);
        let c = comps.of[start as usize];
        let allowed = |v: u32| comps.of[v as usize] == c;
        let scope = Scope { graph: g, allowed: &allowed, free_from: u32::MAX };
        let mut steps = u64::MAX;
        let walk = shortest_cycle_through(&scope, start, &AnyCycle, u32::MAX, &mut steps).ok().flatten();
        let walk = walk.unwrap_or_default();
        let mut index: ahash::AHashMap<(TxnId, TxnId), usize> = ahash::AHashMap::new();
        for (i, &(a, b, _)) in self.edges.iter().enumerate() {
            index.entry((a, b)).or_insert(i);
        }
        (0..walk.len()).map(|i| index[&(walk[i].0, walk[(i + 1) % walk.len()].0)]).collect()
    }

    /// One round: decides each open choice one side of which closes a cycle. Returns how many
    /// were decided, or the pair both of whose sides close one.
    fn scan(&mut self, reach: &BitMatrix, first: bool) -> Result<u64, (usize, TxnId, TxnId)> {
        let mut forced = 0;
        for k in 0..self.keys.len() {
            let m = self.keys[k].writers.len();
            for i in 0..m {
                for j in i + 1..m {
                    if self.keys[k].decided(i, j) {
                        continue;
                    }
                    let ij = self.blocked(reach, k, i, j);
                    let ji = self.blocked(reach, k, j, i);
                    let (a, b, why) = match (ij, ji) {
                        (Some(_), Some(_)) => {
                            return Err((k, self.keys[k].writers[i], self.keys[k].writers[j]));
                        }
                        (None, Some(why)) => (i, j, why),
                        (Some(why), None) => (j, i, why),
                        (None, None) => continue,
                    };
                    self.force(reach, k, a, b, first.then_some(why));
                    forced += 1;
                }
            }
        }
        self.decided += forced;
        Ok(forced)
    }

    /// Why writer `i` of key `k` cannot precede writer `j`: the edges that order adds would
    /// close a cycle with the known ones (`reach`). `None` if they would not.
    fn blocked(&self, reach: &BitMatrix, k: usize, i: usize, j: usize) -> Option<Reason> {
        let key = &self.keys[k];
        let (wi, wj) = (key.writers[i] as usize, key.writers[j] as usize);
        if reach.get(wj, wi) {
            return Some(Reason::Direct);
        }
        for &r in &key.readers[i] {
            if r.reader as usize == wj {
                continue;
            }
            let closes = match self.mode {
                Mode::Serializable => reach.get(wj, r.reader as usize),
                Mode::Snapshot => self.dpreds[r.reader as usize]
                    .iter()
                    .any(|&(p, _)| p as usize == wj || reach.get(wj, p as usize)),
            };
            if closes {
                return Some(Reason::Via(r));
            }
        }
        None
    }

    /// Decides that writer `a` of key `k` precedes writer `b`, adding the edges that follows
    /// (those `reach` does not already imply). `why`, in the first round, says why `b` cannot
    /// precede `a`; later edges are [`Why::Deep`].
    fn force(&mut self, reach: &BitMatrix, k: usize, a: usize, b: usize, why: Option<Reason>) {
        self.keys[k].before.set(a, b);
        let (wa, wb) = (self.keys[k].writers[a], self.keys[k].writers[b]);
        if !reach.get(wa as usize, wb as usize) {
            let label = match why {
                Some(Reason::Via(r)) => Why::Commit(r),
                _ => Why::Deep,
            };
            self.edges.push((wa, wb, label));
        }
        for r in std::mem::take(&mut self.keys[k].readers[a]) {
            self.anti_edges(r, wb, wa, why, Some(reach));
            self.keys[k].readers[a].push(r);
        }
    }

    /// The edges of the anti-dependency `r -> to` (`r` reads the key from `w1`, which precedes
    /// `to`): the edge itself, or under snapshot isolation the composites through `r`'s
    /// predecessors. Edges `reach` implies are left out.
    fn anti_edges(
        &mut self,
        r: ReadRef,
        to: TxnId,
        w1: TxnId,
        why: Option<Reason>,
        reach: Option<&BitMatrix>,
    ) {
        if r.reader == to {
            return;
        }
        let implied = |a: TxnId| reach.is_some_and(|m| m.get(a as usize, to as usize));
        let via = match why {
            Some(Reason::Via(v)) => Some(v),
            _ => None,
        };
        let label = |w: Why| if why.is_some() { w } else { Why::Deep };
        match self.mode {
            Mode::Serializable => {
                if !implied(r.reader) {
                    self.edges.push((r.reader, to, label(Why::Anti { idx: r.idx, w1, via })));
                }
            }
            Mode::Snapshot => {
                for &(p, pred) in &self.dpreds[r.reader as usize] {
                    if !implied(p) {
                        let w = Why::Composite { r: r.reader, pred, idx: r.idx, w1, via };
                        self.edges.push((p, to, label(w)));
                    }
                }
            }
        }
    }

    /// The facts the polygraph was built on.
    pub fn facts(&self) -> &Facts {
        self.facts
    }
}

/// A topological order of `g`, or `None` if it has a cycle (Kahn's algorithm).
pub(crate) fn topological(g: &Csr) -> Option<Vec<u32>> {
    let n = g.node_count();
    let mut indegree = vec![0u32; n];
    for v in 0..n as u32 {
        for (s, _) in g.out(v) {
            indegree[s as usize] += 1;
        }
    }
    let mut order: Vec<u32> = (0..n as u32).filter(|&v| indegree[v as usize] == 0).collect();
    let mut next = 0;
    while next < order.len() {
        let v = order[next];
        next += 1;
        for (s, _) in g.out(v) {
            indegree[s as usize] -= 1;
            if indegree[s as usize] == 0 {
                order.push(s);
            }
        }
    }
    (order.len() == n).then_some(order)
}

/// Each written key's writers and their readers.
fn key_orders(h: &WeakHistory, facts: &Facts) -> Vec<KeyOrder> {
    let mut slot: Vec<u32> = vec![u32::MAX; h.keys.len()];
    let mut keys: Vec<KeyOrder> = Vec::new();
    for t in 0..h.txn_count() as TxnId {
        for &(key, _) in facts.writes(t) {
            if slot[key as usize] == u32::MAX {
                slot[key as usize] = keys.len() as u32;
                let (writers, readers, init_readers) = (Vec::new(), Vec::new(), Vec::new());
                keys.push(KeyOrder { key, writers, readers, init_readers, before: BitMatrix::new(0) });
            }
            let k = &mut keys[slot[key as usize] as usize];
            k.writers.push(t);
            k.readers.push(Vec::new());
        }
    }
    for t in 0..h.txn_count() as TxnId {
        for (i, r) in facts.reads(t).iter().enumerate() {
            let Some(k) = keys.get_mut(slot[r.key as usize] as usize) else { continue };
            let read = ReadRef { reader: t, idx: i as u32 };
            if r.writer == INIT {
                k.init_readers.push(read);
            } else if let Ok(w) = k.writers.binary_search(&r.writer) {
                k.readers[w].push(read);
            }
        }
    }
    for k in &mut keys {
        k.before = BitMatrix::new(k.writers.len());
    }
    keys
}
