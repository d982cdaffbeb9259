//! `comity ingest` and `comity audit`: recording decisions in the ledger, and proving and
//! verifying what it holds.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use comity_ledger::{Hash, NoteSigner, NoteVerifier, to_hex};
use comity_store::{NewDecision, Recorded, Store, StoreError};
use serde_json::json;

use crate::{Failure, Leniency, PackArgs, outln, write_out};

/// Where the records and the ledger's key live. Global: a command with subcommands (such as
/// `audit`) takes them before or after its subcommand.
#[derive(Args)]
pub(crate) struct DbArgs {
    /// The database: a SQLite file path, or a postgres:// URL.
    #[arg(long, global = true, env = "COMITY_DB", default_value = "./comity.db")]
    pub(crate) db: String,
    /// The data directory, which holds the ledger's signing key (created on first use).
    #[arg(
        long,
        global = true,
        env = "COMITY_DATA_DIR",
        default_value = ".comity"
    )]
    data_dir: PathBuf,
    /// The log's origin: the first line of every checkpoint, and the signer's name.
    #[arg(
        long,
        global = true,
        env = "COMITY_ORIGIN",
        default_value = "comity.local/ledger"
    )]
    origin: String,
}

impl DbArgs {
    /// The data directory.
    pub(crate) fn data_dir(&self) -> &Path {
        &self.data_dir
    }
}

/// What `comity audit` can do.
#[derive(Subcommand)]
pub enum Audit {
    /// Sign a checkpoint of the ledger as it stands (if the latest does not cover it) and print
    /// the latest signed checkpoint.
    Checkpoint,
    /// Print the raw bytes of one entry.
    Entry {
        /// The leaf index.
        #[arg(long)]
        index: u64,
    },
    /// Print the inclusion proof of one entry as JSON.
    Prove {
        /// The leaf index.
        #[arg(long)]
        index: u64,
        /// The tree size the proof is for [default: the whole ledger].
        #[arg(long)]
        size: Option<u64>,
    },
    /// Print the consistency proof between two tree sizes as JSON.
    Consistency {
        /// The older, smaller size.
        #[arg(long)]
        from: u64,
        /// The newer size [default: the whole ledger].
        #[arg(long)]
        to: Option<u64>,
    },
    /// Recompute every leaf and the root from storage, and check every stored checkpoint,
    /// decision and request against the ledger; exit 1 naming the first fault.
    Verify {
        /// Check checkpoints against this public key (vkey) instead of the data directory's.
        #[arg(long)]
        public_key: Option<String>,
        /// A checkpoint published earlier (`comity serve` writes one outside the database):
        /// the ledger must still extend it, or what is missing is named.
        #[arg(long)]
        checkpoint: Option<PathBuf>,
    },
    /// Print the ledger's public key (vkey format), for auditors.
    Key,
}

pub(crate) fn store_error(e: StoreError) -> Failure {
    match e {
        StoreError::NotFound(m) => Failure::Input(m),
        e @ StoreError::EntryTooLong { .. } => Failure::Input(e.to_string()),
        other => Failure::Finding(format!("error: {other}")),
    }
}

/// Opens the store `db` names, which must exist already: a command that reads or changes
/// what was recorded never creates an empty database where a path was mistyped.
pub(crate) async fn open_existing(db: &DbArgs) -> Result<Store, Failure> {
    let location = db.db.as_str();
    if !location.starts_with("postgres://") && !location.starts_with("postgresql://") {
        let path = location
            .strip_prefix("sqlite://")
            .or_else(|| location.strip_prefix("sqlite:"))
            .unwrap_or(location);
        let path = path.split('?').next().unwrap_or(path);
        if !Path::new(path).exists() {
            return Err(Failure::Input(format!(
                "--db: `{location}` does not exist: nothing has been recorded there"
            )));
        }
    }
    Store::open(location).await.map_err(store_error)
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Finding(format!("error: starting the runtime: {e}")))
}

/// The ledger's signing key, from the data directory; a new one, kept with mode 0600, on
/// first use.
pub(crate) fn signer(args: &DbArgs) -> Result<NoteSigner, Failure> {
    let path = args.data_dir.join("ledger.key");
    let fail = |what: &str, e: &dyn std::fmt::Display| {
        Failure::Finding(format!("error: {what} {}: {e}", path.display()))
    };
    if path.exists() {
        let text = fs::read_to_string(&path).map_err(|e| fail("reading", &e))?;
        let signer = NoteSigner::from_private_key(text.trim()).map_err(|e| fail("reading", &e))?;
        if signer.name() != args.origin {
            return Err(Failure::Input(format!(
                "the key in {} signs for `{}`, not for --origin `{}`",
                path.display(),
                signer.name(),
                args.origin
            )));
        }
        return Ok(signer);
    }
    let signer = NoteSigner::generate(&args.origin).map_err(|e| fail("generating", &e))?;
    write_private(&path, &signer.private_key()).map_err(|e| fail("writing", &e))?;
    Ok(signer)
}

/// Writes a file readable by its owner only.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    if let Some(dir) = path.parent() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(format!("{text}\n").as_bytes())?;
    file.sync_all()
}

fn hex_all(hashes: &[Hash]) -> Vec<String> {
    hashes.iter().map(to_hex).collect()
}

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

