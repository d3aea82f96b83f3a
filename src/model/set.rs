//! A grow-only set: `add v`, and `read` of the whole set.

use super::{DecodeError, Model, OpView, SetState, and_list, elements, show, unknown_f};
use crate::history::Value;
use std::sync::Arc;

/// An op on a set.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SetOp {
    /// Add an element (adding one already present changes nothing).
    Add(Value),
    /// A read of the whole set: its elements sorted without duplicates, or `None` when the
    /// result is unknown. Shared, since a read can hold every element of a large set, and the
    /// checker copies a part's ops.
    Read(Option<Arc<[Value]>>),
}

/// A set: `add v` adds `v`; `read` returns the whole set, as a vector, list or set (compared as
/// sets, so order and duplicates in the read do not matter; `nil` reads as the empty set, as
/// Clojure's `(set nil)` does). A read whose result is unknown constrains nothing.
///
/// The state is the elements, sorted and without duplicates, in chunks shared between the
/// states a search keeps ([`SetState`]).
#[derive(Clone, Debug, Default)]
pub struct Set {
    /// The elements present before the history starts (usually none). Need not be sorted:
    /// [`Model::init`] sorts and deduplicates them.
    pub init: Vec<Value>,
}

impl Set {
    /// A set that starts with the elements of `init`: a vector, list or set (`nil` is empty).
    pub fn with_init(init: Value) -> Result<Set, DecodeError> {
        Ok(Set { init: elements(&init, "the set's initial value")?.to_vec() })
    }
}

/// The elements of `a` that are not in `b`; both sorted.
fn difference(a: &[Value], b: &[Value]) -> Vec<Value> {
    a.iter().filter(|v| b.binary_search(v).is_err()).cloned().collect()
}

/// `singular` or `plural` to agree with how many `items` a sentence names.
fn agree<'a>(items: &[Value], singular: &'a str, plural: &'a str) -> &'a str {
    if items.len() == 1 { singular } else { plural }
}

impl Model for Set {
    type State = SetState;
    type Op = SetOp;

    fn name(&self) -> &str {
        "set"
    }

    fn state_heap_bytes(&self, state: &SetState) -> usize {
        state.charged_bytes()
    }

    fn init(&self) -> SetState {
        let mut s = self.init.clone();
        s.sort();
        s.dedup();
        SetState::from_sorted(s)
    }

    fn decode(&self, op: &OpView<'_>) -> Result<SetOp, DecodeError> {
        match op.f {
            "add" => Ok(SetOp::Add(op.input.clone())),
            "read" => match op.output {
                None => Ok(SetOp::Read(None)),
                Some(out) => Ok(SetOp::Read(Some(elements(out, "a set :read result")?))),
            },
            f => Err(unknown_f("set", f, ":add, :read")),
        }
    }

    fn step(&self, state: &SetState, op: &SetOp) -> Option<SetState> {
        match op {
            SetOp::Add(v) => Some(state.with(v)),
            SetOp::Read(None) => Some(state.clone()),
            SetOp::Read(Some(seen)) => state.equals_sorted(seen).then(|| state.clone()),
        }
    }

    /// Reads order the adds around them: see `super::set_trace`.
    fn implied_order(&self, ops: &[SetOp], completed: usize) -> super::Implied {
        super::set_trace::implied(ops, completed, &self.init().to_vec())
    }

    fn is_read_only(&self, op: &SetOp) -> bool {
        matches!(op, SetOp::Read(_))
    }

    fn describe_op(&self, op: &SetOp) -> String {
        match op {
            SetOp::Add(v) => format!("add {v}"),
            SetOp::Read(None) => "read (result unknown)".to_string(),
            SetOp::Read(Some(seen)) => format!("read {}", show("#{", seen, "}")),
        }
    }

    fn describe_state(&self, state: &SetState) -> String {
        show("#{", &state.to_vec(), "}")
    }

