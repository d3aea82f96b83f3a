//! Read/write registers, with and without compare-and-set.

use super::{DecodeError, Model, NilReads, OpView, pair, unknown_f};
use crate::history::Value;

/// An op on a register.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RegisterOp {
    /// A read that returned this value (`None`: the result is unknown).
    Read(Option<Value>),
    /// Write a value.
    Write(Value),
    /// Compare-and-set: if the register holds `.0`, set it to `.1`.
    Cas(Value, Value),
}

fn decode(
    model: &str,
    op: &OpView<'_>,
    with_cas: bool,
    nil_reads: NilReads,
) -> Result<RegisterOp, DecodeError> {
    match op.f {
        "read" => Ok(RegisterOp::Read(match op.output {
            // Decided once for the history: the search never sees a read of nil as one.
            Some(Value::Nil) if nil_reads == NilReads::Unknown => None,
            output => output.cloned(),
        })),
        "write" => Ok(RegisterOp::Write(op.input.clone())),
        "cas" if with_cas => {
            let (old, new) = pair(op.input, "a cas")?;
            Ok(RegisterOp::Cas(old.clone(), new.clone()))
        }
        f => Err(unknown_f(model, f, if with_cas { ":read, :write, :cas" } else { ":read, :write" })),
    }
}

fn step(state: &Value, op: &RegisterOp) -> Option<Value> {
    match op {
        RegisterOp::Read(None) => Some(state.clone()),
        RegisterOp::Read(Some(v)) => (v == state).then(|| state.clone()),
        RegisterOp::Write(v) => Some(v.clone()),
        RegisterOp::Cas(old, new) => (old == state).then(|| new.clone()),
    }
}

/// What a history's register ops say about `nil` (see [`Register::settle_nil_reads`]).
#[derive(Default)]
struct NilUse {
    /// Some op writes `nil` (a write of it, a cas to it), whatever its outcome.
    written: bool,
    /// Completed reads that returned `nil`.
    reads: usize,
}

impl NilUse {
    fn of<'a>(views: impl Iterator<Item = OpView<'a>>) -> NilUse {
        let mut found = NilUse::default();
        for op in views {
            match op.f {
                "write" => found.written |= op.input.is_nil(),
                "cas" => found.written |= op.input.as_seq().is_some_and(|v| v.len() == 2 && v[1].is_nil()),
                "read" => found.reads += usize::from(op.output.is_some_and(Value::is_nil)),
                _ => {}
            }
        }
        found
    }
}

/// How reads of `nil` are read, from `choice` or else the history, and the warning saying how
/// many reads were read as unknown values.
fn settle<'a>(
    init: &Value,
    choice: Option<NilReads>,
    views: impl Iterator<Item = OpView<'a>>,
) -> (NilReads, Option<String>) {
    // Reads of nil stay values: no need to look at the history.
    if choice == Some(NilReads::Value) || (choice.is_none() && init.is_nil()) {
        return (NilReads::Value, None);
    }
    let found = NilUse::of(views);
    let (nil_reads, why) = match choice {
        Some(forced) => (forced, "(--nil-reads unknown)".to_string()),
        None if found.written => (NilReads::Value, String::new()),
        None => (
            NilReads::Unknown,
            format!(
                "(as Knossos reads them): nil is never the register's state here (it starts at {init} and no op \
                 writes nil); --nil-reads value checks them as reads of nil"
            ),
        ),
    };
    let warning = (nil_reads == NilReads::Unknown && found.reads > 0).then(|| {
        let reads = if found.reads == 1 { "1 read".to_string() } else { format!("{} reads", found.reads) };
        format!("{reads} returned nil, read as reads of an unknown value {why}")
    });
    (nil_reads, warning)
}

fn describe(op: &RegisterOp) -> String {
    match op {
        RegisterOp::Read(None) => "read (result unknown)".to_string(),
        RegisterOp::Read(Some(v)) => format!("read {v}"),
        RegisterOp::Write(v) => format!("write {v}"),
        RegisterOp::Cas(old, new) => format!("cas {old}→{new}"),
    }
}

fn explain(state: &Value, op: &RegisterOp) -> String {
    match op {
        RegisterOp::Read(Some(v)) => format!("read {v}, but the register held {state}"),
        RegisterOp::Cas(old, new) => {
            format!("cas {old}→{new} succeeded, but the register held {state}, not {old}")
        }
        _ => format!("{} is impossible when the register holds {state}", describe(op)),
    }
}

