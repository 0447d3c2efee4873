//! Sectors (界别): the groups of the directory. Administrators of a top unit keep the list,
//! since it is shared by the whole tree; everyone in the staff areas reads it.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde_json::json;
use tongxin_core::{Field, Invalid, Reason, SectorCode, Timestamp};

use crate::Store;
use crate::audit::{self, Event};
use crate::entity::sector;
use crate::error::{Result, StoreError};
use crate::scope::Actor;

/// A sector as shown to callers.
#[derive(Debug, Clone)]
pub struct SectorView {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub position: i32,
    pub archived: bool,
}

impl From<sector::Model> for SectorView {
    fn from(m: sector::Model) -> Self {
        SectorView {
            id: m.id,
            code: m.code,
            name: m.name,
            position: m.position,
            archived: m.archived_at.is_some(),
        }
    }
}

/// Only administrators of a top unit (or the system) change the shared sector list.
fn require_top_admin(actor: &Actor) -> Result<()> {
    actor.require_admin()?;
    if !actor.at_top() {
        return Err(StoreError::Forbidden);
    }
    Ok(())
}

impl Store {
    /// All sectors in display order; archived ones only if asked.
    pub async fn sectors(&self, actor: &Actor, include_archived: bool) -> Result<Vec<SectorView>> {
        actor.require_staff_area()?;
        let mut select = sector::Entity::find();
        if !include_archived {
            select = select.filter(sector::Column::ArchivedAt.is_null());
        }
        Ok(select
            .order_by_asc(sector::Column::Position)
            .order_by_asc(sector::Column::Id)
            .all(&self.db)
            .await?
            .into_iter()
            .map(SectorView::from)
            .collect())
    }

    /// Adds a sector at the end of the list. Codes follow the rules of unit codes.
    pub async fn create_sector(
        &self,
        actor: &Actor,
        now: Timestamp,
        code: &SectorCode,
        name: &str,
    ) -> Result<SectorView> {
        require_top_admin(actor)?;
        let tx = self.begin_write().await?;
        let taken = sector::Entity::find()
            .filter(sector::Column::Code.eq(code.as_str()))
            .count(&tx)
            .await?
            > 0;
        if taken {
            return Err(Invalid::new(Field::SectorCode, Reason::Taken).into());
        }
        let last: Option<i32> = sector::Entity::find()
            .select_only()
            .column_as(sector::Column::Position.max(), "max")
            .into_tuple::<Option<i32>>()
            .one(&tx)
            .await?
            .flatten();
        let created = sector::ActiveModel {
            code: Set(code.as_str().to_owned()),
            name: Set(name.to_owned()),
            position: Set(last.unwrap_or(0) + 1),
            archived_at: Set(None),
            created_at: Set(now.micros()),
            updated_at: Set(now.micros()),
            ..Default::default()
        }
        .insert(&tx)
        .await?;
        audit::append(
            &tx,
            now,
            actor,
            Event::new("sector.create")
                .target("sector", created.id, &created.name)
                .unit(actor.unit_path().as_str())
                .detail(json!({ "code": created.code })),
        )
        .await?;
        tx.commit().await?;
        Ok(created.into())
    }

    /// Renames, archives or restores a sector, or moves it one place up the list.
    pub async fn change_sector(
        &self,
        actor: &Actor,
        now: Timestamp,
        id: i64,
        change: SectorChange,
    ) -> Result<SectorView> {
        require_top_admin(actor)?;
        let tx = self.begin_write().await?;
        let current = sector::Entity::find_by_id(id)
            .one(&tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let mut update = sector::ActiveModel {
            id: Set(id),
            updated_at: Set(now.micros()),
            ..Default::default()
        };
        let (action, detail) = match &change {
            SectorChange::Rename(name) => {
                update.name = Set(name.clone());
                ("sector.rename", json!({ "name": [current.name, name] }))
            }
            SectorChange::Archive => {
                update.archived_at = Set(Some(now.micros()));
                ("sector.archive", json!({}))
            }
            SectorChange::Restore => {
                update.archived_at = Set(None);
                ("sector.restore", json!({}))
            }
            SectorChange::MoveUp => {
                // Swap places with the sector just above, if any.
                let above = sector::Entity::find()
                    .filter(sector::Column::Position.lt(current.position))
                    .order_by_desc(sector::Column::Position)
                    .one(&tx)
                    .await?;
                if let Some(above) = above {
                    sector::Entity::update_many()
                        .col_expr(sector::Column::Position, Expr::value(current.position))
                        .filter(sector::Column::Id.eq(above.id))
                        .exec(&tx)
                        .await?;
                    update.position = Set(above.position);
                }
                ("sector.reorder", json!({}))
            }
        };
        let updated = update.update(&tx).await?;
        audit::append(
            &tx,
            now,
            actor,
            Event::new(action)
                .target("sector", id, &current.name)
                .unit(actor.unit_path().as_str())
                .detail(detail),
        )
        .await?;
        tx.commit().await?;
        Ok(updated.into())
    }
}

/// A change to a sector.
#[derive(Debug, Clone)]
pub enum SectorChange {
    /// A name already checked with `tongxin_core::parse_name`.
    Rename(String),
    Archive,
    Restore,
    MoveUp,
}
