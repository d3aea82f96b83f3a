//! A brute-force linearizability oracle for small histories: tries every order of the ops that
//! respects real time, with no memo and no pruning beyond the model's own steps. Slow
//! (factorial), deliberately simple, and written independently of the search's event list, so
//! that tests can hold the search to it.

use super::prepare::Keying;
use crate::history::{History, Outcome, ValueId};
use crate::model::{Model, OpView};
use crate::report::Verdict;

struct OracleOp<O> {
    op: O,
    invoke: i64,
    /// `None` for an op whose outcome is unknown: it may be left out.
    complete: Option<i64>,
}

/// Decides linearizability of `history` under `model` by exhaustive search, key by key.
/// Returns `None` when an op does not decode. Meant for histories of about ten ops per key.
pub fn brute_force<M: Model>(model: &M, history: &History, keying: Keying, skew: i64) -> Option<Verdict> {
    let mut keys: Vec<Option<String>> = Vec::new();
    let mut parts: Vec<Vec<OracleOp<M::Op>>> = Vec::new();
    for op in &history.ops {
        if op.outcome == Outcome::Fail {
            continue;
        }
        let input = history.value(op.input);
        let output = (op.outcome == Outcome::Ok).then(|| history.value(op.output));
        let (key, input, output) = match keying {
            Keying::Single => (None, input, output),
            Keying::KeyField if op.key == ValueId::NONE => return None,
            Keying::KeyField => (Some(history.value(op.key)), input, output),
            Keying::Tuple => {
                let (k, v) = input.as_tuple()?;
                let out = match output {
                    Some(o) => Some(o.as_tuple()?.1),
                    None => None,
                };
                (Some(k), v, out)
            }
        };
        let f = history.value(op.f).as_name()?;
        let decoded = model.decode(&OpView { f, input, output, key }).ok()?;
        let name = key.map(|k| k.to_string());
        let slot = match keys.iter().position(|k| *k == name) {
            Some(i) => i,
            None => {
                keys.push(name);
                parts.push(Vec::new());
                keys.len() - 1
            }
        };
        let complete = (op.outcome == Outcome::Ok).then_some(op.complete_time);
        parts[slot].push(OracleOp { op: decoded, invoke: op.invoke_time, complete });
    }
    let all_valid = parts.iter().all(|ops| {
        let mut used = vec![false; ops.len()];
        extend(model, ops, &mut used, &model.init(), skew)
    });
    Some(if all_valid { Verdict::Valid } else { Verdict::Invalid })
}

/// Can the ops not yet `used` be ordered after `state`? An op may go next when every op that
/// really precedes it (completed more than `skew` before its invocation) is used.
fn extend<M: Model>(
    model: &M,
    ops: &[OracleOp<M::Op>],
    used: &mut [bool],
    state: &M::State,
    skew: i64,
) -> bool {
    let all_completed_used = ops.iter().zip(used.iter()).all(|(o, &u)| u || o.complete.is_none());
    if all_completed_used {
        return true;
    }
    for i in 0..ops.len() {
        if used[i] {
            continue;
        }
        let blocked = ops
            .iter()
            .zip(used.iter())
            .any(|(o, &u)| !u && o.complete.is_some_and(|c| c.saturating_add(skew) < ops[i].invoke));
        if blocked {
            continue;
        }
        let mut next = Vec::new();
        model.step_all(state, &ops[i].op, &mut next);
        used[i] = true;
        let found = next.iter().any(|s| extend(model, ops, used, s, skew));
        used[i] = false;
        if found {
            return true;
        }
    }
    false
}
