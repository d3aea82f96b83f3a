//! The HTML report (`--html FILE`): one self-contained page for a whole run — every history
//! checked, one section each — that opens in any browser without a network.
//!
//! The page holds its data as JSON in a `<script type="application/json">` tag and draws it
//! with inline vanilla JavaScript into SVG: a timeline with a lane per process (each op a bar
//! from invocation to completion coloured by outcome), nemesis fault windows shaded across the
//! lanes, each anomaly's ops highlighted with its explanation beside the timeline, the
//! linearization found up to the failure, and witness cycles drawn as small graphs. Wheel and
//! drag (or the buttons) zoom and pan over time; hovering an op shows its details.
//!
//! Its size is bounded: a history of up to 5,000 ops is shown in full; a longer one shows the
//! neighbourhood of each op its anomalies cite in full (about 10,000 ops at most) and the rest
//! as a per-lane density histogram, so the page's size is bounded however long the history
//! (sizes measured: docs/performance.md).

mod data;

use crate::history::History;
use crate::report::FileReport;
use crate::txn::Txns;
use data::FileData;

const STYLE: &str = include_str!("report.css");
const SCRIPT: &str = include_str!("report.js");

/// An HTML report being built: add each history as it is checked, then [`HtmlReport::render`].
///
/// Only the data the page needs is kept, not the histories, so a run over many large files
/// does not hold them all in memory.
#[derive(Default)]
pub struct HtmlReport {
    files: Vec<FileData>,
}

impl HtmlReport {
    /// An empty report.
    pub fn new() -> HtmlReport {
        HtmlReport::default()
    }

    /// Adds a history and its reports (one per consistency level checked; none for a history
    /// only summarized). `txns` gives the transactions' micro-ops when the transactional
    /// reader kept them aside (see [`crate::check::Loaded`]).
    pub fn add(&mut self, history: &History, txns: Option<&Txns>, reports: &[FileReport]) {
        self.files.push(FileData::new(history, txns, reports));
    }

    /// Adds a file that could not be read or checked, with why.
    pub fn add_error(&mut self, file: &str, message: &str) {
        self.files.push(FileData::error(file, message));
    }

    /// The page: a complete HTML document with its style, script and data inline, that
    /// fetches nothing.
    pub fn render(&self) -> String {
        let data = serde_json::to_string(&self.files).unwrap_or_else(|_| "[]".to_string());
        let title = match self.files.as_slice() {
            [one] => format!("labrys: {}", one.file()),
            files => format!("labrys: {} histories", files.len()),
        };
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>{}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n\
             <header><h1>labrys report</h1><p id=\"legend\"></p></header>\n\
             <main id=\"files\"><noscript>This report draws its timelines with JavaScript.</noscript></main>\n\
             <div id=\"tooltip\" hidden></div>\n\
             <script type=\"application/json\" id=\"labrys-data\">{}</script>\n\
             <script>\n{SCRIPT}</script>\n</body>\n</html>\n",
            escape_html(&title),
            escape_script_json(&data)
        )
    }
}

/// Text for an HTML text node or attribute.
fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// JSON that can sit inside a `<script>` element: a `<` in a string (as in `</script>` or
/// `<!--`) would end or confuse the element, and `\u003c` means the same to `JSON.parse`.
fn escape_script_json(json: &str) -> String {
    json.replace('<', "\\u003c")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_cannot_close_its_script_element() {
        let mut r = HtmlReport::new();
        r.add_error("</script><script>alert(1)</script>", "<!-- bad -->");
        let page = r.render();
        assert_eq!(page.matches("</script>").count(), 2, "only the two real script elements close");
        assert!(page.contains("\\u003c/script>"));
        assert!(page.contains("<title>labrys: &lt;/script&gt;"));
    }

    #[test]
    fn the_page_fetches_nothing() {
        let page = HtmlReport::new().render();
        for needle in ["src=\"http", "href=\"http", "@import", "url(http"] {
            assert!(!page.contains(needle), "{needle}");
        }
    }
}
