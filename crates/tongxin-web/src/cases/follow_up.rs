//! What follows a case, as API and as forms on the case's page: instructions, adoption and
//! publication (`/outcomes`), and a supervision finding's rectification plan (`/plan`).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{Value, json};
use tongxin_core::{Field, InstructionLevel, Invalid, Outcome, Reason};
use tongxin_store::{OutcomeInput, OutcomeView, PlanStepView};

use super::pages::{after, render_show};
use crate::AppState;
use crate::error::AppError;
use crate::forms::{ApiJson, CsrfForm, IdPair, IdPath, Pairs};
use crate::pages::chrome::Ctx;
use crate::session::{ApiUser, CurrentUser};

pub(crate) fn outcome_json(o: &OutcomeView) -> Value {
    json!({
        "id": o.id,
        "outcome": o.outcome.as_str(),
        "level": o.level.map(InstructionLevel::as_str),
        "on": o.on.to_string(),
        "summary": o.summary,
        "reference": o.reference,
        "file_id": o.file_id,
        "recorded_at": o.recorded_at.rfc3339(),
    })
}

pub(crate) fn plan_step_json(s: &PlanStepView) -> Value {
    json!({
        "id": s.id,
        "title": s.title,
        "due_on": s.due_on.to_string(),
        "done_at": s.done_at.map(|t| t.rfc3339()),
        "evidence": s.evidence,
        "file_id": s.file_id,
        "checked": s.checked,
        "check_note": s.check_note,
    })
}

fn nonempty(text: Option<String>) -> Option<String> {
    text.filter(|t| !t.trim().is_empty())
}

fn date(field: &'static str, text: &str) -> Result<NaiveDate, Invalid> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| Invalid::new(Field::Named(field), Reason::DateFormat))
}

/// An outcome as the API and the form send it.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct OutcomeBody {
    outcome: String,
    level: Option<String>,
    on: String,
    summary: String,
    reference: Option<String>,
    file_id: Option<i64>,
}

impl OutcomeBody {
    fn parse(self) -> Result<OutcomeInput, Invalid> {
        let outcome = Outcome::parse(&self.outcome)
            .ok_or_else(|| Invalid::new(Field::Named("outcome"), Reason::NotAChoice))?;
        let level = match nonempty(self.level) {
            Some(text) => Some(
                InstructionLevel::parse(text.trim())
                    .ok_or_else(|| Invalid::new(Field::Named("level"), Reason::NotAChoice))?,
            ),
            None => None,
        };
        Ok(OutcomeInput {
            outcome,
            level,
            on: date("on_date", &self.on)?,
            summary: self.summary,
            reference: nonempty(self.reference),
            file_id: self.file_id,
        })
    }
}

/// `POST /cases/{id}/outcomes`: an instruction, adoption or publication, with evidence.
pub async fn record_outcome(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<OutcomeBody>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let input = body.parse()?;
    let now = state.clock.now();
    let outcome = state
        .store
        .record_outcome(&user.actor, now, state.config.today(now), id, &input)
        .await?;
    Ok((StatusCode::CREATED, Json(outcome_json(&outcome))))
}

#[derive(Deserialize)]
pub struct PlanStepBody {
    title: String,
    due_on: String,
}

/// `POST /cases/{id}/plan`: the rectifying unit adds a step to its plan.
pub async fn add_plan_step(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<PlanStepBody>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let due = date("due_on", &body.due_on)?;
    let step = state
        .store
        .add_plan_step(&user.actor, state.clock.now(), id, &body.title, due)
        .await?;
    Ok((StatusCode::CREATED, Json(plan_step_json(&step))))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct StepDoneBody {
    evidence: Option<String>,
    file_id: Option<i64>,
}

/// `POST /cases/{id}/plan/{step}/done`: the step is done; here is the evidence.
pub async fn complete_plan_step(
    State(state): State<AppState>,
    user: ApiUser,
    IdPair(id, step): IdPair,
    ApiJson(body): ApiJson<StepDoneBody>,
) -> Result<Json<Value>, AppError> {
    let step = state
        .store
        .complete_plan_step(
            &user.actor,
            state.clock.now(),
            id,
            step,
            body.evidence.as_deref(),
            body.file_id,
        )
        .await?;
    Ok(Json(plan_step_json(&step)))
}

#[derive(Deserialize)]
pub struct StepCheckBody {
    accept: bool,
    #[serde(default)]
    note: Option<String>,
}

/// `POST /cases/{id}/plan/{step}/check`: the supervising side accepts the step or sends it
/// back with a note.
pub async fn check_plan_step(
    State(state): State<AppState>,
    user: ApiUser,
    IdPair(id, step): IdPair,
    ApiJson(body): ApiJson<StepCheckBody>,
) -> Result<Json<Value>, AppError> {
    let step = state
        .store
        .check_plan_step(
            &user.actor,
            state.clock.now(),
            id,
            step,
            body.accept,
            body.note.as_deref(),
        )
        .await?;
    Ok(Json(plan_step_json(&step)))
}

fn field(pairs: &Pairs, name: &str) -> Option<String> {
    nonempty(Some(pairs.get(name).to_owned()))
}

fn file_id(pairs: &Pairs) -> Option<i64> {
    field(pairs, "file_id").and_then(|v| v.parse().ok())
}

/// The outcome form on a case's page.
pub async fn record_outcome_form(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let pairs = Pairs(pairs);
    let body = OutcomeBody {
        outcome: pairs.get("outcome").to_owned(),
        level: field(&pairs, "level"),
        on: pairs.get("on").to_owned(),
        summary: pairs.get("summary").to_owned(),
        reference: field(&pairs, "reference"),
        file_id: file_id(&pairs),
    };
    let input = match body.parse() {
        Ok(input) => input,
        Err(invalid) => return render_show(&state, ctx, &auth.actor, id, &[invalid]).await,
    };
    let now = state.clock.now();
    let result = state
        .store
        .record_outcome(&auth.actor, now, state.config.today(now), id, &input)
        .await;
    after(&state, ctx, &auth.actor, id, result, "case_outcome").await
}

pub async fn add_plan_step_form(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let pairs = Pairs(pairs);
    let due = match date("due_on", pairs.get("due_on")) {
        Ok(due) => due,
        Err(invalid) => return render_show(&state, ctx, &auth.actor, id, &[invalid]).await,
    };
    let result = state
        .store
        .add_plan_step(&auth.actor, state.clock.now(), id, pairs.get("title"), due)
        .await;
    after(&state, ctx, &auth.actor, id, result, "plan_step").await
}

pub async fn complete_plan_step_form(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    IdPair(id, step): IdPair,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let pairs = Pairs(pairs);
    let result = state
        .store
        .complete_plan_step(
            &auth.actor,
            state.clock.now(),
            id,
            step,
            field(&pairs, "evidence").as_deref(),
            file_id(&pairs),
        )
        .await;
    after(&state, ctx, &auth.actor, id, result, "plan_step_done").await
}

pub async fn check_plan_step_form(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    IdPair(id, step): IdPair,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let pairs = Pairs(pairs);
    let accept = pairs.get("decision") == "accept";
    let result = state
        .store
        .check_plan_step(
            &auth.actor,
            state.clock.now(),
            id,
            step,
            accept,
            field(&pairs, "note").as_deref(),
        )
        .await;
    after(&state, ctx, &auth.actor, id, result, "plan_step_checked").await
}
