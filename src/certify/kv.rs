//! The kv store's claims (`kv`), re-derived from the raw strings of one key.
//!
//! A get returns the last put's string (or the initial one) followed by every append since, in
//! order. When a get's string can be spelled in exactly one way as a start (the initial string
//! or a put's) followed by append ops, that spelling is the version order it saw: each write in
//! it came directly before the next (ww), the last is the one the get read (wr), and a write
//! another get shows directly after that last one came after the get (rw). A get no spelling
//! explains read garbage; one whose only spelling uses an append twice shows a duplicate
//! effect; two gets that show different writes directly after the same one conflict.

use super::linear::{Check, ModelFacts, Setting, ensure, raw_ops};
use crate::history::{History, Value};
use crate::model::EdgeKind;
use crate::vocab::ClassKind;
use ahash::AHashMap;

/// Where a spelling starts: the initial string, or the put at this position.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Start {
    Init,
    Put(u32),
}

/// The ways a string can be spelled.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Spelling {
    None,
    /// Exactly one: the start, then the appends (positions), in order.
    One(Start, Vec<u32>),
    Several,
}

enum KvOp {
    Put(String),
    Append(String),
    /// A get that completed with this string.
    Get(String),
    /// A get whose result is unknown.
    Other,
}

pub(super) struct KvFacts {
    ops: AHashMap<u32, (KvOp, bool)>,
    init: String,
    /// Spellings of each completed get, from the ops that did not fail.
    spelled: AHashMap<u32, Spelling>,
    /// Each node (a start, or an append as `Start::Put` of its position) → the writes some
    /// get's unique spelling, without repeats, shows directly after it.
    next: AHashMap<Start, Vec<u32>>,
}

/// The string `v` stands for: a string, or `nil` (`""`).
fn string(v: &Value) -> Option<String> {
    match v {
        Value::Nil => Some(String::new()),
        Value::Str(s) => Some(s.to_string()),
        _ => None,
    }
}

impl KvFacts {
    /// The facts of one key's ops; `None` if an op is not a kv op.
    pub(super) fn of(history: &History, positions: &[u32], setting: &Setting) -> Option<KvFacts> {
        let mut ops = AHashMap::with_capacity(positions.len());
        let mut key = None;
        for o in raw_ops(history, positions, setting.keying)? {
            key = o.key.or(key);
            let op = match o.f {
                "put" => KvOp::Put(string(o.input).filter(|_| !o.input.is_nil())?),
                "append" => KvOp::Append(string(o.input).filter(|_| !o.input.is_nil())?),
                "get" => match o.output {
                    Some(v) if o.completed() => KvOp::Get(string(v)?),
                    _ => KvOp::Other,
                },
                _ => return None,
            };
            ops.insert(o.pos, (op, o.failed()));
        }
        let init = match (&setting.init, key) {
            (Some(Value::Map(entries)), Some(k)) => match entries.iter().rev().find(|(ik, _)| ik == k) {
                Some((_, v)) => string(v)?,
                None => String::new(),
            },
            (Some(Value::Map(_)) | Some(Value::Nil) | None, _) => String::new(),
            (Some(_), _) => return None,
        };
        let mut facts = KvFacts { ops, init, spelled: AHashMap::new(), next: AHashMap::new() };
        let gets: Vec<(u32, String)> = facts
            .ops
            .iter()
            .filter_map(|(&p, (op, _))| match op {
                KvOp::Get(s) => Some((p, s.clone())),
                _ => None,
            })
            .collect();
        let speller = Speller::new(&facts, false);
        let spellings: Vec<(u32, Spelling)> = gets.into_iter().map(|(g, s)| (g, speller.spell(&s))).collect();
        for (g, spelling) in spellings {
            if let Spelling::One(start, chain) = &spelling {
                let mut seen = ahash::AHashSet::new();
                if chain.iter().all(|a| seen.insert(*a)) {
                    let mut prev = *start;
                    for &a in chain {
                        facts.next.entry(prev).or_default().push(a);
                        prev = Start::Put(a);
                    }
                }
            }
            facts.spelled.insert(g, spelling);
        }
        for v in facts.next.values_mut() {
            v.sort_unstable();
            v.dedup();
        }
        Some(facts)
    }

