//! Units, accounts, sessions and the audit chain.

use sea_orm::DbBackend;
use sea_orm_migration::{prelude::*, schema::*};

use crate::audit::GENESIS_HASH;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Column definition for a materialized path. PostgreSQL compares with the "C" collation so that
/// subtree range conditions are bytewise, exactly as on SQLite.
pub(super) fn path_column(backend: DbBackend, name: &'static str, nullable: bool) -> ColumnDef {
    let mut col = if nullable {
        text_null(name)
    } else {
        text(name)
    };
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
                    .table("units")
                    .col(big_pk_auto("id"))
                    .col(big_integer_null("parent_id"))
                    .col(string_len_uniq("code", 32))
                    .col(string_len("name", 400))
                    .col(small_integer("level"))
                    .col(path_column(backend, "path", false).unique_key().take())
                    .col(big_integer_null("archived_at"))
                    .col(big_integer("created_at"))
                    .col(big_integer("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_units_parent")
                            .from("units", "parent_id")
                            .to("units", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_units_parent")
                    .table("units")
                    .col("parent_id")
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("users")
                    .col(big_pk_auto("id"))
                    .col(big_integer("unit_id"))
                    .col(string_len_uniq("username", 32))
                    .col(string_len("display_name", 400))
                    .col(string_len("role", 16))
                    .col(text("password_hash"))
                    .col(integer("failed_logins").default(0))
                    .col(big_integer_null("locked_until"))
                    .col(big_integer_null("disabled_at"))
                    .col(big_integer("created_at"))
                    .col(big_integer("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_users_unit")
                            .from("users", "unit_id")
                            .to("units", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_users_unit")
                    .table("users")
                    .col("unit_id")
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("sessions")
                    .col(string_len("id_hash", 64).primary_key())
                    .col(big_integer("user_id"))
                    .col(string_len("kind", 8))
                    .col(string_len("csrf_token", 64))
                    .col(big_integer("created_at"))
                    .col(big_integer("last_seen_at"))
                    .col(string_len_null("ip", 64))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_sessions_user")
                            .from("sessions", "user_id")
                            .to("users", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sessions_user")
                    .table("sessions")
                    .col("user_id")
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("audit_log")
                    .col(big_integer("seq").primary_key())
                    .col(big_integer("at"))
                    .col(big_integer_null("actor_id"))
                    .col(string_len("actor_name", 64))
                    .col(string_len("action", 64))
                    .col(string_len_null("target_kind", 32))
                    .col(big_integer_null("target_id"))
                    .col(text_null("target_label"))
                    .col(path_column(backend, "unit_path", true))
                    .col(string_len_null("ip", 64))
                    .col(text("detail"))
                    .col(string_len("prev_hash", 64))
                    .col(string_len("hash", 64))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_unit_path")
                    .table("audit_log")
                    .col("unit_path")
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("audit_head")
                    .col(small_integer("id").primary_key())
                    .col(big_integer("seq"))
                    .col(string_len("hash", 64))
                    .to_owned(),
            )
            .await?;
        let genesis = Query::insert()
            .into_table("audit_head")
            .columns(["id", "seq", "hash"])
            .values([1.into(), 0i64.into(), GENESIS_HASH.into()])
            .map_err(|e| DbErr::Migration(e.to_string()))?
            .to_owned();
        manager.exec_stmt(genesis).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["audit_head", "audit_log", "sessions", "users", "units"] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
