//! Reading the directory out for export, a batch at a time, so a million rows never sit in
//! memory at once. Every export is audited with its filter and row count. Protected fields
//! leave masked; in clear only as a deliberate act with a stated purpose, by an account the
//! security administrator gave that right.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::json;
use tongxin_core::{Field, Gender, Invalid, Reason, Timestamp, mask_id_number, mask_phone};

use crate::Store;
use crate::access::{self, Actor, Unguarded};
use crate::audit::{self, Event};
use crate::directory::access_log::{self, AccessKind};
use crate::directory::people::{PeopleQuery, SensitiveField};
use crate::entity::{person, person_sector, person_tag, sector, unit};
use crate::error::{Result, StoreError};

/// One person as exported: the columns of the directory data standard (DESIGN.md §4).
#[derive(Debug, Clone, Default)]
pub struct ExportRow {
    pub id: i64,
    pub name: String,
    pub gender: Option<Gender>,
    pub birth_date: Option<String>,
    /// Masked unless the export reveals protected fields.
    pub id_number: Option<String>,
    pub phone: Option<String>,
    pub unit_code: String,
    pub sectors: Vec<String>,
    pub employer: Option<String>,
    pub title: Option<String>,
    pub political_affiliation: Option<String>,
    pub education: Option<String>,
    pub tags: Vec<String>,
    pub notes: Option<String>,
    /// When the export is of one sector: the person's values of its own fields, in the order
    /// of [`Export::field_headers`].
    pub field_values: Vec<Option<String>>,
}

/// An export in progress: the filter, whether protected fields are in clear, and the cursor.
pub struct Export {
    actor: Actor,
    query: PeopleQuery,
    now: Timestamp,
    reveal: bool,
    /// The purpose stated for a clear export, shown to each person exported.
    purpose: Option<String>,
    after_id: i64,
    /// Rows the export will hold (counted, and audited, when it started).
    pub total: u64,
    /// For an export of one sector: its fields that take values (headed `界别·字段`).
    fields: Vec<(String, String)>,
}

impl Export {
    /// Headers of the sector's own fields, as its import template writes them.
    pub fn field_headers(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|(header, _)| header.as_str())
    }
}

/// How protected fields (ID numbers, phones) leave in an export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Protection {
    /// Masked, as lists show them.
    Masked,
    /// In clear, for the stated purpose (audited with it).
    Clear { purpose: String },
}

/// The longest purpose kept in the audit log, in characters.
const MAX_PURPOSE_CHARS: usize = 200;

/// Rows fetched per round trip.
const EXPORT_BATCH: u64 = 1000;

impl Store {
    /// Starts an export of the people matching `query`: counts them and records the export in
    /// the audit log with its filter, row count and, for a clear export, its purpose. A clear
    /// export needs the right to it and a purpose.
    pub async fn start_people_export(
        &self,
        actor: &Actor,
        query: PeopleQuery,
        now: Timestamp,
        description: &str,
        protection: Protection,
    ) -> Result<Export> {
        let purpose = match &protection {
            Protection::Masked => None,
            Protection::Clear { purpose } => {
                if !actor.may_export_clear() {
                    return Err(StoreError::Forbidden);
                }
                let purpose = purpose.trim();
                if purpose.is_empty() {
                    return Err(Invalid::new(Field::Named("purpose"), Reason::Required).into());
                }
                if purpose.chars().count() > MAX_PURPOSE_CHARS {
                    return Err(Invalid::new(
                        Field::Named("purpose"),
                        Reason::TooLong {
                            max: MAX_PURPOSE_CHARS,
                        },
                    )
                    .into());
                }
                Some(purpose.to_owned())
            }
        };
        let total = self
            .people_matching(actor, &query, now)
            .await?
            .select
            .count(&self.db)
            .await?;
        let reveal = purpose.is_some();
        let fields = match query.sector_id {
            Some(sector_id) => self
                .sectors(actor, true)
                .await?
                .into_iter()
                .filter(|s| s.id == sector_id)
                .flat_map(|s| {
                    let name = s.name.clone();
                    s.fields
                        .into_iter()
                        .filter(|f| !f.archived)
                        .map(move |f| (format!("{name}·{}", f.label), f.key))
                })
                .collect(),
            None => Vec::new(),
        };
        let tx = self.begin_write().await?;
        audit::append(
            &tx,
            &self.keys,
            now,
            actor,
            Event::new("person.export")
                .unit(actor.unit_path().as_str())
                .detail(json!({
                    "filter": description,
                    "rows": total,
                    "protected_in_clear": reveal,
                    "purpose": purpose,
                })),
        )
        .await?;
        tx.commit().await?;
        Ok(Export {
            actor: actor.clone(),
            query,
            now,
            reveal,
            purpose,
            after_id: 0,
            total,
            fields,
        })
    }

