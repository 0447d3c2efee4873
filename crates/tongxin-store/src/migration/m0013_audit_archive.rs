//! Audit retention: rows past the retention period leave the database for a signed archive
//! file. The head keeps where the remaining chain starts (the last archived row and its hash),
//! under a MAC so that nobody without the key can pass a removal off as an archive.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds one at a time.
        let columns = [
            big_integer("archived_seq").default(0).take(),
            text_null("archived_hash"),
            text_null("archived_mac"),
        ];
        for column in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table("audit_head")
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in ["archived_seq", "archived_hash", "archived_mac"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("audit_head")
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
