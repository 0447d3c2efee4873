//! Surveys: `/api/v1/surveys`, the staff's `/surveys` (publish with up to five questions from the
//! page, read the results as bar charts, export them) and the member's `/my-surveys` (answer
//! once).

use std::collections::HashMap;

use askama::Template;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{Value, json};
use tongxin_core::{Field, Invalid, Reason, Role};
use tongxin_store::{
    Actor, AnswerValue, QuestionInput, QuestionKind, QuestionView, SectorView, SurveyInput,
    SurveyResults, SurveyView,
};

use crate::AppState;
use crate::activities::pages::unit_id_of;
use crate::api::listing::whole;
use crate::cases::statistics::{Chart, chart};
use crate::directory::file::table_download;
use crate::error::AppError;
use crate::forms::{ApiJson, CsrfForm, IdPath, Pairs};
use crate::pages::chrome::{Ctx, FormErrors, done, form_status, refused};
use crate::session::{ApiUser, CurrentUser};

/// Question slots on the publishing page.
const FORM_QUESTIONS: usize = 5;

fn question_json(q: &QuestionView) -> Value {
    json!({ "id": q.id, "kind": q.kind.as_str(), "prompt": q.prompt, "choices": q.choices,
            "required": q.required })
}

fn survey_json(s: &SurveyView) -> Value {
    json!({
        "id": s.id,
        "unit": { "id": s.unit.0, "name": s.unit.1 },
        "title": s.title,
        "intro": s.intro,
        "anonymous": s.anonymous,
        "target_unit": { "id": s.target_unit.0, "name": s.target_unit.1 },
        "sectors": s.sectors.iter().map(|(id, name)| json!({ "id": id, "name": name })).collect::<Vec<_>>(),
        "tags": s.tags,
        "closes_on": s.closes_on.to_string(),
        "open": s.open,
        "respondents": s.respondents,
        "answered": s.answered,
        "questions": s.questions.iter().map(question_json).collect::<Vec<_>>(),
    })
}

fn results_json(r: &SurveyResults) -> Value {
    json!({
        "survey": survey_json(&r.survey),
        "population": r.population,
        "questions": r.questions.iter().map(|q| json!({
            "id": q.question.id,
            "counts": q.counts,
            "texts": q.texts,
        })).collect::<Vec<_>>(),
    })
}

fn date(field: &'static str, text: &str) -> Result<NaiveDate, Invalid> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| Invalid::new(Field::Named(field), Reason::DateFormat))
}

#[derive(Deserialize)]
pub struct QuestionBody {
    kind: String,
    prompt: String,
    #[serde(default)]
    choices: Vec<String>,
    #[serde(default)]
    required: bool,
}

#[derive(Deserialize)]
pub struct SurveyBody {
    unit_id: Option<i64>,
    title: String,
    #[serde(default)]
    intro: String,
    #[serde(default)]
    anonymous: bool,
    target_unit_id: Option<i64>,
    #[serde(default)]
    sector_ids: Vec<i64>,
    #[serde(default)]
    tags: Vec<String>,
    closes_on: String,
    questions: Vec<QuestionBody>,
}

fn question_input(q: QuestionBody) -> Result<QuestionInput, Invalid> {
    Ok(QuestionInput {
        kind: QuestionKind::parse(q.kind.trim())
            .ok_or_else(|| Invalid::new(Field::Named("question"), Reason::NotAChoice))?,
        prompt: q.prompt,
        choices: q.choices,
        required: q.required,
    })
}

impl SurveyBody {
    fn input(self) -> Result<SurveyInput, Invalid> {
        Ok(SurveyInput {
            closes_on: date("closes_on", &self.closes_on)?,
            questions: self
                .questions
                .into_iter()
                .map(question_input)
                .collect::<Result<_, _>>()?,
            unit_id: self.unit_id,
            title: self.title,
            intro: self.intro,
            anonymous: self.anonymous,
            target_unit_id: self.target_unit_id,
            sector_ids: self.sector_ids,
            tags: self.tags,
        })
    }
}

