//! The `labrys` command: parses arguments, calls the library, renders, and sets the exit code.
//! No checking logic lives here.

use clap::{Parser, Subcommand, ValueEnum};
use labrys::check::{CheckConfig, CheckError, Options, check_loaded, load};
use labrys::history::{self, Format, History, ReadOptions, Summary};
use labrys::model::NilReads;
use labrys::outcome::Verdict;
use labrys::progress;
use labrys::report::FileReport;
use labrys::report::ci::{self, CaseOutcome};
use labrys::report::html::HtmlReport;
use labrys::vocab::{ConsistencyLevel, Levels, ModelName};
use labrys::weak::formats::WeakFormat;
use std::fmt::Write as _;
use std::io::Write as _;
use std::process::ExitCode;
use std::time::Duration;

/// Exit codes, as Jepsen's CLI uses them (docs/design.md section 5); 1 and 2 come from
/// [`Verdict::exit_code`].
mod exit {
    pub const VALID: u8 = 0;
    pub const BAD_INPUT: u8 = 254;
    pub const INTERNAL: u8 = 255;
}

#[derive(Parser)]
#[command(
    name = "labrys",
    version,
    about = "Check recorded histories of distributed systems for consistency anomalies",
    long_about = "labrys reads the operation histories that Jepsen-style tests record (clients \
invoking operations against a database while faults are injected) and decides whether what the \
clients saw is consistent: linearizable, sequentially consistent, or free of transactional \
anomalies. When it is not, it explains which operations, in which order, went wrong.\n\n\
Exit codes: 0 every history valid, 1 some invalid, 2 some unknown (none invalid), \
254 bad arguments or unreadable input, 255 internal error.",
    after_help = "Examples:\n  labrys check histories/register-ok.edn\n  labrys check --model cas-register --output json history.edn\n  labrys check --summary jepsen/history.txt"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Read histories and check them; print one verdict per file.
    Check(CheckArgs),
    /// Write a generated history with known truth (for benchmarks and experiments).
    Simulate(SimulateArgs),
}

#[derive(clap::Args)]
struct SimulateArgs {
    /// What the clients do: register (reads, writes), cas-register (plus compare-and-set), or
    /// Elle's transactional list-append and rw-register (--ops transactions over --keys active
    /// keys, each retired after 100 writes; .json/.jsonl output files get JSON Lines). With
    /// --service: register, cas-register, set, counter, list-append, or Jepsen's bank (5
    /// accounts of 20), set-full and long-fork (groups of 3), checked with --model bank,
    /// set-full, long-fork.
    #[arg(long, default_value = "cas-register", value_name = "WORKLOAD")]
    workload: String,
    /// Number of ops (at least 1).
    #[arg(long, default_value_t = 1000, value_parser = at_least_one())]
    ops: usize,
    /// Independent keys; 0 for a single register. Not with --service.
    #[arg(long, default_value_t = 0, conflicts_with = "service")]
    keys: usize,
    /// Concurrent client threads (at least 1).
    #[arg(long, default_value_t = 5, value_parser = at_least_one())]
    threads: usize,
    /// Fraction of ops that crash (recorded :info), from 0 to 1. Not with --service, whose
    /// crashes come from its faults.
    #[arg(long, default_value_t = 0.01, value_parser = parse_rate, conflicts_with = "service")]
    crash_rate: f64,
    /// Values are drawn from 0..N; 0 makes every written value unique per key. The default is
    /// 5, or 0 with --service. Register workloads only (the others write unique values).
    #[arg(long)]
    values: Option<u64>,
    /// Simulate a replicated service under faults instead of writing a synthetic history
    /// (workloads register, cas-register, set, counter, list-append, bank, set-full,
    /// long-fork): correct (linearizable),
    /// stale-read (reads served from any node's local copy), lost-ack (updates acknowledged
    /// before they are replicated), duplicate-retry (the client resends timed-out
    /// non-idempotent ops), silent-retry (the client retries and records only the last
    /// attempt), clock-skew-lww (last-write-wins by wall clocks; register only).
    #[arg(long, value_name = "SERVICE")]
    service: Option<String>,
    /// With --service: the faults to inject, comma-separated: partition, kill, loss (a flaky
    /// network: messages dropped, delayed and duplicated), clock. Several are composed.
    #[arg(long, default_value = "", value_name = "LIST", requires = "service")]
    faults: String,
    /// With --service: the number of nodes, 1 to 32.
    #[arg(long, default_value_t = 3, requires = "service", value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=32))]
    nodes: usize,
    /// Synthetic register histories: this many of the threads are followers lagging behind
    /// the leader, whose reads are stale. Written values are unique per key, and the history
    /// is sequentially consistent but (almost always) not linearizable. EDN output only; at
    /// most --threads; not with --service.
    #[arg(long, default_value_t = 0, value_name = "N", conflicts_with = "service")]
    lagging_threads: usize,
    /// With --lagging-threads: the most ops a follower trails the leader by (at least 1).
    #[arg(long, default_value_t = 50, value_name = "OPS", requires = "lagging_threads", value_parser = at_least_one())]
    max_lag: usize,
    /// --workload log: the log service's bug: none, lost-on-leader-change, duplicate-retry or
    /// stuck-consumer (its lag reported as 0). --ops sends over --keys keys (3 if 0), by
    /// --threads producers.
    #[arg(long, value_name = "BUG", conflicts_with = "service")]
    log_bug: Option<String>,
    /// Seed: the same seed writes the same history.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output file: EDN, or JSON Lines for a .json/.jsonl file; standard output (EDN) if absent.
    #[arg(short, long, value_name = "FILE")]
    output: Option<String>,
}

