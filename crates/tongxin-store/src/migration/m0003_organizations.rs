//! Organizations (party committees, associations, chambers of commerce, enterprises, schools,
//! venues) and the affiliations that link people to them.

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
                    .table("organizations")
                    .col(big_pk_auto("id"))
                    .col(big_integer("unit_id"))
                    .col(path_column(backend, "unit_path", false))
                    .col(string_len("name", 400))
                    .col(string_len("kind", 32))
                    .col(big_integer_null("sector_id"))
                    .col(text_null("address"))
                    .col(double_null("latitude"))
                    .col(double_null("longitude"))
                    .col(boolean("is_venue"))
                    .col(big_integer_null("archived_at"))
                    .col(big_integer("created_at"))
                    .col(big_integer("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_organizations_unit")
                            .from("organizations", "unit_id")
                            .to("units", "id"),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_organizations_sector")
                            .from("organizations", "sector_id")
                            .to("sectors", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_organizations_unit_path")
                    .table("organizations")
                    .col("unit_path")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("affiliations")
                    .col(big_pk_auto("id"))
                    .col(big_integer("person_id"))
                    .col(big_integer("organization_id"))
                    .col(text_null("position"))
                    .col(string_len_null("since", 10))
                    .col(string_len_null("until", 10))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_affiliations_person")
                            .from("affiliations", "person_id")
                            .to("people", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_affiliations_organization")
                            .from("affiliations", "organization_id")
                            .to("organizations", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx_affiliations_person", "person_id"),
            ("idx_affiliations_organization", "organization_id"),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table("affiliations")
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["affiliations", "organizations"] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
