//! Uploaded files (activity photos, study materials), stored once per content and type.

use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, QueryFilter};
use sm3::{Digest, Sm3};
use tongxin_core::Timestamp;

use crate::Store;
use crate::access::{self, Unguarded};
use crate::entity::attachment;
use crate::error::Result;

impl Store {
    /// Stores a file once per content *and* checked media type, returning its id. The type is
    /// part of the key: bytes that are both a valid GIF and an HTML page, uploaded once as a
    /// material `.html` and once as a photo, must not make the photo answer as `text/html`.
    pub(crate) async fn store_attachment<C: ConnectionTrait>(
        &self,
        conn: &C,
        now: Timestamp,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<i64> {
        let digest = content_key(media_type, bytes);
        if let Some(existing) = access::unguarded::<attachment::Entity>(Unguarded::PartsOf)
            .filter(attachment::Column::Digest.eq(&digest))
            .one(conn)
            .await?
        {
            return Ok(existing.id);
        }
        Ok(attachment::ActiveModel {
            digest: Set(digest),
            media_type: Set(media_type.to_owned()),
            size: Set(i64::try_from(bytes.len()).unwrap_or(i64::MAX)),
            bytes: Set(bytes.to_vec()),
            created_at: Set(now.micros()),
            ..Default::default()
        }
        .insert(conn)
        .await?
        .id)
    }
}

/// SM3 of the media type, a separator and the bytes, in hex: the attachment's unique key.
fn content_key(media_type: &str, bytes: &[u8]) -> String {
    let mut hash = Sm3::new();
    hash.update(media_type.as_bytes());
    hash.update([0u8]);
    hash.update(bytes);
    hex::encode(hash.finalize())
}
