//! Request bodies: HTML forms guarded by a CSRF token, and JSON for the API, with every
//! rejection turned into an [`AppError`] that names what was wrong.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq;

use crate::AppState;
use crate::error::AppError;
use crate::session::{Authenticated, CSRF_COOKIE, cookie};

/// Reads the whole body, within the configured limit.
async fn body_bytes(request: Request, state: &AppState) -> Result<Bytes, AppError> {
    Bytes::from_request(request, state)
        .await
        .map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                AppError::PayloadTooLarge
            } else {
                AppError::Malformed {
                    code: "unreadable_body",
                    detail: rejection.body_text(),
                }
            }
        })
}

/// A form posted by one of our own pages: the `_csrf` field must match the session's token
/// (or, before login, the token cookie). Anything else is refused before the handler runs.
pub struct CsrfForm<T>(pub T);

#[derive(Deserialize)]
struct CsrfField {
    #[serde(rename = "_csrf", default)]
    csrf: String,
}

impl<T: DeserializeOwned> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, AppError> {
        let expected = match request.extensions().get::<Authenticated>() {
            Some(auth) => Some(auth.session.csrf_token.clone()),
            None => cookie(request.headers(), CSRF_COOKIE).map(str::to_owned),
        };
        let bytes = body_bytes(request, state).await?;
        let sent: CsrfField = serde_urlencoded::from_bytes(&bytes).map_err(|_| AppError::Csrf)?;
        let matches = expected.is_some_and(|expected| {
            !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(sent.csrf.as_bytes()))
        });
        if !matches {
            return Err(AppError::Csrf);
        }
        serde_urlencoded::from_bytes(&bytes)
            .map(CsrfForm)
            .map_err(|e| AppError::Malformed {
                code: "bad_form",
                detail: e.to_string(),
            })
    }
}

/// A JSON request body. Invalid UTF-8, malformed JSON and wrong field types are refused with a
/// 400 that quotes the parser's explanation.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, AppError> {
        let bytes = body_bytes(request, state).await?;
        if std::str::from_utf8(&bytes).is_err() {
            return Err(AppError::Malformed {
                code: "invalid_utf8",
                detail: String::new(),
            });
        }
        serde_json::from_slice(&bytes)
            .map(ApiJson)
            .map_err(|e| AppError::Malformed {
                code: "bad_json",
                detail: e.to_string(),
            })
    }
}

/// Query-string parameters; a value of the wrong type (`?page=abc`) is a clear 400.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        serde_urlencoded::from_str(parts.uri.query().unwrap_or(""))
            .map(Query)
            .map_err(|e| AppError::Malformed {
                code: "bad_query",
                detail: e.to_string(),
            })
    }
}

/// A numeric id from the path; anything else (`/units/abc`) is simply not found.
pub struct IdPath(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for IdPath {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        axum::extract::Path::<i64>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(id)| IdPath(id))
            .map_err(|_| AppError::NotFound)
    }
}
