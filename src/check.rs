//! The top of the library: choose a model, check a history, build its report.
//! [`check_history`] checks against a built-in model; [`check_with_model`], against any
//! [`Model`], your own included, with the same certification and reports.
//!
//! ```
//! use labrys::check::{check_history, CheckConfig};
//! use labrys::history::{read_bytes, Format, ReadOptions};
//! let text = b"{:process 0 :type :invoke :f :write :value 1}\n{:process 0 :type :ok :f :write :value 1}\n\
//!              {:process 1 :type :invoke :f :read :value nil}\n{:process 1 :type :ok :f :read :value 2}\n";
//! let h = read_bytes("h.edn", text, Format::Edn, &ReadOptions::default()).unwrap();
//! let reports = check_history(&h, &CheckConfig::default()).unwrap();
//! assert_eq!(reports[0].valid, labrys::outcome::Verdict::Invalid); // nobody wrote 2
//! ```

use crate::certify::Refuted;
use crate::history::{self, History, ReadError, ReadOptions, Value};
use crate::model::{
    CasRegister, Counter, DecodeError, FifoQueue, Kv, MODELS, Model, MultiRegister, Mutex, NilReads,
    Register, Set, UnorderedQueue,
};
use crate::outcome::{Consistency, DecodeFailure, KeyResult, LinearReport, Verdict};
use crate::report::FileReport;
use crate::search;
// Re-exported: every check takes them, and `search` is internal.
pub use crate::search::Options;
use crate::split::{Order, Part};
use crate::txn;
use crate::vocab::{ConsistencyLevel, Levels, ModelName};
use std::collections::BTreeSet;
use std::fmt;
use std::time::Instant;

/// What to check and how.
#[derive(Clone, Debug, Default)]
pub struct CheckConfig {
    /// The model (see [`MODELS`]); guessed from the ops when `None`.
    pub model: Option<ModelName>,
    /// The initial state, when the model takes one (`--init`).
    pub init: Option<Value>,
    /// The consistency models to check (`--consistency`, comma-separated): for objects
    /// `linearizable` (the default) and `sequential`; for transactions Elle's models
    /// (`strict-serializable`, the default, `serializable`, `snapshot-isolation`, ...), all of
    /// which must hold. See [`ConsistencyLevel::parse_list`].
    pub consistency: Option<Vec<ConsistencyLevel>>,
    /// Where to write transactional anomalies' cycles as Graphviz DOT files (`--dot`).
    pub dot_dir: Option<std::path::PathBuf>,
    /// Budgets and switches for the search.
    pub options: Options,
    /// Call a history with no client operation valid (`--allow-empty`). Without it, such a
    /// history is `unknown`: nothing was tested, and CI must not count it a pass.
    pub allow_empty: bool,
    /// Give each valid key's order, as the ops' `:index`, in the report (`--linearization`),
    /// so that anyone can check labrys with their own tools.
    pub linearization: bool,
    /// How the register models (`register`, `cas-register`, `multi-register`) read completed
    /// reads of `nil` (`--nil-reads`); when `None`, as unknown values where `nil` can never be
    /// the state, and as values elsewhere. Keyed histories are decided as a whole: one key
    /// that writes `nil` keeps `nil` a value on every key.
    pub nil_reads: Option<NilReads>,
    /// How queue and log histories are checked (`--stuck-after`).
    pub queue: crate::queue::QueueOptions,
    /// How Jepsen's bank is checked (`--total`, `--allow-negative-balances`).
    pub bank: crate::workload::BankOptions,
    /// How set-full histories are checked (`--linearizable`).
    pub set_full: crate::set_full::SetFullOptions,
    /// How long-fork histories are checked (`--group-size`).
    pub long_fork: crate::long_fork::LongForkOptions,
}

