//! Error bodies: every error response gets its body here, on the way out, in the requester's
//! language: JSON under `/api/`, the error page (or the sign-in page) elsewhere. Handlers only
//! return an [`AppError`].

use askama::Template;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde_json::json;
use tongxin_i18n::{Catalog, Lang};

use crate::AppState;
use crate::error::{AppError, ErrorChain, Pending};
use crate::session::request_lang;

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
    let mut response = respond(&state, error.as_ref(), is_api, lang, &next_path);
    let retry_after = match error.as_ref() {
        AppError::TooManyAttempts { retry_after } => Some(*retry_after),
        // The allowance frees up as the hour's answers age.
        AppError::TooManyProbes => Some(3600),
        _ => None,
    };
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

/// The error as an API body or a page.
fn respond(
    state: &AppState,
    error: &AppError,
    is_api: bool,
    lang: Lang,
    next_path: &str,
) -> Response {
    let status = error.status();
    let message = error.message(&state.catalog, lang, state.config.max_body_bytes);
    if is_api {
        let mut body = json!({ "error": { "code": error.code(), "message": message } });
        match error {
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
            AppError::NotAllowedNow { allowed } => {
                body["error"]["allowed"] = json!(allowed);
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
    if matches!(error, AppError::Unauthenticated) {
        let target = format!(
            "/login?next={}",
            crate::pages::chrome::encode_query_value(next_path)
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
