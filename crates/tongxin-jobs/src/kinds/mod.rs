//! What each kind of job does. A kind is a name in the queue and a function here; adding one
//! is adding both (and, for a recurring one, a line in [`crate::schedules::SCHEDULE`]).

mod case_deadlines;
mod coverage;
mod deliver;
mod housekeeping;
mod imports;
mod integrity;
mod notify;
mod probe;
mod reminders;

use tongxin_store::{ClaimedJob, TakenBack};

use crate::{JobError, Work};

pub use case_deadlines::CASE_DEADLINES;
pub use coverage::WEEKLY_COVERAGE;
pub use deliver::DIGESTS;
pub use housekeeping::HOUSEKEEPING;
pub use imports::{IMPORT_FILE_TYPE, IMPORT_PEOPLE, import_job};
pub use integrity::INTEGRITY_CHECK;
pub use probe::{PROBE, probe_job};
pub use reminders::ACTIVITY_REMINDERS;

/// Runs one attempt of `job`; what it returns is kept as the job's result.
pub async fn run(work: &Work, job: &ClaimedJob) -> Result<Option<serde_json::Value>, JobError> {
    match job.kind.as_str() {
        PROBE => probe::run(work, job).await,
        HOUSEKEEPING => housekeeping::run(work).await,
        INTEGRITY_CHECK => integrity::run(work).await,
        IMPORT_PEOPLE => imports::run(work, job).await,
        notify::KIND => notify::run(work, job).await,
        ACTIVITY_REMINDERS => reminders::run(work).await,
        WEEKLY_COVERAGE => coverage::run(work).await,
        CASE_DEADLINES => case_deadlines::run(work).await,
        deliver::TO_CHANNEL => deliver::to_channel(work, job).await,
        deliver::BY_EMAIL => deliver::by_email(work, job).await,
        deliver::DIGESTS => deliver::digests(work, job).await,
        deliver::DIGEST => deliver::digest(work, job).await,
        other => Err(JobError::stop(format!(
            "no handler for jobs of kind {other:?}"
        ))),
    }
}

/// What happens when a job stops failed (out of attempts, or taken back with none left):
/// whoever waits for it is told.
pub async fn given_up(work: &Work, job: &TakenBack) {
    if job.kind == IMPORT_PEOPLE {
        imports::given_up(work, job).await;
    }
}
