//! Directory settings for administrators of a top unit: the sector list, each sector's own
//! fields, and which optional sensitive fields are collected, and why.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use tongxin_core::FieldKind;
use tongxin_core::{Field, Invalid, Reason, SectorCode, parse_name, parse_optional_text};
use tongxin_store::{SectorChange, SectorFieldChange, SectorView, SensitiveField, StoreError};

use crate::AppState;
use crate::error::AppError;
use crate::forms::{CsrfForm, IdPair, IdPath};
use crate::input::{self, SectorFieldFields};
use crate::pages::chrome::{Ctx, FormErrors, done};
use crate::session::{Authenticated, CurrentUser};
use tongxin_core::Checks;

/// An optional sensitive field and, if enabled, the recorded purpose.
pub struct OptionalField {
    pub key: &'static str,
    pub purpose: Option<String>,
}

#[derive(Template)]
#[template(path = "sectors.html")]
struct SectorsPage {
    ctx: Ctx,
    sectors: Vec<SectorView>,
    optional: Vec<OptionalField>,
    code: String,
    name: String,
    errors: FormErrors,
}

/// Only administrators of a top unit keep the shared settings.
fn require_settings(actor: &tongxin_store::Actor) -> Result<(), AppError> {
    if actor.role().administers() && actor.at_top() {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

async fn render(
    state: &AppState,
    ctx: Ctx,
    auth: &Authenticated,
    status: StatusCode,
    typed: (String, String),
    errors: &[Invalid],
) -> Result<Response, AppError> {
    let actor = &auth.actor;
    require_settings(actor)?;
    let enabled = state.store.enabled_sensitive_fields().await?;
    let optional = [SensitiveField::Ethnicity, SensitiveField::Religion]
        .into_iter()
        .map(|field| OptionalField {
            key: field.key(),
            purpose: enabled
                .iter()
                .find(|(f, _)| *f == field)
                .map(|(_, p)| p.clone()),
        })
        .collect();
    let page = SectorsPage {
        sectors: state.store.sectors(actor, true).await?,
        optional,
        code: typed.0,
        name: typed.1,
        errors: ctx.errors(errors),
        ctx: ctx.with_section("sectors"),
    };
    Ok(page.ctx.respond(status, page.render()?))
}

pub async fn index(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
) -> Result<Response, AppError> {
    render(&state, ctx, &auth, StatusCode::OK, Default::default(), &[]).await
}

#[derive(Deserialize)]
pub struct NewSector {
    #[serde(default)]
    code: String,
    #[serde(default)]
    name: String,
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    CsrfForm(form): CsrfForm<NewSector>,
) -> Result<Response, AppError> {
    let mut checks = Checks::default();
    let code = checks.check(SectorCode::parse(&form.code));
    let name = checks.check(parse_name(Field::Named("sector_name"), &form.name));
    let mut invalid = checks.into_inner();
    if let (Some(code), Some(name)) = (code, name) {
        match state
            .store
            .create_sector(&auth.actor, state.clock.now(), &code, &name)
            .await
        {
            Ok(_) => return Ok(done("/sectors", "sector_created")),
            Err(StoreError::Invalid(i)) => invalid.push(i),
            Err(e) => return Err(e.into()),
        }
    }
    let typed = (form.code, form.name);
    render(
        &state,
        ctx,
        &auth,
        StatusCode::UNPROCESSABLE_ENTITY,
        typed,
        &invalid,
    )
    .await
}

#[derive(Deserialize)]
pub struct SectorAction {
    action: String,
}

/// Moves a sector up, or archives or restores it.
pub async fn change(
    State(state): State<AppState>,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
    CsrfForm(form): CsrfForm<SectorAction>,
) -> Result<Response, AppError> {
    let (change, what) = match form.action.as_str() {
        "up" => (SectorChange::MoveUp, "sector_moved"),
        "archive" => (SectorChange::Archive, "sector_archived"),
        "restore" => (SectorChange::Restore, "sector_restored"),
        other => {
            return Err(AppError::Malformed {
                code: "bad_form",
                detail: format!("action={other}"),
            });
        }
    };
    state
        .store
        .change_sector(&auth.actor, state.clock.now(), id, change)
        .await?;
    Ok(done("/sectors", what))
}

#[derive(Deserialize)]
pub struct FieldSetting {
    field: String,
    #[serde(default)]
    purpose: String,
    /// `enable` or `disable`.
    action: String,
}

/// Enables an optional sensitive field with its purpose, or disables it.
pub async fn set_field(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    CsrfForm(form): CsrfForm<FieldSetting>,
) -> Result<Response, AppError> {
    let field = SensitiveField::parse(&form.field)
        .filter(|f| f.needs_enabling())
        .ok_or_else(|| Invalid::new(Field::Named("field"), Reason::NotFound))?;
    let purpose = if form.action == "enable" {
        match parse_optional_text(Field::Named("purpose"), &form.purpose, 200) {
            Ok(Some(purpose)) => Some(purpose),
            Ok(None) => {
                let missing = Invalid::new(Field::Named("purpose"), Reason::Required);
                return render(
                    &state,
                    ctx,
                    &auth,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Default::default(),
                    &[missing],
                )
                .await;
            }
            Err(invalid) => {
                return render(
                    &state,
                    ctx,
                    &auth,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Default::default(),
                    &[invalid],
                )
                .await;
            }
        }
    } else {
        None
    };
    state
        .store
        .set_sensitive_field(&auth.actor, state.clock.now(), field, purpose)
        .await?;
    Ok(done("/sectors", "sensitive_field_saved"))
}

#[derive(Template)]
#[template(path = "sector.html")]
struct SectorPage {
    ctx: Ctx,
    sector: SectorView,
    kinds: [FieldKind; 5],
    /// What was typed into the new-field form.
    typed: SectorFieldFields,
    errors: FormErrors,
}

async fn render_sector(
    state: &AppState,
    ctx: Ctx,
    auth: &Authenticated,
    id: i64,
    status: StatusCode,
    typed: SectorFieldFields,
    errors: &[Invalid],
) -> Result<Response, AppError> {
    require_settings(&auth.actor)?;
    let sector = state
        .store
        .sectors(&auth.actor, true)
        .await?
        .into_iter()
        .find(|s| s.id == id)
        .ok_or(AppError::NotFound)?;
    let page = SectorPage {
        sector,
        kinds: FieldKind::ALL,
        typed,
        errors: ctx.errors(errors),
        ctx: ctx.with_section("sectors"),
    };
    Ok(page.ctx.respond(status, page.render()?))
}

/// A sector's own fields, with forms to add, change and archive them.
pub async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
) -> Result<Response, AppError> {
    let typed = SectorFieldFields {
        kind: FieldKind::Text.key().to_owned(),
        ..SectorFieldFields::default()
    };
    render_sector(&state, ctx, &auth, id, StatusCode::OK, typed, &[]).await
}

pub async fn create_field(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
    CsrfForm(form): CsrfForm<SectorFieldFields>,
) -> Result<Response, AppError> {
    let invalid = match input::new_sector_field(&form) {
        Ok((key, kind, definition)) => match state
            .store
            .create_sector_field(&auth.actor, state.clock.now(), id, &key, kind, definition)
            .await
        {
            Ok(_) => return Ok(done(&format!("/sectors/{id}"), "sector_field_created")),
            Err(StoreError::Invalid(i)) => vec![i],
            Err(e) => return Err(e.into()),
        },
        Err(invalid) => invalid,
    };
    let status = StatusCode::UNPROCESSABLE_ENTITY;
    render_sector(&state, ctx, &auth, id, status, form, &invalid).await
}

#[derive(Deserialize)]
pub struct FieldAction {
    /// `save`, `archive` or `restore`.
    action: String,
    #[serde(flatten)]
    definition: SectorFieldFields,
}

/// Saves a field's label, requiredness and choices, or archives or restores it.
pub async fn change_field(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    IdPair(id, field_id): IdPair,
    CsrfForm(form): CsrfForm<FieldAction>,
) -> Result<Response, AppError> {
    let change = match form.action.as_str() {
        "archive" => SectorFieldChange::Archive,
        "restore" => SectorFieldChange::Restore,
        "save" => match input::sector_field_definition(&form.definition) {
            Ok(definition) => SectorFieldChange::Define(definition),
            Err(invalid) => {
                let status = StatusCode::UNPROCESSABLE_ENTITY;
                return render_sector(&state, ctx, &auth, id, status, Default::default(), &invalid)
                    .await;
            }
        },
        other => {
            return Err(AppError::Malformed {
                code: "bad_form",
                detail: format!("action={other}"),
            });
        }
    };
    match state
        .store
        .change_sector_field(&auth.actor, state.clock.now(), (id, field_id), change)
        .await
    {
        Ok(_) => Ok(done(&format!("/sectors/{id}"), "sector_field_saved")),
        Err(StoreError::Invalid(i)) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            render_sector(&state, ctx, &auth, id, status, Default::default(), &[i]).await
        }
        Err(e) => Err(e.into()),
    }
}
