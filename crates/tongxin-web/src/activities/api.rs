//! `/activities`, `/activity-kinds`, attendance and check-in: activities of the caller's
//! subtree from planning to minutes, who was invited and who came.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};
use tongxin_core::{ActivityState, Attendance, Reason, Timestamp};
use tongxin_store::{
    ActivityChange, ActivityKindView, ActivityQuery, ActivityView, CheckIn, CheckInLink,
    InvitationView, Invitees, PageRequest,
};

use crate::AppState;
use crate::directory::api::people::bad_query;
use crate::error::AppError;
use crate::forms::{ApiJson, IdPair, IdPath, Query};
use crate::input::{self, ActivityFields};
use crate::session::ApiUser;

pub fn kind_json(k: &ActivityKindView) -> Value {
    json!({ "id": k.id, "code": k.code, "name": k.name, "archived": k.archived })
}

pub fn activity_json(a: &ActivityView) -> Value {
    json!({
        "id": a.id,
        "kind": { "id": a.kind.0, "name": a.kind.1 },
        "unit": { "id": a.unit_id, "name": a.unit_name },
        "title": a.title,
        "starts_at": a.starts_at.rfc3339(),
        "ends_at": a.ends_at.rfc3339(),
        "venue": a.venue.as_ref().map(|(id, name)| json!({ "id": id, "name": name })),
        "place": a.place,
        "campaign": a.campaign.as_ref().map(|(id, title)| json!({ "id": id, "title": title })),
        "agenda": a.agenda,
        "state": a.state.key(),
        "cancel_reason": a.cancel_reason,
        "minutes": a.minutes,
        "attendance": {
            "invited": a.counts.invited,
            "confirmed": a.counts.confirmed,
            "attended": a.counts.attended,
            "absent": a.counts.absent,
            "excused": a.counts.excused,
        },
    })
}

fn invitation_json(i: &InvitationView) -> Value {
    json!({
        "person": { "id": i.person_id, "name": i.name },
        "unit": i.unit_name,
        "status": i.status.key(),
        "checked_in_at": i.checked_in_at.map(Timestamp::rfc3339),
    })
}

pub async fn kinds(State(state): State<AppState>, user: ApiUser) -> Result<Json<Value>, AppError> {
    let kinds = state.store.activity_kinds(&user.actor, true).await?;
    Ok(Json(crate::api::listing::whole(&kinds, kind_json)))
}

#[derive(Deserialize)]
pub struct NewKind {
    code: String,
    name: String,
}

pub async fn create_kind(
    State(state): State<AppState>,
    user: ApiUser,
    ApiJson(body): ApiJson<NewKind>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let kind = state
        .store
        .create_activity_kind(&user.actor, state.clock.now(), &body.code, &body.name)
        .await?;
    Ok((StatusCode::CREATED, Json(kind_json(&kind))))
}

#[derive(Deserialize)]
pub struct KindChange {
    name: String,
    #[serde(default)]
    archived: bool,
}

pub async fn change_kind(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<KindChange>,
) -> Result<StatusCode, AppError> {
    state
        .store
        .change_activity_kind(
            &user.actor,
            state.clock.now(),
            id,
            &body.name,
            body.archived,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct ListQuery {
    q: Option<String>,
    unit_id: Option<i64>,
    kind_id: Option<i64>,
    campaign_id: Option<i64>,
    state: Option<String>,
    from: Option<String>,
    until: Option<String>,
    /// `starts_at` for the earliest first; the latest first otherwise.
    sort: Option<String>,
    page: Option<u64>,
    per_page: Option<u64>,
}

fn query_time(name: &str, raw: Option<&str>) -> Result<Option<Timestamp>, AppError> {
    match raw.map(str::trim).filter(|r| !r.is_empty()) {
        None => Ok(None),
        Some(r) => Timestamp::parse_local(r)
            .or_else(|| {
                chrono::NaiveDate::parse_from_str(r, "%Y-%m-%d")
                    .ok()
                    .map(Timestamp::start_of_day)
            })
            .map(Some)
            .ok_or_else(|| bad_query(format!("{name}={r}"))),
    }
}

pub async fn list(
    State(state): State<AppState>,
    user: ApiUser,
    Query(query): Query<ListQuery>,
) -> Result<Json<Value>, AppError> {
    let activity_state = match query.state.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(ActivityState::parse(s).map_err(|_| bad_query(format!("state={s}")))?),
    };
    let filter = ActivityQuery {
        q: query.q,
        unit_id: query.unit_id,
        kind_id: query.kind_id,
        campaign_id: query.campaign_id,
        state: activity_state,
        from: query_time("from", query.from.as_deref())?,
        until: query_time("until", query.until.as_deref())?,
        reversed: query.sort.as_deref() == Some("starts_at"),
    };
    let page = state
        .store
        .activities(
            &user.actor,
            &filter,
            PageRequest::new(query.page, query.per_page),
        )
        .await?;
    Ok(Json(crate::api::listing::list(&page, activity_json)))
}

/// An activity as the API takes it.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ActivityBody {
    kind_id: Option<i64>,
    unit_id: Option<i64>,
    title: String,
    starts_at: String,
    ends_at: String,
    venue_id: Option<i64>,
    place: Option<String>,
    campaign_id: Option<i64>,
    agenda: Option<String>,
    material_ids: Vec<i64>,
}