/// `GET /surveys`: staff the surveys of their part of the tree; a member those they are asked.
pub async fn list(State(state): State<AppState>, user: ApiUser) -> Result<Json<Value>, AppError> {
    let today = state.config.today(state.clock.now());
    let surveys = state.store.surveys(&user.actor, today).await?;
    Ok(Json(whole(&surveys, survey_json)))
}

/// `POST /surveys`: publish a survey; it takes answers at once.
pub async fn create(
    State(state): State<AppState>,
    user: ApiUser,
    ApiJson(body): ApiJson<SurveyBody>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let input = body.input()?;
    let now = state.clock.now();
    let survey = state
        .store
        .publish_survey(&user.actor, now, state.config.today(now), &input)
        .await?;
    Ok((StatusCode::CREATED, Json(survey_json(&survey))))
}

/// `GET /surveys/{id}`.
pub async fn show(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
) -> Result<Json<Value>, AppError> {
    let today = state.config.today(state.clock.now());
    Ok(Json(survey_json(
        &state.store.survey(&user.actor, today, id).await?,
    )))
}

/// `GET /surveys/{id}/results`: counts per choice and the texts given (staff).
pub async fn results(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
) -> Result<Json<Value>, AppError> {
    let today = state.config.today(state.clock.now());
    Ok(Json(results_json(
        &state.store.survey_results(&user.actor, today, id).await?,
    )))
}

#[derive(Deserialize)]
pub struct AnswersBody {
    /// By question id: the indexes of the choices taken, or the text.
    answers: HashMap<String, Value>,
}

fn answer_values(body: AnswersBody) -> Result<HashMap<i64, AnswerValue>, Invalid> {
    let bad = || Invalid::new(Field::Named("question"), Reason::NotAChoice);
    let mut answers = HashMap::new();
    for (question, value) in body.answers {
        let question: i64 = question.parse().map_err(|_| bad())?;
        let value = match value {
            Value::String(text) => AnswerValue::Text(text),
            Value::Array(items) => AnswerValue::Choices(
                items
                    .iter()
                    .map(|i| i.as_u64().and_then(|i| usize::try_from(i).ok()))
                    .collect::<Option<_>>()
                    .ok_or_else(bad)?,
            ),
            Value::Number(n) => AnswerValue::Choices(vec![
                n.as_u64()
                    .and_then(|i| usize::try_from(i).ok())
                    .ok_or_else(bad)?,
            ]),
            _ => return Err(bad()),
        };
        answers.insert(question, value);
    }
    Ok(answers)
}

