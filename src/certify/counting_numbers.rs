//! The numbers a duplicate-effect class's sentence states, re-derived: a counter read's count,
//! the initial count and the most the adds that could precede it supply ("returned 5, but the
//! counter started at 0 and the adds that could have taken effect before it total at most 3"),
//! a dequeue's "for the 2nd time" and "was enqueued only once", and how many ops the sentence
//! lists ("(…, …, 3 more)").
//!
//! A stated bound must hold (what could precede supplies at most that much) and must show the
//! excess; a stated count of observations or ops must be exact. A number the sentence does not
//! state is not looked for.

/// The text after the first `marker` in `text`, up to the next of `ends` (or the end).
pub(super) fn after<'t>(text: &'t str, marker: &str, ends: &[char]) -> Option<&'t str> {
    let rest = &text[text.find(marker)? + marker.len()..];
    Some(rest.find(ends).map_or(rest, |i| &rest[..i]))
}

/// The integer stated right after `marker`: `None` when the sentence does not have the marker
/// (nothing stated, nothing to check), an error when what follows is not a number.
pub(super) fn int_after(text: &str, marker: &str) -> Result<Option<i128>, String> {
    match after(text, marker, &[' ', ',', ':', ')', '(']) {
        None => Ok(None),
        Some(s) => s.parse().map(Some).map_err(|_| format!("{s:?} after {marker:?} is not a number")),
    }
}

/// "1st", "2nd", "3rd", "11th"… as a number.
pub(super) fn ordinal(text: &str) -> Option<usize> {
    let digits = text.strip_suffix("st").or(text.strip_suffix("nd")).or(text.strip_suffix("rd"));
    digits.or(text.strip_suffix("th"))?.parse().ok()
}

/// "never", "only once", "only twice", "only 3 times" as a number.
pub(super) fn times(text: &str) -> Option<usize> {
    match text {
        "never" => Some(0),
        "only once" => Some(1),
        "only twice" => Some(2),
        _ => text.strip_prefix("only ")?.strip_suffix(" times")?.parse().ok(),
    }
}

/// How many ops a list in the sentence that ends right before `end` names: `cited` (the
/// class's ops that stand there), plus the "N more" it ends with, if it does.
pub(super) fn listed(explanation: &str, end: &str, cited: usize) -> usize {
    let more = explanation.find(end).and_then(|at| {
        let head = explanation[..at].strip_suffix(" more")?;
        head[head.rfind(", ")? + 2..].parse::<usize>().ok()
    });
    cited + more.unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_numbers_sentences_state() {
        let s = "add 1 (index 3, process 1) returned 5, but the counter started at 0 and the adds total at most 3";
        assert_eq!(int_after(s, " returned "), Ok(Some(5)));
        assert_eq!(int_after(s, " started at "), Ok(Some(0)));
        assert_eq!(int_after(s, " at most "), Ok(Some(3)));
        assert_eq!(int_after(s, " nowhere "), Ok(None));
        assert!(int_after(s, " counter ").is_err());
        assert_eq!(ordinal("2nd"), Some(2));
        assert_eq!(ordinal("11th"), Some(11));
        assert_eq!(ordinal("second"), None);
        assert_eq!(times("only twice"), Some(2));
        assert_eq!(times("only 7 times"), Some(7));
        assert_eq!(times("never"), Some(0));
        assert_eq!(listed("… (a, b, c, d, 3 more): an effect", "): an effect", 4), 7);
        assert_eq!(listed("… (a, b): an effect", "): an effect", 2), 2);
        assert_eq!(listed("… (after a, b), but x", "): an effect", 2), 2);
    }
}
