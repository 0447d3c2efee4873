//! `/settings/notifications` and `/api/v1/me/preferences`: the account's e-mail address and,
//! for each kind of event it can hear of, in the inbox only, by e-mail as it happens, or in a
//! daily digest; and "send me a test e-mail".

use askama::Template;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tongxin_core::{Field, Invalid, Reason};
use tongxin_store::{Actor, Delivery, StoreError, kinds_for};

use crate::AppState;
use crate::error::AppError;
use crate::forms::{ApiJson, CsrfForm, Pairs};
use crate::pages::chrome::{Ctx, FormErrors, done, form_status, refused};
use crate::session::{ApiUser, CurrentUser};

/// Saves the address (empty removes it, and with it deliveries by mail) and the deliveries
/// named; all checked before anything is written.
async fn save(
    state: &AppState,
    actor: &Actor,
    email: Option<Option<String>>,
    deliveries: &[(String, String)],
) -> Result<(), StoreError> {
    let allowed = kinds_for(actor.role());
    let mut parsed = Vec::new();
    for (kind, delivery) in deliveries {
        if !allowed.contains(&kind.as_str()) {
            return Err(Invalid::new(Field::Named("kind"), Reason::NotAChoice).into());
        }
        let delivery = Delivery::parse(delivery)
            .ok_or_else(|| Invalid::new(Field::Named("delivery"), Reason::NotAChoice))?;
        parsed.push((kind.as_str(), delivery));
    }
    let now = state.clock.now();
    if let Some(email) = email {
        let email = match email.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
            Some(text) => Some(tongxin_jobs::outbound::parse_address(text)?),
            None => None,
        };
        state
            .store
            .set_own_email(actor, now, email.as_deref())
            .await?;
    }
    for (kind, delivery) in parsed {
        state
            .store
            .set_notification_preference(actor, kind, delivery)
            .await?;
    }
    Ok(())
}

/// Sends a test e-mail to the actor's address.
async fn test_mail(state: &AppState, actor: &Actor) -> Result<String, StoreError> {
    let account = actor.user_id().ok_or(StoreError::Forbidden)?;
    let address = state
        .store
        .email_of(account)
        .await?
        .ok_or_else(|| Invalid::new(Field::Named("email"), Reason::Required))?;
    let lang = tongxin_i18n::Lang::default();
    let now = state.clock.now();
    state
        .outbound
        .send_mail(
            &address,
            state.catalog.get(lang, "settings.test_subject"),
            state.catalog.get(lang, "settings.test_body"),
            &format!("test-{account}-{}", now.micros()),
        )
        .await?;
    Ok(address)
}

/// One kind of event and how it is delivered now.
struct Line {
    kind: &'static str,
    delivery: &'static str,
}

#[derive(Template)]
#[template(path = "notifications/settings.html")]
struct SettingsPage {
    ctx: Ctx,
    email: String,
    lines: Vec<Line>,
    deliveries: [Delivery; 3],
    errors: FormErrors,
    mail_configured: bool,
    /// A test e-mail's outcome: sent to this address, or refused with why.
    tested: Option<Result<String, String>>,
}

async fn render(
    state: &AppState,
    ctx: Ctx,
    actor: &Actor,
    invalid: &[Invalid],
    tested: Option<Result<String, String>>,
) -> Result<Response, AppError> {
    let account = actor.user_id().ok_or(AppError::Forbidden)?;
    let chosen = state.store.notification_preferences(actor).await?;
    let lines = kinds_for(actor.role())
        .iter()
        .map(|kind| Line {
            kind,
            delivery: chosen.get(*kind).copied().unwrap_or(Delivery::App).as_str(),
        })
        .collect();
    let status = match &tested {
        Some(Err(_)) => StatusCode::UNPROCESSABLE_ENTITY,
        _ => form_status(invalid),
    };
    let page = SettingsPage {
        errors: ctx.errors(invalid).in_order(&["email", "kind", "delivery"]),
        ctx: ctx.with_section("settings"),
        email: state.store.email_of(account).await?.unwrap_or_default(),
        lines,
        deliveries: Delivery::ALL,
        mail_configured: state.outbound.settings().mail.is_some(),
        tested,
    };
    Ok(page.ctx.respond(status, page.render()?))
}

pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
) -> Result<Response, AppError> {
    render(&state, ctx, &auth.actor, &[], None).await
}

pub async fn submit(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let pairs = Pairs(pairs);
    if pairs.get("action") == "test" {
        let outcome = match refused(test_mail(&state, &auth.actor).await)? {
            Ok(address) => Ok(address),
            Err(invalid) => Err(ctx
                .errors(&invalid)
                .all()
                .iter()
                .map(|(_, m)| m.clone())
                .collect::<Vec<_>>()
                .join(" ")),
        };
        return render(&state, ctx, &auth.actor, &[], Some(outcome)).await;
    }
    let deliveries: Vec<(String, String)> = pairs
        .0
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("kind:")?.to_owned(), v.clone())))
        .collect();
    let email = Some(Some(pairs.get("email").to_owned()));
    match refused(save(&state, &auth.actor, email, &deliveries).await)? {
        Ok(()) => Ok(done("/settings/notifications", "settings_saved")),
        Err(invalid) => render(&state, ctx, &auth.actor, &invalid, None).await,
    }
}

async fn preferences_json(state: &AppState, actor: &Actor) -> Result<Value, AppError> {
    let account = actor.user_id().ok_or(AppError::Forbidden)?;
    let chosen = state.store.notification_preferences(actor).await?;
    let deliveries: Map<String, Value> = kinds_for(actor.role())
        .iter()
        .map(|kind| {
            let delivery = chosen.get(*kind).copied().unwrap_or(Delivery::App);
            ((*kind).to_owned(), json!(delivery.as_str()))
        })
        .collect();
    Ok(json!({
        "email": state.store.email_of(account).await?,
        "deliveries": deliveries,
    }))
}

/// `GET /me/preferences`.
pub async fn get_preferences(
    State(state): State<AppState>,
    user: ApiUser,
) -> Result<Json<Value>, AppError> {
    Ok(Json(preferences_json(&state, &user.actor).await?))
}

#[derive(Deserialize)]
pub struct PreferencesBody {
    /// A new address; `null` removes it; absent leaves it.
    #[serde(default, with = "present")]
    email: Option<Option<String>>,
    #[serde(default)]
    deliveries: std::collections::BTreeMap<String, String>,
}

/// Tells an absent field (`None`) from `null` (`Some(None)`).
mod present {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Option<String>>, D::Error> {
        Ok(Some(Option::deserialize(deserializer)?))
    }
}

/// `PUT /me/preferences`: the address and the deliveries named; the others stay.
pub async fn put_preferences(
    State(state): State<AppState>,
    user: ApiUser,
    ApiJson(body): ApiJson<PreferencesBody>,
) -> Result<Json<Value>, AppError> {
    let deliveries: Vec<(String, String)> = body.deliveries.into_iter().collect();
    save(&state, &user.actor, body.email, &deliveries).await?;
    Ok(Json(preferences_json(&state, &user.actor).await?))
}

/// `POST /me/email/test`: a test e-mail to the account's address now.
pub async fn test_email(
    State(state): State<AppState>,
    user: ApiUser,
) -> Result<Json<Value>, AppError> {
    let address = test_mail(&state, &user.actor).await?;
    Ok(Json(json!({ "sent": true, "to": address })))
}
