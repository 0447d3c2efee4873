//! `/organizations` and affiliations: the organizations of the caller's subtree and who holds
//! which position in them.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use tongxin_core::{Field, Invalid, Reason, parse_birth_date, parse_name, parse_optional_text};
use tongxin_store::{
    AffiliationView, AffiliationsOf, OrganizationInput, OrganizationKind, OrganizationQuery,
    OrganizationView, PageRequest,
};

use crate::AppState;
use crate::error::AppError;
use crate::forms::{ApiJson, IdPath, Query};
use crate::session::ApiUser;
use tongxin_core::Checks;

fn organization_json(o: &OrganizationView) -> Value {
    json!({
        "id": o.id,
        "unit": { "id": o.unit_id, "name": o.unit_name },
        "name": o.name,
        "kind": o.kind.key(),
        "sector": o.sector.as_ref().map(|(id, name)| json!({ "id": id, "name": name })),
        "address": o.address,
        "latitude": o.coordinates.map(|c| c.0),
        "longitude": o.coordinates.map(|c| c.1),
        "is_venue": o.is_venue,
        "archived": o.archived,
    })
}

fn affiliation_json(a: &AffiliationView) -> Value {
    json!({
        "id": a.id,
        "person": { "id": a.person_id, "name": a.person_name },
        "organization": { "id": a.organization_id, "name": a.organization_name },
        "position": a.position,
        "since": a.since,
        "until": a.until,
    })
}

#[derive(Deserialize)]
pub struct ListQuery {
    q: Option<String>,
    kind: Option<String>,
    sector_id: Option<i64>,
    #[serde(default)]
    venues_only: bool,
    #[serde(default)]
    include_archived: bool,
    /// Only this unit's subtree.
    unit_id: Option<i64>,
    /// `-name` for Z to A; A to Z otherwise.
    sort: Option<String>,
    page: Option<u64>,
    per_page: Option<u64>,
}

pub async fn list(
    State(state): State<AppState>,
    user: ApiUser,
    Query(query): Query<ListQuery>,
) -> Result<Json<Value>, AppError> {
    let kind = match query.kind.as_deref().filter(|k| !k.is_empty()) {
        None => None,
        Some(k) => Some(OrganizationKind::parse(k).map_err(|_| AppError::Malformed {
            code: "bad_query",
            detail: format!("kind={k}"),
        })?),
    };
    let filter = OrganizationQuery {
        q: query.q,
        kind,
        sector_id: query.sector_id,
        venues_only: query.venues_only,
        include_archived: query.include_archived,
        unit_id: query.unit_id,
        reversed: query.sort.as_deref() == Some("-name"),
    };
    let page = state
        .store
        .organizations(
            &user.actor,
            &filter,
            PageRequest::new(query.page, query.per_page),
        )
        .await?;
    Ok(Json(crate::api::listing::list(&page, organization_json)))
}

pub async fn show(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
) -> Result<Json<Value>, AppError> {
    let org = state.store.organization(&user.actor, id).await?;
    let members = state
        .store
        .affiliations(&user.actor, AffiliationsOf::Organization(id))
        .await?;
    let mut body = organization_json(&org);
    body["members"] = members.iter().map(affiliation_json).collect();
    Ok(Json(body))
}

/// The fields of an organization as submitted.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct OrganizationFields {
    unit_id: i64,
    name: String,
    kind: String,
    sector_id: Option<i64>,
    address: String,
    latitude: Option<f64>,
    longitude: Option<f64>,
    is_venue: bool,
}

fn organization_input(f: &OrganizationFields) -> Result<OrganizationInput, AppError> {
    let mut checks = Checks::default();
    let name = checks.check(parse_name(Field::Named("organization_name"), &f.name));
    let kind = checks.check(OrganizationKind::parse(&f.kind));
    let address = checks
        .check(parse_optional_text(
            Field::Named("address"),
            &f.address,
            200,
        ))
        .flatten();
    let coordinates = match (f.latitude, f.longitude) {
        (None, None) => None,
        (Some(lat), Some(lon))
            if (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon) =>
        {
            Some((lat, lon))
        }
        _ => {
            checks.check::<()>(Err(Invalid::new(
                Field::Named("coordinates"),
                Reason::OutOfRange,
            )));
            None
        }
    };
    match (name, kind) {
        (Some(name), Some(kind)) if checks.is_empty() => Ok(OrganizationInput {
            unit_id: f.unit_id,
            name,
            kind,
            sector_id: f.sector_id,
            address,
            coordinates,
            is_venue: f.is_venue || kind == OrganizationKind::Venue,
        }),
        _ => Err(AppError::Invalid(checks.into_inner())),
    }
}

pub async fn create(
    State(state): State<AppState>,
    user: ApiUser,
    ApiJson(fields): ApiJson<OrganizationFields>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let input = organization_input(&fields)?;
    let created = state
        .store
        .create_organization(&user.actor, state.clock.now(), &input)
        .await?;
    Ok((StatusCode::CREATED, Json(organization_json(&created))))
}

pub async fn replace(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
    ApiJson(fields): ApiJson<OrganizationFields>,
) -> Result<Json<Value>, AppError> {
    // An organization outside the subtree is a 404 before any field is judged.
    state.store.organization(&user.actor, id).await?;
    let input = organization_input(&fields)?;
    let updated = state
        .store
        .update_organization(&user.actor, state.clock.now(), id, &input)
        .await?;
    Ok(Json(organization_json(&updated)))
}

async fn set_archived(
    state: &AppState,
    user: &ApiUser,
    id: i64,
    archived: bool,
) -> Result<Json<Value>, AppError> {
    let org = state
        .store
        .set_organization_archived(&user.actor, state.clock.now(), id, archived)
        .await?;
    Ok(Json(organization_json(&org)))
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
pub struct NewAffiliation {
    organization_id: i64,
    #[serde(default)]
    position: String,
    #[serde(default)]
    since: String,
    #[serde(default)]
    until: String,
}

/// `POST /people/{id}/affiliations`: a position in an organization.
pub async fn add_affiliation(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(person_id): IdPath,
    ApiJson(body): ApiJson<NewAffiliation>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let today = state.clock.now().date();
    let mut checks = Checks::default();
    let position = checks
        .check(parse_optional_text(
            Field::Named("position"),
            &body.position,
            200,
        ))
        .flatten();
    let mut date = |key: &'static str, raw: &str| {
        if raw.trim().is_empty() {
            return None;
        }
        checks.check(
            parse_birth_date(raw, today)
                .map_err(|_| Invalid::new(Field::Named(key), Reason::DateFormat)),
        )
    };
    let since = date("since", &body.since);
    let until = date("until", &body.until);
    if !checks.is_empty() {
        return Err(AppError::Invalid(checks.into_inner()));
    }
    let created = state
        .store
        .add_affiliation(
            &user.actor,
            state.clock.now(),
            person_id,
            body.organization_id,
            position,
            since,
            until,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(affiliation_json(&created))))
}

pub async fn person_affiliations(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(person_id): IdPath,
) -> Result<Json<Value>, AppError> {
    let links = state
        .store
        .affiliations(&user.actor, AffiliationsOf::Person(person_id))
        .await?;
    Ok(Json(crate::api::listing::whole(&links, affiliation_json)))
}

/// `DELETE /affiliations/{id}`.
pub async fn remove_affiliation(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
) -> Result<StatusCode, AppError> {
    state
        .store
        .remove_affiliation(&user.actor, state.clock.now(), id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
