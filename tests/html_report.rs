//! The HTML report (`--html`), through the real binary: its size and self-containment on a
//! 100,000-op history, and — in headless Chromium — that its script draws the timeline, the
//! highlighted ops and the explanations without a script error.
//!
//! Chromium is Debian's `chromium` (CI installs it). Without it the browser tests print why
//! they skip, except under `CI`, where they fail: CI must never silently skip them.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// `/usr/bin/chromium`, or `chromium` / `chromium-browser` on the PATH.
fn find_chromium() -> Option<PathBuf> {
    let fixed = PathBuf::from("/usr/bin/chromium");
    if fixed.is_file() {
        return Some(fixed);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| ["chromium", "chromium-browser"].map(|name| dir.join(name)))
        .find(|p| p.is_file())
}

/// Chromium, or `None` after saying why the test skips; under `CI` a missing Chromium fails.
fn chromium_or_skip() -> Option<PathBuf> {
    let found = find_chromium();
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but chromium is not installed: the browser test must run in CI (apt-get install chromium)"
        );
        eprintln!("skipping the headless-browser test: chromium is not installed (apt-get install chromium)");
    }
    found
}

/// Runs `labrys check --html OUT FILES...` and returns the exit code.
fn write_report(out: &Path, files: &[PathBuf]) -> Option<i32> {
    write_report_with(out, files, &[])
}

/// The same, with `extra` flags.
fn write_report_with(out: &Path, files: &[PathBuf], extra: &[&str]) -> Option<i32> {
    let run = Command::new(common::labrys_bin())
        .arg("check")
        .args(extra)
        .arg("--html")
        .arg(out)
        .args(files)
        .output()
        .unwrap();
    assert!(
        run.stderr.is_empty(),
        "nothing on stderr (no progress bar without a terminal): {}",
        String::from_utf8_lossy(&run.stderr)
    );
    run.status.code()
}

/// The DOM of `page` after its scripts ran in headless Chromium (`work` holds its profile and
/// output).
fn rendered_dom(chromium: &Path, page: &Path, work: &Path) -> String {
    rendered_dom_at(chromium, page, "", work)
}

/// As [`rendered_dom`], with `fragment` (`#selftest`) appended to the page's address.
fn rendered_dom_at(chromium: &Path, page: &Path, fragment: &str, work: &Path) -> String {
    // The DOM goes to a file, not a pipe: a pipe nobody reads while waiting would fill and
    // stall the browser.
    let dump = work.join(format!("{}{fragment}.dom", page.file_name().unwrap().to_string_lossy()));
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--no-first-run",
            "--virtual-time-budget=5000",
        ])
        .arg(format!("--user-data-dir={}", work.join("profile").display()))
        .arg("--dump-dom")
        .arg(format!("file://{}{fragment}", page.display()))
        .stdout(std::fs::File::create(&dump).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    // A browser that hangs must fail the test, not stall the suite.
    let deadline = Instant::now() + Duration::from_secs(180);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish rendering {}", page.display());
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "chromium failed on {}", page.display());
    std::fs::read_to_string(&dump).unwrap()
}

/// The page's script ran to the end and `window.onerror` never fired.
fn assert_rendered_without_errors(dom: &str) {
    let html_tag = &dom[dom.find("<html").expect("an html element")..];
    let html_tag = &html_tag[..html_tag.find('>').unwrap_or(html_tag.len())];
    assert!(html_tag.contains("data-rendered=\"1\""), "the script did not finish: {html_tag}");
    assert!(!html_tag.contains("data-errors"), "script errors: {html_tag}");
}

#[test]
fn invalid_histories_render_with_highlighted_ops_and_explanations() {
    let Some(chromium) = chromium_or_skip() else { return };
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("report.html");
    let h = common::histories_dir();
    let files = [h.join("register-stale-read.edn"), h.join("txn/g-single-read-skew.edn")];
    assert_eq!(write_report(&page, &files), Some(1), "both histories are invalid");
    let dom = rendered_dom(&chromium, &page, dir.path());
    assert_rendered_without_errors(&dom);
    // Two timelines drawn by the script, with every op as a bar.
    assert_eq!(dom.matches("<svg class=\"timeline\"").count(), 2, "one timeline per history");
    assert_eq!(dom.matches("data-rendered=\"1\"").count(), 3, "the page and both timelines");
    assert_eq!(dom.matches("<rect class=\"op ").count(), 5, "3 register ops and 2 transactions");
    // The stale read's three ops (indices 0, 2, 4) and both transactions are highlighted.
    for index in [0, 2, 4] {
        assert!(
            dom.contains(&format!("data-i=\"{}\" data-index=\"{index}\"", index / 2)),
            "op {index}: {dom}"
        );
    }
    assert_eq!(dom.matches("class=\"op ok hl\"").count(), 5, "every op cited by an anomaly is highlighted");
    // The explanations, beside the timeline and under it.
    assert!(dom.contains(
        "<p class=\"explanation\">read 1 (index 4, process 1) returned a stale value: write 2 (index 2, process 0) had already replaced it"
    ));
    assert!(dom.contains("<p class=\"explanation\">G-single: a cycle of 2 transactions"));
    assert!(dom.contains("<text class=\"callout\""), "the explanation under the highlighted ops");
    // The linearization up to the failure, and the witness cycle as a graph with labelled edges.
    assert!(dom.contains("<table class=\"lin\">"));
    assert!(dom.contains("read 1, but the register held 2"));
    assert!(dom.contains("<svg class=\"cycle\""));
    assert!(dom.contains(">wr :x: 1→1</text>") && dom.contains(">rw :y: init→1</text>"), "edge labels");
}

