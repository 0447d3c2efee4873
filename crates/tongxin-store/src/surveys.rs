//! Surveys: staff publish a short questionnaire (single choice, multiple choice, text) to a
//! target population — a unit's subtree, narrowed to sectors and tags as campaigns are — and
//! each member of it answers once from the portal.
//!
//! Results are counts per choice and, per text question, the texts in a random order; who
//! answered is kept apart from what was answered. An anonymous survey keeps nothing more, so no
//! row, order or time links an answer to its person, administrators included; a named survey
//! also keeps each person's answers.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;
use rand::RngExt;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::json;
use tongxin_core::{Field, Invalid, Reason, Role, Timestamp, UnitPath, parse_name};

use crate::Store;
use crate::access::{self, Actor, Unguarded, filing_unit};
use crate::audit::{self, Event};
use crate::entity::{
    person, person_sector, person_tag, sector, survey, survey_count, survey_question,
    survey_response, survey_sector, survey_tag, survey_taker, survey_text,
};
use crate::error::{Result, StoreError};
use crate::units::unit_names;

/// Most questions in one survey: it is meant to be short.
pub const MAX_QUESTIONS: usize = 20;
/// Most choices of one question.
pub const MAX_CHOICES: usize = 20;
/// Longest prompt, choice or text answer, in characters.
const MAX_TEXT_CHARS: usize = 2_000;

/// The kinds of question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuestionKind {
    Single,
    Multiple,
    Text,
}

impl QuestionKind {
    pub const ALL: [QuestionKind; 3] = [
        QuestionKind::Single,
        QuestionKind::Multiple,
        QuestionKind::Text,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            QuestionKind::Single => "single",
            QuestionKind::Multiple => "multiple",
            QuestionKind::Text => "text",
        }
    }

    pub fn parse(text: &str) -> Option<QuestionKind> {
        QuestionKind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// A question to publish.
#[derive(Debug, Clone)]
pub struct QuestionInput {
    pub kind: QuestionKind,
    pub prompt: String,
    pub choices: Vec<String>,
    pub required: bool,
}

/// A survey to publish.
#[derive(Debug, Clone)]
pub struct SurveyInput {
    /// The publishing unit; the caller's own by default.
    pub unit_id: Option<i64>,
    pub title: String,
    pub intro: String,
    pub anonymous: bool,
    /// The population: this unit's subtree (the caller's own by default)…
    pub target_unit_id: Option<i64>,
    /// …its people in any of these sectors (all when empty)…
    pub sector_ids: Vec<i64>,
    /// …with any of these tags (all when empty).
    pub tags: Vec<String>,
    pub closes_on: NaiveDate,
    pub questions: Vec<QuestionInput>,
}

/// A question as shown.
#[derive(Debug, Clone)]
pub struct QuestionView {
    pub id: i64,
    pub kind: QuestionKind,
    pub prompt: String,
    pub choices: Vec<String>,
    pub required: bool,
}

/// A survey as listed and shown.
#[derive(Debug, Clone)]
pub struct SurveyView {
    pub id: i64,
    pub unit: (i64, String),
    pub title: String,
    pub intro: Option<String>,
    pub anonymous: bool,
    pub target_unit: (i64, String),
    pub sectors: Vec<(i64, String)>,
    pub tags: Vec<String>,
    pub closes_on: NaiveDate,
    /// Taking answers now.
    pub open: bool,
    pub respondents: u64,
    /// The reading member has answered it.
    pub answered: bool,
    pub questions: Vec<QuestionView>,
}

/// One question's results: a count per choice, or the texts given.
#[derive(Debug, Clone)]
pub struct QuestionResult {
    pub question: QuestionView,
    pub counts: Vec<u64>,
    pub texts: Vec<String>,
}

/// A survey's results for staff.
#[derive(Debug, Clone)]
pub struct SurveyResults {
    pub survey: SurveyView,
    /// People in the target population now.
    pub population: u64,
    pub questions: Vec<QuestionResult>,
}

/// A member's answer to one question: the indexes of the choices taken, or a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnswerValue {
    Choices(Vec<usize>),
    Text(String),
}

