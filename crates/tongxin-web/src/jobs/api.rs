//! `/api/v1/jobs`: the jobs an administrator keeps; retrying and dropping a failed one.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use tongxin_store::{JobQuery, JobView, PageRequest};

use crate::AppState;
use crate::error::AppError;
use crate::forms::{IdPath, Query};
use crate::session::ApiUser;

pub(crate) fn job_json(job: &JobView) -> Value {
    json!({
        "id": job.id,
        "kind": job.kind,
        "state": job.state.as_str(),
        "attempts": job.attempts,
        "max_attempts": job.max_attempts,
        "run_at": job.run_at.rfc3339(),
        "created_at": job.created_at.rfc3339(),
        "started_at": job.started_at.map(|t| t.rfc3339()),
        "finished_at": job.finished_at.map(|t| t.rfc3339()),
        "last_error": job.last_error,
    })
}

#[derive(Deserialize)]
pub struct JobsQuery {
    #[serde(default)]
    state: String,
    #[serde(default)]
    kind: String,
    page: Option<u64>,
    per_page: Option<u64>,
}

/// `GET /jobs`: newest first; `?state=queued|running|done|failed`, `?kind=`.
pub async fn list(
    State(state): State<AppState>,
    user: ApiUser,
    Query(query): Query<JobsQuery>,
) -> Result<Json<Value>, AppError> {
    let filter = JobQuery {
        state: super::state_filter(&query.state),
        kind: (!query.kind.is_empty()).then(|| query.kind.clone()),
    };
    let page = state
        .store
        .jobs(
            &user.actor,
            &filter,
            PageRequest::new(query.page, query.per_page),
        )
        .await?;
    Ok(Json(crate::api::listing::list(&page, job_json)))
}

/// `GET /jobs/{id}`: for its administrators, or whoever started it.
pub async fn show(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
) -> Result<Json<Value>, AppError> {
    let job = state.store.job(&user.actor, id).await?;
    Ok(Json(job_json(&job)))
}

/// `POST /jobs/{id}/retry`: a failed job queued again with its attempts renewed.
pub async fn retry(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
) -> Result<Json<Value>, AppError> {
    let job = state
        .store
        .retry_job(&user.actor, state.clock.now(), id)
        .await?;
    Ok(Json(job_json(&job)))
}

/// `DELETE /jobs/{id}`: a failed or queued job dropped.
pub async fn drop_job(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
) -> Result<StatusCode, AppError> {
    state
        .store
        .drop_job(&user.actor, state.clock.now(), id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
