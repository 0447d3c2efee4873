//! `/api/v1/cases` and the shared case settings (`/case-types`, `/calendar`, `/departments`).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{Value, json};
use tongxin_core::{CaseType, DayMark, Field, Invalid, Reason, Satisfaction, Workflow};
use tongxin_store::{
    CaseAction, CaseEventView, CaseInput, CaseQuery, CaseTypeView, CaseUpload, CaseView,
    ExtensionView, PageRequest,
};

use crate::AppState;
use crate::directory::api::people::bad_query;
use crate::error::AppError;
use crate::forms::{ApiJson, IdPair, IdPath};
use crate::session::ApiUser;

fn pair(p: &Option<(i64, String)>) -> Value {
    match p {
        Some((id, name)) => json!({ "id": id, "name": name }),
        None => Value::Null,
    }
}

pub(crate) fn case_json(c: &CaseView) -> Value {
    json!({
        "id": c.id,
        "number": c.number,
        "type": c.case_type.as_str(),
        "title": c.title,
        "body": c.body,
        "category": c.category,
        "state": c.state,
        "ended": c.ended,
        "submitter": pair(&c.submitter),
        "cosubmitters": c.cosubmitters.iter().map(|(id, name)| json!({ "id": id, "name": name })).collect::<Vec<_>>(),
        "name_withheld": c.name_withheld,
        "receiving_unit": { "id": c.receiving_unit.0, "name": c.receiving_unit.1 },
        "handling_unit": pair(&c.handling_unit),
        "department": pair(&c.department),
        "due_on": c.due_on.map(|d| d.to_string()),
        "deadline": c.deadline.map(|d| d.as_str()),
        "overdue": c.overdue,
        "answer": c.answer,
        "answered_at": c.answered_at.map(|t| t.rfc3339()),
        "satisfaction": c.satisfaction.map(|s| s.as_str()),
        "reopened": c.reopened,
        "merged_into": c.merged_into,
        "created_at": c.created_at.rfc3339(),
        "updated_at": c.updated_at.rfc3339(),
        "closed_at": c.closed_at.map(|t| t.rfc3339()),
        "parties": c.parties.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
        "actions": c.actions.iter().map(|(action, _)| action).collect::<Vec<_>>(),
    })
}

fn event_json(e: &CaseEventView) -> Value {
    json!({
        "id": e.id,
        "at": e.at.rfc3339(),
        "actor": e.actor,
        "actor_unit": e.actor_unit,
        "action": e.action,
        "from": e.from_state,
        "to": e.to_state,
        "body": e.body,
        "internal": e.internal,
        "detail": e.detail,
    })
}

fn extension_json(x: &ExtensionView) -> Value {
    json!({
        "id": x.id,
        "due_on": x.due_on.to_string(),
        "reason": x.reason,
        "state": x.state,
        "requested_at": x.requested_at.rfc3339(),
    })
}

fn type_json(t: &CaseTypeView) -> Value {
    json!({
        "code": t.case_type.as_str(),
        "default_days": t.default_days,
        "workflow": t.workflow,
    })
}

fn parse_type(text: &str) -> Result<CaseType, AppError> {
    CaseType::parse(text)
        .ok_or_else(|| Invalid::new(Field::Named("type"), Reason::NotAChoice).into())
}

fn parse_date(field: &'static str, text: &str) -> Result<NaiveDate, AppError> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| Invalid::new(Field::Named(field), Reason::DateFormat).into())
}

#[derive(Deserialize)]
pub struct ListQuery {
    pub(crate) q: Option<String>,
    #[serde(rename = "type")]
    pub(crate) case_type: Option<String>,
    pub(crate) state: Option<String>,
    pub(crate) category: Option<String>,
    pub(crate) unit_id: Option<i64>,
    pub(crate) open: Option<bool>,
    pub(crate) overdue: Option<bool>,
    pub(crate) sort: Option<String>,
    pub(crate) page: Option<u64>,
    pub(crate) per_page: Option<u64>,
}

impl ListQuery {
    pub(crate) fn filter(&self) -> Result<CaseQuery, AppError> {
        let nonempty = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
        Ok(CaseQuery {
            q: nonempty(&self.q),
            case_type: match nonempty(&self.case_type) {
                Some(t) => Some(CaseType::parse(&t).ok_or_else(|| bad_query(format!("type={t}")))?),
                None => None,
            },
            state: nonempty(&self.state),
            category: nonempty(&self.category),
            unit_id: self.unit_id,
            open: self.open.unwrap_or(false),
            overdue: self.overdue.unwrap_or(false),
            by_due: match self.sort.as_deref() {
                None | Some("" | "created") => false,
                Some("due") => true,
                Some(other) => return Err(bad_query(format!("sort={other}"))),
            },
        })
    }
}

