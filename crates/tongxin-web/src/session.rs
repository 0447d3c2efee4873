//! Who is asking: the session cookie for pages, the bearer token for the API, the language, and
//! the client address.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts, OptionalFromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, SameSite};
use tongxin_store::{Actor, SessionKind, SessionSecret, SessionView};

use crate::AppState;
use crate::error::AppError;
use tongxin_i18n::Lang;

pub const SESSION_COOKIE: &str = "tongxin_session";
pub const LANG_COOKIE: &str = "tongxin_lang";
/// The code of the unit lists start from, chosen with the top bar's switcher.
pub const SCOPE_COOKIE: &str = "tongxin_scope";
/// Carries the CSRF token of visitors who are not logged in yet (the login form).
pub const CSRF_COOKIE: &str = "tongxin_csrf";

/// A live session and the actor behind it, put in the request by [`load_session`].
#[derive(Clone)]
pub struct Authenticated {
    pub actor: Actor,
    pub session: SessionView,
}

/// Reads a cookie's value from the request headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The language of a request: the switcher's cookie for pages, `Accept-Language` for the API.
pub fn request_lang(headers: &HeaderMap, is_api: bool) -> Lang {
    if is_api {
        let accept = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        Lang::from_accept_language(accept)
    } else {
        cookie(headers, LANG_COOKIE)
            .and_then(Lang::from_tag)
            .unwrap_or_default()
    }
}

/// The client's address: the socket's peer, or, when the peer is a trusted reverse proxy, the
/// nearest address before it in `X-Forwarded-For` that is not itself a trusted proxy.
pub fn client_ip(parts: &Parts, trusted: &[IpAddr]) -> Option<String> {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())?;
    if !trusted.contains(&peer) {
        return Some(peer.to_string());
    }
    let forwarded = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    let client = forwarded
        .iter()
        .rev()
        .filter_map(|a| a.parse::<IpAddr>().ok())
        .find(|a| !trusted.contains(a));
    Some(client.unwrap_or(peer).to_string())
}

/// The client's address, for handlers.
pub struct ClientIp(pub Option<String>);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(client_ip(parts, &state.config.trusted_proxies)))
    }
}

/// The pages an account whose password must change can still reach.
const PASSWORD_CHANGE_PATHS: [&str; 3] = ["/password", "/logout", "/lang"];

/// The pages an account that must set up its second factor can still reach.
const SECOND_FACTOR_SETUP_PATHS: [&str; 4] =
    ["/two-factor", "/two-factor/confirm", "/logout", "/lang"];

/// Looks the session cookie up once per page request and leaves the result in the request.
pub async fn load_session(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let secret = cookie(&parts.headers, SESSION_COOKIE).map(SessionSecret::from_client);
    if let Some(secret) = secret {
        let found = state
            .store
            .session(
                &secret,
                SessionKind::Web,
                state.clock.now(),
                client_ip(&parts, &state.config.trusted_proxies),
                &state.config.policy,
            )
            .await;
        match found {
            Ok(Some((session, actor))) => {
                // A password someone else set must be replaced before anything else.
                if actor.must_change_password()
                    && !PASSWORD_CHANGE_PATHS.contains(&parts.uri.path())
                {
                    return axum::response::Redirect::to("/password").into_response();
                }
                // Then a duty role sets up its second factor.
                if !actor.must_change_password()
                    && actor.must_enrol_second_factor()
                    && !SECOND_FACTOR_SETUP_PATHS.contains(&parts.uri.path())
                {
                    return axum::response::Redirect::to("/two-factor").into_response();
                }
                parts.extensions.insert(Authenticated { actor, session });
            }
            Ok(None) => {}
            Err(e) => return AppError::from(e).into_response(),
        }
    }
    next.run(Request::from_parts(parts, body)).await
}

/// A logged-in user on a page route; anyone else is sent to the login page.
pub struct CurrentUser(pub Authenticated);

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, AppError> {
        parts
            .extensions
            .get::<Authenticated>()
            .cloned()
            .map(CurrentUser)
            .ok_or(AppError::Unauthenticated)
    }
}

impl OptionalFromRequestParts<AppState> for CurrentUser {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _: &AppState,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Authenticated>()
            .cloned()
            .map(CurrentUser))
    }
}

/// The caller of an API route, from `Authorization: Bearer …`.
pub struct ApiUser {
    pub actor: Actor,
    pub secret: SessionSecret,
}

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(AppError::Unauthenticated)?;
        let secret = SessionSecret::from_client(token);
        let (_, actor) = state
            .store
            .session(
                &secret,
                SessionKind::Api,
                state.clock.now(),
                client_ip(parts, &state.config.trusted_proxies),
                &state.config.policy,
            )
            .await?
            .ok_or(AppError::Unauthenticated)?;
        Ok(ApiUser { actor, secret })
    }
}

/// The session cookie: HttpOnly, SameSite=Lax, Secure behind HTTPS.
pub fn session_cookie(value: String, secure: bool) -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .build()
}

/// An expired session cookie, which makes the browser forget it.
pub fn cleared_session_cookie(secure: bool) -> Cookie<'static> {
    let mut cookie = session_cookie(String::new(), secure);
    cookie.make_removal();
    cookie
}
