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
            "/materials",
            get(materials::index).post(materials::upload).layer(
                axum::extract::DefaultBodyLimit::max(crate::api::MATERIAL_BODY_BYTES),
            ),
        )
        .route("/materials/{id}", get(materials::show))
        .route("/materials/{id}/file", get(materials::file))
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

/// Static assets, compiled into the binary.
pub async fn static_file(Path(file): Path<String>) -> Result<Response, AppError> {
    let (body, content_type) = match file.as_str() {
        "app.css" => (APP_CSS, "text/css; charset=utf-8"),
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
