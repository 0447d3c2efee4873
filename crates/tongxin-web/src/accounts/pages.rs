//! Account administration: list, create, disable and enable, reset a password, change a role,
//! lift a lock, give the right to export in clear.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use tongxin_core::Role;
use tongxin_store::{AccountQuery, AccountView, ApiTokenView, Page, PageRequest};

use crate::AppState;
use crate::accounts::auth_pages::Empty;
use crate::error::AppError;
use crate::forms::{CsrfForm, IdKeyPath, IdPath, Query};
use crate::input;
use crate::pages::chrome::{Ctx, FormErrors, ListOrder, Pager, SortHeader, done, refused};
use crate::session::CurrentUser;

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    unit: Option<i64>,
    /// `-username` for Z to A; A to Z otherwise.
    #[serde(default)]
    sort: String,
    page: Option<u64>,
    per_page: Option<u64>,
}

/// Accounts list by user name, A to Z.
const NATURAL_ORDER: &str = "username";

#[derive(Template)]
#[template(path = "accounts/index.html")]
struct IndexPage {
    ctx: Ctx,
    q: String,
    unit: Option<i64>,
    accounts: Page<AccountView>,
    pager: Pager,
    sort_by_username: SortHeader,
}

pub async fn index(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    Query(query): Query<ListQuery>,
) -> Result<Response, AppError> {
    let order = ListOrder::of(&query.sort, NATURAL_ORDER);
    let accounts = state
        .store
        .accounts(
            &auth.actor,
            &AccountQuery {
                q: Some(query.q.clone()),
                unit_id: query.unit,
                // The list starts from the unit chosen in the top bar.
                subtree_of: ctx.scope.as_ref().map(|u| u.id),
                reversed: order.reversed(),
                ..AccountQuery::default()
            },
            PageRequest::new(query.page, query.per_page),
        )
        .await?;
    let unit_param = query.unit.map(|u| u.to_string()).unwrap_or_default();
    let params = [
        ("q", query.q.as_str()),
        ("unit", &unit_param),
        ("sort", &order.param),
    ];
    let pager = Pager::new(&accounts, "/accounts", &params);
    let page = IndexPage {
        sort_by_username: order.header("/accounts", &params),
        ctx: ctx.with_section("accounts"),
        pager,
        q: query.q,
        unit: query.unit,
        accounts,
    };
    Ok(page.ctx.respond(StatusCode::OK, page.render()?))
}

/// The roles this actor may give (the system administrator: the work roles).
fn roles_to_give(actor: &tongxin_store::Actor) -> Vec<Role> {
    Role::ALL
        .into_iter()
        .filter(|r| actor.may_manage(*r))
        .collect()
}

#[derive(Template)]
#[template(path = "accounts/form.html")]
struct NewPage {
    ctx: Ctx,
    roles: Vec<Role>,
    fields: AccountFields,
    errors: FormErrors,
}

#[derive(Deserialize, Default)]
pub struct AccountFields {
    #[serde(default)]
    unit_code: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    password: String,
}

#[derive(Deserialize)]
pub struct NewQuery {
    unit: Option<i64>,
}

pub async fn new_page(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    Query(query): Query<NewQuery>,
) -> Result<Response, AppError> {
    let actor = &auth.actor;
    if !actor.role().manages_accounts() {
        return Err(AppError::Forbidden);
    }
    let unit_id = query.unit.or(actor.unit_id()).ok_or(AppError::NotFound)?;
    let unit = state.store.unit(actor, unit_id).await?;
    let page = NewPage {
        ctx: ctx.with_section("accounts"),
        roles: roles_to_give(actor),
        fields: AccountFields {
            unit_code: unit.code,
            role: Role::Staff.as_str().to_owned(),
            ..AccountFields::default()
        },
        errors: FormErrors::default(),
    };
    Ok(page.ctx.respond(StatusCode::OK, page.render()?))
}

#[derive(Template)]
#[template(path = "accounts/password_shown.html")]
struct PasswordShown {
    ctx: Ctx,
    account: AccountView,
    password: String,
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    CsrfForm(fields): CsrfForm<AccountFields>,
) -> Result<Response, AppError> {
    let actor = &auth.actor;
    if !actor.role().manages_accounts() {
        return Err(AppError::Forbidden);
    }
    let generated = fields.password.is_empty();
    let password = if generated {
        tongxin_store::generate_password()
    } else {
        fields.password.clone()
    };
    let submitted = input::AccountFields {
        unit_code: &fields.unit_code,
        username: &fields.username,
        display_name: Some(&fields.display_name),
        role: &fields.role,
        password: &password,
    };
    let invalid = match input::new_account(&state.store, actor, &submitted).await? {
        Ok(new) => {
            let created = state
                .store
                .create_account(actor, state.clock.now(), new)
                .await;
            match refused(created)? {
                Ok(account) if generated => {
                    let page = PasswordShown {
                        ctx: ctx.with_section("accounts"),
                        account,
                        password,
                    };
                    return Ok(page.ctx.respond(StatusCode::CREATED, page.render()?));
                }
                Ok(account) => {
                    return Ok(done(
                        &format!("/accounts/{}", account.id),
                        "account_created",
                    ));
                }
                Err(invalid) => invalid,
            }
        }
        Err(invalid) => invalid,
    };
    let page = NewPage {
        errors: ctx.errors(&invalid),
        ctx: ctx.with_section("accounts"),
        roles: roles_to_give(actor),
        fields: AccountFields {
            password: String::new(),
            ..fields
        },
    };
    Ok(page
        .ctx
        .respond(StatusCode::UNPROCESSABLE_ENTITY, page.render()?))
}