/// `POST /surveys/{id}/answers`: a member answers, once.
pub async fn answer(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<AnswersBody>,
) -> Result<StatusCode, AppError> {
    let answers = answer_values(body)?;
    let now = state.clock.now();
    state
        .store
        .answer_survey(&user.actor, now, state.config.today(now), id, &answers)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /surveys/{id}/close`.
pub async fn close(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
) -> Result<StatusCode, AppError> {
    state
        .store
        .close_survey(&user.actor, state.clock.now(), id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Template)]
#[template(path = "surveys/index.html")]
struct IndexPage {
    ctx: Ctx,
    surveys: Vec<SurveyView>,
    can_publish: bool,
    sectors: Vec<SectorView>,
    kinds: [QuestionKind; 3],
    slots: Vec<usize>,
    form: Pairs,
    errors: FormErrors,
}

async fn render_index(
    state: &AppState,
    ctx: Ctx,
    actor: &Actor,
    invalid: &[Invalid],
    form: Pairs,
) -> Result<Response, AppError> {
    let today = state.config.today(state.clock.now());
    let page = IndexPage {
        surveys: state.store.surveys(actor, today).await?,
        can_publish: matches!(actor.role(), Role::Admin | Role::Staff),
        sectors: state.store.sectors(actor, false).await?,
        kinds: QuestionKind::ALL,
        slots: (0..FORM_QUESTIONS).collect(),
        form,
        errors: ctx.errors(invalid),
        ctx: ctx.with_section("cases"),
    };
    Ok(page.ctx.respond(form_status(invalid), page.render()?))
}

pub async fn index(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
) -> Result<Response, AppError> {
    if auth.actor.role() == Role::Member {
        return Ok(crate::pages::chrome::see_other("/my-surveys"));
    }
    render_index(&state, ctx, &auth.actor, &[], Pairs(Vec::new())).await
}

/// The publishing form: up to five questions, each a kind, a prompt and its choices one per
/// line; a slot without a prompt is left out.
fn form_input(pairs: &Pairs, target_unit_id: Option<i64>) -> Result<SurveyInput, Invalid> {
    let mut questions = Vec::new();
    for slot in 0..FORM_QUESTIONS {
        let prompt = pairs.get(&format!("q{slot}_prompt"));
        if prompt.trim().is_empty() {
            continue;
        }
        questions.push(QuestionInput {
            kind: QuestionKind::parse(pairs.get(&format!("q{slot}_kind")))
                .ok_or_else(|| Invalid::new(Field::Named("question"), Reason::NotAChoice))?,
            prompt: prompt.to_owned(),
            choices: pairs
                .get(&format!("q{slot}_choices"))
                .lines()
                .map(str::to_owned)
                .collect(),
            required: pairs.get(&format!("q{slot}_required")) == "1",
        });
    }
    Ok(SurveyInput {
        unit_id: None,
        title: pairs.get("title").to_owned(),
        intro: pairs.get("intro").to_owned(),
        anonymous: pairs.get("anonymous") == "1",
        target_unit_id,
        sector_ids: pairs
            .0
            .iter()
            .filter(|(k, _)| k == "sector_id")
            .filter_map(|(_, v)| v.parse().ok())
            .collect(),
        tags: pairs
            .get("tags")
            .split([',', '，', ' '])
            .map(str::to_owned)
            .collect(),
        closes_on: date("closes_on", pairs.get("closes_on"))?,
        questions,
    })
}

pub async fn publish(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let pairs = Pairs(pairs);
    let target = match pairs.get("unit_code").trim() {
        "" => None,
        code => match unit_id_of(&state, &auth.actor, code).await? {
            Ok(id) => Some(id),
            Err(reason) => {
                let invalid = [Invalid::new(Field::Unit, reason)];
                return render_index(&state, ctx, &auth.actor, &invalid, pairs).await;
            }
        },
    };
    let input = match form_input(&pairs, target) {
        Ok(input) => input,
        Err(invalid) => return render_index(&state, ctx, &auth.actor, &[invalid], pairs).await,
    };
    let now = state.clock.now();
    match refused(
        state
            .store
            .publish_survey(&auth.actor, now, state.config.today(now), &input)
            .await,
    )? {
        Ok(survey) => Ok(done(&format!("/surveys/{}", survey.id), "survey_published")),
        Err(invalid) => render_index(&state, ctx, &auth.actor, &invalid, pairs).await,
    }
}

/// One question's results as the page shows them.
struct ResultBlock {
    prompt: String,
    chart: Option<Chart>,
    texts: Vec<String>,
}

#[derive(Template)]
#[template(path = "surveys/show.html")]
struct ShowPage {
    ctx: Ctx,
    results: SurveyResults,
    blocks: Vec<ResultBlock>,
    can_close: bool,
}

/// `/surveys/{id}`: the results, question by question.
pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
) -> Result<Response, AppError> {
    if auth.actor.role() == Role::Member {
        return Ok(crate::pages::chrome::see_other(&format!(
            "/my-surveys/{id}"
        )));
    }
    let today = state.config.today(state.clock.now());
    let results = state.store.survey_results(&auth.actor, today, id).await?;
    let blocks = results
        .questions
        .iter()
        .map(|q| ResultBlock {
            prompt: q.question.prompt.clone(),
            chart: (q.question.kind != QuestionKind::Text).then(|| {
                chart(
                    &format!("q{}", q.question.id),
                    &q.question.prompt,
                    q.question
                        .choices
                        .iter()
                        .cloned()
                        .zip(q.counts.iter().copied())
                        .collect(),
                )
            }),
            texts: q.texts.clone(),
        })
        .collect();
    let page = ShowPage {
        can_close: matches!(auth.actor.role(), Role::Admin | Role::Staff) && results.survey.open,
        ctx: ctx.with_section("cases"),
        results,
        blocks,
    };
    Ok(page.ctx.respond(StatusCode::OK, page.render()?))
}

pub async fn close_form(
    State(state): State<AppState>,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
    CsrfForm(_): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    state
        .store
        .close_survey(&auth.actor, state.clock.now(), id)
        .await?;
    Ok(done(&format!("/surveys/{id}"), "survey_closed"))
}

/// The results as one XLSX table: question, choice (or answer), count.
pub async fn export(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
) -> Result<Response, AppError> {
    let today = state.config.today(state.clock.now());
    let results = state.store.survey_results(&auth.actor, today, id).await?;
    let mut rows = vec![vec![
        ctx.t("surveys.respondents").to_owned(),
        String::new(),
        results.survey.respondents.to_string(),
    ]];
    for q in &results.questions {
        for (choice, n) in q.question.choices.iter().zip(&q.counts) {
            rows.push(vec![
                q.question.prompt.clone(),
                choice.clone(),
                n.to_string(),
            ]);
        }
        for text in &q.texts {
            rows.push(vec![q.question.prompt.clone(), text.clone(), String::new()]);
        }
    }
    table_download(
        vec![
            ctx.t("surveys.question").to_owned(),
            ctx.t("surveys.answer").to_owned(),
            ctx.t("statistics.value").to_owned(),
        ],
        rows,
        true,
        "survey-results",
    )
}

#[derive(Template)]
#[template(path = "portal/surveys.html")]
struct MinePage {
    ctx: Ctx,
    surveys: Vec<SurveyView>,
}

/// `/my-surveys`: the surveys the member is asked to answer.
pub async fn mine(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
) -> Result<Response, AppError> {
    if auth.actor.role() != Role::Member {
        return Err(AppError::NotFound);
    }
    let today = state.config.today(state.clock.now());
    let page = MinePage {
        surveys: state.store.surveys(&auth.actor, today).await?,
        ctx: ctx.with_section("my_submissions"),
    };
    Ok(page.ctx.respond(StatusCode::OK, page.render()?))
}

#[derive(Template)]
#[template(path = "portal/survey.html")]
struct AnswerPage {
    ctx: Ctx,
    survey: SurveyView,
    errors: FormErrors,
}

async fn render_answer(
    state: &AppState,
    ctx: Ctx,
    actor: &Actor,
    id: i64,
    invalid: &[Invalid],
) -> Result<Response, AppError> {
    if actor.role() != Role::Member {
        return Err(AppError::NotFound);
    }
    let today = state.config.today(state.clock.now());
    let page = AnswerPage {
        survey: state.store.survey(actor, today, id).await?,
        errors: ctx.errors(invalid),
        ctx: ctx.with_section("my_submissions"),
    };
    Ok(page.ctx.respond(form_status(invalid), page.render()?))
}

pub async fn answer_page(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
) -> Result<Response, AppError> {
    render_answer(&state, ctx, &auth.actor, id, &[]).await
}

/// The answer form: `q<id>` per question, repeated for a multiple choice.
pub async fn answer_form(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let today = state.config.today(state.clock.now());
    let survey = state.store.survey(&auth.actor, today, id).await?;
    let mut answers = HashMap::new();
    for q in &survey.questions {
        let name = format!("q{}", q.id);
        let given: Vec<&str> = pairs
            .iter()
            .filter(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
            .collect();
        let value = match q.kind {
            QuestionKind::Text => {
                AnswerValue::Text(given.first().copied().unwrap_or("").to_owned())
            }
            _ => AnswerValue::Choices(given.iter().filter_map(|v| v.parse().ok()).collect()),
        };
        answers.insert(q.id, value);
    }
    let now = state.clock.now();
    match refused(
        state
            .store
            .answer_survey(&auth.actor, now, state.config.today(now), id, &answers)
            .await,
    )? {
        Ok(()) => Ok(done(&format!("/my-surveys/{id}"), "survey_answered")),
        Err(invalid) => render_answer(&state, ctx, &auth.actor, id, &invalid).await,
    }
}
