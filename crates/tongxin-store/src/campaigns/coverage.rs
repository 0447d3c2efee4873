//! Campaign coverage, kept rather than computed per page view.
//!
//! For every live campaign, `campaign_targets` holds who is in the target population now (and
//! whether they were reached), `campaign_target_sectors` the sectors each counts under, and
//! `campaign_counts` the totals per unit and sector. Every write that can change who is targeted
//! (a person's unit, sectors, tags, archiving; a unit move; a campaign's target) or who was
//! reached (attendance) calls [`sync`] or [`recount`] in its own transaction, so the counters
//! never drift from the rows they count. Both run the same target statements; `sync` limits them
//! to some people and moves the counters by the difference.

use std::collections::HashMap;

use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};
use tongxin_core::{Timestamp, UnitPath};

use crate::directory::population::Population;
use crate::error::Result;

/// At most this many ids go into one `IN (…)` list.
const CHUNK: usize = 500;

/// Which campaigns keep coverage: every campaign not archived.
pub(crate) async fn live_campaigns<C: ConnectionTrait>(conn: &C) -> Result<Vec<i64>> {
    let rows = conn
        .query_all_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT id FROM campaigns WHERE archived_at IS NULL ORDER BY id",
        ))
        .await?;
    rows.iter()
        .map(|r| r.try_get_by_index::<i64>(0).map_err(Into::into))
        .collect()
}

