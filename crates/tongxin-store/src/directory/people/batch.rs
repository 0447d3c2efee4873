//! Changes to several people picked in the directory at once: tagging and archiving. All or
//! nothing: one person the actor may not change refuses the whole batch, naming every refused
//! one, and nothing is written.

use std::collections::BTreeSet;

use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;
use tongxin_core::{Field, Invalid, Reason, Timestamp, parse_optional_text};

use super::history::{Author, record_history};
use super::{tags_of, tags_value};
use crate::Store;
use crate::access::{self, Actor};
use crate::audit::{self, Event};
use crate::entity::{person, person_tag};
use crate::error::Result;

/// The most people one batch changes: a page of the directory at its largest, with room.
pub const BATCH_MAX: usize = 500;

/// What a batch does to each person picked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeopleChange {
    /// Adds a tag (people who have it keep it once).
    Tag(String),
    /// Archives (people archived already stay as they are).
    Archive,
}

impl Store {
    /// Applies `change` to every person of `ids`, or to none. Returns how many changed.
    pub async fn change_people(
        &self,
        actor: &Actor,
        now: Timestamp,
        ids: &[i64],
        change: &PeopleChange,
    ) -> Result<u64> {
        actor.require_editor()?;
        let field = Field::Named("people");
        let ids: BTreeSet<i64> = ids.iter().copied().collect();
        if ids.is_empty() {
            return Err(Invalid::new(field, Reason::Required).into());
        }
        if ids.len() > BATCH_MAX {
            return Err(Invalid::new(
                field,
                Reason::TooMany {
                    max: BATCH_MAX as u64,
                },
            )
            .into());
        }
        let tag = match change {
            PeopleChange::Tag(raw) => Some(
                parse_optional_text(Field::Named("tags"), raw, 50)?
                    .ok_or_else(|| Invalid::new(Field::Named("tags"), Reason::Required))?,
            ),
            PeopleChange::Archive => None,
        };
        let tx = self.begin_write().await?;
        let rows = access::changeable::<person::Entity>(actor)
            .filter(person::Column::Id.is_in(ids.iter().copied()))
            .all(&tx)
            .await?;
        let found: BTreeSet<i64> = rows.iter().map(|r| r.id).collect();
        let refused: Vec<u64> = ids
            .difference(&found)
            .map(|id| u64::try_from(*id).unwrap_or_default())
            .collect();
        if !refused.is_empty() {
            return Err(Invalid::new(field, Reason::RefusedPeople { ids: refused }).into());
        }
        let mut changed = 0;
        for current in rows {
            let done = match &tag {
                Some(tag) => self.add_tag(&tx, actor, now, current, tag).await?,
                None if current.archived_at.is_some() => false,
                None => {
                    self.archive_row(&tx, actor, now, current, true).await?;
                    true
                }
            };
            changed += u64::from(done);
        }
        tx.commit().await?;
        Ok(changed)
    }

    /// Adds `tag` to the person `current`, with the tags' history and an audit event; false
    /// when they have it already.
    async fn add_tag<C: ConnectionTrait>(
        &self,
        conn: &C,
        actor: &Actor,
        now: Timestamp,
        current: person::Model,
        tag: &str,
    ) -> Result<bool> {
        let mut tags = tags_of(conn, current.id).await?;
        if tags.iter().any(|t| t == tag) {
            return Ok(false);
        }
        person_tag::Entity::insert(person_tag::ActiveModel {
            person_id: Set(current.id),
            tag: Set(tag.to_owned()),
        })
        .exec_without_returning(conn)
        .await?;
        let before = vec![("tags", tags_value(tags.clone()))];
        tags.push(tag.to_owned());
        let after = vec![("tags", tags_value(tags))];
        let version = current.version + 1;
        let updated = person::ActiveModel {
            id: Set(current.id),
            version: Set(version),
            updated_at: Set(now.micros()),
            ..Default::default()
        }
        .update(conn)
        .await?;
        let changed = record_history(
            conn,
            current.id,
            version,
            now,
            Author::of(actor),
            &before,
            &after,
        )
        .await?;
        audit::append(
            conn,
            &self.keys,
            now,
            actor,
            Event::new("person.update")
                .target("person", current.id, &updated.name)
                .unit(&updated.unit_path)
                .detail(json!({ "fields": changed, "version": version })),
        )
        .await?;
        Ok(true)
    }
}
