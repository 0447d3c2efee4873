//! The durable job queue: work that happens after a request, at a time, or again and again.
//!
//! A job is a row of `jobs`. It is enqueued with [`enqueue`] in the transaction of the change
//! that causes it, so a change and its consequences are kept or lost together. A runner (in
//! every `tongxin serve` and in `tongxin worker`) claims due jobs: on PostgreSQL with
//! `FOR UPDATE SKIP LOCKED`, so several processes never claim one job twice; on SQLite, whose
//! writers queue on one lock, by one `UPDATE … RETURNING`. A runner beats a heartbeat into
//! `job_runners`; a job left `running` by a runner that stopped beating is taken back: queued
//! again while it has attempts left, failed otherwise (an import, which runs once, is reported
//! failed, and its transaction never committed). A failed attempt is retried later with a
//! growing delay; a job out of attempts stops `failed` and waits for an administrator, who may
//! retry it or drop it.

mod admin;

use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};
use tongxin_core::Timestamp;

use crate::access::{self, Unguarded};
use crate::entity::attachment;
use crate::error::{Result, StoreError};
use crate::{Engine, Store};

pub use admin::{JobQuery, JobState, JobView};

/// How many times a job runs before it stops and waits, unless it says otherwise.
pub const DEFAULT_ATTEMPTS: i32 = 6;

/// The delay before the next attempt after `attempts` failed ones: 30 s, doubling, at most an
/// hour.
pub fn backoff_seconds(attempts: i32) -> i64 {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 12)).unwrap_or(0);
    (30_i64 << doublings).min(3_600)
}

/// A job to enqueue.
#[derive(Debug, Clone)]
pub struct NewJob {
    /// The handler that runs it.
    pub kind: String,
    pub payload: serde_json::Value,
    pub run_at: Timestamp,
    pub max_attempts: i32,
    /// The account that caused it, who may follow it (an import).
    pub owner_id: Option<i64>,
    /// The unit whose administrators see it; `None` for the network's own jobs.
    pub unit_path: Option<String>,
    /// Enqueues nothing when a job with this key exists already: one occurrence of a schedule,
    /// or one message for events merged in a window, whoever enqueues it first.
    pub unique_key: Option<String>,
}

impl NewJob {
    pub fn new(kind: &str, payload: serde_json::Value, run_at: Timestamp) -> NewJob {
        NewJob {
            kind: kind.to_owned(),
            payload,
            run_at,
            max_attempts: DEFAULT_ATTEMPTS,
            owner_id: None,
            unit_path: None,
            unique_key: None,
        }
    }

    pub fn attempts(mut self, max: i32) -> NewJob {
        self.max_attempts = max.max(1);
        self
    }

    pub fn owner(mut self, account: Option<i64>) -> NewJob {
        self.owner_id = account;
        self
    }

    pub fn unit(mut self, path: Option<String>) -> NewJob {
        self.unit_path = path;
        self
    }

    pub fn unique(mut self, key: String) -> NewJob {
        self.unique_key = Some(key);
        self
    }
}

/// A job a runner claimed.
#[derive(Debug, Clone)]
pub struct ClaimedJob {
    pub id: i64,
    pub kind: String,
    pub payload: serde_json::Value,
    /// This attempt's number, from 1.
    pub attempt: i32,
    pub max_attempts: i32,
    pub owner_id: Option<i64>,
}

/// A job taken back from a runner that stopped.
#[derive(Debug, Clone)]
pub struct TakenBack {
    pub id: i64,
    pub kind: String,
    pub payload: serde_json::Value,
    pub owner_id: Option<i64>,
    /// Out of attempts: it stopped failed rather than being queued again.
    pub failed: bool,
}

/// What a taken-back job's error says; the product shows it translated by this code.
pub const INTERRUPTED: &str = "interrupted";

/// SQL written with `?` placeholders, numbered for PostgreSQL.
pub(crate) fn statement(engine: Engine, sql: &str, values: Vec<Value>) -> Statement {
    let backend = engine.backend();
    let sql = match backend {
        DbBackend::Postgres => {
            let mut numbered = String::with_capacity(sql.len() + 16);
            let mut n = 0;
            for c in sql.chars() {
                if c == '?' {
                    n += 1;
                    numbered.push('$');
                    numbered.push_str(&n.to_string());
                } else {
                    numbered.push(c);
                }
            }
            numbered
        }
        _ => sql.to_owned(),
    };
    Statement::from_sql_and_values(backend, sql, values)
}

