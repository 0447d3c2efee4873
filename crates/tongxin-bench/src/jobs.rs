//! The job runner's throughput and latency on each engine: a fresh database (an SQLite file in
//! the working directory; a PostgreSQL schema when `TONGXIN_BENCH_POSTGRES_URL` is set) with the
//! demo city's units and one account.
//!
//! - throughput: N jobs enqueued first, then one runner (concurrency as configured) started
//!   and timed until the last is done: probes (a job that does nothing) and notify jobs (each
//!   writes one inbox row);
//! - delay: jobs enqueued at a steady rate while the runner works, and the time from enqueue to
//!   start (the jobs' `created_at` to `started_at`) as percentiles.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use tongxin::config::Config;
use tongxin_core::{Clock, SystemClock};
use tongxin_jobs::outbound::Outbound;
use tongxin_store::{Event, NewJob, Recipients, Store};

use crate::Error;
use crate::coverage::Raw;

pub struct Settings {
    pub jobs: usize,
    pub rate: usize,
    pub seconds: u64,
    pub concurrency: usize,
}

fn probe(now: tongxin_core::Timestamp) -> NewJob {
    tongxin_jobs::probe_job(now)
}

fn inbox_row(now: tongxin_core::Timestamp, account: i64, n: usize) -> NewJob {
    Event::new(
        "import.finished",
        format!("bench:{n}"),
        "/".to_owned(),
        json!({ "file_name": "bench.csv", "outcome": "imported", "rows": 1, "problems": 0 }),
        Recipients::Accounts(vec![account]),
    )
    .job(now)
}

pub async fn jobs(work: &Path, settings: &Settings) -> Result<(), Error> {
    let _ = std::fs::remove_dir_all(work);
    std::fs::create_dir_all(work)?;
    let mut out = std::io::stdout();
    writeln!(
        out,
        "engine | measure | jobs | seconds | jobs/s | delay p50 ms | delay p99 ms"
    )?;
    let mut engines = vec![("sqlite", None)];
    if let Ok(url) = std::env::var("TONGXIN_BENCH_POSTGRES_URL") {
        engines.push(("postgres", Some(url)));
    }
    for (engine, url) in engines {
        let dir = work.join(engine);
        std::fs::create_dir_all(&dir)?;
        let mut env = vec![("TONGXIN_DATA_DIR".to_owned(), dir.display().to_string())];
        let schema = format!("bench_jobs_{}", std::process::id());
        if let Some(url) = &url {
            env.push(("TONGXIN_DATABASE_URL".to_owned(), url.clone()));
            env.push(("TONGXIN_DATABASE_SCHEMA".to_owned(), schema.clone()));
        }
        env.push((
            "TONGXIN_JOB_CONCURRENCY".to_owned(),
            settings.concurrency.to_string(),
        ));
        env.push(("TONGXIN_JOB_POLL_MS".to_owned(), "50".to_owned()));
        let config = Config::load(None, env.into_iter())?;
        let store = tongxin::server::open_store(&config).await?;
        let raw = Raw::connect(&config.database_url, config.database_schema.as_deref()).await?;
        let now = SystemClock.now();
        tongxin::demo::load(&store, now, 1, 0).await?;
        let account = store
            .recipients(&Recipients::StaffOf(
                store
                    .unit_by_code(&tongxin_store::Actor::system("bench"), "150100")
                    .await?
                    .id,
            ))
            .await?
            .first()
            .copied()
            .ok_or("the demo city has no administrator")?;

        for (measure, make) in [("probe", 0), ("inbox row", 1)] {
            let now = SystemClock.now();
            for n in 0..settings.jobs {
                let job = if make == 0 {
                    probe(now)
                } else {
                    inbox_row(now, account, n)
                };
                store.enqueue_job(now, &job).await?;
            }
            let started = Instant::now();
            let kind = if make == 0 { "probe" } else { "notify" };
            run_until_done(&store, &raw, &config, kind).await?;
            let seconds = started.elapsed().as_secs_f64();
            writeln!(
                out,
                "{engine} | throughput, {measure} | {} | {seconds:.1} | {:.0} | | ",
                settings.jobs,
                settings.jobs as f64 / seconds
            )?;
        }

        // Steady load: the delay from enqueue to start.
        let before = raw.number("SELECT COALESCE(MAX(id), 0) FROM jobs").await?;
        let runner = start_runner(&store, &config);
        let interval = Duration::from_secs_f64(1.0 / settings.rate as f64);
        let deadline = Instant::now() + Duration::from_secs(settings.seconds);
        let mut next = Instant::now();
        let mut sent = 0;
        while Instant::now() < deadline {
            let now = SystemClock.now();
            store
                .enqueue_job(now, &inbox_row(now, account, 1_000_000 + sent))
                .await?;
            sent += 1;
            next += interval;
            if let Some(wait) = next.checked_duration_since(Instant::now()) {
                tokio::time::sleep(wait).await;
            }
        }
        wait_done(&raw, "notify").await?;
        runner.stop().await;
        let delays = raw
            .numbers(&format!(
                "SELECT started_at - created_at FROM jobs WHERE id > {before} \
                 AND kind = 'notify' ORDER BY 1"
            ))
            .await?;
        let percentile = |p: f64| {
            delays
                .get(((delays.len() as f64 - 1.0) * p) as usize)
                .map(|us| *us as f64 / 1000.0)
                .unwrap_or_default()
        };
        writeln!(
            out,
            "{engine} | delay at {} jobs/s | {sent} | {} | | {:.1} | {:.1}",
            settings.rate,
            settings.seconds,
            percentile(0.5),
            percentile(0.99)
        )?;
        store.close().await?;
        if url.is_some() {
            raw.execute(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
                .await?;
        }
    }
    Ok(())
}

struct Running {
    stop: tokio::sync::oneshot::Sender<()>,
    handle: tokio::task::JoinHandle<()>,
}

impl Running {
    async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.handle.await;
    }
}

fn start_runner(store: &Store, config: &Config) -> Running {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let catalog = Arc::new(tongxin_i18n::Catalog::load().unwrap_or_else(|e| panic!("{e}")));
    let outbound =
        Arc::new(Outbound::new(config.outbound.clone()).unwrap_or_else(|e| panic!("{e}")));
    let runner = tongxin::server::job_runner(store, &clock, &catalog, &outbound, config);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(runner.run(async {
        let _ = stopped.await;
    }));
    Running { stop, handle }
}

async fn run_until_done(
    store: &Store,
    raw: &Raw,
    config: &Config,
    kind: &str,
) -> Result<(), Error> {
    let runner = start_runner(store, config);
    wait_done(raw, kind).await?;
    runner.stop().await;
    Ok(())
}

async fn wait_done(raw: &Raw, kind: &str) -> Result<(), Error> {
    let sql = format!(
        "SELECT COUNT(*) FROM jobs WHERE kind = '{kind}' AND state IN ('queued', 'running')"
    );
    while raw.number(&sql).await? > 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}
