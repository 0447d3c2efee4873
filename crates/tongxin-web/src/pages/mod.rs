//! Server-rendered pages. Every page template receives a [`Ctx`]: the language, the logged-in
//! user, the CSRF token for its forms, and the navigation section.

pub(crate) use crate::accounts::pages as accounts;
pub(crate) use crate::activities::pages as activities;
mod api_reference;
pub(crate) mod chrome;
pub(crate) use crate::accounts::auth_pages as auth;
pub(crate) use crate::accounts::second_factor;
pub(crate) use crate::activities::calendar_pages as calendar;
pub(crate) use crate::audit::pages as audit;
pub(crate) use crate::campaigns::pages as campaigns;
mod home;
mod portal;
mod search;
pub(crate) use crate::directory::pages::batch;
pub(crate) use crate::directory::pages::export;
pub(crate) use crate::directory::pages::organizations;
pub(crate) use crate::directory::pages::people;
pub(crate) use crate::directory::pages::proposals;
pub(crate) use crate::directory::pages::sectors;
pub(crate) use crate::materials::pages as materials;
pub(crate) use crate::units::pages as units;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::AppState;
use crate::error::AppError;

/// The page routes; the import form accepts files up to `max_import_bytes`.
pub fn routes(max_import_bytes: usize) -> Router<AppState> {
    Router::new()
        .route("/", get(home::home))
        .route("/login", get(auth::login_page).post(auth::login))
        .route(
            "/login/code",
            get(second_factor::code_page).post(second_factor::submit_code),
        )
        .route("/two-factor", get(second_factor::own_page))
        .route("/two-factor/confirm", post(second_factor::confirm))
        .route(
            "/two-factor/recovery-codes",
            post(second_factor::renew_recovery_codes),
        )
        .route("/api-reference", get(api_reference::page))
        .route("/logout", post(auth::logout))
        .route("/lang", post(auth::switch_lang))
        .route(
            "/password",
            get(auth::password_page).post(auth::change_password),
        )
        .route("/units", get(units::index))
        .route("/units/choices", get(units::choices))
        .route("/scope", get(units::scope_page).post(units::set_scope))
        .route("/search", get(search::search))
        .route("/units/{id}", get(units::show))
        .route("/units/{id}/new", get(units::new_page).post(units::create))
        .route(
            "/units/{id}/edit",
            get(units::edit_page).post(units::rename),
        )
        .route(
            "/units/{id}/move",
            get(units::move_page).post(units::move_unit),
        )
        .route(
            "/units/{id}/archive",
            get(units::archive_page).post(units::archive),
        )
        .route("/units/{id}/restore", post(units::restore))
        .route("/accounts", get(accounts::index))
        .route(
            "/accounts/new",
            get(accounts::new_page).post(accounts::create),
        )
        .route("/accounts/{id}", get(accounts::show))
        .route("/accounts/{id}/disable", post(accounts::disable))
        .route("/accounts/{id}/enable", post(accounts::enable))
        .route("/accounts/{id}/role", post(accounts::set_role))
        .route("/accounts/{id}/unlock", post(accounts::unlock))
        .route(
            "/accounts/{id}/two-factor/reset",
            post(second_factor::reset),
        )
        .route(
            "/accounts/{id}/tokens/{token}/revoke",
            post(accounts::revoke_token),
        )
        .route(
            "/accounts/{id}/clear-export",
            post(accounts::set_clear_export),
        )
        .route(
            "/accounts/{id}/reset-password",
            post(accounts::reset_password),
        )
        .route("/audit", get(audit::index))
        .route("/audit/export", post(audit::export))
        .route("/sectors", get(sectors::index).post(sectors::create))
        .route("/sectors/fields", post(sectors::set_field))
        .route("/sectors/{id}", get(sectors::show).post(sectors::change))
        .route("/sectors/{id}/fields", post(sectors::create_field))
        .route(
            "/sectors/{id}/fields/{field_id}",
            post(sectors::change_field),
        )
        .route(
            "/organizations",
            get(organizations::index).post(organizations::create),
        )
        .route("/organizations/{id}", get(organizations::show))
        .route("/directory", get(people::index))
        .route("/directory/export", get(export::page).post(export::export))
        .route("/directory/batch", post(batch::batch))
        .route("/directory/template", get(people::template))
        .route(
            "/directory/import",
            get(people::import_page)
                .post(people::import)
                .layer(axum::extract::DefaultBodyLimit::max(max_import_bytes)),
        )
        .route("/directory/import/{job}", get(people::import_job))
        .route("/people/new", get(people::new_page).post(people::create))
        .route("/people/{id}", get(people::show))
        .route(
            "/people/{id}/edit",
            get(people::edit_page).post(people::update),
        )
        .route("/people/{id}/reveal", post(people::reveal))
        .route("/people/{id}/compare/{other}", get(people::compare))
        .route("/people/{id}/merge", post(people::merge))
        .route("/people/{id}/member", post(proposals::link_member))
        .route("/proposals", get(proposals::index))
        .route("/proposals/{id}", post(proposals::decide))
        .route(
            "/my-record",
            get(proposals::my_record).post(proposals::propose),
        )
        .route("/my-record/access", get(proposals::record_access))
        .route("/people/{id}/archive", post(people::archive))
        .route("/people/{id}/restore", post(people::restore))
        .route("/activities", get(activities::index))
        .route(
            "/activities/new",
            get(activities::new_page).post(activities::create),
        )
        .route("/activities/calendar", get(calendar::calendar))
        .route("/activities/{id}", get(activities::show))
        .route(
            "/activities/{id}/edit",
            get(activities::edit_page).post(activities::update),
        )
        .route("/activities/{id}/state", post(activities::change_state))
        .route("/activities/{id}/invitations", post(activities::invite))
        .route("/activities/{id}/attendance", post(activities::mark))
        .route(
            "/activities/{id}/attendance/export",
            post(activities::export),
        )
        .route(
            "/activities/{id}/photos",
            post(activities::add_photo).layer(axum::extract::DefaultBodyLimit::max(
                crate::api::PHOTO_BODY_BYTES,
            )),
        )
        .route("/activities/{id}/photos/{photo}", get(activities::photo))
        .route(
            "/activities/{id}/check-in",
            get(activities::check_in_screen),
        )
        .route(
            "/activities/{id}/check-in/staff",
            get(activities::check_in_staff).post(activities::check_in_staff_post),
        )
        .route(
            "/check-in",
            get(activities::member_check_in_page).post(activities::member_check_in),
        )
        .route("/my-activities", get(activities::mine))
        .route(
            "/my-submissions",
            get(crate::cases::portal::index)
                .post(crate::cases::portal::create)
                .layer(axum::extract::DefaultBodyLimit::max(
                    crate::api::CASE_FILE_BYTES,
                )),
        )
        .route("/my-submissions/new", get(crate::cases::portal::new_page))
        .route(
            "/my-submissions/{id}",
            get(crate::cases::portal::show).post(crate::cases::portal::act),
        )
        .route(
            "/cases",
            get(crate::cases::pages::index).post(crate::cases::pages::create),
        )
        .route("/cases/new", get(crate::cases::pages::new_page))
        .route("/cases/statistics", get(crate::cases::statistics::page))
        .route("/cases/settings", get(crate::cases::settings::page))
        .route(
            "/cases/settings/types",
            post(crate::cases::settings::set_days),
        )
        .route(
            "/cases/settings/calendar",
            post(crate::cases::settings::set_calendar),
        )
        .route(
            "/cases/settings/departments",
            post(crate::cases::settings::add_department),
        )
        .route(
            "/cases/settings/departments/{id}/archive",
            post(crate::cases::settings::archive_department),
        )
        .route(
            "/research-topics",
            get(crate::cases::research::index).post(crate::cases::research::publish),
        )
        .route("/research-topics/{id}", get(crate::cases::research::page))
        .route("/my-research", get(crate::cases::research::mine))
        .route(
            "/surveys",
            get(crate::surveys::index).post(crate::surveys::publish),
        )
        .route("/surveys/{id}", get(crate::surveys::page))
        .route("/surveys/{id}/close", post(crate::surveys::close_form))
        .route("/surveys/{id}/export", get(crate::surveys::export))
        .route("/my-surveys", get(crate::surveys::mine))
        .route(
            "/my-surveys/{id}",
            get(crate::surveys::answer_page).post(crate::surveys::answer_form),
        )
        .route("/my-research/{id}", post(crate::cases::research::sign_up))
        .route(
            "/cases/statistics/export",
            get(crate::cases::statistics::export),
        )
        .route("/cases/{id}", get(crate::cases::pages::show))
        .route("/cases/{id}/act", post(crate::cases::pages::act))
        .route("/cases/{id}/write", post(crate::cases::pages::write))
        .route(
            "/cases/{id}/files",
            post(crate::cases::pages::add_file).layer(axum::extract::DefaultBodyLimit::max(
                crate::api::CASE_FILE_BYTES,
            )),
        )
        .route("/cases/{id}/files/{file}", get(crate::cases::pages::file))
        .route(
            "/cases/{id}/extensions",
            post(crate::cases::pages::request_extension),
        )
        .route(
            "/cases/{id}/extensions/{request}",
            post(crate::cases::pages::decide_extension),
        )
        .route(
            "/cases/{id}/outcomes",
            post(crate::cases::follow_up::record_outcome_form),
        )
        .route(
            "/cases/{id}/plan",
            post(crate::cases::follow_up::add_plan_step_form),
        )
        .route(
            "/cases/{id}/plan/{step}/done",
            post(crate::cases::follow_up::complete_plan_step_form),
        )
        .route(
            "/cases/{id}/plan/{step}/check",
            post(crate::cases::follow_up::check_plan_step_form),
        )
        .route("/me", get(portal::me))
        .route("/my-activities/{id}", post(activities::answer))
        .route(
            "/activity-kinds",
            get(activities::kinds).post(activities::create_kind),
        )
        .route("/activity-kinds/{id}", post(activities::change_kind))
        .route("/campaigns", get(campaigns::index).post(campaigns::create))
        .route("/campaigns/{id}", get(campaigns::show))
        .route(
            "/campaigns/{id}/edit",
            get(campaigns::edit_page).post(campaigns::update),
        )
        .route("/campaigns/{id}/archived", post(campaigns::set_archived))
        .route("/campaigns/{id}/next-batch", post(campaigns::next_batch))
        .route(
            "/campaigns/{id}/unreached/export",
            post(campaigns::export_unreached),
        )
        .route(
            "/materials",
            get(materials::index).post(materials::upload).layer(
                axum::extract::DefaultBodyLimit::max(crate::api::MATERIAL_BODY_BYTES),
            ),
        )
        .route("/materials/{id}", get(materials::show))
        .route("/materials/{id}/file", get(materials::file))
        .route("/notifications", get(crate::notifications::pages::index))
        .route(
            "/notifications/read-all",
            post(crate::notifications::pages::read_all),
        )
        .route(
            "/notifications/{id}/open",
            post(crate::notifications::pages::open),
        )
        .route(
            "/settings/notifications",
            get(crate::notifications::settings::page).post(crate::notifications::settings::submit),
        )
        .route(
            "/units/{id}/channels",
            get(crate::channels::pages::index).post(crate::channels::pages::create),
        )
        .route("/channels/{id}", post(crate::channels::pages::act))
        .route("/jobs", get(crate::jobs::pages::index))
        .route("/jobs/{id}", post(crate::jobs::pages::act))
        .route("/calendar", get(calendar::feed_page))
        .route("/calendar/reset", post(calendar::reset_feed))
        .route("/{section}", get(home::coming_soon))
}

