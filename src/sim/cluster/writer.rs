//! The streaming writer: the public entry points, which run the simulation and write its
//! history as it goes (in bounded memory, formatted on a thread of their own for long runs), and
//! the simulation's side of it: recording events, and handing on those nothing can remove.

use super::config::{ClusterConfig, Service};
use super::history::{F, Kind, Line, Sink, Value, Who};
use super::sim::Sim;
use std::io::{self, Write};

/// How many recorded events the simulation holds before it writes those it can.
pub(super) const FLUSH_AT: usize = 4096;

/// Runs the simulation and writes its history as EDN, one event per line, as it goes (in
/// bounded memory). Returns the number of events written. The same configuration always writes
/// the same bytes.
pub fn write_edn(c: &ClusterConfig, out: &mut impl Write) -> io::Result<usize> {
    simulate_in_parallel(c, false, out)
}

/// Runs the simulation and writes its history as JSON Lines (the shape elle-cli reads: the
/// same keys without colons, keywords as strings, sets as arrays). Returns the number of
/// events written; the events are those [`write_edn`] writes.
pub fn write_json(c: &ClusterConfig, out: &mut impl Write) -> io::Result<usize> {
    simulate_in_parallel(c, true, out)
}

/// Runs the simulation and returns its history as EDN text (what [`write_edn`] writes).
pub fn history_string(c: &ClusterConfig) -> String {
    let mut text = Vec::new();
    // Writing to a vector cannot fail, and the simulator writes only UTF-8.
    let _ = simulate(c, false, &mut text);
    String::from_utf8(text).unwrap_or_default()
}

/// Recorded events in order; `None` for one a silent retry removed.
pub(super) type Batch = Vec<Option<Line>>;

/// An empty batch with room for what the simulation holds before it writes.
pub(super) fn new_batch() -> Batch {
    Vec::with_capacity(FLUSH_AT + 64)
}

/// Hands a batch of events on to be written, and returns an empty buffer for the next one
/// (the simulation's buffers are recycled rather than allocated per batch); an error stops the
/// simulation.
pub(super) type Emit<'e> = dyn FnMut(Batch) -> io::Result<Batch> + 'e;

/// Runs the simulation, writing its events to `out` on this thread (for short histories).
fn simulate(c: &ClusterConfig, json: bool, out: &mut dyn Write) -> io::Result<usize> {
    let mut sink = Sink::new(out, json);
    Sim::new(c).run(&mut |mut batch| {
        sink.write_all(&batch)?;
        batch.clear();
        Ok(batch)
    })?;
    sink.finish()?;
    Ok(sink.events)
}

/// Runs the simulation on another thread while this one formats and writes its events: the
/// simulation itself is sequential, and formatting and writing take a fifth of the time.
/// A few batches wait at most, so memory stays bounded.
fn simulate_in_parallel(c: &ClusterConfig, json: bool, out: &mut dyn Write) -> io::Result<usize> {
    std::thread::scope(|scope| {
        let (batches, received) = std::sync::mpsc::sync_channel::<Batch>(4);
        let (emptied, recycled) = std::sync::mpsc::channel::<Batch>();
        let sim = scope.spawn(move || {
            let stopped = |_| io::Error::other("the history's writer stopped");
            Sim::new(c).run(&mut |batch| {
                batches.send(batch).map_err(stopped)?;
                Ok(recycled.try_recv().unwrap_or_else(|_| new_batch()))
            })
        });
        let mut sink = Sink::new(out, json);
        let mut written = Ok(());
        while let Ok(mut batch) = received.recv() {
            written = sink.write_all(&batch);
            if written.is_err() {
                break;
            }
            batch.clear();
            // The simulation may have finished, and no longer want it.
            let _ = emptied.send(batch);
        }
        // Dropping the receiver stops a simulation whose history can no longer be written.
        drop(received);
        let ran = sim.join().unwrap_or_else(|_| Err(io::Error::other("the simulation panicked")));
        written?;
        ran?;
        sink.finish()?;
        Ok(sink.events)
    })
}

impl Sim<'_> {
    /// Appends one event to the history; returns its number.
    pub(super) fn record(&mut self, kind: Kind, who: Who, f: F, value: Value) -> usize {
        self.lines.push(Some(Line { time: self.now, kind, who, f, value }));
        self.written + self.lines.len() - 1
    }

    /// Writes the recorded events (`all`, or those before the first that a silent retry may
    /// still remove: the invocation of an op in flight).
    pub(super) fn write_lines(&mut self, emit: &mut Emit<'_>, all: bool) -> io::Result<()> {
        self.peak_held = self.peak_held.max(self.lines.len());
        let open = self.clients.iter().filter_map(|c| c.open.map(|o| o.invoke));
        let keep = match (all, self.c.service) {
            (false, Service::SilentRetry) => open.min().unwrap_or(usize::MAX),
            _ => usize::MAX,
        };
        let ready = keep.saturating_sub(self.written).min(self.lines.len());
        if ready == 0 {
            return Ok(());
        }
        self.written += ready;
        let mut batch = std::mem::take(&mut self.lines);
        // What is not ready (a silent retry's open invocations, and what follows them) stays,
        // at the front of the next buffer.
        let held = batch.split_off(ready);
        self.lines = emit(batch)?;
        self.lines.extend(held);
        Ok(())
    }
}
