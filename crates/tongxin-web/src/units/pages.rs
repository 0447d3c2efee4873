//! The unit tree: browse, search, create, rename, move, archive and restore.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use tongxin_core::{Field, Invalid, Reason, UnitLevel, UnitName};
use tongxin_store::{Actor, Page, PageRequest, UnitChange, UnitQuery, UnitSummary, UnitView};

use crate::AppState;
use crate::accounts::auth_pages::Empty;
use crate::error::AppError;
use crate::forms::{CsrfForm, IdPath, Query};
use crate::input;
use crate::pages::chrome::{Ctx, FormErrors, Pager, done, refused, see_other};
use crate::session::CurrentUser;

#[derive(Deserialize, Default)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
    page: Option<u64>,
    per_page: Option<u64>,
    #[serde(default)]
    archived: Option<String>,
}

#[derive(Template)]
#[template(path = "units/search.html")]
struct SearchPage {
    ctx: Ctx,
    q: String,
    archived: bool,
    results: Page<UnitView>,
    pager: Pager,
}

/// `/units`: the caller's own unit, or search results when a query is given.
pub async fn index(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    Query(query): Query<SearchQuery>,
) -> Result<Response, AppError> {
    let actor = &auth.actor;
    let archived = query.archived.is_some();
    if query.q.trim().is_empty() && query.page.is_none() && !archived {
        let own = actor.unit_id().ok_or(AppError::NotFound)?;
        return Ok(see_other(&format!("/units/{own}")));
    }
    let results = state
        .store
        .units(
            actor,
            &UnitQuery {
                q: Some(query.q.clone()),
                include_archived: archived,
                ..UnitQuery::default()
            },
            PageRequest::new(query.page, query.per_page),
        )
        .await?;
    let archived_param = if archived { "1" } else { "" };
    let pager = Pager::new(
        &results,
        "/units",
        &[("q", &query.q), ("archived", archived_param)],
    );
    let page = SearchPage {
        ctx: ctx.with_section("units"),
        pager,
        q: query.q,
        archived,
        results,
    };
    Ok(page.ctx.respond(StatusCode::OK, page.render()?))
}

#[derive(Template)]
#[template(path = "units/show.html")]
struct ShowPage {
    ctx: Ctx,
    unit: UnitView,
    lineage: Vec<UnitView>,
    children: Vec<UnitSummary>,
    can_add_child: bool,
    can_move: bool,
}

pub async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
) -> Result<Response, AppError> {
    let actor = &auth.actor;
    let unit = state.store.unit(actor, id).await?;
    let lineage = state.store.lineage(actor, &unit).await?;
    let children = state.store.children(actor, id).await?;
    let page = ShowPage {
        can_add_child: !unit.archived && unit.level.child().is_some(),
        can_move: unit.parent_id.is_some() && actor.unit_id() != Some(unit.id),
        ctx: ctx.with_section("units"),
        unit,
        lineage,
        children,
    };
    Ok(page.ctx.respond(StatusCode::OK, page.render()?))
}

#[derive(Template)]
#[template(path = "units/form.html")]
struct UnitForm {
    ctx: Ctx,
    /// The unit being edited, or the parent of the unit being created.
    unit: UnitView,
    lineage: Vec<UnitView>,
    creating: bool,
    code: String,
    name: String,
    errors: FormErrors,
}

/// The unit and its breadcrumb, for pages that act on it; only administrators get there.
async fn load(
    state: &AppState,
    actor: &Actor,
    id: i64,
) -> Result<(UnitView, Vec<UnitView>), AppError> {
    let unit = state.store.unit(actor, id).await?;
    if !actor.role().administers() {
        return Err(AppError::Forbidden);
    }
    let lineage = state.store.lineage(actor, &unit).await?;
    Ok((unit, lineage))
}

fn render_form(form: UnitForm, status: StatusCode) -> Result<Response, AppError> {
    Ok(form.ctx.respond(status, form.render()?))
}

pub async fn new_page(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
) -> Result<Response, AppError> {
    let (unit, lineage) = load(&state, &auth.actor, id).await?;
    render_form(
        UnitForm {
            ctx: ctx.with_section("units"),
            unit,
            lineage,
            creating: true,
            code: String::new(),
            name: String::new(),
            errors: FormErrors::default(),
        },
        StatusCode::OK,
    )
}

