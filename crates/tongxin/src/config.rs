//! Configuration: built-in defaults, then `tongxin.toml`, then `TONGXIN_*` environment variables
//! (the environment wins). Every bad value is reported with its key and where it came from.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use tongxin_jobs::outbound::{MailSecurity, MailSettings, OutboundSettings};

use serde::Deserialize;
use tongxin_store::{MIN_AUDIT_RETENTION_DAYS, Policy, SecondFactorRule, StoreOptions};
use tongxin_web::WebConfig;

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// The complete, validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub database_url: String,
    /// PostgreSQL schema to use instead of the default search path.
    pub database_schema: Option<String>,
    /// The master key for sensitive fields (created on first start).
    pub key_file: PathBuf,
    pub listen: SocketAddr,
    pub log_format: LogFormat,
    /// The address users reach Tongxin at; `https://…` makes cookies `Secure`.
    pub public_url: Option<String>,
    pub policy: Policy,
    pub max_body_bytes: usize,
    /// Largest import file, in bytes.
    pub max_import_bytes: usize,
    /// How long a SQLite write waits for another (a long import) before giving up.
    pub sqlite_busy_timeout_ms: u64,
    /// Connections in the database pool.
    pub database_connections: u32,
    /// Reverse proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Audit rows stay in the database this long before `tongxin audit archive` moves them.
    pub audit_retention_days: i64,
    /// Whether `serve` runs background jobs too (`false` leaves them to `tongxin worker`).
    pub run_jobs: bool,
    /// How the job runner works (poll interval, concurrency, time zone of schedules).
    pub jobs: tongxin_jobs::Settings,
    /// The mail server, and whether robots and webhooks may be inside the network.
    pub outbound: OutboundSettings,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
    #[error("{key} = {value:?} (from {origin}): {problem}")]
    Value {
        key: &'static str,
        value: String,
        origin: String,
        problem: &'static str,
    },
}

/// The keys of `tongxin.toml`; each also reads from `TONGXIN_<KEY>` in capitals.
const KEYS: [&str; 31] = [
    "data_dir",
    "database_url",
    "database_schema",
    "key_file",
    "listen",
    "log_format",
    "public_url",
    "lockout_threshold",
    "lockout_minutes",
    "session_idle_minutes",
    "session_max_hours",
    "api_token_max_days",
    "admin_totp",
    "audit_retention_days",
    "max_body_bytes",
    "max_import_bytes",
    "sqlite_busy_timeout_ms",
    "database_connections",
    "trusted_proxies",
    "run_jobs",
    "job_poll_ms",
    "job_concurrency",
    "job_runner_timeout_seconds",
    "time_zone",
    "smtp_host",
    "smtp_port",
    "smtp_security",
    "smtp_username",
    "smtp_password",
    "smtp_from",
    "allow_internal_targets",
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data_dir: Option<toml::Value>,
    database_url: Option<toml::Value>,
    database_schema: Option<toml::Value>,
    key_file: Option<toml::Value>,
    listen: Option<toml::Value>,
    log_format: Option<toml::Value>,
    public_url: Option<toml::Value>,
    lockout_threshold: Option<toml::Value>,
    lockout_minutes: Option<toml::Value>,
    session_idle_minutes: Option<toml::Value>,
    session_max_hours: Option<toml::Value>,
    api_token_max_days: Option<toml::Value>,
    admin_totp: Option<toml::Value>,
    audit_retention_days: Option<toml::Value>,
    max_body_bytes: Option<toml::Value>,
    max_import_bytes: Option<toml::Value>,
    sqlite_busy_timeout_ms: Option<toml::Value>,
    database_connections: Option<toml::Value>,
    trusted_proxies: Option<toml::Value>,
    run_jobs: Option<toml::Value>,
    job_poll_ms: Option<toml::Value>,
    job_concurrency: Option<toml::Value>,
    job_runner_timeout_seconds: Option<toml::Value>,
    time_zone: Option<toml::Value>,
    smtp_host: Option<toml::Value>,
    smtp_port: Option<toml::Value>,
    smtp_security: Option<toml::Value>,
    smtp_username: Option<toml::Value>,
    smtp_password: Option<toml::Value>,
    smtp_from: Option<toml::Value>,
    allow_internal_targets: Option<toml::Value>,
}

