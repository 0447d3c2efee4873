//! A person record's history: one entry per changed field, masked where protected.

use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};
use tongxin_core::{HistoryEntry, Timestamp};

use crate::Store;
use crate::access::{self, Actor, Unguarded};
use crate::entity::person_history;
use crate::error::Result;

use super::Snapshot;

/// Who a history row names: the account that made the change and, for an approved
/// self-declared change, the member who proposed it.
#[derive(Clone, Copy)]
pub(crate) struct Author<'a> {
    pub name: &'a str,
    pub proposed_by: Option<&'a str>,
}

impl<'a> Author<'a> {
    pub fn of(actor: &'a Actor) -> Self {
        Author {
            name: actor.username(),
            proposed_by: None,
        }
    }
}

/// The history's first entry: who created the record, and when. The values themselves are
/// the record's; later entries say what changed from them.
pub(crate) fn creation_entry(
    person_id: i64,
    now: Timestamp,
    author: Author<'_>,
) -> person_history::ActiveModel {
    person_history::ActiveModel {
        person_id: Set(person_id),
        version: Set(1),
        at: Set(now.micros()),
        actor_name: Set(author.name.to_owned()),
        field: Set(CREATED.to_owned()),
        old_value: Set(None),
        new_value: Set(None),
        proposed_by: Set(None),
        ..Default::default()
    }
}

/// The history field of a record's creation.
const CREATED: &str = "created";

/// Writes one history row per field that differs; returns the changed field names.
pub(crate) async fn record_history<C: ConnectionTrait>(
    conn: &C,
    person_id: i64,
    version: i32,
    now: Timestamp,
    author: Author<'_>,
    before: &Snapshot,
    after: &Snapshot,
) -> Result<Vec<&'static str>> {
    let mut changed = Vec::new();
    let mut rows = Vec::new();
    for (field, new_value) in after {
        let old_value = before
            .iter()
            .find(|(f, _)| f == field)
            .and_then(|(_, v)| v.clone());
        if &old_value == new_value {
            continue;
        }
        changed.push(*field);
        rows.push(person_history::ActiveModel {
            person_id: Set(person_id),
            version: Set(version),
            at: Set(now.micros()),
            actor_name: Set(author.name.to_owned()),
            field: Set((*field).to_owned()),
            old_value: Set(old_value),
            new_value: Set(new_value.clone()),
            proposed_by: Set(author.proposed_by.map(str::to_owned)),
            ..Default::default()
        });
    }
    if !rows.is_empty() {
        person_history::Entity::insert_many(rows)
            .exec_without_returning(conn)
            .await?;
    }
    Ok(changed)
}

/// History rows of changes after `version`, newest first.
pub(super) async fn history_since<C: ConnectionTrait>(
    conn: &C,
    person_id: i64,
    version: i32,
) -> Result<Vec<HistoryEntry>> {
    Ok(
        access::unguarded::<person_history::Entity>(Unguarded::PartsOf)
            .filter(person_history::Column::PersonId.eq(person_id))
            .filter(person_history::Column::Version.gt(version))
            .order_by_desc(person_history::Column::Version)
            .order_by_asc(person_history::Column::Id)
            .all(conn)
            .await?
            .into_iter()
            .map(|h| HistoryEntry {
                version: h.version,
                at: Timestamp::from_micros(h.at),
                actor_name: h.actor_name,
                field: h.field,
                old_value: h.old_value,
                new_value: h.new_value,
                proposed_by: h.proposed_by,
            })
            .collect(),
    )
}

impl Store {
    /// The change history of a person, newest first.
    pub async fn person_history(&self, actor: &Actor, id: i64) -> Result<Vec<HistoryEntry>> {
        actor.require_staff_area()?;
        self.find_person(&self.db, actor, id).await?;
        history_since(&self.db, id, 0).await
    }
}
