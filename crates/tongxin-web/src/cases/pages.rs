//! `/cases`: the staff's case list (by due date, with deadline colours), a case's page (its
//! timeline, the steps the reader may take, replies, notes, files, extensions, similar cases),
//! and submission on a member's behalf.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use tongxin_core::{
    CaseType, Effect, InstructionLevel, Invalid, Outcome, Party, Role, Satisfaction,
};
use tongxin_store::{
    Actor, CASE_CATEGORIES, CaseEventView, CaseFileView, CaseInput, CaseUpload, CaseView,
    DepartmentView, ExtensionView, OutcomeView, Page, PageRequest, PlanStepView, StoreError,
};

use super::api::{ListQuery, TransitionBody};
use crate::AppState;
use crate::activities::pages::unit_id_of;
use crate::error::AppError;
use crate::forms::{CsrfForm, CsrfUpload, IdPair, IdPath, Pairs};
use crate::pages::chrome::{Ctx, FormErrors, Pager, done, refused, see_other};
use crate::session::CurrentUser;

/// The list's filters as the form holds them.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ListForm {
    q: String,
    #[serde(rename = "type")]
    case_type: String,
    category: String,
    open: String,
    overdue: String,
    sort: String,
    page: Option<u64>,
    per_page: Option<u64>,
}

#[derive(Template)]
#[template(path = "cases/index.html")]
struct IndexPage {
    ctx: Ctx,
    list: ListForm,
    results: Page<CaseView>,
    pager: Pager,
    types: [CaseType; 5],
    categories: [&'static str; 7],
    can_submit: bool,
}

pub async fn index(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    Query(list): Query<ListForm>,
) -> Result<Response, AppError> {
    let query = ListQuery {
        q: Some(list.q.clone()),
        case_type: Some(list.case_type.clone()),
        state: None,
        category: Some(list.category.clone()),
        unit_id: None,
        open: Some(list.open == "1"),
        overdue: Some(list.overdue == "1"),
        // Staff work by what is due first.
        sort: Some(
            if list.sort.is_empty() {
                "due"
            } else {
                &list.sort
            }
            .to_owned(),
        ),
        page: None,
        per_page: None,
    };
    let today = state.config.today(state.clock.now());
    let results = state
        .store
        .cases(
            &auth.actor,
            today,
            &query.filter()?,
            PageRequest::new(list.page, list.per_page),
        )
        .await?;
    let params = [
        ("q", list.q.as_str()),
        ("type", list.case_type.as_str()),
        ("category", list.category.as_str()),
        ("open", list.open.as_str()),
        ("overdue", list.overdue.as_str()),
        ("sort", list.sort.as_str()),
    ];
    let pager = Pager::new(&results, "/cases", &params);
    let page = IndexPage {
        can_submit: matches!(auth.actor.role(), Role::Admin | Role::Staff),
        ctx: ctx.with_section("cases"),
        list,
        results,
        pager,
        types: CaseType::ALL,
        categories: CASE_CATEGORIES,
    };
    Ok(page.ctx.respond(StatusCode::OK, page.render()?))
}

#[derive(Template)]
#[template(path = "cases/show.html")]
struct ShowPage {
    ctx: Ctx,
    record: CaseView,
    timeline: Vec<CaseEventView>,
    files: Vec<CaseFileView>,
    extensions: Vec<ExtensionView>,
    outcomes: Vec<OutcomeView>,
    plan: Vec<PlanStepView>,
    outcome_kinds: [Outcome; 3],
    levels: [InstructionLevel; 4],
    similar: Vec<(i64, String, String, f64)>,
    departments: Vec<DepartmentView>,
    satisfactions: [Satisfaction; 3],
    /// Replies, internal notes and files: staff handling or overseeing an open case.
    may_write: bool,
    may_extend: bool,
    may_decide: bool,
    /// Adds steps to the rectification plan (the handling unit, before it reports completion).
    may_plan: bool,
    /// Reports a plan step done.
    may_do_steps: bool,
    errors: FormErrors,
}

pub(crate) async fn render_show(
    state: &AppState,
    ctx: Ctx,
    actor: &Actor,
    id: i64,
    invalid: &[Invalid],
) -> Result<Response, AppError> {
    let today = state.config.today(state.clock.now());
    let detail = state.store.case_detail(actor, today, id).await?;
    let case = detail.case;
    let assigns = case
        .actions
        .iter()
        .any(|(_, effect)| *effect == Effect::Assign);
    let staff_side = case.staff_side();
    let page = ShowPage {
        timeline: detail.timeline,
        files: detail.files,
        extensions: detail.extensions,
        outcomes: detail.outcomes,
        outcome_kinds: Outcome::ALL,
        levels: InstructionLevel::ALL,
        may_plan: case.case_type == CaseType::Supervision
            && case.parties.contains(&Party::Handling)
            && !case.ended
            && case.answered_at.is_none(),
        may_do_steps: case.parties.contains(&Party::Handling) && !case.ended,
        plan: detail.plan,
        similar: if staff_side && !case.ended {
            state.store.similar_cases(actor, id).await?
        } else {
            Vec::new()
        },
        departments: if assigns {
            state.store.departments(actor).await?
        } else {
            Vec::new()
        },
        satisfactions: Satisfaction::ALL,
        may_write: matches!(actor.role(), Role::Admin | Role::Staff) && staff_side && !case.ended,
        may_extend: case.parties.contains(&Party::Handling)
            && !case.ended
            && case.answered_at.is_none()
            && case.due_on.is_some(),
        may_decide: case.parties.contains(&Party::Receiving)
            || case.parties.contains(&Party::Above),
        errors: ctx.errors(invalid),
        ctx: ctx.with_section("cases"),
        record: case,
    };
    let status = crate::pages::chrome::form_status(invalid);
    Ok(page.ctx.respond(status, page.render()?))
}

pub async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
) -> Result<Response, AppError> {
    if auth.actor.role() == Role::Member {
        return Ok(see_other(&format!("/my-submissions/{id}")));
    }
    render_show(&state, ctx, &auth.actor, id, &[]).await
}

