//! Reading a set-full history's ops: adds and whole-set reads, keyed or not.

use crate::history::{History, Op, Outcome, Value, ValueId};
use crate::outcome::DecodeFailure;
use crate::split::Keying;

/// What one op of a set-full history does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SetFullOp<'h> {
    /// `:add` of `element` to the set `key`.
    Add {
        /// The set (`None` unkeyed).
        key: Option<&'h Value>,
        /// The element.
        element: &'h Value,
    },
    /// `:read` of the set `key`; `elements` as read when it completed `:ok`, with repeats as
    /// the read gave them (`None` for a read that did not complete `:ok`).
    Read {
        /// The set.
        key: Option<&'h Value>,
        /// What it read.
        elements: Option<&'h [Value]>,
    },
}

fn fail(op: &Op, line: u32, message: String) -> DecodeFailure {
    DecodeFailure { line, index: op.invoke_index, message }
}

/// Decodes `op` under `keying`: a keyed add is `[k v]`, a keyed read invoked `[k nil]`
/// completes with `[k [e ...]]` or with the flat list `[e ...]`.
pub fn decode<'h>(history: &'h History, op: &Op, keying: Keying) -> Result<SetFullOp<'h>, DecodeFailure> {
    let input = history.value(op.input);
    let f = history.f_name(op);
    let (key, inner) = match keying {
        Keying::Single => (None, input),
        Keying::KeyField if op.key == ValueId::NONE => {
            return Err(fail(op, op.invoke_line, "this op has no :key, while others do".to_string()));
        }
        Keying::KeyField => (Some(history.value(op.key)), input),
        Keying::Tuple => match input.as_tuple() {
            Some((k, v)) => (Some(k), v),
            None => {
                return Err(fail(op, op.invoke_line, format!("expected a [key value] tuple, got {input}")));
            }
        },
    };
    match f.as_str() {
        "add" => Ok(SetFullOp::Add { key, element: inner }),
        "read" if op.outcome != Outcome::Ok => Ok(SetFullOp::Read { key, elements: None }),
        "read" => {
            let out = history.value(op.output);
            read_elements(out, key)
                .map(|elements| SetFullOp::Read { key, elements: Some(elements) })
                .ok_or_else(|| {
                    let want =
                        if key.is_some() { "[key [element ...]] or [element ...]" } else { "[element ...]" };
                    fail(op, op.complete_line, format!("a :read should complete with {want}, got {out}"))
                })
        }
        other => {
            Err(fail(op, op.invoke_line, format!("a set-full history has :add and :read ops, not :{other}")))
        }
    }
}

/// The elements a read's completion gives: the flat collection, or under a key `[k coll]` with
/// `k` the key read. `nil` reads nothing, as Jepsen reads it.
fn read_elements<'h>(out: &'h Value, key: Option<&Value>) -> Option<&'h [Value]> {
    let coll = |v: &'h Value| match v {
        Value::Nil => Some(&[][..]),
        Value::Vector(s) | Value::List(s) | Value::Set(s) => Some(&s[..]),
        _ => None,
    };
    if let Some(k) = key {
        if let Some((k2, inner)) = out.as_tuple() {
            if k2 == k {
                if let Some(items) = coll(inner) {
                    return Some(items);
                }
            }
        }
    }
    coll(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{Format, ReadOptions, read_bytes};

    fn ops(text: &str, keying: Keying) -> Vec<Result<String, DecodeFailure>> {
        let h = read_bytes("t.edn", text.as_bytes(), Format::Edn, &ReadOptions::default()).unwrap();
        h.ops.iter().map(|op| decode(&h, op, keying).map(|d| format!("{d:?}"))).collect()
    }

    #[test]
    fn a_keyed_read_may_complete_with_the_tuple_or_the_flat_list() {
        let text = "{:process 0 :type :invoke :f :read :value [7 nil]}\n{:process 0 :type :ok :f :read :value [7 [1 2]]}\n\
                    {:process 1 :type :invoke :f :read :value [7 nil]}\n{:process 1 :type :ok :f :read :value [1 2 3]}\n\
                    {:process 2 :type :invoke :f :read :value [7 nil]}\n{:process 2 :type :ok :f :read :value [3 4]}\n";
        let got = ops(text, Keying::Tuple);
        assert!(got[0].as_ref().unwrap().contains("[Int(1), Int(2)]"), "{got:?}");
        assert!(got[1].as_ref().unwrap().contains("[Int(1), Int(2), Int(3)]"), "{got:?}");
        // [3 4] does not start with the key 7: the flat list of two elements.
        assert!(got[2].as_ref().unwrap().contains("[Int(3), Int(4)]"), "{got:?}");
    }

    #[test]
    fn a_read_of_a_scalar_is_bad_input_on_its_completion_line() {
        let got = ops(
            "{:process 0 :type :invoke :f :read :value nil}\n{:process 0 :type :ok :f :read :value 5}\n",
            Keying::Single,
        );
        let e = got[0].as_ref().unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("[element ...], got 5"), "{}", e.message);
    }
}