fn engine_of<C: ConnectionTrait>(conn: &C) -> Engine {
    match conn.get_database_backend() {
        DbBackend::Postgres => Engine::Postgres,
        _ => Engine::Sqlite,
    }
}

/// Enqueues `job` on `conn` (a transaction, to keep it with the change that causes it); `None`
/// when its unique key was taken.
pub(crate) async fn enqueue<C: ConnectionTrait>(
    conn: &C,
    now: Timestamp,
    job: &NewJob,
) -> Result<Option<i64>> {
    let row = conn
        .query_one_raw(statement(
            engine_of(conn),
            "INSERT INTO jobs (kind, payload, state, attempts, max_attempts, run_at, created_at, \
             owner_id, unit_path, unique_key) VALUES (?, ?, 'queued', 0, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (unique_key) DO NOTHING RETURNING id",
            vec![
                job.kind.clone().into(),
                job.payload.to_string().into(),
                job.max_attempts.into(),
                job.run_at.micros().into(),
                now.micros().into(),
                job.owner_id.into(),
                job.unit_path.clone().into(),
                job.unique_key.clone().into(),
            ],
        ))
        .await?;
    Ok(match row {
        Some(row) => Some(row.try_get_by_index::<i64>(0)?),
        None => None,
    })
}

fn payload_of(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or(serde_json::Value::Null)
}

impl Store {
    /// Enqueues one job on its own; `None` when its unique key was taken.
    pub async fn enqueue_job(&self, now: Timestamp, job: &NewJob) -> Result<Option<i64>> {
        let tx = self.begin_write().await?;
        let id = enqueue(&tx, now, job).await?;
        tx.commit().await?;
        self.jobs_enqueued.notify_one();
        Ok(id)
    }

    /// Completes when a change in this process has enqueued jobs since the last call.
    pub async fn jobs_enqueued(&self) {
        self.jobs_enqueued.notified().await;
    }

    /// Records that `runner` is alive at `now` (and names it, for the jobs page).
    pub async fn beat(&self, runner: &str, label: &str, now: Timestamp) -> Result<()> {
        self.db
            .execute_raw(statement(
                self.engine(),
                "INSERT INTO job_runners (id, label, started_at, heartbeat_at) VALUES (?, ?, ?, ?) \
                 ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at",
                vec![
                    runner.into(),
                    label.into(),
                    now.micros().into(),
                    now.micros().into(),
                ],
            ))
            .await?;
        Ok(())
    }

    /// Removes `runner`'s heartbeat when it stops cleanly: its jobs, if any were left, are
    /// taken back at once.
    pub async fn retire_runner(&self, runner: &str) -> Result<()> {
        self.db
            .execute_raw(statement(
                self.engine(),
                "DELETE FROM job_runners WHERE id = ?",
                vec![runner.into()],
            ))
            .await?;
        Ok(())
    }

    /// A runner started before this one beat within `stale_after` seconds: on SQLite, where
    /// one runner works (the oldest alive), this one waits.
    pub async fn older_runner_alive(
        &self,
        runner: &str,
        now: Timestamp,
        stale_after: i64,
    ) -> Result<bool> {
        let row = self
            .db
            .query_one_raw(statement(
                self.engine(),
                "SELECT COUNT(*) FROM job_runners o, job_runners me \
                 WHERE me.id = ? AND o.id <> me.id AND o.heartbeat_at >= ? \
                 AND (o.started_at < me.started_at \
                   OR (o.started_at = me.started_at AND o.id < me.id))",
                vec![
                    runner.into(),
                    (now.micros() - stale_after * 1_000_000).into(),
                ],
            ))
            .await?;
        Ok(match row {
            Some(row) => row.try_get_by_index::<i64>(0)? > 0,
            None => false,
        })
    }

