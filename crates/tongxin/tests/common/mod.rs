//! Test harness: the real server on a random loopback port, against a fresh SQLite file or a
//! fresh PostgreSQL schema, spoken to over HTTP.
//!
//! Every scenario runs on both engines (see [`engine_tests!`]). PostgreSQL runs when
//! `TONGXIN_TEST_POSTGRES_URL` is set; if it is set and the server is unreachable, the tests
//! fail rather than skip. Each test binary migrates once per engine and copies the result for
//! every test; a failed test's database is kept and named on standard error.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod activity;
pub mod receivers;
pub mod records;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tongxin::config::Config;
use tongxin_core::{ManualClock, Password, Role, Timestamp, UnitCode, UnitName, Username};
use tongxin_store::{Actor, Store, UnitSeed, UnitView};

/// The password of every fixture account.
pub const PASSWORD: &str = "correct horse battery";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// Runs each named scenario (an `async fn(Engine)` in scope) as one test per engine.
#[macro_export]
macro_rules! engine_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::Engine::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if $crate::common::postgres_url().is_none() {
                        eprintln!("skipped: TONGXIN_TEST_POSTGRES_URL is not set");
                        return;
                    }
                    super::$name($crate::common::Engine::Postgres).await;
                }
            )*
        }
    };
}

pub fn postgres_url() -> Option<String> {
    std::env::var("TONGXIN_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

fn random_suffix() -> String {
    tongxin_store::random_hex()[..16].to_owned()
}

/// Where one test's database lives. Removed by [`TestApp::finish`]; kept, and named on
/// standard error, when the test fails, so it can be inspected.
pub enum Database {
    Sqlite {
        dir: PathBuf,
    },
    /// A schema of its own on the test server, restored from the template's dump; `dir` holds
    /// the key file.
    Postgres {
        url: String,
        schema: String,
        dir: PathBuf,
    },
}

/// What a test's database holds when the test starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// Migrated, with no units.
    Empty,
    /// Migrated, with the fixture tree and accounts of [`TestApp::with_fixture`].
    Fixture,
}

type Template = tokio::sync::OnceCell<String>;

/// Each test binary migrates (and seeds the fixture) once per engine and start; every test
/// copies the result: an SQLite file, or the dump of a PostgreSQL schema (`pg_dump`), which
/// restores in one transaction much faster than migrating.
static TEMPLATES: [[Template; 2]; 2] = [
    [Template::const_new(), Template::const_new()],
    [Template::const_new(), Template::const_new()],
];

async fn template(engine: Engine, start: Start) -> &'static str {
    TEMPLATES[engine as usize][start as usize]
        .get_or_init(|| async move {
            match engine {
                Engine::Sqlite => sqlite_template(start).await,
                Engine::Postgres => postgres_template(start).await,
            }
        })
        .await
}

