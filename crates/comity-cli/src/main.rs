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
use comity_model::{Decision, Received, Shape, read_received};
use comity_policy::{DecideError, Engine, PackError, explain, run_cases};

/// mimalloc rather than the system allocator: under load the server spent a third of its
/// time in glibc's malloc and free (docs/perf.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod approve;
mod bench;
mod counsel;
mod dispatch;
mod ledger;
mod serve;

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
    /// Decide requests and record each request, its decision and its ledger entry;
    /// idempotent by request id. Every file is decided before anything is recorded: a bad
    /// request records nothing. Ends with a summary (recorded, already recorded, refused).
    Ingest(ledger::IngestArgs),
    /// Serve the HTTP API, with a dispatcher.
    Serve(serve::ServeArgs),
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        what: serve::TokenCommand,
    },
    /// Run a dispatcher alone: deliver the permitted disclosures and notices in the outbox.
    Dispatch(dispatch::DispatchArgs),
    /// Record the approval (or, with --refuse, the refusal) a permit names before its act is
    /// carried out; the act's waiting deliveries go to the dispatcher (or are refused).
    Approve(approve::ApproveArgs),
    /// List a request's deliveries and where each stands.
    Deliveries(approve::DeliveriesArgs),
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
        db: ledger::DbArgs,
        #[command(subcommand)]
        what: ledger::Audit,
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
        let packs = self.packs.clone().unwrap_or_else(|| {
            let here = PathBuf::from("packs");
            if here.is_dir() {
                here
            } else {
                Path::new(env!("CARGO_MANIFEST_DIR")).join("../../packs")
            }
        });
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
        let engine = self.load().map_err(|e| Failure::Input(pack_errors(e)))?;
        Ok(engine
            .allow_unknown_offenses(leniency.allow_unknown_offenses)
            .allow_unknown_places(leniency.allow_unknown_places))
    }
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

fn pack_errors(errors: Vec<PackError>) -> String {
    errors
        .iter()
        .map(|e| format!("invalid pack: {e}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Decide {
            packs,
            leniency,
            files,
        } => {
            let engine = packs.engine(leniency)?;
            for (shape, decisions) in decide_files(&engine, &files)? {
                print_decisions(shape, &decisions);
            }
            Ok(())
        }
        Command::Explain {
            packs,
            leniency,
            json,
            files,
        } => {
            let engine = packs.engine(leniency)?;
            let decided = decide_files(&engine, &files)?;
            if json {
                for (shape, decisions) in decided {
                    print_decisions(shape, &decisions);
                }
            } else {
                let texts: Vec<String> = decided
                    .iter()
                    .flat_map(|(_, decisions)| decisions)
                    .map(|d| explain(d, engine.packs()))
                    .collect();
                write_out(format_args!(
                    "{}",
                    texts.join("\n----------------------------------------\n\n")
                ));
            }
            Ok(())
        }
        Command::Check { packs, json } => {
            let engine = packs.load().map_err(|e| Failure::Finding(pack_errors(e)))?;
            let all = engine.packs().packs();
            let rules: usize = all.iter().map(|p| p.rules.len()).sum();
            if json {
                let list: Vec<_> = all
                    .iter()
                    .map(|p| serde_json::json!({ "id": p.id, "sha256": p.sha256, "rules": p.rules.len() }))
                    .collect();
                outln!("{}", serde_json::json!({ "valid": true, "packs": list }));
            } else {
                for p in all {
                    outln!(
                        "ok  {}  {} rules  {}",
                        p.id,
                        p.rules.len(),
                        p.manifest.title
                    );
                }
                outln!(
                    "{} packs, {rules} rules, {} offenses in the catalogs: all valid",
                    all.len(),
                    engine.catalogs().len()
                );
            }
            Ok(())
        }
        Command::Test { packs, json } => {
            let engine = packs.load().map_err(|e| Failure::Finding(pack_errors(e)))?;
            let reports: Vec<_> = engine
                .packs()
                .packs()
                .iter()
                .map(|p| run_cases(&engine, p))
                .collect();
            let failed: usize = reports.iter().map(|r| r.failures.len()).sum();
            let cases: usize = reports.iter().map(|r| r.cases).sum();
            if json {
                let list: Vec<_> = reports
                    .iter()
                    .map(|r| {
                        let failures: Vec<_> = r
                            .failures
                            .iter()
                            .map(|f| serde_json::json!({ "file": f.file, "case": f.case, "message": f.message }))
                            .collect();
                        serde_json::json!({ "pack": r.pack, "cases": r.cases, "failures": failures })
                    })
                    .collect();
                outln!(
                    "{}",
                    serde_json::json!({ "cases": cases, "failed": failed, "packs": list })
                );
            } else {
                for r in &reports {
                    let status = if r.failures.is_empty() {
                        "ok  "
                    } else {
                        "FAIL"
                    };
                    outln!("{status} {}  {} cases", r.pack, r.cases);
                    for f in &r.failures {
                        let case = if f.case.is_empty() {
                            String::new()
                        } else {
                            format!(" [{}]", f.case)
                        };
                        outln!("     {}{case}: {}", f.file.display(), f.message);
                    }
                }
                outln!("{} passed, {failed} failed", cases.saturating_sub(failed));
            }
            if failed > 0 {
                return Err(Failure::Finding(String::new()));
            }
            Ok(())
        }
        Command::Ingest(args) => ledger::ingest(&args),
        Command::Audit { db, what } => ledger::audit(&db, &what),
        Command::Serve(args) => serve::serve(args),
        Command::Token { what } => serve::token(what),
        Command::Dispatch(args) => dispatch::run(args),
        Command::Approve(args) => approve::approve(args),
        Command::Deliveries(args) => approve::deliveries(args),
        Command::Counsel { what } => counsel::run(what),
        Command::Bench {
            what: BenchCommand::Http(args),
        } => bench::http(args),
    }
}

