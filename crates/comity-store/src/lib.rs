//! Persistence for comity: requests as received, their decisions, and the RFC 6962 Merkle
//! ledger that proves both, in one SQLite file (the default) or one PostgreSQL database.
//!
//! Every write is one transaction: a request, its decision, its ledger entry and the tree
//! nodes the entry completes commit together or not at all. Appends are sequenced through
//! one writer at a time (SQLite's write lock; a transaction-scoped advisory lock in
//! PostgreSQL), so several processes never fork the tree, and a batch of decisions is
//! appended in one transaction (group commit).

mod approval;
mod assignments;
mod backend;
mod entry;
mod events;
mod feeds;
mod integrator;
mod ledger;
mod outbox;
mod permit;
mod receipts;
mod record;
mod rows;
mod scan;
mod service;
mod tiles;
mod tokens;
mod verify;

use std::str::FromStr;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions};

pub use approval::{ApprovalError, ApprovalRecord, NewApproval, Verdict, approval_entry};
pub use assignments::Assignment;
pub use backend::Backend;
pub use entry::{
    DecisionEntry, EntryKind, attempt_entry, canonical_decision, decision_entry, decision_in_entry,
    result_entry, sha256_hex,
};
pub use events::{EventError, EventRecord, NewEvent, event_entry};
pub use integrator::{Integrator, Receipt};
pub use ledger::{ConsistencyProof, InclusionProof, SignedCheckpoint, TreeHead};
pub use outbox::{
    Completion, Delivery, DeliveryAbout, DeliveryKind, DeliveryStatus, OutboxCounts, delivery_id,
};
pub use permit::{DeliveryPermit, Permit, Planner, RecipientKinds};
pub use record::{Committed, NewDecision, NewDelivery, Recorded, RecordedDecision};
pub use scan::{DecisionPages, DecisionRow, ENTRY_TAIL, EntryRow, PassOver};
pub use service::RecentDecision;
pub use tokens::StoredToken;
pub use verify::VerifyReport;

/// The first thing found that does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{what}", index.map(|i| format!("entry {i}: ")).unwrap_or_default())]
pub struct Finding {
    /// The ledger index at fault, where there is one.
    pub index: Option<u64>,
    /// What differs.
    pub what: String,
}

/// A failure of the store (not a finding about its contents: see [`Finding`]).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// The schema could not be brought up to date.
    #[error("migrating the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A SQLite file read directly (a report's scan) refused or failed.
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// Stored data that cannot be read back (a hash that is not hex, a gap).
    #[error("{0}")]
    Corrupt(String),
    /// A request for something the ledger does not have.
    #[error("{0}")]
    NotFound(String),
    /// A decision whose ledger entry would be longer than the log's entry bundles carry
    /// (C2SP tlog-tiles frames each entry by a 16-bit length): refused, nothing written.
    #[error(
        "the decision on request `{request}` would make a ledger entry of {bytes} bytes; \
         entries are at most 65,535 bytes (C2SP tlog-tiles entry bundles), so nothing was recorded"
    )]
    EntryTooLong {
        /// The request decided.
        request: String,
        /// The length its entry would have.
        bytes: usize,
    },
    /// The batch a decision was recorded in failed as a whole: nothing of it was written.
    #[error("recording failed, nothing was written: {0}")]
    Batch(String),
}

/// The requests, decisions and ledger of one comity deployment.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// Where long scans read the database with its own driver.
    direct: backend::Direct,
    /// Tree nodes already read. A stored node is a complete subtree and never changes, so
    /// a cached node is never stale; `verify` reads everything afresh all the same.
    nodes: std::sync::Arc<ledger::NodeCache>,
    /// Pack versions known to be recorded (id, SHA-256). Recorded is forever, so a pack
    /// found here needs no query; one not found is looked up.
    packs: std::sync::Arc<std::sync::RwLock<std::collections::HashSet<(String, String)>>>,
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

impl Store {
    /// Opens the store at `location`: a `postgres://` URL, or a SQLite file path (or
    /// `sqlite:` URL), creating the file if needed, and brings its schema up to date.
    pub async fn open(location: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let (backend, url) = Backend::locate(location);
        let options = AnyConnectOptions::from_str(&url)?.disable_statement_logging();
        let pool = AnyPoolOptions::new()
            .max_connections(backend.max_connections())
            // A ping before every use doubles the cost of a short query; a broken connection
            // fails its query instead, and the pool replaces it.
            .test_before_acquire(false)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    for statement in backend.session_setup() {
                        sqlx::query(*statement).execute(&mut *conn).await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        // The migrator locks the database (an advisory lock in PostgreSQL), so several
        // servers starting at once migrate one after the other. `run_direct` is `run` on a
        // connection, without `run`'s generic `Acquire` bound, whose future is not `Send`.
        let mut conn = pool.acquire().await?;
        MIGRATOR.run_direct(None, &mut *conn, false).await?;
        drop(conn);
        Ok(Store {
            pool,
            backend,
            direct: backend.direct(location),
            nodes: Default::default(),
            packs: Default::default(),
        })
    }

    /// Which database holds the store.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes every connection.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}
