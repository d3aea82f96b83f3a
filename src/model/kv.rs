//! Porcupine's key-value store: string values, `get`, `put` and `append`, keyed by the op's
//! `:key`.

use super::{DecodeError, Model, OpView, canonical_entries, entry, set_entry, unknown_f};
use crate::history::Value;
use std::sync::Arc;

/// The store's contents: `(key, value)` sorted by key, holding only keys whose value is not
/// `""` (every other key reads as `""`), so equal contents are equal states. Values are shared
/// rather than copied when a state is cloned.
pub type KvState = Vec<(Value, Arc<str>)>;

/// What a kv op does to its key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum KvAction {
    /// A read that returned this string (`None`: the result is unknown).
    Get(Option<Arc<str>>),
    /// Replace the value.
    Put(Arc<str>),
    /// Append to the value.
    Append(Arc<str>),
}

/// An op on the kv store: an action on one key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KvOp {
    /// The op's `:key`.
    pub key: Value,
    /// What it does there.
    pub action: KvAction,
}

/// A map from keys to strings, every key initially `""`: `get` returns the key's string (an
/// `:ok` get of `nil` reads as `""`; a get whose result is unknown constrains nothing), `put`
/// replaces it, `append` appends to it. The key is the op's `:key` field; values must be strings.
///
/// Histories are usually split by key before checking, so a state usually holds one entry.
#[derive(Clone, Debug, Default)]
pub struct Kv {
    /// The values before the history starts (absent keys are `""`). Need not be sorted:
    /// [`Model::init`] normalizes it.
    pub init: KvState,
}

impl Kv {
    /// A store starting with the contents of `init`: a map of key → string (a `nil` value, or
    /// `nil` for the whole map, means `""`).
    pub fn with_init(init: Value) -> Result<Kv, DecodeError> {
        let entries = match &init {
            Value::Nil => return Ok(Kv::default()),
            Value::Map(entries) => entries,
            _ => {
                return Err(DecodeError::new(format!(
                    "the kv's initial value needs a map of key → string, got {init}"
                )));
            }
        };
        let init = entries
            .iter()
            .map(|(k, v)| Ok((k.clone(), string_or_nil(v, &format!("the initial value of key {k}"))?)))
            .collect::<Result<_, DecodeError>>()?;
        Ok(Kv { init })
    }
}

/// `v` as a string, or an error naming `what` needed it.
fn string(v: &Value, what: &str) -> Result<Arc<str>, DecodeError> {
    match v {
        Value::Str(s) => Ok(s.clone()),
        _ => Err(DecodeError::new(format!("{what} needs a string, got {v}"))),
    }
}

/// Like [`string`], but `nil` is `""`: what a read of a never-written key may return.
fn string_or_nil(v: &Value, what: &str) -> Result<Arc<str>, DecodeError> {
    if v.is_nil() { Ok(Arc::from("")) } else { string(v, what) }
}

/// The value of `key`: `""` when absent.
fn lookup<'a>(state: &'a KvState, key: &Value) -> &'a str {
    entry(state, key).map_or("", |v| v)
}

/// `state` with `key` set to `value`, keeping the "no `""` entries" invariant.
fn assign(state: &KvState, key: &Value, value: Arc<str>) -> KvState {
    let mut next = state.clone();
    set_entry(&mut next, key, (!value.is_empty()).then_some(value));
    next
}

impl Model for Kv {
    type State = KvState;
    type Op = KvOp;

    fn name(&self) -> &str {
        "kv"
    }

    fn init(&self) -> KvState {
        canonical_entries(&self.init, |v| v.is_empty())
    }

    /// The entries' buffer and the keys' (values are shared text).
    fn state_heap_bytes(&self, state: &KvState) -> usize {
        state.capacity() * std::mem::size_of::<(Value, Arc<str>)>()
            + state.iter().map(|(k, _)| k.heap_bytes()).sum::<usize>()
    }

    fn decode(&self, op: &OpView<'_>) -> Result<KvOp, DecodeError> {
        let action = match op.f {
            "get" => KvAction::Get(
                op.output.map(|v| string_or_nil(v, "a kv :get result (nil means \"\")")).transpose()?,
            ),
            "put" => KvAction::Put(string(op.input, "a kv :put")?),
            "append" => KvAction::Append(string(op.input, "a kv :append")?),
            f => return Err(unknown_f("kv", f, ":get, :put, :append")),
        };
        let key = op
            .key
            .ok_or_else(|| DecodeError::new(format!("a kv :{} needs a :key, and this op has none", op.f)))?;
        Ok(KvOp { key: key.clone(), action })
    }

    fn step(&self, state: &KvState, op: &KvOp) -> Option<KvState> {
        match &op.action {
            KvAction::Get(None) => Some(state.clone()),
            KvAction::Get(Some(seen)) => (**seen == *lookup(state, &op.key)).then(|| state.clone()),
            KvAction::Put(v) => Some(assign(state, &op.key, v.clone())),
            KvAction::Append(v) if v.is_empty() => Some(state.clone()),
            KvAction::Append(v) => {
                Some(assign(state, &op.key, Arc::from(format!("{}{v}", lookup(state, &op.key)))))
            }
        }
    }

    fn implied_order(&self, ops: &[KvOp], _completed: usize) -> super::Implied {
        super::kv_trace::implied(ops, &self.init)
    }

    fn is_read_only(&self, op: &KvOp) -> bool {
        matches!(op.action, KvAction::Get(_))
    }

