//! Certifies single-object reports (linearizability and sequential consistency): each valid
//! key's order replayed through the model, each invalid key's evidence re-derived from the raw
//! ops.
//!
//! Only [`Model::decode`], [`Model::init`] and [`Model::step_all`] are used: the sequential
//! specification itself (and, to replay a plain register's order on value ids before the model
//! has the last word, its [`Model::register_init`]). Keys are split, ops viewed and orders checked here, with code of this
//! module's own; the register family's dependency edges and violation classes are re-derived
//! from the raw values in `certify::register` (those of sequential consistency in
//! `certify::saturation` and `certify::sequential`), and the joint check's evidence in
//! `certify::joint`.

use super::Refuted;
use super::counting::CountFacts;
use super::kv::KvFacts;
use super::multi_register::MultiRegisterFacts;
use super::mutex::MutexFacts;
use super::register::RegisterFacts;
use super::saturation::Derivation;
use super::set::SetFacts;
use super::stepper::{RegisterIds, Stepper};
use super::told::{Told, certify_told};
use super::words::Words;
use crate::history::{History, Outcome, Value, ValueId};
use crate::model::{EdgeKind, Model, OpView};
use crate::outcome::Verdict;
use crate::outcome::{
    ClassInfo, ConflictWitness, Consistency, Counterexample, CycleStep, JOINT_KEY, KeyResult, LinearReport,
    OpRef,
};
// Re-exported: a `Setting` names it, and `split` is internal.
pub use crate::split::Keying;
use crate::vocab::ClassKind;
use ahash::{AHashMap, AHashSet};
use rayon::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};

/// How the report was checked: what certification must know to re-derive its claims.
#[derive(Clone, Debug)]
pub struct Setting {
    /// How the history was split into keys.
    pub keying: Keying,
    /// Real-time order's clock-skew tolerance (linearizability).
    pub skew: i64,
    /// Whether a completed read of `nil` was read as "value unknown" (Knossos's reading).
    pub nil_reads_unknown: bool,
    /// The initial state given (`--init`), if any.
    pub init: Option<Value>,
}

/// What certification checked, and the claims it has no rule for yet (they are counted, not
/// refuted: see what is not yet re-derived in docs/certification.md).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Coverage {
    /// Claims re-derived from the raw ops.
    pub certified: usize,
    /// Claims no rule covers, in words.
    pub unchecked: Vec<String>,
}

/// One op of a key, as certification sees it: where it is, how it ended, when, and by whom
/// (the model's op is decoded only when a replay needs it).
#[derive(Clone, Copy, Debug)]
pub(super) struct KeyOp {
    pub(super) pos: u32,
    pub(super) outcome: Outcome,
    pub(super) invoke: i64,
    /// `i64::MAX` unless it completed `:ok`.
    pub(super) complete: i64,
    pub(super) process: u32,
}

impl KeyOp {
    fn of(history: &History, pos: u32) -> KeyOp {
        let o = &history.ops[pos as usize];
        KeyOp {
            pos,
            outcome: o.outcome,
            invoke: o.invoke_time,
            complete: if o.outcome == Outcome::Ok { o.complete_time } else { i64::MAX },
            process: o.process,
        }
    }

    pub(super) fn completed(&self) -> bool {
        self.outcome == Outcome::Ok
    }
}

/// The raw key and per-key input and output of an op under `keying`, or `None` when the op
/// does not have the shape the keying needs.
pub(crate) fn op_view(
    history: &History,
    pos: u32,
    keying: Keying,
) -> Option<(Option<&Value>, &Value, Option<&Value>)> {
    let op = &history.ops[pos as usize];
    let input = history.value(op.input);
    let output = (op.outcome == Outcome::Ok).then(|| history.value(op.output));
    match keying {
        Keying::Single => Some((None, input, output)),
        Keying::KeyField => (op.key != ValueId::NONE).then(|| (Some(history.value(op.key)), input, output)),
        Keying::Tuple => {
            let (k, v) = input.as_tuple()?;
            let out = match output {
                None => None,
                Some(o) => Some(o.as_tuple()?.1),
            };
            Some((Some(k), v, out))
        }
    }
}

/// Checks every claim of `report`, a check of `history` under `model`.
pub fn certify_linear_report<M: Model>(
    model: &M,
    history: &History,
    report: &LinearReport,
    setting: &Setting,
) -> Result<Coverage, Refuted> {
    let mut groups: AHashMap<Option<&Value>, Vec<u32>> = AHashMap::new();
    if setting.keying == Keying::Single {
        groups.insert(None, (0..history.ops.len() as u32).collect());
    }
    for pos in (0..history.ops.len() as u32).filter(|_| setting.keying != Keying::Single) {
        let (key, ..) = op_view(history, pos, setting.keying).ok_or_else(|| {
            Refuted::new(format!("op at position {pos}"), "it does not have the keyed shape")
        })?;
        groups.entry(key).or_default().push(pos);
    }
    let by_name: AHashMap<Option<String>, &Vec<u32>> =
        groups.iter().map(|(k, v)| (k.map(Value::to_string), v)).collect();
    let mut coverage = Coverage::default();
    let verdicts = report.keys.iter().chain(&report.joint).map(|k| k.verdict);
    if Verdict::combine(verdicts) != report.verdict {
        return Err(Refuted::new("the history's verdict", "it is not the worst of its keys' verdicts"));
    }
    let process_order = report.consistency == Consistency::Sequential;
    // Keys are certified on all cores, as they were checked; the first refutation in key
    // order is the one told.
    let one_key = |k: &KeyResult| -> Result<Coverage, Refuted> {
        let ops = by_name
            .get(&k.key)
            .ok_or_else(|| Refuted::new(format!("key {:?}", k.key), "no op of the history has this key"))?;
        let mut coverage = Coverage::default();
        KeyCert::new(model, history, ops, setting, process_order).certify(k, &mut coverage)?;
        Ok(coverage)
    };
    // A lone key stays on this thread: handing it to the pool costs a wake-up for nothing.
    let per_key: Vec<Result<Coverage, Refuted>> = if report.keys.len() == 1 {
        report.keys.iter().map(one_key).collect()
    } else {
        report.keys.par_iter().map(one_key).collect()
    };
    for key in per_key {
        let key = key?;
        coverage.certified += key.certified;
        coverage.unchecked.extend(key.unchecked);
    }
    if let Some(joint) = &report.joint {
        if joint.key.as_deref() != Some(JOINT_KEY) || !process_order {
            return Err(Refuted::new("the joint check", "only sequential consistency checks keys together"));
        }
        certify_joint(model, history, &groups, joint, setting, &mut coverage)?;
    }
    Ok(coverage)
}

