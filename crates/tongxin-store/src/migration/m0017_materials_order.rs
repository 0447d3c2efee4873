//! The material library lists newest first: an index in that order lets a page of a large
//! library be read as a walk of a page's worth of rows instead of sorting every material of
//! the subtree.

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
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
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
