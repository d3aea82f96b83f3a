//! Renderings for CI: JUnit XML (one test case per history and consistency level) and GitHub
//! workflow annotations (`::error file=…,line=…::…`).

use super::FileReport;
use crate::outcome::Verdict;
use std::fmt::Write as _;

/// The outcome of one history for CI: a report, or why it could not be checked.
#[derive(Clone, Debug)]
pub enum CaseOutcome<'a> {
    /// Checked.
    Checked(&'a FileReport),
    /// Not checked: unreadable, or the ops did not fit the model.
    Error {
        /// The file.
        file: &'a str,
        /// Why.
        message: &'a str,
    },
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 cannot carry most control characters, even escaped.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

/// A JUnit XML document: invalid histories are failures carrying the explanation; unknown
/// verdicts and unreadable histories are errors (so CI never mistakes them for passes).
pub fn junit(cases: &[CaseOutcome<'_>]) -> String {
    let failures =
        cases.iter().filter(|c| matches!(c, CaseOutcome::Checked(r) if r.valid == Verdict::Invalid)).count();
    let errors = cases.len()
        - failures
        - cases.iter().filter(|c| matches!(c, CaseOutcome::Checked(r) if r.valid == Verdict::Valid)).count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"labrys\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\">",
        cases.len()
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"labrys check\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\">",
        cases.len()
    );
    for case in cases {
        match case {
            CaseOutcome::Checked(r) => {
                // Jepsen's workload checkers (bank, set-full, ...) have no consistency level:
                // their class is the model alone, and a failure says which checker failed.
                let level = r.consistency.to_string();
                let (class, failed) = if level.is_empty() {
                    (r.model.clone(), format!("{} fails the {} checker", r.file, r.model))
                } else {
                    (format!("{}.{level}", r.model), format!("{} is not {level}", r.file))
                };
                let _ = write!(
                    out,
                    "    <testcase classname=\"labrys.{}\" name=\"{}\" time=\"{:.3}\"",
                    xml_escape(&class),
                    xml_escape(&r.file),
                    r.stats.check_millis / 1e3
                );
                match r.valid {
                    Verdict::Valid => out.push_str("/>\n"),
                    Verdict::Invalid => {
                        let kind = r.anomalies.first().map_or("invalid", |a| a.kind.as_str());
                        let _ = writeln!(
                            out,
                            ">\n      <failure type=\"{}\" message=\"{}\">{}</failure>\n    </testcase>",
                            xml_escape(kind),
                            xml_escape(&failed),
                            xml_escape(&r.to_text())
                        );
                    }
                    Verdict::Unknown => {
                        let _ = writeln!(
                            out,
                            ">\n      <error type=\"unknown\" message=\"{}\">{}</error>\n    </testcase>",
                            xml_escape(&unknown_reason(r)),
                            xml_escape(&r.to_text())
                        );
                    }
                }
            }
            CaseOutcome::Error { file, message } => {
                let _ = writeln!(
                    out,
                    "    <testcase classname=\"labrys\" name=\"{}\">\n      <error type=\"bad-input\" message=\"cannot check\">{}</error>\n    </testcase>",
                    xml_escape(file),
                    xml_escape(message)
                );
            }
        }
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

/// GitHub workflow commands: an `::error` at the first op of each anomaly, a `::warning` for
/// an unknown verdict.
pub fn github_annotations(r: &FileReport) -> Vec<String> {
    // Workflow commands end at a newline; '%', '\r' and '\n' must be escaped in the message.
    let esc = |s: &str| s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A");
    let mut out: Vec<String> = r
        .anomalies
        .iter()
        .map(|a| {
            let line = a.lines.first().copied().unwrap_or(1).max(1);
            let key = a.key.as_ref().map_or_else(String::new, |k| format!(" (key {k})"));
            format!(
                "::error file={},line={line},title=labrys: {}{key}::{}",
                r.file,
                a.kind,
                esc(&a.explanation)
            )
        })
        .collect();
    if r.valid == Verdict::Unknown {
        out.push(format!("::warning file={},title=labrys: unknown::{}", r.file, esc(&unknown_reason(r))));
    }
    out
}

/// Why a report is unknown, in one line: its note when it has one (a history with no client
/// operation), else the budget, which the report's keys detail.
fn unknown_reason(r: &FileReport) -> String {
    match &r.note {
        Some(note) => note.clone(),
        None => format!("no {} verdict within the budget", r.consistency),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_xml() {
        assert_eq!(xml_escape("a<b & \"c\"\u{1}"), "a&lt;b &amp; &quot;c&quot;?");
    }
}
