//! ID numbers on record in another part of the tree. An ID number is unique across the network,
//! so a refusal has to say it is taken, but never where; each such answer is audited, and an
//! account gets at most [`ELSEWHERE_PER_HOUR`] of them an hour, so nobody can quietly learn who
//! is registered in another county by creating or test-importing people.

use std::future::Future;

use sea_orm::{ColumnTrait, QueryFilter, QuerySelect};
use serde_json::json;
use tongxin_core::Timestamp;

use crate::Store;
use crate::access::{self, Actor, Unguarded};
use crate::audit::Event;
use crate::entity::audit_entry;
use crate::error::{Result, StoreError};

/// "On record elsewhere" answers an account may get an hour.
pub const ELSEWHERE_PER_HOUR: i64 = 20;

/// The audit action of such answers; its detail's `count` says how many one answer held.
const ELSEWHERE: &str = "person.duplicate_elsewhere";

impl Store {
    /// How many more "on record elsewhere" answers the actor may get this hour (the system,
    /// on the command line, is not limited).
    pub(crate) async fn elsewhere_allowance(&self, actor: &Actor, now: Timestamp) -> Result<i64> {
        let Some(user_id) = actor.user_id() else {
            return Ok(i64::MAX);
        };
        let details: Vec<String> = access::unguarded::<audit_entry::Entity>(Unguarded::Limits)
            .select_only()
            .column(audit_entry::Column::Detail)
            .filter(audit_entry::Column::ActorId.eq(user_id))
            .filter(audit_entry::Column::Action.eq(ELSEWHERE))
            .filter(audit_entry::Column::At.gt(now.plus_minutes(-60).micros()))
            .into_tuple()
            .all(&self.db)
            .await?;
        let used: i64 = details
            .iter()
            .filter_map(|d| serde_json::from_str::<serde_json::Value>(d).ok())
            .filter_map(|d| d["count"].as_i64())
            .sum();
        Ok((ELSEWHERE_PER_HOUR - used).max(0))
    }

    /// Audits `count` "on record elsewhere" answers (in a transaction of their own: the work
    /// that gave them was rolled back).
    pub(crate) async fn record_elsewhere(
        &self,
        actor: &Actor,
        now: Timestamp,
        count: usize,
        during: &str,
    ) -> Result<()> {
        self.audit_alone(
            now,
            actor,
            Event::new(ELSEWHERE)
                .unit(actor.unit_path().as_str())
                .detail(json!({ "count": count, "during": during })),
        )
        .await
    }

    /// Runs a create or update of a person: refused at once when it carries an ID number and
    /// the actor has used up the hour's allowance, and audited when it is refused because the
    /// number is on record outside the actor's subtree.
    pub(crate) async fn guarding_elsewhere<T>(
        &self,
        actor: &Actor,
        now: Timestamp,
        carries_id_number: bool,
        during: &str,
        work: impl Future<Output = Result<T>>,
    ) -> Result<T> {
        if carries_id_number && self.elsewhere_allowance(actor, now).await? == 0 {
            return Err(StoreError::TooManyProbes);
        }
        let result = work.await;
        if let Err(StoreError::DuplicatePerson { existing: None }) = &result {
            self.record_elsewhere(actor, now, 1, during).await?;
        }
        result
    }
}