    /// How `s` can be spelled by a start and appends: from the ops that did not fail, or (with
    /// `failed`) from every op.
    fn spell(&self, s: &str, failed: bool) -> Spelling {
        Speller::new(self, failed).spell(s)
    }

    fn op(&self, pos: u32) -> Result<&(KvOp, bool), String> {
        self.ops.get(&pos).ok_or_else(|| format!("position {pos} is not an op of this key"))
    }

    /// A completed get's one spelling, or why it has none.
    fn one(&self, g: u32) -> Result<(Start, &[u32]), String> {
        self.op(g)?;
        match self.spelled.get(&g) {
            Some(Spelling::One(st, chain)) => Ok((*st, chain)),
            Some(_) => Err(format!("the get at position {g} does not spell its string in exactly one way")),
            None => Err(format!("the op at position {g} is not a completed get")),
        }
    }

    /// A completed get's one spelling without repeated appends: the nodes in order.
    fn nodes(&self, g: u32) -> Result<Vec<Start>, String> {
        let (st, chain) = self.one(g)?;
        let mut seen = ahash::AHashSet::new();
        ensure(chain.iter().all(|a| seen.insert(*a)), || "its spelling repeats an append".into())?;
        Ok(std::iter::once(st).chain(chain.iter().map(|&a| Start::Put(a))).collect())
    }

    fn follows(&self, node: Start, b: u32) -> bool {
        self.next.get(&node).is_some_and(|n| n.contains(&b))
    }

    fn garbage(&self, g: u32) -> Check {
        self.op(g)?;
        ensure(self.spelled.get(&g) == Some(&Spelling::None), || {
            "the get is not a completed one, or some start and appends spell its string".into()
        })
    }
}

impl ModelFacts for KvFacts {
    fn certify_edge(&self, a: u32, b: u32, kind: EdgeKind) -> Check {
        match kind {
            EdgeKind::ReadsFrom => {
                let nodes = self.nodes(b)?;
                ensure(nodes.last() == Some(&Start::Put(a)), || {
                    "the first op is not the last write the get's string spells".into()
                })
            }
            EdgeKind::Version => {
                let (op, failed) = self.op(a)?;
                ensure(!failed && matches!(op, KvOp::Put(_) | KvOp::Append(_)), || {
                    "the first op is not a write that may have happened".into()
                })?;
                ensure(self.follows(Start::Put(a), b), || {
                    "no get's string spells the second write directly after the first".into()
                })
            }
            EdgeKind::AntiDependency => {
                let nodes = self.nodes(a)?;
                let last = *nodes.last().expect("a start");
                ensure(self.follows(last, b), || {
                    "no get's string spells the second op directly after the last write the first saw".into()
                })
            }
            _ => Err(format!("a kv store has no {} edges", kind.short())),
        }
    }

    fn certify_conflict(&self, ops: &[u32], kind: Option<ClassKind>, reason: &str) -> Check {
        let shape = match (kind, ops) {
            (Some(ClassKind::GarbageRead), [g]) => self.garbage(*g),
            (Some(ClassKind::DuplicateEffect), [g, d]) => self.duplicate(*g, *d),
            (None, [g1, g2]) if g1 != g2 => {
                let (n1, n2) = (self.nodes(*g1)?, self.nodes(*g2)?);
                let after =
                    |n: &[Start]| -> AHashMap<Start, Start> { n.windows(2).map(|w| (w[0], w[1])).collect() };
                let (a1, a2) = (after(&n1), after(&n2));
                ensure(a1.iter().any(|(x, y)| a2.get(x).is_some_and(|z| z != y)), || {
                    "the gets show no write followed by different writes".into()
                })
            }
            _ => Err(format!("no rule for a {kind:?} conflict of {} ops", ops.len())),
        };
        shape?;
        // The named conflicts quote the first get's string.
        let got = || match self.op(ops[0]) {
            Ok((KvOp::Get(s), _)) => Ok(s),
            _ => Err("the first op is not a completed get".to_string()),
        };
        let told = match kind {
            Some(ClassKind::GarbageRead) => {
                format!("no sequence of puts and appends to this key produces {:?}: nobody wrote it", got()?)
            }
            Some(_) => format!("the value {:?} contains the same append twice, but it was applied once", got()?),
            None => "these gets saw different writes follow the same write: no single order of writes explains both"
                .to_string(),
        };
        super::told_as(reason, &told)
    }

