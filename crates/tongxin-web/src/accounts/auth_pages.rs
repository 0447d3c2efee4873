//! Logging in and out, the language switch, and changing one's own password.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use tongxin_core::{Field, Invalid, Password, Reason};
use tongxin_store::{Actor, ApiTokenView, Credentials, LoginError, SessionKind};

use crate::AppState;
use crate::error::AppError;
use crate::forms::{CsrfForm, Query};
use crate::pages::chrome::{Ctx, FormErrors, encode_query_value, safe_next};
use crate::session::{ClientIp, CurrentUser, LANG_COOKIE, cleared_session_cookie, session_cookie};
use tongxin_core::Checks;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    ctx: Ctx,
    username: String,
    error: String,
    next: String,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

pub async fn login_page(
    ctx: Ctx,
    Query(query): Query<NextQuery>,
    user: Option<CurrentUser>,
) -> Result<Response, AppError> {
    let next = safe_next(query.next.as_deref());
    if user.is_some() {
        return Ok(Redirect::to(&next).into_response());
    }
    let page = LoginPage {
        username: String::new(),
        error: String::new(),
        next,
        ctx,
    };
    Ok(page.ctx.respond(StatusCode::OK, page.render()?))
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

pub async fn login(
    State(state): State<AppState>,
    ctx: Ctx,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> Result<Response, AppError> {
    let next = safe_next(form.next.as_deref());
    let now = state.clock.now();
    if let Err(retry_after) = state
        .login_throttle
        .check(now, ip.as_deref(), &form.username)
    {
        let page = LoginPage {
            username: form.username,
            error: AppError::TooManyAttempts { retry_after }.message(
                &state.catalog,
                ctx.lang,
                state.config.max_body_bytes,
            ),
            next,
            ctx,
        };
        let mut response = page
            .ctx
            .respond(StatusCode::TOO_MANY_REQUESTS, page.render()?);
        response.headers_mut().insert(
            axum::http::header::RETRY_AFTER,
            axum::http::HeaderValue::from(retry_after),
        );
        return Ok(response);
    }
    let outcome = state
        .store
        .login(
            Credentials {
                username: &form.username,
                password: &form.password,
                code: None,
            },
            SessionKind::Web,
            now,
            ip.clone(),
            &state.config.policy,
        )
        .await;
    if outcome.as_ref().is_err_and(LoginError::is_failed_attempt) {
        state
            .login_throttle
            .failed(now, ip.as_deref(), &form.username);
    }
    let error = match outcome {
        Ok((session, _)) => {
            let jar = jar.add(session_cookie(
                session.secret.expose().to_owned(),
                state.config.secure_cookies,
            ));
            // The password was right; the code from the app comes next.
            let to = if session.kind == SessionKind::SecondFactor {
                format!("/login/code?next={}", encode_query_value(&next))
            } else {
                next
            };
            return Ok((jar, Redirect::to(&to)).into_response());
        }
        // One message whatever the cause, so nobody learns which accounts exist or are
        // locked; the audit log keeps the cause.
        Err(LoginError::BadCredentials | LoginError::Disabled | LoginError::Locked { .. }) => {
            ctx.t("login.bad_credentials").to_owned()
        }
        // Asked of API tokens only; a web login goes on to the password page.
        Err(
            refused @ (LoginError::PasswordChangeRequired
            | LoginError::SecondFactorRequired
            | LoginError::SecondFactorSetupRequired
            | LoginError::SecondFactorExpired
            | LoginError::Store(_)),
        ) => return Err(refused.into()),
    };
    let page = LoginPage {
        username: form.username,
        error,
        next,
        ctx,
    };
    Ok(page.ctx.respond(StatusCode::UNAUTHORIZED, page.render()?))
}

#[derive(Deserialize)]
pub struct Empty {}

pub async fn logout(
    State(state): State<AppState>,
    CurrentUser(auth): CurrentUser,
    jar: CookieJar,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, AppError> {
    state
        .store
        .logout(&auth.actor, &auth.session.secret, state.clock.now())
        .await?;
    let jar = jar.add(cleared_session_cookie(state.config.secure_cookies));
    Ok((jar, Redirect::to("/login")).into_response())
}

#[derive(Deserialize)]
pub struct LangForm {
    lang: String,
    next: Option<String>,
}

/// Remembers the chosen language in a cookie for a year.
pub async fn switch_lang(CsrfForm(form): CsrfForm<LangForm>) -> Result<Response, AppError> {
    let lang = tongxin_i18n::Lang::from_tag(&form.lang).ok_or(AppError::Malformed {
        code: "bad_form",
        detail: format!("lang={}", form.lang),
    })?;
    let cookie = format!(
        "{LANG_COOKIE}={}; Path=/; Max-Age={}; SameSite=Lax",
        lang.tag(),
        365 * 24 * 3600
    );
    let mut response = Redirect::to(&safe_next(form.next.as_deref())).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(response)
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    ctx: Ctx,
    errors: FormErrors,
    done: bool,
    /// Someone else set the current password: say why this page came first.
    required: bool,
    /// The caller's live API tokens, to revoke one they do not recognise.
    tokens: Vec<ApiTokenView>,
    token_holder: i64,
}

/// The caller's own live API tokens, for the password page.
async fn own_tokens(state: &AppState, actor: &Actor) -> Result<(Vec<ApiTokenView>, i64), AppError> {
    let id = actor.user_id().ok_or(AppError::NotFound)?;
    let tokens = state
        .store
        .api_tokens(actor, id, state.clock.now(), &state.config.policy)
        .await?;
    Ok((tokens, id))
}

pub async fn password_page(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
) -> Result<Response, AppError> {
    let (tokens, token_holder) = own_tokens(&state, &auth.actor).await?;
    let page = PasswordPage {
        ctx,
        errors: FormErrors::default(),
        done: false,
        required: auth.actor.must_change_password(),
        tokens,
        token_holder,
    };
    Ok(page.ctx.respond(StatusCode::OK, page.render()?))
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    confirm: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> Result<Response, AppError> {
    let mut checks = Checks::default();
    let new = checks.check(Password::parse(&form.new));
    if new.is_some() && form.new != form.confirm {
        checks.check::<()>(Err(Invalid::new(Field::PasswordConfirm, Reason::Mismatch)));
    }
    if new.is_some() && form.new == form.current {
        checks.check::<()>(Err(Invalid::new(Field::Password, Reason::SameAsCurrent)));
    }
    let mut invalid = checks.into_inner();
    if let (Some(new), true) = (new, invalid.is_empty()) {
        let result = state
            .store
            .change_own_password(
                &auth.actor,
                state.clock.now(),
                &form.current,
                new,
                &auth.session.secret,
            )
            .await;
        match result {
            Ok(()) => {
                let (tokens, token_holder) = own_tokens(&state, &auth.actor).await?;
                let page = PasswordPage {
                    ctx,
                    errors: FormErrors::default(),
                    done: true,
                    required: false,
                    tokens,
                    token_holder,
                };
                return Ok(page.ctx.respond(StatusCode::OK, page.render()?));
            }
            Err(tongxin_store::StoreError::Invalid(i)) => invalid.push(i),
            Err(e) => return Err(e.into()),
        }
    }
    let (tokens, token_holder) = own_tokens(&state, &auth.actor).await?;
    let page = PasswordPage {
        errors: ctx.errors(&invalid),
        ctx,
        done: false,
        required: auth.actor.must_change_password(),
        tokens,
        token_holder,
    };
    Ok(page
        .ctx
        .respond(StatusCode::UNPROCESSABLE_ENTITY, page.render()?))
}
