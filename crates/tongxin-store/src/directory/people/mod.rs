//! People in the directory: create, read, edit with a version check, archive and restore,
//! reveal a protected field, the change history, and search.
//!
//! Every query is confined to the actor's subtree through the person's `unit_path`. Sensitive
//! values are sealed before they reach SQL and only leave this module masked, or in clear
//! through [`Store::reveal_person_field`], which is audited.

mod batch;
mod form;
mod history;
mod merge;
mod protected;
mod search;

pub(crate) use crate::units::people_counts::Deltas;
pub use batch::PeopleChange;
pub use form::{MembershipFields, PersonFields, split_tags};
use history::history_since;
pub(crate) use history::{Author, creation_entry, record_history};
pub use protected::SensitiveField;
#[cfg(test)]
pub(crate) use search::ListPlan;
pub use search::{PeopleQuery, PersonOrder};

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, Statement,
};
use serde_json::json;
use tongxin_core::{
    Field, Gender, IdNumber, Invalid, MobilePhone, Reason, Timestamp, UnitPath, mask_id_number,
    mask_phone,
};
use tongxin_text::{bigrams, pinyin_keys};

use crate::Store;
use crate::access::{self, Actor, Unguarded, filing_unit};
use crate::audit::{self, Event};
use crate::campaigns::coverage;
use crate::directory::sectors::{
    Membership, MembershipValue, check_membership_values, labelled_values, sector_fields_of,
    sector_names,
};
use crate::entity::{name_gram, person, person_sector, person_tag, sector, sensitive_field, unit};
use crate::error::{Result, StoreError};

/// Everything a person record holds, already validated field by field.
#[derive(Debug, Clone, Default)]
pub struct PersonInput {
    pub unit_id: i64,
    pub name: String,
    pub gender: Option<Gender>,
    pub birth_date: Option<NaiveDate>,
    pub education: Option<String>,
    pub occupation: Option<String>,
    pub title: Option<String>,
    pub employer: Option<String>,
    pub political_affiliation: Option<String>,
    pub address: Option<String>,
    pub notes: Option<String>,
    pub id_number: Option<IdNumber>,
    pub phone: Option<MobilePhone>,
    pub ethnicity: Option<String>,
    pub religion: Option<String>,
    pub sectors: Vec<Membership>,
    pub tags: Vec<String>,
    /// On an update, protected fields given as `None` keep their stored values instead of
    /// being cleared (forms never show protected values, so they cannot send them back)…
    pub keep_unset_protected: bool,
    /// …except these, which are cleared on purpose.
    pub clear_protected: Vec<SensitiveField>,
}

/// A sector membership as shown.
#[derive(Debug, Clone)]
pub struct MembershipView {
    pub sector_id: i64,
    pub sector_name: String,
    pub role: Option<String>,
    pub since: Option<String>,
    /// Values of the sector's own fields, in the sector's field order.
    pub values: Vec<MembershipValue>,
}

impl MembershipView {
    /// The value held in the field `key`, if any.
    pub fn value(&self, key: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|v| v.key == key)
            .map(|v| v.value.as_str())
    }
}

/// A person as shown: sensitive values masked.
#[derive(Debug, Clone)]
pub struct PersonView {
    pub id: i64,
    pub unit_id: i64,
    pub unit_name: String,
    pub name: String,
    pub gender: Option<Gender>,
    pub birth_date: Option<String>,
    pub education: Option<String>,
    pub occupation: Option<String>,
    pub title: Option<String>,
    pub employer: Option<String>,
    pub political_affiliation: Option<String>,
    pub address: Option<String>,
    pub notes: Option<String>,
    pub id_number_masked: Option<String>,
    pub phone_masked: Option<String>,
    /// Whether an ethnicity / religion is on record (the value itself needs a reveal).
    pub has_ethnicity: bool,
    pub has_religion: bool,
    pub sectors: Vec<MembershipView>,
    pub tags: Vec<String>,
    pub version: i32,
    pub archived: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A person in a result list.
#[derive(Debug, Clone)]
pub struct PersonSummary {
    pub id: i64,
    pub name: String,
    pub gender: Option<Gender>,
    pub birth_date: Option<String>,
    pub unit_id: i64,
    pub unit_name: String,
    pub employer: Option<String>,
    pub title: Option<String>,
    pub phone_masked: Option<String>,
    pub archived: bool,
    /// The names of the sectors the person belongs to.
    pub sectors: Vec<String>,
}

/// A row an import refused.
#[derive(Debug, Clone)]
pub struct RowRefusal {
    pub line: usize,
    pub invalid: Invalid,
    /// For a duplicate ID number: the existing person, when the importer may see them.
    pub existing: Option<i64>,
}

/// What an import did (or, in a dry run, would do).
#[derive(Debug, Clone)]
pub struct ImportOutcome {
    pub rows: usize,
    pub refused: Vec<RowRefusal>,
    /// Whether the rows were kept (not a dry run, and nothing refused).
    pub committed: bool,
}

/// Which records a search returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PersonStatus {
    #[default]
    Active,
    Archived,
    All,
}

