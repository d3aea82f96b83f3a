//! The top of the library: choose a model, check a history, build its report.
//!
//! ```
//! use labrys::check::{check_history, CheckConfig};
//! use labrys::history::{read_bytes, Format, ReadOptions};
//! let text = b"{:process 0 :type :invoke :f :write :value 1}\n{:process 0 :type :ok :f :write :value 1}\n\
//!              {:process 1 :type :invoke :f :read :value nil}\n{:process 1 :type :ok :f :read :value 2}\n";
//! let h = read_bytes("h.edn", text, Format::Edn, &ReadOptions::default()).unwrap();
//! let report = check_history(&h, &CheckConfig::default()).unwrap();
//! assert_eq!(report.valid, labrys::report::Verdict::Invalid); // nobody wrote 2
//! ```

use crate::history::{History, Value};
use crate::linear::{self, DecodeFailure, LinearReport, Options};
use crate::model::{
    CasRegister, Counter, DecodeError, FifoQueue, Kv, MODELS, Model, MultiRegister, Mutex, Register, Set,
    UnorderedQueue,
};
use crate::report::{FileReport, Verdict};
use std::collections::BTreeSet;
use std::fmt;
use std::time::Instant;

/// What to check and how.
#[derive(Clone, Debug, Default)]
pub struct CheckConfig {
    /// The model's name (see [`MODELS`]); guessed from the ops when `None`.
    pub model: Option<String>,
    /// The initial state, when the model takes one (`--init`).
    pub init: Option<Value>,
    /// Budgets and switches for the search.
    pub options: Options,
}

/// Why a history could not be checked. (Budgets running out are not errors: they give an
/// `unknown` verdict.)
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckError {
    /// `--model` names no model.
    UnknownModel(String),
    /// No `--model` was given and the ops do not say which model they are for.
    CannotGuessModel(String),
    /// `--init` does not fit the model.
    BadInit(String),
    /// An op does not fit the model.
    Decode(DecodeFailure),
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
            CheckError::Decode(d) => write!(f, "{d}"),
        }
    }
}

impl std::error::Error for CheckError {}

/// Builds a model from its optional initial state.
trait FromInit: Model + Sized {
    fn from_init(init: Option<&Value>) -> Result<Self, DecodeError>;
}

macro_rules! from_init_field {
    ($($t:ty),*) => {$(
        impl FromInit for $t {
            fn from_init(init: Option<&Value>) -> Result<Self, DecodeError> {
                match init {
                    None => Ok(<$t>::default()),
                    Some(v) => <$t>::with_init(v.clone()),
                }
            }
        }
    )*};
}
from_init_field!(Register, CasRegister, Counter, Set, Kv, MultiRegister);

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

fn run<M: FromInit>(history: &History, config: &CheckConfig) -> Result<LinearReport, CheckError> {
    let model = M::from_init(config.init.as_ref()).map_err(|e| CheckError::BadInit(e.message))?;
    linear::check(&model, history, &config.options).map_err(CheckError::Decode)
}

/// Guesses the model from the `:f`s of the ops, where they leave no doubt.
pub fn guess_model(history: &History) -> Result<&'static str, CheckError> {
    let fs: BTreeSet<String> = history.ops.iter().map(|op| history.f_name(op)).collect();
    let only = |allowed: &[&str]| fs.iter().all(|f| allowed.contains(&f.as_str()));
    let reads_collections = history.ops.iter().any(|op| {
        history.f_name(op) == "read"
            && matches!(history.value(op.output), Value::Vector(_) | Value::Set(_) | Value::List(_))
    });
    let guess = if fs.is_empty() {
        Some("register")
    } else if only(&["read", "write", "cas"]) {
        Some(if fs.contains("cas") { "cas-register" } else { "register" })
    } else if only(&["acquire", "release"]) {
        Some("mutex")
    } else if only(&["get", "put", "append"]) {
        Some("kv")
    } else if only(&["add", "read"]) {
        Some(if reads_collections { "set" } else { "counter" })
    } else if only(&["add", "increment", "read"]) {
        Some("counter")
    } else if only(&["txn"]) {
        Some("multi-register")
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

/// Checks `history` for linearizability under the configured (or guessed) model.
pub fn check_history(history: &History, config: &CheckConfig) -> Result<FileReport, CheckError> {
    let name = match &config.model {
        Some(m) => m.clone(),
        None => guess_model(history)?.to_string(),
    };
    let started = Instant::now();
    let report = match name.as_str() {
        "register" => run::<Register>(history, config),
        "cas-register" => run::<CasRegister>(history, config),
        "mutex" => run::<Mutex>(history, config),
        "set" => run::<Set>(history, config),
        "counter" => run::<Counter>(history, config),
        "unordered-queue" => run::<UnorderedQueue>(history, config),
        "fifo-queue" => run::<FifoQueue>(history, config),
        "kv" => run::<Kv>(history, config),
        "multi-register" => run::<MultiRegister>(history, config),
        other => Err(CheckError::UnknownModel(other.to_string())),
    }?;
    Ok(FileReport::from_linear(history, report, started.elapsed()))
}

/// Whether every report is valid, or the worst verdict among them.
pub fn overall(reports: &[FileReport]) -> Verdict {
    Verdict::combine(reports.iter().map(|r| r.valid))
}
