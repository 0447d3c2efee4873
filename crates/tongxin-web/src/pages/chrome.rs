//! What every page shares: the context a template receives (language, user, CSRF token,
//! navigation), pagination, form errors, and the small helpers of form handling.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use tongxin_core::{Invalid, Role};
use tongxin_store::{Actor, Page, PageRequest, StoreError, UnitView};

use crate::AppState;
use crate::error::AppError;
use crate::session::{Authenticated, CSRF_COOKIE, LANG_COOKIE, SCOPE_COOKIE, cookie};
use tongxin_i18n::{Catalog, Lang, invalid_message};

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
    /// The unit lists start from, when the user chose one below their own.
    pub scope: Option<UnitView>,
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
    pub manages_accounts: bool,
    pub reads_audit: bool,
    pub is_member: bool,
    /// Unread notifications (counted up to 100).
    pub unread: u64,
}

impl Ctx {
    pub fn t(&self, key: &str) -> &str {
        self.catalog.get(self.lang, key)
    }

    /// The name of a case workflow state (an administrator's own state shows its code).
    pub fn case_state(&self, code: &str) -> String {
        crate::cases::state_label(&self.catalog, self.lang, code)
    }

    /// The name of a case workflow step, as [`Ctx::case_state`].
    pub fn case_action(&self, code: &str) -> String {
        crate::cases::action_label(&self.catalog, self.lang, code)
    }

    /// The name of a case type.
    pub fn case_type(&self, case_type: &tongxin_core::CaseType) -> &str {
        self.t(&format!("case_type.{}", case_type.as_str()))
    }

    /// The name of a case category.
    pub fn case_category(&self, category: &str) -> &str {
        self.t(&format!("case_category.{category}"))
    }

    /// The name of a satisfaction rating (`satisfied`, …).
    pub fn satisfaction(&self, code: &str) -> &str {
        self.t(&format!("satisfaction.{code}"))
    }

    /// The text for `key` with `{n}` replaced.
    pub fn tn(&self, key: &str, n: impl std::fmt::Display) -> String {
        self.catalog
            .format(self.lang, key, &[("n", &n.to_string())])
    }

