//! Campaign pages: the list, starting one, and a campaign's coverage at any unit — the units
//! below with their figures, the sectors, the people not reached yet — with "plan next batch".

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use tongxin_core::{Coverage, Invalid};
use tongxin_store::{
    ActivityKindView, ActivityQuery, ActivityView, Actor, CampaignView, CoverageReport, Page,
    PageRequest, SectorView, UNREACHED_EXPORT_MAX, UnreachedPerson,
};

use crate::AppState;
use crate::activities::pages::unit_id_of;
use crate::error::AppError;
use crate::forms::{CsrfForm, IdPath, Pairs, Query};
use crate::input::{self, ActivityFields, CampaignFields};
use crate::pages::chrome::{
    Ctx, FormErrors, Pager, can_edit, done, form_status, refused, see_other,
};
use crate::session::CurrentUser;

#[derive(Deserialize, Default)]
pub struct ListForm {
    page: Option<u64>,
}

/// The campaign form's fields from top to bottom, for its error summary.
const CAMPAIGN_FORM_ORDER: [&str; 6] = [
    "campaign_title",
    "unit",
    "starts_on",
    "ends_on",
    "target_unit",
    "target",
];

#[derive(Template)]
#[template(path = "campaigns/index.html")]
struct IndexPage {
    ctx: Ctx,
    results: Page<CampaignView>,
    pager: Pager,
    sectors: Vec<SectorView>,
    materials: Vec<(i64, String)>,
    form: CampaignFields,
    chosen: Chosen,
    can_edit: bool,
    errors: FormErrors,
}

/// The sectors and materials ticked in a campaign form.
#[derive(Default)]
struct Chosen {
    sectors: Vec<i64>,
    materials: Vec<i64>,
}

impl IndexPage {
    fn sector_chosen(&self, id: &i64) -> bool {
        self.chosen.sectors.contains(id)
    }

    fn material_chosen(&self, id: &i64) -> bool {
        self.chosen.materials.contains(id)
    }
}

#[derive(Template)]
#[template(path = "campaigns/edit.html")]
struct EditPage {
    ctx: Ctx,
    id: i64,
    archived: bool,
    sectors: Vec<SectorView>,
    materials: Vec<(i64, String)>,
    form: CampaignFields,
    chosen: Chosen,
    errors: FormErrors,
}

impl EditPage {
    fn sector_chosen(&self, id: &i64) -> bool {
        self.chosen.sectors.contains(id)
    }

    fn material_chosen(&self, id: &i64) -> bool {
        self.chosen.materials.contains(id)
    }
}

