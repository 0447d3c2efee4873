//! Self-declared updates on the pages: the member's own record with a form to propose changes
//! (`/my-record`), the staff queue that approves or rejects each change (`/proposals`), and
//! linking a member account to its person record.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use tongxin_core::{Field, Invalid, Username, parse_optional_text};
use tongxin_store::{
    AccessEntry, Decision, Page, PageRequest, PersonView, ProposalField, ProposalQuery,
    ProposalStatus, ProposalView, StoreError,
};

use crate::AppState;
use crate::error::AppError;
use crate::forms::{CsrfForm, IdPath, Query};
use crate::input;
use crate::pages::chrome::{Ctx, FormErrors, Pager, done, see_other};
use crate::session::{Authenticated, CurrentUser};

/// Reads of the record shown on "My record"; the rest are a page of their own.
const LATEST_ACCESS: u64 = 10;

#[derive(Template)]
#[template(path = "my_record_access.html")]
struct RecordAccessPage {
    ctx: Ctx,
    access: Page<AccessEntry>,
    pager: Pager,
}

/// `/my-record/access`: everyone who read the member's record, page by page.
pub async fn record_access(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    Query(query): Query<PageQuery>,
) -> Result<Response, AppError> {
    let access = state
        .store
        .own_record_access(
            &auth.actor,
            state.clock.now(),
            PageRequest::new(query.page, query.per_page),
        )
        .await?;
    let page = RecordAccessPage {
        pager: Pager::new(&access, "/my-record/access", &[]),
        access,
        ctx: ctx.with_section("my_record"),
    };
    Ok(page.ctx.respond(StatusCode::OK, page.render()?))
}

#[derive(Deserialize, Default)]
pub struct PageQuery {
    page: Option<u64>,
    per_page: Option<u64>,
}

