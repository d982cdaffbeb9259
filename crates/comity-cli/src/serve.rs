//! `comity serve` and `comity token`: the HTTP API (with a dispatcher), and its tokens.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use comity_server::auth::{Access, DEFAULT_TOKEN_DAYS, Role, TokenError, create_token};
use comity_server::checkpoints::publish_checkpoints;
use comity_server::config::Config;
use comity_server::dispatch::{CancellationToken, run_dispatcher};
use comity_server::http::{AppState, ServerOptions};
use comity_store::Store;

use crate::store::{DbArgs, open_existing, runtime, signer, store_error};
use crate::{Failure, Leniency, PackArgs, outln};

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
    /// How often, in seconds, a checkpoint is signed and published while the ledger grows.
    #[arg(long, env = "COMITY_CHECKPOINT_EVERY", default_value_t = 60)]
    checkpoint_every: u64,
}

/// `comity token …`.
#[derive(Subcommand)]
pub enum TokenCommand {
    /// Create a token bound to a role and print it (only its hash is stored).
    Create {
        #[command(flatten)]
        db: DbArgs,
        /// The role: clerk, supervisor, counsel, auditor or admin.
        #[arg(long)]
        role: Role,
        /// Who holds it; for counsel, the name its assignments and notices go by.
        #[arg(long)]
        name: String,
        /// How many days it works (1 to 366).
        #[arg(long, default_value_t = DEFAULT_TOKEN_DAYS)]
        expires_in_days: u32,
    },
    /// List every token: id, role, holder, created, expires, revoked (never the tokens).
    List {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Revoke a token by its id: every server refuses it within 2 seconds.
    Revoke {
        #[command(flatten)]
        db: DbArgs,
        /// Who revokes it, as recorded.
        #[arg(long)]
        by: String,
        /// The token's id, as `comity token list` shows it.
        id: String,
    },
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
    let access = Access::builtin().map_err(|e| Failure::Finding(format!("error: {e}")))?;
    let loaded = Config::load(&args.config).map_err(|e| Failure::Input(e.to_string()))?;
    let signer = signer(&args.db)?;
    let options = ServerOptions {
        max_body: args.max_body,
        feeds: loaded.feeds.clone(),
        ..ServerOptions::default()
    };
    let config = (!args.no_dispatch).then_some(loaded);
    runtime()?.block_on(async {
        let store = Store::open(&args.db.db).await.map_err(store_error)?;
        let listener = tokio::net::TcpListener::bind(&args.listen)
            .await
            .map_err(|e| Failure::Input(format!("--listen {}: {e}", args.listen)))?;
        let stop = CancellationToken::new();
        let dispatcher = config.map(|config| {
            let (store, stop) = (store.clone(), stop.clone());
            let name = format!("serve-{}", std::process::id());
            // A dispatcher that cannot run stops the server too: nothing would be delivered.
            tokio::spawn(async move {
                let result = run_dispatcher(store, config, name, stop.clone()).await;
                if result.is_err() {
                    stop.cancel();
                }
                result
            })
        });
        let publisher = {
            let path = args
                .checkpoint_file
                .clone()
                .unwrap_or_else(|| args.db.data_dir().join("checkpoint"));
            let every = std::time::Duration::from_secs(args.checkpoint_every.max(1));
            let (store, signer, stop) =
                (store.clone(), crate::store::signer(&args.db)?, stop.clone());
            tokio::spawn(async move {
                let result = publish_checkpoints(store, signer, path, every, stop.clone()).await;
                if result.is_err() {
                    stop.cancel();
                }
                result
            })
        };
        let state = AppState::new(store.clone(), engine, signer, access, options);
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
        match publisher.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(Failure::Finding(format!("error: {e}"))),
            Err(e) => return Err(Failure::Finding(format!("error: checkpoints: {e}"))),
        }
        let dispatched = match dispatcher {
            Some(task) => match task.await {
                Ok(result) => {
                    result.map_err(|e| Failure::Finding(format!("error: dispatcher: {e}")))
                }
                Err(e) => Err(Failure::Finding(format!("error: dispatcher: {e}"))),
            },
            None => Ok(()),
        };
        store.close().await;
        served.map_err(|e| Failure::Finding(format!("error: serving: {e}")))?;
        dispatched
    })
}

/// Runs a token command.
pub fn token(what: TokenCommand) -> Result<(), Failure> {
    runtime()?.block_on(async {
        match what {
            TokenCommand::Create {
                db,
                role,
                name,
                expires_in_days,
            } => {
                let store = Store::open(&db.db).await.map_err(store_error)?;
                let issued = create_token(&store, role, &name, expires_in_days).await;
                store.close().await;
                let issued = issued.map_err(|e| match e {
                    TokenError::BadName(_) => Failure::Input(format!("--name: {e}")),
                    TokenError::BadLifetime(_) => {
                        Failure::Input(format!("--expires-in-days: {e}"))
                    }
                    TokenError::Store(e) => store_error(e),
                    TokenError::Randomness(_) => Failure::Finding(format!("error: {e}")),
                })?;
                eprintln!(
                    "created {role} token {} for {}, working until {}: it is shown this once, only its hash is kept",
                    issued.id,
                    name.trim(),
                    issued.expires_at
                );
                outln!("{}", issued.token);
            }
            TokenCommand::List { db } => {
                let store = open_existing(&db).await?;
                let tokens = store.tokens().await;
                store.close().await;
                for t in tokens.map_err(store_error)? {
                    let expires = t.expires_at.map_or("never".to_owned(), |e| e.to_string());
                    let revoked = t
                        .revoked
                        .map_or(String::new(), |(at, by)| format!("revoked {at} by {by}"));
                    outln!(
                        "{}\t{}\t{}\tcreated {}\texpires {expires}\t{revoked}",
                        t.id,
                        t.role,
                        t.name,
                        t.created_at
                    );
                }
            }
            TokenCommand::Revoke { db, by, id } => {
                let by = by.trim();
                if by.is_empty() || by.chars().any(char::is_control) {
                    return Err(Failure::Input("--by: name who revokes, on one line".into()));
                }
                let store = open_existing(&db).await?;
                let revoked = store
                    .revoke_token(&id, &format!("{by} (command line)"))
                    .await;
                store.close().await;
                match revoked.map_err(store_error)? {
                    Some(t) => outln!(
                        "token {} ({} {}) revoked{}",
                        t.id,
                        t.role,
                        t.name,
                        t.revoked.map_or(String::new(), |(at, by)| format!(" {at} by {by}"))
                    ),
                    None => return Err(Failure::Input(format!("no token `{id}`"))),
                }
            }
        }
        Ok(())
    })
}
