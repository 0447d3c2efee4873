//! `/jobs`: the jobs an administrator keeps, newest first, filtered by state; a failed job
//! shows its error and can be retried or dropped.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use tongxin_store::{JobQuery, JobState, JobView, PageRequest};

use crate::AppState;
use crate::error::AppError;
use crate::forms::{CsrfForm, IdPath, Query};
use crate::pages::chrome::{Ctx, Pager, done};
use crate::session::CurrentUser;

#[derive(Template)]
#[template(path = "jobs/index.html")]
struct JobsPage {
    ctx: Ctx,
    jobs: Vec<JobView>,
    pager: Pager,
    /// The state listed, or empty for all.
    state: String,
    states: [JobState; 4],
}

#[derive(Deserialize)]
pub struct JobsQuery {
    #[serde(default)]
    state: String,
    page: Option<u64>,
    per_page: Option<u64>,
}

pub async fn index(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    Query(query): Query<JobsQuery>,
) -> Result<Response, AppError> {
    let filter = JobQuery {
        state: super::state_filter(&query.state),
        kind: None,
    };
    let page = state
        .store
        .jobs(
            &auth.actor,
            &filter,
            PageRequest::new(query.page, query.per_page),
        )
        .await?;
    let shown = filter.state.map(JobState::as_str).unwrap_or_default();
    let pager = Pager::new(&page, "/jobs", &[("state", shown)]);
    let page = JobsPage {
        ctx: ctx.with_section("jobs"),
        jobs: page.items,
        pager,
        state: shown.to_owned(),
        states: JobState::ALL,
    };
    Ok(page.ctx.respond(StatusCode::OK, page.render()?))
}

#[derive(Deserialize)]
pub struct JobAction {
    /// `retry` or `drop`.
    action: String,
}

pub async fn act(
    State(state): State<AppState>,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
    CsrfForm(form): CsrfForm<JobAction>,
) -> Result<Response, AppError> {
    let now = state.clock.now();
    match form.action.as_str() {
        "retry" => {
            state.store.retry_job(&auth.actor, now, id).await?;
            Ok(done("/jobs", "job_retried"))
        }
        "drop" => {
            state.store.drop_job(&auth.actor, now, id).await?;
            Ok(done("/jobs", "job_dropped"))
        }
        other => Err(AppError::Malformed {
            code: "bad_form",
            detail: format!("action={other}"),
        }),
    }
}