/// The joint check of all keys: a valid one's order, replayed key by key, in process order.
fn certify_joint<M: Model>(
    model: &M,
    history: &History,
    groups: &AHashMap<Option<&Value>, Vec<u32>>,
    joint: &KeyResult,
    setting: &Setting,
    coverage: &mut Coverage,
) -> Result<(), Refuted> {
    let certs: Vec<KeyCert<'_, M>> =
        groups.values().map(|ops| KeyCert::new(model, history, ops, setting, true)).collect();
    match joint.verdict {
        Verdict::Valid => {
            let order = joint
                .order
                .as_ref()
                .ok_or_else(|| Refuted::new("the joint check", "valid without an order"))?;
            let in_order: AHashSet<u32> = order.iter().copied().collect();
            for cert in &certs {
                let mine: Vec<u32> = order.iter().copied().filter(|p| cert.at(*p).is_some()).collect();
                cert.certify_order(&mine, "the joint order")?;
            }
            if in_order.len() != order.len()
                || order.iter().any(|p| !certs.iter().any(|c| c.at(*p).is_some()))
            {
                return Err(Refuted::new("the joint order", "it repeats an op or holds one of no key"));
            }
            check_process_order(history, order, "the joint order")?;
            coverage.certified += 1;
        }
        Verdict::Invalid => super::joint::certify_joint_evidence(model, history, &certs, joint, coverage)?,
        Verdict::Unknown => {}
    }
    Ok(())
}

/// A key's ops as the history holds them: where each is, and the model's op it decodes to.
/// Shared by the threads that check a long order (it holds only shared references).
struct KeyOps<'a, M: Model> {
    model: &'a M,
    history: &'a History,
    /// The key's ops' positions in the history, ascending.
    positions: &'a [u32],
    keying: Keying,
}

impl<M: Model> Clone for KeyOps<'_, M> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<M: Model> Copy for KeyOps<'_, M> {}

impl<M: Model> KeyOps<'_, M> {
    /// Where the op at history position `pos` is among the key's ops.
    fn at(&self, pos: u32) -> Option<usize> {
        // A key holding every op of the history (an unkeyed history) holds op p at p.
        if self.positions.len() == self.history.ops.len() {
            return ((pos as usize) < self.positions.len()).then_some(pos as usize);
        }
        self.positions.binary_search(&pos).ok()
    }

    /// The model's op at `pos` (an op of this key); `None` for a failed op the model cannot
    /// decode (it did not happen).
    fn decode(&self, pos: u32) -> Result<Option<M::Op>, Refuted> {
        let o = &self.history.ops[pos as usize];
        let (key, input, output) = op_view(self.history, pos, self.keying).ok_or_else(|| {
            Refuted::new(format!("op at position {pos}"), "it does not have the keyed shape")
        })?;
        let f = self.history.value(o.f).as_name().unwrap_or_default();
        match self.model.decode(&OpView { f, input, output, key }) {
            Ok(op) => Ok(Some(op)),
            Err(_) if o.outcome == Outcome::Fail => Ok(None),
            Err(e) => Err(Refuted::new(format!("op at position {pos}"), e.message)),
        }
    }

    /// The model's op at `pos`, which must have happened (it is placed in an order).
    fn decode_placed(&self, pos: u32, claim: &str) -> Result<M::Op, Refuted> {
        self.decode(pos)?
            .ok_or_else(|| Refuted::new(claim, format!("the op at position {pos} failed, yet is placed")))
    }

    /// One segment of an order, on its own: each op of the key and placed once (as `placed`,
    /// shared by the segments, records), not failed, in real-time order within the segment;
    /// and its ops stepped by `stepper` from `start`, as far as they go.
    ///
    /// `skew` is real time's tolerance; `None` for sequential consistency (no real time).
    fn run_segment<S: Stepper>(
        &self,
        stepper: &S,
        order: &[u32],
        placed: &[AtomicBool],
        skew: Option<i64>,
        start: Vec<S::State>,
        claim: &str,
    ) -> Segment<S::State> {
        let mut real_time = RealTime::new(skew.unwrap_or(0));
        let mut segment = Segment {
            latest: None,
            earliest: None,
            checked: Ok(()),
            start: start.clone(),
            stepped: Ok(start),
        };
        let mut next = Vec::new();
        for &pos in order {
            if let Err(e) = self.check_op(pos, placed, skew, &mut real_time, &mut segment.earliest, claim) {
                segment.checked = Err(e);
                break;
            }
            if let Ok(states) = &mut segment.stepped {
                if let Err(e) = stepper.step(states, &mut next, pos, claim) {
                    segment.stepped = Err(e);
                }
            }
        }
        segment.latest = real_time.latest();
        segment
    }

    /// The checks on one op of an order that do not depend on the model's state.
    fn check_op(
        &self,
        pos: u32,
        placed: &[AtomicBool],
        skew: Option<i64>,
        real_time: &mut RealTime,
        earliest: &mut Option<(i64, u32)>,
        claim: &str,
    ) -> Result<(), Refuted> {
        let i = self.at(pos).ok_or_else(|| {
            Refuted::new(claim, format!("the op at position {pos} is not an op of this key"))
        })?;
        // A load and a store, not a swap (a locked instruction per op): two segments placing
        // one op at the same moment are caught by the count at the end.
        if placed[i].load(Ordering::Relaxed) {
            return Err(Refuted::new(claim, format!("the op at position {pos} is placed twice")));
        }
        placed[i].store(true, Ordering::Relaxed);
        let o = KeyOp::of(self.history, pos);
        if o.outcome == Outcome::Fail {
            return Err(Refuted::new(claim, format!("the op at position {pos} failed, yet is placed")));
        }
        if let Some(skew) = skew {
            real_time.place(&o, claim)?;
            if o.complete != i64::MAX {
                let skewed = o.complete.saturating_add(skew);
                if earliest.is_none_or(|(t, _)| skewed < t) {
                    *earliest = Some((skewed, pos));
                }
            }
        }
        Ok(())
    }
}

