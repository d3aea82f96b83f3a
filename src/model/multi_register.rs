//! Knossos's multi-register: transactions of reads and writes over a map of registers.

use super::{DecodeError, Model, NilReads, OpView, and_list, canonical_entries, entry, set_entry, unknown_f};
use crate::history::Value;
use std::collections::{BTreeMap, BTreeSet};

/// One read or write inside a transaction.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum MicroOp {
    /// Read register `.0`, which returned `.1` (`None`: the result is unknown).
    Read(Value, Option<Value>),
    /// Write `.1` to register `.0`.
    Write(Value, Value),
}

/// A transaction: micro-ops applied in order, atomically.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MultiRegisterTxn(pub Vec<MicroOp>);

/// A map of registers updated by transactions: `txn` with a vector of micro-ops `[:read k v]`
/// and `[:write k v]` (or `:r` / `:w`), applied in order and atomically; a read sees earlier
/// writes of its own transaction. Registers absent from [`MultiRegister::init`] start `nil`.
///
/// An `:ok` txn's micro-ops, with the values read, come from its completion value (which echoes
/// the writes). A txn whose outcome is unknown takes its micro-ops from the invocation: its reads
/// constrain nothing, its writes may happen.
///
/// The state is `(register, value)` sorted by register, without `nil` values.
#[derive(Clone, Debug, Default)]
pub struct MultiRegister {
    /// The registers' values before the history starts; absent ones are `nil`. Need not be
    /// sorted: [`Model::init`] normalizes it.
    pub init: Vec<(Value, Value)>,
    /// The registers whose completed reads of `nil` mean "value unknown" (see [`NilReads`]):
    /// none unless told.
    pub unknown_nil_reads: Registers,
}

/// A set of registers of a [`MultiRegister`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Registers {
    /// None of them.
    #[default]
    None,
    /// All of them.
    All,
    /// These (sorted, without repeats).
    Only(Vec<Value>),
}

impl Registers {
    /// Whether register `key` is in the set.
    pub fn contains(&self, key: &Value) -> bool {
        match self {
            Registers::None => false,
            Registers::All => true,
            Registers::Only(keys) => keys.binary_search(key).is_ok(),
        }
    }
}

impl MultiRegister {
    /// Registers starting with the values of `init`, a map such as `{:x 0 :y 0}` (`nil`: all
    /// registers `nil`).
    pub fn with_init(init: Value) -> Result<MultiRegister, DecodeError> {
        match init {
            Value::Nil => Ok(MultiRegister::default()),
            Value::Map(entries) => Ok(MultiRegister { init: entries.to_vec(), ..MultiRegister::default() }),
            _ => Err(DecodeError::new(format!(
                "the multi-register's initial value needs a map of register → value, such as {{:x 0 :y 0}}, \
                 got {init}"
            ))),
        }
    }
}

/// What a history's txns say about `nil`, register by register.
#[derive(Default)]
struct NilUse<'a> {
    /// Registers that some write (in any txn, whatever its outcome) writes `nil` to.
    written: BTreeSet<&'a Value>,
    /// Completed reads of `nil`, by register.
    reads: BTreeMap<&'a Value, usize>,
}

impl<'a> NilUse<'a> {
    fn of(views: impl Iterator<Item = OpView<'a>>) -> NilUse<'a> {
        let mut found = NilUse::default();
        for op in views.filter(|op| op.f == "txn") {
            for (value, completed) in [(Some(op.input), false), (op.output, true)] {
                let micros = value.and_then(Value::as_seq).unwrap_or_default();
                for [f, k, x] in micros.iter().filter_map(micro_parts) {
                    match f.as_name() {
                        Some("write" | "w") if x.is_nil() => drop(found.written.insert(k)),
                        Some("read" | "r") if completed && x.is_nil() => {
                            *found.reads.entry(k).or_default() += 1
                        }
                        _ => {}
                    }
                }
            }
        }
        found
    }
}

impl MultiRegister {
    /// Decides, before any op is decoded, on which registers a completed `[:read k nil]` means
    /// "value unknown": all of them or none as `choice` says (`--nil-reads`), or else, from the
    /// history's ops (`views`, every key's together), each register that can never be `nil` —
    /// its initial value is not `nil` and no write in any txn (whatever its outcome) writes
    /// `nil` to it. Returns a warning saying how many micro-op reads were read as unknown
    /// values, if any were.
    pub fn settle_nil_reads<'a>(
        &mut self,
        choice: Option<NilReads>,
        views: impl Iterator<Item = OpView<'a>>,
    ) -> Option<String> {
        if choice == Some(NilReads::Value) {
            self.unknown_nil_reads = Registers::None;
            return None;
        }
        let found = NilUse::of(views);
        self.unknown_nil_reads = match choice {
            Some(_) => Registers::All,
            None => Registers::Only(
                canonical_entries(&self.init, Value::is_nil)
                    .into_iter()
                    .map(|(k, _)| k)
                    .filter(|k| !found.written.contains(k))
                    .collect(),
            ),
        };
        let unknown: Vec<(&Value, usize)> =
            found.reads.into_iter().filter(|(k, _)| self.unknown_nil_reads.contains(k)).collect();
        let count: usize = unknown.iter().map(|(_, n)| n).sum();
        let keys: Vec<Value> = unknown.iter().map(|(k, _)| (*k).clone()).collect();
        let why = match choice {
            Some(_) => "(--nil-reads unknown)",
            None => {
                "(as Knossos reads them): nil is never those registers' state here (each starts non-nil and no \
                 write writes nil to it); --nil-reads value checks them as reads of nil"
            }
        };
        let reads =
            if count == 1 { "1 micro-op read".to_string() } else { format!("{count} micro-op reads") };
        (count > 0).then(|| {
            format!("{reads} of {} returned nil, read as reads of an unknown value {why}", and_list(&keys))
        })
    }
}

