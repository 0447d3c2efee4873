//! Kept counts of the people of every unit's subtree (`people_counts`): the directory's totals
//! are one row read, and the size of a subtree next to the whole tree's chooses the plan of its
//! list. Every change that adds, archives, restores or moves people adds its [`Deltas`] in its
//! own transaction; `tongxin check` recounts them.

use std::collections::BTreeMap;

use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Statement};
use tongxin_core::UnitPath;

use crate::access::{self, Unguarded};
use crate::entity::{people_count, person};
use crate::error::Result;

/// Live and archived people of one subtree.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PeopleCount {
    pub active: u64,
    pub archived: u64,
}

impl PeopleCount {
    /// Live and archived together.
    pub fn all(self) -> u64 {
        self.active + self.archived
    }
}

/// Changes to the counts, gathered per unit and written in one statement.
#[derive(Debug, Default)]
pub(crate) struct Deltas(BTreeMap<i64, (i64, i64)>);

impl Deltas {
    /// `active` more live and `archived` more archived people at the unit at `path`: counted in
    /// the unit and every unit above it.
    pub(crate) fn add(&mut self, path: &UnitPath, active: i64, archived: i64) {
        self.add_to(&path.ids(), active, archived);
    }

    /// A person's row counted (`sign` 1) or no longer counted (`sign` -1) where it stands.
    pub(crate) fn person(&mut self, row: &person::Model, sign: i64) {
        let path = UnitPath::from_stored(row.unit_path.clone());
        if row.archived_at.is_some() {
            self.add(&path, 0, sign);
        } else {
            self.add(&path, sign, 0);
        }
    }

    /// A person's row changed from `before` to `after` (a move, an archive, a restore).
    pub(crate) fn changed(before: &person::Model, after: &person::Model) -> Deltas {
        let mut deltas = Deltas::default();
        deltas.person(before, -1);
        deltas.person(after, 1);
        deltas
    }

    /// The same, for the units named.
    pub(crate) fn add_to(&mut self, unit_ids: &[i64], active: i64, archived: i64) {
        for id in unit_ids {
            let entry = self.0.entry(*id).or_default();
            entry.0 += active;
            entry.1 += archived;
        }
    }

    /// Adds the changes to the kept counts.
    pub(crate) async fn apply<C: ConnectionTrait>(self, conn: &C) -> Result<()> {
        let rows: Vec<_> = self
            .0
            .into_iter()
            .filter(|(_, delta)| *delta != (0, 0))
            .map(|(unit_id, (active, archived))| people_count::ActiveModel {
                unit_id: sea_orm::Set(unit_id),
                active: sea_orm::Set(active),
                archived: sea_orm::Set(archived),
            })
            .collect();
        if rows.is_empty() {
            return Ok(());
        }
        let add = |column: people_count::Column| {
            Expr::col((people_count::Entity, column))
                .add(Expr::col((Alias::new("excluded"), column)))
        };
        people_count::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::column(people_count::Column::UnitId)
                    .value(
                        people_count::Column::Active,
                        add(people_count::Column::Active),
                    )
                    .value(
                        people_count::Column::Archived,
                        add(people_count::Column::Archived),
                    )
                    .to_owned(),
            )
            .exec_without_returning(conn)
            .await?;
        Ok(())
    }
}

/// The kept counts of the subtrees of `unit_ids`, in the same order (zero where no one was ever
/// counted).
pub(crate) async fn of_units<C: ConnectionTrait>(
    conn: &C,
    unit_ids: &[i64],
) -> Result<Vec<PeopleCount>> {
    let rows: Vec<(i64, i64, i64)> = access::unguarded::<people_count::Entity>(Unguarded::Counters)
        .select_only()
        .column(people_count::Column::UnitId)
        .column(people_count::Column::Active)
        .column(people_count::Column::Archived)
        .filter(people_count::Column::UnitId.is_in(unit_ids.iter().copied()))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(unit_ids
        .iter()
        .map(|id| {
            rows.iter()
                .find(|(unit_id, _, _)| unit_id == id)
                .map(|(_, active, archived)| PeopleCount {
                    active: u64::try_from(*active).unwrap_or(0),
                    archived: u64::try_from(*archived).unwrap_or(0),
                })
                .unwrap_or_default()
        })
        .collect())
}

/// The units whose kept counts differ from a recount of the people on record (at most 100).
pub(crate) async fn differing<C: ConnectionTrait>(conn: &C) -> Result<Vec<i64>> {
    let backend = conn.get_database_backend();
    let rows = conn
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT unit_path, archived_at IS NULL AS live, COUNT(*) AS n \
             FROM people GROUP BY unit_path, archived_at IS NULL",
        ))
        .await?;
    let mut recount = Deltas::default();
    for row in rows {
        let path: String = row.try_get("", "unit_path")?;
        let live: bool = row.try_get("", "live")?;
        let n: i64 = row.try_get("", "n")?;
        let path = UnitPath::from_stored(path);
        if live {
            recount.add(&path, n, 0);
        } else {
            recount.add(&path, 0, n);
        }
    }
    let kept: Vec<(i64, i64, i64)> = access::unguarded::<people_count::Entity>(Unguarded::Counters)
        .select_only()
        .column(people_count::Column::UnitId)
        .column(people_count::Column::Active)
        .column(people_count::Column::Archived)
        .into_tuple()
        .all(conn)
        .await?;
    let mut differing: Vec<i64> = kept
        .iter()
        .filter(|(id, active, archived)| {
            recount.0.get(id).copied().unwrap_or_default() != (*active, *archived)
        })
        .map(|(id, _, _)| *id)
        .collect();
    differing.extend(
        recount
            .0
            .keys()
            .filter(|id| !kept.iter().any(|(kept_id, _, _)| kept_id == *id)),
    );
    differing.sort_unstable();
    differing.truncate(100);
    Ok(differing)
}