/// Any model: each op decoded and stepped through it.
impl<M: Model> Stepper for KeyOps<'_, M> {
    type State = M::State;

    fn init(&self) -> M::State {
        self.model.init()
    }

    /// The last ops before `order[at]` stepped from the initial state, each op that cannot
    /// take effect passed over. Right whenever one of them sets the whole state whatever it
    /// found (a register's write).
    fn guess(&self, order: &[u32], at: usize) -> M::State {
        const LOOK_BACK: usize = 64;
        let mut state = self.model.init();
        let mut out = Vec::new();
        for &pos in &order[at.saturating_sub(LOOK_BACK)..at] {
            let Ok(Some(op)) = self.decode(pos) else { continue };
            out.clear();
            self.model.step_all(&state, &op, &mut out);
            if let Some(s) = out.pop() {
                state = s;
            }
        }
        state
    }

    fn step(
        &self,
        states: &mut Vec<M::State>,
        next: &mut Vec<M::State>,
        pos: u32,
        claim: &str,
    ) -> Result<(), Refuted> {
        let op = self.decode_placed(pos, claim)?;
        step_states(self.model, states, next, &op, pos, claim)
    }
}

/// Steps `states` through `order` (ops of one key), op by op.
fn step_each<S: Stepper>(
    stepper: &S,
    states: &mut Vec<S::State>,
    order: &[u32],
    claim: &str,
) -> Result<(), Refuted> {
    let mut next = Vec::new();
    for &pos in order {
        stepper.step(states, &mut next, pos, claim)?;
    }
    Ok(())
}

/// One key's ops, for certifying its result.
pub(super) struct KeyCert<'a, M: Model> {
    ops: KeyOps<'a, M>,
    model: &'a M,
    history: &'a History,
    /// The key's ops' positions in the history, ascending.
    pub(super) positions: &'a [u32],
    pub(super) setting: &'a Setting,
    process_order: bool,
    /// The positions the key's claims cite (their values are the ones facts index first).
    cited: std::cell::OnceCell<Vec<u32>>,
    /// The model's facts, built once, when a claim needs them.
    facts: std::cell::OnceCell<Option<Box<dyn ModelFacts + 'a>>>,
}

