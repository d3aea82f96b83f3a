//! The `labrys` command: parses arguments, calls the library, renders, and sets the exit code.
//! No checking logic lives here.

use clap::{Parser, Subcommand, ValueEnum};
use labrys::check::{CheckConfig, CheckError, check_loaded, load};
use labrys::history::{self, Format, History, ReadOptions, Summary};
use labrys::linear::Options;
use labrys::model::NilReads;
use labrys::progress;
use labrys::report::FileReport;
use labrys::report::ci::{self, CaseOutcome};
use labrys::report::html::HtmlReport;
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
    /// --service: register, cas-register, set, counter or list-append.
    #[arg(long, default_value = "cas-register", value_name = "WORKLOAD")]
    workload: String,
    /// Number of ops.
    #[arg(long, default_value_t = 1000)]
    ops: usize,
    /// Independent keys; 0 for a single register.
    #[arg(long, default_value_t = 0)]
    keys: usize,
    /// Concurrent client threads.
    #[arg(long, default_value_t = 5)]
    threads: usize,
    /// Fraction of ops that crash (recorded :info).
    #[arg(long, default_value_t = 0.01)]
    crash_rate: f64,
    /// Values are drawn from 0..N; 0 makes every written value unique per key. The default is
    /// 5, or 0 with --service.
    #[arg(long)]
    values: Option<u64>,
    /// Simulate a replicated service under faults instead of writing a synthetic history
    /// (workloads register, cas-register, set, counter, list-append): correct (linearizable),
    /// stale-read (reads served from any node's local copy), lost-ack (updates acknowledged
    /// before they are replicated), duplicate-retry (the client resends timed-out
    /// non-idempotent ops), silent-retry (the client retries and records only the last
    /// attempt), clock-skew-lww (last-write-wins by wall clocks; register only).
    #[arg(long, value_name = "SERVICE")]
    service: Option<String>,
    /// With --service: the faults to inject, comma-separated: partition, kill, loss (a flaky
    /// network: messages dropped, delayed and duplicated), clock. Several are composed.
    #[arg(long, default_value = "", value_name = "LIST")]
    faults: String,
    /// With --service: the number of nodes.
    #[arg(long, default_value_t = 3)]
    nodes: usize,
    /// Synthetic register histories: this many of the threads are followers lagging behind
    /// the leader, whose reads are stale. Written values are unique per key, and the history
    /// is sequentially consistent but (almost always) not linearizable. EDN output only.
    #[arg(long, default_value_t = 0, value_name = "N")]
    lagging_threads: usize,
    /// With --lagging-threads: the most ops a follower trails the leader by.
    #[arg(long, default_value_t = 50, value_name = "OPS")]
    max_lag: usize,
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
    /// multi-register; or Elle's transactional list-append and rw-register.
    #[arg(long, short, value_name = "MODEL")]
    model: Option<String>,
    /// What to check: for objects linearizable (the default), sequential, or both
    /// (linearizable,sequential); for transactions (list-append, rw-register) Elle's models,
    /// all of which must hold: strict-serializable (the default), serializable,
    /// snapshot-isolation, repeatable-read, read-committed, read-uncommitted,
    /// strong-session-serializable, monotonic-atomic-view, ...
    #[arg(long, short, value_name = "LEVELS")]
    consistency: Option<String>,
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
    /// Cap on the memory of the searches' memo tables and the states they keep, all keys together: 512M, 2G, bytes.
    #[arg(long, value_name = "BYTES", value_parser = parse_bytes)]
    max_memory: Option<usize>,
    /// Cap on model steps per key.
    #[arg(long, value_name = "N", default_value_t = 100_000_000)]
    max_steps: u64,
    /// Tolerated clock skew between clients: op A precedes op B only if A completed more than
    /// this before B began. With a unit (100ms, 2s, 500us) or in the history's :time units.
    #[arg(long, value_name = "DURATION", value_parser = parse_skew)]
    clock_skew: Option<i64>,
    /// Stop at the first invalid key; the keys not yet decided are reported unknown.
    #[arg(long)]
    fail_fast: bool,
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

fn main() -> ExitCode {
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

fn simulate(args: &SimulateArgs) -> ExitCode {
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
        "register" => Box::new(move |mut w| write_edn(&cas(false), &mut w)),
        "cas-register" => Box::new(move |mut w| write_edn(&cas(true), &mut w)),
        "list-append" => Box::new(move |mut w| write_history(&txn(TxnWorkload::ListAppend), format, &mut w)),
        "rw-register" => Box::new(move |mut w| write_history(&txn(TxnWorkload::RwRegister), format, &mut w)),
        other => {
            eprintln!(
                "error: unknown workload {other:?}; the workloads are register, cas-register, list-append and \
                 rw-register (and with --service also set and counter)"
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
        model: args.model.clone(),
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
        },
        allow_empty: args.allow_empty,
        linearization: args.linearization,
        nil_reads: args.nil_reads.map(|n| match n {
            NilReadsArg::Value => NilReads::Value,
            NilReadsArg::Unknown => NilReads::Unknown,
        }),
    })
}