    /// Every class this model's explainers name has a rule: any other is refuted.
    fn knows_class(&self, _kind: ClassKind, _process_order: bool) -> bool {
        true
    }

    fn certify_class(&self, kind: ClassKind, ops: &[u32], _explanation: &str, _process_order: bool) -> Check {
        match (kind, ops) {
            (ClassKind::GarbageRead, [g]) => self.garbage(*g),
            (ClassKind::ReadOfFailedWrite, [g]) => {
                self.garbage(*g)?;
                let KvOp::Get(s) = &self.op(*g)?.0 else { unreachable!("a completed get") };
                ensure(self.spell(s, true) != Spelling::None, || {
                    "even with the failed ops, nothing spells the get's string".into()
                })
            }
            (ClassKind::DuplicateEffect, [g, d]) => self.duplicate(*g, *d),
            _ => Err(format!("no rule for {kind} with {} ops", ops.len())),
        }
    }
}

impl KvFacts {
    /// The get's one spelling uses the append `d` twice.
    fn duplicate(&self, g: u32, d: u32) -> Check {
        let (_, chain) = self.one(g)?;
        ensure(chain.iter().filter(|&&a| a == d).count() >= 2, || {
            "the get's spelling does not use the second op twice".into()
        })
    }
}

/// The starts and appends strings are spelled from.
struct Speller<'a> {
    starts: Vec<(Start, &'a [u8])>,
    /// Append length → append string → the appends of it (positions, ascending).
    appends: AHashMap<usize, AHashMap<&'a [u8], Vec<u32>>>,
    /// Some append is empty: it fits anywhere, any number of times.
    empty_append: bool,
}

impl<'a> Speller<'a> {
    fn new(facts: &'a KvFacts, failed: bool) -> Speller<'a> {
        let mut sp = Speller {
            starts: vec![(Start::Init, facts.init.as_bytes())],
            appends: AHashMap::new(),
            empty_append: false,
        };
        let mut positions: Vec<&u32> = facts.ops.keys().collect();
        positions.sort_unstable();
        for p in positions {
            let (op, f) = &facts.ops[p];
            if *f && !failed {
                continue;
            }
            match op {
                KvOp::Append(a) if a.is_empty() => sp.empty_append = true,
                KvOp::Append(a) => {
                    sp.appends.entry(a.len()).or_default().entry(a.as_bytes()).or_default().push(*p)
                }
                KvOp::Put(v) => sp.starts.push((Start::Put(*p), v.as_bytes())),
                _ => {}
            }
        }
        sp
    }

    fn spell(&self, s: &str) -> Spelling {
        let s = s.as_bytes();
        // ways[i]: how many sequences of appends spell s[i..], capped at 2.
        let mut ways = vec![0u8; s.len() + 1];
        ways[s.len()] = 1;
        for i in (0..s.len()).rev() {
            let mut w = 0usize;
            for (&len, strings) in &self.appends {
                if i + len <= s.len() && ways[i + len] > 0 {
                    if let Some(ps) = strings.get(&s[i..i + len]) {
                        w += ps.len() * usize::from(ways[i + len]);
                    }
                }
            }
            ways[i] = w.min(2) as u8;
        }
        let mut total = 0usize;
        let mut found = None;
        for &(st, b) in &self.starts {
            if s.starts_with(b) && ways[b.len()] > 0 {
                total += usize::from(ways[b.len()]);
                found = Some((st, b.len()));
            }
        }
        match (total, found) {
            (0, _) => Spelling::None,
            (1, Some(_)) if self.empty_append => Spelling::Several,
            (1, Some((st, mut i))) => {
                let mut chain = Vec::new();
                while i < s.len() {
                    let (len, p) = self
                        .appends
                        .iter()
                        .find_map(|(&len, strings)| {
                            let fits = i + len <= s.len() && ways[i + len] > 0;
                            fits.then(|| strings.get(&s[i..i + len]).map(|ps| (len, ps[0])))?
                        })
                        .expect("a unique spelling continues");
                    chain.push(p);
                    i += len;
                }
                Spelling::One(st, chain)
            }
            _ => Spelling::Several,
        }
    }
}
