//! `/api/v1`: the same capabilities as the pages, as JSON with bearer tokens.
//!
//! Lists answer `{"items":[…],"total":N}` and take `?q=&page=&per_page=`; errors are
//! `{"error":{"code","message"}}`. The OpenAPI document describes every route.

pub(crate) mod listing;
pub(crate) use crate::accounts::api as accounts;
pub(crate) use crate::accounts::auth_api as auth;
pub(crate) use crate::activities::api as activities;
pub(crate) use crate::campaigns::api as campaigns;
pub(crate) use crate::cases::api as cases;
pub(crate) use crate::channels::api as channels;
pub(crate) use crate::directory::api::organizations;
pub(crate) use crate::directory::api::people;
pub(crate) use crate::directory::api::proposals;
pub(crate) use crate::directory::api::sectors;
pub(crate) use crate::jobs::api as jobs;
pub(crate) use crate::materials::api as materials;
pub(crate) use crate::notifications::api as notifications;
pub(crate) use crate::units::api as units;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};

use crate::AppState;

/// Largest case file a request may carry: the file limit and room for the request around it.
pub(crate) const CASE_FILE_BYTES: usize =
    (tongxin_core::files::MAX_CASE_FILE_MIB as usize + 1) * 1024 * 1024;

/// The API routes; imports accept files up to `max_import_bytes`.
pub fn routes(max_import_bytes: usize) -> Router<AppState> {
    Router::new()
        .route(
            "/auth/token",
            post(auth::issue_token).delete(auth::revoke_token),
        )
        .route("/me", get(auth::me))
        .route("/me/record", get(proposals::own_record))
        .route("/me/record/access", get(proposals::own_record_access))
        .route("/me/tokens", get(accounts::own_tokens))
        .route(
            "/me/tokens/{token}",
            axum::routing::delete(accounts::revoke_own_token),
        )
        .route(
            "/me/proposals",
            get(proposals::own_proposals).post(proposals::propose),
        )
        .route("/me/notifications", get(notifications::list))
        .route("/me/notifications/read-all", post(notifications::read_all))
        .route("/me/notifications/{id}/read", post(notifications::read))
        .route(
            "/me/preferences",
            get(crate::notifications::settings::get_preferences)
                .put(crate::notifications::settings::put_preferences),
        )
        .route(
            "/me/email/test",
            post(crate::notifications::settings::test_email),
        )
        .route(
            "/units/{id}/channels",
            get(channels::list).post(channels::create),
        )
        .route("/channels/{id}", axum::routing::delete(channels::delete))
        .route("/channels/{id}/test", post(channels::test))
        .route("/cases", get(cases::list).post(cases::create))
        .route("/cases/statistics", get(crate::cases::statistics::api))
        .route("/cases/{id}", get(cases::show))
        .route("/cases/{id}/transitions", post(cases::transition))
        .route("/cases/{id}/replies", post(cases::reply))
        .route(
            "/cases/{id}/files",
            post(cases::add_file).layer(DefaultBodyLimit::max(CASE_FILE_BYTES)),
        )
        .route("/cases/{id}/files/{file}", get(cases::file))
        .route("/cases/{id}/extensions", post(cases::request_extension))
        .route(
            "/cases/{id}/extensions/{request}",
            post(cases::decide_extension),
        )
        .route("/cases/{id}/similar", get(cases::similar))
        .route(
            "/cases/{id}/outcomes",
            post(crate::cases::follow_up::record_outcome),
        )
        .route(
            "/cases/{id}/plan",
            post(crate::cases::follow_up::add_plan_step),
        )
        .route(
            "/cases/{id}/plan/{step}/done",
            post(crate::cases::follow_up::complete_plan_step),
        )
        .route(
            "/cases/{id}/plan/{step}/check",
            post(crate::cases::follow_up::check_plan_step),
        )
        .route(
            "/research-topics",
            get(crate::cases::research::list).post(crate::cases::research::create),
        )
        .route(
            "/research-topics/{id}",
            get(crate::cases::research::show).put(crate::cases::research::update),
        )
        .route(
            "/research-topics/{id}/teams",
            post(crate::cases::research::form_team),
        )
        .route(
            "/research-topics/{id}/teams/{team}/members",
            post(crate::cases::research::join_team),
        )
        .route(
            "/surveys",
            get(crate::surveys::list).post(crate::surveys::create),
        )
        .route("/surveys/{id}", get(crate::surveys::show))
        .route("/surveys/{id}/results", get(crate::surveys::results))
        .route("/surveys/{id}/answers", post(crate::surveys::answer))
        .route("/surveys/{id}/close", post(crate::surveys::close))
        .route("/case-types", get(cases::types))
        .route("/case-types/{code}", axum::routing::put(cases::update_type))
        .route(
            "/calendar/{year}",
            get(cases::calendar).put(cases::set_calendar),
        )
        .route(
            "/departments",
            get(cases::departments).post(cases::add_department),
        )
        .route(
            "/departments/{id}",
            axum::routing::delete(cases::archive_department),
        )
        .route("/jobs", get(jobs::list))
        .route("/jobs/{id}", get(jobs::show).delete(jobs::drop_job))
        .route("/jobs/{id}/retry", post(jobs::retry))
        .route("/proposals", get(proposals::list))
        .route("/proposals/{id}/approve", post(proposals::approve))
        .route("/proposals/{id}/reject", post(proposals::reject))
        .route("/units", get(units::list).post(units::create))
        .route("/units/{id}", get(units::show).patch(units::update))
        .route("/units/{id}/archive", post(units::archive))
        .route("/units/{id}/restore", post(units::restore))
        .route("/accounts", get(accounts::list).post(accounts::create))
        .route("/accounts/{id}", get(accounts::show))
        .route("/accounts/{id}/disable", post(accounts::disable))
        .route("/accounts/{id}/enable", post(accounts::enable))
        .route("/accounts/{id}/role", post(accounts::set_role))
        .route("/accounts/{id}/unlock", post(accounts::unlock))
        .route(
            "/accounts/{id}/second-factor/reset",
            post(accounts::reset_second_factor),
        )
        .route("/accounts/{id}/tokens", get(accounts::account_tokens))
        .route(
            "/accounts/{id}/tokens/{token}",
            axum::routing::delete(accounts::revoke_account_token),
        )
        .route(
            "/accounts/{id}/clear-export",
            post(accounts::set_clear_export),
        )
        .route("/audit", get(accounts::audit))
        .route("/audit/export", post(accounts::audit_export))
        .route("/people", get(people::list).post(people::create))
        .route(
            "/people/import",
            post(people::import).layer(DefaultBodyLimit::max(max_import_bytes)),
        )
        .route("/people/export", post(people::export))
        .route("/people/batch", post(people::batch))
        .route("/people/template", get(people::template))
        .route("/people/{id}", get(people::show).put(people::replace))
        .route("/people/{id}/archive", post(people::archive))
        .route("/people/{id}/restore", post(people::restore))
        .route("/people/{id}/reveal", post(people::reveal))
        .route("/people/{id}/history", get(people::history))
        .route("/people/{id}/duplicates", get(people::duplicates))
        .route("/people/{id}/merge", post(people::merge))
        .route(
            "/people/{id}/member",
            get(proposals::linked_member)
                .put(proposals::link_member)
                .delete(proposals::unlink_member),
        )
        .route(
            "/people/{id}/affiliations",
            get(organizations::person_affiliations).post(organizations::add_affiliation),
        )
        .route(
            "/affiliations/{id}",
            axum::routing::delete(organizations::remove_affiliation),
        )
        .route(
            "/organizations",
            get(organizations::list).post(organizations::create),
        )
        .route(
            "/organizations/{id}",
            get(organizations::show).put(organizations::replace),
        )
        .route("/organizations/{id}/archive", post(organizations::archive))
        .route("/organizations/{id}/restore", post(organizations::restore))
        .route("/sectors", get(sectors::list).post(sectors::create))
        .route("/sectors/{id}", axum::routing::patch(sectors::change))
        .route("/sectors/{id}/fields", post(sectors::create_field))
        .route(
            "/sectors/{id}/fields/{field_id}",
            axum::routing::patch(sectors::change_field),
        )
        .route(
            "/activity-kinds",
            get(activities::kinds).post(activities::create_kind),
        )
        .route(
            "/activity-kinds/{id}",
            axum::routing::patch(activities::change_kind),
        )
        .route(
            "/activities",
            get(activities::list).post(activities::create),
        )
        .route(
            "/activities/{id}",
            get(activities::show).put(activities::replace),
        )
        .route("/activities/{id}/state", post(activities::change_state))
        .route(
            "/activities/{id}/invitations",
            get(activities::invitations).post(activities::invite),
        )
        .route(
            "/activities/{id}/attendance",
            post(activities::mark_attendance),
        )
        .route(
            "/activities/{id}/attendance/export",
            post(activities::export_attendance),
        )
        .route(
            "/activities/{id}/check-in-link",
            post(activities::check_in_link),
        )
        .route(
            "/activities/{id}/check-ins",
            post(activities::staff_check_in),
        )
        .route(
            "/activities/{id}/photos",
            post(activities::add_photo).layer(DefaultBodyLimit::max(PHOTO_BODY_BYTES)),
        )
        .route("/activities/{id}/photos/{photo}", get(activities::photo))
        .route("/check-in", post(activities::member_check_in))
        .route(
            "/saved-filters",
            get(activities::saved_filters).post(activities::save_filter),
        )
        .route(
            "/saved-filters/{id}",
            axum::routing::delete(activities::delete_filter),
        )
        .route("/me/activities", get(activities::mine))
        .route("/me/activities/{id}/answer", post(activities::answer))
        .route("/campaigns", get(campaigns::list).post(campaigns::create))
        .route(
            "/campaigns/{id}",
            get(campaigns::show).put(campaigns::replace),
        )
        .route("/campaigns/{id}/archive", post(campaigns::archive))
        .route("/campaigns/{id}/restore", post(campaigns::restore))
        .route("/campaigns/{id}/coverage", get(campaigns::coverage))
        .route("/campaigns/{id}/unreached", get(campaigns::unreached))
        .route(
            "/campaigns/{id}/unreached/export",
            post(campaigns::export_unreached),
        )
        .route("/campaigns/{id}/next-batch", post(campaigns::next_batch))
        .route(
            "/materials",
            get(materials::list)
                .post(materials::upload)
                .layer(DefaultBodyLimit::max(MATERIAL_BODY_BYTES)),
        )
        .route("/materials/{id}", get(materials::show))
        .route("/materials/{id}/file", get(materials::file))
        .route("/openapi.json", get(openapi))
}

