//! `comity ingest`: deciding requests and recording them in the ledger.

use std::path::PathBuf;

use clap::Args;
use comity_policy::Engine;
use comity_store::{NewDecision, Recorded, Store};
use serde_json::json;

use crate::store::{DbArgs, runtime, signer, store_error};
use crate::{Failure, Leniency, PackArgs, outln};

/// What `comity ingest` takes.
#[derive(Args)]
pub struct IngestArgs {
    #[command(flatten)]
    packs: PackArgs,
    #[command(flatten)]
    db: DbArgs,
    /// Decide requests naming offenses no catalog holds, with a warning. (Unknown places
    /// are never recorded: what is recorded may be disclosed.)
    #[arg(long)]
    allow_unknown_offenses: bool,
    /// Requests recorded per transaction.
    #[arg(long, default_value_t = 1000)]
    batch: usize,
    /// Print one line per request: id, ledger index, status (tab-separated).
    #[arg(long, conflicts_with = "json")]
    verbose: bool,
    /// Print one JSON object per request: `id`, `index`, `status`.
    #[arg(long)]
    json: bool,
    /// The request files (JSON, a JSON array, or JSON lines), or `-` for standard input.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

/// What became of the requests of one `comity ingest`.
#[derive(Default)]
struct Tally {
    recorded: usize,
    existing: usize,
    conflicts: Vec<String>,
}

impl IngestArgs {
    /// Records `decided` in batches, reporting each request as asked.
    async fn record_all(
        &self,
        store: &Store,
        decided: &[NewDecision],
        bar: &indicatif::ProgressBar,
    ) -> Result<Tally, Failure> {
        let mut tally = Tally::default();
        for chunk in decided.chunks(self.batch.max(1)) {
            let recorded = store.record_decisions(chunk).await.map_err(store_error)?;
            for (item, r) in chunk.iter().zip(recorded) {
                let id = &item.decision.request;
                match r {
                    Recorded::New(i) => {
                        tally.recorded += 1;
                        self.report(id, Some(i), "recorded");
                    }
                    Recorded::Existing(i) => {
                        tally.existing += 1;
                        self.report(id, Some(i), "already recorded");
                    }
                    Recorded::Conflict { id } => {
                        self.report(&id, None, "refused");
                        tally.conflicts.push(id);
                    }
                }
            }
            bar.inc(chunk.len() as u64);
        }
        Ok(tally)
    }

    /// Prints what became of one request, as asked.
    fn report(&self, id: &str, index: Option<u64>, status: &str) {
        if self.json {
            outln!("{}", json!({ "id": id, "index": index, "status": status }));
        } else if self.verbose {
            let index = index.map(|i| i.to_string()).unwrap_or_default();
            outln!("{id}\t{index}\t{status}");
        }
    }
}

/// Every request of every file decided, with the deliveries its decision plans; the first
/// bad one stops it all, naming its file.
fn decide_all(engine: &Engine, files: &[PathBuf]) -> Result<Vec<NewDecision>, Failure> {
    Ok(crate::decide::decide_received_files(engine, files)?
        .into_iter()
        .flat_map(|(_, decided)| decided)
        .map(|(r, decision)| NewDecision {
            deliveries: comity_server::plan::deliveries(&r.request, &decision),
            request_body: r.text,
            decision,
        })
        .collect())
}

/// `comity ingest`: decide every request of every file, then record them, idempotent by id,
/// and sign a checkpoint of the new tree head. A progress bar on a terminal; a summary at
/// the end.
pub fn ingest(args: &IngestArgs) -> Result<(), Failure> {
    let engine = args.packs.engine(Leniency {
        allow_unknown_offenses: args.allow_unknown_offenses,
        allow_unknown_places: false,
    })?;
    // Decide everything before writing anything: a bad request leaves nothing half-written.
    let decided = decide_all(&engine, &args.files)?;
    let signer = signer(&args.db)?;
    let bar = indicatif::ProgressBar::new(decided.len() as u64).with_style(
        indicatif::ProgressStyle::with_template("recording {bar:40} {pos}/{len} ({per_sec})")
            .expect("static template"),
    );
    if args.verbose || args.json {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let tally = runtime()?.block_on(async {
        let store = Store::open(&args.db.db).await.map_err(store_error)?;
        let tally = args.record_all(&store, &decided, &bar).await?;
        // Commit to the new tree head at once: a signed checkpoint covers what was recorded.
        store.sign_checkpoint(&signer).await.map_err(store_error)?;
        store.close().await;
        Ok::<_, Failure>(tally)
    })?;
    bar.finish_and_clear();
    if !args.json {
        outln!(
            "{} recorded, {} already recorded, {} refused",
            tally.recorded,
            tally.existing,
            tally.conflicts.len()
        );
    }
    if !tally.conflicts.is_empty() {
        return Err(Failure::Input(format!(
            "id: another request was already recorded under {}; these were not recorded",
            tally
                .conflicts
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok(())
}
