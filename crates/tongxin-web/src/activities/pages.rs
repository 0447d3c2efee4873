//! Activity pages: the list, planning and editing, one activity with its invitees (invite by
//! filter or by picking, bulk marking, export), state changes, photos, and the check-in screens
//! (the QR code for the room, check-in by name for staff on a phone, the member's scan).

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use tongxin_core::{ActivityState, Attendance, Invalid, Reason, Timestamp};
use tongxin_store::{
    ActivityChange, ActivityKindView, ActivityQuery, ActivityView, Actor, Admission, CampaignView,
    CheckIn, CheckInLink, CheckInPreview, InvitationView, Invitees, OrganizationQuery,
    OrganizationView, Page, PageRequest, PeopleQuery, PersonSummary, PhotoView, SavedFilter,
    SectorView, StoreError, UnitView,
};

use crate::AppState;
use crate::activities::api::{attendance_download, check_in_url};
use crate::error::AppError;
use crate::forms::{CsrfForm, CsrfUpload, IdPair, IdPath, Pairs, Query};
use crate::input::{self, ActivityFields};
use crate::pages::chrome::{
    Ctx, FormErrors, ListOrder, Pager, SortHeader, can_edit, encode_query_value, form_status,
    refused, see_other,
};
use crate::session::CurrentUser;

#[derive(Deserialize, Default)]
pub struct ListForm {
    #[serde(default)]
    q: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    kind: String,
    /// `starts_at` for the earliest first; the latest first otherwise.
    #[serde(default)]
    sort: String,
    page: Option<u64>,
    per_page: Option<u64>,
}

/// The activity list runs from the latest start to the earliest.
const NATURAL_ORDER: &str = "-starts_at";

#[derive(Template)]
#[template(path = "activities/index.html")]
struct IndexPage {
    ctx: Ctx,
    /// The units down to the one the list starts from, if one was chosen.
    lineage: Vec<UnitView>,
    list: ListForm,
    results: Page<ActivityView>,
    pager: Pager,
    sort_by_start: SortHeader,
    kinds: Vec<ActivityKindView>,
    states: [ActivityState; 4],
    can_edit: bool,
}

pub async fn index(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    Query(list): Query<ListForm>,
) -> Result<Response, AppError> {
    let order = ListOrder::of(&list.sort, NATURAL_ORDER);
    let query = ActivityQuery {
        q: Some(list.q.clone()),
        state: ActivityState::parse(&list.state).ok(),
        kind_id: list.kind.parse().ok(),
        // The list starts from the unit chosen in the top bar.
        unit_id: ctx.scope.as_ref().map(|s| s.id),
        reversed: order.reversed(),
        ..ActivityQuery::default()
    };
    let results = state
        .store
        .activities(
            &auth.actor,
            &query,
            PageRequest::new(list.page, list.per_page),
        )
        .await?;
    let params = [
        ("q", list.q.as_str()),
        ("state", &list.state),
        ("kind", &list.kind),
        ("sort", &order.param),
    ];
    let pager = Pager::new(&results, "/activities", &params);
    let sort_by_start = order.header("/activities", &params);
    let lineage = match &ctx.scope {
        Some(scope) => state.store.lineage_of(&auth.actor, scope.id).await?,
        None => Vec::new(),
    };
    let page = IndexPage {
        lineage,
        ctx: ctx.with_section("activities"),
        results,
        pager,
        sort_by_start,
        kinds: state.store.activity_kinds(&auth.actor, false).await?,
        states: ActivityState::ALL,
        can_edit: can_edit(&auth.actor),
        list,
    };
    Ok(page.ctx.respond(StatusCode::OK, page.render()?))
}

/// The activity form's fields from top to bottom, for its error summary.
const ACTIVITY_FORM_ORDER: [&str; 8] = [
    "activity_title",
    "kind",
    "unit",
    "starts_at",
    "ends_at",
    "venue",
    "campaign",
    "materials",
];

