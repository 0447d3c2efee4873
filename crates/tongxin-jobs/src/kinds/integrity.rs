//! Every night: the whole integrity check `tongxin check` runs (storage, unit paths, kept
//! counters, sealed values, the audit chain). A fault stops the job failed, with the faults as
//! its error, where the top administrators see it on the jobs page.

use serde_json::json;

use crate::{JobError, Work};

pub const INTEGRITY_CHECK: &str = "integrity.check";

pub async fn run(work: &Work) -> Result<Option<serde_json::Value>, JobError> {
    let report = work.store.check().await?;
    if !report.faults.is_empty() {
        let faults: Vec<String> = report.faults.iter().map(ToString::to_string).collect();
        return Err(JobError::stop(faults.join("; ")));
    }
    Ok(Some(
        json!({ "units": report.units, "audit_rows": report.audit_rows }),
    ))
}