impl CheckConfig {
    /// Checks what can be checked of the configuration before any history is read: that the
    /// model named exists, that the consistency levels are ones it (or, when the model is to be
    /// guessed, some model) is checked for, and that the initial state fits it. What fails
    /// here is an argument, the same for every file, so it is said once rather than per file.
    pub fn validate(&self) -> Result<(), CheckError> {
        if self.bank != crate::workload::BankOptions::default() && self.model != Some(ModelName::Bank) {
            return Err(CheckError::NotForModel(
                "--total and --allow-negative-balances are for banks: give --model bank".to_string(),
            ));
        }
        if self.queue.stuck_after.is_some() && self.model != Some(ModelName::Log) {
            return Err(CheckError::NotForModel("--stuck-after is for logs: give --model log".to_string()));
        }
        if self.set_full.linearizable && self.model != Some(ModelName::SetFull) {
            return Err(CheckError::NotForModel(
                "--linearizable is for set-full: give --model set-full".to_string(),
            ));
        }
        if self.long_fork.group_size.is_some() && self.model != Some(ModelName::LongFork) {
            return Err(CheckError::NotForModel(
                "--group-size is for long forks: give --model long-fork".to_string(),
            ));
        }
        let Some(name) = self.model else {
            let Some(levels) = &self.consistency else { return Ok(()) };
            // Levels that are all an object's or all a transaction's fit some model.
            if object_levels(self).is_ok() || txn_models(self).is_ok() || weak_levels(self).is_ok() {
                return Ok(());
            }
            let txn_named = levels.iter().any(|l| !l.is_object_level());
            return if txn_named { txn_models(self).map(drop) } else { object_levels(self).map(drop) };
        };
        let init = self.init.as_ref();
        let fits = match name {
            ModelName::Register => Register::from_init(init).map(drop),
            ModelName::CasRegister => CasRegister::from_init(init).map(drop),
            ModelName::Mutex => Mutex::from_init(init).map(drop),
            ModelName::Set => Set::from_init(init).map(drop),
            ModelName::Counter => Counter::from_init(init).map(drop),
            ModelName::UnorderedQueue => UnorderedQueue::from_init(init).map(drop),
            ModelName::FifoQueue => FifoQueue::from_init(init).map(drop),
            ModelName::Kv => Kv::from_init(init).map(drop),
            ModelName::MultiRegister => MultiRegister::from_init(init).map(drop),
            ModelName::TotalQueue
            | ModelName::Log
            | ModelName::Bank
            | ModelName::CounterBounds
            | ModelName::SetFinal
            | ModelName::SetFull
            | ModelName::LongFork => {
                return match (init, &self.consistency) {
                    (Some(v), _) => {
                        Err(CheckError::BadInit(format!("the {name} model takes no initial state, got {v}")))
                    }
                    (None, Some(l)) => Err(CheckError::UnknownConsistency(Levels(l.clone()).to_string())),
                    (None, None) => Ok(()),
                };
            }
            ModelName::ListAppend | ModelName::RwRegister => {
                txn_models(self)?;
                return match init {
                    Some(v) => {
                        Err(CheckError::BadInit(format!("the {name} model takes no initial state, got {v}")))
                    }
                    None => Ok(()),
                };
            }
        };
        fits.map_err(|e| CheckError::BadInit(e.message))?;
        object_levels(self).map(drop)
    }
}

/// Why a history with no client operation is `unknown` (and, with `--allow-empty`, the note on
/// its valid verdict).
pub(crate) const NO_CLIENT_OPS: &str = "the history holds no client operations";

/// Why a history could not be checked. (Budgets running out are not errors: they give an
/// `unknown` verdict.)
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckError {
    /// `--model` names no model (the text given): the command line's message, which lists
    /// the models with what each checks.
    UnknownModel(String),
    /// No `--model` was given and the ops do not say which model they are for.
    CannotGuessModel(String),
    /// `--init` does not fit the model.
    BadInit(String),
    /// `--consistency` names a level this model cannot be checked for.
    UnknownConsistency(String),
    /// `--consistency` names no transactional consistency model.
    UnknownTxnConsistency(String),
    /// `--consistency` names a level histories in the research formats are not checked for.
    UnknownWeakConsistency(String),
    /// An op does not fit the model.
    Decode(DecodeFailure),
    /// A flag that the model named (or guessed) would ignore.
    NotForModel(String),
    /// A claim the check made failed certification: a bug in labrys, never shown as a fact.
    Uncertified(Refuted),
}

fn model_list() -> String {
    MODELS.iter().map(|(name, what)| format!("  {name:<16} {what}")).collect::<Vec<_>>().join("\n")
}