/// What the activity form offers to choose from.
struct Choices {
    kinds: Vec<ActivityKindView>,
    venues: Vec<OrganizationView>,
    campaigns: Vec<CampaignView>,
    materials: Vec<(i64, String)>,
}

async fn choices(state: &AppState, actor: &Actor) -> Result<Choices, AppError> {
    let venues = state
        .store
        .organizations(
            actor,
            &OrganizationQuery {
                venues_only: true,
                ..OrganizationQuery::default()
            },
            PageRequest::new(Some(1), Some(200)),
        )
        .await?
        .items;
    Ok(Choices {
        kinds: state.store.activity_kinds(actor, false).await?,
        venues,
        campaigns: state
            .store
            .campaigns(actor, false, PageRequest::new(Some(1), Some(100)))
            .await?
            .items,
        materials: state.store.material_choices(actor).await?,
    })
}

#[derive(Template)]
#[template(path = "activities/form.html")]
struct FormPage {
    ctx: Ctx,
    /// `None` for a new activity.
    id: Option<i64>,
    action: String,
    form: ActivityFields,
    chosen_materials: Vec<i64>,
    choices: Choices,
    errors: FormErrors,
}

impl FormPage {
    fn material_chosen(&self, id: &i64) -> bool {
        self.chosen_materials.contains(id)
    }
}

#[derive(Deserialize, Default)]
pub struct NewQuery {
    #[serde(default)]
    campaign: String,
}

pub async fn new_page(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    Query(query): Query<NewQuery>,
) -> Result<Response, AppError> {
    let unit_code = state
        .store
        .unit(&auth.actor, auth.actor.unit_id().unwrap_or_default())
        .await
        .map(|u| u.code)
        .unwrap_or_default();
    let form = ActivityFields {
        unit_code,
        campaign_id: query.campaign,
        ..ActivityFields::default()
    };
    render_form(&state, ctx, &auth.actor, None, form, Vec::new(), &[]).await
}

async fn render_form(
    state: &AppState,
    ctx: Ctx,
    actor: &Actor,
    id: Option<i64>,
    form: ActivityFields,
    chosen_materials: Vec<i64>,
    invalid: &[Invalid],
) -> Result<Response, AppError> {
    let status = form_status(invalid);
    let page = FormPage {
        errors: ctx.errors(invalid).in_order(&ACTIVITY_FORM_ORDER),
        ctx: ctx.with_section("activities"),
        action: match id {
            Some(id) => format!("/activities/{id}/edit"),
            None => "/activities/new".to_owned(),
        },
        id,
        form,
        chosen_materials,
        choices: choices(state, actor).await?,
    };
    Ok(page.ctx.respond(status, page.render()?))
}

/// The activity form's fields and chosen materials from posted pairs.
fn posted_activity(pairs: &Pairs) -> (ActivityFields, Vec<i64>) {
    let text = |name: &str| pairs.get(name).to_owned();
    (
        ActivityFields {
            kind_id: text("kind_id"),
            unit_code: text("unit_code"),
            title: text("title"),
            starts_at: text("starts_at"),
            ends_at: text("ends_at"),
            venue_id: text("venue_id"),
            place: text("place"),
            campaign_id: text("campaign_id"),
            agenda: text("agenda"),
        },
        pairs.ids("material_ids"),
    )
}

