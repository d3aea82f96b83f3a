//! Reading a log history's ops: Jepsen's Kafka workload encoding and a simpler one.
//!
//! Jepsen (`jepsen.tests.kafka`) encodes `:send`, `:poll` and `:txn` ops as vectors of
//! micro-ops: `[:send k v]` completes as `[:send k [offset v]]` (offset `nil` when unknown) and
//! `[:poll]` completes as `[:poll {k [[offset v] ...]}]`. The simpler encoding (Maelstrom's
//! shape) is a `:send` of `[k v]` completing as `[k [offset v]]`, and a `:poll` completing with
//! the map `{k [[offset v] ...]}`. `:assign` and `:subscribe` take a vector of keys; `:crash`
//! resets the process's consumer; `:lag` completes with `{k lag}`, the lag the system reported
//! for this process's consumer on each key.

use crate::history::{History, Op, Outcome, Value};
use crate::outcome::DecodeFailure;

/// A key and the `(offset, value)` records a poll read of it, in order.
pub type KeyRecords = (Value, Vec<(i64, Value)>);

/// One micro-op of a send, poll or txn.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mop {
    /// A send of `value` to `key`, at `offset` when the completion said.
    Send {
        /// The key (partition).
        key: Value,
        /// The value sent.
        value: Value,
        /// The offset the system gave, when known.
        offset: Option<i64>,
    },
    /// A poll: per key, the `(offset, value)` records read, in the order read.
    Poll(Vec<KeyRecords>),
}

/// What one op of a log history does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogOp {
    /// Sends and polls, in order.
    Mops(Vec<Mop>),
    /// `:assign` of these keys.
    Assign(Vec<Value>),
    /// `:subscribe` to these keys.
    Subscribe(Vec<Value>),
    /// `:crash`: the process's consumer starts over.
    Crash,
    /// `:lag`: the lag the system reported for this process's consumer, per key.
    Lag(Vec<(Value, i64)>),
    /// A poll or txn that did not complete `:ok`: it may have moved the consumer, by records
    /// the history does not show.
    Indeterminate,
    /// Any other `:f` (e.g. `:debug-topic-partitions`): nothing to check.
    Other,
}

fn fail(op: &Op, message: String) -> DecodeFailure {
    let line = if op.complete_line > 0 { op.complete_line } else { op.invoke_line };
    DecodeFailure { line, index: op.invoke_index, message }
}

/// Decodes `op`. Its completion is read when it is `:ok`; otherwise only its invocation (a
/// send's key and value).
pub fn decode(history: &History, op: &Op) -> Result<LogOp, DecodeFailure> {
    let f = history.f_name(op);
    let ok = op.outcome == Outcome::Ok;
    let value = if ok { history.value(op.output) } else { history.value(op.input) };
    match f.as_str() {
        "poll" | "txn" if !ok => Ok(LogOp::Indeterminate),
        "send" | "poll" | "txn" => mops(op, &f, value, ok).map(LogOp::Mops),
        "assign" | "subscribe" => {
            let keys = history.value(op.input);
            let keys = keys.as_seq().map(<[Value]>::to_vec).or_else(|| match keys {
                Value::Set(s) => Some(s.to_vec()),
                _ => None,
            });
            let keys = keys.ok_or_else(|| fail(op, format!(":{f} takes a vector of keys, got {value}")))?;
            Ok(if f == "assign" { LogOp::Assign(keys) } else { LogOp::Subscribe(keys) })
        }
        "crash" => Ok(LogOp::Crash),
        "lag" if ok => lag(op, value).map(LogOp::Lag),
        _ => Ok(LogOp::Other),
    }
}

fn is_mop(v: &Value) -> bool {
    v.as_seq().and_then(|s| s.first()).and_then(Value::as_name).is_some_and(|n| n == "send" || n == "poll")
}

fn mops(op: &Op, f: &str, value: &Value, ok: bool) -> Result<Vec<Mop>, DecodeFailure> {
    let jepsen = value.as_seq().is_some_and(|s| !s.is_empty() && s.iter().all(is_mop));
    if jepsen {
        let seq = value.as_seq().unwrap_or_default();
        return seq.iter().map(|m| jepsen_mop(op, m, ok)).collect();
    }
    match (f, value) {
        // An invocation of a poll (or a failed or crashed one) reads nothing.
        ("poll", _) if !ok => Ok(Vec::new()),
        ("poll", Value::Map(_)) => Ok(vec![Mop::Poll(records(op, value)?)]),
        ("send", _) => {
            let (key, rest) = value.as_tuple().ok_or_else(|| {
                fail(
                    op,
                    format!(
                        "a :send's value should be [key value] (or Jepsen's [[:send key value]]), got {value}"
                    ),
                )
            })?;
            let (offset, v) = if ok { offset_value(op, rest)? } else { (None, rest.clone()) };
            Ok(vec![Mop::Send { key: key.clone(), value: v, offset }])
        }
        ("txn", _) if !ok && value.as_seq().is_some_and(<[Value]>::is_empty) => Ok(Vec::new()),
        _ => Err(fail(
            op,
            format!(
                "a :{f} of a log should be a vector of micro-ops ([:send k v], [:poll]), or for :poll a map \
                 {{key [[offset value] ...]}}, got {value}"
            ),
        )),
    }
}