#[derive(clap::Args)]
struct CheckArgs {
    /// History files: .edn, .json/.jsonl, .txt/.log, optionally .gz; `-` reads standard input.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<String>,
    /// Input format, instead of guessing from the file extension.
    #[arg(long, value_enum, value_name = "FORMAT")]
    input_format: Option<InputFormat>,
    /// Accept pairing problems (a completion with no invocation, a second invocation while
    /// one is open) as warnings instead of errors.
    #[arg(long)]
    lenient: bool,
    /// Print only a summary of each history (ops by type and function, processes, keys,
    /// crashed ops, concurrency, faults), without checking it.
    #[arg(long)]
    summary: bool,
    /// The object the history operates on (guessed from the ops when they leave no doubt):
    /// register, cas-register, mutex, set, counter, unordered-queue, fifo-queue, kv,
    /// multi-register; or Elle's transactional list-append and rw-register; or Jepsen's
    /// total-queue, log (its Kafka workload), set-full and long-fork; or Jepsen's bank, counter-bounds (Jepsen's
    /// counter checker: reads within the bounds the adds allow; counter is the linearizable
    /// model) and set-final (Jepsen's set checker: acknowledged adds in the final read; set is
    /// the linearizable model). See docs/workloads.md.
    #[arg(long, short, value_name = "MODEL", value_parser = parse_model)]
    model: Option<ModelName>,
    /// What to check: for objects linearizable (the default), sequential, or both
    /// (linearizable,sequential); for transactions (list-append, rw-register) Elle's models,
    /// all of which must hold: strict-serializable (the default), serializable,
    /// snapshot-isolation, repeatable-read, read-committed, read-uncommitted,
    /// strong-session-serializable, monotonic-atomic-view, ...
    #[arg(long, short, value_name = "LEVELS", value_delimiter = ',', value_parser = parse_level)]
    consistency: Option<Vec<ConsistencyLevel>>,
    /// Write each transactional anomaly's cycle to this directory as a Graphviz DOT file.
    #[arg(long, value_name = "DIR")]
    dot: Option<std::path::PathBuf>,
    /// The initial state, in EDN: `0`, `nil` (the default for registers), `{:x 0 :y 0}`.
    #[arg(long, value_name = "EDN")]
    init: Option<String>,
    /// Split the history by key: ops with `[k v]` tuple values or a `:key` field are checked
    /// key by key (the default when every op has one).
    #[arg(long, overrides_with = "no_independent")]
    independent: bool,
    /// Check the history as one object even if its values look like `[k v]` tuples.
    #[arg(long)]
    no_independent: bool,
    /// Give up after this many seconds: undecided keys are `unknown`.
    #[arg(long, value_name = "SECONDS")]
    timeout: Option<f64>,
    /// Cap on the memory the searches keep (their memo tables and the states in them), all keys
    /// together: 512M, 2G, or bytes. It bounds the search, not the process: the history as read,
    /// its indexes and the reports come on top; a key whose search reaches it is unknown.
    #[arg(long, value_name = "BYTES", value_parser = parse_bytes)]
    max_memory: Option<usize>,
    /// Cap on model steps per key.
    #[arg(long, value_name = "N", default_value_t = 100_000_000)]
    max_steps: u64,
    /// Tolerated clock skew between clients: op A precedes op B only if A completed more than
    /// this before B began. With a unit (100ms, 2s, 500us) or in the history's :time units.
    #[arg(long, value_name = "DURATION", value_parser = parse_skew)]
    clock_skew: Option<i64>,
    /// Log histories (--model log): a consumer whose position stays put this long while its
    /// lag is positive is stuck. With a unit (10s, 500ms) or in the history's :time units;
    /// 10s by default.
    #[arg(long, value_name = "DURATION", value_parser = parse_skew)]
    stuck_after: Option<i64>,
    /// Bank histories (--model bank): the total every read must see. Without it, the total of
    /// the first ok read that saw every balance (as elle-cli infers it); the report says which.
    #[arg(long, value_name = "N", alias = "total-amount", allow_negative_numbers = true)]
    total: Option<i64>,
    /// Bank histories (--model bank): a negative balance is no anomaly.
    #[arg(long)]
    allow_negative_balances: bool,
    /// Set-full histories (--model set-full): stale elements (a read that began after an
    /// element was known added missed it) make the history invalid, as Jepsen's :linearizable?.
    #[arg(long)]
    linearizable: bool,
    /// Long-fork histories (--model long-fork): how many keys each read reads (Jepsen's group
    /// size); by default the first read's count. Every read must read that many.
    #[arg(long, short = 'g', value_name = "N", value_parser = at_least_one())]
    group_size: Option<usize>,
    /// Stop at the first invalid key; the keys not yet decided are reported unknown.
    #[arg(long)]
    fail_fast: bool,
    /// Search every key, even where an exact polynomial procedure decides it (the zone test for
    /// registers whose written values are unique, the cas chains for cas registers whose written
    /// values are unique): for comparison; never changes a verdict but to unknown.
    #[arg(long)]
    no_fast_path: bool,
    /// Also write a JUnit XML report here: one test case per history and consistency level.
    #[arg(long, value_name = "FILE")]
    junit: Option<String>,
    /// Also write an HTML report here: one self-contained page (no network needed) with a
    /// timeline of every history, its anomalies highlighted and explained.
    #[arg(long, value_name = "FILE")]
    html: Option<String>,
    /// Also print GitHub workflow annotations (::error file=…,line=…::…) for each anomaly.
    #[arg(long)]
    github: bool,
    /// Call a history with no client operation (an empty file, only comments or nemesis
    /// events) valid; without this it is unknown (exit 2): it tested nothing.
    #[arg(long)]
    allow_empty: bool,
    /// In the JSON report, give each valid key's order found (the ops' :index, in order), so
    /// that the verdict can be checked with other tools.
    #[arg(long)]
    linearization: bool,
    /// How register models (register, cas-register, multi-register) read a completed read
    /// of nil: as the value nil, or as a read whose value is unknown (Knossos's reading).
    /// Without this flag: unknown where nil can never be the state (the initial value is not
    /// nil and no op writes nil, over all keys), with a warning saying how many; else value.
    #[arg(long, value_enum, value_name = "HOW")]
    nil_reads: Option<NilReadsArg>,
    /// Output format on standard output.
    #[arg(long, value_enum, default_value_t = Output::Text, value_name = "FORMAT")]
    output: Output,
}