pub fn parse_activity(body: &ActivityBody) -> Result<tongxin_store::ActivityInput, AppError> {
    let id_text = |id: Option<i64>| id.map(|i| i.to_string()).unwrap_or_default();
    let fields = ActivityFields {
        kind_id: id_text(body.kind_id),
        unit_code: String::new(),
        title: body.title.clone(),
        starts_at: body.starts_at.clone(),
        ends_at: body.ends_at.clone(),
        venue_id: id_text(body.venue_id),
        place: body.place.clone().unwrap_or_default(),
        campaign_id: id_text(body.campaign_id),
        agenda: body.agenda.clone().unwrap_or_default(),
    };
    let unit_id = body.unit_id.ok_or(Reason::Required);
    input::activity(&fields, unit_id, body.material_ids.clone()).map_err(AppError::Invalid)
}

pub async fn create(
    State(state): State<AppState>,
    user: ApiUser,
    ApiJson(body): ApiJson<ActivityBody>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let input = parse_activity(&body)?;
    let created = state
        .store
        .create_activity(&user.actor, state.clock.now(), &input)
        .await?;
    Ok((StatusCode::CREATED, Json(activity_json(&created))))
}

pub async fn show(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
) -> Result<Json<Value>, AppError> {
    let activity = state.store.activity(&user.actor, id).await?;
    let materials = state.store.activity_materials(&user.actor, id).await?;
    let photos = state.store.activity_photos(&user.actor, id).await?;
    let mut body = activity_json(&activity);
    body["materials"] = materials
        .iter()
        .map(|(id, title)| json!({ "id": id, "title": title }))
        .collect();
    body["photos"] = photos
        .iter()
        .map(|p| json!({ "id": p.id, "file_name": p.file_name, "size": p.size }))
        .collect();
    Ok(Json(body))
}

pub async fn replace(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<ActivityBody>,
) -> Result<Json<Value>, AppError> {
    let input = parse_activity(&body)?;
    let updated = state
        .store
        .update_activity(&user.actor, state.clock.now(), id, &input)
        .await?;
    Ok(Json(activity_json(&updated)))
}

#[derive(Deserialize)]
pub struct StateChange {
    state: String,
    #[serde(default)]
    minutes: String,
    #[serde(default)]
    reason: String,
}

pub async fn change_state(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<StateChange>,
) -> Result<Json<Value>, AppError> {
    let change = match ActivityState::parse(&body.state).map_err(|i| AppError::Invalid(vec![i]))? {
        ActivityState::Held => ActivityChange::Held,
        ActivityState::Summarized => ActivityChange::Summarized {
            minutes: body.minutes,
        },
        ActivityState::Cancelled => ActivityChange::Cancelled {
            reason: body.reason,
        },
        ActivityState::Planned => {
            return Err(AppError::Invalid(vec![tongxin_core::Invalid::new(
                tongxin_core::Field::Named("state"),
                tongxin_core::Reason::WrongState,
            )]));
        }
    };
    let updated = state
        .store
        .change_activity_state(&user.actor, state.clock.now(), id, change)
        .await?;
    Ok(Json(activity_json(&updated)))
}

#[derive(Deserialize)]
pub struct InvitationsQuery {
    q: Option<String>,
    page: Option<u64>,
    per_page: Option<u64>,
}

