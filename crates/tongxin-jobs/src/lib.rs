//! Tongxin's background work: the runner that takes jobs from the store's durable queue, the
//! recurring schedules, and what each kind of job does.
//!
//! Every `tongxin serve` runs a [`Runner`] (unless told not to), and `tongxin worker` runs one
//! alone. A runner looks at the queue every poll interval, and at once when a change in its own
//! process enqueued work; it beats a heartbeat while it lives, takes back the jobs of runners
//! that stopped beating, enqueues each schedule's latest occurrence once (a unique key per
//! occurrence, so several processes enqueue it once between them), and runs up to its
//! concurrency of jobs at a time, each in a task of its own so a slow one holds up no other.
//!
//! What must not live here: HTTP handlers or SQL (the queue's statements are the store's).

mod kinds;
pub mod outbound;
mod schedules;

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;
use tongxin_core::{Clock, TimeZone};
use tongxin_i18n::Catalog;
use tongxin_store::{ClaimedJob, Engine, StoreError, TakenBack, backoff_seconds};

pub use kinds::{IMPORT_FILE_TYPE, IMPORT_PEOPLE, PROBE, import_job, probe_job};

/// How a runner works.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How often the runner looks at the queue when nothing wakes it.
    pub poll: Duration,
    /// A runner that has not beaten for this many seconds is taken for stopped.
    pub stale_after_seconds: i64,
    /// Jobs run at once.
    pub concurrency: usize,
    /// Where "every day at 08:00" is.
    pub zone: TimeZone,
    /// Names the runner on the jobs page (host and process).
    pub label: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            poll: Duration::from_secs(1),
            stale_after_seconds: 60,
            concurrency: 4,
            zone: TimeZone::SHANGHAI,
            label: format!("pid {}", std::process::id()),
        }
    }
}

/// What a job's handler works with.
pub struct Work {
    pub store: tongxin_store::Store,
    pub clock: Arc<dyn Clock>,
    pub catalog: Arc<Catalog>,
    pub zone: TimeZone,
    pub outbound: Arc<outbound::Outbound>,
}

/// Why an attempt failed.
#[derive(Debug)]
pub struct JobError {
    pub message: String,
    /// Whether another attempt could succeed; a job that cannot (its payload names nothing
    /// that exists) stops at once.
    pub retry: bool,
}

impl JobError {
    pub fn retry(message: impl Into<String>) -> JobError {
        JobError {
            message: message.into(),
            retry: true,
        }
    }

    pub fn stop(message: impl Into<String>) -> JobError {
        JobError {
            message: message.into(),
            retry: false,
        }
    }
}

impl From<StoreError> for JobError {
    fn from(e: StoreError) -> Self {
        JobError::retry(e.to_string())
    }
}

/// Takes jobs from the queue and runs them.
pub struct Runner {
    id: String,
    work: Arc<Work>,
    settings: Settings,
    schedules: schedules::Schedules,
    /// When the runner last beat, took back and enqueued its schedules: once a poll interval,
    /// however often finished jobs make it claim more.
    last_tended: Option<std::time::Instant>,
    /// On SQLite, an older runner is alive: this one stands by.
    standing_by: bool,
}

impl Runner {
    pub fn new(work: Work, settings: Settings) -> Runner {
        Runner {
            id: format!("runner-{}", &tongxin_store::random_hex()[..16]),
            work: Arc::new(work),
            settings,
            schedules: schedules::Schedules::default(),
            last_tended: None,
            standing_by: false,
        }
    }

