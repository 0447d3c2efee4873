//! Activities (study sessions, lectures, forums, trainings…) of the actor's subtree: their kinds,
//! their life from planned to summarized, invitations and attendance, photos.

pub(crate) mod calendar;
pub(crate) mod filters;

use std::collections::HashMap;

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, sea_query::OnConflict,
};
use serde_json::json;
use sm3::{Digest, Sm3};
use tongxin_core::sector_field::parse_field_key;
use tongxin_core::{
    ActivityState, Attendance, Field, Invalid, Reason, Timestamp, UnitPath, parse_name,
};

use crate::Store;
use crate::access::{self, Actor, Unguarded, filing_unit};
use crate::activities::filters::saved_filter_tags;
use crate::audit::{self, Event};
use crate::campaigns::coverage;
use crate::entity::{
    activity, activity_kind, activity_material, activity_photo, attachment, campaign,
    campaign_target, invitation, material, organization, person, person_sector, person_tag,
    saved_filter, unit,
};
use crate::error::{Result, StoreError};
use crate::page::{Page, PageRequest};
use crate::units::unit_names;

/// Most people one invitation request may add.
pub const MAX_INVITES_PER_REQUEST: u64 = 20_000;

/// How long before the start and after the end members may check in, in minutes.
pub const CHECK_IN_MARGIN_MINUTES: i64 = 60;

/// How long a check-in link shown as a QR code stays valid, in minutes.
pub const CHECK_IN_LINK_MINUTES: i64 = 10;

/// A kind of activity, as the network configures them.
#[derive(Debug, Clone)]
pub struct ActivityKindView {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub archived: bool,
}

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
    fn add(&mut self, status: Attendance, n: u64) {
        match status {
            Attendance::Invited => self.invited += n,
            Attendance::Confirmed => self.confirmed += n,
            Attendance::Attended => self.attended += n,
            Attendance::Absent => self.absent += n,
            Attendance::Excused => self.excused += n,
        }
    }

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

/// A photo of an activity.
#[derive(Debug, Clone)]
pub struct PhotoView {
    pub id: i64,
    pub file_name: String,
    pub size: i64,
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
}

/// Where an activity goes next.
#[derive(Debug, Clone)]
pub enum ActivityChange {
    Held,
    Summarized { minutes: String },
    Cancelled { reason: String },
}

/// Whom to invite.
#[derive(Debug, Clone)]
pub enum Invitees {
    /// People picked by id.
    People(Vec<i64>),
    /// Everyone of a unit's subtree, optionally of one sector and with one of some tags.
    Filter {
        unit_id: i64,
        sector_id: Option<i64>,
        tags: Vec<String>,
    },
    /// The people a saved filter selects now.
    Saved(i64),
}

