//! Tokens and the caller's own identity.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use tongxin_store::SessionKind;

use crate::AppState;
use crate::error::AppError;
use crate::forms::ApiJson;
use crate::session::{ApiUser, ClientIp};

#[derive(Deserialize)]
pub struct Credentials {
    username: String,
    password: String,
    /// The code from the authenticator app (or a recovery code), for an account that has a
    /// second factor.
    #[serde(default)]
    code: Option<String>,
}

/// `POST /auth/token`: a bearer token for a user name and password (and the second factor's
/// code where the account has one). Tokens expire after the same idle time as browser
/// sessions.
pub async fn issue_token(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(credentials): ApiJson<Credentials>,
) -> Result<Response, AppError> {
    let now = state.clock.now();
    state
        .login_throttle
        .check(now, ip.as_deref(), &credentials.username)
        .map_err(|retry_after| AppError::TooManyAttempts { retry_after })?;
    let outcome = state
        .store
        .login(
            tongxin_store::Credentials {
                username: &credentials.username,
                password: &credentials.password,
                code: credentials.code.as_deref(),
            },
            SessionKind::Api,
            now,
            ip.clone(),
            &state.config.policy,
        )
        .await;
    let (session, _) = match outcome {
        Ok(found) => found,
        Err(refused) => {
            if refused.is_failed_attempt() {
                state
                    .login_throttle
                    .failed(now, ip.as_deref(), &credentials.username);
            }
            return Err(refused.into());
        }
    };
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "token": session.secret.expose(),
            "idle_timeout_minutes": state.config.policy.session_idle_minutes,
        })),
    )
        .into_response())
}

/// `DELETE /auth/token`: ends the token's session.
pub async fn revoke_token(
    State(state): State<AppState>,
    user: ApiUser,
) -> Result<StatusCode, AppError> {
    state
        .store
        .logout(&user.actor, &user.secret, state.clock.now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /me`: who the token belongs to.
pub async fn me(
    State(state): State<AppState>,
    user: ApiUser,
) -> Result<Json<serde_json::Value>, AppError> {
    let actor = &user.actor;
    let unit = match actor.unit_id() {
        Some(id) => Some(
            state
                .store
                .unit(actor, id)
                .await
                .ok()
                .map(|u| crate::units::api::unit_json(&u)),
        ),
        None => None,
    };
    Ok(Json(json!({
        "id": actor.user_id(),
        "username": actor.username(),
        "display_name": actor.display_name(),
        "role": actor.role().as_str(),
        "unit": unit.flatten().unwrap_or_else(|| json!({
            "id": actor.unit_id(),
            "name": actor.unit_name(),
        })),
    })))
}
