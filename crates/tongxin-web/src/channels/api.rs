//! `/api/v1/units/{id}/channels` and `/api/v1/channels/{id}`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use tongxin_core::{Field, Invalid, Reason};
use tongxin_store::{ChannelInput, ChannelKind, ChannelView};

use crate::AppState;
use crate::error::AppError;
use crate::forms::{ApiJson, IdPath};
use crate::session::ApiUser;

pub(crate) fn channel_json(c: &ChannelView) -> Value {
    json!({
        "id": c.id,
        "unit_id": c.unit_id,
        "kind": c.kind.as_str(),
        "name": c.name,
        "host": c.url_hint,
        "has_secret": c.has_secret,
        "events": c.events,
        "created_at": c.created_at.rfc3339(),
    })
}

/// `GET /units/{id}/channels`.
pub async fn list(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(unit): IdPath,
) -> Result<Json<Value>, AppError> {
    let channels = state.store.channels(&user.actor, unit).await?;
    Ok(Json(crate::api::listing::whole(&channels, channel_json)))
}

#[derive(Deserialize)]
pub struct ChannelBody {
    kind: String,
    name: String,
    url: String,
    #[serde(default)]
    secret: Option<String>,
    #[serde(default)]
    events: Vec<String>,
}

/// `POST /units/{id}/channels`: the address and secret are never answered back.
pub async fn create(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(unit): IdPath,
    ApiJson(body): ApiJson<ChannelBody>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let kind = ChannelKind::parse(&body.kind).ok_or_else(|| {
        AppError::Invalid(vec![Invalid::new(Field::Named("kind"), Reason::NotAChoice)])
    })?;
    let input = ChannelInput {
        kind,
        name: body.name,
        url: body.url,
        secret: body.secret,
        events: body.events,
    };
    let created = super::add(&state, &user.actor, unit, &input).await?;
    Ok((StatusCode::CREATED, Json(channel_json(&created))))
}

/// `DELETE /channels/{id}`.
pub async fn delete(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
) -> Result<StatusCode, AppError> {
    state
        .store
        .delete_channel(&user.actor, state.clock.now(), id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /channels/{id}/test`: sends a test message now; a refusal says what the receiver
/// answered.
pub async fn test(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
) -> Result<Json<Value>, AppError> {
    super::test(&state, &user.actor, id).await?;
    Ok(Json(json!({ "sent": true })))
}
