//! Progress of a long check, for people watching a terminal: which file is being read or
//! checked, and how many keys are done.
//!
//! The checkers only bump counters ([`keys_planned`], [`key_done`]); nothing is drawn unless
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

/// Says what is happening now ("reading h.edn", "checking h.edn"), and starts the key count
/// afresh.
pub fn phase(what: String) {
    KEYS_DONE.store(0, Ordering::Relaxed);
    KEYS_TOTAL.store(0, Ordering::Relaxed);
    if let Ok(mut p) = PHASE.lock() {
        *p = what;
    }
}

/// `n` more keys are to be checked in this phase.
pub fn keys_planned(n: usize) {
    KEYS_TOTAL.fetch_add(n, Ordering::Relaxed);
}

/// One more key is decided.
pub fn key_done() {
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
        let line =
            render(&phase, KEYS_DONE.load(Ordering::Relaxed), KEYS_TOTAL.load(Ordering::Relaxed), frame);
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

/// The progress line: a bar over keys when there are several, else a spinner.
fn render(phase: &str, done: usize, total: usize, frame: usize) -> String {
    let phase: String = phase.chars().take(60).collect();
    if total > 1 {
        let filled = (done.min(total) * WIDTH) / total;
        format!("labrys: {phase} [{}{}] {done}/{total} keys", "#".repeat(filled), "-".repeat(WIDTH - filled))
    } else {
        let spin = ['|', '/', '-', '\\'][frame % 4];
        format!("labrys: {phase} {spin}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_a_bar_over_keys_and_a_spinner_otherwise() {
        assert_eq!(
            render("checking h.edn", 3, 10, 0),
            format!("labrys: checking h.edn [{}{}] 3/10 keys", "#".repeat(9), "-".repeat(21))
        );
        assert_eq!(render("reading h.edn", 0, 0, 1), "labrys: reading h.edn /");
        // More done than planned (a phase reset racing a late key) never overflows the bar.
        assert!(render("x", 12, 10, 0).contains(&"#".repeat(WIDTH)));
    }
}
