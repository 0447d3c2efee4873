//! `/cases/settings`: what the whole network shares for the direct channel — each case type's
//! handling time and workflow, the official working calendar, the outside departments — read
//! by staff and kept by top administrators (workflows themselves are replaced through the API).

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use chrono::{Datelike, NaiveDate};
use serde::Deserialize;
use tongxin_core::{DayMark, Field, Invalid, Reason, Role};
use tongxin_store::{Actor, CaseTypeView, DepartmentView};

use crate::AppState;
use crate::error::AppError;
use crate::forms::{CsrfForm, IdPath, Pairs};
use crate::pages::chrome::{Ctx, FormErrors, done, form_status, refused};
use crate::session::CurrentUser;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct YearQuery {
    year: Option<i32>,
}

#[derive(Template)]
#[template(path = "cases/settings.html")]
struct SettingsPage {
    ctx: Ctx,
    types: Vec<CaseTypeView>,
    year: i32,
    /// The year's marks, one `2026-10-01 off` per line, as the form edits them.
    marks: String,
    departments: Vec<DepartmentView>,
    can_keep: bool,
    errors: FormErrors,
}

async fn render(
    state: &AppState,
    ctx: Ctx,
    actor: &Actor,
    year: Option<i32>,
    invalid: &[Invalid],
) -> Result<Response, AppError> {
    if !matches!(actor.role(), Role::Admin | Role::Staff | Role::Leader) {
        return Err(AppError::Forbidden);
    }
    let year = year.unwrap_or_else(|| state.config.today(state.clock.now()).year());
    let marks = state
        .store
        .work_calendar(year)
        .await?
        .into_iter()
        .map(|(day, mark)| format!("{day} {}", mark.as_str()))
        .collect::<Vec<_>>()
        .join("\n");
    let page = SettingsPage {
        types: state.store.case_types().await?,
        departments: state.store.departments(actor).await?,
        can_keep: ctx.user.as_ref().is_some_and(|u| u.is_top_admin),
        year,
        marks,
        errors: ctx.errors(invalid),
        ctx: ctx.with_section("cases"),
    };
    Ok(page.ctx.respond(form_status(invalid), page.render()?))
}

pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    Query(query): Query<YearQuery>,
) -> Result<Response, AppError> {
    render(&state, ctx, &auth.actor, query.year, &[]).await
}

/// A type's handling time, in working days; its workflow stays as it is.
pub async fn set_days(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let pairs = Pairs(pairs);
    let kind = state
        .store
        .case_types()
        .await?
        .into_iter()
        .find(|t| t.case_type.as_str() == pairs.get("type"))
        .ok_or(AppError::NotFound)?;
    let Ok(days) = pairs.get("default_days").trim().parse::<u32>() else {
        let invalid = [Invalid::new(
            Field::Named("default_days"),
            Reason::NumberFormat,
        )];
        return render(&state, ctx, &auth.actor, None, &invalid).await;
    };
    let result = state
        .store
        .update_case_type(
            &auth.actor,
            state.clock.now(),
            kind.case_type,
            days,
            &kind.workflow,
        )
        .await;
    match refused(result)? {
        Ok(_) => Ok(done("/cases/settings", "case_type_saved")),
        Err(invalid) => render(&state, ctx, &auth.actor, None, &invalid).await,
    }
}

/// One line per marked day: `2027-02-14 work` (a make-up working day) or `2027-02-16 off`.
fn parse_marks(year: i32, text: &str) -> Result<Vec<(NaiveDate, DayMark)>, Invalid> {
    let field = Field::Named("calendar");
    let mut marks = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let mut parts = line.split_whitespace();
        let day = parts
            .next()
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .ok_or_else(|| Invalid::labelled(field, Reason::DateFormat, line))?;
        let mark = parts
            .next()
            .and_then(DayMark::parse)
            .ok_or_else(|| Invalid::labelled(field, Reason::NotAChoice, line))?;
        if day.year() != year || parts.next().is_some() {
            return Err(Invalid::labelled(field, Reason::OutOfRange, line));
        }
        marks.push((day, mark));
    }
    Ok(marks)
}

pub async fn set_calendar(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let pairs = Pairs(pairs);
    let Ok(year) = pairs.get("year").trim().parse::<i32>() else {
        return Err(AppError::NotFound);
    };
    let marks = match parse_marks(year, pairs.get("marks")) {
        Ok(marks) => marks,
        Err(invalid) => return render(&state, ctx, &auth.actor, Some(year), &[invalid]).await,
    };
    let result = state
        .store
        .set_work_calendar(&auth.actor, state.clock.now(), year, &marks)
        .await;
    match refused(result)? {
        Ok(()) => Ok(done(
            &format!("/cases/settings?year={year}"),
            "calendar_saved",
        )),
        Err(invalid) => render(&state, ctx, &auth.actor, Some(year), &invalid).await,
    }
}

pub async fn add_department(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let pairs = Pairs(pairs);
    let result = state
        .store
        .add_department(&auth.actor, state.clock.now(), pairs.get("name"))
        .await;
    match refused(result)? {
        Ok(_) => Ok(done("/cases/settings", "department_added")),
        Err(invalid) => render(&state, ctx, &auth.actor, None, &invalid).await,
    }
}

pub async fn archive_department(
    State(state): State<AppState>,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
    CsrfForm(_): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    state
        .store
        .archive_department(&auth.actor, state.clock.now(), id)
        .await?;
    Ok(done("/cases/settings", "department_archived"))
}

#[cfg(test)]
mod tests {
    use super::parse_marks;

    #[test]
    fn marks_are_read_line_by_line_and_refused_by_line() {
        let marks = parse_marks(2027, "2027-02-14 work\n\n 2027-02-16 off ");
        assert_eq!(marks.map(|m| m.len()), Ok(2));
        let wrong = parse_marks(2027, "2027-02-14 work\n2026-12-31 off").err();
        assert_eq!(
            wrong.and_then(|w| w.label).as_deref(),
            Some("2026-12-31 off")
        );
        assert!(parse_marks(2027, "2027-02-30 off").is_err());
        assert!(parse_marks(2027, "2027-02-14 holiday").is_err());
    }
}
