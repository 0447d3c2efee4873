//! The study-material library: search, upload (with the repair report), and reading a material
//! in Simplified or Traditional Chinese.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use tongxin_core::Invalid;
use tongxin_store::{MaterialImport, MaterialQuery, MaterialUpload, MaterialView, Page};
use tongxin_text::script::Script;

use crate::AppState;
use crate::activities::pages::unit_id_of;
use crate::error::AppError;
use crate::forms::{CsrfUpload, IdPath, Query};
use crate::pages::chrome::{Ctx, FormErrors, ListForm, Pager, SortHeader, form_status, refused};
use crate::session::CurrentUser;

#[derive(Template)]
#[template(path = "materials/index.html")]
struct IndexPage {
    ctx: Ctx,
    q: String,
    results: Page<MaterialView>,
    pager: Pager,
    sort_by_date: SortHeader,
    unit_code: String,
    imported: Option<MaterialImport>,
    errors: FormErrors,
}

/// The library lists the newest first.
const NATURAL_ORDER: &str = "-uploaded";

async fn render_index(
    state: &AppState,
    ctx: Ctx,
    actor: &tongxin_store::Actor,
    list: ListForm,
    unit_code: String,
    imported: Option<MaterialImport>,
    invalid: &[Invalid],
) -> Result<Response, AppError> {
    let order = list.order(NATURAL_ORDER);
    // The library starts from the unit chosen in the top bar.
    let query = MaterialQuery {
        q: Some(list.q.clone()),
        unit_id: ctx.scope.as_ref().map(|u| u.id),
        reversed: order.reversed(),
    };
    let results = state.store.materials(actor, &query, list.page()).await?;
    let (pager, sort_by_date) = list.tools(&results, "/materials", &order);
    let status = form_status(invalid);
    let page = IndexPage {
        errors: ctx.errors(invalid),
        ctx: ctx.with_section("materials"),
        q: list.q,
        results,
        pager,
        sort_by_date,
        unit_code,
        imported,
    };
    Ok(page.ctx.respond(status, page.render()?))
}

pub async fn index(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    Query(list): Query<ListForm>,
) -> Result<Response, AppError> {
    let unit_code = state
        .store
        .unit(&auth.actor, auth.actor.unit_id().unwrap_or_default())
        .await
        .map(|u| u.code)
        .unwrap_or_default();
    render_index(&state, ctx, &auth.actor, list, unit_code, None, &[]).await
}

/// Uploads a document and shows what the import repaired on the same page.
pub async fn upload(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    upload: CsrfUpload,
) -> Result<Response, AppError> {
    let field = |name: &str| upload.fields.get(name).cloned().unwrap_or_default();
    let unit_code = field("unit_code");
    let unit_id = match unit_id_of(&state, &auth.actor, &unit_code).await? {
        Ok(unit_id) => unit_id,
        Err(reason) => {
            let invalid = Invalid::new(tongxin_core::Field::Unit, reason);
            return render_index(
                &state,
                ctx,
                &auth.actor,
                ListForm::default(),
                unit_code,
                None,
                &[invalid],
            )
            .await;
        }
    };
    let material = MaterialUpload {
        unit_id,
        title: field("title"),
        file_name: upload.file_name.clone(),
        bytes: upload.bytes.to_vec(),
    };
    let (imported, invalid) = match refused(
        state
            .store
            .import_material(&auth.actor, state.clock.now(), &material)
            .await,
    )? {
        Ok(imported) => (Some(imported), Vec::new()),
        Err(invalid) => (None, invalid),
    };
    render_index(
        &state,
        ctx,
        &auth.actor,
        ListForm::default(),
        unit_code,
        imported,
        &invalid,
    )
    .await
}

#[derive(Deserialize, Default)]
pub struct ShowQuery {
    #[serde(default)]
    script: String,
}

#[derive(Template)]
#[template(path = "materials/show.html")]
struct ShowPage {
    ctx: Ctx,
    material: MaterialView,
    paragraphs: Vec<String>,
    traditional: bool,
    /// The units down to the one the material is filed under.
    lineage: Vec<tongxin_store::UnitView>,
}

pub async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
    Query(query): Query<ShowQuery>,
) -> Result<Response, AppError> {
    let script = Script::parse(&query.script).unwrap_or(Script::Simplified);
    let (material, text) = state.store.material(&auth.actor, id, script).await?;
    let page = ShowPage {
        lineage: state
            .store
            .lineage_of(&auth.actor, material.unit_id)
            .await?,
        ctx: ctx.with_section("materials"),
        material,
        paragraphs: text.lines().map(str::to_owned).collect(),
        traditional: script == Script::Traditional,
    };
    Ok(page.ctx.respond(StatusCode::OK, page.render()?))
}

/// The file as uploaded, for download.
pub async fn file(
    State(state): State<AppState>,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
) -> Result<Response, AppError> {
    let (name, media_type, bytes) = state.store.material_file(&auth.actor, id).await?;
    Ok(crate::uploads::user_file(
        &media_type,
        &name,
        bytes,
        crate::uploads::Disposition::Attachment,
    ))
}
