//! `tongxin-bench`: the directory's performance figures (docs/PERFORMANCE.md).
//!
//! `import` loads the demo city without people, writes a CSV of N synthetic people and times
//! `tongxin import people` on it (wall time, peak RSS) against the `sqlite3` shell writing the
//! same rows (dumped from Tongxin's result, everything precomputed) into Tongxin's own tables
//! with their indexes, and against `.import` of the file into a bare table, in the same run. `search` times the store's people
//! search (the server's work for `GET /api/v1/people?q=…`, without HTTP) on a loaded database,
//! for name substrings of two and three characters, full pinyin and initials, each with a
//! county subtree and a sector filter. `coverage` times campaign coverage at scale, `cases` the
//! direct channel's busiest pages at scale (see their modules).

mod cases;
mod coverage;
mod http;
mod jobs;

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use rand::seq::IndexedRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tongxin::config::Config;
use tongxin::demo::Population;
use tongxin_core::{Clock, Gender, SystemClock};
use tongxin_store::{Actor, PageRequest, PeopleQuery, PersonInput, PersonStatus, Store, UnitQuery};

type Error = Box<dyn std::error::Error>;

#[derive(Parser)]
#[command(about = "Benchmarks of Tongxin")]
struct Cli {
    #[command(subcommand)]
    command: Bench,
}

