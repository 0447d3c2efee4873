//! The direct channel: cases submitted by members (or by staff on their behalf), carried by
//! their type's workflow from submission to an answer the submitter rates, with a timeline of
//! every step.
//!
//! Who may see a case is the access layer's (`Kind::Case`); what each may *do* to it is its
//! workflow's, by the parties the actor stands as ([`parties`]): the submitter, the receiving
//! unit, the handling unit, a unit above either.

mod deadlines;
mod handling;
mod outcomes;
mod reference;
mod research;
mod statistics;
mod timeline;

pub use deadlines::DeadlineSweep;
pub use handling::{CaseAction, CaseFileView, CaseUpload, ExtensionView};
pub use outcomes::{OutcomeInput, OutcomeView, PlanStepView};
pub use reference::{CaseTypeView, DepartmentView, MAX_DEFAULT_DAYS};
pub use research::{MAX_TEAM_MEMBERS, TeamView, TopicDetail, TopicInput, TopicView};
pub use statistics::{CaseStatistics, CaseStatsQuery, OutcomeCounts, Tally};
pub use timeline::CaseEventView;

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, Order,
    QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::json;
use tongxin_core::{
    CaseType, Deadline, Effect, Field, Invalid, Party, Reason, Role, Satisfaction, Timestamp,
    UnitPath, WorkCalendar, Workflow, parse_name, parse_optional_text,
};

use crate::Store;
use crate::access::{self, Actor, Unguarded, filing_unit};
use crate::audit::{self, Event};
use crate::entity::{case, case_cosubmitter, department, person, person_sector};
use crate::error::{Result, StoreError};
use crate::like;
use crate::notifications::{self, Recipients};
use crate::page::{Page, PageRequest, capped_count};
use crate::units::unit_names;

/// The subjects a case is filed under, for counting and for finding similar cases.
pub const CASE_CATEGORIES: [&str; 7] = [
    "economy",
    "society",
    "culture",
    "ecology",
    "governance",
    "livelihood",
    "other",
];

/// Longest case body, in characters.
pub const MAX_CASE_BODY_CHARS: usize = 20_000;

/// Most co-submitters of one joint case.
pub const MAX_COSUBMITTERS: usize = 50;

/// A case to submit, already parsed.
#[derive(Debug, Clone)]
pub struct CaseInput {
    pub case_type: CaseType,
    pub title: String,
    pub body: String,
    pub category: String,
    /// Staff submitting on a member's behalf name the person; a member submits as themself.
    pub submitter_id: Option<i64>,
    pub cosubmitter_ids: Vec<i64>,
    /// Keep the submitter's name from the handling unit.
    pub name_withheld: bool,
    /// The unit it goes to; by default the submitter's own.
    pub receiving_unit_id: Option<i64>,
    /// A file sent with it, stored in the same transaction (a refused file refuses the case).
    pub attachment: Option<CaseUpload>,
    /// The research topic a report answers; its team's other members become co-submitters.
    pub topic_id: Option<i64>,
}

/// A case as its reader may see it.
#[derive(Debug, Clone)]
pub struct CaseView {
    pub id: i64,
    /// `2026-000012`: the year and the id, as written on paper.
    pub number: String,
    pub case_type: CaseType,
    pub title: String,
    pub body: String,
    pub category: String,
    pub state: String,
    /// The submitter's id and name; `None` when withheld from this reader.
    pub submitter: Option<(i64, String)>,
    pub cosubmitters: Vec<(i64, String)>,
    pub name_withheld: bool,
    pub receiving_unit: (i64, String),
    pub handling_unit: Option<(i64, String)>,
    pub department: Option<(i64, String)>,
    pub due_on: Option<NaiveDate>,
    /// Red, amber or green while the case waits for its answer.
    pub deadline: Option<Deadline>,
    pub answer: Option<String>,
    pub answered_at: Option<Timestamp>,
    pub satisfaction: Option<Satisfaction>,
    pub reopened: i32,
    pub merged_into: Option<i64>,
    pub overdue: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub closed_at: Option<Timestamp>,
    /// Whether the state ends the case.
    pub ended: bool,
    /// The parties this reader stands as.
    pub parties: Vec<Party>,
    /// The steps this reader may take now: action code, and what the step asks for.
    pub actions: Vec<(String, Effect)>,
}