/// The three parts of a micro-op `[f k v]`, if it has that shape (decoding reports any other).
fn micro_parts(m: &Value) -> Option<&[Value; 3]> {
    m.as_seq().and_then(|parts| parts.try_into().ok())
}

/// Holds `nil` for every register without an entry.
static NIL: Value = Value::Nil;

fn value_of<'a>(state: &'a [(Value, Value)], key: &Value) -> &'a Value {
    entry(state, key).unwrap_or(&NIL)
}

/// Decodes `[:read k v]` / `[:write k v]`; a read's `v` is kept only if `reads_known`, and
/// unless it is `nil` on a register of `unknown_nil`.
fn decode_micro(v: &Value, reads_known: bool, unknown_nil: &Registers) -> Result<MicroOp, DecodeError> {
    if let Some([f, k, x]) = v.as_seq() {
        match f.as_name() {
            Some("read" | "r") => {
                let known = reads_known && !(x.is_nil() && unknown_nil.contains(k));
                return Ok(MicroOp::Read(k.clone(), known.then(|| x.clone())));
            }
            Some("write" | "w") => return Ok(MicroOp::Write(k.clone(), x.clone())),
            _ => {}
        }
    }
    Err(DecodeError::new(format!(
        "a multi-register :txn micro-op needs [:read k v] or [:write k v] (or :r, :w), got {v}"
    )))
}

fn decode_txn(v: &Value, reads_known: bool, unknown_nil: &Registers) -> Result<Vec<MicroOp>, DecodeError> {
    let micros = v.as_seq().ok_or_else(|| {
        DecodeError::new(format!("a multi-register :txn needs a vector of micro-ops, got {v}"))
    })?;
    micros.iter().map(|m| decode_micro(m, reads_known, unknown_nil)).collect()
}

/// Where a transaction's reads went wrong: the first read that saw something other than what the
/// register held at that point, with what it held and whether the txn itself had written it.
struct BadRead<'a> {
    key: &'a Value,
    seen: &'a Value,
    held: Value,
    own_write: bool,
}

/// Applies `txn` to `state`: the next state, or the first read that failed.
fn apply<'a>(
    state: &[(Value, Value)],
    txn: &'a MultiRegisterTxn,
) -> Result<Vec<(Value, Value)>, BadRead<'a>> {
    let mut next = state.to_vec();
    for (i, micro) in txn.0.iter().enumerate() {
        match micro {
            MicroOp::Read(key, Some(seen)) if value_of(&next, key) != seen => {
                let own_write = txn.0[..i].iter().any(|m| matches!(m, MicroOp::Write(k, _) if k == key));
                return Err(BadRead { key, seen, held: value_of(&next, key).clone(), own_write });
            }
            MicroOp::Read(..) => {}
            MicroOp::Write(key, v) => set_entry(&mut next, key, (!v.is_nil()).then(|| v.clone())),
        }
    }
    Ok(next)
}

impl Model for MultiRegister {
    type State = Vec<(Value, Value)>;
    type Op = MultiRegisterTxn;

    fn name(&self) -> &str {
        "multi-register"
    }

    fn state_heap_bytes(&self, state: &Vec<(Value, Value)>) -> usize {
        Value::pairs_heap_bytes(state)
    }

    fn init(&self) -> Vec<(Value, Value)> {
        canonical_entries(&self.init, Value::is_nil)
    }

