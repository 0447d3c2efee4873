//! Duties kept apart (三员分立): an account whose password another person set must change it
//! at first login, and the right to export protected fields in clear is given per account.
//! Also an index to count an account's own recent audited answers of one kind (the limit on
//! "ID number on record elsewhere"), and calendar feed tokens kept as their SM3 hash.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, Statement};
use sm3::{Digest, Sm3};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds one at a time.
        for column in ["must_change_password", "may_export_clear"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("users")
                        .add_column(boolean(column).default(false))
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_actor_action")
                    .table("audit_log")
                    .col("actor_id")
                    .col("action")
                    .col("at")
                    .to_owned(),
            )
            .await?;
        hash_calendar_tokens(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_audit_actor_action")
                    .table("audit_log")
                    .to_owned(),
            )
            .await?;
        for column in ["must_change_password", "may_export_clear"] {
            manager
                .alter_table(Table::alter().table("users").drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}

/// Replaces each calendar feed token by its SM3 hash; subscribed feeds keep working, since the
/// feed now looks tokens up by their hash.
async fn hash_calendar_tokens(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let backend = manager.get_database_backend();
    let rows = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT id, calendar_token FROM users WHERE calendar_token IS NOT NULL",
        ))
        .await?;
    for row in rows {
        let id: i64 = row.try_get_by_index(0)?;
        let token: String = row.try_get_by_index(1)?;
        let hashed = hex::encode(Sm3::digest(token.as_bytes()));
        let mut update = Query::update();
        update
            .table("users")
            .value("calendar_token", hashed)
            .and_where(Expr::col("id").eq(id));
        manager.exec_stmt(update.to_owned()).await?;
    }
    Ok(())
}
