//! Backups taken while serving, and restores that prove themselves before they are declared
//! done.
//!
//! One format for both engines: an SQLite file holding every table as it stood at one moment
//! (SQLite: `VACUUM INTO`; PostgreSQL: every table read in one repeatable-read snapshot), plus
//! a manifest table naming each table's row count and the audit chain's head, with a MAC under
//! the key file, so a backup that was cut short, edited or made under another key is refused.
//! A restore goes into an empty database of either engine and succeeds only when the storage
//! is intact, every table holds the manifest's count, the audit head is the manifest's and
//! `check` finds no fault; otherwise what it wrote is removed again. The key file is not in
//! the backup: it is kept apart (docs/OPERATIONS.md).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use futures_util::StreamExt;
use hmac::Mac;
use sea_orm::sea_query::{Alias, Expr, Query};
use sea_orm::{
    AccessMode, ConnectionTrait, Database, DatabaseConnection, DbBackend, IsolationLevel,
    QueryResult, Statement, StreamTrait, TransactionTrait, Value,
};
use sea_orm_migration::MigratorTrait;
use serde::{Deserialize, Serialize};
use sm3::{Digest, Sm3};
use tongxin_core::Timestamp;

use crate::crypto::FieldKeys;
use crate::db::{Engine, Store, StoreOptions};
use crate::error::{Result, StoreError};
use crate::migration::Migrator;

/// What the manifest's `format` says.
const FORMAT: &str = "tongxin-backup-1";
/// The table in the backup file that holds the manifest.
const MANIFEST_TABLE: &str = "tongxin_backup";
/// The migrations' own bookkeeping table.
const MIGRATIONS_TABLE: &str = "seaql_migrations";
/// Rows per insert statement while copying.
const BATCH: usize = 200;

/// What a backup holds, as its manifest says.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    format: String,
    /// The engine the backup was taken from.
    pub engine: String,
    pub taken_at: i64,
    /// Each table's rows: how many, and a digest of their contents.
    pub tables: BTreeMap<String, TableSummary>,
    pub audit_seq: i64,
    pub audit_hash: String,
}

impl Manifest {
    pub fn rows(&self) -> u64 {
        self.tables.values().map(|t| t.rows).sum()
    }
}

/// One table in a backup: its row count and an SM3 digest of its rows (each row's typed
/// values hashed, the row hashes sorted and hashed again), the same whichever engine holds
/// them and in whatever order they are read.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TableSummary {
    pub rows: u64,
    pub digest: String,
}

/// A column as the backup file declares it.
#[derive(Debug, Clone)]
struct Column {
    name: String,
    kind: ColumnKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ColumnKind {
    Integer,
    Boolean,
    Bytes,
    Text,
}

impl ColumnKind {
    /// From an SQLite declared type (the migrations' types as SQLite spells them).
    fn of_declared(declared: &str) -> ColumnKind {
        let declared = declared.to_ascii_lowercase();
        if declared.contains("bool") {
            ColumnKind::Boolean
        } else if declared.contains("int") {
            ColumnKind::Integer
        } else if declared.contains("blob") {
            ColumnKind::Bytes
        } else {
            ColumnKind::Text
        }
    }
}

fn failed(message: impl Into<String>) -> StoreError {
    StoreError::Backup(message.into())
}

fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

impl Store {
    /// Writes a backup of the whole database to `out` (which must not exist) while the server
    /// keeps serving, and returns its manifest.
    pub async fn backup(&self, out: &Path, now: Timestamp) -> Result<Manifest> {
        if out.exists() {
            return Err(failed(format!("{} exists already", out.display())));
        }
        let result = self.write_backup(out, now).await;
        if result.is_err() {
            remove_sqlite_file(out);
        }
        result
    }

