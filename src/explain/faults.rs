//! The fault timeline: nemesis events paired into windows (a partition from its start to its
//! heal, a kill until the restart), so an anomaly can say which faults were active.

use crate::history::{Clock, EventKind, History};

/// One fault, from when it began to when it was undone (if ever).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultWindow {
    /// The nemesis function that began it, and its value (`:start-partition [[:n1] [:n2 :n3]]`).
    pub what: String,
    /// When it began (on the ops' clock).
    pub start: i64,
    /// When it was undone; `None` if it never was.
    pub end: Option<i64>,
}

/// What a nemesis function does to the fault it belongs to.
enum Effect {
    Begin(String),
    End(String),
}

/// `start-partition` / `stop-partition`, `kill` / `start`, `pause` / `resume`, and Jepsen's
/// generic `start` / `stop` pairs, by family.
fn effect(f: &str, open: &[(String, FaultWindow)]) -> Effect {
    for (end, family) in [("stop-", ""), ("heal-", ""), ("resume-", "")] {
        if let Some(rest) = f.strip_prefix(end) {
            return Effect::End(format!("{family}{rest}"));
        }
    }
    match f {
        "stop" | "heal" => Effect::End("generic".into()),
        "resume" => Effect::End("pause".into()),
        "start" if open.iter().any(|(family, _)| family == "kill") => Effect::End("kill".into()),
        "start" => Effect::Begin("generic".into()),
        "kill" | "pause" => Effect::Begin(f.to_string()),
        _ => Effect::Begin(f.strip_prefix("start-").unwrap_or(f).to_string()),
    }
}

/// Pairs the history's fault events into windows. A nemesis op is usually logged twice (its
/// invocation and its completion); only the first of each pair counts.
pub fn fault_windows(history: &History) -> Vec<FaultWindow> {
    let mut open: Vec<(String, FaultWindow)> = Vec::new();
    let mut done = Vec::new();
    let mut previous: Option<(&crate::history::Value, &crate::history::Value)> = None;
    for fault in &history.faults {
        let this = (&fault.process, &fault.f);
        let completes_previous = fault.kind != EventKind::Invoke && previous == Some(this);
        previous = if completes_previous { None } else { Some(this) };
        if completes_previous {
            continue;
        }
        let f = fault.f.as_name().map_or_else(|| fault.f.to_string(), str::to_string);
        match effect(&f, &open) {
            Effect::Begin(family) => open.push((
                family,
                FaultWindow { what: format!(":{f} {}", fault.value), start: fault.time, end: None },
            )),
            Effect::End(family) => {
                // Close the matching windows, or the latest one if none matches.
                let matching: Vec<usize> = (0..open.len()).filter(|&i| open[i].0 == family).collect();
                let close = if matching.is_empty() {
                    open.len().checked_sub(1).into_iter().collect()
                } else {
                    matching
                };
                for i in close.into_iter().rev() {
                    let (_, mut w) = open.remove(i);
                    w.end = Some(fault.time);
                    done.push(w);
                }
            }
        }
    }
    done.extend(open.into_iter().map(|(_, w)| w));
    done.sort_by_key(|w| w.start);
    done
}

/// Each fault window overlapping `[from, to]`, in words: "during :start-partition … (began
/// 1.2 s before)".
pub fn faults_during(windows: &[FaultWindow], clock: Clock, from: i64, to: i64) -> Vec<String> {
    windows
        .iter()
        .filter(|w| w.start <= to && w.end.is_none_or(|end| end >= from))
        .map(|w| {
            let lead = from.saturating_sub(w.start);
            let when = match clock {
                Clock::Time if lead >= 0 => format!("began {:.3} s before", lead as f64 / 1e9),
                Clock::Time => format!("began {:.3} s into it", -lead as f64 / 1e9),
                Clock::Position => format!("began {} events before", lead.max(0)),
            };
            let healed = if w.end.is_none() { ", never healed" } else { "" };
            format!("during {} ({when}{healed})", w.what)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{Format, ReadOptions, read_bytes};

    #[test]
    fn pairs_partitions_and_kills() {
        let text = "{:process :nemesis, :type :info, :f :start-partition, :value [[:n1] [:n2 :n3]], :time 1000000000}\n\
                    {:process :nemesis, :type :info, :f :start-partition, :value [[:n1] [:n2 :n3]], :time 1100000000}\n\
                    {:process :nemesis, :type :info, :f :kill, :value [:n2], :time 1500000000}\n\
                    {:process :nemesis, :type :info, :f :stop-partition, :value nil, :time 3000000000}\n\
                    {:process :nemesis, :type :info, :f :start, :value [:n2], :time 4000000000}\n";
        let h = read_bytes("n.edn", text.as_bytes(), Format::Edn, &ReadOptions::default()).unwrap();
        let w = fault_windows(&h);
        assert_eq!(w.len(), 2);
        assert_eq!((w[0].start, w[0].end), (1_000_000_000, Some(3_000_000_000)));
        assert!(w[0].what.starts_with(":start-partition"));
        assert_eq!((w[1].start, w[1].end), (1_500_000_000, Some(4_000_000_000)));
        let during = faults_during(&w, Clock::Time, 2_200_000_000, 2_300_000_000);
        assert_eq!(during.len(), 2);
        assert!(during[0].contains("began 1.200 s before"), "{during:?}");
        assert!(faults_during(&w, Clock::Time, 4_500_000_000, 4_600_000_000).is_empty());
    }
}
