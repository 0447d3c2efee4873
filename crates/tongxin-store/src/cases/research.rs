//! Research topics: a unit publishes a topic with a deadline, members sign up in teams, and a
//! team's report is submitted as a research case linked to its topic, its teammates as
//! co-submitters.
//!
//! Who reads a topic is the access layer's (`Kind::ResearchTopic`): those working in the tree
//! where the topic's unit and theirs meet, and members the same way. Teammates' names are read
//! by staff and by the team's own members; other members see a team's name and size.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde_json::json;
use tongxin_core::{
    CaseType, Field, Invalid, Reason, Role, Timestamp, parse_name, parse_optional_text,
};

use super::{MAX_CASE_BODY_CHARS, due_date, number};
use crate::Store;
use crate::access::{self, Actor, Unguarded, filing_unit};
use crate::audit::{self, Event};
use crate::entity::{case, person, research_team, research_team_member, research_topic};
use crate::error::{Result, StoreError};
use crate::units::unit_names;

/// Most members of one team.
pub const MAX_TEAM_MEMBERS: usize = 20;

/// A topic to publish or to change.
#[derive(Debug, Clone)]
pub struct TopicInput {
    /// The publishing unit; the caller's own by default.
    pub unit_id: Option<i64>,
    pub title: String,
    pub body: String,
    pub due_on: NaiveDate,
}

/// A topic as listed.
#[derive(Debug, Clone)]
pub struct TopicView {
    pub id: i64,
    pub unit: (i64, String),
    pub title: String,
    pub body: String,
    pub due_on: NaiveDate,
    /// Still taking teams and reports (the deadline has not passed).
    pub open: bool,
    pub teams: u64,
    pub reports: u64,
    /// The team of the reading member, if they are in one.
    pub my_team: Option<(i64, String)>,
}

/// A team of a topic as its reader may see it.
#[derive(Debug, Clone)]
pub struct TeamView {
    pub id: i64,
    pub name: String,
    pub size: u64,
    /// Members' names: for staff, and for the team's own members; empty otherwise.
    pub members: Vec<String>,
    pub mine: bool,
}

/// A topic with its teams and the reports the reader may see.
#[derive(Debug, Clone)]
pub struct TopicDetail {
    pub topic: TopicView,
    pub teams: Vec<TeamView>,
    /// Reports linked to it: id, number, title, state.
    pub reports: Vec<(i64, String, String, String)>,
}

fn parse_input(input: &TopicInput) -> Result<(String, String)> {
    let title = parse_name(Field::Named("case_title"), &input.title)?;
    let body = parse_optional_text(Field::Named("content"), &input.body, MAX_CASE_BODY_CHARS)?
        .ok_or_else(|| Invalid::new(Field::Named("content"), Reason::Required))?;
    Ok((title, body))
}

/// The topic a member's team or report belongs to, still open on `today`.
async fn open_topic<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    id: i64,
    today: NaiveDate,
) -> Result<research_topic::Model> {
    let topic = access::find::<research_topic::Entity, _>(conn, actor, id).await?;
    if due_date(Some(&topic.due_on)).is_none_or(|due| today > due) {
        return Err(Invalid::new(Field::Named("topic"), Reason::PastDeadline).into());
    }
    Ok(topic)
}

/// The team `person_id` is in for `topic_id`, if any.
pub(crate) async fn team_of<C: ConnectionTrait>(
    conn: &C,
    topic_id: i64,
    person_id: i64,
) -> Result<Option<i64>> {
    Ok(
        access::unguarded::<research_team_member::Entity>(Unguarded::PartsOf)
            .select_only()
            .column(research_team_member::Column::TeamId)
            .filter(research_team_member::Column::TopicId.eq(topic_id))
            .filter(research_team_member::Column::PersonId.eq(person_id))
            .into_tuple()
            .one(conn)
            .await?,
    )
}