/// Decides every request of every file; the first bad one stops it all, naming its file.
fn decide_files(
    engine: &Engine,
    files: &[PathBuf],
) -> Result<Vec<(Shape, Vec<Decision>)>, Failure> {
    files
        .iter()
        .map(|file| {
            let (shape, received) = read_file(file)?;
            let decisions = received
                .iter()
                .map(|r| decide_received(engine, file, r))
                .collect::<Result<_, _>>()?;
            Ok((shape, decisions))
        })
        .collect()
}

/// The requests of `file`, or an input failure naming it.
pub(crate) fn read_file(file: &Path) -> Result<(Shape, Vec<Received>), Failure> {
    let text = read_input(file).map_err(|e| Failure::Input(format!("{e:#}")))?;
    read_received(&text).map_err(|e| Failure::Input(format!("{}: {e}", file.display())))
}

/// The decision on `received`, read from `file`; a refusal names the file and where the
/// request stands in it.
pub(crate) fn decide_received(
    engine: &Engine,
    file: &Path,
    received: &Received,
) -> Result<Decision, Failure> {
    engine.decide(&received.request).map_err(|e| match e {
        DecideError::Input(e) => Failure::Input(format!(
            "{}: {}",
            file.display(),
            received.position.locate(e)
        )),
        e @ DecideError::Evaluation { .. } => Failure::Finding(e.to_string()),
    })
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

fn print_decisions(shape: Shape, decisions: &[Decision]) {
    let pretty = |d: &Decision| serde_json::to_string_pretty(d).expect("decisions serialize");
    match shape {
        Shape::One => outln!("{}", pretty(&decisions[0])),
        Shape::Array => outln!(
            "{}",
            serde_json::to_string_pretty(decisions).expect("decisions serialize")
        ),
        Shape::Lines => {
            for d in decisions {
                outln!("{}", serde_json::to_string(d).expect("decisions serialize"));
            }
        }
    }
}
