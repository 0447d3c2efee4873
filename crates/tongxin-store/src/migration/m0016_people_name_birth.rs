//! The likely duplicates of a record are people with the same name and birth date: the name
//! index gains the birth date, so a common name (a thousand people of one name in a city) is
//! one index range rather than a thousand row reads. Lookups by name alone use it as before.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("idx_people_name_birth")
                    .table("people")
                    .col("name")
                    .col("birth_date")
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_people_name")
                    .table("people")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("idx_people_name")
                    .table("people")
                    .col("name")
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_people_name_birth")
                    .table("people")
                    .to_owned(),
            )
            .await
    }
}
