//! `/search`: one box in the top bar for everything filed in the tree — people,
//! organizations, activities, campaigns, materials and units — with a few results of each
//! kind and a link to the whole list.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use tongxin_store::{
    ActivityQuery, ActivityView, CampaignView, MaterialQuery, MaterialView, OrganizationQuery,
    OrganizationView, Page, PageRequest, PeopleQuery, PersonSummary, UnitQuery, UnitView,
};

use super::chrome::Ctx;
use crate::AppState;
use crate::error::AppError;
use crate::forms::Query;
use crate::session::CurrentUser;

/// Results shown of each kind; the kind's own list has the rest.
const SHOWN: u64 = 5;

/// Campaigns read to find a title among (a city runs a handful a year).
const CAMPAIGNS_READ: u64 = 200;

#[derive(Deserialize, Default)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    ctx: Ctx,
    q: String,
    /// What was found, once something was asked.
    found: Option<Found>,
}

/// A few of each kind that match.
struct Found {
    people: Page<PersonSummary>,
    organizations: Page<OrganizationView>,
    activities: Page<ActivityView>,
    campaigns: Vec<CampaignView>,
    materials: Page<MaterialView>,
    units: Page<UnitView>,
}

impl Found {
    fn nothing(&self) -> bool {
        self.people.items.is_empty()
            && self.organizations.items.is_empty()
            && self.activities.items.is_empty()
            && self.campaigns.is_empty()
            && self.materials.items.is_empty()
            && self.units.items.is_empty()
    }
}

impl SearchPage {
    fn encoded(&self) -> String {
        serde_urlencoded::to_string([("q", self.q.as_str())]).unwrap_or_default()
    }
}

pub async fn search(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    Query(query): Query<SearchQuery>,
) -> Result<Response, AppError> {
    let actor = &auth.actor;
    if !actor.role().works_in_tree() {
        return Err(AppError::NotFound);
    }
    let q = query.q.trim().to_owned();
    let few = PageRequest::new(Some(1), Some(SHOWN));
    if q.is_empty() {
        let page = SearchPage {
            ctx: ctx.with_section("search"),
            q,
            found: None,
        };
        return Ok(page.ctx.respond(StatusCode::OK, page.render()?));
    }
    let people = state
        .store
        .search_people(
            actor,
            &PeopleQuery {
                q: Some(q.clone()),
                ..PeopleQuery::default()
            },
            few,
            state.clock.now(),
        )
        .await?;
    let organizations = state
        .store
        .organizations(
            actor,
            &OrganizationQuery {
                q: Some(q.clone()),
                ..OrganizationQuery::default()
            },
            few,
        )
        .await?;
    let activities = state
        .store
        .activities(
            actor,
            &ActivityQuery {
                q: Some(q.clone()),
                ..ActivityQuery::default()
            },
            few,
        )
        .await?;
    let campaigns = state
        .store
        .campaigns(
            actor,
            false,
            PageRequest::new(Some(1), Some(CAMPAIGNS_READ)),
        )
        .await?
        .items
        .into_iter()
        .filter(|c| c.title.contains(&q))
        .take(usize::try_from(SHOWN).unwrap_or(usize::MAX))
        .collect();
    let materials = state
        .store
        .materials(
            actor,
            &MaterialQuery {
                q: Some(q.clone()),
                ..MaterialQuery::default()
            },
            few,
        )
        .await?;
    let units = state
        .store
        .units(
            actor,
            &UnitQuery {
                q: Some(q.clone()),
                ..UnitQuery::default()
            },
            few,
        )
        .await?;
    let page = SearchPage {
        ctx: ctx.with_section("search"),
        q,
        found: Some(Found {
            people,
            organizations,
            activities,
            campaigns,
            materials,
            units,
        }),
    };
    Ok(page.ctx.respond(StatusCode::OK, page.render()?))
}
