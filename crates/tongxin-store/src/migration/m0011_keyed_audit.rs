//! The audit chain becomes keyed: the head says whether its hashes are HMAC-SM3 under the
//! audit key. Existing chains start unkeyed and are verified and keyed when the store opens
//! (the key is not the migration's to know).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("audit_head")
                    .add_column(boolean("keyed").default(false))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("audit_head")
                    .drop_column("keyed")
                    .to_owned(),
            )
            .await
    }
}