impl<'a, M: Model> KeyCert<'a, M> {
    fn new(
        model: &'a M,
        history: &'a History,
        positions: &'a [u32],
        setting: &'a Setting,
        process_order: bool,
    ) -> KeyCert<'a, M> {
        KeyCert {
            ops: KeyOps { model, history, positions, keying: setting.keying },
            model,
            history,
            positions,
            setting,
            process_order,
            cited: std::cell::OnceCell::new(),
            facts: std::cell::OnceCell::new(),
        }
    }

    /// Where the op at history position `pos` is among the key's ops.
    pub(super) fn at(&self, pos: u32) -> Option<usize> {
        self.ops.at(pos)
    }

    pub(super) fn op(&self, pos: u32, claim: &str) -> Result<KeyOp, Refuted> {
        self.at(pos)
            .map(|_| KeyOp::of(self.history, pos))
            .ok_or_else(|| Refuted::new(claim, format!("the op at position {pos} is not an op of this key")))
    }

    /// The model's op at `pos`, which must have happened (it is placed in an order).
    pub(super) fn decode_placed(&self, pos: u32, claim: &str) -> Result<M::Op, Refuted> {
        self.ops.decode_placed(pos, claim)
    }

    fn certify(&self, k: &KeyResult, coverage: &mut Coverage) -> Result<(), Refuted> {
        let name = match &k.key {
            Some(key) => format!("key {key}"),
            None => "the history".to_string(),
        };
        let cited = k.cycle.iter().flatten().map(|s| &s.op);
        let cited = cited.chain(k.conflict.iter().flat_map(|c| &c.ops));
        let cited = cited.chain(k.class.iter().flat_map(|c| &c.ops));
        let mut cited: Vec<u32> = cited.map(|o| o.position).filter(|&p| self.at(p).is_some()).collect();
        cited.sort_unstable();
        cited.dedup();
        self.cited.set(cited).expect("a key is certified once");
        match k.verdict {
            Verdict::Valid => {
                let order =
                    k.order.as_ref().ok_or_else(|| Refuted::new(&name, "valid, but no order was kept"))?;
                self.certify_order(order, &format!("{name}'s order"))?;
                coverage.certified += 1;
            }
            Verdict::Invalid => {
                let evidence =
                    k.cycle.is_some() as u8 + k.conflict.is_some() as u8 + k.counterexample.is_some() as u8;
                if evidence != 1 {
                    return Err(Refuted::new(&name, "an invalid key needs exactly one piece of evidence"));
                }
                if let Some(cycle) = &k.cycle {
                    self.certify_cycle(cycle, &format!("{name}'s cycle"), coverage)?;
                }
                if let Some(c) = &k.counterexample {
                    self.certify_counterexample(c, &format!("{name}'s counterexample"), coverage)?;
                    coverage.certified += 1;
                }
                if let Some(c) = &k.conflict {
                    self.certify_conflict(c, &format!("{name}'s conflict"), coverage)?;
                }
                if let Some(class) = &k.class {
                    self.certify_class(class, &format!("{name}'s {}", class.kind), coverage)?;
                }
                if let (Some(w), Some(_)) = (&k.witness, &k.counterexample) {
                    self.certify_witness(w, &format!("{name}'s witness"), coverage)?;
                }
            }
            Verdict::Unknown => {
                if k.unknown_reason.is_none() {
                    return Err(Refuted::new(&name, "unknown without a reason"));
                }
            }
        }
        self.certify_words(k).map_err(|why| Refuted::new(&name, why))
    }

    /// The model's words for the op at `pos` (an op of this key), if it decodes.
    pub(super) fn describe(&self, pos: u32) -> Option<String> {
        self.ops.decode(pos).ok().flatten().map(|op| self.model.describe_op(&op))
    }

    /// What the result says in words of its ops is what they are (see [`super::words`]).
    fn certify_words(&self, k: &KeyResult) -> Result<(), String> {
        let describe = |pos: u32| self.describe(pos);
        let by_index =
            |i: u64| self.positions.iter().copied().find(|&p| self.history.ops[p as usize].invoke_index == i);
        Words { history: self.history, describe: &describe, by_index: &by_index }.result(k)
    }

    /// A valid key's order: each op of the key at most once, every completed op in it, no
    /// failed op, the model's steps succeed in turn, and real-time (or process) order holds.
    fn certify_order(&self, order: &[u32], claim: &str) -> Result<(), Refuted> {
        // A plain register's order is first walked on its values' ids; whatever that walk
        // refuses is walked again through the model, whose word is final (and whose refusal
        // is the one told).
        let by_ids = self.register_ids().and_then(|ids| self.walk(&ids, order, true, claim).ok());
        let walked = match by_ids {
            Some(walked) => walked.left_out,
            None => self.walk(&self.ops, order, true, claim)?.left_out,
        };
        if let Some(pos) = walked {
            return Err(Refuted::new(claim, format!("the completed op at position {pos} is left out")));
        }
        if self.process_order { check_process_order(self.history, order, claim) } else { Ok(()) }
    }

    /// Walks `order` (ops of this key, each at most once, none failed, in real-time order under
    /// linearizability) through the model from its initial state: the states reached, every
    /// state a nondeterministic op may lead to followed, and which of the key's ops it placed.
    ///
    /// A long order is walked in segments on all cores, each from a guess at the state before
    /// it (see `KeyOps::guess_state`). The segments are then joined in order: a segment whose
    /// guess is the state the walk actually reached there stands as walked; one whose guess
    /// was wrong is stepped again from the right state. So the result is that of one walk from
    /// the initial state, whatever the guesses; right guesses only make it parallel. Real time
    /// across segments is checked from each one's latest invocation and earliest completion.
    ///
    /// With `whole`, the first completed op the order leaves out (by position) is looked for
    /// too, on all cores: only the ops left out are looked at again.
    fn walk<S: Stepper>(
        &self,
        stepper: &S,
        order: &[u32],
        whole: bool,
        claim: &str,
    ) -> Result<Walked<S::State>, Refuted> {
        const SEGMENT: usize = 1 << 13;
        let placed: Vec<AtomicBool> = (0..self.positions.len()).map(|_| AtomicBool::new(false)).collect();
        let skew = (!self.process_order).then_some(self.setting.skew);
        let keyed = self.ops;
        let run = |(j, segment): (usize, &[u32])| {
            let start = if j == 0 { stepper.init() } else { stepper.guess(order, j * SEGMENT) };
            keyed.run_segment(stepper, segment, &placed, skew, vec![start], claim)
        };
        let segments: Vec<Segment<S::State>> = if order.len() <= SEGMENT {
            vec![run((0, order))]
        } else {
            order.par_chunks(SEGMENT).enumerate().map(run).collect()
        };
        let mut states = vec![stepper.init()];
        let mut latest: Option<(i64, u32)> = None;
        for (j, segment) in segments.into_iter().enumerate() {
            segment.checked?;
            if let (Some((invoke, by)), Some((complete, pos))) = (latest, segment.earliest) {
                if complete < invoke {
                    return Err(completed_before(claim, pos, by));
                }
            }
            latest = latest.max(segment.latest);
            if segment.start == states {
                states = segment.stepped?;
                continue;
            }
            // The guess was wrong: this segment's ops again, from the state reached.
            step_each(
                stepper,
                &mut states,
                &order[j * SEGMENT..(j * SEGMENT + SEGMENT).min(order.len())],
                claim,
            )?;
        }
        // The key's ops the order left out, counted (and, for a whole order, looked at) on all
        // cores: each op left out costs a load of its record.
        // Every op's outcome is loaded, placed or not: a load per op costs less than a branch
        // on the flag, which half the ops of a history with many failed ops mispredict.
        let scan = |(c, flags): (usize, &[AtomicBool])| {
            let positions = &keyed.positions[c * SEGMENT..c * SEGMENT + flags.len()];
            let (mut unplaced, mut left_out) = (0, None);
            for (flag, &pos) in flags.iter().zip(positions) {
                let free = !flag.load(Ordering::Relaxed);
                unplaced += free as usize;
                let ok = whole && keyed.history.ops[pos as usize].outcome == Outcome::Ok;
                if free & ok && left_out.is_none() {
                    left_out = Some(pos);
                }
            }
            (unplaced, left_out)
        };
        let scanned: Vec<(usize, Option<u32>)> = placed.par_chunks(SEGMENT).enumerate().map(scan).collect();
        let unplaced: usize = scanned.iter().map(|(n, _)| n).sum();
        if self.positions.len() - unplaced != order.len() {
            // Two segments placed the same op at the same moment: name it.
            return Err(placed_twice(order, claim));
        }
        let left_out = scanned.iter().find_map(|(_, pos)| *pos);
        Ok(Walked { states, placed, left_out })
    }

    /// Steps the model through `order` (ops of this key) from its initial state, every state a
    /// nondeterministic op may lead to followed; returns the states reached.
    pub(super) fn replay(&self, order: &[u32], claim: &str) -> Result<Vec<M::State>, Refuted> {
        if let Some(pos) = order.iter().find(|&&pos| self.at(pos).is_none()) {
            return Err(Refuted::new(claim, format!("the op at position {pos} is not an op of this key")));
        }
        let mut states = vec![self.model.init()];
        step_each(&self.ops, &mut states, order, claim)?;
        Ok(states)
    }

    /// The longest prefix: a valid order of its own; the blocked op, completed, and the ops
    /// tried, none of them in it; and every state and reason told, the model's own words
    /// (see [`super::told`]).
    fn certify_counterexample(
        &self,
        c: &Counterexample,
        claim: &str,
        coverage: &mut Coverage,
    ) -> Result<(), Refuted> {
        prefix_shape(c, claim)?;
        let walked = self.walk(&self.ops, &c.prefix, false, claim)?;
        if self.process_order {
            check_process_order(self.history, &c.prefix, claim)?;
        }
        let in_prefix = |pos: u32| self.at(pos).is_some_and(|i| walked.placed[i].load(Ordering::Relaxed));
        certify_blocked(c, &|pos| self.op(pos, claim), &in_prefix, claim)?;
        let head = c.prefix.len() - c.prefix_tail.len();
        let states = if head == c.prefix.len() {
            walked.states
        } else {
            self.walk(&self.ops, &c.prefix[..head], false, claim)?.states
        };
        let decode = |pos: u32| self.decode_placed(pos, claim);
        if certify_told(self.model, states, c, &decode, claim)? == Told::TooManyStates {
            coverage.unchecked.push(format!("{claim}: its states, too many to follow"));
        }
        Ok(())
    }

    /// The stepper on value ids, for the plain register model (no cas) over whole values,
    /// started from the model's own initial state (as [`Model::register_init`] gives it).
    fn register_ids(&self) -> Option<RegisterIds<'a>> {
        let init = self.model.register_init().filter(|_| self.model.name() == "register")?;
        (self.setting.keying != Keying::Tuple).then(|| RegisterIds::new(self.history, init))
    }

    /// The rules that re-derive this model's data edges, conflicts and classes, if it has any;
    /// built once per key, when a claim needs them.
    pub(super) fn facts(&self) -> Option<&dyn ModelFacts> {
        self.facts.get_or_init(|| self.build_facts()).as_deref()
    }

    fn build_facts(&self) -> Option<Box<dyn ModelFacts + 'a>> {
        let (h, s, pos) = (self.history, self.setting, self.positions);
        let boxed = |f: Option<_>| f.map(|f| Box::new(f) as Box<dyn ModelFacts>);
        match self.model.name() {
            "register" | "cas-register" => boxed(RegisterFacts::of(
                self.model.name(),
                h,
                pos,
                s,
                self.cited.get().map_or(&[], Vec::as_slice),
            )),
            "set" => SetFacts::of(h, pos, s).map(|f| Box::new(f) as Box<dyn ModelFacts>),
            "counter" | "unordered-queue" | "fifo-queue" => {
                CountFacts::of(self.model.name(), h, pos, s).map(|f| Box::new(f) as Box<dyn ModelFacts>)
            }
            "kv" => KvFacts::of(h, pos, s).map(|f| Box::new(f) as Box<dyn ModelFacts>),
            "mutex" => {
                MutexFacts::of(h, pos, s, self.process_order).map(|f| Box::new(f) as Box<dyn ModelFacts>)
            }
            "multi-register" => MultiRegisterFacts::of(h, pos, s).map(|f| Box::new(f) as Box<dyn ModelFacts>),
            _ => None,
        }
    }

    pub(super) fn model_name(&self) -> &str {
        self.model.name()
    }

    /// Each edge of a cycle re-derived: real-time and process order from the ops' times and
    /// processes; data edges from the register family's values.
    fn certify_cycle(
        &self,
        cycle: &[CycleStep],
        claim: &str,
        coverage: &mut Coverage,
    ) -> Result<(), Refuted> {
        cycle_shape(cycle, claim, &|p| self.op(p, claim).is_ok_and(|o| o.completed()))?;
        let facts = self.facts();
        for (i, step) in cycle.iter().enumerate() {
            let next = &cycle[(i + 1) % cycle.len()];
            let (a, b) = (self.op(step.op.position, claim)?, self.op(next.op.position, claim)?);
            let edge = format!("{claim}: position {} -{}-> position {}", a.pos, step.edge.short(), b.pos);
            match step.edge {
                EdgeKind::RealTime if !self.process_order => {
                    if !(a.completed() && a.complete.saturating_add(self.setting.skew) < b.invoke) {
                        return Err(Refuted::new(edge, "the first did not complete before the second began"));
                    }
                }
                EdgeKind::Process if self.process_order => {
                    if !(a.completed() && a.process == b.process && a.pos < b.pos) {
                        return Err(Refuted::new(
                            edge,
                            "not a completed op and a later one of the same process",
                        ));
                    }
                }
                EdgeKind::RealTime | EdgeKind::Process => {
                    return Err(Refuted::new(edge, "this consistency level has no such order"));
                }
                data => {
                    let Some(f) = facts.as_ref() else {
                        coverage.unchecked.push(edge);
                        continue;
                    };
                    // Only sequential consistency derives edges from process order.
                    let derive = |a, b, kind| {
                        if self.process_order { f.certify_derived_edge(a, b, kind) } else { None }
                    };
                    if !certify_data_edge(*f, &derive, (a.pos, b.pos, data), &edge, coverage)? {
                        continue;
                    }
                }
            }
            coverage.certified += 1;
        }
        Ok(())
    }

    pub(super) fn certify_conflict(
        &self,
        c: &ConflictWitness,
        claim: &str,
        coverage: &mut Coverage,
    ) -> Result<(), Refuted> {
        for op in &c.ops {
            self.op(op.position, claim)?;
        }
        match self.facts() {
            Some(f) => {
                let ops: Vec<u32> = c.ops.iter().map(|o| o.position).collect();
                f.certify_conflict(&ops, c.kind, &c.reason).map_err(|why| Refuted::new(claim, why))?;
                coverage.certified += 1;
                if !f.rewords_conflicts() {
                    coverage.unchecked.push(format!("{claim}'s sentence: {}", c.reason));
                }
            }
            None => coverage.unchecked.push(format!("{claim}: {}", c.reason)),
        }
        Ok(())
    }

    pub(super) fn certify_class(
        &self,
        class: &ClassInfo,
        claim: &str,
        coverage: &mut Coverage,
    ) -> Result<(), Refuted> {
        let ops: Vec<u32> = class.ops.iter().map(|o: &OpRef| o.position).collect();
        for &p in &ops {
            self.op(p, claim)?;
        }
        match self.facts() {
            Some(f) if f.knows_class(class.kind, self.process_order) => {
                f.certify_class(class.kind, &ops, &class.explanation, self.process_order)
                    .map_err(|why| Refuted::new(claim, why))?;
                coverage.certified += 1;
            }
            _ => coverage.unchecked.push(format!("{claim}: {}", class.explanation)),
        }
        Ok(())
    }

    /// A witness is re-checked by the oracle: no order of its ops (crashed ones optional)
    /// satisfies the model and real-time (or process) order. Witnesses of more than
    /// [`super::oracle::MAX_SEARCH_OPS`] ops, or whose search runs past its budget, are left
    /// unchecked.
    fn certify_witness(
        &self,
        witness: &[OpRef],
        claim: &str,
        coverage: &mut Coverage,
    ) -> Result<(), Refuted> {
        let mut ops = Vec::with_capacity(witness.len());
        for w in witness {
            let o = self.op(w.position, claim)?;
            if o.outcome == Outcome::Fail {
                return Err(Refuted::new(claim, format!("the op at position {} failed", o.pos)));
            }
            ops.push(o);
        }
        let decoded: Vec<M::Op> =
            ops.iter().map(|o| self.decode_placed(o.pos, claim)).collect::<Result<_, _>>()?;
        let order_by = OrderBy { process_order: self.process_order, skew: self.setting.skew };
        certify_no_order(self.model, self.history, &ops, &decoded, order_by, claim, coverage)
    }
}

