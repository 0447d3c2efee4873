//! The start page as a to-do list: for those who work in the tree, this week's activities,
//! the live campaigns with their weakest units, and the proposals awaiting a decision; for
//! account managers, the accounts locked out; for the three administrators, whether the newest
//! audit rows verify; for whoever imported, how their imports of the last hour went. Members
//! start from their own portal instead.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Duration;
use tongxin_core::{Role, Timestamp};
use tongxin_store::{
    AccountQuery, AccountView, ActivityQuery, ActivityView, Actor, CampaignView, ChainTail, Fault,
    PageRequest, Total, UnitCoverage, UnitQuery, UnitView,
};

use super::chrome::{Ctx, can_edit, see_other};
use crate::AppState;
use crate::activities::calendar_pages::monday_of;
use crate::directory::import_jobs::{ImportStage, ImportStatus};
use crate::error::AppError;
use crate::session::CurrentUser;

/// How many live campaigns the home page follows, and how many weakest units of each.
const CAMPAIGNS_SHOWN: u64 = 2;
const WEAKEST_SHOWN: usize = 3;

/// How many of the week's activities and locked accounts the home page lists.
const LISTED: u64 = 8;

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    ctx: Ctx,
    unit: Option<UnitView>,
    units_total: Total,
    accounts_total: Option<Total>,
    /// Staff and administrators act on the list; leaders read it.
    can_edit: bool,
    work: Option<Work>,
    locked: Option<Vec<AccountView>>,
    /// For the three administrators: whether the newest audit rows verify, in words.
    audit_chain: Option<ChainState>,
    /// The imports the user started in the last hour.
    imports: Vec<ImportLine>,
}

/// One of the user's recent imports, as the home page says it.
struct ImportLine {
    /// Its page.
    id: i64,
    file_name: String,
    words: String,
    /// Refused or failed: nothing was written.
    failed: bool,
}

impl ImportLine {
    fn of(ctx: &Ctx, id: i64, job: ImportStatus) -> ImportLine {
        let (words, failed) = match &job.stage {
            ImportStage::Running(rows) => {
                let doing = if job.check_only {
                    "import_page.checking"
                } else {
                    "import_page.importing"
                };
                let read = ctx.tn("import_page.rows_read", *rows);
                (format!("{} {read}", ctx.t(doing)), false)
            }
            ImportStage::Done(report) if !report.problems.is_empty() => {
                (ctx.tn("home.import_refused", report.problems.len()), true)
            }
            ImportStage::Done(report) if report.committed => {
                (ctx.tn("import_page.imported", report.rows), false)
            }
            ImportStage::Done(report) => (ctx.tn("import_page.checked", report.rows), false),
            ImportStage::Failed(_) => (ctx.t("home.import_failed").to_owned(), true),
        };
        ImportLine {
            id,
            file_name: job.file_name,
            words,
            failed,
        }
    }
}

/// The audit chain's state as the home page says it.
struct ChainState {
    intact: bool,
    words: String,
}

impl ChainState {
    fn of(ctx: &Ctx, tail: &ChainTail) -> ChainState {
        let seq = |n: i64| n.to_string();
        let words = match &tail.fault {
            None => ctx.tv(
                "home.chain_intact",
                &[
                    ("n", &tail.rows.to_string()),
                    ("seq", &seq(tail.newest_seq)),
                ],
            ),
            Some(Fault::AuditAltered { seq: at }) => {
                ctx.tv("home.chain_altered", &[("seq", &seq(*at))])
            }
            Some(Fault::AuditBroken { seq: at }) => {
                ctx.tv("home.chain_broken", &[("seq", &seq(*at))])
            }
            Some(Fault::AuditTruncated { head_seq, last_seq }) => ctx.tv(
                "home.chain_truncated",
                &[("head", &seq(*head_seq)), ("last", &seq(*last_seq))],
            ),
            Some(_) => ctx.t("home.chain_not_keyed").to_owned(),
        };
        ChainState {
            intact: tail.fault.is_none(),
            words,
        }
    }
}

/// What those who work in the tree have to do.
struct Work {
    week: Vec<ActivityView>,
    week_total: Total,
    campaigns: Vec<(CampaignView, Vec<UnitCoverage>)>,
    pending_proposals: Total,
}