/// The unit id for a typed unit code, if it is one of the actor's subtree.
pub async fn unit_id_of(
    state: &AppState,
    actor: &Actor,
    code: &str,
) -> Result<Result<i64, Reason>, AppError> {
    let code = code.trim();
    if code.is_empty() {
        return Ok(Err(Reason::Required));
    }
    match state.store.unit_by_code(actor, code).await {
        Ok(unit) => Ok(Ok(unit.id)),
        Err(StoreError::NotFound) => Ok(Err(Reason::NotFound)),
        Err(e) => Err(e.into()),
    }
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let (form, materials) = posted_activity(&Pairs(pairs));
    let unit_id = unit_id_of(&state, &auth.actor, &form.unit_code).await?;
    let outcome = match input::activity(&form, unit_id, materials.clone()) {
        Ok(input) => refused(
            state
                .store
                .create_activity(&auth.actor, state.clock.now(), &input)
                .await,
        )?,
        Err(invalid) => Err(invalid),
    };
    match outcome {
        Ok(created) => Ok(see_other(&format!("/activities/{}", created.id))),
        Err(invalid) => {
            render_form(&state, ctx, &auth.actor, None, form, materials, &invalid).await
        }
    }
}

pub async fn edit_page(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
) -> Result<Response, AppError> {
    let a = state.store.activity(&auth.actor, id).await?;
    let unit_code = state.store.unit(&auth.actor, a.unit_id).await?.code;
    let materials = state.store.activity_materials(&auth.actor, id).await?;
    let form = ActivityFields {
        kind_id: a.kind.0.to_string(),
        unit_code,
        title: a.title,
        starts_at: a.starts_at.local_input(),
        ends_at: a.ends_at.local_input(),
        venue_id: a.venue.map(|(id, _)| id.to_string()).unwrap_or_default(),
        place: a.place.unwrap_or_default(),
        campaign_id: a.campaign.map(|(id, _)| id.to_string()).unwrap_or_default(),
        agenda: a.agenda.unwrap_or_default(),
    };
    let chosen = materials.into_iter().map(|(id, _)| id).collect();
    render_form(&state, ctx, &auth.actor, Some(id), form, chosen, &[]).await
}

pub async fn update(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let (form, materials) = posted_activity(&Pairs(pairs));
    let unit_id = unit_id_of(&state, &auth.actor, &form.unit_code).await?;
    let outcome = match input::activity(&form, unit_id, materials.clone()) {
        Ok(input) => refused(
            state
                .store
                .update_activity(&auth.actor, state.clock.now(), id, &input)
                .await,
        )?,
        Err(invalid) => Err(invalid),
    };
    match outcome {
        Ok(_) => Ok(see_other(&format!("/activities/{id}"))),
        Err(invalid) => {
            render_form(
                &state,
                ctx,
                &auth.actor,
                Some(id),
                form,
                materials,
                &invalid,
            )
            .await
        }
    }
}

#[derive(Deserialize, Default)]
pub struct ShowQuery {
    #[serde(default)]
    q: String,
    page: Option<u64>,
    per_page: Option<u64>,
    /// Directory search for picking invitees.
    #[serde(default)]
    pick: String,
    /// A notice to show after a redirect.
    #[serde(default)]
    done: String,
}

#[derive(Template)]
#[template(path = "activities/show.html")]
struct ShowPage {
    ctx: Ctx,
    activity: ActivityView,
    /// The units from the top of the reader's tree down to the organizing unit.
    lineage: Vec<UnitView>,
    invitees: Page<InvitationView>,
    pager: Pager,
    query: ShowQuery,
    candidates: Vec<PersonSummary>,
    sectors: Vec<SectorView>,
    saved_filters: Vec<SavedFilter>,
    materials: Vec<(i64, String)>,
    photos: Vec<PhotoView>,
    marks: [Attendance; 5],
    can_edit: bool,
    /// The activity has begun: only then is "mark as held" offered.
    started: bool,
    errors: FormErrors,
}

impl ShowPage {
    fn is(&self, state: &str) -> bool {
        self.activity.state.key() == state
    }

    /// The message for what the last form did (`invited:3`, `state:held`, …).
    fn notice(&self) -> Option<String> {
        let (what, n) = self
            .query
            .done
            .split_once(':')
            .unwrap_or((self.query.done.as_str(), ""));
        match what {
            "" => None,
            "state" => Some(self.ctx.t(&format!("activities.done_{n}")).to_owned()),
            "invited" | "marked" => Some(self.ctx.tn(&format!("activities.done_{what}"), n)),
            "forgotten" => Some(self.ctx.t("activities.done_forgotten").to_owned()),
            _ => Some(self.ctx.t("activities.done_photo").to_owned()),
        }
    }
}

