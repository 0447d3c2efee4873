//! Jobs as administrators and their owners see them: the list, one job, and the two things an
//! administrator does to a job that stopped (retry it, drop it), both audited.

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::json;
use tongxin_core::{Field, Invalid, Reason, Timestamp};

use crate::Store;
use crate::access::{self, Actor, Unguarded};
use crate::audit::{self, Event};
use crate::entity::job;
use crate::error::Result;
use crate::page::{Page, PageRequest, capped_count};

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    Queued,
    Running,
    Done,
    /// Out of attempts: waits for an administrator.
    Failed,
}

impl JobState {
    pub const ALL: [JobState; 4] = [
        JobState::Queued,
        JobState::Running,
        JobState::Done,
        JobState::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<JobState> {
        JobState::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// A job as listed.
#[derive(Debug, Clone)]
pub struct JobView {
    pub id: i64,
    pub kind: String,
    pub state: JobState,
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_at: Timestamp,
    pub created_at: Timestamp,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    pub last_error: Option<String>,
    pub owner_id: Option<i64>,
    pub payload: serde_json::Value,
    pub progress: Option<serde_json::Value>,
    pub result: Option<serde_json::Value>,
}

impl From<job::Model> for JobView {
    fn from(row: job::Model) -> Self {
        let json = |text: Option<String>| text.and_then(|t| serde_json::from_str(&t).ok());
        JobView {
            id: row.id,
            state: JobState::parse(&row.state).unwrap_or(JobState::Failed),
            kind: row.kind,
            attempts: row.attempts,
            max_attempts: row.max_attempts,
            run_at: Timestamp::from_micros(row.run_at),
            created_at: Timestamp::from_micros(row.created_at),
            started_at: row.started_at.map(Timestamp::from_micros),
            finished_at: row.finished_at.map(Timestamp::from_micros),
            last_error: row.last_error,
            owner_id: row.owner_id,
            payload: serde_json::from_str(&row.payload).unwrap_or_default(),
            progress: json(row.progress),
            result: json(row.result),
        }
    }
}

/// Which jobs to list.
#[derive(Debug, Clone, Default)]
pub struct JobQuery {
    pub state: Option<JobState>,
    pub kind: Option<String>,
}

impl Store {
    /// The jobs an administrator keeps, the newest first.
    pub async fn jobs(
        &self,
        actor: &Actor,
        query: &JobQuery,
        page: PageRequest,
    ) -> Result<Page<JobView>> {
        actor.require_admin()?;
        let mut select = access::visible::<job::Entity>(actor);
        if let Some(state) = query.state {
            select = select.filter(job::Column::State.eq(state.as_str()));
        }
        if let Some(kind) = &query.kind {
            select = select.filter(job::Column::Kind.eq(kind.as_str()));
        }
        let total = capped_count(select.clone(), &self.db).await?;
        let rows = select
            .order_by_desc(job::Column::CreatedAt)
            .order_by_desc(job::Column::Id)
            .offset(page.offset())
            .limit(page.per_page)
            .all(&self.db)
            .await?;
        Ok(Page::new(
            rows.into_iter().map(JobView::from).collect(),
            total,
            page,
        ))
    }

    /// How many jobs the administrator keeps have stopped failed (for the home page).
    pub async fn failed_job_count(&self, actor: &Actor) -> Result<u64> {
        if actor.require_admin().is_err() {
            return Ok(0);
        }
        let select = access::visible::<job::Entity>(actor)
            .filter(job::Column::State.eq(JobState::Failed.as_str()));
        Ok(capped_count(select, &self.db).await?.count)
    }

    /// One job the actor may see (its administrators, or whoever started it).
    pub async fn job(&self, actor: &Actor, id: i64) -> Result<JobView> {
        Ok(access::find::<job::Entity, _>(&self.db, actor, id)
            .await?
            .into())
    }

    /// The jobs of `kind` the actor started since `since`, the newest first (at most 20).
    pub async fn my_jobs(
        &self,
        actor: &Actor,
        kind: &str,
        since: Timestamp,
    ) -> Result<Vec<JobView>> {
        let Some(owner) = actor.user_id() else {
            return Ok(Vec::new());
        };
        let rows = access::visible::<job::Entity>(actor)
            .filter(job::Column::OwnerId.eq(owner))
            .filter(job::Column::Kind.eq(kind))
            .filter(job::Column::CreatedAt.gte(since.micros()))
            .order_by_desc(job::Column::CreatedAt)
            .order_by_desc(job::Column::Id)
            .limit(20)
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(JobView::from).collect())
    }

    /// Whether the account has a job of `kind` queued or running.
    pub async fn has_unfinished_job(&self, account: i64, kind: &str) -> Result<Option<i64>> {
        Ok(access::unguarded::<job::Entity>(Unguarded::Limits)
            .select_only()
            .column(job::Column::Id)
            .filter(job::Column::OwnerId.eq(account))
            .filter(job::Column::Kind.eq(kind))
            .filter(
                job::Column::State.is_in([JobState::Queued.as_str(), JobState::Running.as_str()]),
            )
            .into_tuple::<i64>()
            .one(&self.db)
            .await?)
    }

    /// Queues a failed job again with its attempts renewed.
    pub async fn retry_job(&self, actor: &Actor, now: Timestamp, id: i64) -> Result<JobView> {
        actor.require_admin()?;
        self.act_on_failed(actor, now, id, "job.retry").await?;
        self.job(actor, id).await
    }

    /// Drops a failed or queued job: it will not run.
    pub async fn drop_job(&self, actor: &Actor, now: Timestamp, id: i64) -> Result<()> {
        actor.require_admin()?;
        self.act_on_failed(actor, now, id, "job.drop").await
    }

    async fn act_on_failed(
        &self,
        actor: &Actor,
        now: Timestamp,
        id: i64,
        action: &'static str,
    ) -> Result<()> {
        let tx = self.begin_write().await?;
        let found = access::find_to_change::<job::Entity, _>(&tx, actor, id).await?;
        let allowed = match action {
            "job.retry" => found.state == JobState::Failed.as_str(),
            _ => found.state != JobState::Running.as_str(),
        };
        if !allowed {
            return Err(Invalid::new(Field::Named("state"), Reason::WrongState).into());
        }
        let rule = access::update_rows::<job::Entity>(Unguarded::PartsOf)
            .filter(job::Column::Id.eq(id))
            .filter(job::Column::State.eq(found.state.as_str()));
        let changed = if action == "job.retry" {
            rule.col_expr(job::Column::State, Expr::value(JobState::Queued.as_str()))
                .col_expr(job::Column::Attempts, Expr::value(0))
                .col_expr(job::Column::RunAt, Expr::value(now.micros()))
                .col_expr(job::Column::FinishedAt, Expr::value(Option::<i64>::None))
                .exec(&tx)
                .await?
                .rows_affected
        } else {
            access::delete_rows::<job::Entity>(Unguarded::PartsOf)
                .filter(job::Column::Id.eq(id))
                .filter(job::Column::State.eq(found.state.as_str()))
                .exec(&tx)
                .await?
                .rows_affected
        };
        if changed == 0 {
            return Err(Invalid::new(Field::Named("state"), Reason::WrongState).into());
        }
        audit::append(
            &tx,
            &self.keys,
            now,
            actor,
            Event::new(action)
                .target("job", id, &found.kind)
                .detail(json!({ "error": found.last_error, "attempts": found.attempts })),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
