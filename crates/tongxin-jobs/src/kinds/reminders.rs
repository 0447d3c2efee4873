//! Every morning: the members invited to tomorrow's activities who have not answered are
//! reminded.

use chrono::Duration;
use serde_json::json;

use crate::{JobError, Work};

pub const ACTIVITY_REMINDERS: &str = "activities.remind";

pub async fn run(work: &Work) -> Result<Option<serde_json::Value>, JobError> {
    let now = work.clock.now();
    let tomorrow = work.zone.date_of(now) + Duration::days(1);
    let from = work.zone.start_of(tomorrow);
    let to = work.zone.start_of(tomorrow + Duration::days(1));
    let activities = work.store.raise_activity_reminders(now, from, to).await?;
    Ok(Some(
        json!({ "activities": activities, "day": tomorrow.to_string() }),
    ))
}