async fn render_show(
    state: &AppState,
    ctx: Ctx,
    actor: &Actor,
    id: i64,
    query: ShowQuery,
    invalid: &[Invalid],
) -> Result<Response, AppError> {
    let activity = state.store.activity(actor, id).await?;
    let invitees = state
        .store
        .invitations(
            actor,
            id,
            Some(&query.q),
            PageRequest::new(query.page, query.per_page),
        )
        .await?;
    let path = format!("/activities/{id}");
    let pager = Pager::new(&invitees, &path, &[("q", &query.q)]);
    let candidates = if query.pick.trim().is_empty() {
        Vec::new()
    } else {
        let search = PeopleQuery {
            q: Some(query.pick.clone()),
            ..PeopleQuery::default()
        };
        state
            .store
            .search_people(
                actor,
                &search,
                PageRequest::new(Some(1), Some(30)),
                state.clock.now(),
            )
            .await?
            .items
    };
    let status = form_status(invalid);
    let page = ShowPage {
        errors: ctx.errors(invalid),
        ctx: ctx.with_section("activities"),
        invitees,
        pager,
        candidates,
        sectors: state.store.sectors(actor, false).await?,
        saved_filters: state.store.saved_filters(actor).await?,
        materials: state.store.activity_materials(actor, id).await?,
        photos: state.store.activity_photos(actor, id).await?,
        marks: Attendance::ALL,
        can_edit: can_edit(actor),
        started: activity.starts_at <= state.clock.now(),
        lineage: state.store.lineage_of(actor, activity.unit_id).await?,
        activity,
        query,
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
    render_show(&state, ctx, &auth.actor, id, query, &[]).await
}

/// A store result on the activity page: on success back to the page with a notice, on refused
/// input the page again with the messages.
async fn after(
    state: &AppState,
    ctx: Ctx,
    actor: &Actor,
    id: i64,
    result: Result<String, StoreError>,
) -> Result<Response, AppError> {
    match refused(result)? {
        Ok(done) => Ok(see_other(&format!(
            "/activities/{id}?done={}",
            encode_query_value(&done)
        ))),
        Err(invalid) => render_show(state, ctx, actor, id, ShowQuery::default(), &invalid).await,
    }
}

pub async fn change_state(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let pairs = Pairs(pairs);
    let change = match pairs.get("state") {
        "held" => ActivityChange::Held,
        "summarized" => ActivityChange::Summarized {
            minutes: pairs.get("minutes").to_owned(),
        },
        "cancelled" => ActivityChange::Cancelled {
            reason: pairs.get("reason").to_owned(),
        },
        _ => return Err(AppError::NotFound),
    };
    let result = state
        .store
        .change_activity_state(&auth.actor, state.clock.now(), id, change)
        .await
        .map(|a| format!("state:{}", a.state.key()));
    after(&state, ctx, &auth.actor, id, result).await
}

pub async fn invite(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let pairs = Pairs(pairs);
    if pairs.get("by") == "forget" {
        let filter = pairs.get("saved_filter").parse().unwrap_or_default();
        let result = state
            .store
            .delete_filter(&auth.actor, state.clock.now(), filter)
            .await
            .map(|()| String::from("forgotten"));
        return after(&state, ctx, &auth.actor, id, result).await;
    }
    let invitees = if pairs.get("by") == "saved" {
        Invitees::Saved(pairs.get("saved_filter").parse().unwrap_or_default())
    } else if pairs.get("by") == "filter" {
        let unit_id = match unit_id_of(&state, &auth.actor, pairs.get("unit_code")).await? {
            Ok(unit_id) => unit_id,
            Err(reason) => {
                let invalid = Invalid::new(tongxin_core::Field::Unit, reason);
                return render_show(
                    &state,
                    ctx,
                    &auth.actor,
                    id,
                    ShowQuery::default(),
                    &[invalid],
                )
                .await;
            }
        };
        let sector_id = pairs.get("sector").parse().ok();
        let tags = tongxin_store::split_tags(pairs.get("tags"));
        let name = pairs.get("save_as").trim();
        if !name.is_empty() {
            let saved = state
                .store
                .save_filter(
                    &auth.actor,
                    state.clock.now(),
                    name,
                    unit_id,
                    sector_id,
                    &tags,
                )
                .await;
            if let Err(invalid) = refused(saved)? {
                return render_show(&state, ctx, &auth.actor, id, ShowQuery::default(), &invalid)
                    .await;
            }
        }
        Invitees::Filter {
            unit_id,
            sector_id,
            tags,
        }
    } else {
        Invitees::People(pairs.ids("person"))
    };
    let result = state
        .store
        .invite(&auth.actor, state.clock.now(), id, &invitees)
        .await
        .map(|n| format!("invited:{n}"));
    after(&state, ctx, &auth.actor, id, result).await
}

pub async fn mark(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let pairs = Pairs(pairs);
    let status = Attendance::parse(pairs.get("status")).map_err(|i| AppError::Invalid(vec![i]))?;
    let result = state
        .store
        .mark_attendance(
            &auth.actor,
            state.clock.now(),
            id,
            &pairs.ids("person"),
            status,
        )
        .await
        .map(|n| format!("marked:{n}"));
    after(&state, ctx, &auth.actor, id, result).await
}

pub async fn add_photo(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
    upload: CsrfUpload,
) -> Result<Response, AppError> {
    let result = state
        .store
        .add_activity_photo(
            &auth.actor,
            state.clock.now(),
            id,
            &upload.file_name,
            &upload.bytes,
        )
        .await
        .map(|_| "photo".to_owned());
    after(&state, ctx, &auth.actor, id, result).await
}

pub async fn photo(
    State(state): State<AppState>,
    CurrentUser(auth): CurrentUser,
    IdPair(id, photo_id): IdPair,
) -> Result<Response, AppError> {
    let (file_name, media_type, bytes) = state
        .store
        .activity_photo(&auth.actor, id, photo_id)
        .await?;
    Ok(crate::uploads::user_file(
        &media_type,
        &file_name,
        bytes,
        crate::uploads::Disposition::Inline,
    ))
}

#[derive(Deserialize, Default)]
pub struct ExportQuery {
    #[serde(default)]
    format: String,
}

/// `POST /activities/{id}/attendance/export`: the attendance list as a file (audited, so a
/// POST with the CSRF token, never a GET).
pub async fn export(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
    CsrfForm(query): CsrfForm<ExportQuery>,
) -> Result<Response, AppError> {
    attendance_download(&state, &auth.actor, id, query.format == "xlsx", ctx.lang).await
}

#[derive(Template)]
#[template(path = "activities/check_in_screen.html")]
struct ScreenPage {
    ctx: Ctx,
    activity: ActivityView,
    window: ScreenWindow,
    /// No public address is configured: phones may not reach the code's address.
    no_public_address: bool,
    refresh_seconds: i64,
}

/// What the room's screen shows: the code only while check-in is open.
enum ScreenWindow {
    NotYet {
        opens: String,
    },
    Open {
        qr_svg: String,
        url: String,
        until: String,
    },
    Over {
        closed: String,
    },
    Cancelled,
}

/// The screen for the room: full screen, no menus; a QR code of a fresh signed link while
/// check-in is open (replaced before it expires), a message before and after.
pub async fn check_in_screen(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let activity = state.store.activity(&auth.actor, id).await?;
    let now = state.clock.now();
    let margin = tongxin_store::CHECK_IN_MARGIN_MINUTES;
    let opens = activity.starts_at.plus_minutes(-margin);
    let closes = activity.ends_at.plus_minutes(margin);
    let window = if activity.state == ActivityState::Cancelled {
        ScreenWindow::Cancelled
    } else if now < opens {
        ScreenWindow::NotYet {
            opens: opens.display_minutes(),
        }
    } else if now > closes {
        ScreenWindow::Over {
            closed: closes.display_minutes(),
        }
    } else {
        let link = state.store.check_in_link(&auth.actor, now, id).await?;
        let url = check_in_url(&state, &headers, &link);
        let qr =
            qrcode::QrCode::new(url.as_bytes()).map_err(|e| AppError::internal("QR code", e))?;
        ScreenWindow::Open {
            qr_svg: qr
                .render::<qrcode::render::svg::Color>()
                .min_dimensions(320, 320)
                .build(),
            url,
            until: Timestamp(link.until * 1_000_000).display_time(),
        }
    };
    let page = ScreenPage {
        ctx: ctx.with_section("activities"),
        activity,
        window,
        no_public_address: state.config.public_url.is_none(),
        refresh_seconds: tongxin_store::CHECK_IN_SCREEN_REFRESH_SECONDS,
    };
    Ok(page.ctx.respond(StatusCode::OK, page.render()?))
}

#[derive(Template)]
#[template(path = "activities/check_in_staff.html")]
struct StaffCheckInPage {
    ctx: Ctx,
    activity: ActivityView,
    q: String,
    invitees: Page<InvitationView>,
    notice: String,
    errors: FormErrors,
}

#[derive(Deserialize, Default)]
pub struct StaffQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    done: String,
}

