//! Server-rendered pages. Every page template receives a [`Ctx`]: the language, the logged-in
//! user, the CSRF token for its forms, and the navigation section.

pub(crate) use crate::accounts::pages as accounts;
pub(crate) use crate::activities::pages as activities;
mod api_reference;
pub(crate) use crate::accounts::auth_pages as auth;
pub(crate) use crate::activities::calendar_pages as calendar;
pub(crate) use crate::audit::pages as audit;
pub(crate) use crate::campaigns::pages as campaigns;
mod home;
pub(crate) use crate::directory::pages::organizations;
pub(crate) use crate::directory::pages::people;
pub(crate) use crate::directory::pages::proposals;
pub(crate) use crate::directory::pages::sectors;
pub(crate) use crate::materials::pages as materials;
pub(crate) use crate::units::pages as units;

use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use tongxin_core::{Invalid, Role};
use tongxin_store::{Actor, StoreError};

use crate::AppState;
use crate::error::{AppError, invalid_message};
use crate::i18n::{Catalog, Lang};
use crate::session::{Authenticated, CSRF_COOKIE, LANG_COOKIE, cookie};

/// The page routes; the import form accepts files up to `max_import_bytes`.
pub fn routes(max_import_bytes: usize) -> Router<AppState> {
    Router::new()
        .route("/", get(home::home))
        .route("/login", get(auth::login_page).post(auth::login))
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
        .route(
            "/accounts/{id}/reset-password",
            post(accounts::reset_password),
        )
        .route("/audit", get(audit::index))
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
        .route("/directory/export", get(people::export))
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
        .route(
            "/activities/{id}/attendance",
            get(activities::export).post(activities::mark),
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

/// What every page template needs besides its own data.
pub struct Ctx {
    pub lang: Lang,
    catalog: Arc<Catalog>,
    pub user: Option<UserChrome>,
    /// Token every form of the page sends back as `_csrf`.
    pub csrf: String,
    /// Whether `csrf` was minted for this response and must be set as a cookie.
    fresh_csrf: bool,
    /// Mark cookies `Secure` (served over https).
    secure_cookies: bool,
    /// Navigation section to highlight.
    pub section: &'static str,
    /// This page's path and query, to come back to after switching language.
    pub here: String,
}

/// The logged-in user as the page chrome shows them.
pub struct UserChrome {
    pub display_name: String,
    pub unit_name: String,
    pub unit_id: i64,
    pub is_admin: bool,
    /// An administrator of a top unit, who keeps the shared settings.
    pub is_top_admin: bool,
    pub works_in_tree: bool,
}

impl Ctx {
    pub fn t(&self, key: &str) -> &str {
        self.catalog.get(self.lang, key)
    }

    /// The text for `key` with `{n}` replaced.
    pub fn tn(&self, key: &str, n: impl std::fmt::Display) -> String {
        self.catalog
            .format(self.lang, key, &[("n", &n.to_string())])
    }

    /// The text for `key` with `{name}` replaced by `value`.
    pub fn tf(&self, key: &str, name: &str, value: &str) -> String {
        self.catalog.format(self.lang, key, &[(name, value)])
    }

    /// "第 2 / 5 页，共 230 条"
    pub fn pager_label(&self, pager: &Pager) -> String {
        self.catalog.format(
            self.lang,
            "common.pager",
            &[
                ("page", &pager.page.to_string()),
                ("pages", &pager.pages.to_string()),
                ("total", &pager.total.to_string()),
            ],
        )
    }

    pub fn is_admin(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.is_admin)
    }

    pub fn langs(&self) -> [Lang; 2] {
        Lang::ALL
    }

    pub fn role_name(&self, role: &Role) -> &str {
        self.catalog
            .get(self.lang, &format!("role.{}", role.as_str()))
    }

    pub fn role_hint(&self, role: &Role) -> &str {
        self.catalog
            .get(self.lang, &format!("role_hint.{}", role.as_str()))
    }

    /// The audit action in words (`unit.create` -> 新建单位), or the code itself if unnamed.
    pub fn action_name<'a>(&'a self, action: &'a str) -> &'a str {
        self.catalog
            .lookup(self.lang, &format!("action.{}", action.replace('.', "_")))
            .unwrap_or(action)
    }

    /// The label of a field by its key (`field.*`), or the key itself if it has none.
    pub fn field_label(&self, key: &str) -> String {
        self.catalog
            .lookup(self.lang, &format!("field.{key}"))
            .unwrap_or(key)
            .to_owned()
    }

    /// A value from a person's history as shown: genders in words, everything else as stored.
    pub fn history_value(&self, field: &str, value: &str) -> String {
        match (field, tongxin_core::Gender::parse(value)) {
            ("gender", Ok(gender)) => self.gender_name(&gender).to_owned(),
            _ => value.to_owned(),
        }
    }

    pub fn organization_kind(&self, kind: &tongxin_store::OrganizationKind) -> &str {
        self.catalog
            .get(self.lang, &format!("organizations.{}", kind.key()))
    }

    pub fn attendance_name(&self, status: &tongxin_core::Attendance) -> &str {
        self.catalog
            .get(self.lang, &format!("attendance.{}", status.key()))
    }

    pub fn state_name(&self, state: &tongxin_core::ActivityState) -> &str {
        self.catalog
            .get(self.lang, &format!("activity_state.{}", state.key()))
    }

    pub fn gender_name(&self, gender: &tongxin_core::Gender) -> &str {
        self.catalog
            .get(self.lang, &format!("gender.{}", gender.as_str()))
    }

    pub fn level_name(&self, level: &tongxin_core::UnitLevel) -> &str {
        self.catalog
            .get(self.lang, &format!("level.{}", level.key()))
    }

    pub fn with_section(mut self, section: &'static str) -> Self {
        self.section = section;
        self
    }

    /// The messages for a set of refused fields.
    pub fn errors(&self, invalid: &[Invalid]) -> FormErrors {
        FormErrors(
            invalid
                .iter()
                .map(|i| (i.field.key(), invalid_message(&self.catalog, self.lang, i)))
                .collect(),
        )
    }

    /// Renders a page, adding the CSRF cookie if one was minted for it.
    pub fn respond(&self, status: StatusCode, html: String) -> Response {
        let mut response = (status, Html(html)).into_response();
        if self.fresh_csrf {
            let secure = if self.secure_cookies { "; Secure" } else { "" };
            let cookie = format!(
                "{CSRF_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax{secure}",
                self.csrf
            );
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
        }
        response
    }
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let auth = parts.extensions.get::<Authenticated>();
        let (csrf, fresh_csrf) = match (auth, cookie(&parts.headers, CSRF_COOKIE)) {
            (Some(auth), _) => (auth.session.csrf_token.clone(), false),
            (None, Some(token)) if token.len() == 64 => (token.to_owned(), false),
            (None, _) => (tongxin_store::random_hex(), true),
        };
        Ok(Ctx {
            lang: cookie(&parts.headers, LANG_COOKIE)
                .and_then(Lang::from_tag)
                .unwrap_or_default(),
            catalog: state.catalog.clone(),
            user: auth.map(|a| chrome(&a.actor)),
            csrf,
            fresh_csrf,
            secure_cookies: state.config.secure_cookies,
            section: "",
            here: parts
                .uri
                .path_and_query()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_else(|| "/".into()),
        })
    }
}

