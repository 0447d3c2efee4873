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

use super::ActivityView;

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

/// What a scanned link leads to, shown before the member presses anything: the activity and
/// whether checking in would be taken now.
#[derive(Debug, Clone)]
pub struct CheckInPreview {
    pub activity: ActivityView,
    pub opens_at: Timestamp,
    pub closes_at: Timestamp,
    pub admission: Admission,
}

/// Whether a person may check in to an activity now.
#[derive(Debug, Clone, PartialEq)]
pub enum Admission {
    Open,
    AlreadyCheckedIn,
    /// Refused, and why (not open yet, closed, cancelled, not invited, link expired).
    Refused(Invalid),
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
        self.verify_check_in_link(now, link)?;
        let person_id = actor
            .person_id()
            .ok_or_else(|| Invalid::new(CHECK_IN_FIELD, Reason::NotInTarget))?;
        let tx = self.begin_write().await?;
        let activity = linked_activity(&tx, link).await?;
        let outcome = self
            .record_check_in(&tx, actor, now, &activity, person_id)
            .await?;
        tx.commit().await?;
        Ok((outcome, activity.title))
    }

    /// What a scanned link shows before any button: the activity, its check-in window, and
    /// whether this member's check-in would be taken now. A forged link shows nothing.
    pub async fn check_in_preview(
        &self,
        actor: &Actor,
        now: Timestamp,
        link: &CheckInLink,
    ) -> Result<CheckInPreview> {
        let expired = match self.verify_check_in_link(now, link) {
            Ok(()) => None,
            Err(StoreError::Invalid(invalid)) if invalid.reason == Reason::LinkExpired => {
                Some(invalid)
            }
            Err(e) => return Err(e),
        };
        let activity = linked_activity(&self.db, link).await?;
        let admission = match (expired, actor.person_id()) {
            (Some(invalid), _) => Admission::Refused(invalid),
            (None, None) => Admission::Refused(Invalid::new(CHECK_IN_FIELD, Reason::NotInTarget)),
            (None, Some(person_id)) => admission(&self.db, &activity, person_id, now).await?.0,
        };
        let (opens_at, closes_at) = check_in_window(&activity);
        let activity = self
            .activity_views(&self.db, vec![activity])
            .await?
            .pop()
            .ok_or(StoreError::NotFound)?;
        Ok(CheckInPreview {
            activity,
            opens_at,
            closes_at,
            admission,
        })
    }

    fn verify_check_in_link(&self, now: Timestamp, link: &CheckInLink) -> Result<()> {
        if !self.keys.verify_link(
            &check_in_message(link.activity_id, link.until),
            &link.signature,
        ) {
            return Err(Invalid::new(CHECK_IN_FIELD, Reason::LinkForged).into());
        }
        if now.unix_seconds() > link.until {
            return Err(Invalid::new(CHECK_IN_FIELD, Reason::LinkExpired).into());
        }
        Ok(())
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
        let invite = match admission(conn, activity, person_id, now).await? {
            (Admission::Open, invite) => invite,
            (Admission::AlreadyCheckedIn, _) => return Ok(CheckIn::AlreadyCheckedIn),
            (Admission::Refused(invalid), _) => return Err(invalid.into()),
        };
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

/// The field check-in refusals are reported on.
const CHECK_IN_FIELD: Field = Field::Named("check_in");

/// The activity a verified link names. The signed link is the authority here: a member's
/// scope is their own record.
async fn linked_activity<C: ConnectionTrait>(
    conn: &C,
    link: &CheckInLink,
) -> Result<activity::Model> {
    access::unguarded_by_id::<activity::Entity>(Unguarded::SignedLink, link.activity_id)
        .one(conn)
        .await?
        .ok_or(StoreError::NotFound)
}

/// When members may check in: from an hour before the start to an hour after the end.
fn check_in_window(activity: &activity::Model) -> (Timestamp, Timestamp) {
    (
        Timestamp(activity.starts_at).plus_minutes(-CHECK_IN_MARGIN_MINUTES),
        Timestamp(activity.ends_at).plus_minutes(CHECK_IN_MARGIN_MINUTES),
    )
}

/// Whether `person_id` may check in to `activity` now, with the invitation they hold.
async fn admission<C: ConnectionTrait>(
    conn: &C,
    activity: &activity::Model,
    person_id: i64,
    now: Timestamp,
) -> Result<(Admission, Option<invitation::Model>)> {
    let refused = |reason| {
        Ok((
            Admission::Refused(Invalid::new(CHECK_IN_FIELD, reason)),
            None,
        ))
    };
    if activity.state == ActivityState::Cancelled.key() {
        return refused(Reason::WrongState);
    }
    let (opens, closes) = check_in_window(activity);
    if now < opens || now > closes {
        return refused(Reason::OutsideWindow);
    }
    let invite =
        access::unguarded_by_id::<invitation::Entity>(Unguarded::PartsOf, (activity.id, person_id))
            .one(conn)
            .await?;
    if invite
        .as_ref()
        .is_some_and(|i| i.status == Attendance::Attended.key())
    {
        return Ok((Admission::AlreadyCheckedIn, invite));
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
            return refused(Reason::NotInTarget);
        }
    }
    Ok((Admission::Open, invite))
}