async fn render_index(
    state: &AppState,
    ctx: Ctx,
    actor: &Actor,
    page: Option<u64>,
    form: CampaignFields,
    chosen: Chosen,
    invalid: &[Invalid],
) -> Result<Response, AppError> {
    let results = state
        .store
        .campaigns(actor, false, PageRequest::new(page, None))
        .await?;
    let pager = Pager::new(&results, "/campaigns", &[]);
    let status = form_status(invalid);
    let page = IndexPage {
        errors: ctx.errors(invalid).in_order(&CAMPAIGN_FORM_ORDER),
        ctx: ctx.with_section("campaigns"),
        results,
        pager,
        sectors: state.store.sectors(actor, false).await?,
        materials: state.store.material_choices(actor).await?,
        form,
        chosen,
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
    render_index(
        &state,
        ctx,
        &auth.actor,
        list.page,
        form,
        Chosen::default(),
        &[],
    )
    .await
}

/// A campaign form as posted: its fields, the ticked sectors and materials, and the input for
/// the store when everything parsed.
async fn posted_campaign(
    state: &AppState,
    actor: &Actor,
    pairs: &Pairs,
) -> Result<
    (
        CampaignFields,
        Chosen,
        Result<tongxin_store::CampaignInput, Vec<Invalid>>,
    ),
    AppError,
> {
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
    let chosen = Chosen {
        sectors: pairs.ids("sector"),
        materials: pairs.ids("material_ids"),
    };
    let unit = unit_id_of(state, actor, &form.unit_code).await?;
    let target = unit_id_of(state, actor, &form.target_unit_code).await?;
    let input = input::campaign(
        &form,
        unit,
        target,
        chosen.sectors.clone(),
        chosen.materials.clone(),
    );
    Ok((form, chosen, input))
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let (form, chosen, input) = posted_campaign(&state, &auth.actor, &Pairs(pairs)).await?;
    let outcome = match input {
        Ok(input) => refused(
            state
                .store
                .create_campaign(&auth.actor, state.clock.now(), &input)
                .await,
        )?,
        Err(invalid) => Err(invalid),
    };
    match outcome {
        Ok(created) => Ok(done(
            &format!("/campaigns/{}", created.id),
            "campaign_created",
        )),
        Err(invalid) => render_index(&state, ctx, &auth.actor, None, form, chosen, &invalid).await,
    }
}

async fn render_edit(
    state: &AppState,
    ctx: Ctx,
    actor: &Actor,
    id: i64,
    form: CampaignFields,
    chosen: Chosen,
    invalid: &[Invalid],
) -> Result<Response, AppError> {
    let campaign = state.store.campaign(actor, id).await?;
    if !campaign.editable {
        return Err(AppError::Forbidden);
    }
    let status = form_status(invalid);
    let page = EditPage {
        errors: ctx.errors(invalid).in_order(&CAMPAIGN_FORM_ORDER),
        ctx: ctx.with_section("campaigns"),
        id,
        archived: campaign.archived,
        sectors: state.store.sectors(actor, false).await?,
        materials: state.store.material_choices(actor).await?,
        form,
        chosen,
    };
    Ok(page.ctx.respond(status, page.render()?))
}

/// The campaign's details and target to change, with archive or restore.
pub async fn edit_page(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
) -> Result<Response, AppError> {
    let actor = &auth.actor;
    let c = state.store.campaign(actor, id).await?;
    let code = |unit_id: i64| {
        let state = &state;
        async move { state.store.unit(actor, unit_id).await.map(|u| u.code) }
    };
    let form = CampaignFields {
        unit_code: code(c.unit_id).await.unwrap_or_default(),
        title: c.title.clone(),
        starts_on: c.starts_on.clone(),
        ends_on: c.ends_on.clone(),
        description: c.description.clone().unwrap_or_default(),
        target_unit_code: code(c.target_unit.0).await.unwrap_or_default(),
        tags: c.tags.join("；"),
    };
    let chosen = Chosen {
        sectors: c.sectors.iter().map(|(id, _)| *id).collect(),
        materials: state
            .store
            .campaign_materials(actor, id)
            .await?
            .into_iter()
            .map(|(id, _)| id)
            .collect(),
    };
    render_edit(&state, ctx, actor, id, form, chosen, &[]).await
}

pub async fn update(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let (form, chosen, input) = posted_campaign(&state, &auth.actor, &Pairs(pairs)).await?;
    let outcome = match input {
        Ok(input) => refused(
            state
                .store
                .update_campaign(&auth.actor, state.clock.now(), id, &input)
                .await,
        )?,
        Err(invalid) => Err(invalid),
    };
    match outcome {
        Ok(_) => Ok(done(&format!("/campaigns/{id}"), "campaign_saved")),
        Err(invalid) => render_edit(&state, ctx, &auth.actor, id, form, chosen, &invalid).await,
    }
}

/// Archives (`archive`) or restores (`restore`) a campaign.
pub async fn set_archived(
    State(state): State<AppState>,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let archived = Pairs(pairs).get("archived") == "true";
    state
        .store
        .set_campaign_archived(&auth.actor, state.clock.now(), id, archived)
        .await?;
    Ok(done(
        &format!("/campaigns/{id}/edit"),
        if archived {
            "campaign_archived"
        } else {
            "campaign_restored"
        },
    ))
}

#[derive(Deserialize, Default)]
pub struct ShowQuery {
    unit: Option<i64>,
    page: Option<u64>,
    per_page: Option<u64>,
}

#[derive(Template)]
#[template(path = "campaigns/show.html")]
struct ShowPage {
    ctx: Ctx,
    report: CoverageReport,
    /// The campaign's latest activities (its batches) the caller sees.
    batches: Page<ActivityView>,
    unreached: Page<UnreachedPerson>,
    pager: Pager,
    materials: Vec<(i64, String)>,
    kinds: Vec<ActivityKindView>,
    batch: ActivityFields,
    can_edit: bool,
    errors: FormErrors,
}

impl ShowPage {
    fn export_max(&self) -> u64 {
        UNREACHED_EXPORT_MAX
    }

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
            PageRequest::new(query.page, query.per_page),
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
    let batches = state
        .store
        .activities(
            actor,
            &ActivityQuery {
                campaign_id: Some(id),
                ..ActivityQuery::default()
            },
            PageRequest::new(None, Some(BATCHES_SHOWN)),
        )
        .await?;
    let page = ShowPage {
        errors: ctx.errors(invalid),
        ctx: ctx.with_section("campaigns"),
        batches,
        materials: state.store.campaign_materials(actor, id).await?,
        kinds: state.store.activity_kinds(actor, false).await?,
        can_edit: can_edit(actor),
        report,
        unreached,
        pager,
        batch,
    };
    Ok(page.ctx.respond(status, page.render()?))
}

/// How many of a campaign's batches its page lists; the activity list has them all.
const BATCHES_SHOWN: u64 = 10;

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
    let outcome = match input::activity(&form, unit.clone(), Vec::new()) {
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
            let query = ShowQuery {
                unit: unit.ok(),
                page: None,
                per_page: None,
            };
            render_show(&state, ctx, &auth.actor, id, query, form, &invalid).await
        }
    }
}

#[derive(Deserialize, Default)]
pub struct ExportForm {
    #[serde(default)]
    format: String,
    unit: Option<i64>,
}

/// `POST /campaigns/{id}/unreached/export`: the people not reached as a file (audited, so a
/// POST with the CSRF token).
pub async fn export_unreached(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
    CsrfForm(form): CsrfForm<ExportForm>,
) -> Result<Response, AppError> {
    let xlsx = form.format == "xlsx";
    crate::campaigns::api::unreached_download(&state, &auth.actor, id, form.unit, xlsx, ctx.lang)
        .await
}
