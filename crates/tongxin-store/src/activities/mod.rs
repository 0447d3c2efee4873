//! Activities (study sessions, lectures, forums, trainings…) of the actor's subtree: their kinds,
//! their life from planned to summarized, invitations and attendance, photos.

mod answers;
mod attendance;
pub(crate) mod calendar;
mod check_in;
pub(crate) mod filters;
mod invitations;
mod kinds;
mod photos;
pub(crate) mod tallies;

pub use check_in::{
    Admission, CHECK_IN_LINK_SECONDS, CHECK_IN_MARGIN_MINUTES, CHECK_IN_SCREEN_REFRESH_SECONDS,
    CheckIn, CheckInLink, CheckInPreview,
};
pub(crate) use invitations::insert_invitations;
pub use invitations::{InvitationView, Invitees, MAX_INVITES_PER_REQUEST};
pub use kinds::ActivityKindView;
pub use photos::PhotoView;

use std::collections::HashMap;

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, Order,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::json;
use tongxin_core::{ActivityState, Attendance, Field, Invalid, Reason, Timestamp};

use crate::Store;
use crate::access::{self, Actor, Unguarded, filing_unit};
use crate::audit::{self, Event};
use crate::campaigns::coverage;
use crate::entity::{
    activity, activity_kind, activity_material, campaign, invitation, material, organization,
};
use crate::error::{Result, StoreError};
use crate::like;
use crate::notifications;
use crate::page::{Page, PageRequest, Walk, along, capped_count};
use crate::units::unit_names;

/// An activity to create or replace, already parsed.
#[derive(Debug, Clone)]
pub struct ActivityInput {
    pub kind_id: i64,
    pub unit_id: i64,
    pub title: String,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub venue_id: Option<i64>,
    pub place: Option<String>,
    pub campaign_id: Option<i64>,
    pub agenda: Option<String>,
    pub material_ids: Vec<i64>,
}

/// How many invitees are in each state.
#[derive(Debug, Clone, Copy, Default)]
pub struct AttendanceCounts {
    pub invited: u64,
    pub confirmed: u64,
    pub attended: u64,
    pub absent: u64,
    pub excused: u64,
}

impl AttendanceCounts {
    pub fn total(&self) -> u64 {
        self.invited + self.confirmed + self.attended + self.absent + self.excused
    }
}

/// An activity as listed and shown.
#[derive(Debug, Clone)]
pub struct ActivityView {
    pub id: i64,
    pub kind: (i64, String),
    pub unit_id: i64,
    pub unit_name: String,
    pub title: String,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub venue: Option<(i64, String)>,
    pub place: Option<String>,
    pub campaign: Option<(i64, String)>,
    pub agenda: Option<String>,
    pub state: ActivityState,
    pub cancel_reason: Option<String>,
    pub minutes: Option<String>,
    pub counts: AttendanceCounts,
}

impl ActivityView {
    /// Where it happens: the venue's name, or the free text.
    pub fn place_text(&self) -> String {
        match (&self.venue, &self.place) {
            (Some((_, venue)), _) => venue.clone(),
            (None, Some(place)) => place.clone(),
            (None, None) => String::new(),
        }
    }
}

/// Filters of the activity list and calendar.
#[derive(Debug, Clone, Default)]
pub struct ActivityQuery {
    pub q: Option<String>,
    /// Only this unit's subtree (within the actor's).
    pub unit_id: Option<i64>,
    pub kind_id: Option<i64>,
    pub campaign_id: Option<i64>,
    pub state: Option<ActivityState>,
    /// Starting at or after.
    pub from: Option<Timestamp>,
    /// Starting before.
    pub until: Option<Timestamp>,
    /// The earliest first instead of the latest.
    pub reversed: bool,
}

/// Where an activity goes next.
#[derive(Debug, Clone)]
pub enum ActivityChange {
    Held,
    Summarized { minutes: String },
    Cancelled { reason: String },
}

/// How a page of activities is read: newest first, or through the subtree's index.
pub(crate) const ACTIVITY_WALK: Walk = Walk {
    table: "activities",
    order: "idx_activities_starts_at",
    subtree: "idx_activities_unit_path",
};

