//! `/units/{id}/channels`: the unit's robots and webhooks, a form to add one, and for each a
//! "send a test message" button and removal.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use tongxin_core::{Invalid, Reason};
use tongxin_store::{CHANNEL_EVENTS, ChannelInput, ChannelKind, ChannelView, UnitView};

use crate::AppState;
use crate::error::AppError;
use crate::forms::{CsrfForm, IdPath, Pairs};
use crate::pages::chrome::{Ctx, FormErrors, done, form_status, refused};
use crate::session::CurrentUser;

#[derive(Template)]
#[template(path = "channels/index.html")]
struct ChannelsPage {
    ctx: Ctx,
    unit: UnitView,
    channels: Vec<ChannelView>,
    kinds: [ChannelKind; 4],
    events: [&'static str; 3],
    errors: FormErrors,
    /// What the form held when it was refused (never the address or secret).
    kind: String,
    name: String,
    chosen: Vec<String>,
    /// A test message's outcome: the channel and, when refused, why.
    tested: Option<(i64, Option<String>)>,
}

async fn render(
    state: &AppState,
    ctx: Ctx,
    actor: &tongxin_store::Actor,
    unit_id: i64,
    invalid: &[Invalid],
    form: Option<&ChannelInput>,
    tested: Option<(i64, Option<String>)>,
) -> Result<Response, AppError> {
    let unit = state.store.unit(actor, unit_id).await?;
    let channels = state.store.channels(actor, unit_id).await?;
    let status = if tested.as_ref().is_some_and(|(_, why)| why.is_some()) {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        form_status(invalid)
    };
    let page = ChannelsPage {
        errors: ctx
            .errors(invalid)
            .in_order(&["kind", "channel_name", "url", "secret", "events"]),
        ctx: ctx.with_section("units"),
        unit,
        channels,
        kinds: ChannelKind::ALL,
        events: CHANNEL_EVENTS,
        kind: form.map(|f| f.kind.as_str().to_owned()).unwrap_or_default(),
        name: form.map(|f| f.name.clone()).unwrap_or_default(),
        chosen: form.map(|f| f.events.clone()).unwrap_or_default(),
        tested,
    };
    Ok(page.ctx.respond(status, page.render()?))
}

pub async fn index(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    IdPath(unit): IdPath,
) -> Result<Response, AppError> {
    render(&state, ctx, &auth.actor, unit, &[], None, None).await
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    IdPath(unit): IdPath,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let pairs = Pairs(pairs);
    let Some(kind) = ChannelKind::parse(pairs.get("kind")) else {
        let invalid = [Invalid::new(
            tongxin_core::Field::Named("kind"),
            Reason::NotAChoice,
        )];
        return render(&state, ctx, &auth.actor, unit, &invalid, None, None).await;
    };
    let input = ChannelInput {
        kind,
        name: pairs.get("name").to_owned(),
        url: pairs.get("url").to_owned(),
        secret: Some(pairs.get("secret").to_owned()),
        events: pairs.all("events"),
    };
    match refused(super::add(&state, &auth.actor, unit, &input).await)? {
        Ok(_) => Ok(done(&format!("/units/{unit}/channels"), "channel_added")),
        Err(invalid) => render(&state, ctx, &auth.actor, unit, &invalid, Some(&input), None).await,
    }
}

/// `action=test` sends a test message now; `action=delete` removes the channel.
pub async fn act(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let pairs = Pairs(pairs);
    let unit: i64 = pairs.get("unit").parse().map_err(|_| AppError::NotFound)?;
    match pairs.get("action") {
        "delete" => {
            state
                .store
                .delete_channel(&auth.actor, state.clock.now(), id)
                .await?;
            Ok(done(&format!("/units/{unit}/channels"), "channel_removed"))
        }
        "test" => {
            let outcome = match refused(super::test(&state, &auth.actor, id).await)? {
                Ok(()) => None,
                Err(invalid) => Some(
                    ctx.errors(&invalid)
                        .all()
                        .iter()
                        .map(|(_, message)| message.as_str())
                        .collect::<Vec<_>>()
                        .join(" "),
                ),
            };
            render(
                &state,
                ctx,
                &auth.actor,
                unit,
                &[],
                None,
                Some((id, outcome)),
            )
            .await
        }
        other => Err(AppError::Malformed {
            code: "bad_form",
            detail: format!("action={other}"),
        }),
    }
}
