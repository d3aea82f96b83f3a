//! The words labrys reads and writes: model names, consistency levels, the kinds of anomalies
//! it names. Each is an enum, parsed once where text comes in (the command line, a reader) and
//! spelled once here, so that a misspelling is a compile error rather than a comparison that
//! is silently never true, and the JSON, text, JUnit and HTML reports all spell a word alike.
//!
//! This module imports nothing from the crate, so that every other module can use it.

use std::fmt;
use std::str::FromStr;

/// A name that is not one of a vocabulary's words: what was given and the words there are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownWord {
    /// What the word would have named (`model`, `consistency level`).
    pub what: &'static str,
    /// The text given.
    pub given: String,
    /// Every word accepted, canonical spellings first, in the vocabulary's order.
    pub choices: Vec<&'static str>,
}

impl fmt::Display for UnknownWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "there is no {} {:?}; the choices are: {}", self.what, self.given, self.choices.join(", "))
    }
}

impl std::error::Error for UnknownWord {}

/// Defines a vocabulary: the enum, its spellings (the first is the one written; the others
/// are accepted when reading, as they were before the word was typed), and the traits every
/// vocabulary has. Serialization writes the canonical spelling, which is the JSON schema's.
macro_rules! vocabulary {
    (
        $(#[$meta:meta])*
        $name:ident, $what:literal {
            $( $(#[$vmeta:meta])* $variant:ident = $spelling:literal $(| $alias:literal)*, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
        }

        impl $name {
            /// Every word, in the order the vocabulary lists them.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The canonical spelling: the one every report writes.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $spelling, )*
                }
            }

            /// Other spellings accepted when reading.
            pub fn aliases(self) -> &'static [&'static str] {
                match self {
                    $( $name::$variant => &[$($alias),*], )*
                }
            }
        }

        // Debug shows the word as text, as it showed when it was one, so that messages that
        // print an optional word (`Some("garbage-read")`) read as they did.
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(self.as_str(), f)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownWord;

            /// Reads a canonical spelling or an alias; surrounding blanks and a leading `:`
            /// (an EDN keyword's) are ignored.
            fn from_str(text: &str) -> Result<Self, UnknownWord> {
                let word = text.trim().trim_start_matches(':');
                $name::ALL.iter().copied().find(|w| w.as_str() == word || w.aliases().contains(&word)).ok_or_else(
                    || UnknownWord {
                        what: $what,
                        given: text.to_string(),
                        choices: $name::ALL.iter().map(|w| w.as_str()).collect(),
                    },
                )
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }

        impl clap::ValueEnum for $name {
            fn value_variants<'a>() -> &'a [Self] {
                $name::ALL
            }

            fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
                Some(clap::builder::PossibleValue::new(self.as_str()).aliases(self.aliases().iter().copied()))
            }
        }
    };
}

vocabulary! {
    /// A model `--model` names: the objects of `crate::model` and Elle's transactional
    /// workloads.
    ModelName, "model" {
        /// A read/write register.
        Register = "register",
        /// A register with compare-and-set.
        CasRegister = "cas-register",
        /// A lock.
        Mutex = "mutex",
        /// A grow-only set read whole.
        Set = "set",
        /// A counter.
        Counter = "counter",
        /// A queue whose elements may leave in any order.
        UnorderedQueue = "unordered-queue",
        /// A first-in first-out queue.
        FifoQueue = "fifo-queue",
        /// A map of string values.
        Kv = "kv",
        /// A map of registers, read and written by transactions.
        MultiRegister = "multi-register",
        /// Elle's list-append transactions.
        ListAppend = "list-append",
        /// Elle's read/write register transactions.
        RwRegister = "rw-register",
        /// Jepsen's total queue: every acknowledged element dequeued exactly once.
        TotalQueue = "total-queue",
        /// Kafka-style ordered logs (Jepsen's Kafka workload) and their consumers.
        Log = "log" | "kafka",
        /// Jepsen's bank: every read sees the same total and no negative balance.
        Bank = "bank",
        /// Jepsen's counter checker: each read within the bounds the adds allow (`counter` is
        /// the linearizable model).
        CounterBounds = "counter-bounds",
        /// Jepsen's set checker: every acknowledged add in the final read (`set` is the
        /// linearizable model).
        SetFinal = "set-final",
        /// Jepsen's set-full: each element of a grow-only set stable, lost or never read.
        SetFull = "set-full",
        /// Jepsen's long fork: reads of a group of keys that saw writes in opposite orders.
        LongFork = "long-fork",
    }
}

