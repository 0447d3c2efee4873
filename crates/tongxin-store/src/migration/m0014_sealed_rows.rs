//! Sealed values become bound to their row (the row id joins the associated data). Values
//! written before are sealed again when the store opens, which needs the key the migration
//! does not know; this table records that it was done, so later opens need not look.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("seal_state")
                    .col(small_integer("id").primary_key())
                    .col(boolean("rows_bound"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("seal_state").to_owned())
            .await
    }
}
