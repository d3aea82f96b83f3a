//! Read/write registers, with and without compare-and-set.

use super::{DecodeError, Model, OpView, pair, unknown_f};
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

fn decode(model: &str, op: &OpView<'_>, with_cas: bool) -> Result<RegisterOp, DecodeError> {
    match op.f {
        "read" => Ok(RegisterOp::Read(op.output.cloned())),
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
        }

        impl Default for $name {
            fn default() -> Self {
                $name { init: Value::Nil }
            }
        }

        impl $name {
            /// A register starting with `init`. Any value will do; the `Result` matches the
            /// other models' `with_init`, which validate their initial values.
            pub fn with_init(init: Value) -> Result<$name, DecodeError> {
                Ok($name { init })
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
                decode($cli, op, $with_cas)
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

    #[test]
    fn plain_register_rejects_cas() {
        let e = Register::default().decode(&view("cas", &Value::Nil, None)).unwrap_err();
        assert!(e.message.contains("no operation :cas"), "{}", e.message);
    }
}