const QUESTION: Field = Field::Named("question");

/// A refusal that names the question by its prompt (as far as it has one).
fn refusal(prompt: &str, reason: Reason) -> Invalid {
    let label: String = prompt.trim().chars().take(40).collect();
    if label.is_empty() {
        Invalid::new(QUESTION, reason)
    } else {
        Invalid::labelled(QUESTION, reason, &label)
    }
}

fn parse_questions(questions: &[QuestionInput]) -> Result<Vec<QuestionInput>> {
    if questions.is_empty() {
        return Err(Invalid::new(Field::Named("questions"), Reason::Required).into());
    }
    if questions.len() > MAX_QUESTIONS {
        return Err(Invalid::new(
            Field::Named("questions"),
            Reason::TooMany {
                max: MAX_QUESTIONS as u64,
            },
        )
        .into());
    }
    let mut parsed = Vec::with_capacity(questions.len());
    for q in questions {
        let refuse = |reason| refusal(&q.prompt, reason);
        let prompt = tongxin_core::parse_optional_text(QUESTION, &q.prompt, MAX_TEXT_CHARS)
            .map_err(|e| refuse(e.reason))?
            .ok_or_else(|| refuse(Reason::Required))?;
        let mut choices = Vec::new();
        for choice in &q.choices {
            let choice = choice.trim();
            if choice.is_empty() {
                continue;
            }
            if choice.chars().count() > MAX_TEXT_CHARS {
                return Err(refuse(Reason::TooLong {
                    max: MAX_TEXT_CHARS,
                })
                .into());
            }
            if choices.iter().any(|c: &String| c == choice) {
                return Err(refuse(Reason::Repeated).into());
            }
            choices.push(choice.to_owned());
        }
        match q.kind {
            QuestionKind::Text if !choices.is_empty() => {
                return Err(refuse(Reason::NotAChoice).into());
            }
            QuestionKind::Single | QuestionKind::Multiple if choices.len() < 2 => {
                return Err(refuse(Reason::TooShort { min: 2 }).into());
            }
            _ if choices.len() > MAX_CHOICES => {
                return Err(refuse(Reason::TooMany {
                    max: MAX_CHOICES as u64,
                })
                .into());
            }
            _ => {}
        }
        parsed.push(QuestionInput {
            kind: q.kind,
            prompt,
            choices,
            required: q.required,
        });
    }
    Ok(parsed)
}

fn question_view(row: &survey_question::Model) -> Result<QuestionView> {
    let corrupt = || StoreError::Corrupt {
        what: format!("survey question {}", row.id),
    };
    Ok(QuestionView {
        id: row.id,
        kind: QuestionKind::parse(&row.kind).ok_or_else(corrupt)?,
        prompt: row.prompt.clone(),
        choices: serde_json::from_str(&row.choices).map_err(|_| corrupt())?,
        required: row.required,
    })
}

/// Whether a survey takes answers on `today`.
fn is_open(row: &survey::Model, today: NaiveDate) -> bool {
    row.closed_at.is_none()
        && NaiveDate::parse_from_str(&row.closes_on, "%Y-%m-%d").is_ok_and(|d| today <= d)
}