fn chrome(actor: &Actor) -> UserChrome {
    UserChrome {
        display_name: actor.display_name().to_owned(),
        unit_name: actor.unit_name().to_owned(),
        unit_id: actor.unit_id().unwrap_or_default(),
        is_admin: actor.role().administers(),
        is_top_admin: actor.role().administers() && actor.at_top(),
        works_in_tree: actor.role().works_in_tree(),
    }
}

/// Links to the previous and next page of a list, keeping its filters.
pub struct Pager {
    pub prev: Option<String>,
    pub next: Option<String>,
    pub page: u64,
    pub pages: u64,
    pub total: u64,
}

impl Pager {
    pub fn new<T>(page: &tongxin_store::Page<T>, path: &str, params: &[(&str, &str)]) -> Pager {
        let link = |n: u64| {
            let mut query: Vec<(&str, String)> = params
                .iter()
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| (*k, (*v).to_owned()))
                .collect();
            query.push(("page", n.to_string()));
            format!(
                "{path}?{}",
                serde_urlencoded::to_string(&query).unwrap_or_default()
            )
        };
        let pages = page.pages();
        Pager {
            prev: (page.page > 1).then(|| link(page.page - 1)),
            next: (page.page < pages).then(|| link(page.page + 1)),
            page: page.page,
            pages,
            total: page.total,
        }
    }
}

/// Field-level messages for a refused form, shown next to each field and in a summary on top.
#[derive(Default)]
pub struct FormErrors(Vec<(&'static str, String)>);

impl FormErrors {
    pub fn any(&self) -> bool {
        !self.0.is_empty()
    }

    pub fn all(&self) -> &[(&'static str, String)] {
        &self.0
    }

    /// The message for one field, or the empty string.
    pub fn on(&self, field: &str) -> &str {
        self.0
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
            .unwrap_or("")
    }
}

/// Separates refused input (shown in the form) from every other failure.
pub fn refused<T>(result: Result<T, StoreError>) -> Result<Result<T, Vec<Invalid>>, AppError> {
    match result {
        Ok(value) => Ok(Ok(value)),
        Err(StoreError::Invalid(invalid)) => Ok(Err(vec![invalid])),
        Err(other) => Err(other.into()),
    }
}

/// Whether the actor keeps work records (administrators and staff), to show the forms that
/// change them; the store enforces the same rule.
pub fn can_edit(actor: &Actor) -> bool {
    matches!(actor.role(), Role::Admin | Role::Staff)
}

/// The status of a form page: 422 when it shows refused input, 200 otherwise.
pub fn form_status(invalid: &[Invalid]) -> StatusCode {
    if invalid.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    }
}

/// A 303 to `path`, the answer to a successful form post.
pub fn see_other(path: &str) -> Response {
    axum::response::Redirect::to(path).into_response()
}

/// Percent-encodes a value for a query string.
pub fn encode_query_value(value: &str) -> String {
    serde_urlencoded::to_string([("", value)])
        .map(|s| s.trim_start_matches('=').to_owned())
        .unwrap_or_default()
}

/// A local path to return to after login or a language switch; anything else becomes `/`.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/".to_owned(),
    }
}

pub use calendar::ical;

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
