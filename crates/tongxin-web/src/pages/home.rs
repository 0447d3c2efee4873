//! The start page and the areas that later releases add.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use tongxin_core::Role;
use tongxin_store::{AccountQuery, PageRequest, Total, UnitQuery, UnitView};

use super::chrome::{Ctx, see_other};
use crate::AppState;
use crate::error::AppError;
use crate::session::CurrentUser;

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    ctx: Ctx,
    unit: Option<UnitView>,
    units_total: Total,
    accounts_total: Option<Total>,
}

pub async fn home(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
) -> Result<Response, AppError> {
    let actor = &auth.actor;
    if actor.role() == Role::Member {
        // The member portal starts from what awaits the member.
        return Ok(see_other("/my-activities"));
    }
    let (unit, units_total, accounts_total) = {
        let unit = match actor.unit_id() {
            Some(id) => Some(state.store.unit(actor, id).await?),
            None => None,
        };
        let units = state
            .store
            .units(
                actor,
                &UnitQuery::default(),
                PageRequest::new(None, Some(1)),
            )
            .await?;
        let accounts = if actor.role().manages_accounts() {
            let page = PageRequest::new(None, Some(1));
            Some(
                state
                    .store
                    .accounts(actor, &AccountQuery::default(), page)
                    .await?
                    .total,
            )
        } else {
            None
        };
        (unit, units.total, accounts)
    };
    let page = HomePage {
        ctx: ctx.with_section("home"),
        unit,
        units_total,
        accounts_total,
    };
    Ok(page.ctx.respond(StatusCode::OK, page.render()?))
}

/// Navigation areas that exist in the plan but not yet in the product.
const PLANNED: [&str; 3] = ["cases", "tasks", "cockpit"];

#[derive(Template)]
#[template(path = "coming_soon.html")]
struct ComingSoonPage {
    ctx: Ctx,
    title: String,
    description: String,
}

pub async fn coming_soon(
    ctx: Ctx,
    _: CurrentUser,
    Path(section): Path<String>,
) -> Result<Response, AppError> {
    let area = PLANNED
        .into_iter()
        .find(|s| *s == section)
        .ok_or(AppError::NotFound)?;
    let page = ComingSoonPage {
        title: ctx.t(&format!("nav.{area}")).to_owned(),
        description: ctx.t(&format!("soon.{area}")).to_owned(),
        ctx: ctx.with_section(area),
    };
    Ok(page.ctx.respond(StatusCode::OK, page.render()?))
}
