//! The directory: sectors, people with their protected fields, sector memberships, tags,
//! change history and the bigram index for name search.

use sea_orm::DbBackend;
use sea_orm_migration::{prelude::*, schema::*};

use super::m0001_foundation::path_column;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn index(name: &str, table: &'static str, columns: &[&'static str]) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(table);
    for column in columns {
        index.col(*column);
    }
    index.to_owned()
}

/// A text column compared bytewise on both engines (pinyin keys sort and prefix-match).
fn ascii_key(backend: DbBackend, name: &'static str) -> ColumnDef {
    let mut col = text(name);
    if backend == DbBackend::Postgres {
        col.extra("COLLATE \"C\"");
    }
    col
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();

        manager
            .create_table(
                Table::create()
                    .table("sectors")
                    .col(big_pk_auto("id"))
                    .col(string_len_uniq("code", 32))
                    .col(string_len("name", 400))
                    .col(integer("position"))
                    .col(big_integer_null("archived_at"))
                    .col(big_integer("created_at"))
                    .col(big_integer("updated_at"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("people")
                    .col(big_pk_auto("id"))
                    .col(big_integer("unit_id"))
                    // The unit's path, kept in step on moves, so the scope is one range.
                    .col(path_column(backend, "unit_path", false))
                    .col(string_len("name", 400))
                    .col(ascii_key(backend, "name_pinyin"))
                    .col(ascii_key(backend, "name_initials"))
                    .col(string_len_null("gender", 8))
                    // YYYY-MM-DD, so text order is date order.
                    .col(string_len_null("birth_date", 10))
                    .col(text_null("education"))
                    .col(text_null("occupation"))
                    .col(text_null("title"))
                    .col(text_null("employer"))
                    .col(text_null("political_affiliation"))
                    .col(text_null("address"))
                    .col(text_null("notes"))
                    // Sensitive fields: sealed (SM4-GCM) and, where looked up, blind-indexed.
                    .col(text_null("id_number_sealed"))
                    .col(string_len_null("id_number_index", 64).unique_key())
                    .col(text_null("phone_sealed"))
                    .col(string_len_null("phone_index", 64))
                    .col(string_len_null("phone_tail_index", 64))
                    .col(text_null("ethnicity_sealed"))
                    .col(text_null("religion_sealed"))
                    .col(integer("version"))
                    .col(big_integer_null("archived_at"))
                    .col(big_integer("created_at"))
                    .col(big_integer("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_people_unit")
                            .from("people", "unit_id")
                            .to("units", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            ("idx_people_unit_path", &["unit_path", "name_pinyin"][..]),
            ("idx_people_unit", &["unit_id"][..]),
            ("idx_people_pinyin", &["name_pinyin"][..]),
            ("idx_people_initials", &["name_initials"][..]),
            ("idx_people_name", &["name"][..]),
            ("idx_people_phone", &["phone_index"][..]),
            ("idx_people_phone_tail", &["phone_tail_index"][..]),
        ] {
            manager.create_index(index(name, "people", columns)).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table("person_sectors")
                    .col(big_integer("person_id"))
                    .col(big_integer("sector_id"))
                    .col(text_null("role"))
                    .col(string_len_null("since", 10))
                    .primary_key(Index::create().col("person_id").col("sector_id"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_person_sectors_person")
                            .from("person_sectors", "person_id")
                            .to("people", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_person_sectors_sector")
                            .from("person_sectors", "sector_id")
                            .to("sectors", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_person_sectors_sector",
                "person_sectors",
                &["sector_id", "person_id"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("person_tags")
                    .col(big_integer("person_id"))
                    .col(string_len("tag", 200))
                    .primary_key(Index::create().col("person_id").col("tag"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_person_tags_person")
                            .from("person_tags", "person_id")
                            .to("people", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_person_tags_tag",
                "person_tags",
                &["tag", "person_id"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("name_grams")
                    .col(string_len("gram", 16))
                    .col(big_integer("person_id"))
                    .primary_key(Index::create().col("gram").col("person_id"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_name_grams_person")
                            .from("name_grams", "person_id")
                            .to("people", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        // Ethnicity and religion are collected only once an administrator enables them with a
        // recorded purpose (data minimisation); one row per optional sensitive field.
        manager
            .create_table(
                Table::create()
                    .table("sensitive_fields")
                    .col(string_len("field", 32).primary_key())
                    .col(text("purpose"))
                    .col(string_len("enabled_by", 64))
                    .col(big_integer("enabled_at"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("person_history")
                    .col(big_pk_auto("id"))
                    .col(big_integer("person_id"))
                    .col(integer("version"))
                    .col(big_integer("at"))
                    .col(string_len("actor_name", 64))
                    .col(string_len("field", 64))
                    .col(text_null("old_value"))
                    .col(text_null("new_value"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_person_history_person")
                            .from("person_history", "person_id")
                            .to("people", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_person_history_person",
                "person_history",
                &["person_id", "version"],
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "person_history",
            "sensitive_fields",
            "name_grams",
            "person_tags",
            "person_sectors",
            "people",
            "sectors",
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
