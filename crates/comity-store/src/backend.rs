//! What differs between SQLite and PostgreSQL, in one place: how each is opened, the SQL
//! each speaks where the two differ, and how the store uses each. Every other module writes
//! SQL both accept, and asks here for the rest.

use std::path::Path;

use sqlx::any::{Any, AnyArguments};
use sqlx::query::Query;
use sqlx::{AssertSqlSafe, Encode, Type};

/// Which database holds the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file.
    Sqlite,
    /// A PostgreSQL database.
    Postgres,
}

/// Set on every SQLite connection: durable commits (the write-ahead log synced on every
/// commit), waiting for the write lock instead of failing, foreign keys enforced, and reads
/// through memory-mapped I/O (a long scan, such as `verify`, reads several times faster).
const SQLITE_PRAGMAS: &[&str] = &[
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = FULL",
    "PRAGMA busy_timeout = 30000",
    "PRAGMA foreign_keys = ON",
    "PRAGMA mmap_size = 2147418112",
];

/// Claims due deliveries in SQLite: one `UPDATE … RETURNING`, under the write lock the
/// claiming transaction took when it began.
const CLAIM_SQLITE: &str = "UPDATE outbox SET claimed_until = $1, claimed_by = $2 \
    WHERE id IN (SELECT id FROM outbox \
        WHERE status = 'pending' AND next_at <= $3 AND claimed_until < $3 \
        ORDER BY next_at, id LIMIT $4) \
    RETURNING id, request_id, act, kind, recipient, subject_id, decision_index, payload, attempts";

/// The same for PostgreSQL: rows another transaction has locked (being claimed at this
/// moment) are skipped, not waited for, and not claimed twice.
const CLAIM_POSTGRES: &str = "WITH due AS (SELECT id FROM outbox \
        WHERE status = 'pending' AND next_at <= $3 AND claimed_until < $3 \
        ORDER BY next_at, id LIMIT $4 FOR UPDATE SKIP LOCKED) \
    UPDATE outbox o SET claimed_until = $1, claimed_by = $2 FROM due WHERE o.id = due.id \
    RETURNING o.id, o.request_id, o.act, o.kind, o.recipient, o.subject_id, o.decision_index, o.payload, o.attempts";

/// Where the store is, as the long scans that bypass the pool reach it: a SQLite file, or a
/// PostgreSQL URL.
#[derive(Debug, Clone)]
pub(crate) enum Direct {
    /// The SQLite file.
    Sqlite(std::sync::Arc<Path>),
    /// The PostgreSQL URL.
    Postgres(std::sync::Arc<str>),
}

/// The file a SQLite location (a path, or a `sqlite:` URL) names.
fn sqlite_file(location: &str) -> &Path {
    Path::new(
        location
            .strip_prefix("sqlite://")
            .or_else(|| location.strip_prefix("sqlite:"))
            .unwrap_or(location),
    )
}

impl Backend {
    /// The backend a location names (a `postgres://` URL, or a SQLite file path or
    /// `sqlite:` URL), and the URL to connect to (a SQLite file is created if needed).
    pub(crate) fn locate(location: &str) -> (Backend, String) {
        if location.starts_with("postgres://") || location.starts_with("postgresql://") {
            return (Backend::Postgres, location.to_owned());
        }
        (
            Backend::Sqlite,
            format!("sqlite://{}?mode=rwc", sqlite_file(location).display()),
        )
    }

    /// Where a location is, for the scans that read it with the database's own driver.
    pub(crate) fn direct(self, location: &str) -> Direct {
        match self {
            Backend::Postgres => Direct::Postgres(location.into()),
            Backend::Sqlite => Direct::Sqlite(sqlite_file(location).into()),
        }
    }

    /// The backend a connection is to.
    pub(crate) fn of(conn: &sqlx::AnyConnection) -> Backend {
        if conn.backend_name().eq_ignore_ascii_case("postgresql") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }

    /// Connections in the pool.
    pub(crate) fn max_connections(self) -> u32 {
        match self {
            Backend::Sqlite => 6,
            Backend::Postgres => 8,
        }
    }

