//! The directory sorts by a key that compares pinyin syllable by syllable (`name_sort`, from
//! `tongxin_text::pinyin_keys`): the run-together pinyin put 白 (bai) before 巴 (ba) when
//! more followed. The order indexes move to the new key (`idx_people_sort_order`,
//! `idx_people_unit_sort`); the run-together pinyin keeps an index of its own for the prefix
//! search.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement, Value};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// People whose keys one statement writes while filling the new column.
const FILL_BATCH: u64 = 500;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let collate = match manager.get_database_backend() {
            DbBackend::Postgres => " COLLATE \"C\"",
            _ => "",
        };
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "ALTER TABLE people ADD COLUMN name_sort TEXT{collate} NOT NULL DEFAULT ''"
            ))
            .await?;
        fill_sort_keys(manager).await?;
        for index in ["idx_people_name_order", "idx_people_unit_path"] {
            manager
                .drop_index(Index::drop().name(index).table("people").to_owned())
                .await?;
        }
        // New names: no statement can meet an index of the same name that another of the
        // pool's connections has only just dropped.
        let indexes: [(&str, &[&str]); 3] = [
            ("idx_people_pinyin_prefix", &["name_pinyin"]),
            ("idx_people_sort_order", &["name_sort", "id"]),
            ("idx_people_unit_sort", &["unit_path", "name_sort"]),
        ];
        for (name, columns) in indexes {
            let mut index = Index::create().name(name).table("people").to_owned();
            for column in columns {
                index.col(*column);
            }
            manager.create_index(index).await?;
        }
        Ok(())
    }
}

/// Computes the sort key of everyone already on record, a batch of ids at a time.
async fn fill_sort_keys(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let conn = manager.get_connection();
    let backend = manager.get_database_backend();
    let mut after = 0_i64;
    loop {
        let rows = conn
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                match backend {
                    DbBackend::Postgres => {
                        "SELECT id, name FROM people WHERE id > $1 ORDER BY id LIMIT $2"
                    }
                    _ => "SELECT id, name FROM people WHERE id > ? ORDER BY id LIMIT ?",
                },
                [after.into(), (FILL_BATCH as i64).into()],
            ))
            .await?;
        let Some(last) = rows.last() else {
            return Ok(());
        };
        after = last.try_get("", "id")?;
        // One UPDATE per batch: `CASE id WHEN … THEN … END` over the batch's ids.
        let mut cases = String::new();
        let mut values: Vec<Value> = Vec::with_capacity(rows.len() * 2);
        let mut placeholder = {
            let mut n = 0;
            move || {
                n += 1;
                match backend {
                    DbBackend::Postgres => format!("${n}"),
                    _ => "?".to_owned(),
                }
            }
        };
        for row in &rows {
            let id: i64 = row.try_get("", "id")?;
            let name: String = row.try_get("", "name")?;
            cases.push_str(&format!(" WHEN {} THEN {}", placeholder(), placeholder()));
            values.push(id.into());
            values.push(tongxin_text::pinyin_keys(&name).sort.into());
        }
        let first: i64 = rows[0].try_get("", "id")?;
        let sql = format!(
            "UPDATE people SET name_sort = CASE id{cases} END WHERE id BETWEEN {} AND {}",
            placeholder(),
            placeholder()
        );
        values.push(first.into());
        values.push(after.into());
        conn.execute_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?;
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
    use sea_orm_migration::MigratorTrait;

    use crate::migration::Migrator;
    use crate::{FieldKeys, Store, StoreOptions};

    /// People on record before the key existed get theirs when the database is upgraded.
    #[tokio::test]
    async fn people_on_record_get_their_sort_key() {
        let db = Database::connect("sqlite::memory:")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        upgrade_with_people(&db).await;
    }

    /// The same on PostgreSQL (its placeholders are numbered), in a schema of its own.
    #[tokio::test]
    async fn people_on_record_get_their_sort_key_on_postgres() {
        let Ok(url) = std::env::var("TONGXIN_TEST_POSTGRES_URL") else {
            eprintln!("skipped: TONGXIN_TEST_POSTGRES_URL is not set");
            return;
        };
        let schema = format!("m0018_{}", std::process::id());
        let options = StoreOptions {
            pg_schema: Some(schema.clone()),
            ..StoreOptions::default()
        };
        let store = Store::connect(&url, &options, FieldKeys::from_master(&[7; 32]))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        upgrade_with_people(&store.db).await;
        store
            .db
            .execute_unprepared(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }

    /// Migrates `db` to just before the sort key, files people, upgrades, and checks their keys
    /// and order.
    async fn upgrade_with_people(db: &DatabaseConnection) {
        let before = Migrator::migrations()
            .iter()
            .position(|m| m.name() == "m0018_name_sort")
            .unwrap_or_else(|| panic!("m0018 is among the migrations")) as u32;
        Migrator::up(db, Some(before))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let mut sql = String::from(
            "INSERT INTO units (id, code, name, level, path, created_at, updated_at) \
             VALUES (1, '15', '市', 1, '/1/', 0, 0);",
        );
        // More than one batch, named so the order shows the syllables.
        let names = ["白鹤", "巴雅", "宝玉"];
        for id in 1..=super::FILL_BATCH + 2 {
            let name = names[id as usize % names.len()];
            sql.push_str(&format!(
                "INSERT INTO people (id, unit_id, unit_path, name, name_pinyin, name_initials, \
                 version, created_at, updated_at) VALUES ({id}, 1, '/1/', '{name}', '', '', 1, \
                 0, 0);"
            ));
        }
        db.execute_unprepared(&sql)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        Migrator::up(db, None)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let rows = db
            .query_all_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT name, name_sort FROM people ORDER BY name_sort, id",
            ))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(rows.len() as u64, super::FILL_BATCH + 2);
        let first = |name: &str| {
            rows.iter()
                .position(|r| r.try_get::<String>("", "name").is_ok_and(|n| n == name))
        };
        assert!(first("巴雅") < first("白鹤") && first("白鹤") < first("宝玉"));
        assert!(rows.iter().all(|r| {
            let name: String = r.try_get("", "name").unwrap_or_default();
            r.try_get::<String>("", "name_sort")
                .is_ok_and(|key| key == tongxin_text::pinyin_keys(&name).sort)
        }));
    }
}
