//! The one error type of the web layer.
//!
//! Handlers return [`AppError`]; its response carries the error as an extension and no body.
//! [`crate::error_page::render_errors`] then writes the body in the caller's language: JSON
//! `{"error":{"code","message"}}` under `/api/`, a friendly page elsewhere. Internal causes are
//! logged there and never shown.

use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tongxin_core::Invalid;
use tongxin_exchange::ExchangeError;
use tongxin_i18n::{Catalog, Lang, invalid_message};
use tongxin_store::{LoginError, StoreError};

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
    #[error("the password must be changed first")]
    PasswordChangeRequired,
    /// The account has a second factor: its code must come with the password.
    #[error("a code from the authenticator app is required")]
    SecondFactorRequired,
    /// The account's role needs a second factor it has not set up yet.
    #[error("a second factor must be set up first")]
    SecondFactorSetupRequired,
    /// Told "ID number on record elsewhere" too often this hour.
    #[error("too many ID numbers on record elsewhere")]
    TooManyProbes,
    /// Too many login attempts from this address or at this name; retry after the seconds.
    #[error("too many login attempts")]
    TooManyAttempts { retry_after: u64 },
    #[error("changed meanwhile")]
    Conflict(Vec<tongxin_core::HistoryEntry>),
    /// The workflow does not allow this step by this caller now; `allowed` are the steps it
    /// does allow them (action codes).
    #[error("not allowed now")]
    NotAllowedNow { allowed: Vec<String> },
    #[error("duplicate person")]
    DuplicatePerson { existing: Option<i64> },
    /// A simultaneous request wrote the same thing first; `key` names the unique key.
    #[error("already exists ({key})")]
    Duplicate { key: String },
    #[error("the database is busy")]
    Busy,
    /// The account already has an import running (one at a time per account).
    #[error("an import is already running")]
    ImportRunning,
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
            AppError::Forbidden
            | AppError::Csrf
            | AppError::PasswordChangeRequired
            | AppError::SecondFactorSetupRequired => StatusCode::FORBIDDEN,
            AppError::Unauthenticated
            | AppError::BadCredentials
            | AppError::SecondFactorRequired => StatusCode::UNAUTHORIZED,
            AppError::TooManyAttempts { .. } | AppError::TooManyProbes => {
                StatusCode::TOO_MANY_REQUESTS
            }
            AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Malformed { .. } => StatusCode::BAD_REQUEST,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Conflict(_)
            | AppError::NotAllowedNow { .. }
            | AppError::DuplicatePerson { .. }
            | AppError::Duplicate { .. }
            | AppError::ImportRunning => StatusCode::CONFLICT,
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
            AppError::PasswordChangeRequired => "password_change_required",
            AppError::SecondFactorRequired => "second_factor_required",
            AppError::SecondFactorSetupRequired => "second_factor_setup_required",
            AppError::TooManyAttempts { .. } => "too_many_attempts",
            AppError::TooManyProbes => "too_many_probes",
            AppError::Conflict(_) => "conflict",
            AppError::NotAllowedNow { .. } => "not_allowed_now",
            AppError::DuplicatePerson { .. } => "duplicate",
            AppError::Duplicate { .. } => "already_exists",
            AppError::Busy => "busy",
            AppError::ImportRunning => "import_running",
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
            AppError::TooManyAttempts { retry_after } => {
                let minutes = retry_after.div_ceil(60).to_string();
                catalog.format(lang, "error.too_many_attempts", &[("n", &minutes)])
            }
            AppError::Csrf => catalog.get(lang, "invalid.forged").to_owned(),
            AppError::NotAllowedNow { allowed } if allowed.is_empty() => {
                catalog.get(lang, "error.not_allowed_now_none").to_owned()
            }
            AppError::NotAllowedNow { allowed } => {
                let names = allowed
                    .iter()
                    .map(|a| crate::cases::action_label(catalog, lang, a))
                    .collect::<Vec<_>>()
                    .join(catalog.get(lang, "common.list_separator"));
                catalog.format(lang, "error.not_allowed_now", &[("allowed", &names)])
            }
            other => catalog
                .get(lang, &format!("error.{}", other.code()))
                .to_owned(),
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Forbidden => AppError::Forbidden,
            StoreError::Invalid(i) => AppError::Invalid(vec![i]),
            StoreError::Conflict { changes } => AppError::Conflict(changes),
            StoreError::NotAllowedNow { allowed } => AppError::NotAllowedNow { allowed },
            StoreError::DuplicatePerson { existing } => AppError::DuplicatePerson { existing },
            StoreError::Duplicate { key, .. } => AppError::Duplicate { key },
            StoreError::Busy => AppError::Busy,
            StoreError::TooManyProbes => AppError::TooManyProbes,
            other => AppError::internal("store", other),
        }
    }
}

impl From<ExchangeError> for AppError {
    fn from(e: ExchangeError) -> Self {
        match e {
            ExchangeError::Store(e) => e.into(),
            other => AppError::internal("file", other),
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
            // One answer whatever the cause (no account enumeration); the audit keeps it.
            LoginError::Locked { .. } | LoginError::Disabled => AppError::BadCredentials,
            LoginError::PasswordChangeRequired => AppError::PasswordChangeRequired,
            LoginError::SecondFactorRequired => AppError::SecondFactorRequired,
            LoginError::SecondFactorSetupRequired => AppError::SecondFactorSetupRequired,
            LoginError::SecondFactorExpired => AppError::Unauthenticated,
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

/// The error travelling from a handler to the middleware that writes its body
/// ([`crate::error_page::render_errors`]).
#[derive(Clone)]
pub(crate) struct Pending(pub(crate) Arc<AppError>);

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let mut response = self.status().into_response();
        response.extensions_mut().insert(Pending(Arc::new(self)));
        response
    }
}