/// A statement written with `?` placeholders, numbered for PostgreSQL.
fn statement(backend: DbBackend, sql: &str, values: Vec<Value>) -> Statement {
    let sql = if backend == DbBackend::Postgres {
        let mut numbered = String::with_capacity(sql.len() + 16);
        let mut n = 0;
        for c in sql.chars() {
            if c == '?' {
                n += 1;
                numbered.push('$');
                numbered.push_str(&n.to_string());
            } else {
                numbered.push(c);
            }
        }
        numbered
    } else {
        sql.to_owned()
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// `(?, ?, …)` for `n` values.
fn placeholders(n: usize) -> String {
    let mut s = String::from("(");
    for i in 0..n {
        if i > 0 {
            s.push_str(", ");
        }
        s.push('?');
    }
    s.push(')');
    s
}

/// The target population of a campaign (its subtree × its sectors × its tags, see
/// [`Population`]) as a condition on `people p`, with the values it takes.
async fn target<C: ConnectionTrait>(conn: &C, campaign: i64) -> Result<Target> {
    // One round trip: the campaign's subtree, then one row per sector and one per tag.
    let rows = conn
        .query_all_raw(statement(
            conn.get_database_backend(),
            "SELECT target_unit_path, NULL, NULL FROM campaigns WHERE id = ? \
             UNION ALL SELECT NULL, sector_id, NULL FROM campaign_sectors WHERE campaign_id = ? \
             UNION ALL SELECT NULL, NULL, tag FROM campaign_tags WHERE campaign_id = ?",
            vec![campaign.into(), campaign.into(), campaign.into()],
        ))
        .await?;
    let mut subtree = None;
    let (mut sectors, mut tags) = (Vec::new(), Vec::new());
    for row in rows {
        if let Some(path) = row.try_get_by_index::<Option<String>>(0)? {
            subtree = Some(UnitPath::from_stored(path));
        } else if let Some(sector) = row.try_get_by_index::<Option<i64>>(1)? {
            sectors.push(sector);
        } else if let Some(tag) = row.try_get_by_index::<Option<String>>(2)? {
            tags.push(tag);
        }
    }
    let subtree = subtree.ok_or(crate::error::StoreError::NotFound)?;
    let (condition, values) = Population {
        sectors,
        tags,
        ..Population::of(subtree)
    }
    .sql("p");
    Ok(Target { condition, values })
}

/// A campaign's target population as a condition on `people p` and the values it takes.
struct Target {
    condition: String,
    values: Vec<Value>,
}

/// When a targeted person was first reached: their earliest attendance at an activity of the
/// campaign. Takes the campaign id once; correlated on `campaign_targets.person_id`.
const REACHED_AT: &str = "(SELECT MIN(i.updated_at) FROM invitations i \
     JOIN activities a ON a.id = i.activity_id \
     WHERE a.campaign_id = ? AND i.person_id = campaign_targets.person_id \
     AND i.status = 'attended')";

/// Brings the target rows of `campaign` in line with the directory and attendance, for the
/// people in `only` (or everyone). Counters are not touched.
async fn refresh_targets<C: ConnectionTrait>(
    conn: &C,
    campaign: i64,
    target: &Target,
    only: Option<&[i64]>,
    now: Timestamp,
) -> Result<()> {
    let backend = conn.get_database_backend();
    let ids: Vec<Value> = only
        .unwrap_or_default()
        .iter()
        .map(|&id| id.into())
        .collect();
    let (people_in, targets_in) = match only {
        Some(list) => (
            format!(" AND p.id IN {}", placeholders(list.len())),
            format!(" AND person_id IN {}", placeholders(list.len())),
        ),
        None => (String::new(), String::new()),
    };
    let c: Value = campaign.into();
    let target_condition = &target.condition;
    let target_binds = || target.values.clone();
    let with_ids = |mut v: Vec<Value>| {
        v.extend(ids.iter().cloned());
        v
    };
    // Those who left the target population: an anti-join by person, so syncing a few people
    // never evaluates the whole target (and PostgreSQL never runs `NOT IN` over a million ids).
    let mut values = vec![c.clone()];
    values.extend(target_binds());
    values.extend(ids.iter().cloned());
    conn.execute_raw(statement(
        backend,
        &format!(
            "DELETE FROM campaign_targets WHERE campaign_id = ? AND NOT EXISTS \
             (SELECT 1 FROM people p WHERE p.id = campaign_targets.person_id \
             AND {target_condition}){targets_in}"
        ),
        values,
    ))
    .await?;
    // Those who stayed but moved to another unit.
    conn.execute_raw(statement(
        backend,
        &format!(
            "UPDATE campaign_targets SET \
             unit_id = (SELECT p.unit_id FROM people p WHERE p.id = campaign_targets.person_id), \
             unit_path = (SELECT p.unit_path FROM people p WHERE p.id = campaign_targets.person_id) \
             WHERE campaign_id = ?{targets_in}"
        ),
        with_ids(vec![c.clone()]),
    ))
    .await?;
    // Those who joined: they count from now on.
    let mut values = vec![c.clone(), now.micros().into()];
    values.extend(target_binds());
    values.extend(ids.iter().cloned());
    values.push(c.clone());
    conn.execute_raw(statement(
        backend,
        &format!(
            "INSERT INTO campaign_targets \
             (campaign_id, person_id, unit_id, unit_path, joined_at, reached_at) \
             SELECT ?, p.id, p.unit_id, p.unit_path, ?, NULL FROM people p \
             WHERE {target_condition}{people_in} AND NOT EXISTS \
             (SELECT 1 FROM campaign_targets t WHERE t.campaign_id = ? AND t.person_id = p.id)"
        ),
        values,
    ))
    .await?;
    conn.execute_raw(statement(
        backend,
        &format!("UPDATE campaign_targets SET reached_at = {REACHED_AT} WHERE campaign_id = ?{targets_in}"),
        with_ids(vec![c.clone(), c.clone()]),
    ))
    .await?;
    // The sectors each counts under: those of the campaign, or all of theirs if it names none.
    conn.execute_raw(statement(
        backend,
        &format!("DELETE FROM campaign_target_sectors WHERE campaign_id = ?{targets_in}"),
        with_ids(vec![c.clone()]),
    ))
    .await?;
    let ps_in = match only {
        Some(list) => format!(" AND ps.person_id IN {}", placeholders(list.len())),
        None => String::new(),
    };
    conn.execute_raw(statement(
        backend,
        &format!(
            "INSERT INTO campaign_target_sectors (campaign_id, person_id, sector_id) \
             SELECT t.campaign_id, ps.person_id, ps.sector_id FROM person_sectors ps \
             JOIN campaign_targets t ON t.person_id = ps.person_id AND t.campaign_id = ? \
             WHERE (NOT EXISTS (SELECT 1 FROM campaign_sectors cs WHERE cs.campaign_id = ?) \
                OR ps.sector_id IN (SELECT sector_id FROM campaign_sectors WHERE campaign_id = ?))\
             {ps_in}"
        ),
        with_ids(vec![c.clone(), c.clone(), c]),
    ))
    .await?;
    Ok(())
}

/// Counter contributions per (unit, sector) of some people in a campaign: `(targeted, reached)`.
type Contributions = HashMap<(i64, i64), (i64, i64)>;

async fn contributions<C: ConnectionTrait>(
    conn: &C,
    campaign: i64,
    people: &[i64],
) -> Result<Contributions> {
    let backend = conn.get_database_backend();
    let mut values: Vec<Value> = vec![campaign.into()];
    values.extend(people.iter().map(|&id| Value::from(id)));
    let sql = format!(
        "SELECT t.unit_id, 0, COUNT(*), COUNT(t.reached_at) FROM campaign_targets t \
         WHERE t.campaign_id = ? AND t.person_id IN {list} GROUP BY t.unit_id \
         UNION ALL \
         SELECT t.unit_id, s.sector_id, COUNT(*), COUNT(t.reached_at) \
         FROM campaign_target_sectors s JOIN campaign_targets t \
         ON t.campaign_id = s.campaign_id AND t.person_id = s.person_id \
         WHERE s.campaign_id = ? AND s.person_id IN {list} GROUP BY t.unit_id, s.sector_id",
        list = placeholders(people.len())
    );
    let mut all = values.clone();
    all.extend(values);
    let rows = conn.query_all_raw(statement(backend, &sql, all)).await?;
    let mut out = Contributions::new();
    for row in rows {
        let unit: i64 = row.try_get_by_index(0)?;
        let sector: i64 = row.try_get_by_index(1)?;
        let targeted: i64 = row.try_get_by_index(2)?;
        let reached: i64 = row.try_get_by_index(3)?;
        out.insert((unit, sector), (targeted, reached));
    }
    Ok(out)
}

/// Re-evaluates `people` in the campaigns given (or every live campaign) and moves the
/// counters by the difference. Call it in the transaction of the write that changed them.
pub(crate) async fn sync<C: ConnectionTrait>(
    conn: &C,
    campaigns: Option<&[i64]>,
    people: &[i64],
    now: Timestamp,
) -> Result<()> {
    if people.is_empty() {
        return Ok(());
    }
    let campaigns = match campaigns {
        Some(list) => list.to_vec(),
        None => live_campaigns(conn).await?,
    };
    for &campaign in &campaigns {
        let target = target(conn, campaign).await?;
        for chunk in people.chunks(CHUNK) {
            let before = contributions(conn, campaign, chunk).await?;
            refresh_targets(conn, campaign, &target, Some(chunk), now).await?;
            let after = contributions(conn, campaign, chunk).await?;
            let mut delta: Contributions = HashMap::new();
            for (key, (t, r)) in after {
                let d = delta.entry(key).or_default();
                d.0 += t;
                d.1 += r;
            }
            for (key, (t, r)) in before {
                let d = delta.entry(key).or_default();
                d.0 -= t;
                d.1 -= r;
            }
            apply(conn, campaign, &delta).await?;
        }
    }
    Ok(())
}

/// Adds `delta` to the counters, creating rows that are missing.
async fn apply<C: ConnectionTrait>(conn: &C, campaign: i64, delta: &Contributions) -> Result<()> {
    let backend = conn.get_database_backend();
    for (&(unit, sector), &(targeted, reached)) in delta {
        if targeted == 0 && reached == 0 {
            continue;
        }
        conn.execute_raw(statement(
            backend,
            "INSERT INTO campaign_counts (campaign_id, unit_id, sector_id, targeted, reached) \
             VALUES (?, ?, ?, ?, ?) ON CONFLICT (campaign_id, unit_id, sector_id) DO UPDATE SET \
             targeted = campaign_counts.targeted + excluded.targeted, \
             reached = campaign_counts.reached + excluded.reached",
            vec![
                campaign.into(),
                unit.into(),
                sector.into(),
                targeted.into(),
                reached.into(),
            ],
        ))
        .await?;
    }
    Ok(())
}

/// Rebuilds one campaign's targets and counters from scratch: for a new campaign, a changed
/// target, and bulk changes (imports, unit moves) where per-person sync would be slower.
pub(crate) async fn recount<C: ConnectionTrait>(
    conn: &C,
    campaign: i64,
    now: Timestamp,
) -> Result<()> {
    let backend = conn.get_database_backend();
    let target = target(conn, campaign).await?;
    refresh_targets(conn, campaign, &target, None, now).await?;
    conn.execute_raw(statement(
        backend,
        "DELETE FROM campaign_counts WHERE campaign_id = ?",
        vec![campaign.into()],
    ))
    .await?;
    conn.execute_raw(statement(
        backend,
        "INSERT INTO campaign_counts (campaign_id, unit_id, sector_id, targeted, reached) \
         SELECT campaign_id, unit_id, 0, COUNT(*), COUNT(reached_at) FROM campaign_targets \
         WHERE campaign_id = ? GROUP BY campaign_id, unit_id",
        vec![campaign.into()],
    ))
    .await?;
    conn.execute_raw(statement(
        backend,
        "INSERT INTO campaign_counts (campaign_id, unit_id, sector_id, targeted, reached) \
         SELECT s.campaign_id, t.unit_id, s.sector_id, COUNT(*), COUNT(t.reached_at) \
         FROM campaign_target_sectors s JOIN campaign_targets t \
         ON t.campaign_id = s.campaign_id AND t.person_id = s.person_id \
         WHERE s.campaign_id = ? GROUP BY s.campaign_id, t.unit_id, s.sector_id",
        vec![campaign.into()],
    ))
    .await?;
    Ok(())
}

/// Rebuilds every live campaign (after an import or a unit move).
pub(crate) async fn recount_all<C: ConnectionTrait>(conn: &C, now: Timestamp) -> Result<()> {
    for campaign in live_campaigns(conn).await? {
        recount(conn, campaign, now).await?;
    }
    Ok(())
}

/// Whether a campaign's counters equal its target rows summed afresh, and its target rows
/// number the people its target holds in the directory (for `tongxin check`).
pub(crate) async fn verify<C: ConnectionTrait>(conn: &C, campaign: i64) -> Result<bool> {
    let backend = conn.get_database_backend();
    let read = |sql: &'static str| {
        let statement = statement(backend, sql, vec![campaign.into()]);
        async move {
            let mut map: HashMap<(i64, i64), (i64, i64)> = HashMap::new();
            for row in conn.query_all_raw(statement).await? {
                let key = (row.try_get_by_index(0)?, row.try_get_by_index(1)?);
                let value = (row.try_get_by_index(2)?, row.try_get_by_index(3)?);
                if value != (0, 0) {
                    map.insert(key, value);
                }
            }
            Ok::<_, crate::error::StoreError>(map)
        }
    };
    let kept = read(
        "SELECT unit_id, sector_id, targeted, reached FROM campaign_counts WHERE campaign_id = ?",
    )
    .await?;
    let mut fresh = read(
        "SELECT unit_id, CAST(0 AS BIGINT), COUNT(*), COUNT(reached_at) FROM campaign_targets \
         WHERE campaign_id = ? GROUP BY unit_id",
    )
    .await?;
    fresh.extend(
        read(
            "SELECT t.unit_id, s.sector_id, COUNT(*), COUNT(t.reached_at) \
             FROM campaign_target_sectors s JOIN campaign_targets t \
             ON t.campaign_id = s.campaign_id AND t.person_id = s.person_id \
             WHERE s.campaign_id = ? GROUP BY t.unit_id, s.sector_id",
        )
        .await?,
    );
    let targeted: i64 = fresh
        .iter()
        .filter(|((_, sector), _)| *sector == 0)
        .map(|(_, (t, _))| t)
        .sum();
    Ok(kept == fresh && targeted == target_size(conn, campaign).await?)
}

/// How many people a campaign's target population holds, read from the directory (the
/// campaign's rows may be uncommitted in the same transaction).
pub(crate) async fn target_size<C: ConnectionTrait>(conn: &C, campaign: i64) -> Result<i64> {
    let Target { condition, values } = target(conn, campaign).await?;
    let row = conn
        .query_one_raw(statement(
            conn.get_database_backend(),
            &format!("SELECT COUNT(*) FROM people p WHERE {condition}"),
            values,
        ))
        .await?;
    Ok(match row {
        Some(row) => row.try_get_by_index(0)?,
        None => 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_placeholders_are_numbered() {
        let s = statement(DbBackend::Postgres, "a = ? AND b IN (?, ?)", vec![]);
        assert_eq!(s.sql, "a = $1 AND b IN ($2, $3)");
    }
}
