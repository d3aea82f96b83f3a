//! EDN-shaped values: what an operation's `:f`, `:value` and `:key` hold.
//!
//! Every reader (EDN, JSON, text log) produces these, so checkers and models see one
//! representation whatever the input format. Collections compare structurally; sets and maps
//! are kept sorted so that equal values hash equally regardless of the order they were written.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// A 64-bit float compared and hashed by its total order, so `Value` can be `Eq + Hash + Ord`.
#[derive(Clone, Copy, Debug)]
pub struct Float(pub f64);

impl PartialEq for Float {
    fn eq(&self, other: &Self) -> bool {
        self.0.total_cmp(&other.0) == Ordering::Equal
    }
}
impl Eq for Float {}
impl Hash for Float {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.to_bits().hash(state)
    }
}
impl PartialOrd for Float {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Float {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// One value as it appears in a history.
///
/// Strings, keywords and symbols are reference-counted so that cloning a value (which the
/// readers do for every repeated `:f`) never copies text.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Value {
    /// `nil` (JSON `null`).
    Nil,
    /// `true` / `false`.
    Bool(bool),
    /// An integer that fits in 64 bits.
    Int(i64),
    /// A number kept as its text: big integers (`12N`, or too large for 64 bits), decimals
    /// (`1.5M`) and ratios (`1/2`).
    Number(Arc<str>),
    /// A floating-point number.
    Float(Float),
    /// A string.
    Str(Arc<str>),
    /// A keyword, without its leading colon (`:write` is `Keyword("write")`).
    Keyword(Arc<str>),
    /// A symbol (`foo`, `jepsen.independent/tuple`).
    Symbol(Arc<str>),
    /// A character literal (`\a`).
    Char(char),
    /// `[a b c]` (a JSON array). Shared, like every collection here: cloning a value never
    /// copies its elements.
    Vector(Arc<[Value]>),
    /// `(a b c)`.
    List(Arc<[Value]>),
    /// `#{a b c}`, sorted and without duplicates. Shared: a set model's decoded reads are the
    /// history's own sets, not copies (a history whose reads return a growing set holds a
    /// quadratic number of elements).
    Set(Arc<[Value]>),
    /// `{k v ...}` (a JSON object), sorted by key.
    Map(Arc<[(Value, Value)]>),
    /// A tagged literal: `#tag value`, or a record `#ns.Name{...}`. Boxed, as it is rare, to
    /// keep every value at three words.
    Tagged(Box<TaggedValue>),
}

/// The parts of a tagged literal `#tag value`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaggedValue {
    /// The tag, without its `#` (`inst`, `jepsen.independent.Tuple`).
    pub tag: Arc<str>,
    /// The value it tags.
    pub value: Value,
}

impl Value {
    /// Approximate heap bytes this value owns: its containers' buffers, recursively. Shared
    /// text (`Arc<str>`, interned by the readers) is not counted.
    pub fn heap_bytes(&self) -> usize {
        match self {
            Value::Vector(v) | Value::List(v) | Value::Set(v) => Value::slice_heap_bytes(v),
            Value::Map(pairs) => Value::pairs_slice_heap_bytes(pairs),
            Value::Tagged(t) => std::mem::size_of::<TaggedValue>() + t.value.heap_bytes(),
            _ => 0,
        }
    }

    /// Heap bytes of shared elements: their buffer and what they own. A buffer shared by
    /// several values is counted for each, so a charge built from this errs high.
    fn slice_heap_bytes(values: &[Value]) -> usize {
        std::mem::size_of_val(values) + values.iter().map(Value::heap_bytes).sum::<usize>()
    }

    /// Heap bytes of a vector of values (a set's or a queue's state, say): its buffer and what
    /// its elements own.
    pub fn vec_heap_bytes(values: &Vec<Value>) -> usize {
        (values.capacity() - values.len()) * std::mem::size_of::<Value>() + Value::slice_heap_bytes(values)
    }

    /// Heap bytes of a vector of pairs (a map's entries): its buffer and what the pairs own.
    pub fn pairs_heap_bytes(pairs: &Vec<(Value, Value)>) -> usize {
        (pairs.capacity() - pairs.len()) * std::mem::size_of::<(Value, Value)>()
            + Value::pairs_slice_heap_bytes(pairs)
    }