#[test]
fn a_100000_op_history_gives_a_small_self_contained_page() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("big.edn");
    let sim = Command::new(common::labrys_bin())
        .args([
            "simulate",
            "--service",
            "stale-read",
            "--faults",
            "partition,kill",
            "--ops",
            "100000",
            "--seed",
            "1",
        ])
        .arg("-o")
        .arg(&history)
        .status()
        .unwrap();
    assert!(sim.success());
    let page = dir.path().join("big.html");
    assert_eq!(
        // Searched whole: the cas chains would explain only the few ops they name.
        write_report_with(&page, std::slice::from_ref(&history), &["--no-fast-path"]),
        Some(1),
        "a stale-read service is not linearizable"
    );
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.len() < 5_000_000, "the page is {} bytes", html.len());
    assert!(html.contains("\"total_ops\":100000"));
    assert!(html.contains("\"density\":{"), "the ops not shown in full are summarized");
    // The values prove this one (a cycle of ops), so there is a witness cycle, not a search.
    assert!(html.contains("\"cycle\":{\"nodes\""), "the anomaly's witness cycle is embedded");
    // Self-contained: nothing is loaded from anywhere.
    let lower = html.to_ascii_lowercase();
    for fetch in [
        "src=\"http",
        "href=\"http",
        "src='http",
        "href='http",
        "url(http",
        "@import",
        "<link",
        "<script src",
        "<img",
        "<iframe",
    ] {
        assert!(!lower.contains(fetch), "the page loads something: {fetch}");
    }
    // And it renders without a script error.
    let Some(chromium) = chromium_or_skip() else { return };
    let dom = rendered_dom(&chromium, &page, dir.path());
    assert_rendered_without_errors(&dom);
    assert!(dom.matches("<rect class=\"op ").count() > 100, "the anomaly's neighbourhood is drawn op by op");
    assert!(dom.contains(" hl\" x=\""), "the anomaly's ops are highlighted");
}

#[test]
fn the_timeline_zooms_pans_and_shows_details_on_hover() {
    let Some(chromium) = chromium_or_skip() else { return };
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("story.html");
    let story = common::histories_dir().join("story-stale-read.edn");
    assert_eq!(write_report(&page, &[story]), Some(1));
    // `#selftest` makes the page wheel, drag and hover over its timeline and record the effects.
    let dom = rendered_dom_at(&chromium, &page, "#selftest", dir.path());
    assert_rendered_without_errors(&dom);
    assert!(dom.contains("data-selftest=\"zoom:ok pan:ok hover:ok\""), "{}", &dom[..dom.len().min(400)]);
    // As the page opens (before the self-test zooms in and pans the view back in time), the
    // fault window of the story's partition is shaded, and its crashed ops fade on.
    let dom = rendered_dom(&chromium, &page, dir.path());
    assert!(dom.contains("<rect class=\"fault\""), "the partition is shaded");
    assert!(dom.contains("<rect class=\"op tail info\""), "crashed ops are open-ended");
}

/// The lanes (by their `y`) that have an op's bar drawn in a rendered timeline.
fn busy_lanes(dom: &str) -> std::collections::BTreeSet<i64> {
    dom.match_indices("<rect class=\"op ")
        .filter(|(at, _)| !dom[*at..].starts_with("<rect class=\"op tail"))
        .filter_map(|(at, _)| {
            let tag = &dom[at..at + dom[at..].find('>').unwrap()];
            let y = tag.split(" y=\"").nth(1)?.split('"').next()?;
            // A bar is 3 below its lane's top; lanes are 22 high under a 40-high axis.
            Some(((y.parse::<f64>().ok()? - 43.0) / 22.0).round() as i64)
        })
        .collect()
}

#[test]
fn the_page_opens_inside_the_history_on_busy_lanes_with_each_fault_named_once() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("story.html");
    let story = common::histories_dir().join("story-stale-read.edn");
    assert_eq!(write_report(&page, &[story]), Some(1));
    // The anomaly's explanation names the partition it ran in: its card does not repeat it.
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("(during :start-partition"), "the explanation names the fault");
    assert!(html.contains("\"faults\":[]"), "and the anomaly's fault list does not repeat it");
    let Some(chromium) = chromium_or_skip() else { return };
    let dom = rendered_dom(&chromium, &page, dir.path());
    assert_rendered_without_errors(&dom);
    assert!(!dom.contains("<p class=\"faults-active\">"), "the fault is said once");
    // The view starts at the history's start or later, never at negative time.
    let range = dom.split("<span class=\"range\">").nth(1).unwrap().split("</span>").next().unwrap();
    assert!(!range.starts_with('-'), "the view starts before the history: {range}");
    // Most lanes have something to show as the page opens.
    let lanes = dom.matches("<text class=\"lane-label\"").count() - dom.matches(">anomaly ").count();
    let busy = busy_lanes(&dom);
    assert!(busy.len() * 4 >= lanes * 3, "{} of {lanes} lanes have ops in view ({range})", busy.len());
    // Each fault's name is drawn whole, or cut with an ellipsis and whole on hover.
    let labels: Vec<&str> = dom.split("<text class=\"fault-label\"").skip(1).collect();
    assert!(!labels.is_empty(), "the faults are named");
    for label in labels {
        let text = &label[label.find('>').unwrap() + 1..label.find("<title>").expect("a title")];
        let title = &label[label.find("<title>").unwrap() + 7..label.find("</title>").unwrap()];
        let name = text.trim_end_matches('…');
        assert!(title.starts_with(&format!("fault {name}")), "{text:?} is its fault's name: {title:?}");
        assert!(
            text.ends_with('…') || title.starts_with(&format!("fault {text} from")),
            "{text:?} cut silently"
        );
    }
}