    /// Runs until `shutdown` completes, then lets the jobs in hand finish (each has its own
    /// bounds) and retires.
    pub async fn run(mut self, shutdown: impl std::future::Future<Output = ()>) {
        tracing::info!(runner = %self.id, "job runner started");
        tokio::pin!(shutdown);
        let mut running = JoinSet::new();
        let mut ticker = tokio::time::interval(self.settings.poll);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                _ = ticker.tick() => {}
                () = self.work.store.jobs_enqueued() => {}
                Some(_) = running.join_next(), if !running.is_empty() => {}
            }
            if let Err(e) = self.round(&mut running).await {
                tracing::warn!(error = %e, "job runner round failed");
            }
        }
        while running.join_next().await.is_some() {}
        if let Err(e) = self.work.store.retire_runner(&self.id).await {
            tracing::warn!(error = %e, "job runner could not retire");
        }
        tracing::info!(runner = %self.id, "job runner stopped");
    }

    /// One look at the queue: once a poll interval, beat, take back and enqueue what the
    /// schedules call for; then claim what there is room for.
    async fn round(&mut self, running: &mut JoinSet<()>) -> Result<(), StoreError> {
        let store = &self.work.store;
        let now = self.work.clock.now();
        let due = self
            .last_tended
            .is_none_or(|at| at.elapsed() >= self.settings.poll);
        if due {
            self.last_tended = Some(std::time::Instant::now());
            store.beat(&self.id, &self.settings.label, now).await?;
            let stale = self.settings.stale_after_seconds;
            // One runner works an SQLite file, the oldest alive; others stand by until it
            // stops.
            self.standing_by = store.engine() == Engine::Sqlite
                && store.older_runner_alive(&self.id, now, stale).await?;
            if !self.standing_by {
                for taken in store.take_back_jobs(&self.id, now, stale).await? {
                    tracing::warn!(job = taken.id, kind = %taken.kind, failed = taken.failed,
                        "job taken back from a runner that stopped");
                    if taken.failed {
                        kinds::given_up(&self.work, &taken).await;
                    }
                }
                self.schedules
                    .enqueue_due(store, now, self.settings.zone)
                    .await?;
            }
        }
        if self.standing_by {
            return Ok(());
        }
        let free = self.settings.concurrency.saturating_sub(running.len());
        if free == 0 {
            return Ok(());
        }
        for job in store.claim_jobs(&self.id, now, free as u64).await? {
            running.spawn(run_one(self.work.clone(), self.id.clone(), job));
        }
        Ok(())
    }
}

/// Runs one claimed job and records how it went. A panic in the handler counts as a failed
/// attempt.
async fn run_one(work: Arc<Work>, runner: String, job: ClaimedJob) {
    let outcome = {
        let (work, job) = (work.clone(), job.clone());
        tokio::spawn(async move { kinds::run(&work, &job).await }).await
    };
    let outcome =
        outcome.unwrap_or_else(|e| Err(JobError::retry(format!("the job panicked: {e}"))));
    let now = work.clock.now();
    let store = &work.store;
    let recorded = match outcome {
        Ok(result) => {
            store
                .finish_job(&runner, job.id, now, result.as_ref())
                .await
        }
        Err(error) => {
            let last = !error.retry || job.attempt >= job.max_attempts;
            let retry_at = (!last).then(|| now.plus_seconds(backoff_seconds(job.attempt)));
            tracing::warn!(job = job.id, kind = %job.kind, attempt = job.attempt,
                error = %error.message, stopped = last, "job failed");
            let recorded = store
                .fail_job(&runner, job.id, now, &error.message, retry_at)
                .await;
            if last && matches!(recorded, Ok(true)) {
                kinds::given_up(
                    &work,
                    &TakenBack {
                        id: job.id,
                        kind: job.kind.clone(),
                        payload: job.payload.clone(),
                        owner_id: job.owner_id,
                        failed: true,
                    },
                )
                .await;
            }
            recorded
        }
    };
    match recorded {
        Ok(true) => {}
        Ok(false) => tracing::warn!(job = job.id, "job was taken back before it finished"),
        Err(e) => tracing::error!(job = job.id, error = %e, "job outcome could not be recorded"),
    }
}

/// What a notification says: `notice.<kind>` (for an import, `notice.import_<outcome>`)
/// filled from its values, and how many events it stands for when more than one.
pub fn notice_text(
    catalog: &Catalog,
    lang: tongxin_i18n::Lang,
    notice: &tongxin_store::NotificationView,
) -> String {
    let params: Vec<(String, String)> = notice
        .params
        .as_object()
        .map(|object| {
            object
                .iter()
                .map(|(key, value)| {
                    let text = match value {
                        serde_json::Value::String(s) => s.clone(),
                        serde_json::Value::Null => String::new(),
                        other => other.to_string(),
                    };
                    (key.clone(), text)
                })
                .collect()
        })
        .unwrap_or_default();
    let outcome = params
        .iter()
        .find(|(key, _)| key == "outcome")
        .map(|(_, value)| value.as_str());
    let key = match outcome {
        Some(outcome) => format!("notice.import_{outcome}"),
        None => format!("notice.{}", notice.kind.replace('.', "_")),
    };
    let pairs: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let mut text = catalog.format(lang, &key, &pairs);
    if notice.merged > 1 {
        text.push(' ');
        text.push_str(&catalog.format(lang, "notice.merged", &[("n", &notice.merged.to_string())]));
    }
    text
}
