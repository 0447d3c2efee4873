//! Tongxin over HTTP: server-rendered pages, the `/api/v1` JSON API, sessions, CSRF, the
//! translations and the embedded static assets.
//!
//! What lives here: routing, request parsing, templates and turning store results into pages
//! and JSON. What must not: SQL or business rules beyond input parsing; every read and write
//! goes through `tongxin_store` with the caller's `Actor`, which applies the subtree scope.

mod accounts;
mod activities;
mod api;
mod audit;
mod campaigns;
mod cases;
mod channels;
mod directory;
mod error;
mod error_page;
mod forms;
mod input;
mod jobs;
mod materials;
mod notifications;
mod pages;
mod session;
mod surveys;
mod units;
mod uploads;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware;
use axum::routing::get;
use tongxin_core::Clock;
use tongxin_store::{Policy, Store};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};

pub use error::{AppError, ErrorChain};
use tongxin_i18n::Catalog;

/// Settings of the web layer.
#[derive(Debug, Clone)]
pub struct WebConfig {
    pub policy: Policy,
    /// Mark cookies `Secure` (the public URL is https).
    pub secure_cookies: bool,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Largest file an import accepts, in bytes.
    pub max_import_bytes: usize,
    /// Reverse proxies whose `X-Forwarded-For` names the client; from anyone else the header
    /// is ignored, so a client cannot choose the address it is limited and audited by.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The address users reach (no trailing `/`), for links that leave the browser: QR codes,
    /// calendar feeds. Without it, links use the Host of the request.
    pub public_url: Option<String>,
    /// The deployment's calendar day, for due dates counted in working days.
    pub time_zone: tongxin_core::TimeZone,
}

impl WebConfig {
    /// Today's date where the deployment is.
    pub fn today(&self, now: tongxin_core::Timestamp) -> chrono::NaiveDate {
        self.time_zone.date_of(now)
    }

    /// The absolute address of `path` as users reach it.
    pub fn absolute(&self, headers: &axum::http::HeaderMap, path: &str) -> String {
        match &self.public_url {
            Some(base) => format!("{base}{path}"),
            None => {
                let host = headers
                    .get(axum::http::header::HOST)
                    .and_then(|h| h.to_str().ok())
                    .unwrap_or("localhost");
                format!("http://{host}{path}")
            }
        }
    }
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            policy: Policy::default(),
            secure_cookies: false,
            max_body_bytes: 1024 * 1024,
            max_import_bytes: 50 * 1024 * 1024,
            trusted_proxies: Vec::new(),
            public_url: None,
            time_zone: tongxin_core::TimeZone::SHANGHAI,
        }
    }
}

/// Everything a handler needs, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub catalog: Arc<Catalog>,
    pub config: Arc<WebConfig>,
    /// The accounts importing over the API in this process.
    pub imports: Arc<crate::directory::import_jobs::ImportSlots>,
    /// Login attempts per address and per typed name.
    pub login_throttle: Arc<crate::accounts::throttle::LoginThrottle>,
    /// Mail, robots and webhooks: for "send a test message".
    pub outbound: Arc<tongxin_jobs::outbound::Outbound>,
}

impl AppState {
    pub fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        config: WebConfig,
        outbound: Arc<tongxin_jobs::outbound::Outbound>,
    ) -> Result<Self, String> {
        Ok(AppState {
            outbound,
            store,
            clock,
            catalog: Arc::new(Catalog::load()?),
            config: Arc::new(config),
            imports: Arc::default(),
            login_throttle: Arc::default(),
        })
    }
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A request's path as the log shows it: a calendar feed's path is its credential, so only its
/// prefix is written.
fn logged_path(path: &str) -> &str {
    if path.starts_with("/ical/") {
        "/ical/…"
    } else {
        path
    }
}

/// The whole application: pages, API, health checks and static files, with request ids,
/// tracing, body limits, security headers and error rendering.
pub fn app(state: AppState) -> Router {
    // Served over https (by the public address), browsers are told to keep to it.
    let hsts = state
        .config
        .secure_cookies
        .then(|| HeaderValue::from_static("max-age=31536000"));
    let pages = pages::routes(state.config.max_import_bytes).layer(middleware::from_fn_with_state(
        state.clone(),
        session::load_session,
    ));
    Router::new()
        .merge(pages)
        .nest("/api/v1", api::routes(state.config.max_import_bytes))
        .route("/healthz", get(pages::healthz))
        .route("/ical/{token}", get(activities::calendar_pages::ical))
        .route("/readyz", get(pages::readyz))
        .route("/static/{*file}", get(pages::static_file))
        .fallback(|| async { AppError::NotFound })
        .method_not_allowed_fallback(|| async { AppError::MethodNotAllowed })
        .layer(middleware::from_fn_with_state(
            state.clone(),
            error_page::render_errors,
        ))
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; form-action 'self'; frame-ancestors 'none'",
            ),
        ))
        // Pages and answers show people's records, revealed values, generated passwords and
        // exports: no browser or proxy keeps a copy (static files set their own policy).
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            hsts,
        ))
        .layer(CatchPanicLayer::new())
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request| {
                    let id = request
                        .headers()
                        .get(REQUEST_ID)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-");
                    let path = logged_path(request.uri().path());
                    tracing::info_span!("request", id, method = %request.method(), path)
                })
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use super::logged_path;

    #[test]
    fn calendar_feed_tokens_stay_out_of_the_log() {
        assert_eq!(logged_path(&format!("/ical/{}", "a".repeat(64))), "/ical/…");
        assert_eq!(logged_path("/directory"), "/directory");
    }
}