/// What a research report links to: its topic (open, visible to the actor) and the
/// submitter's team with its other members, who become co-submitters.
pub(crate) async fn report_link<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    topic_id: i64,
    case_type: CaseType,
    submitter_id: i64,
    today: NaiveDate,
) -> Result<(i64, Option<i64>, Vec<i64>)> {
    if case_type != CaseType::Research {
        return Err(Invalid::new(Field::Named("type"), Reason::NotAChoice).into());
    }
    let topic = match open_topic(conn, actor, topic_id, today).await {
        Err(StoreError::NotFound) => {
            return Err(Invalid::new(Field::Named("topic"), Reason::NotFound).into());
        }
        other => other?,
    };
    let Some(team) = team_of(conn, topic.id, submitter_id).await? else {
        // A member reports for a team; staff may enter a report of someone outside any.
        if actor.role() == Role::Member {
            return Err(Invalid::new(Field::Named("team"), Reason::Required).into());
        }
        return Ok((topic.id, None, Vec::new()));
    };
    let mates: Vec<i64> = access::unguarded::<research_team_member::Entity>(Unguarded::PartsOf)
        .select_only()
        .column(research_team_member::Column::PersonId)
        .filter(research_team_member::Column::TeamId.eq(team))
        .filter(research_team_member::Column::PersonId.ne(submitter_id))
        .into_tuple()
        .all(conn)
        .await?;
    Ok((topic.id, Some(team), mates))
}

impl Store {
    /// Publishes a research topic for the caller's unit (or one of their subtree).
    pub async fn publish_topic(
        &self,
        actor: &Actor,
        now: Timestamp,
        today: NaiveDate,
        input: &TopicInput,
    ) -> Result<TopicView> {
        actor.require_editor()?;
        let (title, body) = parse_input(input)?;
        if input.due_on < today {
            return Err(Invalid::new(Field::Named("due_on"), Reason::OutOfRange).into());
        }
        let tx = self.begin_write().await?;
        let unit_id = input
            .unit_id
            .or(actor.unit_id())
            .ok_or(StoreError::Forbidden)?;
        let unit = filing_unit(&tx, actor, unit_id, Field::Unit).await?;
        let topic = research_topic::ActiveModel {
            unit_id: Set(unit.id),
            unit_path: Set(unit.path.clone()),
            title: Set(title),
            body: Set(body),
            due_on: Set(input.due_on.to_string()),
            created_by: Set(actor.user_id().ok_or(StoreError::Forbidden)?),
            created_at: Set(now.micros()),
            updated_at: Set(now.micros()),
            ..Default::default()
        }
        .insert(&tx)
        .await?;
        audit::append(
            &tx,
            &self.keys,
            now,
            actor,
            Event::new("research_topic.publish")
                .target("research_topic", topic.id, &topic.title)
                .unit(&topic.unit_path)
                .detail(json!({ "due_on": topic.due_on })),
        )
        .await?;
        tx.commit().await?;
        self.topic_views(actor, today, vec![topic])
            .await?
            .pop()
            .ok_or(StoreError::NotFound)
    }

    /// Changes a topic's title, text or deadline (moving the deadline reopens it).
    pub async fn update_topic(
        &self,
        actor: &Actor,
        now: Timestamp,
        today: NaiveDate,
        id: i64,
        input: &TopicInput,
    ) -> Result<TopicView> {
        let (title, body) = parse_input(input)?;
        let tx = self.begin_write().await?;
        let topic = access::find_to_change::<research_topic::Entity, _>(&tx, actor, id).await?;
        if input.due_on < today && Some(input.due_on) != due_date(Some(&topic.due_on)) {
            return Err(Invalid::new(Field::Named("due_on"), Reason::OutOfRange).into());
        }
        let mut change: research_topic::ActiveModel = topic.into();
        change.title = Set(title);
        change.body = Set(body);
        change.due_on = Set(input.due_on.to_string());
        change.updated_at = Set(now.micros());
        let topic = change.update(&tx).await?;
        audit::append(
            &tx,
            &self.keys,
            now,
            actor,
            Event::new("research_topic.update")
                .target("research_topic", topic.id, &topic.title)
                .unit(&topic.unit_path)
                .detail(json!({ "due_on": topic.due_on })),
        )
        .await?;
        tx.commit().await?;
        self.topic_views(actor, today, vec![topic])
            .await?
            .pop()
            .ok_or(StoreError::NotFound)
    }