/// The order a witness's ops must keep: real time with a skew, or each process's order.
#[derive(Clone, Copy)]
pub(super) struct OrderBy {
    pub(super) process_order: bool,
    pub(super) skew: i64,
}

/// A witness (`ops`, decoded as `decoded`) admits no order: the oracle's search finds none.
/// Witnesses of more than [`super::oracle::MAX_SEARCH_OPS`] ops, or whose search runs past its
/// budget, are left unchecked.
pub(super) fn certify_no_order<M: Model>(
    model: &M,
    history: &History,
    ops: &[KeyOp],
    decoded: &[M::Op],
    order_by: OrderBy,
    claim: &str,
    coverage: &mut Coverage,
) -> Result<(), Refuted> {
    use super::oracle::{MAX_CONFIGS, MAX_SEARCH_OPS, Search};
    if ops.len() > MAX_SEARCH_OPS {
        coverage.unchecked.push(format!("{claim}: {} ops, too many for the brute-force oracle", ops.len()));
        return Ok(());
    }
    let oracle_ops = ops_for_oracle(ops, decoded);
    let order =
        match super::oracle::search(model, &oracle_ops, order_by.process_order, order_by.skew, MAX_CONFIGS) {
            Search::NoOrder => {
                coverage.certified += 1;
                return Ok(());
            }
            Search::OutOfBudget => {
                coverage.unchecked.push(format!(
                    "{claim}: {} ops, past the brute-force oracle's budget of {MAX_CONFIGS} configurations",
                    ops.len()
                ));
                return Ok(());
            }
            Search::Order(order) => order,
        };
    let cite = |pos: u32| {
        let o = &history.ops[pos as usize];
        format!("index {} ({})", o.invoke_index, history.f_name(o))
    };
    let all: Vec<String> = ops.iter().map(|o| cite(o.pos)).collect();
    let order: Vec<String> = order.iter().map(|&i| cite(ops[i].pos)).collect();
    Err(Refuted::new(claim, format!("its ops [{}] can be ordered: {}", all.join(", "), order.join(", "))))
}