#[derive(Deserialize)]
pub struct UnitFields {
    #[serde(default)]
    code: String,
    #[serde(default)]
    name: String,
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
    CsrfForm(form): CsrfForm<UnitFields>,
) -> Result<Response, AppError> {
    let (unit, lineage) = load(&state, &auth.actor, id).await?;
    let invalid = match input::new_unit(id, &form.code, &form.name) {
        Ok(new) => {
            let created = state
                .store
                .create_unit(&auth.actor, state.clock.now(), new)
                .await;
            match refused(created)? {
                Ok(created) => return Ok(done(&format!("/units/{}", created.id), "unit_created")),
                Err(invalid) => invalid,
            }
        }
        Err(invalid) => invalid,
    };
    render_form(
        UnitForm {
            errors: ctx.errors(&invalid),
            ctx: ctx.with_section("units"),
            unit,
            lineage,
            creating: true,
            code: form.code,
            name: form.name,
        },
        StatusCode::UNPROCESSABLE_ENTITY,
    )
}

pub async fn edit_page(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
) -> Result<Response, AppError> {
    let (unit, lineage) = load(&state, &auth.actor, id).await?;
    render_form(
        UnitForm {
            ctx: ctx.with_section("units"),
            code: unit.code.clone(),
            name: unit.name.clone(),
            unit,
            lineage,
            creating: false,
            errors: FormErrors::default(),
        },
        StatusCode::OK,
    )
}

pub async fn rename(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
    CsrfForm(form): CsrfForm<UnitFields>,
) -> Result<Response, AppError> {
    let (unit, lineage) = load(&state, &auth.actor, id).await?;
    let invalid = match UnitName::parse(&form.name) {
        Ok(name) => {
            let change = UnitChange::Rename(name);
            match refused(
                state
                    .store
                    .change_unit(&auth.actor, state.clock.now(), id, change)
                    .await,
            )? {
                Ok(_) => return Ok(done(&format!("/units/{id}"), "unit_renamed")),
                Err(invalid) => invalid,
            }
        }
        Err(invalid) => vec![invalid],
    };
    render_form(
        UnitForm {
            errors: ctx.errors(&invalid),
            ctx: ctx.with_section("units"),
            code: unit.code.clone(),
            name: form.name,
            unit,
            lineage,
            creating: false,
        },
        StatusCode::UNPROCESSABLE_ENTITY,
    )
}

#[derive(Template)]
#[template(path = "units/move.html")]
struct MovePage {
    ctx: Ctx,
    unit: UnitView,
    lineage: Vec<UnitView>,
    candidates: Vec<UnitView>,
    parent_code: String,
    errors: FormErrors,
}

/// Units that could take `unit` as a child: active, one level up, in the caller's subtree.
async fn candidates(
    state: &AppState,
    actor: &Actor,
    unit: &UnitView,
) -> Result<Vec<UnitView>, AppError> {
    let Some(level) = UnitLevel::from_number(unit.level.number() - 1) else {
        return Ok(Vec::new());
    };
    let query = UnitQuery {
        level: Some(level),
        ..UnitQuery::default()
    };
    let page = PageRequest::new(None, Some(PageRequest::MAX_PER_PAGE));
    Ok(state.store.units(actor, &query, page).await?.items)
}

pub async fn move_page(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
) -> Result<Response, AppError> {
    let (unit, lineage) = load(&state, &auth.actor, id).await?;
    let candidates = candidates(&state, &auth.actor, &unit).await?;
    let page = MovePage {
        ctx: ctx.with_section("units"),
        unit,
        lineage,
        candidates,
        parent_code: String::new(),
        errors: FormErrors::default(),
    };
    Ok(page.ctx.respond(StatusCode::OK, page.render()?))
}

#[derive(Deserialize)]
pub struct MoveFields {
    #[serde(default)]
    parent_code: String,
}

pub async fn move_unit(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
    CsrfForm(form): CsrfForm<MoveFields>,
) -> Result<Response, AppError> {
    let actor = &auth.actor;
    let (unit, lineage) = load(&state, actor, id).await?;
    let invalid = if form.parent_code.trim().is_empty() {
        vec![Invalid::new(Field::Parent, Reason::Required)]
    } else {
        match state.store.unit_by_code(actor, &form.parent_code).await {
            Ok(parent) => {
                let change = UnitChange::Move {
                    parent_id: parent.id,
                };
                match refused(
                    state
                        .store
                        .change_unit(actor, state.clock.now(), id, change)
                        .await,
                )? {
                    Ok(_) => return Ok(done(&format!("/units/{id}"), "unit_moved")),
                    Err(invalid) => invalid,
                }
            }
            Err(tongxin_store::StoreError::NotFound) => {
                vec![Invalid::new(Field::Parent, Reason::NotFound)]
            }
            Err(e) => return Err(e.into()),
        }
    };
    let candidates = candidates(&state, actor, &unit).await?;
    let page = MovePage {
        errors: ctx.errors(&invalid),
        ctx: ctx.with_section("units"),
        unit,
        lineage,
        candidates,
        parent_code: form.parent_code,
    };
    Ok(page
        .ctx
        .respond(StatusCode::UNPROCESSABLE_ENTITY, page.render()?))
}

