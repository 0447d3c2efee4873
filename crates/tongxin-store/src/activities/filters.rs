//! Saved invitation filters: a unit keeps a named "unit subtree × sector × tags" to invite the
//! same people to activity after activity. A filter is filed under the unit whose subtree it
//! selects, so it is shared by the staff of every unit above.

use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, QueryFilter, QueryOrder};
use serde_json::json;
use tongxin_core::{Field, Invalid, Reason, Timestamp, parse_name};

use crate::Store;
use crate::access::{self, Actor, Unguarded, filing_unit};
use crate::audit::{self, Event};
use crate::entity::{saved_filter, sector};
use crate::error::{Result, StoreError};
use crate::units::unit_names;

/// A saved filter as listed.
#[derive(Debug, Clone)]
pub struct SavedFilter {
    pub id: i64,
    pub name: String,
    pub unit: (i64, String),
    pub sector: Option<(i64, String)>,
    pub tags: Vec<String>,
    /// Its stored tags cannot be read: it is listed so it can be deleted, and refused if used.
    pub damaged: bool,
}

impl Store {
    /// The saved filters of the actor's subtree, by name.
    pub async fn saved_filters(&self, actor: &Actor) -> Result<Vec<SavedFilter>> {
        actor.require_staff_area()?;
        let rows = access::visible::<saved_filter::Entity>(actor)
            .order_by_asc(saved_filter::Column::Name)
            .all(&self.db)
            .await?;
        let units = unit_names(&self.db, rows.iter().map(|r| r.unit_id)).await?;
        let sectors = crate::directory::sectors::sector_names(
            &self.db,
            rows.iter().filter_map(|r| r.sector_id),
        )
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let tags = saved_filter_tags(&r);
                SavedFilter {
                    unit: (
                        r.unit_id,
                        units.get(&r.unit_id).cloned().unwrap_or_default(),
                    ),
                    sector: r
                        .sector_id
                        .map(|id| (id, sectors.get(&id).cloned().unwrap_or_default())),
                    damaged: tags.is_err(),
                    tags: tags.unwrap_or_default(),
                    id: r.id,
                    name: r.name,
                }
            })
            .collect())
    }

    /// Saves a filter of a unit of the actor's subtree.
    pub async fn save_filter(
        &self,
        actor: &Actor,
        now: Timestamp,
        name: &str,
        unit_id: i64,
        sector_id: Option<i64>,
        tags: &[String],
    ) -> Result<SavedFilter> {
        actor.require_editor()?;
        let name = parse_name(Field::Named("filter_name"), name)?;
        let tx = self.begin_write().await?;
        let unit = filing_unit(&tx, actor, unit_id, Field::Unit).await?;
        if let Some(id) = sector_id
            && access::unguarded_by_id::<sector::Entity>(Unguarded::Reference, id)
                .one(&tx)
                .await?
                .is_none()
        {
            return Err(Invalid::new(Field::Sector, Reason::NotFound).into());
        }
        let created = saved_filter::ActiveModel {
            name: Set(name),
            unit_id: Set(unit.id),
            unit_path: Set(unit.path.clone()),
            sector_id: Set(sector_id),
            tags: Set(json!(tags).to_string()),
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
            Event::new("filter.create")
                .target("saved_filter", created.id, &created.name)
                .unit(&created.unit_path),
        )
        .await?;
        tx.commit().await?;
        self.saved_filters(actor)
            .await?
            .into_iter()
            .find(|f| f.id == created.id)
            .ok_or(StoreError::NotFound)
    }

    /// Deletes a saved filter of the actor's subtree.
    pub async fn delete_filter(&self, actor: &Actor, now: Timestamp, id: i64) -> Result<()> {
        actor.require_editor()?;
        let tx = self.begin_write().await?;
        let filter = access::find::<saved_filter::Entity, _>(&tx, actor, id).await?;
        access::delete_rows::<saved_filter::Entity>(Unguarded::PartsOf)
            .filter(saved_filter::Column::Id.eq(id))
            .exec(&tx)
            .await?;
        audit::append(
            &tx,
            &self.keys,
            now,
            actor,
            Event::new("filter.delete")
                .target("saved_filter", id, &filter.name)
                .unit(&filter.unit_path),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The tags a saved filter keeps; a filter whose tags cannot be read is refused rather than
/// taken for "everyone in the unit".
pub(crate) fn saved_filter_tags(saved: &saved_filter::Model) -> Result<Vec<String>> {
    serde_json::from_str(&saved.tags)
        .map_err(|_| Invalid::new(Field::Named("saved_filter"), Reason::Damaged).into())
}