/// A cycle has two ops or more, each once, and one of them (by `completed`) certainly happened.
pub(super) fn cycle_shape(
    cycle: &[CycleStep],
    claim: &str,
    completed: &dyn Fn(u32) -> bool,
) -> Result<(), Refuted> {
    if cycle.len() < 2 {
        return Err(Refuted::new(claim, "a cycle needs two ops"));
    }
    let mut distinct = AHashSet::new();
    if !cycle.iter().all(|s| distinct.insert(s.op.position)) {
        return Err(Refuted::new(claim, "an op appears twice"));
    }
    if !cycle.iter().any(|s| completed(s.op.position)) {
        return Err(Refuted::new(claim, "no op of the cycle certainly happened"));
    }
    Ok(())
}

/// How an edge sequential consistency derives from process order is certified (`None`: the
/// model, or the level, derives none).
pub(super) type Derive<'d> = dyn Fn(u32, u32, EdgeKind) -> Option<Derivation> + 'd;

/// A data edge `(a, b, kind)` of a cycle, by the model's rules: from the values alone, or as
/// `derive` says. `Ok(false)`: left unchecked, noted in `coverage`.
pub(super) fn certify_data_edge(
    facts: &dyn ModelFacts,
    derive: &Derive<'_>,
    (a, b, kind): (u32, u32, EdgeKind),
    edge: &str,
    coverage: &mut Coverage,
) -> Result<bool, Refuted> {
    let why = match facts.certify_edge(a, b, kind) {
        Ok(()) => return Ok(true),
        Err(why) => why,
    };
    // Sequential consistency also orders a register's writes by what process order forces.
    match derive(a, b, kind) {
        Some(Derivation::Certified) => Ok(true),
        Some(Derivation::Unchecked(bound)) => {
            coverage.unchecked.push(format!("{edge} (derived from process order: {bound})"));
            Ok(false)
        }
        Some(Derivation::Refuted(derived)) => {
            Err(Refuted::new(edge, format!("{why}; nor does process order derive it: {derived}")))
        }
        None => Err(Refuted::new(edge, why)),
    }
}

/// A counterexample's prefix is as long as stated and ends in the steps shown (an op it repeats
/// is refuted where the prefix is walked).
pub(super) fn prefix_shape(c: &Counterexample, claim: &str) -> Result<(), Refuted> {
    if c.prefix.len() != c.prefix_len {
        return Err(Refuted::new(claim, "the prefix's length is not the one stated"));
    }
    let tail = c.prefix.len().saturating_sub(c.prefix_tail.len());
    if c.prefix[tail..].iter().zip(&c.prefix_tail).any(|(p, s)| *p != s.op.position) {
        return Err(Refuted::new(claim, "the steps shown are not the prefix's last"));
    }
    Ok(())
}

/// The blocked op completed and is not in the prefix; each op tried is one of the object's
/// (`op` finds it), did not fail, and is neither in the prefix nor the blocked op.
pub(super) fn certify_blocked(
    c: &Counterexample,
    op: &dyn Fn(u32) -> Result<KeyOp, Refuted>,
    in_prefix: &dyn Fn(u32) -> bool,
    claim: &str,
) -> Result<(), Refuted> {
    let blocked = op(c.op.position)?;
    if !blocked.completed() || in_prefix(blocked.pos) {
        return Err(Refuted::new(claim, "the blocked op did not complete, or is in the prefix"));
    }
    for t in &c.tried {
        let tried = op(t.op.position)?;
        if tried.outcome == Outcome::Fail || in_prefix(tried.pos) || tried.pos == blocked.pos {
            return Err(Refuted::new(
                claim,
                format!(
                    "the op tried at position {} failed, is in the prefix, or is the blocked op",
                    tried.pos
                ),
            ));
        }
    }
    Ok(())
}