impl Database {
    /// A database of its own for one test, holding what `start` says.
    pub async fn fresh(engine: Engine, start: Start) -> Database {
        let suffix = random_suffix();
        let dir = std::env::temp_dir().join(format!("tongxin-test-{suffix}"));
        std::fs::create_dir_all(&dir).unwrap();
        install_test_key(&dir);
        match engine {
            Engine::Sqlite => {
                std::fs::copy(template(engine, start).await, dir.join("tongxin.db")).unwrap();
                Database::Sqlite { dir }
            }
            Engine::Postgres => {
                let schema = format!("t_{suffix}");
                let dump = template(engine, start).await;
                let restore = dump.replace(TEMPLATE_SCHEMA_MARK, &schema);
                let mut connection = admin_connection().await;
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("BEGIN;\n{restore}\nCOMMIT;")))
                    .execute(&mut connection)
                    .await
                    .unwrap_or_else(|e| panic!("restoring the template into {schema}: {e}"));
                let _ = sqlx::Connection::close(connection).await;
                Database::Postgres {
                    url: test_server_url(),
                    schema,
                    dir,
                }
            }
        }
    }

    /// A place for a database that holds nothing yet (no file, no schema), with the tests'
    /// key file: where a restore goes.
    pub fn empty(engine: Engine) -> Database {
        let suffix = random_suffix();
        let dir = std::env::temp_dir().join(format!("tongxin-empty-{suffix}"));
        install_test_key(&dir);
        match engine {
            Engine::Sqlite => Database::Sqlite { dir },
            Engine::Postgres => Database::Postgres {
                url: test_server_url(),
                schema: format!("e_{suffix}"),
                dir,
            },
        }
    }

    /// The environment `tongxin` reads to reach this database.
    pub fn env(&self) -> Vec<(String, String)> {
        match self {
            Database::Sqlite { dir } => vec![
                ("TONGXIN_DATA_DIR".into(), dir.display().to_string()),
                (
                    "TONGXIN_DATABASE_URL".into(),
                    format!("sqlite://{}", dir.join("tongxin.db").display()),
                ),
            ],
            Database::Postgres { url, schema, dir } => vec![
                ("TONGXIN_DATA_DIR".into(), dir.display().to_string()),
                ("TONGXIN_DATABASE_URL".into(), url.clone()),
                ("TONGXIN_DATABASE_SCHEMA".into(), schema.clone()),
            ],
        }
    }

    /// The server's configuration. Administrators log in with a password alone unless `extra`
    /// asks for `TONGXIN_ADMIN_TOTP=required` (the two-factor tests do).
    pub fn config(&self, extra: &[(&str, &str)]) -> Config {
        // Jobs are looked for often: a test waits for them by polling their outcome.
        let relaxed = [
            ("TONGXIN_ADMIN_TOTP".to_owned(), "optional".to_owned()),
            ("TONGXIN_JOB_POLL_MS".to_owned(), "20".to_owned()),
        ];
        let extra = extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()));
        Config::load(None, self.env().into_iter().chain(relaxed).chain(extra)).unwrap()
    }

    /// A raw connection, for tests that play the part of someone tampering with the database.
    pub async fn raw(&self) -> RawDb {
        match self {
            Database::Sqlite { dir } => {
                let url = format!("sqlite://{}", dir.join("tongxin.db").display());
                RawDb::Sqlite(sqlx::SqlitePool::connect(&url).await.unwrap())
            }
            Database::Postgres { url, schema, .. } => {
                let options: sqlx::postgres::PgConnectOptions = url.parse().unwrap();
                let options = options.options([("search_path", schema.as_str())]);
                RawDb::Postgres(sqlx::PgPool::connect_with(options).await.unwrap())
            }
        }
    }

    /// Where this database is (a file, or a server and schema).
    fn location(&self) -> String {
        match self {
            Database::Sqlite { dir } => dir.join("tongxin.db").display().to_string(),
            Database::Postgres { url, schema, dir } => {
                format!("{url}, schema {schema} (key file in {})", dir.display())
            }
        }
    }

    /// Removes the database (and its directory).
    pub async fn remove(&self) {
        match self {
            Database::Sqlite { dir } => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Database::Postgres { schema, dir, .. } => {
                let _ = std::fs::remove_dir_all(dir);
                let mut connection = admin_connection().await;
                let drop = format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
                let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(drop))
                    .execute(&mut connection)
                    .await;
                let _ = sqlx::Connection::close(connection).await;
            }
        }
    }
}

/// Migrates `db` and, for [`Start::Fixture`], seeds the fixture.
async fn build_template(db: &Database, start: Start) {
    let store = tongxin::server::open_store(&db.config(&[])).await.unwrap();
    if start == Start::Fixture {
        seed_fixture(&store).await;
    }
    // Closing the last connection folds SQLite's write-ahead log into the file, and leaves a
    // PostgreSQL schema free to dump.
    store.close().await.unwrap();
}

/// A directory for a template database, holding the tests' key file.
fn template_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tongxin-template-{}", random_suffix()));
    install_test_key(&dir);
    dir
}

/// The master key every test database is sealed and keyed under, where the server looks for
/// it (`keys/master.key` in the data directory), readable by its owner alone: a test database
/// is a copy of a template, so it needs the template's key.
pub fn install_test_key(dir: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    let keys = dir.join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o700)).unwrap();
    let file = keys.join("master.key");
    std::fs::write(&file, format!("{}\n", "7e".repeat(32))).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// Migrates (and seeds) an SQLite file once; tests copy it.
async fn sqlite_template(start: Start) -> String {
    let dir = template_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let db = Database::Sqlite { dir };
    build_template(&db, start).await;
    db.location()
}

/// The name the template schema has in its dump; each test's schema replaces it.
const TEMPLATE_SCHEMA_MARK: &str = "tongxin_test_template_schema";