/// Raw settings with where each came from.
struct Layered(BTreeMap<&'static str, (String, String)>);

impl Layered {
    fn get(&self, key: &'static str) -> Option<(&str, &str)> {
        self.0.get(key).map(|(v, o)| (v.as_str(), o.as_str()))
    }

    fn parse<T: std::str::FromStr>(
        &self,
        key: &'static str,
        default: T,
        problem: &'static str,
        valid: impl Fn(&T) -> bool,
    ) -> Result<T, ConfigError> {
        let Some((value, origin)) = self.get(key) else {
            return Ok(default);
        };
        value
            .trim()
            .parse::<T>()
            .ok()
            .filter(|v| valid(v))
            .ok_or_else(|| ConfigError::Value {
                key,
                value: value.to_owned(),
                origin: origin.to_owned(),
                problem,
            })
    }
}

impl Config {
    /// Loads `file` (if given, it must exist; otherwise `./tongxin.toml` is read if present) and
    /// then the environment.
    pub fn load(
        file: Option<&Path>,
        env: impl Iterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let mut layered = Layered(BTreeMap::new());
        let default_file = Path::new("tongxin.toml");
        let file = match file {
            Some(path) => Some(path),
            None if default_file.exists() => Some(default_file),
            None => None,
        };
        if let Some(path) = file {
            read_file(path, &mut layered)?;
        }
        for (name, value) in env {
            let Some(key) = name.strip_prefix("TONGXIN_") else {
                continue;
            };
            let key = key.to_ascii_lowercase();
            if let Some(known) = KEYS.iter().find(|k| **k == key) {
                layered
                    .0
                    .insert(known, (value, format!("environment {name}")));
            }
        }
        Config::from_layers(&layered)
    }

    fn from_layers(layered: &Layered) -> Result<Config, ConfigError> {
        let data_dir = PathBuf::from(layered.get("data_dir").map_or("./tongxin-data", |(v, _)| v));
        let database_url = match layered.get("database_url") {
            Some((url, _)) => url.to_owned(),
            None => format!("sqlite://{}", data_dir.join("tongxin.db").display()),
        };
        if let Some((url, origin)) = layered.get("database_url") {
            let known = ["sqlite:", "postgres:", "postgresql:"];
            if !known.iter().any(|p| url.starts_with(p)) {
                return Err(ConfigError::Value {
                    key: "database_url",
                    value: url.to_owned(),
                    origin: origin.to_owned(),
                    problem: "must start with sqlite:// or postgres://",
                });
            }
        }
        let log_format = match layered.get("log_format") {
            None => LogFormat::Text,
            Some(("text", _)) => LogFormat::Text,
            Some(("json", _)) => LogFormat::Json,
            Some((value, origin)) => {
                return Err(ConfigError::Value {
                    key: "log_format",
                    value: value.to_owned(),
                    origin: origin.to_owned(),
                    problem: "must be text or json",
                });
            }
        };
        let defaults = Policy::default();
        let positive = |n: &i64| *n > 0;
        let key_file = layered
            .get("key_file")
            .map(|(v, _)| PathBuf::from(v))
            .unwrap_or_else(|| data_dir.join("keys").join("master.key"));
        Ok(Config {
            key_file,
            database_url,
            database_schema: layered
                .get("database_schema")
                .map(|(v, _)| v.to_owned())
                .filter(|v| !v.is_empty()),
            listen: layered.parse(
                "listen",
                SocketAddr::from(([127, 0, 0, 1], 8080)),
                "must be an address and port such as 127.0.0.1:8080",
                |_| true,
            )?,
            log_format,
            public_url: layered
                .get("public_url")
                .map(|(v, _)| v.to_owned())
                .filter(|v| !v.is_empty()),
            policy: Policy {
                lockout_threshold: layered.parse(
                    "lockout_threshold",
                    defaults.lockout_threshold,
                    "must be a whole number of at least 1",
                    |n| *n > 0,
                )?,
                lockout_minutes: layered.parse(
                    "lockout_minutes",
                    defaults.lockout_minutes,
                    "must be a whole number of minutes, at least 1",
                    positive,
                )?,
                session_idle_minutes: layered.parse(
                    "session_idle_minutes",
                    defaults.session_idle_minutes,
                    "must be a whole number of minutes, at least 1",
                    positive,
                )?,
                session_max_hours: layered.parse(
                    "session_max_hours",
                    defaults.session_max_hours,
                    "must be a whole number of hours, at least 1",
                    positive,
                )?,
                api_token_max_days: layered.parse(
                    "api_token_max_days",
                    defaults.api_token_max_days,
                    "must be a whole number of days, at least 1",
                    positive,
                )?,
                second_factor: second_factor_rule(layered)?,
            },
            max_body_bytes: layered.parse(
                "max_body_bytes",
                WebConfig::default().max_body_bytes,
                "must be a number of bytes, at least 1024",
                |n| *n >= 1024,
            )?,
            max_import_bytes: layered.parse(
                "max_import_bytes",
                WebConfig::default().max_import_bytes,
                "must be a number of bytes, at least 1024",
                |n| *n >= 1024,
            )?,
            sqlite_busy_timeout_ms: layered.parse(
                "sqlite_busy_timeout_ms",
                10_000,
                "must be a number of milliseconds",
                |_| true,
            )?,
            database_connections: layered.parse(
                "database_connections",
                StoreOptions::default().max_connections,
                "must be a number of connections, from 1 to 1000",
                |n| (1..=1000).contains(n),
            )?,
            trusted_proxies: trusted_proxies(layered)?,
            audit_retention_days: layered.parse(
                "audit_retention_days",
                MIN_AUDIT_RETENTION_DAYS,
                "must be a whole number of days, at least 180",
                |n| *n >= MIN_AUDIT_RETENTION_DAYS,
            )?,
            run_jobs: layered.parse("run_jobs", true, "must be true or false", |_| true)?,
            jobs: job_settings(layered)?,
            outbound: outbound_settings(layered)?,
            data_dir,
        })
    }

    /// The settings of the web layer.
    pub fn web(&self) -> WebConfig {
        WebConfig {
            policy: self.policy,
            secure_cookies: self
                .public_url
                .as_deref()
                .is_some_and(|u| u.starts_with("https://")),
            max_body_bytes: self.max_body_bytes,
            max_import_bytes: self.max_import_bytes,
            trusted_proxies: self.trusted_proxies.clone(),
            public_url: self
                .public_url
                .as_deref()
                .map(|u| u.trim_end_matches('/').to_owned()),
            time_zone: self.jobs.zone,
        }
    }

    /// Whether the database is a SQLite file inside the data directory's reach.
    pub fn uses_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }
}