#[derive(Template)]
#[template(path = "my_record.html")]
struct MyRecordPage {
    ctx: Ctx,
    person: PersonView,
    /// The fields a member may propose changes to, with the value to show in each input.
    inputs: Vec<(&'static str, String)>,
    proposals: Vec<ProposalView>,
    /// The latest reads of the record by others.
    access: Page<AccessEntry>,
    /// How many changes were just submitted.
    submitted: Option<usize>,
    errors: FormErrors,
}

async fn render_record(
    state: &AppState,
    ctx: Ctx,
    auth: &Authenticated,
    status: StatusCode,
    typed: Option<&BTreeMap<String, String>>,
    submitted: Option<usize>,
    errors: &[Invalid],
) -> Result<Response, AppError> {
    let person = state.store.own_record(&auth.actor).await?;
    let proposals = state.store.own_proposals(&auth.actor).await?;
    let access = state
        .store
        .own_record_access(
            &auth.actor,
            state.clock.now(),
            PageRequest::new(Some(1), Some(LATEST_ACCESS)),
        )
        .await?;
    let on_record = |field: ProposalField| match field {
        // Shown masked above the input; the input starts empty and empty keeps it.
        ProposalField::Phone => None,
        ProposalField::Address => person.address.clone(),
        ProposalField::Employer => person.employer.clone(),
        ProposalField::Title => person.title.clone(),
        ProposalField::Occupation => person.occupation.clone(),
        ProposalField::Education => person.education.clone(),
        ProposalField::PoliticalAffiliation => person.political_affiliation.clone(),
    };
    let inputs = ProposalField::ALL
        .into_iter()
        .map(|field| {
            let value = match typed {
                Some(typed) => typed.get(field.key()).cloned().unwrap_or_default(),
                None => on_record(field).unwrap_or_default(),
            };
            (field.key(), value)
        })
        .collect();
    let page = MyRecordPage {
        inputs,
        proposals,
        access,
        submitted,
        errors: ctx.errors(errors),
        ctx: ctx.with_section("my_record"),
        person,
    };
    Ok(page.ctx.respond(status, page.render()?))
}

/// `/my-record`: a member's own record, their proposals and the form to propose changes.
pub async fn my_record(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    Query(query): Query<SubmittedQuery>,
) -> Result<Response, AppError> {
    render_record(
        &state,
        ctx,
        &auth,
        StatusCode::OK,
        None,
        query.submitted,
        &[],
    )
    .await
}

#[derive(Deserialize, Default)]
pub struct SubmittedQuery {
    submitted: Option<usize>,
}

pub async fn propose(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    CsrfForm(form): CsrfForm<BTreeMap<String, String>>,
) -> Result<Response, AppError> {
    let submitted: BTreeMap<String, String> = form
        .into_iter()
        .filter(|(key, _)| ProposalField::parse(key).is_some())
        .collect();
    let refused = match input::proposed_changes(&submitted) {
        Ok(changes) => match state
            .store
            .propose_changes(&auth.actor, state.clock.now(), &changes)
            .await
        {
            Ok(created) => {
                return Ok(see_other(&format!(
                    "/my-record?submitted={}",
                    created.len()
                )));
            }
            Err(StoreError::Invalid(invalid)) => vec![invalid],
            Err(e) => return Err(e.into()),
        },
        Err(invalid) => invalid,
    };
    let status = StatusCode::UNPROCESSABLE_ENTITY;
    render_record(&state, ctx, &auth, status, Some(&submitted), None, &refused).await
}

#[derive(Template)]
#[template(path = "proposals.html")]
struct ProposalsPage {
    ctx: Ctx,
    proposals: Vec<ProposalView>,
    /// `pending` or `decided`.
    showing: &'static str,
    can_decide: bool,
    /// Where decisions made on this page return to.
    back: &'static str,
}

#[derive(Deserialize, Default)]
pub struct QueueQuery {
    #[serde(default)]
    show: String,
}

/// `/proposals`: the changes members proposed, pending first; decided ones on request.
pub async fn index(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    Query(query): Query<QueueQuery>,
) -> Result<Response, AppError> {
    let actor = &auth.actor;
    let (showing, proposals) = if query.show == "decided" {
        let mut all = state
            .store
            .proposals(actor, &ProposalQuery::default())
            .await?;
        all.retain(|p| p.status != ProposalStatus::Pending);
        all.reverse();
        ("decided", all)
    } else {
        let pending = ProposalQuery {
            status: Some(ProposalStatus::Pending),
            person_id: None,
        };
        ("pending", state.store.proposals(actor, &pending).await?)
    };
    let page = ProposalsPage {
        proposals,
        showing,
        can_decide: crate::pages::chrome::can_edit(actor),
        back: "queue",
        ctx: ctx.with_section("proposals"),
    };
    Ok(page.ctx.respond(StatusCode::OK, page.render()?))
}

#[derive(Deserialize)]
pub struct DecisionForm {
    /// `approve` or `reject`.
    action: String,
    #[serde(default)]
    reason: String,
    /// Where to go back to: the queue, or the person's record.
    #[serde(default)]
    back: String,
}

pub async fn decide(
    State(state): State<AppState>,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
    CsrfForm(form): CsrfForm<DecisionForm>,
) -> Result<Response, AppError> {
    let decision = match form.action.as_str() {
        "approve" => Decision::Approve,
        "reject" => Decision::Reject {
            reason: parse_optional_text(Field::Named("reason"), &form.reason, 500)?,
        },
        other => {
            return Err(AppError::Malformed {
                code: "bad_form",
                detail: format!("action={other}"),
            });
        }
    };
    let decided = state
        .store
        .decide_proposal(&auth.actor, state.clock.now(), id, decision)
        .await?;
    // Only two places to return to, so the form cannot redirect elsewhere.
    if form.back == "person" {
        Ok(super::people::after(decided.person_id, "decided"))
    } else {
        Ok(done("/proposals", "proposal_decided"))
    }
}

#[derive(Deserialize)]
pub struct LinkForm {
    #[serde(default)]
    username: String,
}

/// Links the named member account to the person, or removes the link when empty.
pub async fn link_member(
    State(state): State<AppState>,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
    CsrfForm(form): CsrfForm<LinkForm>,
) -> Result<Response, AppError> {
    let now = state.clock.now();
    if form.username.trim().is_empty() {
        state.store.unlink_member(&auth.actor, now, id).await?;
        Ok(super::people::after(id, "member_unlinked"))
    } else {
        let username = Username::parse(&form.username)?;
        state
            .store
            .link_member(&auth.actor, now, id, &username)
            .await?;
        Ok(super::people::after(id, "member_linked"))
    }
}
