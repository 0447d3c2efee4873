//! Sectors (界别): the groups of the directory. Administrators of a top unit keep the list,
//! since it is shared by the whole tree; everyone in the staff areas reads it.

use sea_orm::sea_query::Expr;
use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde_json::json;
use tongxin_core::{Field, FieldKind, Invalid, Reason, SectorCode, Timestamp};

use crate::Store;
use crate::access::{self, Actor, Unguarded};
use crate::audit::{self, Event};
use crate::entity::{person_sector, sector, sector_field};
use crate::error::{Result, StoreError};

/// A person's membership of a sector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub sector_id: i64,
    pub role: Option<String>,
    pub since: Option<NaiveDate>,
    /// Raw values of the sector's own fields, by field key; checked by the store against the
    /// fields' definitions.
    pub values: BTreeMap<String, String>,
}

/// A sector as shown to callers.
#[derive(Debug, Clone)]
pub struct SectorView {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub position: i32,
    pub archived: bool,
    /// The sector's own fields in display order, archived ones included.
    pub fields: Vec<SectorFieldView>,
}

impl SectorView {
    fn new(m: sector::Model, fields: Vec<SectorFieldView>) -> Self {
        SectorView {
            id: m.id,
            code: m.code,
            name: m.name,
            position: m.position,
            archived: m.archived_at.is_some(),
            fields,
        }
    }

    /// The fields that take values now.
    pub fn active_fields(&self) -> impl Iterator<Item = &SectorFieldView> {
        self.fields.iter().filter(|f| !f.archived)
    }
}

/// One of a sector's own fields.
#[derive(Debug, Clone)]
pub struct SectorFieldView {
    pub id: i64,
    pub sector_id: i64,
    pub key: String,
    pub label: String,
    pub kind: FieldKind,
    pub required: bool,
    pub choices: Vec<String>,
    pub archived: bool,
}

impl SectorFieldView {
    pub(crate) fn from_model(m: sector_field::Model) -> Self {
        SectorFieldView {
            id: m.id,
            sector_id: m.sector_id,
            kind: FieldKind::parse(&m.kind).unwrap_or(FieldKind::Text),
            choices: serde_json::from_str(&m.choices).unwrap_or_default(),
            key: m.key,
            label: m.label,
            required: m.required,
            archived: m.archived_at.is_some(),
        }
    }

    /// Checks a value for this field; see [`tongxin_core::sector_field::parse_field_value`].
    pub fn parse_value(&self, raw: &str) -> std::result::Result<Option<String>, Invalid> {
        tongxin_core::sector_field::parse_field_value(self.kind, &self.choices, &self.label, raw)
    }
}

/// A sector field as defined by an administrator, already checked.
#[derive(Debug, Clone)]
pub struct SectorFieldInput {
    pub label: String,
    pub required: bool,
    pub choices: Vec<String>,
}

impl Store {
    /// All sectors in display order; archived ones only if asked.
    pub async fn sectors(&self, actor: &Actor, include_archived: bool) -> Result<Vec<SectorView>> {
        actor.require_staff_area()?;
        let mut select = access::visible::<sector::Entity>(actor);
        if !include_archived {
            select = select.filter(sector::Column::ArchivedAt.is_null());
        }
        let sectors = select
            .order_by_asc(sector::Column::Position)
            .order_by_asc(sector::Column::Id)
            .all(&self.db)
            .await?;
        let mut fields = sector_fields_of(&self.db, sectors.iter().map(|s| s.id)).await?;
        Ok(sectors
            .into_iter()
            .map(|s| {
                let own = fields.remove(&s.id).unwrap_or_default();
                SectorView::new(s, own)
            })
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
        actor.require_top_admin()?;
        let tx = self.begin_write().await?;
        let taken = access::unguarded::<sector::Entity>(Unguarded::Reference)
            .filter(sector::Column::Code.eq(code.as_str()))
            .count(&tx)
            .await?
            > 0;
        if taken {
            return Err(Invalid::new(Field::SectorCode, Reason::Taken).into());
        }
        let last: Option<i32> = access::unguarded::<sector::Entity>(Unguarded::Reference)
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
            &self.keys,
            now,
            actor,
            Event::new("sector.create")
                .target("sector", created.id, &created.name)
                .unit(actor.unit_path().as_str())
                .detail(json!({ "code": created.code })),
        )
        .await?;
        tx.commit().await?;
        Ok(SectorView::new(created, Vec::new()))
    }

