//! Every night: jobs done more than a month ago are deleted (failed ones wait for an
//! administrator), uploads kept for imports more than a day ago, and notifications older than
//! their keeping time.

use serde_json::json;

use super::imports::IMPORT_FILE_TYPE;
use crate::{JobError, Work};

pub const HOUSEKEEPING: &str = "housekeeping";

/// How long a finished job stays listed, in days.
const KEEP_DONE_DAYS: i64 = 30;

pub async fn run(work: &Work) -> Result<Option<serde_json::Value>, JobError> {
    let now = work.clock.now();
    let jobs = work
        .store
        .prune_jobs(now.plus_minutes(-KEEP_DONE_DAYS * 24 * 60))
        .await?;
    let files = work
        .store
        .prune_job_files(IMPORT_FILE_TYPE, now.plus_minutes(-24 * 60))
        .await?;
    let notifications = work
        .store
        .prune_notifications(now.plus_minutes(-tongxin_store::KEEP_DAYS * 24 * 60))
        .await?;
    Ok(Some(json!({
        "jobs_pruned": jobs,
        "files_pruned": files,
        "notifications_pruned": notifications,
    })))
}
