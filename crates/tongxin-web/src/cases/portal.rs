//! `/my-submissions`: a member's own cases on the phone-sized portal: submit one (with a file),
//! follow its state, read the answer, rate it, add to it. Internal notes never show here.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use tongxin_core::{CaseType, Invalid, Role, Satisfaction};
use tongxin_store::{
    Actor, CASE_CATEGORIES, CaseEventView, CaseFileView, CaseQuery, CaseUpload, CaseView,
    PageRequest,
};

use super::pages::{input_of, step_of};
use crate::AppState;
use crate::error::AppError;
use crate::forms::{CsrfForm, CsrfUpload, IdPath, Pairs};
use crate::pages::chrome::{Ctx, FormErrors, done, refused};
use crate::session::CurrentUser;

fn require_member(actor: &Actor) -> Result<(), AppError> {
    if actor.role() == Role::Member {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

#[derive(Template)]
#[template(path = "portal/submissions.html")]
struct ListPage {
    ctx: Ctx,
    cases: Vec<CaseView>,
}

/// `/my-submissions`: the member's cases, newest first.
pub async fn index(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
) -> Result<Response, AppError> {
    require_member(&auth.actor)?;
    let today = state.config.today(state.clock.now());
    let cases = state
        .store
        .cases(
            &auth.actor,
            today,
            &CaseQuery::default(),
            PageRequest::new(None, Some(100)),
        )
        .await?
        .items;
    let page = ListPage {
        ctx: ctx.with_section("my_submissions"),
        cases,
    };
    Ok(page.ctx.respond(StatusCode::OK, page.render()?))
}

#[derive(Template)]
#[template(path = "portal/submission_new.html")]
struct NewPage {
    ctx: Ctx,
    types: [CaseType; 4],
    categories: [&'static str; 7],
    errors: FormErrors,
    form: Pairs,
}

/// The types a member submits themself (supervision findings come from the supervising side).
const MEMBER_TYPES: [CaseType; 4] = [
    CaseType::Suggestion,
    CaseType::Opinion,
    CaseType::Research,
    CaseType::Direct,
];

fn render_new(ctx: Ctx, invalid: &[Invalid], form: Pairs) -> Result<Response, AppError> {
    let page = NewPage {
        errors: ctx.errors(invalid).in_order(&[
            "topic",
            "team",
            "type",
            "category",
            "case_title",
            "body",
            "file",
        ]),
        ctx: ctx.with_section("my_submissions"),
        types: MEMBER_TYPES,
        categories: CASE_CATEGORIES,
        form,
    };
    let status = crate::pages::chrome::form_status(invalid);
    Ok(page.ctx.respond(status, page.render()?))
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct NewQuery {
    /// A research topic the report answers: the form starts as a research report for it.
    topic_id: Option<i64>,
}

pub async fn new_page(
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    axum::extract::Query(query): axum::extract::Query<NewQuery>,
) -> Result<Response, AppError> {
    require_member(&auth.actor)?;
    let form = query
        .topic_id
        .map(|id| {
            vec![
                ("topic_id".to_owned(), id.to_string()),
                ("type".to_owned(), CaseType::Research.as_str().to_owned()),
            ]
        })
        .unwrap_or_default();
    render_new(ctx, &[], Pairs(form))
}

/// Submits the form, with its file if one was chosen; a refused file leaves nothing written.
pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    upload: CsrfUpload,
) -> Result<Response, AppError> {
    require_member(&auth.actor)?;
    let pairs = Pairs(upload.fields.into_iter().collect());
    let mut input = match input_of(&pairs) {
        Ok(input) if MEMBER_TYPES.contains(&input.case_type) => input,
        Ok(_) => {
            let invalid = [Invalid::new(
                tongxin_core::Field::Named("type"),
                tongxin_core::Reason::NotAChoice,
            )];
            return render_new(ctx, &invalid, pairs);
        }
        Err(invalid) => return render_new(ctx, &invalid, pairs),
    };
    input.attachment =
        (!upload.file_name.is_empty() && !upload.bytes.is_empty()).then(|| CaseUpload {
            file_name: upload.file_name,
            bytes: upload.bytes.to_vec(),
        });
    let now = state.clock.now();
    let case = match refused(
        state
            .store
            .submit_case(&auth.actor, now, state.config.today(now), &input)
            .await,
    )? {
        Ok(case) => case,
        Err(invalid) => return render_new(ctx, &invalid, pairs),
    };
    Ok(done(
        &format!("/my-submissions/{}", case.id),
        "case_submitted",
    ))
}

#[derive(Template)]
#[template(path = "portal/submission.html")]
struct ShowPage {
    ctx: Ctx,
    record: CaseView,
    timeline: Vec<CaseEventView>,
    files: Vec<CaseFileView>,
    satisfactions: [Satisfaction; 3],
    errors: FormErrors,
}

async fn render_show(
    state: &AppState,
    ctx: Ctx,
    actor: &Actor,
    id: i64,
    invalid: &[Invalid],
) -> Result<Response, AppError> {
    let today = state.config.today(state.clock.now());
    let detail = state.store.case_detail(actor, today, id).await?;
    let page = ShowPage {
        record: detail.case,
        timeline: detail.timeline,
        files: detail.files,
        satisfactions: Satisfaction::ALL,
        errors: ctx.errors(invalid),
        ctx: ctx.with_section("my_submissions"),
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
    require_member(&auth.actor)?;
    render_show(&state, ctx, &auth.actor, id, &[]).await
}

/// A step the member takes (rate, withdraw, reopen) or a message they add (`action=reply`).
pub async fn act(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    require_member(&auth.actor)?;
    let pairs = Pairs(pairs);
    let now = state.clock.now();
    let result = if pairs.get("action") == "reply" {
        state
            .store
            .write_on_case(&auth.actor, now, id, pairs.get("body"), false)
            .await
            .map(|_| ())
    } else {
        let action = match step_of(&pairs).into_action() {
            Ok(action) => action,
            Err(AppError::Invalid(invalid)) => {
                return render_show(&state, ctx, &auth.actor, id, &invalid).await;
            }
            Err(other) => return Err(other),
        };
        state
            .store
            .act_on_case(&auth.actor, now, state.config.today(now), id, &action)
            .await
            .map(|_| ())
    };
    match refused(result)? {
        Ok(()) => Ok(done(&format!("/my-submissions/{id}"), "case_step")),
        Err(invalid) => render_show(&state, ctx, &auth.actor, id, &invalid).await,
    }
}
