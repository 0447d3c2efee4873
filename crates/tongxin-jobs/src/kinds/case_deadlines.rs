//! Every morning: cases due within a few working days are reminded to their handlers, and
//! those past their due date are marked overdue and told to the handler and the receiving unit.

use serde_json::json;

use crate::{JobError, Work};

pub const CASE_DEADLINES: &str = "cases.deadlines";

pub async fn run(work: &Work) -> Result<Option<serde_json::Value>, JobError> {
    let now = work.clock.now();
    let today = work.zone.date_of(now);
    let sweep = work.store.sweep_case_deadlines(now, today).await?;
    Ok(Some(json!({
        "day": today.to_string(),
        "reminded": sweep.reminded,
        "overdue": sweep.overdue,
    })))
}
