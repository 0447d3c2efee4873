//! Second factor (TOTP) for accounts: the sealed secret (pending until its first code is
//! confirmed), when it was confirmed, the last time step accepted (a code is good once), and
//! the keyed hashes of the unused recovery codes.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Added one per statement: SQLite adds one column at a time.
const COLUMNS: [&str; 4] = [
    "totp_secret",
    "totp_enrolled_at",
    "totp_last_step",
    "recovery_codes",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in COLUMNS {
            let definition = match column {
                "totp_secret" | "recovery_codes" => text_null(column),
                _ => big_integer_null(column),
            };
            manager
                .alter_table(
                    Table::alter()
                        .table("users")
                        .add_column(definition)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in COLUMNS {
            manager
                .alter_table(Table::alter().table("users").drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