/// Whether `person` is in the survey's population: under its target unit, in one of its
/// sectors and with one of its tags (where it names any).
async fn in_population<C: ConnectionTrait>(
    conn: &C,
    row: &survey::Model,
    person: &person::Model,
) -> Result<bool> {
    let target = UnitPath::from_stored(row.target_unit_path.clone());
    if person.archived_at.is_some()
        || !target.contains(&UnitPath::from_stored(person.unit_path.clone()))
    {
        return Ok(false);
    }
    let sectors: Vec<i64> = access::unguarded::<survey_sector::Entity>(Unguarded::PartsOf)
        .filter(survey_sector::Column::SurveyId.eq(row.id))
        .all(conn)
        .await?
        .into_iter()
        .map(|s| s.sector_id)
        .collect();
    if !sectors.is_empty()
        && access::unguarded::<person_sector::Entity>(Unguarded::PartsOf)
            .filter(person_sector::Column::PersonId.eq(person.id))
            .filter(person_sector::Column::SectorId.is_in(sectors))
            .count(conn)
            .await?
            == 0
    {
        return Ok(false);
    }
    let tags: Vec<String> = access::unguarded::<survey_tag::Entity>(Unguarded::PartsOf)
        .filter(survey_tag::Column::SurveyId.eq(row.id))
        .all(conn)
        .await?
        .into_iter()
        .map(|t| t.tag)
        .collect();
    if !tags.is_empty()
        && access::unguarded::<person_tag::Entity>(Unguarded::PartsOf)
            .filter(person_tag::Column::PersonId.eq(person.id))
            .filter(person_tag::Column::Tag.is_in(tags))
            .count(conn)
            .await?
            == 0
    {
        return Ok(false);
    }
    Ok(true)
}

impl Store {
    /// Publishes a survey with its questions; it takes answers at once.
    pub async fn publish_survey(
        &self,
        actor: &Actor,
        now: Timestamp,
        today: NaiveDate,
        input: &SurveyInput,
    ) -> Result<SurveyView> {
        actor.require_editor()?;
        let title = parse_name(Field::Named("case_title"), &input.title)?;
        let intro = tongxin_core::parse_optional_text(
            Field::Named("content"),
            &input.intro,
            MAX_TEXT_CHARS,
        )?;
        if input.closes_on < today {
            return Err(Invalid::new(Field::Named("closes_on"), Reason::OutOfRange).into());
        }
        let questions = parse_questions(&input.questions)?;
        let mut tags = Vec::new();
        for tag in &input.tags {
            let tag = tag.trim();
            if tag.is_empty() {
                continue;
            }
            if tag.chars().count() > 50 {
                return Err(Invalid::new(Field::Named("tags"), Reason::TooLong { max: 50 }).into());
            }
            tags.push(tag.to_owned());
        }
        tags.sort();
        tags.dedup();
        let sector_ids: BTreeSet<i64> = input.sector_ids.iter().copied().collect();
        let tx = self.begin_write().await?;
        let found = access::unguarded::<sector::Entity>(Unguarded::Reference)
            .filter(sector::Column::Id.is_in(sector_ids.iter().copied()))
            .count(&tx)
            .await?;
        if found != sector_ids.len() as u64 {
            return Err(Invalid::new(Field::Named("sectors"), Reason::NotFound).into());
        }
        let own = actor.unit_id().ok_or(StoreError::Forbidden)?;
        let unit = filing_unit(&tx, actor, input.unit_id.unwrap_or(own), Field::Unit).await?;
        let target =
            filing_unit(&tx, actor, input.target_unit_id.unwrap_or(own), Field::Unit).await?;
        let saved = survey::ActiveModel {
            unit_id: Set(unit.id),
            unit_path: Set(unit.path.clone()),
            title: Set(title),
            intro: Set(intro),
            anonymous: Set(input.anonymous),
            target_unit_id: Set(target.id),
            target_unit_path: Set(target.path.clone()),
            closes_on: Set(input.closes_on.to_string()),
            closed_at: Set(None),
            created_by: Set(actor.user_id().ok_or(StoreError::Forbidden)?),
            created_at: Set(now.micros()),
            updated_at: Set(now.micros()),
            ..Default::default()
        }
        .insert(&tx)
        .await?;
        for &sector_id in &sector_ids {
            survey_sector::ActiveModel {
                survey_id: Set(saved.id),
                sector_id: Set(sector_id),
            }
            .insert(&tx)
            .await?;
        }
        for tag in &tags {
            survey_tag::ActiveModel {
                survey_id: Set(saved.id),
                tag: Set(tag.clone()),
            }
            .insert(&tx)
            .await?;
        }
        for (position, q) in questions.iter().enumerate() {
            let question = survey_question::ActiveModel {
                survey_id: Set(saved.id),
                position: Set(i32::try_from(position).unwrap_or(i32::MAX)),
                kind: Set(q.kind.as_str().to_owned()),
                prompt: Set(q.prompt.clone()),
                choices: Set(json!(q.choices).to_string()),
                required: Set(q.required),
                ..Default::default()
            }
            .insert(&tx)
            .await?;
            // The counters and the text list exist from the start: an answer only updates rows,
            // so no row is added in the order people answer.
            if q.kind == QuestionKind::Text {
                survey_text::ActiveModel {
                    question_id: Set(question.id),
                    answers: Set("[]".to_owned()),
                }
                .insert(&tx)
                .await?;
            } else {
                survey_count::Entity::insert_many((0..q.choices.len()).map(|choice| {
                    survey_count::ActiveModel {
                        question_id: Set(question.id),
                        choice: Set(i32::try_from(choice).unwrap_or(i32::MAX)),
                        n: Set(0),
                    }
                }))
                .exec(&tx)
                .await?;
            }
        }
        audit::append(
            &tx,
            &self.keys,
            now,
            actor,
            Event::new("survey.publish")
                .target("survey", saved.id, &saved.title)
                .unit(&saved.unit_path)
                .detail(json!({ "anonymous": saved.anonymous, "questions": questions.len() })),
        )
        .await?;
        tx.commit().await?;
        self.survey(actor, today, saved.id).await
    }

