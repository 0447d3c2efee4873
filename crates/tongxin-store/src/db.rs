//! Connecting: the engine is chosen from the URL at run time, and every SQLite connection gets
//! the same PRAGMAs (WAL, `synchronous=FULL`, foreign keys, a busy timeout).

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, PaginatorTrait,
    SqliteTransactionMode, SqlxPostgresConnector, SqlxSqliteConnector, Statement,
    TransactionOptions, TransactionTrait,
};
use sea_orm_migration::MigratorTrait;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use tongxin_core::Timestamp;

use crate::ChainKeying;
use crate::access::{self, Unguarded};
use crate::audit::GENESIS_HASH;
use crate::crypto::FieldKeys;
use crate::directory::access_log::ViewLog;
use crate::entity::unit;
use crate::error::{Result, StoreError};
use crate::migration::Migrator;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    pub fn name(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
        }
    }

    pub(crate) fn backend(self) -> sea_orm::DbBackend {
        match self {
            Engine::Sqlite => sea_orm::DbBackend::Sqlite,
            Engine::Postgres => sea_orm::DbBackend::Postgres,
        }
    }
}

/// Connection settings beyond the URL.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// PostgreSQL schema to use (created if missing); `None` uses the server's default path.
    pub pg_schema: Option<String>,
    pub max_connections: u32,
    /// How long a SQLite write waits for the write lock (held, say, by a long import) before
    /// it fails with [`crate::StoreError::Busy`].
    pub sqlite_busy_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            pg_schema: None,
            max_connections: 16,
            sqlite_busy_timeout: Duration::from_secs(10),
        }
    }
}

/// What opening the store did beyond the migrations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Upgraded {
    pub chain: ChainKeying,
    /// Values sealed before row binding, sealed again for their rows.
    pub values_bound: u64,
}

/// A handle on the database, cheap to clone.
#[derive(Clone)]
pub struct Store {
    pub(crate) db: DatabaseConnection,
    engine: Engine,
    /// Keys for sensitive personal fields.
    pub(crate) keys: Arc<FieldKeys>,
    /// Writes the views of records, many readers to a commit.
    pub(crate) views: ViewLog,
    /// Told after a commit that enqueued jobs, so a runner in this process starts them
    /// without waiting for its next look at the queue.
    pub(crate) jobs_enqueued: Arc<tokio::sync::Notify>,
}

