//! What a key's result says in words, checked against the raw ops: each op it cites is told
//! with that op's own `:index`, line, process and description, every op a sentence names by its
//! `:index` is one the claim may name and is told as the history has it, and each cycle edge's
//! sentence says what its edge kind means, of the two ops it joins.
//!
//! The claims themselves (edges, classes, orders) are certified elsewhere; this closes the gap
//! between a certified claim and the text printed for it, so an op can never be shown under
//! another's index or with values it did not read or write.

use crate::history::History;
use crate::model::EdgeKind;
use crate::outcome::{CycleStep, KeyResult, OpRef};

/// How a result's words are checked: the history, and the model's word for each op.
pub(super) struct Words<'r> {
    pub(super) history: &'r History,
    /// The model's description of the op at a history position (`None`: the model cannot
    /// decode it, as for some failed ops; its description is then not checked).
    pub(super) describe: &'r dyn Fn(u32) -> Option<String>,
    /// The position of the op with this `:index` that the result may name besides the ops it
    /// cites (the ops of the key, or of all keys).
    pub(super) by_index: &'r dyn Fn(u64) -> Option<u32>,
}

impl Words<'_> {
    /// Every citation and sentence of `k`.
    pub(super) fn result(&self, k: &KeyResult) -> Result<(), String> {
        let mut cited: Vec<&OpRef> = Vec::new();
        if let Some(c) = &k.counterexample {
            cited.push(&c.op);
            cited.extend(c.prefix_tail.iter().map(|s| &s.op));
            cited.extend(c.tried.iter().map(|t| &t.op));
        }
        cited.extend(k.cycle.iter().flatten().map(|s| &s.op));
        cited.extend(k.conflict.iter().flat_map(|c| &c.ops));
        cited.extend(k.class.iter().flat_map(|c| &c.ops));
        cited.extend(k.witness.iter().flatten());
        for r in cited {
            self.op_ref(r)?;
        }
        if let Some(class) = &k.class {
            let named: Vec<&OpRef> = class.ops.iter().collect();
            self.sentence(&class.explanation, &named).map_err(|e| format!("its {}: {e}", class.kind))?;
        }
        if let Some(c) = &k.conflict {
            let named: Vec<&OpRef> = c.ops.iter().collect();
            self.sentence(&c.reason, &named).map_err(|e| format!("its conflict: {e}"))?;
        }
        if let Some(cycle) = &k.cycle {
            cycle_sentences(cycle)?;
        }
        Ok(())
    }

    /// A citation: the op at its position has its `:index`, line and process, and the model
    /// describes it in its words.
    pub(super) fn op_ref(&self, r: &OpRef) -> Result<(), String> {
        let o = self
            .history
            .ops
            .get(r.position as usize)
            .ok_or_else(|| format!("it cites position {}, past the history's end", r.position))?;
        if (r.index, r.line, r.process) != (o.invoke_index, o.invoke_line, o.process) {
            return Err(format!(
                "it cites the op at position {} as index {}, line {}, process {}; it is index {}, line {}, process {}",
                r.position, r.index, r.line, r.process, o.invoke_index, o.invoke_line, o.process
            ));
        }
        match (self.describe)(r.position) {
            Some(d) if d != r.text => {
                Err(format!("it tells index {} as {:?}; the op is {:?}", r.index, r.text, d))
            }
            _ => Ok(()),
        }
    }

    /// A sentence about `named` (ops already checked as citations): every `X (index N, process
    /// P)`, `X (index N)` and `X at index N` in it is an op named or one `by_index` knows, of that process,
    /// described as X; every other `index N` is one of `named`.
    pub(super) fn sentence(&self, text: &str, named: &[&OpRef]) -> Result<(), String> {
        for (at, index, end) in index_mentions(text) {
            let before = &text[..at];
            let after = &text[end..];
            let full = before.ends_with('(');
            let told_at = before.ends_with(" at ");
            if !full && !told_at {
                if named.iter().any(|r| r.index == index) {
                    continue;
                }
                return Err(format!("it names index {index}, which is none of the ops it cites"));
            }
            let (process, description) = self.op_at_index(index, named)?;
            // What precedes the mention: "X (index" or "X at index".
            let stem = if full { before.strip_suffix(" (") } else { before.strip_suffix(" at ") };
            if let Some(d) = description.filter(|d| !stem.is_some_and(|s| ends_with_words(s, d))) {
                return Err(format!("it tells index {index} otherwise than as {d:?}: {text:?}"));
            }
            if full && !after.starts_with(')') && !after.starts_with(&format!(", process {process})")) {
                return Err(format!(
                    "it names index {index} with another process than its own ({process}): {text:?}"
                ));
            }
        }
        Ok(())
    }

    /// The process and description of the op at `:index` `index`: a named op, or one
    /// `by_index` finds.
    fn op_at_index(&self, index: u64, named: &[&OpRef]) -> Result<(u32, Option<String>), String> {
        if let Some(r) = named.iter().find(|r| r.index == index) {
            return Ok((r.process, Some(r.text.clone())));
        }
        let pos = (self.by_index)(index)
            .ok_or_else(|| format!("it names index {index}, which is no op it may name"))?;
        Ok((self.history.ops[pos as usize].process, (self.describe)(pos)))
    }
}

/// `text` ends with `words`, which start it or follow a space or an opening mark.
fn ends_with_words(text: &str, words: &str) -> bool {
    text.strip_suffix(words)
        .is_some_and(|rest| rest.is_empty() || rest.ends_with([' ', '(', '[', '{', ':', ',']))
}

