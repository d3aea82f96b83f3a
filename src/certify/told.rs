//! What a counterexample tells in the model's words, re-derived: the state after each step it
//! shows, the state at the point where the search got stuck, why the blocked op could not go
//! next there, and why each other op tried did not fit.
//!
//! The prefix itself (a valid order of its own) and which ops it holds are certified by the
//! caller; this module takes the states the prefix's unshown steps can reach and follows the
//! shown steps from there. A nondeterministic model may reach several states: a text is
//! accepted when some path through the model's steps says exactly it, at every step together
//! (the states that do not match a text are dropped before the next one is compared).

use super::Refuted;
use crate::model::Model;
use crate::outcome::Counterexample;
use ahash::AHashSet;

/// How many states a counterexample's steps may lead to before its texts are left unchecked.
pub(super) const MAX_STATES: usize = 4096;

/// What became of a counterexample's texts.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Told {
    /// Every text is the model's own.
    Certified,
    /// The model's steps led to more than [`MAX_STATES`] states: the texts were not compared.
    TooManyStates,
}

/// Why `op` could not go next in `state`, as a counterexample says it: the model's own
/// explanation when the op cannot take effect, else that it could, but led nowhere.
fn why_not<N: Model>(model: &N, state: &N::State, op: &N::Op) -> String {
    match model.step(state, op) {
        None => model.explain(state, op),
        Some(_) => format!(
            "{} could take effect here, but every way of continuing from there fails",
            model.describe_op(op)
        ),
    }
}

/// Certifies the texts of `c`: `head` holds the states the prefix's steps before those shown
/// can reach, and `decode` gives the model's op at a position (every op `c` names is of this
/// object and not failed; the caller has checked which are in the prefix).
pub(super) fn certify_told<N: Model>(
    model: &N,
    head: Vec<N::State>,
    c: &Counterexample,
    decode: &dyn Fn(u32) -> Result<N::Op, Refuted>,
    claim: &str,
) -> Result<Told, Refuted> {
    let mut states = head;
    let mut next = Vec::new();
    for step in &c.prefix_tail {
        let op = decode(step.op.position)?;
        next.clear();
        for s in &states {
            model.step_all(s, &op, &mut next);
        }
        let mut seen = AHashSet::with_capacity(next.len());
        next.retain(|s| seen.insert(s.clone()) && model.describe_state(s) == step.state_after);
        if seen.len() > MAX_STATES {
            return Ok(Told::TooManyStates);
        }
        if next.is_empty() {
            return Err(Refuted::new(
                claim,
                format!(
                    "after {} (index {}) the state cannot be {}",
                    step.op.text, step.op.index, step.state_after
                ),
            ));
        }
        std::mem::swap(&mut states, &mut next);
    }
    keep(&mut states, |s| model.describe_state(s) == c.state).map_err(|()| {
        Refuted::new(claim, format!("the state where the search got stuck cannot be {}", c.state))
    })?;
    let blocked = decode(c.op.position)?;
    keep(&mut states, |s| why_not(model, s, &blocked) == c.reason).map_err(|()| {
        Refuted::new(
            claim,
            format!(
                "the blocked op's reason ({}) is not what the model says of it in state {}",
                c.reason, c.state
            ),
        )
    })?;
    for t in &c.tried {
        let op = decode(t.op.position)?;
        keep(&mut states, |s| why_not(model, s, &op) == t.reason).map_err(|()| {
            Refuted::new(
                claim,
                format!(
                    "the reason given for {} (index {}), {}, is not what the model says of it in state {}",
                    t.op.text, t.op.index, t.reason, c.state
                ),
            )
        })?;
    }
    Ok(Told::Certified)
}

/// Keeps the states for which `told` holds; `Err` if none does.
fn keep<S>(states: &mut Vec<S>, told: impl Fn(&S) -> bool) -> Result<(), ()> {
    states.retain(told);
    if states.is_empty() { Err(()) } else { Ok(()) }
}

#[cfg(test)]
mod tests {
    use super::{Told, certify_told};
    use crate::history::Value;
    use crate::model::{Model, Register, RegisterOp};
    use crate::outcome::{Counterexample, LinearStep, OpRef, TriedOp};

    fn op_ref(position: u32, text: &str) -> OpRef {
        OpRef { position, index: position as u64, line: 0, process: 0, text: text.into() }
    }

    /// A register: write 1, write 2 shown; read 1 blocked; write 3 tried.
    fn counterexample(model: &Register, ops: &[RegisterOp]) -> Counterexample {
        let init = model.init();
        let after1 = model.step(&init, &ops[0]).unwrap();
        let after2 = model.step(&after1, &ops[1]).unwrap();
        Counterexample {
            op: op_ref(2, &model.describe_op(&ops[2])),
            reason: model.explain(&after2, &ops[2]),
            state: model.describe_state(&after2),
            prefix_len: 2,
            prefix_tail: vec![
                LinearStep { op: op_ref(0, "write 1"), state_after: model.describe_state(&after1) },
                LinearStep { op: op_ref(1, "write 2"), state_after: model.describe_state(&after2) },
            ],
            tried: vec![TriedOp {
                op: op_ref(3, "write 3"),
                reason: format!(
                    "{} could take effect here, but every way of continuing from there fails",
                    model.describe_op(&ops[3])
                ),
            }],
            prefix: vec![0, 1],
        }
    }

    #[test]
    fn the_models_words_pass_and_any_other_text_is_refuted() {
        let model = Register::default();
        let ops = vec![
            RegisterOp::Write(Value::from(1i64)),
            RegisterOp::Write(Value::from(2i64)),
            RegisterOp::Read(Some(Value::from(1i64))),
            RegisterOp::Write(Value::from(3i64)),
        ];
        let decode = |p: u32| Ok(ops[p as usize].clone());
        let told = |c: &Counterexample| certify_told(&model, vec![model.init()], c, &decode, "test");
        let c = counterexample(&model, &ops);
        assert_eq!(told(&c), Ok(Told::Certified));
        let edits: [&dyn Fn(&mut Counterexample); 5] = [
            &|c| c.prefix_tail[0].state_after = c.prefix_tail[1].state_after.clone(),
            &|c| c.state = c.prefix_tail[0].state_after.clone(),
            &|c| c.reason = "read 1, but the register held 3".into(),
            &|c| c.tried[0].reason = c.reason.clone(),
            &|c| c.op.position = 3,
        ];
        for (i, edit) in edits.iter().enumerate() {
            let mut forged = c.clone();
            edit(&mut forged);
            assert!(told(&forged).is_err(), "edit {i} passed: {forged:?}");
        }
    }
}
