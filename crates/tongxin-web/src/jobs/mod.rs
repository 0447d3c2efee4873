//! Background jobs for administrators: the list with each job's state and last error, and
//! retrying or dropping a job that stopped failed (`/jobs`, `/api/v1/jobs`).

pub mod api;
pub mod pages;

use tongxin_store::JobState;

/// `?state=` as a filter; anything else lists every state.
fn state_filter(text: &str) -> Option<JobState> {
    JobState::parse(text)
}
