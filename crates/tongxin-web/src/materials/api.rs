//! `/materials`: the study-material library, uploaded as TXT, HTML or DOCX, repaired, and read
//! in Simplified or Traditional Chinese.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};
use tongxin_store::{MaterialQuery, MaterialUpload, MaterialView, PageRequest};
use tongxin_text::script::Script;

use crate::AppState;
use crate::directory::api::people::bad_query;
use crate::error::AppError;
use crate::forms::{IdPath, Query};
use crate::session::ApiUser;

fn material_json(m: &MaterialView) -> Value {
    json!({
        "id": m.id,
        "unit": { "id": m.unit_id, "name": m.unit_name },
        "title": m.title,
        "file_name": m.file_name,
        "kind": m.kind,
        "repairs": m.repairs,
        "chars": m.chars,
        "created_at": m.created_at.rfc3339(),
    })
}

#[derive(Deserialize)]
pub struct ListQuery {
    q: Option<String>,
    /// Only this unit's subtree.
    unit_id: Option<i64>,
    /// `uploaded` for the oldest first; the newest first otherwise.
    sort: Option<String>,
    page: Option<u64>,
    per_page: Option<u64>,
}

pub async fn list(
    State(state): State<AppState>,
    user: ApiUser,
    Query(query): Query<ListQuery>,
) -> Result<Json<Value>, AppError> {
    let page = state
        .store
        .materials(
            &user.actor,
            &MaterialQuery {
                q: query.q,
                unit_id: query.unit_id,
                reversed: query.sort.as_deref() == Some("uploaded"),
            },
            PageRequest::new(query.page, query.per_page),
        )
        .await?;
    Ok(Json(crate::api::listing::list(&page, material_json)))
}

#[derive(Deserialize)]
pub struct UploadQuery {
    file_name: String,
    unit_id: i64,
    #[serde(default)]
    title: String,
}

/// Uploads a document: the body is the file; its name (and so its kind) is in the query.
pub async fn upload(
    State(state): State<AppState>,
    user: ApiUser,
    Query(query): Query<UploadQuery>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let upload = MaterialUpload {
        unit_id: query.unit_id,
        title: query.title,
        file_name: query.file_name,
        bytes: body.to_vec(),
    };
    let imported = state
        .store
        .import_material(&user.actor, state.clock.now(), &upload)
        .await?;
    let mut body = material_json(&imported.material);
    body["suspects"] = json!(imported.suspects);
    Ok((StatusCode::CREATED, Json(body)))
}

#[derive(Deserialize)]
pub struct ShowQuery {
    script: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
    Query(query): Query<ShowQuery>,
) -> Result<Json<Value>, AppError> {
    let script = match query.script.as_deref() {
        None | Some("") => Script::Simplified,
        Some(s) => Script::parse(s).ok_or_else(|| bad_query(format!("script={s}")))?,
    };
    let (material, text) = state.store.material(&user.actor, id, script).await?;
    let mut body = material_json(&material);
    body["script"] = json!(script.key());
    body["text"] = json!(text);
    Ok(Json(body))
}

pub async fn file(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
) -> Result<Response, AppError> {
    let (name, media_type, bytes) = state.store.material_file(&user.actor, id).await?;
    Ok(crate::uploads::user_file(
        &media_type,
        &name,
        bytes,
        crate::uploads::Disposition::Attachment,
    ))
}
