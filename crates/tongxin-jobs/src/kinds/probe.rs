//! A job that does nothing but run: `tongxin jobs probe` enqueues some to show that a runner
//! takes work, and the benchmark measures the runner with them.

use serde_json::json;
use tongxin_core::Timestamp;
use tongxin_store::{ClaimedJob, NewJob};

use crate::{JobError, Work};

pub const PROBE: &str = "probe";

/// A probe job due at `now`.
pub fn probe_job(now: Timestamp) -> NewJob {
    NewJob::new(PROBE, json!({}), now)
}

pub async fn run(_work: &Work, job: &ClaimedJob) -> Result<Option<serde_json::Value>, JobError> {
    Ok(Some(json!({ "attempt": job.attempt })))
}