#[derive(Clone, Copy, ValueEnum)]
enum InputFormat {
    Edn,
    Json,
    Log,
    /// Plume/PolySI/IsoVista text: r(key,value,session,txn) per line.
    Plume,
    /// AWDIT's test format: r/w key value lines, - and = lines between transactions and sessions.
    Awdit,
    /// dbcop's JSON history or its .hist text.
    Dbcop,
}

/// `--nil-reads`.
#[derive(Clone, Copy, ValueEnum)]
enum NilReadsArg {
    /// nil is a value the register can hold.
    Value,
    /// nil means the value read is unknown: the read constrains nothing.
    Unknown,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Output {
    Text,
    Json,
}

/// What a panic says before labrys exits 255: that it is a bug, where, and to report it.
fn bug_report(message: &str, location: Option<&std::panic::Location<'_>>) -> String {
    let at = location.map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
    format!(
        "internal error: labrys panicked{at}: {message}\n\
         This is a bug in labrys, not in your history. Please report it, with this message, the \
         command line and (if you can share it) the history that gave it."
    )
}

/// A panic anywhere, in any thread, is an internal error: exit 255 (DESIGN.md section 5) with
/// [`bug_report`], never Rust's 101.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(no message)".to_string());
        eprintln!("{}", bug_report(&message, info.location()));
        std::process::exit(i32::from(exit::INTERNAL));
    }));
}