vocabulary! {
    /// A consistency level `--consistency` names: for single objects linearizability and
    /// sequential consistency; for transactions, Elle's models (listed weakest first, roughly,
    /// with Adya's PL names as aliases).
    ConsistencyLevel, "consistency level" {
        /// Every op takes effect at one instant between its invocation and completion.
        Linearizable = "linearizable" | "linearizability",
        /// Every op takes effect in one order that respects each process's own order.
        Sequential = "sequential" | "sequential-consistency",
        /// PL-1: no dirty writes (G0).
        ReadUncommitted = "read-uncommitted" | "PL-1",
        /// PL-2: no dirty reads (G1).
        ReadCommitted = "read-committed" | "PL-2",
        /// PL-CS.
        CursorStability = "cursor-stability" | "PL-CS",
        /// PL-2L.
        MonotonicView = "monotonic-view" | "PL-2L",
        /// PL-MSR.
        MonotonicSnapshotRead = "monotonic-snapshot-read" | "PL-MSR",
        /// PL-2+.
        ConsistentView = "consistent-view" | "PL-2+",
        /// PL-FCV.
        ForwardConsistentView = "forward-consistent-view" | "PL-FCV",
        /// Bailis et al.'s monotonic atomic view.
        MonotonicAtomicView = "monotonic-atomic-view",
        /// Cerone et al.'s read atomic.
        ReadAtomic = "read-atomic",
        /// Cerone et al.'s causal consistency.
        CausalCerone = "causal-cerone",
        /// Biswas & Enea's causal consistency, for histories in the research formats (Plume,
        /// AWDIT, dbcop); there `read-committed` and `read-atomic` are Biswas & Enea's too.
        Causal = "causal" | "causal-consistency",
        /// Prefix consistency.
        Prefix = "prefix",
        /// Parallel snapshot isolation.
        ParallelSnapshotIsolation = "parallel-snapshot-isolation",
        /// PL-2.99.
        RepeatableRead = "repeatable-read" | "PL-2.99",
        /// PL-SI.
        SnapshotIsolation = "snapshot-isolation" | "PL-SI",
        /// PL-3U.
        UpdateSerializable = "update-serializable" | "PL-3U",
        /// PL-3 (conflict serializability).
        Serializable = "serializable" | "PL-3" | "conflict-serializable",
        /// Read uncommitted, plus each process's own order.
        StrongSessionReadUncommitted = "strong-session-read-uncommitted",
        /// Read committed, plus each process's own order.
        StrongSessionReadCommitted = "strong-session-read-committed",
        /// Read uncommitted, plus real-time order.
        StrongReadUncommitted = "strong-read-uncommitted",
        /// Read committed, plus real-time order.
        StrongReadCommitted = "strong-read-committed",
        /// Snapshot isolation, plus each process's own order.
        StrongSessionSnapshotIsolation = "strong-session-snapshot-isolation",
        /// Snapshot isolation, plus real-time order.
        StrongSnapshotIsolation = "strong-snapshot-isolation",
        /// Serializable, plus each process's own order.
        StrongSessionSerializable = "strong-session-serializable",
        /// PL-SS: serializable, plus real-time order.
        StrictSerializable = "strict-serializable" | "PL-SS" | "strong-serializable",
    }
}

impl ConsistencyLevel {
    /// Reads a comma-separated list, as `--consistency` takes it (`linearizable,sequential`).
    pub fn parse_list(text: &str) -> Result<Vec<ConsistencyLevel>, UnknownWord> {
        text.split(',').map(str::parse).collect()
    }

    /// Whether single objects are checked for it (the others are transactions' models).
    pub fn is_object_level(self) -> bool {
        matches!(self, ConsistencyLevel::Linearizable | ConsistencyLevel::Sequential)
    }
}

/// The levels one report was checked for, written as `--consistency` takes them
/// (comma-separated): one for an object's report, all those asked for a transactional one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Levels(pub Vec<ConsistencyLevel>);