#[derive(Template)]
#[template(path = "accounts/show.html")]
struct ShowPage {
    ctx: Ctx,
    account: AccountView,
    is_self: bool,
    /// The actor may change this account (not their own; a role they may manage).
    may_change: bool,
    /// Roles the account may be given.
    roles: Vec<Role>,
    /// The security administrator, who gives the right to export in clear.
    gives_clear_export: bool,
    /// The account's live API tokens, when the actor may change it.
    tokens: Vec<ApiTokenView>,
    token_holder: i64,
    /// The units down to the account's own.
    lineage: Vec<tongxin_store::UnitView>,
}

pub async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
) -> Result<Response, AppError> {
    let actor = &auth.actor;
    let account = state.store.account(actor, id).await?;
    let is_self = actor.user_id() == Some(account.id);
    let may_change = !is_self && actor.may_manage(account.role);
    let tokens = if may_change {
        state
            .store
            .api_tokens(actor, id, state.clock.now(), &state.config.policy)
            .await?
    } else {
        Vec::new()
    };
    let page = ShowPage {
        lineage: state.store.lineage_of(actor, account.unit_id).await?,
        tokens,
        token_holder: id,
        is_self,
        may_change,
        roles: roles_to_give(actor),
        gives_clear_export: actor.role() == Role::Security
            && matches!(account.role, Role::Admin | Role::Staff),
        ctx: ctx.with_section("accounts"),
        account,
    };
    Ok(page.ctx.respond(StatusCode::OK, page.render()?))
}

#[derive(Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    role: String,
}

pub async fn set_role(
    State(state): State<AppState>,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
    CsrfForm(form): CsrfForm<RoleForm>,
) -> Result<Response, AppError> {
    let role = Role::parse(&form.role).map_err(|i| AppError::Invalid(vec![i]))?;
    state
        .store
        .set_account_role(&auth.actor, state.clock.now(), id, role)
        .await?;
    Ok(done(&format!("/accounts/{id}"), "account_role"))
}

pub async fn unlock(
    State(state): State<AppState>,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, AppError> {
    state
        .store
        .unlock_account(&auth.actor, state.clock.now(), id)
        .await?;
    Ok(done(&format!("/accounts/{id}"), "account_unlocked"))
}

#[derive(Deserialize)]
pub struct ClearExportForm {
    #[serde(default)]
    allowed: String,
}

pub async fn set_clear_export(
    State(state): State<AppState>,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
    CsrfForm(form): CsrfForm<ClearExportForm>,
) -> Result<Response, AppError> {
    state
        .store
        .set_clear_export_right(&auth.actor, state.clock.now(), id, form.allowed == "true")
        .await?;
    Ok(done(&format!("/accounts/{id}"), "account_export_right"))
}

async fn set_disabled(
    state: &AppState,
    auth: &crate::session::Authenticated,
    id: i64,
    disabled: bool,
) -> Result<Response, AppError> {
    state
        .store
        .set_account_disabled(&auth.actor, state.clock.now(), id, disabled)
        .await?;
    Ok(done(
        &format!("/accounts/{id}"),
        if disabled {
            "account_disabled"
        } else {
            "account_enabled"
        },
    ))
}

pub async fn disable(
    State(state): State<AppState>,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, AppError> {
    set_disabled(&state, &auth, id, true).await
}

pub async fn enable(
    State(state): State<AppState>,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, AppError> {
    set_disabled(&state, &auth, id, false).await
}

/// Shows the new password once; it is not stored in the clear anywhere.
pub async fn reset_password(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, AppError> {
    let password = state
        .store
        .reset_password(&auth.actor, state.clock.now(), id)
        .await?;
    let account = state.store.account(&auth.actor, id).await?;
    let page = PasswordShown {
        ctx: ctx.with_section("accounts"),
        account,
        password,
    };
    Ok(page.ctx.respond(StatusCode::OK, page.render()?))
}

/// Ends one API token: the caller's own (from the password page) or one of an account they
/// manage.
pub async fn revoke_token(
    State(state): State<AppState>,
    CurrentUser(auth): CurrentUser,
    IdKeyPath(id, token): IdKeyPath,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, AppError> {
    state
        .store
        .revoke_api_token(&auth.actor, state.clock.now(), id, &token)
        .await?;
    let back = if auth.actor.user_id() == Some(id) {
        "/password".to_owned()
    } else {
        format!("/accounts/{id}")
    };
    Ok(done(&back, "token_revoked"))
}