    /// Renames, archives or restores a sector, or moves it one place up the list.
    pub async fn change_sector(
        &self,
        actor: &Actor,
        now: Timestamp,
        id: i64,
        change: SectorChange,
    ) -> Result<SectorView> {
        actor.require_top_admin()?;
        let tx = self.begin_write().await?;
        let current = access::unguarded_by_id::<sector::Entity>(Unguarded::Reference, id)
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
                let above = access::unguarded::<sector::Entity>(Unguarded::Reference)
                    .filter(sector::Column::Position.lt(current.position))
                    .order_by_desc(sector::Column::Position)
                    .one(&tx)
                    .await?;
                if let Some(above) = above {
                    access::update_rows::<sector::Entity>(Unguarded::Reference)
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
            &self.keys,
            now,
            actor,
            Event::new(action)
                .target("sector", id, &current.name)
                .unit(actor.unit_path().as_str())
                .detail(detail),
        )
        .await?;
        let mut fields = sector_fields_of(&tx, [id]).await?;
        tx.commit().await?;
        Ok(SectorView::new(
            updated,
            fields.remove(&id).unwrap_or_default(),
        ))
    }

    /// Adds a field at the end of a sector's own fields. The key is fixed for good: values are
    /// stored under it, while the label may change.
    pub async fn create_sector_field(
        &self,
        actor: &Actor,
        now: Timestamp,
        sector_id: i64,
        key: &str,
        kind: FieldKind,
        input: SectorFieldInput,
    ) -> Result<SectorFieldView> {
        actor.require_top_admin()?;
        let tx = self.begin_write().await?;
        let sector = access::unguarded_by_id::<sector::Entity>(Unguarded::Reference, sector_id)
            .one(&tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let siblings = access::unguarded::<sector_field::Entity>(Unguarded::Reference)
            .filter(sector_field::Column::SectorId.eq(sector_id))
            .all(&tx)
            .await?;
        if siblings.iter().any(|f| f.key == key) {
            return Err(Invalid::new(Field::Named("field_key"), Reason::Taken).into());
        }
        let position = siblings.iter().map(|f| f.position).max().unwrap_or(0) + 1;
        let created = sector_field::ActiveModel {
            sector_id: Set(sector_id),
            key: Set(key.to_owned()),
            label: Set(input.label.clone()),
            kind: Set(kind.key().to_owned()),
            required: Set(input.required),
            choices: Set(json!(input.choices).to_string()),
            position: Set(position),
            archived_at: Set(None),
            created_at: Set(now.micros()),
            updated_at: Set(now.micros()),
            ..Default::default()
        }
        .insert(&tx)
        .await?;
        audit::append(
            &tx,
            &self.keys,
            now,
            actor,
            Event::new("sector.field.create")
                .target("sector", sector_id, &sector.name)
                .unit(actor.unit_path().as_str())
                .detail(json!({
                    "key": key, "label": input.label, "kind": kind.key(),
                    "required": input.required, "choices": input.choices,
                })),
        )
        .await?;
        tx.commit().await?;
        Ok(SectorFieldView::from_model(created))
    }

    /// Changes a field's label, whether it is required and its choices; archives or restores
    /// it. Values already recorded stay as they are (and in history). A field of another
    /// sector is not found.
    pub async fn change_sector_field(
        &self,
        actor: &Actor,
        now: Timestamp,
        (sector_id, field_id): (i64, i64),
        change: SectorFieldChange,
    ) -> Result<SectorFieldView> {
        actor.require_top_admin()?;
        let tx = self.begin_write().await?;
        let current =
            access::unguarded_by_id::<sector_field::Entity>(Unguarded::Reference, field_id)
                .filter(sector_field::Column::SectorId.eq(sector_id))
                .one(&tx)
                .await?
                .ok_or(StoreError::NotFound)?;
        let mut update = sector_field::ActiveModel {
            id: Set(field_id),
            updated_at: Set(now.micros()),
            ..Default::default()
        };
        let (action, detail) = match change {
            SectorFieldChange::Define(input) => {
                let kind = FieldKind::parse(&current.kind).unwrap_or(FieldKind::Text);
                if kind.has_choices() && input.choices.is_empty() {
                    return Err(
                        Invalid::new(Field::Named("field_choices"), Reason::Required).into(),
                    );
                }
                update.label = Set(input.label.clone());
                update.required = Set(input.required);
                if kind.has_choices() {
                    update.choices = Set(json!(input.choices).to_string());
                }
                (
                    "sector.field.change",
                    json!({
                        "label": [current.label, input.label],
                        "required": [current.required, input.required],
                        "choices": input.choices,
                    }),
                )
            }
            SectorFieldChange::Archive => {
                update.archived_at = Set(Some(now.micros()));
                ("sector.field.archive", json!({}))
            }
            SectorFieldChange::Restore => {
                update.archived_at = Set(None);
                ("sector.field.restore", json!({}))
            }
        };
        let updated = update.update(&tx).await?;
        audit::append(
            &tx,
            &self.keys,
            now,
            actor,
            Event::new(action)
                .target("sector", current.sector_id, &current.key)
                .unit(actor.unit_path().as_str())
                .detail(detail),
        )
        .await?;
        tx.commit().await?;
        Ok(SectorFieldView::from_model(updated))
    }
}

/// The names of the given sectors, by id.
pub(crate) async fn sector_names<C: ConnectionTrait>(
    conn: &C,
    sector_ids: impl IntoIterator<Item = i64>,
) -> Result<HashMap<i64, String>> {
    Ok(access::unguarded::<sector::Entity>(Unguarded::Reference)
        .filter(sector::Column::Id.is_in(sector_ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect())
}

/// The fields of the given sectors, by sector, in display order.
pub(crate) async fn sector_fields_of<C: ConnectionTrait>(
    conn: &C,
    sector_ids: impl IntoIterator<Item = i64>,
) -> Result<HashMap<i64, Vec<SectorFieldView>>> {
    let mut by_sector: HashMap<i64, Vec<SectorFieldView>> = HashMap::new();
    for field in access::unguarded::<sector_field::Entity>(Unguarded::Reference)
        .filter(sector_field::Column::SectorId.is_in(sector_ids))
        .order_by_asc(sector_field::Column::Position)
        .order_by_asc(sector_field::Column::Id)
        .all(conn)
        .await?
    {
        by_sector
            .entry(field.sector_id)
            .or_default()
            .push(SectorFieldView::from_model(field));
    }
    Ok(by_sector)
}

/// Checks the sector-field values of a person's memberships against the sectors' fields and
/// returns, per membership (first of each sector, in order), the values to store as a JSON
/// object. Values of archived fields are read-only: whatever `memberships` says, they are
/// carried over from `previous` (the person's stored memberships), so archiving loses nothing.
pub(crate) async fn check_membership_values<C: ConnectionTrait>(
    conn: &C,
    memberships: &[&Membership],
    previous: &[person_sector::Model],
) -> Result<Vec<Option<String>>> {
    let ids: Vec<i64> = memberships.iter().map(|m| m.sector_id).collect();
    let fields = sector_fields_of(conn, ids.iter().copied()).await?;
    let names: HashMap<i64, String> = if fields.is_empty() {
        HashMap::new()
    } else {
        sector_names(conn, ids.iter().copied()).await?
    };
    membership_values(memberships, &fields, &names, previous).map_err(StoreError::from)
}

/// [`check_membership_values`] with the sectors' fields and names at hand.
pub(crate) fn membership_values(
    memberships: &[&Membership],
    fields: &HashMap<i64, Vec<SectorFieldView>>,
    names: &HashMap<i64, String>,
    previous: &[person_sector::Model],
) -> std::result::Result<Vec<Option<String>>, Invalid> {
    let mut stored = Vec::with_capacity(memberships.len());
    for membership in memberships {
        let own = fields
            .get(&membership.sector_id)
            .map_or(&[][..], Vec::as_slice);
        let sector_name = names.get(&membership.sector_id).map_or("", String::as_str);
        let label = |field: &SectorFieldView| format!("{sector_name}·{}", field.label);
        if let Some(unknown) = membership
            .values
            .keys()
            .find(|key| !own.iter().any(|f| &f.key == *key))
        {
            return Err(Invalid::labelled(
                Field::Named("sector_field"),
                Reason::NotFound,
                &format!("{sector_name}·{unknown}"),
            ));
        }
        let before: serde_json::Map<String, serde_json::Value> = previous
            .iter()
            .find(|p| p.sector_id == membership.sector_id)
            .and_then(|p| p.extra.as_deref())
            .and_then(|e| serde_json::from_str(e).ok())
            .unwrap_or_default();
        let mut values = serde_json::Map::new();
        for field in own {
            let value = if field.archived {
                before.get(&field.key).cloned()
            } else {
                let raw = membership.values.get(&field.key).map_or("", String::as_str);
                match field.parse_value(raw) {
                    Ok(Some(value)) => Some(serde_json::Value::String(value)),
                    Ok(None) if field.required => {
                        return Err(Invalid::labelled(
                            Field::Named("sector_field"),
                            Reason::Required,
                            &label(field),
                        ));
                    }
                    Ok(None) => None,
                    Err(invalid) => {
                        return Err(Invalid {
                            label: Some(label(field)),
                            ..invalid
                        });
                    }
                }
            };
            if let Some(value) = value {
                values.insert(field.key.clone(), value);
            }
        }
        stored.push((!values.is_empty()).then(|| serde_json::Value::Object(values).to_string()));
    }
    Ok(stored)
}

/// A membership's stored values, labelled and in the sector's field order.
pub(crate) fn labelled_values(
    extra: Option<&str>,
    fields: &[SectorFieldView],
) -> Vec<MembershipValue> {
    let values: serde_json::Map<String, serde_json::Value> = extra
        .and_then(|e| serde_json::from_str(e).ok())
        .unwrap_or_default();
    fields
        .iter()
        .filter_map(|field| {
            let value = values.get(&field.key)?.as_str()?;
            Some(MembershipValue {
                key: field.key.clone(),
                label: field.label.clone(),
                value: value.to_owned(),
            })
        })
        .collect()
}

/// A value a person holds in one of a sector's own fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembershipValue {
    pub key: String,
    pub label: String,
    pub value: String,
}

/// A change to a sector field.
#[derive(Debug, Clone)]
pub enum SectorFieldChange {
    Define(SectorFieldInput),
    Archive,
    Restore,
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
