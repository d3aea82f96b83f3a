//! Certifies the evidence of an invalid joint check (sequential consistency of all keys
//! together, when each key alone is consistent): each key's part re-derived with that key's
//! rules, and what joins the keys — process order — from the raw processes.
//!
//! - A cycle: process-order edges from the ops' processes; data edges within one key by that
//!   key's rules, or for registers as derived from process order across all keys
//!   ([`super::saturation`], one register per key).
//! - A counterexample: the prefix in process order, replayed key by key (keys do not touch each
//!   other's state, so the joint states are the keys' states combined), and the blocked op
//!   tried in its key's states.
//! - A class: by its key's rules when its ops are of one key; across keys, the register
//!   classes of [`super::sequential`] over all keys.
//! - A witness: brute force over a model of all keys of certification's own.

use super::Refuted;
use super::linear::{
    Coverage, KeyCert, OrderBy, certify_blocked, certify_data_edge, certify_no_order, check_process_order,
    cycle_shape, op_view, prefix_shape,
};
use super::register::RegisterFacts;
use super::saturation::ScView;
use super::told::{MAX_STATES, Told, certify_told};
use super::words::Words;
use crate::history::{History, Outcome, Value};
use crate::model::{DecodeError, EdgeKind, Model, OpView};
use crate::outcome::{ClassInfo, Counterexample, CycleStep, KeyResult, OpRef};
use ahash::AHashSet;
use std::cell::OnceCell;

/// All keys' certifiers, with which key holds each op.
struct Keys<'c, 'a, M: Model> {
    certs: &'c [KeyCert<'a, M>],
    history: &'a History,
    /// The registers' ops of every key together, built when a claim needs them (`None`: the
    /// model is no register).
    view: OnceCell<Option<ScView>>,
}

/// Certifies an invalid joint result's evidence: a cycle, a conflict or a counterexample (with
/// its witness), and its class.
pub(super) fn certify_joint_evidence<'a, M: Model>(
    model: &M,
    history: &'a History,
    certs: &[KeyCert<'a, M>],
    joint: &KeyResult,
    coverage: &mut Coverage,
) -> Result<(), Refuted> {
    let keys = Keys { certs, history, view: OnceCell::new() };
    let name = "the joint check";
    let evidence =
        joint.cycle.is_some() as u8 + joint.conflict.is_some() as u8 + joint.counterexample.is_some() as u8;
    if evidence != 1 {
        return Err(Refuted::new(name, "an invalid result needs exactly one piece of evidence"));
    }
    if let Some(cycle) = &joint.cycle {
        keys.certify_cycle(cycle, &format!("{name}'s cycle"), coverage)?;
    }
    if let Some(c) = &joint.conflict {
        // Each key's conflicts are its own: all of a conflict's ops are of one key.
        let positions: Vec<u32> = c.ops.iter().map(|o| o.position).collect();
        let cert = keys.one_key(&positions, &format!("{name}'s conflict"))?;
        cert.certify_conflict(c, &format!("{name}'s conflict"), coverage)?;
    }
    if let Some(c) = &joint.counterexample {
        keys.certify_counterexample(model, c, &format!("{name}'s counterexample"), coverage)?;
        coverage.certified += 1;
        if let Some(w) = &joint.witness {
            keys.certify_witness(model, w, &format!("{name}'s witness"), coverage)?;
        }
    }
    if let Some(class) = &joint.class {
        keys.certify_class(class, &format!("{name}'s {}", class.kind), coverage)?;
    }
    // The joint check tells each op with its key.
    let describe = |pos: u32| {
        let k = keys.key_of(pos, name).ok()?;
        let key = op_view(history, pos, certs[k].setting.keying).and_then(|(key, ..)| key);
        let key = key.map_or_else(String::new, Value::to_string);
        certs[k].describe(pos).map(|d| format!("{d} (key {key})"))
    };
    let by_index = |i: u64| history.ops.iter().position(|o| o.invoke_index == i).map(|p| p as u32);
    Words { history, describe: &describe, by_index: &by_index }
        .result(joint)
        .map_err(|why| Refuted::new(name, why))
}

