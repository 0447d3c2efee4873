//! `/campaigns`: study campaigns, their coverage at any unit of the tree and by sector, the
//! people not reached yet, and planning the next batch.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};
use tongxin_core::{Coverage, Reason};
use tongxin_i18n::Lang;
use tongxin_store::{Actor, CampaignView, CoverageReport, PageRequest};

use crate::AppState;
use crate::activities::api::{ActivityBody, activity_json, parse_activity};
use crate::error::AppError;
use crate::forms::{ApiJson, IdPath, Query};
use crate::input::{self, CampaignFields};
use crate::session::ApiUser;

pub fn coverage_json(c: Coverage) -> Value {
    json!({
        "targeted": c.targeted,
        "reached": c.reached,
        "unreached": c.unreached(),
        "per_mille": c.per_mille(),
    })
}

pub fn campaign_json(c: &CampaignView) -> Value {
    json!({
        "id": c.id,
        "unit": { "id": c.unit_id, "name": c.unit_name },
        "title": c.title,
        "starts_on": c.starts_on,
        "ends_on": c.ends_on,
        "description": c.description,
        "target": {
            "unit": { "id": c.target_unit.0, "name": c.target_unit.1 },
            "sectors": c.sectors.iter().map(|(id, name)| json!({ "id": id, "name": name })).collect::<Vec<_>>(),
            "tags": c.tags,
        },
        "archived": c.archived,
        "coverage": coverage_json(c.coverage),
    })
}

fn report_json(r: &CoverageReport) -> Value {
    json!({
        "campaign": { "id": r.campaign.id, "title": r.campaign.title },
        "unit": { "id": r.unit.id, "name": r.unit.name, "code": r.unit.code },
        "total": coverage_json(r.total),
        "own": coverage_json(r.own),
        "children": r.children.iter().map(|c| json!({
            "unit": { "id": c.unit.id, "name": c.unit.name, "code": c.unit.code },
            "has_children": c.has_children,
            "coverage": coverage_json(c.coverage),
        })).collect::<Vec<_>>(),
        "sectors": r.sectors.iter().map(|(id, name, c)| json!({
            "sector": { "id": id, "name": name },
            "coverage": coverage_json(*c),
        })).collect::<Vec<_>>(),
    })
}

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    include_archived: bool,
    page: Option<u64>,
    per_page: Option<u64>,
}

pub async fn list(
    State(state): State<AppState>,
    user: ApiUser,
    Query(query): Query<ListQuery>,
) -> Result<Json<Value>, AppError> {
    let page = state
        .store
        .campaigns(
            &user.actor,
            query.include_archived,
            PageRequest::new(query.page, query.per_page),
        )
        .await?;
    Ok(Json(crate::api::listing::list(&page, campaign_json)))
}

/// A campaign as the API takes it.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CampaignBody {
    unit_id: Option<i64>,
    title: String,
    starts_on: String,
    ends_on: String,
    description: Option<String>,
    target_unit_id: Option<i64>,
    sector_ids: Vec<i64>,
    tags: Vec<String>,
    material_ids: Vec<i64>,
}

fn parse_campaign(body: CampaignBody) -> Result<tongxin_store::CampaignInput, AppError> {
    let fields = CampaignFields {
        unit_code: String::new(),
        title: body.title,
        starts_on: body.starts_on,
        ends_on: body.ends_on,
        description: body.description.unwrap_or_default(),
        target_unit_code: String::new(),
        tags: body.tags.join(";"),
    };
    input::campaign(
        &fields,
        body.unit_id.ok_or(Reason::Required),
        body.target_unit_id.ok_or(Reason::Required),
        body.sector_ids,
        body.material_ids,
    )
    .map_err(AppError::Invalid)
}

pub async fn create(
    State(state): State<AppState>,
    user: ApiUser,
    ApiJson(body): ApiJson<CampaignBody>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let input = parse_campaign(body)?;
    let created = state
        .store
        .create_campaign(&user.actor, state.clock.now(), &input)
        .await?;
    Ok((StatusCode::CREATED, Json(campaign_json(&created))))
}

pub async fn show(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
) -> Result<Json<Value>, AppError> {
    let campaign = state.store.campaign(&user.actor, id).await?;
    let materials = state.store.campaign_materials(&user.actor, id).await?;
    let mut body = campaign_json(&campaign);
    body["materials"] = materials
        .iter()
        .map(|(id, title)| json!({ "id": id, "title": title }))
        .collect();
    Ok(Json(body))
}