    async fn write_backup(&self, out: &Path, now: Timestamp) -> Result<Manifest> {
        let target = match self.engine() {
            Engine::Sqlite => {
                let path = out
                    .to_str()
                    .ok_or_else(|| failed("the path is not UTF-8"))?;
                self.db
                    .execute_raw(Statement::from_sql_and_values(
                        DbBackend::Sqlite,
                        "VACUUM INTO ?",
                        [path.into()],
                    ))
                    .await?;
                open_sqlite(out, false).await?
            }
            Engine::Postgres => {
                let target = open_sqlite(out, true).await?;
                let steps = migration_count(&self.db).await?;
                Migrator::up(&target, Some(steps)).await?;
                target
                    .execute_unprepared("PRAGMA foreign_keys = OFF")
                    .await?;
                let snapshot = self
                    .db
                    .begin_with_config(
                        Some(IsolationLevel::RepeatableRead),
                        Some(AccessMode::ReadOnly),
                    )
                    .await?;
                for table in tables(&target).await? {
                    target
                        .execute_unprepared(&format!("DELETE FROM {}", quoted(&table)))
                        .await?;
                    let columns = columns(&target, &table).await?;
                    copy_table(&snapshot, &target, &table, &columns, None).await?;
                }
                snapshot.commit().await?;
                target
            }
        };
        let mut counts = BTreeMap::new();
        for table in tables(&target).await? {
            let columns = columns(&target, &table).await?;
            counts.insert(table.clone(), summarize(&target, &table, &columns).await?);
        }
        let (audit_seq, audit_hash) = audit_head(&target).await?;
        let manifest = Manifest {
            format: FORMAT.to_owned(),
            engine: self.engine().name().to_owned(),
            taken_at: now.micros(),
            tables: counts,
            audit_seq,
            audit_hash,
        };
        let text =
            serde_json::to_string(&manifest).map_err(|e| failed(format!("manifest: {e}")))?;
        target
            .execute_unprepared(&format!(
                "CREATE TABLE {MANIFEST_TABLE} (manifest TEXT NOT NULL, mac TEXT NOT NULL)"
            ))
            .await?;
        target
            .execute_raw(Statement::from_sql_and_values(
                DbBackend::Sqlite,
                format!("INSERT INTO {MANIFEST_TABLE} (manifest, mac) VALUES (?, ?)"),
                [text.clone().into(), manifest_mac(&self.keys, &text).into()],
            ))
            .await?;
        target.close().await?;
        Ok(manifest)
    }
}

/// Restores the backup at `backup` into the empty database at `target_url`, verifies it and
/// returns the store, migrated to this version, with the backup's manifest. Nothing is left
/// behind when it fails.
pub async fn restore(
    backup: &Path,
    target_url: &str,
    options: &StoreOptions,
    keys: FieldKeys,
    now: Timestamp,
) -> Result<(Store, Manifest)> {
    let source = open_sqlite(backup, false).await?;
    let manifest = read_manifest(&source, &keys).await;
    let (manifest, layout) = match manifest {
        Ok(manifest) => {
            let layout = layout(&source, &manifest).await?;
            (manifest, layout)
        }
        Err(e) => {
            source.close().await?;
            return Err(e);
        }
    };
    if let Some(sqlite_path) = target_url
        .strip_prefix("sqlite://")
        .map(|rest| rest.split('?').next().unwrap_or(rest))
    {
        source.close().await?;
        let target = Path::new(sqlite_path);
        if target.exists() && std::fs::metadata(target).map(|m| m.len()).unwrap_or(1) > 0 {
            return Err(failed(format!(
                "{} exists: restore into an empty data directory",
                target.display()
            )));
        }
        let restored = restore_sqlite(
            backup,
            target,
            target_url,
            options,
            keys,
            (&manifest, &layout),
            now,
        )
        .await;
        if restored.is_err() {
            remove_sqlite_file(target);
        }
        return restored.map(|store| (store, manifest));
    }
    let store = Store::connect(target_url, options, keys).await?;
    if !postgres_is_empty(&store.db).await? {
        source.close().await?;
        return Err(failed(
            "the target schema has tables already: restore into an empty database or schema",
        ));
    }
    let restored = restore_postgres(&source, &store, &manifest).await;
    source.close().await?;
    match restored {
        Ok(()) => match verify(&store, &manifest, &layout, now).await {
            Ok(()) => Ok((store, manifest)),
            Err(e) => {
                drop_tables(&store.db, &manifest).await?;
                Err(e)
            }
        },
        Err(e) => {
            drop_tables(&store.db, &manifest).await?;
            Err(e)
        }
    }
}

async fn restore_sqlite(
    backup: &Path,
    target: &Path,
    target_url: &str,
    options: &StoreOptions,
    keys: FieldKeys,
    (manifest, layout): (&Manifest, &Layout),
    now: Timestamp,
) -> Result<Store> {
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| failed(format!("{}: {e}", dir.display())))?;
    }
    std::fs::copy(backup, target).map_err(|e| failed(format!("{}: {e}", target.display())))?;
    let copy = open_sqlite(target, false).await?;
    copy.execute_unprepared(&format!("DROP TABLE {MANIFEST_TABLE}"))
        .await?;
    copy.close().await?;
    let store = Store::connect(target_url, options, keys).await?;
    verify(&store, manifest, layout, now).await?;
    Ok(store)
}

