//! A case's timeline: every submission, transition, assignment, reply, note and decision, with
//! who and when, in order. Written in the transaction of the step it records.

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use tongxin_core::{Role, Timestamp};

use crate::Store;
use crate::access::{self, Actor, Unguarded};
use crate::entity::{case, case_event, user};
use crate::error::Result;

/// One step to record.
pub(crate) struct Step {
    action: String,
    from: Option<String>,
    to: Option<String>,
    body: Option<String>,
    internal: bool,
    detail: Option<serde_json::Value>,
}

impl Step {
    pub(crate) fn new(action: &str) -> Step {
        Step {
            action: action.to_owned(),
            from: None,
            to: None,
            body: None,
            internal: false,
            detail: None,
        }
    }

    pub(crate) fn from(mut self, state: &str) -> Step {
        self.from = Some(state.to_owned());
        self
    }

    pub(crate) fn to(mut self, state: &str) -> Step {
        self.to = Some(state.to_owned());
        self
    }

    pub(crate) fn body(mut self, body: Option<String>) -> Step {
        self.body = body;
        self
    }

    /// Only the staff side reads it, never the submitter.
    pub(crate) fn internal(mut self) -> Step {
        self.internal = true;
        self
    }

    pub(crate) fn detail(mut self, detail: serde_json::Value) -> Step {
        self.detail = Some(detail);
        self
    }
}

/// A step of a case's timeline, as its reader may see it.
#[derive(Debug, Clone)]
pub struct CaseEventView {
    pub id: i64,
    pub at: Timestamp,
    /// Who took the step; `None` when it was the system (a deadline passing) or when the
    /// submitter's name is kept from this reader.
    pub actor: Option<String>,
    pub actor_unit: String,
    pub action: String,
    pub from_state: Option<String>,
    pub to_state: Option<String>,
    pub body: Option<String>,
    pub internal: bool,
    pub detail: serde_json::Value,
}

/// Records `step` of `case`, taken by `actor` (the system when it has no account).
pub(crate) async fn record<C: ConnectionTrait>(
    conn: &C,
    now: Timestamp,
    actor: &Actor,
    case: &case::Model,
    step: Step,
) -> Result<case_event::Model> {
    Ok(case_event::ActiveModel {
        case_id: Set(case.id),
        at: Set(now.micros()),
        actor_id: Set(actor.user_id()),
        actor_name: Set(actor.display_name().chars().take(100).collect()),
        actor_unit: Set(actor.unit_name().chars().take(100).collect()),
        action: Set(step.action),
        from_state: Set(step.from),
        to_state: Set(step.to),
        body: Set(step.body),
        internal: Set(step.internal),
        detail: Set(step.detail.map(|d| d.to_string())),
        ..Default::default()
    }
    .insert(conn)
    .await?)
}

impl Store {
    /// The timeline of a case the actor may see, oldest first. Members read no internal step;
    /// a reader from whom the submitter's name is kept does not read it on the steps the
    /// submitter took (staff who entered a case on their behalf stay named).
    pub(crate) async fn timeline_of(
        &self,
        actor: &Actor,
        row: &case::Model,
    ) -> Result<Vec<CaseEventView>> {
        let id = row.id;
        let parties = super::parties(actor, row);
        // The accounts whose names are kept: the submitter's own (member accounts linked to
        // them), when they asked and the reader only handles the case.
        let kept: Vec<i64> = if row.name_withheld && super::hides_submitter(actor, row, &parties) {
            access::unguarded::<user::Entity>(Unguarded::Labels)
                .select_only()
                .column(user::Column::Id)
                .filter(user::Column::Role.eq(Role::Member.as_str()))
                .filter(user::Column::PersonId.eq(row.submitter_id))
                .into_tuple()
                .all(&self.db)
                .await?
        } else {
            Vec::new()
        };
        let mut events = access::unguarded::<case_event::Entity>(Unguarded::PartsOf)
            .filter(case_event::Column::CaseId.eq(id));
        // Whoever reaches a case from the tree works on or oversees it; members are kept from
        // internal steps.
        if actor.role() == Role::Member {
            events = events.filter(case_event::Column::Internal.eq(false));
        }
        let events = events
            .order_by_asc(case_event::Column::Id)
            .all(&self.db)
            .await?;
        Ok(events
            .into_iter()
            .map(|e| {
                let named = e.actor_id.is_some_and(|id| !kept.contains(&id));
                CaseEventView {
                    id: e.id,
                    at: Timestamp::from_micros(e.at),
                    actor: named.then_some(e.actor_name),
                    actor_unit: if named { e.actor_unit } else { String::new() },
                    action: e.action,
                    from_state: e.from_state,
                    to_state: e.to_state,
                    body: e.body,
                    internal: e.internal,
                    detail: e
                        .detail
                        .and_then(|d| serde_json::from_str(&d).ok())
                        .unwrap_or_default(),
                }
            })
            .collect())
    }
}