fn main() -> ExitCode {
    install_panic_hook();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { exit::BAD_INPUT } else { exit::VALID };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match cli.command {
        Command::Check(args) => check(&args),
        Command::Simulate(args) => simulate(&args),
    }
}

/// Writes a simulated history, returning the number of events written.
type WriteHistory<'a> = Box<dyn Fn(&mut dyn std::io::Write) -> std::io::Result<usize> + 'a>;

/// A count that must be at least 1.
fn at_least_one() -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::<usize>::new().range(1..)
}

/// A fraction, from 0 to 1.
fn parse_rate(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
        Ok(_) => Err(format!("{text} is not a fraction from 0 to 1")),
        Err(_) => Err(format!("expected a fraction from 0 to 1, such as 0.01, got {text:?}")),
    }
}

/// What clap cannot say of `simulate`'s flags: the ones that a workload or mode would ignore.
/// A flag given is honoured or rejected, never dropped.
fn check_simulate(args: &SimulateArgs) -> Result<(), String> {
    let register = matches!(args.workload.as_str(), "register" | "cas-register");
    if args.lagging_threads > 0 {
        if args.workload != "register" {
            return Err(format!(
                "--lagging-threads simulates the register workload only, not {}",
                args.workload
            ));
        }
        if args.lagging_threads > args.threads {
            return Err(format!(
                "--lagging-threads {} is more than the --threads {}",
                args.lagging_threads, args.threads
            ));
        }
        if args.values.is_some() {
            return Err(
                "--values has no effect with --lagging-threads: written values are unique".to_string()
            );
        }
    }
    if args.log_bug.is_some() && args.workload != "log" {
        return Err(format!("--log-bug is for the log workload, not {}", args.workload));
    }
    if args.values.is_some() && !register {
        return Err(format!(
            "--values has no effect on the {} workload, whose values are unique",
            args.workload
        ));
    }
    Ok(())
}

fn simulate(args: &SimulateArgs) -> ExitCode {
    if let Err(e) = check_simulate(args) {
        eprintln!("error: {e}");
        return ExitCode::from(exit::BAD_INPUT);
    }
    use labrys::sim::list_append::{TxnFormat, TxnGenConfig, TxnWorkload, write_history};
    use labrys::sim::synthetic::{SyntheticConfig, write_edn};
    let json = args.output.as_deref().is_some_and(|p| p.ends_with(".json") || p.ends_with(".jsonl"));
    let txn = |workload| TxnGenConfig {
        workload,
        txns: args.ops,
        processes: args.threads,
        active_keys: if args.keys == 0 { 10 } else { args.keys },
        crash_rate: args.crash_rate,
        seed: args.seed,
        ..TxnGenConfig::default()
    };
    let cas = |cas| SyntheticConfig {
        cas,
        ops: args.ops,
        keys: args.keys,
        threads: args.threads,
        crash_rate: args.crash_rate,
        values: args.values.unwrap_or(5),
        seed: args.seed,
    };
    let format = if json { TxnFormat::Json } else { TxnFormat::Edn };
    let write: WriteHistory<'_> = match args.workload.as_str() {
        _ if args.service.is_some() => match cluster_config(args) {
            Ok(c) if json => Box::new(move |mut w| labrys::sim::cluster::write_json(&c, &mut w)),
            Ok(c) => Box::new(move |mut w| labrys::sim::cluster::write_edn(&c, &mut w)),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(exit::BAD_INPUT);
            }
        },
        "register" if args.lagging_threads > 0 => {
            if json {
                eprintln!("error: --lagging-threads writes EDN only");
                return ExitCode::from(exit::BAD_INPUT);
            }
            let lag = labrys::sim::lagging::LaggingConfig {
                ops: args.ops,
                keys: args.keys.max(1),
                threads: args.threads,
                lagging_threads: args.lagging_threads,
                max_lag: args.max_lag,
                crash_rate: args.crash_rate,
                seed: args.seed,
            };
            Box::new(move |mut w| labrys::sim::lagging::write_edn(&lag, &mut w))
        }
        "log" => {
            use labrys::sim::log::{LogBug, LogSimConfig};
            let name = args.log_bug.as_deref().unwrap_or("none");
            let Some(bug) = LogBug::parse(name) else {
                eprintln!("error: unknown --log-bug {name:?}; the bugs are {}", LogBug::NAMES.join(", "));
                return ExitCode::from(exit::BAD_INPUT);
            };
            if json {
                eprintln!("error: the log workload writes EDN only");
                return ExitCode::from(exit::BAD_INPUT);
            }
            let c = LogSimConfig {
                sends: args.ops,
                keys: if args.keys == 0 { 3 } else { args.keys },
                producers: args.threads,
                bug,
                ..LogSimConfig::default()
            };
            Box::new(move |mut w| labrys::sim::log::write_edn(&c, &mut w))
        }
        "register" => Box::new(move |mut w| write_edn(&cas(false), &mut w)),
        "cas-register" => Box::new(move |mut w| write_edn(&cas(true), &mut w)),
        "list-append" => Box::new(move |mut w| write_history(&txn(TxnWorkload::ListAppend), format, &mut w)),
        "rw-register" => Box::new(move |mut w| write_history(&txn(TxnWorkload::RwRegister), format, &mut w)),
        other => {
            eprintln!(
                "error: unknown workload {other:?}; the workloads are register, cas-register, list-append, \
                 rw-register and log (and with --service also set, counter, bank, set-full and long-fork)"
            );
            return ExitCode::from(exit::BAD_INPUT);
        }
    };
    let written = match &args.output {
        Some(path) => std::fs::File::create(path).and_then(|f| {
            let mut w = std::io::BufWriter::new(f);
            write(&mut w).and_then(|n| std::io::Write::flush(&mut w).map(|_| n))
        }),
        None => write(&mut std::io::BufWriter::new(std::io::stdout().lock())),
    };
    match written {
        Ok(_) => ExitCode::from(exit::VALID),
        Err(e) => {
            eprintln!("error: {}: {e}", args.output.as_deref().unwrap_or("-"));
            ExitCode::from(exit::BAD_INPUT)
        }
    }
}

