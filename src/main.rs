//! The `labrys` command: parses arguments, calls the library, renders, and sets the exit code.
//! No checking logic lives here.

use clap::{Parser, Subcommand, ValueEnum};
use labrys::history::{self, Format, ReadOptions, Summary};
use std::process::ExitCode;

/// Exit codes, as Jepsen's CLI uses them (DESIGN.md section 5).
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
    /// crashed ops, concurrency, faults).
    #[arg(long)]
    summary: bool,
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
    }
}

fn check(args: &CheckArgs) -> ExitCode {
    let options = ReadOptions {
        format: args.input_format.map(|f| match f {
            InputFormat::Edn => Format::Edn,
            InputFormat::Json => Format::Json,
            InputFormat::Log => Format::JepsenLog,
        }),
        lenient: args.lenient,
    };
    let mut code = exit::VALID;
    let mut json_reports = Vec::new();
    for file in &args.files {
        let history = match history::read_file(file, &options) {
            Ok(h) => h,
            Err(e) => {
                eprintln!("error: {e}");
                code = exit::BAD_INPUT;
                continue;
            }
        };
        for w in &history.warnings {
            eprintln!("warning: {}:{}: {}", file, w.line, w.message);
        }
        let summary = Summary::of(&history);
        match args.output {
            Output::Text => print_summary(file, &summary),
            Output::Json => {
                json_reports.push(serde_json::json!({"version": 1, "file": file, "summary": summary}))
            }
        }
    }
    if args.output == Output::Json {
        match serde_json::to_string_pretty(&json_reports) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("internal error: {e}");
                return ExitCode::from(exit::INTERNAL);
            }
        }
    }
    ExitCode::from(code)
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
