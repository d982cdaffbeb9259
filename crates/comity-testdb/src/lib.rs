//! Test databases: a fresh SQLite file, or a fresh PostgreSQL database on the server that
//! `COMITY_TEST_POSTGRES` names (default `postgres://postgres@127.0.0.1:5432/postgres`;
//! `scripts/postgres-up` starts it), dropped by [`TestDb::drop_database`]; and
//! [`copy_dir`], for tests that change a copy of the repository's packs.

use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::{AnyPool, AssertSqlSafe, Connection};

/// Copies the tree `from` to `to` (created), as a test's own copy of the packs to change.
pub fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("the copy's directory");
    for entry in std::fs::read_dir(from).expect("the tree to copy") {
        let entry = entry.expect("a directory entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("its type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("a file copied");
        }
    }
}

/// A database for one test.
pub enum TestDb {
    /// A SQLite file in a temporary directory that lives as long as this value.
    Sqlite {
        /// The directory.
        dir: tempfile::TempDir,
        /// The file.
        path: String,
    },
    /// A PostgreSQL database of its own.
    Postgres {
        /// The server's maintenance database, to drop this one from.
        admin: String,
        /// This database's URL.
        url: String,
        /// Its name.
        name: String,
    },
}

impl TestDb {
    /// A fresh SQLite file.
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("comity.db").display().to_string();
        TestDb::Sqlite { dir, path }
    }

    /// A fresh PostgreSQL database.
    pub async fn postgres() -> TestDb {
        static N: AtomicU64 = AtomicU64::new(0);
        sqlx::any::install_default_drivers();
        let admin = std::env::var("COMITY_TEST_POSTGRES")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .subsec_nanos();
        let name = format!(
            "comity_test_{}_{nanos}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let mut conn = sqlx::AnyConnection::connect(&admin)
            .await
            .expect("PostgreSQL must be running (scripts/postgres-up)");
        sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("CREATE DATABASE");
        let url = format!(
            "{}/{name}",
            admin.rsplit_once('/').expect("a URL with a database").0
        );
        TestDb::Postgres { admin, url, name }
    }

    /// A fresh database of each kind.
    pub async fn both() -> Vec<TestDb> {
        vec![TestDb::sqlite(), TestDb::postgres().await]
    }

    /// What `Store::open` and `comity --db` take.
    pub fn url(&self) -> &str {
        match self {
            TestDb::Sqlite { path, .. } => path,
            TestDb::Postgres { url, .. } => url,
        }
    }

    /// A plain SQL pool on the same database (to look, or to tamper).
    pub async fn pool(&self) -> AnyPool {
        sqlx::any::install_default_drivers();
        let url = match self {
            TestDb::Sqlite { path, .. } => format!("sqlite://{path}"),
            TestDb::Postgres { url, .. } => url.clone(),
        };
        AnyPool::connect(&url).await.expect("the test database")
    }

    /// Runs one SQL statement.
    pub async fn exec(&self, statement: &str) {
        let pool = self.pool().await;
        sqlx::query(AssertSqlSafe(statement.to_owned()))
            .execute(&pool)
            .await
            .expect("the statement runs");
        pool.close().await;
    }

    /// One number from a query, such as `SELECT COUNT(*) FROM …`.
    pub async fn count(&self, query: &str) -> i64 {
        let pool = self.pool().await;
        let n = sqlx::query_scalar::<_, i64>(AssertSqlSafe(query.to_owned()))
            .fetch_one(&pool)
            .await
            .expect("the query runs");
        pool.close().await;
        n
    }

    /// Drops a PostgreSQL database (a SQLite file goes with its directory).
    pub async fn drop_database(self) {
        if let TestDb::Postgres { admin, name, .. } = self {
            let mut conn = sqlx::AnyConnection::connect(&admin)
                .await
                .expect("the server");
            sqlx::query(AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&mut conn)
            .await
            .expect("DROP DATABASE");
        }
    }
}