async fn render_staff(
    state: &AppState,
    ctx: Ctx,
    actor: &Actor,
    id: i64,
    query: StaffQuery,
    invalid: &[Invalid],
) -> Result<Response, AppError> {
    let activity = state.store.activity(actor, id).await?;
    let invitees = state
        .store
        .invitations(
            actor,
            id,
            Some(&query.q),
            PageRequest::new(Some(1), Some(50)),
        )
        .await?;
    let status = form_status(invalid);
    let page = StaffCheckInPage {
        errors: ctx.errors(invalid),
        ctx: ctx.with_section("activities"),
        activity,
        q: query.q,
        invitees,
        notice: query.done,
    };
    Ok(page.ctx.respond(status, page.render()?))
}

/// Staff check people in by name on a phone.
pub async fn check_in_staff(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
    Query(query): Query<StaffQuery>,
) -> Result<Response, AppError> {
    render_staff(&state, ctx, &auth.actor, id, query, &[]).await
}

pub async fn check_in_staff_post(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let pairs = Pairs(pairs);
    let person = pairs
        .get("person")
        .parse()
        .map_err(|_| AppError::NotFound)?;
    let q = pairs.get("q").to_owned();
    match refused(
        state
            .store
            .check_in_person(&auth.actor, state.clock.now(), id, person)
            .await,
    )? {
        Ok(outcome) => {
            let done = match outcome {
                CheckIn::CheckedIn => "checked_in",
                CheckIn::AlreadyCheckedIn => "already",
            };
            Ok(see_other(&format!(
                "/activities/{id}/check-in/staff?q={}&done={done}",
                encode_query_value(&q)
            )))
        }
        Err(invalid) => {
            let query = StaffQuery {
                q,
                done: String::new(),
            };
            render_staff(&state, ctx, &auth.actor, id, query, &invalid).await
        }
    }
}

