//! `/accounts` (the system and security administrators) and `/audit` (the auditor).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};
use tongxin_store::{AccountQuery, AccountView, ApiTokenView, AuditEntry, AuditQuery, PageRequest};

use crate::AppState;
use crate::error::AppError;
use crate::forms::{ApiJson, IdKeyPath, IdPath, Query};
use crate::input;
use crate::session::ApiUser;

fn account_json(a: &AccountView) -> Value {
    json!({
        "id": a.id,
        "username": a.username,
        "display_name": a.display_name,
        "role": a.role.as_str(),
        "unit": { "id": a.unit_id, "code": a.unit_code, "name": a.unit_name },
        "disabled": a.disabled,
        "locked_until": a.locked_until.map(|t| t.rfc3339()),
        "must_change_password": a.must_change_password,
        "may_export_clear": a.may_export_clear,
        "second_factor": a.second_factor,
        "created_at": a.created_at.rfc3339(),
    })
}

#[derive(Deserialize)]
pub struct ListQuery {
    q: Option<String>,
    unit_id: Option<i64>,
    /// `-username` for Z to A; A to Z otherwise.
    sort: Option<String>,
    page: Option<u64>,
    per_page: Option<u64>,
}

pub async fn list(
    State(state): State<AppState>,
    user: ApiUser,
    Query(query): Query<ListQuery>,
) -> Result<Json<Value>, AppError> {
    let filter = AccountQuery {
        q: query.q,
        unit_id: query.unit_id,
        reversed: query.sort.as_deref() == Some("-username"),
        ..AccountQuery::default()
    };
    let page = state
        .store
        .accounts(
            &user.actor,
            &filter,
            PageRequest::new(query.page, query.per_page),
        )
        .await?;
    Ok(Json(crate::api::listing::list(&page, account_json)))
}

pub async fn show(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
) -> Result<Json<Value>, AppError> {
    Ok(Json(account_json(
        &state.store.account(&user.actor, id).await?,
    )))
}

#[derive(Deserialize)]
pub struct NewAccountBody {
    unit_code: String,
    username: String,
    display_name: Option<String>,
    role: String,
    password: String,
}

pub async fn create(
    State(state): State<AppState>,
    user: ApiUser,
    ApiJson(body): ApiJson<NewAccountBody>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let submitted = input::AccountFields {
        unit_code: &body.unit_code,
        username: &body.username,
        display_name: body.display_name.as_deref(),
        role: &body.role,
        password: &body.password,
    };
    let new = input::new_account(&state.store, &user.actor, &submitted)
        .await?
        .map_err(AppError::Invalid)?;
    let created = state
        .store
        .create_account(&user.actor, state.clock.now(), new)
        .await?;
    Ok((StatusCode::CREATED, Json(account_json(&created))))
}

pub async fn disable(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
) -> Result<Json<Value>, AppError> {
    let account = state
        .store
        .set_account_disabled(&user.actor, state.clock.now(), id, true)
        .await?;
    Ok(Json(account_json(&account)))
}

pub async fn enable(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
) -> Result<Json<Value>, AppError> {
    let account = state
        .store
        .set_account_disabled(&user.actor, state.clock.now(), id, false)
        .await?;
    Ok(Json(account_json(&account)))
}

#[derive(Deserialize)]
pub struct RoleBody {
    role: String,
}

/// `POST /accounts/{id}/role`: another role; the account's sessions end.
pub async fn set_role(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<RoleBody>,
) -> Result<Json<Value>, AppError> {
    let role = tongxin_core::Role::parse(&body.role).map_err(|i| AppError::Invalid(vec![i]))?;
    let account = state
        .store
        .set_account_role(&user.actor, state.clock.now(), id, role)
        .await?;
    Ok(Json(account_json(&account)))
}

/// `POST /accounts/{id}/unlock`: lifts a lock left by failed logins.
pub async fn unlock(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
) -> Result<Json<Value>, AppError> {
    let account = state
        .store
        .unlock_account(&user.actor, state.clock.now(), id)
        .await?;
    Ok(Json(account_json(&account)))
}

#[derive(Deserialize)]
pub struct ClearExportBody {
    allowed: bool,
}

/// `POST /accounts/{id}/clear-export`: the security administrator gives or takes the right to
/// export protected fields in clear.
pub async fn set_clear_export(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<ClearExportBody>,
) -> Result<Json<Value>, AppError> {
    let account = state
        .store
        .set_clear_export_right(&user.actor, state.clock.now(), id, body.allowed)
        .await?;
    Ok(Json(account_json(&account)))
}

