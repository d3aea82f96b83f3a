//! One known violation put into a history the generators wrote: for benches and tests that need
//! a single culprit deep inside a long valid history, and must know which op it is.

/// The fields of one event line as the generators write it (see `edn_event_line`).
struct Line<'a> {
    kind: &'a str,
    process: &'a str,
    f: &'a str,
    /// The value's text, and where it starts in the line.
    value: (&'a str, usize),
}

fn field<'a>(line: &'a str, name: &str) -> Option<(&'a str, usize)> {
    let at = line.find(name)? + name.len();
    let len = line[at..].find([',', '}'])?;
    Some((&line[at..at + len], at))
}

fn parse(line: &str) -> Option<Line<'_>> {
    let value = (field(line, ":value ")?.1, line.rfind('}')?);
    Some(Line {
        kind: field(line, ":type :")?.0,
        process: field(line, ":process ")?.0,
        f: field(line, ":f :")?.0,
        value: (&line[value.0..value.1], value.0),
    })
}

/// Makes one read of `edn` (an unkeyed or single-key register history as
/// [`crate::sim::synthetic`] writes it) stale: the first read completed `:ok` at or after line
/// `from` whose invocation came after a second completed write, which itself began after a
/// first completed write had completed, now returns the first write's value. Every write
/// writes a value of its own, so no linearization can explain the read: the history is not
/// linearizable, and that read is the culprit. Returns the new text and the read's completion
/// line (0-based), or `None` if no read qualifies.
pub fn stale_read(edn: &str, from: usize) -> Option<(String, usize)> {
    let lines: Vec<&str> = edn.lines().collect();
    let mut open: ahash::AHashMap<&str, &str> = ahash::AHashMap::new();
    // The first completed write's value; then the line at which a write invoked after it
    // completed has completed too.
    let (mut first, mut second_done) = (None::<&str>, false);
    let mut first_done = false;
    let mut reads_after_second: ahash::AHashSet<&str> = ahash::AHashSet::new();
    for (n, line) in lines.iter().enumerate() {
        let l = parse(line)?;
        match (l.kind, l.f) {
            ("invoke", "write") if first_done => {
                open.insert(l.process, "second");
            }
            ("invoke", "read") if second_done => {
                reads_after_second.insert(l.process);
            }
            ("invoke", _) => {}
            ("ok", "write") if first.is_none() => {
                first = Some(l.value.0);
                first_done = true;
            }
            ("ok", "write") => second_done |= open.get(l.process) == Some(&"second"),
            ("ok", "read") if n >= from && reads_after_second.contains(l.process) => {
                let value = l.value;
                let stale = format!("{}{}{}", &line[..value.1], first?, &line[value.1 + value.0.len()..]);
                let mut out = String::with_capacity(edn.len() + 16);
                for (m, other) in lines.iter().enumerate() {
                    out.push_str(if m == n { &stale } else { other });
                    out.push('\n');
                }
                return Some((out, n));
            }
            _ => {}
        }
        if l.kind != "invoke" {
            open.remove(l.process);
            reads_after_second.remove(l.process);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_read_after_two_writes_returns_the_first_value() {
        let h = "{:index 0, :time 1, :type :invoke, :process 0, :f :write, :value 1}
{:index 1, :time 2, :type :ok, :process 0, :f :write, :value 1}
{:index 2, :time 3, :type :invoke, :process 1, :f :read, :value nil}
{:index 3, :time 4, :type :invoke, :process 0, :f :write, :value 2}
{:index 4, :time 5, :type :ok, :process 1, :f :read, :value 1}
{:index 5, :time 6, :type :ok, :process 0, :f :write, :value 2}
{:index 6, :time 7, :type :invoke, :process 1, :f :read, :value nil}
{:index 7, :time 8, :type :ok, :process 1, :f :read, :value 2}
";
        let (out, line) = stale_read(h, 0).unwrap();
        assert_eq!(line, 7);
        assert_eq!(
            out.lines().nth(7).unwrap(),
            "{:index 7, :time 8, :type :ok, :process 1, :f :read, :value 1}"
        );
        // The read at line 4 began before the second write: it is left alone.
        assert_eq!(out.lines().nth(4), h.lines().nth(4));
        assert_eq!(stale_read(h, 8), None);
    }
}
