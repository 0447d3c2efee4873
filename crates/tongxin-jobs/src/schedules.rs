//! The recurring jobs: what runs every day or every week, and when.
//!
//! Each occurrence is enqueued under a unique key made of the job's kind and the occurrence's
//! instant, so however many runners see it due, it is enqueued once. An occurrence missed
//! while no runner was up is still enqueued when one starts within a day of it; older ones are
//! let go (a day's reminders are no use a week later).

use std::collections::HashMap;

use chrono::Weekday;
use serde_json::json;
use tongxin_core::{Recurrence, TimeZone, Timestamp};
use tongxin_store::{NewJob, Store, StoreError};

use crate::kinds;

/// How late an occurrence may still be enqueued, in seconds.
const CATCH_UP_SECONDS: i64 = 24 * 3600;

/// The recurring jobs: kind and when.
pub const SCHEDULE: [(&str, Recurrence); 6] = [
    (
        kinds::HOUSEKEEPING,
        Recurrence::Daily { hour: 3, minute: 0 },
    ),
    (
        kinds::INTEGRITY_CHECK,
        Recurrence::Daily {
            hour: 2,
            minute: 30,
        },
    ),
    (kinds::DIGESTS, Recurrence::Daily { hour: 8, minute: 0 }),
    (
        kinds::ACTIVITY_REMINDERS,
        Recurrence::Daily { hour: 9, minute: 0 },
    ),
    (
        kinds::CASE_DEADLINES,
        Recurrence::Daily {
            hour: 8,
            minute: 30,
        },
    ),
    (
        kinds::WEEKLY_COVERAGE,
        Recurrence::Weekly {
            weekday: Weekday::Mon,
            hour: 8,
            minute: 0,
        },
    ),
];

/// Which occurrence of each schedule this runner last enqueued, so a round does not write
/// the same occurrence again.
#[derive(Default)]
pub struct Schedules {
    enqueued: HashMap<&'static str, Timestamp>,
}

impl Schedules {
    /// Enqueues each schedule's latest occurrence at or before `now`, once.
    pub async fn enqueue_due(
        &mut self,
        store: &Store,
        now: Timestamp,
        zone: TimeZone,
    ) -> Result<(), StoreError> {
        for (kind, recurrence) in SCHEDULE {
            let due = recurrence.latest(now, zone);
            if self.enqueued.get(kind) == Some(&due)
                || now.micros() - due.micros() > CATCH_UP_SECONDS * 1_000_000
            {
                continue;
            }
            let job = NewJob::new(kind, json!({ "occurrence": due.micros() }), due)
                .unique(format!("{kind}@{}", due.micros()));
            store.enqueue_job(now, &job).await?;
            self.enqueued.insert(kind, due);
        }
        Ok(())
    }
}
