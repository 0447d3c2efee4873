//! The daily look at due dates: a reminder once per due date when it comes within
//! [`AMBER_WORKING_DAYS`] working days, and the mark "overdue" the day after it passes, each
//! told to the handler's staff and the receiving unit's.

use chrono::NaiveDate;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, QueryFilter, QueryOrder};
use tongxin_core::{AMBER_WORKING_DAYS, Timestamp};

use super::handling::deadline_notices;
use super::reference;
use super::timeline::{self, Step};
use crate::Store;
use crate::access::{self, Actor, Unguarded};
use crate::entity::case;
use crate::error::Result;
use crate::notifications;

/// What one look at the due dates did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeadlineSweep {
    pub reminded: u64,
    pub overdue: u64,
}

impl Store {
    /// Reminds and marks the cases waiting for an answer as of `today`. Each case is its own
    /// transaction; running it twice in a day does nothing more.
    pub async fn sweep_case_deadlines(
        &self,
        now: Timestamp,
        today: NaiveDate,
    ) -> Result<DeadlineSweep> {
        let calendar = reference::load_calendar(&self.db).await?;
        let Some(horizon) = calendar.add_working_days(today, AMBER_WORKING_DAYS) else {
            return Ok(DeadlineSweep::default());
        };
        let waiting = access::unguarded::<case::Entity>(Unguarded::System)
            .filter(case::Column::ClosedAt.is_null())
            .filter(case::Column::AnsweredAt.is_null())
            // Marked once: an overdue case is not read again every morning.
            .filter(case::Column::OverdueAt.is_null())
            .filter(case::Column::DueOn.lte(horizon.to_string()))
            .order_by_asc(case::Column::Id)
            .all(&self.db)
            .await?;
        let system = Actor::system("deadline");
        let mut sweep = DeadlineSweep::default();
        for row in waiting {
            let Some(due) = super::due_date(row.due_on.as_deref()) else {
                continue;
            };
            let overdue = due < today;
            let remind =
                !overdue && due >= today && row.reminded_for.as_deref() != row.due_on.as_deref();
            if !overdue && !remind {
                continue;
            }
            let tx = self.begin_write().await?;
            let mut change: case::ActiveModel = row.clone().into();
            let kind = if overdue {
                change.overdue_at = Set(Some(now.micros()));
                sweep.overdue += 1;
                timeline::record(
                    &tx,
                    now,
                    &system,
                    &row,
                    Step::new("overdue")
                        .internal()
                        .detail(serde_json::json!({ "due_on": row.due_on })),
                )
                .await?;
                "case.overdue"
            } else {
                change.reminded_for = Set(row.due_on.clone());
                sweep.reminded += 1;
                "case.due_soon"
            };
            change.update(&tx).await?;
            for event in deadline_notices(kind, &row) {
                notifications::raise(&tx, now, &event).await?;
            }
            tx.commit().await?;
        }
        Ok(sweep)
    }
}