/// The mail server (when `smtp_host` is set) and the rule on internal targets.
fn outbound_settings(layered: &Layered) -> Result<OutboundSettings, ConfigError> {
    let text = |key: &'static str| {
        layered
            .get(key)
            .map(|(v, _)| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let mail = match text("smtp_host") {
        None => None,
        Some(host) => {
            let security = match layered.get("smtp_security") {
                None => MailSecurity::StartTls,
                Some((value, origin)) => {
                    MailSecurity::parse(value.trim()).ok_or_else(|| ConfigError::Value {
                        key: "smtp_security",
                        value: value.to_owned(),
                        origin: origin.to_owned(),
                        problem: "must be starttls, tls or none",
                    })?
                }
            };
            let default_port = match security {
                MailSecurity::Tls => 465,
                _ => 587,
            };
            let from = text("smtp_from").unwrap_or_else(|| format!("tongxin@{host}"));
            if tongxin_jobs::outbound::parse_address(
                from.rsplit_once('<')
                    .map_or(from.as_str(), |(_, a)| a.trim_end_matches('>')),
            )
            .is_err()
            {
                return Err(ConfigError::Value {
                    key: "smtp_from",
                    value: from,
                    origin: "configuration".to_owned(),
                    problem: "must be an e-mail address, or a name and <address>",
                });
            }
            Some(MailSettings {
                port: layered.parse("smtp_port", default_port, "must be a port number", |p| {
                    *p > 0
                })?,
                login: text("smtp_username")
                    .map(|user| (user, text("smtp_password").unwrap_or_default())),
                host,
                security,
                from,
            })
        }
    };
    Ok(OutboundSettings {
        mail,
        allow_internal: layered.parse(
            "allow_internal_targets",
            false,
            "must be true or false",
            |_| true,
        )?,
        public_url: text("public_url"),
    })
}

/// The job runner's settings.
fn job_settings(layered: &Layered) -> Result<tongxin_jobs::Settings, ConfigError> {
    let defaults = tongxin_jobs::Settings::default();
    let zone = match layered.get("time_zone") {
        None => defaults.zone,
        Some((value, origin)) => {
            tongxin_core::TimeZone::parse(value).ok_or_else(|| ConfigError::Value {
                key: "time_zone",
                value: value.to_owned(),
                origin: origin.to_owned(),
                problem: "must be a zone such as Asia/Shanghai or Asia/Urumqi, or an offset \
                          such as +08:00",
            })?
        }
    };
    Ok(tongxin_jobs::Settings {
        poll: std::time::Duration::from_millis(layered.parse(
            "job_poll_ms",
            u64::try_from(defaults.poll.as_millis()).unwrap_or(1_000),
            "must be a number of milliseconds, from 10 to 60000",
            |n| (10..=60_000).contains(n),
        )?),
        concurrency: layered.parse(
            "job_concurrency",
            defaults.concurrency,
            "must be a number of jobs, from 1 to 64",
            |n| (1..=64).contains(n),
        )?,
        stale_after_seconds: layered.parse(
            "job_runner_timeout_seconds",
            defaults.stale_after_seconds,
            "must be a number of seconds, from 2 to 3600",
            |n| (2..=3_600).contains(n),
        )?,
        zone,
        label: defaults.label,
    })
}

/// `trusted_proxies`: addresses separated by commas or spaces.
/// `admin_totp`: `required` (the default) or `optional`.
fn second_factor_rule(layered: &Layered) -> Result<SecondFactorRule, ConfigError> {
    match layered.get("admin_totp") {
        None => Ok(SecondFactorRule::Required),
        Some((value, origin)) => match value.trim() {
            "required" => Ok(SecondFactorRule::Required),
            "optional" => Ok(SecondFactorRule::Optional),
            _ => Err(ConfigError::Value {
                key: "admin_totp",
                value: value.to_owned(),
                origin: origin.to_owned(),
                problem: "must be required or optional",
            }),
        },
    }
}

fn trusted_proxies(layered: &Layered) -> Result<Vec<std::net::IpAddr>, ConfigError> {
    let Some((value, origin)) = layered.get("trusted_proxies") else {
        return Ok(Vec::new());
    };
    value
        .split([',', ' '])
        .filter(|a| !a.is_empty())
        .map(|address| {
            address.parse().map_err(|_| ConfigError::Value {
                key: "trusted_proxies",
                value: value.to_owned(),
                origin: origin.to_owned(),
                problem: "must be IP addresses separated by commas, such as 127.0.0.1,10.0.0.2",
            })
        })
        .collect()
}

fn read_file(path: &Path, layered: &mut Layered) -> Result<(), ConfigError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: shown.clone(),
        source,
    })?;
    let file: FileConfig = toml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: shown.clone(),
        message: e.to_string(),
    })?;
    let values = [
        ("data_dir", file.data_dir),
        ("database_url", file.database_url),
        ("database_schema", file.database_schema),
        ("key_file", file.key_file),
        ("listen", file.listen),
        ("log_format", file.log_format),
        ("public_url", file.public_url),
        ("lockout_threshold", file.lockout_threshold),
        ("lockout_minutes", file.lockout_minutes),
        ("session_idle_minutes", file.session_idle_minutes),
        ("session_max_hours", file.session_max_hours),
        ("api_token_max_days", file.api_token_max_days),
        ("admin_totp", file.admin_totp),
        ("audit_retention_days", file.audit_retention_days),
        ("max_body_bytes", file.max_body_bytes),
        ("max_import_bytes", file.max_import_bytes),
        ("sqlite_busy_timeout_ms", file.sqlite_busy_timeout_ms),
        ("database_connections", file.database_connections),
        ("trusted_proxies", file.trusted_proxies),
        ("run_jobs", file.run_jobs),
        ("job_poll_ms", file.job_poll_ms),
        ("job_concurrency", file.job_concurrency),
        (
            "job_runner_timeout_seconds",
            file.job_runner_timeout_seconds,
        ),
        ("time_zone", file.time_zone),
        ("smtp_host", file.smtp_host),
        ("smtp_port", file.smtp_port),
        ("smtp_security", file.smtp_security),
        ("smtp_username", file.smtp_username),
        ("smtp_password", file.smtp_password),
        ("smtp_from", file.smtp_from),
        ("allow_internal_targets", file.allow_internal_targets),
    ];
    for (key, value) in values {
        let text = match value {
            None => continue,
            Some(toml::Value::String(s)) => s,
            Some(toml::Value::Integer(n)) => n.to_string(),
            Some(toml::Value::Boolean(b)) => b.to_string(),
            Some(_) => {
                return Err(ConfigError::Parse {
                    path: shown,
                    message: format!("{key} must be a string, a whole number, true or false"),
                });
            }
        };
        layered.0.insert(key, (text, shown.clone()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Iterator<Item = (String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn defaults_follow_the_design() {
        let c = Config::load(None, env(&[])).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.database_url, "sqlite://./tongxin-data/tongxin.db");
        assert_eq!(c.policy.lockout_threshold, 5);
        assert_eq!(c.policy.session_idle_minutes, 30);
        assert!(!c.web().secure_cookies);
    }

    #[test]
    fn environment_wins_over_the_file() {
        let dir = std::env::temp_dir().join(format!("tongxin-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        let file = dir.join("tongxin.toml");
        std::fs::write(&file, "listen = \"127.0.0.1:9000\"\nlockout_minutes = 20\n")
            .unwrap_or_else(|e| panic!("{e}"));
        let c = Config::load(Some(&file), env(&[("TONGXIN_LISTEN", "127.0.0.1:9100")]))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.listen.to_string(), "127.0.0.1:9100");
        assert_eq!(c.policy.lockout_minutes, 20);
    }

    #[test]
    fn bad_values_name_the_key_and_origin() {
        let err = Config::load(None, env(&[("TONGXIN_SESSION_IDLE_MINUTES", "soon")]))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("session_idle_minutes"), "{err}");
        assert!(err.contains("TONGXIN_SESSION_IDLE_MINUTES"), "{err}");
    }

    #[test]
    fn https_public_url_makes_cookies_secure() {
        let c = Config::load(
            None,
            env(&[("TONGXIN_PUBLIC_URL", "https://tx.example.cn")]),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(c.web().secure_cookies);
    }
}