/// The cluster simulation's configuration, from `simulate --service ...`.
fn cluster_config(args: &SimulateArgs) -> Result<labrys::sim::cluster::ClusterConfig, String> {
    use labrys::sim::cluster::{ClusterConfig, Faults, Service, Workload};
    let name = args.service.as_deref().unwrap_or_default();
    let service = Service::parse(name)
        .ok_or_else(|| format!("unknown service {name:?}; the services are {}", Service::NAMES.join(", ")))?;
    let workload = Workload::parse(&args.workload).ok_or_else(|| {
        format!("--service simulates the workloads {}, not {:?}", Workload::NAMES.join(", "), args.workload)
    })?;
    if !service.supports(workload) {
        return Err(format!("the {name} service runs only the register workload, not {}", workload.name()));
    }
    Ok(ClusterConfig {
        service,
        workload,
        faults: Faults::parse(&args.faults)?,
        nodes: args.nodes,
        ops: args.ops,
        clients: args.threads,
        values: args.values.unwrap_or(0),
        seed: args.seed,
    })
}

/// `--model`: a model's name, or the list of models with what each checks.
fn parse_model(text: &str) -> Result<ModelName, String> {
    text.parse().map_err(|_| CheckError::UnknownModel(text.to_string()).to_string())
}

/// One level of `--consistency` (clap splits the list at commas).
fn parse_level(text: &str) -> Result<ConsistencyLevel, String> {
    text.parse().map_err(|e: labrys::vocab::UnknownWord| e.to_string())
}

fn parse_bytes(text: &str) -> Result<usize, String> {
    let t = text.trim();
    let (digits, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(t.len()));
    let n: f64 = digits.parse().map_err(|_| format!("expected a size such as 512M or 2G, got {text:?}"))?;
    let scale = match unit.to_ascii_uppercase().trim_end_matches("IB").trim_end_matches('B') {
        "" => 1.0,
        "K" => 1024.0,
        "M" => 1024.0 * 1024.0,
        "G" => 1024.0 * 1024.0 * 1024.0,
        _ => return Err(format!("unknown unit in {text:?}; use K, M or G")),
    };
    Ok((n * scale) as usize)
}

fn parse_skew(text: &str) -> Result<i64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: f64 = digits.parse().map_err(|_| format!("expected a duration such as 100ms, got {text:?}"))?;
    let nanos = match unit {
        "" | "ns" => 1.0,
        "us" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        _ => return Err(format!("unknown unit in {text:?}; use ns, us, ms or s")),
    };
    Ok((n * nanos) as i64)
}