impl CaseView {
    /// The reader handles or supervises the case (may write internal notes and read them).
    pub fn staff_side(&self) -> bool {
        self.parties.iter().any(|p| *p != Party::Submitter)
    }
}

/// A case with everything its page shows, read for one reader.
#[derive(Debug, Clone)]
pub struct CaseDetail {
    pub case: CaseView,
    pub timeline: Vec<CaseEventView>,
    pub files: Vec<CaseFileView>,
    /// Requests to extend the due date; none for members.
    pub extensions: Vec<ExtensionView>,
    /// Instructions, adoption, publication.
    pub outcomes: Vec<OutcomeView>,
    /// The rectification plan of a supervision finding.
    pub plan: Vec<PlanStepView>,
}

/// Filters of the case list.
#[derive(Debug, Clone, Default)]
pub struct CaseQuery {
    pub q: Option<String>,
    pub case_type: Option<CaseType>,
    pub state: Option<String>,
    pub category: Option<String>,
    /// Received by this unit's subtree, or handled by it.
    pub unit_id: Option<i64>,
    /// Only cases still open (not in an end state).
    pub open: bool,
    /// Only cases past their due date without an answer.
    pub overdue: bool,
    /// By due date, soonest first (cases without one last), instead of newest first.
    pub by_due: bool,
}

/// The parties `actor` stands as toward `case`. Leaders stand as none (they read); a member is
/// the submitter of their own cases; staff are what their unit is to the case.
pub(crate) fn parties(actor: &Actor, case: &case::Model) -> Vec<Party> {
    let mut parties = Vec::new();
    let submitter = match actor.role() {
        Role::Member => actor.person_id() == Some(case.submitter_id),
        _ => actor.user_id() == Some(case.submitted_by),
    };
    if submitter {
        parties.push(Party::Submitter);
    }
    if !matches!(actor.role(), Role::Admin | Role::Staff) {
        return parties;
    }
    let unit = actor.unit_id();
    let receiving = UnitPath::from_stored(case.receiving_unit_path.clone());
    if unit == Some(case.receiving_unit_id) {
        parties.push(Party::Receiving);
    }
    let by_department = case.department_id.is_some() && unit == Some(case.receiving_unit_id);
    if (case.handling_unit_id.is_some() && unit == case.handling_unit_id) || by_department {
        parties.push(Party::Handling);
    }
    let handling = case.handling_unit_path.clone().map(UnitPath::from_stored);
    let above = |path: &UnitPath| actor.covers(path) && actor.unit_path() != path;
    if above(&receiving) || handling.as_ref().is_some_and(above) {
        parties.push(Party::Above);
    }
    parties
}

/// The year and id, as the case is referred to.
fn number(created_at: i64, id: i64) -> String {
    let year = tongxin_core::TimeZone::SHANGHAI
        .date_of(Timestamp::from_micros(created_at))
        .format("%Y");
    format!("{year}-{id:06}")
}

fn due_date(text: Option<&str>) -> Option<NaiveDate> {
    text.and_then(|t| NaiveDate::parse_from_str(t, "%Y-%m-%d").ok())
}

/// The states cases of `case_type` are in now.
pub(crate) async fn states_in_use<C: ConnectionTrait>(
    conn: &C,
    case_type: CaseType,
) -> Result<BTreeSet<String>> {
    let states: Vec<String> = access::unguarded::<case::Entity>(Unguarded::System)
        .select_only()
        .column(case::Column::State)
        .distinct()
        .filter(case::Column::CaseType.eq(case_type.as_str()))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(states.into_iter().collect())
}

