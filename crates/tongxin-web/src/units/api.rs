//! `/units`: the caller's subtree.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use tongxin_core::{Field, Invalid, Reason, UnitLevel, UnitName};
use tongxin_store::{PageRequest, UnitChange, UnitQuery, UnitView};

use crate::AppState;
use crate::error::AppError;
use crate::forms::{ApiJson, IdPath, Query};
use crate::input;
use crate::session::ApiUser;

pub(crate) fn unit_json(u: &UnitView) -> Value {
    json!({
        "id": u.id,
        "parent_id": u.parent_id,
        "code": u.code,
        "name": u.name,
        "level": u.level.key(),
        "archived": u.archived,
        "created_at": u.created_at.rfc3339(),
        "updated_at": u.updated_at.rfc3339(),
    })
}

#[derive(Deserialize)]
pub struct ListQuery {
    q: Option<String>,
    parent_id: Option<i64>,
    level: Option<String>,
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
    let level = match query.level.as_deref() {
        None | Some("") => None,
        Some(key) => Some(
            [
                UnitLevel::City,
                UnitLevel::County,
                UnitLevel::Township,
                UnitLevel::Village,
            ]
            .into_iter()
            .find(|l| l.key() == key)
            .ok_or(AppError::Malformed {
                code: "bad_query",
                detail: format!("level={key}"),
            })?,
        ),
    };
    let filter = UnitQuery {
        q: query.q,
        parent_id: query.parent_id,
        level,
        include_archived: query.include_archived,
    };
    let page = state
        .store
        .units(
            &user.actor,
            &filter,
            PageRequest::new(query.page, query.per_page),
        )
        .await?;
    Ok(Json(crate::api::listing::list(&page, unit_json)))
}

pub async fn show(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
) -> Result<Json<Value>, AppError> {
    Ok(Json(unit_json(&state.store.unit(&user.actor, id).await?)))
}

#[derive(Deserialize)]
pub struct NewUnitBody {
    parent_id: i64,
    code: String,
    name: String,
}

pub async fn create(
    State(state): State<AppState>,
    user: ApiUser,
    ApiJson(body): ApiJson<NewUnitBody>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let new = input::new_unit(body.parent_id, &body.code, &body.name).map_err(AppError::Invalid)?;
    let created = state
        .store
        .create_unit(&user.actor, state.clock.now(), new)
        .await?;
    Ok((StatusCode::CREATED, Json(unit_json(&created))))
}

/// Fields of `PATCH /units/{id}`; give `name` to rename, `parent_id` to move, or both.
#[derive(Deserialize)]
pub struct UnitPatch {
    name: Option<String>,
    parent_id: Option<i64>,
}

pub async fn update(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
    ApiJson(patch): ApiJson<UnitPatch>,
) -> Result<Json<Value>, AppError> {
    // A unit outside the subtree is a 404 before any field is judged.
    state.store.unit(&user.actor, id).await?;
    let rename = patch.name.as_deref().map(UnitName::parse).transpose()?;
    if rename.is_none() && patch.parent_id.is_none() {
        return Err(Invalid::new(Field::Body, Reason::Required).into());
    }
    let mut changes = Vec::new();
    if let Some(name) = rename {
        changes.push(UnitChange::Rename(name));
    }
    if let Some(parent_id) = patch.parent_id {
        changes.push(UnitChange::Move { parent_id });
    }
    let unit = state
        .store
        .change_unit_all(&user.actor, state.clock.now(), id, &changes)
        .await?;
    Ok(Json(unit_json(&unit)))
}

/// Archives or restores a unit.
async fn set_archived(
    state: &AppState,
    user: &ApiUser,
    id: i64,
    change: UnitChange,
) -> Result<Json<Value>, AppError> {
    let unit = state
        .store
        .change_unit(&user.actor, state.clock.now(), id, change)
        .await?;
    Ok(Json(unit_json(&unit)))
}

pub async fn archive(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
) -> Result<Json<Value>, AppError> {
    set_archived(&state, &user, id, UnitChange::Archive).await
}

pub async fn restore(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
) -> Result<Json<Value>, AppError> {
    set_archived(&state, &user, id, UnitChange::Restore).await
}