async fn restore_postgres(
    source: &DatabaseConnection,
    store: &Store,
    manifest: &Manifest,
) -> Result<()> {
    let steps = migration_count(source).await?;
    Migrator::up(&store.db, Some(steps)).await?;
    let order = dependency_order(source, manifest).await?;
    let tx = store.db.begin().await?;
    // Rows the migrations wrote (their own record, the audit chain's genesis head) give way to
    // the backup's.
    for table in order.iter().rev() {
        tx.execute_unprepared(&format!("DELETE FROM {}", quoted(table)))
            .await?;
    }
    for table in &order {
        let columns = columns(source, table).await?;
        // A table that refers to itself (units to their parent) is copied parents first.
        let ordering = if refers_to_itself(source, table).await? {
            Some("length(path)")
        } else {
            None
        };
        copy_table(source, &tx, table, &columns, ordering).await?;
        // A numbered id continues after the copied rows (a named one, as a runner's, has no
        // sequence to move).
        if columns
            .iter()
            .any(|c| c.name == "id" && c.kind == ColumnKind::Integer)
        {
            tx.execute_unprepared(&format!(
                "SELECT setval(s, (SELECT COALESCE(MAX(id), 0) + 1 FROM {t}), false) \
                 FROM (SELECT pg_get_serial_sequence('{t}', 'id') AS s) q WHERE s IS NOT NULL",
                t = quoted(table)
            ))
            .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// The restored database is what the manifest describes: intact, every table's count, the
/// audit head; then migrated to this version, and `check` finds nothing wrong.
async fn verify(store: &Store, manifest: &Manifest, layout: &Layout, now: Timestamp) -> Result<()> {
    for (table, expected) in &manifest.tables {
        let columns = layout.get(table).map(Vec::as_slice).unwrap_or_default();
        let found = summarize(&store.db, table, columns).await?;
        if found.rows != expected.rows {
            return Err(failed(format!(
                "{table}: {} rows restored, the backup holds {}",
                found.rows, expected.rows
            )));
        }
        if found.digest != expected.digest {
            return Err(failed(format!(
                "{table}: the restored rows differ from the backup's"
            )));
        }
    }
    let head = audit_head(&store.db).await?;
    if head != (manifest.audit_seq, manifest.audit_hash.clone()) {
        return Err(failed("the audit log's end differs from the backup's"));
    }
    store.migrate(now).await?;
    let report = store.check().await?;
    if let Some(fault) = report.faults.first() {
        return Err(failed(format!("check after restoring: {fault}")));
    }
    Ok(())
}

async fn read_manifest(source: &DatabaseConnection, keys: &FieldKeys) -> Result<Manifest> {
    let row = source
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            format!("SELECT manifest, mac FROM {MANIFEST_TABLE}"),
        ))
        .await
        .map_err(|_| failed("this is not a Tongxin backup (no manifest)"))?
        .ok_or_else(|| failed("this is not a Tongxin backup (empty manifest)"))?;
    let text: String = row.try_get_by_index(0)?;
    let mac: String = row.try_get_by_index(1)?;
    let expected = hex::decode(&mac).unwrap_or_default();
    let mut check = keys.audit_mac();
    check.update(b"backup-manifest\0");
    check.update(text.as_bytes());
    if check.verify_slice(&expected).is_err() {
        return Err(failed(
            "the backup's manifest does not verify: the backup was altered, or made under another key file",
        ));
    }
    let manifest: Manifest =
        serde_json::from_str(&text).map_err(|e| failed(format!("manifest: {e}")))?;
    if manifest.format != FORMAT {
        return Err(failed(format!("unknown backup format {}", manifest.format)));
    }
    let integrity = source
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "PRAGMA integrity_check",
        ))
        .await?
        .map(|row| row.try_get_by_index::<String>(0))
        .transpose()?
        .unwrap_or_default();
    if integrity != "ok" {
        return Err(failed(format!("the backup file is damaged: {integrity}")));
    }
    for (table, expected) in &manifest.tables {
        let columns = columns(source, table).await?;
        if columns.is_empty() {
            return Err(failed(format!("the backup has no table {table}")));
        }
        if summarize(source, table, &columns).await? != *expected {
            return Err(failed(format!(
                "the backup's {table} differs from its manifest: the file was altered"
            )));
        }
    }
    Ok(manifest)
}