impl fmt::Display for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckError::UnknownModel(m) => {
                write!(f, "there is no model {m:?}; the models are:\n{}", model_list())
            }
            CheckError::CannotGuessModel(why) => {
                write!(f, "{why}; say which model with --model, one of:\n{}", model_list())
            }
            CheckError::BadInit(why) => write!(f, "--init: {why}"),
            CheckError::UnknownConsistency(c) => write!(
                f,
                "--consistency {c:?}: objects are checked for linearizable and sequential (or both: \
                 linearizable,sequential)"
            ),
            CheckError::UnknownTxnConsistency(c) => write!(
                f,
                "--consistency {c:?}: transactions are checked for one or more of (comma-separated): {}",
                txn::ConsistencyModel::names().join(", ")
            ),
            CheckError::UnknownWeakConsistency(c) => write!(
                f,
                "--consistency {c:?}: histories in the research formats (Plume, AWDIT, dbcop) are checked for \
                 read-committed, read-atomic and causal (Biswas & Enea's definitions)"
            ),
            CheckError::Decode(d) => write!(f, "{d}"),
            CheckError::NotForModel(why) => write!(f, "{why}"),
            CheckError::Uncertified(r) => write!(f, "a witness failed its own check: {r}"),
        }
    }
}

impl std::error::Error for CheckError {}

/// Builds a model from its optional initial state.
trait FromInit: Model + Sized {
    fn from_init(init: Option<&Value>) -> Result<Self, DecodeError>;

    /// Settles what the model must know of the whole history before it decodes any op, once,
    /// so that its steps cost nothing more; returns a warning for the reports, if any.
    fn settle(&mut self, _history: &History, _config: &CheckConfig) -> Option<String> {
        None
    }
}

macro_rules! from_init_field {
    ($($t:ty),*) => {$( from_init_field!(@impl $t, {}); )*};
    // Registers also settle how they read reads of `nil`.
    (registers: $($t:ty),*) => {$(
        from_init_field!(@impl $t, {
            fn settle(&mut self, history: &History, config: &CheckConfig) -> Option<String> {
                let keying = crate::split::Keying::detect(history, config.options.independent);
                self.settle_nil_reads(config.nil_reads, crate::split::op_views(history, keying))
            }
        });
    )*};
    (@impl $t:ty, { $($settle:tt)* }) => {
        impl FromInit for $t {
            fn from_init(init: Option<&Value>) -> Result<Self, DecodeError> {
                match init {
                    None => Ok(<$t>::default()),
                    Some(v) => <$t>::with_init(v.clone()),
                }
            }
            $($settle)*
        }
    };
}
from_init_field!(Counter, Set, Kv);
from_init_field!(registers: Register, CasRegister, MultiRegister);

macro_rules! no_init {
    ($($t:ty),*) => {$(
        impl FromInit for $t {
            fn from_init(init: Option<&Value>) -> Result<Self, DecodeError> {
                match init {
                    None => Ok(<$t>::default()),
                    Some(v) => Err(DecodeError::new(format!("this model takes no initial state, got {v}"))),
                }
            }
        }
    )*};
}
no_init!(Mutex, UnorderedQueue, FifoQueue);

/// The object consistency levels `--consistency` asks for, linearizable by default.
fn object_levels(config: &CheckConfig) -> Result<Vec<Consistency>, CheckError> {
    let Some(levels) = &config.consistency else { return Ok(vec![Consistency::Linearizable]) };
    levels
        .iter()
        .map(|&l| {
            Consistency::of_level(l)
                .ok_or_else(|| CheckError::UnknownConsistency(Levels(levels.clone()).to_string()))
        })
        .collect()
}

fn run<M: FromInit>(history: &History, config: &CheckConfig) -> Result<Vec<FileReport>, CheckError> {
    let mut model = M::from_init(config.init.as_ref()).map_err(|e| CheckError::BadInit(e.message))?;
    let warning = model.settle(history, config);
    check_levels(&model, history, config, warning)
}