    /// Takes back the jobs of runners that have not beaten for `stale_after` seconds (and
    /// forgets those runners): queued again while attempts are left, failed otherwise.
    pub async fn take_back_jobs(
        &self,
        runner: &str,
        now: Timestamp,
        stale_after: i64,
    ) -> Result<Vec<TakenBack>> {
        let stale = now.micros() - stale_after * 1_000_000;
        let tx = self.begin_write().await?;
        let rows = tx
            .query_all_raw(statement(
                self.engine(),
                "UPDATE jobs SET \
                   state = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END, \
                   finished_at = CASE WHEN attempts >= max_attempts THEN ? ELSE NULL END, \
                   run_at = ?, runner = NULL, last_error = ? \
                 WHERE state = 'running' AND runner <> ? AND runner NOT IN \
                   (SELECT id FROM job_runners WHERE heartbeat_at >= ?) \
                 RETURNING id, kind, payload, owner_id, state",
                vec![
                    now.micros().into(),
                    now.micros().into(),
                    INTERRUPTED.into(),
                    runner.into(),
                    stale.into(),
                ],
            ))
            .await?;
        tx.execute_raw(statement(
            self.engine(),
            "DELETE FROM job_runners WHERE heartbeat_at < ? AND id <> ?",
            vec![stale.into(), runner.into()],
        ))
        .await?;
        tx.commit().await?;
        rows.iter()
            .map(|row| {
                Ok(TakenBack {
                    id: row.try_get_by_index(0)?,
                    kind: row.try_get_by_index(1)?,
                    payload: payload_of(&row.try_get_by_index::<String>(2)?),
                    owner_id: row.try_get_by_index(3)?,
                    failed: row.try_get_by_index::<String>(4)? == "failed",
                })
            })
            .collect()
    }

