//! `comity report`: a statutory report computed from the ledger at a signed checkpoint, as a
//! table, CSV, JSON or HTML; and `comity report verify FILE`, which re-derives every figure
//! of a JSON report and proves the entries it lists are in its checkpoint.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};
use comity_ledger::NoteVerifier;
use comity_report::{ComputeError, Definition, DefinitionError, Report, VerifyError};
use jiff::civil::Date;

use crate::store::{DbArgs, on_existing, runtime, signer, store_error};
use crate::{Failure, outln, project_dir};

/// `comity report`.
#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ReportArgs {
    #[command(subcommand)]
    verify: Option<ReportCommand>,
    #[command(flatten)]
    db: DbArgs,
    /// The report definitions [default: the project's reports/].
    #[arg(long, env = "COMITY_REPORTS", global = true)]
    reports: Option<PathBuf>,
    /// The report: nyc-doc, nyc-nypd, nyc-probation, nyc-citywide, ca-truth-act, tx-sb4 (the
    /// files of the report directory).
    kind: Option<String>,
    /// The first day counted (YYYY-MM-DD), by the day each request was received.
    #[arg(long)]
    from: Option<String>,
    /// The last day counted (YYYY-MM-DD).
    #[arg(long)]
    to: Option<String>,
    /// How to print it.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Write it to this file instead of standard output.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// `comity report verify`.
#[derive(Subcommand)]
enum ReportCommand {
    /// Re-derive every figure of a JSON report from the ledger and check the inclusion proof
    /// of every entry it lists against its signed checkpoint; exit 1 naming the first figure
    /// that does not hold.
    Verify {
        /// Check the checkpoint against this public key (vkey) instead of the data
        /// directory's.
        #[arg(long)]
        public_key: Option<String>,
        /// The report, as `comity report --format json` wrote it.
        file: PathBuf,
    },
}

/// The forms a report is printed in.
#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// A table for a terminal.
    Table,
    /// CSV: one row per figure and per breakdown cell.
    Csv,
    /// JSON, with the entries each figure counts and the checkpoint: what `verify` reads.
    Json,
    /// One self-contained HTML page with SVG charts.
    Html,
}

/// `comity report`.
pub fn report(args: ReportArgs) -> Result<(), Failure> {
    let dir = args
        .reports
        .clone()
        .unwrap_or_else(|| project_dir("reports"));
    match &args.verify {
        Some(ReportCommand::Verify { public_key, file }) => {
            verify(&args.db, public_key.as_deref(), file)
        }
        None => compute(&args, &dir),
    }
}

/// The day a flag gives.
fn day(flag: &str, text: Option<&str>) -> Result<Date, Failure> {
    let text = text.ok_or_else(|| Failure::Input(format!("--{flag} is required")))?;
    text.parse()
        .map_err(|_| Failure::Input(format!("--{flag}: `{text}` is not a date (YYYY-MM-DD)")))
}

/// Computes the report and prints it as asked.
fn compute(args: &ReportArgs, dir: &Path) -> Result<(), Failure> {
    let kind = args
        .kind
        .as_deref()
        .ok_or_else(|| Failure::Input("name a report kind, or `verify FILE`".into()))?;
    let definition = Definition::load(dir, kind).map_err(|e| match e {
        e @ DefinitionError::Unknown { .. } => Failure::Input(e.to_string()),
        e => Failure::Finding(format!("error: {e}")),
    })?;
    let (from, to) = (
        day("from", args.from.as_deref())?,
        day("to", args.to.as_deref())?,
    );
    if from > to {
        return Err(Failure::Input(format!(
            "--from: `{from}` is after --to `{to}`"
        )));
    }
    let signer = signer(&args.db)?;
    let report = runtime()?.block_on(async {
        on_existing(&args.db, async |store| {
            let checkpoint = store.sign_checkpoint(&signer).await.map_err(store_error)?;
            comity_report::compute(store, &definition, from, to, checkpoint)
                .await
                .map_err(|e| match e {
                    ComputeError::Store(e) => store_error(e),
                    ComputeError::Entry(e) => Failure::Finding(format!("TAMPERED: {e}")),
                })
        })
        .await?
    })?;
    let text = match args.format {
        Format::Table => comity_report::table(&report),
        Format::Csv => comity_report::csv(&report),
        Format::Json => serde_json::to_string_pretty(&report).expect("reports serialize") + "\n",
        Format::Html => comity_report::html(&report),
    };
    match &args.out {
        Some(path) => std::fs::write(path, text)
            .map_err(|e| Failure::Finding(format!("error: writing {}: {e}", path.display()))),
        None => {
            crate::write_out(format_args!("{text}"));
            Ok(())
        }
    }
}

/// `comity report verify`.
fn verify(db: &DbArgs, public_key: Option<&str>, file: &Path) -> Result<(), Failure> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| Failure::Input(format!("{}: {e}", file.display())))?;
    let report: Report = serde_json::from_str(&text)
        .map_err(|e| Failure::Input(format!("{}: not a JSON report: {e}", file.display())))?;
    let verifier = match public_key {
        Some(k) => NoteVerifier::from_verifier_key(k)
            .map_err(|e| Failure::Input(format!("--public-key: {e}")))?,
        None => signer(db)?.verifier(),
    };
    let verified = runtime()?.block_on(async {
        on_existing(db, async |store| {
            comity_report::verify(store, &report, &verifier)
                .await
                .map_err(|e| match e {
                    VerifyError::Finding(what) => {
                        Failure::Finding(format!("DOES NOT HOLD: {}: {what}", file.display()))
                    }
                    VerifyError::Store(e) => store_error(e),
                })
        })
        .await?
    })?;
    outln!(
        "ok: {} figures re-derived from the ledger; {} entries proved included in the checkpoint of {} entries",
        verified.figures,
        verified.entries,
        report.checkpoint.size
    );
    Ok(())
}
