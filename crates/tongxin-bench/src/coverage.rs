//! `coverage`: campaign coverage at scale. On a demo database (`tongxin demo --people N`), adds
//! synthetic activities (half of them in the demo campaign) and attendance rows with plain SQL,
//! rebuilds the campaign's counters once (timed), then times what the coverage pages ask of the
//! store: the whole tree, and one county's drill-down (its coverage and the first page of its
//! unreached people). The baseline, measured in the same run, is counting the same two figures
//! from scratch (targeted, reached) with one SQL query over people and attendance: what a page
//! would cost without counters.

use std::io::Write;
use std::time::{Duration, Instant};

use tongxin_core::{Clock, SystemClock, UnitLevel};
use tongxin_store::{Actor, CampaignView, PageRequest, Store, UnitQuery};

use crate::Error;

/// The database behind the store, for the bulk fill and the baseline query.
pub(crate) enum Raw {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl Raw {
    pub(crate) async fn connect(url: &str, schema: Option<&str>) -> Result<Raw, Error> {
        Ok(if url.starts_with("postgres") {
            let mut options: sqlx::postgres::PgConnectOptions = url.parse()?;
            if let Some(schema) = schema {
                options = options.options([("search_path", schema)]);
            }
            Raw::Postgres(sqlx::PgPool::connect_with(options).await?)
        } else {
            Raw::Sqlite(sqlx::SqlitePool::connect(url).await?)
        })
    }

    pub(crate) async fn execute(&self, sql: &str) -> Result<u64, Error> {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        Ok(match self {
            Raw::Sqlite(pool) => sqlx::query(sql).execute(pool).await?.rows_affected(),
            Raw::Postgres(pool) => sqlx::query(sql).execute(pool).await?.rows_affected(),
        })
    }

    pub(crate) async fn number(&self, sql: &str) -> Result<i64, Error> {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        Ok(match self {
            Raw::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await?,
            Raw::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await?,
        })
    }