    fn decode(&self, op: &OpView<'_>) -> Result<MultiRegisterTxn, DecodeError> {
        if op.f != "txn" {
            return Err(unknown_f("multi-register", op.f, ":txn"));
        }
        let unknown_nil = &self.unknown_nil_reads;
        let micros = match op.output {
            None => decode_txn(op.input, false, unknown_nil)?,
            // Some clients complete write-only txns with nil; a txn that read must say what.
            Some(Value::Nil) => {
                let micros = decode_txn(op.input, false, unknown_nil)?;
                if micros.iter().any(|m| matches!(m, MicroOp::Read(..))) {
                    return Err(DecodeError::new(format!(
                        "an :ok multi-register :txn that reads needs the values it read in its completion, \
                         got nil (invoked with {})",
                        op.input
                    )));
                }
                micros
            }
            Some(out) => decode_txn(out, true, unknown_nil)?,
        };
        Ok(MultiRegisterTxn(micros))
    }

    fn step(&self, state: &Vec<(Value, Value)>, txn: &MultiRegisterTxn) -> Option<Vec<(Value, Value)>> {
        apply(state, txn).ok()
    }

    fn is_read_only(&self, txn: &MultiRegisterTxn) -> bool {
        txn.0.iter().all(|m| matches!(m, MicroOp::Read(..)))
    }

    fn describe_op(&self, txn: &MultiRegisterTxn) -> String {
        let micros: Vec<String> = txn
            .0
            .iter()
            .map(|m| match m {
                MicroOp::Read(k, Some(v)) => format!("[:r {k} {v}]"),
                MicroOp::Read(k, None) => format!("[:r {k} ?]"),
                MicroOp::Write(k, v) => format!("[:w {k} {v}]"),
            })
            .collect();
        format!("txn [{}]", micros.join(" "))
    }

    fn describe_state(&self, state: &Vec<(Value, Value)>) -> String {
        let entries: Vec<String> = state.iter().map(|(k, v)| format!("{k} {v}")).collect();
        format!("{{{}}}", entries.join(", "))
    }