#[derive(Deserialize, Default)]
pub struct LinkQuery {
    #[serde(default)]
    a: i64,
    #[serde(default)]
    until: i64,
    #[serde(default)]
    sig: String,
}

#[derive(Template)]
#[template(path = "check_in.html")]
struct MemberCheckInPage {
    ctx: Ctx,
    link: LinkQuery,
    /// The activity and whether check-in is open, before any button.
    preview: CheckInPreview,
    /// Why check-in is refused now, in words.
    refusal: Option<String>,
    /// After posting: whether this was the first check-in.
    result: Option<bool>,
}

impl LinkQuery {
    fn signed(&self) -> CheckInLink {
        CheckInLink {
            activity_id: self.a,
            until: self.until,
            signature: self.sig.clone(),
        }
    }
}

/// Where a scanned QR code leads: the activity, its time and place, and whether check-in is
/// open, then one large button (a GET never checks anyone in).
pub async fn member_check_in_page(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    Query(link): Query<LinkQuery>,
) -> Result<Response, AppError> {
    render_check_in(&state, ctx, &auth.actor, link, None).await
}

pub async fn member_check_in(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let pairs = Pairs(pairs);
    let link = LinkQuery {
        a: pairs.get("a").parse().unwrap_or_default(),
        until: pairs.get("until").parse().unwrap_or_default(),
        sig: pairs.get("sig").to_owned(),
    };
    let outcome = refused(
        state
            .store
            .check_in_with_link(&auth.actor, state.clock.now(), &link.signed())
            .await,
    )?;
    // A refusal shows the same page: the preview now says why.
    let result = outcome
        .ok()
        .map(|(outcome, _)| outcome == CheckIn::CheckedIn);
    render_check_in(&state, ctx, &auth.actor, link, result).await
}

