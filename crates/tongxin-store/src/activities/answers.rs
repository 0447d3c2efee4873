//! Members' side: their invitations, and their answers (coming, or excused).

use std::collections::HashMap;

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::json;
use tongxin_core::{ActivityState, Attendance, Field, Invalid, Reason, Timestamp};

use crate::Store;
use crate::access::{self, Actor, Unguarded};
use crate::activities::tallies::TallyDeltas;
use crate::audit::{self, Event};
use crate::entity::{activity, invitation};
use crate::error::{Result, StoreError};

use super::ActivityView;

impl Store {
    /// A member answers an invitation before the activity starts: they will come (confirmed)
    /// or ask to be excused.
    pub async fn answer_invitation(
        &self,
        actor: &Actor,
        now: Timestamp,
        activity_id: i64,
        answer: Attendance,
    ) -> Result<()> {
        let field = Field::Named("status");
        if !matches!(answer, Attendance::Confirmed | Attendance::Excused) {
            return Err(Invalid::new(field, Reason::NotAChoice).into());
        }
        let person_id = actor.person_id().ok_or(StoreError::NotFound)?;
        let tx = self.begin_write().await?;
        let invite =
            access::find_to_change::<invitation::Entity, _>(&tx, actor, (activity_id, person_id))
                .await?;
        let activity = access::find::<activity::Entity, _>(&tx, actor, activity_id).await?;
        let open =
            activity.state == ActivityState::Planned.key() && now.micros() < activity.starts_at;
        let before = Attendance::parse(&invite.status).ok();
        let answerable = matches!(
            before,
            Some(Attendance::Invited | Attendance::Confirmed | Attendance::Excused)
        );
        if !open || !answerable {
            return Err(Invalid::new(field, Reason::WrongState).into());
        }
        invitation::ActiveModel {
            activity_id: Set(activity_id),
            person_id: Set(person_id),
            status: Set(answer.key().to_owned()),
            updated_at: Set(now.micros()),
            ..Default::default()
        }
        .update(&tx)
        .await?;
        let mut tallies = TallyDeltas::default();
        tallies.moved(activity_id, before, answer);
        tallies.apply(&tx).await?;
        audit::append(
            &tx,
            &self.keys,
            now,
            actor,
            Event::new("activity.answer")
                .target("activity", activity_id, &activity.title)
                .unit(&activity.unit_path)
                .detail(json!({ "status": answer.key() })),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Activities of the actor's own person record (members): what they are invited to.
    pub async fn my_activities(&self, actor: &Actor) -> Result<Vec<(ActivityView, Attendance)>> {
        let Some(person_id) = actor.person_id() else {
            return Ok(Vec::new());
        };
        let invites: HashMap<i64, String> =
            access::unguarded::<invitation::Entity>(Unguarded::PartsOf)
                .filter(invitation::Column::PersonId.eq(person_id))
                .all(&self.db)
                .await?
                .into_iter()
                .map(|i| (i.activity_id, i.status))
                .collect();
        let rows = access::visible::<activity::Entity>(actor)
            .filter(activity::Column::Id.is_in(invites.keys().copied()))
            .order_by_desc(activity::Column::StartsAt)
            .limit(200)
            .all(&self.db)
            .await?;
        Ok(self
            .activity_views(&self.db, rows)
            .await?
            .into_iter()
            .map(|a| {
                let status = invites
                    .get(&a.id)
                    .and_then(|s| Attendance::parse(s).ok())
                    .unwrap_or(Attendance::Invited);
                (a, status)
            })
            .collect())
    }
}