/// Request bodies of photo uploads may exceed the photo limit a little, so that the store, not
/// the transport, refuses an oversized photo with its clear message.
pub const PHOTO_BODY_BYTES: usize = (tongxin_core::files::MAX_PHOTO_MIB as usize + 1) * 1024 * 1024;

/// Likewise for study materials.
pub const MATERIAL_BODY_BYTES: usize = (tongxin_store::MAX_MATERIAL_MIB as usize + 1) * 1024 * 1024;

/// The API document, written alongside the handlers and held to them by the contract test.
pub(crate) const OPENAPI: &str = include_str!("../../openapi.json");

async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI)
}

#[cfg(test)]
mod tests {
    /// The OpenAPI document is valid JSON and documents every route the API serves.
    #[test]
    fn openapi_lists_every_route() {
        let doc: serde_json::Value =
            serde_json::from_str(super::OPENAPI).unwrap_or_else(|e| panic!("openapi.json: {e}"));
        let source = include_str!("mod.rs");
        // The first string after each `.route(` is the path, however the call is wrapped.
        let paths: Vec<&str> = source
            .split(".route(")
            .skip(1)
            .filter_map(|call| call.split('"').nth(1))
            .filter(|path| path.starts_with('/'))
            .collect();
        assert!(paths.len() > 20, "{paths:?}");
        for path in paths {
            assert!(
                doc["paths"].get(format!("/api/v1{path}")).is_some(),
                "openapi.json lacks /api/v1{path}"
            );
        }
    }
}
