//! Likely duplicates of a person, and merging two records of one person.

use std::collections::{BTreeSet, HashMap};

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde_json::json;
use tongxin_core::{Field, Gender, Invalid, Reason, Timestamp};

use crate::Store;
use crate::access::{self, Actor, Unguarded};
use crate::audit::{self, Event};
use crate::campaigns::coverage;
use crate::directory::sectors::sector_names;
use crate::entity::{person, person_history, person_sector, person_tag};
use crate::error::{Result, StoreError};
use crate::page::with_index;
use crate::units::unit_names;

use super::{
    Author, Deltas, PersonSummary, PersonView, SensitiveField, history_since, record_history,
    sealed_column,
};

/// Likely duplicates shown at most on a record's page.
const DUPLICATES_SHOWN: u64 = 20;

impl Store {
    /// Merges `other` into `keep`: blanks of `keep` are filled from `other`, sectors and tags
    /// are joined, `other`'s history is copied into `keep`'s, and `other` is archived with a
    /// note of where it went. Refused if `keep` changed since `expected_version`.
    pub async fn merge_people(
        &self,
        actor: &Actor,
        now: Timestamp,
        keep_id: i64,
        other_id: i64,
        expected_version: i32,
    ) -> Result<PersonView> {
        actor.require_editor()?;
        if keep_id == other_id {
            return Err(Invalid::new(Field::Named("other"), Reason::Cycle).into());
        }
        let tx = self.begin_write().await?;
        let keep = self.find_person(&tx, actor, keep_id).await?;
        let other = self.find_person(&tx, actor, other_id).await?;
        if keep.version != expected_version {
            let changes = history_since(&tx, keep_id, expected_version).await?;
            return Err(StoreError::Conflict { changes });
        }
        let before = self.snapshot(&tx, &keep).await?;
        let version = keep.version + 1;
        // The other record gives up its ID number first: the column is unique.
        let archived_other = person::ActiveModel {
            id: Set(other.id),
            id_number_index: Set(None),
            archived_at: Set(Some(now.micros())),
            version: Set(other.version + 1),
            updated_at: Set(now.micros()),
            ..Default::default()
        }
        .update(&tx)
        .await?;
        Deltas::changed(&other, &archived_other).apply(&tx).await?;
        let either = |a: &Option<String>, b: &Option<String>| Set(a.clone().or_else(|| b.clone()));
        // A protected value comes over sealed again: sealed values are bound to their row.
        let sealed_for_keep = |field: SensitiveField| -> Result<Option<String>> {
            match sealed_column(&keep, field) {
                Some(kept) => Ok(Some(kept.clone())),
                None => Ok(self
                    .sealed_value(&other, field)?
                    .map(|plain| self.keys.seal(field.sealed_at(keep.id), &plain))),
            }
        };
        let from = |field: SensitiveField| {
            if sealed_column(&keep, field).is_some() {
                &keep
            } else {
                &other
            }
        };
        let id_from = from(SensitiveField::IdNumber);
        let phone_from = from(SensitiveField::Phone);
        let merged = person::ActiveModel {
            id: Set(keep.id),
            gender: either(&keep.gender, &other.gender),
            birth_date: either(&keep.birth_date, &other.birth_date),
            education: either(&keep.education, &other.education),
            occupation: either(&keep.occupation, &other.occupation),
            title: either(&keep.title, &other.title),
            employer: either(&keep.employer, &other.employer),
            political_affiliation: either(
                &keep.political_affiliation,
                &other.political_affiliation,
            ),
            address: either(&keep.address, &other.address),
            notes: either(&keep.notes, &other.notes),
            id_number_sealed: Set(sealed_for_keep(SensitiveField::IdNumber)?),
            id_number_index: Set(id_from.id_number_index.clone()),
            phone_sealed: Set(sealed_for_keep(SensitiveField::Phone)?),
            phone_index: Set(phone_from.phone_index.clone()),
            phone_tail_index: Set(phone_from.phone_tail_index.clone()),
            ethnicity_sealed: Set(sealed_for_keep(SensitiveField::Ethnicity)?),
            religion_sealed: Set(sealed_for_keep(SensitiveField::Religion)?),
            version: Set(version),
            updated_at: Set(now.micros()),
            ..Default::default()
        }
        .update(&tx)
        .await?;
        // Sectors and tags the kept record lacks come over.
        let kept_sectors: BTreeSet<i64> =
            access::unguarded::<person_sector::Entity>(Unguarded::PartsOf)
                .filter(person_sector::Column::PersonId.eq(keep.id))
                .all(&tx)
                .await?
                .into_iter()
                .map(|m| m.sector_id)
                .collect();
        for m in access::unguarded::<person_sector::Entity>(Unguarded::PartsOf)
            .filter(person_sector::Column::PersonId.eq(other.id))
            .all(&tx)
            .await?
            .into_iter()
            .filter(|m| !kept_sectors.contains(&m.sector_id))
        {
            person_sector::ActiveModel {
                person_id: Set(keep.id),
                sector_id: Set(m.sector_id),
                role: Set(m.role),
                since: Set(m.since),
                extra: Set(m.extra),
            }
            .insert(&tx)
            .await?;
        }
        let kept_tags: BTreeSet<String> =
            access::unguarded::<person_tag::Entity>(Unguarded::PartsOf)
                .filter(person_tag::Column::PersonId.eq(keep.id))
                .all(&tx)
                .await?
                .into_iter()
                .map(|t| t.tag)
                .collect();
        for t in access::unguarded::<person_tag::Entity>(Unguarded::PartsOf)
            .filter(person_tag::Column::PersonId.eq(other.id))
            .all(&tx)
            .await?
            .into_iter()
            .filter(|t| !kept_tags.contains(&t.tag))
        {
            person_tag::ActiveModel {
                person_id: Set(keep.id),
                tag: Set(t.tag),
            }
            .insert(&tx)
            .await?;
        }
        // Both histories stay readable on the kept record.
        let copied: Vec<person_history::ActiveModel> =
            access::unguarded::<person_history::Entity>(Unguarded::PartsOf)
                .filter(person_history::Column::PersonId.eq(other.id))
                .order_by_asc(person_history::Column::Id)
                .all(&tx)
                .await?
                .into_iter()
                .map(|h| person_history::ActiveModel {
                    person_id: Set(keep.id),
                    version: Set(version),
                    at: Set(h.at),
                    actor_name: Set(h.actor_name),
                    field: Set(h.field),
                    old_value: Set(h.old_value),
                    new_value: Set(h.new_value),
                    proposed_by: Set(h.proposed_by),
                    ..Default::default()
                })
                .collect();
        if !copied.is_empty() {
            person_history::Entity::insert_many(copied)
                .exec_without_returning(&tx)
                .await?;
        }
        let after = self.snapshot(&tx, &merged).await?;
        record_history(
            &tx,
            keep.id,
            version,
            now,
            Author::of(actor),
            &before,
            &after,
        )
        .await?;
        let label = |p: &person::Model| Some(format!("#{} {}", p.id, p.name));
        record_history(
            &tx,
            keep.id,
            version,
            now,
            Author::of(actor),
            &vec![("merged_from", None)],
            &vec![("merged_from", label(&other))],
        )
        .await?;
        let into = vec![("merged_into", label(&keep))];
        record_history(
            &tx,
            other.id,
            other.version + 1,
            now,
            Author::of(actor),
            &Vec::new(),
            &into,
        )
        .await?;
        audit::append(
            &tx,
            &self.keys,
            now,
            actor,
            Event::new("person.merge")
                .target("person", keep.id, &keep.name)
                .unit(&keep.unit_path)
                .detail(json!({ "merged": other.id })),
        )
        .await?;
        coverage::sync(&tx, None, &[keep.id, other.id], now).await?;
        let view = self.person_view(&tx, merged).await?;
        tx.commit().await?;
        Ok(view)
    }