    async fn survey_views(
        &self,
        actor: &Actor,
        today: NaiveDate,
        rows: Vec<survey::Model>,
    ) -> Result<Vec<SurveyView>> {
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let questions = access::unguarded::<survey_question::Entity>(Unguarded::PartsOf)
            .filter(survey_question::Column::SurveyId.is_in(ids.iter().copied()))
            .order_by_asc(survey_question::Column::Position)
            .all(&self.db)
            .await?;
        let sectors = access::unguarded::<survey_sector::Entity>(Unguarded::PartsOf)
            .filter(survey_sector::Column::SurveyId.is_in(ids.iter().copied()))
            .all(&self.db)
            .await?;
        let sector_names: HashMap<i64, String> =
            access::unguarded::<sector::Entity>(Unguarded::Reference)
                .all(&self.db)
                .await?
                .into_iter()
                .map(|s| (s.id, s.name))
                .collect();
        let tags = access::unguarded::<survey_tag::Entity>(Unguarded::PartsOf)
            .filter(survey_tag::Column::SurveyId.is_in(ids.iter().copied()))
            .all(&self.db)
            .await?;
        let takers = access::unguarded::<survey_taker::Entity>(Unguarded::PartsOf)
            .filter(survey_taker::Column::SurveyId.is_in(ids.iter().copied()))
            .all(&self.db)
            .await?;
        let units = unit_names(
            &self.db,
            rows.iter().flat_map(|r| [r.unit_id, r.target_unit_id]),
        )
        .await?;
        let mut views = Vec::with_capacity(rows.len());
        for row in rows {
            views.push(SurveyView {
                unit: (
                    row.unit_id,
                    units.get(&row.unit_id).cloned().unwrap_or_default(),
                ),
                target_unit: (
                    row.target_unit_id,
                    units.get(&row.target_unit_id).cloned().unwrap_or_default(),
                ),
                sectors: sectors
                    .iter()
                    .filter(|s| s.survey_id == row.id)
                    .map(|s| {
                        (
                            s.sector_id,
                            sector_names.get(&s.sector_id).cloned().unwrap_or_default(),
                        )
                    })
                    .collect(),
                tags: tags
                    .iter()
                    .filter(|t| t.survey_id == row.id)
                    .map(|t| t.tag.clone())
                    .collect(),
                closes_on: NaiveDate::parse_from_str(&row.closes_on, "%Y-%m-%d").map_err(|_| {
                    StoreError::Corrupt {
                        what: format!("survey {} closing day", row.id),
                    }
                })?,
                open: is_open(&row, today),
                respondents: takers.iter().filter(|t| t.survey_id == row.id).count() as u64,
                answered: actor.person_id().is_some_and(|p| {
                    takers
                        .iter()
                        .any(|t| t.survey_id == row.id && t.person_id == p)
                }),
                questions: questions
                    .iter()
                    .filter(|q| q.survey_id == row.id)
                    .map(question_view)
                    .collect::<Result<_>>()?,
                id: row.id,
                title: row.title,
                intro: row.intro,
                anonymous: row.anonymous,
            });
        }
        Ok(views)
    }

