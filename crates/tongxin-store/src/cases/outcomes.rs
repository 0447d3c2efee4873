//! What follows from a case beside its answer: leader instructions, adoption into policy and
//! bulletin publication, each with its evidence; and the rectification plan of a supervision
//! finding, step by step, each done with evidence and checked by the supervising side.

use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, PaginatorTrait, QueryFilter,
    QueryOrder,
};
use serde_json::json;
use tongxin_core::{
    Field, InstructionLevel, Invalid, Outcome, Party, Reason, Role, Timestamp, parse_name,
    parse_optional_text,
};

use super::parties;
use super::timeline::{self, Step};
use crate::Store;
use crate::access::{self, Actor, Unguarded};
use crate::audit::{self, Event};
use crate::entity::{case, case_file, case_outcome, case_plan_step};
use crate::error::{Result, StoreError};

/// Longest reference to evidence (a document number, a bulletin issue), in characters.
const MAX_REFERENCE_CHARS: usize = 200;

/// Longest summary, evidence note or check note, in characters.
const MAX_NOTE_CHARS: usize = 2_000;

/// An instruction, adoption or publication to record.
#[derive(Debug, Clone)]
pub struct OutcomeInput {
    pub outcome: Outcome,
    /// Required for an instruction, refused otherwise.
    pub level: Option<InstructionLevel>,
    pub on: NaiveDate,
    /// What the leader wrote, which policy took it up, which bulletin ran it.
    pub summary: String,
    /// The evidence: a reference, one of the case's files, or both.
    pub reference: Option<String>,
    pub file_id: Option<i64>,
}

/// A recorded outcome.
#[derive(Debug, Clone)]
pub struct OutcomeView {
    pub id: i64,
    pub outcome: Outcome,
    pub level: Option<InstructionLevel>,
    pub on: NaiveDate,
    pub summary: String,
    pub reference: Option<String>,
    pub file_id: Option<i64>,
    pub recorded_at: Timestamp,
}

/// One step of a rectification plan.
#[derive(Debug, Clone)]
pub struct PlanStepView {
    pub id: i64,
    pub title: String,
    pub due_on: NaiveDate,
    pub done_at: Option<Timestamp>,
    pub evidence: Option<String>,
    pub file_id: Option<i64>,
    /// `accepted` or `rejected` by the supervising side; a rejected step is to be done again.
    pub checked: Option<String>,
    pub check_note: Option<String>,
}

fn note(field: &'static str, text: Option<&str>, max: usize) -> Result<Option<String>> {
    Ok(parse_optional_text(
        Field::Named(field),
        text.unwrap_or_default(),
        max,
    )?)
}

/// The staff side that oversees a case: its receiving unit or a unit above.
fn supervising(actor: &Actor, row: &case::Model) -> bool {
    let parties = parties(actor, row);
    parties.contains(&Party::Receiving) || parties.contains(&Party::Above)
}

/// Evidence is a reference, a file of this case, or both; never neither.
async fn evidence<C: ConnectionTrait>(
    conn: &C,
    case_id: i64,
    reference: Option<&str>,
    file_id: Option<i64>,
    field: &'static str,
) -> Result<(Option<String>, Option<i64>)> {
    let reference = note(field, reference, MAX_REFERENCE_CHARS)?;
    if let Some(file_id) = file_id {
        access::unguarded_by_id::<case_file::Entity>(Unguarded::PartsOf, file_id)
            .filter(case_file::Column::CaseId.eq(case_id))
            .one(conn)
            .await?
            .ok_or_else(|| Invalid::new(Field::Named("file"), Reason::NotFound))?;
    }
    if reference.is_none() && file_id.is_none() {
        return Err(Invalid::new(Field::Named(field), Reason::Required).into());
    }
    Ok((reference, file_id))
}

