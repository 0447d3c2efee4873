//! The audit log, for administrators.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use tongxin_store::{AuditEntry, AuditQuery, Page, PageRequest};

use crate::AppState;
use crate::error::AppError;
use crate::forms::{CsrfForm, Query};
use crate::pages::chrome::{Ctx, Pager};
use crate::session::CurrentUser;

#[derive(Deserialize)]
pub struct AuditFilter {
    #[serde(default)]
    action: String,
    #[serde(default)]
    actor: String,
    page: Option<u64>,
    per_page: Option<u64>,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    ctx: Ctx,
    action: String,
    actor: String,
    entries: Page<AuditEntry>,
    pager: Pager,
}

pub async fn index(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    Query(filter): Query<AuditFilter>,
) -> Result<Response, AppError> {
    let query = AuditQuery {
        action: Some(filter.action.clone()),
        actor: Some(filter.actor.clone()),
    };
    let entries = state
        .store
        .audit_log(
            &auth.actor,
            &query,
            PageRequest::new(filter.page, filter.per_page),
        )
        .await?;
    let pager = Pager::new(
        &entries,
        "/audit",
        &[("action", &filter.action), ("actor", &filter.actor)],
    );
    let page = AuditPage {
        ctx: ctx.with_section("audit"),
        pager,
        action: filter.action,
        actor: filter.actor,
        entries,
    };
    Ok(page.ctx.respond(StatusCode::OK, page.render()?))
}

#[derive(Deserialize)]
pub struct ExportForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    actor: String,
}

/// `POST /audit/export`: the rows the filter matches, as CSV; recorded in the log itself.
pub async fn export(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    CsrfForm(form): CsrfForm<ExportForm>,
) -> Result<Response, AppError> {
    let query = AuditQuery {
        action: Some(form.action),
        actor: Some(form.actor),
    };
    let export = state
        .store
        .start_audit_export(&auth.actor, query, state.clock.now())
        .await?;
    Ok(super::export::csv_response(
        state.store.clone(),
        state.catalog.clone(),
        ctx.lang,
        export,
    ))
}