/// Checks `history` against any model, your own included, exactly as the command line checks
/// it against a built-in one: for each consistency level `config` asks for (linearizability by
/// default), the search, certification of every claim the report makes (see
/// [`crate::certify::linear::certify_linear_report`]), and the report.
///
/// One [`FileReport`] per level, each ready for every output: [`FileReport::to_text`],
/// `serde_json` for the JSON report, [`crate::report::html::HtmlReport`] and
/// [`crate::report::ci::junit`]. Of `config`, `model` and `init` are not used (`model` is the
/// model, with its own initial state); the rest (`consistency`, `options`, `allow_empty`,
/// `linearization`) is used as [`check_history`] uses it.
///
/// Certification replays each valid order and each counterexample through `model` itself;
/// the built-in models' extra rules (data edges, violation classes) are chosen by
/// [`Model::name`], so give your model a name of its own.
///
/// The example on [`Model`] is a complete custom model, checked and reported with this.
pub fn check_with_model<M: Model>(
    model: &M,
    history: &History,
    config: &CheckConfig,
) -> Result<Vec<FileReport>, CheckError> {
    let config = CheckConfig { model: None, init: None, ..config.clone() };
    check_levels(model, history, &config, None)
}

/// Checks `history` against `model` for linearizability, every key in parallel, invalid keys
/// explained: the report before certification. Fails only when an op does not fit the model.
pub fn check_linearizable<M: Model>(
    model: &M,
    history: &History,
    options: &Options,
) -> Result<LinearReport, DecodeFailure> {
    search::check(model, history, options, &Explanations)
}

/// Checks `history` against `model` for sequential consistency (each key, then all keys
/// together when each passed), invalid keys explained: the report before certification. Fails
/// only when an op does not fit the model.
pub fn check_sequential<M: Model>(
    model: &M,
    history: &History,
    options: &Options,
) -> Result<LinearReport, DecodeFailure> {
    search::check_sequential(model, history, options, &Explanations)
}

/// The searches' explainer: [`crate::explain`], which sits above them, handed down as a hook so
/// that neither module imports the other.
struct Explanations;

impl search::Explainer for Explanations {
    fn explain<M: Model>(
        &self,
        model: &M,
        history: &History,
        part: &Part<M::Op>,
        order: Order,
        result: &mut KeyResult,
        refutes: &dyn Fn(&Part<M::Op>) -> bool,
    ) {
        crate::explain::explain_invalid(model, history, part, order, result, refutes);
    }
}

/// Checks `history` against `model` for each level `config` asks for, certifies each report
/// and builds it; `warning` (from settling the model on the history) goes on every report.
fn check_levels<M: Model>(
    model: &M,
    history: &History,
    config: &CheckConfig,
    warning: Option<String>,
) -> Result<Vec<FileReport>, CheckError> {
    let mut reports = Vec::new();
    for level in object_levels(config)? {
        let started = Instant::now();
        let report = match level {
            Consistency::Linearizable => check_linearizable(model, history, &config.options),
            Consistency::Sequential => check_sequential(model, history, &config.options),
        }
        .map_err(CheckError::Decode)?;
        let setting = certify_setting(history, config, warning.is_some());
        let coverage = crate::certify::linear::certify_linear_report(model, history, &report, &setting)
            .map_err(CheckError::Uncertified)?;
        let mut report = FileReport::from_linear(history, report, started.elapsed());
        if config.linearization {
            give_linearizations(history, &mut report);
        }
        report.warnings.extend(warning.clone());
        report.warnings.extend(uncertified_warning(&coverage));
        reports.push(report);
    }
    note_sequential_not_linearizable(&mut reports);
    nothing_tested(history, config, &mut reports);
    Ok(reports)
}

/// Says so when some claims of a report have no rule of certification's own yet: they are
/// shown, so the reader must know they were not re-derived from the raw ops.
fn uncertified_warning(coverage: &crate::certify::linear::Coverage) -> Option<String> {
    let first = coverage.unchecked.first()?;
    Some(format!(
        "{} claim(s) of this report could not be re-derived independently (certification has no rule \
         for them yet), e.g. {first}",
        coverage.unchecked.len()
    ))
}