/// `comity ingest`: decide every request of every file, then record them, idempotent by id,
/// and sign a checkpoint of the new tree head. A progress bar on a terminal; a summary at
/// the end.
pub fn ingest(args: &IngestArgs) -> Result<(), Failure> {
    let engine = args.packs.engine(Leniency {
        allow_unknown_offenses: args.allow_unknown_offenses,
        allow_unknown_places: false,
    })?;
    // Decide everything before writing anything: a bad request leaves nothing half-written.
    let mut decided = Vec::new();
    for file in &args.files {
        for r in crate::law::read_file(file)?.1 {
            let decision = crate::law::decide_received(&engine, file, &r)?;
            decided.push(NewDecision {
                deliveries: comity_server::plan::deliveries(&r.request, &decision),
                request_body: r.text,
                decision,
            });
        }
    }
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
        let mut tally = Tally::default();
        for chunk in decided.chunks(args.batch.max(1)) {
            let recorded = store.record_decisions(chunk).await.map_err(store_error)?;
            for (item, r) in chunk.iter().zip(recorded) {
                let id = &item.decision.request;
                match r {
                    Recorded::New(i) => {
                        tally.recorded += 1;
                        args.report(id, Some(i), "recorded");
                    }
                    Recorded::Existing(i) => {
                        tally.existing += 1;
                        args.report(id, Some(i), "already recorded");
                    }
                    Recorded::Conflict { id } => {
                        args.report(&id, None, "refused");
                        tally.conflicts.push(id);
                    }
                }
            }
            bar.inc(chunk.len() as u64);
        }
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

/// `comity audit …`.
pub fn audit(db: &DbArgs, what: &Audit) -> Result<(), Failure> {
    if let Audit::Key = what {
        outln!("{}", signer(db)?.verifier_key());
        return Ok(());
    }
    let rt = runtime()?;
    rt.block_on(async {
        let store = open_existing(db).await?;
        let result = audit_with(&store, db, what).await;
        store.close().await;
        result
    })
}

async fn audit_with(store: &Store, db: &DbArgs, what: &Audit) -> Result<(), Failure> {
    match what {
        Audit::Key => unreachable!("handled without the store"),
        Audit::Checkpoint => {
            let note = store
                .sign_checkpoint(&signer(db)?)
                .await
                .map_err(store_error)?;
            write_out(format_args!("{note}"));
        }
        Audit::Entry { index } => match store.entry(*index).await.map_err(store_error)? {
            Some(body) => write_out(format_args!("{body}")),
            None => {
                return Err(Failure::Input(format!(
                    "--index: no entry {index} in the ledger"
                )));
            }
        },
        Audit::Prove { index, size } => {
            let p = store
                .inclusion_proof(*index, *size)
                .await
                .map_err(store_error)?;
            let proof = json!({
                "leaf_index": p.leaf_index,
                "tree_size": p.tree_size,
                "leaf_hash": to_hex(&p.leaf_hash),
                "hashes": hex_all(&p.hashes),
                "root": to_hex(&p.root),
            });
            outln!("{proof:#}");
        }
        Audit::Consistency { from, to } => {
            let p = store
                .consistency_proof(*from, *to)
                .await
                .map_err(store_error)?;
            let proof = json!({
                "from_size": p.from_size,
                "to_size": p.to_size,
                "from_root": to_hex(&p.from_root),
                "to_root": to_hex(&p.to_root),
                "hashes": hex_all(&p.hashes),
            });
            outln!("{proof:#}");
        }
        Audit::Verify {
            public_key,
            checkpoint,
        } => {
            let verifier = match public_key {
                Some(k) => NoteVerifier::from_verifier_key(k)
                    .map_err(|e| Failure::Input(format!("--public-key: {e}")))?,
                None => signer(db)?.verifier(),
            };
            let bar = indicatif::ProgressBar::new(0).with_style(
                indicatif::ProgressStyle::with_template(
                    "verifying {bar:40} {pos}/{len} entries ({per_sec})",
                )
                .expect("static template"),
            );
            let report = store
                .verify(&verifier, &|done, total| {
                    bar.set_length(total);
                    bar.set_position(done);
                })
                .await
                .map_err(store_error)?;
            bar.finish_and_clear();
            let tampered = |finding| Failure::Finding(format!("TAMPERED: {finding}"));
            let r = report.map_err(tampered)?;
            let outbox = store
                .verify_outbox(comity_server::plan::deliveries)
                .await
                .map_err(store_error)?
                .map_err(tampered)?;
            if let Some(file) = checkpoint {
                let note = fs::read_to_string(file)
                    .map_err(|e| Failure::Input(format!("--checkpoint {}: {e}", file.display())))?;
                let published = comity_ledger::open_checkpoint(&note, &verifier).map_err(|e| {
                    Failure::Finding(format!(
                        "TAMPERED: --checkpoint {}: not a checkpoint this log's key signed: {e}",
                        file.display()
                    ))
                })?;
                store
                    .extends(&published)
                    .await
                    .map_err(store_error)?
                    .map_err(tampered)?;
            }
            outln!(
                "ok: {} entries, {} tree nodes, {} decisions, {} checkpoints, {outbox} outbox rows verified; root {}",
                r.entries,
                r.nodes,
                r.decisions,
                r.checkpoints,
                to_hex(&r.root)
            );
        }
    }
    Ok(())
}
