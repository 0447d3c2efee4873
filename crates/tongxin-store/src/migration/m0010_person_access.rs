//! Who read a person's record: an append-only log per person of views, reveals and exports,
//! kept apart from the audit chain so that reading a record does not wait for the chain's head.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("person_access")
                    .col(big_pk_auto("id"))
                    // No foreign keys: like the audit log, this is history, kept as written.
                    .col(big_integer("person_id"))
                    .col(big_integer("at"))
                    .col(string_len("kind", 20))
                    .col(big_integer_null("account_id"))
                    .col(string_len("account_name", 100))
                    .col(string_len("display_name", 100))
                    .col(string_len("unit_name", 200))
                    .col(text_null("detail"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_person_access_person_at")
                    .table("person_access")
                    .col("person_id")
                    .col("at")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("person_access").to_owned())
            .await
    }
}