impl Store {
    /// Connects to `sqlite://FILE` (created if missing) or `postgres://…`; `keys` protect the
    /// sensitive fields.
    pub async fn connect(url: &str, options: &StoreOptions, keys: FieldKeys) -> Result<Store> {
        let keys = Arc::new(keys);
        let connect_err = StoreError::Connect;
        if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)
                .map_err(connect_err)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(options.sqlite_busy_timeout)
                // A large import passes through the write-ahead log; give the space back after.
                .pragma("journal_size_limit", "67108864")
                // Searches read people at random across the file: map it rather than copy
                // each page through a system call (SQLite caps the map at 2 GB).
                .pragma("mmap_size", "2147418112")
                // Multi-row inserts compile to large programs; caching a hundred of them (the
                // default) doubled an import's memory for no gain.
                .statement_cache_capacity(16);
            let pool = SqlitePoolOptions::new()
                .max_connections(options.max_connections)
                .connect_with(opts)
                .await
                .map_err(connect_err)?;
            let db = SqlxSqliteConnector::from_sqlx_sqlite_pool(pool);
            Ok(Store {
                views: ViewLog::start(db.clone()),
                db,
                engine: Engine::Sqlite,
                keys,
                jobs_enqueued: Arc::default(),
            })
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let mut opts = PgConnectOptions::from_str(url).map_err(connect_err)?;
            if let Some(schema) = &options.pg_schema {
                if !schema
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_')
                {
                    return Err(StoreError::Settings(format!(
                        "schema name {schema:?} may only contain letters, digits and _"
                    )));
                }
                opts = opts.options([("search_path", schema.as_str())]);
            }
            let pool = PgPoolOptions::new()
                .max_connections(options.max_connections)
                .connect_with(opts)
                .await
                .map_err(connect_err)?;
            let db = SqlxPostgresConnector::from_sqlx_postgres_pool(pool);
            if let Some(schema) = &options.pg_schema {
                db.execute_unprepared(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
                    .await?;
            }
            Ok(Store {
                views: ViewLog::start(db.clone()),
                db,
                engine: Engine::Postgres,
                keys,
                jobs_enqueued: Arc::default(),
            })
        } else {
            Err(StoreError::Settings(format!(
                "unsupported database URL {url:?}: use sqlite://FILE or postgres://…"
            )))
        }
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Applies pending migrations, then does what they leave to a holder of the key (recording
    /// it at `now`): keys an audit chain written before the audit key, and binds values sealed
    /// before row binding to their rows.
    pub async fn migrate(&self, now: Timestamp) -> Result<Upgraded> {
        Migrator::up(&self.db, None).await?;
        let chain = self.key_audit_chain(now).await?;
        let values_bound = self.bind_sealed_values(now).await?;
        Ok(Upgraded {
            chain,
            values_bound,
        })
    }

    /// Whether the database answers a trivial query.
    pub async fn ping(&self) -> Result<()> {
        self.db.ping().await?;
        Ok(())
    }

    /// Whether the database has an audit history, and so data sealed or keyed under a key;
    /// asked before migrations, so it reads the head as the first migration made it (a
    /// database without one has no history).
    pub async fn has_history(&self) -> Result<bool> {
        let backend = self.db.get_database_backend();
        let head = self
            .db
            .query_one_raw(Statement::from_string(
                backend,
                "SELECT seq FROM audit_head WHERE id = 1",
            ))
            .await;
        Ok(match head {
            Ok(Some(row)) => row.try_get_by_index::<i64>(0)? > 0,
            _ => false,
        })
    }

    /// Whether the database holds no units yet (a fresh installation).
    pub async fn is_empty(&self) -> Result<bool> {
        Ok(access::unguarded::<unit::Entity>(Unguarded::System)
            .count(&self.db)
            .await?
            == 0)
    }

    /// Empties the database again after a load into a fresh one failed part-way (the demo
    /// writes in several transactions): deletes every row of every table in one transaction and
    /// restarts the audit chain at its genesis, leaving the database as the migrations left it
    /// (the reference data they seeded, case types and the working calendar, stays).
    /// Refuses unless the database was empty before the load, which the caller asserts by
    /// passing what [`Store::is_empty`] said then.
    pub async fn discard_failed_load(&self, was_empty: bool) -> Result<()> {
        if !was_empty {
            return Err(StoreError::Settings(
                "only a load into an empty database can be discarded".to_owned(),
            ));
        }
        let backend = self.engine.backend();
        let catalogue = match self.engine {
            Engine::Sqlite => {
                "SELECT name FROM sqlite_master WHERE type = 'table' \
                 AND name NOT LIKE 'sqlite_%' \
                 AND name NOT IN ('seaql_migrations', 'audit_head', 'case_types', 'work_calendar')"
            }
            Engine::Postgres => {
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() \
                 AND tablename NOT IN ('seaql_migrations', 'audit_head', 'case_types', 'work_calendar')"
            }
        };
        let tx = self.begin_write().await?;
        let tables: Vec<String> = tx
            .query_all_raw(Statement::from_string(backend, catalogue))
            .await?
            .iter()
            .map(|row| row.try_get_by_index::<String>(0))
            .collect::<std::result::Result<_, _>>()?;
        match self.engine {
            Engine::Sqlite => {
                // Rows go table by table; the foreign keys are checked once, at commit.
                tx.execute_unprepared("PRAGMA defer_foreign_keys = ON")
                    .await?;
                for table in &tables {
                    tx.execute_unprepared(&format!("DELETE FROM \"{table}\""))
                        .await?;
                }
            }
            Engine::Postgres if !tables.is_empty() => {
                let list: Vec<String> = tables.iter().map(|t| format!("\"{t}\"")).collect();
                tx.execute_unprepared(&format!("TRUNCATE {} RESTART IDENTITY", list.join(", ")))
                    .await?;
            }
            Engine::Postgres => {}
        }
        tx.execute_raw(Statement::from_sql_and_values(
            backend,
            match self.engine {
                Engine::Sqlite => "UPDATE audit_head SET seq = 0, hash = ?",
                Engine::Postgres => "UPDATE audit_head SET seq = 0, hash = $1",
            },
            [GENESIS_HASH.into()],
        ))
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn close(self) -> Result<()> {
        self.db.close().await?;
        Ok(())
    }

    /// Starts a transaction that will write. On SQLite it takes the write lock up front
    /// (`BEGIN IMMEDIATE`), so two writers queue on the busy timeout instead of one of them
    /// failing when it upgrades a read snapshot.
    pub(crate) async fn begin_write(&self) -> Result<DatabaseTransaction> {
        begin_write(&self.db).await
    }
}

/// [`Store::begin_write`] on a connection of the store's.
pub(crate) async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction> {
    let options = TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    };
    Ok(db.begin_with_options(options).await?)
}
