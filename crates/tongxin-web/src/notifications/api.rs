//! `/api/v1/me/notifications`: the caller's inbox, and marking read.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};
use tongxin_store::{NotificationView, PageRequest};

use crate::AppState;
use crate::error::AppError;
use crate::forms::{IdPath, Query};
use crate::session::ApiUser;

#[derive(Deserialize)]
pub struct InboxQuery {
    page: Option<u64>,
    per_page: Option<u64>,
}

fn notification_json(state: &AppState, lang: tongxin_i18n::Lang, n: &NotificationView) -> Value {
    json!({
        "id": n.id,
        "kind": n.kind,
        "text": super::notice_text(&state.catalog, lang, n),
        "link": n.link,
        "params": n.params,
        "merged": n.merged,
        "created_at": n.created_at.rfc3339(),
        "updated_at": n.updated_at.rfc3339(),
        "read": n.read,
    })
}

/// `GET /me/notifications`: newest first, with the unread count.
pub async fn list(
    State(state): State<AppState>,
    user: ApiUser,
    headers: axum::http::HeaderMap,
    Query(query): Query<InboxQuery>,
) -> Result<Json<Value>, AppError> {
    let lang = crate::session::request_lang(&headers, true);
    let page = state
        .store
        .notifications(&user.actor, PageRequest::new(query.page, query.per_page))
        .await?;
    let mut body = crate::api::listing::list(&page, |n| notification_json(&state, lang, n));
    body["unread"] = json!(state.store.unread_notifications(&user.actor).await?);
    Ok(Json(body))
}

/// `POST /me/notifications/{id}/read`.
pub async fn read(
    State(state): State<AppState>,
    user: ApiUser,
    headers: axum::http::HeaderMap,
    IdPath(id): IdPath,
) -> Result<Json<Value>, AppError> {
    let lang = crate::session::request_lang(&headers, true);
    let n = state
        .store
        .read_notification(&user.actor, state.clock.now(), id)
        .await?;
    Ok(Json(notification_json(&state, lang, &n)))
}

/// `POST /me/notifications/read-all`: answers how many were unread.
pub async fn read_all(
    State(state): State<AppState>,
    user: ApiUser,
) -> Result<Json<Value>, AppError> {
    let n = state
        .store
        .read_all_notifications(&user.actor, state.clock.now())
        .await?;
    Ok(Json(json!({ "read": n })))
}
