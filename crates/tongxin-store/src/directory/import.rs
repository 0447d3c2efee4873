//! Importing people in bulk, all-or-nothing, in bounded memory.
//!
//! One write transaction holds the whole import. Rows arrive in chunks; each chunk is checked
//! against what was loaded once (units of the subtree, sectors and their fields, enabled
//! sensitive fields) and, for ID numbers, against the file so far and one query per chunk.
//! While no row has been refused, checked chunks are written with multi-row inserts; after the
//! first refusal the rest is only checked, so every problem is still reported. `finish`
//! commits only a clean, non-dry run; anything else rolls back, leaving the database as it was.

use std::collections::{BTreeSet, HashMap, HashSet};

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction,
    DbBackend, EntityTrait, QueryFilter, Statement,
};
use serde_json::json;
use tongxin_core::{Field, IdNumber, Invalid, Reason, Timestamp, UnitPath};
use tongxin_text::bigrams;

use crate::Store;
use crate::access::{self, Actor, Unguarded};
use crate::audit::{self, Event};
use crate::campaigns::coverage;
use crate::directory::people::{
    Author, Deltas, ImportOutcome, PersonInput, RowRefusal, SensitiveField, allocate_person_ids,
    creation_entry, date_text, distinct_sectors,
};
use crate::directory::sectors::{SectorFieldView, membership_values, sector_fields_of};
use crate::entity::{name_gram, person, person_sector, person_tag, sector, sensitive_field, unit};
use crate::error::{Result, StoreError};

/// Imports of at least this many rows refresh PostgreSQL's planner statistics afterwards.
const ANALYZE_AFTER_ROWS: usize = 2_000;

/// Bind parameters per statement, under SQLite's limit of 32,766 (PostgreSQL allows 65,535).
const MAX_PARAMS: usize = 30_000;

/// An import in progress; see the module documentation.
pub struct PeopleImport<'s> {
    store: &'s Store,
    tx: DatabaseTransaction,
    actor: Actor,
    now: Timestamp,
    units: HashMap<i64, unit::Model>,
    sector_names: HashMap<i64, String>,
    sector_fields: HashMap<i64, Vec<SectorFieldView>>,
    enabled: HashSet<String>,
    /// ID numbers seen so far (as numbers, to keep a million of them small) and their line.
    seen: HashMap<u64, usize>,
    refused: Vec<RowRefusal>,
    rows: usize,
    /// Whether checked rows are still written: until the first refusal, or until told to stop.
    writing: bool,
    /// Secondary indexes dropped for the import, to build again before it commits.
    deferred_indexes: Vec<String>,
    /// "On record elsewhere" answers the actor may still get this hour.
    elsewhere_allowance: i64,
}

/// A row that passed every check, ready to write.
struct Checked<'a> {
    input: &'a PersonInput,
    /// Per distinct membership, the sector field values to store.
    values: Vec<Option<String>>,
}

impl Store {
    /// Refuses an actor who may not import people. Callers ask before reading a file: parsing
    /// costs, and a file from someone who may not import should cost nothing.
    pub fn may_import_people(&self, actor: &Actor) -> Result<()> {
        actor.require_editor()
    }