fn outcome_view(row: case_outcome::Model) -> Result<OutcomeView> {
    let corrupt = || StoreError::Corrupt {
        what: format!("case outcome {}", row.id),
    };
    Ok(OutcomeView {
        id: row.id,
        outcome: Outcome::parse(&row.kind).ok_or_else(corrupt)?,
        level: row.level.as_deref().and_then(InstructionLevel::parse),
        on: super::due_date(Some(&row.on_date)).ok_or_else(corrupt)?,
        summary: row.summary,
        reference: row.reference,
        file_id: row.file_id,
        recorded_at: Timestamp::from_micros(row.recorded_at),
    })
}

fn plan_step_view(row: case_plan_step::Model) -> Result<PlanStepView> {
    Ok(PlanStepView {
        id: row.id,
        due_on: super::due_date(Some(&row.due_on)).ok_or_else(|| StoreError::Corrupt {
            what: format!("plan step {}", row.id),
        })?,
        title: row.title,
        done_at: row.done_at.map(Timestamp::from_micros),
        evidence: row.evidence,
        file_id: row.file_id,
        checked: row.checked,
        check_note: row.check_note,
    })
}

/// The steps of a case's plan, in the order they were added.
pub(crate) async fn plan_of<C: ConnectionTrait>(
    conn: &C,
    case_id: i64,
) -> Result<Vec<case_plan_step::Model>> {
    Ok(
        access::unguarded::<case_plan_step::Entity>(Unguarded::PartsOf)
            .filter(case_plan_step::Column::CaseId.eq(case_id))
            .order_by_asc(case_plan_step::Column::Id)
            .all(conn)
            .await?,
    )
}

/// A plan can be committed to once it has a step.
pub(crate) async fn require_plan<C: ConnectionTrait>(conn: &C, case_id: i64) -> Result<()> {
    let steps = access::unguarded::<case_plan_step::Entity>(Unguarded::PartsOf)
        .filter(case_plan_step::Column::CaseId.eq(case_id))
        .count(conn)
        .await?;
    if steps == 0 {
        return Err(Invalid::new(Field::Named("plan"), Reason::Required).into());
    }
    Ok(())
}

/// Completion is reported once every step is done; the supervising side confirms it once
/// every step is checked and accepted.
pub(crate) async fn require_plan_done<C: ConnectionTrait>(
    conn: &C,
    case_id: i64,
    accepted: bool,
) -> Result<()> {
    let unfinished = plan_of(conn, case_id)
        .await?
        .into_iter()
        .any(|s| s.done_at.is_none() || (accepted && s.checked.as_deref() != Some("accepted")));
    if unfinished {
        return Err(Invalid::new(Field::Named("plan"), Reason::PlanUnfinished).into());
    }
    Ok(())
}

impl Store {
    /// Records a leader's instruction, an adoption or a publication of a case, with evidence.
    /// The receiving unit and those above it record them; they are counted for the case's unit
    /// and sector, never for its submitter.
    pub async fn record_outcome(
        &self,
        actor: &Actor,
        now: Timestamp,
        today: NaiveDate,
        id: i64,
        input: &OutcomeInput,
    ) -> Result<OutcomeView> {
        let summary = parse_optional_text(Field::Named("summary"), &input.summary, MAX_NOTE_CHARS)?
            .ok_or_else(|| Invalid::new(Field::Named("summary"), Reason::Required))?;
        match (input.outcome, input.level) {
            (Outcome::Instruction, None) => {
                return Err(Invalid::new(Field::Named("level"), Reason::Required).into());
            }
            (Outcome::Adoption | Outcome::Bulletin, Some(_)) => {
                return Err(Invalid::new(Field::Named("level"), Reason::NotAChoice).into());
            }
            _ => {}
        }
        if input.on > today {
            return Err(Invalid::new(Field::Named("on_date"), Reason::OutOfRange).into());
        }
        let tx = self.begin_write().await?;
        let row = access::find_to_change::<case::Entity, _>(&tx, actor, id).await?;
        if !supervising(actor, &row) {
            return Err(StoreError::Forbidden);
        }
        let submitted =
            tongxin_core::TimeZone::SHANGHAI.date_of(Timestamp::from_micros(row.created_at));
        if input.on < submitted {
            return Err(Invalid::new(Field::Named("on_date"), Reason::DueBeforeSubmission).into());
        }
        let (reference, file_id) = evidence(
            &tx,
            id,
            input.reference.as_deref(),
            input.file_id,
            "reference",
        )
        .await?;
        let stored = case_outcome::ActiveModel {
            case_id: Set(id),
            kind: Set(input.outcome.as_str().to_owned()),
            level: Set(input.level.map(|l| l.as_str().to_owned())),
            on_date: Set(input.on.to_string()),
            summary: Set(summary.clone()),
            reference: Set(reference.clone()),
            file_id: Set(file_id),
            recorded_by: Set(actor.user_id().ok_or(StoreError::Forbidden)?),
            recorded_at: Set(now.micros()),
            ..Default::default()
        }
        .insert(&tx)
        .await?;
        let detail = json!({
            "level": input.level.map(InstructionLevel::as_str),
            "on": input.on.to_string(),
            "reference": reference,
            "file": file_id,
        });
        timeline::record(
            &tx,
            now,
            actor,
            &row,
            Step::new(input.outcome.as_str())
                .body(Some(summary))
                .detail(detail.clone()),
        )
        .await?;
        audit::append(
            &tx,
            &self.keys,
            now,
            actor,
            Event::new("case.outcome")
                .target("case", id, &row.title)
                .unit(&row.receiving_unit_path)
                .detail(json!({ "outcome": input.outcome.as_str(), "detail": detail })),
        )
        .await?;
        let mut change: case::ActiveModel = row.into();
        change.updated_at = Set(now.micros());
        change.update(&tx).await?;
        tx.commit().await?;
        outcome_view(stored)
    }

