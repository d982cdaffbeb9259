//! The store and the ledger's key, as every command that records or reads the ledger
//! opens them.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use comity_ledger::NoteSigner;
use comity_store::{Store, StoreError};

use crate::Failure;

/// Where the records and the ledger's key live. Global: a command with subcommands (such as
/// `audit`) takes them before or after its subcommand.
#[derive(Args)]
pub(crate) struct DbArgs {
    /// The database: a SQLite file path, or a postgres:// URL.
    #[arg(long, global = true, env = "COMITY_DB", default_value = "./comity.db")]
    pub(crate) db: String,
    #[command(flatten)]
    pub(crate) keys: KeyArgs,
}

/// Where the ledger's signing key lives, and the log's name.
#[derive(Args)]
pub(crate) struct KeyArgs {
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
        &self.keys.data_dir
    }
}

/// A failure of the store, as the CLI reports it.
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
    must_exist("--db", &db.db)?;
    Store::open(&db.db).await.map_err(store_error)
}

/// A SQLite database named by `flag` must exist already (a PostgreSQL URL is checked by
/// connecting to it).
pub(crate) fn must_exist(flag: &str, location: &str) -> Result<(), Failure> {
    if !location.starts_with("postgres://") && !location.starts_with("postgresql://") {
        let path = location
            .strip_prefix("sqlite://")
            .or_else(|| location.strip_prefix("sqlite:"))
            .unwrap_or(location);
        let path = path.split('?').next().unwrap_or(path);
        if !Path::new(path).exists() {
            return Err(Failure::Input(format!(
                "{flag}: `{location}` does not exist: nothing has been recorded there"
            )));
        }
    }
    Ok(())
}

/// Runs `work` on the store `db` names (which must exist already, as for
/// [`open_existing`]), and closes the store whatever `work` answered.
pub(crate) async fn on_existing<T>(
    db: &DbArgs,
    work: impl AsyncFnOnce(&Store) -> T,
) -> Result<T, Failure> {
    let store = open_existing(db).await?;
    let answer = work(&store).await;
    store.close().await;
    Ok(answer)
}

/// The async runtime a command's store work runs on.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Finding(format!("error: starting the runtime: {e}")))
}

/// The ledger's signing key, from the data directory; a new one, kept with mode 0600, on
/// first use.
pub(crate) fn signer(args: &DbArgs) -> Result<NoteSigner, Failure> {
    key_signer(&args.keys)
}

/// The signing key `args` name (see [`signer`]).
pub(crate) fn key_signer(args: &KeyArgs) -> Result<NoteSigner, Failure> {
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
pub(crate) fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
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
