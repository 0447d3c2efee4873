//! Batch actions over the people ticked in the directory: export the selection, tag it,
//! archive it (after a confirmation page naming everyone), or invite it to an activity (after
//! choosing which). The store refuses a batch whole when any person is not the actor's to
//! change.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use tongxin_core::{ActivityState, Field, Invalid, Reason};
use tongxin_store::{
    ActivityQuery, ActivityView, Actor, Invitees, PageRequest, PeopleChange, PeopleQuery,
    PersonStatus, PersonSummary, StoreError,
};

use crate::AppState;
use crate::error::AppError;
use crate::forms::{CsrfForm, Pairs};
use crate::pages::chrome::{Ctx, FormErrors, can_edit, refused, see_other};
use crate::session::CurrentUser;

/// What the batch form's buttons ask for.
enum Action {
    Export,
    Tag(String),
    Archive { confirmed: bool },
    Invite { activity: Option<i64> },
}

impl Action {
    fn of(pairs: &Pairs) -> Option<Action> {
        Some(match pairs.get("action") {
            "export" => Action::Export,
            "tag" => Action::Tag(pairs.get("tag").to_owned()),
            "archive" => Action::Archive {
                confirmed: pairs.get("confirmed") == "yes",
            },
            "invite" => Action::Invite {
                activity: pairs.get("activity").trim().parse().ok(),
            },
            _ => return None,
        })
    }
}

/// The page between a batch and its effect: the confirmation of an archive, the choice of an
/// activity, or a refusal.
#[derive(Template)]
#[template(path = "people/batch.html")]
struct BatchPage {
    ctx: Ctx,
    /// `archive` or `invite`.
    action: &'static str,
    people: Vec<PersonSummary>,
    activities: Vec<ActivityView>,
    /// The directory's list the batch came from, as its query string.
    back: String,
    errors: FormErrors,
}

/// `POST /directory/batch`.
pub async fn batch(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let actor = &auth.actor;
    let pairs = Pairs(pairs);
    let ids = pairs.ids("person");
    let back = pairs.get("back").to_owned();
    // Back to the list, with the words of what was done.
    let list_saying = |done: String| match back.as_str() {
        "" => format!("/directory?done={done}"),
        filters => format!("/directory?{filters}&done={done}"),
    };
    let Some(action) = Action::of(&pairs) else {
        return Err(AppError::Malformed {
            code: "bad_form",
            detail: format!("action={}", pairs.get("action")),
        });
    };
    let now = state.clock.now();
    let mut page = BatchPage {
        ctx: ctx.with_section("directory"),
        action: "archive",
        people: Vec::new(),
        activities: Vec::new(),
        back: back.clone(),
        errors: FormErrors::default(),
    };
    let outcome = match action {
        Action::Export => {
            let picked: Vec<String> = ids.iter().map(i64::to_string).collect();
            let query = [("status", "all"), ("ids", &picked.join(","))];
            return Ok(see_other(&format!(
                "/directory/export?{}",
                serde_urlencoded::to_string(query).unwrap_or_default()
            )));
        }
        // Leaders read; the store would refuse the change, but not the pages before it.
        _ if !can_edit(actor) => return Err(StoreError::Forbidden.into()),
        Action::Tag(tag) => state
            .store
            .change_people(actor, now, &ids, &PeopleChange::Tag(tag))
            .await
            .map(|n| list_saying(format!("people_tagged:{n}"))),
        Action::Archive { confirmed: true } => state
            .store
            .change_people(actor, now, &ids, &PeopleChange::Archive)
            .await
            .map(|n| list_saying(format!("people_archived:{n}"))),
        Action::Invite {
            activity: Some(activity),
        } => state
            .store
            .invite(actor, now, activity, &Invitees::People(ids.clone()))
            .await
            .map(|n| format!("/activities/{activity}?done=invited:{n}")),
        Action::Archive { confirmed: false } => {
            return confirmation(&state, actor, page, &ids).await;
        }
        Action::Invite { activity: None } => {
            page.action = "invite";
            // The soonest first.
            let upcoming = ActivityQuery {
                state: Some(ActivityState::Planned),
                from: Some(now),
                reversed: true,
                ..ActivityQuery::default()
            };
            page.activities = state
                .store
                .activities(actor, &upcoming, PageRequest::new(None, Some(100)))
                .await?
                .items;
            return confirmation(&state, actor, page, &ids).await;
        }
    };
    match refused(outcome)? {
        Ok(next) => Ok(see_other(&next)),
        Err(invalid) => {
            page.errors = page.ctx.errors(&invalid);
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(page.ctx.respond(status, page.render()?))
        }
    }
}

/// The page naming everyone picked, before an archive or an invitation takes effect.
async fn confirmation(
    state: &AppState,
    actor: &Actor,
    mut page: BatchPage,
    ids: &[i64],
) -> Result<Response, AppError> {
    if ids.is_empty() {
        let invalid = vec![Invalid::new(Field::Named("people"), Reason::Required)];
        page.errors = page.ctx.errors(&invalid);
        return Ok(page
            .ctx
            .respond(StatusCode::UNPROCESSABLE_ENTITY, page.render()?));
    }
    let picked = PeopleQuery {
        ids: ids.to_vec(),
        status: PersonStatus::All,
        ..PeopleQuery::default()
    };
    page.people = state
        .store
        .search_people(
            actor,
            &picked,
            PageRequest::new(None, Some(PageRequest::MAX_PER_PAGE)),
            state.clock.now(),
        )
        .await?
        .items;
    Ok(page.ctx.respond(StatusCode::OK, page.render()?))
}
