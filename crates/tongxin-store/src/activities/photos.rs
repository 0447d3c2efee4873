//! Photos of an activity, with their bytes checked against their kind.

use std::collections::HashMap;

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::json;
use tongxin_core::Timestamp;

use crate::Store;
use crate::access::{self, Actor, Unguarded};
use crate::audit::{self, Event};
use crate::entity::{activity, activity_photo, attachment};
use crate::error::{Result, StoreError};

/// A photo of an activity.
#[derive(Debug, Clone)]
pub struct PhotoView {
    pub id: i64,
    pub file_name: String,
    pub size: i64,
}

impl Store {
    /// Adds a photo to an activity that took place.
    pub async fn add_activity_photo(
        &self,
        actor: &Actor,
        now: Timestamp,
        id: i64,
        file_name: &str,
        bytes: &[u8],
    ) -> Result<PhotoView> {
        actor.require_editor()?;
        let media_type = tongxin_core::files::photo_media_type(file_name, bytes)?;
        let tx = self.begin_write().await?;
        let activity = access::find::<activity::Entity, _>(&tx, actor, id).await?;
        let attachment_id = self.store_attachment(&tx, now, media_type, bytes).await?;
        let name: String = file_name.chars().take(200).collect();
        let photo = activity_photo::ActiveModel {
            activity_id: Set(id),
            attachment_id: Set(attachment_id),
            file_name: Set(name),
            created_at: Set(now.micros()),
            ..Default::default()
        }
        .insert(&tx)
        .await?;
        audit::append(
            &tx,
            &self.keys,
            now,
            actor,
            Event::new("activity.photo")
                .target("activity", id, &activity.title)
                .unit(&activity.unit_path)
                .detail(json!({ "file": photo.file_name })),
        )
        .await?;
        tx.commit().await?;
        Ok(PhotoView {
            id: photo.id,
            file_name: photo.file_name,
            size: i64::try_from(bytes.len()).unwrap_or(i64::MAX),
        })
    }

    /// The photos of an activity.
    pub async fn activity_photos(&self, actor: &Actor, id: i64) -> Result<Vec<PhotoView>> {
        actor.require_staff_area()?;
        access::find::<activity::Entity, _>(&self.db, actor, id).await?;
        let photos = access::unguarded::<activity_photo::Entity>(Unguarded::PartsOf)
            .filter(activity_photo::Column::ActivityId.eq(id))
            .order_by_asc(activity_photo::Column::Id)
            .all(&self.db)
            .await?;
        let sizes: HashMap<i64, i64> = access::unguarded::<attachment::Entity>(Unguarded::PartsOf)
            .select_only()
            .column(attachment::Column::Id)
            .column(attachment::Column::Size)
            .filter(attachment::Column::Id.is_in(photos.iter().map(|p| p.attachment_id)))
            .into_tuple()
            .all(&self.db)
            .await?
            .into_iter()
            .collect();
        Ok(photos
            .into_iter()
            .map(|p| PhotoView {
                id: p.id,
                size: sizes.get(&p.attachment_id).copied().unwrap_or(0),
                file_name: p.file_name,
            })
            .collect())
    }

    /// One photo's file name, media type and bytes.
    pub async fn activity_photo(
        &self,
        actor: &Actor,
        id: i64,
        photo_id: i64,
    ) -> Result<(String, String, Vec<u8>)> {
        actor.require_staff_area()?;
        access::find::<activity::Entity, _>(&self.db, actor, id).await?;
        let photo = access::unguarded_by_id::<activity_photo::Entity>(Unguarded::PartsOf, photo_id)
            .filter(activity_photo::Column::ActivityId.eq(id))
            .one(&self.db)
            .await?
            .ok_or(StoreError::NotFound)?;
        let file =
            access::unguarded_by_id::<attachment::Entity>(Unguarded::PartsOf, photo.attachment_id)
                .one(&self.db)
                .await?
                .ok_or(StoreError::NotFound)?;
        Ok((photo.file_name, file.media_type, file.bytes))
    }
}
