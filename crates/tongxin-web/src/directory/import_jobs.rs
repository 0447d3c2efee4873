//! Imports started from the directory page run in the background, so a long file shows its
//! progress instead of a request that seems to hang. Each job belongs to the user who started
//! it; others are told it does not exist. Finished jobs are kept for an hour to be read, and
//! the home page lists them.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use tongxin_core::Timestamp;
use tongxin_store::Actor;
use tongxin_tabular::{Format, Limits};

use crate::AppState;
use crate::error::AppError;
use tongxin_exchange::{ImportProgress, ImportRequest, Report};
use tongxin_i18n::Lang;

/// How long a finished job stays readable, in microseconds.
const KEEP_FINISHED: i64 = 60 * 60 * 1_000_000;

/// One import running or done.
pub struct ImportJob {
    owner: Option<i64>,
    started_at: Timestamp,
    pub file_name: String,
    pub check_only: bool,
    pub progress: ImportProgress,
    /// The report once done, or why the import failed.
    outcome: Mutex<Option<Result<Report, String>>>,
    finished_at: Mutex<Option<Timestamp>>,
}

impl ImportJob {
    /// The outcome, once the job is done.
    pub fn outcome(&self) -> Option<Result<Report, String>> {
        self.outcome
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// The jobs of this server process, and the accounts importing over the API meanwhile.
#[derive(Default)]
pub struct ImportJobs {
    jobs: Mutex<HashMap<String, Arc<ImportJob>>>,
    direct: Mutex<HashSet<i64>>,
}

/// An account's one running import over the API, held until dropped.
pub struct ImportSlot<'a> {
    jobs: &'a ImportJobs,
    owner: Option<i64>,
}

impl Drop for ImportSlot<'_> {
    fn drop(&mut self) {
        if let Some(owner) = self.owner {
            self.jobs
                .direct
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&owner);
        }
    }
}

/// What a job is to import.
pub struct NewJob {
    pub file_name: String,
    pub bytes: axum::body::Bytes,
    pub format: Format,
    pub limits: Limits,
    pub check_only: bool,
    pub lang: Lang,
}

impl ImportJobs {
    /// Takes the account's one import slot for an import over the API; refused while the
    /// account has another import running, here or in the background (one running import per
    /// account, so nobody can stack imports to hold the write lock).
    pub fn hold(&self, actor: &Actor) -> Result<ImportSlot<'_>, AppError> {
        let Some(owner) = actor.user_id() else {
            return Ok(ImportSlot {
                jobs: self,
                owner: None,
            });
        };
        let jobs = self.jobs.lock().unwrap_or_else(PoisonError::into_inner);
        let mut direct = self.direct.lock().unwrap_or_else(PoisonError::into_inner);
        if running_job(&jobs, Some(owner)).is_some() || !direct.insert(owner) {
            return Err(AppError::ImportRunning);
        }
        Ok(ImportSlot {
            jobs: self,
            owner: Some(owner),
        })
    }

    /// Starts importing in the background and returns the job's id; while the account already
    /// has an import running in the background, returns that one's id instead, and while it
    /// has one running over the API, refuses (one running import per account).
    pub fn start(&self, state: &AppState, actor: &Actor, job: NewJob) -> Result<String, AppError> {
        let id = tongxin_store::random_hex();
        let now = state.clock.now();
        let entry = Arc::new(ImportJob {
            owner: actor.user_id(),
            started_at: now,
            file_name: job.file_name,
            check_only: job.check_only,
            progress: ImportProgress::default(),
            outcome: Mutex::new(None),
            finished_at: Mutex::new(None),
        });
        {
            let mut jobs = self.jobs.lock().unwrap_or_else(PoisonError::into_inner);
            jobs.retain(|_, j| {
                let finished = *j.finished_at.lock().unwrap_or_else(PoisonError::into_inner);
                finished.is_none_or(|at| now.micros() - at.micros() < KEEP_FINISHED)
            });
            if let Some(running) = running_job(&jobs, entry.owner) {
                return Ok(running);
            }
            let direct = self.direct.lock().unwrap_or_else(PoisonError::into_inner);
            if entry.owner.is_some_and(|owner| direct.contains(&owner)) {
                return Err(AppError::ImportRunning);
            }
            jobs.insert(id.clone(), entry.clone());
        }
        let (state, actor) = (state.clone(), actor.clone());
        tokio::spawn(async move {
            let request = ImportRequest {
                bytes: &job.bytes,
                format: job.format,
                limits: job.limits,
                dry_run: job.check_only,
                lang: job.lang,
            };
            let result = tongxin_exchange::import_people(
                &state.store,
                &actor,
                state.clock.now(),
                &state.catalog,
                request,
                &entry.progress,
            )
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "import failed");
                e.to_string()
            });
            *entry.outcome.lock().unwrap_or_else(PoisonError::into_inner) = Some(result);
            *entry
                .finished_at
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Some(state.clock.now());
        });
        Ok(id)
    }

    /// The imports `actor` started in this server process within the last hour, the newest
    /// first, with their ids.
    pub fn recent(&self, actor: &Actor) -> Vec<(String, Arc<ImportJob>)> {
        let mut mine: Vec<(String, Arc<ImportJob>)> = self
            .jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|(_, job)| actor.user_id().is_some() && job.owner == actor.user_id())
            .map(|(id, job)| (id.clone(), job.clone()))
            .collect();
        mine.sort_by_key(|(_, job)| std::cmp::Reverse(job.started_at));
        mine
    }

    /// The job `id`, if `actor` started it.
    pub fn get(&self, id: &str, actor: &Actor) -> Option<Arc<ImportJob>> {
        self.jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(id)
            .filter(|job| job.owner == actor.user_id())
            .cloned()
    }
}

/// The id of `owner`'s job still running, if any.
fn running_job(jobs: &HashMap<String, Arc<ImportJob>>, owner: Option<i64>) -> Option<String> {
    jobs.iter()
        .find(|(_, j)| {
            j.owner == owner
                && j.finished_at
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .is_none()
        })
        .map(|(id, _)| id.clone())
}
