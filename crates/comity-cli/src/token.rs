//! `comity token`: the API's bearer tokens, created, listed and revoked.

use clap::Subcommand;
use comity_server::auth::{DEFAULT_TOKEN_DAYS, Role, TokenError, create_token};
use comity_store::Store;

use crate::store::{DbArgs, on_existing, runtime, store_error};
use crate::{Failure, outln};

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

/// Runs a token command.
pub fn token(what: TokenCommand) -> Result<(), Failure> {
    runtime()?.block_on(async {
        match what {
            TokenCommand::Create {
                db,
                role,
                name,
                expires_in_days,
            } => create(&db, role, &name, expires_in_days).await,
            TokenCommand::List { db } => list(&db).await,
            TokenCommand::Revoke { db, by, id } => revoke(&db, &by, &id).await,
        }
    })
}

/// `comity token create`: prints the token, once.
async fn create(db: &DbArgs, role: Role, name: &str, days: u32) -> Result<(), Failure> {
    let store = Store::open(&db.db).await.map_err(store_error)?;
    let issued = create_token(&store, role, name, days).await;
    store.close().await;
    let issued = issued.map_err(|e| match e {
        TokenError::BadName(_) => Failure::Input(format!("--name: {e}")),
        TokenError::BadLifetime(_) => Failure::Input(format!("--expires-in-days: {e}")),
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
    Ok(())
}

/// `comity token list`: one line a token, never the token itself.
async fn list(db: &DbArgs) -> Result<(), Failure> {
    let tokens = on_existing(db, async |store| store.tokens().await).await?;
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
    Ok(())
}

/// `comity token revoke`: recorded with who revoked it.
async fn revoke(db: &DbArgs, by: &str, id: &str) -> Result<(), Failure> {
    let by = by.trim();
    if by.is_empty() || by.chars().any(char::is_control) {
        return Err(Failure::Input("--by: name who revokes, on one line".into()));
    }
    let by = format!("{by} (command line)");
    let revoked = on_existing(db, async |store| store.revoke_token(id, &by).await).await?;
    match revoked.map_err(store_error)? {
        Some(t) => {
            outln!(
                "token {} ({} {}) revoked{}",
                t.id,
                t.role,
                t.name,
                t.revoked
                    .map_or(String::new(), |(at, by)| format!(" {at} by {by}"))
            );
            Ok(())
        }
        None => Err(Failure::Input(format!("no token `{id}`"))),
    }
}