    /// Claims up to `limit` due jobs for `runner`, the earliest due first.
    pub async fn claim_jobs(
        &self,
        runner: &str,
        now: Timestamp,
        limit: u64,
    ) -> Result<Vec<ClaimedJob>> {
        let lock = match self.engine() {
            Engine::Postgres => " FOR UPDATE SKIP LOCKED",
            Engine::Sqlite => "",
        };
        let sql = format!(
            "UPDATE jobs SET state = 'running', runner = ?, started_at = ?, \
               attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM jobs WHERE state = 'queued' AND run_at <= ? \
               ORDER BY run_at, id LIMIT ?{lock}) \
             RETURNING id, kind, payload, attempts, max_attempts, owner_id"
        );
        let tx = self.begin_write().await?;
        let rows = tx
            .query_all_raw(statement(
                self.engine(),
                &sql,
                vec![
                    runner.into(),
                    now.micros().into(),
                    now.micros().into(),
                    i64::try_from(limit).unwrap_or(i64::MAX).into(),
                ],
            ))
            .await?;
        tx.commit().await?;
        let mut claimed = rows
            .iter()
            .map(|row| {
                Ok(ClaimedJob {
                    id: row.try_get_by_index(0)?,
                    kind: row.try_get_by_index(1)?,
                    payload: payload_of(&row.try_get_by_index::<String>(2)?),
                    attempt: row.try_get_by_index(3)?,
                    max_attempts: row.try_get_by_index(4)?,
                    owner_id: row.try_get_by_index(5)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        claimed.sort_by_key(|job| job.id);
        Ok(claimed)
    }

    /// Marks a job `runner` holds done, with what it produced.
    pub async fn finish_job(
        &self,
        runner: &str,
        id: i64,
        now: Timestamp,
        result: Option<&serde_json::Value>,
    ) -> Result<bool> {
        let done = self
            .db
            .execute_raw(statement(
                self.engine(),
                "UPDATE jobs SET state = 'done', finished_at = ?, result = ?, last_error = NULL \
                 WHERE id = ? AND runner = ? AND state = 'running'",
                vec![
                    now.micros().into(),
                    result.map(|r| r.to_string()).into(),
                    id.into(),
                    runner.into(),
                ],
            ))
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records a failed attempt of a job `runner` holds: queued again at `retry_at`, or, with
    /// none, stopped `failed` until an administrator acts.
    pub async fn fail_job(
        &self,
        runner: &str,
        id: i64,
        now: Timestamp,
        error: &str,
        retry_at: Option<Timestamp>,
    ) -> Result<bool> {
        let error: String = error.chars().take(2_000).collect();
        let (state, run_at, finished) = match retry_at {
            Some(at) => ("queued", at.micros(), None),
            None => ("failed", now.micros(), Some(now.micros())),
        };
        let failed = self
            .db
            .execute_raw(statement(
                self.engine(),
                "UPDATE jobs SET state = ?, run_at = ?, finished_at = ?, last_error = ?, \
                   runner = NULL \
                 WHERE id = ? AND runner = ? AND state = 'running'",
                vec![
                    state.into(),
                    run_at.into(),
                    finished.into(),
                    error.into(),
                    id.into(),
                    runner.into(),
                ],
            ))
            .await?;
        Ok(failed.rows_affected() == 1)
    }

    /// Keeps `bytes` as a file of the job and enqueues it, in one transaction: the job's
    /// payload gets the file's id as `file`. A job that works on an upload (an import) so runs
    /// in whichever process claims it.
    pub async fn enqueue_with_file(
        &self,
        now: Timestamp,
        media_type: &str,
        bytes: &[u8],
        mut job: NewJob,
    ) -> Result<i64> {
        let tx = self.begin_write().await?;
        let file = self.store_attachment(&tx, now, media_type, bytes).await?;
        if let Some(payload) = job.payload.as_object_mut() {
            payload.insert("file".to_owned(), file.into());
        }
        let id = enqueue(&tx, now, &job)
            .await?
            .ok_or_else(|| StoreError::Corrupt {
                what: "a job with a file cannot have a unique key".to_owned(),
            })?;
        tx.commit().await?;
        self.jobs_enqueued.notify_one();
        Ok(id)
    }

    /// The file of a job enqueued by [`Store::enqueue_with_file`], if it is still kept.
    pub async fn job_file(&self, job: &ClaimedJob) -> Result<Option<Vec<u8>>> {
        let Some(file) = job.payload.get("file").and_then(serde_json::Value::as_i64) else {
            return Ok(None);
        };
        Ok(
            access::unguarded_by_id::<attachment::Entity>(Unguarded::PartsOf, file)
                .one(&self.db)
                .await?
                .map(|a| a.bytes),
        )
    }

    /// Deletes the files of jobs of `media_type` kept since before `before`: an upload waits
    /// a day for its job at most.
    pub async fn prune_job_files(&self, media_type: &str, before: Timestamp) -> Result<u64> {
        let pruned = self
            .db
            .execute_raw(statement(
                self.engine(),
                "DELETE FROM attachments WHERE media_type = ? AND created_at < ?",
                vec![media_type.into(), before.micros().into()],
            ))
            .await?;
        Ok(pruned.rows_affected())
    }

    /// Records how far a running job has got (JSON), for its progress page.
    pub async fn job_progress(&self, id: i64, progress: &serde_json::Value) -> Result<()> {
        self.db
            .execute_raw(statement(
                self.engine(),
                "UPDATE jobs SET progress = ? WHERE id = ? AND state = 'running'",
                vec![progress.to_string().into(), id.into()],
            ))
            .await?;
        Ok(())
    }

    /// Deletes jobs done before `before` (failed ones wait for an administrator); returns how
    /// many.
    pub async fn prune_jobs(&self, before: Timestamp) -> Result<u64> {
        let pruned = self
            .db
            .execute_raw(statement(
                self.engine(),
                "DELETE FROM jobs WHERE state = 'done' AND finished_at < ?",
                vec![before.micros().into()],
            ))
            .await?;
        Ok(pruned.rows_affected())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_half_a_minute_up_to_an_hour() {
        assert_eq!(backoff_seconds(1), 30);
        assert_eq!(backoff_seconds(2), 60);
        assert_eq!(backoff_seconds(3), 120);
        assert_eq!(backoff_seconds(8), 3_600);
        assert_eq!(backoff_seconds(40), 3_600);
    }

    #[test]
    fn placeholders_are_numbered_for_postgres() {
        let s = statement(
            Engine::Postgres,
            "a = ? AND b = ?",
            vec![1.into(), 2.into()],
        );
        assert_eq!(s.sql, "a = $1 AND b = $2");
        let s = statement(Engine::Sqlite, "a = ? AND b = ?", vec![1.into(), 2.into()]);
        assert_eq!(s.sql, "a = ? AND b = ?");
    }
}
