//! `cases`: the direct channel at scale. On a demo database (`tongxin demo --people N`), adds
//! synthetic cases received across the townships and villages of the city, each with a
//! timeline of three steps, a sixth of them handled by another county and some with outcomes,
//! with plain SQL; then times what the two busiest pages ask of the store: a county's staff
//! list (open cases, sorted by due date, the first page; and the same filtered by type) and the
//! city's statistics (every figure of the page).

use std::io::Write;
use std::time::Instant;

use tongxin_core::{CaseType, Clock, SystemClock};
use tongxin_store::{Actor, CaseQuery, CaseStatsQuery, PageRequest, Store};

use crate::Error;
use crate::coverage::{Raw, percentiles};

/// The states synthetic cases are in, with whether each was answered, is closed, and was rated.
const STATES: [(&str, bool, bool, Option<&str>); 10] = [
    ("submitted", false, false, None),
    ("accepted", false, false, None),
    ("assigned", false, false, None),
    ("assigned", false, false, None),
    ("escalated", false, false, None),
    ("answered", true, false, None),
    ("rated", true, false, Some("satisfied")),
    ("closed", true, true, Some("basically")),
    ("closed", true, true, Some("not_satisfied")),
    ("returned", false, true, None),
];

const TYPES: [&str; 5] = ["suggestion", "opinion", "research", "direct", "supervision"];
const CATEGORIES: [&str; 7] = [
    "economy",
    "society",
    "culture",
    "ecology",
    "governance",
    "livelihood",
    "other",
];

const DAY_MICROS: i64 = 86_400_000_000;

