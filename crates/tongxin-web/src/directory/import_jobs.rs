//! Imports started from the directory page run as durable jobs (see `tongxin_jobs`), so a long
//! file shows its progress from whichever server process the user reaches next, and an import
//! cut short by a restart is reported failed rather than lost. Imports over the API run in the
//! request; an account has one import running at a time, either way, so nobody can stack
//! imports to hold the write lock.

use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};

use tongxin_exchange::Report;
use tongxin_jobs::{IMPORT_FILE_TYPE, IMPORT_PEOPLE};
use tongxin_store::{Actor, JobState, JobView, Store};
use tongxin_tabular::Format;

use crate::AppState;
use crate::error::AppError;
use tongxin_i18n::Lang;

/// The accounts importing over the API in this process.
#[derive(Default)]
pub struct ImportSlots {
    direct: Mutex<HashSet<i64>>,
}

/// An account's one running import over the API, held until dropped.
pub struct ImportSlot<'a> {
    slots: &'a ImportSlots,
    owner: Option<i64>,
}

impl Drop for ImportSlot<'_> {
    fn drop(&mut self) {
        if let Some(owner) = self.owner {
            self.slots
                .direct
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&owner);
        }
    }
}

impl ImportSlots {
    /// Takes the account's one import slot for an import over the API; refused while the
    /// account has another import running, over the API or as a job.
    pub async fn hold(&self, store: &Store, actor: &Actor) -> Result<ImportSlot<'_>, AppError> {
        let Some(owner) = actor.user_id() else {
            return Ok(ImportSlot {
                slots: self,
                owner: None,
            });
        };
        if store
            .has_unfinished_job(owner, IMPORT_PEOPLE)
            .await?
            .is_some()
        {
            return Err(AppError::ImportRunning);
        }
        if !self
            .direct
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(owner)
        {
            return Err(AppError::ImportRunning);
        }
        Ok(ImportSlot {
            slots: self,
            owner: Some(owner),
        })
    }

    fn importing_directly(&self, owner: i64) -> bool {
        self.direct
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(&owner)
    }
}

/// What a page import is to do.
pub struct NewImport {
    pub file_name: String,
    pub bytes: axum::body::Bytes,
    pub format: Format,
    pub check_only: bool,
    pub lang: Lang,
}

/// Enqueues an import of the upload and returns its job's id; while the account already has
/// one queued or running, returns that one's id instead, and while it imports over the API,
/// refuses.
pub async fn start(state: &AppState, actor: &Actor, import: NewImport) -> Result<i64, AppError> {
    if let Some(owner) = actor.user_id() {
        if let Some(running) = state.store.has_unfinished_job(owner, IMPORT_PEOPLE).await? {
            return Ok(running);
        }
        if state.imports.importing_directly(owner) {
            return Err(AppError::ImportRunning);
        }
    }
    let now = state.clock.now();
    let job = tongxin_jobs::import_job(
        actor,
        now,
        &import.file_name,
        import.format,
        import.check_only,
        state.config.max_import_bytes,
        import.lang,
    );
    Ok(state
        .store
        .enqueue_with_file(now, IMPORT_FILE_TYPE, &import.bytes, job)
        .await?)
}

/// An import job as its pages show it.
pub struct ImportStatus {
    pub file_name: String,
    pub check_only: bool,
    pub stage: ImportStage,
}

/// Where an import job is.
pub enum ImportStage {
    /// Queued or running, with the rows read so far.
    Running(usize),
    Done(Report),
    /// Stopped without a report; nothing was written. The code says why (`interrupted`).
    Failed(String),
}

impl ImportStatus {
    /// The import job `id`, if the actor started it: its report is its starter's alone
    /// (administrators see the job, not the report, on the jobs page).
    pub async fn of_job(
        state: &AppState,
        actor: &Actor,
        id: i64,
    ) -> Result<ImportStatus, AppError> {
        let job = state.store.job(actor, id).await?;
        if job.kind != IMPORT_PEOPLE || job.owner_id.is_none() || job.owner_id != actor.user_id() {
            return Err(AppError::NotFound);
        }
        Ok(ImportStatus::of(&job))
    }

    /// The imports the actor started since `since`, the newest first, with their ids.
    pub async fn recent(
        state: &AppState,
        actor: &Actor,
        since: tongxin_core::Timestamp,
    ) -> Result<Vec<(i64, ImportStatus)>, AppError> {
        Ok(state
            .store
            .my_jobs(actor, IMPORT_PEOPLE, since)
            .await?
            .iter()
            .map(|job| (job.id, ImportStatus::of(job)))
            .collect())
    }

    fn of(job: &JobView) -> ImportStatus {
        let text = |key: &str| {
            job.payload
                .get(key)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned()
        };
        let stage = match job.state {
            JobState::Queued | JobState::Running => ImportStage::Running(
                job.progress
                    .as_ref()
                    .and_then(|p| p.get("rows"))
                    .and_then(|r| r.as_u64())
                    .and_then(|r| usize::try_from(r).ok())
                    .unwrap_or(0),
            ),
            JobState::Done => match job
                .result
                .clone()
                .and_then(|r| serde_json::from_value::<Report>(r).ok())
            {
                Some(report) => ImportStage::Done(report),
                None => ImportStage::Failed("unreadable".to_owned()),
            },
            JobState::Failed => ImportStage::Failed(
                job.last_error
                    .clone()
                    .filter(|e| e == tongxin_store::INTERRUPTED)
                    .unwrap_or_else(|| "error".to_owned()),
            ),
        };
        ImportStatus {
            file_name: text("file_name"),
            check_only: job
                .payload
                .get("check_only")
                .and_then(|v| v.as_bool())
                .unwrap_or(true),
            stage,
        }
    }
}