#[derive(Subcommand)]
enum Bench {
    /// Bulk import of a generated CSV against the sqlite3 shell writing the same rows.
    Import {
        #[arg(long, default_value_t = 1_000_000)]
        rows: usize,
        /// Working directory (emptied first).
        #[arg(long, default_value = "bench-work")]
        work: PathBuf,
        /// The tongxin binary (default: next to this one).
        #[arg(long)]
        tongxin: Option<PathBuf>,
        #[arg(long, default_value = "sqlite3")]
        sqlite3: PathBuf,
    },
    /// Search latency on a loaded data directory (e.g. after `tongxin demo --people 1000000`).
    Search {
        #[arg(long, default_value = "tongxin-data")]
        data_dir: PathBuf,
        /// Queries per kind.
        #[arg(long, default_value_t = 300)]
        queries: usize,
    },
    /// The pages people use most, over HTTP with wrk, against nginx serving a file in the same
    /// run (builds its demo database in the working directory the first time).
    Http {
        #[arg(long, default_value = "bench-http")]
        work: PathBuf,
        #[arg(long, default_value_t = 1_000_000)]
        people: usize,
        #[arg(long, default_value_t = 200_000)]
        activities: i64,
        #[arg(long, default_value_t = 5_000_000)]
        attendance: i64,
        /// Seconds per run.
        #[arg(long, default_value_t = 20)]
        seconds: u32,
        /// Client counts, each a run of every page.
        #[arg(long, value_delimiter = ',', default_values_t = [16, 64])]
        clients: Vec<u32>,
        /// The tongxin binary (default: next to this one).
        #[arg(long)]
        tongxin: Option<PathBuf>,
        #[arg(long, default_value = "wrk")]
        wrk: PathBuf,
        #[arg(long, default_value = "nginx")]
        nginx: PathBuf,
        /// Drive only the pages whose name contains this (for example `person`).
        #[arg(long)]
        only: Option<String>,
    },
    /// The job runner: jobs per second (doing nothing; writing an inbox row) and the delay from
    /// enqueue to start under a steady load, on SQLite and (with TONGXIN_BENCH_POSTGRES_URL)
    /// PostgreSQL.
    Jobs {
        #[arg(long, default_value = "bench-jobs")]
        work: PathBuf,
        /// Jobs per throughput run.
        #[arg(long, default_value_t = 20_000)]
        jobs: usize,
        /// Jobs enqueued per second in the delay run.
        #[arg(long, default_value_t = 200)]
        rate: usize,
        #[arg(long, default_value_t = 15)]
        seconds: u64,
        #[arg(long, default_value_t = 4)]
        concurrency: usize,
    },
    /// A county's case list and the city's case statistics with synthetic cases on a loaded
    /// demo database.
    Cases {
        #[arg(long, default_value = "tongxin-data")]
        data_dir: PathBuf,
        #[arg(long, default_value_t = 100_000)]
        cases: i64,
        /// Page views timed per measurement.
        #[arg(long, default_value_t = 200)]
        queries: usize,
    },
    /// Campaign coverage with synthetic activities and attendance on a loaded demo database.
    Coverage {
        #[arg(long, default_value = "tongxin-data")]
        data_dir: PathBuf,
        #[arg(long, default_value_t = 200_000)]
        activities: i64,
        #[arg(long, default_value_t = 5_000_000)]
        attendance: i64,
        /// Page views timed per measurement.
        #[arg(long, default_value_t = 200)]
        queries: usize,
    },
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    tongxin_jobs::outbound::use_ring_for_tls();
    match Cli::parse().command {
        Bench::Import {
            rows,
            work,
            tongxin,
            sqlite3,
        } => {
            let tongxin = match tongxin {
                Some(path) => path,
                None => std::env::current_exe()?.with_file_name("tongxin"),
            };
            import(rows, &work, &tongxin, &sqlite3).await
        }
        Bench::Search { data_dir, queries } => search(&data_dir, queries).await,
        Bench::Jobs {
            work,
            jobs,
            rate,
            seconds,
            concurrency,
        } => {
            jobs::jobs(
                &work,
                &jobs::Settings {
                    jobs,
                    rate,
                    seconds,
                    concurrency,
                },
            )
            .await
        }
        Bench::Http {
            work,
            people,
            activities,
            attendance,
            seconds,
            clients,
            tongxin,
            wrk,
            nginx,
            only,
        } => {
            let tongxin = match tongxin {
                Some(path) => path,
                None => std::env::current_exe()?.with_file_name("tongxin"),
            };
            http::http(http::Settings {
                work,
                people,
                activities,
                attendance,
                seconds,
                clients,
                tongxin,
                wrk,
                nginx,
                only,
            })
            .await
        }
        Bench::Cases {
            data_dir,
            cases,
            queries,
        } => {
            let (store, config) = open_with_config(&data_dir).await?;
            cases::cases(
                &store,
                &config.database_url,
                config.database_schema.as_deref(),
                cases,
                queries,
            )
            .await
        }
        Bench::Coverage {
            data_dir,
            activities,
            attendance,
            queries,
        } => {
            let (store, config) = open_with_config(&data_dir).await?;
            coverage::coverage(
                &store,
                &config.database_url,
                config.database_schema.as_deref(),
                activities,
                attendance,
                queries,
            )
            .await
        }
    }
}

/// The store `tongxin` would open with this data directory and the process's other
/// `TONGXIN_*` settings (so `TONGXIN_DATABASE_URL` points the search benchmark at PostgreSQL).
async fn open(data_dir: &Path) -> Result<Store, Error> {
    Ok(open_with_config(data_dir).await?.0)
}

/// The store and the configuration it was opened with.
async fn open_with_config(data_dir: &Path) -> Result<(Store, Config), Error> {
    let env = std::env::vars()
        .filter(|(name, _)| name != "TONGXIN_DATA_DIR")
        .chain([(
            "TONGXIN_DATA_DIR".to_owned(),
            data_dir.display().to_string(),
        )]);
    let config = Config::load(None, env)?;
    let store = tongxin::server::open_store(&config).await?;
    Ok((store, config))
}

/// Wall time and peak resident memory of a finished child process.
struct Run {
    wall: Duration,
    peak_rss_kib: u64,
}