    /// The first column of every row, as numbers.
    pub(crate) async fn numbers(&self, sql: &str) -> Result<Vec<i64>, Error> {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        Ok(match self {
            Raw::Sqlite(pool) => sqlx::query_scalar(sql).fetch_all(pool).await?,
            Raw::Postgres(pool) => sqlx::query_scalar(sql).fetch_all(pool).await?,
        })
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

pub(crate) fn percentiles(mut times: Vec<Duration>) -> (f64, f64, f64) {
    times.sort();
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    (ms(at(0.5)), ms(at(0.99)), ms(times[times.len() - 1]))
}

/// Fills synthetic activities and attendance up to the targets; both are idempotent. The
/// attendance is written around the store, so the activities' kept tallies are counted again.
async fn fill(
    store: &Store,
    raw: &Raw,
    campaign: i64,
    activities: i64,
    attendance: i64,
    now: i64,
) -> Result<(), Error> {
    let have = raw
        .number("SELECT COUNT(*) FROM activities WHERE title LIKE 'bench %'")
        .await?;
    if have < activities {
        raw.execute("DROP TABLE IF EXISTS bench_units").await?;
        raw.execute(
            "CREATE TABLE bench_units AS SELECT id, path, \
             ROW_NUMBER() OVER (ORDER BY id) - 1 AS k FROM units WHERE level >= 3",
        )
        .await?;
        let started = Instant::now();
        raw.execute(&format!(
            "WITH RECURSIVE n(i) AS (SELECT CAST({have} AS BIGINT) UNION ALL SELECT i + 1 FROM n WHERE i < {last}) \
             INSERT INTO activities (kind_id, unit_id, unit_path, title, starts_at, ends_at, \
             venue_id, place, campaign_id, agenda, state, cancel_reason, minutes, created_at, updated_at) \
             SELECT (SELECT MIN(id) FROM activity_kinds), u.id, u.path, 'bench ' || n.i, \
             {now} - n.i * 600000000, {now} - n.i * 600000000 + 7200000000, NULL, NULL, \
             CASE WHEN n.i % 2 = 0 THEN {campaign} ELSE NULL END, NULL, 'held', NULL, NULL, {now}, {now} \
             FROM n JOIN bench_units u ON u.k = n.i % (SELECT COUNT(*) FROM bench_units)",
            last = activities - 1
        ))
        .await?;
        eprintln!(
            "filled activities in {:.0} s",
            started.elapsed().as_secs_f64()
        );
    }
    let have = raw
        .number(
            "SELECT COUNT(*) FROM invitations i JOIN activities a ON a.id = i.activity_id \
             WHERE a.title LIKE 'bench %'",
        )
        .await?;
    if have < attendance {
        let first = raw
            .number("SELECT MIN(id) FROM activities WHERE title LIKE 'bench %'")
            .await?;
        let (low, high, people) = (
            raw.number("SELECT MIN(id) FROM people").await?,
            raw.number("SELECT MAX(id) FROM people").await?,
            raw.number("SELECT COUNT(*) FROM people").await?,
        );
        if high - low + 1 != people {
            return Err("the people's ids must be contiguous (a fresh demo database)".into());
        }
        // Activity j mod A gets people (k·40009 + 7·a) mod P for k = j div A: distinct per
        // activity as long as attendance / activities stays under P / 40009.
        let started = Instant::now();
        raw.execute(&format!(
            "WITH RECURSIVE n(j) AS (SELECT CAST({have} AS BIGINT) UNION ALL SELECT j + 1 FROM n WHERE j < {last}) \
             INSERT INTO invitations (activity_id, person_id, status, checked_in_at, updated_at) \
             SELECT {first} + n.j % {activities}, \
             {low} + ((n.j / {activities}) * 40009 + (n.j % {activities}) * 7) % {people}, \
             CASE WHEN n.j % 10 < 7 THEN 'attended' ELSE 'absent' END, NULL, {now} FROM n",
            last = attendance - 1
        ))
        .await?;
        store.recount_activity_tallies().await?;
        eprintln!(
            "filled attendance and counted its tallies in {:.0} s",
            started.elapsed().as_secs_f64()
        );
        raw.execute("ANALYZE").await?;
    }
    Ok(())
}

/// The demo city's campaign.
async fn demo_campaign(store: &Store, system: &Actor) -> Result<CampaignView, Error> {
    Ok(store
        .campaigns(system, true, PageRequest::new(Some(1), Some(1)))
        .await?
        .items
        .into_iter()
        .next()
        .ok_or("load a demo city first (tongxin demo --people N): it has a campaign")?)
}

/// Adds the benchmark's activities and attendance to a loaded demo database, and rebuilds the
/// campaign's counters over them (for the HTTP benchmark's database).
pub async fn fill_volume(
    store: &Store,
    database_url: &str,
    schema: Option<&str>,
    activities: i64,
    attendance: i64,
) -> Result<(), Error> {
    let system = Actor::system("bench");
    let now = SystemClock.now();
    let campaign = demo_campaign(store, &system).await?;
    let raw = Raw::connect(database_url, schema).await?;
    fill(
        store,
        &raw,
        campaign.id,
        activities,
        attendance,
        now.micros(),
    )
    .await?;
    store
        .set_campaign_archived(&system, now, campaign.id, true)
        .await?;
    store
        .set_campaign_archived(&system, now, campaign.id, false)
        .await?;
    Ok(())
}

pub async fn coverage(
    store: &Store,
    database_url: &str,
    schema: Option<&str>,
    activities: i64,
    attendance: i64,
    queries: usize,
) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    let system = Actor::system("bench");
    let now = SystemClock.now();
    let campaign = demo_campaign(store, &system).await?;
    let raw = Raw::connect(database_url, schema).await?;
    fill(
        store,
        &raw,
        campaign.id,
        activities,
        attendance,
        now.micros(),
    )
    .await?;
    writeln!(
        out,
        "people {}, activities {}, attendance rows {}",
        raw.number("SELECT COUNT(*) FROM people").await?,
        raw.number("SELECT COUNT(*) FROM activities").await?,
        raw.number("SELECT COUNT(*) FROM invitations").await?
    )?;

    // Rebuilding the counters from scratch: what a restore of an archived campaign, an import
    // or a unit move costs.
    store
        .set_campaign_archived(&system, now, campaign.id, true)
        .await?;
    let started = Instant::now();
    let restored = store
        .set_campaign_archived(&system, now, campaign.id, false)
        .await?;
    let rebuild = started.elapsed();
    writeln!(
        out,
        "counters rebuilt in {:.1} s: {} targeted, {} reached ({})",
        rebuild.as_secs_f64(),
        restored.coverage.targeted,
        restored.coverage.reached,
        restored.coverage.percent_text()
    )?;

    let mut whole = Vec::with_capacity(queries);
    for _ in 0..queries {
        let started = Instant::now();
        let report = store.campaign_coverage(&system, campaign.id, None).await?;
        whole.push(started.elapsed());
        assert_eq!(report.total, restored.coverage);
    }
    let counties: Vec<i64> = store
        .units(
            &system,
            &UnitQuery::default(),
            PageRequest::new(None, Some(PageRequest::MAX_PER_PAGE)),
        )
        .await?
        .items
        .into_iter()
        .filter(|u| u.level == UnitLevel::County)
        .map(|u| u.id)
        .collect();
    let mut county = Vec::with_capacity(queries);
    for i in 0..queries {
        let unit = Some(counties[i % counties.len()]);
        let started = Instant::now();
        store.campaign_coverage(&system, campaign.id, unit).await?;
        store
            .unreached(&system, campaign.id, unit, PageRequest::new(None, None))
            .await?;
        county.push(started.elapsed());
    }

    // The baseline: the same two figures for the whole tree counted from scratch.
    let scratch = format!(
        "SELECT COUNT(*) FROM people p WHERE p.archived_at IS NULL \
         AND EXISTS (SELECT 1 FROM person_sectors ps JOIN campaign_sectors s \
                     ON s.sector_id = ps.sector_id WHERE s.campaign_id = {c} AND ps.person_id = p.id)",
        c = campaign.id
    );
    let reached = format!(
        "{scratch} AND EXISTS (SELECT 1 FROM invitations i JOIN activities a ON a.id = i.activity_id \
         WHERE a.campaign_id = {c} AND i.person_id = p.id AND i.status = 'attended')",
        c = campaign.id
    );
    let mut baseline = Vec::new();
    for _ in 0..3 {
        let started = Instant::now();
        let t = raw.number(&scratch).await?;
        let r = raw.number(&reached).await?;
        baseline.push(started.elapsed());
        assert_eq!(
            (t as u64, r as u64),
            (restored.coverage.targeted, restored.coverage.reached),
            "the counters differ from a recount"
        );
    }
    let (b50, _, _) = percentiles(baseline);
    writeln!(
        out,
        "| what | p50 ms | p99 ms | max ms | vs. counting from scratch |"
    )?;
    writeln!(out, "|---|---|---|---|---|")?;
    for (label, times) in [
        ("coverage, whole tree", whole),
        ("county drill-down (coverage + unreached page)", county),
    ] {
        let (p50, p99, max) = percentiles(times);
        writeln!(
            out,
            "| {label} | {p50:.1} | {p99:.1} | {max:.1} | {:.4}× |",
            p50 / b50
        )?;
    }
    writeln!(
        out,
        "| counting from scratch (baseline) | {b50:.0} | | | 1× |"
    )?;
    Ok(())
}