pub async fn replace(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<CampaignBody>,
) -> Result<Json<Value>, AppError> {
    let input = parse_campaign(body)?;
    let updated = state
        .store
        .update_campaign(&user.actor, state.clock.now(), id, &input)
        .await?;
    Ok(Json(campaign_json(&updated)))
}

pub async fn archive(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
) -> Result<Json<Value>, AppError> {
    let c = state
        .store
        .set_campaign_archived(&user.actor, state.clock.now(), id, true)
        .await?;
    Ok(Json(campaign_json(&c)))
}

pub async fn restore(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
) -> Result<Json<Value>, AppError> {
    let c = state
        .store
        .set_campaign_archived(&user.actor, state.clock.now(), id, false)
        .await?;
    Ok(Json(campaign_json(&c)))
}

#[derive(Deserialize)]
pub struct UnitQuery {
    unit_id: Option<i64>,
    page: Option<u64>,
    per_page: Option<u64>,
}

pub async fn coverage(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
    Query(query): Query<UnitQuery>,
) -> Result<Json<Value>, AppError> {
    let report = state
        .store
        .campaign_coverage(&user.actor, id, query.unit_id)
        .await?;
    Ok(Json(report_json(&report)))
}

pub async fn unreached(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
    Query(query): Query<UnitQuery>,
) -> Result<Json<Value>, AppError> {
    let page = state
        .store
        .unreached(
            &user.actor,
            id,
            query.unit_id,
            PageRequest::new(query.page, query.per_page),
        )
        .await?;
    Ok(Json(crate::api::listing::list(&page, |p| {
        json!({
            "person": { "id": p.person_id, "name": p.name },
            "unit": p.unit_name,
            "sectors": p.sectors,
            "phone_masked": p.phone_masked,
            "joined_at": p.joined_at.rfc3339(),
            "batch": p.batch.as_ref().map(|b| json!({
                "activity": { "id": b.activity_id, "title": b.title },
                "starts_at": b.starts_at.rfc3339(),
                "status": b.status.key(),
            })),
        })
    })))
}

#[derive(Deserialize, Default)]
pub struct ExportQuery {
    format: Option<String>,
    unit_id: Option<i64>,
}

/// `POST /campaigns/{id}/unreached/export`: the unreached of a subtree as CSV or XLSX.
pub async fn export_unreached(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
    Query(query): Query<ExportQuery>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let xlsx = crate::directory::file::wants_xlsx(query.format.as_deref())?;
    let lang = crate::session::request_lang(&headers, true);
    unreached_download(&state, &user.actor, id, query.unit_id, xlsx, lang).await
}

/// Shared by the page and the API: the audited list of the unreached as a file, headed in the
/// caller's language.
pub async fn unreached_download(
    state: &AppState,
    actor: &Actor,
    id: i64,
    unit_id: Option<i64>,
    xlsx: bool,
    lang: Lang,
) -> Result<Response, AppError> {
    let (_, people) = state
        .store
        .unreached_export(actor, state.clock.now(), id, unit_id)
        .await?;
    let t = |key: &str| state.catalog.get(lang, key).to_owned();
    let header = vec![
        t("field.person_name"),
        t("field.unit"),
        t("field.sector"),
        t("field.phone"),
        t("campaigns.batch"),
        t("campaigns.batch_status"),
        t("campaigns.in_target_since"),
    ];
    let rows = people
        .iter()
        .map(|p| {
            let (batch, status) = match &p.batch {
                Some(b) => (
                    format!("{} {}", b.starts_at.display_minutes(), b.title),
                    t(&format!("attendance.{}", b.status.key())),
                ),
                None => (String::new(), t("campaigns.not_planned")),
            };
            vec![
                p.name.clone(),
                p.unit_name.clone(),
                p.sectors.join(t("common.list_separator").as_str()),
                p.phone_masked.clone().unwrap_or_default(),
                batch,
                status,
                p.joined_at.display_minutes(),
            ]
        })
        .collect();
    crate::directory::file::table_download(header, rows, xlsx, &format!("unreached-{id}"))
}

pub async fn next_batch(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<ActivityBody>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let input = parse_activity(&body)?;
    let (activity, invited) = state
        .store
        .plan_next_batch(&user.actor, state.clock.now(), id, &input)
        .await?;
    let mut body = activity_json(&activity);
    body["invited"] = json!(invited);
    Ok((StatusCode::CREATED, Json(body)))
}