pub async fn invitations(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
    Query(query): Query<InvitationsQuery>,
) -> Result<Json<Value>, AppError> {
    let page = state
        .store
        .invitations(
            &user.actor,
            id,
            query.q.as_deref(),
            PageRequest::new(query.page, query.per_page),
        )
        .await?;
    Ok(Json(crate::api::listing::list(&page, invitation_json)))
}

/// Whom to invite: picked people, or a filter of unit subtree × sector × tags.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InviteBody {
    person_ids: Option<Vec<i64>>,
    filter: Option<FilterBody>,
    saved_filter_id: Option<i64>,
}

#[derive(Deserialize)]
pub struct FilterBody {
    unit_id: i64,
    sector_id: Option<i64>,
    #[serde(default)]
    tags: Vec<String>,
}

pub async fn invite(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<InviteBody>,
) -> Result<Json<Value>, AppError> {
    let invitees = match (body.person_ids, body.filter, body.saved_filter_id) {
        (Some(ids), None, None) => Invitees::People(ids),
        (None, Some(f), None) => Invitees::Filter {
            unit_id: f.unit_id,
            sector_id: f.sector_id,
            tags: f.tags,
        },
        (None, None, Some(id)) => Invitees::Saved(id),
        _ => {
            return Err(AppError::Malformed {
                code: "bad_body",
                detail: "give one of person_ids, filter or saved_filter_id".into(),
            });
        }
    };
    let added = state
        .store
        .invite(&user.actor, state.clock.now(), id, &invitees)
        .await?;
    Ok(Json(json!({ "invited": added })))
}

fn saved_filter_json(f: &tongxin_store::SavedFilter) -> Value {
    json!({
        "id": f.id,
        "name": f.name,
        "unit": { "id": f.unit.0, "name": f.unit.1 },
        "sector": f.sector.as_ref().map(|(id, name)| json!({ "id": id, "name": name })),
        "tags": f.tags,
        "damaged": f.damaged,
    })
}

pub async fn saved_filters(
    State(state): State<AppState>,
    user: ApiUser,
) -> Result<Json<Value>, AppError> {
    let filters = state.store.saved_filters(&user.actor).await?;
    Ok(Json(crate::api::listing::whole(
        &filters,
        saved_filter_json,
    )))
}

#[derive(Deserialize)]
pub struct NewFilter {
    name: String,
    #[serde(flatten)]
    filter: FilterBody,
}

pub async fn save_filter(
    State(state): State<AppState>,
    user: ApiUser,
    ApiJson(body): ApiJson<NewFilter>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let saved = state
        .store
        .save_filter(
            &user.actor,
            state.clock.now(),
            &body.name,
            body.filter.unit_id,
            body.filter.sector_id,
            &body.filter.tags,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(saved_filter_json(&saved))))
}