    fn explain(&self, state: &Vec<(Value, Value)>, txn: &MultiRegisterTxn) -> String {
        let Err(bad) = apply(state, txn) else {
            // Unreachable when called as documented (only after `step` refused the txn).
            return format!(
                "{} while the registers held {}",
                self.describe_op(txn),
                self.describe_state(state)
            );
        };
        let BadRead { key, seen, held, own_write } = bad;
        let why = if own_write {
            format!("the txn had itself written {held} to {key} before")
        } else {
            format!("{key} held {held}")
        };
        format!("in {}, the read of {key} saw {seen}, but {why}", self.describe_op(txn))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kw(s: &str) -> Value {
        Value::keyword(s)
    }

    fn micro(f: &str, k: &str, v: Value) -> Value {
        Value::vector(vec![kw(f), kw(k), v])
    }

    fn decode(input: Vec<Value>, output: Option<Vec<Value>>) -> Result<MultiRegisterTxn, DecodeError> {
        let (input, output) = (Value::vector(input), output.map(Value::vector));
        MultiRegister::default().decode(&OpView {
            f: "txn",
            input: &input,
            output: output.as_ref(),
            key: None,
        })
    }

    fn xy(x: i64, y: i64) -> Vec<(Value, Value)> {
        vec![(kw("x"), x.into()), (kw("y"), y.into())]
    }

    #[test]
    fn reads_come_from_the_completion() {
        let m = MultiRegister::with_init(Value::map(vec![(kw("x"), 0.into()), (kw("y"), 0.into())])).unwrap();
        let txn = decode(
            vec![micro("read", "x", Value::Nil), micro("write", "y", 2.into())],
            Some(vec![micro("r", "x", 0.into()), micro("w", "y", 2.into())]),
        )
        .unwrap();
        assert!(!m.is_read_only(&txn));
        assert_eq!(m.step(&m.init(), &txn), Some(xy(0, 2)));
        assert_eq!(m.step(&xy(1, 0), &txn), None);
        assert_eq!(
            m.explain(&xy(1, 0), &txn),
            "in txn [[:r :x 0] [:w :y 2]], the read of :x saw 0, but :x held 1"
        );
    }

    #[test]
    fn reads_see_the_txns_own_writes() {
        let m = MultiRegister::default();
        let txn = decode(vec![], Some(vec![micro("w", "x", 1.into()), micro("r", "x", 2.into())])).unwrap();
        assert_eq!(m.step(&m.init(), &txn), None);
        assert_eq!(
            m.explain(&m.init(), &txn),
            "in txn [[:w :x 1] [:r :x 2]], the read of :x saw 2, but the txn had itself written 1 to :x before"
        );
        // Registers absent from the state read nil; writing nil leaves no entry.
        let ok =
            decode(vec![], Some(vec![micro("r", "z", Value::Nil), micro("w", "x", Value::Nil)])).unwrap();
        assert_eq!(m.step(&xy(1, 1), &ok), Some(vec![(kw("y"), 1.into())]));
    }

    #[test]
    fn crashed_txn_reads_nothing_but_may_write() {
        let m = MultiRegister::default();
        let txn = decode(vec![micro("read", "x", 5.into()), micro("write", "y", 2.into())], None).unwrap();
        assert_eq!(txn.0[0], MicroOp::Read(kw("x"), None));
        assert_eq!(m.describe_op(&txn), "txn [[:r :x ?] [:w :y 2]]");
        assert_eq!(m.step(&m.init(), &txn), Some(vec![(kw("y"), 2.into())]));
        let read_only = decode(vec![micro("read", "x", Value::Nil)], None).unwrap();
        assert!(m.is_read_only(&read_only));
    }

    #[test]
    fn reads_of_nil_are_unknown_on_registers_that_can_never_be_nil() {
        let txn = |micros: Vec<Value>| Value::vector(micros);
        // :x starts 0 and is never written nil; :y starts 0 but a crashed txn writes nil to
        // it; :z starts nil.
        let reads =
            txn(vec![micro("r", "x", Value::Nil), micro("r", "y", Value::Nil), micro("r", "z", Value::Nil)]);
        let writes_nil = txn(vec![micro("w", "y", Value::Nil)]);
        let ops = [
            OpView { f: "txn", input: &reads, output: Some(&reads), key: None },
            OpView { f: "txn", input: &writes_nil, output: None, key: None },
            // A crashed txn's reads are not counted.
            OpView { f: "txn", input: &reads, output: None, key: None },
        ];
        let init = Value::map(vec![(kw("x"), 0.into()), (kw("y"), 0.into())]);
        let mut m = MultiRegister::with_init(init.clone()).unwrap();
        let warning = m.settle_nil_reads(None, ops.iter().copied()).unwrap();
        assert!(
            warning.starts_with("1 micro-op read of :x returned nil, read as reads of an unknown value"),
            "{warning}"
        );
        assert_eq!(m.unknown_nil_reads, Registers::Only(vec![kw("x")]));
        let decoded = m.decode(&ops[0]).unwrap();
        assert_eq!(
            decoded.0,
            vec![
                MicroOp::Read(kw("x"), None),
                MicroOp::Read(kw("y"), Some(Value::Nil)),
                MicroOp::Read(kw("z"), Some(Value::Nil))
            ]
        );
        assert_eq!(m.describe_op(&decoded), "txn [[:r :x ?] [:r :y nil] [:r :z nil]]");
        // Forced either way.
        let mut m = MultiRegister::with_init(init.clone()).unwrap();
        let warning = m.settle_nil_reads(Some(NilReads::Unknown), ops.iter().copied()).unwrap();
        assert!(warning.starts_with("3 micro-op reads of :x, :y and :z returned nil"), "{warning}");
        assert_eq!(m.unknown_nil_reads, Registers::All);
        let mut m = MultiRegister::with_init(init).unwrap();
        assert_eq!(m.settle_nil_reads(Some(NilReads::Value), ops.iter().copied()), None);
        assert!(!m.unknown_nil_reads.contains(&kw("x")));
    }

    #[test]
    fn decode_errors_say_what_was_expected() {
        let e = decode(vec![micro("cas", "x", 1.into())], None).unwrap_err();
        assert_eq!(
            e.message,
            "a multi-register :txn micro-op needs [:read k v] or [:write k v] (or :r, :w), got [:cas :x 1]"
        );
        let (input, out) = (Value::vector(vec![micro("r", "x", Value::Nil)]), Value::Nil);
        let e = MultiRegister::default().decode(&OpView {
            f: "txn",
            input: &input,
            output: Some(&out),
            key: None,
        });
        assert!(e.unwrap_err().message.starts_with("an :ok multi-register :txn that reads needs the values"));
        let e = MultiRegister::default().decode(&OpView {
            f: "txn",
            input: &Value::Int(1),
            output: None,
            key: None,
        });
        assert_eq!(e.unwrap_err().message, "a multi-register :txn needs a vector of micro-ops, got 1");
        let e = MultiRegister::default().decode(&OpView {
            f: "read",
            input: &Value::Nil,
            output: None,
            key: None,
        });
        assert_eq!(e.unwrap_err().message, "the multi-register model has no operation :read (it has :txn)");
        let e = MultiRegister::with_init(Value::Int(0)).unwrap_err();
        assert!(e.message.contains("needs a map of register → value"), "{}", e.message);
    }
}