    /// The statements run on every new connection.
    pub(crate) fn session_setup(self) -> &'static [&'static str] {
        match self {
            Backend::Sqlite => SQLITE_PRAGMAS,
            Backend::Postgres => &[],
        }
    }

    /// How a transaction that appends to the ledger begins. One appender at a time, so that
    /// appends from several processes never fork the tree: SQLite takes its write lock when
    /// the transaction begins (not on its first write, which would fail if another writer
    /// committed in between); PostgreSQL takes a transaction-scoped advisory lock, in the
    /// round trip that begins.
    pub(crate) fn begin_append(self) -> &'static str {
        match self {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN; SELECT pg_advisory_xact_lock(7726002)",
        }
    }

    /// How many group commits are in flight at once. On PostgreSQL two: while one holds the
    /// ledger's lock, the next has begun its transaction and waits for the lock, so that the
    /// round trips around a commit overlap the next batch's. SQLite, in the process,
    /// commits one at a time.
    pub(crate) fn commit_lanes(self) -> usize {
        match self {
            Backend::Sqlite => 1,
            Backend::Postgres => 2,
        }
    }

    /// The statement that claims due deliveries (binds: lease end, claim, now, limit), and
    /// whether it must run in a transaction that begins as [`Backend::begin_append`] does.
    pub(crate) fn claim_deliveries(self) -> (&'static str, bool) {
        match self {
            Backend::Sqlite => (CLAIM_SQLITE, true),
            Backend::Postgres => (CLAIM_POSTGRES, false),
        }
    }

    /// What a `SELECT` ends with to lock the rows it reads until its transaction ends
    /// (nothing in SQLite, whose writer holds the whole database).
    pub(crate) fn lock_rows(self) -> &'static str {
        match self {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE",
        }
    }

    /// Whether rows for several tables go in one statement, each column bound as one array
    /// (PostgreSQL, a round trip away), rather than a multi-row `INSERT` per table (SQLite,
    /// in the process, where a statement costs no round trip). See `rows::insert_all`.
    pub(crate) fn inserts_as_arrays(self) -> bool {
        self == Backend::Postgres
    }

    /// `count` placeholders, for values bound in order: `?` in SQLite, `$1`, `$2`, … in
    /// PostgreSQL. In SQLite a numbered placeholder is found by a linear scan of the
    /// statement's parameter names (`sqlite3_bind_parameter_name`, which sqlx calls for every
    /// value), so binding n numbered values costs n²; anonymous ones cost n.
    pub(crate) fn marks(self, count: usize) -> Vec<String> {
        match self {
            Backend::Sqlite => vec!["?".to_owned(); count],
            Backend::Postgres => (1..=count).map(|i| format!("${i}")).collect(),
        }
    }

    /// The aggregate of `fields` over the rows selected, as one text value: fields joined
    /// by `unit` (a character code), rows by `record`. Each row is joined by one
    /// `concat_ws` (a chain of `||` would copy the row once per field); the fields must not
    /// be NULL (`concat_ws` leaves a NULL out).
    pub(crate) fn aggregate(self, fields: &[&str], unit: u32, record: u32) -> String {
        let (agg, chr) = match self {
            Backend::Sqlite => ("group_concat", "char"),
            Backend::Postgres => ("string_agg", "chr"),
        };
        let fields = fields
            .iter()
            .map(|f| format!("CAST({f} AS TEXT)"))
            .collect::<Vec<_>>()
            .join(", ");
        format!("{agg}(concat_ws({chr}({unit}), {fields}), {chr}({record}))")
    }

    /// A query whose `sql` holds `(…)` where a list of values belongs: the list written as
    /// a placeholder for each of `values` (none of them before it), each bound in order.
    pub(crate) fn query_in<'q, 'v, V>(
        self,
        sql: &str,
        values: impl IntoIterator<Item = V, IntoIter: ExactSizeIterator>,
    ) -> Query<'q, Any, AnyArguments>
    where
        V: Encode<'v, Any> + Type<Any>,
    {
        let values = values.into_iter();
        let list = self.marks(values.len()).join(", ");
        let mut query = sqlx::query(AssertSqlSafe(sql.replacen("(…)", &format!("({list})"), 1)));
        for v in values {
            query = query.bind(v);
        }
        query
    }
}