    /// Other people on record in the actor's subtree who may be the same person: the same name
    /// and birth date, or the same phone.
    pub async fn likely_duplicates(&self, actor: &Actor, id: i64) -> Result<Vec<PersonSummary>> {
        actor.require_staff_area()?;
        let me = self.find_person(&self.db, actor, id).await?;
        // One lookup per index, each an equality: a single statement with OR let SQLite walk
        // the caller's subtree instead (8 ms at a million people, every time a record opens).
        let mut lookups = Vec::new();
        if let Some(birth) = &me.birth_date {
            let same_name = Condition::all()
                .add(person::Column::Name.eq(me.name.as_str()))
                .add(person::Column::BirthDate.eq(birth.as_str()));
            lookups.push((same_name, "idx_people_name_birth"));
        }
        if let Some(phone) = &me.phone_index {
            let same_phone = Condition::all().add(person::Column::PhoneIndex.eq(phone.as_str()));
            lookups.push((same_phone, "idx_people_phone"));
        }
        let mut others: Vec<person::Model> = Vec::new();
        for (same, index) in lookups {
            let select = access::visible::<person::Entity>(actor)
                .filter(person::Column::Id.ne(id))
                .filter(person::Column::ArchivedAt.is_null())
                .filter(same)
                .order_by_asc(person::Column::Id)
                .limit(DUPLICATES_SHOWN);
            let statement = with_index(select.clone(), self.engine(), "people", index);
            others.extend(select.from_raw_sql(statement).all(&self.db).await?);
        }
        others.sort_by_key(|p| p.id);
        others.dedup_by_key(|p| p.id);
        others.truncate(DUPLICATES_SHOWN as usize);
        self.summaries(others).await
    }

    /// List rows for people models (unit and sector names looked up once for all).
    pub(super) async fn summaries(&self, rows: Vec<person::Model>) -> Result<Vec<PersonSummary>> {
        let units = unit_names(&self.db, rows.iter().map(|r| r.unit_id)).await?;
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let mut sectors = self.sectors_of(&ids).await?;
        let mut items = Vec::with_capacity(rows.len());
        for m in rows {
            items.push(PersonSummary {
                sectors: sectors.remove(&m.id).unwrap_or_default(),
                phone_masked: self.masked(&m, SensitiveField::Phone)?,
                unit_name: units.get(&m.unit_id).cloned().unwrap_or_default(),
                id: m.id,
                name: m.name,
                gender: m.gender.as_deref().and_then(|g| Gender::parse(g).ok()),
                birth_date: m.birth_date,
                unit_id: m.unit_id,
                employer: m.employer,
                title: m.title,
                archived: m.archived_at.is_some(),
            });
        }
        Ok(items)
    }

    /// The sector names of each of `people`.
    pub(crate) async fn sectors_of(&self, people: &[i64]) -> Result<HashMap<i64, Vec<String>>> {
        let memberships = access::unguarded::<person_sector::Entity>(Unguarded::PartsOf)
            .filter(person_sector::Column::PersonId.is_in(people.iter().copied()))
            .all(&self.db)
            .await?;
        let names = sector_names(&self.db, memberships.iter().map(|m| m.sector_id)).await?;
        let mut by_person: HashMap<i64, Vec<String>> = HashMap::new();
        for m in memberships {
            if let Some(name) = names.get(&m.sector_id) {
                by_person.entry(m.person_id).or_default().push(name.clone());
            }
        }
        Ok(by_person)
    }
}
