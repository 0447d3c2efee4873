//! The one error type of the web layer, and the middleware that renders it.
//!
//! Handlers return [`AppError`]; its response carries the error as an extension and no body.
//! [`render_errors`] then writes the body in the caller's language: JSON
//! `{"error":{"code","message"}}` under `/api/`, a friendly page elsewhere. Internal causes are
//! logged here and never shown.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde_json::json;
use tongxin_core::{Invalid, Timestamp};
use tongxin_store::{LoginError, StoreError};

use crate::AppState;
use crate::i18n::{Catalog, Lang};
use crate::session::request_lang;

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("forbidden")]
    Forbidden,
    #[error("not logged in")]
    Unauthenticated,
    #[error("invalid input: {0:?}")]
    Invalid(Vec<Invalid>),
    #[error("malformed request: {detail}")]
    Malformed { code: &'static str, detail: String },
    #[error("request body too large")]
    PayloadTooLarge,
    #[error("CSRF token missing or wrong")]
    Csrf,
    #[error("wrong user name or password")]
    BadCredentials,
    #[error("account locked")]
    Locked { until: Timestamp },
    #[error("account disabled")]
    Disabled,
    #[error("changed meanwhile")]
    Conflict(Vec<tongxin_core::HistoryEntry>),
    #[error("duplicate person")]
    DuplicatePerson { existing: Option<i64> },
    /// A simultaneous request wrote the same thing first; `key` names the unique key.
    #[error("already exists ({key})")]
    Duplicate { key: String },
    #[error("the database is busy")]
    Busy,
    /// A cause the user cannot act on: logged with its whole chain of sources, never shown.
    #[error("internal error: {context}")]
    Internal {
        context: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl AppError {
    /// An internal failure while doing `context`, keeping its cause.
    pub fn internal(
        context: &'static str,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> AppError {
        AppError::Internal {
            context,
            source: source.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            AppError::Forbidden | AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::Unauthenticated | AppError::BadCredentials | AppError::Disabled => {
                StatusCode::UNAUTHORIZED
            }
            AppError::Locked { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Malformed { .. } => StatusCode::BAD_REQUEST,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Conflict(_)
            | AppError::DuplicatePerson { .. }
            | AppError::Duplicate { .. } => StatusCode::CONFLICT,
            AppError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Stable machine-readable code for API clients.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::NotFound => "not_found",
            AppError::MethodNotAllowed => "method_not_allowed",
            AppError::Forbidden => "forbidden",
            AppError::Unauthenticated => "unauthenticated",
            AppError::Invalid(list) => list.first().map(|i| i.reason.key()).unwrap_or("invalid"),
            AppError::Malformed { code, .. } => code,
            AppError::PayloadTooLarge => "payload_too_large",
            AppError::Csrf => "csrf",
            AppError::BadCredentials => "bad_credentials",
            AppError::Locked { .. } => "locked",
            AppError::Disabled => "disabled",
            AppError::Conflict(_) => "conflict",
            AppError::DuplicatePerson { .. } => "duplicate",
            AppError::Duplicate { .. } => "already_exists",
            AppError::Busy => "busy",
            AppError::Internal { .. } => "internal",
        }
    }

    /// The message shown to the user, in their language.
    pub fn message(&self, catalog: &Catalog, lang: Lang, max_body_bytes: usize) -> String {
        match self {
            AppError::Invalid(list) => list
                .iter()
                .map(|i| invalid_message(catalog, lang, i))
                .collect::<Vec<_>>()
                .join(" "),
            AppError::Malformed { code, detail } => {
                let key = format!("error.{code}");
                catalog.format(lang, &key, &[("detail", detail)])
            }
            AppError::PayloadTooLarge => {
                let limit = (max_body_bytes / 1024).to_string();
                catalog.format(lang, "error.payload_too_large", &[("n", &limit)])
            }
            AppError::Locked { until } => {
                catalog.format(lang, "error.locked", &[("time", &until.display_time())])
            }
            AppError::Csrf => catalog.get(lang, "invalid.forged").to_owned(),
            other => catalog
                .get(lang, &format!("error.{}", other.code()))
                .to_owned(),
        }
    }
}

/// "名称不能超过 100 个字符。" — a refused value as a sentence naming the field.
pub fn invalid_message(catalog: &Catalog, lang: Lang, invalid: &Invalid) -> String {
    // A field named at run time is quoted as named; catalogue labels are capitalised for
    // forms and read in lower case inside an English sentence.
    let field = match (&invalid.label, lang) {
        (Some(label), Lang::ZhCn) => format!("「{label}」"),
        (Some(label), Lang::En) => format!("“{label}”"),
        (None, Lang::En) => catalog
            .get(lang, &format!("field.{}", invalid.field.key()))
            .to_lowercase(),
        (None, Lang::ZhCn) => catalog
            .get(lang, &format!("field.{}", invalid.field.key()))
            .to_owned(),
    };
    let n = invalid
        .reason
        .count()
        .map(|n| n.to_string())
        .unwrap_or_default();
    catalog.format(
        lang,
        &format!("invalid.{}", invalid.reason.key()),
        &[("field", &field), ("n", &n)],
    )
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Forbidden => AppError::Forbidden,
            StoreError::Invalid(i) => AppError::Invalid(vec![i]),
            StoreError::Conflict { changes } => AppError::Conflict(changes),
            StoreError::DuplicatePerson { existing } => AppError::DuplicatePerson { existing },
            StoreError::Duplicate { key, .. } => AppError::Duplicate { key },
            StoreError::Busy => AppError::Busy,
            other => AppError::internal("store", other),
        }
    }
}

impl From<Invalid> for AppError {
    fn from(i: Invalid) -> Self {
        AppError::Invalid(vec![i])
    }
}

impl From<LoginError> for AppError {
    fn from(e: LoginError) -> Self {
        match e {
            LoginError::BadCredentials => AppError::BadCredentials,
            LoginError::Locked { until } => AppError::Locked { until },
            LoginError::Disabled => AppError::Disabled,
            LoginError::Store(s) => s.into(),
        }
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        AppError::internal("template", e)
    }
}

/// An error and its sources, as one line: `a: b: c` (for logs and the command line).
pub struct ErrorChain<'a>(pub &'a (dyn std::error::Error + 'static));

impl std::fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut next = self.0.source();
        while let Some(cause) = next {
            write!(f, ": {cause}")?;
            next = cause.source();
        }
        Ok(())
    }
}

