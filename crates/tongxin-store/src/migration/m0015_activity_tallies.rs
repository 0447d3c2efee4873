//! Kept tallies of each activity's invitees by state, so that a list of activities no longer
//! counts invitations per request; filled from the invitations on record.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Fills the tallies from the invitations (also used after a bulk load outside the store).
pub(crate) const FILL_TALLIES: &str = "INSERT INTO activity_tallies \
     (activity_id, invited, confirmed, attended, absent, excused) \
     SELECT activity_id, \
     SUM(CASE WHEN status = 'invited' THEN 1 ELSE 0 END), \
     SUM(CASE WHEN status = 'confirmed' THEN 1 ELSE 0 END), \
     SUM(CASE WHEN status = 'attended' THEN 1 ELSE 0 END), \
     SUM(CASE WHEN status = 'absent' THEN 1 ELSE 0 END), \
     SUM(CASE WHEN status = 'excused' THEN 1 ELSE 0 END) \
     FROM invitations GROUP BY activity_id";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut table = Table::create();
        table
            .table("activity_tallies")
            .col(big_integer("activity_id").primary_key());
        for state in ["invited", "confirmed", "attended", "absent", "excused"] {
            table.col(big_integer(state).default(0));
        }
        table.foreign_key(
            ForeignKey::create()
                .name("fk_activity_tallies_activity")
                .from("activity_tallies", "activity_id")
                .to("activities", "id"),
        );
        manager.create_table(table.to_owned()).await?;
        manager
            .get_connection()
            .execute_unprepared(FILL_TALLIES)
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("activity_tallies").to_owned())
            .await
    }
}
