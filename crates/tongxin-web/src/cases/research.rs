//! Research topics: `/api/v1/research-topics`, the staff's `/research-topics` (publish, read the
//! teams and reports), and the member's `/my-research` (form or join a team, then report).

use askama::Template;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{Value, json};
use tongxin_core::{Field, Invalid, Reason, Role};
use tongxin_store::{Actor, TeamView, TopicDetail, TopicInput, TopicView};

use crate::AppState;
use crate::activities::pages::unit_id_of;
use crate::api::listing::whole;
use crate::error::AppError;
use crate::forms::{ApiJson, CsrfForm, IdPair, IdPath, Pairs};
use crate::pages::chrome::{Ctx, FormErrors, done, form_status, refused};
use crate::session::{ApiUser, CurrentUser};

fn topic_json(t: &TopicView) -> Value {
    json!({
        "id": t.id,
        "unit": { "id": t.unit.0, "name": t.unit.1 },
        "title": t.title,
        "body": t.body,
        "due_on": t.due_on.to_string(),
        "open": t.open,
        "teams": t.teams,
        "reports": t.reports,
        "my_team": t.my_team.as_ref().map(|(id, name)| json!({ "id": id, "name": name })),
    })
}

fn team_json(t: &TeamView) -> Value {
    json!({ "id": t.id, "name": t.name, "size": t.size, "members": t.members, "mine": t.mine })
}

fn detail_json(d: &TopicDetail) -> Value {
    let mut body = topic_json(&d.topic);
    body["teams"] = d.teams.iter().map(team_json).collect();
    body["reports"] = d
        .reports
        .iter()
        .map(|(id, number, title, state)| {
            json!({ "id": id, "number": number, "title": title, "state": state })
        })
        .collect();
    body
}

fn date(field: &'static str, text: &str) -> Result<NaiveDate, Invalid> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| Invalid::new(Field::Named(field), Reason::DateFormat))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct TopicBody {
    unit_id: Option<i64>,
    title: String,
    body: String,
    due_on: String,
}

impl TopicBody {
    fn input(self) -> Result<TopicInput, Invalid> {
        Ok(TopicInput {
            due_on: date("due_on", &self.due_on)?,
            unit_id: self.unit_id,
            title: self.title,
            body: self.body,
        })
    }
}

/// `GET /research-topics`.
pub async fn list(State(state): State<AppState>, user: ApiUser) -> Result<Json<Value>, AppError> {
    let today = state.config.today(state.clock.now());
    let topics = state.store.topics(&user.actor, today).await?;
    Ok(Json(whole(&topics, topic_json)))
}

/// `POST /research-topics`: publish a topic with a deadline.
pub async fn create(
    State(state): State<AppState>,
    user: ApiUser,
    ApiJson(body): ApiJson<TopicBody>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let input = body.input()?;
    let now = state.clock.now();
    let topic = state
        .store
        .publish_topic(&user.actor, now, state.config.today(now), &input)
        .await?;
    Ok((StatusCode::CREATED, Json(topic_json(&topic))))
}

/// `GET /research-topics/{id}`: the topic, its teams and the reports the caller may see.
pub async fn show(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
) -> Result<Json<Value>, AppError> {
    let today = state.config.today(state.clock.now());
    let detail = state.store.topic(&user.actor, today, id).await?;
    Ok(Json(detail_json(&detail)))
}

/// `PUT /research-topics/{id}`: change the title, text or deadline.
pub async fn update(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<TopicBody>,
) -> Result<Json<Value>, AppError> {
    let input = body.input()?;
    let now = state.clock.now();
    let topic = state
        .store
        .update_topic(&user.actor, now, state.config.today(now), id, &input)
        .await?;
    Ok(Json(topic_json(&topic)))
}

#[derive(Deserialize)]
pub struct TeamBody {
    name: String,
}

/// `POST /research-topics/{id}/teams`: a member forms a team and is its first member.
pub async fn form_team(
    State(state): State<AppState>,
    user: ApiUser,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<TeamBody>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let now = state.clock.now();
    let team = state
        .store
        .form_team(&user.actor, now, state.config.today(now), id, &body.name)
        .await?;
    Ok((StatusCode::CREATED, Json(team_json(&team))))
}

/// `POST /research-topics/{id}/teams/{team}/members`: a member joins a team.
pub async fn join_team(
    State(state): State<AppState>,
    user: ApiUser,
    IdPair(id, team): IdPair,
) -> Result<StatusCode, AppError> {
    let today = state.config.today(state.clock.now());
    state.store.join_team(&user.actor, today, id, team).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Template)]
#[template(path = "cases/topics.html")]
struct TopicsPage {
    ctx: Ctx,
    topics: Vec<TopicView>,
    can_publish: bool,
    form: Pairs,
    errors: FormErrors,
}

