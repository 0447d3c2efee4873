//! `/sectors`: the shared sector list and each sector's own fields.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use tongxin_core::{Field, Invalid, Reason, SectorCode, parse_name};
use tongxin_store::{SectorChange, SectorFieldChange, SectorFieldView, SectorView};

use crate::AppState;
use crate::error::AppError;
use crate::forms::{ApiJson, IdPair, IdPath, Query};
use crate::input::{self, SectorFieldFields};
use crate::session::ApiUser;

fn field_json(f: &SectorFieldView) -> Value {
    json!({
        "id": f.id,
        "key": f.key,
        "label": f.label,
        "kind": f.kind.key(),
        "required": f.required,
        "choices": f.choices,
        "archived": f.archived,
    })
}

fn sector_json(s: &SectorView) -> Value {
    json!({
        "id": s.id,
        "code": s.code,
        "name": s.name,
        "position": s.position,
        "archived": s.archived,
        "fields": s.fields.iter().map(field_json).collect::<Vec<_>>(),
    })
}

#[derive(Deserialize)]
pub struct SectorQuery {
    #[serde(default)]
    include_archived: bool,
}

pub async fn list(
    State(state): State<AppState>,
    user: ApiUser,
    Query(query): Query<SectorQuery>,
) -> Result<Json<Value>, AppError> {
    let sectors = state
        .store
        .sectors(&user.actor, query.include_archived)
        .await?;
    Ok(Json(crate::api::listing::whole(&sectors, sector_json)))
}

#[derive(Deserialize)]
pub struct NewSector {
    code: String,
    name: String,
}

pub async fn create(
    State(state): State<AppState>,
    user: ApiUser,
    ApiJson(body): ApiJson<NewSector>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let mut checks = tongxin_core::Checks::default();
    let code = checks.check(SectorCode::parse(&body.code));
    let name = checks.check(parse_name(Field::Named("sector_name"), &body.name));
    let (Some(code), Some(name)) = (code, name) else {
        return Err(AppError::Invalid(checks.into_inner()));
    };
    let created = state
        .store
        .create_sector(&user.actor, state.clock.now(), &code, &name)
        .await?;
    Ok((StatusCode::CREATED, Json(sector_json(&created))))
}

#[derive(Deserialize)]
pub struct SectorPatch {
    name: Option<String>,
    archived: Option<bool>,
    move_up: Option<bool>,
}

pub async fn change(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
    ApiJson(patch): ApiJson<SectorPatch>,
) -> Result<Json<Value>, AppError> {
    let change = match (patch.name, patch.archived, patch.move_up) {
        (Some(name), None, None) => {
            SectorChange::Rename(parse_name(Field::Named("sector_name"), &name)?)
        }
        (None, Some(true), None) => SectorChange::Archive,
        (None, Some(false), None) => SectorChange::Restore,
        (None, None, Some(true)) => SectorChange::MoveUp,
        _ => return Err(Invalid::new(Field::Body, Reason::Required).into()),
    };
    let sector = state
        .store
        .change_sector(&user.actor, state.clock.now(), id, change)
        .await?;
    Ok(Json(sector_json(&sector)))
}

/// A field definition as the API takes it: choices as a list.
#[derive(Deserialize)]
pub struct FieldBody {
    #[serde(default)]
    key: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    choices: Vec<String>,
}

impl FieldBody {
    fn into_fields(self) -> SectorFieldFields {
        SectorFieldFields {
            key: self.key,
            label: self.label,
            kind: self.kind,
            required: self.required,
            choices: self.choices.join("\n"),
        }
    }
}

/// `POST /sectors/{id}/fields`: adds a field to a sector.
pub async fn create_field(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(sector_id): IdPath,
    ApiJson(body): ApiJson<FieldBody>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let (key, kind, definition) =
        input::new_sector_field(&body.into_fields()).map_err(AppError::Invalid)?;
    let created = state
        .store
        .create_sector_field(
            &user.actor,
            state.clock.now(),
            sector_id,
            &key,
            kind,
            definition,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(field_json(&created))))
}

#[derive(Deserialize)]
pub struct FieldPatch {
    archived: Option<bool>,
    #[serde(flatten)]
    definition: FieldBody,
}

/// `PATCH /sectors/{id}/fields/{field_id}`: archives or restores a field, or else replaces its
/// label, whether it is required and its choices together (its key and kind are fixed).
pub async fn change_field(
    State(state): State<AppState>,
    user: ApiUser,
    IdPair(sector_id, field_id): IdPair,
    ApiJson(patch): ApiJson<FieldPatch>,
) -> Result<Json<Value>, AppError> {
    let change = match patch.archived {
        Some(true) => SectorFieldChange::Archive,
        Some(false) => SectorFieldChange::Restore,
        None => SectorFieldChange::Define(
            input::sector_field_definition(&patch.definition.into_fields())
                .map_err(AppError::Invalid)?,
        ),
    };
    let field = state
        .store
        .change_sector_field(
            &user.actor,
            state.clock.now(),
            (sector_id, field_id),
            change,
        )
        .await?;
    Ok(Json(field_json(&field)))
}