impl Store {
    /// Builds the views of `rows` for `actor`, with deadlines as of `today`.
    pub(crate) async fn case_views<C: ConnectionTrait>(
        &self,
        conn: &C,
        actor: &Actor,
        rows: Vec<case::Model>,
        calendar: &WorkCalendar,
        today: NaiveDate,
    ) -> Result<Vec<CaseView>> {
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let cosubmitters: Vec<case_cosubmitter::Model> =
            access::unguarded::<case_cosubmitter::Entity>(Unguarded::PartsOf)
                .filter(case_cosubmitter::Column::CaseId.is_in(ids.iter().copied()))
                .all(conn)
                .await?;
        let person_ids: Vec<i64> = rows
            .iter()
            .map(|r| r.submitter_id)
            .chain(cosubmitters.iter().map(|c| c.person_id))
            .collect();
        let people: HashMap<i64, String> = access::unguarded::<person::Entity>(Unguarded::Labels)
            .select_only()
            .column(person::Column::Id)
            .column(person::Column::Name)
            .filter(person::Column::Id.is_in(person_ids))
            .into_tuple()
            .all(conn)
            .await?
            .into_iter()
            .collect();
        let unit_ids: Vec<i64> = rows
            .iter()
            .flat_map(|r| [Some(r.receiving_unit_id), r.handling_unit_id])
            .flatten()
            .collect();
        let units = unit_names(conn, unit_ids).await?;
        let department_ids: Vec<i64> = rows.iter().filter_map(|r| r.department_id).collect();
        let departments: HashMap<i64, String> =
            access::unguarded::<department::Entity>(Unguarded::Labels)
                .filter(department::Column::Id.is_in(department_ids))
                .all(conn)
                .await?
                .into_iter()
                .map(|d| (d.id, d.name))
                .collect();
        let workflows: HashMap<CaseType, Workflow> = reference::load_types(conn)
            .await?
            .into_iter()
            .map(|t| (t.case_type, t.workflow))
            .collect();
        let mut views = Vec::with_capacity(rows.len());
        for row in rows {
            let Some(case_type) = CaseType::parse(&row.case_type) else {
                return Err(StoreError::Corrupt {
                    what: format!("case {} has type {}", row.id, row.case_type),
                });
            };
            let parties = parties(actor, &row);
            let withheld = row.name_withheld && hides_submitter(actor, &row, &parties);
            // Entering an end state sets `closed_at`: one answer to "is it finished", whatever
            // an administrator has done to the workflow since.
            let ended = row.closed_at.is_some();
            let due_on = due_date(row.due_on.as_deref());
            let deadline = match due_on {
                Some(due) if !ended && row.answered_at.is_none() => {
                    Some(Deadline::of(calendar, due, today))
                }
                _ => None,
            };
            let actions = match workflows.get(&case_type) {
                Some(workflow) => handling::allowed_actions(workflow, &row, &parties),
                None => Vec::new(),
            };
            views.push(CaseView {
                number: number(row.created_at, row.id),
                case_type,
                submitter: (!withheld).then(|| {
                    (
                        row.submitter_id,
                        people.get(&row.submitter_id).cloned().unwrap_or_default(),
                    )
                }),
                cosubmitters: if withheld {
                    Vec::new()
                } else {
                    cosubmitters
                        .iter()
                        .filter(|c| c.case_id == row.id)
                        .map(|c| {
                            (
                                c.person_id,
                                people.get(&c.person_id).cloned().unwrap_or_default(),
                            )
                        })
                        .collect()
                },
                receiving_unit: (
                    row.receiving_unit_id,
                    units
                        .get(&row.receiving_unit_id)
                        .cloned()
                        .unwrap_or_default(),
                ),
                handling_unit: row
                    .handling_unit_id
                    .map(|id| (id, units.get(&id).cloned().unwrap_or_default())),
                department: row
                    .department_id
                    .map(|id| (id, departments.get(&id).cloned().unwrap_or_default())),
                due_on,
                deadline,
                answered_at: row.answered_at.map(Timestamp::from_micros),
                satisfaction: row.satisfaction.as_deref().and_then(Satisfaction::parse),
                overdue: row.overdue_at.is_some() && row.answered_at.is_none() && !ended,
                created_at: Timestamp::from_micros(row.created_at),
                updated_at: Timestamp::from_micros(row.updated_at),
                closed_at: row.closed_at.map(Timestamp::from_micros),
                ended,
                parties,
                actions,
                id: row.id,
                title: row.title,
                body: row.body,
                category: row.category,
                state: row.state,
                name_withheld: row.name_withheld,
                answer: row.answer,
                reopened: row.reopened,
                merged_into: row.merged_into,
            });
        }
        Ok(views)
    }