fn audit_json(e: &AuditEntry) -> Value {
    json!({
        "seq": e.seq,
        "at": e.at.rfc3339(),
        "actor": e.actor_name,
        "action": e.action,
        "target": { "kind": e.target_kind, "id": e.target_id, "label": e.target_label },
        "unit": e.unit.as_ref().map(|(id, name)| json!({ "id": id, "name": name })),
        "ip": e.ip,
        "detail": serde_json::from_str::<Value>(&e.detail).unwrap_or(Value::Null),
    })
}

#[derive(Deserialize)]
pub struct AuditFilter {
    action: Option<String>,
    actor: Option<String>,
    page: Option<u64>,
    per_page: Option<u64>,
}

pub async fn audit(
    State(state): State<AppState>,
    user: ApiUser,
    Query(filter): Query<AuditFilter>,
) -> Result<Json<Value>, AppError> {
    let query = AuditQuery {
        action: filter.action,
        actor: filter.actor,
    };
    let page = state
        .store
        .audit_log(
            &user.actor,
            &query,
            PageRequest::new(filter.page, filter.per_page),
        )
        .await?;
    Ok(Json(crate::api::listing::list(&page, audit_json)))
}

#[derive(Deserialize, Default)]
pub struct AuditExportBody {
    action: Option<String>,
    actor: Option<String>,
}

/// `POST /audit/export`: the auditor's export of the rows the filter matches, as CSV, oldest
/// first; recorded in the log with its filter and row count.
pub async fn audit_export(
    State(state): State<AppState>,
    user: ApiUser,
    headers: axum::http::HeaderMap,
    ApiJson(body): ApiJson<AuditExportBody>,
) -> Result<Response, AppError> {
    let query = AuditQuery {
        action: body.action,
        actor: body.actor,
    };
    let export = state
        .store
        .start_audit_export(&user.actor, query, state.clock.now())
        .await?;
    Ok(crate::audit::export::csv_response(
        state.store.clone(),
        state.catalog.clone(),
        crate::session::request_lang(&headers, true),
        export,
    ))
}

fn token_json(t: &ApiTokenView) -> Value {
    json!({
        "id": t.id,
        "created_at": t.created_at.rfc3339(),
        "last_seen_at": t.last_seen_at.rfc3339(),
        "expires_at": t.expires_at.rfc3339(),
        "ip": t.ip,
    })
}

async fn tokens_of(
    state: &AppState,
    user: &ApiUser,
    account_id: i64,
) -> Result<Json<Value>, AppError> {
    let tokens = state
        .store
        .api_tokens(
            &user.actor,
            account_id,
            state.clock.now(),
            &state.config.policy,
        )
        .await?;
    Ok(Json(
        json!({ "items": tokens.iter().map(token_json).collect::<Vec<_>>() }),
    ))
}

/// The caller's own live API tokens.
pub async fn own_tokens(
    State(state): State<AppState>,
    user: ApiUser,
) -> Result<Json<Value>, AppError> {
    let id = user.actor.user_id().ok_or(AppError::NotFound)?;
    tokens_of(&state, &user, id).await
}

/// Ends one of the caller's own API tokens (the one in use, too).
pub async fn revoke_own_token(
    State(state): State<AppState>,
    user: ApiUser,
    axum::extract::Path(token): axum::extract::Path<String>,
) -> Result<StatusCode, AppError> {
    let id = user.actor.user_id().ok_or(AppError::NotFound)?;
    state
        .store
        .revoke_api_token(&user.actor, state.clock.now(), id, &token)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The live API tokens of an account the caller manages.
pub async fn account_tokens(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
) -> Result<Json<Value>, AppError> {
    tokens_of(&state, &user, id).await
}

/// Ends one API token of an account the caller manages.
pub async fn revoke_account_token(
    State(state): State<AppState>,
    user: ApiUser,
    IdKeyPath(id, token): IdKeyPath,
) -> Result<StatusCode, AppError> {
    state
        .store
        .revoke_api_token(&user.actor, state.clock.now(), id, &token)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /accounts/{id}/second-factor/reset`: the security administrator takes an account's
/// second factor away (a lost phone); its sessions end and its holder sets up a new one.
pub async fn reset_second_factor(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
) -> Result<Json<Value>, AppError> {
    let account = state
        .store
        .reset_second_factor(&user.actor, state.clock.now(), id)
        .await?;
    Ok(Json(account_json(&account)))
}
