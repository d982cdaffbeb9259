//! `comity serve`: the HTTP API, with a dispatcher and the checkpoints it publishes.

use std::path::{Path, PathBuf};

use clap::Args;
use comity_ledger::NoteSigner;
use comity_report::Definition;
use comity_server::auth::Access;
use comity_server::checkpoints::{PublishError, publish_checkpoints};
use comity_server::config::Config;
use comity_server::dispatch::{CancellationToken, Dispatcher, run_dispatcher};
use comity_server::http::{AppState, ServerOptions};
use comity_store::Store;
use tokio::task::JoinHandle;

use crate::packs::{refused_releases, verifier_keys};
use crate::store::{DbArgs, runtime, signer, store_error};
use crate::{Failure, Leniency, PackArgs, project_dir};

/// `comity serve` options.
#[derive(Args)]
pub struct ServeArgs {
    #[command(flatten)]
    db: DbArgs,
    #[command(flatten)]
    packs: PackArgs,
    /// The address to listen on.
    #[arg(long, env = "COMITY_LISTEN", default_value = "127.0.0.1:8080")]
    listen: String,
    /// The configuration the dispatcher delivers by: each recipient's channel, and the retry
    /// policy.
    #[arg(long, env = "COMITY_CONFIG", default_value = "comity.toml")]
    config: PathBuf,
    /// The largest request body accepted, in bytes; a larger one is answered 413.
    #[arg(long, env = "COMITY_MAX_BODY", default_value_t = ServerOptions::default().max_body)]
    max_body: usize,
    /// Serve the API only, without a dispatcher (run `comity dispatch` elsewhere).
    #[arg(long)]
    no_dispatch: bool,
    /// Where the latest signed checkpoint is published, outside the database, for auditors
    /// and witnesses to copy [default: `checkpoint` in the data directory].
    #[arg(long, env = "COMITY_CHECKPOINT_FILE")]
    checkpoint_file: Option<PathBuf>,
    /// Load only pack versions whose signed release (`comity packs sign`) verifies against
    /// one of these verifier keys, unchanged since it was signed; refuse to start otherwise,
    /// naming the version and the file.
    #[arg(long = "require-signed-packs", env = "COMITY_REQUIRE_SIGNED_PACKS", value_delimiter = ',', num_args = 1..)]
    require_signed_packs: Vec<String>,
    /// The statutory report definitions the console computes [default: the project's
    /// reports/].
    #[arg(long, env = "COMITY_REPORTS")]
    reports: Option<PathBuf>,
    /// A directory of what-if results (`comity whatif --html FILE`) the console shows.
    #[arg(long, env = "COMITY_WHATIF_DIR")]
    whatif_dir: Option<PathBuf>,
    /// How often, in seconds, a checkpoint is signed and published while the ledger grows.
    #[arg(long, env = "COMITY_CHECKPOINT_EVERY", default_value_t = 60)]
    checkpoint_every: u64,
}

impl ServeArgs {
    /// What `comity demo` serves: the console and the API on `db`, deciding by `packs`,
    /// without a dispatcher (the demo has no recipients), checkpoints published every minute.
    pub(crate) fn demo(db: DbArgs, packs: PackArgs, listen: String) -> ServeArgs {
        ServeArgs {
            db,
            packs,
            listen,
            config: PathBuf::from("comity-demo.toml"),
            max_body: ServerOptions::default().max_body,
            no_dispatch: true,
            checkpoint_file: None,
            require_signed_packs: Vec::new(),
            checkpoint_every: 60,
            reports: None,
            whatif_dir: None,
        }
    }
}

/// Resolves when the process gets Ctrl-C or SIGTERM.
pub(crate) async fn signalled() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).ok();
    let terminated = async {
        match term.as_mut() {
            Some(term) => drop(term.recv().await),
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminated => {}
    }
}

