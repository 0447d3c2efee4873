//! `http`: the pages people spend their time on, over HTTP, against nginx in the same run.
//!
//! Builds (once) a demo database of N people with the coverage benchmark's activity volume,
//! starts the real `tongxin serve` on it, signs in a city administrator and a village's staff,
//! and drives each page and its JSON equivalent with `wrk` at each client count. In the same run
//! nginx serves the directory page's bytes as a static file: the ceiling a page is compared to.
//! For each run it reports requests per second, p50 and p99 latency, errors, and the server's
//! anonymous and file-backed resident memory (the largest seen while the load ran).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reqwest::cookie::CookieStore;
use serde_json::{Value, json};

use crate::Error;

/// What to measure and with what.
pub struct Settings {
    pub work: PathBuf,
    pub people: usize,
    pub activities: i64,
    pub attendance: i64,
    pub seconds: u32,
    pub clients: Vec<u32>,
    pub tongxin: PathBuf,
    pub wrk: PathBuf,
    pub nginx: PathBuf,
    /// Drive only the pages whose name contains this.
    pub only: Option<String>,
}

/// The server's port, and nginx's.
const SERVER_PORT: u16 = 18_480;
const NGINX_PORT: u16 = 18_481;

/// The village staff account the benchmark adds.
const VILLAGE_STAFF: &str = "bench.village";
const VILLAGE_PASSWORD: &str = "bench-village-2026";

/// One page to drive: who asks, and where.
struct Target {
    name: String,
    path: String,
    /// The `Cookie` or `Authorization` header wrk sends.
    header: String,
}

/// One run of wrk, as read from its report.
struct Measured {
    requests_per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: u64,
    rss_anon_mb: f64,
    rss_file_mb: f64,
}

pub async fn http(settings: Settings) -> Result<(), Error> {
    let data_dir = settings.work.join("data");
    let password_file = settings.work.join("admin-password");
    if !password_file.exists() {
        build(&settings, &data_dir, &password_file).await?;
    }
    let admin_password = std::fs::read_to_string(&password_file)?.trim().to_owned();
    let mut server = Command::new(&settings.tongxin)
        .args(["serve", "--listen", &format!("127.0.0.1:{SERVER_PORT}")])
        .env("TONGXIN_DATA_DIR", &data_dir)
        // The benchmark logs the administrator in with the password alone.
        .env("TONGXIN_ADMIN_TOTP", "optional")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()?;
    let outcome = drive(&settings, &admin_password, &server).await;
    let _ = server.kill();
    let _ = server.wait();
    outcome
}