    /// The text for `key` with each `{name}` replaced by its value.
    pub fn tv(&self, key: &str, values: &[(&str, &str)]) -> String {
        self.catalog.format(self.lang, key, values)
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
                ("pages", &pager.pages),
                ("total", &pager.total.to_string()),
            ],
        )
    }

    /// The confirmation of the change that redirected here (`?done=unit_created` shows
    /// `done.unit_created`; `?done=people_tagged:3` puts 3 for its `{n}`); a value without
    /// words shows nothing.
    pub fn done_message(&self) -> Option<String> {
        let query = self.here.split_once('?')?.1;
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).ok()?;
        let (_, done) = pairs.iter().find(|(key, _)| key == "done")?;
        let (what, n) = done.split_once(':').unwrap_or((done, ""));
        let key = format!("done.{what}");
        self.catalog.lookup(self.lang, &key)?;
        Some(self.catalog.format(self.lang, &key, &[("n", n)]))
    }

    pub fn is_admin(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.is_admin)
    }

    pub fn manages_accounts(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.manages_accounts)
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

    /// What a reader did with a person's record, as the person reads it.
    pub fn access_what(&self, entry: &tongxin_store::AccessEntry) -> String {
        use tongxin_store::AccessKind;
        let detail = entry.detail.as_deref().unwrap_or_default();
        match entry.kind {
            AccessKind::View => self.t("my_record.access_view").to_owned(),
            AccessKind::Reveal => self.tf(
                "my_record.access_reveal",
                "field",
                &self.field_label(detail),
            ),
            AccessKind::Export => self.t("my_record.access_export").to_owned(),
            AccessKind::ExportClear => self.tf("my_record.access_export_clear", "purpose", detail),
        }
    }

    /// The label of a field by its key (`field.*`), or the key itself if it has none.
    pub fn field_label(&self, key: &str) -> String {
        self.catalog
            .lookup(self.lang, &format!("field.{key}"))
            .unwrap_or(key)
            .to_owned()
    }

    /// A value from a person's history as shown: genders and the record's status in words,
    /// everything else as stored.
    pub fn history_value(&self, field: &str, value: &str) -> String {
        match (field, tongxin_core::Gender::parse(value)) {
            ("gender", Ok(gender)) => self.gender_name(&gender).to_owned(),
            ("status", _) if matches!(value, "active" | "archived") => {
                self.t(&format!("people.{value}")).to_owned()
            }
            _ => value.to_owned(),
        }
    }

    /// An audit row's detail as labelled values in the reader's language ("条数：12；原因：…"),
    /// not the JSON the chain keeps (exports keep the JSON).
    pub fn audit_detail(&self, detail: &str) -> String {
        match serde_json::from_str::<serde_json::Value>(detail) {
            Ok(serde_json::Value::Object(map)) => map
                .iter()
                .map(|(key, value)| {
                    format!(
                        "{}{}{}",
                        self.detail_label(key),
                        self.t("common.colon"),
                        self.detail_value(value)
                    )
                })
                .collect::<Vec<_>>()
                .join(self.t("common.clause_separator")),
            Ok(serde_json::Value::Null) => String::new(),
            Ok(other) => self.detail_value(&other),
            Err(_) => detail.to_owned(),
        }
    }

    fn detail_label(&self, key: &str) -> String {
        self.catalog
            .lookup(self.lang, &format!("audit_detail.{key}"))
            .or_else(|| self.catalog.lookup(self.lang, &format!("field.{key}")))
            .unwrap_or(key)
            .to_owned()
    }

    fn detail_value(&self, value: &serde_json::Value) -> String {
        use serde_json::Value;
        match value {
            Value::Null => "—".to_owned(),
            Value::Bool(yes) => self
                .t(if *yes { "common.yes" } else { "common.no" })
                .to_owned(),
            Value::Number(n) => n.to_string(),
            Value::String(s) => s.clone(),
            Value::Array(items) => items
                .iter()
                .map(|v| self.detail_value(v))
                .collect::<Vec<_>>()
                .join(self.t("common.list_separator")),
            Value::Object(_) => format!("({})", self.audit_detail(&value.to_string())),
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
        // A starting unit outside the user's subtree (or gone) is simply not applied.
        let scope = match (auth, cookie(&parts.headers, SCOPE_COOKIE)) {
            (Some(auth), Some(code)) if auth.actor.role().works_in_tree() => state
                .store
                .unit_by_code(&auth.actor, code)
                .await
                .ok()
                .filter(|u| Some(u.id) != auth.actor.unit_id()),
            _ => None,
        };
        Ok(Ctx {
            scope,
            lang: cookie(&parts.headers, LANG_COOKIE)
                .and_then(Lang::from_tag)
                .unwrap_or_default(),
            catalog: state.catalog.clone(),
            user: match auth {
                Some(a) => Some(UserChrome {
                    unread: state.store.unread_notifications(&a.actor).await?,
                    ..chrome(&a.actor)
                }),
                None => None,
            },
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
        manages_accounts: actor.role().manages_accounts(),
        reads_audit: actor.role().reads_audit(),
        is_member: actor.role() == Role::Member,
        unread: 0,
    }
}

/// The pagination under a list: previous and next, numbered pages around the current one
/// (first and last too when the total is known), a page size and "go to page", all keeping
/// the list's filters.
pub struct Pager {
    pub prev: Option<String>,
    pub next: Option<String>,
    pub page: u64,
    /// "12", or "200+" when the total is capped.
    pub pages: String,
    pub total: tongxin_store::Total,
    /// Numbered links in order; `None` marks a gap.
    pub numbers: Vec<Option<(u64, String)>>,
    pub path: String,
    /// The list's filters, for the size and go-to forms' hidden fields.
    pub kept: Vec<(String, String)>,
    pub per_page: u64,
    /// The highest page "go to page" accepts.
    pub last: u64,
}

/// The page sizes a list offers.
pub const PAGE_SIZES: [u64; 4] = [20, 50, 100, 200];

/// Pages shown on each side of the current one.
const AROUND: u64 = 2;

impl Pager {
    pub fn new<T>(page: &tongxin_store::Page<T>, path: &str, params: &[(&str, &str)]) -> Pager {
        let kept: Vec<(String, String)> = params
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let mut in_links = kept.clone();
        if page.per_page != PageRequest::DEFAULT_PER_PAGE {
            in_links.push(("per_page".to_owned(), page.per_page.to_string()));
        }
        let link = |n: u64| {
            let mut query = in_links.clone();
            query.push(("page".to_owned(), n.to_string()));
            format!(
                "{path}?{}",
                serde_urlencoded::to_string(&query).unwrap_or_default()
            )
        };
        let pages = page.pages();
        // Deep pages are read by walking past every row before them: links stop where a
        // capped count would (the export is the way through a whole large list).
        let reachable = (tongxin_store::COUNT_CAP / page.per_page.max(1)).max(1);
        let last = pages.clamp(1, reachable);
        let beyond = pages > reachable || page.total.capped;
        let current = page.page;
        let mut numbers = Vec::new();
        let from = current.saturating_sub(AROUND).max(1);
        let to = (current + AROUND).min(last);
        if from > 1 {
            numbers.push(Some((1, link(1))));
            if from > 2 {
                numbers.push(None);
            }
        }
        for n in from..=to {
            numbers.push(Some((n, link(n))));
        }
        if to < last {
            if to + 1 < last || beyond {
                numbers.push(None);
            }
            if !beyond {
                numbers.push(Some((last, link(last))));
            }
        }
        Pager {
            prev: (current > 1).then(|| link(current - 1)),
            next: page.has_next().then(|| link(current + 1)),
            page: current,
            pages: if page.total.capped {
                format!("{pages}+")
            } else {
                pages.to_string()
            },
            total: page.total,
            numbers,
            path: path.to_owned(),
            kept,
            per_page: page.per_page,
            last,
        }
    }

    pub fn sizes(&self) -> [u64; 4] {
        PAGE_SIZES
    }

    /// Whether there is more than one page to move between.
    pub fn several(&self) -> bool {
        self.last > 1 || self.total.capped
    }
}

/// A column header that sorts its list: a link to the list in this column's order, or in the
/// other direction when the list is in it already, keeping the filters and going back to the
/// first page. Sort keys are a column's name, `-` in front for the descending order.
pub struct SortHeader {
    pub href: String,
    /// `ascending`, `descending` or `none`, for the header's `aria-sort`.
    pub aria_sort: &'static str,
    /// ↑ or ↓ beside the list's sorting column; empty beside the others.
    pub arrow: &'static str,
}

impl SortHeader {
    /// The header of column `key` of the list at `path` with `params`, now sorted by `current`.
    pub fn new(path: &str, params: &[(&str, &str)], current: &str, key: &str) -> SortHeader {
        let descending = format!("-{key}");
        let (aria_sort, arrow, next) = if current == key {
            ("ascending", "↑", descending.as_str())
        } else if current == descending {
            ("descending", "↓", key)
        } else {
            ("none", "", key)
        };
        let mut query: Vec<(&str, &str)> = params
            .iter()
            .copied()
            .filter(|(k, v)| !v.is_empty() && *k != "sort")
            .collect();
        query.push(("sort", next));
        SortHeader {
            href: format!(
                "{path}?{}",
                serde_urlencoded::to_string(&query).unwrap_or_default()
            ),
            aria_sort,
            arrow,
        }
    }
}

/// Which way a list with one sortable column runs: its `natural` order (`name` for A to Z,
/// `-starts_at` for the latest first), or the opposite when its `sort` parameter names that;
/// anything else leaves it as it is.
pub struct ListOrder {
    natural: &'static str,
    /// The `sort` parameter that keeps the order in links: empty for the natural one.
    pub param: String,
}

impl ListOrder {
    pub fn of(sort: &str, natural: &'static str) -> ListOrder {
        let opposite = match natural.strip_prefix('-') {
            Some(key) => key.to_owned(),
            None => format!("-{natural}"),
        };
        ListOrder {
            natural,
            param: if sort == opposite {
                opposite
            } else {
                String::new()
            },
        }
    }

    pub fn reversed(&self) -> bool {
        !self.param.is_empty()
    }

    /// The column's header for the list at `path`, whose links keep `params` (with
    /// `("sort", &self.param)` among them).
    pub fn header(&self, path: &str, params: &[(&str, &str)]) -> SortHeader {
        let current = if self.reversed() {
            &self.param
        } else {
            self.natural
        };
        SortHeader::new(path, params, current, self.natural.trim_start_matches('-'))
    }
}

/// The query of a list page with a search box, one sortable column and pages.
#[derive(serde::Deserialize, Default)]
pub struct ListForm {
    #[serde(default)]
    pub q: String,
    /// `key` or `-key` of the sortable column; anything else is the list's natural order.
    #[serde(default)]
    pub sort: String,
    pub page: Option<u64>,
    pub per_page: Option<u64>,
}

impl ListForm {
    pub fn page(&self) -> PageRequest {
        PageRequest::new(self.page, self.per_page)
    }

    /// Which way the list runs, given its `natural` order.
    pub fn order(&self, natural: &'static str) -> ListOrder {
        ListOrder::of(&self.sort, natural)
    }

    /// The pager and the sorting header for the list at `path` running in `order`.
    pub fn tools<T>(
        &self,
        results: &Page<T>,
        path: &str,
        order: &ListOrder,
    ) -> (Pager, SortHeader) {
        let params = [("q", self.q.as_str()), ("sort", order.param.as_str())];
        (
            Pager::new(results, path, &params),
            order.header(path, &params),
        )
    }
}

/// Field-level messages for a refused form, shown next to each field and in a summary on top.
#[derive(Default)]
pub struct FormErrors(Vec<(&'static str, String)>);

impl FormErrors {
    /// The same messages in the order the form shows its fields (`order`), so the summary
    /// reads top to bottom; fields not named keep their place after them.
    pub fn in_order(mut self, order: &[&str]) -> FormErrors {
        self.0
            .sort_by_key(|(field, _)| order.iter().position(|f| f == field).unwrap_or(order.len()));
        self
    }

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

/// Back to `path` after a change, saying what was done (`done.{what}` in the catalogue).
pub fn done(path: &str, what: &str) -> Response {
    let joint = if path.contains('?') { '&' } else { '?' };
    see_other(&format!("{path}{joint}done={what}"))
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
/// Only a strict set of characters passes: browsers drop tabs and line breaks and read `\\` as
/// `/`, so `/\t/evil.example` would otherwise leave for another site.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if is_local_path(n) => percent_encode_non_ascii(n),
        _ => "/".to_owned(),
    }
}

/// A header value is ASCII: characters beyond it travel as their UTF-8 bytes, percent-encoded.
fn percent_encode_non_ascii(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for byte in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{byte:02X}"));
            }
        }
    }
    out
}

fn is_local_path(path: &str) -> bool {
    let allowed = |c: char| {
        c.is_ascii_alphanumeric()
            || "/-._~?=&%+:@!$'()*,;#".contains(c)
            || (!c.is_ascii() && c.is_alphanumeric())
    };
    path.starts_with('/') && !path.starts_with("//") && path.chars().all(allowed)
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_returned_to() {
        for local in ["/", "/directory?q=jianguo&page=2", "/people/12#history"] {
            assert_eq!(safe_next(Some(local)), local);
        }
        assert_eq!(
            safe_next(Some("/directory?q=建国")),
            "/directory?q=%E5%BB%BA%E5%9B%BD"
        );
        for away in [
            "//evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\\evil.example",
            "https://evil.example",
            "/ /evil.example",
            "/\u{3000}/evil.example",
            "",
        ] {
            assert_eq!(safe_next(Some(away)), "/", "{away:?}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