impl Store {
    async fn activity_views<C: ConnectionTrait>(
        &self,
        conn: &C,
        rows: Vec<activity::Model>,
    ) -> Result<Vec<ActivityView>> {
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let kinds: HashMap<i64, String> =
            access::unguarded::<activity_kind::Entity>(Unguarded::Reference)
                .all(conn)
                .await?
                .into_iter()
                .map(|k| (k.id, k.name))
                .collect();
        let units = unit_names(conn, rows.iter().map(|r| r.unit_id)).await?;
        let venues: HashMap<i64, String> =
            access::unguarded::<organization::Entity>(Unguarded::Labels)
                .filter(organization::Column::Id.is_in(rows.iter().filter_map(|r| r.venue_id)))
                .all(conn)
                .await?
                .into_iter()
                .map(|o| (o.id, o.name))
                .collect();
        let campaigns: HashMap<i64, String> =
            access::unguarded::<campaign::Entity>(Unguarded::Labels)
                .filter(campaign::Column::Id.is_in(rows.iter().filter_map(|r| r.campaign_id)))
                .all(conn)
                .await?
                .into_iter()
                .map(|c| (c.id, c.title))
                .collect();
        let counts = tallies::of_activities(conn, &ids).await?;
        Ok(rows
            .into_iter()
            .map(|a| ActivityView {
                kind: (
                    a.kind_id,
                    kinds.get(&a.kind_id).cloned().unwrap_or_default(),
                ),
                unit_name: units.get(&a.unit_id).cloned().unwrap_or_default(),
                venue: a
                    .venue_id
                    .map(|id| (id, venues.get(&id).cloned().unwrap_or_default())),
                campaign: a
                    .campaign_id
                    .map(|id| (id, campaigns.get(&id).cloned().unwrap_or_default())),
                state: ActivityState::parse(&a.state).unwrap_or(ActivityState::Planned),
                counts: counts.get(&a.id).copied().unwrap_or_default(),
                id: a.id,
                unit_id: a.unit_id,
                title: a.title,
                starts_at: Timestamp(a.starts_at),
                ends_at: Timestamp(a.ends_at),
                place: a.place,
                agenda: a.agenda,
                cancel_reason: a.cancel_reason,
                minutes: a.minutes,
            })
            .collect())
    }

    /// Counts every activity's kept tallies again from the invitations on record: for a bulk
    /// load written around the store (the benchmark's synthetic attendance).
    pub async fn recount_activity_tallies(&self) -> Result<()> {
        let tx = self.begin_write().await?;
        tallies::recount_all(&tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// One activity of the actor's subtree.
    pub async fn activity(&self, actor: &Actor, id: i64) -> Result<ActivityView> {
        actor.require_staff_area()?;
        let model = access::find::<activity::Entity, _>(&self.db, actor, id).await?;
        let mut views = self.activity_views(&self.db, vec![model]).await?;
        views.pop().ok_or(StoreError::NotFound)
    }

    /// Activities of the actor's subtree, the latest first.
    pub async fn activities(
        &self,
        actor: &Actor,
        query: &ActivityQuery,
        page: PageRequest,
    ) -> Result<Page<ActivityView>> {
        actor.require_staff_area()?;
        let mut select = access::visible::<activity::Entity>(actor);
        if let Some(unit_id) = query.unit_id {
            let path = self.subtree_of(actor, unit_id).await?;
            select = select
                .filter(activity::Column::UnitPath.gte(path.as_str()))
                .filter(activity::Column::UnitPath.lt(path.upper_bound()));
        }
        if let Some(q) = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            select = select.filter(like::contains(activity::Column::Title, q));
        }
        if let Some(kind) = query.kind_id {
            select = select.filter(activity::Column::KindId.eq(kind));
        }
        if let Some(campaign) = query.campaign_id {
            select = select.filter(activity::Column::CampaignId.eq(campaign));
        }
        if let Some(state) = query.state {
            select = select.filter(activity::Column::State.eq(state.key()));
        }
        if let Some(from) = query.from {
            select = select.filter(activity::Column::StartsAt.gte(from.micros()));
        }
        if let Some(until) = query.until {
            select = select.filter(activity::Column::StartsAt.lt(until.micros()));
        }
        let total = capped_count(select.clone(), &self.db).await?;
        let ordered = select
            .order_by(
                activity::Column::StartsAt,
                along(Order::Desc, query.reversed),
            )
            .order_by(activity::Column::Id, along(Order::Desc, query.reversed))
            .offset(page.offset())
            .limit(page.per_page);
        let statement = ACTIVITY_WALK.statement(ordered.clone(), total, self.engine());
        let rows = ordered.from_raw_sql(statement).all(&self.db).await?;
        Ok(Page::new(
            self.activity_views(&self.db, rows).await?,
            total,
            page,
        ))
    }

    /// Checks an activity's input against the database and returns its columns.
    async fn activity_columns<C: ConnectionTrait>(
        &self,
        conn: &C,
        actor: &Actor,
        input: &ActivityInput,
    ) -> Result<activity::ActiveModel> {
        if input.ends_at <= input.starts_at {
            return Err(Invalid::new(Field::Named("ends_at"), Reason::EndsBeforeStart).into());
        }
        let unit = filing_unit(conn, actor, input.unit_id, Field::Unit).await?;
        let kind =
            access::unguarded_by_id::<activity_kind::Entity>(Unguarded::Reference, input.kind_id)
                .one(conn)
                .await?
                .ok_or_else(|| Invalid::new(Field::Named("kind"), Reason::NotFound))?;
        if kind.archived_at.is_some() {
            return Err(Invalid::new(Field::Named("kind"), Reason::Archived).into());
        }
        if let Some(venue_id) = input.venue_id {
            let venue = access::find::<organization::Entity, _>(conn, actor, venue_id)
                .await
                .map_err(|_| Invalid::new(Field::Named("venue"), Reason::NotFound))?;
            if !venue.is_venue || venue.archived_at.is_some() {
                return Err(Invalid::new(Field::Named("venue"), Reason::NotFound).into());
            }
        }
        if let Some(campaign_id) = input.campaign_id {
            access::find::<campaign::Entity, _>(conn, actor, campaign_id)
                .await
                .map_err(|_| Invalid::new(Field::Named("campaign"), Reason::NotFound))?;
        }
        self.check_materials(conn, actor, &input.material_ids)
            .await?;
        Ok(activity::ActiveModel {
            kind_id: Set(kind.id),
            unit_id: Set(unit.id),
            unit_path: Set(unit.path),
            title: Set(input.title.clone()),
            starts_at: Set(input.starts_at.micros()),
            ends_at: Set(input.ends_at.micros()),
            venue_id: Set(input.venue_id),
            place: Set(if input.venue_id.is_some() {
                None
            } else {
                input.place.clone()
            }),
            campaign_id: Set(input.campaign_id),
            agenda: Set(input.agenda.clone()),
            ..Default::default()
        })
    }

    /// Refuses material ids that are not materials of the actor's subtree.
    pub(crate) async fn check_materials<C: ConnectionTrait>(
        &self,
        conn: &C,
        actor: &Actor,
        ids: &[i64],
    ) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let found = access::visible::<material::Entity>(actor)
            .filter(material::Column::Id.is_in(ids.iter().copied()))
            .count(conn)
            .await?;
        let wanted = ids.iter().collect::<std::collections::BTreeSet<_>>().len() as u64;
        if found != wanted {
            return Err(Invalid::new(Field::Named("materials"), Reason::NotFound).into());
        }
        Ok(())
    }