/// `GET /cases`.
pub async fn list(
    State(state): State<AppState>,
    user: ApiUser,
    Query(query): Query<ListQuery>,
) -> Result<Json<Value>, AppError> {
    let today = state.config.today(state.clock.now());
    let page = state
        .store
        .cases(
            &user.actor,
            today,
            &query.filter()?,
            PageRequest::new(query.page, query.per_page),
        )
        .await?;
    Ok(Json(crate::api::listing::list(&page, case_json)))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CaseBody {
    #[serde(rename = "type")]
    case_type: String,
    title: String,
    body: String,
    category: String,
    submitter_id: Option<i64>,
    cosubmitter_ids: Vec<i64>,
    name_withheld: bool,
    receiving_unit_id: Option<i64>,
    topic_id: Option<i64>,
}

/// `POST /cases`: a member submits as themself; staff name the person they submit for.
pub async fn create(
    State(state): State<AppState>,
    user: ApiUser,
    ApiJson(body): ApiJson<CaseBody>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let input = CaseInput {
        case_type: parse_type(&body.case_type)?,
        title: body.title,
        body: body.body,
        category: body.category,
        submitter_id: body.submitter_id,
        cosubmitter_ids: body.cosubmitter_ids,
        name_withheld: body.name_withheld,
        receiving_unit_id: body.receiving_unit_id,
        attachment: None,
        topic_id: body.topic_id,
    };
    let now = state.clock.now();
    let created = state
        .store
        .submit_case(&user.actor, now, state.config.today(now), &input)
        .await?;
    Ok((StatusCode::CREATED, Json(case_json(&created))))
}

/// `GET /cases/{id}`: the case with its timeline, files, (for staff) extension requests,
/// outcomes and rectification plan.
pub async fn show(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
) -> Result<Json<Value>, AppError> {
    let today = state.config.today(state.clock.now());
    let detail = state.store.case_detail(&user.actor, today, id).await?;
    let mut body = case_json(&detail.case);
    body["timeline"] = detail.timeline.iter().map(event_json).collect();
    body["files"] = detail
        .files
        .iter()
        .map(|f| json!({ "id": f.id, "file_name": f.file_name, "size": f.size, "internal": f.internal }))
        .collect();
    body["extensions"] = detail.extensions.iter().map(extension_json).collect();
    body["outcomes"] = detail
        .outcomes
        .iter()
        .map(super::follow_up::outcome_json)
        .collect();
    body["plan"] = detail
        .plan
        .iter()
        .map(super::follow_up::plan_step_json)
        .collect();
    Ok(Json(body))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct TransitionBody {
    pub(crate) action: String,
    pub(crate) body: Option<String>,
    pub(crate) unit_id: Option<i64>,
    pub(crate) department_id: Option<i64>,
    pub(crate) due_on: Option<String>,
    pub(crate) merge_into: Option<i64>,
    pub(crate) satisfaction: Option<String>,
}

impl TransitionBody {
    pub(crate) fn into_action(self) -> Result<CaseAction, AppError> {
        Ok(CaseAction {
            due_on: match self.due_on.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(text) => Some(parse_date("due_on", text)?),
            },
            satisfaction: match self.satisfaction.as_deref() {
                None | Some("") => None,
                Some(text) => Some(Satisfaction::parse(text).ok_or_else(|| {
                    AppError::from(Invalid::new(
                        Field::Named("satisfaction"),
                        Reason::NotAChoice,
                    ))
                })?),
            },
            action: self.action,
            body: self.body,
            unit_id: self.unit_id,
            department_id: self.department_id,
            merge_into: self.merge_into,
        })
    }
}

/// `POST /cases/{id}/transitions`: one step of the workflow; a step not allowed now answers
/// 409 with the steps that are.
pub async fn transition(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<TransitionBody>,
) -> Result<Json<Value>, AppError> {
    let now = state.clock.now();
    let case = state
        .store
        .act_on_case(
            &user.actor,
            now,
            state.config.today(now),
            id,
            &body.into_action()?,
        )
        .await?;
    Ok(Json(case_json(&case)))
}

#[derive(Deserialize)]
pub struct ReplyBody {
    body: String,
    #[serde(default)]
    internal: bool,
}

/// `POST /cases/{id}/replies`: a reply the submitter reads, or (`internal`) a note they don't.
pub async fn reply(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<ReplyBody>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let event = state
        .store
        .write_on_case(
            &user.actor,
            state.clock.now(),
            id,
            &body.body,
            body.internal,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": event }))))
}

#[derive(Deserialize)]
pub struct FileQuery {
    file_name: String,
    #[serde(default)]
    internal: bool,
}

/// `POST /cases/{id}/files?file_name=`: the body is the file.
pub async fn add_file(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
    Query(query): Query<FileQuery>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let upload = CaseUpload {
        file_name: query.file_name,
        bytes: body.to_vec(),
    };
    let file = state
        .store
        .add_case_file(&user.actor, state.clock.now(), id, &upload, query.internal)
        .await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": file }))))
}

/// `GET /cases/{id}/files/{file}`.
pub async fn file(
    State(state): State<AppState>,
    user: ApiUser,
    IdPair(id, file): IdPair,
) -> Result<Response, AppError> {
    let (name, media_type, bytes) = state.store.case_file(&user.actor, id, file).await?;
    Ok(crate::uploads::user_file(
        &media_type,
        &name,
        bytes,
        crate::uploads::Disposition::Attachment,
    ))
}

#[derive(Deserialize)]
pub struct ExtensionBody {
    due_on: String,
    reason: String,
}

/// `POST /cases/{id}/extensions`: the handler asks for a later due date.
pub async fn request_extension(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<ExtensionBody>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let due = parse_date("due_on", &body.due_on)?;
    let request = state
        .store
        .request_extension(&user.actor, state.clock.now(), id, due, &body.reason)
        .await?;
    Ok((StatusCode::CREATED, Json(extension_json(&request))))
}

#[derive(Deserialize)]
pub struct DecisionBody {
    approve: bool,
}

/// `POST /cases/{id}/extensions/{request}`: the receiving unit decides.
pub async fn decide_extension(
    State(state): State<AppState>,
    user: ApiUser,
    IdPair(id, request): IdPair,
    ApiJson(body): ApiJson<DecisionBody>,
) -> Result<Json<Value>, AppError> {
    let decided = state
        .store
        .decide_extension(&user.actor, state.clock.now(), id, request, body.approve)
        .await?;
    Ok(Json(extension_json(&decided)))
}

/// `GET /cases/{id}/similar`: open cases alike, to merge.
pub async fn similar(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
) -> Result<Json<Value>, AppError> {
    let found = state.store.similar_cases(&user.actor, id).await?;
    Ok(Json(json!({
        "items": found.iter().map(|(id, number, title, score)| json!({
            "id": id, "number": number, "title": title, "likeness": (score * 100.0).round() / 100.0,
        })).collect::<Vec<_>>(),
        "total": found.len(),
    })))
}

/// `GET /case-types`.
pub async fn types(State(state): State<AppState>, _user: ApiUser) -> Result<Json<Value>, AppError> {
    let types = state.store.case_types().await?;
    Ok(Json(crate::api::listing::whole(&types, type_json)))
}

#[derive(Deserialize)]
pub struct TypeBody {
    default_days: u32,
    workflow: Workflow,
}

/// `PUT /case-types/{code}`: a top administrator adjusts a workflow; an unsound one is refused
/// naming its fault.
pub async fn update_type(
    State(state): State<AppState>,
    user: ApiUser,
    Path(code): Path<String>,
    ApiJson(body): ApiJson<TypeBody>,
) -> Result<Json<Value>, AppError> {
    let case_type = CaseType::parse(&code).ok_or(AppError::NotFound)?;
    let updated = state
        .store
        .update_case_type(
            &user.actor,
            state.clock.now(),
            case_type,
            body.default_days,
            &body.workflow,
        )
        .await?;
    Ok(Json(type_json(&updated)))
}

/// `GET /calendar/{year}`: the days off and make-up working days.
pub async fn calendar(
    State(state): State<AppState>,
    _user: ApiUser,
    Path(year): Path<i32>,
) -> Result<Json<Value>, AppError> {
    let marks = state.store.work_calendar(year).await?;
    Ok(Json(json!({
        "year": year,
        "items": marks.iter().map(|(day, mark)| json!({ "day": day.to_string(), "mark": mark.as_str() })).collect::<Vec<_>>(),
        "total": marks.len(),
    })))
}

#[derive(Deserialize)]
pub struct MarkBody {
    day: String,
    mark: String,
}

#[derive(Deserialize)]
pub struct CalendarBody {
    items: Vec<MarkBody>,
}

/// `PUT /calendar/{year}`: replaces the year's marks (top administrators).
pub async fn set_calendar(
    State(state): State<AppState>,
    user: ApiUser,
    Path(year): Path<i32>,
    ApiJson(body): ApiJson<CalendarBody>,
) -> Result<Json<Value>, AppError> {
    let mut marks = Vec::with_capacity(body.items.len());
    for item in &body.items {
        let day = parse_date("day", &item.day)?;
        let mark = DayMark::parse(&item.mark).ok_or_else(|| {
            AppError::from(Invalid::new(Field::Named("mark"), Reason::NotAChoice))
        })?;
        marks.push((day, mark));
    }
    state
        .store
        .set_work_calendar(&user.actor, state.clock.now(), year, &marks)
        .await?;
    calendar(State(state), user, Path(year)).await
}

/// `GET /departments`.
pub async fn departments(
    State(state): State<AppState>,
    user: ApiUser,
) -> Result<Json<Value>, AppError> {
    let list = state.store.departments(&user.actor).await?;
    Ok(Json(crate::api::listing::whole(
        &list,
        |d| json!({ "id": d.id, "name": d.name }),
    )))
}

#[derive(Deserialize)]
pub struct DepartmentBody {
    name: String,
}

/// `POST /departments`.
pub async fn add_department(
    State(state): State<AppState>,
    user: ApiUser,
    ApiJson(body): ApiJson<DepartmentBody>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let added = state
        .store
        .add_department(&user.actor, state.clock.now(), &body.name)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": added.id, "name": added.name })),
    ))
}

/// `DELETE /departments/{id}`: archived; the cases it handles keep it.
pub async fn archive_department(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
) -> Result<StatusCode, AppError> {
    state
        .store
        .archive_department(&user.actor, state.clock.now(), id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