/// Each `index N` in `text`: where `index` starts, N, and where N ends.
fn index_mentions(text: &str) -> Vec<(usize, u64, usize)> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(i) = text[from..].find("index ") {
        let at = from + i;
        let digits_from = at + "index ".len();
        let digits = text[digits_from..].bytes().take_while(u8::is_ascii_digit).count();
        if let Ok(n) = text[digits_from..digits_from + digits].parse() {
            found.push((at, n, digits_from + digits));
        }
        from = digits_from;
    }
    found
}

/// Each step's sentence says what its edge kind means, of its op and the next one's.
fn cycle_sentences(cycle: &[CycleStep]) -> Result<(), String> {
    for (i, s) in cycle.iter().enumerate() {
        let (a, b) = (&s.op, &cycle[(i + 1) % cycle.len()].op);
        let (ai, bi) = (a.index, b.index);
        let meant = match s.edge {
            EdgeKind::RealTime => format!("index {ai} completed before index {bi} began"),
            EdgeKind::Process => format!("process {} ran index {ai} before index {bi}", a.process),
            EdgeKind::ReadsFrom => format!("index {bi} saw what index {ai} wrote"),
            EdgeKind::Version => format!("the values read show index {bi}'s write came after index {ai}'s"),
            EdgeKind::AntiDependency => format!(
                "index {ai} saw a state from before index {bi}'s write (the values read show that write came later)"
            ),
        };
        if s.why != meant {
            return Err(format!(
                "its {} edge from index {ai} to index {bi} is told as {:?}",
                s.edge.short(),
                s.why
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{Format, ReadOptions, read_bytes};

    fn history() -> History {
        let text = "{:process 0 :type :invoke :f :write :value 1 :index 0}\n\
                    {:process 0 :type :ok :f :write :value 1 :index 1}\n\
                    {:process 1 :type :invoke :f :read :value nil :index 2}\n\
                    {:process 1 :type :ok :f :read :value 2 :index 3}\n";
        read_bytes("h.edn", text.as_bytes(), Format::Edn, &ReadOptions::default()).unwrap()
    }

    fn cite(h: &History, pos: u32, text: &str) -> OpRef {
        OpRef::new(h, pos, text.to_string())
    }

    fn check(h: &History, f: impl FnOnce(&Words<'_>) -> Result<(), String>) -> Result<(), String> {
        let describe = |p: u32| Some(["write 1", "read 2"][p as usize].to_string());
        let by_index = |i: u64| h.ops.iter().position(|o| o.invoke_index == i).map(|p| p as u32);
        f(&Words { history: h, describe: &describe, by_index: &by_index })
    }

    #[test]
    fn a_citation_must_be_its_op() {
        let h = history();
        assert!(check(&h, |w| w.op_ref(&cite(&h, 1, "read 2"))).is_ok());
        // Another op's words, another index, another process: each refuted.
        assert!(check(&h, |w| w.op_ref(&cite(&h, 1, "read 1"))).is_err());
        let mut moved = cite(&h, 1, "read 2");
        moved.index = 0;
        assert!(check(&h, |w| w.op_ref(&moved)).is_err());
        let mut other = cite(&h, 1, "read 2");
        other.process = 0;
        assert!(check(&h, |w| w.op_ref(&other)).is_err());
    }

    #[test]
    fn a_sentence_names_its_ops_as_they_are() {
        let h = history();
        let (w, r) = (cite(&h, 0, "write 1"), cite(&h, 1, "read 2"));
        let named = [&w, &r];
        let good = "read 2 (index 2, process 1) saw what write 1 (index 0, process 0) wrote";
        assert!(check(&h, |x| x.sentence(good, &named)).is_ok());
        for bad in [
            "read 1 (index 2, process 1) saw what write 1 (index 0, process 0) wrote",
            "read 2 (index 2, process 0) saw it",
            "read 2 (index 7, process 1) saw it",
            "index 9 came first",
        ] {
            assert!(check(&h, |x| x.sentence(bad, &named)).is_err(), "{bad}");
        }
        // An op not cited, named with " at index" or without its process, is found and must be
        // told as it is.
        assert!(check(&h, |x| x.sentence("except write 1 at index 0, which failed", &[&r])).is_ok());
        assert!(check(&h, |x| x.sentence("except write 1 (index 0), which failed", &[&r])).is_ok());
        assert!(check(&h, |x| x.sentence("except write 3 (index 0), which failed", &[&r])).is_err());
        assert!(check(&h, |x| x.sentence("except write 2 at index 0, which failed", &[&r])).is_err());
    }

    #[test]
    fn a_cycle_step_says_what_its_edge_means() {
        let h = history();
        let (w, r) = (cite(&h, 0, "write 1"), cite(&h, 1, "read 2"));
        let step = |op: &OpRef, edge, why: &str| CycleStep { op: op.clone(), edge, why: why.to_string() };
        let good = [
            step(&w, EdgeKind::ReadsFrom, "index 2 saw what index 0 wrote"),
            step(&r, EdgeKind::RealTime, "index 2 completed before index 0 began"),
        ];
        assert!(cycle_sentences(&good).is_ok());
        let swapped = [
            step(&w, EdgeKind::ReadsFrom, "index 0 saw what index 2 wrote"),
            step(&r, EdgeKind::RealTime, "index 2 completed before index 0 began"),
        ];
        assert!(cycle_sentences(&swapped).is_err());
    }
}