impl<'a, M: Model> Keys<'_, 'a, M> {
    /// The index of the key holding the op at `pos`.
    fn key_of(&self, pos: u32, claim: &str) -> Result<usize, Refuted> {
        self.certs
            .iter()
            .position(|c| c.at(pos).is_some())
            .ok_or_else(|| Refuted::new(claim, format!("the op at position {pos} is of no key")))
    }

    /// The one key holding every op at `positions`.
    fn one_key(&self, positions: &[u32], claim: &str) -> Result<&KeyCert<'a, M>, Refuted> {
        let keys: Vec<usize> = positions.iter().map(|&p| self.key_of(p, claim)).collect::<Result<_, _>>()?;
        match keys.split_first() {
            Some((k, rest)) if rest.iter().all(|r| r == k) => Ok(&self.certs[*k]),
            _ => Err(Refuted::new(claim, "its ops are not all of one key")),
        }
    }

    /// Every key's register ops together, one register per key, if the model is a register.
    fn view(&self) -> Option<&ScView> {
        self.view
            .get_or_init(|| {
                let facts: Option<Vec<RegisterFacts>> = self
                    .certs
                    .iter()
                    .map(|c| RegisterFacts::of(c.model_name(), self.history, c.positions, c.setting, &[]))
                    .collect();
                let facts = facts?;
                Some(ScView::of(&facts.iter().collect::<Vec<_>>()))
            })
            .as_ref()
    }

    fn certify_cycle(
        &self,
        cycle: &[CycleStep],
        claim: &str,
        coverage: &mut Coverage,
    ) -> Result<(), Refuted> {
        let completed = |p: u32| self.history.ops[p as usize].outcome == Outcome::Ok;
        cycle_shape(cycle, claim, &|p| self.key_of(p, claim).is_ok() && completed(p))?;
        for (i, step) in cycle.iter().enumerate() {
            let (a, b) = (step.op.position, cycle[(i + 1) % cycle.len()].op.position);
            let (ka, kb) = (self.key_of(a, claim)?, self.key_of(b, claim)?);
            let edge = format!("{claim}: position {a} -{}-> position {b}", step.edge.short());
            match step.edge {
                EdgeKind::Process => {
                    let (oa, ob) = (&self.history.ops[a as usize], &self.history.ops[b as usize]);
                    if !(completed(a) && oa.process == ob.process && a < b) {
                        return Err(Refuted::new(
                            edge,
                            "not a completed op and a later one of the same process",
                        ));
                    }
                }
                EdgeKind::RealTime => {
                    return Err(Refuted::new(edge, "sequential consistency has no such order"));
                }
                _ if ka != kb => return Err(Refuted::new(edge, "a data edge between two keys")),
                data => {
                    let Some(facts) = self.certs[ka].facts() else {
                        coverage.unchecked.push(edge);
                        continue;
                    };
                    let derive = |a, b, kind| self.view().map(|v| v.certify_derived(a, b, kind));
                    if !certify_data_edge(facts, &derive, (a, b, data), &edge, coverage)? {
                        continue;
                    }
                }
            }
            coverage.certified += 1;
        }
        Ok(())
    }

    /// The prefix in process order, each key's part of it a valid order of that key; the
    /// blocked op and the ops tried outside it; and every state and reason told, the words of
    /// all keys as one object (see [`super::told`]).
    fn certify_counterexample(
        &self,
        model: &M,
        c: &Counterexample,
        claim: &str,
        coverage: &mut Coverage,
    ) -> Result<(), Refuted> {
        prefix_shape(c, claim)?;
        let mut seen = AHashSet::with_capacity(c.prefix.len());
        if !c.prefix.iter().all(|p| seen.insert(*p)) {
            return Err(Refuted::new(claim, "the prefix repeats an op"));
        }
        check_process_order(self.history, &c.prefix, claim)?;
        let op = |p: u32| self.certs[self.key_of(p, claim)?].op(p, claim);
        certify_blocked(c, &op, &|p| seen.contains(&p), claim)?;
        // The steps before those shown, key by key (keys do not touch each other's state);
        // the shown ones are followed through all keys as one object.
        let head = c.prefix.len() - c.prefix_tail.len();
        let mut parts: Vec<Vec<u32>> = vec![Vec::new(); self.certs.len()];
        for &p in &c.prefix[..head] {
            parts[self.key_of(p, claim)?].push(p);
        }
        let heads: Vec<Vec<M::State>> = self
            .certs
            .iter()
            .zip(&parts)
            .map(|(cert, part)| cert.replay(part, claim))
            .collect::<Result<_, _>>()?;
        let Some(states) = combinations(&heads) else {
            coverage.unchecked.push(format!("{claim}: its states, too many to follow"));
            return Ok(());
        };
        let decode = |p: u32| {
            let k = self.key_of(p, claim)?;
            Ok((k as u32, self.certs[k].decode_placed(p, claim)?))
        };
        let all = AllKeys::new(model, self.certs, self.history);
        if certify_told(&all, states, c, &decode, claim)? == Told::TooManyStates {
            coverage.unchecked.push(format!("{claim}: its states, too many to follow"));
        }
        Ok(())
    }

    /// A class of one key's ops by that key's rules; across keys, by the register rules.
    fn certify_class(&self, class: &ClassInfo, claim: &str, coverage: &mut Coverage) -> Result<(), Refuted> {
        let ops: Vec<u32> = class.ops.iter().map(|o| o.position).collect();
        if let Ok(cert) = self.one_key(&ops, claim) {
            return cert.certify_class(class, claim, coverage);
        }
        match self.view() {
            Some(view) if super::sequential::knows(class.kind) => {
                super::sequential::certify_class(view, class.kind, &ops)
                    .map_err(|why| Refuted::new(claim, why))?;
                coverage.certified += 1;
            }
            _ => coverage.unchecked.push(format!("{claim}: {}", class.explanation)),
        }
        Ok(())
    }

    /// No order of the witness's ops (crashed ones optional) in process order satisfies every
    /// key's model.
    fn certify_witness(
        &self,
        model: &M,
        witness: &[OpRef],
        claim: &str,
        coverage: &mut Coverage,
    ) -> Result<(), Refuted> {
        let (mut ops, mut keyed) = (Vec::with_capacity(witness.len()), Vec::with_capacity(witness.len()));
        for w in witness {
            let k = self.key_of(w.position, claim)?;
            let op = self.certs[k].op(w.position, claim)?;
            if op.outcome == Outcome::Fail {
                return Err(Refuted::new(claim, format!("the op at position {} failed", op.pos)));
            }
            keyed.push((k as u32, self.certs[k].decode_placed(w.position, claim)?));
            ops.push(op);
        }
        let all = AllKeys::new(model, self.certs, self.history);
        let order_by = OrderBy { process_order: true, skew: 0 };
        certify_no_order(&all, self.history, &ops, &keyed, order_by, claim, coverage)
    }
}

