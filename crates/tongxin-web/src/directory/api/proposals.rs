//! Self-declared updates: `/me/record` and `/me/proposals` for members, `/proposals` for the
//! staff who decide, and `/people/{id}/member` to link a member account to its record.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use tongxin_core::{Field, PERSON_FIELDS, Username, parse_optional_text};
use tongxin_store::{Decision, PageRequest, ProposalQuery, ProposalStatus, ProposalView};

use crate::AppState;
use crate::directory::api::people::{bad_query, person_json};
use crate::error::AppError;
use crate::forms::{ApiJson, IdPath, Query};
use crate::input;
use crate::session::ApiUser;

fn proposal_json(p: &ProposalView) -> Value {
    json!({
        "id": p.id,
        "person": { "id": p.person_id, "name": p.person_name },
        "field": p.field.key(),
        "old": p.old_value,
        "new": p.new_value,
        "status": p.status.key(),
        "proposed_by": p.proposer_name,
        "proposed_at": p.proposed_at.rfc3339(),
        "decided_by": p.decided_by,
        "decided_at": p.decided_at.map(|t| t.rfc3339()),
        "reason": p.reason,
    })
}

fn proposals_json(items: &[ProposalView]) -> Value {
    crate::api::listing::whole(items, proposal_json)
}

/// `GET /me/record`: the member's own record (protected values masked), without the fields
/// staff keep for their own work.
pub async fn own_record(
    State(state): State<AppState>,
    user: ApiUser,
) -> Result<Json<Value>, AppError> {
    let mut record = person_json(&state.store.own_record(&user.actor).await?);
    if let Some(fields) = record.as_object_mut() {
        for field in PERSON_FIELDS.iter().filter(|f| f.staff_only) {
            fields.remove(field.key);
        }
    }
    Ok(Json(record))
}

#[derive(Deserialize)]
pub struct PageQuery {
    page: Option<u64>,
    per_page: Option<u64>,
}

/// `GET /me/record/access`: who read the member's record in the last 180 days, newest first.
pub async fn own_record_access(
    State(state): State<AppState>,
    user: ApiUser,
    Query(query): Query<PageQuery>,
) -> Result<Json<Value>, AppError> {
    let page = state
        .store
        .own_record_access(
            &user.actor,
            state.clock.now(),
            PageRequest::new(query.page, query.per_page),
        )
        .await?;
    Ok(Json(crate::api::listing::list(&page, |entry| {
        json!({
            "id": entry.id,
            "at": entry.at.rfc3339(),
            "kind": entry.kind.as_str(),
            "by_command_line": entry.from_command_line,
            "account": entry.account_name,
            "display_name": entry.display_name,
            "unit": entry.unit_name,
            "detail": entry.detail,
        })
    })))
}

/// `GET /me/proposals`: the member's proposals, newest first.
pub async fn own_proposals(
    State(state): State<AppState>,
    user: ApiUser,
) -> Result<Json<Value>, AppError> {
    Ok(Json(proposals_json(
        &state.store.own_proposals(&user.actor).await?,
    )))
}

#[derive(Deserialize)]
pub struct Proposal {
    /// Field key -> proposed value (empty or null clears a text field).
    changes: BTreeMap<String, Option<String>>,
}

/// `POST /me/proposals`: proposes changes; one proposal per field that differs.
pub async fn propose(
    State(state): State<AppState>,
    user: ApiUser,
    ApiJson(body): ApiJson<Proposal>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let submitted = body
        .changes
        .into_iter()
        .map(|(key, value)| (key, value.unwrap_or_default()))
        .collect();
    let changes = input::proposed_changes(&submitted).map_err(AppError::Invalid)?;
    let created = state
        .store
        .propose_changes(&user.actor, state.clock.now(), &changes)
        .await?;
    Ok((StatusCode::CREATED, Json(proposals_json(&created))))
}

#[derive(Deserialize)]
pub struct ListQuery {
    status: Option<String>,
    person_id: Option<i64>,
}

/// `GET /proposals?status=pending&person_id=`: proposals about people of the subtree.
pub async fn list(
    State(state): State<AppState>,
    user: ApiUser,
    Query(query): Query<ListQuery>,
) -> Result<Json<Value>, AppError> {
    let status = match query.status.as_deref() {
        None | Some("") => None,
        Some(key) => {
            Some(ProposalStatus::parse(key).ok_or_else(|| bad_query(format!("status={key}")))?)
        }
    };
    let query = ProposalQuery {
        status,
        person_id: query.person_id,
    };
    Ok(Json(proposals_json(
        &state.store.proposals(&user.actor, &query).await?,
    )))
}

pub async fn approve(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
) -> Result<Json<Value>, AppError> {
    let decided = state
        .store
        .decide_proposal(&user.actor, state.clock.now(), id, Decision::Approve)
        .await?;
    Ok(Json(proposal_json(&decided)))
}

#[derive(Deserialize, Default)]
pub struct Rejection {
    #[serde(default)]
    reason: String,
}

pub async fn reject(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<Rejection>,
) -> Result<Json<Value>, AppError> {
    let reason = parse_optional_text(Field::Named("reason"), &body.reason, 500)?;
    let decided = state
        .store
        .decide_proposal(
            &user.actor,
            state.clock.now(),
            id,
            Decision::Reject { reason },
        )
        .await?;
    Ok(Json(proposal_json(&decided)))
}

/// `GET /people/{id}/member`: the member account linked to the person, if any.
pub async fn linked_member(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
) -> Result<Json<Value>, AppError> {
    let username = state.store.linked_member(&user.actor, id).await?;
    Ok(Json(json!({ "username": username })))
}

#[derive(Deserialize)]
pub struct MemberLink {
    #[serde(default)]
    username: String,
}

/// `PUT /people/{id}/member`: links a member account of the subtree to the person.
pub async fn link_member(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<MemberLink>,
) -> Result<Json<Value>, AppError> {
    let username = Username::parse(&body.username)?;
    state
        .store
        .link_member(&user.actor, state.clock.now(), id, &username)
        .await?;
    Ok(Json(json!({ "username": username.as_str() })))
}

/// `DELETE /people/{id}/member`: removes the link.
pub async fn unlink_member(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
) -> Result<StatusCode, AppError> {
    state
        .store
        .unlink_member(&user.actor, state.clock.now(), id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