/// Fills in each valid key's `linearization`: its certified order, as the ops' `:index`.
fn give_linearizations(history: &History, report: &mut FileReport) {
    for k in &mut report.keys {
        k.linearization =
            k.order.as_ref().map(|o| o.iter().map(|&p| history.ops[p as usize].invoke_index).collect());
    }
}

/// What certification must know of how `history` was checked under `config`
/// (`nil_reads_unknown`: some reads of nil were read as reads of an unknown value).
pub(crate) fn certify_setting(
    history: &History,
    config: &CheckConfig,
    nil_reads_unknown: bool,
) -> crate::certify::linear::Setting {
    crate::certify::linear::Setting {
        keying: crate::split::Keying::detect(history, config.options.independent),
        skew: config.options.clock_skew,
        nil_reads_unknown,
        init: config.init.clone(),
    }
}

/// A history with no client operation tests nothing: every check of it passes vacuously, so
/// its verdict is `unknown`, with the reason as the note, unless `--allow-empty` asks for
/// `valid` (which keeps the note).
fn nothing_tested(history: &History, config: &CheckConfig, reports: &mut [FileReport]) {
    if !history.ops.is_empty() {
        return;
    }
    for r in reports {
        if !config.allow_empty {
            r.valid = Verdict::Unknown;
        }
        r.note = Some(NO_CLIENT_OPS.to_string());
    }
}

/// When both levels were checked and only linearizability failed, say what that usually
/// means, on the sequential report.
fn note_sequential_not_linearizable(reports: &mut [FileReport]) {
    let verdict = |reports: &[FileReport], c: ConsistencyLevel| {
        reports.iter().find(|r| r.consistency.is(c)).map(|r| r.valid)
    };
    if verdict(reports, ConsistencyLevel::Linearizable) == Some(Verdict::Invalid)
        && verdict(reports, ConsistencyLevel::Sequential) == Some(Verdict::Valid)
    {
        if let Some(r) = reports.iter_mut().find(|r| r.consistency.is(ConsistencyLevel::Sequential)) {
            r.note = Some(
                "sequentially consistent but not linearizable: every process saw one order of \
                 operations, but some saw them late — the signature of stale reads served by \
                 lagging replicas or a deposed leader"
                    .to_string(),
            );
        }
    }
}

/// Guesses the model from the `:f`s of the ops, where they leave no doubt.
pub fn guess_model(history: &History) -> Result<ModelName, CheckError> {
    let fs: BTreeSet<String> = history.ops.iter().map(|op| history.f_name(op)).collect();
    let only = |allowed: &[&str]| fs.iter().all(|f| allowed.contains(&f.as_str()));
    let reads_collections = history.ops.iter().any(|op| {
        history.f_name(op) == "read"
            && matches!(history.value(op.output), Value::Vector(_) | Value::Set(_) | Value::List(_))
    });
    let guess = if fs.is_empty() {
        // No client op: any model checks it the same (vacuously), and the verdict is unknown
        // (see `nothing_tested`) whichever is named.
        Some(ModelName::Register)
    } else if only(&["read", "write", "cas"]) {
        Some(if fs.contains("cas") { ModelName::CasRegister } else { ModelName::Register })
    } else if only(&["acquire", "release"]) {
        Some(ModelName::Mutex)
    } else if only(&["get", "put", "append"]) {
        Some(ModelName::Kv)
    } else if only(&["add", "read"]) {
        Some(if reads_collections { ModelName::Set } else { ModelName::Counter })
    } else if only(&["add", "increment", "read"]) {
        Some(ModelName::Counter)
    } else if only(&["enqueue", "dequeue"]) {
        // The weaker queue, as Jepsen's queue checkers assume: it never calls a history
        // invalid that a FIFO queue would call valid. `check_history` says which was guessed.
        Some(ModelName::UnorderedQueue)
    } else if only(&["txn"]) {
        // Elle's micro-ops ([:append k v], [:r k v], [:w k v]) are its workloads; [:read k v]
        // and [:write k v] are the multi-register model's.
        Some(txn::guess_workload(history).map_or(ModelName::MultiRegister, txn::Workload::model))
    } else {
        None
    };
    guess.ok_or_else(|| {
        let list: Vec<String> = fs.iter().map(|f| format!(":{f}")).collect();
        CheckError::CannotGuessModel(format!(
            "the ops ({}) do not say which model they follow",
            list.join(" ")
        ))
    })
}