    /// The topics the actor may see, the latest deadline first.
    pub async fn topics(&self, actor: &Actor, today: NaiveDate) -> Result<Vec<TopicView>> {
        access::require_role_sees::<research_topic::Entity>(actor)?;
        let rows = access::visible::<research_topic::Entity>(actor)
            .order_by_desc(research_topic::Column::DueOn)
            .order_by_desc(research_topic::Column::Id)
            .limit(200)
            .all(&self.db)
            .await?;
        self.topic_views(actor, today, rows).await
    }

    async fn topic_views(
        &self,
        actor: &Actor,
        today: NaiveDate,
        rows: Vec<research_topic::Model>,
    ) -> Result<Vec<TopicView>> {
        let ids: Vec<i64> = rows.iter().map(|t| t.id).collect();
        let teams: Vec<research_team::Model> =
            access::unguarded::<research_team::Entity>(Unguarded::PartsOf)
                .filter(research_team::Column::TopicId.is_in(ids.iter().copied()))
                .all(&self.db)
                .await?;
        let reports: Vec<(Option<i64>, i64)> = access::visible::<case::Entity>(actor)
            .select_only()
            .column(case::Column::TopicId)
            .column_as(case::Column::Id.count(), "n")
            .filter(case::Column::TopicId.is_in(ids.iter().copied()))
            .group_by(case::Column::TopicId)
            .into_tuple()
            .all(&self.db)
            .await?;
        let reports: HashMap<i64, i64> = reports
            .into_iter()
            .filter_map(|(topic, n)| topic.map(|t| (t, n)))
            .collect();
        let mine: HashMap<i64, i64> = match actor.person_id() {
            Some(person_id) => {
                access::unguarded::<research_team_member::Entity>(Unguarded::PartsOf)
                    .filter(research_team_member::Column::TopicId.is_in(ids.iter().copied()))
                    .filter(research_team_member::Column::PersonId.eq(person_id))
                    .all(&self.db)
                    .await?
                    .into_iter()
                    .map(|m| (m.topic_id, m.team_id))
                    .collect()
            }
            None => HashMap::new(),
        };
        let units = unit_names(&self.db, rows.iter().map(|t| t.unit_id)).await?;
        rows.into_iter()
            .map(|t| {
                let due_on = due_date(Some(&t.due_on)).ok_or_else(|| StoreError::Corrupt {
                    what: format!("research topic {} deadline", t.id),
                })?;
                let my_team = mine.get(&t.id).and_then(|team| {
                    teams
                        .iter()
                        .find(|x| x.id == *team)
                        .map(|x| (x.id, x.name.clone()))
                });
                Ok(TopicView {
                    unit: (
                        t.unit_id,
                        units.get(&t.unit_id).cloned().unwrap_or_default(),
                    ),
                    open: today <= due_on,
                    teams: teams.iter().filter(|x| x.topic_id == t.id).count() as u64,
                    reports: reports
                        .get(&t.id)
                        .map_or(0, |n| u64::try_from(*n).unwrap_or(0)),
                    my_team,
                    due_on,
                    id: t.id,
                    title: t.title,
                    body: t.body,
                })
            })
            .collect()
    }

