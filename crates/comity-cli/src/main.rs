//! `comity`: decide, explain, check and test policy packs; record decisions in the ledger
//! and audit it.
//!
//! Exit codes: 0 all good; 1 a finding (a failing case, an invalid pack); 2 bad input or
//! usage.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use comity_policy::{Engine, PackError};

/// mimalloc rather than the system allocator: under load the server spent a third of its
/// time in glibc's malloc and free (docs/perf.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod approve;
mod audit;
mod bench;
mod cases;
mod check;
mod counsel;
mod decide;
mod deliveries;
mod demo;
mod diff;
mod dispatch;
mod event;
mod explain;
mod ingest;
mod packs;
mod report;
mod serve;
mod store;
mod synth;
mod token;
mod whatif;

/// Writes a line to standard output; a reader that went away (`comity … | head`) ends the
/// command quietly instead of with a panic.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::write_out(format_args!("{}\n", format_args!($($arg)*)))
    };
}
pub(crate) use outln;

/// Writes to standard output, ending the process quietly on a closed pipe.
pub(crate) fn write_out(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: writing to standard output: {e}");
        std::process::exit(1);
    }
}

#[derive(Parser)]
#[command(
    name = "comity",
    version,
    about = "Decide, explain and record what the law lets an agency do when another agency asks it to act on a person"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Decide requests (JSON, a JSON array, or JSON lines) and print the decisions as JSON;
    /// records nothing.
    Decide {
        #[command(flatten)]
        packs: PackArgs,
        #[command(flatten)]
        leniency: Leniency,
        /// The request files, or `-` for standard input; each file's decisions are printed
        /// in its shape, one file after another.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Decide requests and explain each decision for a person: the outcome of each act, the
    /// rules and their citations, the facts that mattered.
    Explain {
        #[command(flatten)]
        packs: PackArgs,
        #[command(flatten)]
        leniency: Leniency,
        /// Print the decision JSON instead of text.
        #[arg(long)]
        json: bool,
        /// The request files, or `-` for standard input.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Validate every pack against the schema: manifests, annotations, facts, rules.
    Check {
        #[command(flatten)]
        packs: PackArgs,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run every pack's test cases and check each rule has a case that meets it, one that
    /// fails it and one at its boundary.
    Test {
        #[command(flatten)]
        packs: PackArgs,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Read the law as a lawyer reviews it: the rule set in force on a date and where each
    /// rule comes from.
    Packs {
        #[command(subcommand)]
        what: packs::PacksCommand,
    },
    /// Decide requests and record each request, its decision and its ledger entry;
    /// idempotent by request id. Every file is decided before anything is recorded: a bad
    /// request records nothing. Ends with a summary (recorded, already recorded, refused).
    Ingest(ingest::IngestArgs),
    /// Serve the HTTP API, with a dispatcher.
    Serve(serve::ServeArgs),
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        what: token::TokenCommand,
    },
    /// Run a dispatcher alone: deliver the permitted disclosures and notices in the outbox.
    Dispatch(dispatch::DispatchArgs),
    /// Record the approval (or, with --refuse, the refusal) a permit names before its act is
    /// carried out; the act's waiting deliveries go to the dispatcher (or are refused).
    Approve(approve::ApproveArgs),
    /// Record what the agency did on a decided request (held, released, transferred,
    /// hold-expired, custody-disavowed, response-sent), as a ledger entry; an action the
    /// decision did not allow is recorded and printed as a VIOLATION.
    Event(event::EventArgs),
    /// Draw a synthetic request history (JSON lines), deterministic by its seed, with the
    /// events that followed each request; no real person is in it.
    Synth(synth::SynthArgs),
    /// Set up a demonstration in one command: a synthetic year decided and recorded in
    /// ./comity-demo.db, a summary with a statutory report, a token for each role, and the web
    /// console served on it.
    Demo(demo::DemoArgs),
    /// Replay a history (JSON lines) under the law as it is and as proposed (two pack
    /// directories): counts by act and outcome, the cases decided otherwise with their rules,
    /// and a monthly series.
    Whatif(whatif::WhatifArgs),
    /// Compare two pack directories symbolically at a place on a day (cedar-policy-symcc and
    /// the cvc5 solver): per act, equivalent, B permits more or B permits less, each
    /// difference with a request that shows it. Exit 1 when they differ.
    Diff(diff::DiffArgs),
    /// Compute a statutory report from the ledger (each figure listing the entries it
    /// counts, at a signed checkpoint), or verify one (`comity report verify FILE`).
    Report(report::ReportArgs),
    /// List a request's deliveries and where each stands.
    Deliveries(deliveries::DeliveriesArgs),
    /// Assign counsel to the people it represents, end an assignment, list them.
    Counsel {
        #[command(subcommand)]
        what: counsel::CounselCommand,
    },
    /// Measure: a bounded load test of the HTTP API on loopback.
    Bench {
        #[command(subcommand)]
        what: BenchCommand,
    },
    /// Prove and verify what the ledger holds.
    Audit {
        #[command(flatten)]
        db: store::DbArgs,
        #[command(subcommand)]
        what: audit::Audit,
    },
}

/// What `comity bench` measures.
#[derive(Subcommand)]
enum BenchCommand {
    /// `POST /v1/requests` throughput and latency against a running server.
    Http(bench::HttpBench),
}

/// What a decision may tolerate, each with a warning on the decision instead of a refusal.
#[derive(Args, Default, Clone, Copy)]
pub(crate) struct Leniency {
    /// Decide requests naming offenses no catalog holds, with a warning.
    #[arg(long)]
    allow_unknown_offenses: bool,
    /// Decide requests placed in a division the registry (catalog/divisions.toml) does not
    /// know, by the law of the parts of its id it knows, with a warning.
    #[arg(long)]
    allow_unknown_places: bool,
}

#[derive(Args)]
pub(crate) struct PackArgs {
    /// The pack directory [default: the project's packs/]
    #[arg(long, env = "COMITY_PACKS")]
    packs: Option<PathBuf>,
    /// The offense catalog directory [default: catalog/ beside the pack directory]
    #[arg(long, env = "COMITY_CATALOG")]
    catalog: Option<PathBuf>,
}

impl PackArgs {
    fn dirs(&self) -> (PathBuf, PathBuf) {
        let packs = self.packs.clone().unwrap_or_else(|| project_dir("packs"));
        let catalog = self
            .catalog
            .clone()
            .unwrap_or_else(|| packs.parent().unwrap_or(Path::new(".")).join("catalog"));
        (packs, catalog)
    }

    fn load(&self) -> Result<Engine, Vec<PackError>> {
        let (packs, catalog) = self.dirs();
        Engine::load(&packs, &catalog)
    }

    /// The engine for deciding: a broken pack is bad input here.
    fn engine(&self, leniency: Leniency) -> Result<Engine, Failure> {
        let engine = self
            .load()
            .map_err(|e| Failure::Input(check::pack_errors(e)))?;
        Ok(engine
            .allow_unknown_offenses(leniency.allow_unknown_offenses)
            .allow_unknown_places(leniency.allow_unknown_places))
    }
}

/// A directory of the project (`packs`, `reports`): here, or else the one this binary was
/// built from.
pub(crate) fn project_dir(name: &str) -> PathBuf {
    let here = PathBuf::from(name);
    if here.is_dir() {
        here
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(name)
    }
}

/// Two laws to compare (`whatif`, `diff`): each pack directory loaded with the same
/// catalogs (`catalog`, or `catalog/` beside the first); a broken pack is bad input, named
/// by `names` (the flag or side it came from).
pub(crate) fn two_laws(
    dirs: [&Path; 2],
    catalog: Option<&Path>,
    names: [&str; 2],
) -> Result<(Engine, Engine), Failure> {
    let catalog = catalog.map(Path::to_owned).unwrap_or_else(|| {
        dirs[0]
            .parent()
            .map_or_else(|| PathBuf::from("catalog"), |p| p.join("catalog"))
    });
    let load = |name: &str, dir: &Path| {
        Engine::load(dir, &catalog)
            .map_err(|errors| Failure::Input(format!("{name}: {}", check::pack_errors(errors))))
    };
    Ok((load(names[0], dirs[0])?, load(names[1], dirs[1])?))
}

/// How a command ended.
pub(crate) enum Failure {
    /// A finding: exit 1.
    Finding(String),
    /// Bad input or usage: exit 2.
    Input(String),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Finding(m)) => {
            if !m.is_empty() {
                eprintln!("{m}");
            }
            ExitCode::from(1)
        }
        Err(Failure::Input(m)) => {
            eprintln!("error: {m}");
            ExitCode::from(2)
        }
    }
}

fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Decide {
            packs,
            leniency,
            files,
        } => decide::decide(packs, leniency, &files),
        Command::Explain {
            packs,
            leniency,
            json,
            files,
        } => explain::explain_files(packs, leniency, json, &files),
        Command::Check { packs, json } => check::check(packs, json),
        Command::Test { packs, json } => cases::test(packs, json),
        Command::Packs { what } => packs::run(what),
        Command::Ingest(args) => ingest::ingest(&args),
        Command::Audit { db, what } => audit::audit(&db, &what),
        Command::Serve(args) => serve::serve(args),
        Command::Token { what } => token::token(what),
        Command::Dispatch(args) => dispatch::run(args),
        Command::Approve(args) => approve::approve(args),
        Command::Event(args) => event::event(args),
        Command::Synth(args) => synth::synth(args),
        Command::Demo(args) => demo::demo(args),
        Command::Whatif(args) => whatif::whatif(args),
        Command::Report(args) => report::report(args),
        Command::Diff(args) => diff::diff(args),
        Command::Deliveries(args) => deliveries::deliveries(args),
        Command::Counsel { what } => counsel::run(what),
        Command::Bench {
            what: BenchCommand::Http(args),
        } => bench::http(args),
    }
}

pub(crate) fn read_input(file: &Path) -> anyhow::Result<String> {
    if file == Path::new("-") {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("reading standard input")?;
        Ok(s)
    } else {
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))
    }
}