/// The warning on a queue history checked with no `--model`: which queue was guessed.
pub(crate) const GUESSED_UNORDERED_QUEUE: &str = "no --model given: checked as an unordered-queue (any element \
    may leave first, as Jepsen's queue checkers assume); --model fifo-queue also checks that elements \
    leave in the order they came";

/// Checks `history` under the configured (or guessed) model, for the configured consistency
/// levels (linearizability by default).
///
/// One report per consistency level asked for.
pub fn check_history(history: &History, config: &CheckConfig) -> Result<Vec<FileReport>, CheckError> {
    let name = match config.model {
        Some(m) => m,
        None => guess_model(history)?,
    };
    if config.model.is_none() && name == ModelName::UnorderedQueue {
        let mut reports = run::<UnorderedQueue>(history, config)?;
        for r in &mut reports {
            r.warnings.push(GUESSED_UNORDERED_QUEUE.to_string());
        }
        return Ok(reports);
    }
    match name {
        ModelName::Register => run::<Register>(history, config),
        ModelName::CasRegister => run::<CasRegister>(history, config),
        ModelName::Mutex => run::<Mutex>(history, config),
        ModelName::Set => run::<Set>(history, config),
        ModelName::Counter => run::<Counter>(history, config),
        ModelName::UnorderedQueue => run::<UnorderedQueue>(history, config),
        ModelName::FifoQueue => run::<FifoQueue>(history, config),
        ModelName::Kv => run::<Kv>(history, config),
        ModelName::MultiRegister => run::<MultiRegister>(history, config),
        ModelName::ListAppend => check_txn(history, None, txn::Workload::ListAppend, config),
        ModelName::RwRegister => check_txn(history, None, txn::Workload::RwRegister, config),
        ModelName::TotalQueue | ModelName::Log => check_queue(history, name, config),
        ModelName::Bank | ModelName::CounterBounds | ModelName::SetFinal => {
            check_workload(history, name, config)
        }
        ModelName::SetFull | ModelName::LongFork => check_set_full_or_fork(history, name, config),
    }
}

/// A history read for checking: for Elle's transactional workloads, with its micro-ops kept
/// aside in compact form (and left `nil` in the history).
pub struct Loaded {
    /// The history.
    pub history: History,
    /// The transactions' micro-ops, when the fast transactional reader read the history.
    pub txns: Option<txn::Txns>,
    /// The sessions and transactions of a history in a research format (Plume, AWDIT, dbcop),
    /// checked for Biswas & Enea's levels; `history` is then empty.
    pub weak: Option<crate::weak::WeakHistory>,
}

/// Reads the history at `path` for checking under `config`. A history of Elle's transactions
/// (when the model is list-append, rw-register or not given) goes through the transactional
/// reader, which keeps micro-ops compact and reads on all cores; anything else, through the
/// general reader.
pub fn load(path: &str, options: &ReadOptions, config: &CheckConfig) -> Result<Loaded, ReadError> {
    // With no model the reader guesses the workload; with another model it is not tried.
    let wanted = match config.model {
        None => Some(None),
        Some(m) => txn::Workload::of_model(m).map(Some),
    };
    // The transactional reader declines any history with a client op that is not a :txn: one
    // seen early lets the general reader stream the file instead of holding it whole.
    let not_txns = |events: &[history::Event]| {
        wanted.is_none()
            || events
                .iter()
                .any(|e| !matches!(e.process, history::Process::Other(_)) && e.f.as_name() != Some("txn"))
    };
    // Only EDN maps stream: a research format is never taken for one.
    if let Some(history) = history::stream::read_file(path, options, &not_txns)? {
        return Ok(Loaded { history, txns: None, weak: None });
    }
    let (bytes, format) = history::read_input(path, options)?;
    // Plume's and AWDIT's text and dbcop's JSON are taken for what they are where the content
    // leaves no doubt and no format was named.
    let guessed = options.format.is_none()
        && matches!(
            history::Format::from_path(path),
            Some(history::Format::JepsenLog | history::Format::Json) | None
        );
    let format = match crate::weak::formats::sniff(&bytes).filter(|_| guessed) {
        Some(f) => history::Format::Weak(f),
        None => format,
    };
    if let history::Format::Weak(f) = format {
        let weak = crate::weak::formats::read_bytes(path, &bytes, f)?;
        let history = history::HistoryBuilder::new(path, false).finish();
        return Ok(Loaded { history, txns: None, weak: Some(weak) });
    }
    if let Some(workload) = wanted {
        if let Some((history, txns)) = txn::read::read_bytes(path, &bytes, format, options, workload)? {
            return Ok(Loaded { history, txns: Some(txns), weak: None });
        }
    }
    Ok(Loaded { history: history::read_bytes(path, &bytes, format, options)?, txns: None, weak: None })
}

