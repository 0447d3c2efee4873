//! Check-in: signed links shown as a QR code in the room, members scanning them, staff
//! checking a person in by name.

use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait, sea_query::OnConflict};
use serde_json::json;
use tongxin_core::{ActivityState, Attendance, Field, Invalid, Reason, Timestamp};

use crate::Store;
use crate::access::{self, Actor, Unguarded};
use crate::activities::tallies::TallyDeltas;
use crate::audit::{self, Event};
use crate::campaigns::coverage;
use crate::entity::{activity, campaign_target, invitation, person};
use crate::error::{Result, StoreError};

/// How long before the start and after the end members may check in, in minutes.
pub const CHECK_IN_MARGIN_MINUTES: i64 = 60;

/// How long a check-in link shown as a QR code stays valid, in seconds: long enough to scan
/// and press the button, too short for a photo of the screen sent to someone not in the room.
pub const CHECK_IN_LINK_SECONDS: i64 = 90;

/// How often the room's screen shows a fresh link, in seconds.
pub const CHECK_IN_SCREEN_REFRESH_SECONDS: i64 = 30;

/// The result of a check-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckIn {
    CheckedIn,
    /// Checked in before; nothing changed.
    AlreadyCheckedIn,
}

/// A signed, time-limited check-in link's parts.
#[derive(Debug, Clone)]
pub struct CheckInLink {
    pub activity_id: i64,
    /// Unix seconds after which the link is refused.
    pub until: i64,
    pub signature: String,
}

fn check_in_message(activity_id: i64, until: i64) -> String {
    format!("check-in:{activity_id}:{until}")
}

impl Store {
    /// A signed link for the check-in screen's QR code, valid for a minute and a half.
    pub async fn check_in_link(
        &self,
        actor: &Actor,
        now: Timestamp,
        activity_id: i64,
    ) -> Result<CheckInLink> {
        actor.require_editor()?;
        let activity = access::find::<activity::Entity, _>(&self.db, actor, activity_id).await?;
        if activity.state == ActivityState::Cancelled.key() {
            return Err(Invalid::new(Field::Named("state"), Reason::WrongState).into());
        }
        let until = now.plus_seconds(CHECK_IN_LINK_SECONDS).unix_seconds();
        Ok(CheckInLink {
            activity_id,
            until,
            signature: self.keys.sign_link(&check_in_message(activity_id, until)),
        })
    }

    /// A member checks in with a scanned link: the link must be genuine and current, the
    /// activity open for check-in, and the member invited or in the campaign's target.
    pub async fn check_in_with_link(
        &self,
        actor: &Actor,
        now: Timestamp,
        link: &CheckInLink,
    ) -> Result<(CheckIn, String)> {
        let field = Field::Named("check_in");
        if !self.keys.verify_link(
            &check_in_message(link.activity_id, link.until),
            &link.signature,
        ) {
            return Err(Invalid::new(field, Reason::LinkForged).into());
        }
        if now.unix_seconds() > link.until {
            return Err(Invalid::new(field, Reason::LinkExpired).into());
        }
        let person_id = actor
            .person_id()
            .ok_or_else(|| Invalid::new(field, Reason::NotInTarget))?;
        let tx = self.begin_write().await?;
        // The signed link is the authority here: a member's scope is their own record.
        let activity =
            access::unguarded_by_id::<activity::Entity>(Unguarded::SignedLink, link.activity_id)
                .one(&tx)
                .await?
                .ok_or(StoreError::NotFound)?;
        let outcome = self
            .record_check_in(&tx, actor, now, &activity, person_id)
            .await?;
        tx.commit().await?;
        Ok((outcome, activity.title))
    }

    /// Staff check a person of their subtree in by name.
    pub async fn check_in_person(
        &self,
        actor: &Actor,
        now: Timestamp,
        activity_id: i64,
        person_id: i64,
    ) -> Result<CheckIn> {
        actor.require_editor()?;
        let tx = self.begin_write().await?;
        let activity = access::find::<activity::Entity, _>(&tx, actor, activity_id).await?;
        access::find::<person::Entity, _>(&tx, actor, person_id).await?;
        let outcome = self
            .record_check_in(&tx, actor, now, &activity, person_id)
            .await?;
        tx.commit().await?;
        Ok(outcome)
    }

    async fn record_check_in<C: ConnectionTrait>(
        &self,
        conn: &C,
        actor: &Actor,
        now: Timestamp,
        activity: &activity::Model,
        person_id: i64,
    ) -> Result<CheckIn> {
        let field = Field::Named("check_in");
        if activity.state == ActivityState::Cancelled.key() {
            return Err(Invalid::new(field, Reason::WrongState).into());
        }
        let opens = Timestamp(activity.starts_at).plus_minutes(-CHECK_IN_MARGIN_MINUTES);
        let closes = Timestamp(activity.ends_at).plus_minutes(CHECK_IN_MARGIN_MINUTES);
        if now < opens || now > closes {
            return Err(Invalid::new(field, Reason::OutsideWindow).into());
        }
        let invite = access::unguarded_by_id::<invitation::Entity>(
            Unguarded::PartsOf,
            (activity.id, person_id),
        )
        .one(conn)
        .await?;
        if invite
            .as_ref()
            .is_some_and(|i| i.status == Attendance::Attended.key())
        {
            return Ok(CheckIn::AlreadyCheckedIn);
        }
        if invite.is_none() {
            let targeted = match activity.campaign_id {
                Some(campaign) => access::unguarded_by_id::<campaign_target::Entity>(
                    Unguarded::Counters,
                    (campaign, person_id),
                )
                .one(conn)
                .await?
                .is_some(),
                None => false,
            };
            if !targeted {
                return Err(Invalid::new(field, Reason::NotInTarget).into());
            }
        }
        invitation::Entity::insert(invitation::ActiveModel {
            activity_id: Set(activity.id),
            person_id: Set(person_id),
            status: Set(Attendance::Attended.key().to_owned()),
            checked_in_at: Set(Some(now.micros())),
            updated_at: Set(now.micros()),
        })
        .on_conflict(
            OnConflict::columns([invitation::Column::ActivityId, invitation::Column::PersonId])
                .update_columns([
                    invitation::Column::Status,
                    invitation::Column::CheckedInAt,
                    invitation::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec(conn)
        .await?;
        let mut tallies = TallyDeltas::default();
        let before = invite.and_then(|i| Attendance::parse(&i.status).ok());
        tallies.moved(activity.id, before, Attendance::Attended);
        tallies.apply(conn).await?;
        if let Some(campaign) = activity.campaign_id {
            coverage::sync(conn, Some(&[campaign]), &[person_id], now).await?;
        }
        audit::append(
            conn,
            &self.keys,
            now,
            actor,
            Event::new("activity.check_in")
                .target("activity", activity.id, &activity.title)
                .unit(&activity.unit_path)
                .detail(json!({ "person": person_id })),
        )
        .await?;
        Ok(CheckIn::CheckedIn)
    }
}