/// Text fields kept in clear, in the order the history shows them.
const PLAIN_FIELDS: [&str; 10] = [
    "person_name",
    "gender",
    "birth_date",
    "education",
    "occupation",
    "title",
    "employer",
    "political_affiliation",
    "address",
    "notes",
];

pub(crate) fn date_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// How a record reads in the history: field -> displayed value (sensitive ones masked).
pub(crate) type Snapshot = Vec<(&'static str, Option<String>)>;

impl Store {
    /// One person of the actor's subtree.
    pub async fn person(&self, actor: &Actor, id: i64) -> Result<PersonView> {
        actor.require_staff_area()?;
        let model = self.find_person(&self.db, actor, id).await?;
        self.person_view(&self.db, model).await
    }

    /// A person of the actor's subtree, outside a transaction.
    pub(crate) async fn find_person_scoped(&self, actor: &Actor, id: i64) -> Result<person::Model> {
        self.find_person(&self.db, actor, id).await
    }

    pub(crate) async fn find_person<C: ConnectionTrait>(
        &self,
        conn: &C,
        actor: &Actor,
        id: i64,
    ) -> Result<person::Model> {
        access::find::<person::Entity, _>(conn, actor, id).await
    }

    pub(crate) async fn person_view<C: ConnectionTrait>(
        &self,
        conn: &C,
        m: person::Model,
    ) -> Result<PersonView> {
        let unit_name = access::unguarded_by_id::<unit::Entity>(Unguarded::Labels, m.unit_id)
            .one(conn)
            .await?
            .map(|u| u.name)
            .unwrap_or_default();
        let memberships = access::unguarded::<person_sector::Entity>(Unguarded::PartsOf)
            .filter(person_sector::Column::PersonId.eq(m.id))
            .all(conn)
            .await?;
        let names = sector_names(conn, memberships.iter().map(|s| s.sector_id)).await?;
        let fields = sector_fields_of(conn, memberships.iter().map(|s| s.sector_id)).await?;
        let tags = tags_of(conn, m.id).await?;
        Ok(PersonView {
            id_number_masked: self.masked(&m, SensitiveField::IdNumber)?,
            phone_masked: self.masked(&m, SensitiveField::Phone)?,
            has_ethnicity: m.ethnicity_sealed.is_some(),
            has_religion: m.religion_sealed.is_some(),
            sectors: memberships
                .into_iter()
                .map(|s| MembershipView {
                    sector_name: names.get(&s.sector_id).cloned().unwrap_or_default(),
                    values: labelled_values(
                        s.extra.as_deref(),
                        fields.get(&s.sector_id).map_or(&[], Vec::as_slice),
                    ),
                    sector_id: s.sector_id,
                    role: s.role,
                    since: s.since,
                })
                .collect(),
            tags,
            id: m.id,
            unit_id: m.unit_id,
            unit_name,
            name: m.name,
            gender: m.gender.as_deref().and_then(|g| Gender::parse(g).ok()),
            birth_date: m.birth_date,
            education: m.education,
            occupation: m.occupation,
            title: m.title,
            employer: m.employer,
            political_affiliation: m.political_affiliation,
            address: m.address,
            notes: m.notes,
            version: m.version,
            archived: m.archived_at.is_some(),
            created_at: Timestamp::from_micros(m.created_at),
            updated_at: Timestamp::from_micros(m.updated_at),
        })
    }

    pub(crate) fn sealed_value(
        &self,
        m: &person::Model,
        field: SensitiveField,
    ) -> Result<Option<String>> {
        sealed_column(m, field)
            .as_deref()
            .map(|s| self.keys.open(field.sealed_at(m.id), s))
            .transpose()
            .map_err(StoreError::from)
    }

    pub(crate) fn masked(
        &self,
        m: &person::Model,
        field: SensitiveField,
    ) -> Result<Option<String>> {
        Ok(self.sealed_value(m, field)?.map(|v| match field {
            SensitiveField::IdNumber => mask_id_number(&v),
            SensitiveField::Phone => mask_phone(&v),
            SensitiveField::Ethnicity | SensitiveField::Religion => "***".to_owned(),
        }))
    }

    /// Checks what only the database can: the unit is in scope and active, sectors exist,
    /// optional sensitive fields are enabled, and the ID number is not already on record.
    async fn check_person_input<C: ConnectionTrait>(
        &self,
        conn: &C,
        actor: &Actor,
        input: &PersonInput,
        except: Option<i64>,
    ) -> Result<CheckedPerson> {
        let unit = filing_unit(conn, actor, input.unit_id, Field::Unit).await?;
        let wanted: BTreeSet<i64> = input.sectors.iter().map(|s| s.sector_id).collect();
        let mut values = Vec::new();
        if !wanted.is_empty() {
            let found = access::unguarded::<sector::Entity>(Unguarded::Reference)
                .filter(sector::Column::Id.is_in(wanted.iter().copied()))
                .count(conn)
                .await?;
            if found != wanted.len() as u64 {
                return Err(Invalid::new(Field::Sector, Reason::NotFound).into());
            }
            let previous = match except {
                Some(id) => {
                    access::unguarded::<person_sector::Entity>(Unguarded::PartsOf)
                        .filter(person_sector::Column::PersonId.eq(id))
                        .all(conn)
                        .await?
                }
                None => Vec::new(),
            };
            values = check_membership_values(conn, &distinct_sectors(input), &previous).await?;
        }
        // Only records that carry an optional sensitive field pay for the settings lookup.
        for (field, present) in [
            (SensitiveField::Ethnicity, input.ethnicity.is_some()),
            (SensitiveField::Religion, input.religion.is_some()),
        ] {
            let enabled = present
                && access::unguarded_by_id::<sensitive_field::Entity>(
                    Unguarded::Reference,
                    field.key().to_owned(),
                )
                .one(conn)
                .await?
                .is_some();
            if present && !enabled {
                return Err(Invalid::new(field.core_field(), Reason::NotEnabled).into());
            }
        }
        if let Some(id_number) = &input.id_number {
            let index = self.keys.blind_index("id_number", id_number.as_str());
            let existing = access::unguarded::<person::Entity>(Unguarded::Uniqueness)
                .filter(person::Column::IdNumberIndex.eq(index))
                .one(conn)
                .await?;
            if let Some(existing) = existing.filter(|p| Some(p.id) != except) {
                let visible = actor.covers(&UnitPath::from_stored(existing.unit_path.clone()));
                return Err(StoreError::DuplicatePerson {
                    existing: visible.then_some(existing.id),
                });
            }
        }
        Ok(CheckedPerson { unit, values })
    }

    /// Creates a person in a unit of the actor's subtree.
    pub async fn create_person(
        &self,
        actor: &Actor,
        now: Timestamp,
        input: PersonInput,
    ) -> Result<PersonView> {
        actor.require_editor()?;
        let carries_id_number = input.id_number.is_some();
        self.guarding_elsewhere(
            actor,
            now,
            carries_id_number,
            "create",
            self.create_person_once(actor, now, input),
        )
        .await
    }

    async fn create_person_once(
        &self,
        actor: &Actor,
        now: Timestamp,
        input: PersonInput,
    ) -> Result<PersonView> {
        let tx = self.begin_write().await?;
        let created = self.insert_person(&tx, actor, now, &input).await?;
        audit::append(
            &tx,
            &self.keys,
            now,
            actor,
            Event::new("person.create")
                .target("person", created.id, &created.name)
                .unit(&created.unit_path),
        )
        .await?;
        coverage::sync(&tx, None, &[created.id], now).await?;
        let view = self.person_view(&tx, created).await?;
        tx.commit().await?;
        Ok(view)
    }

    /// Checks and inserts one person, with links and the first history rows.
    async fn insert_person<C: ConnectionTrait>(
        &self,
        conn: &C,
        actor: &Actor,
        now: Timestamp,
        input: &PersonInput,
    ) -> Result<person::Model> {
        let checked = self.check_person_input(conn, actor, input, None).await?;
        let id = allocate_person_ids(conn, 1)
            .await?
            .pop()
            .ok_or(StoreError::NotFound)?;
        let mut model = self.person_model(id, &checked.unit, input);
        model.version = Set(1);
        model.archived_at = Set(None);
        model.created_at = Set(now.micros());
        model.updated_at = Set(now.micros());
        let created = model.insert(conn).await?;
        let mut counted = Deltas::default();
        counted.person(&created, 1);
        counted.apply(conn).await?;
        write_links(conn, created.id, input, &checked.values).await?;
        creation_entry(created.id, now, Author::of(actor))
            .insert(conn)
            .await?;
        Ok(created)
    }

    /// Replaces a person's record, provided nobody changed it since `expected_version`;
    /// otherwise [`StoreError::Conflict`] lists what changed meanwhile.
    pub async fn update_person(
        &self,
        actor: &Actor,
        now: Timestamp,
        id: i64,
        expected_version: i32,
        input: PersonInput,
    ) -> Result<PersonView> {
        actor.require_editor()?;
        let carries_id_number = input.id_number.is_some();
        self.guarding_elsewhere(
            actor,
            now,
            carries_id_number,
            "update",
            self.update_person_once(actor, now, id, expected_version, input),
        )
        .await
    }

    async fn update_person_once(
        &self,
        actor: &Actor,
        now: Timestamp,
        id: i64,
        expected_version: i32,
        input: PersonInput,
    ) -> Result<PersonView> {
        let tx = self.begin_write().await?;
        let current = self.find_person(&tx, actor, id).await?;
        if current.version != expected_version {
            let changes = history_since(&tx, id, expected_version).await?;
            return Err(StoreError::Conflict { changes });
        }
        let checked = self
            .check_person_input(&tx, actor, &input, Some(id))
            .await?;
        let before = self.snapshot(&tx, &current).await?;
        let version = current.version + 1;
        let mut model = self.person_model(id, &checked.unit, &input);
        if input.keep_unset_protected {
            keep_unset_protected(&mut model, &input);
        }
        model.version = Set(version);
        model.updated_at = Set(now.micros());
        let updated = model.update(&tx).await?;
        Deltas::changed(&current, &updated).apply(&tx).await?;
        access::delete_rows::<person_sector::Entity>(Unguarded::PartsOf)
            .filter(person_sector::Column::PersonId.eq(id))
            .exec(&tx)
            .await?;
        access::delete_rows::<person_tag::Entity>(Unguarded::PartsOf)
            .filter(person_tag::Column::PersonId.eq(id))
            .exec(&tx)
            .await?;
        access::delete_rows::<name_gram::Entity>(Unguarded::PartsOf)
            .filter(name_gram::Column::PersonId.eq(id))
            .exec(&tx)
            .await?;
        write_links(&tx, id, &input, &checked.values).await?;
        let after = self.snapshot(&tx, &updated).await?;
        let changed =
            record_history(&tx, id, version, now, Author::of(actor), &before, &after).await?;
        audit::append(
            &tx,
            &self.keys,
            now,
            actor,
            Event::new("person.update")
                .target("person", id, &updated.name)
                .unit(&updated.unit_path)
                .detail(json!({ "fields": changed, "version": version })),
        )
        .await?;
        coverage::sync(&tx, None, &[id], now).await?;
        let view = self.person_view(&tx, updated).await?;
        tx.commit().await?;
        Ok(view)
    }

    /// Archives or restores a person (kept, with history, either way).
    pub async fn set_person_archived(
        &self,
        actor: &Actor,
        now: Timestamp,
        id: i64,
        archived: bool,
    ) -> Result<PersonView> {
        actor.require_editor()?;
        let tx = self.begin_write().await?;
        let current = self.find_person(&tx, actor, id).await?;
        let updated = self.archive_row(&tx, actor, now, current, archived).await?;
        let view = self.person_view(&tx, updated).await?;
        tx.commit().await?;
        Ok(view)
    }

    /// Archives or restores the person row `current` (one the actor may change), with its
    /// history, audit event, counts and campaign coverage.
    pub(crate) async fn archive_row<C: ConnectionTrait>(
        &self,
        conn: &C,
        actor: &Actor,
        now: Timestamp,
        current: person::Model,
        archived: bool,
    ) -> Result<person::Model> {
        let id = current.id;
        let version = current.version + 1;
        let updated = person::ActiveModel {
            id: Set(id),
            archived_at: Set(archived.then_some(now.micros())),
            version: Set(version),
            updated_at: Set(now.micros()),
            ..Default::default()
        }
        .update(conn)
        .await?;
        Deltas::changed(&current, &updated).apply(conn).await?;
        let status = |a: bool| Some(if a { "archived" } else { "active" }.to_owned());
        record_history(
            conn,
            id,
            version,
            now,
            Author::of(actor),
            &vec![("status", status(current.archived_at.is_some()))],
            &vec![("status", status(archived))],
        )
        .await?;
        let action = if archived {
            "person.archive"
        } else {
            "person.restore"
        };
        audit::append(
            conn,
            &self.keys,
            now,
            actor,
            Event::new(action)
                .target("person", id, &updated.name)
                .unit(&updated.unit_path),
        )
        .await?;
        coverage::sync(conn, None, &[id], now).await?;
        Ok(updated)
    }

    /// The columns of the person row `id` for `input`, sealing what is sensitive to that row.
    pub(crate) fn person_model(
        &self,
        id: i64,
        unit: &unit::Model,
        input: &PersonInput,
    ) -> person::ActiveModel {
        let keys = pinyin_keys(&input.name);
        let seal = |field: SensitiveField, value: Option<&str>| {
            value.map(|v| self.keys.seal(field.sealed_at(id), v))
        };
        person::ActiveModel {
            id: Set(id),
            unit_id: Set(unit.id),
            unit_path: Set(unit.path.clone()),
            name: Set(input.name.clone()),
            name_pinyin: Set(keys.full),
            name_initials: Set(keys.initials),
            name_sort: Set(keys.sort),
            gender: Set(input.gender.map(|g| g.as_str().to_owned())),
            birth_date: Set(input.birth_date.map(date_text)),
            education: Set(input.education.clone()),
            occupation: Set(input.occupation.clone()),
            title: Set(input.title.clone()),
            employer: Set(input.employer.clone()),
            political_affiliation: Set(input.political_affiliation.clone()),
            address: Set(input.address.clone()),
            notes: Set(input.notes.clone()),
            id_number_sealed: Set(seal(
                SensitiveField::IdNumber,
                input.id_number.as_ref().map(IdNumber::as_str),
            )),
            id_number_index: Set(input
                .id_number
                .as_ref()
                .map(|i| self.keys.blind_index("id_number", i.as_str()))),
            phone_sealed: Set(seal(
                SensitiveField::Phone,
                input.phone.as_ref().map(MobilePhone::as_str),
            )),
            phone_index: Set(input
                .phone
                .as_ref()
                .map(|p| self.keys.blind_index("phone", p.as_str()))),
            phone_tail_index: Set(input
                .phone
                .as_ref()
                .map(|p| self.keys.blind_index("phone_tail", p.last_four()))),
            ethnicity_sealed: Set(seal(SensitiveField::Ethnicity, input.ethnicity.as_deref())),
            religion_sealed: Set(seal(SensitiveField::Religion, input.religion.as_deref())),
            ..Default::default()
        }
    }

    /// The record as the history shows it, sensitive values masked.
    pub(crate) async fn snapshot<C: ConnectionTrait>(
        &self,
        conn: &C,
        m: &person::Model,
    ) -> Result<Snapshot> {
        let unit = access::unguarded_by_id::<unit::Entity>(Unguarded::Labels, m.unit_id)
            .one(conn)
            .await?;
        let mut sectors = access::unguarded::<person_sector::Entity>(Unguarded::PartsOf)
            .filter(person_sector::Column::PersonId.eq(m.id))
            .all(conn)
            .await?;
        let names = sector_names(conn, sectors.iter().map(|s| s.sector_id)).await?;
        let fields = sector_fields_of(conn, sectors.iter().map(|s| s.sector_id)).await?;
        let tags = tags_of(conn, m.id).await?;
        let plain = [
            Some(m.name.clone()),
            m.gender.clone(),
            m.birth_date.clone(),
            m.education.clone(),
            m.occupation.clone(),
            m.title.clone(),
            m.employer.clone(),
            m.political_affiliation.clone(),
            m.address.clone(),
            m.notes.clone(),
        ];
        let mut snapshot: Snapshot = PLAIN_FIELDS.into_iter().zip(plain).collect();
        snapshot.push(("unit", unit.map(|u| format!("{} {}", u.code, u.name))));
        for field in SensitiveField::ALL {
            snapshot.push((field.key(), self.masked(m, field)?));
        }
        sectors.sort_by_key(|s| s.sector_id);
        // 民主党派（委员，2018-06-01，党派：民革）
        let sectors: Vec<String> = sectors
            .into_iter()
            .map(|s| {
                let name = names.get(&s.sector_id).cloned().unwrap_or_default();
                let values = labelled_values(
                    s.extra.as_deref(),
                    fields.get(&s.sector_id).map_or(&[], Vec::as_slice),
                )
                .into_iter()
                .map(|v| format!("{}：{}", v.label, v.value));
                let details: Vec<String> = [s.role, s.since]
                    .into_iter()
                    .flatten()
                    .chain(values)
                    .collect();
                if details.is_empty() {
                    name
                } else {
                    format!("{name}（{}）", details.join("，"))
                }
            })
            .collect();
        snapshot.push(("sector", Some(sectors.join("、")).filter(|s| !s.is_empty())));
        snapshot.push(("tags", tags_value(tags)));
        Ok(snapshot)
    }
}

/// A person's tags, in order.
pub(crate) async fn tags_of<C: ConnectionTrait>(conn: &C, person_id: i64) -> Result<Vec<String>> {
    Ok(access::unguarded::<person_tag::Entity>(Unguarded::PartsOf)
        .filter(person_tag::Column::PersonId.eq(person_id))
        .order_by_asc(person_tag::Column::Tag)
        .all(conn)
        .await?
        .into_iter()
        .map(|t| t.tag)
        .collect())
}

/// A person's tags as the history shows them: sorted, joined, none when there are none.
pub(crate) fn tags_value(mut tags: Vec<String>) -> Option<String> {
    tags.sort();
    Some(tags.join("、")).filter(|s| !s.is_empty())
}

/// Leaves the columns of protected fields that `input` does not set untouched.
/// The stored (sealed) value of `field` in a person's row.
pub(crate) fn sealed_column(m: &person::Model, field: SensitiveField) -> &Option<String> {
    match field {
        SensitiveField::IdNumber => &m.id_number_sealed,
        SensitiveField::Phone => &m.phone_sealed,
        SensitiveField::Ethnicity => &m.ethnicity_sealed,
        SensitiveField::Religion => &m.religion_sealed,
    }
}

/// `count` fresh person ids, known before the rows are written so that sealed values can be
/// bound to them. Writes hold the write lock on SQLite, so the ids after the largest are free;
/// PostgreSQL hands them out from the table's sequence.
pub(crate) async fn allocate_person_ids<C: ConnectionTrait>(
    conn: &C,
    count: usize,
) -> Result<Vec<i64>> {
    let backend = conn.get_database_backend();
    let n = i64::try_from(count).unwrap_or(i64::MAX);
    if backend == DbBackend::Postgres {
        let rows = conn
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                "SELECT nextval(pg_get_serial_sequence('people', 'id')) \
                 FROM generate_series(1, $1)",
                [n.into()],
            ))
            .await?;
        rows.iter()
            .map(|row| row.try_get_by_index::<i64>(0).map_err(StoreError::from))
            .collect()
    } else {
        let row = conn
            .query_one_raw(Statement::from_string(
                backend,
                "SELECT COALESCE(MAX(id), 0) FROM people",
            ))
            .await?;
        let last: i64 = match row {
            Some(row) => row.try_get_by_index(0)?,
            None => 0,
        };
        Ok((1..=n).map(|k| last + k).collect())
    }
}