fn read_options(args: &CheckArgs) -> ReadOptions {
    ReadOptions {
        format: args.input_format.map(|f| match f {
            InputFormat::Edn => Format::Edn,
            InputFormat::Json => Format::Json,
            InputFormat::Log => Format::JepsenLog,
            InputFormat::Plume => Format::Weak(WeakFormat::Plume),
            InputFormat::Awdit => Format::Weak(WeakFormat::Awdit),
            InputFormat::Dbcop => Format::Weak(WeakFormat::Dbcop),
        }),
        lenient: args.lenient,
    }
}

fn check_config(args: &CheckArgs) -> Result<CheckConfig, String> {
    let init = match &args.init {
        Some(text) => Some(history::edn::parse_value(text).map_err(|e| format!("--init: {e}"))?),
        None => None,
    };
    let independent = match (args.independent, args.no_independent) {
        (true, _) => Some(true),
        (_, true) => Some(false),
        _ => None,
    };
    Ok(CheckConfig {
        model: args.model,
        init,
        consistency: args.consistency.clone(),
        dot_dir: args.dot.clone(),
        options: Options {
            independent,
            clock_skew: args.clock_skew.unwrap_or(0),
            max_steps: args.max_steps,
            timeout: args.timeout.map(Duration::from_secs_f64),
            max_memory: args.max_memory,
            fail_fast: args.fail_fast,
            fast_paths: !args.no_fast_path,
        },
        allow_empty: args.allow_empty,
        linearization: args.linearization,
        nil_reads: args.nil_reads.map(|n| match n {
            NilReadsArg::Value => NilReads::Value,
            NilReadsArg::Unknown => NilReads::Unknown,
        }),
        queue: labrys::queue::QueueOptions { stuck_after: args.stuck_after },
        bank: labrys::workload::BankOptions {
            total: args.total,
            allow_negative_balances: args.allow_negative_balances,
        },
        set_full: labrys::set_full::SetFullOptions { linearizable: args.linearizable },
        long_fork: labrys::long_fork::LongForkOptions { group_size: args.group_size },
    })
}

/// What became of one file given. Every file given has its entry in every output, in the
/// order given, even one that could not be read or checked.
enum Outcome {
    /// Checked: one report per consistency level.
    Checked(Vec<FileReport>),
    /// Only summarized (`--summary`).
    Summarized(Summary),
    /// Not read or not checked, and why.
    Failed(String),
}

/// Checks, before any history is read, that every output named can be written: one that
/// cannot is a usage error, found before the work whose results it would hold. (A file is
/// created, empty, if it did not exist; a `--dot` directory is created.)
fn check_outputs(args: &CheckArgs) -> Result<(), String> {
    let files = [("--junit", &args.junit), ("--html", &args.html)];
    for (flag, path) in files.iter().filter_map(|(flag, p)| p.as_ref().map(|p| (flag, p))) {
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| format!("{flag} {path}: {e}"))?;
    }
    if let Some(dir) = &args.dot {
        std::fs::create_dir_all(dir).map_err(|e| format!("--dot {}: {e}", dir.display()))?;
    }
    Ok(())
}