    /// Starts an all-or-nothing import of people into the actor's subtree. Refused while the
    /// actor has used up the hour's "on record elsewhere" answers (`directory::probes`).
    pub async fn begin_people_import(
        &self,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<PeopleImport<'_>> {
        self.may_import_people(actor)?;
        let elsewhere_allowance = self.elsewhere_allowance(actor, now).await?;
        if elsewhere_allowance == 0 {
            return Err(StoreError::TooManyProbes);
        }
        let tx = self.begin_write().await?;
        let units = access::visible::<unit::Entity>(actor)
            .all(&tx)
            .await?
            .into_iter()
            .map(|u| (u.id, u))
            .collect();
        let sector_names: HashMap<i64, String> =
            access::unguarded::<sector::Entity>(Unguarded::Reference)
                .all(&tx)
                .await?
                .into_iter()
                .map(|s| (s.id, s.name))
                .collect();
        let sector_fields = sector_fields_of(&tx, sector_names.keys().copied()).await?;
        let enabled = access::unguarded::<sensitive_field::Entity>(Unguarded::Reference)
            .all(&tx)
            .await?
            .into_iter()
            .map(|f| f.field)
            .collect();
        Ok(PeopleImport {
            store: self,
            tx,
            actor: actor.clone(),
            now,
            units,
            sector_names,
            sector_fields,
            enabled,
            seen: HashMap::new(),
            refused: Vec::new(),
            rows: 0,
            writing: true,
            deferred_indexes: Vec::new(),
            elsewhere_allowance,
        })
    }
}