pub async fn home(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
) -> Result<Response, AppError> {
    let actor = &auth.actor;
    if actor.role() == Role::Member {
        // The member portal starts from what awaits the member.
        return Ok(see_other("/my-activities"));
    }
    let now = state.clock.now();
    let unit = match actor.unit_id() {
        Some(id) => Some(state.store.unit(actor, id).await?),
        None => None,
    };
    let units_total = state
        .store
        .units(
            actor,
            &UnitQuery::default(),
            PageRequest::new(None, Some(1)),
        )
        .await?
        .total;
    let (accounts_total, locked) = if actor.role().manages_accounts() {
        let all = state
            .store
            .accounts(
                actor,
                &AccountQuery::default(),
                PageRequest::new(None, Some(1)),
            )
            .await?;
        let locked = state
            .store
            .accounts(
                actor,
                &AccountQuery {
                    locked_at: Some(now),
                    ..AccountQuery::default()
                },
                PageRequest::new(None, Some(LISTED)),
            )
            .await?;
        (Some(all.total), Some(locked.items))
    } else {
        (None, None)
    };
    let work = if actor.role().works_in_tree() {
        Some(work(&state, actor, now).await?)
    } else {
        None
    };
    let audit_chain = if actor.role().is_privileged() {
        Some(ChainState::of(
            &ctx,
            &state.store.audit_chain_tail(actor).await?,
        ))
    } else {
        None
    };
    let imports = ImportStatus::recent(&state, actor, state.clock.now().plus_minutes(-60))
        .await?
        .into_iter()
        .map(|(id, job)| ImportLine::of(&ctx, id, job))
        .collect();
    let page = HomePage {
        imports,
        audit_chain,
        ctx: ctx.with_section("home"),
        unit,
        units_total,
        accounts_total,
        can_edit: can_edit(actor),
        work,
        locked,
    };
    Ok(page.ctx.respond(StatusCode::OK, page.render()?))
}

async fn work(state: &AppState, actor: &Actor, now: Timestamp) -> Result<Work, AppError> {
    let monday = monday_of(now.date());
    let week = state
        .store
        .activities(
            actor,
            &ActivityQuery {
                from: Some(Timestamp::start_of_day(monday)),
                until: Some(Timestamp::start_of_day(monday + Duration::days(7))),
                // The week's first activities, in the order they come.
                reversed: true,
                ..ActivityQuery::default()
            },
            PageRequest::new(None, Some(LISTED)),
        )
        .await?;
    let today = now.date().format("%Y-%m-%d").to_string();
    let live = state
        .store
        .campaigns(actor, false, PageRequest::new(None, Some(20)))
        .await?
        .items
        .into_iter()
        .filter(|c| c.starts_on <= today && today <= c.ends_on)
        .take(usize::try_from(CAMPAIGNS_SHOWN).unwrap_or(usize::MAX));
    let mut campaigns = Vec::new();
    for campaign in live {
        let report = state
            .store
            .campaign_coverage(actor, campaign.id, None)
            .await?;
        let mut weakest: Vec<UnitCoverage> = report
            .children
            .into_iter()
            .filter(|c| c.coverage.targeted > 0 && c.coverage.unreached() > 0)
            .collect();
        weakest.sort_by_key(|c| (c.coverage.per_mille().unwrap_or(0), c.unit.code.clone()));
        weakest.truncate(WEAKEST_SHOWN);
        campaigns.push((campaign, weakest));
    }
    let pending_proposals = state.store.pending_proposals(actor).await?;
    Ok(Work {
        week: week.items,
        week_total: week.total,
        campaigns,
        pending_proposals,
    })
}

/// Navigation areas that exist in the plan but not yet in the product.
const PLANNED: [&str; 2] = ["tasks", "cockpit"];

#[derive(Template)]
#[template(path = "coming_soon.html")]
struct ComingSoonPage {
    ctx: Ctx,
    title: String,
    description: String,
}

pub async fn coming_soon(
    ctx: Ctx,
    _: CurrentUser,
    Path(section): Path<String>,
) -> Result<Response, AppError> {
    let area = PLANNED
        .into_iter()
        .find(|s| *s == section)
        .ok_or(AppError::NotFound)?;
    let page = ComingSoonPage {
        title: ctx.t(&format!("nav.{area}")).to_owned(),
        description: ctx.t(&format!("soon.{area}")).to_owned(),
        ctx: ctx.with_section(area),
    };
    Ok(page.ctx.respond(StatusCode::OK, page.render()?))
}