/// A model's own rules for the claims its values support: dependency edges, conflicts and named
/// violations, each re-derived from the raw ops of one key. A claim of a shape a rule does not
/// know is refuted, never accepted.
pub(super) trait ModelFacts {
    /// A data edge `a → b` (`wr`, `ww`, `rw`) of a cycle.
    fn certify_edge(&self, a: u32, b: u32, kind: EdgeKind) -> Check;
    /// A conflict: ops that cannot all have happened as observed.
    /// `reason` is the conflict's sentence: it is re-worded from the values and compared, when
    /// [`ModelFacts::rewords_conflicts`] says so.
    fn certify_conflict(&self, ops: &[u32], kind: Option<ClassKind>, reason: &str) -> Check;
    /// Whether [`ModelFacts::certify_conflict`] checks a conflict's sentence (the models whose
    /// searches never claim a conflict have rules for their ops only).
    fn rewords_conflicts(&self) -> bool {
        true
    }
    /// Whether a class of this name has a rule here (others are counted, not checked).
    fn knows_class(&self, kind: ClassKind, process_order: bool) -> bool;
    /// A named violation, by its defining pattern over the cited ops (and, where the ops do
    /// not say it all, which variant the explanation states).
    fn certify_class(&self, kind: ClassKind, ops: &[u32], explanation: &str, process_order: bool) -> Check;
    /// A data edge sequential consistency derives from process order (saturation), when the
    /// values alone do not give it; `None` when this model has no such edges.
    fn certify_derived_edge(&self, _a: u32, _b: u32, _kind: EdgeKind) -> Option<Derivation> {
        None
    }
}

/// A rule's verdict: `Err` says why the claim does not hold.
pub(super) type Check = Result<(), String>;

/// `Ok` if `ok`, else why not.
pub(super) fn ensure(ok: bool, why: impl FnOnce() -> String) -> Check {
    if ok { Ok(()) } else { Err(why()) }
}

/// One op of a key as the rules read it: the raw values, outcome, times and process.
pub(super) struct RawOp<'h> {
    pub pos: u32,
    pub f: &'h str,
    pub key: Option<&'h Value>,
    pub input: &'h Value,
    /// The completion's value, only for an op that completed `:ok`.
    pub output: Option<&'h Value>,
    pub outcome: Outcome,
    pub invoke: i64,
    /// `i64::MAX` unless it completed `:ok` (a failed op's is kept in `failed_at`).
    pub complete: i64,
    /// When a `:fail` op was reported failed (`i64::MAX` otherwise).
    pub failed_at: i64,
    pub process: u32,
}

impl RawOp<'_> {
    pub fn completed(&self) -> bool {
        self.outcome == Outcome::Ok
    }
    pub fn failed(&self) -> bool {
        self.outcome == Outcome::Fail
    }
}

/// The raw ops at `positions`, viewed under the keying; `None` if one lacks the keyed shape.
pub(super) fn raw_ops<'h>(history: &'h History, positions: &[u32], keying: Keying) -> Option<Vec<RawOp<'h>>> {
    positions
        .iter()
        .map(|&pos| {
            let o = &history.ops[pos as usize];
            let (key, input, output) = op_view(history, pos, keying)?;
            Some(RawOp {
                pos,
                f: history.value(o.f).as_name().unwrap_or_default(),
                key,
                input,
                output,
                outcome: o.outcome,
                invoke: o.invoke_time,
                complete: if o.outcome == Outcome::Ok { o.complete_time } else { i64::MAX },
                failed_at: if o.outcome == Outcome::Fail { o.complete_time } else { i64::MAX },
                process: o.process,
            })
        })
        .collect()
}

fn ops_for_oracle<'o, O>(ops: &[KeyOp], decoded: &'o [O]) -> Vec<super::oracle::OracleOp<'o, O>> {
    ops.iter()
        .zip(decoded)
        .map(|(o, op)| super::oracle::OracleOp {
            op,
            invoke: o.invoke,
            complete: o.complete,
            process: o.process,
            position: o.pos,
        })
        .collect()
}

/// Real-time order, checked op by op along an order: no op comes after one invoked after it
/// completed (allowing for skew).
struct RealTime {
    skew: i64,
    /// The latest invocation placed so far (`i64::MIN` before the first), and its op's
    /// position.
    invoke: i64,
    by: u32,
}

impl RealTime {
    fn new(skew: i64) -> RealTime {
        RealTime { skew, invoke: i64::MIN, by: 0 }
    }

    /// The latest invocation placed so far, and its op's position.
    fn latest(&self) -> Option<(i64, u32)> {
        (self.invoke != i64::MIN).then_some((self.invoke, self.by))
    }

    fn place(&mut self, o: &KeyOp, claim: &str) -> Result<(), Refuted> {
        if o.complete != i64::MAX && o.complete.saturating_add(self.skew) < self.invoke {
            return Err(completed_before(claim, o.pos, self.by));
        }
        // Selects, not a branch: along an order, whether an op was invoked after all before
        // it is a coin toss, and a mispredicted branch waits on the load of the op.
        let later = o.invoke > self.invoke;
        self.by = if later { o.pos } else { self.by };
        self.invoke = self.invoke.max(o.invoke);
        Ok(())
    }
}

/// `states` after `op` (at `pos`) takes effect in any of them, every state a nondeterministic
/// op may lead to followed (up to a bound); refuted if it can take effect in none.
fn step_states<M: Model>(
    model: &M,
    states: &mut Vec<M::State>,
    next: &mut Vec<M::State>,
    op: &M::Op,
    pos: u32,
    claim: &str,
) -> Result<(), Refuted> {
    const MAX_STATES: usize = 4096;
    next.clear();
    if let [only] = states.as_slice() {
        // The usual case, one state: nothing to deduplicate.
        model.step_all(only, op, next);
        if next.len() == 1 {
            std::mem::swap(states, next);
            return Ok(());
        }
    } else {
        for s in states.iter() {
            model.step_all(s, op, next);
        }
    }
    if next.is_empty() {
        return Err(Refuted::new(
            claim,
            format!("{} (position {pos}) cannot take effect there", model.describe_op(op)),
        ));
    }
    let mut seen = AHashSet::with_capacity(next.len());
    next.retain(|s| seen.insert(s.clone()));
    next.truncate(MAX_STATES);
    std::mem::swap(states, next);
    Ok(())
}

/// The refutation of an order that places `by` before `pos`, though `pos` completed before
/// `by` began.
fn completed_before(claim: &str, pos: u32, by: u32) -> Refuted {
    Refuted::new(
        claim,
        format!("the op at position {pos} completed before the op at position {by}, placed before it, began"),
    )
}