async fn render_check_in(
    state: &AppState,
    ctx: Ctx,
    actor: &Actor,
    link: LinkQuery,
    result: Option<bool>,
) -> Result<Response, AppError> {
    let preview = match state
        .store
        .check_in_preview(actor, state.clock.now(), &link.signed())
        .await
    {
        Ok(preview) => preview,
        Err(StoreError::Invalid(invalid)) => {
            // A forged link names no activity to show.
            let page = MemberCheckInFailed {
                errors: ctx.errors(&[invalid]),
                ctx: ctx.with_section("my_activities"),
            };
            return Ok(page
                .ctx
                .respond(StatusCode::UNPROCESSABLE_ENTITY, page.render()?));
        }
        Err(e) => return Err(e.into()),
    };
    let refusal = match (&preview.admission, result) {
        (Admission::Refused(invalid), None) => ctx
            .errors(std::slice::from_ref(invalid))
            .all()
            .first()
            .map(|(_, message)| message.clone()),
        _ => None,
    };
    let status = if refusal.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = MemberCheckInPage {
        ctx: ctx.with_section("my_activities"),
        link,
        preview,
        refusal,
        result,
    };
    Ok(page.ctx.respond(status, page.render()?))
}

#[derive(Template)]
#[template(path = "check_in_failed.html")]
struct MemberCheckInFailed {
    ctx: Ctx,
    errors: FormErrors,
}

#[derive(Template)]
#[template(path = "my_activities.html")]
struct MinePage {
    ctx: Ctx,
    items: Vec<(ActivityView, Attendance)>,
    /// Open surveys the member has not answered: they await the member too.
    surveys: Vec<tongxin_store::SurveyView>,
    now: Timestamp,
    errors: FormErrors,
}

impl MinePage {
    /// The soonest activity still ahead that the member is going to or has not answered.
    fn next_up(&self) -> Option<&(ActivityView, Attendance)> {
        self.items
            .iter()
            .filter(|(a, status)| {
                a.state == ActivityState::Planned
                    && self.now < a.starts_at
                    && matches!(status, Attendance::Invited | Attendance::Confirmed)
            })
            .min_by_key(|(a, _)| a.starts_at)
    }

    /// Invitations the member has not answered and still may, soonest first.
    fn awaiting(&self) -> Vec<&(ActivityView, Attendance)> {
        let mut awaiting: Vec<_> = self
            .items
            .iter()
            .filter(|(a, status)| *status == Attendance::Invited && self.answerable(a, status))
            .collect();
        awaiting.sort_by_key(|(a, _)| a.starts_at);
        awaiting
    }