fn manifest_mac(keys: &FieldKeys, text: &str) -> String {
    let mut mac = keys.audit_mac();
    mac.update(b"backup-manifest\0");
    mac.update(text.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

async fn open_sqlite(path: &Path, create: bool) -> Result<DatabaseConnection> {
    let mode = if create { "rwc" } else { "rw" };
    let url = format!("sqlite://{}?mode={mode}", path.display());
    let mut options = sea_orm::ConnectOptions::new(url);
    // One connection: `PRAGMA foreign_keys` holds for the connection that set it.
    options
        .max_connections(1)
        .min_connections(1)
        .sqlx_logging(false);
    Ok(Database::connect(options).await?)
}

fn remove_sqlite_file(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let _ = std::fs::remove_file(name);
    }
}

/// The tables of an SQLite file that hold the product's rows (and the migrations' record).
async fn tables(db: &DatabaseConnection) -> Result<Vec<String>> {
    let rows = db
        .query_all_raw(Statement::from_string(
            DbBackend::Sqlite,
            format!(
                "SELECT name FROM sqlite_master WHERE type = 'table' \
                 AND name NOT LIKE 'sqlite_%' AND name <> '{MANIFEST_TABLE}' ORDER BY name"
            ),
        ))
        .await?;
    rows.iter()
        .map(|row| Ok(row.try_get_by_index::<String>(0)?))
        .collect()
}

async fn columns(db: &DatabaseConnection, table: &str) -> Result<Vec<Column>> {
    let rows = db
        .query_all_raw(Statement::from_string(
            DbBackend::Sqlite,
            format!("PRAGMA table_info({})", quoted(table)),
        ))
        .await?;
    rows.iter()
        .map(|row| {
            Ok(Column {
                name: row.try_get("", "name")?,
                kind: ColumnKind::of_declared(&row.try_get::<String>("", "type")?),
            })
        })
        .collect()
}

async fn refers_to_itself(db: &DatabaseConnection, table: &str) -> Result<bool> {
    Ok(foreign_tables(db, table).await?.iter().any(|t| t == table))
}

async fn foreign_tables(db: &DatabaseConnection, table: &str) -> Result<Vec<String>> {
    let rows = db
        .query_all_raw(Statement::from_string(
            DbBackend::Sqlite,
            format!("PRAGMA foreign_key_list({})", quoted(table)),
        ))
        .await?;
    rows.iter()
        .map(|row| Ok(row.try_get::<String>("", "table")?))
        .collect()
}

/// The backup's tables, each after the tables it refers to.
async fn dependency_order(db: &DatabaseConnection, manifest: &Manifest) -> Result<Vec<String>> {
    let mut refers: HashMap<String, Vec<String>> = HashMap::new();
    for table in manifest.tables.keys() {
        let parents = foreign_tables(db, table).await?;
        refers.insert(
            table.clone(),
            parents.into_iter().filter(|p| p != table).collect(),
        );
    }
    let mut order: Vec<String> = Vec::new();
    while order.len() < refers.len() {
        let before = order.len();
        let mut ready: Vec<&String> = refers
            .iter()
            .filter(|(t, parents)| {
                !order.contains(t)
                    && parents
                        .iter()
                        .all(|p| order.contains(p) || !refers.contains_key(p))
            })
            .map(|(t, _)| t)
            .collect();
        ready.sort();
        order.extend(ready.into_iter().cloned());
        if order.len() == before {
            return Err(failed(
                "the backup's tables refer to each other in a circle",
            ));
        }
    }
    Ok(order)
}

/// Copies every row of `table` from `source` into `target`, in batches.
async fn copy_table<S, T>(
    source: &S,
    target: &T,
    table: &str,
    columns: &[Column],
    ordering: Option<&str>,
) -> Result<()>
where
    S: StreamTrait + ConnectionTrait,
    T: ConnectionTrait,
{
    let backend = ConnectionTrait::get_database_backend(source);
    let rows = source
        .stream_raw(select_all(backend, table, columns, ordering))
        .await?;
    let mut rows = std::pin::pin!(rows);
    let mut batch: Vec<Vec<Value>> = Vec::with_capacity(BATCH);
    while let Some(row) = rows.next().await {
        batch.push(values(&row?, columns)?);
        if batch.len() == BATCH {
            insert(target, table, columns, std::mem::take(&mut batch)).await?;
        }
    }
    if !batch.is_empty() {
        insert(target, table, columns, batch).await?;
    }
    Ok(())
}

/// Every row of `table`, its columns read alike on both engines.
fn select_all(
    backend: DbBackend,
    table: &str,
    columns: &[Column],
    ordering: Option<&str>,
) -> Statement {
    let selected: Vec<String> = columns
        .iter()
        .map(|c| match (backend, c.kind) {
            // PostgreSQL's smallint and integer read as 64-bit, like SQLite's integers.
            (DbBackend::Postgres, ColumnKind::Integer) => {
                format!("CAST({} AS BIGINT)", quoted(&c.name))
            }
            _ => quoted(&c.name),
        })
        .collect();
    let order = ordering
        .map(|o| format!(" ORDER BY {o}"))
        .unwrap_or_default();
    Statement::from_string(
        backend,
        format!(
            "SELECT {} FROM {}{order}",
            selected.join(", "),
            quoted(table)
        ),
    )
}

fn values(row: &QueryResult, columns: &[Column]) -> Result<Vec<Value>> {
    columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            Ok(match c.kind {
                ColumnKind::Integer => Value::BigInt(row.try_get_by_index::<Option<i64>>(i)?),
                ColumnKind::Boolean => Value::Bool(row.try_get_by_index::<Option<bool>>(i)?),
                ColumnKind::Bytes => Value::Bytes(row.try_get_by_index::<Option<Vec<u8>>>(i)?),
                ColumnKind::Text => Value::String(row.try_get_by_index::<Option<String>>(i)?),
            })
        })
        .collect()
}

