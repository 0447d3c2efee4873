//! `/people`: the directory of the caller's subtree.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};
use tongxin_core::{Field, Gender, Invalid, Reason};
use tongxin_store::{
    PageRequest, PeopleChange, PeopleQuery, PersonOrder, PersonStatus, PersonSummary, PersonView,
    Protection, SensitiveField,
};

use tongxin_tabular::{Format, Limits};

use crate::AppState;
use crate::directory::file as directory_file;
use crate::error::AppError;
use crate::forms::{ApiJson, IdPath, Query};
use crate::session::ApiUser;
use tongxin_store::PersonFields;

fn gender_key(g: Option<Gender>) -> Option<&'static str> {
    g.map(Gender::as_str)
}

fn summary_json(p: &PersonSummary) -> Value {
    json!({
        "id": p.id,
        "name": p.name,
        "gender": gender_key(p.gender),
        "birth_date": p.birth_date,
        "unit": { "id": p.unit_id, "name": p.unit_name },
        "employer": p.employer,
        "title": p.title,
        "phone": p.phone_masked,
        "archived": p.archived,
        "sectors": p.sectors,
    })
}

pub(super) fn person_json(p: &PersonView) -> Value {
    json!({
        "id": p.id,
        "unit": { "id": p.unit_id, "name": p.unit_name },
        "name": p.name,
        "gender": gender_key(p.gender),
        "birth_date": p.birth_date,
        "education": p.education,
        "occupation": p.occupation,
        "title": p.title,
        "employer": p.employer,
        "political_affiliation": p.political_affiliation,
        "address": p.address,
        "notes": p.notes,
        "id_number": p.id_number_masked,
        "phone": p.phone_masked,
        "ethnicity": p.has_ethnicity.then_some("***"),
        "religion": p.has_religion.then_some("***"),
        "sectors": p.sectors.iter().map(|s| json!({
            "sector_id": s.sector_id,
            "sector": s.sector_name,
            "role": s.role,
            "since": s.since,
            "values": s.values.iter().map(|v| (v.key.clone(), Value::from(v.value.clone())))
                .collect::<serde_json::Map<_, _>>(),
        })).collect::<Vec<_>>(),
        "tags": p.tags,
        "version": p.version,
        "archived": p.archived,
        "created_at": p.created_at.rfc3339(),
        "updated_at": p.updated_at.rfc3339(),
    })
}

#[derive(Deserialize)]
pub struct ListQuery {
    q: Option<String>,
    unit_id: Option<i64>,
    sector_id: Option<i64>,
    tag: Option<String>,
    gender: Option<String>,
    age_min: Option<u32>,
    age_max: Option<u32>,
    status: Option<String>,
    /// `name` (default), `-name`, `unit` or `-unit`; anything else is the default.
    sort: Option<String>,
    page: Option<u64>,
    per_page: Option<u64>,
    /// Export only: `csv` (default) or `xlsx`.
    format: Option<String>,
}

pub(crate) fn bad_query(detail: String) -> AppError {
    AppError::Malformed {
        code: "bad_query",
        detail,
    }
}

/// The search filters of a list or export query.
fn people_query(query: &ListQuery) -> Result<PeopleQuery, AppError> {
    let gender = match query.gender.as_deref().filter(|g| !g.is_empty()) {
        None => None,
        Some(g) => Some(Gender::parse(g).map_err(|_| bad_query(format!("gender={g}")))?),
    };
    let status = match query.status.as_deref() {
        None | Some("" | "active") => PersonStatus::Active,
        Some("archived") => PersonStatus::Archived,
        Some("all") => PersonStatus::All,
        Some(other) => return Err(bad_query(format!("status={other}"))),
    };
    Ok(PeopleQuery {
        q: query.q.clone(),
        unit_id: query.unit_id,
        sector_id: query.sector_id,
        tag: query.tag.clone(),
        gender,
        age_min: query.age_min,
        age_max: query.age_max,
        status,
        order: query
            .sort
            .as_deref()
            .and_then(PersonOrder::parse)
            .unwrap_or_default(),
        ids: Vec::new(),
    })
}

pub async fn list(
    State(state): State<AppState>,
    user: ApiUser,
    Query(query): Query<ListQuery>,
) -> Result<Json<Value>, AppError> {
    let filter = people_query(&query)?;
    let page = state
        .store
        .search_people(
            &user.actor,
            &filter,
            PageRequest::new(query.page, query.per_page),
            state.clock.now(),
        )
        .await?;
    Ok(Json(crate::api::listing::list(&page, summary_json)))
}

pub async fn show(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
) -> Result<Json<Value>, AppError> {
    Ok(Json(person_json(
        &state
            .store
            .read_person(&user.actor, state.clock.now(), id)
            .await?,
    )))
}

