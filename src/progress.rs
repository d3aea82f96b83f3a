//! Progress of a long check, for people watching a terminal: which file is being read or
//! checked, how many keys are done, and on a single key how far its search got.
//!
//! The checkers only bump counters (`keys_planned`, `key_done`, `search`); nothing is drawn unless
//! the program starts a [`Bar`], which draws on standard error only when standard error is a
//! terminal and only once a check has run for a while, so short checks, tests, pipes and CI
//! logs never see it. The counters are process-wide because progress is an observation, not
//! part of any result: threading a handle through every checker would change every signature
//! for something no caller decides on.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

static KEYS_DONE: AtomicUsize = AtomicUsize::new(0);
static KEYS_TOTAL: AtomicUsize = AtomicUsize::new(0);
static PHASE: Mutex<String> = Mutex::new(String::new());
static SEARCH: Mutex<Search> = Mutex::new(Search { steps: 0, budget: 0, deepest: 0, ops: 0 });

/// How far the hardest search of this phase (the one that took the most steps) got.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Search {
    /// Model steps taken.
    steps: u64,
    /// Its step budget (`--max-steps`).
    budget: u64,
    /// The longest prefix of ops it has placed in an order.
    deepest: usize,
    /// The ops of its key.
    ops: usize,
}

/// Says what is happening now ("reading h.edn", "checking h.edn"), and starts the key count
/// afresh.
pub fn phase(what: String) {
    KEYS_DONE.store(0, Ordering::Relaxed);
    KEYS_TOTAL.store(0, Ordering::Relaxed);
    if let Ok(mut p) = PHASE.lock() {
        *p = what;
    }
    if let Ok(mut s) = SEARCH.lock() {
        *s = Search::default();
    }
}

/// A search of one key has taken `steps` of its `budget`, and placed at most `deepest` of the
/// key's `ops` in an order so far. Called now and then (as the search checks its budgets), not
/// at every step.
pub(crate) fn search(steps: u64, budget: u64, deepest: usize, ops: usize) {
    if let Ok(mut s) = SEARCH.lock() {
        if steps >= s.steps {
            *s = Search { steps, budget, deepest, ops };
        }
    }
}

/// `n` more keys are to be checked in this phase.
pub(crate) fn keys_planned(n: usize) {
    KEYS_TOTAL.fetch_add(n, Ordering::Relaxed);
}

/// One more key is decided.
pub(crate) fn key_done() {
    KEYS_DONE.fetch_add(1, Ordering::Relaxed);
}

/// Wait this long before drawing anything: most checks are done by then.
const QUIET: Duration = Duration::from_millis(800);
const TICK: Duration = Duration::from_millis(120);
const WIDTH: usize = 30;

/// A progress line on standard error, redrawn by a background thread until
/// [`Bar::finish`] (or drop) erases it.
pub struct Bar {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Bar {
    /// Starts the bar if standard error is a terminal; `None` (and nothing drawn, ever)
    /// otherwise.
    pub fn start() -> Option<Bar> {
        if !std::io::stderr().is_terminal() {
            return None;
        }
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread =
            std::thread::Builder::new().name("progress".into()).spawn(move || draw_until(&flag)).ok()?;
        Some(Bar { stop, thread: Some(thread) })
    }

    /// Stops drawing and erases the line.
    pub fn finish(mut self) {
        self.end();
    }

    fn end(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.end();
    }
}

fn draw_until(stop: &AtomicBool) {
    let started = Instant::now();
    let mut drawn = false;
    let mut frame = 0usize;
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(TICK);
        if started.elapsed() < QUIET {
            continue;
        }
        frame += 1;
        let phase = PHASE.lock().map(|p| p.clone()).unwrap_or_default();
        let search = SEARCH.lock().map(|s| *s).unwrap_or_default();
        let line = render(
            &phase,
            KEYS_DONE.load(Ordering::Relaxed),
            KEYS_TOTAL.load(Ordering::Relaxed),
            search,
            frame,
        );
        let mut err = std::io::stderr().lock();
        // \r and "erase line" redraw in place; the line is kept short so it never wraps.
        let _ = write!(err, "\r\x1b[2K{line} {:.1}s", started.elapsed().as_secs_f64());
        let _ = err.flush();
        drawn = true;
    }
    if drawn {
        let _ = write!(std::io::stderr().lock(), "\r\x1b[2K");
    }
}

/// The progress line: a bar over keys when there are several, else a spinner and, once a
/// search has reported, how far it got (steps of the budget, the deepest prefix placed).
fn render(phase: &str, done: usize, total: usize, search: Search, frame: usize) -> String {
    let phase: String = phase.chars().take(60).collect();
    if total > 1 {
        let filled = (done.min(total) * WIDTH) / total;
        format!("labrys: {phase} [{}{}] {done}/{total} keys", "#".repeat(filled), "-".repeat(WIDTH - filled))
    } else {
        let spin = ['|', '/', '-', '\\'][frame % 4];
        if search.steps == 0 {
            return format!("labrys: {phase} {spin}");
        }
        let budget =
            if search.budget == u64::MAX { String::new() } else { format!(" of {}", count(search.budget)) };
        format!(
            "labrys: {phase} {spin} {}{budget} steps, deepest {} of {} ops",
            count(search.steps),
            search.deepest,
            search.ops
        )
    }
}

/// A count in few characters: 950, 12.3k, 4.5M, 100M, 2.1G.
fn count(n: u64) -> String {
    let (value, unit) = match n {
        0..1_000 => return n.to_string(),
        1_000..1_000_000 => (n as f64 / 1e3, "k"),
        1_000_000..1_000_000_000 => (n as f64 / 1e6, "M"),
        _ => (n as f64 / 1e9, "G"),
    };
    if value < 10.0 { format!("{value:.1}{unit}") } else { format!("{value:.0}{unit}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_a_bar_over_keys_and_a_spinner_otherwise() {
        let none = Search::default();
        assert_eq!(
            render("checking h.edn", 3, 10, none, 0),
            format!("labrys: checking h.edn [{}{}] 3/10 keys", "#".repeat(9), "-".repeat(21))
        );
        assert_eq!(render("reading h.edn", 0, 0, none, 1), "labrys: reading h.edn /");
        // More done than planned (a phase reset racing a late key) never overflows the bar.
        assert!(render("x", 12, 10, none, 0).contains(&"#".repeat(WIDTH)));
    }

    #[test]
    fn on_one_key_says_how_far_the_search_got() {
        let search = Search { steps: 1_234_567, budget: 100_000_000, deepest: 3_400, ops: 10_000 };
        assert_eq!(
            render("checking h.edn", 0, 1, search, 2),
            "labrys: checking h.edn - 1.2M of 100M steps, deepest 3400 of 10000 ops"
        );
        assert_eq!(count(950), "950");
        assert_eq!(count(12_345), "12k");
        assert_eq!(count(2_100_000_000), "2.1G");
    }

    #[test]
    fn the_hardest_search_is_shown_and_a_new_phase_forgets_it() {
        // One test touches the process-wide record, so no other test races it.
        phase("checking a.edn".to_string());
        search(5_000, 100, 7, 20);
        search(1_000, 100, 19, 20);
        assert_eq!(*SEARCH.lock().unwrap(), Search { steps: 5_000, budget: 100, deepest: 7, ops: 20 });
        phase("checking b.edn".to_string());
        assert_eq!(*SEARCH.lock().unwrap(), Search::default());
    }
}