/// Runs the API, and unless `--no-dispatch` one dispatcher, until Ctrl-C or SIGTERM; then
/// finishes the calls and the dispatch pass in progress.
pub fn serve(args: ServeArgs) -> Result<(), Failure> {
    let engine = args.packs.engine(Leniency::default())?;
    if !args.require_signed_packs.is_empty() {
        let keys = verifier_keys(&args.require_signed_packs)?;
        comity_policy::release::verify_all(engine.packs(), engine.catalogs(), &keys)
            .map_err(|errors| Failure::Input(refused_releases(&errors)))?;
    }
    let access = Access::builtin().map_err(|e| Failure::Finding(format!("error: {e}")))?;
    let loaded = Config::load(&args.config).map_err(|e| Failure::Input(e.to_string()))?;
    let key = signer(&args.db)?;
    let options = ServerOptions {
        max_body: args.max_body,
        feeds: loaded.feeds.clone(),
        reports: report_definitions(args.reports.as_deref())?,
        whatif_dir: args.whatif_dir.clone(),
        ..ServerOptions::default()
    };
    let config = (!args.no_dispatch).then_some(loaded);
    runtime()?.block_on(async {
        let store = Store::open(&args.db.db).await.map_err(store_error)?;
        let listener = tokio::net::TcpListener::bind(&args.listen)
            .await
            .map_err(|e| Failure::Input(format!("--listen {}: {e}", args.listen)))?;
        let stop = CancellationToken::new();
        let dispatcher = match config {
            Some(config) => Some(spawn_dispatcher(&store, config, signer(&args.db)?, &stop)?),
            None => None,
        };
        let publisher = spawn_publisher(&args, &store, &stop)?;
        let state = AppState::new(store.clone(), engine, key, access, options);
        match listener.local_addr() {
            Ok(addr) => eprintln!("comity: serving on http://{addr}"),
            Err(_) => eprintln!("comity: serving on {}", args.listen),
        }
        let shutdown = {
            let stop = stop.clone();
            async move {
                tokio::select! {
                    () = signalled() => {}
                    () = stop.cancelled() => {}
                }
                stop.cancel();
            }
        };
        let served = comity_server::http::serve(listener, state, shutdown).await;
        stop.cancel();
        let published = finished("checkpoints", publisher.await);
        let dispatched = match dispatcher {
            Some(task) => task
                .await
                .map_err(|e| Failure::Finding(format!("error: dispatcher: {e}"))),
            None => Ok(()),
        };
        store.close().await;
        served.map_err(|e| Failure::Finding(format!("error: serving: {e}")))?;
        published?;
        dispatched
    })
}

/// Every report definition of `dir` (the project's `reports/` when not given); none when the
/// default directory is not there (an installed binary), an error naming the file otherwise.
fn report_definitions(dir: Option<&Path>) -> Result<Vec<Definition>, Failure> {
    let dir = match dir {
        Some(dir) => dir.to_owned(),
        None => {
            let dir = project_dir("reports");
            if !dir.is_dir() {
                return Ok(Vec::new());
            }
            dir
        }
    };
    let fail = |e: comity_report::DefinitionError| Failure::Input(format!("--reports: {e}"));
    comity_report::kinds(&dir)
        .map_err(fail)?
        .iter()
        .map(|kind| Definition::load(&dir, kind).map_err(fail))
        .collect()
}

/// A dispatcher beside the API, holding the ledger's key (so that a notice to counsel never
/// waits for the publisher to sign a checkpoint its receipt needs). One that cannot start
/// stops the server: nothing would be delivered.
fn spawn_dispatcher(
    store: &Store,
    config: Config,
    signer: NoteSigner,
    stop: &CancellationToken,
) -> Result<JoinHandle<()>, Failure> {
    let name = format!("serve-{}", std::process::id());
    let dispatcher = Dispatcher::new(store.clone(), config, name)
        .map_err(|e| Failure::Finding(format!("error: starting the dispatcher: {e}")))?
        .signing(signer);
    Ok(tokio::spawn(run_dispatcher(dispatcher, stop.clone())))
}

/// The task that signs and publishes checkpoints outside the database while the ledger
/// grows; its failure stops the server too.
fn spawn_publisher(
    args: &ServeArgs,
    store: &Store,
    stop: &CancellationToken,
) -> Result<JoinHandle<Result<(), PublishError>>, Failure> {
    let path = args
        .checkpoint_file
        .clone()
        .unwrap_or_else(|| args.db.data_dir().join("checkpoint"));
    let every = std::time::Duration::from_secs(args.checkpoint_every.max(1));
    let (store, signer, stop) = (store.clone(), signer(&args.db)?, stop.clone());
    Ok(tokio::spawn(async move {
        let result = publish_checkpoints(store, signer, path, every, stop.clone()).await;
        if result.is_err() {
            stop.cancel();
        }
        result
    }))
}

/// How a background task ended, as the command reports it.
fn finished<E: std::fmt::Display>(
    what: &str,
    joined: Result<Result<(), E>, tokio::task::JoinError>,
) -> Result<(), Failure> {
    match joined {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(Failure::Finding(format!("error: {what}: {e}"))),
        Err(e) => Err(Failure::Finding(format!("error: {what}: {e}"))),
    }
}
