//! Exporting the directory from the pages: a GET shows what will be exported and asks how; the
//! export itself is a POST with the CSRF token, masked unless the account has the right to a
//! clear export and states a purpose.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use tongxin_core::{Field, Invalid, Reason};
use tongxin_store::Protection;

use super::people::{SearchForm, search_query};
use crate::AppState;
use crate::directory::file as directory_file;
use crate::error::AppError;
use crate::forms::CsrfForm;
use crate::pages::chrome::{Ctx, FormErrors, refused};
use crate::session::CurrentUser;

#[derive(Template)]
#[template(path = "people/export.html")]
struct ExportPage {
    ctx: Ctx,
    /// The directory's search, as its query string.
    filter: String,
    may_export_clear: bool,
    fields: ExportForm,
    errors: FormErrors,
}

/// `GET /directory/export?…`: what the current search will export, and how.
pub async fn page(
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let page = ExportPage {
        ctx: ctx.with_section("directory"),
        filter: raw.unwrap_or_default(),
        may_export_clear: auth.actor.may_export_clear(),
        fields: ExportForm::default(),
        errors: FormErrors::default(),
    };
    Ok(page.ctx.respond(StatusCode::OK, page.render()?))
}

#[derive(Deserialize, Default)]
pub struct ExportForm {
    #[serde(default)]
    filter: String,
    /// `xlsx` for a workbook, anything else for CSV.
    #[serde(default)]
    format: String,
    #[serde(default)]
    clear: Option<String>,
    #[serde(default)]
    purpose: String,
}

/// `POST /directory/export`: the download, audited by the store with its filter, row count and
/// purpose.
pub async fn export(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    CsrfForm(form): CsrfForm<ExportForm>,
) -> Result<Response, AppError> {
    let actor = &auth.actor;
    let search: SearchForm =
        serde_urlencoded::from_str(&form.filter).map_err(|e| AppError::Malformed {
            code: "bad_form",
            detail: e.to_string(),
        })?;
    let query = search_query(&state, actor, &search)
        .await?
        .ok_or_else(|| Invalid::new(Field::Unit, Reason::NotFound))?;
    let protection = if form.clear.is_some() {
        Protection::Clear {
            purpose: form.purpose.clone(),
        }
    } else {
        Protection::Masked
    };
    let started = state
        .store
        .start_people_export(actor, query, state.clock.now(), &form.filter, protection)
        .await;
    let invalid = match refused(started)? {
        Ok(export) if form.format == "xlsx" => {
            return directory_file::xlsx_response(&state.store, export, &std::env::temp_dir())
                .await;
        }
        Ok(export) => return Ok(directory_file::csv_response(state.store.clone(), export)),
        Err(invalid) => invalid,
    };
    let page = ExportPage {
        errors: ctx.errors(&invalid),
        ctx: ctx.with_section("directory"),
        filter: form.filter.clone(),
        may_export_clear: actor.may_export_clear(),
        fields: form,
    };
    Ok(page
        .ctx
        .respond(StatusCode::UNPROCESSABLE_ENTITY, page.render()?))
}
