//! Activity kinds: the shared list (study session, lecture, forum, ...) kept at the top.

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, PaginatorTrait, QueryFilter, QueryOrder,
};
use serde_json::json;
use tongxin_core::sector_field::parse_field_key;
use tongxin_core::{Field, Invalid, Reason, Timestamp, parse_name};

use crate::Store;
use crate::access::{self, Actor, Unguarded};
use crate::audit::{self, Event};
use crate::entity::activity_kind;
use crate::error::{Result, StoreError};

/// A kind of activity, as the network configures them.
#[derive(Debug, Clone)]
pub struct ActivityKindView {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub archived: bool,
}

impl Store {
    /// The activity kinds, in their configured order.
    pub async fn activity_kinds(
        &self,
        actor: &Actor,
        include_archived: bool,
    ) -> Result<Vec<ActivityKindView>> {
        actor.require_staff_area()?;
        let mut select = access::visible::<activity_kind::Entity>(actor);
        if !include_archived {
            select = select.filter(activity_kind::Column::ArchivedAt.is_null());
        }
        Ok(select
            .order_by_asc(activity_kind::Column::Position)
            .order_by_asc(activity_kind::Column::Id)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|k| ActivityKindView {
                id: k.id,
                code: k.code,
                name: k.name,
                archived: k.archived_at.is_some(),
            })
            .collect())
    }

    /// Adds an activity kind (administrators of a top unit).
    pub async fn create_activity_kind(
        &self,
        actor: &Actor,
        now: Timestamp,
        code: &str,
        name: &str,
    ) -> Result<ActivityKindView> {
        actor.require_top_admin()?;
        let code =
            parse_field_key(code).map_err(|e| Invalid::new(Field::Named("kind_code"), e.reason))?;
        let name = parse_name(Field::Named("kind_name"), name)?;
        let tx = self.begin_write().await?;
        let taken = access::unguarded::<activity_kind::Entity>(Unguarded::Reference)
            .filter(activity_kind::Column::Code.eq(&code))
            .count(&tx)
            .await?
            > 0;
        if taken {
            return Err(Invalid::new(Field::Named("kind_code"), Reason::Taken).into());
        }
        let position = access::unguarded::<activity_kind::Entity>(Unguarded::Reference)
            .count(&tx)
            .await?;
        let created = activity_kind::ActiveModel {
            code: Set(code),
            name: Set(name),
            position: Set(i32::try_from(position).unwrap_or(i32::MAX)),
            archived_at: Set(None),
            ..Default::default()
        }
        .insert(&tx)
        .await?;
        audit::append(
            &tx,
            &self.keys,
            now,
            actor,
            Event::new("activity_kind.create").target("activity_kind", created.id, &created.name),
        )
        .await?;
        tx.commit().await?;
        Ok(ActivityKindView {
            id: created.id,
            code: created.code,
            name: created.name,
            archived: false,
        })
    }

    /// Renames, archives or restores an activity kind; activities keep their kind.
    pub async fn change_activity_kind(
        &self,
        actor: &Actor,
        now: Timestamp,
        id: i64,
        name: &str,
        archived: bool,
    ) -> Result<()> {
        actor.require_top_admin()?;
        let name = parse_name(Field::Named("kind_name"), name)?;
        let tx = self.begin_write().await?;
        let current = access::unguarded_by_id::<activity_kind::Entity>(Unguarded::Reference, id)
            .one(&tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        activity_kind::ActiveModel {
            id: Set(id),
            name: Set(name.clone()),
            archived_at: Set(if archived {
                current.archived_at.or(Some(now.micros()))
            } else {
                None
            }),
            ..Default::default()
        }
        .update(&tx)
        .await?;
        audit::append(
            &tx,
            &self.keys,
            now,
            actor,
            Event::new("activity_kind.update")
                .target("activity_kind", id, &name)
                .detail(json!({ "name": [current.name, name], "archived": archived })),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