/// Checks a history [`load`] read.
pub fn check_loaded(loaded: &Loaded, config: &CheckConfig) -> Result<Vec<FileReport>, CheckError> {
    if let Some(weak) = &loaded.weak {
        return check_weak(weak, &weak_levels(config)?, config);
    }
    match &loaded.txns {
        Some(t) => check_txn(&loaded.history, Some(t), t.workload, config),
        None => check_history(&loaded.history, config),
    }
}

/// Checks a research-format history for each of `levels`, every violation certified before
/// it is reported.
fn check_weak(
    h: &crate::weak::WeakHistory,
    levels: &[crate::weak::Level],
    config: &CheckConfig,
) -> Result<Vec<FileReport>, CheckError> {
    let budget = crate::weak::Budget {
        max_steps: config.options.max_steps,
        timeout: config.options.timeout,
        max_memory: config.options.max_memory,
    };
    levels
        .iter()
        .map(|&level| {
            let started = std::time::Instant::now();
            let outcome = crate::weak::check_within(h, level, &budget);
            crate::certify::weak::certify_outcome(h, level, &outcome).map_err(CheckError::Uncertified)?;
            Ok(crate::report::weak::file_report(h, level, &outcome, started.elapsed(), config.allow_empty))
        })
        .collect()
}

/// The Biswas–Enea levels `--consistency` asks for a history in a research format, causal by
/// default.
fn weak_levels(config: &CheckConfig) -> Result<Vec<crate::weak::Level>, CheckError> {
    let Some(levels) = &config.consistency else { return Ok(vec![crate::weak::Level::Causal]) };
    levels
        .iter()
        .map(|&l| {
            crate::weak::Level::of(l)
                .ok_or_else(|| CheckError::UnknownWeakConsistency(Levels(levels.clone()).to_string()))
        })
        .collect()
}

/// The transactional consistency models `--consistency` asks for, strict serializable by
/// default.
fn txn_models(config: &CheckConfig) -> Result<Vec<txn::ConsistencyModel>, CheckError> {
    let Some(levels) = &config.consistency else {
        return Ok(vec![txn::ConsistencyModel::StrictSerializable]);
    };
    levels
        .iter()
        .map(|&l| {
            txn::ConsistencyModel::of_level(l)
                .ok_or_else(|| CheckError::UnknownTxnConsistency(Levels(levels.clone()).to_string()))
        })
        .collect()
}

/// Checks a transactional history for `workload` (its micro-ops already decoded when `txns` is
/// given, as the fast reader does).
pub(crate) fn check_txn(
    history: &History,
    txns: Option<&txn::Txns>,
    workload: txn::Workload,
    config: &CheckConfig,
) -> Result<Vec<FileReport>, CheckError> {
    let options = txn::TxnOptions {
        workload: Some(workload),
        consistency: txn_models(config)?,
        timeout: config.options.timeout,
        max_memory: config.options.max_memory,
        clock_skew: config.options.clock_skew,
        // --max-steps bounds each component's cycle search, as it bounds each key's search.
        max_steps: config.options.max_steps,
        dot_dir: config.dot_dir.clone(),
        ..txn::TxnOptions::default()
    };
    let started = Instant::now();
    let decoded;
    let txns = match txns {
        Some(t) => t,
        None => {
            decoded = txn::decode(history, workload).map_err(|e| match e {
                txn::TxnError::Decode(d) => CheckError::Decode(d),
                txn::TxnError::UnknownWorkload(why) => CheckError::CannotGuessModel(why),
            })?;
            &decoded
        }
    };
    let report = txn::check_decoded(history, txns, &options);
    let coverage = crate::certify::txn::certify_txn_report(history, txns, &report, options.clock_skew)
        .map_err(CheckError::Uncertified)?;
    let mut reports = vec![FileReport::from_txn(history, report, started.elapsed())];
    reports[0].warnings.extend(uncertified_warning(&coverage));
    nothing_tested(history, config, &mut reports);
    Ok(reports)
}

