//! Indexes that let two more lists read a page's worth of rows. The material library lists
//! newest first: an index in that order serves a large library without sorting it. A
//! campaign's unreached people are a shrinking share of its targets (2% once a city is nearly
//! covered): an index of only the unreached, in the list's order, reads fifty entries for a
//! page instead of walking the reached ones to find them.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("idx_materials_created_order")
                    .table("materials")
                    .col("created_at")
                    .col("id")
                    .to_owned(),
            )
            .await?;
        // A partial index, which the schema builder does not express; the same words on
        // both engines.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX idx_campaign_targets_unreached \
                 ON campaign_targets (campaign_id, unit_path, person_id) \
                 WHERE reached_at IS NULL",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_campaign_targets_unreached")
                    .table("campaign_targets")
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_materials_created_order")
                    .table("materials")
                    .to_owned(),
            )
            .await
    }
}
