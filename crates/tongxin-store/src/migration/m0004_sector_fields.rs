//! A sector's own fields, and the values people hold in them (kept with the membership).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("sector_fields")
                    .col(big_pk_auto("id"))
                    .col(big_integer("sector_id"))
                    .col(string_len("key", 32))
                    .col(string_len("label", 200))
                    .col(string_len("kind", 16))
                    .col(boolean("required"))
                    // The choices of a choice field, as a JSON array of strings.
                    .col(text("choices"))
                    .col(integer("position"))
                    .col(big_integer_null("archived_at"))
                    .col(big_integer("created_at"))
                    .col(big_integer("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_sector_fields_sector")
                            .from("sector_fields", "sector_id")
                            .to("sectors", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sector_fields_key")
                    .table("sector_fields")
                    .col("sector_id")
                    .col("key")
                    .unique()
                    .to_owned(),
            )
            .await?;
        // The values, as a JSON object from field key to stored value.
        manager
            .alter_table(
                Table::alter()
                    .table("person_sectors")
                    .add_column(text_null("extra"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("person_sectors")
                    .drop_column("extra")
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table("sector_fields").to_owned())
            .await
    }
}