    /// Names the elements the read missed and the ones it saw too early.
    fn explain(&self, held: &SetState, op: &SetOp) -> String {
        let state = &held.to_vec();
        let SetOp::Read(Some(seen)) = op else {
            // Unreachable when called as documented: adds and unknown reads always step.
            return format!("{} while the set held {}", self.describe_op(op), self.describe_state(held));
        };
        let mut why = Vec::new();
        let missing = difference(state, seen);
        if !missing.is_empty() {
            let verbs =
                agree(&missing, "was added before the read but is", "were added before the read but are");
            why.push(format!("{} {verbs} missing from it", and_list(&missing)));
        }
        let extra = difference(seen, state);
        if !extra.is_empty() {
            let verb = agree(&extra, "was", "were");
            why.push(format!("the read contains {}, which {verb} not added yet", and_list(&extra)));
        }
        format!(
            "{}, but the set held {}: {}",
            self.describe_op(op),
            self.describe_state(held),
            why.join("; ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ints(xs: &[i64]) -> Vec<Value> {
        xs.iter().map(|&x| Value::Int(x)).collect()
    }

    fn decode(f: &str, input: &Value, output: Option<&Value>) -> Result<SetOp, DecodeError> {
        Set::default().decode(&OpView { f, input, output, key: None })
    }

    #[test]
    fn adds_then_reads_compare_as_sets() {
        let m = Set::default();
        let add = |x: i64| decode("add", &Value::Int(x), Some(&Value::Int(x))).unwrap();
        let mut s = m.init();
        for x in [3, 1, 3] {
            s = m.step(&s, &add(x)).unwrap();
        }
        assert_eq!(s, ints(&[1, 3]));
        // Order and duplicates in the read do not matter; a list reads like a set.
        let read = decode("read", &Value::Nil, Some(&Value::list(ints(&[3, 1, 1])))).unwrap();
        assert!(m.is_read_only(&read));
        assert_eq!(m.step(&s, &read), Some(s.clone()));
        let empty = decode("read", &Value::Nil, Some(&Value::Nil)).unwrap();
        assert_eq!(m.step(&m.init(), &empty), Some(m.init()));
        assert_eq!(m.step(&s, &empty), None);
    }

    #[test]
    fn unknown_read_constrains_nothing() {
        let m = Set::default();
        let read = decode("read", &Value::Nil, None).unwrap();
        assert_eq!(read, SetOp::Read(None));
        assert!(m.is_read_only(&read));
        let seven = SetState::from_sorted(ints(&[7]));
        assert_eq!(m.step(&seven, &read), Some(seven.clone()));
    }

    #[test]
    fn explains_missing_and_unexpected_elements() {
        let m = Set::default();
        let read = decode("read", &Value::Nil, Some(&Value::vector(ints(&[1, 2, 4])))).unwrap();
        let held = SetState::from_sorted(ints(&[1, 2, 3]));
        assert_eq!(m.step(&held, &read), None);
        assert_eq!(
            m.explain(&held, &read),
            "read #{1 2 4}, but the set held #{1 2 3}: 3 was added before the read but is missing from it; \
             the read contains 4, which was not added yet"
        );
        let short = decode("read", &Value::Nil, Some(&Value::set(ints(&[1])))).unwrap();
        assert_eq!(
            m.explain(&held, &short),
            "read #{1}, but the set held #{1 2 3}: 2 and 3 were added before the read but are missing from it"
        );
    }

    #[test]
    fn init_and_decode_errors() {
        let m = Set::with_init(Value::vector(ints(&[2, 1]))).unwrap();
        assert_eq!(m.init(), ints(&[1, 2]));
        let e = Set::with_init(Value::Int(5)).unwrap_err();
        assert_eq!(e.message, "the set's initial value needs a collection (vector, list or set), got 5");
        let e = decode("read", &Value::Nil, Some(&Value::Int(5))).unwrap_err();
        assert_eq!(e.message, "a set :read result needs a collection (vector, list or set), got 5");
        let e = decode("remove", &Value::Int(1), None).unwrap_err();
        assert_eq!(e.message, "the set model has no operation :remove (it has :add, :read)");
    }
}
