//! The member portal's own pages: "me" (their record, calendar, password, sign-out in one
//! place) and "my submissions", which the direct channel will fill.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use tongxin_core::Role;

use super::chrome::Ctx;
use crate::error::AppError;
use crate::session::CurrentUser;

#[derive(Template)]
#[template(path = "portal/me.html")]
struct MePage {
    ctx: Ctx,
    name: String,
    username: String,
    unit_name: String,
}

/// `/me`: who the member is and everything about their account, one tap from the bottom bar.
pub async fn me(ctx: Ctx, CurrentUser(auth): CurrentUser) -> Result<Response, AppError> {
    let actor = &auth.actor;
    if actor.role() != Role::Member {
        return Err(AppError::NotFound);
    }
    let page = MePage {
        name: actor.display_name().to_owned(),
        username: actor.username().to_owned(),
        unit_name: actor.unit_name().to_owned(),
        ctx: ctx.with_section("me"),
    };
    Ok(page.ctx.respond(StatusCode::OK, page.render()?))
}

#[derive(Template)]
#[template(path = "portal/submissions.html")]
struct SubmissionsPage {
    ctx: Ctx,
}

/// `/my-submissions`: says what the direct channel will bring until it lands.
pub async fn my_submissions(
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
) -> Result<Response, AppError> {
    if auth.actor.role() != Role::Member {
        return Err(AppError::NotFound);
    }
    let page = SubmissionsPage {
        ctx: ctx.with_section("my_submissions"),
    };
    Ok(page.ctx.respond(StatusCode::OK, page.render()?))
}