/// One invitee of an activity.
#[derive(Debug, Clone)]
pub struct InvitationView {
    pub person_id: i64,
    pub name: String,
    pub unit_name: String,
    pub status: Attendance,
    pub checked_in_at: Option<Timestamp>,
}

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
    /// The activity kinds, in their configured order.
    pub async fn activity_kinds(
        &self,
        actor: &Actor,
        include_archived: bool,
    ) -> Result<Vec<ActivityKindView>> {
        actor.require_staff_area()?;
        let mut select = access::visible::<activity_kind::Entity>(actor);
        if !include_archived {
            select = select.filter(activity_kind::Column::ArchivedAt.is_null());
        }
        Ok(select
            .order_by_asc(activity_kind::Column::Position)
            .order_by_asc(activity_kind::Column::Id)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|k| ActivityKindView {
                id: k.id,
                code: k.code,
                name: k.name,
                archived: k.archived_at.is_some(),
            })
            .collect())
    }

    /// Adds an activity kind (administrators of a top unit).
    pub async fn create_activity_kind(
        &self,
        actor: &Actor,
        now: Timestamp,
        code: &str,
        name: &str,
    ) -> Result<ActivityKindView> {
        actor.require_top_admin()?;
        let code =
            parse_field_key(code).map_err(|e| Invalid::new(Field::Named("kind_code"), e.reason))?;
        let name = parse_name(Field::Named("kind_name"), name)?;
        let tx = self.begin_write().await?;
        let taken = access::unguarded::<activity_kind::Entity>(Unguarded::Reference)
            .filter(activity_kind::Column::Code.eq(&code))
            .count(&tx)
            .await?
            > 0;
        if taken {
            return Err(Invalid::new(Field::Named("kind_code"), Reason::Taken).into());
        }
        let position = access::unguarded::<activity_kind::Entity>(Unguarded::Reference)
            .count(&tx)
            .await?;
        let created = activity_kind::ActiveModel {
            code: Set(code),
            name: Set(name),
            position: Set(i32::try_from(position).unwrap_or(i32::MAX)),
            archived_at: Set(None),
            ..Default::default()
        }
        .insert(&tx)
        .await?;
        audit::append(
            &tx,
            now,
            actor,
            Event::new("activity_kind.create").target("activity_kind", created.id, &created.name),
        )
        .await?;
        tx.commit().await?;
        Ok(ActivityKindView {
            id: created.id,
            code: created.code,
            name: created.name,
            archived: false,
        })
    }

    /// Renames, archives or restores an activity kind; activities keep their kind.
    pub async fn change_activity_kind(
        &self,
        actor: &Actor,
        now: Timestamp,
        id: i64,
        name: &str,
        archived: bool,
    ) -> Result<()> {
        actor.require_top_admin()?;
        let name = parse_name(Field::Named("kind_name"), name)?;
        let tx = self.begin_write().await?;
        let current = access::unguarded_by_id::<activity_kind::Entity>(Unguarded::Reference, id)
            .one(&tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        activity_kind::ActiveModel {
            id: Set(id),
            name: Set(name.clone()),
            archived_at: Set(if archived {
                current.archived_at.or(Some(now.micros()))
            } else {
                None
            }),
            ..Default::default()
        }
        .update(&tx)
        .await?;
        audit::append(
            &tx,
            now,
            actor,
            Event::new("activity_kind.update")
                .target("activity_kind", id, &name)
                .detail(json!({ "name": [current.name, name], "archived": archived })),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

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
        let mut counts: HashMap<i64, AttendanceCounts> = HashMap::new();
        if !ids.is_empty() {
            let tallies: Vec<(i64, String, i64)> =
                access::unguarded::<invitation::Entity>(Unguarded::PartsOf)
                    .select_only()
                    .column(invitation::Column::ActivityId)
                    .column(invitation::Column::Status)
                    .column_as(invitation::Column::PersonId.count(), "n")
                    .filter(invitation::Column::ActivityId.is_in(ids))
                    .group_by(invitation::Column::ActivityId)
                    .group_by(invitation::Column::Status)
                    .into_tuple()
                    .all(conn)
                    .await?;
            for (activity_id, status, n) in tallies {
                if let Ok(status) = Attendance::parse(&status) {
                    counts
                        .entry(activity_id)
                        .or_default()
                        .add(status, u64::try_from(n).unwrap_or(0));
                }
            }
        }
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
            let unit = access::visible::<unit::Entity>(actor)
                .filter(unit::Column::Id.eq(unit_id))
                .one(&self.db)
                .await?
                .ok_or_else(|| Invalid::new(Field::Unit, Reason::NotFound))?;
            let path = UnitPath::from_stored(unit.path);
            select = select
                .filter(activity::Column::UnitPath.gte(path.as_str()))
                .filter(activity::Column::UnitPath.lt(path.upper_bound()));
        }
        if let Some(q) = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            select = select.filter(activity::Column::Title.contains(q));
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
        let (total, rows) = tokio::try_join!(
            select.clone().count(&self.db),
            select
                .order_by_desc(activity::Column::StartsAt)
                .order_by_desc(activity::Column::Id)
                .offset(page.offset())
                .limit(page.per_page)
                .all(&self.db)
        )?;
        Ok(Page {
            items: self.activity_views(&self.db, rows).await?,
            total,
            page: page.page,
            per_page: page.per_page,
        })
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
        audit::append(
            &tx,
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
        audit::append(
            &tx,
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

    /// Stores a file once by its SM3 digest and returns its id.
    pub(crate) async fn store_attachment<C: ConnectionTrait>(
        &self,
        conn: &C,
        now: Timestamp,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<i64> {
        let digest = hex::encode(Sm3::digest(bytes));
        if let Some(existing) = access::unguarded::<attachment::Entity>(Unguarded::PartsOf)
            .filter(attachment::Column::Digest.eq(&digest))
            .one(conn)
            .await?
        {
            return Ok(existing.id);
        }
        Ok(attachment::ActiveModel {
            digest: Set(digest),
            media_type: Set(media_type.to_owned()),
            size: Set(i64::try_from(bytes.len()).unwrap_or(i64::MAX)),
            bytes: Set(bytes.to_vec()),
            created_at: Set(now.micros()),
            ..Default::default()
        }
        .insert(conn)
        .await?
        .id)
    }

    /// Adds a photo to an activity that took place.
    pub async fn add_activity_photo(
        &self,
        actor: &Actor,
        now: Timestamp,
        id: i64,
        file_name: &str,
        bytes: &[u8],
    ) -> Result<PhotoView> {
        actor.require_editor()?;
        let media_type = tongxin_core::files::photo_media_type(file_name, bytes)?;
        let tx = self.begin_write().await?;
        let activity = access::find::<activity::Entity, _>(&tx, actor, id).await?;
        let attachment_id = self.store_attachment(&tx, now, media_type, bytes).await?;
        let name: String = file_name.chars().take(200).collect();
        let photo = activity_photo::ActiveModel {
            activity_id: Set(id),
            attachment_id: Set(attachment_id),
            file_name: Set(name),
            created_at: Set(now.micros()),
            ..Default::default()
        }
        .insert(&tx)
        .await?;
        audit::append(
            &tx,
            now,
            actor,
            Event::new("activity.photo")
                .target("activity", id, &activity.title)
                .unit(&activity.unit_path)
                .detail(json!({ "file": photo.file_name })),
        )
        .await?;
        tx.commit().await?;
        Ok(PhotoView {
            id: photo.id,
            file_name: photo.file_name,
            size: i64::try_from(bytes.len()).unwrap_or(i64::MAX),
        })
    }

    /// The photos of an activity.
    pub async fn activity_photos(&self, actor: &Actor, id: i64) -> Result<Vec<PhotoView>> {
        actor.require_staff_area()?;
        access::find::<activity::Entity, _>(&self.db, actor, id).await?;
        let photos = access::unguarded::<activity_photo::Entity>(Unguarded::PartsOf)
            .filter(activity_photo::Column::ActivityId.eq(id))
            .order_by_asc(activity_photo::Column::Id)
            .all(&self.db)
            .await?;
        let sizes: HashMap<i64, i64> = access::unguarded::<attachment::Entity>(Unguarded::PartsOf)
            .select_only()
            .column(attachment::Column::Id)
            .column(attachment::Column::Size)
            .filter(attachment::Column::Id.is_in(photos.iter().map(|p| p.attachment_id)))
            .into_tuple()
            .all(&self.db)
            .await?
            .into_iter()
            .collect();
        Ok(photos
            .into_iter()
            .map(|p| PhotoView {
                id: p.id,
                size: sizes.get(&p.attachment_id).copied().unwrap_or(0),
                file_name: p.file_name,
            })
            .collect())
    }

    /// One photo's media type and bytes.
    pub async fn activity_photo(
        &self,
        actor: &Actor,
        id: i64,
        photo_id: i64,
    ) -> Result<(String, Vec<u8>)> {
        actor.require_staff_area()?;
        access::find::<activity::Entity, _>(&self.db, actor, id).await?;
        let photo = access::unguarded_by_id::<activity_photo::Entity>(Unguarded::PartsOf, photo_id)
            .filter(activity_photo::Column::ActivityId.eq(id))
            .one(&self.db)
            .await?
            .ok_or(StoreError::NotFound)?;
        let file =
            access::unguarded_by_id::<attachment::Entity>(Unguarded::PartsOf, photo.attachment_id)
                .one(&self.db)
                .await?
                .ok_or(StoreError::NotFound)?;
        Ok((file.media_type, file.bytes))
    }

    /// Invites people to an activity; those invited already keep their answer. All or nothing:
    /// one person outside the actor's subtree refuses the whole request. Returns how many were
    /// newly invited.
    pub async fn invite(
        &self,
        actor: &Actor,
        now: Timestamp,
        activity_id: i64,
        invitees: &Invitees,
    ) -> Result<u64> {
        actor.require_editor()?;
        let tx = self.begin_write().await?;
        let activity = access::find::<activity::Entity, _>(&tx, actor, activity_id).await?;
        if activity.state == ActivityState::Cancelled.key() {
            return Err(Invalid::new(Field::Named("state"), Reason::WrongState).into());
        }
        let people = self.resolve_invitees(&tx, actor, invitees).await?;
        let added = insert_invitations(&tx, activity_id, &people, now).await?;
        audit::append(
            &tx,
            now,
            actor,
            Event::new("activity.invite")
                .target("activity", activity_id, &activity.title)
                .unit(&activity.unit_path)
                .detail(json!({ "invited": added })),
        )
        .await?;
        tx.commit().await?;
        Ok(added)
    }

    async fn resolve_invitees<C: ConnectionTrait>(
        &self,
        conn: &C,
        actor: &Actor,
        invitees: &Invitees,
    ) -> Result<Vec<i64>> {
        let field = Field::Named("invitees");
        let ids: Vec<i64> = match invitees {
            Invitees::People(ids) => {
                let mut ids = ids.clone();
                ids.sort_unstable();
                ids.dedup();
                if ids.len() as u64 > MAX_INVITES_PER_REQUEST {
                    return Err(Invalid::new(
                        field,
                        Reason::TooMany {
                            max: MAX_INVITES_PER_REQUEST,
                        },
                    )
                    .into());
                }
                let mut found = Vec::with_capacity(ids.len());
                for chunk in ids.chunks(500) {
                    let rows: Vec<i64> = access::visible::<person::Entity>(actor)
                        .select_only()
                        .column(person::Column::Id)
                        .filter(person::Column::Id.is_in(chunk.iter().copied()))
                        .filter(person::Column::ArchivedAt.is_null())
                        .into_tuple()
                        .all(conn)
                        .await?;
                    found.extend(rows);
                }
                found.sort_unstable();
                if let Some(missing) = ids.iter().find(|id| found.binary_search(id).is_err()) {
                    let id = u64::try_from(*missing).unwrap_or(0);
                    return Err(Invalid::new(field, Reason::UnknownPerson { id }).into());
                }
                ids
            }
            Invitees::Filter {
                unit_id,
                sector_id,
                tags,
            } => filter_people(conn, actor, *unit_id, *sector_id, tags).await?,
            Invitees::Saved(id) => {
                let saved = access::find::<saved_filter::Entity, _>(conn, actor, *id)
                    .await
                    .map_err(|_| Invalid::new(Field::Named("saved_filter"), Reason::NotFound))?;
                let tags = saved_filter_tags(&saved)?;
                filter_people(conn, actor, saved.unit_id, saved.sector_id, &tags).await?
            }
        };
        if ids.is_empty() {
            return Err(Invalid::new(field, Reason::EmptyTarget).into());
        }
        Ok(ids)
    }

    /// The invitees of an activity, by name; `q` narrows to names containing it.
    pub async fn invitations(
        &self,
        actor: &Actor,
        activity_id: i64,
        q: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<InvitationView>> {
        actor.require_staff_area()?;
        access::find::<activity::Entity, _>(&self.db, actor, activity_id).await?;
        let mut people = access::visible::<person::Entity>(actor).filter(
            person::Column::Id.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(invitation::Column::PersonId)
                    .from(invitation::Entity)
                    .and_where(invitation::Column::ActivityId.eq(activity_id))
                    .to_owned(),
            ),
        );
        if let Some(q) = q.map(str::trim).filter(|q| !q.is_empty()) {
            people = people.filter(
                sea_orm::Condition::any()
                    .add(person::Column::Name.contains(q))
                    .add(person::Column::NamePinyin.starts_with(q.to_ascii_lowercase()))
                    .add(person::Column::NameInitials.starts_with(q.to_ascii_lowercase())),
            );
        }
        let total = people.clone().count(&self.db).await?;
        let rows = people
            .order_by_asc(person::Column::NamePinyin)
            .order_by_asc(person::Column::Id)
            .offset(page.offset())
            .limit(page.per_page)
            .all(&self.db)
            .await?;
        let items = self.invitation_views(activity_id, rows).await?;
        Ok(Page {
            items,
            total,
            page: page.page,
            per_page: page.per_page,
        })
    }

    async fn invitation_views(
        &self,
        activity_id: i64,
        people: Vec<person::Model>,
    ) -> Result<Vec<InvitationView>> {
        let invites: HashMap<i64, invitation::Model> =
            access::unguarded::<invitation::Entity>(Unguarded::PartsOf)
                .filter(invitation::Column::ActivityId.eq(activity_id))
                .filter(invitation::Column::PersonId.is_in(people.iter().map(|p| p.id)))
                .all(&self.db)
                .await?
                .into_iter()
                .map(|i| (i.person_id, i))
                .collect();
        let units = unit_names(&self.db, people.iter().map(|p| p.unit_id)).await?;
        Ok(people
            .into_iter()
            .filter_map(|p| {
                let invite = invites.get(&p.id)?;
                Some(InvitationView {
                    person_id: p.id,
                    unit_name: units.get(&p.unit_id).cloned().unwrap_or_default(),
                    name: p.name,
                    status: Attendance::parse(&invite.status).unwrap_or(Attendance::Invited),
                    checked_in_at: invite.checked_in_at.map(Timestamp),
                })
            })
            .collect())
    }

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
            .order_by_asc(person::Column::NamePinyin)
            .all(&self.db)
            .await?;
        let list = self.invitation_views(activity_id, people).await?;
        let tx = self.begin_write().await?;
        audit::append(
            &tx,
            now,
            actor,
            Event::new("activity.attendance_export")
                .target("activity", activity_id, &activity.title)
                .unit(&unit_path)
                .detail(json!({ "rows": list.len() })),
        )
        .await?;
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
        if let Some(campaign) = activity.campaign_id {
            coverage::sync(&tx, Some(&[campaign]), &ids, now).await?;
        }
        audit::append(
            &tx,
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

    /// A signed link for the check-in screen's QR code, valid for a few minutes.
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
        let until = now.plus_minutes(CHECK_IN_LINK_MINUTES).unix_seconds();
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
        if let Some(campaign) = activity.campaign_id {
            coverage::sync(conn, Some(&[campaign]), &[person_id], now).await?;
        }
        audit::append(
            conn,
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
        let answerable = matches!(
            Attendance::parse(&invite.status),
            Ok(Attendance::Invited | Attendance::Confirmed | Attendance::Excused)
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
        audit::append(
            &tx,
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

/// The people of a unit's subtree (within the actor's), of a sector and with any of some tags
/// when given; refused when more than one request may invite.
async fn filter_people<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    unit_id: i64,
    sector_id: Option<i64>,
    tags: &[String],
) -> Result<Vec<i64>> {
    let unit = access::visible::<unit::Entity>(actor)
        .filter(unit::Column::Id.eq(unit_id))
        .one(conn)
        .await?
        .ok_or_else(|| Invalid::new(Field::Unit, Reason::NotFound))?;
    let path = UnitPath::from_stored(unit.path);
    let mut select = access::visible::<person::Entity>(actor)
        .select_only()
        .column(person::Column::Id)
        .filter(person::Column::ArchivedAt.is_null())
        .filter(person::Column::UnitPath.gte(path.as_str()))
        .filter(person::Column::UnitPath.lt(path.upper_bound()));
    if let Some(sector_id) = sector_id {
        select = select.filter(
            person::Column::Id.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(person_sector::Column::PersonId)
                    .from(person_sector::Entity)
                    .and_where(person_sector::Column::SectorId.eq(sector_id))
                    .to_owned(),
            ),
        );
    }
    if !tags.is_empty() {
        select = select.filter(
            person::Column::Id.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(person_tag::Column::PersonId)
                    .from(person_tag::Entity)
                    .and_where(person_tag::Column::Tag.is_in(tags.iter().cloned()))
                    .to_owned(),
            ),
        );
    }
    let ids: Vec<i64> = select
        .limit(MAX_INVITES_PER_REQUEST + 1)
        .into_tuple()
        .all(conn)
        .await?;
    if ids.len() as u64 > MAX_INVITES_PER_REQUEST {
        return Err(Invalid::new(
            Field::Named("invitees"),
            Reason::TooMany {
                max: MAX_INVITES_PER_REQUEST,
            },
        )
        .into());
    }
    Ok(ids)
}

/// Inserts invitations, leaving existing ones as they are; returns how many were new.
pub(crate) async fn insert_invitations<C: ConnectionTrait>(
    conn: &C,
    activity_id: i64,
    people: &[i64],
    now: Timestamp,
) -> Result<u64> {
    let mut added = 0;
    for chunk in people.chunks(1000) {
        let result = invitation::Entity::insert_many(chunk.iter().map(|&person_id| {
            invitation::ActiveModel {
                activity_id: Set(activity_id),
                person_id: Set(person_id),
                status: Set(Attendance::Invited.key().to_owned()),
                checked_in_at: Set(None),
                updated_at: Set(now.micros()),
            }
        }))
        .on_conflict(
            OnConflict::columns([invitation::Column::ActivityId, invitation::Column::PersonId])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
        added += result;
    }
    Ok(added)
}