async fn insert<T: ConnectionTrait>(
    target: &T,
    table: &str,
    columns: &[Column],
    rows: Vec<Vec<Value>>,
) -> Result<()> {
    let mut statement = Query::insert();
    statement
        .into_table(Alias::new(table))
        .columns(columns.iter().map(|c| Alias::new(&c.name)));
    for row in rows {
        statement
            .values(row.into_iter().map(Expr::val))
            .map_err(|e| failed(format!("{table}: {e}")))?;
    }
    target.execute(&statement).await?;
    Ok(())
}

/// A table's row count and digest (see [`TableSummary`]).
async fn summarize<C>(db: &C, table: &str, columns: &[Column]) -> Result<TableSummary>
where
    C: StreamTrait + ConnectionTrait,
{
    let rows = db
        .stream_raw(select_all(
            ConnectionTrait::get_database_backend(db),
            table,
            columns,
            None,
        ))
        .await?;
    let mut rows = std::pin::pin!(rows);
    let mut digests: Vec<[u8; 32]> = Vec::new();
    while let Some(row) = rows.next().await {
        let mut h = Sm3::new();
        for value in values(&row?, columns)? {
            match value {
                Value::BigInt(Some(n)) => {
                    h.update([1u8]);
                    h.update(n.to_be_bytes());
                }
                Value::Bool(Some(b)) => h.update([2u8, u8::from(b)]),
                Value::Bytes(Some(bytes)) => {
                    h.update([3u8]);
                    h.update((bytes.len() as u64).to_be_bytes());
                    h.update(&bytes);
                }
                Value::String(Some(text)) => {
                    h.update([4u8]);
                    h.update((text.len() as u64).to_be_bytes());
                    h.update(text.as_bytes());
                }
                _ => h.update([0u8]),
            }
        }
        digests.push(h.finalize().into());
    }
    digests.sort_unstable();
    let mut all = Sm3::new();
    for digest in &digests {
        all.update(digest);
    }
    Ok(TableSummary {
        rows: digests.len() as u64,
        digest: hex::encode(all.finalize()),
    })
}