macro_rules! register_model {
    ($name:ident, $cli:literal, $with_cas:expr, $doc:literal) => {
        #[doc = $doc]
        #[derive(Clone, Debug)]
        pub struct $name {
            /// The initial value (Jepsen's default is `nil`).
            pub init: Value,
            /// How a completed read of `nil` is read ([`NilReads::Value`] unless told).
            pub nil_reads: NilReads,
        }

        impl Default for $name {
            fn default() -> Self {
                $name { init: Value::Nil, nil_reads: NilReads::Value }
            }
        }

        impl $name {
            /// A register starting with `init`. Any value will do; the `Result` matches the
            /// other models' `with_init`, which validate their initial values.
            pub fn with_init(init: Value) -> Result<$name, DecodeError> {
                Ok($name { init, nil_reads: NilReads::Value })
            }

            /// Decides, before any op is decoded, how completed reads of `nil` are read: as
            /// `choice` says (`--nil-reads`), or else from the history's ops (`views`, every
            /// key's together): as reads of an unknown value when `nil` can never be the
            /// state — the initial value is not `nil` and no op (whatever its outcome) writes
            /// `nil` — and as reads of `nil` otherwise. Returns a warning saying how many
            /// reads were read as unknown values, if any were.
            pub fn settle_nil_reads<'a>(
                &mut self,
                choice: Option<NilReads>,
                views: impl Iterator<Item = OpView<'a>>,
            ) -> Option<String> {
                let (nil_reads, warning) = settle(&self.init, choice, views);
                self.nil_reads = nil_reads;
                warning
            }
        }

        impl Model for $name {
            type State = Value;
            type Op = RegisterOp;

            fn name(&self) -> &str {
                $cli
            }
            fn init(&self) -> Value {
                self.init.clone()
            }
            fn state_heap_bytes(&self, state: &Value) -> usize {
                state.heap_bytes()
            }
            fn decode(&self, op: &OpView<'_>) -> Result<RegisterOp, DecodeError> {
                decode($cli, op, $with_cas, self.nil_reads)
            }
            fn step(&self, state: &Value, op: &RegisterOp) -> Option<Value> {
                step(state, op)
            }
            fn implied_order(&self, ops: &[RegisterOp], completed: usize) -> super::Implied {
                super::register_trace::implied(ops, completed, &self.init)
            }
            fn needs(&self, op: &RegisterOp) -> Option<super::Fact> {
                match op {
                    RegisterOp::Read(v) => v.as_ref().map(super::Fact::of),
                    RegisterOp::Cas(old, _) => Some(super::Fact::of(old)),
                    RegisterOp::Write(_) => None,
                }
            }
            fn leaves(&self, op: &RegisterOp) -> Option<super::Fact> {
                match op {
                    RegisterOp::Read(_) => None,
                    RegisterOp::Write(v) | RegisterOp::Cas(_, v) => Some(super::Fact::of(v)),
                }
            }
            fn holds(&self, state: &Value, fact: super::Fact) -> bool {
                super::Fact::of(state) == fact
            }
            fn is_read_only(&self, op: &RegisterOp) -> bool {
                matches!(op, RegisterOp::Read(_))
            }
            fn register_init(&self) -> Option<&Value> {
                Some(&self.init)
            }
            fn register_access<'a>(&self, op: &'a RegisterOp) -> Option<super::Access<'a>> {
                match op {
                    RegisterOp::Read(v) => Some(super::Access::Read(v.as_ref())),
                    RegisterOp::Write(v) => Some(super::Access::Write(v)),
                    RegisterOp::Cas(old, new) => Some(super::Access::Cas(old, new)),
                }
            }
            fn describe_op(&self, op: &RegisterOp) -> String {
                describe(op)
            }
            fn describe_state(&self, state: &Value) -> String {
                state.to_string()
            }
            fn explain(&self, state: &Value, op: &RegisterOp) -> String {
                explain(state, op)
            }
        }
    };
}

register_model!(Register, "register", false, "A read/write register: `read`, `write`.");
register_model!(
    CasRegister,
    "cas-register",
    true,
    "A compare-and-set register: `read`, `write`, `cas [old new]`."
);

#[cfg(test)]
mod tests {
    use super::*;