/// Migrates (and seeds) a PostgreSQL schema once per test binary and returns its dump (made by
/// the server's `pg_dump`, with rows as `INSERT`s), the schema named [`TEMPLATE_SCHEMA_MARK`].
async fn postgres_template(start: Start) -> String {
    let schema = format!("tpl_{}", random_suffix());
    let db = Database::Postgres {
        url: test_server_url(),
        schema: schema.clone(),
        dir: template_dir(),
    };
    build_template(&db, start).await;
    let output = std::process::Command::new("pg_dump")
        .args([
            "--schema",
            &schema,
            "--inserts",
            "--no-owner",
            "--no-privileges",
        ])
        .arg(postgres_url().expect("TONGXIN_TEST_POSTGRES_URL"))
        .output()
        .unwrap_or_else(|e| panic!("pg_dump (PostgreSQL's client tools) is needed: {e}"));
    assert!(
        output.status.success(),
        "pg_dump failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    db.remove().await;
    // psql's meta-commands (`\restrict`) are not SQL.
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .filter(|line| !line.starts_with('\\'))
        .collect::<Vec<_>>()
        .join("\n")
        .replace(&schema, TEMPLATE_SCHEMA_MARK)
}

/// The fixture tree and one account per role (see [`TestApp::with_fixture`]).
async fn seed_fixture(store: &Store) {
    let tree = seed(
        "150100",
        "呼和浩特市",
        vec![
            seed(
                "150102",
                "新城区",
                vec![
                    seed(
                        "150102001",
                        "海拉尔东路街道",
                        vec![
                            seed("150102001001", "光明社区", vec![]),
                            seed("150102001002", "团结社区", vec![]),
                        ],
                    ),
                    seed(
                        "150102100",
                        "保合少镇",
                        vec![seed("150102100200", "东风村", vec![])],
                    ),
                ],
            ),
            seed(
                "150105",
                "赛罕区",
                vec![
                    seed(
                        "150105001",
                        "敕勒川路街道",
                        vec![seed("150105001001", "金桥社区", vec![])],
                    ),
                    seed("150105002", "大学西路街道", vec![]),
                ],
            ),
        ],
    );
    store
        .create_tree(&Actor::system("test"), START, &tree)
        .await
        .unwrap();
    for (name, unit, role) in [
        ("admin", "150100", Role::Admin),
        ("xincheng", "150102", Role::Admin),
        ("xincheng.member", "150102001001", Role::Member),
        ("saihan", "150105", Role::Admin),
        ("saihan.staff", "150105", Role::Staff),
        ("saihan.leader", "150105", Role::Leader),
        ("security", "150100", Role::Security),
        ("auditor", "150100", Role::Auditor),
        ("saihan.auditor", "150105", Role::Auditor),
    ] {
        store
            .add_user_as_system(
                START,
                unit,
                Username::parse(name).unwrap(),
                role,
                Password::parse(PASSWORD).unwrap(),
            )
            .await
            .unwrap();
    }
}

/// The test server's URL, with commits that do not wait for the disk: nothing a test writes
/// outlives it.
fn test_server_url() -> String {
    let url = postgres_url().expect("TONGXIN_TEST_POSTGRES_URL");
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}options=-c%20synchronous_commit%3Doff")
}

/// One connection to the test server, for creating and dropping schemas.
async fn admin_connection() -> sqlx::PgConnection {
    <sqlx::PgConnection as sqlx::Connection>::connect(&test_server_url())
        .await
        .unwrap()
}

/// A direct connection that bypasses Tongxin entirely.
/// The fields of an audit row that its hash covers, but the previous hash.
pub type AuditRow = (
    i64,
    i64,
    Option<i64>,
    String,
    String,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
);

pub enum RawDb {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl RawDb {
    pub async fn execute(&self, sql: &str) -> u64 {
        match self {
            RawDb::Sqlite(pool) => sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
                .execute(pool)
                .await
                .unwrap()
                .rows_affected(),
            RawDb::Postgres(pool) => sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
                .execute(pool)
                .await
                .unwrap()
                .rows_affected(),
        }
    }

    /// Every audit row's hashed fields, in order: what a forger with the database reads.
    pub async fn audit_rows(&self) -> Vec<AuditRow> {
        let sql = "SELECT seq, at, actor_id, actor_name, action, target_kind, target_id, \
                   target_label, unit_path, ip, detail FROM audit_log ORDER BY seq";
        match self {
            RawDb::Sqlite(pool) => sqlx::query_as(sql).fetch_all(pool).await.unwrap(),
            RawDb::Postgres(pool) => sqlx::query_as(sql).fetch_all(pool).await.unwrap(),
        }
    }