fn check(args: &CheckArgs) -> ExitCode {
    // Arguments are checked before any file is read: a bad one is said once, not per file.
    let config = match check_config(args)
        .and_then(|c| c.validate().map_err(|e| e.to_string()).map(|()| c))
        .and_then(|c| check_outputs(args).map(|()| c))
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(exit::BAD_INPUT);
        }
    };
    let options = read_options(args);
    let mut outcomes: Vec<(String, Outcome)> = Vec::new();
    let mut html = args.html.as_ref().map(|_| HtmlReport::new());
    let bar = progress::Bar::start();
    let mut uncertified = false;
    for file in &args.files {
        progress::phase(format!("reading {file}"));
        let loaded = match load(file, &options, &config) {
            Ok(h) => h,
            Err(e) => {
                eprintln!("error: {e}");
                html.iter_mut().for_each(|h| h.add_error(file, &e.to_string()));
                outcomes.push((file.clone(), Outcome::Failed(e.to_string())));
                continue;
            }
        };
        warn_about(file, &loaded.history, args);
        if args.summary {
            html.iter_mut().for_each(|h| h.add(&loaded.history, loaded.txns.as_ref(), &[]));
            outcomes.push((file.clone(), Outcome::Summarized(Summary::of(&loaded.history))));
            continue;
        }
        progress::phase(format!("checking {file}"));
        match check_loaded(&loaded, &config) {
            Ok(r) => {
                warn_about_check(file, &loaded.history, &r);
                html.iter_mut().for_each(|h| h.add(&loaded.history, loaded.txns.as_ref(), &r));
                outcomes.push((file.clone(), Outcome::Checked(r)));
            }
            Err(e @ CheckError::Uncertified(_)) => {
                // A bug, loudly: nothing of this file's report is shown as fact.
                let message = format!("internal error: {e}");
                eprintln!("internal error: {file}: {e}");
                html.iter_mut().for_each(|h| h.add_error(file, &message));
                outcomes.push((file.clone(), Outcome::Failed(message)));
                uncertified = true;
            }
            Err(e) => {
                eprintln!("error: {file}: {e}");
                html.iter_mut().for_each(|h| h.add_error(file, &e.to_string()));
                outcomes.push((file.clone(), Outcome::Failed(e.to_string())));
            }
        }
    }
    bar.into_iter().for_each(progress::Bar::finish);
    if let (Some(path), Some(page)) = (&args.html, &html) {
        if let Err(e) = std::fs::write(path, page.render()) {
            eprintln!("error: --html {path}: {e}");
            return ExitCode::from(exit::BAD_INPUT);
        }
    }
    if let Some(path) = &args.junit {
        let cases: Vec<CaseOutcome<'_>> = outcomes
            .iter()
            .flat_map(|(file, outcome)| match outcome {
                Outcome::Checked(reports) => reports.iter().map(CaseOutcome::Checked).collect(),
                Outcome::Failed(message) => vec![CaseOutcome::Error { file, message }],
                Outcome::Summarized(_) => Vec::new(),
            })
            .collect();
        if let Err(e) = std::fs::write(path, ci::junit(&cases)) {
            eprintln!("error: --junit {path}: {e}");
            return ExitCode::from(exit::BAD_INPUT);
        }
    }
    let text = match render(args, &config, &outcomes) {
        Ok(text) => text,
        Err(e) => return internal_error(&*e),
    };
    // A failure to write standard output (a closed pipe) is an error, not a panic.
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        eprintln!("error: standard output: {e}");
        return ExitCode::from(exit::BAD_INPUT);
    }
    if uncertified {
        return ExitCode::from(exit::INTERNAL);
    }
    let reports: Vec<&FileReport> = outcomes
        .iter()
        .flat_map(|(_, o)| match o {
            Outcome::Checked(r) => r.as_slice(),
            _ => &[],
        })
        .collect();
    let failed = outcomes.iter().any(|(_, o)| matches!(o, Outcome::Failed(_)));
    let verdict = Verdict::combine(reports.iter().map(|r| r.valid));
    ExitCode::from(if failed { exit::BAD_INPUT } else { verdict.exit_code() })
}

/// The JSON entry of a file that could not be read or checked: the report's required fields,
/// its verdict `unknown` (never a pass), and `error`, why.
fn error_entry(file: &str, config: &CheckConfig, message: &str) -> serde_json::Value {
    serde_json::json!({
        "version": labrys::report::SCHEMA_VERSION,
        "file": file,
        "model": config.model.map_or("", ModelName::as_str),
        "consistency": config.consistency.clone().map(|l| Levels(l).to_string()).unwrap_or_default(),
        "valid": "unknown",
        "error": message,
        "anomalies": [],
        "stats": {},
    })
}