    /// A survey the actor may see; a member sees only one they are in the population of.
    async fn find_survey<C: ConnectionTrait>(
        &self,
        conn: &C,
        actor: &Actor,
        id: i64,
    ) -> Result<survey::Model> {
        let row = access::find::<survey::Entity, _>(conn, actor, id).await?;
        if actor.role() == Role::Member {
            let person = self.member_person(conn, actor).await?;
            if !in_population(conn, &row, &person).await? {
                return Err(StoreError::NotFound);
            }
        }
        Ok(row)
    }

    async fn member_person<C: ConnectionTrait>(
        &self,
        conn: &C,
        actor: &Actor,
    ) -> Result<person::Model> {
        let id = actor.person_id().ok_or(StoreError::NotFound)?;
        access::find::<person::Entity, _>(conn, actor, id).await
    }

    /// The surveys the actor may see, latest closing day first: staff those of their part of
    /// the tree, a member those they are asked to answer.
    pub async fn surveys(&self, actor: &Actor, today: NaiveDate) -> Result<Vec<SurveyView>> {
        access::require_role_sees::<survey::Entity>(actor)?;
        let mut rows = access::visible::<survey::Entity>(actor)
            .order_by_desc(survey::Column::ClosesOn)
            .order_by_desc(survey::Column::Id)
            .all(&self.db)
            .await?;
        if actor.role() == Role::Member {
            let Ok(person) = self.member_person(&self.db, actor).await else {
                return Ok(Vec::new());
            };
            let mut mine = Vec::new();
            for row in rows {
                if in_population(&self.db, &row, &person).await? {
                    mine.push(row);
                }
            }
            rows = mine;
        }
        self.survey_views(actor, today, rows).await
    }

    pub async fn survey(&self, actor: &Actor, today: NaiveDate, id: i64) -> Result<SurveyView> {
        let row = self.find_survey(&self.db, actor, id).await?;
        self.survey_views(actor, today, vec![row])
            .await?
            .pop()
            .ok_or(StoreError::NotFound)
    }