async fn render_topics(
    state: &AppState,
    ctx: Ctx,
    actor: &Actor,
    invalid: &[Invalid],
    form: Pairs,
) -> Result<Response, AppError> {
    let today = state.config.today(state.clock.now());
    let page = TopicsPage {
        topics: state.store.topics(actor, today).await?,
        can_publish: matches!(actor.role(), Role::Admin | Role::Staff),
        form,
        errors: ctx.errors(invalid),
        ctx: ctx.with_section("cases"),
    };
    Ok(page.ctx.respond(form_status(invalid), page.render()?))
}

/// `/research-topics`: the topics, and for staff a form to publish one.
pub async fn index(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
) -> Result<Response, AppError> {
    if auth.actor.role() == Role::Member {
        return Ok(crate::pages::chrome::see_other("/my-research"));
    }
    render_topics(&state, ctx, &auth.actor, &[], Pairs(Vec::new())).await
}

pub async fn publish(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let pairs = Pairs(pairs);
    let unit_id = match pairs.get("unit_code").trim() {
        "" => None,
        code => match unit_id_of(&state, &auth.actor, code).await? {
            Ok(id) => Some(id),
            Err(reason) => {
                let invalid = [Invalid::new(Field::Unit, reason)];
                return render_topics(&state, ctx, &auth.actor, &invalid, pairs).await;
            }
        },
    };
    let body = TopicBody {
        unit_id,
        title: pairs.get("title").to_owned(),
        body: pairs.get("body").to_owned(),
        due_on: pairs.get("due_on").to_owned(),
    };
    let input = match body.input() {
        Ok(input) => input,
        Err(invalid) => return render_topics(&state, ctx, &auth.actor, &[invalid], pairs).await,
    };
    let now = state.clock.now();
    match refused(
        state
            .store
            .publish_topic(&auth.actor, now, state.config.today(now), &input)
            .await,
    )? {
        Ok(topic) => Ok(done(
            &format!("/research-topics/{}", topic.id),
            "topic_published",
        )),
        Err(invalid) => render_topics(&state, ctx, &auth.actor, &invalid, pairs).await,
    }
}

#[derive(Template)]
#[template(path = "cases/topic.html")]
struct TopicPage {
    ctx: Ctx,
    detail: TopicDetail,
}

/// `/research-topics/{id}`: the topic, its teams with their members, and its reports.
pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
) -> Result<Response, AppError> {
    if auth.actor.role() == Role::Member {
        return Ok(crate::pages::chrome::see_other("/my-research"));
    }
    let today = state.config.today(state.clock.now());
    let page = TopicPage {
        detail: state.store.topic(&auth.actor, today, id).await?,
        ctx: ctx.with_section("cases"),
    };
    Ok(page.ctx.respond(StatusCode::OK, page.render()?))
}

#[derive(Template)]
#[template(path = "portal/research.html")]
struct MyResearchPage {
    ctx: Ctx,
    topics: Vec<TopicDetail>,
    errors: FormErrors,
}

async fn render_mine(
    state: &AppState,
    ctx: Ctx,
    actor: &Actor,
    invalid: &[Invalid],
) -> Result<Response, AppError> {
    if actor.role() != Role::Member {
        return Err(AppError::NotFound);
    }
    let today = state.config.today(state.clock.now());
    let mut topics = Vec::new();
    for topic in state.store.topics(actor, today).await? {
        if topic.open || topic.my_team.is_some() {
            topics.push(state.store.topic(actor, today, topic.id).await?);
        }
    }
    let page = MyResearchPage {
        topics,
        errors: ctx.errors(invalid),
        ctx: ctx.with_section("my_submissions"),
    };
    Ok(page.ctx.respond(form_status(invalid), page.render()?))
}

/// `/my-research`: open topics, each with its teams to join or a form to start one.
pub async fn mine(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
) -> Result<Response, AppError> {
    render_mine(&state, ctx, &auth.actor, &[]).await
}

/// `team_id` joins that team; `name` forms a new one.
pub async fn sign_up(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let pairs = Pairs(pairs);
    let now = state.clock.now();
    let today = state.config.today(now);
    let result = match pairs.get("team_id").parse::<i64>() {
        Ok(team) => state.store.join_team(&auth.actor, today, id, team).await,
        Err(_) => state
            .store
            .form_team(&auth.actor, now, today, id, pairs.get("name"))
            .await
            .map(|_| ()),
    };
    match refused(result)? {
        Ok(()) => Ok(done("/my-research", "team_joined")),
        Err(invalid) => render_mine(&state, ctx, &auth.actor, &invalid).await,
    }
}