/// Loads the demo city and the activity volume, and keeps the administrator's password.
async fn build(settings: &Settings, data_dir: &Path, password_file: &Path) -> Result<(), Error> {
    if settings.work.exists() {
        std::fs::remove_dir_all(&settings.work)?;
    }
    std::fs::create_dir_all(&settings.work)?;
    let started = Instant::now();
    let output = Command::new(&settings.tongxin)
        .args(["demo", "--people", &settings.people.to_string()])
        .env("TONGXIN_DATA_DIR", data_dir)
        .output()?;
    if !output.status.success() {
        return Err(format!(
            "tongxin demo failed: {}",
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    let printed = String::from_utf8_lossy(&output.stdout);
    let password = printed
        .lines()
        .find_map(|line| line.trim().strip_prefix("password:"))
        .map(str::trim)
        .ok_or("tongxin demo printed no password")?;
    eprintln!(
        "loaded {} people in {:.0} s",
        settings.people,
        started.elapsed().as_secs_f64()
    );
    let (store, config) = crate::open_with_config(data_dir).await?;
    crate::coverage::fill_volume(
        &store,
        &config.database_url,
        config.database_schema.as_deref(),
        settings.activities,
        settings.attendance,
    )
    .await?;
    store.close().await?;
    std::fs::write(password_file, password)?;
    Ok(())
}

async fn drive(settings: &Settings, admin_password: &str, server: &Child) -> Result<(), Error> {
    let base = format!("http://127.0.0.1:{SERVER_PORT}");
    wait_until_up(&format!("{base}/healthz")).await?;
    let admin = Client::sign_in(&base, "admin", admin_password).await?;
    let village = village_with_people(&admin).await?;
    let existing = admin
        .get_json(&format!("/api/v1/accounts?q={VILLAGE_STAFF}"))
        .await?;
    if existing["total"].as_u64().unwrap_or(0) == 0 {
        add_village_staff(settings, &village)?;
    }
    let staff = Client::sign_in(&base, VILLAGE_STAFF, VILLAGE_PASSWORD).await?;

    let first_page = admin.get_json("/api/v1/people?per_page=50").await?;
    let person = first_page["items"][0]["id"].as_i64().ok_or("no people")?;
    let name: String = first_page["items"][0]["name"]
        .as_str()
        .ok_or("no name")?
        .chars()
        .take(2)
        .collect();
    let campaigns = admin.get_json("/api/v1/campaigns").await?;
    let campaign = campaigns["items"][0]["id"].as_i64().ok_or("no campaign")?;
    let q = serde_urlencoded::to_string([("q", name.as_str())])?;
    let pages: Vec<(&str, String)> = vec![
        ("directory, city", "/directory".to_owned()),
        ("directory, village staff", "/directory".to_owned()),
        ("name search", format!("/directory?{q}")),
        ("pinyin search", "/directory?q=wangj".to_owned()),
        ("person", format!("/people/{person}")),
        ("activities", "/activities".to_owned()),
        // Every other order a list's header offers.
        (
            "directory sorted by unit",
            "/directory?sort=unit".to_owned(),
        ),
        (
            "directory sorted Z to A",
            "/directory?sort=-name".to_owned(),
        ),
        (
            "activities sorted earliest first",
            "/activities?sort=starts_at".to_owned(),
        ),
        ("campaign coverage", format!("/campaigns/{campaign}")),
        ("home", "/".to_owned()),
    ];
    let json_of = |path: &str| -> String {
        match path {
            "/directory" => "/api/v1/people".to_owned(),
            "/" => "/api/v1/units?per_page=50".to_owned(),
            p if p.starts_with("/directory?") => p.replacen("/directory", "/api/v1/people", 1),
            p if p.starts_with("/campaigns/") => format!("/api/v1{p}/coverage"),
            p => format!("/api/v1{p}"),
        }
    };
    let mut targets = Vec::new();
    let chosen = |name: &str| {
        settings
            .only
            .as_deref()
            .is_none_or(|only| name.contains(only))
    };
    for (name, path) in pages.iter().filter(|(name, _)| chosen(name)) {
        let who = if name.contains("village") {
            &staff
        } else {
            &admin
        };
        targets.push(Target {
            name: format!("{name} (HTML)"),
            path: path.clone(),
            header: format!("Cookie: {}", who.cookies),
        });
        targets.push(Target {
            name: format!("{name} (JSON)"),
            path: json_of(path),
            header: format!("Authorization: Bearer {}", who.token),
        });
    }
    for target in &targets {
        let status = admin.status_with(&target.path, &target.header).await?;
        if status != 200 {
            return Err(format!("{} answers {status}", target.path).into());
        }
    }

    // nginx serves the city's directory page, byte for byte.
    let static_page = admin.get_text("/directory").await?;
    let nginx = Nginx::start(&settings.nginx, &settings.work, static_page.as_bytes())?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "| page | clients | req/s | p50 | p99 | errors | RssAnon | RssFile |"
    )?;
    writeln!(out, "|---|---|---|---|---|---|---|---|")?;
    for clients in &settings.clients {
        let ceiling = wrk(
            settings,
            *clients,
            &format!("http://127.0.0.1:{NGINX_PORT}/directory.html"),
            "X-Bench: nginx",
            None,
        )?;
        report(
            &mut out,
            "nginx, the directory page as a file",
            *clients,
            &ceiling,
        )?;
        for target in &targets {
            let measured = wrk(
                settings,
                *clients,
                &format!("{base}{}", target.path),
                &target.header,
                Some(server.id()),
            )?;
            let name = if target.name.starts_with("directory, city (HTML)") {
                format!(
                    "{} — {:.0}% of nginx",
                    target.name,
                    100.0 * measured.requests_per_second / ceiling.requests_per_second
                )
            } else {
                target.name.clone()
            };
            report(&mut out, &name, *clients, &measured)?;
        }
    }
    drop(nginx);
    let (anon, file) = resident(server.id());
    writeln!(
        out,
        "\nserver memory 0 s after the last run: RssAnon {anon:.0} MB, RssFile {file:.0} MB"
    )?;
    Ok(())
}

fn report(out: &mut impl Write, name: &str, clients: u32, m: &Measured) -> Result<(), Error> {
    let memory = |mb: f64| {
        if mb > 0.0 {
            format!("{mb:.0} MB")
        } else {
            "—".to_owned()
        }
    };
    writeln!(
        out,
        "| {name} | {clients} | {:.0} | {:.1} ms | {:.1} ms | {} | {} | {} |",
        m.requests_per_second,
        m.p50_ms,
        m.p99_ms,
        m.errors,
        memory(m.rss_anon_mb),
        memory(m.rss_file_mb),
    )?;
    Ok(())
}

/// A village of the demo city that has people.
/// Adds the village staff account on the command line, where a password typed is the holder's
/// own: an account an administrator made must change its password before it gets a token.
fn add_village_staff(settings: &Settings, village: &str) -> Result<(), Error> {
    let mut child = Command::new(&settings.tongxin)
        .args([
            "user",
            "add",
            "--unit",
            village,
            "--username",
            VILLAGE_STAFF,
        ])
        .args(["--role", "staff", "--password-stdin"])
        .env("TONGXIN_DATA_DIR", settings.work.join("data"))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    if let Some(mut stdin) = child.stdin.take() {
        writeln!(stdin, "{VILLAGE_PASSWORD}")?;
    }
    let output = child.wait_with_output()?;
    if !output.status.success() {
        return Err(format!(
            "tongxin user add failed: {}",
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    Ok(())
}

async fn village_with_people(admin: &Client) -> Result<String, Error> {
    let villages = admin
        .get_json("/api/v1/units?level=village&per_page=200")
        .await?;
    for village in villages["items"].as_array().ok_or("no villages")? {
        let id = village["id"].as_i64().ok_or("no id")?;
        let people = admin
            .get_json(&format!("/api/v1/people?unit_id={id}&per_page=1"))
            .await?;
        if people["total"].as_u64().unwrap_or(0) > 0 {
            return Ok(village["code"].as_str().ok_or("no code")?.to_owned());
        }
    }
    Err("no village has people".into())
}

async fn wait_until_up(url: &str) -> Result<(), Error> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if reqwest::get(url)
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!("{url} did not answer within 60 s").into())
}

/// A signed-in user: the session cookies for pages and a token for the API.
struct Client {
    base: String,
    http: reqwest::Client,
    cookies: String,
    token: String,
}

impl Client {
    async fn sign_in(base: &str, username: &str, password: &str) -> Result<Client, Error> {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        let http = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let login = http
            .get(format!("{base}/login"))
            .send()
            .await?
            .text()
            .await?;
        let csrf = login
            .split("name=\"_csrf\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .ok_or("no CSRF field on the login page")?
            .to_owned();
        let signed_in = http
            .post(format!("{base}/login"))
            .form(&[
                ("_csrf", csrf.as_str()),
                ("username", username),
                ("password", password),
            ])
            .send()
            .await?;
        if signed_in.status() != reqwest::StatusCode::SEE_OTHER {
            return Err(format!("{username} could not sign in: {}", signed_in.status()).into());
        }
        let cookies = jar
            .cookies(&base.parse()?)
            .and_then(|header| header.to_str().ok().map(str::to_owned))
            .ok_or("no session cookie")?;
        let token: Value = http
            .post(format!("{base}/api/v1/auth/token"))
            .json(&json!({ "username": username, "password": password }))
            .send()
            .await?
            .json()
            .await?;
        Ok(Client {
            base: base.to_owned(),
            http,
            cookies,
            token: token["token"].as_str().ok_or("no token")?.to_owned(),
        })
    }

    async fn get_json(&self, path: &str) -> Result<Value, Error> {
        Ok(self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?)
    }

    async fn get_text(&self, path: &str) -> Result<String, Error> {
        Ok(self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await?
            .error_for_status()?
            .text()
            .await?)
    }

    /// The status of a GET sent with only `header` (as wrk will send it).
    async fn status_with(&self, path: &str, header: &str) -> Result<u16, Error> {
        let (name, value) = header.split_once(": ").ok_or("malformed header")?;
        let bare = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(bare
            .get(format!("{}{path}", self.base))
            .header(name, value)
            .send()
            .await?
            .status()
            .as_u16())
    }
}

/// nginx on its own port, serving one file from the working directory.
struct Nginx {
    binary: PathBuf,
    root: PathBuf,
    master: Child,
}

impl Nginx {
    fn start(nginx: &Path, work: &Path, page: &[u8]) -> Result<Nginx, Error> {
        let root = std::fs::canonicalize(work)?.join("nginx");
        std::fs::create_dir_all(root.join("html"))?;
        std::fs::write(root.join("html/directory.html"), page)?;
        let config = format!(
            "daemon off;\nworker_processes auto;\npid {root}/nginx.pid;\nerror_log {root}/error.log;\n\
             events {{ worker_connections 1024; }}\n\
             http {{\n  access_log off;\n  client_body_temp_path {root}/tmp;\n\
               server {{\n    listen 127.0.0.1:{NGINX_PORT};\n    root {root}/html;\n\
                 default_type text/html;\n  }}\n}}\n",
            root = root.display()
        );
        std::fs::write(root.join("nginx.conf"), config)?;
        let child = Command::new(nginx)
            .arg("-p")
            .arg(&root)
            .arg("-c")
            .arg(root.join("nginx.conf"))
            .stderr(Stdio::null())
            .spawn()?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", NGINX_PORT)).is_err() {
            if Instant::now() > deadline {
                return Err("nginx did not start".into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(Nginx {
            binary: nginx.to_owned(),
            root,
            master: child,
        })
    }
}

impl Drop for Nginx {
    /// Stops the master and its workers (killing the master alone would leave the workers).
    fn drop(&mut self) {
        let _ = Command::new(&self.binary)
            .arg("-p")
            .arg(&self.root)
            .arg("-c")
            .arg(self.root.join("nginx.conf"))
            .args(["-s", "stop"])
            .stderr(Stdio::null())
            .status();
        let _ = self.master.wait();
    }
}

/// `RssAnon` and `RssFile` of a process, in MB.
fn resident(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    };
    (field("RssAnon:"), field("RssFile:"))
}

/// Runs wrk against `url` and reads its report; samples the server's memory meanwhile.
fn wrk(
    settings: &Settings,
    clients: u32,
    url: &str,
    header: &str,
    server: Option<u32>,
) -> Result<Measured, Error> {
    let running = Arc::new(AtomicBool::new(true));
    let peak_anon = Arc::new(AtomicU64::new(0));
    let peak_file = Arc::new(AtomicU64::new(0));
    let sampler = server.map(|pid| {
        let (running, peak_anon, peak_file) =
            (running.clone(), peak_anon.clone(), peak_file.clone());
        std::thread::spawn(move || {
            while running.load(Ordering::Relaxed) {
                let (anon, file) = resident(pid);
                peak_anon.fetch_max((anon * 1024.0) as u64, Ordering::Relaxed);
                peak_file.fetch_max((file * 1024.0) as u64, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(200));
            }
        })
    });
    let output = Command::new(&settings.wrk)
        .args([
            "-t2",
            &format!("-c{clients}"),
            &format!("-d{}s", settings.seconds),
            "--latency",
            "--timeout",
            "10s",
            "-H",
            header,
            url,
        ])
        .output()?;
    running.store(false, Ordering::Relaxed);
    if let Some(sampler) = sampler {
        let _ = sampler.join();
    }
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        return Err(format!("wrk failed on {url}: {text}").into());
    }
    let number_after = |marker: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(marker))
            .map(str::trim)
            .map(str::to_owned)
    };
    let latency = |label: &str| -> f64 { number_after(label).map_or(f64::NAN, |v| millis(&v)) };
    let mut errors = number_after("Non-2xx or 3xx responses:")
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    if let Some(socket) = number_after("Socket errors:") {
        errors += socket
            .split(',')
            .filter_map(|part| part.split_whitespace().last()?.parse::<u64>().ok())
            .sum::<u64>();
    }
    Ok(Measured {
        requests_per_second: number_after("Requests/sec:")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0),
        p50_ms: latency("50%"),
        p99_ms: latency("99%"),
        errors,
        rss_anon_mb: peak_anon.load(Ordering::Relaxed) as f64 / 1024.0,
        rss_file_mb: peak_file.load(Ordering::Relaxed) as f64 / 1024.0,
    })
}

/// wrk's latency ("812.00us", "3.27ms", "1.02s") in milliseconds.
fn millis(text: &str) -> f64 {
    let split = text
        .find(|c: char| c.is_ascii_alphabetic())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().unwrap_or(f64::NAN);
    match unit {
        "us" => value / 1000.0,
        "ms" => value,
        "s" => value * 1000.0,
        "m" => value * 60_000.0,
        _ => f64::NAN,
    }
}