#[derive(Template)]
#[template(path = "units/archive.html")]
struct ArchivePage {
    ctx: Ctx,
    unit: UnitView,
    lineage: Vec<UnitView>,
    errors: FormErrors,
}

/// Asks once before archiving.
pub async fn archive_page(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
) -> Result<Response, AppError> {
    let (unit, lineage) = load(&state, &auth.actor, id).await?;
    let page = ArchivePage {
        ctx: ctx.with_section("units"),
        unit,
        lineage,
        errors: FormErrors::default(),
    };
    Ok(page.ctx.respond(StatusCode::OK, page.render()?))
}

pub async fn archive(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, AppError> {
    let (unit, lineage) = load(&state, &auth.actor, id).await?;
    let result = state
        .store
        .change_unit(&auth.actor, state.clock.now(), id, UnitChange::Archive)
        .await;
    let invalid = match refused(result)? {
        Ok(_) => return Ok(done(&format!("/units/{id}"), "unit_archived")),
        Err(invalid) => invalid,
    };
    let page = ArchivePage {
        errors: ctx.errors(&invalid),
        ctx: ctx.with_section("units"),
        unit,
        lineage,
    };
    Ok(page
        .ctx
        .respond(StatusCode::UNPROCESSABLE_ENTITY, page.render()?))
}

/// Undoes an archive.
pub async fn restore(
    State(state): State<AppState>,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, AppError> {
    load(&state, &auth.actor, id).await?;
    state
        .store
        .change_unit(&auth.actor, state.clock.now(), id, UnitChange::Restore)
        .await?;
    Ok(done(&format!("/units/{id}"), "unit_restored"))
}

#[derive(Deserialize, Default)]
pub struct ChoicesQuery {
    #[serde(default)]
    q: String,
}

/// How many units a picker offers at once.
const CHOICES: usize = 20;

/// `/units/choices?q=`: what the unit picker's little script offers as the user types (the
/// signed-in user's own subtree only); without script the field takes a code and links to the
/// unit search.
pub async fn choices(
    State(state): State<AppState>,
    CurrentUser(auth): CurrentUser,
    Query(query): Query<ChoicesQuery>,
) -> Result<axum::Json<serde_json::Value>, AppError> {
    let found = state
        .store
        .unit_choices(&auth.actor, &query.q, CHOICES)
        .await?;
    Ok(axum::Json(serde_json::json!(
        found
            .iter()
            .map(|u| serde_json::json!({ "code": u.code, "name": u.name, "above": u.above }))
            .collect::<Vec<_>>()
    )))
}

#[derive(Template)]
#[template(path = "units/scope.html")]
struct ScopePage {
    ctx: Ctx,
    own: Option<UnitView>,
    errors: FormErrors,
    typed: String,
}

/// `/scope`: the top bar's unit switcher — the unit the directory and the activity list
/// start from, chosen within one's own subtree.
pub async fn scope_page(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
) -> Result<Response, AppError> {
    render_scope(&state, ctx, &auth.actor, String::new(), &[]).await
}

async fn render_scope(
    state: &AppState,
    ctx: Ctx,
    actor: &Actor,
    typed: String,
    invalid: &[Invalid],
) -> Result<Response, AppError> {
    if !actor.role().works_in_tree() {
        return Err(AppError::NotFound);
    }
    let own = match actor.unit_id() {
        Some(id) => Some(state.store.unit(actor, id).await?),
        None => None,
    };
    let page = ScopePage {
        errors: ctx.errors(invalid),
        ctx,
        own,
        typed,
    };
    let status = crate::pages::chrome::form_status(invalid);
    Ok(page.ctx.respond(status, page.render()?))
}

#[derive(Deserialize)]
pub struct ScopeForm {
    #[serde(default)]
    unit_code: String,
}

/// Sets (or, given no code, clears) the unit lists start from, then returns home.
pub async fn set_scope(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    CsrfForm(form): CsrfForm<ScopeForm>,
) -> Result<Response, AppError> {
    let code = form.unit_code.trim();
    let value = if code.is_empty() {
        String::new()
    } else {
        match state.store.unit_by_code(&auth.actor, code).await {
            Ok(unit) => unit.code,
            Err(tongxin_store::StoreError::NotFound) => {
                let refused = Invalid::new(Field::Unit, Reason::NotFound);
                return render_scope(&state, ctx, &auth.actor, code.to_owned(), &[refused]).await;
            }
            Err(e) => return Err(e.into()),
        }
    };
    let max_age = if value.is_empty() { 0 } else { 30 * 24 * 3600 };
    let cookie = format!(
        "{}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax",
        crate::session::SCOPE_COOKIE
    );
    let mut response = see_other("/directory");
    if let Ok(header) = axum::http::HeaderValue::from_str(&cookie) {
        response
            .headers_mut()
            .append(axum::http::header::SET_COOKIE, header);
    }
    Ok(response)
}