    /// Heap bytes of shared map entries: their buffer and what the keys and values own.
    fn pairs_slice_heap_bytes(pairs: &[(Value, Value)]) -> usize {
        std::mem::size_of_val(pairs)
            + pairs.iter().map(|(k, v)| k.heap_bytes() + v.heap_bytes()).sum::<usize>()
    }

    /// A keyword value from its name (without the colon).
    pub fn keyword(name: &str) -> Value {
        Value::Keyword(Arc::from(name))
    }

    /// A string value.
    pub fn string(s: &str) -> Value {
        Value::Str(Arc::from(s))
    }

    /// A vector of `items`.
    pub fn vector(items: Vec<Value>) -> Value {
        Value::Vector(items.into())
    }

    /// A list of `items`.
    pub fn list(items: Vec<Value>) -> Value {
        Value::List(items.into())
    }

    /// The tagged literal `#tag value`.
    pub fn tagged(tag: &str, value: Value) -> Value {
        Value::Tagged(Box::new(TaggedValue { tag: Arc::from(tag), value }))
    }

    /// A set from elements in any order: sorts and removes duplicates.
    pub fn set(mut items: Vec<Value>) -> Value {
        items.sort();
        items.dedup();
        Value::Set(items.into())
    }

    /// A map from entries in any order: sorts by key. A repeated key keeps its last value,
    /// as Clojure's reader would reject and JSON readers usually keep the last.
    pub fn map(mut entries: Vec<(Value, Value)>) -> Value {
        entries.reverse();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        entries.dedup_by(|a, b| a.0 == b.0);
        Value::Map(entries.into())
    }

    /// The integer, if this is one.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The name of a keyword, or the text of a string: how `:f` and `:type` are spelled in
    /// EDN and JSON respectively.
    pub fn as_name(&self) -> Option<&str> {
        match self {
            Value::Keyword(s) | Value::Str(s) | Value::Symbol(s) => Some(s),
            _ => None,
        }
    }

    /// The elements of a vector or list (JSON arrays are vectors).
    pub fn as_seq(&self) -> Option<&[Value]> {
        match self {
            Value::Vector(v) | Value::List(v) => Some(v),
            _ => None,
        }
    }

    /// The `(k, v)` of an independent-key tuple: a 2-vector `[k v]`, or Jepsen's
    /// `#jepsen.independent.Tuple{:key k, :value v}` record.
    pub fn as_tuple(&self) -> Option<(&Value, &Value)> {
        match self {
            Value::Vector(kv) if kv.len() == 2 => Some((&kv[0], &kv[1])),
            Value::Tagged(t) if t.tag.ends_with("Tuple") => {
                Some((t.value.get(&Value::keyword("key"))?, t.value.get(&Value::keyword("value"))?))
            }
            _ => None,
        }
    }

    /// True for `nil`.
    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }

    /// Looks up `key` in a map value.
    pub fn get(&self, key: &Value) -> Option<&Value> {
        match self {
            Value::Map(entries) => entries.binary_search_by(|(k, _)| k.cmp(key)).ok().map(|i| &entries[i].1),
            _ => None,
        }
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Int(i)
    }
}

fn write_seq(f: &mut fmt::Formatter<'_>, open: &str, items: &[Value], close: &str) -> fmt::Result {
    f.write_str(open)?;
    for (i, v) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(" ")?;
        }
        write!(f, "{v}")?;
    }
    f.write_str(close)
}

/// A string literal with EDN's escapes. (Rust's `{:?}` would write `\u{1b}` and `\0`, which
/// no EDN reader takes.)
fn write_edn_string(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_str("\"")?;
    let mut plain = 0;
    for (i, c) in s.char_indices() {
        let escape = match c {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            '\t' => "\\t",
            '\r' => "\\r",
            '\u{8}' => "\\b",
            '\u{c}' => "\\f",
            c if c.is_control() => "",
            _ => continue,
        };
        f.write_str(&s[plain..i])?;
        if escape.is_empty() {
            write!(f, "\\u{:04x}", u32::from(c))?;
        } else {
            f.write_str(escape)?;
        }
        plain = i + c.len_utf8();
    }
    f.write_str(&s[plain..])?;
    f.write_str("\"")
}

