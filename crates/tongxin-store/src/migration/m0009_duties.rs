//! Duties kept apart (三员分立): an account whose password another person set must change it
//! at first login, and the right to export protected fields in clear is given per account.
//! Also an index to count an account's own recent audited answers of one kind (the limit on
//! "ID number on record elsewhere").

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

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
        Ok(())
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