/// Runs `command`, sampling its peak resident set (VmHWM) until it exits.
fn measure(command: &mut Command) -> Result<Run, Error> {
    let started = Instant::now();
    let mut child = command.stdout(Stdio::null()).spawn()?;
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    loop {
        if let Ok(status) = std::fs::read_to_string(&status_file) {
            let hwm = status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                .unwrap_or(0);
            peak = peak.max(hwm);
        }
        if let Some(status) = child.try_wait()? {
            if !status.success() {
                return Err(format!("{command:?} failed: {status}").into());
            }
            return Ok(Run {
                wall: started.elapsed(),
                peak_rss_kib: peak,
            });
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

async fn import(rows: usize, work: &Path, tongxin: &Path, sqlite3: &Path) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    if work.exists() {
        std::fs::remove_dir_all(work)?;
    }
    std::fs::create_dir_all(work)?;
    let data_dir = work.join("data");
    let status = Command::new(tongxin)
        .args(["demo", "--people", "0"])
        .env("TONGXIN_DATA_DIR", &data_dir)
        .stdout(Stdio::null())
        .status()?;
    if !status.success() {
        return Err("tongxin demo --people 0 failed".into());
    }
    let csv = work.join("people.csv");
    let store = open(&data_dir).await?;
    let population = Population::of(&store).await?;
    write_csv(&csv, rows, &population)?;
    drop(store);
    let size = std::fs::metadata(&csv)?.len();
    writeln!(out, "file: {rows} rows, {:.1} MB", size as f64 / 1e6)?;

    // The fair baseline starts from the same database: Tongxin's tables, indexes and the demo
    // city, no people yet.
    let database = data_dir.join("tongxin.db");
    let fair_db = work.join("fair.db");
    copy_database(&database, &fair_db)?;

    let ours = measure(
        Command::new(tongxin)
            .args(["import", "people"])
            .arg(&csv)
            .env("TONGXIN_DATA_DIR", &data_dir)
            .env("TONGXIN_MAX_IMPORT_BYTES", (size + 1_000_000).to_string()),
    )?;

    // What the import wrote, as the shell's own INSERT statements: sealed fields, blind
    // indexes, pinyin keys, bigrams, memberships, history and the kept counts, all computed.
    let rows_sql = work.join("imported-rows.sql");
    let mut dump = format!(".output {}\n", rows_sql.display());
    for table in IMPORTED_TABLES {
        dump.push_str(&format!(".mode insert {table}\nSELECT * FROM {table};\n"));
    }
    run_shell(sqlite3, &database, &dump)?;
    let fair_script = format!(
        "PRAGMA foreign_keys = ON;\nBEGIN;\nDELETE FROM people_counts;\n.read {}\nCOMMIT;\n",
        rows_sql.display()
    );
    let started = Instant::now();
    run_shell(sqlite3, &fair_db, &fair_script)?;
    let fair = started.elapsed();

    let bare_db = work.join("bare.db");
    let started = Instant::now();
    run_shell(
        sqlite3,
        &bare_db,
        &format!(".mode csv\n.import {} people\n", csv.display()),
    )?;
    let bare = started.elapsed();

    let rate = |d: Duration| rows as f64 / d.as_secs_f64();
    let share = |d: Duration| 100.0 * d.as_secs_f64() / ours.wall.as_secs_f64();
    writeln!(
        out,
        "tongxin import people:            {:.1} s, {:.0} rows/s, peak RSS {:.0} MB",
        ours.wall.as_secs_f64(),
        rate(ours.wall),
        ours.peak_rss_kib as f64 / 1024.0
    )?;
    writeln!(
        out,
        "sqlite3, same rows into Tongxin's tables: {:.1} s, {:.0} rows/s -> tongxin at {:.1}%",
        fair.as_secs_f64(),
        rate(fair),
        share(fair)
    )?;
    writeln!(
        out,
        "sqlite3 .import into a bare table: {:.1} s, {:.0} rows/s -> tongxin at {:.1}%",
        bare.as_secs_f64(),
        rate(bare),
        share(bare)
    )?;
    Ok(())
}

/// The tables `tongxin import people` writes rows into (campaign counters and the audit entry
/// aside, which are a few rows).
const IMPORTED_TABLES: [&str; 6] = [
    "people",
    "person_sectors",
    "person_tags",
    "name_grams",
    "person_history",
    "people_counts",
];

/// Copies a closed SQLite database with its write-ahead log, if one was left.
fn copy_database(from: &Path, to: &Path) -> Result<(), Error> {
    std::fs::copy(from, to)?;
    let wal = |p: &Path| PathBuf::from(format!("{}-wal", p.display()));
    if wal(from).exists() {
        std::fs::copy(wal(from), wal(to))?;
    }
    Ok(())
}

/// Runs the `sqlite3` shell on `database` with `script` on its standard input.
fn run_shell(sqlite3: &Path, database: &Path, script: &str) -> Result<(), Error> {
    let mut shell = Command::new(sqlite3)
        .arg("-bail")
        .arg(database)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()?;
    shell
        .stdin
        .take()
        .ok_or("no stdin")?
        .write_all(script.as_bytes())?;
    if !shell.wait()?.success() {
        return Err(format!("sqlite3 failed on {}", database.display()).into());
    }
    Ok(())
}

/// A directory file of `rows` people over the demo city: the common columns and, for each
/// sector with fields of its own, one column per field.
fn write_csv(path: &Path, rows: usize, population: &Population) -> Result<(), Error> {
    let codes: HashMap<i64, &str> = population
        .units
        .iter()
        .map(|(code, id)| (*id, code.as_str()))
        .collect();
    let extra: Vec<(i64, String, String)> = population
        .sectors
        .iter()
        .flat_map(|s| {
            s.active_fields()
                .map(|f| (s.id, f.key.clone(), format!("{}·{}", s.name, f.label)))
        })
        .collect();
    let mut header: Vec<String> = [
        "姓名",
        "性别",
        "出生日期",
        "身份证号",
        "手机号",
        "单位代码",
        "界别",
        "工作单位",
        "职务",
        "政治面貌",
        "学历",
        "标签",
    ]
    .map(str::to_owned)
    .to_vec();
    header.extend(extra.iter().map(|(_, _, h)| h.clone()));
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    file.write_all(tongxin_tabular::UTF8_BOM)?;
    file.write_all(&tongxin_tabular::csv_lines(&[header]))?;
    let today = SystemClock.now().date();
    let mut maker = population.maker(1, today);
    let mut left = rows;
    while left > 0 {
        let chunk = maker.chunk(left.min(10_000));
        if chunk.is_empty() {
            break;
        }
        left -= chunk.len();
        let lines: Vec<Vec<String>> = chunk
            .iter()
            .map(|(_, p)| cells(p, &codes, population, &extra))
            .collect();
        file.write_all(&tongxin_tabular::csv_lines(&lines))?;
    }
    file.flush()?;
    Ok(())
}

fn cells(
    p: &PersonInput,
    codes: &HashMap<i64, &str>,
    population: &Population,
    extra: &[(i64, String, String)],
) -> Vec<String> {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let sector_name = |id: i64| {
        population
            .sectors
            .iter()
            .find(|s| s.id == id)
            .map(|s| s.name.clone())
            .unwrap_or_default()
    };
    let mut cells = vec![
        p.name.clone(),
        match p.gender {
            Some(Gender::Male) => "男".to_owned(),
            Some(Gender::Female) => "女".to_owned(),
            None => String::new(),
        },
        p.birth_date.map(|d| d.to_string()).unwrap_or_default(),
        p.id_number
            .as_ref()
            .map(|i| i.as_str().to_owned())
            .unwrap_or_default(),
        p.phone
            .as_ref()
            .map(|i| i.as_str().to_owned())
            .unwrap_or_default(),
        codes
            .get(&p.unit_id)
            .copied()
            .unwrap_or_default()
            .to_owned(),
        p.sectors
            .iter()
            .map(|m| sector_name(m.sector_id))
            .collect::<Vec<_>>()
            .join("、"),
        text(&p.employer),
        text(&p.title),
        text(&p.political_affiliation),
        text(&p.education),
        p.tags.join("、"),
    ];
    cells.extend(extra.iter().map(|(sector, key, _)| {
        p.sectors
            .iter()
            .find(|m| m.sector_id == *sector)
            .and_then(|m| m.values.get(key).cloned())
            .unwrap_or_default()
    }));
    cells
}

async fn search(data_dir: &Path, per_kind: usize) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    let store = open(data_dir).await?;
    let system = Actor::system("bench");
    let now = SystemClock.now();
    let counties: Vec<i64> = store
        .units(
            &system,
            &UnitQuery::default(),
            PageRequest::new(None, Some(PageRequest::MAX_PER_PAGE)),
        )
        .await?
        .items
        .into_iter()
        .filter(|u| u.level == tongxin_core::UnitLevel::County)
        .map(|u| u.id)
        .collect();
    let sectors: Vec<i64> = store
        .sectors(&system, false)
        .await?
        .into_iter()
        .map(|s| s.id)
        .collect();
    // Names to look for, from the directory itself.
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut names = Vec::new();
    for _ in 0..20 {
        let page = rng.random_range(1..=200);
        let found = store
            .search_people(
                &system,
                &PeopleQuery::default(),
                PageRequest::new(Some(page), Some(50)),
                now,
            )
            .await?;
        names.extend(found.items.into_iter().map(|p| p.name));
    }
    let hanzi: Vec<Vec<char>> = names
        .iter()
        .map(|n| n.chars().collect::<Vec<_>>())
        .filter(|c| c.len() == 3)
        .collect();
    if hanzi.is_empty() || counties.is_empty() || sectors.is_empty() {
        return Err("load a demo city with people first (tongxin demo --people N)".into());
    }
    let kinds = [
        ("2-character substring", Probe::Bigram),
        ("3-character name", Probe::Name),
        ("full pinyin", Probe::Pinyin),
        ("initials", Probe::Initials),
    ];
    writeln!(out, "| query | p50 ms | p99 ms | mean results |")?;
    writeln!(out, "|---|---|---|---|")?;
    for (label, probe) in kinds {
        let mut times = Vec::with_capacity(per_kind);
        let mut results = 0u64;
        for _ in 0..per_kind {
            let name = hanzi.choose(&mut rng).ok_or("no names")?;
            let query = PeopleQuery {
                q: Some(probe.text(name)),
                unit_id: counties.choose(&mut rng).copied(),
                sector_id: sectors.choose(&mut rng).copied(),
                status: PersonStatus::Active,
                ..PeopleQuery::default()
            };
            let started = Instant::now();
            let page = store
                .search_people(&system, &query, PageRequest::new(None, Some(20)), now)
                .await?;
            times.push(started.elapsed());
            results += page.total.count;
        }
        times.sort();
        let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
        writeln!(
            out,
            "| {label}, county + sector | {:.1} | {:.1} | {:.0} |",
            at(0.5).as_secs_f64() * 1e3,
            at(0.99).as_secs_f64() * 1e3,
            results as f64 / per_kind as f64
        )?;
    }
    Ok(())
}

/// What a benchmark query looks for, made from a three-character name.
#[derive(Clone, Copy)]
enum Probe {
    /// The last two characters (the given name).
    Bigram,
    Name,
    Pinyin,
    Initials,
}

impl Probe {
    fn text(self, name: &[char]) -> String {
        let whole: String = name.iter().collect();
        match self {
            Probe::Bigram => name[1..].iter().collect(),
            Probe::Name => whole,
            Probe::Pinyin => tongxin_text::pinyin_keys(&whole).full,
            Probe::Initials => tongxin_text::pinyin_keys(&whole).initials,
        }
    }
}