/// The worst verdict among `reports`.
pub fn overall(reports: &[FileReport]) -> Verdict {
    Verdict::combine(reports.iter().map(|r| r.valid))
}

/// Checks a total-queue or log history ([`crate::queue`]), certifies every claim
/// ([`crate::certify::queue`]) and builds the report.
fn check_queue(
    history: &History,
    name: ModelName,
    config: &CheckConfig,
) -> Result<Vec<FileReport>, CheckError> {
    let started = Instant::now();
    let report = match name {
        ModelName::TotalQueue => crate::queue::total::check(history),
        _ => crate::queue::log::check(history, &config.queue),
    }
    .map_err(CheckError::Decode)?;
    let stuck_after = (history.clock == history::Clock::Time)
        .then(|| config.queue.stuck_after.unwrap_or(crate::queue::DEFAULT_STUCK_AFTER));
    crate::certify::queue::certify_queue_report(history, &report, stuck_after)
        .map_err(CheckError::Uncertified)?;
    let mut reports = vec![FileReport::from_queue(history, report, started.elapsed())];
    nothing_tested(history, config, &mut reports);
    Ok(reports)
}

/// Checks a history with one of Jepsen's bank, counter or set checkers
/// ([`crate::workload`]), certifies every claim, its counts and its verdict
/// ([`crate::certify::workload`]) and builds the report.
fn check_workload(
    history: &History,
    name: ModelName,
    config: &CheckConfig,
) -> Result<Vec<FileReport>, CheckError> {
    let started = Instant::now();
    let skew = config.options.clock_skew;
    let mut report = match name {
        ModelName::Bank => crate::workload::bank::check(history, &config.bank),
        ModelName::CounterBounds => crate::workload::counter::check(history, skew),
        _ => crate::workload::set::check(history),
    }
    .map_err(CheckError::Decode)?;
    crate::certify::workload::certify_workload_report(history, &report, &config.bank, skew)
        .map_err(CheckError::Uncertified)?;
    // An unknown verdict's reason is the report's note, said once.
    let because = if report.valid == Verdict::Unknown { report.notes.pop() } else { None };
    let mut reports = vec![FileReport::from_queue(history, report, started.elapsed())];
    reports[0].note = because;
    if history.ops.is_empty() && config.allow_empty {
        // No read to judge, and the user said an empty history passes.
        reports[0].valid = Verdict::Valid;
    }
    nothing_tested(history, config, &mut reports);
    Ok(reports)
}

/// Checks a set-full or long-fork history ([`crate::set_full`], [`crate::long_fork`]),
/// certifies every claim and builds the report.
fn check_set_full_or_fork(
    history: &History,
    name: ModelName,
    config: &CheckConfig,
) -> Result<Vec<FileReport>, CheckError> {
    let started = Instant::now();
    let report = if name == ModelName::SetFull {
        let keying = crate::split::Keying::detect(history, config.options.independent);
        let report = crate::set_full::check(history, keying, &config.set_full).map_err(CheckError::Decode)?;
        crate::certify::set_full::certify_set_full_report(history, keying, &config.set_full, &report)
            .map_err(CheckError::Uncertified)?;
        FileReport::from_set_full(history, report, started.elapsed())
    } else {
        let report = crate::long_fork::check(history, &config.long_fork).map_err(CheckError::Decode)?;
        crate::certify::long_fork::certify_long_fork_report(history, &report)
            .map_err(CheckError::Uncertified)?;
        FileReport::from_long_fork(history, report, started.elapsed())
    };
    let mut reports = vec![report];
    nothing_tested(history, config, &mut reports);
    Ok(reports)
}