pub async fn healthz() -> &'static str {
    "ok"
}

pub async fn readyz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => "ready".into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "database not reachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
        }
    }
}

const APP_CSS: &str = include_str!("../../static/app.css");
const UNIT_PICKER_JS: &str = include_str!("../../static/unit-picker.js");

/// Static assets, compiled into the binary.
pub async fn static_file(Path(file): Path<String>) -> Result<Response, AppError> {
    let (body, content_type) = match file.as_str() {
        "app.css" => (APP_CSS, "text/css; charset=utf-8"),
        "unit-picker.js" => (UNIT_PICKER_JS, "text/javascript; charset=utf-8"),
        _ => return Err(AppError::NotFound),
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::APP_CSS;

    /// A colour's relative luminance (WCAG 2.1).
    fn luminance(hex: &str) -> f64 {
        let channel = |i: usize| {
            let c = f64::from(u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or(0)) / 255.0;
            if c <= 0.04045 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * channel(0) + 0.7152 * channel(2) + 0.0722 * channel(4)
    }

    fn contrast(a: &str, b: &str) -> f64 {
        let (a, b) = (luminance(a), luminance(b));
        (a.max(b) + 0.05) / (a.min(b) + 0.05)
    }

    /// The value of a custom property, as six hex digits.
    fn variable(name: &str) -> String {
        APP_CSS
            .split(&format!("{name}: #"))
            .nth(1)
            .map(|rest| rest[..6].to_owned())
            .unwrap_or_else(|| panic!("no {name}"))
    }

    /// The focus ring stands at 3:1 or more against every background the stylesheet paints
    /// (WCAG 2.1 1.4.11): one of its two tones does, and the tones against each other.
    #[test]
    fn the_focus_ring_shows_on_every_background() {
        let (focus, edge) = (variable("--focus"), variable("--focus-edge"));
        assert!(contrast(&focus, &edge) >= 3.0);
        let mut backgrounds: Vec<String> = APP_CSS
            .split("background: ")
            .skip(1)
            .filter_map(|rest| {
                let value = rest.split([';', ' ', '}']).next()?;
                match value.strip_prefix('#') {
                    Some(hex) if hex.len() == 6 => Some(hex.to_owned()),
                    Some(hex) if hex.len() == 3 => Some(hex.chars().flat_map(|c| [c, c]).collect()),
                    _ => value
                        .strip_prefix("var(")
                        .and_then(|v| v.strip_suffix(')'))
                        .map(variable),
                }
            })
            .collect();
        backgrounds.push("ffffff".to_owned());
        assert!(backgrounds.len() > 10, "{backgrounds:?}");
        for background in backgrounds {
            let best = contrast(&focus, &background).max(contrast(&edge, &background));
            assert!(best >= 3.0, "#{background}: {best:.1}:1");
        }
    }
}