    /// The outcomes recorded for a case the reader reached.
    pub(crate) async fn outcomes_of(&self, id: i64) -> Result<Vec<OutcomeView>> {
        access::unguarded::<case_outcome::Entity>(Unguarded::PartsOf)
            .filter(case_outcome::Column::CaseId.eq(id))
            .order_by_asc(case_outcome::Column::OnDate)
            .order_by_asc(case_outcome::Column::Id)
            .all(&self.db)
            .await?
            .into_iter()
            .map(outcome_view)
            .collect()
    }

    /// The steps of the rectification plan of a case the reader reached.
    pub(crate) async fn plan_steps_of(&self, id: i64) -> Result<Vec<PlanStepView>> {
        plan_of(&self.db, id)
            .await?
            .into_iter()
            .map(plan_step_view)
            .collect()
    }

    /// The rectifying (handling) unit adds a step to its plan, until it reports completion.
    pub async fn add_plan_step(
        &self,
        actor: &Actor,
        now: Timestamp,
        id: i64,
        title: &str,
        due_on: NaiveDate,
    ) -> Result<PlanStepView> {
        let title = parse_name(Field::Named("step_title"), title)?;
        let tx = self.begin_write().await?;
        let row = access::find_to_change::<case::Entity, _>(&tx, actor, id).await?;
        if !parties(actor, &row).contains(&Party::Handling)
            || row.closed_at.is_some()
            || row.answered_at.is_some()
        {
            return Err(StoreError::NotAllowedNow {
                allowed: Vec::new(),
            });
        }
        let submitted =
            tongxin_core::TimeZone::SHANGHAI.date_of(Timestamp::from_micros(row.created_at));
        if due_on < submitted {
            return Err(Invalid::new(Field::Named("due_on"), Reason::DueBeforeSubmission).into());
        }
        let stored = case_plan_step::ActiveModel {
            case_id: Set(id),
            title: Set(title.clone()),
            due_on: Set(due_on.to_string()),
            created_at: Set(now.micros()),
            done_at: Set(None),
            evidence: Set(None),
            file_id: Set(None),
            checked: Set(None),
            check_note: Set(None),
            checked_at: Set(None),
            ..Default::default()
        }
        .insert(&tx)
        .await?;
        timeline::record(
            &tx,
            now,
            actor,
            &row,
            Step::new("plan_step")
                .body(Some(title))
                .detail(json!({ "due_on": due_on.to_string(), "step": stored.id })),
        )
        .await?;
        tx.commit().await?;
        plan_step_view(stored)
    }

