//! Inviting people to an activity: by name, by a filter of the population, or by a saved
//! filter; all or nothing.

use std::collections::HashMap;

use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, sea_query::OnConflict,
};
use serde_json::json;
use tongxin_core::{ActivityState, Attendance, Field, Invalid, Reason, Timestamp, UnitPath};

use crate::Store;
use crate::access::{self, Actor, Unguarded};
use crate::activities::filters::saved_filter_tags;
use crate::activities::tallies::TallyDeltas;
use crate::audit::{self, Event};
use crate::directory::population::{Population, Shape};
use crate::entity::{activity, invitation, person, saved_filter, unit};
use crate::error::Result;
use crate::like;
use crate::notifications;
use crate::page::{Page, PageRequest, capped_count};
use crate::units::unit_names;

/// Most people one invitation request may add.
pub const MAX_INVITES_PER_REQUEST: u64 = 20_000;

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
    let population = Population {
        sectors: sector_id.into_iter().collect(),
        tags: tags.to_vec(),
        ..Population::of(UnitPath::from_stored(unit.path))
    };
    let ids: Vec<i64> = access::visible::<person::Entity>(actor)
        .select_only()
        .column(person::Column::Id)
        .filter(population.on_people(Shape::Lists))
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
    let mut tallies = TallyDeltas::default();
    tallies.add(
        activity_id,
        Attendance::Invited,
        i64::try_from(added).unwrap_or(i64::MAX),
    );
    tallies.apply(conn).await?;
    Ok(added)
}

impl Store {
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
        if added > 0 {
            let to = notifications::Recipients::Invitees {
                activity: activity_id,
                status: None,
                at: Some(now.micros()),
            };
            let event = notifications::about_activity("activity.invited", &activity, to);
            notifications::raise(&tx, now, &event).await?;
        }
        audit::append(
            &tx,
            &self.keys,
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
                    .add(like::contains(person::Column::Name, q))
                    .add(like::starts_with(
                        person::Column::NamePinyin,
                        &q.to_ascii_lowercase(),
                    ))
                    .add(like::starts_with(
                        person::Column::NameInitials,
                        &q.to_ascii_lowercase(),
                    )),
            );
        }
        let total = capped_count(people.clone(), &self.db).await?;
        let rows = people
            .order_by_asc(person::Column::NameSort)
            .order_by_asc(person::Column::Id)
            .offset(page.offset())
            .limit(page.per_page)
            .all(&self.db)
            .await?;
        let items = self.invitation_views(activity_id, rows).await?;
        Ok(Page::new(items, total, page))
    }

    pub(super) async fn invitation_views(
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
}