    fn view<'a>(f: &'a str, input: &'a Value, output: Option<&'a Value>) -> OpView<'a> {
        OpView { f, input, output, key: None }
    }

    #[test]
    fn cas_register_steps() {
        let m = CasRegister::default();
        let cas = m.decode(&view("cas", &Value::vector(vec![Value::Nil, 1.into()]), None)).unwrap();
        let s1 = m.step(&m.init(), &cas).unwrap();
        assert_eq!(s1, Value::Int(1));
        assert!(m.step(&s1, &cas).is_none());
        let read2 = m.decode(&view("read", &Value::Nil, Some(&Value::Int(2)))).unwrap();
        assert!(m.step(&s1, &read2).is_none());
        assert_eq!(m.explain(&s1, &read2), "read 2, but the register held 1");
    }

    /// Completed reads, a write and a cas, as a history's views would show them.
    fn views<'a>(ops: &'a [(&'a str, Value, Option<Value>)]) -> impl Iterator<Item = OpView<'a>> {
        ops.iter().map(|(f, input, output)| view(f, input, output.as_ref()))
    }

    #[test]
    fn reads_of_nil_are_unknown_only_where_nil_can_never_be_the_state() {
        let (read_nil, read_3) =
            (("read", Value::Nil, Some(Value::Nil)), ("read", Value::Nil, Some(Value::Int(3))));
        // A crashed read of nil is not counted: it constrains nothing either way.
        let crashed = ("read", Value::Nil, None);
        let ops =
            [read_nil.clone(), read_3.clone(), read_nil.clone(), crashed, ("write", Value::Int(3), None)];
        let mut m = CasRegister::with_init(Value::Int(0)).unwrap();
        let warning = m.settle_nil_reads(None, views(&ops)).unwrap();
        assert_eq!(m.nil_reads, NilReads::Unknown);
        assert!(
            warning.starts_with("2 reads returned nil, read as reads of an unknown value (as Knossos"),
            "{warning}"
        );
        assert!(warning.contains("it starts at 0 and no op writes nil"), "{warning}");
        let read = m.decode(&view("read", &Value::Nil, Some(&Value::Nil))).unwrap();
        assert_eq!(read, RegisterOp::Read(None));
        assert_eq!(m.needs(&read), None, "it needs nothing");
        assert_eq!(m.step(&Value::Int(7), &read), Some(Value::Int(7)));
        // Other reads keep their values.
        let read3 = m.decode(&view("read", &Value::Nil, Some(&Value::Int(3)))).unwrap();
        assert_eq!(read3, RegisterOp::Read(Some(Value::Int(3))));
        // Starting nil, or with some op writing nil (a write, or a cas to nil, whatever its
        // outcome), nil is a value.
        let mut m = CasRegister::default();
        assert_eq!(m.settle_nil_reads(None, views(&ops)), None);
        assert_eq!(m.nil_reads, NilReads::Value);
        for writes_nil in
            [("write", Value::Nil, None), ("cas", Value::vector(vec![3.into(), Value::Nil]), None)]
        {
            let ops = [read_nil.clone(), writes_nil];
            let mut m = CasRegister::with_init(Value::Int(0)).unwrap();
            assert_eq!(m.settle_nil_reads(None, views(&ops)), None);
            assert_eq!(m.nil_reads, NilReads::Value);
            assert_eq!(
                m.decode(&view("read", &Value::Nil, Some(&Value::Nil))).unwrap(),
                RegisterOp::Read(Some(Value::Nil))
            );
        }
        // --nil-reads overrides the choice both ways.
        let mut m = Register::default();
        let warning = m.settle_nil_reads(Some(NilReads::Unknown), views(&ops)).unwrap();
        assert_eq!(warning, "2 reads returned nil, read as reads of an unknown value (--nil-reads unknown)");
        let mut m = Register::with_init(Value::Int(0)).unwrap();
        assert_eq!(m.settle_nil_reads(Some(NilReads::Value), views(&ops)), None);
        assert_eq!(m.nil_reads, NilReads::Value);
        // One read: said in the singular; none: no warning.
        let mut m = Register::with_init(Value::Int(0)).unwrap();
        assert!(m.settle_nil_reads(None, views(&ops[..1])).unwrap().starts_with("1 read returned nil,"));
        assert_eq!(m.settle_nil_reads(None, views(&ops[1..2])), None);
        assert_eq!(m.nil_reads, NilReads::Unknown);
    }

    #[test]
    fn plain_register_rejects_cas() {
        let e = Register::default().decode(&view("cas", &Value::Nil, None)).unwrap_err();
        assert!(e.message.contains("no operation :cas"), "{}", e.message);
    }
}