    /// The rectifying unit marks a step done, with evidence of it.
    pub async fn complete_plan_step(
        &self,
        actor: &Actor,
        now: Timestamp,
        id: i64,
        step_id: i64,
        evidence_note: Option<&str>,
        file_id: Option<i64>,
    ) -> Result<PlanStepView> {
        let tx = self.begin_write().await?;
        let row = access::find_to_change::<case::Entity, _>(&tx, actor, id).await?;
        if !parties(actor, &row).contains(&Party::Handling) || row.closed_at.is_some() {
            return Err(StoreError::NotAllowedNow {
                allowed: Vec::new(),
            });
        }
        let step = self.plan_step(&tx, id, step_id).await?;
        if step.done_at.is_some() {
            return Err(Invalid::new(Field::Named("step"), Reason::AlreadyDecided).into());
        }
        let (evidence_note, file_id) =
            evidence(&tx, id, evidence_note, file_id, "evidence").await?;
        let title = step.title.clone();
        let mut change: case_plan_step::ActiveModel = step.into();
        change.done_at = Set(Some(now.micros()));
        change.evidence = Set(evidence_note.clone());
        change.file_id = Set(file_id);
        change.checked = Set(None);
        change.checked_at = Set(None);
        let done = change.update(&tx).await?;
        timeline::record(
            &tx,
            now,
            actor,
            &row,
            Step::new("plan_step_done")
                .body(evidence_note)
                .detail(json!({ "step": step_id, "title": title, "file": file_id })),
        )
        .await?;
        tx.commit().await?;
        plan_step_view(done)
    }

    /// The supervising side checks a step done: accepted, or rejected with a note (the step is
    /// then to be done again).
    pub async fn check_plan_step(
        &self,
        actor: &Actor,
        now: Timestamp,
        id: i64,
        step_id: i64,
        accept: bool,
        check_note: Option<&str>,
    ) -> Result<PlanStepView> {
        if !matches!(actor.role(), Role::Admin | Role::Staff) {
            return Err(StoreError::Forbidden);
        }
        let check_note = note("check_note", check_note, MAX_NOTE_CHARS)?;
        if !accept && check_note.is_none() {
            return Err(Invalid::new(Field::Named("check_note"), Reason::Required).into());
        }
        let tx = self.begin_write().await?;
        let row = access::find_to_change::<case::Entity, _>(&tx, actor, id).await?;
        if !supervising(actor, &row) {
            return Err(StoreError::Forbidden);
        }
        if row.closed_at.is_some() {
            return Err(StoreError::NotAllowedNow {
                allowed: Vec::new(),
            });
        }
        let step = self.plan_step(&tx, id, step_id).await?;
        if step.done_at.is_none() || step.checked.is_some() {
            return Err(Invalid::new(Field::Named("step"), Reason::WrongState).into());
        }
        let title = step.title.clone();
        let mut change: case_plan_step::ActiveModel = step.into();
        change.checked = Set(Some(
            if accept { "accepted" } else { "rejected" }.to_owned(),
        ));
        change.check_note = Set(check_note.clone());
        change.checked_at = Set(Some(now.micros()));
        if !accept {
            change.done_at = Set(None);
        }
        let checked = change.update(&tx).await?;
        timeline::record(
            &tx,
            now,
            actor,
            &row,
            Step::new(if accept {
                "plan_step_accepted"
            } else {
                "plan_step_rejected"
            })
            .body(check_note)
            .detail(json!({ "step": step_id, "title": title })),
        )
        .await?;
        tx.commit().await?;
        plan_step_view(checked)
    }

    async fn plan_step<C: ConnectionTrait>(
        &self,
        conn: &C,
        case_id: i64,
        step_id: i64,
    ) -> Result<case_plan_step::Model> {
        access::unguarded_by_id::<case_plan_step::Entity>(Unguarded::PartsOf, step_id)
            .filter(case_plan_step::Column::CaseId.eq(case_id))
            .one(conn)
            .await?
            .ok_or(StoreError::NotFound)
    }
}