    fn describe_op(&self, op: &KvOp) -> String {
        let key = &op.key;
        match &op.action {
            KvAction::Get(None) => format!("get {key} (result unknown)"),
            KvAction::Get(Some(seen)) => format!("get {key} = {seen:?}"),
            KvAction::Put(v) => format!("put {key} {v:?}"),
            KvAction::Append(v) => format!("append {key} {v:?}"),
        }
    }

    fn describe_state(&self, state: &KvState) -> String {
        let entries: Vec<String> = state.iter().map(|(k, v)| format!("{k} {v:?}")).collect();
        format!("{{{}}}", entries.join(", "))
    }

    /// Points at the difference when one string is a prefix of the other, the usual shape of a
    /// stale or premature read of appends.
    fn explain(&self, state: &KvState, op: &KvOp) -> String {
        let KvAction::Get(Some(seen)) = &op.action else {
            // Unreachable when called as documented: writes and unknown gets always step.
            return format!("{} while the store held {}", self.describe_op(op), self.describe_state(state));
        };
        let (key, held) = (&op.key, lookup(state, &op.key));
        let hint = if let Some(rest) = held.strip_prefix(&**seen) {
            format!(": the read lacks the trailing {rest:?}, written before it")
        } else if let Some(rest) = seen.strip_prefix(held) {
            format!(": the read has a trailing {rest:?} that was not written yet")
        } else {
            String::new()
        };
        format!("get {key} returned {seen:?}, but {key} held {held:?}{hint}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(f: &str, input: &str, output: Option<&Value>) -> Result<KvOp, DecodeError> {
        let (input, key) = (Value::string(input), Value::string("k"));
        Kv::default().decode(&OpView { f, input: &input, output, key: Some(&key) })
    }

    #[test]
    fn put_append_get() {
        let m = Kv::default();
        let s = m.step(&m.init(), &op("append", "x", None).unwrap()).unwrap();
        let s = m.step(&s, &op("append", "y", None).unwrap()).unwrap();
        assert_eq!(s, vec![(Value::string("k"), Arc::from("xy"))]);
        let get_xy = op("get", "", Some(&Value::string("xy"))).unwrap();
        assert!(m.is_read_only(&get_xy));
        assert_eq!(m.step(&s, &get_xy), Some(s.clone()));
        let s = m.step(&s, &op("put", "z", None).unwrap()).unwrap();
        assert_eq!(m.step(&s, &get_xy), None);
        assert_eq!(m.describe_state(&s), "{\"k\" \"z\"}");
    }

    #[test]
    fn empty_strings_and_nil_gets() {
        let m = Kv::default();
        // An :ok get of nil reads "", the initial value of every key.
        let get_nil = op("get", "", Some(&Value::Nil)).unwrap();
        assert_eq!(m.step(&m.init(), &get_nil), Some(vec![]));
        // Putting "" leaves no entry, so the state equals the initial one.
        let s = m.step(&m.init(), &op("put", "a", None).unwrap()).unwrap();
        assert_eq!(m.step(&s, &op("put", "", None).unwrap()), Some(vec![]));
        // A get whose result is unknown constrains nothing.
        assert_eq!(m.step(&s, &op("get", "", None).unwrap()), Some(s.clone()));
    }

    #[test]
    fn explains_stale_and_premature_gets() {
        let m = Kv::with_init(Value::map(vec![(Value::string("k"), Value::string("ab"))])).unwrap();
        let s = m.init();
        let stale = op("get", "", Some(&Value::string("a"))).unwrap();
        assert_eq!(
            m.explain(&s, &stale),
            "get \"k\" returned \"a\", but \"k\" held \"ab\": the read lacks the trailing \"b\", written before it"
        );
        let early = op("get", "", Some(&Value::string("abc"))).unwrap();
        assert_eq!(
            m.explain(&s, &early),
            "get \"k\" returned \"abc\", but \"k\" held \"ab\": the read has a trailing \"c\" that was not written yet"
        );
        let other = op("get", "", Some(&Value::string("x"))).unwrap();
        assert_eq!(m.explain(&s, &other), "get \"k\" returned \"x\", but \"k\" held \"ab\"");
    }

    #[test]
    fn decode_errors_name_the_op() {
        let e = Kv::default().decode(&OpView { f: "get", input: &Value::Nil, output: None, key: None });
        assert_eq!(e.unwrap_err().message, "a kv :get needs a :key, and this op has none");
        let key = Value::string("k");
        let e =
            Kv::default().decode(&OpView { f: "put", input: &Value::Int(3), output: None, key: Some(&key) });
        assert_eq!(e.unwrap_err().message, "a kv :put needs a string, got 3");
        let e =
            Kv::default().decode(&OpView { f: "append", input: &Value::Nil, output: None, key: Some(&key) });
        assert_eq!(e.unwrap_err().message, "a kv :append needs a string, got nil");
        let e = Kv::with_init(Value::map(vec![(key.clone(), Value::Int(1))])).unwrap_err();
        assert_eq!(e.message, "the initial value of key \"k\" needs a string, got 1");
        let e = op("get", "", Some(&Value::Int(3))).unwrap_err();
        assert_eq!(e.message, "a kv :get result (nil means \"\") needs a string, got 3");
        let e = op("cas", "", None).unwrap_err();
        assert_eq!(e.message, "the kv model has no operation :cas (it has :get, :put, :append)");
        let e = Kv::with_init(Value::vector(vec![])).unwrap_err();
        assert_eq!(e.message, "the kv's initial value needs a map of key → string, got []");
    }
}
