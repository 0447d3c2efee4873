//! The member portal's own page "me": their record, calendar, password and sign-out in one
//! place. Their submissions are the direct channel's (`crate::cases::portal`).

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
