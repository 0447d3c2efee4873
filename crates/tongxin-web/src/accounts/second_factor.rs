//! The second factor on the web: the code asked after the password, the holder's own set-up
//! page (QR code, confirmation, recovery codes), and the security administrator's reset.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use tongxin_store::{LoginError, SecondFactorSetup, SecondFactorStatus, SessionSecret};

use crate::AppState;
use crate::error::AppError;
use crate::forms::{CsrfForm, IdPath, Query};
use crate::pages::chrome::{Ctx, FormErrors, done, refused};
use crate::session::{ClientIp, CurrentUser, SESSION_COOKIE, session_cookie};

#[derive(Template)]
#[template(path = "login_code.html")]
struct CodePage {
    ctx: Ctx,
    username: String,
    error: String,
    next: String,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// The waiting login behind the session cookie, with its account name; `None` once it is gone
/// or past its minutes (the password is asked again).
async fn waiting_login(
    state: &AppState,
    jar: &CookieJar,
) -> Result<Option<(SessionSecret, String)>, AppError> {
    let Some(secret) = jar
        .get(SESSION_COOKIE)
        .map(|c| SessionSecret::from_client(c.value()))
    else {
        return Ok(None);
    };
    let username = state
        .store
        .pending_login(&secret, state.clock.now())
        .await?;
    Ok(username.map(|name| (secret, name)))
}

fn back_to_login(next: &str) -> Response {
    Redirect::to(&format!(
        "/login?next={}",
        crate::pages::chrome::encode_query_value(next)
    ))
    .into_response()
}

/// `GET /login/code`: asks for the code from the authenticator app.
pub async fn code_page(
    State(state): State<AppState>,
    ctx: Ctx,
    jar: CookieJar,
    Query(query): Query<NextQuery>,
) -> Result<Response, AppError> {
    let next = crate::pages::chrome::safe_next(query.next.as_deref());
    let Some((_, username)) = waiting_login(&state, &jar).await? else {
        return Ok(back_to_login(&next));
    };
    let page = CodePage {
        ctx,
        username,
        error: String::new(),
        next,
    };
    Ok(page.ctx.respond(StatusCode::OK, page.render()?))
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
    next: Option<String>,
}

/// `POST /login/code`: a right code opens the session; a wrong one counts as a failed login.
pub async fn submit_code(
    State(state): State<AppState>,
    ctx: Ctx,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    CsrfForm(form): CsrfForm<CodeForm>,
) -> Result<Response, AppError> {
    let next = crate::pages::chrome::safe_next(form.next.as_deref());
    let now = state.clock.now();
    let Some((pending, username)) = waiting_login(&state, &jar).await? else {
        return Ok(back_to_login(&next));
    };
    if let Err(retry_after) = state.login_throttle.check(now, ip.as_deref(), &username) {
        return Err(AppError::TooManyAttempts { retry_after });
    }
    let outcome = state
        .store
        .complete_second_factor(&pending, &form.code, now, ip.clone(), &state.config.policy)
        .await;
    match outcome {
        Ok((session, _)) => {
            let jar = jar.add(session_cookie(
                session.secret.expose().to_owned(),
                state.config.secure_cookies,
            ));
            Ok((jar, Redirect::to(&next)).into_response())
        }
        Err(LoginError::BadCredentials) => {
            state.login_throttle.failed(now, ip.as_deref(), &username);
            let page = CodePage {
                error: ctx.t("second_factor.wrong_code").to_owned(),
                ctx,
                username,
                next,
            };
            Ok(page.ctx.respond(StatusCode::UNAUTHORIZED, page.render()?))
        }
        // Locked by this failure, or gone meanwhile: the password is asked again.
        Err(LoginError::Locked { .. } | LoginError::Disabled | LoginError::SecondFactorExpired) => {
            state.login_throttle.failed(now, ip.as_deref(), &username);
            Ok(back_to_login(&next))
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Template)]
#[template(path = "second_factor.html")]
struct SetupPage {
    ctx: Ctx,
    status: SecondFactorStatus,
    /// While not set up: the secret to add to the app, and its QR code.
    setup: Option<SecondFactorSetup>,
    /// The secret as it is shown to be typed.
    secret_in_groups: String,
    qr_svg: String,
    /// Recovery codes just made, shown this once.
    recovery_codes: Vec<String>,
    errors: FormErrors,
}

/// The secret in groups of four, as authenticator apps accept it typed (they ignore spaces), so
/// that it reads and wraps on a phone.
fn in_groups(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    chars
        .chunks(4)
        .map(|group| group.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The set-up page as it stands for the caller.
async fn setup_page(
    state: &AppState,
    ctx: Ctx,
    auth: &crate::session::Authenticated,
    recovery_codes: Vec<String>,
    errors: FormErrors,
) -> Result<SetupPage, AppError> {
    let actor = &auth.actor;
    let status = state
        .store
        .second_factor_status(actor, state.config.policy.second_factor)
        .await?;
    let (setup, qr_svg) = if status.set_up_at.is_none() {
        let setup = state
            .store
            .second_factor_setup(actor, state.clock.now())
            .await?;
        let qr = qrcode::QrCode::new(setup.uri.as_bytes())
            .map_err(|e| AppError::internal("QR code", e))?;
        let svg = qr
            .render::<qrcode::render::svg::Color>()
            .min_dimensions(220, 220)
            .build();
        (Some(setup), svg)
    } else {
        (None, String::new())
    };
    let secret_in_groups = setup
        .as_ref()
        .map(|s| in_groups(&s.secret))
        .unwrap_or_default();
    Ok(SetupPage {
        ctx: ctx.with_section("second_factor"),
        status,
        setup,
        secret_in_groups,
        qr_svg,
        recovery_codes,
        errors,
    })
}

/// `GET /two-factor`: the caller's second factor: how to set it up, or that it is set up.
pub async fn own_page(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
) -> Result<Response, AppError> {
    let page = setup_page(&state, ctx, &auth, Vec::new(), FormErrors::default()).await?;
    Ok(page.ctx.respond(StatusCode::OK, page.render()?))
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    code: String,
}

/// `POST /two-factor/confirm`: a code from the app confirms the set-up; the recovery codes are
/// shown once.
pub async fn confirm(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    CsrfForm(form): CsrfForm<ConfirmForm>,
) -> Result<Response, AppError> {
    let result = state
        .store
        .confirm_second_factor(&auth.actor, state.clock.now(), &form.code)
        .await;
    codes_or_refusal(&state, ctx, &auth, result).await
}

/// `POST /two-factor/recovery-codes`: new recovery codes in place of the old, for a code from
/// the app.
pub async fn renew_recovery_codes(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    CsrfForm(form): CsrfForm<ConfirmForm>,
) -> Result<Response, AppError> {
    let result = state
        .store
        .renew_recovery_codes(&auth.actor, state.clock.now(), &form.code)
        .await;
    codes_or_refusal(&state, ctx, &auth, result).await
}

async fn codes_or_refusal(
    state: &AppState,
    ctx: Ctx,
    auth: &crate::session::Authenticated,
    result: Result<Vec<String>, tongxin_store::StoreError>,
) -> Result<Response, AppError> {
    let (status, codes, errors) = match refused(result)? {
        Ok(codes) => (StatusCode::OK, codes, FormErrors::default()),
        Err(invalid) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Vec::new(),
            ctx.errors(&invalid),
        ),
    };
    let page = setup_page(state, ctx, auth, codes, errors).await?;
    Ok(page.ctx.respond(status, page.render()?))
}

/// `POST /accounts/{id}/two-factor/reset`: the security administrator takes an account's
/// second factor away; its holder sets up a new one at the next login.
pub async fn reset(
    State(state): State<AppState>,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
    CsrfForm(_): CsrfForm<crate::accounts::auth_pages::Empty>,
) -> Result<Response, AppError> {
    state
        .store
        .reset_second_factor(&auth.actor, state.clock.now(), id)
        .await?;
    Ok(done(&format!("/accounts/{id}"), "second_factor_reset"))
}