/// After a step: back to the case with what was done, or the case again with the refusal.
pub(crate) async fn after<T>(
    state: &AppState,
    ctx: Ctx,
    actor: &Actor,
    id: i64,
    result: Result<T, StoreError>,
    what: &str,
) -> Result<Response, AppError> {
    match refused(result)? {
        Ok(_) => Ok(done(&format!("/cases/{id}"), what)),
        Err(invalid) => render_show(state, ctx, actor, id, &invalid).await,
    }
}

fn optional(pairs: &Pairs, name: &str) -> Option<String> {
    Some(pairs.get(name).trim().to_owned()).filter(|v| !v.is_empty())
}

fn optional_id(pairs: &Pairs, name: &str) -> Option<i64> {
    optional(pairs, name).and_then(|v| v.parse().ok())
}

/// The step a form asks for, as the API's body would.
pub(crate) fn step_of(pairs: &Pairs) -> TransitionBody {
    TransitionBody {
        action: pairs.get("action").to_owned(),
        body: optional(pairs, "body"),
        unit_id: optional_id(pairs, "unit_id"),
        department_id: optional_id(pairs, "department_id"),
        due_on: optional(pairs, "due_on"),
        merge_into: optional_id(pairs, "merge_into"),
        satisfaction: optional(pairs, "satisfaction"),
    }
}

pub async fn act(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let pairs = Pairs(pairs);
    let mut action = match step_of(&pairs).into_action() {
        Ok(action) => action,
        Err(AppError::Invalid(invalid)) => {
            return render_show(&state, ctx, &auth.actor, id, &invalid).await;
        }
        Err(other) => return Err(other),
    };
    // The handling unit is picked by name or code, as every unit field is.
    let unit_code = pairs.get("unit_code").trim();
    if !unit_code.is_empty() {
        match unit_id_of(&state, &auth.actor, unit_code).await? {
            Ok(unit) => action.unit_id = Some(unit),
            Err(reason) => {
                let invalid = [Invalid::new(tongxin_core::Field::Unit, reason)];
                return render_show(&state, ctx, &auth.actor, id, &invalid).await;
            }
        }
    }
    let now = state.clock.now();
    let result = state
        .store
        .act_on_case(&auth.actor, now, state.config.today(now), id, &action)
        .await;
    after(&state, ctx, &auth.actor, id, result, "case_step").await
}

/// `kind=reply` or `kind=note`.
pub async fn write(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let pairs = Pairs(pairs);
    let internal = pairs.get("kind") == "note";
    let result = state
        .store
        .write_on_case(
            &auth.actor,
            state.clock.now(),
            id,
            pairs.get("body"),
            internal,
        )
        .await;
    after(
        &state,
        ctx,
        &auth.actor,
        id,
        result,
        if internal { "case_note" } else { "case_reply" },
    )
    .await
}

pub async fn add_file(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
    upload: CsrfUpload,
) -> Result<Response, AppError> {
    let internal = upload.fields.get("internal").is_some_and(|v| v == "1");
    let file = CaseUpload {
        file_name: upload.file_name,
        bytes: upload.bytes.to_vec(),
    };
    let result = state
        .store
        .add_case_file(&auth.actor, state.clock.now(), id, &file, internal)
        .await;
    after(&state, ctx, &auth.actor, id, result, "case_file").await
}

pub async fn file(
    State(state): State<AppState>,
    CurrentUser(auth): CurrentUser,
    IdPair(id, file): IdPair,
) -> Result<Response, AppError> {
    let (name, media_type, bytes) = state.store.case_file(&auth.actor, id, file).await?;
    Ok(crate::uploads::user_file(
        &media_type,
        &name,
        bytes,
        crate::uploads::Disposition::Attachment,
    ))
}