async fn fill(raw: &Raw, cases: i64, now: i64) -> Result<(), Error> {
    let have = raw
        .number("SELECT COUNT(*) FROM cases WHERE title LIKE 'bench %'")
        .await?;
    if have >= cases {
        return Ok(());
    }
    for table in ["bench_case_units", "bench_case_shapes"] {
        raw.execute(&format!("DROP TABLE IF EXISTS {table}"))
            .await?;
    }
    raw.execute(
        "CREATE TABLE bench_case_units AS SELECT id, path, \
         ROW_NUMBER() OVER (ORDER BY id) - 1 AS k FROM units WHERE level >= 3",
    )
    .await?;
    // One row per shape a case can take: its type, category, state and due date, and whether
    // it was answered (on time or not), closed and rated.
    raw.execute(
        "CREATE TABLE bench_case_shapes (k BIGINT, case_type TEXT, category TEXT, state TEXT, \
         answered BIGINT, closed BIGINT, satisfaction TEXT, due_on TEXT, late BIGINT)",
    )
    .await?;
    let today = SystemClock.now().date();
    let mut values = Vec::new();
    for k in 0..350usize {
        let (state, answered, closed, satisfaction) = STATES[k % STATES.len()];
        let due = today
            .checked_sub_days(chrono::Days::new(30))
            .and_then(|d| d.checked_add_days(chrono::Days::new((k % 50) as u64)))
            .unwrap_or(today);
        values.push(format!(
            "({k}, '{}', '{}', '{state}', {}, {}, {}, '{due}', {})",
            TYPES[k % TYPES.len()],
            CATEGORIES[k % CATEGORIES.len()],
            i32::from(answered),
            i32::from(closed),
            satisfaction.map_or("NULL".to_owned(), |s| format!("'{s}'")),
            i32::from(k % 9 == 0),
        ));
    }
    raw.execute(&format!(
        "INSERT INTO bench_case_shapes VALUES {}",
        values.join(", ")
    ))
    .await?;
    let (low, people) = (
        raw.number("SELECT MIN(id) FROM people").await?,
        raw.number("SELECT COUNT(*) FROM people").await?,
    );
    let staff = raw
        .number("SELECT MIN(id) FROM users WHERE role = 'staff'")
        .await?;
    let sectors = raw.number("SELECT MIN(id) FROM sectors").await?;
    let started = Instant::now();
    // Case i: unit i mod U receives it; every sixth is handled by the unit a third of the way
    // round the list (usually another county); created up to 60 days ago.
    raw.execute(&format!(
        "WITH RECURSIVE n(i) AS (SELECT CAST({have} AS BIGINT) UNION ALL SELECT i + 1 FROM n WHERE i < {last}) \
         INSERT INTO cases (case_type, title, body, category, state, submitter_id, submitted_by, \
         sector_id, name_withheld, receiving_unit_id, receiving_unit_path, handling_unit_id, \
         handling_unit_path, department_id, due_on, assigned_at, answered_at, answer, satisfaction, \
         reopened, merged_into, overdue_at, reminded_for, created_at, updated_at, closed_at, \
         topic_id, team_id, answer_days, answered_on_time) \
         SELECT s.case_type, 'bench ' || n.i, '合成的办理件', s.category, s.state, \
         {low} + (n.i * 7919) % {people}, {staff}, \
         CASE WHEN n.i % 3 = 0 THEN NULL ELSE {sectors} + n.i % 11 END, FALSE, \
         u.id, u.path, \
         CASE WHEN n.i % 6 = 0 THEN h.id ELSE u.id END, \
         CASE WHEN n.i % 6 = 0 THEN h.path ELSE u.path END, NULL, \
         CASE WHEN s.state IN ('submitted', 'accepted', 'returned') THEN NULL ELSE s.due_on END, \
         {now} - (n.i % 60) * {day}, \
         CASE WHEN s.answered = 1 THEN {now} - (n.i % 60) * {day} + ((n.i % 25) + 10 * s.late) * {day} ELSE NULL END, \
         CASE WHEN s.answered = 1 THEN '合成的答复' ELSE NULL END, s.satisfaction, \
         0, NULL, NULL, NULL, {now} - (n.i % 60) * {day} - 3 * {day}, {now}, \
         CASE WHEN s.closed = 1 THEN {now} ELSE NULL END, NULL, NULL, \
         CASE WHEN s.answered = 1 THEN (n.i % 18) + 8 * s.late ELSE NULL END, \
         CASE WHEN s.answered = 1 THEN s.late = 0 ELSE NULL END \
         FROM n \
         JOIN bench_case_units u ON u.k = n.i % (SELECT COUNT(*) FROM bench_case_units) \
         JOIN bench_case_units h ON h.k = (n.i + (SELECT COUNT(*) FROM bench_case_units) / 3) \
              % (SELECT COUNT(*) FROM bench_case_units) \
         JOIN bench_case_shapes s ON s.k = n.i % 350",
        last = cases - 1,
        day = DAY_MICROS,
    ))
    .await?;
    raw.execute(
        "INSERT INTO case_events (case_id, at, actor_id, actor_name, actor_unit, action, \
         from_state, to_state, body, internal, detail) \
         SELECT c.id, c.created_at + e.k * 3600000000, c.submitted_by, '合成', '合成', e.action, \
         e.from_state, e.to_state, NULL, FALSE, NULL \
         FROM cases c CROSS JOIN (SELECT 0 AS k, 'submit' AS action, NULL AS from_state, 'submitted' AS to_state \
              UNION ALL SELECT 1, 'accept', 'submitted', 'accepted' \
              UNION ALL SELECT 2, 'assign', 'accepted', 'assigned') e \
         WHERE c.title LIKE 'bench %'",
    )
    .await?;
    raw.execute(&format!(
        "INSERT INTO case_outcomes (case_id, kind, level, on_date, summary, reference, file_id, \
         recorded_by, recorded_at) \
         SELECT id, CASE WHEN id % 3 = 0 THEN 'instruction' WHEN id % 3 = 1 THEN 'adoption' ELSE 'bulletin' END, \
         CASE WHEN id % 3 = 0 THEN 'city' ELSE NULL END, '{today}', '合成', '合成', NULL, {staff}, {now} \
         FROM cases WHERE title LIKE 'bench %' AND state = 'closed' AND id % 4 = 0"
    ))
    .await?;
    raw.execute("ANALYZE").await?;
    eprintln!(
        "filled cases, timelines and outcomes in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn actor_named(store: &Store, raw: &Raw, username: &str) -> Result<Actor, Error> {
    let id = raw
        .number(&format!(
            "SELECT id FROM users WHERE username = '{username}'"
        ))
        .await?;
    Ok(store
        .actor_of_account(id)
        .await?
        .ok_or("the demo's accounts are missing")?)
}

pub async fn cases(
    store: &Store,
    database_url: &str,
    schema: Option<&str>,
    cases: i64,
    queries: usize,
) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    let raw = Raw::connect(database_url, schema).await?;
    let now = SystemClock.now();
    fill(&raw, cases, now.micros()).await?;
    writeln!(
        out,
        "people {}, cases {}, timeline steps {}, outcomes {}",
        raw.number("SELECT COUNT(*) FROM people").await?,
        raw.number("SELECT COUNT(*) FROM cases").await?,
        raw.number("SELECT COUNT(*) FROM case_events").await?,
        raw.number("SELECT COUNT(*) FROM case_outcomes").await?,
    )?;
    let county = actor_named(store, &raw, "xincheng").await?;
    let city = actor_named(store, &raw, "city.staff").await?;
    let today = now.date();
    let open_by_due = CaseQuery {
        open: true,
        by_due: true,
        ..CaseQuery::default()
    };
    let typed = CaseQuery {
        case_type: Some(CaseType::Suggestion),
        ..open_by_due.clone()
    };
    let mut runs = Vec::new();
    for (label, query) in [
        ("county staff list: open, by due date", &open_by_due),
        ("county staff list: open suggestions, by due date", &typed),
    ] {
        let mut times = Vec::with_capacity(queries);
        let mut total = 0;
        for _ in 0..queries {
            let started = Instant::now();
            let page = store
                .cases(&county, today, query, PageRequest::new(None, None))
                .await?;
            times.push(started.elapsed());
            total = page.total.count;
        }
        runs.push((format!("{label} ({total} cases)"), times));
    }
    let mut times = Vec::with_capacity(queries);
    let mut total = 0;
    for _ in 0..queries {
        let started = Instant::now();
        let figures = store
            .case_statistics(&city, &CaseStatsQuery::default())
            .await?;
        times.push(started.elapsed());
        total = figures.total;
    }
    runs.push((format!("city statistics ({total} cases)"), times));
    writeln!(out, "| what | p50 ms | p99 ms | max ms |")?;
    writeln!(out, "|---|---|---|---|")?;
    for (label, times) in runs {
        let (p50, p99, max) = percentiles(times);
        writeln!(out, "| {label} | {p50:.1} | {p99:.1} | {max:.1} |")?;
    }
    Ok(())
}