/// The refutation of an order that places an op twice, naming the first repeated.
fn placed_twice(order: &[u32], claim: &str) -> Refuted {
    let mut seen = AHashSet::with_capacity(order.len());
    match order.iter().find(|p| !seen.insert(**p)) {
        Some(pos) => Refuted::new(claim, format!("the op at position {pos} is placed twice")),
        // Not reached (the count differs only when an op repeats), but never a position it is not.
        None => Refuted::new(claim, "it places fewer distinct ops than it holds"),
    }
}

/// An order walked through the model (see `KeyCert::walk`).
struct Walked<S> {
    /// The states reached.
    states: Vec<S>,
    /// Which of the key's ops (by index among them) the order places.
    placed: Vec<AtomicBool>,
    /// The first completed op (by position) the order leaves out, when asked for.
    left_out: Option<u32>,
}

/// A segment of an order, walked on its own (see `KeyCert::walk`).
struct Segment<S> {
    /// The latest invocation in the segment, and its op's position.
    latest: Option<(i64, u32)>,
    /// The earliest completion in the segment (plus the skew allowed), and its op's position.
    earliest: Option<(i64, u32)>,
    /// The checks that do not depend on the model's state.
    checked: Result<(), Refuted>,
    /// The states the segment was walked from (a guess but for the first segment).
    start: Vec<S>,
    /// The states it reached from `start`, or where the model refused an op.
    stepped: Result<Vec<S>, Refuted>,
}

/// Each process's ops appear in `order` in the order the process ran them.
pub(super) fn check_process_order(history: &History, order: &[u32], claim: &str) -> Result<(), Refuted> {
    let mut last: AHashMap<u32, u32> = AHashMap::new();
    for &pos in order {
        let process = history.ops[pos as usize].process;
        if let Some(prev) = last.insert(process, pos) {
            if prev > pos {
                return Err(Refuted::new(
                    claim,
                    format!("process {process} ran position {pos} before position {prev}, placed after it"),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{Format, ReadOptions, read_bytes};
    use crate::model::{NilReads, Register};

    /// A little generator of small register histories: reads and writes of 0..3 and `nil`,
    /// some crashed, some failed, ops overlapping at random.
    fn register_history(seed: u64) -> History {
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut next = |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        };
        let value = |v: u64| if v == 3 { "nil".to_string() } else { v.to_string() };
        let mut text = String::new();
        for p in 0..6 {
            let (t0, t1) = (next(20), 20 + next(20));
            let end = ["ok", "ok", "ok", "info", "fail"][next(5) as usize];
            let (f, input, output) = match next(2) {
                0 => ("read", "nil".to_string(), value(next(4))),
                _ => {
                    let v = value(next(4));
                    ("write", v.clone(), v)
                }
            };
            text += &format!("{{:process {p} :type :invoke :f :{f} :value {input} :time {t0}}}\n");
            text += &format!("{{:process {p} :type :{end} :f :{f} :value {output} :time {t1}}}\n");
        }
        read_bytes("t.edn", text.as_bytes(), Format::Edn, &ReadOptions::default()).unwrap()
    }

    fn permutations(items: &[u32]) -> Vec<Vec<u32>> {
        if items.is_empty() {
            return vec![Vec::new()];
        }
        let mut all = Vec::new();
        for (i, &first) in items.iter().enumerate() {
            let rest: Vec<u32> = items.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, &p)| p).collect();
            all.extend(permutations(&rest).into_iter().map(|mut tail| {
                tail.insert(0, first);
                tail
            }));
        }
        all
    }

    /// Walking an order on value ids never certifies what the model refuses; where `nil` is a
    /// value it certifies all that the model accepts (so the fast walk is the one that runs).
    #[test]
    fn the_walk_on_value_ids_accepts_only_what_the_model_accepts() {
        let (mut both, mut model_only) = (0, 0);
        for seed in 0..60 {
            let h = register_history(seed);
            let positions: Vec<u32> = (0..h.ops.len() as u32).collect();
            let placeable: Vec<u32> =
                positions.iter().copied().filter(|&p| h.ops[p as usize].outcome != Outcome::Fail).collect();
            for (init, nil_reads) in [(Value::Nil, NilReads::Value), (Value::Int(0), NilReads::Unknown)] {
                let model = Register { init: init.clone(), nil_reads };
                let nil_reads_unknown = nil_reads == NilReads::Unknown;
                let setting =
                    Setting { keying: Keying::Single, skew: 0, nil_reads_unknown, init: Some(init) };
                let cert = KeyCert::new(&model, &h, &positions, &setting, false);
                let ids = cert.register_ids().expect("a plain register over whole values");
                for order in permutations(&placeable) {
                    let by_ids = cert.walk(&ids, &order, true, "order").is_ok();
                    let by_model = cert.walk(&cert.ops, &order, true, "order").is_ok();
                    assert!(!by_ids || by_model, "seed {seed}: ids accept {order:?}, the model refuses");
                    if nil_reads == NilReads::Value {
                        both += (by_ids && by_model) as usize;
                        model_only += (!by_ids && by_model) as usize;
                    }
                }
            }
        }
        assert!(
            both > 100 && model_only == 0,
            "the fast walk certified {both}, left {model_only} to the model"
        );
    }

    /// The walk on value ids is used only for a plain register over whole values, and starts
    /// where the model starts, whatever the setting says.
    #[test]
    fn the_walk_on_value_ids_is_only_for_a_plain_register_and_starts_as_the_model_starts() {
        let h = register_history(1);
        let positions: Vec<u32> = (0..h.ops.len() as u32).collect();
        let model = Register { init: Value::Int(0), nil_reads: NilReads::Value };
        let other_init = Setting { keying: Keying::Single, skew: 0, nil_reads_unknown: false, init: None };
        let ids = KeyCert::new(&model, &h, &positions, &other_init, false).register_ids().unwrap();
        assert_eq!(
            ids.init(),
            h.values.lookup(&Value::Int(0)).unwrap_or(ValueId::NONE),
            "the model's initial value"
        );
        let tuples = Setting { keying: Keying::Tuple, ..other_init.clone() };
        assert!(KeyCert::new(&model, &h, &positions, &tuples, false).register_ids().is_none());
        let cas = crate::model::CasRegister::default();
        assert!(KeyCert::new(&cas, &h, &positions, &other_init, false).register_ids().is_none());
    }
}