    /// Counts and texts, and the population's size, for staff.
    pub async fn survey_results(
        &self,
        actor: &Actor,
        today: NaiveDate,
        id: i64,
    ) -> Result<SurveyResults> {
        if actor.role() == Role::Member {
            return Err(StoreError::Forbidden);
        }
        let survey = self.survey(actor, today, id).await?;
        let row = access::find::<survey::Entity, _>(&self.db, actor, id).await?;
        let question_ids: Vec<i64> = survey.questions.iter().map(|q| q.id).collect();
        let counts = access::unguarded::<survey_count::Entity>(Unguarded::PartsOf)
            .filter(survey_count::Column::QuestionId.is_in(question_ids.iter().copied()))
            .all(&self.db)
            .await?;
        let texts: HashMap<i64, Vec<String>> =
            access::unguarded::<survey_text::Entity>(Unguarded::PartsOf)
                .filter(survey_text::Column::QuestionId.is_in(question_ids.iter().copied()))
                .all(&self.db)
                .await?
                .into_iter()
                .map(|t| {
                    (
                        t.question_id,
                        serde_json::from_str(&t.answers).unwrap_or_default(),
                    )
                })
                .collect();
        let mut people = access::unguarded::<person::Entity>(Unguarded::Figures)
            .filter(person::Column::ArchivedAt.is_null())
            .filter(person::Column::UnitPath.gte(row.target_unit_path.as_str()))
            .filter(
                person::Column::UnitPath
                    .lt(UnitPath::from_stored(row.target_unit_path.clone()).upper_bound()),
            );
        if !survey.sectors.is_empty() {
            people = people.filter(
                person::Column::Id.in_subquery(
                    sea_orm::sea_query::Query::select()
                        .column(person_sector::Column::PersonId)
                        .from(person_sector::Entity)
                        .and_where(
                            person_sector::Column::SectorId
                                .is_in(survey.sectors.iter().map(|(id, _)| *id)),
                        )
                        .to_owned(),
                ),
            );
        }
        if !survey.tags.is_empty() {
            people = people.filter(
                person::Column::Id.in_subquery(
                    sea_orm::sea_query::Query::select()
                        .column(person_tag::Column::PersonId)
                        .from(person_tag::Entity)
                        .and_where(person_tag::Column::Tag.is_in(survey.tags.clone()))
                        .to_owned(),
                ),
            );
        }
        let population = people.count(&self.db).await?;
        let questions = survey
            .questions
            .iter()
            .map(|q| QuestionResult {
                counts: (0..q.choices.len())
                    .map(|choice| {
                        counts
                            .iter()
                            .find(|c| {
                                c.question_id == q.id
                                    && usize::try_from(c.choice).ok() == Some(choice)
                            })
                            .map_or(0, |c| u64::try_from(c.n).unwrap_or(0))
                    })
                    .collect(),
                texts: texts.get(&q.id).cloned().unwrap_or_default(),
                question: q.clone(),
            })
            .collect();
        Ok(SurveyResults {
            survey,
            population,
            questions,
        })
    }