fn keep_unset_protected(model: &mut person::ActiveModel, input: &PersonInput) {
    use sea_orm::ActiveValue::NotSet;
    let keep = |field| !input.clear_protected.contains(&field);
    if input.id_number.is_none() && keep(SensitiveField::IdNumber) {
        model.id_number_sealed = NotSet;
        model.id_number_index = NotSet;
    }
    if input.phone.is_none() && keep(SensitiveField::Phone) {
        model.phone_sealed = NotSet;
        model.phone_index = NotSet;
        model.phone_tail_index = NotSet;
    }
    if input.ethnicity.is_none() && keep(SensitiveField::Ethnicity) {
        model.ethnicity_sealed = NotSet;
    }
    if input.religion.is_none() && keep(SensitiveField::Religion) {
        model.religion_sealed = NotSet;
    }
}

/// `years` whole years before `day` (29 February falls back to the 28th).
fn years_before(day: NaiveDate, years: u32) -> NaiveDate {
    let year = day.year() - i32::try_from(years).unwrap_or(i32::MAX / 2);
    NaiveDate::from_ymd_opt(year, day.month(), day.day())
        .or_else(|| NaiveDate::from_ymd_opt(year, day.month(), 28))
        .unwrap_or(NaiveDate::MIN)
}

/// What checking a person's input yields: the unit, and per distinct membership the sector
/// field values to store.
struct CheckedPerson {
    unit: unit::Model,
    values: Vec<Option<String>>,
}