impl Levels {
    /// Whether the report is for exactly `level`.
    pub fn is(&self, level: ConsistencyLevel) -> bool {
        self.0 == [level]
    }
}

impl From<ConsistencyLevel> for Levels {
    fn from(level: ConsistencyLevel) -> Levels {
        Levels(vec![level])
    }
}

impl fmt::Display for Levels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, level) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(level.as_str())?;
        }
        Ok(())
    }
}

impl serde::Serialize for Levels {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

vocabulary! {
    /// The procedure that decided a key of a single object: Gibbons & Korach's zone test
    /// (registers whose written values are unique, O(n log n)), the cas chains (the same for
    /// cas registers), or the search with its
    /// dependency-graph pre-passes (everything else).
    Procedure, "procedure" {
        /// The zone test.
        Zones = "zones",
        /// The cas chains, ordered by the zone test (cas registers whose written values are
        /// unique, O(n log n)).
        CasChains = "cas-chains",
        /// The dependency graph, then the linearization search.
        Search = "search",
    }
}

vocabulary! {
    /// A named kind of violation of a single object (a key's `class`): the patterns the
    /// explainer recognizes, for linearizability and for sequential consistency.
    ClassKind, "class of violation" {
        /// A read returned a value that a write completed before it began had replaced.
        StaleRead = "stale-read",
        /// An acknowledged write was never seen: a later read saw an older value.
        LostWrite = "lost-write",
        /// A read saw a value that no op wrote.
        GarbageRead = "garbage-read",
        /// A read saw a value that only a failed op wrote.
        ReadOfFailedWrite = "read-of-failed-write",
        /// A read saw the value of a write that began only after the read completed.
        FutureRead = "future-read",
        /// A process did not see its own write.
        OwnWriteNotRead = "own-write-not-read",
        /// Reads went back to an older value.
        NonMonotonicRead = "non-monotonic-read",
        /// An op took effect more than once.
        DuplicateEffect = "duplicate-effect",
        /// A process saw values in an order no single order of writes gives.
        OutOfOrderRead = "out-of-order-read",
        /// Processes saw writes in orders that disagree.
        DisagreeingOrder = "disagreeing-order",
    }
}

vocabulary! {
    /// A transactional anomaly, as Elle names it: the kinds a report shows (cycles, with their
    /// `-process` and `-realtime` variants, and the non-cyclic findings), and those the
    /// consistency lattice reasons with.
    TxnAnomalyKind, "transactional anomaly" {
        /// A write cycle.
        G0 = "G0",
        /// A write cycle, with process order.
        G0Process = "G0-process",
        /// A write cycle, with real-time order.
        G0Realtime = "G0-realtime",
        /// Aborted read.
        G1a = "G1a",
        /// Intermediate read.
        G1b = "G1b",
        /// Circular information flow.
        G1c = "G1c",
        /// Circular information flow, with process order.
        G1cProcess = "G1c-process",
        /// Circular information flow, with real-time order.
        G1cRealtime = "G1c-realtime",
        /// Any of G1a, G1b, G1c.
        G1 = "G1",
        /// G1, with process order.
        G1Process = "G1-process",
        /// G1, with real-time order.
        G1Realtime = "G1-realtime",
        /// A cycle with exactly one anti-dependency.
        GSingle = "G-single",
        /// G-single, with process order.
        GSingleProcess = "G-single-process",
        /// G-single, with real-time order.
        GSingleRealtime = "G-single-realtime",
        /// A cycle whose anti-dependencies are never adjacent.
        GNonadjacent = "G-nonadjacent",
        /// G-nonadjacent, with process order.
        GNonadjacentProcess = "G-nonadjacent-process",
        /// G-nonadjacent, with real-time order.
        GNonadjacentRealtime = "G-nonadjacent-realtime",
        /// A cycle with anti-dependencies on items.
        G2Item = "G2-item",
        /// G2-item, with process order.
        G2ItemProcess = "G2-item-process",
        /// G2-item, with real-time order.
        G2ItemRealtime = "G2-item-realtime",
        /// A cycle with anti-dependencies.
        G2 = "G2",
        /// G2, with process order.
        G2Process = "G2-process",
        /// G2, with real-time order.
        G2Realtime = "G2-realtime",
        /// Adya's G-SIb.
        GSIb = "G-SIb",
        /// Adya's G-SI.
        GSI = "G-SI",
        /// Adya's G-MSR.
        GMSR = "G-MSR",
        /// Adya's G-cursor.
        GCursor = "G-cursor",
        /// Adya's G-monotonic.
        GMonotonic = "G-monotonic",
        /// Adya's G-update.
        GUpdate = "G-update",
        /// A transaction did not see its own earlier writes.
        Internal = "internal",
        /// Reads of a key disagree on the order of its elements.
        IncompatibleOrder = "incompatible-order",
        /// A transaction read an element it appends only later.
        FutureRead = "future-read",
        /// A write over a version no committed write made.
        DirtyUpdate = "dirty-update",
        /// Transactions read the same version of a key and then all wrote it.
        LostUpdate = "lost-update",
        /// A read saw an element more than once.
        DuplicateElements = "duplicate-elements",
        /// A register's inferred version order has a cycle.
        CyclicVersions = "cyclic-versions",
        /// A read saw a value that no transaction wrote.
        GarbageRead = "garbage-read",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    /// Every word of `V` reads back from its spelling, its aliases and its JSON, and clap
    /// accepts the same spellings.
    fn round_trips<V>()
    where
        V: ValueEnum + FromStr<Err = UnknownWord> + serde::Serialize + serde::de::DeserializeOwned,
        V: fmt::Display + PartialEq + fmt::Debug + Copy,
    {
        for &v in V::value_variants() {
            let text = v.to_string();
            assert_eq!(text.parse::<V>(), Ok(v));
            assert_eq!(format!(":{text} ").parse::<V>(), Ok(v), "EDN keywords and blanks");
            let json = serde_json::to_string(&v).unwrap();
            assert_eq!(json, format!("\"{text}\""));
            assert_eq!(serde_json::from_str::<V>(&json).unwrap(), v);
            let possible = v.to_possible_value().unwrap();
            assert_eq!(possible.get_name(), text);
            for alias in possible.get_name_and_aliases() {
                assert_eq!(alias.parse::<V>(), Ok(v), "{alias}");
                assert_eq!(<V as ValueEnum>::from_str(alias, false), Ok(v), "clap reads {alias}");
            }
        }
        let err = "bogus".parse::<V>().unwrap_err();
        assert_eq!(err.choices.len(), V::value_variants().len());
        assert!(err.to_string().contains(&V::value_variants()[0].to_string()), "{err}");
        assert!(serde_json::from_str::<V>("\"bogus\"").is_err());
    }

    #[test]
    fn every_word_round_trips() {
        round_trips::<ModelName>();
        round_trips::<ConsistencyLevel>();
        round_trips::<ClassKind>();
        round_trips::<TxnAnomalyKind>();
    }

    #[test]
    fn spellings_are_the_ones_reports_always_wrote() {
        assert_eq!(ModelName::CasRegister.to_string(), "cas-register");
        assert_eq!(ConsistencyLevel::StrictSerializable.to_string(), "strict-serializable");
        assert_eq!("PL-SI".parse(), Ok(ConsistencyLevel::SnapshotIsolation));
        assert_eq!("linearizability".parse(), Ok(ConsistencyLevel::Linearizable));
        assert_eq!(ClassKind::ReadOfFailedWrite.to_string(), "read-of-failed-write");
        let levels = Levels(vec![ConsistencyLevel::Serializable, ConsistencyLevel::ReadCommitted]);
        assert_eq!(serde_json::to_string(&levels).unwrap(), "\"serializable,read-committed\"");
        assert!(Levels::from(ConsistencyLevel::Sequential).is(ConsistencyLevel::Sequential));
        assert!(!levels.is(ConsistencyLevel::Serializable));
        let parsed = ConsistencyLevel::parse_list("serializable, :read-committed").unwrap();
        assert_eq!(Levels(parsed), levels);
        assert_eq!(ConsistencyLevel::parse_list("serializable,bogus").unwrap_err().given, "bogus");
    }

    #[test]
    fn spellings_are_unique() {
        let mut all: Vec<&str> = ConsistencyLevel::ALL
            .iter()
            .flat_map(|l| [l.as_str()].into_iter().chain(l.aliases().iter().copied()))
            .collect();
        let n = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), n, "two levels share a spelling");
    }
}
