//! A lock: `acquire` and `release`, as Jepsen's lock workloads record them.

use super::{DecodeError, Model, OpView, unknown_f};

/// An op on a mutex. The ops' values carry nothing the model needs and are ignored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MutexOp {
    /// Take the lock: only possible while it is free.
    Acquire,
    /// Give the lock back: only possible while it is held.
    Release,
}

/// A mutex: `acquire` (free → held), `release` (held → free). The state is `true` while held.
///
/// The lock does not track its owner: a history in which one process releases a lock another
/// acquired is accepted, as in Knossos's mutex model. A crashed acquire or release is left to the
/// search, which may take it at any point after its invocation, or never.
#[derive(Clone, Copy, Debug, Default)]
pub struct Mutex;

impl Model for Mutex {
    type State = bool;
    type Op = MutexOp;

    fn name(&self) -> &str {
        "mutex"
    }

    /// Free.
    fn init(&self) -> bool {
        false
    }

    fn decode(&self, op: &OpView<'_>) -> Result<MutexOp, DecodeError> {
        match op.f {
            "acquire" => Ok(MutexOp::Acquire),
            "release" => Ok(MutexOp::Release),
            f => Err(unknown_f("mutex", f, ":acquire, :release")),
        }
    }

    fn step(&self, held: &bool, op: &MutexOp) -> Option<bool> {
        match op {
            MutexOp::Acquire => (!held).then_some(true),
            MutexOp::Release => held.then_some(false),
        }
    }

    fn describe_op(&self, op: &MutexOp) -> String {
        match op {
            MutexOp::Acquire => "acquire",
            MutexOp::Release => "release",
        }
        .to_string()
    }

    fn describe_state(&self, held: &bool) -> String {
        if *held { "held" } else { "free" }.to_string()
    }

    fn explain(&self, held: &bool, op: &MutexOp) -> String {
        match (op, held) {
            (MutexOp::Acquire, true) => "acquire while the lock was already held".to_string(),
            (MutexOp::Release, false) => "release while the lock was free (nobody held it)".to_string(),
            // Unreachable when called as documented (only after `step` refused the op).
            _ => format!("{} while the lock was {}", self.describe_op(op), self.describe_state(held)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Value;

    fn decode(f: &str) -> Result<MutexOp, DecodeError> {
        Mutex.decode(&OpView { f, input: &Value::Nil, output: Some(&Value::Nil), key: None })
    }

    #[test]
    fn acquire_and_release_alternate() {
        let m = Mutex;
        let (acq, rel) = (decode("acquire").unwrap(), decode("release").unwrap());
        let held = m.step(&m.init(), &acq).unwrap();
        assert!(held);
        assert_eq!(m.describe_state(&held), "held");
        assert_eq!(m.step(&held, &rel), Some(false));
        assert_eq!(m.step(&held, &acq), None);
        assert_eq!(m.step(&false, &rel), None);
    }

    #[test]
    fn explains_double_acquire_and_stray_release() {
        let m = Mutex;
        assert_eq!(m.explain(&true, &MutexOp::Acquire), "acquire while the lock was already held");
        assert_eq!(m.explain(&false, &MutexOp::Release), "release while the lock was free (nobody held it)");
    }

    #[test]
    fn rejects_other_functions() {
        let e = decode("lock").unwrap_err();
        assert_eq!(e.message, "the mutex model has no operation :lock (it has :acquire, :release)");
    }
}
