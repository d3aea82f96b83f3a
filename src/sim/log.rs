//! Kafka-style log histories (Jepsen's Kafka workload encoding, for `--model log`) from a
//! simulated log service, correct or with one bug:
//!
//! - `lost-on-leader-change`: halfway through, the leader of key 0 dies and the new one never
//!   had the last records it acknowledged; it gives their offsets to the next sends (lost
//!   writes, and two values at one offset).
//! - `duplicate-retry`: a producer's send times out inside the client, which resends it; both
//!   copies land (one value at two offsets).
//! - `stuck-consumer`: halfway through, the consumer of key 0 stops receiving records while
//!   the service reports its lag as 0 (a stuck consumer, and misreported lag).
//!
//! Producers send unique values round-robin over the keys; each consumer is assigned one key
//! and polls it after every round of sends, and asks its lag now and then. At the end a fresh
//! consumer reads every key from the start, so a correct service leaves nothing unseen.

use super::edn_event_line;
use std::io::{self, Write};

/// The service's bug, if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogBug {
    /// A correct log.
    None,
    /// Acknowledged records lost when the leader of key 0 changes.
    LostOnLeaderChange,
    /// A send resent after a timeout lands twice.
    DuplicateRetry,
    /// The consumer of key 0 stops getting records; its lag is reported as 0.
    StuckConsumer,
}

impl LogBug {
    /// The names `labrys simulate --workload log --bug` takes.
    pub const NAMES: &'static [&'static str] =
        &["none", "lost-on-leader-change", "duplicate-retry", "stuck-consumer"];

    /// The bug named `name`, if any.
    pub fn parse(name: &str) -> Option<LogBug> {
        Some(match name {
            "none" | "correct" => LogBug::None,
            "lost-on-leader-change" => LogBug::LostOnLeaderChange,
            "duplicate-retry" => LogBug::DuplicateRetry,
            "stuck-consumer" => LogBug::StuckConsumer,
            _ => return None,
        })
    }
}

/// What to simulate.
#[derive(Clone, Debug)]
pub struct LogSimConfig {
    /// Sends in all (at least 1).
    pub sends: usize,
    /// Keys (partitions), each with its own consumer (at least 1).
    pub keys: usize,
    /// Producer processes (at least 1).
    pub producers: usize,
    /// Sends between two rounds of polls (at least 1).
    pub round: usize,
    /// The bug.
    pub bug: LogBug,
}

impl Default for LogSimConfig {
    fn default() -> Self {
        LogSimConfig { sends: 1000, keys: 3, producers: 3, round: 30, bug: LogBug::None }
    }
}

/// Writes events, numbering them and advancing a 50 ms clock.
struct Out<'w, W: Write> {
    w: &'w mut W,
    index: usize,
    time: i64,
    line: String,
}

impl<W: Write> Out<'_, W> {
    fn event(&mut self, kind: &str, process: &dyn std::fmt::Display, f: &str, value: &str) -> io::Result<()> {
        self.line.clear();
        edn_event_line(&mut self.line, self.index, self.time, kind, process, f, value);
        self.index += 1;
        self.time += 50_000_000;
        self.w.write_all(self.line.as_bytes())
    }

    fn op(&mut self, process: usize, f: &str, invoke: &str, ok: &str) -> io::Result<()> {
        self.event("invoke", &process, f, invoke)?;
        self.event("ok", &process, f, ok)
    }
}

/// The simulated service: per key, the records `(value)` at offsets 0.., and each consumer's
/// position (the next offset it reads).
struct Service {
    logs: Vec<Vec<u64>>,
    next: Vec<usize>,
}

/// Writes the history; returns the number of events written.
pub fn write_edn(c: &LogSimConfig, w: &mut impl Write) -> io::Result<usize> {
    let (keys, producers) = (c.keys.max(1), c.producers.max(1));
    let mut out = Out { w, index: 0, time: 0, line: String::new() };
    let mut s = Service { logs: vec![Vec::new(); keys], next: vec![0; keys] };
    // Consumer of key k is process producers + k; the final reader is producers + keys.
    for k in 0..keys {
        out.op(producers + k, "assign", &format!("[{k}]"), &format!("[{k}]"))?;
    }
    let half = c.sends / 2;
    let mut polled_since = 0;
    for i in 0..c.sends {
        let (k, v, p) = (i % keys, i as u64, i % producers);
        // Mid-round, so that the consumers have not read the last records yet.
        if i == half + c.round / 2 && c.bug == LogBug::LostOnLeaderChange {
            out.event("info", &":nemesis", "kill-leader", "{:key 0}")?;
            // The new leader lacks the records acknowledged since the consumers last polled.
            let keep = s.logs[0].len().saturating_sub(2).max(s.next[0]);
            s.logs[0].truncate(keep);
        }
        if c.bug == LogBug::DuplicateRetry && i % 97 == 50 {
            s.logs[k].push(v);
        }
        s.logs[k].push(v);
        let o = s.logs[k].len() - 1;
        out.op(p, "send", &format!("[[:send {k} {v}]]"), &format!("[[:send {k} [{o} {v}]]]"))?;
        polled_since += 1;
        if polled_since >= c.round.max(1) {
            polled_since = 0;
            poll_round(&mut out, &mut s, c, producers, i >= half)?;
        }
    }
    poll_round(&mut out, &mut s, c, producers, true)?;
    final_read(&mut out, &s, producers + keys)?;
    Ok(out.index)
}

/// Each consumer polls its key (the stuck one gets nothing after halfway) and, every other
/// round, asks its lag.
fn poll_round<W: Write>(
    out: &mut Out<'_, W>,
    s: &mut Service,
    c: &LogSimConfig,
    producers: usize,
    late: bool,
) -> io::Result<()> {
    for k in 0..s.logs.len() {
        let stuck = late && k == 0 && c.bug == LogBug::StuckConsumer;
        let from = s.next[k];
        let to = if stuck { from } else { s.logs[k].len() };
        out.op(
            producers + k,
            "poll",
            "[[:poll]]",
            &format!("[[:poll {{{k} {}}}]]", records(&s.logs[k], from, to)),
        )?;
        s.next[k] = to;
        if out.index % 4 == 0 {
            let lag = if stuck { 0 } else { s.logs[k].len() - to };
            out.op(producers + k, "lag", "nil", &format!("{{{k} {lag}}}"))?;
        }
    }
    Ok(())
}

fn records(log: &[u64], from: usize, to: usize) -> String {
    let recs: Vec<String> = (from..to).map(|o| format!("[{o} {}]", log[o])).collect();
    format!("[{}]", recs.join(" "))
}

/// A fresh consumer, assigned every key, reads each from the start.
fn final_read<W: Write>(out: &mut Out<'_, W>, s: &Service, process: usize) -> io::Result<()> {
    let keys: Vec<String> = (0..s.logs.len()).map(|k| k.to_string()).collect();
    let keys = format!("[{}]", keys.join(" "));
    out.op(process, "assign", &keys, &keys)?;
    let reads: Vec<String> =
        s.logs.iter().enumerate().map(|(k, log)| format!("{k} {}", records(log, 0, log.len()))).collect();
    out.op(process, "poll", "[[:poll]]", &format!("[[:poll {{{}}}]]", reads.join(", ")))
}