    async fn set_activity_materials<C: ConnectionTrait>(
        &self,
        conn: &C,
        activity_id: i64,
        ids: &[i64],
    ) -> Result<()> {
        access::delete_rows::<activity_material::Entity>(Unguarded::PartsOf)
            .filter(activity_material::Column::ActivityId.eq(activity_id))
            .exec(conn)
            .await?;
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        if !ids.is_empty() {
            activity_material::Entity::insert_many(ids.into_iter().map(|material_id| {
                activity_material::ActiveModel {
                    activity_id: Set(activity_id),
                    material_id: Set(material_id),
                }
            }))
            .exec(conn)
            .await?;
        }
        Ok(())
    }

    /// Plans an activity in a unit of the actor's subtree.
    pub async fn create_activity(
        &self,
        actor: &Actor,
        now: Timestamp,
        input: &ActivityInput,
    ) -> Result<ActivityView> {
        actor.require_editor()?;
        let tx = self.begin_write().await?;
        let created = self.insert_activity(&tx, actor, now, input).await?;
        tx.commit().await?;
        self.activity(actor, created.id).await
    }

    pub(crate) async fn insert_activity<C: ConnectionTrait>(
        &self,
        conn: &C,
        actor: &Actor,
        now: Timestamp,
        input: &ActivityInput,
    ) -> Result<activity::Model> {
        let mut model = self.activity_columns(conn, actor, input).await?;
        model.state = Set(ActivityState::Planned.key().to_owned());
        model.created_at = Set(now.micros());
        model.updated_at = Set(now.micros());
        let created = model.insert(conn).await?;
        self.set_activity_materials(conn, created.id, &input.material_ids)
            .await?;
        audit::append(
            conn,
            &self.keys,
            now,
            actor,
            Event::new("activity.create")
                .target("activity", created.id, &created.title)
                .unit(&created.unit_path),
        )
        .await?;
        Ok(created)
    }

