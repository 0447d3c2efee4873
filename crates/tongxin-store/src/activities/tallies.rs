//! Kept tallies of each activity's invitees by state (`activity_tallies`): a list of activities
//! reads one row per activity. Every change to invitations adds its [`TallyDeltas`] in its own
//! transaction; `tongxin check` recounts them.

use std::collections::{BTreeMap, HashMap};

use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Statement};
use tongxin_core::Attendance;

use super::AttendanceCounts;
use crate::access::{self, Unguarded};
use crate::entity::activity_tally;
use crate::error::Result;
use crate::migration::FILL_TALLIES;

/// The states in the order of the tally's columns.
const STATES: [Attendance; 5] = [
    Attendance::Invited,
    Attendance::Confirmed,
    Attendance::Attended,
    Attendance::Absent,
    Attendance::Excused,
];

fn slot(status: Attendance) -> usize {
    STATES.iter().position(|s| *s == status).unwrap_or(0)
}

/// Changes to the tallies, gathered per activity and written in one statement.
#[derive(Debug, Default)]
pub(crate) struct TallyDeltas(BTreeMap<i64, [i64; 5]>);

impl TallyDeltas {
    /// `n` more invitees of `activity_id` in `status` (fewer when negative).
    pub(crate) fn add(&mut self, activity_id: i64, status: Attendance, n: i64) {
        self.0.entry(activity_id).or_default()[slot(status)] += n;
    }

    /// One invitee of `activity_id` moved from `before` (none: newly invited) to `after`.
    pub(crate) fn moved(
        &mut self,
        activity_id: i64,
        before: Option<Attendance>,
        after: Attendance,
    ) {
        if let Some(before) = before {
            self.add(activity_id, before, -1);
        }
        self.add(activity_id, after, 1);
    }

    /// Adds the changes to the kept tallies.
    pub(crate) async fn apply<C: ConnectionTrait>(self, conn: &C) -> Result<()> {
        let rows: Vec<_> = self
            .0
            .into_iter()
            .filter(|(_, delta)| delta.iter().any(|n| *n != 0))
            .map(
                |(activity_id, [i, c, t, a, e])| activity_tally::ActiveModel {
                    activity_id: sea_orm::Set(activity_id),
                    invited: sea_orm::Set(i),
                    confirmed: sea_orm::Set(c),
                    attended: sea_orm::Set(t),
                    absent: sea_orm::Set(a),
                    excused: sea_orm::Set(e),
                },
            )
            .collect();
        if rows.is_empty() {
            return Ok(());
        }
        let mut upsert = OnConflict::column(activity_tally::Column::ActivityId);
        for column in [
            activity_tally::Column::Invited,
            activity_tally::Column::Confirmed,
            activity_tally::Column::Attended,
            activity_tally::Column::Absent,
            activity_tally::Column::Excused,
        ] {
            upsert.value(
                column,
                Expr::col((activity_tally::Entity, column))
                    .add(Expr::col((Alias::new("excluded"), column))),
            );
        }
        activity_tally::Entity::insert_many(rows)
            .on_conflict(upsert.to_owned())
            .exec_without_returning(conn)
            .await?;
        Ok(())
    }
}

impl From<&activity_tally::Model> for AttendanceCounts {
    fn from(row: &activity_tally::Model) -> Self {
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        AttendanceCounts {
            invited: count(row.invited),
            confirmed: count(row.confirmed),
            attended: count(row.attended),
            absent: count(row.absent),
            excused: count(row.excused),
        }
    }
}

/// The kept tallies of the activities `ids` (activities nobody was invited to have none).
pub(crate) async fn of_activities<C: ConnectionTrait>(
    conn: &C,
    ids: &[i64],
) -> Result<HashMap<i64, AttendanceCounts>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(
        access::unguarded::<activity_tally::Entity>(Unguarded::Counters)
            .filter(activity_tally::Column::ActivityId.is_in(ids.iter().copied()))
            .all(conn)
            .await?
            .iter()
            .map(|row| (row.activity_id, AttendanceCounts::from(row)))
            .collect(),
    )
}

/// Counts every activity's tallies again from its invitations, replacing the kept ones: after a
/// bulk load written around the store (the benchmark's synthetic attendance).
pub(crate) async fn recount_all<C: ConnectionTrait>(conn: &C) -> Result<()> {
    access::delete_rows::<activity_tally::Entity>(Unguarded::Counters)
        .exec(conn)
        .await?;
    conn.execute_unprepared(FILL_TALLIES).await?;
    Ok(())
}

/// The activities whose kept tallies differ from a recount of their invitations (at most 100).
pub(crate) async fn differing<C: ConnectionTrait>(conn: &C) -> Result<Vec<i64>> {
    let backend = conn.get_database_backend();
    let mut recount: BTreeMap<i64, [i64; 5]> = BTreeMap::new();
    for row in conn
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT activity_id, status, COUNT(*) AS n FROM invitations \
             GROUP BY activity_id, status",
        ))
        .await?
    {
        let activity_id: i64 = row.try_get("", "activity_id")?;
        let status: String = row.try_get("", "status")?;
        let n: i64 = row.try_get("", "n")?;
        if let Ok(status) = Attendance::parse(&status) {
            recount.entry(activity_id).or_default()[slot(status)] += n;
        }
    }
    let kept: BTreeMap<i64, [i64; 5]> =
        access::unguarded::<activity_tally::Entity>(Unguarded::Counters)
            .all(conn)
            .await?
            .into_iter()
            .map(|r| {
                let tally = [r.invited, r.confirmed, r.attended, r.absent, r.excused];
                (r.activity_id, tally)
            })
            .collect();
    let mut differing: Vec<i64> = kept
        .iter()
        .filter(|(id, tally)| recount.get(id).copied().unwrap_or_default() != **tally)
        .map(|(id, _)| *id)
        .chain(recount.keys().filter(|id| !kept.contains_key(id)).copied())
        .collect();
    differing.sort_unstable();
    differing.dedup();
    differing.truncate(100);
    Ok(differing)
}
