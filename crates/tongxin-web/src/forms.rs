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

/// The CSRF token a request's forms must send back: the session's, or before login the
/// token cookie's.
pub fn expected_csrf(request: &Request) -> Option<String> {
    match request.extensions().get::<Authenticated>() {
        Some(auth) => Some(auth.session.csrf_token.clone()),
        None => cookie(request.headers(), CSRF_COOKIE).map(str::to_owned),
    }
}

/// Refuses unless `sent` is the expected token (compared in constant time).
pub fn check_csrf(expected: Option<&str>, sent: &str) -> Result<(), AppError> {
    let matches = expected.is_some_and(|expected| {
        !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(sent.as_bytes()))
    });
    if matches { Ok(()) } else { Err(AppError::Csrf) }
}

impl<T: DeserializeOwned> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, AppError> {
        let expected = expected_csrf(&request);
        let bytes = body_bytes(request, state).await?;
        let sent: CsrfField = serde_urlencoded::from_bytes(&bytes).map_err(|_| AppError::Csrf)?;
        check_csrf(expected.as_deref(), &sent.csrf)?;
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

/// Two numeric ids in the path (a record and one of its parts); like [`IdPath`], anything
/// else is a 404.
pub struct IdPair(pub i64, pub i64);

impl<S: Send + Sync> FromRequestParts<S> for IdPair {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        axum::extract::Path::<(i64, i64)>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path((a, b))| IdPair(a, b))
            .map_err(|_| AppError::NotFound)
    }
}

/// A numeric id and a key naming one of its parts (an account and one of its tokens); like
/// [`IdPath`], a path that does not fit is a 404.
pub struct IdKeyPath(pub i64, pub String);

impl<S: Send + Sync> FromRequestParts<S> for IdKeyPath {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        axum::extract::Path::<(i64, String)>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path((id, key))| IdKeyPath(id, key))
            .map_err(|_| AppError::NotFound)
    }
}

/// An uploaded file from a multipart form guarded by the CSRF token, like [`CsrfForm`].
pub struct CsrfUpload {
    pub file_name: String,
    pub bytes: axum::body::Bytes,
    /// The form's other fields, by name.
    pub fields: std::collections::HashMap<String, String>,
}

impl FromRequest<AppState> for CsrfUpload {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, AppError> {
        let expected = expected_csrf(&request);
        let mut multipart = axum::extract::Multipart::from_request(request, state)
            .await
            .map_err(|e| AppError::Malformed {
                code: "bad_form",
                detail: e.body_text(),
            })?;
        let refused = |e: axum::extract::multipart::MultipartError| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                AppError::PayloadTooLarge
            } else {
                AppError::Malformed {
                    code: "bad_form",
                    detail: e.body_text(),
                }
            }
        };
        let mut upload = CsrfUpload {
            file_name: String::new(),
            bytes: axum::body::Bytes::new(),
            fields: std::collections::HashMap::new(),
        };
        while let Some(field) = multipart.next_field().await.map_err(refused)? {
            let name = field.name().unwrap_or_default().to_owned();
            if let Some(file_name) = field.file_name() {
                upload.file_name = file_name.to_owned();
                upload.bytes = field.bytes().await.map_err(refused)?;
            } else {
                let value = field.text().await.map_err(refused)?;
                upload.fields.insert(name, value);
            }
        }
        let sent = upload.fields.get("_csrf").map(String::as_str).unwrap_or("");
        check_csrf(expected.as_deref(), sent)?;
        Ok(upload)
    }
}

/// A posted form read as name/value pairs, for forms that repeat a name (checkboxes).
pub struct Pairs(pub Vec<(String, String)>);

impl Pairs {
    /// The first value of `name`, or the empty string.
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    /// Every value of `name` (checked boxes), in order.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Every numeric value of `name` (checked boxes of ids); others are ignored.
    pub fn ids(&self, name: &str) -> Vec<i64> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .filter_map(|(_, v)| v.trim().parse().ok())
            .collect()
    }
}
