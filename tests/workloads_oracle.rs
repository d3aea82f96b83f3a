//! The set-full and long-fork checkers against obviously-correct reimplementations on random
//! small histories: set-full against Jepsen's own fold (every element updated at every read,
//! in history order), long-fork against Jepsen's comparison of every pair of reads.

use labrys::history::{Format, History, ReadOptions, read_bytes};
use labrys::long_fork::LongForkOptions;
use labrys::outcome::Verdict;
use labrys::set_full::SetFullOptions;
use labrys::split::Keying;
use proptest::prelude::*;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

/// A small deterministic generator.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// One event: (process, type, f, value) as EDN text pieces.
type Event = (u32, &'static str, &'static str, String);

/// Random events of 3 processes: each invokes, then completes (or never does).
fn events(
    seed: u64,
    steps: usize,
    mut invoke: impl FnMut(&mut Rng) -> (&'static str, String),
    mut complete: impl FnMut(&mut Rng, &str, &str) -> (&'static str, String),
) -> Vec<Event> {
    let mut rng = Rng(seed | 1);
    let mut open: Vec<Option<(&'static str, String)>> = vec![None; 3];
    let mut out = Vec::new();
    for _ in 0..steps {
        let p = rng.below(3) as usize;
        match open[p].take() {
            None => {
                let (f, v) = invoke(&mut rng);
                out.push((p as u32, "invoke", f, v.clone()));
                open[p] = Some((f, v));
            }
            Some((f, v)) => {
                let (t, out_v) = complete(&mut rng, f, &v);
                out.push((p as u32, t, f, out_v));
            }
        }
    }
    out
}

fn edn(events: &[Event]) -> String {
    events
        .iter()
        .enumerate()
        .map(|(i, (p, t, f, v))| {
            format!(
                "{{:index {i} :time {} :process {p} :type :{t} :f :{f} :value {v}}}\n",
                i as u64 * 700_000
            )
        })
        .collect()
}

fn read(text: &str) -> History {
    read_bytes("t.edn", text.as_bytes(), Format::Edn, &ReadOptions::default()).unwrap()
}

/// Jepsen's set-full fold, literally: (lost, never-read, stale, duplicated, unexpected, stable
/// count). Stale is ours: stable, and missed by a read invoked after it was known.
fn set_full_oracle(events: &[Event]) -> (BTreeMap<&'static str, BTreeSet<String>>, usize) {
    #[derive(Clone, Default)]
    struct St {
        known: Option<usize>,
        present: Option<usize>,
        absent: Option<usize>,
    }
    let mut elements: BTreeMap<String, St> = BTreeMap::new();
    let mut invoked_at: BTreeMap<u32, usize> = BTreeMap::new();
    let mut lists: BTreeMap<&'static str, BTreeSet<String>> = BTreeMap::new();
    let added: BTreeSet<String> = events.iter().filter(|e| e.2 == "add").map(|e| e.3.clone()).collect();
    for (i, (p, t, f, v)) in events.iter().enumerate() {
        match (*t, *f) {
            ("invoke", "add") => _ = elements.insert(v.clone(), St::default()),
            ("ok", "add") => {
                if let Some(s) = elements.get_mut(v) {
                    s.known = s.known.or(Some(i));
                }
            }
            ("ok", "read") => {
                let inv = invoked_at[p];
                let items: Vec<String> =
                    v.trim_matches(|c| c == '[' || c == ']').split_whitespace().map(str::to_string).collect();
                for x in &items {
                    if items.iter().filter(|y| *y == x).count() > 1 {
                        lists.entry("duplicated").or_default().insert(x.clone());
                    }
                    if !added.contains(x) {
                        lists.entry("unexpected").or_default().insert(x.clone());
                    }
                }
                for (e, s) in elements.iter_mut() {
                    if items.contains(e) {
                        s.known = s.known.or(Some(i));
                        s.present = Some(s.present.map_or(inv, |x| x.max(inv)));
                    } else {
                        s.absent = Some(s.absent.map_or(inv, |x| x.max(inv)));
                    }
                }
            }
            _ => {}
        }
        if *t == "invoke" {
            invoked_at.insert(*p, i);
        }
    }
    let mut stable = 0;
    for (e, s) in &elements {
        let is_stable = s.present.is_some_and(|lp| s.absent.is_none_or(|ab| ab < lp));
        let lost = matches!((s.known, s.absent), (Some(k), Some(ab)) if k < ab && s.present.is_none_or(|lp| lp < ab));
        if is_stable {
            stable += 1;
            if matches!((s.known, s.absent), (Some(k), Some(ab)) if k < ab) {
                lists.entry("stale").or_default().insert(e.clone());
            }
        } else if lost {
            lists.entry("lost").or_default().insert(e.clone());
        } else {
            lists.entry("never-read").or_default().insert(e.clone());
        }
    }
    (lists, stable)
}

fn set_full_history(seed: u64) -> Vec<Event> {
    let mut next = 0;
    // Both closures see the adds invoked so far.
    let added: RefCell<Vec<u32>> = RefCell::new(Vec::new());
    events(
        seed,
        30,
        |rng| {
            if rng.below(2) == 0 {
                next += 1;
                added.borrow_mut().push(next);
                ("add", next.to_string())
            } else {
                ("read", "nil".to_string())
            }
        },
        |rng, f, v| match f {
            "add" => (if rng.below(5) == 0 { "fail" } else { "ok" }, v.to_string()),
            _ => {
                let mut items: Vec<String> =
                    added.borrow().iter().filter(|_| rng.below(4) != 0).map(u32::to_string).collect();
                match rng.below(12) {
                    0 => items.push("99".to_string()),
                    1 if !items.is_empty() => items.push(items[0].clone()),
                    _ => {}
                }
                ("ok", format!("[{}]", items.join(" ")))
            }
        },
    )
}

fn long_fork_history(seed: u64) -> Vec<Event> {
    let written: RefCell<BTreeSet<u32>> = RefCell::new(BTreeSet::new());
    events(
        seed,
        24,
        |rng| {
            let g = rng.below(2) as u32 * 2;
            if rng.below(2) == 0 {
                let k = rng.below(4) as u32;
                written.borrow_mut().insert(k);
                ("txn", format!("[[:w {k} 1]]"))
            } else {
                ("txn", format!("[[:r {g} nil] [:r {} nil]]", g + 1))
            }
        },
        |rng, _, v| {
            if v.contains(":w") {
                return ("ok", v.to_string());
            }
            let out = v
                .split("[:r ")
                .skip(1)
                .map(|m| {
                    let k: u32 = m.split_whitespace().next().unwrap().parse().unwrap();
                    let seen = written.borrow().contains(&k) && rng.below(2) == 0;
                    format!("[:r {k} {}]", if seen { "1" } else { "nil" })
                })
                .collect::<Vec<_>>()
                .join(" ");
            ("ok", format!("[{out}]"))
        },
    )
}

/// Jepsen's long-fork checker: a key written twice is unknown; else any two `:ok` reads of one
/// group where each saw a key the other did not is a fork; no read is unknown (ours).
fn long_fork_oracle(events: &[Event]) -> Verdict {
    let writes: Vec<&String> =
        events.iter().filter(|e| e.1 == "invoke" && e.3.contains(":w")).map(|e| &e.3).collect();
    if writes.iter().any(|w| writes.iter().filter(|x| x == &w).count() > 1) {
        return Verdict::Unknown;
    }
    let reads: Vec<Vec<(String, bool)>> = events
        .iter()
        .filter(|e| e.1 == "ok" && e.3.contains(":r"))
        .map(|e| {
            e.3.split("[:r ")
                .skip(1)
                .map(|m| {
                    let mut it = m.split_whitespace();
                    (it.next().unwrap().to_string(), !it.next().unwrap().starts_with("nil"))
                })
                .collect()
        })
        .collect();
    if reads.is_empty() {
        return Verdict::Unknown;
    }
    for a in &reads {
        for b in &reads {
            let same_group = a.iter().map(|x| &x.0).eq(b.iter().map(|x| &x.0));
            let a_only = a.iter().zip(b).any(|(x, y)| x.1 && !y.1);
            let b_only = a.iter().zip(b).any(|(x, y)| !x.1 && y.1);
            if same_group && a_only && b_only {
                return Verdict::Invalid;
            }
        }
    }
    Verdict::Valid
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn set_full_agrees_with_jepsens_fold(seed in any::<u64>(), linearizable in any::<bool>()) {
        let evs = set_full_history(seed);
        let h = read(&edn(&evs));
        let report = labrys::set_full::check(&h, Keying::Single, &SetFullOptions { linearizable }).unwrap();
        labrys::certify::set_full::certify_set_full_report(&h, Keying::Single, &SetFullOptions { linearizable }, &report)
            .unwrap();
        let (want, stable) = set_full_oracle(&evs);
        for name in ["lost", "never-read", "stale", "duplicated", "unexpected"] {
            let got: BTreeSet<String> = report.elements.get(name).into_iter().flatten().cloned().collect();
            prop_assert_eq!(&got, &want.get(name).cloned().unwrap_or_default(), "{}", name);
        }
        prop_assert_eq!(report.counts["stable-count"], stable);
        let bad = ["lost", "duplicated", "unexpected"].iter().any(|n| want.contains_key(n))
            || (linearizable && want.contains_key("stale"));
        let verdict = if bad { Verdict::Invalid } else if stable == 0 { Verdict::Unknown } else { Verdict::Valid };
        prop_assert_eq!(report.valid, verdict);
    }

    #[test]
    fn long_fork_agrees_with_comparing_every_pair(seed in any::<u64>()) {
        let evs = long_fork_history(seed);
        let h = read(&edn(&evs));
        let report = labrys::long_fork::check(&h, &LongForkOptions::default()).unwrap();
        labrys::certify::long_fork::certify_long_fork_report(&h, &report).unwrap();
        prop_assert_eq!(report.valid, long_fork_oracle(&evs));
    }
}