pub async fn create(
    State(state): State<AppState>,
    user: ApiUser,
    ApiJson(fields): ApiJson<PersonFields>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let now = state.clock.now();
    let person = fields.parse(now.date()).map_err(AppError::Invalid)?;
    let created = state.store.create_person(&user.actor, now, person).await?;
    Ok((StatusCode::CREATED, Json(person_json(&created))))
}

/// `PUT /people/{id}`: the whole record, with the `version` it was based on.
#[derive(Deserialize)]
pub struct Replacement {
    version: Option<i32>,
    #[serde(flatten)]
    fields: PersonFields,
}

pub async fn replace(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<Replacement>,
) -> Result<Json<Value>, AppError> {
    // A person outside the subtree is a 404 before any field is judged.
    let current = state.store.person(&user.actor, id).await?;
    let version = body
        .version
        .ok_or_else(|| Invalid::new(Field::Named("version"), Reason::Required))?;
    let now = state.clock.now();
    // A protected field sent back as the API showed it (masked) stays as it is, so a record
    // read with GET can be changed and sent back whole; an empty one is cleared.
    let mut fields = body.fields;
    let stars = |present: bool| present.then(|| "***".to_owned());
    let mut unchanged = Vec::new();
    for (field, sent, shown) in [
        (
            SensitiveField::IdNumber,
            &mut fields.id_number,
            current.id_number_masked,
        ),
        (
            SensitiveField::Phone,
            &mut fields.phone,
            current.phone_masked,
        ),
        (
            SensitiveField::Ethnicity,
            &mut fields.ethnicity,
            stars(current.has_ethnicity),
        ),
        (
            SensitiveField::Religion,
            &mut fields.religion,
            stars(current.has_religion),
        ),
    ] {
        if !sent.is_empty() && Some(sent.as_str()) == shown.as_deref() {
            sent.clear();
            unchanged.push(field);
        }
    }
    let mut person = fields.parse(now.date()).map_err(AppError::Invalid)?;
    person.keep_unset_protected = true;
    person.clear_protected = SensitiveField::ALL
        .into_iter()
        .filter(|f| !unchanged.contains(f))
        .collect();
    let updated = state
        .store
        .update_person(&user.actor, now, id, version, person)
        .await?;
    Ok(Json(person_json(&updated)))
}

async fn set_archived(
    state: &AppState,
    user: &ApiUser,
    id: i64,
    archived: bool,
) -> Result<Json<Value>, AppError> {
    let person = state
        .store
        .set_person_archived(&user.actor, state.clock.now(), id, archived)
        .await?;
    Ok(Json(person_json(&person)))
}

pub async fn archive(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
) -> Result<Json<Value>, AppError> {
    set_archived(&state, &user, id, true).await
}

pub async fn restore(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
) -> Result<Json<Value>, AppError> {
    set_archived(&state, &user, id, false).await
}

#[derive(Deserialize)]
pub struct BatchBody {
    person_ids: Vec<i64>,
    /// `tag` (with `tag`) or `archive`.
    action: String,
    #[serde(default)]
    tag: String,
}

/// `POST /people/batch`: tags or archives every person listed, or none (422
/// `refused_people` naming those the caller may not change).
pub async fn batch(
    State(state): State<AppState>,
    user: ApiUser,
    ApiJson(body): ApiJson<BatchBody>,
) -> Result<Json<Value>, AppError> {
    let change = match body.action.as_str() {
        "tag" => PeopleChange::Tag(body.tag),
        "archive" => PeopleChange::Archive,
        other => return Err(bad_query(format!("action={other}"))),
    };
    let changed = state
        .store
        .change_people(&user.actor, state.clock.now(), &body.person_ids, &change)
        .await?;
    Ok(Json(json!({ "changed": changed })))
}

#[derive(Deserialize)]
pub struct RevealBody {
    field: String,
}

/// `POST /people/{id}/reveal`: one protected value in clear; audited.
pub async fn reveal(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<RevealBody>,
) -> Result<Json<Value>, AppError> {
    let field = SensitiveField::parse(&body.field)
        .ok_or_else(|| Invalid::new(Field::Named("field"), Reason::NotFound))?;
    let value = state
        .store
        .reveal_person_field(&user.actor, state.clock.now(), id, field)
        .await?;
    Ok(Json(json!({ "field": field.key(), "value": value })))
}

#[derive(Deserialize)]
pub struct MergeBody {
    other_id: i64,
    version: i32,
}