    /// The first column of every row, as text.
    pub async fn strings(&self, sql: &str) -> Vec<String> {
        match self {
            RawDb::Sqlite(pool) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
                .fetch_all(pool)
                .await
                .unwrap(),
            RawDb::Postgres(pool) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
                .fetch_all(pool)
                .await
                .unwrap(),
        }
    }

    pub async fn text(&self, sql: &str) -> String {
        match self {
            RawDb::Sqlite(pool) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
                .fetch_one(pool)
                .await
                .unwrap(),
            RawDb::Postgres(pool) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
                .fetch_one(pool)
                .await
                .unwrap(),
        }
    }

    pub async fn count(&self, sql: &str) -> i64 {
        match self {
            RawDb::Sqlite(pool) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
                .fetch_one(pool)
                .await
                .unwrap(),
            RawDb::Postgres(pool) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
                .fetch_one(pool)
                .await
                .unwrap(),
        }
    }
}

/// Asks `probe` again and again, a few milliseconds apart, until it answers; fails the test
/// naming `what` after 30 seconds. For work that happens beside the request (jobs).
pub async fn poll<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        if let Some(answer) = probe().await {
            return answer;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "gave up waiting: {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

/// A job runner of a test's own beside its server, as `tongxin worker` is; stops when dropped.
pub struct Worker {
    stop: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<()>>,
}

impl Worker {
    /// Stops the runner and waits until it has retired.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(handle) = self.handle.take() {
            handle.await.unwrap();
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A running server and what the test needs to drive it.
pub struct TestApp {
    pub addr: SocketAddr,
    pub clock: Arc<ManualClock>,
    pub store: Store,
    pub db: Database,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
    /// Set by [`TestApp::finish`]; a test that ends without it failed.
    finished: bool,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if !self.finished && std::thread::panicking() {
            eprintln!("test database kept: {}", self.db.location());
        }
    }
}

/// 2026-11-30 08:00 UTC: tests start at a fixed instant and move the clock by hand.
pub const START: Timestamp = Timestamp::from_micros(1_796_025_600_000_000);

impl TestApp {
    /// A server on an empty, migrated database.
    pub async fn empty(engine: Engine) -> TestApp {
        TestApp::empty_with(engine, &[]).await
    }

    /// A server on an empty database, with extra `TONGXIN_*` settings.
    pub async fn empty_with(engine: Engine, settings: &[(&str, &str)]) -> TestApp {
        TestApp::start(engine, Start::Empty, settings).await
    }

    /// A server on a database holding what `start` says, with extra `TONGXIN_*` settings.
    async fn start(engine: Engine, start: Start, settings: &[(&str, &str)]) -> TestApp {
        tongxin_jobs::outbound::use_ring_for_tls();
        let db = Database::fresh(engine, start).await;
        let config = db.config(settings);
        let store = tongxin::server::open_store(&config).await.unwrap();
        let clock = Arc::new(ManualClock::new(START));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (shutdown, signal) = oneshot::channel::<()>();
        let server_store = store.clone();
        let server_clock: Arc<dyn tongxin_core::Clock> = clock.clone();
        let server = tokio::spawn(async move {
            tongxin::server::serve(listener, server_store, server_clock, &config, async {
                let _ = signal.await;
            })
            .await
            .unwrap();
        });
        TestApp {
            addr,
            clock,
            store,
            db,
            shutdown: Some(shutdown),
            server: Some(server),
            finished: false,
        }
    }

    /// Starts a job runner of its own on this test's database and clock, with extra
    /// `TONGXIN_*` settings.
    pub fn worker(&self, settings: &[(&str, &str)]) -> Worker {
        let config = self.db.config(settings);
        let clock: Arc<dyn tongxin_core::Clock> = self.clock.clone();
        let catalog = Arc::new(tongxin_i18n::Catalog::load().unwrap());
        let outbound =
            Arc::new(tongxin_jobs::outbound::Outbound::new(config.outbound.clone()).unwrap());
        let runner = tongxin::server::job_runner(&self.store, &clock, &catalog, &outbound, &config);
        let (stop, stopped) = oneshot::channel::<()>();
        let handle = tokio::spawn(runner.run(async {
            let _ = stopped.await;
        }));
        Worker {
            stop: Some(stop),
            handle: Some(handle),
        }
    }

    /// A server with the small fixture tree and one account per role:
    ///
    /// ```text
    /// 150100 呼和浩特市                      admin (admin)
    /// ├── 150102 新城区                      xincheng (admin), xincheng.member (member, 光明社区)
    /// │   ├── 150102001 海拉尔东路街道
    /// │   │   ├── 150102001001 光明社区
    /// │   │   └── 150102001002 团结社区
    /// │   └── 150102100 保合少镇
    /// │       └── 150102100200 东风村
    /// └── 150105 赛罕区                      saihan (admin), saihan.staff (staff), saihan.leader
    ///     ├── 150105001 敕勒川路街道
    ///     │   └── 150105001001 金桥社区
    ///     └── 150105002 大学西路街道
    /// ```
    pub async fn with_fixture(engine: Engine) -> TestApp {
        TestApp::with_fixture_and(engine, &[]).await
    }

    /// The fixture, with extra `TONGXIN_*` settings.
    pub async fn with_fixture_and(engine: Engine, settings: &[(&str, &str)]) -> TestApp {
        TestApp::start(engine, Start::Fixture, settings).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A unit by code, read directly from the store (for ids in URLs).
    pub async fn unit(&self, code: &str) -> UnitView {
        self.store
            .unit_by_code(&Actor::system("test"), code)
            .await
            .unwrap()
    }

    /// A browser with a cookie jar that does not follow redirects.
    pub fn browser(&self) -> Browser {
        Browser {
            client: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: self.url(""),
        }
    }

    /// A browser logged in as `username`.
    pub async fn login(&self, username: &str) -> Browser {
        let browser = self.browser();
        let response = browser.login(username, PASSWORD).await;
        assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
        browser
    }

    /// Asks for an API token with these credentials.
    pub async fn api_login(&self, credentials: &Value) -> Reply {
        let api = Api {
            client: reqwest::Client::new(),
            base: self.url("/api/v1"),
            token: String::new(),
        };
        api.post_json("/auth/token", credentials).await
    }

    /// An API client holding a bearer token for `username`.
    pub async fn api(&self, username: &str) -> Api {
        let api = Api {
            client: reqwest::Client::new(),
            base: self.url("/api/v1"),
            token: String::new(),
        };
        let response = api
            .post_json(
                "/auth/token",
                &serde_json::json!({ "username": username, "password": PASSWORD }),
            )
            .await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
        Api {
            token: response.json()["token"].as_str().unwrap().to_owned(),
            ..api
        }
    }

    /// Stops the server (waiting for it to finish) and removes the database.
    pub async fn finish(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.unwrap();
        }
        self.store.clone().close().await.unwrap();
        self.db.remove().await;
        self.finished = true;
    }

    /// Signals shutdown without waiting; returns the server task to await.
    pub fn begin_shutdown(&mut self) -> JoinHandle<()> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        self.server.take().unwrap()
    }
}

/// A valid ID number from its first 17 digits.
pub fn id_number(first17: &str) -> String {
    format!(
        "{first17}{}",
        tongxin_core::id_check_character(first17).unwrap()
    )
}

pub fn seed(code: &str, name: &str, children: Vec<UnitSeed>) -> UnitSeed {
    UnitSeed {
        code: UnitCode::parse(code).unwrap(),
        name: UnitName::parse(name).unwrap(),
        children,
    }
}

/// A response read to the end.
pub struct Reply {
    pub status: StatusCode,
    pub location: Option<String>,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Reply {
    async fn read(response: reqwest::Response) -> Reply {
        let status = response.status();
        let headers = response.headers().clone();
        let location = headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Reply {
            status,
            location,
            headers,
            body: response.text().await.unwrap(),
        }
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// The `{"error":{"code"}}` of a JSON error.
    pub fn error_code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    }

    pub fn error_message(&self) -> String {
        self.json()["error"]["message"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    }

    /// The value of the first `_csrf` hidden field on the page.
    pub fn csrf(&self) -> String {
        let marker = "name=\"_csrf\" value=\"";
        let start = self
            .body
            .find(marker)
            .unwrap_or_else(|| panic!("no CSRF field in: {}", self.body))
            + marker.len();
        self.body[start..].split('"').next().unwrap().to_owned()
    }
}

/// A user's browser: cookies kept, redirects reported rather than followed.
pub struct Browser {
    client: reqwest::Client,
    base: String,
}

impl Browser {
    pub async fn get(&self, path: &str) -> Reply {
        Reply::read(
            self.client
                .get(format!("{}{path}", self.base))
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// Posts a form exactly as given (no CSRF token added).
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> Reply {
        Reply::read(
            self.client
                .post(format!("{}{path}", self.base))
                .form(fields)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// Posts a form the way the page at `from` would, with its CSRF token.
    pub async fn submit(&self, from: &str, action: &str, fields: &[(&str, &str)]) -> Reply {
        let page = self.get(from).await;
        assert_eq!(page.status, StatusCode::OK, "GET {from}: {}", page.body);
        let token = page.csrf();
        let mut all = vec![("_csrf", token.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(action, &all).await
    }

    /// Uploads a file through a multipart form, the way the page at `from` would.
    pub async fn upload(
        &self,
        from: &str,
        action: &str,
        file_name: &str,
        bytes: Vec<u8>,
        fields: &[(&str, &str)],
    ) -> Reply {
        let token = self.get(from).await.csrf();
        self.upload_with_token(action, &token, file_name, bytes, fields)
            .await
    }

    /// Uploads a file with the given CSRF token.
    pub async fn upload_with_token(
        &self,
        action: &str,
        token: &str,
        file_name: &str,
        bytes: Vec<u8>,
        fields: &[(&str, &str)],
    ) -> Reply {
        let mut form = reqwest::multipart::Form::new().text("_csrf", token.to_owned());
        for (name, value) in fields {
            form = form.text(name.to_string(), value.to_string());
        }
        form = form.part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name(file_name.to_owned()),
        );
        Reply::read(
            self.client
                .post(format!("{}{action}", self.base))
                .multipart(form)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    pub async fn login(&self, username: &str, password: &str) -> Reply {
        self.submit(
            "/login",
            "/login",
            &[("username", username), ("password", password)],
        )
        .await
    }
}

/// An API client with a bearer token.
#[derive(Clone)]
pub struct Api {
    client: reqwest::Client,
    base: String,
    pub token: String,
}

impl Api {
    fn auth(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        if self.token.is_empty() {
            request
        } else {
            request.bearer_auth(&self.token)
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        let request = self.auth(self.client.get(format!("{}{path}", self.base)));
        Reply::read(request.send().await.unwrap()).await
    }

    /// A download: status, content type and the body's bytes.
    pub async fn get_bytes(&self, path: &str) -> (StatusCode, String, Vec<u8>) {
        let request = self.auth(self.client.get(format!("{}{path}", self.base)));
        Self::download(request).await
    }

    /// A download asked for by a POST with an empty JSON body (an audited export).
    pub async fn post_for_bytes(&self, path: &str) -> (StatusCode, String, Vec<u8>) {
        let request = self.auth(
            self.client
                .post(format!("{}{path}", self.base))
                .json(&serde_json::json!({})),
        );
        Self::download(request).await
    }

    async fn download(request: reqwest::RequestBuilder) -> (StatusCode, String, Vec<u8>) {
        let response = request.send().await.unwrap();
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        (
            status,
            content_type,
            response.bytes().await.unwrap().to_vec(),
        )
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Reply {
        let request = self.auth(self.client.post(format!("{}{path}", self.base)).json(body));
        Reply::read(request.send().await.unwrap()).await
    }

    pub async fn patch_json(&self, path: &str, body: &Value) -> Reply {
        let request = self.auth(self.client.patch(format!("{}{path}", self.base)).json(body));
        Reply::read(request.send().await.unwrap()).await
    }

    pub async fn put_json(&self, path: &str, body: &Value) -> Reply {
        let request = self.auth(self.client.put(format!("{}{path}", self.base)).json(body));
        Reply::read(request.send().await.unwrap()).await
    }

    pub async fn post_bytes(&self, path: &str, body: Vec<u8>) -> Reply {
        let request = self.auth(
            self.client
                .post(format!("{}{path}", self.base))
                .header("content-type", "application/json")
                .body(body),
        );
        Reply::read(request.send().await.unwrap()).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        let request = self.auth(self.client.delete(format!("{}{path}", self.base)));
        Reply::read(request.send().await.unwrap()).await
    }
}

/// Percent-encodes a query value.
pub fn encode(value: &str) -> String {
    serde_urlencoded::to_string([("", value)])
        .map(|s| s.trim_start_matches('=').to_owned())
        .unwrap()
}

/// Asserts that a page's error summary links to the given fields' messages in this order.
pub fn assert_summary_order(page: &str, fields: &[&str]) {
    let summary = page.split("error-summary").nth(1).unwrap_or_default();
    let at: Vec<usize> = fields
        .iter()
        .map(|field| {
            summary
                .find(&format!("href=\"#{field}-error\""))
                .unwrap_or_else(|| panic!("no link to {field}: {summary}"))
        })
        .collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{fields:?}: {summary}");
}