    /// Everything else, latest first.
    fn others(&self) -> Vec<&(ActivityView, Attendance)> {
        self.items
            .iter()
            .filter(|(a, status)| !(*status == Attendance::Invited && self.answerable(a, status)))
            .collect()
    }

    /// Whether the member may still answer: planned, not started, not yet marked.
    fn answerable(&self, activity: &ActivityView, status: &Attendance) -> bool {
        activity.state == ActivityState::Planned
            && self.now < activity.starts_at
            && matches!(
                status,
                Attendance::Invited | Attendance::Confirmed | Attendance::Excused
            )
    }
}

/// The member's invitations, phone first.
pub async fn mine(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
) -> Result<Response, AppError> {
    render_mine(&state, ctx, &auth.actor, &[]).await
}

async fn render_mine(
    state: &AppState,
    ctx: Ctx,
    actor: &Actor,
    invalid: &[Invalid],
) -> Result<Response, AppError> {
    let status = form_status(invalid);
    let page = MinePage {
        errors: ctx.errors(invalid),
        ctx: ctx.with_section("my_activities"),
        items: state.store.my_activities(actor).await?,
        surveys: state
            .store
            .surveys(actor, state.config.today(state.clock.now()))
            .await?
            .into_iter()
            .filter(|s| s.open && !s.answered)
            .collect(),
        now: state.clock.now(),
    };
    Ok(page.ctx.respond(status, page.render()?))
}

/// The member's answer to an invitation, from the card's buttons.
pub async fn answer(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let pairs = Pairs(pairs);
    let status = Attendance::parse(pairs.get("status")).map_err(|i| AppError::Invalid(vec![i]))?;
    match refused(
        state
            .store
            .answer_invitation(&auth.actor, state.clock.now(), id, status)
            .await,
    )? {
        Ok(()) => Ok(see_other("/my-activities")),
        Err(invalid) => render_mine(&state, ctx, &auth.actor, &invalid).await,
    }
}

#[derive(Template)]
#[template(path = "activities/kinds.html")]
struct KindsPage {
    ctx: Ctx,
    kinds: Vec<ActivityKindView>,
    errors: FormErrors,
}

/// The activity kinds, kept by administrators of a top unit.
pub async fn kinds(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
) -> Result<Response, AppError> {
    render_kinds(&state, ctx, &auth.actor, &[]).await
}

async fn render_kinds(
    state: &AppState,
    ctx: Ctx,
    actor: &Actor,
    invalid: &[Invalid],
) -> Result<Response, AppError> {
    let status = form_status(invalid);
    let page = KindsPage {
        errors: ctx.errors(invalid),
        ctx: ctx.with_section("activity_kinds"),
        kinds: state.store.activity_kinds(actor, true).await?,
    };
    Ok(page.ctx.respond(status, page.render()?))
}

pub async fn create_kind(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let pairs = Pairs(pairs);
    match refused(
        state
            .store
            .create_activity_kind(
                &auth.actor,
                state.clock.now(),
                pairs.get("code"),
                pairs.get("name"),
            )
            .await,
    )? {
        Ok(_) => Ok(see_other("/activity-kinds")),
        Err(invalid) => render_kinds(&state, ctx, &auth.actor, &invalid).await,
    }
}

pub async fn change_kind(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let pairs = Pairs(pairs);
    match refused(
        state
            .store
            .change_activity_kind(
                &auth.actor,
                state.clock.now(),
                id,
                pairs.get("name"),
                pairs.get("archived") == "true",
            )
            .await,
    )? {
        Ok(()) => Ok(see_other("/activity-kinds")),
        Err(invalid) => render_kinds(&state, ctx, &auth.actor, &invalid).await,
    }
}