    /// A topic with its teams and the reports the reader may see.
    pub async fn topic(&self, actor: &Actor, today: NaiveDate, id: i64) -> Result<TopicDetail> {
        let row = access::find::<research_topic::Entity, _>(&self.db, actor, id).await?;
        let topic = self
            .topic_views(actor, today, vec![row])
            .await?
            .pop()
            .ok_or(StoreError::NotFound)?;
        let teams = access::unguarded::<research_team::Entity>(Unguarded::PartsOf)
            .filter(research_team::Column::TopicId.eq(id))
            .order_by_asc(research_team::Column::Id)
            .all(&self.db)
            .await?;
        let members = access::unguarded::<research_team_member::Entity>(Unguarded::PartsOf)
            .filter(research_team_member::Column::TopicId.eq(id))
            .all(&self.db)
            .await?;
        let names: HashMap<i64, String> = access::unguarded::<person::Entity>(Unguarded::Labels)
            .select_only()
            .column(person::Column::Id)
            .column(person::Column::Name)
            .filter(person::Column::Id.is_in(members.iter().map(|m| m.person_id)))
            .into_tuple()
            .all(&self.db)
            .await?
            .into_iter()
            .collect();
        let staff = actor.role() != Role::Member;
        let my_team = topic.my_team.as_ref().map(|(team, _)| *team);
        let teams = teams
            .into_iter()
            .map(|team| {
                let of_team: Vec<&research_team_member::Model> =
                    members.iter().filter(|m| m.team_id == team.id).collect();
                let mine = my_team == Some(team.id);
                TeamView {
                    size: of_team.len() as u64,
                    members: if staff || mine {
                        of_team
                            .iter()
                            .map(|m| names.get(&m.person_id).cloned().unwrap_or_default())
                            .collect()
                    } else {
                        Vec::new()
                    },
                    mine,
                    id: team.id,
                    name: team.name,
                }
            })
            .collect();
        let reports = access::visible::<case::Entity>(actor)
            .filter(case::Column::TopicId.eq(id))
            .order_by_asc(case::Column::Id)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|c| (c.id, number(c.created_at, c.id), c.title, c.state))
            .collect();
        Ok(TopicDetail {
            topic,
            teams,
            reports,
        })
    }

    /// A member forms a team for an open topic and is its first member.
    pub async fn form_team(
        &self,
        actor: &Actor,
        now: Timestamp,
        today: NaiveDate,
        topic_id: i64,
        name: &str,
    ) -> Result<TeamView> {
        let person_id = member_person(actor)?;
        let name = parse_name(Field::Named("team"), name)?;
        let tx = self.begin_write().await?;
        let topic = open_topic(&tx, actor, topic_id, today).await?;
        if team_of(&tx, topic.id, person_id).await?.is_some() {
            return Err(Invalid::new(Field::Named("team"), Reason::Repeated).into());
        }
        let taken = access::unguarded::<research_team::Entity>(Unguarded::Uniqueness)
            .filter(research_team::Column::TopicId.eq(topic.id))
            .filter(research_team::Column::Name.eq(name.as_str()))
            .one(&tx)
            .await?;
        if taken.is_some() {
            return Err(Invalid::new(Field::Named("team"), Reason::Taken).into());
        }
        let team = research_team::ActiveModel {
            topic_id: Set(topic.id),
            name: Set(name),
            lead_id: Set(person_id),
            created_at: Set(now.micros()),
            ..Default::default()
        }
        .insert(&tx)
        .await?;
        research_team_member::ActiveModel {
            team_id: Set(team.id),
            person_id: Set(person_id),
            topic_id: Set(topic.id),
        }
        .insert(&tx)
        .await?;
        tx.commit().await?;
        Ok(TeamView {
            id: team.id,
            name: team.name,
            size: 1,
            members: Vec::new(),
            mine: true,
        })
    }

    /// A member joins a team of an open topic (one team per topic).
    pub async fn join_team(
        &self,
        actor: &Actor,
        today: NaiveDate,
        topic_id: i64,
        team_id: i64,
    ) -> Result<()> {
        let person_id = member_person(actor)?;
        let tx = self.begin_write().await?;
        let topic = open_topic(&tx, actor, topic_id, today).await?;
        let team = access::unguarded_by_id::<research_team::Entity>(Unguarded::PartsOf, team_id)
            .filter(research_team::Column::TopicId.eq(topic.id))
            .one(&tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        if team_of(&tx, topic.id, person_id).await?.is_some() {
            return Err(Invalid::new(Field::Named("team"), Reason::Repeated).into());
        }
        let size: BTreeSet<i64> =
            access::unguarded::<research_team_member::Entity>(Unguarded::PartsOf)
                .select_only()
                .column(research_team_member::Column::PersonId)
                .filter(research_team_member::Column::TeamId.eq(team.id))
                .into_tuple::<i64>()
                .all(&tx)
                .await?
                .into_iter()
                .collect();
        if size.len() >= MAX_TEAM_MEMBERS {
            return Err(Invalid::new(
                Field::Named("team"),
                Reason::TooMany {
                    max: MAX_TEAM_MEMBERS as u64,
                },
            )
            .into());
        }
        research_team_member::ActiveModel {
            team_id: Set(team.id),
            person_id: Set(person_id),
            topic_id: Set(topic.id),
        }
        .insert(&tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Teams are formed and joined by members themselves.
fn member_person(actor: &Actor) -> Result<i64> {
    match (actor.role(), actor.person_id()) {
        (Role::Member, Some(person_id)) => Ok(person_id),
        _ => Err(StoreError::Forbidden),
    }
}
