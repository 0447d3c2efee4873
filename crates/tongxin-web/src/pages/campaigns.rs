//! Campaign pages: the list, starting one, and a campaign's coverage at any unit — the units
//! below with their figures, the sectors, the people not reached yet — with "plan next batch".

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use tongxin_core::{Coverage, Invalid};
use tongxin_store::{
    ActivityKindView, Actor, CampaignView, CoverageReport, Page, PageRequest, SectorView,
    UnreachedPerson,
};

use super::activities::unit_id_of;
use super::{Ctx, FormErrors, Pager, can_edit, form_status, refused, see_other};
use crate::AppState;
use crate::error::AppError;
use crate::forms::{CsrfForm, IdPath, Pairs, Query};
use crate::input::{self, ActivityFields, CampaignFields};
use crate::session::CurrentUser;

#[derive(Deserialize, Default)]
pub struct ListForm {
    page: Option<u64>,
}

#[derive(Template)]
#[template(path = "campaigns/index.html")]
struct IndexPage {
    ctx: Ctx,
    results: Page<CampaignView>,
    pager: Pager,
    sectors: Vec<SectorView>,
    materials: Vec<(i64, String)>,
    form: CampaignFields,
    chosen_sectors: Vec<i64>,
    can_edit: bool,
    errors: FormErrors,
}

impl IndexPage {
    fn sector_chosen(&self, id: &i64) -> bool {
        self.chosen_sectors.contains(id)
    }
}

async fn render_index(
    state: &AppState,
    ctx: Ctx,
    actor: &Actor,
    page: Option<u64>,
    form: CampaignFields,
    chosen_sectors: Vec<i64>,
    invalid: &[Invalid],
) -> Result<Response, AppError> {
    let results = state
        .store
        .campaigns(actor, false, PageRequest::new(page, None))
        .await?;
    let pager = Pager::new(&results, "/campaigns", &[]);
    let status = form_status(invalid);
    let page = IndexPage {
        errors: ctx.errors(invalid),
        ctx: ctx.with_section("campaigns"),
        results,
        pager,
        sectors: state.store.sectors(actor, false).await?,
        materials: state.store.material_choices(actor).await?,
        form,
        chosen_sectors,
        can_edit: can_edit(actor),
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
    let form = CampaignFields {
        unit_code: unit_code.clone(),
        target_unit_code: unit_code,
        ..CampaignFields::default()
    };
    render_index(&state, ctx, &auth.actor, list.page, form, Vec::new(), &[]).await
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let pairs = Pairs(pairs);
    let text = |name: &str| pairs.get(name).to_owned();
    let form = CampaignFields {
        unit_code: text("unit_code"),
        title: text("title"),
        starts_on: text("starts_on"),
        ends_on: text("ends_on"),
        description: text("description"),
        target_unit_code: text("target_unit_code"),
        tags: text("tags"),
    };
    let sectors = pairs.ids("sector");
    let unit = unit_id_of(&state, &auth.actor, &form.unit_code).await?;
    let target = unit_id_of(&state, &auth.actor, &form.target_unit_code).await?;
    let outcome = match input::campaign(
        &form,
        unit,
        target,
        sectors.clone(),
        pairs.ids("material_ids"),
    ) {
        Ok(input) => refused(
            state
                .store
                .create_campaign(&auth.actor, state.clock.now(), &input)
                .await,
        )?,
        Err(invalid) => Err(invalid),
    };
    match outcome {
        Ok(created) => Ok(see_other(&format!("/campaigns/{}", created.id))),
        Err(invalid) => render_index(&state, ctx, &auth.actor, None, form, sectors, &invalid).await,
    }
}

#[derive(Deserialize, Default)]
pub struct ShowQuery {
    unit: Option<i64>,
    page: Option<u64>,
}

#[derive(Template)]
#[template(path = "campaigns/show.html")]
struct ShowPage {
    ctx: Ctx,
    report: CoverageReport,
    unreached: Page<UnreachedPerson>,
    pager: Pager,
    materials: Vec<(i64, String)>,
    kinds: Vec<ActivityKindView>,
    batch: ActivityFields,
    can_edit: bool,
    errors: FormErrors,
}

impl ShowPage {
    /// The width of a coverage bar, in whole percent.
    fn bar(&self, c: &Coverage) -> u64 {
        c.per_mille().unwrap_or(0) / 10
    }
}

async fn render_show(
    state: &AppState,
    ctx: Ctx,
    actor: &Actor,
    id: i64,
    query: ShowQuery,
    batch: ActivityFields,
    invalid: &[Invalid],
) -> Result<Response, AppError> {
    let report = state.store.campaign_coverage(actor, id, query.unit).await?;
    let unreached = state
        .store
        .unreached(
            actor,
            id,
            Some(report.unit.id),
            PageRequest::new(query.page, None),
        )
        .await?;
    let unit = report.unit.id.to_string();
    let pager = Pager::new(&unreached, &format!("/campaigns/{id}"), &[("unit", &unit)]);
    let status = form_status(invalid);
    let batch = ActivityFields {
        unit_code: if batch.unit_code.is_empty() {
            report.unit.code.clone()
        } else {
            batch.unit_code
        },
        ..batch
    };
    let page = ShowPage {
        errors: ctx.errors(invalid),
        ctx: ctx.with_section("campaigns"),
        materials: state.store.campaign_materials(actor, id).await?,
        kinds: state.store.activity_kinds(false).await?,
        can_edit: can_edit(actor),
        report,
        unreached,
        pager,
        batch,
    };
    Ok(page.ctx.respond(status, page.render()?))
}

pub async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
    Query(query): Query<ShowQuery>,
) -> Result<Response, AppError> {
    render_show(
        &state,
        ctx,
        &auth.actor,
        id,
        query,
        ActivityFields::default(),
        &[],
    )
    .await
}

/// "Plan next batch": an activity in the chosen unit inviting its unreached people.
pub async fn next_batch(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let pairs = Pairs(pairs);
    let text = |name: &str| pairs.get(name).to_owned();
    let form = ActivityFields {
        kind_id: text("kind_id"),
        unit_code: text("unit_code"),
        title: text("title"),
        starts_at: text("starts_at"),
        ends_at: text("ends_at"),
        place: text("place"),
        campaign_id: id.to_string(),
        ..ActivityFields::default()
    };
    let unit = unit_id_of(&state, &auth.actor, &form.unit_code).await?;
    let outcome = match input::activity(&form, unit, Vec::new()) {
        Ok(input) => refused(
            state
                .store
                .plan_next_batch(&auth.actor, state.clock.now(), id, &input)
                .await,
        )?,
        Err(invalid) => Err(invalid),
    };
    match outcome {
        Ok((activity, invited)) => Ok(see_other(&format!(
            "/activities/{}?done=invited:{invited}",
            activity.id
        ))),
        Err(invalid) => {
            let query = ShowQuery { unit, page: None };
            render_show(&state, ctx, &auth.actor, id, query, form, &invalid).await
        }
    }
}