    /// One case the actor may see, with the steps they may take now.
    pub async fn case(&self, actor: &Actor, today: NaiveDate, id: i64) -> Result<CaseView> {
        let row = access::find::<case::Entity, _>(&self.db, actor, id).await?;
        let calendar = reference::load_calendar(&self.db).await?;
        self.case_views(&self.db, actor, vec![row], &calendar, today)
            .await?
            .pop()
            .ok_or(StoreError::NotFound)
    }

    /// One case the actor may see with its timeline, files and extension requests.
    pub async fn case_detail(
        &self,
        actor: &Actor,
        today: NaiveDate,
        id: i64,
    ) -> Result<CaseDetail> {
        let row = access::find::<case::Entity, _>(&self.db, actor, id).await?;
        let timeline = self.timeline_of(actor, &row).await?;
        let files = self.files_of(actor, id).await?;
        let extensions = self.extensions_of(actor, id).await?;
        let outcomes = self.outcomes_of(id).await?;
        let plan = self.plan_steps_of(id).await?;
        let calendar = reference::load_calendar(&self.db).await?;
        let case = self
            .case_views(&self.db, actor, vec![row], &calendar, today)
            .await?
            .pop()
            .ok_or(StoreError::NotFound)?;
        Ok(CaseDetail {
            case,
            timeline,
            files,
            extensions,
            outcomes,
            plan,
        })
    }