/// The first membership of each sector, in order; later repeats are ignored.
pub(crate) fn distinct_sectors(input: &PersonInput) -> Vec<&Membership> {
    let mut seen = BTreeSet::new();
    input
        .sectors
        .iter()
        .filter(|m| seen.insert(m.sector_id))
        .collect()
}

/// Sector memberships (with the checked field `values` of each), tags and name bigrams.
async fn write_links<C: ConnectionTrait>(
    conn: &C,
    id: i64,
    input: &PersonInput,
    values: &[Option<String>],
) -> Result<()> {
    for (i, membership) in distinct_sectors(input).into_iter().enumerate() {
        person_sector::ActiveModel {
            person_id: Set(id),
            sector_id: Set(membership.sector_id),
            role: Set(membership.role.clone()),
            since: Set(membership.since.map(date_text)),
            extra: Set(values.get(i).cloned().flatten()),
        }
        .insert(conn)
        .await?;
    }
    let tags: BTreeSet<&str> = input.tags.iter().map(String::as_str).collect();
    if !tags.is_empty() {
        person_tag::Entity::insert_many(tags.into_iter().map(|tag| person_tag::ActiveModel {
            person_id: Set(id),
            tag: Set(tag.to_owned()),
        }))
        .exec_without_returning(conn)
        .await?;
    }
    let grams = bigrams(&input.name);
    if !grams.is_empty() {
        name_gram::Entity::insert_many(grams.into_iter().map(|gram| name_gram::ActiveModel {
            gram: Set(gram),
            person_id: Set(id),
        }))
        .exec_without_returning(conn)
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::PLAIN_FIELDS;
    use tongxin_core::person_field;

    #[test]
    fn the_history_names_fields_of_the_person_fields_list() {
        for key in PLAIN_FIELDS {
            let field = person_field(key).unwrap_or_else(|| panic!("{key} is not listed"));
            assert!(!field.protected, "{key} is kept in clear");
        }
    }
}
