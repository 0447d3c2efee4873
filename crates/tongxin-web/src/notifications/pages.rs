//! `/notifications`: the inbox, newest first, with unread ones marked; opening one marks it
//! read and follows its link; "mark all read" clears the count in the top bar.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use tongxin_store::{NotificationView, PageRequest};

use crate::AppState;
use crate::error::AppError;
use crate::forms::{CsrfForm, IdPath, Query};
use crate::pages::chrome::{Ctx, Pager, done, see_other};
use crate::session::CurrentUser;

/// One notification as listed.
struct Line {
    id: i64,
    text: String,
    when: String,
    read: bool,
}

#[derive(Template)]
#[template(path = "notifications/index.html")]
struct InboxPage {
    ctx: Ctx,
    lines: Vec<Line>,
    pager: Pager,
    unread: u64,
}

#[derive(Deserialize)]
pub struct InboxQuery {
    page: Option<u64>,
    per_page: Option<u64>,
}

pub async fn index(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    Query(query): Query<InboxQuery>,
) -> Result<Response, AppError> {
    let page = state
        .store
        .notifications(&auth.actor, PageRequest::new(query.page, query.per_page))
        .await?;
    let unread = state.store.unread_notifications(&auth.actor).await?;
    let lines = page
        .items
        .iter()
        .map(|n: &NotificationView| Line {
            id: n.id,
            text: super::notice_text(&state.catalog, ctx.lang, n),
            when: n.updated_at.display_minutes(),
            read: n.read,
        })
        .collect();
    let pager = Pager::new(&page, "/notifications", &[]);
    let page = InboxPage {
        ctx: ctx.with_section("notifications"),
        lines,
        pager,
        unread,
    };
    Ok(page.ctx.respond(StatusCode::OK, page.render()?))
}

#[derive(Deserialize)]
pub struct Empty {}

/// Marks one notification read and goes where it leads (a path of this site).
pub async fn open(
    State(state): State<AppState>,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, AppError> {
    let notice = state
        .store
        .read_notification(&auth.actor, state.clock.now(), id)
        .await?;
    let link = if notice.link.starts_with('/') && !notice.link.starts_with("//") {
        notice.link
    } else {
        "/notifications".to_owned()
    };
    Ok(see_other(&link))
}

pub async fn read_all(
    State(state): State<AppState>,
    CurrentUser(auth): CurrentUser,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, AppError> {
    let n = state
        .store
        .read_all_notifications(&auth.actor, state.clock.now())
        .await?;
    Ok(done("/notifications", &format!("notifications_read:{n}")))
}