    /// The cases the actor may see: newest first, or by due date.
    pub async fn cases(
        &self,
        actor: &Actor,
        today: NaiveDate,
        query: &CaseQuery,
        page: PageRequest,
    ) -> Result<Page<CaseView>> {
        access::require_role_sees::<case::Entity>(actor)?;
        let mut select = access::visible::<case::Entity>(actor);
        if let Some(unit_id) = query.unit_id {
            let path = self.subtree_of(actor, unit_id).await?;
            select = select.filter(
                sea_orm::Condition::any()
                    .add(
                        sea_orm::Condition::all()
                            .add(case::Column::ReceivingUnitPath.gte(path.as_str()))
                            .add(case::Column::ReceivingUnitPath.lt(path.upper_bound())),
                    )
                    .add(
                        sea_orm::Condition::all()
                            .add(case::Column::HandlingUnitPath.gte(path.as_str()))
                            .add(case::Column::HandlingUnitPath.lt(path.upper_bound())),
                    ),
            );
        }
        if let Some(q) = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            select = select.filter(like::contains(case::Column::Title, q));
        }
        if let Some(case_type) = query.case_type {
            select = select.filter(case::Column::CaseType.eq(case_type.as_str()));
        }
        if let Some(state) = &query.state {
            select = select.filter(case::Column::State.eq(state.as_str()));
        }
        if let Some(category) = &query.category {
            select = select.filter(case::Column::Category.eq(category.as_str()));
        }
        if query.open {
            select = select.filter(case::Column::ClosedAt.is_null());
        }
        if query.overdue {
            select = select
                .filter(case::Column::ClosedAt.is_null())
                .filter(case::Column::AnsweredAt.is_null())
                .filter(case::Column::DueOn.lt(today.to_string()));
        }
        let total = capped_count(select.clone(), &self.db).await?;
        let ordered = if query.by_due {
            select
                .order_by(
                    sea_orm::sea_query::ExprTrait::is_null(sea_orm::sea_query::Expr::col(
                        case::Column::DueOn,
                    )),
                    Order::Asc,
                )
                .order_by_asc(case::Column::DueOn)
                .order_by_asc(case::Column::Id)
        } else {
            select
                .order_by_desc(case::Column::CreatedAt)
                .order_by_desc(case::Column::Id)
        };
        let rows = ordered
            .offset(page.offset())
            .limit(page.per_page)
            .all(&self.db)
            .await?;
        let calendar = reference::load_calendar(&self.db).await?;
        let views = self
            .case_views(&self.db, actor, rows, &calendar, today)
            .await?;
        Ok(Page::new(views, total, page))
    }

    /// Submits a case: a member as themself, staff on behalf of a person of their subtree.
    pub async fn submit_case(
        &self,
        actor: &Actor,
        now: Timestamp,
        today: NaiveDate,
        input: &CaseInput,
    ) -> Result<CaseView> {
        let title = parse_name(Field::Named("case_title"), &input.title)?;
        let body = parse_optional_text(Field::Named("content"), &input.body, MAX_CASE_BODY_CHARS)?
            .ok_or_else(|| Invalid::new(Field::Named("content"), Reason::Required))?;
        if !CASE_CATEGORIES.contains(&input.category.as_str()) {
            return Err(Invalid::new(Field::Named("category"), Reason::NotAChoice).into());
        }
        let attachment = match &input.attachment {
            Some(file) => Some((file, file.media_type()?)),
            None => None,
        };
        if input.cosubmitter_ids.len() > MAX_COSUBMITTERS {
            return Err(Invalid::new(
                Field::Named("cosubmitters"),
                Reason::TooMany {
                    max: MAX_COSUBMITTERS as u64,
                },
            )
            .into());
        }
        let tx = self.begin_write().await?;
        let submitter = match (actor.role(), input.submitter_id) {
            (Role::Member, _) => {
                let id = actor.person_id().ok_or(StoreError::Forbidden)?;
                access::find::<person::Entity, _>(&tx, actor, id).await?
            }
            (Role::Admin | Role::Staff, Some(id)) => {
                match access::find::<person::Entity, _>(&tx, actor, id).await {
                    Err(StoreError::NotFound) => {
                        return Err(
                            Invalid::new(Field::Named("submitter"), Reason::NotFound).into()
                        );
                    }
                    other => other?,
                }
            }
            (Role::Admin | Role::Staff, None) => {
                return Err(Invalid::new(Field::Named("submitter"), Reason::Required).into());
            }
            _ => return Err(StoreError::Forbidden),
        };
        if submitter.archived_at.is_some() {
            return Err(Invalid::new(Field::Named("submitter"), Reason::Archived).into());
        }
        let receiving = match (actor.role(), input.receiving_unit_id) {
            (Role::Member, _) | (_, None) => {
                access::unguarded_by_id::<crate::entity::unit::Entity>(
                    Unguarded::Labels,
                    submitter.unit_id,
                )
                .one(&tx)
                .await?
                .ok_or(StoreError::NotFound)?
            }
            (_, Some(unit_id)) => filing_unit(&tx, actor, unit_id, Field::Unit).await?,
        };
        let mut cosubmitters = BTreeSet::new();
        for &id in &input.cosubmitter_ids {
            if id == submitter.id || !cosubmitters.insert(id) {
                return Err(Invalid::new(Field::Named("cosubmitters"), Reason::Repeated).into());
            }
            if access::find::<person::Entity, _>(&tx, actor, id)
                .await
                .is_err()
            {
                return Err(Invalid::new(
                    Field::Named("cosubmitters"),
                    Reason::UnknownPerson {
                        id: u64::try_from(id).unwrap_or(0),
                    },
                )
                .into());
            }
        }
        let (topic_id, team_id) = match input.topic_id {
            Some(topic) => {
                let (topic, team, mates) =
                    research::report_link(&tx, actor, topic, input.case_type, submitter.id, today)
                        .await?;
                cosubmitters.extend(mates);
                (Some(topic), team)
            }
            None => (None, None),
        };
        let sector: Option<i64> = access::unguarded::<person_sector::Entity>(Unguarded::PartsOf)
            .select_only()
            .column(person_sector::Column::SectorId)
            .filter(person_sector::Column::PersonId.eq(submitter.id))
            .order_by_asc(person_sector::Column::SectorId)
            .into_tuple()
            .one(&tx)
            .await?;
        let workflow = reference::load_type(&tx, input.case_type).await?.workflow;
        let submitted_by = actor.user_id().ok_or(StoreError::Forbidden)?;
        let row = case::ActiveModel {
            case_type: Set(input.case_type.as_str().to_owned()),
            title: Set(title),
            body: Set(body),
            category: Set(input.category.clone()),
            state: Set(workflow.start.clone()),
            submitter_id: Set(submitter.id),
            submitted_by: Set(submitted_by),
            sector_id: Set(sector),
            name_withheld: Set(input.name_withheld),
            receiving_unit_id: Set(receiving.id),
            receiving_unit_path: Set(receiving.path.clone()),
            handling_unit_id: Set(None),
            handling_unit_path: Set(None),
            department_id: Set(None),
            due_on: Set(None),
            assigned_at: Set(None),
            answered_at: Set(None),
            answer: Set(None),
            satisfaction: Set(None),
            reopened: Set(0),
            merged_into: Set(None),
            overdue_at: Set(None),
            reminded_for: Set(None),
            created_at: Set(now.micros()),
            updated_at: Set(now.micros()),
            closed_at: Set(None),
            topic_id: Set(topic_id),
            team_id: Set(team_id),
            answer_days: Set(None),
            answered_on_time: Set(None),
            ..Default::default()
        }
        .insert(&tx)
        .await?;
        if !cosubmitters.is_empty() {
            case_cosubmitter::Entity::insert_many(cosubmitters.iter().map(|&person_id| {
                case_cosubmitter::ActiveModel {
                    case_id: Set(row.id),
                    person_id: Set(person_id),
                }
            }))
            .exec(&tx)
            .await?;
        }
        timeline::record(
            &tx,
            now,
            actor,
            &row,
            timeline::Step::new("submit")
                .to(&row.state)
                .detail(json!({ "on_behalf": actor.role() != Role::Member })),
        )
        .await?;
        if let Some((file, media_type)) = attachment {
            self.attach(&tx, now, actor, &row, file, media_type, false)
                .await?;
        }
        audit::append(
            &tx,
            &self.keys,
            now,
            actor,
            Event::new("case.submit")
                .target("case", row.id, &row.title)
                .unit(&row.receiving_unit_path)
                .detail(json!({ "type": row.case_type })),
        )
        .await?;
        let mut event = notifications::Event::new(
            "case.submitted",
            format!("case:{}", row.id),
            format!("/cases/{}", row.id),
            json!({ "title": row.title, "number": number(row.created_at, row.id) }),
            Recipients::StaffOf(row.receiving_unit_id),
        );
        event.unit = Some(row.receiving_unit_id);
        notifications::raise(&tx, now, &event).await?;
        tx.commit().await?;
        self.case(actor, today, row.id).await
    }
}

/// Whether the submitter's name is kept from `actor`: those who reach the case only as its
/// handler (not the receiving unit or above it, nor a submitter) do not learn it.
fn hides_submitter(actor: &Actor, case: &case::Model, parties: &[Party]) -> bool {
    if parties.contains(&Party::Submitter) || actor.role() == Role::Member {
        return false;
    }
    let receiving = UnitPath::from_stored(case.receiving_unit_path.clone());
    !actor.covers(&receiving)
}
