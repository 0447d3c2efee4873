//! Organization pages: the list with a search, adding one, and one organization with its
//! members.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use tongxin_core::{Field, Invalid, Reason, parse_name, parse_optional_text};
use tongxin_store::{
    AffiliationView, AffiliationsOf, OrganizationInput, OrganizationKind, OrganizationQuery,
    OrganizationView, Page, SectorView, StoreError, UnitView,
};

use crate::AppState;
use crate::error::AppError;
use crate::forms::{CsrfForm, IdPath, Query};
use crate::pages::chrome::{Ctx, FormErrors, ListForm, Pager, SortHeader, done, form_status};
use crate::session::CurrentUser;
use tongxin_core::Checks;

#[derive(Template)]
#[template(path = "organizations/index.html")]
struct IndexPage {
    ctx: Ctx,
    q: String,
    results: Page<OrganizationView>,
    pager: Pager,
    sort_by_name: SortHeader,
    sectors: Vec<SectorView>,
    kinds: [OrganizationKind; 7],
    form: NewOrganization,
    errors: FormErrors,
}

#[derive(Deserialize, Default)]
pub struct NewOrganization {
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    unit_code: String,
    #[serde(default)]
    sector: String,
    #[serde(default)]
    address: String,
}

/// Organizations list by name, A to Z.
const NATURAL_ORDER: &str = "name";

async fn render_index(
    state: &AppState,
    ctx: Ctx,
    auth: &crate::session::Authenticated,
    list: ListForm,
    form: NewOrganization,
    invalid: &[Invalid],
) -> Result<Response, AppError> {
    let order = list.order(NATURAL_ORDER);
    // The list starts from the unit chosen in the top bar.
    let query = OrganizationQuery {
        q: Some(list.q.clone()),
        unit_id: ctx.scope.as_ref().map(|u| u.id),
        reversed: order.reversed(),
        ..OrganizationQuery::default()
    };
    let results = state
        .store
        .organizations(&auth.actor, &query, list.page())
        .await?;
    let (pager, sort_by_name) = list.tools(&results, "/organizations", &order);
    let status = form_status(invalid);
    let page = IndexPage {
        errors: ctx.errors(invalid),
        ctx: ctx.with_section("organizations"),
        q: list.q,
        results,
        pager,
        sort_by_name,
        sectors: state.store.sectors(&auth.actor, false).await?,
        kinds: OrganizationKind::ALL,
        form,
    };
    Ok(page.ctx.respond(status, page.render()?))
}

pub async fn index(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    Query(list): Query<ListForm>,
) -> Result<Response, AppError> {
    let form = NewOrganization {
        kind: OrganizationKind::Association.key().to_owned(),
        ..NewOrganization::default()
    };
    render_index(&state, ctx, &auth, list, form, &[]).await
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    CsrfForm(form): CsrfForm<NewOrganization>,
) -> Result<Response, AppError> {
    let actor = &auth.actor;
    let mut checks = Checks::default();
    let name = checks.check(parse_name(Field::Named("organization_name"), &form.name));
    let kind = checks.check(OrganizationKind::parse(&form.kind));
    let address = checks
        .check(parse_optional_text(
            Field::Named("address"),
            &form.address,
            200,
        ))
        .flatten();
    let unit = match state.store.unit_by_code(actor, &form.unit_code).await {
        Ok(unit) => Some(unit.id),
        Err(StoreError::NotFound) => checks.check(Err(Invalid::new(Field::Unit, Reason::NotFound))),
        Err(e) => return Err(e.into()),
    };
    let sector_id = form.sector.parse::<i64>().ok();
    let mut invalid = checks.into_inner();
    if let (Some(name), Some(kind), Some(unit_id), true) = (name, kind, unit, invalid.is_empty()) {
        let input = OrganizationInput {
            unit_id,
            name,
            kind,
            sector_id,
            address,
            coordinates: None,
            is_venue: kind == OrganizationKind::Venue,
        };
        match state
            .store
            .create_organization(actor, state.clock.now(), &input)
            .await
        {
            Ok(created) => {
                return Ok(done(
                    &format!("/organizations/{}", created.id),
                    "organization_created",
                ));
            }
            Err(StoreError::Invalid(i)) => invalid.push(i),
            Err(e) => return Err(e.into()),
        }
    }
    render_index(&state, ctx, &auth, ListForm::default(), form, &invalid).await
}

#[derive(Template)]
#[template(path = "organizations/show.html")]
struct ShowPage {
    ctx: Ctx,
    org: OrganizationView,
    members: Vec<AffiliationView>,
    /// The units from the top of the reader's tree down to the organization's.
    lineage: Vec<UnitView>,
}

pub async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
) -> Result<Response, AppError> {
    let org = state.store.organization(&auth.actor, id).await?;
    let members = state
        .store
        .affiliations(&auth.actor, AffiliationsOf::Organization(id))
        .await?;
    let page = ShowPage {
        ctx: ctx.with_section("organizations"),
        lineage: state.store.lineage_of(&auth.actor, org.unit_id).await?,
        org,
        members,
    };
    Ok(page.ctx.respond(StatusCode::OK, page.render()?))
}