    /// A member's answers, taken once while the survey is open.
    pub async fn answer_survey(
        &self,
        actor: &Actor,
        now: Timestamp,
        today: NaiveDate,
        id: i64,
        answers: &HashMap<i64, AnswerValue>,
    ) -> Result<()> {
        if actor.role() != Role::Member {
            return Err(StoreError::Forbidden);
        }
        let tx = self.begin_write().await?;
        let row = self.find_survey(&tx, actor, id).await?;
        let person = self.member_person(&tx, actor).await?;
        if !is_open(&row, today) {
            return Err(Invalid::new(Field::Named("survey"), Reason::PastDeadline).into());
        }
        let taken = access::unguarded_by_id::<survey_taker::Entity>(
            Unguarded::PartsOf,
            (row.id, person.id),
        )
        .one(&tx)
        .await?;
        if taken.is_some() {
            return Err(Invalid::new(Field::Named("survey"), Reason::AlreadyDecided).into());
        }
        let questions = access::unguarded::<survey_question::Entity>(Unguarded::PartsOf)
            .filter(survey_question::Column::SurveyId.eq(row.id))
            .order_by_asc(survey_question::Column::Position)
            .all(&tx)
            .await?;
        if answers
            .keys()
            .any(|q| !questions.iter().any(|x| x.id == *q))
        {
            return Err(Invalid::new(QUESTION, Reason::NotFound).into());
        }
        // Checked whole before anything is written.
        let mut checked = Vec::new();
        for model in &questions {
            let question = question_view(model)?;
            let refuse = |reason| refusal(&question.prompt, reason);
            let answer = answers.get(&question.id);
            let empty = match answer {
                None => true,
                Some(AnswerValue::Choices(c)) => c.is_empty(),
                Some(AnswerValue::Text(t)) => t.trim().is_empty(),
            };
            if empty {
                if question.required {
                    return Err(refuse(Reason::Required).into());
                }
                continue;
            }
            match (question.kind, answer) {
                (QuestionKind::Single | QuestionKind::Multiple, Some(AnswerValue::Choices(c))) => {
                    let distinct: BTreeSet<usize> = c.iter().copied().collect();
                    if distinct.len() != c.len()
                        || distinct.iter().any(|i| *i >= question.choices.len())
                        || (question.kind == QuestionKind::Single && c.len() != 1)
                    {
                        return Err(refuse(Reason::NotAChoice).into());
                    }
                    checked.push((
                        question,
                        AnswerValue::Choices(distinct.into_iter().collect()),
                    ));
                }
                (QuestionKind::Text, Some(AnswerValue::Text(text))) => {
                    if let Some(text) =
                        tongxin_core::parse_optional_text(QUESTION, text, MAX_TEXT_CHARS)
                            .map_err(|e| refuse(e.reason))?
                    {
                        checked.push((question, AnswerValue::Text(text)));
                    }
                }
                _ => return Err(refuse(Reason::NotAChoice).into()),
            }
        }
        for (question, answer) in &checked {
            match answer {
                AnswerValue::Choices(choices) => {
                    for &choice in choices {
                        access::update_rows::<survey_count::Entity>(Unguarded::Counters)
                            .col_expr(
                                survey_count::Column::N,
                                Expr::col(survey_count::Column::N).add(1),
                            )
                            .filter(survey_count::Column::QuestionId.eq(question.id))
                            .filter(
                                survey_count::Column::Choice
                                    .eq(i32::try_from(choice).unwrap_or(i32::MAX)),
                            )
                            .exec(&tx)
                            .await?;
                    }
                }
                AnswerValue::Text(text) => {
                    let mut bucket = access::unguarded_by_id::<survey_text::Entity>(
                        Unguarded::PartsOf,
                        question.id,
                    );
                    // Two members answering at once must not both rewrite the list they read
                    // (SQLite's writers are one at a time already).
                    if self.engine() == crate::Engine::Postgres {
                        bucket = bucket.lock_exclusive();
                    }
                    let bucket = bucket.one(&tx).await?.ok_or(StoreError::NotFound)?;
                    let mut texts: Vec<String> =
                        serde_json::from_str(&bucket.answers).unwrap_or_default();
                    // A random place: the list's order says nothing of who answered when.
                    let at = rand::rng().random_range(0..=texts.len());
                    texts.insert(at, text.clone());
                    let mut change: survey_text::ActiveModel = bucket.into();
                    change.answers = Set(json!(texts).to_string());
                    change.update(&tx).await?;
                }
            }
        }
        survey_taker::ActiveModel {
            survey_id: Set(row.id),
            person_id: Set(person.id),
        }
        .insert(&tx)
        .await?;
        if !row.anonymous {
            let kept: serde_json::Map<String, serde_json::Value> = checked
                .iter()
                .map(|(q, a)| {
                    (
                        q.id.to_string(),
                        match a {
                            AnswerValue::Choices(c) => json!(c),
                            AnswerValue::Text(t) => json!(t),
                        },
                    )
                })
                .collect();
            survey_response::ActiveModel {
                survey_id: Set(row.id),
                person_id: Set(person.id),
                answers: Set(serde_json::Value::Object(kept).to_string()),
                submitted_at: Set(now.micros()),
            }
            .insert(&tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Closes a survey before its closing day.
    pub async fn close_survey(&self, actor: &Actor, now: Timestamp, id: i64) -> Result<()> {
        let tx = self.begin_write().await?;
        let row = access::find_to_change::<survey::Entity, _>(&tx, actor, id).await?;
        if row.closed_at.is_some() {
            return Err(Invalid::new(Field::Named("survey"), Reason::AlreadyDecided).into());
        }
        let title = row.title.clone();
        let path = row.unit_path.clone();
        let mut change: survey::ActiveModel = row.into();
        change.closed_at = Set(Some(now.micros()));
        change.updated_at = Set(now.micros());
        change.update(&tx).await?;
        audit::append(
            &tx,
            &self.keys,
            now,
            actor,
            Event::new("survey.close")
                .target("survey", id, &title)
                .unit(&path),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
