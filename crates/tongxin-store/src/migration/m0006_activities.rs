//! Activities and study campaigns: activity kinds, activities with invitations and attendance,
//! campaigns with their target population and coverage counters, study materials and the
//! content-addressed files behind materials and photos.

use sea_orm_migration::{prelude::*, schema::*};

use super::m0001_foundation::path_column;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A foreign key from `from` (table, column) to `to`'s `id`; later migrations use it too.
pub(super) fn fk(
    name: &str,
    from: (&'static str, &'static str),
    to: &'static str,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to, "id")
        .to_owned()
}

fn cascade(
    name: &str,
    from: (&'static str, &'static str),
    to: &'static str,
) -> ForeignKeyCreateStatement {
    fk(name, from, to)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

/// An index of `table` on `cols`; later migrations use it too.
pub(super) async fn index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: &'static str,
    cols: &[&'static str],
    unique: bool,
) -> Result<(), DbErr> {
    let mut index = Index::create();
    index.name(name).table(table);
    for col in cols {
        index.col(*col);
    }
    if unique {
        index.unique();
    }
    manager.create_index(index.to_owned()).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table("activity_kinds")
                    .col(big_pk_auto("id"))
                    .col(string_len_uniq("code", 32))
                    .col(string_len("name", 100))
                    .col(integer("position"))
                    .col(big_integer_null("archived_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("attachments")
                    .col(big_pk_auto("id"))
                    // Content-addressed by SM3: the same bytes are stored once.
                    .col(string_len_uniq("digest", 64))
                    .col(string_len("media_type", 100))
                    .col(big_integer("size"))
                    .col(blob("bytes"))
                    .col(big_integer("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("campaigns")
                    .col(big_pk_auto("id"))
                    .col(big_integer("unit_id"))
                    .col(path_column(backend, "unit_path", false))
                    .col(string_len("title", 200))
                    .col(string_len("starts_on", 10))
                    .col(string_len("ends_on", 10))
                    .col(text_null("description"))
                    // The target population: people of this subtree (and of the sectors and
                    // tags in the side tables, when there are any).
                    .col(big_integer("target_unit_id"))
                    .col(path_column(backend, "target_unit_path", false))
                    .col(big_integer_null("archived_at"))
                    .col(big_integer("created_at"))
                    .col(big_integer("updated_at"))
                    .foreign_key(&mut fk(
                        "fk_campaigns_unit",
                        ("campaigns", "unit_id"),
                        "units",
                    ))
                    .foreign_key(&mut fk(
                        "fk_campaigns_target_unit",
                        ("campaigns", "target_unit_id"),
                        "units",
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_campaigns_unit_path",
            "campaigns",
            &["unit_path"],
            false,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table("campaign_sectors")
                    .col(big_integer("campaign_id"))
                    .col(big_integer("sector_id"))
                    .primary_key(Index::create().col("campaign_id").col("sector_id"))
                    .foreign_key(&mut cascade(
                        "fk_campaign_sectors_campaign",
                        ("campaign_sectors", "campaign_id"),
                        "campaigns",
                    ))
                    .foreign_key(&mut fk(
                        "fk_campaign_sectors_sector",
                        ("campaign_sectors", "sector_id"),
                        "sectors",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("campaign_tags")
                    .col(big_integer("campaign_id"))
                    .col(string_len("tag", 50))
                    .primary_key(Index::create().col("campaign_id").col("tag"))
                    .foreign_key(&mut cascade(
                        "fk_campaign_tags_campaign",
                        ("campaign_tags", "campaign_id"),
                        "campaigns",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("activities")
                    .col(big_pk_auto("id"))
                    .col(big_integer("kind_id"))
                    .col(big_integer("unit_id"))
                    .col(path_column(backend, "unit_path", false))
                    .col(string_len("title", 200))
                    .col(big_integer("starts_at"))
                    .col(big_integer("ends_at"))
                    .col(big_integer_null("venue_id"))
                    .col(string_len_null("place", 200))
                    .col(big_integer_null("campaign_id"))
                    .col(text_null("agenda"))
                    .col(string_len("state", 16))
                    .col(text_null("cancel_reason"))
                    .col(text_null("minutes"))
                    .col(big_integer("created_at"))
                    .col(big_integer("updated_at"))
                    .foreign_key(&mut fk(
                        "fk_activities_kind",
                        ("activities", "kind_id"),
                        "activity_kinds",
                    ))
                    .foreign_key(&mut fk(
                        "fk_activities_unit",
                        ("activities", "unit_id"),
                        "units",
                    ))
                    .foreign_key(&mut fk(
                        "fk_activities_venue",
                        ("activities", "venue_id"),
                        "organizations",
                    ))
                    .foreign_key(&mut fk(
                        "fk_activities_campaign",
                        ("activities", "campaign_id"),
                        "campaigns",
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_activities_unit_path",
            "activities",
            &["unit_path", "starts_at"],
            false,
        )
        .await?;
        index(
            manager,
            "idx_activities_starts_at",
            "activities",
            &["starts_at"],
            false,
        )
        .await?;
        index(
            manager,
            "idx_activities_campaign",
            "activities",
            &["campaign_id"],
            false,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table("invitations")
                    .col(big_integer("activity_id"))
                    .col(big_integer("person_id"))
                    .col(string_len("status", 16))
                    .col(big_integer_null("checked_in_at"))
                    .col(big_integer("updated_at"))
                    .primary_key(Index::create().col("activity_id").col("person_id"))
                    .foreign_key(&mut cascade(
                        "fk_invitations_activity",
                        ("invitations", "activity_id"),
                        "activities",
                    ))
                    .foreign_key(&mut cascade(
                        "fk_invitations_person",
                        ("invitations", "person_id"),
                        "people",
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_invitations_person",
            "invitations",
            &["person_id", "status"],
            false,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table("activity_photos")
                    .col(big_pk_auto("id"))
                    .col(big_integer("activity_id"))
                    .col(big_integer("attachment_id"))
                    .col(string_len("file_name", 200))
                    .col(big_integer("created_at"))
                    .foreign_key(&mut cascade(
                        "fk_activity_photos_activity",
                        ("activity_photos", "activity_id"),
                        "activities",
                    ))
                    .foreign_key(&mut fk(
                        "fk_activity_photos_attachment",
                        ("activity_photos", "attachment_id"),
                        "attachments",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("materials")
                    .col(big_pk_auto("id"))
                    .col(big_integer("unit_id"))
                    .col(path_column(backend, "unit_path", false))
                    .col(string_len("title", 200))
                    .col(string_len("file_name", 200))
                    .col(string_len("kind", 8))
                    .col(big_integer("attachment_id"))
                    // The repaired text as written, and in Simplified Chinese for search.
                    .col(text("body"))
                    .col(text("body_simplified"))
                    .col(integer("repairs"))
                    .col(big_integer_null("archived_at"))
                    .col(big_integer("created_at"))
                    .foreign_key(&mut fk(
                        "fk_materials_unit",
                        ("materials", "unit_id"),
                        "units",
                    ))
                    .foreign_key(&mut fk(
                        "fk_materials_attachment",
                        ("materials", "attachment_id"),
                        "attachments",
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_materials_unit_path",
            "materials",
            &["unit_path"],
            false,
        )
        .await?;
        for (table, owner, owner_table) in [
            ("activity_materials", "activity_id", "activities"),
            ("campaign_materials", "campaign_id", "campaigns"),
        ] {
            manager
                .create_table(
                    Table::create()
                        .table(table)
                        .col(big_integer(owner))
                        .col(big_integer("material_id"))
                        .primary_key(Index::create().col(owner).col("material_id"))
                        .foreign_key(&mut cascade(
                            &format!("fk_{table}_owner"),
                            (table, owner),
                            owner_table,
                        ))
                        .foreign_key(&mut cascade(
                            &format!("fk_{table}_material"),
                            (table, "material_id"),
                            "materials",
                        ))
                        .to_owned(),
                )
                .await?;
        }
        // Who is in a campaign's target population now, where, and since when they were
        // reached; kept in step with people and attendance by the store.
        manager
            .create_table(
                Table::create()
                    .table("campaign_targets")
                    .col(big_integer("campaign_id"))
                    .col(big_integer("person_id"))
                    .col(big_integer("unit_id"))
                    .col(path_column(backend, "unit_path", false))
                    .col(big_integer("joined_at"))
                    .col(big_integer_null("reached_at"))
                    .primary_key(Index::create().col("campaign_id").col("person_id"))
                    .foreign_key(&mut cascade(
                        "fk_campaign_targets_campaign",
                        ("campaign_targets", "campaign_id"),
                        "campaigns",
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_campaign_targets_path",
            "campaign_targets",
            &["campaign_id", "unit_path"],
            false,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table("campaign_target_sectors")
                    .col(big_integer("campaign_id"))
                    .col(big_integer("person_id"))
                    .col(big_integer("sector_id"))
                    .primary_key(
                        Index::create()
                            .col("campaign_id")
                            .col("person_id")
                            .col("sector_id"),
                    )
                    .foreign_key(&mut cascade(
                        "fk_campaign_target_sectors_campaign",
                        ("campaign_target_sectors", "campaign_id"),
                        "campaigns",
                    ))
                    .to_owned(),
            )
            .await?;
        // Coverage counters per campaign, unit and sector (sector 0: everyone, once).
        manager
            .create_table(
                Table::create()
                    .table("campaign_counts")
                    .col(big_integer("campaign_id"))
                    .col(big_integer("unit_id"))
                    .col(big_integer("sector_id"))
                    .col(big_integer("targeted"))
                    .col(big_integer("reached"))
                    .primary_key(
                        Index::create()
                            .col("campaign_id")
                            .col("unit_id")
                            .col("sector_id"),
                    )
                    .foreign_key(&mut cascade(
                        "fk_campaign_counts_campaign",
                        ("campaign_counts", "campaign_id"),
                        "campaigns",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("users")
                    .add_column(string_len_null("calendar_token", 64))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_users_calendar_token",
            "users",
            &["calendar_token"],
            true,
        )
        .await?;
        Ok(())
    }
}
