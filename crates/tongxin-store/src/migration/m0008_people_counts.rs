//! Lists that answer from an index at any size: kept counts of people per unit subtree (the
//! directory's totals), and the pinyin index extended by id (`idx_people_name_order`) so it
//! serves the directory's order on PostgreSQL as SQLite's rowid already does; organizations by
//! name the same way.

use std::collections::BTreeMap;

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, Statement};
use tongxin_core::UnitPath;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("people_counts")
                    .col(big_integer("unit_id").primary_key())
                    .col(big_integer("active").default(0))
                    .col(big_integer("archived").default(0))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_people_counts_unit")
                            .from("people_counts", "unit_id")
                            .to("units", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        fill_counts(manager).await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_people_name_order")
                    .table("people")
                    .col("name_pinyin")
                    .col("id")
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_people_pinyin")
                    .table("people")
                    .to_owned(),
            )
            .await?;
        // Organizations by name, for a list of a large subtree.
        manager
            .create_index(
                Index::create()
                    .name("idx_organizations_name_order")
                    .table("organizations")
                    .col("name")
                    .col("id")
                    .to_owned(),
            )
            .await
    }
}

/// Counts the people already on record into every unit above them.
async fn fill_counts(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let conn = manager.get_connection();
    let backend = manager.get_database_backend();
    let rows = conn
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT unit_path, CASE WHEN archived_at IS NULL THEN 0 ELSE 1 END AS archived, \
             COUNT(*) AS n FROM people GROUP BY unit_path, \
             CASE WHEN archived_at IS NULL THEN 0 ELSE 1 END",
        ))
        .await?;
    let mut counts: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
    for row in rows {
        let path: String = row.try_get("", "unit_path")?;
        let archived: i32 = row.try_get("", "archived")?;
        let n: i64 = row.try_get("", "n")?;
        for id in UnitPath::from_stored(path).ids() {
            let entry = counts.entry(id).or_default();
            if archived == 0 {
                entry.0 += n;
            } else {
                entry.1 += n;
            }
        }
    }
    for chunk in counts.into_iter().collect::<Vec<_>>().chunks(500) {
        let mut insert = Query::insert();
        insert
            .into_table("people_counts")
            .columns(["unit_id", "active", "archived"]);
        for (unit_id, (active, archived)) in chunk {
            insert
                .values([(*unit_id).into(), (*active).into(), (*archived).into()])
                .map_err(|e| DbErr::Custom(e.to_string()))?;
        }
        manager.exec_stmt(insert.to_owned()).await?;
    }
    Ok(())
}