/// Every key as one object: the state is the keys' states, an op acts on its own key's. (The
/// joint search has a model of this shape too; certification keeps its own, sharing no code
/// with the searches it checks.)
///
/// Its words are those the joint check uses: an op with its key, a state as every key's state
/// in the order the keys first appear in the history.
struct AllKeys<'m, M> {
    model: &'m M,
    keys: usize,
    /// Each key as the history writes it, by certifier.
    names: Vec<String>,
    /// The certifiers in the order their keys first appear.
    by_appearance: Vec<usize>,
}

impl<'m, M: Model> AllKeys<'m, M> {
    fn new(model: &'m M, certs: &[KeyCert<'_, M>], history: &History) -> AllKeys<'m, M> {
        let first = |c: &KeyCert<'_, M>| c.positions.first().copied().unwrap_or(u32::MAX);
        let names = certs
            .iter()
            .map(|c| {
                let key = op_view(history, first(c), c.setting.keying).and_then(|(key, ..)| key);
                key.map_or_else(String::new, Value::to_string)
            })
            .collect();
        let mut by_appearance: Vec<usize> = (0..certs.len()).collect();
        by_appearance.sort_by_key(|&k| first(&certs[k]));
        AllKeys { model, keys: certs.len(), names, by_appearance }
    }
}

/// Every way of picking one state from each of `sets`, in order; `None` if there are more
/// than [`MAX_STATES`].
fn combinations<S: Clone>(sets: &[Vec<S>]) -> Option<Vec<Vec<S>>> {
    let mut out = vec![Vec::with_capacity(sets.len())];
    for set in sets {
        if out.len() * set.len() > MAX_STATES {
            return None;
        }
        out = out
            .iter()
            .flat_map(|picked| {
                set.iter().map(move |s| {
                    let mut more = picked.clone();
                    more.push(s.clone());
                    more
                })
            })
            .collect();
    }
    Some(out)
}

impl<M: Model> Model for AllKeys<'_, M> {
    type State = Vec<M::State>;
    type Op = (u32, M::Op);

    fn name(&self) -> &str {
        self.model.name()
    }

    fn init(&self) -> Vec<M::State> {
        vec![self.model.init(); self.keys]
    }

    fn decode(&self, _op: &OpView<'_>) -> Result<Self::Op, DecodeError> {
        Err(DecodeError::new("built from each key's decoded ops"))
    }

    fn step(&self, state: &Vec<M::State>, (key, op): &Self::Op) -> Option<Vec<M::State>> {
        let mut next = state.clone();
        next[*key as usize] = self.model.step(&state[*key as usize], op)?;
        Some(next)
    }

    fn step_all(&self, state: &Vec<M::State>, (key, op): &Self::Op, out: &mut Vec<Vec<M::State>>) {
        let mut nexts = Vec::new();
        self.model.step_all(&state[*key as usize], op, &mut nexts);
        out.extend(nexts.into_iter().map(|s| {
            let mut next = state.clone();
            next[*key as usize] = s;
            next
        }));
    }

    fn describe_op(&self, (key, op): &Self::Op) -> String {
        format!("{} (key {})", self.model.describe_op(op), self.names[*key as usize])
    }

    fn describe_state(&self, state: &Vec<M::State>) -> String {
        let each: Vec<String> = self
            .by_appearance
            .iter()
            .map(|&k| format!("{} {}", self.names[k], self.model.describe_state(&state[k])))
            .collect();
        format!("{{{}}}", each.join(", "))
    }

    fn explain(&self, state: &Vec<M::State>, (key, op): &Self::Op) -> String {
        self.model.explain(&state[*key as usize], op)
    }
}