fn jepsen_mop(op: &Op, m: &Value, ok: bool) -> Result<Mop, DecodeFailure> {
    let s = m.as_seq().unwrap_or_default();
    match (s[0].as_name(), s.len()) {
        (Some("poll"), 1) => Ok(Mop::Poll(Vec::new())),
        (Some("poll"), 2) if ok => Ok(Mop::Poll(records(op, &s[1])?)),
        (Some("poll"), 2) => Ok(Mop::Poll(Vec::new())),
        (Some("send"), 3) => {
            let (offset, value) = if ok { offset_value(op, &s[2])? } else { (None, s[2].clone()) };
            Ok(Mop::Send { key: s[1].clone(), value, offset })
        }
        _ => Err(fail(
            op,
            format!("expected [:send key value] or [:poll {{key [[offset value] ...]}}], got {m}"),
        )),
    }
}

/// A send's completion: `[offset value]` (offset an integer or `nil`), or the bare value when
/// the offset is unknown.
fn offset_value(op: &Op, v: &Value) -> Result<(Option<i64>, Value), DecodeFailure> {
    match v.as_seq() {
        Some([Value::Int(o), v]) => Ok((Some(*o), v.clone())),
        Some([Value::Nil, v]) => Ok((None, v.clone())),
        Some(_) => Err(fail(op, format!("a send's completion should be [offset value], got {v}"))),
        None => Ok((None, v.clone())),
    }
}

fn records(op: &Op, v: &Value) -> Result<Vec<KeyRecords>, DecodeFailure> {
    let Value::Map(entries) = v else {
        return Err(fail(op, format!("a poll should read a map {{key [[offset value] ...]}}, got {v}")));
    };
    entries
        .iter()
        .map(|(k, recs)| {
            let recs = recs.as_seq().ok_or_else(|| {
                fail(
                    op,
                    format!("a poll's records of key {k} should be a vector of [offset value], got {recs}"),
                )
            })?;
            let recs = recs
                .iter()
                .map(|r| match r.as_seq() {
                    Some([Value::Int(o), v]) => Ok((*o, v.clone())),
                    _ => Err(fail(op, format!("a polled record should be [offset value], got {r}"))),
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok((k.clone(), recs))
        })
        .collect()
}

fn lag(op: &Op, v: &Value) -> Result<Vec<(Value, i64)>, DecodeFailure> {
    let bad = || fail(op, format!("a :lag should complete with a map {{key lag}} of integers, got {v}"));
    let Value::Map(entries) = v else { return Err(bad()) };
    entries.iter().map(|(k, n)| n.as_int().map(|n| (k.clone(), n)).ok_or_else(bad)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{Format, ReadOptions, read_bytes};

    fn ops(text: &str) -> Vec<Result<LogOp, DecodeFailure>> {
        let h = read_bytes("t.edn", text.as_bytes(), Format::Edn, &ReadOptions::default()).unwrap();
        h.ops.iter().map(|op| decode(&h, op)).collect()
    }

    #[test]
    fn jepsen_and_simple_encodings_decode_alike() {
        let jepsen = ops("{:process 0 :type :invoke :f :send :value [[:send 1 5]]}\n\
             {:process 0 :type :ok :f :send :value [[:send 1 [3 5]]]}\n");
        let simple = ops(
            "{:process 0 :type :invoke :f :send :value [1 5]}\n{:process 0 :type :ok :f :send :value [1 [3 5]]}\n",
        );
        let want = LogOp::Mops(vec![Mop::Send { key: Value::Int(1), value: Value::Int(5), offset: Some(3) }]);
        assert_eq!(jepsen[0].as_ref().unwrap(), &want);
        assert_eq!(simple[0].as_ref().unwrap(), &want);
        let poll = ops(
            "{:process 0 :type :invoke :f :poll :value [[:poll]]}\n{:process 0 :type :ok :f :poll :value [[:poll {1 [[3 5] [4 6]]}]]}\n",
        );
        let recs = vec![(Value::Int(1), vec![(3, Value::Int(5)), (4, Value::Int(6))])];
        assert_eq!(poll[0].as_ref().unwrap(), &LogOp::Mops(vec![Mop::Poll(recs)]));
    }

    #[test]
    fn a_malformed_record_is_bad_input_naming_the_line() {
        let bad = ops(
            "{:process 0 :type :invoke :f :poll :value nil}\n{:process 0 :type :ok :f :poll :value {1 [[:x 5]]}}\n",
        );
        let e = bad[0].as_ref().unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("[offset value], got [:x 5]"), "{}", e.message);
    }
}