pub async fn delete_filter(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
) -> Result<StatusCode, AppError> {
    state
        .store
        .delete_filter(&user.actor, state.clock.now(), id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct AttendanceBody {
    person_ids: Vec<i64>,
    status: String,
}

pub async fn mark_attendance(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<AttendanceBody>,
) -> Result<Json<Value>, AppError> {
    let status = Attendance::parse(&body.status).map_err(|i| AppError::Invalid(vec![i]))?;
    let changed = state
        .store
        .mark_attendance(&user.actor, state.clock.now(), id, &body.person_ids, status)
        .await?;
    Ok(Json(json!({ "changed": changed })))
}

#[derive(Deserialize)]
pub struct ExportQuery {
    format: Option<String>,
}

/// The attendance list of an activity as CSV or XLSX, headed in the caller's language.
pub async fn export_attendance(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
    Query(query): Query<ExportQuery>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let xlsx = crate::directory::file::wants_xlsx(query.format.as_deref())?;
    let lang = crate::session::request_lang(&headers, true);
    attendance_download(&state, &user.actor, id, xlsx, lang).await
}

/// Shared by the page and the API: the audited attendance list as a file.
pub async fn attendance_download(
    state: &AppState,
    actor: &tongxin_store::Actor,
    id: i64,
    xlsx: bool,
    lang: tongxin_i18n::Lang,
) -> Result<Response, AppError> {
    let (_, list) = state
        .store
        .attendance_list(actor, state.clock.now(), id)
        .await?;
    let t = |key: &str| state.catalog.get(lang, key).to_owned();
    let header = vec![
        t("field.person_name"),
        t("field.unit"),
        t("field.attendance"),
        t("field.checked_in_at"),
    ];
    let rows = list
        .iter()
        .map(|i| {
            vec![
                i.name.clone(),
                i.unit_name.clone(),
                t(&format!("attendance.{}", i.status.key())),
                i.checked_in_at.map(Timestamp::display).unwrap_or_default(),
            ]
        })
        .collect();
    crate::directory::file::table_download(header, rows, xlsx, &format!("attendance-{id}"))
}

/// An absolute check-in URL for a QR code.
pub fn check_in_url(state: &AppState, headers: &HeaderMap, link: &CheckInLink) -> String {
    state.config.absolute(
        headers,
        &format!(
            "/check-in?a={}&until={}&sig={}",
            link.activity_id, link.until, link.signature
        ),
    )
}

pub async fn check_in_link(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
    headers: HeaderMap,
) -> Result<Json<Value>, AppError> {
    let link = state
        .store
        .check_in_link(&user.actor, state.clock.now(), id)
        .await?;
    Ok(Json(json!({
        "url": check_in_url(&state, &headers, &link),
        "activity_id": link.activity_id,
        "until": link.until,
        "sig": link.signature,
    })))
}

#[derive(Deserialize)]
pub struct StaffCheckIn {
    person_id: i64,
}

fn check_in_json(outcome: CheckIn) -> Value {
    json!({ "result": match outcome {
        CheckIn::CheckedIn => "checked_in",
        CheckIn::AlreadyCheckedIn => "already_checked_in",
    }})
}

pub async fn staff_check_in(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<StaffCheckIn>,
) -> Result<Json<Value>, AppError> {
    let outcome = state
        .store
        .check_in_person(&user.actor, state.clock.now(), id, body.person_id)
        .await?;
    Ok(Json(check_in_json(outcome)))
}

#[derive(Deserialize)]
pub struct LinkBody {
    activity_id: i64,
    until: i64,
    sig: String,
}

/// A member checks in with the parts of a scanned link.
pub async fn member_check_in(
    State(state): State<AppState>,
    user: ApiUser,
    ApiJson(body): ApiJson<LinkBody>,
) -> Result<Json<Value>, AppError> {
    let link = CheckInLink {
        activity_id: body.activity_id,
        until: body.until,
        signature: body.sig,
    };
    let (outcome, title) = state
        .store
        .check_in_with_link(&user.actor, state.clock.now(), &link)
        .await?;
    let mut body = check_in_json(outcome);
    body["activity"] = json!({ "id": link.activity_id, "title": title });
    Ok(Json(body))
}

#[derive(Deserialize)]
pub struct UploadQuery {
    file_name: String,
}

pub async fn add_photo(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
    Query(query): Query<UploadQuery>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let photo = state
        .store
        .add_activity_photo(&user.actor, state.clock.now(), id, &query.file_name, &body)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": photo.id, "file_name": photo.file_name, "size": photo.size })),
    ))
}

pub async fn photo(
    State(state): State<AppState>,
    user: ApiUser,
    IdPair(id, photo_id): IdPair,
) -> Result<Response, AppError> {
    let (file_name, media_type, bytes) = state
        .store
        .activity_photo(&user.actor, id, photo_id)
        .await?;
    Ok(crate::uploads::user_file(
        &media_type,
        &file_name,
        bytes,
        crate::uploads::Disposition::Inline,
    ))
}

#[derive(Deserialize)]
pub struct AnswerBody {
    status: String,
}

/// The member confirms or asks to be excused.
pub async fn answer(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<AnswerBody>,
) -> Result<StatusCode, AppError> {
    let status = Attendance::parse(&body.status).map_err(|i| AppError::Invalid(vec![i]))?;
    state
        .store
        .answer_invitation(&user.actor, state.clock.now(), id, status)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The member's invitations.
pub async fn mine(State(state): State<AppState>, user: ApiUser) -> Result<Json<Value>, AppError> {
    let items = state.store.my_activities(&user.actor).await?;
    Ok(Json(json!({
        "items": items.iter().map(|(a, status)| {
            let mut v = activity_json(a);
            v["my_status"] = json!(status.key());
            v
        }).collect::<Vec<_>>(),
        "total": items.len(),
    })))
}
