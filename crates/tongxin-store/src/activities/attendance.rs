//! Attendance: the list of who came, and marking it.

use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::json;
use tongxin_core::{ActivityState, Attendance, Field, Invalid, Reason, Timestamp};

use crate::Store;
use crate::access::{self, Actor, Unguarded};
use crate::activities::tallies::TallyDeltas;
use crate::audit::{self, Event};
use crate::campaigns::coverage;
use crate::directory::access_log::{self, AccessKind};
use crate::entity::{activity, invitation, person};
use crate::error::{Result, StoreError};

use super::{ActivityView, InvitationView};

impl Store {
    /// Every invitee of an activity, for the attendance list export (audited).
    pub async fn attendance_list(
        &self,
        actor: &Actor,
        now: Timestamp,
        activity_id: i64,
    ) -> Result<(ActivityView, Vec<InvitationView>)> {
        actor.require_staff_area()?;
        let model = access::find::<activity::Entity, _>(&self.db, actor, activity_id).await?;
        let unit_path = model.unit_path.clone();
        let activity = self
            .activity_views(&self.db, vec![model])
            .await?
            .pop()
            .ok_or(StoreError::NotFound)?;
        let people = access::visible::<person::Entity>(actor)
            .filter(
                person::Column::Id.in_subquery(
                    sea_orm::sea_query::Query::select()
                        .column(invitation::Column::PersonId)
                        .from(invitation::Entity)
                        .and_where(invitation::Column::ActivityId.eq(activity_id))
                        .to_owned(),
                ),
            )
            .order_by_asc(person::Column::NameSort)
            .all(&self.db)
            .await?;
        let list = self.invitation_views(activity_id, people).await?;
        let tx = self.begin_write().await?;
        audit::append(
            &tx,
            &self.keys,
            now,
            actor,
            Event::new("activity.attendance_export")
                .target("activity", activity_id, &activity.title)
                .unit(&unit_path)
                .detail(json!({ "rows": list.len() })),
        )
        .await?;
        let exported: Vec<i64> = list.iter().map(|i| i.person_id).collect();
        access_log::record(&tx, now, actor, AccessKind::Export, &exported, None).await?;
        tx.commit().await?;
        Ok((activity, list))
    }

    /// Marks invitees' attendance in bulk. Every person must be invited; the activity must not
    /// be cancelled. Returns how many changed.
    pub async fn mark_attendance(
        &self,
        actor: &Actor,
        now: Timestamp,
        activity_id: i64,
        people: &[i64],
        status: Attendance,
    ) -> Result<u64> {
        actor.require_editor()?;
        let tx = self.begin_write().await?;
        let activity = access::find::<activity::Entity, _>(&tx, actor, activity_id).await?;
        let state = ActivityState::parse(&activity.state).unwrap_or(ActivityState::Planned);
        if !state.takes_attendance() {
            return Err(Invalid::new(Field::Named("state"), Reason::WrongState).into());
        }
        let mut ids = people.to_vec();
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() {
            return Err(Invalid::new(Field::Named("invitees"), Reason::Required).into());
        }
        let mut changed = 0;
        let mut tallies = TallyDeltas::default();
        for chunk in ids.chunks(500) {
            // Both by primary key: the people of the chunk within scope, and their invitations.
            let in_scope: Vec<i64> = access::visible::<person::Entity>(actor)
                .select_only()
                .column(person::Column::Id)
                .filter(person::Column::Id.is_in(chunk.iter().copied()))
                .into_tuple()
                .all(&tx)
                .await?;
            let invited: Vec<i64> = access::unguarded::<invitation::Entity>(Unguarded::PartsOf)
                .select_only()
                .column(invitation::Column::PersonId)
                .filter(invitation::Column::ActivityId.eq(activity_id))
                .filter(invitation::Column::PersonId.is_in(in_scope))
                .into_tuple()
                .all(&tx)
                .await?;
            if let Some(missing) = chunk.iter().find(|id| !invited.contains(id)) {
                let id = u64::try_from(*missing).unwrap_or(0);
                return Err(
                    Invalid::new(Field::Named("invitees"), Reason::UnknownPerson { id }).into(),
                );
            }
            // What the changed invitations were before, for the tallies.
            let before: Vec<(String, i64)> =
                access::unguarded::<invitation::Entity>(Unguarded::PartsOf)
                    .select_only()
                    .column(invitation::Column::Status)
                    .column_as(invitation::Column::PersonId.count(), "n")
                    .filter(invitation::Column::ActivityId.eq(activity_id))
                    .filter(invitation::Column::PersonId.is_in(chunk.iter().copied()))
                    .filter(invitation::Column::Status.ne(status.key()))
                    .group_by(invitation::Column::Status)
                    .into_tuple()
                    .all(&tx)
                    .await?;
            for (was, n) in before {
                if let Ok(was) = Attendance::parse(&was) {
                    tallies.add(activity_id, was, -n);
                    tallies.add(activity_id, status, n);
                }
            }
            let checked_in = match status {
                Attendance::Attended => Some(now.micros()),
                _ => None,
            };
            let result = access::update_rows::<invitation::Entity>(Unguarded::PartsOf)
                .col_expr(invitation::Column::Status, status.key().into())
                .col_expr(invitation::Column::CheckedInAt, checked_in.into())
                .col_expr(invitation::Column::UpdatedAt, now.micros().into())
                .filter(invitation::Column::ActivityId.eq(activity_id))
                .filter(invitation::Column::PersonId.is_in(chunk.iter().copied()))
                .filter(invitation::Column::Status.ne(status.key()))
                .exec(&tx)
                .await?;
            changed += result.rows_affected;
        }
        tallies.apply(&tx).await?;
        if let Some(campaign) = activity.campaign_id {
            coverage::sync(&tx, Some(&[campaign]), &ids, now).await?;
        }
        audit::append(
            &tx,
            &self.keys,
            now,
            actor,
            Event::new("activity.attendance")
                .target("activity", activity_id, &activity.title)
                .unit(&activity.unit_path)
                .detail(json!({ "status": status.key(), "people": ids.len(), "changed": changed })),
        )
        .await?;
        tx.commit().await?;
        Ok(changed)
    }
}
