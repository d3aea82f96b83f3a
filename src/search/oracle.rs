//! Brute-force oracles for small histories: try every order of the ops that respects the
//! required order (real time for linearizability, process order for sequential consistency),
//! with no memo and no pruning beyond the model's own steps. Slow (factorial), deliberately
//! simple, and written independently of the searches' data structures, so that tests can hold
//! the searches to them.

use crate::history::{History, Outcome, ValueId};
use crate::model::{Model, OpView};
use crate::outcome::Verdict;
use crate::split::Keying;

struct OracleOp<O> {
    key: usize,
    op: O,
    process: u32,
    invoke: i64,
    /// `None` for an op whose outcome is unknown: it may be left out.
    complete: Option<i64>,
}

/// Whether the first op must precede the second.
type Precedes<'a, O> = &'a dyn Fn(&OracleOp<O>, &OracleOp<O>) -> bool;

/// Decodes every op that may have happened, with its key's position in first-seen order.
fn decode_all<M: Model>(
    model: &M,
    history: &History,
    keying: Keying,
) -> Option<(Vec<OracleOp<M::Op>>, usize)> {
    let mut keys: Vec<Option<String>> = Vec::new();
    let mut ops = Vec::new();
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
        let slot = keys.iter().position(|k| *k == name).unwrap_or_else(|| {
            keys.push(name);
            keys.len() - 1
        });
        let complete = (op.outcome == Outcome::Ok).then_some(op.complete_time);
        ops.push(OracleOp { key: slot, op: decoded, process: op.process, invoke: op.invoke_time, complete });
    }
    Some((ops, keys.len()))
}

/// Decides linearizability of `history` under `model` by exhaustive search, key by key.
/// Returns `None` when an op does not decode. Meant for histories of about ten ops per key.
pub fn brute_force<M: Model>(model: &M, history: &History, keying: Keying, skew: i64) -> Option<Verdict> {
    let (ops, keys) = decode_all(model, history, keying)?;
    let real_time = |a: &OracleOp<M::Op>, b: &OracleOp<M::Op>| {
        a.complete.is_some_and(|c| c.saturating_add(skew) < b.invoke)
    };
    let all_valid = (0..keys).all(|k| {
        let mut used: Vec<bool> = ops.iter().map(|o| o.key != k).collect();
        extend(model, &ops, &mut used, &mut vec![model.init(); keys], &real_time)
    });
    Some(if all_valid { Verdict::Valid } else { Verdict::Invalid })
}

/// Decides sequential consistency of the whole `history` (all keys together) by exhaustive
/// search over orders that respect each process's order of completed ops.
pub fn brute_force_sequential<M: Model>(model: &M, history: &History, keying: Keying) -> Option<Verdict> {
    let (ops, keys) = decode_all(model, history, keying)?;
    let process_order = |a: &OracleOp<M::Op>, b: &OracleOp<M::Op>| {
        a.process == b.process && a.complete.is_some() && a.invoke < b.invoke
    };
    let mut used = vec![false; ops.len()];
    let valid = extend(model, &ops, &mut used, &mut vec![model.init(); keys], &process_order);
    Some(if valid { Verdict::Valid } else { Verdict::Invalid })
}

/// Can the ops not yet `used` be ordered after `states`? An op may go next when every op that
/// `precedes` it is used.
fn extend<M: Model>(
    model: &M,
    ops: &[OracleOp<M::Op>],
    used: &mut [bool],
    states: &mut Vec<M::State>,
    precedes: Precedes<'_, M::Op>,
) -> bool {
    if ops.iter().zip(used.iter()).all(|(o, &u)| u || o.complete.is_none()) {
        return true;
    }
    for i in 0..ops.len() {
        if used[i] || ops.iter().zip(used.iter()).any(|(o, &u)| !u && precedes(o, &ops[i])) {
            continue;
        }
        let key = ops[i].key;
        let mut next = Vec::new();
        model.step_all(&states[key], &ops[i].op, &mut next);
        used[i] = true;
        let found = next.into_iter().any(|s| {
            let before = std::mem::replace(&mut states[key], s);
            let ok = extend(model, ops, used, states, precedes);
            states[key] = before;
            ok
        });
        used[i] = false;
        if found {
            return true;
        }
    }
    false
}