/// A character literal: named for whitespace (which would otherwise vanish), `\uXXXX` for
/// other control characters, else the character itself.
fn write_edn_char(f: &mut fmt::Formatter<'_>, c: char) -> fmt::Result {
    match c {
        '\n' => f.write_str("\\newline"),
        ' ' => f.write_str("\\space"),
        '\t' => f.write_str("\\tab"),
        '\r' => f.write_str("\\return"),
        '\u{c}' => f.write_str("\\formfeed"),
        '\u{8}' => f.write_str("\\backspace"),
        c if c.is_control() || c.is_whitespace() => write!(f, "\\u{:04x}", u32::from(c)),
        c => write!(f, "\\{c}"),
    }
}

/// Renders the value as EDN, the notation Jepsen users read.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Nil => f.write_str("nil"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Number(s) => f.write_str(s),
            Value::Float(x) => {
                if x.0.is_nan() {
                    f.write_str("##NaN")
                } else if x.0.is_infinite() {
                    f.write_str(if x.0 > 0.0 { "##Inf" } else { "##-Inf" })
                } else {
                    // Debug is the shortest text that reads back to the same float, always
                    // with a '.' or an exponent ("1.0", "1e300"), so it reads back as a float.
                    write!(f, "{:?}", x.0)
                }
            }
            Value::Str(s) => write_edn_string(f, s),
            Value::Keyword(s) => write!(f, ":{s}"),
            Value::Symbol(s) => f.write_str(s),
            Value::Char(c) => write_edn_char(f, *c),
            Value::Vector(v) => write_seq(f, "[", v, "]"),
            Value::List(v) => write_seq(f, "(", v, ")"),
            Value::Set(v) => write_seq(f, "#{", v, "}"),
            Value::Map(entries) => {
                f.write_str("{")?;
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k} {v}")?;
                }
                f.write_str("}")
            }
            Value::Tagged(t) => write!(f, "#{} {}", t.tag, t.value),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A history of large reads holds a value per element: keep them at three words (a
    /// shared slice's 16 bytes and a tag).
    #[test]
    fn values_stay_small() {
        assert_eq!(std::mem::size_of::<Value>(), 24);
    }

    #[test]
    fn sets_and_maps_are_order_insensitive() {
        let a = Value::set(vec![Value::Int(2), Value::Int(1), Value::Int(2)]);
        let b = Value::set(vec![Value::Int(1), Value::Int(2)]);
        assert_eq!(a, b);
        let m1 = Value::map(vec![(Value::keyword("y"), 1.into()), (Value::keyword("x"), 0.into())]);
        let m2 = Value::map(vec![(Value::keyword("x"), 0.into()), (Value::keyword("y"), 1.into())]);
        assert_eq!(m1, m2);
        assert_eq!(m1.get(&Value::keyword("y")), Some(&Value::Int(1)));
    }

    #[test]
    fn repeated_map_key_keeps_last() {
        let m = Value::map(vec![(Value::keyword("x"), 0.into()), (Value::keyword("x"), 5.into())]);
        assert_eq!(m.get(&Value::keyword("x")), Some(&Value::Int(5)));
    }

    #[test]
    fn displays_as_edn() {
        let v = Value::Vector(Arc::from([
            Value::keyword("r"),
            Value::string("k"),
            Value::Nil,
            Value::Float(Float(1.0)),
        ]));
        assert_eq!(v.to_string(), "[:r \"k\" nil 1.0]");
    }

    #[test]
    fn displays_strings_chars_and_floats_as_readable_edn() {
        // Regressions from fuzzing (edn_value): each printed form must read back as EDN.
        assert_eq!(Value::string("a\"b\\\n\u{0}\u{1b}é").to_string(), r#""a\"b\\\n\u0000\u001bé""#);
        assert_eq!(Value::Char('\n').to_string(), "\\newline");
        assert_eq!(Value::Char(' ').to_string(), "\\space");
        assert_eq!(Value::Char('\u{7f}').to_string(), "\\u007f");
        assert_eq!(Value::Char('é').to_string(), "\\é");
        assert_eq!(Value::Float(Float(1e300)).to_string(), "1e300");
        assert_eq!(Value::Float(Float(-0.0)).to_string(), "-0.0");
        assert_eq!(Value::Float(Float(2.5)).to_string(), "2.5");
        assert_eq!(Value::Float(Float(f64::NEG_INFINITY)).to_string(), "##-Inf");
    }
}
