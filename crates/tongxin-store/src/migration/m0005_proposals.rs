//! Self-declared updates: member accounts linked to their person record, the changes members
//! propose, and who proposed an approved change in the person's history.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("users")
                    .add_column(big_integer_null("person_id"))
                    .to_owned(),
            )
            .await?;
        // One account per person, one person per account.
        manager
            .create_index(
                Index::create()
                    .name("idx_users_person")
                    .table("users")
                    .col("person_id")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("person_proposals")
                    .col(big_pk_auto("id"))
                    .col(big_integer("person_id"))
                    .col(big_integer("proposed_by"))
                    .col(string_len("proposer_name", 100))
                    .col(string_len("field", 32))
                    // The value when proposed and the value proposed; a phone number is sealed.
                    .col(text_null("old_value"))
                    .col(text_null("new_value"))
                    .col(string_len("status", 16))
                    .col(big_integer("created_at"))
                    .col(string_len_null("decided_by", 100))
                    .col(big_integer_null("decided_at"))
                    .col(text_null("reason"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_person_proposals_person")
                            .from("person_proposals", "person_id")
                            .to("people", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_person_proposals_user")
                            .from("person_proposals", "proposed_by")
                            .to("users", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx_person_proposals_person", "person_id"),
            ("idx_person_proposals_status", "status"),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table("person_proposals")
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table("person_history")
                    .add_column(string_len_null("proposed_by", 100))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("person_history")
                    .drop_column("proposed_by")
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table("person_proposals").to_owned())
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_users_person")
                    .table("users")
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("users")
                    .drop_column("person_id")
                    .to_owned(),
            )
            .await
    }
}