impl PeopleImport<'_> {
    /// Checks a chunk of rows and, while the import is clean, writes it.
    pub async fn add(&mut self, rows: &[(usize, PersonInput)]) -> Result<()> {
        self.rows += rows.len();
        let mut checked = Vec::with_capacity(rows.len());
        let mut with_id: Vec<(usize, String)> = Vec::new();
        for (line, input) in rows {
            match self.check(*line, input) {
                Ok(row) => {
                    if let Some(id) = &input.id_number {
                        let index = self.store.keys.blind_index("id_number", id.as_str());
                        with_id.push((checked.len(), index));
                    }
                    checked.push((*line, row));
                }
                Err(refusal) => self.refused.push(refusal),
            }
        }
        // ID numbers already on record, in one query per chunk.
        let indexes: Vec<&String> = with_id.iter().map(|(_, index)| index).collect();
        let on_record: HashMap<String, person::Model> = if indexes.is_empty() {
            HashMap::new()
        } else {
            access::unguarded::<person::Entity>(Unguarded::Uniqueness)
                .filter(person::Column::IdNumberIndex.is_in(indexes))
                .all(&self.tx)
                .await?
                .into_iter()
                .filter_map(|p| p.id_number_index.clone().map(|index| (index, p)))
                .collect()
        };
        for (at, index) in &with_id {
            if let Some(existing) = on_record.get(index) {
                let visible = self
                    .actor
                    .covers(&UnitPath::from_stored(existing.unit_path.clone()));
                self.refused.push(RowRefusal {
                    line: checked[*at].0,
                    invalid: Invalid::new(Field::IdNumber, Reason::Taken),
                    existing: visible.then_some(existing.id),
                });
            }
        }
        if !self.refused.is_empty() {
            self.writing = false;
        }
        if self.writing {
            let clean: Vec<Checked<'_>> = checked.into_iter().map(|(_, row)| row).collect();
            self.write(clean).await?;
        }
        Ok(())
    }

    /// For a large import on SQLite: drops the secondary indexes of the tables it writes, to be
    /// built again in one pass each before the import commits, which is much cheaper than
    /// keeping them up to date row by row. Unique indexes stay (the duplicate checks use the ID
    /// number's). A rollback brings everything back; other connections keep seeing the indexes
    /// until the import commits. Does nothing on PostgreSQL, where dropping an index would lock
    /// the table for readers.
    pub async fn defer_indexes(&mut self) -> Result<()> {
        if self.tx.get_database_backend() != DbBackend::Sqlite || !self.deferred_indexes.is_empty()
        {
            return Ok(());
        }
        let rows = self
            .tx
            .query_all_raw(Statement::from_string(
                DbBackend::Sqlite,
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL \
                 AND tbl_name IN ('people', 'person_sectors', 'person_tags', 'person_history')",
            ))
            .await?;
        for row in rows {
            let name: String = row.try_get_by_index(0)?;
            let sql: String = row.try_get_by_index(1)?;
            self.tx
                .execute_unprepared(&format!("DROP INDEX \"{name}\""))
                .await?;
            self.deferred_indexes.push(sql);
        }
        Ok(())
    }

    /// Stops writing (the caller found a problem of its own); rows are still checked.
    pub fn stop_writing(&mut self) {
        self.writing = false;
    }

    /// Rows refused so far.
    pub fn refused(&self) -> &[RowRefusal] {
        &self.refused
    }

    /// Commits a clean import (audited with its row count) unless `dry_run`; otherwise rolls
    /// everything back.
    pub async fn finish(self, dry_run: bool) -> Result<ImportOutcome> {
        let mut refused = self.refused;
        refused.sort_by_key(|r| r.line);
        // ID numbers on record outside the importer's subtree: each refusal says so, but past
        // the hour's allowance the file gets one refusal that names no line.
        let elsewhere = refused
            .iter()
            .filter(|r| r.invalid.reason == Reason::Taken && r.existing.is_none())
            .count();
        if i64::try_from(elsewhere).unwrap_or(i64::MAX) > self.elsewhere_allowance {
            refused.retain(|r| !(r.invalid.reason == Reason::Taken && r.existing.is_none()));
            refused.insert(
                0,
                RowRefusal {
                    line: 0,
                    invalid: Invalid::new(
                        Field::IdNumber,
                        Reason::TooManyElsewhere {
                            count: u64::try_from(elsewhere).unwrap_or(u64::MAX),
                        },
                    ),
                    existing: None,
                },
            );
        }
        let keep = !dry_run && self.writing && refused.is_empty();
        if !keep {
            self.tx.rollback().await?;
            if elsewhere > 0 {
                self.store
                    .record_elsewhere(&self.actor, self.now, elsewhere, "import")
                    .await?;
            }
            if dry_run {
                self.store
                    .audit_alone(
                        self.now,
                        &self.actor,
                        Event::new("person.import_check")
                            .unit(self.actor.unit_path().as_str())
                            .detail(json!({ "rows": self.rows, "refused": refused.len() })),
                    )
                    .await?;
            }
            return Ok(ImportOutcome {
                rows: self.rows,
                refused,
                committed: false,
            });
        }
        for index in &self.deferred_indexes {
            self.tx.execute_unprepared(index).await?;
        }
        // New people may belong to campaigns' target populations.
        coverage::recount_all(&self.tx, self.now).await?;
        audit::append(
            &self.tx,
            &self.store.keys,
            self.now,
            &self.actor,
            Event::new("person.import")
                .unit(self.actor.unit_path().as_str())
                .detail(json!({ "rows": self.rows })),
        )
        .await?;
        let backend = self.tx.get_database_backend();
        self.tx.commit().await?;
        if backend == DbBackend::Postgres && self.rows >= ANALYZE_AFTER_ROWS {
            // Without fresh statistics PostgreSQL plans name searches as if the tables were
            // still small (ten times slower at a million people) until autovacuum catches up.
            self.store
                .db
                .execute_unprepared(
                    "ANALYZE people, person_sectors, person_tags, name_grams, person_history",
                )
                .await?;
        }
        Ok(ImportOutcome {
            rows: self.rows,
            refused,
            committed: true,
        })
    }

    /// Everything about one row that needs no query: the same rules as a single create.
    fn check<'a>(
        &mut self,
        line: usize,
        input: &'a PersonInput,
    ) -> std::result::Result<Checked<'a>, RowRefusal> {
        let refuse = |invalid| RowRefusal {
            line,
            invalid,
            existing: None,
        };
        let unit = self
            .units
            .get(&input.unit_id)
            .ok_or_else(|| refuse(Invalid::new(Field::Unit, Reason::NotFound)))?;
        if unit.archived_at.is_some() {
            return Err(refuse(Invalid::new(Field::Unit, Reason::Archived)));
        }
        if input
            .sectors
            .iter()
            .any(|m| !self.sector_names.contains_key(&m.sector_id))
        {
            return Err(refuse(Invalid::new(Field::Sector, Reason::NotFound)));
        }
        for (field, present) in [
            (SensitiveField::Ethnicity, input.ethnicity.is_some()),
            (SensitiveField::Religion, input.religion.is_some()),
        ] {
            if present && !self.enabled.contains(field.key()) {
                return Err(refuse(Invalid::new(field.core_field(), Reason::NotEnabled)));
            }
        }
        let values = membership_values(
            &distinct_sectors(input),
            &self.sector_fields,
            &self.sector_names,
            &[],
        )
        .map_err(refuse)?;
        if let Some(id) = &input.id_number {
            if let Some(first) = self.seen.get(&id_key(id)) {
                return Err(refuse(Invalid::new(
                    Field::IdNumber,
                    Reason::DuplicateInFile { line: *first },
                )));
            }
            self.seen.insert(id_key(id), line);
        }
        Ok(Checked { input, values })
    }

    /// Writes checked rows with multi-row inserts: people, memberships, tags, name bigrams
    /// and each person's creation in history.
    async fn write(&self, rows: Vec<Checked<'_>>) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let ids = allocate_person_ids(&self.tx, rows.len()).await?;
        let author = Author::of(&self.actor);
        let mut people = Vec::with_capacity(rows.len());
        let mut memberships = Vec::new();
        let mut tags = Vec::new();
        let mut grams = Vec::new();
        let mut history = Vec::new();
        let mut counted = Deltas::default();
        for (row, id) in rows.into_iter().zip(ids) {
            let input = row.input;
            let unit = self.units.get(&input.unit_id).ok_or(StoreError::NotFound)?;
            counted.add(&UnitPath::from_stored(unit.path.clone()), 1, 0);
            let mut model = self.store.person_model(id, unit, input);
            model.version = Set(1);
            model.archived_at = Set(None);
            model.created_at = Set(self.now.micros());
            model.updated_at = Set(self.now.micros());
            let own_memberships =
                distinct_sectors(input)
                    .into_iter()
                    .zip(row.values)
                    .map(|(m, extra)| person_sector::ActiveModel {
                        person_id: Set(id),
                        sector_id: Set(m.sector_id),
                        role: Set(m.role.clone()),
                        since: Set(m.since.map(date_text)),
                        extra: Set(extra),
                    });
            let own_tags: BTreeSet<&String> = input.tags.iter().collect();
            history.push(creation_entry(id, self.now, author));
            memberships.extend(own_memberships);
            tags.extend(own_tags.into_iter().map(|tag| person_tag::ActiveModel {
                person_id: Set(id),
                tag: Set(tag.clone()),
            }));
            grams.extend(
                bigrams(&input.name)
                    .into_iter()
                    .map(|gram| name_gram::ActiveModel {
                        gram: Set(gram),
                        person_id: Set(id),
                    }),
            );
            people.push(model);
        }
        insert_all(&self.tx, people, 30).await?;
        insert_all(&self.tx, memberships, 5).await?;
        insert_all(&self.tx, tags, 2).await?;
        insert_all(&self.tx, grams, 2).await?;
        insert_all(&self.tx, history, 9).await?;
        counted.apply(&self.tx).await?;
        Ok(())
    }
}

/// An ID number as a number: 17 digits and the check character (X as 10).
fn id_key(id: &IdNumber) -> u64 {
    id.as_str().bytes().fold(0u64, |key, b| {
        let digit = if b.is_ascii_digit() { b - b'0' } else { 10 };
        key.wrapping_mul(11).wrapping_add(u64::from(digit))
    })
}

/// Inserts `rows` of a table with `columns` columns, as many per statement as the engines'
/// parameter limits allow.
async fn insert_all<A, C>(conn: &C, rows: Vec<A>, columns: usize) -> Result<()>
where
    A: ActiveModelTrait + Send,
    C: ConnectionTrait,
{
    let per_statement = (MAX_PARAMS / columns).max(1);
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let batch: Vec<A> = rows.by_ref().take(per_statement).collect();
        A::Entity::insert_many(batch)
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}