/// The columns of each backed-up table, as the backup file declares them: the restored
/// tables are read the same way, whatever their engine calls the types.
type Layout = HashMap<String, Vec<Column>>;

async fn layout(source: &DatabaseConnection, manifest: &Manifest) -> Result<Layout> {
    let mut layout = HashMap::new();
    for table in manifest.tables.keys() {
        layout.insert(table.clone(), columns(source, table).await?);
    }
    Ok(layout)
}

async fn audit_head<C: ConnectionTrait>(db: &C) -> Result<(i64, String)> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT seq, hash FROM audit_head WHERE id = 1",
        ))
        .await?
        .ok_or_else(|| failed("the audit log has no head"))?;
    Ok((row.try_get_by_index(0)?, row.try_get_by_index(1)?))
}

async fn migration_count<C: ConnectionTrait>(db: &C) -> Result<u32> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT COUNT(*) FROM {MIGRATIONS_TABLE}"),
        ))
        .await?
        .ok_or_else(|| failed("no migrations recorded"))?;
    Ok(u32::try_from(row.try_get_by_index::<i64>(0)?).unwrap_or_default())
}

async fn postgres_is_empty(db: &DatabaseConnection) -> Result<bool> {
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()",
        ))
        .await?
        .ok_or_else(|| failed("no answer about the schema's tables"))?;
    Ok(row.try_get_by_index::<i64>(0)? == 0)
}

/// Takes away what a failed restore into PostgreSQL created.
async fn drop_tables(db: &DatabaseConnection, manifest: &Manifest) -> Result<()> {
    for table in manifest
        .tables
        .keys()
        .chain(std::iter::once(&MIGRATIONS_TABLE.to_owned()))
    {
        db.execute_unprepared(&format!("DROP TABLE IF EXISTS {} CASCADE", quoted(table)))
            .await?;
    }
    Ok(())
}