pub async fn request_extension(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let pairs = Pairs(pairs);
    let due = match chrono::NaiveDate::parse_from_str(pairs.get("due_on").trim(), "%Y-%m-%d") {
        Ok(due) => due,
        Err(_) => {
            let invalid = [Invalid::new(
                tongxin_core::Field::Named("due_on"),
                tongxin_core::Reason::DateFormat,
            )];
            return render_show(&state, ctx, &auth.actor, id, &invalid).await;
        }
    };
    let result = state
        .store
        .request_extension(&auth.actor, state.clock.now(), id, due, pairs.get("reason"))
        .await;
    after(&state, ctx, &auth.actor, id, result, "case_extension").await
}

pub async fn decide_extension(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    IdPair(id, request): IdPair,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let approve = Pairs(pairs).get("decision") == "approve";
    let result = state
        .store
        .decide_extension(&auth.actor, state.clock.now(), id, request, approve)
        .await;
    after(
        &state,
        ctx,
        &auth.actor,
        id,
        result,
        "case_extension_decided",
    )
    .await
}

#[derive(Template)]
#[template(path = "cases/new.html")]
struct NewPage {
    ctx: Ctx,
    /// The person it is submitted for (staff come from the person's page).
    submitter: Option<(i64, String)>,
    types: [CaseType; 5],
    categories: [&'static str; 7],
    errors: FormErrors,
    form: Pairs,
}

async fn render_new(
    state: &AppState,
    ctx: Ctx,
    actor: &Actor,
    invalid: &[Invalid],
    form: Pairs,
) -> Result<Response, AppError> {
    let submitter = match form.get("submitter_id").trim().parse::<i64>() {
        Ok(id) => {
            let person = state.store.person(actor, id).await?;
            Some((person.id, person.name))
        }
        Err(_) => None,
    };
    let page = NewPage {
        submitter,
        errors: ctx.errors(invalid).in_order(&[
            "submitter",
            "cosubmitters",
            "type",
            "category",
            "case_title",
            "content",
        ]),
        ctx: ctx.with_section("cases"),
        types: CaseType::ALL,
        categories: CASE_CATEGORIES,
        form,
    };
    let status = crate::pages::chrome::form_status(invalid);
    Ok(page.ctx.respond(status, page.render()?))
}

#[derive(Deserialize, Default)]
pub struct NewQuery {
    submitter_id: Option<i64>,
}

/// `/cases/new?submitter_id=`: staff enter a case on a person's behalf, coming from the
/// person's page.
pub async fn new_page(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    Query(query): Query<NewQuery>,
) -> Result<Response, AppError> {
    if !matches!(auth.actor.role(), Role::Admin | Role::Staff) {
        return Err(AppError::Forbidden);
    }
    let form = query
        .submitter_id
        .map(|id| vec![("submitter_id".to_owned(), id.to_string())])
        .unwrap_or_default();
    render_new(&state, ctx, &auth.actor, &[], Pairs(form)).await
}

/// Reads a submission form (staff's or a member's) into the store's input.
pub(crate) fn input_of(pairs: &Pairs) -> Result<CaseInput, Vec<Invalid>> {
    let case_type = CaseType::parse(pairs.get("type")).ok_or_else(|| {
        vec![Invalid::new(
            tongxin_core::Field::Named("type"),
            tongxin_core::Reason::NotAChoice,
        )]
    })?;
    let mut cosubmitter_ids = Vec::new();
    for part in pairs
        .get("cosubmitters")
        .split([',', '，', ' '])
        .filter(|p| !p.is_empty())
    {
        let id = part.parse().map_err(|_| {
            vec![Invalid::new(
                tongxin_core::Field::Named("cosubmitters"),
                tongxin_core::Reason::NumberFormat,
            )]
        })?;
        cosubmitter_ids.push(id);
    }
    Ok(CaseInput {
        case_type,
        title: pairs.get("title").to_owned(),
        body: pairs.get("body").to_owned(),
        category: pairs.get("category").to_owned(),
        submitter_id: optional_id(pairs, "submitter_id"),
        cosubmitter_ids,
        name_withheld: pairs.get("name_withheld") == "1",
        receiving_unit_id: optional_id(pairs, "receiving_unit_id"),
        attachment: None,
        topic_id: optional_id(pairs, "topic_id"),
    })
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let pairs = Pairs(pairs);
    let input = match input_of(&pairs) {
        Ok(input) => input,
        Err(invalid) => return render_new(&state, ctx, &auth.actor, &invalid, pairs).await,
    };
    let now = state.clock.now();
    match refused(
        state
            .store
            .submit_case(&auth.actor, now, state.config.today(now), &input)
            .await,
    )? {
        Ok(case) => Ok(done(&format!("/cases/{}", case.id), "case_submitted")),
        Err(invalid) => render_new(&state, ctx, &auth.actor, &invalid, pairs).await,
    }
}