/// `POST /people/{id}/merge`: merge `other_id` into this record.
pub async fn merge(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<MergeBody>,
) -> Result<Json<Value>, AppError> {
    let merged = state
        .store
        .merge_people(
            &user.actor,
            state.clock.now(),
            id,
            body.other_id,
            body.version,
        )
        .await?;
    Ok(Json(person_json(&merged)))
}

/// `GET /people/{id}/duplicates`: others who may be the same person.
pub async fn duplicates(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
) -> Result<Json<Value>, AppError> {
    let others = state.store.likely_duplicates(&user.actor, id).await?;
    Ok(Json(crate::api::listing::whole(&others, summary_json)))
}

pub async fn history(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
) -> Result<Json<Value>, AppError> {
    let entries = state.store.person_history(&user.actor, id).await?;
    Ok(Json(json!({
        "items": entries.iter().map(|h| json!({
            "version": h.version,
            "at": h.at.rfc3339(),
            "by": h.actor_name,
            "proposed_by": h.proposed_by,
            "field": h.field,
            "old": h.old_value,
            "new": h.new_value,
        })).collect::<Vec<_>>(),
        "total": entries.len(),
    })))
}

/// `GET /people/template?sector=ID&format=csv|xlsx`: an empty import file with the right
/// headers.
pub async fn template(
    State(state): State<AppState>,
    user: ApiUser,
    Query(query): Query<directory_file::TemplateQuery>,
) -> Result<Response, AppError> {
    directory_file::template_response(&state, &user.actor, &query).await
}

#[derive(Deserialize)]
pub struct ImportQuery {
    #[serde(default)]
    dry_run: bool,
    format: Option<String>,
}

/// `POST /people/import`: the file is the request body (CSV or XLSX; the format is taken from
/// `?format=` or the bytes). Answers the report; 422 if any row was refused.
pub async fn import(
    State(state): State<AppState>,
    user: ApiUser,
    Query(query): Query<ImportQuery>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let format = match query.format.as_deref() {
        Some("csv") => Format::Csv,
        Some("xlsx") => Format::Xlsx,
        None | Some("") => Format::sniff(&body),
        Some(other) => return Err(bad_query(format!("format={other}"))),
    };
    let limits = Limits {
        max_bytes: state.config.max_import_bytes,
        ..Limits::default()
    };
    let lang = crate::session::request_lang(&headers, true);
    let request = tongxin_exchange::ImportRequest {
        bytes: &body,
        format,
        limits,
        dry_run: query.dry_run,
        lang,
    };
    let _slot = state.imports.hold(&state.store, &user.actor).await?;
    let report = tongxin_exchange::import_people(
        &state.store,
        &user.actor,
        state.clock.now(),
        &state.catalog,
        request,
        &tongxin_exchange::ImportProgress::default(),
    )
    .await?;
    let status = if report.problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, Json(report_json(&report))))
}

/// An import report as JSON.
pub fn report_json(report: &tongxin_exchange::Report) -> Value {
    json!({
        "rows": report.rows,
        "committed": report.committed,
        "problems": report.problems.iter().map(|p| json!({
            "line": p.line,
            "column": p.column,
            "code": p.code,
            "message": p.message,
            "existing_id": p.existing,
        })).collect::<Vec<_>>(),
    })
}

/// What to do with an export's protected fields.
#[derive(Deserialize, Default)]
pub struct ExportBody {
    /// ID numbers and phones in clear (needs the right and a purpose).
    #[serde(default)]
    clear: bool,
    #[serde(default)]
    purpose: String,
}

/// `POST /people/export`: the people matching the list filters (in the query string, as for the
/// list) as a CSV or XLSX file, streamed a batch at a time. Protected fields are masked unless
/// the body asks for them in clear with a purpose and the caller has that right; the export is
/// audited with its filter, row count and purpose.
pub async fn export(
    State(state): State<AppState>,
    user: ApiUser,
    Query(query): Query<ListQuery>,
    RawQuery(raw): RawQuery,
    ApiJson(body): ApiJson<ExportBody>,
) -> Result<Response, AppError> {
    let filter = people_query(&query)?;
    let xlsx = match query.format.as_deref() {
        None | Some("" | "csv") => false,
        Some("xlsx") => true,
        Some(other) => return Err(bad_query(format!("format={other}"))),
    };
    let protection = if body.clear {
        Protection::Clear {
            purpose: body.purpose,
        }
    } else {
        Protection::Masked
    };
    let export = state
        .store
        .start_people_export(
            &user.actor,
            filter,
            state.clock.now(),
            raw.as_deref().unwrap_or(""),
            protection,
        )
        .await?;
    if xlsx {
        directory_file::xlsx_response(&state.store, export, &std::env::temp_dir()).await
    } else {
        Ok(directory_file::csv_response(state.store.clone(), export))
    }
}