    /// The next batch of an export; empty when it is done.
    pub async fn next_export_batch(&self, export: &mut Export) -> Result<Vec<ExportRow>> {
        let people = self
            .people_matching(&export.actor, &export.query, export.now)
            .await?
            .select
            .filter(person::Column::Id.gt(export.after_id))
            .order_by_asc(person::Column::Id)
            .limit(EXPORT_BATCH)
            .all(&self.db)
            .await?;
        let Some(last) = people.last() else {
            return Ok(Vec::new());
        };
        export.after_id = last.id;
        let ids: Vec<i64> = people.iter().map(|p| p.id).collect();
        let kind = if export.reveal {
            AccessKind::ExportClear
        } else {
            AccessKind::Export
        };
        access_log::record(
            &self.db,
            export.now,
            &export.actor,
            kind,
            &ids,
            export.purpose.as_deref(),
        )
        .await?;
        let units: HashMap<i64, String> = access::unguarded::<unit::Entity>(Unguarded::Labels)
            .filter(unit::Column::Id.is_in(people.iter().map(|p| p.unit_id)))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|u| (u.id, u.code))
            .collect();
        let sector_names: HashMap<i64, String> =
            access::unguarded::<sector::Entity>(Unguarded::Reference)
                .all(&self.db)
                .await?
                .into_iter()
                .map(|s| (s.id, s.name))
                .collect();
        let mut sectors: HashMap<i64, Vec<String>> = HashMap::new();
        let mut values: HashMap<i64, serde_json::Map<String, serde_json::Value>> = HashMap::new();
        for m in access::unguarded::<person_sector::Entity>(Unguarded::PartsOf)
            .filter(person_sector::Column::PersonId.is_in(ids.clone()))
            .all(&self.db)
            .await?
        {
            if let Some(name) = sector_names.get(&m.sector_id) {
                sectors.entry(m.person_id).or_default().push(name.clone());
            }
            if Some(m.sector_id) == export.query.sector_id {
                let extra = m
                    .extra
                    .as_deref()
                    .and_then(|e| serde_json::from_str(e).ok());
                values.insert(m.person_id, extra.unwrap_or_default());
            }
        }
        let mut tags: HashMap<i64, Vec<String>> = HashMap::new();
        for t in access::unguarded::<person_tag::Entity>(Unguarded::PartsOf)
            .filter(person_tag::Column::PersonId.is_in(ids))
            .order_by_asc(person_tag::Column::Tag)
            .all(&self.db)
            .await?
        {
            tags.entry(t.person_id).or_default().push(t.tag);
        }
        let mut rows = Vec::with_capacity(people.len());
        for p in people {
            let protected = |field: SensitiveField| -> Result<Option<String>> {
                let value = self.sealed_value(&p, field)?;
                Ok(match (value, export.reveal, field) {
                    (Some(v), true, _) => Some(v),
                    (Some(v), false, SensitiveField::IdNumber) => Some(mask_id_number(&v)),
                    (Some(v), false, _) => Some(mask_phone(&v)),
                    (None, _, _) => None,
                })
            };
            let own = values.remove(&p.id).unwrap_or_default();
            let field_values = export
                .fields
                .iter()
                .map(|(_, key)| own.get(key).and_then(|v| v.as_str()).map(str::to_owned))
                .collect();
            rows.push(ExportRow {
                field_values,
                id_number: protected(SensitiveField::IdNumber)?,
                phone: protected(SensitiveField::Phone)?,
                unit_code: units.get(&p.unit_id).cloned().unwrap_or_default(),
                sectors: sectors.remove(&p.id).unwrap_or_default(),
                tags: tags.remove(&p.id).unwrap_or_default(),
                id: p.id,
                name: p.name,
                gender: p.gender.as_deref().and_then(|g| Gender::parse(g).ok()),
                birth_date: p.birth_date,
                employer: p.employer,
                title: p.title,
                political_affiliation: p.political_affiliation,
                education: p.education,
                notes: p.notes,
            });
        }
        Ok(rows)
    }
}