    /// Replaces a planned activity's details. A campaign cannot be changed once people
    /// attended, as that would move their coverage.
    pub async fn update_activity(
        &self,
        actor: &Actor,
        now: Timestamp,
        id: i64,
        input: &ActivityInput,
    ) -> Result<ActivityView> {
        actor.require_editor()?;
        let tx = self.begin_write().await?;
        let current = access::find::<activity::Entity, _>(&tx, actor, id).await?;
        let state = ActivityState::parse(&current.state).unwrap_or(ActivityState::Planned);
        if state == ActivityState::Cancelled {
            return Err(Invalid::new(Field::Named("state"), Reason::WrongState).into());
        }
        let mut model = self.activity_columns(&tx, actor, input).await?;
        model.id = Set(id);
        model.updated_at = Set(now.micros());
        let updated = model.update(&tx).await?;
        self.set_activity_materials(&tx, id, &input.material_ids)
            .await?;
        if current.campaign_id != updated.campaign_id {
            let attendees = self.attendee_ids(&tx, id).await?;
            let campaigns: Vec<i64> = [current.campaign_id, updated.campaign_id]
                .into_iter()
                .flatten()
                .collect();
            coverage::sync(&tx, Some(&campaigns), &attendees, now).await?;
        }
        let moved = current.starts_at != updated.starts_at
            || current.ends_at != updated.ends_at
            || current.place != updated.place;
        if moved && state == ActivityState::Planned {
            let to = notifications::Recipients::Invitees {
                activity: id,
                status: None,
                at: None,
            };
            let event = notifications::about_activity("activity.changed", &updated, to);
            notifications::raise(&tx, now, &event).await?;
        }
        audit::append(
            &tx,
            &self.keys,
            now,
            actor,
            Event::new("activity.update")
                .target("activity", id, &updated.title)
                .unit(&updated.unit_path)
                .detail(json!({ "title": [current.title, updated.title] })),
        )
        .await?;
        tx.commit().await?;
        self.activity(actor, id).await
    }

    async fn attendee_ids<C: ConnectionTrait>(
        &self,
        conn: &C,
        activity_id: i64,
    ) -> Result<Vec<i64>> {
        Ok(access::unguarded::<invitation::Entity>(Unguarded::PartsOf)
            .select_only()
            .column(invitation::Column::PersonId)
            .filter(invitation::Column::ActivityId.eq(activity_id))
            .filter(invitation::Column::Status.eq(Attendance::Attended.key()))
            .into_tuple()
            .all(conn)
            .await?)
    }

    /// Moves an activity on: held, summarized with minutes, or cancelled with a reason.
    pub async fn change_activity_state(
        &self,
        actor: &Actor,
        now: Timestamp,
        id: i64,
        change: ActivityChange,
    ) -> Result<ActivityView> {
        actor.require_editor()?;
        let tx = self.begin_write().await?;
        let current = access::find::<activity::Entity, _>(&tx, actor, id).await?;
        let state = ActivityState::parse(&current.state).unwrap_or(ActivityState::Planned);
        let mut model = activity::ActiveModel {
            id: Set(id),
            updated_at: Set(now.micros()),
            ..Default::default()
        };
        let next = match &change {
            ActivityChange::Held => ActivityState::Held,
            ActivityChange::Summarized { .. } => ActivityState::Summarized,
            ActivityChange::Cancelled { .. } => ActivityState::Cancelled,
        };
        if !state.can_become(next) {
            return Err(Invalid::new(Field::Named("state"), Reason::WrongState).into());
        }
        let required = |field: &'static str, text: &str| {
            let text = text.trim();
            if text.is_empty() {
                Err(Invalid::new(Field::Named(field), Reason::Required))
            } else {
                Ok(Some(text.to_owned()))
            }
        };
        match &change {
            ActivityChange::Held if current.starts_at > now.micros() => {
                return Err(Invalid::new(Field::Named("state"), Reason::NotStarted).into());
            }
            ActivityChange::Held => {}
            ActivityChange::Summarized { minutes } => {
                model.minutes = Set(required("minutes", minutes)?);
            }
            ActivityChange::Cancelled { reason } => {
                model.cancel_reason = Set(required("cancel_reason", reason)?);
            }
        }
        model.state = Set(next.key().to_owned());
        model.update(&tx).await?;
        if next == ActivityState::Cancelled {
            let to = notifications::Recipients::Invitees {
                activity: id,
                status: None,
                at: None,
            };
            let event = notifications::about_activity("activity.cancelled", &current, to);
            notifications::raise(&tx, now, &event).await?;
        }
        audit::append(
            &tx,
            &self.keys,
            now,
            actor,
            Event::new("activity.state")
                .target("activity", id, &current.title)
                .unit(&current.unit_path)
                .detail(json!({ "state": [state.key(), next.key()] })),
        )
        .await?;
        tx.commit().await?;
        self.activity(actor, id).await
    }

    /// Materials attached to an activity, as (id, title).
    pub async fn activity_materials(&self, actor: &Actor, id: i64) -> Result<Vec<(i64, String)>> {
        actor.require_staff_area()?;
        access::find::<activity::Entity, _>(&self.db, actor, id).await?;
        let links = access::unguarded::<activity_material::Entity>(Unguarded::PartsOf)
            .filter(activity_material::Column::ActivityId.eq(id))
            .all(&self.db)
            .await?;
        self.material_titles(links.iter().map(|l| l.material_id))
            .await
    }
}