/// What goes to standard output: the reports (or summaries) as text or JSON, then any GitHub
/// annotations.
fn render(
    args: &CheckArgs,
    config: &CheckConfig,
    outcomes: &[(String, Outcome)],
) -> Result<String, Box<dyn std::error::Error>> {
    let mut out = String::new();
    match args.output {
        Output::Text => {
            for (file, outcome) in outcomes {
                match outcome {
                    Outcome::Summarized(s) => out.push_str(&summary_text(file, s)),
                    Outcome::Checked(reports) => reports.iter().for_each(|r| out.push_str(&r.to_text())),
                    // Said on standard error as it happened.
                    Outcome::Failed(_) => {}
                }
            }
        }
        Output::Json => {
            let mut all: Vec<serde_json::Value> = Vec::new();
            for (file, outcome) in outcomes {
                match outcome {
                    Outcome::Summarized(s) => {
                        all.push(serde_json::json!({"version": labrys::report::SCHEMA_VERSION, "file": file, "summary": s}))
                    }
                    Outcome::Checked(reports) => {
                        for r in reports {
                            all.push(serde_json::to_value(r)?);
                        }
                    }
                    Outcome::Failed(message) => all.push(error_entry(file, config, message)),
                }
            }
            out.push_str(&serde_json::to_string_pretty(&all)?);
            out.push('\n');
        }
    }
    if args.github {
        for (file, outcome) in outcomes {
            match outcome {
                Outcome::Checked(reports) => reports
                    .iter()
                    .flat_map(ci::github_annotations)
                    .for_each(|line| out.push_str(&format!("{line}\n"))),
                Outcome::Failed(message) => {
                    let first = message.lines().next().unwrap_or_default();
                    out.push_str(&format!("::error file={file},title=labrys: cannot check::{first}\n"));
                }
                Outcome::Summarized(_) => {}
            }
        }
    }
    Ok(out)
}

fn internal_error(e: &dyn std::error::Error) -> ExitCode {
    eprintln!("internal error: {e}");
    ExitCode::from(exit::INTERNAL)
}

fn warn_about(file: &str, history: &History, args: &CheckArgs) {
    for w in &history.warnings {
        eprintln!("warning: {}:{}: {}", file, w.line, w.message);
    }
    if args.clock_skew.is_some() && history.clock == history::Clock::Position {
        eprintln!(
            "warning: {file}: --clock-skew has no effect: some events have no :time, so ops are ordered by position"
        );
    }
}

/// The warnings checking added to the reading's (how reads of nil were read, claims not
/// re-derived), each once per file however many consistency levels gave it.
fn warn_about_check(file: &str, history: &History, reports: &[FileReport]) {
    let mut seen = std::collections::BTreeSet::new();
    for r in reports {
        for w in &r.warnings[history.warnings.len().min(r.warnings.len())..] {
            if seen.insert(w) {
                eprintln!("warning: {file}: {w}");
            }
        }
    }
}

fn summary_text(file: &str, s: &Summary) -> String {
    let mut out = String::new();
    let counts = |m: &std::collections::BTreeMap<&'static str, usize>| {
        m.iter().map(|(k, v)| format!("{v} {k}")).collect::<Vec<_>>().join(", ")
    };
    let _ = writeln!(out, "{file}: {} ops ({}) from {} events", s.ops, counts(&s.by_outcome), s.events);
    for (f, by) in &s.by_f {
        let _ = writeln!(out, "  :{f:<12} {}", counts(by));
    }
    let _ = writeln!(
        out,
        "  {} processes, {} keys, {} crashed ops, at most {} concurrent",
        s.processes, s.keys, s.crashed, s.max_concurrency
    );
    if s.fault_events > 0 {
        let faults: Vec<String> = s.faults_by_f.iter().map(|(f, n)| format!("{n} {f}")).collect();
        let _ = writeln!(out, "  {} fault events: {}", s.fault_events, faults.join(", "));
    }
    if s.warnings > 0 {
        let _ = writeln!(out, "  {} warnings (see standard error)", s.warnings);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bug_report_says_what_panicked_where_and_asks_for_a_report() {
        let text = bug_report("index out of bounds", None);
        assert!(text.starts_with("internal error: labrys panicked: index out of bounds\n"), "{text}");
        assert!(text.contains("Please report it"), "{text}");
    }

    /// Run by [`a_panic_exits_255_with_a_bug_report`] in a child process; ignored otherwise.
    #[test]
    #[ignore = "panics on purpose: run as a child by a_panic_exits_255_with_a_bug_report"]
    fn panic_child() {
        install_panic_hook();
        // In another thread, as in the parallel reader or the searches.
        let _ = std::thread::spawn(|| panic!("on purpose: {}", 42)).join();
        unreachable!("the hook exits");
    }

    #[test]
    fn a_panic_exits_255_with_a_bug_report() {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--ignored", "--exact", "tests::panic_child", "--nocapture"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(255), "{stderr}");
        assert!(stderr.contains("internal error: labrys panicked at src/main.rs:"), "{stderr}");
        assert!(stderr.contains(": on purpose: 42\n"), "{stderr}");
        assert!(stderr.contains("Please report it"), "{stderr}");
    }
}
