//! Saved invitation filters: a named unit subtree × sector × tags, kept by a unit to invite the
//! same people again.

use sea_orm_migration::{prelude::*, schema::*};

use super::m0001_foundation::path_column;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table("saved_filters")
                    .col(big_pk_auto("id"))
                    .col(string_len("name", 100))
                    .col(big_integer("unit_id"))
                    .col(path_column(backend, "unit_path", false))
                    .col(big_integer_null("sector_id"))
                    // JSON array of tags; any of them matches.
                    .col(text("tags"))
                    .col(big_integer("created_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_saved_filters_unit")
                            .from("saved_filters", "unit_id")
                            .to("units", "id"),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_saved_filters_sector")
                            .from("saved_filters", "sector_id")
                            .to("sectors", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_saved_filters_unit_path")
                    .table("saved_filters")
                    .col("unit_path")
                    .to_owned(),
            )
            .await
    }
}