/// The error travelling from a handler to [`render_errors`].
#[derive(Clone)]
struct Pending(Arc<AppError>);

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let mut response = self.status().into_response();
        response.extensions_mut().insert(Pending(Arc::new(self)));
        response
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    lang: Lang,
    catalog: &'a Catalog,
    title: String,
    message: String,
    status: u16,
}

impl ErrorPage<'_> {
    fn t(&self, key: &'static str) -> &str {
        self.catalog.get(self.lang, key)
    }
}

/// Gives every error response its body, in the requester's language.
pub async fn render_errors(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let is_api = request.uri().path().starts_with("/api/");
    let lang = request_lang(request.headers(), is_api);
    let next_path = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "/".into());
    let mut response = next.run(request).await;
    let Some(Pending(error)) = response.extensions_mut().remove::<Pending>() else {
        return response;
    };
    match error.as_ref() {
        AppError::Internal { context, source } => {
            tracing::error!(context, cause = %ErrorChain(source.as_ref()), "request failed");
        }
        AppError::Duplicate { key } => {
            tracing::info!(%key, "a simultaneous write got there first");
        }
        _ => {}
    }
    let status = error.status();
    let message = error.message(&state.catalog, lang, state.config.max_body_bytes);
    if is_api {
        let mut body = json!({ "error": { "code": error.code(), "message": message } });
        match error.as_ref() {
            AppError::Invalid(list) => {
                if let Some(first) = list.first() {
                    body["error"]["field"] = json!(first.field.key());
                    if let Some(label) = &first.label {
                        body["error"]["label"] = json!(label);
                    }
                }
            }
            AppError::Conflict(changes) => {
                body["error"]["changes"] = changes
                    .iter()
                    .map(|c| {
                        json!({
                            "version": c.version,
                            "at": c.at.rfc3339(),
                            "by": c.actor_name,
                            "field": c.field,
                            "old": c.old_value,
                            "new": c.new_value,
                        })
                    })
                    .collect();
            }
            AppError::DuplicatePerson { existing } => {
                body["error"]["field"] = json!("id_number");
                body["error"]["existing_id"] = json!(existing);
            }
            _ => {}
        }
        let mut response = (status, axum::Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        return response;
    }
    if matches!(error.as_ref(), AppError::Unauthenticated) {
        let target = format!(
            "/login?next={}",
            crate::pages::chrome::encode_query_value(&next_path)
        );
        return Redirect::to(&target).into_response();
    }
    let page = ErrorPage {
        lang,
        catalog: &state.catalog,
        title: state
            .catalog
            .get(lang, &format!("error.title_{}", status.as_u16()))
            .to_owned(),
        message,
        status: status.as_u16(),
    };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "error page failed to render");
            status.into_response()
        }
    }
}
