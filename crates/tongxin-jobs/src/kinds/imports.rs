//! A directory file imported (or only checked) in the background, as the account that uploaded
//! it. The upload is kept with the job, so whichever process claims it runs it; its progress
//! (rows read) is written to the job every half second for the progress page; its report is
//! the job's result. It runs once: an import interrupted by a stopped process never committed
//! (an import is one transaction) and is reported failed, not run again behind the user's back.

use std::time::Duration;

use serde_json::json;
use tongxin_core::Timestamp;
use tongxin_exchange::{ImportProgress, ImportRequest, import_people};
use tongxin_i18n::Lang;
use tongxin_store::{Actor, ClaimedJob, Event, NewJob, Recipients, TakenBack};
use tongxin_tabular::{Format, Limits};

use crate::{JobError, Work};

pub const IMPORT_PEOPLE: &str = "import.people";

/// The media type an import's upload is kept under; kept a day at most.
pub const IMPORT_FILE_TYPE: &str = "application/vnd.tongxin.import";

/// How often a running import writes its progress.
const PROGRESS_EVERY: Duration = Duration::from_millis(500);

/// An import of `file_name` by `actor`, to enqueue with its bytes
/// ([`tongxin_store::Store::enqueue_with_file`] under [`IMPORT_FILE_TYPE`]).
pub fn import_job(
    actor: &Actor,
    now: Timestamp,
    file_name: &str,
    format: Format,
    check_only: bool,
    max_bytes: usize,
    lang: Lang,
) -> NewJob {
    NewJob::new(
        IMPORT_PEOPLE,
        json!({
            "file_name": file_name,
            "format": format.as_str(),
            "check_only": check_only,
            "max_bytes": max_bytes,
            "lang": lang.tag(),
        }),
        now,
    )
    .attempts(1)
    .owner(actor.user_id())
    .unit(Some(actor.unit_path().as_str().to_owned()))
}

pub async fn run(work: &Work, job: &ClaimedJob) -> Result<Option<serde_json::Value>, JobError> {
    let payload = &job.payload;
    let text = |key: &str| {
        payload
            .get(key)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
    };
    let format = Format::parse(text("format"))
        .ok_or_else(|| JobError::stop(format!("unknown file format {:?}", text("format"))))?;
    let lang = Lang::from_tag(text("lang")).unwrap_or_default();
    let max_bytes = payload
        .get("max_bytes")
        .and_then(|v| v.as_u64())
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(Limits::default().max_bytes);
    let check_only = payload
        .get("check_only")
        .and_then(|v| v.as_bool())
        .unwrap_or(true);
    let owner = job
        .owner_id
        .ok_or_else(|| JobError::stop("an import job names no account"))?;
    let actor = work
        .store
        .actor_of_account(owner)
        .await?
        .ok_or_else(|| JobError::stop("the account that started the import is disabled"))?;
    let bytes = work
        .store
        .job_file(job)
        .await?
        .ok_or_else(|| JobError::stop("the uploaded file is no longer kept"))?;
    let progress = ImportProgress::default();
    let request = ImportRequest {
        bytes: &bytes,
        format,
        limits: Limits {
            max_bytes,
            ..Limits::default()
        },
        dry_run: check_only,
        lang,
    };
    let import = import_people(
        &work.store,
        &actor,
        work.clock.now(),
        &work.catalog,
        request,
        &progress,
    );
    tokio::pin!(import);
    let mut ticker = tokio::time::interval(PROGRESS_EVERY);
    let mut written = usize::MAX;
    let report = loop {
        tokio::select! {
            report = &mut import => break report,
            _ = ticker.tick() => {
                let rows = progress.rows();
                if rows != written {
                    written = rows;
                    if let Err(e) = work.store.job_progress(job.id, &json!({ "rows": rows })).await {
                        tracing::debug!(error = %e, "import progress not written");
                    }
                }
            }
        }
    };
    let report = report.map_err(|e| JobError::stop(e.to_string()))?;
    let outcome = if !report.problems.is_empty() {
        "refused"
    } else if report.committed {
        "imported"
    } else {
        "checked"
    };
    let finished = told(
        "import.finished",
        job.id,
        owner,
        json!({
            "file_name": text("file_name"),
            "outcome": outcome,
            "rows": report.rows,
            "problems": report.problems.len(),
        }),
    );
    let now = work.clock.now();
    work.store.enqueue_job(now, &finished.job(now)).await?;
    serde_json::to_value(&report)
        .map(Some)
        .map_err(|e| JobError::stop(e.to_string()))
}

/// The event telling whoever started import job `id` how it went.
fn told(kind: &str, id: i64, owner: i64, params: serde_json::Value) -> Event {
    Event::new(
        kind,
        format!("import:{id}"),
        format!("/directory/import/{id}"),
        params,
        Recipients::Accounts(vec![owner]),
    )
}

/// An import that stopped failed: nothing was written, and whoever started it is told.
pub async fn given_up(work: &Work, job: &TakenBack) {
    let Some(owner) = job.owner_id else {
        return;
    };
    let file_name = job.payload.get("file_name").cloned().unwrap_or_default();
    let failed = told(
        "import.failed",
        job.id,
        owner,
        json!({ "file_name": file_name }),
    );
    let now = work.clock.now();
    if let Err(e) = work.store.enqueue_job(now, &failed.job(now)).await {
        tracing::error!(job = job.id, error = %e, "the failed import's owner could not be told");
    }
}