fn check(args: &CheckArgs) -> ExitCode {
    let config = match check_config(args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(exit::BAD_INPUT);
        }
    };
    let options = read_options(args);
    let mut reports: Vec<FileReport> = Vec::new();
    let mut failures: Vec<(String, String)> = Vec::new();
    let mut summaries = Vec::new();
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
                failures.push((file.clone(), e.to_string()));
                continue;
            }
        };
        warn_about(file, &loaded.history, args);
        if args.summary {
            html.iter_mut().for_each(|h| h.add(&loaded.history, loaded.txns.as_ref(), &[]));
            summaries.push((file.clone(), Summary::of(&loaded.history)));
            continue;
        }
        progress::phase(format!("checking {file}"));
        match check_loaded(&loaded, &config) {
            Ok(r) => {
                warn_about_check(file, &loaded.history, &r);
                html.iter_mut().for_each(|h| h.add(&loaded.history, loaded.txns.as_ref(), &r));
                reports.extend(r)
            }
            Err(e @ CheckError::Uncertified(_)) => {
                // A bug, loudly: nothing of this file's report is shown as fact.
                eprintln!("internal error: {file}: {e}");
                uncertified = true;
            }
            Err(e) => {
                eprintln!("error: {file}: {e}");
                html.iter_mut().for_each(|h| h.add_error(file, &e.to_string()));
                failures.push((file.clone(), e.to_string()));
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
    if let Err(e) = render(args, &reports, &failures, &summaries) {
        return internal_error(&*e);
    }
    if uncertified {
        return ExitCode::from(exit::INTERNAL);
    }
    let verdict = labrys::check::overall(&reports);
    ExitCode::from(if failures.is_empty() { verdict.exit_code() } else { exit::BAD_INPUT })
}

fn render(
    args: &CheckArgs,
    reports: &[FileReport],
    failures: &[(String, String)],
    summaries: &[(String, Summary)],
) -> Result<(), Box<dyn std::error::Error>> {
    match args.output {
        Output::Text => {
            summaries.iter().for_each(|(file, s)| print_summary(file, s));
            reports.iter().for_each(|r| print!("{}", r.to_text()));
        }
        Output::Json => {
            let mut all: Vec<serde_json::Value> = summaries
                .iter()
                .map(|(file, s)| serde_json::json!({"version": 1, "file": file, "summary": s}))
                .collect();
            for r in reports {
                all.push(serde_json::to_value(r)?);
            }
            println!("{}", serde_json::to_string_pretty(&all)?);
        }
    }
    if args.github {
        reports.iter().flat_map(ci::github_annotations).for_each(|line| println!("{line}"));
        for (file, message) in failures {
            let first = message.lines().next().unwrap_or_default();
            println!("::error file={file},title=labrys: cannot check::{first}");
        }
    }
    if let Some(path) = &args.junit {
        let mut cases: Vec<CaseOutcome<'_>> = reports.iter().map(CaseOutcome::Checked).collect();
        cases.extend(failures.iter().map(|(file, message)| CaseOutcome::Error { file, message }));
        std::fs::write(path, ci::junit(&cases)).map_err(|e| format!("--junit {path}: {e}"))?;
    }
    Ok(())
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

fn print_summary(file: &str, s: &Summary) {
    let counts = |m: &std::collections::BTreeMap<&'static str, usize>| {
        m.iter().map(|(k, v)| format!("{v} {k}")).collect::<Vec<_>>().join(", ")
    };
    println!("{file}: {} ops ({}) from {} events", s.ops, counts(&s.by_outcome), s.events);
    for (f, by) in &s.by_f {
        println!("  :{f:<12} {}", counts(by));
    }
    println!(
        "  {} processes, {} keys, {} crashed ops, at most {} concurrent",
        s.processes, s.keys, s.crashed, s.max_concurrency
    );
    if s.fault_events > 0 {
        let faults: Vec<String> = s.faults_by_f.iter().map(|(f, n)| format!("{n} {f}")).collect();
        println!("  {} fault events: {}", s.fault_events, faults.join(", "));
    }
    if s.warnings > 0 {
        println!("  {} warnings (see standard error)", s.warnings);
    }
}
