//! `tongxin`: the command line. Every subcommand reads the same configuration (DESIGN.md §4).

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};
use tongxin::config::{Config, LogFormat};
use tongxin::{demo, server};
use tongxin_core::{Clock, Invalid, Password, Role, SystemClock, UnitCode, UnitName, Username};
use tongxin_i18n::{Catalog, Lang};
use tongxin_store::{SecondFactorRule, StoreError, UnitSeed};

/// glibc's allocator spent a fifth of a loaded server's time in `malloc`/`free` and kept freed
/// memory in per-thread arenas; mimalloc is faster for many small short-lived allocations and
/// returns memory to the system.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How long a graceful shutdown waits for requests in flight before giving up.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);
/// How often `tongxin import people` reports the rows read so far.
const IMPORT_PROGRESS_EVERY: Duration = Duration::from_secs(3);

#[derive(Parser)]
#[command(
    name = "tongxin",
    version,
    about = "同心 Tongxin: a self-hosted platform for a multi-level liaison and engagement network",
    long_about = "同心 Tongxin: a self-hosted platform for a multi-level liaison and engagement network.\n\n\
Configuration comes from tongxin.toml (or --config) and TONGXIN_* environment variables; the \
environment wins. By default data lives in ./tongxin-data (SQLite); set TONGXIN_DATABASE_URL to \
postgres://… to use PostgreSQL."
)]
struct Cli {
    /// Configuration file (default: ./tongxin.toml if it exists).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web pages and the API until Ctrl-C or SIGTERM.
    Serve {
        /// Address to listen on (overrides TONGXIN_LISTEN).
        #[arg(long, value_name = "ADDR")]
        listen: Option<std::net::SocketAddr>,
        /// Load the demo city first if the database is empty, and print its administrator's
        /// password once.
        #[arg(long)]
        demo: bool,
    },
    /// Run background jobs without serving pages: a process of its own beside the servers
    /// (set TONGXIN_RUN_JOBS=false on them to leave all jobs to workers).
    Worker,
    /// Load the demo city (Hohhot) into an empty database.
    Demo {
        /// Synthetic people to add to the directory.
        #[arg(long, default_value_t = demo::DEFAULT_PEOPLE)]
        people: usize,
        /// Seed for the generated units and people.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Start a new installation: create the top unit of an empty database (then add its
    /// administrator with `user add`).
    Init {
        /// The top unit's code, e.g. a GB/T 2260 division code such as 150100.
        #[arg(long, value_name = "CODE")]
        unit_code: String,
        /// The top unit's name, e.g. 呼和浩特市.
        #[arg(long, value_name = "NAME")]
        unit_name: String,
    },
    /// Apply pending database migrations.
    Migrate,
    /// Manage accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Verify database integrity and the audit chain; exits non-zero on any fault.
    Check,
    /// Back up the whole database to one file while the server runs (either engine; the key
    /// file is not in it: keep that apart).
    Backup {
        /// The backup file to write; it must not exist.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Restore a backup into an empty data directory or database and verify it (integrity,
    /// every table's rows, the audit chain) before declaring success; needs the key file the
    /// backup was made under.
    Restore {
        /// The backup file.
        file: PathBuf,
    },
    /// Move audit rows past the retention period to a signed archive file, or verify one.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Import records from a file.
    Import {
        #[command(subcommand)]
        what: ImportCommand,
    },
    /// Export records to a file.
    Export {
        #[command(subcommand)]
        what: ExportCommand,
    },
}

#[derive(Subcommand)]
enum ExportCommand {
    /// Export the directory (people on record, archived ones left out) as CSV (UTF-8 with a
    /// BOM) or XLSX, by the file's extension, with the data standard's columns. ID numbers and
    /// phones are masked unless `--clear --purpose TEXT` is given. The export is audited.
    People {
        /// Where to write: *.csv or *.xlsx.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Protected fields in clear (keep the file safe); needs `--purpose`.
        #[arg(long, requires = "purpose")]
        clear: bool,
        /// Why the clear export is made; kept in the audit log.
        #[arg(long, value_name = "TEXT", requires = "clear")]
        purpose: Option<String>,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Import people from a CSV (UTF-8, UTF-8 with BOM, UTF-16 or GBK/GB18030) or XLSX file,
    /// all-or-nothing; prints every problem by line and column and exits non-zero on any.
    People {
        /// The file; its extension (.csv or .xlsx) decides how it is read.
        file: PathBuf,
        /// Check everything, including against the database, but import nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account; the password is read from the first line of standard input.
    Add {
        #[arg(long)]
        username: String,
        /// Code of the account's unit.
        #[arg(long, value_name = "CODE")]
        unit: String,
        /// admin, staff, leader or member.
        #[arg(long)]
        role: String,
        /// Read the password from standard input (the only way, so it never shows in `ps`).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Write the audit rows older than `audit_retention_days` to a new file, signed under the
    /// key file; verify it; then remove them from the database (recorded in the log).
    Archive {
        /// The archive file to write; it must not exist.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Verify an archive file: its signature under the key file and every row's chain.
    Verify {
        /// The archive file.
        file: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref(), std::env::vars()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("tongxin: configuration: {e}");
            return ExitCode::from(2);
        }
    };
    init_logging(config.log_format);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tongxin: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command, config)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("tongxin: {}", explain(e.as_ref()));
            ExitCode::FAILURE
        }
    }
}

/// An error as a sentence: refused input is described with the product's own messages, in
/// Chinese when the terminal's `LANG` is Chinese and in English otherwise.
fn explain(error: &(dyn std::error::Error + 'static)) -> String {
    let invalid = match error.downcast_ref::<StoreError>() {
        Some(StoreError::Invalid(invalid)) => Some(invalid),
        _ => error.downcast_ref::<Invalid>(),
    };
    let (Some(invalid), Ok(catalog)) = (invalid, Catalog::load()) else {
        // The error and each of its causes: "cannot connect to the database: …: …".
        return tongxin_web::ErrorChain(error).to_string();
    };
    tongxin_i18n::invalid_message(&catalog, terminal_lang(), invalid)
}

/// Chinese when the terminal's `LANG` is Chinese, English otherwise.
fn terminal_lang() -> Lang {
    match std::env::var("LANG") {
        Ok(lang) if lang.starts_with("zh") => Lang::ZhCn,
        _ => Lang::En,
    }
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

async fn run(command: Command, mut config: Config) -> Result<ExitCode> {
    let clock = SystemClock;
    let mut out = std::io::stdout();
    match command {
        Command::Serve { listen, demo } => {
            if let Some(addr) = listen {
                config.listen = addr;
            }
            let store = server::open_store(&config).await?;
            if demo {
                if store.is_empty().await? {
                    let accounts = demo::load(&store, clock.now(), 1, demo::DEFAULT_PEOPLE).await?;
                    print_demo_accounts(&mut out, &accounts)?;
                } else {
                    writeln!(
                        out,
                        "Demo data already present; using the existing database."
                    )?;
                }
                print_second_factor_rule(&mut out, config.policy.second_factor)?;
            }
            let signal = server::shutdown_signal()?;
            let listener = tokio::net::TcpListener::bind(config.listen)
                .await
                .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
            let address = listener.local_addr()?;
            if config.public_url.is_none() {
                writeln!(
                    out,
                    "Warning: no public address is set (TONGXIN_PUBLIC_URL or public_url), so QR \
                     check-in codes and calendar links will point at http://{address}, which \
                     phones can reach only if that address is theirs to reach."
                )?;
            }
            writeln!(out, "Tongxin is serving on http://{address}")?;
            out.flush()?;
            serve_until_signal(listener, store, &config, signal).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Worker => {
            let store = server::open_store(&config).await?;
            let catalog = Arc::new(tongxin_i18n::Catalog::load()?);
            let clock: Arc<dyn tongxin_core::Clock> = Arc::new(SystemClock);
            let signal = server::shutdown_signal()?;
            writeln!(out, "Tongxin is running background jobs")?;
            out.flush()?;
            let outbound = Arc::new(tongxin_jobs::outbound::Outbound::new(
                config.outbound.clone(),
            )?);
            server::job_runner(&store, &clock, &catalog, &outbound, &config)
                .run(signal)
                .await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo { people, seed } => {
            let store = server::open_store(&config).await?;
            let accounts = demo::load(&store, clock.now(), seed, people).await?;
            print_demo_accounts(&mut out, &accounts)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Init {
            unit_code,
            unit_name,
        } => {
            let seed = UnitSeed {
                code: UnitCode::parse(&unit_code)?,
                name: UnitName::parse(&unit_name)?,
                children: Vec::new(),
            };
            let store = server::open_store(&config).await?;
            if !store.is_empty().await? {
                return Err("the database already has units; init only starts an empty one".into());
            }
            store
                .create_tree(&tongxin_store::Actor::system("cli"), clock.now(), &seed)
                .await?;
            writeln!(
                out,
                "Created the top unit {unit_code} {}. Next: tongxin user add --unit {unit_code} \
                 --role admin --username … --password-stdin",
                seed.name.as_str()
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => {
            server::open_store(&config).await?;
            writeln!(out, "Migrations applied.")?;
            Ok(ExitCode::SUCCESS)
        }
        Command::User {
            command:
                UserCommand::Add {
                    username,
                    unit,
                    role,
                    password_stdin: _,
                },
        } => {
            let username = Username::parse(&username)?;
            let role = Role::parse(&role)?;
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            let password = Password::parse(line.trim_end_matches(['\r', '\n']))?;
            let store = server::open_store(&config).await?;
            let account = store
                .add_user_as_system(clock.now(), &unit, username, role, password)
                .await?;
            writeln!(
                out,
                "Created {} ({}) in {} {}.",
                account.username,
                account.role.as_str(),
                account.unit_code,
                account.unit_name
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Import {
            what: ImportCommand::People { file, dry_run },
        } => {
            let name = file.display().to_string();
            let format = tongxin_tabular::Format::from_name(&name)
                .ok_or_else(|| format!("{name}: use a .csv or .xlsx file"))?;
            let limits = tongxin_tabular::Limits {
                max_bytes: config.max_import_bytes,
                ..tongxin_tabular::Limits::default()
            };
            let opened = std::fs::File::open(&file).map_err(|e| format!("{name}: {e}"))?;
            let bytes = match tongxin_tabular::read_limited(opened, limits.max_bytes) {
                Ok(bytes) => bytes,
                Err(e) => return Err(format!("{name}: {e}").into()),
            };
            let store = server::open_store(&config).await?;
            let catalog = Arc::new(Catalog::load()?);
            let request = tongxin_exchange::ImportRequest {
                bytes: &bytes,
                format,
                limits,
                dry_run,
                lang: terminal_lang(),
            };
            // A long import says how far it has got on standard error, every few seconds.
            let progress = Arc::new(tongxin_exchange::ImportProgress::default());
            let reporter = tokio::spawn({
                let progress = progress.clone();
                let lang = terminal_lang();
                let catalog = catalog.clone();
                async move {
                    let mut ticks = tokio::time::interval(IMPORT_PROGRESS_EVERY);
                    ticks.tick().await;
                    loop {
                        ticks.tick().await;
                        let rows = progress.rows().to_string();
                        let line = catalog.format(lang, "import_page.rows_read", &[("n", &rows)]);
                        let _ = writeln!(std::io::stderr(), "{line}");
                    }
                }
            });
            let report = tongxin_exchange::import_people(
                &store,
                &tongxin_store::Actor::system("cli"),
                clock.now(),
                &catalog,
                request,
                &progress,
            )
            .await
            .map_err(|e| e.to_string());
            reporter.abort();
            let report = report?;
            for problem in &report.problems {
                let place = match (problem.line, problem.column.as_str()) {
                    (0, _) => name.clone(),
                    (line, "") => format!("{name}:{line}"),
                    (line, column) => format!("{name}:{line} [{column}]"),
                };
                writeln!(out, "{place}: {}", problem.message)?;
            }
            if report.problems.is_empty() {
                if report.committed {
                    writeln!(out, "Imported {} people from {name}.", report.rows)?;
                } else {
                    writeln!(
                        out,
                        "Checked {} rows of {name}: no problems (dry run, nothing imported).",
                        report.rows
                    )?;
                }
                Ok(ExitCode::SUCCESS)
            } else {
                writeln!(
                    out,
                    "{} problem(s) in {} rows; nothing was imported.",
                    report.problems.len(),
                    report.rows
                )?;
                Ok(ExitCode::FAILURE)
            }
        }
        Command::Export {
            what:
                ExportCommand::People {
                    out: path,
                    clear,
                    purpose,
                },
        } => {
            let name = path.display().to_string();
            let format = tongxin_tabular::Format::from_name(&name)
                .ok_or_else(|| format!("{name}: name the file *.csv or *.xlsx"))?;
            let store = server::open_store(&config).await?;
            let system = tongxin_store::Actor::system("cli");
            let export = store
                .start_people_export(
                    &system,
                    Default::default(),
                    clock.now(),
                    "tongxin export people",
                    match purpose {
                        Some(purpose) if clear => tongxin_store::Protection::Clear { purpose },
                        _ => tongxin_store::Protection::Masked,
                    },
                )
                .await?;
            let total = export.total;
            if format == tongxin_tabular::Format::Xlsx {
                let tempdir = std::env::temp_dir();
                tongxin_exchange::write_xlsx(&store, export, &tempdir, &path)
                    .await
                    .map_err(|e| format!("{name}: {e}"))?;
                writeln!(out, "Exported {total} people to {name}.")?;
                return Ok(ExitCode::SUCCESS);
            }
            let mut file = std::io::BufWriter::new(
                std::fs::File::create(&path).map_err(|e| format!("{name}: {e}"))?,
            );
            tongxin_exchange::write_csv(&store, export, &mut file)
                .await
                .map_err(|e| format!("{name}: {e}"))?;
            writeln!(out, "Exported {total} people to {name}.")?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Backup { out: path } => {
            let store = server::open_store(&config).await?;
            let manifest = store
                .backup(&path, clock.now())
                .await
                .map_err(|e| format!("{}: {e}", path.display()))?;
            writeln!(
                out,
                "Backed up {} rows of {} tables (audit log to row {}) to {}. The key file is not \
                 in it: keep {} with the backups, and a copy apart from them.",
                manifest.rows(),
                manifest.tables.len(),
                manifest.audit_seq,
                path.display(),
                config.key_file.display()
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Restore { file } => {
            if !config.key_file.exists() {
                return Err(format!(
                    "the key file {} is needed to restore (the backup does not hold it): put it \
                     in place first",
                    config.key_file.display()
                )
                .into());
            }
            let keys = tongxin_store::FieldKeys::load(&config.key_file)?;
            server::prepare_data_dir(&config)?;
            let (store, manifest) = tongxin_store::restore(
                &file,
                &config.database_url,
                &server::store_options(&config),
                keys,
                clock.now(),
            )
            .await
            .map_err(|e| format!("{}: {e}", file.display()))?;
            store.close().await?;
            writeln!(
                out,
                "Restored {} rows of {} tables from {} (taken from {}); the audit log verifies \
                 to row {}.",
                manifest.rows(),
                manifest.tables.len(),
                file.display(),
                manifest.engine,
                manifest.audit_seq
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit {
            command: AuditCommand::Archive { out: path },
        } => {
            let store = server::open_store(&config).await?;
            let archived = store
                .archive_audit_log(&path, clock.now(), config.audit_retention_days)
                .await
                .map_err(|e| format!("{}: {e}", path.display()))?;
            match archived {
                Some(header) => writeln!(
                    out,
                    "Archived audit rows {} to {} ({} rows from before {}) to {}, verified, and \
                     removed them from the database. Keep the file with the key file's copy.",
                    header.first_seq,
                    header.last_seq,
                    header.rows,
                    header.before,
                    path.display()
                )?,
                None => writeln!(
                    out,
                    "No audit rows are older than {} days; nothing archived.",
                    config.audit_retention_days
                )?,
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit {
            command: AuditCommand::Verify { file },
        } => {
            let store = server::open_store(&config).await?;
            let header = store
                .verify_audit_archive(&file)
                .map_err(|e| format!("{}: {e}", file.display()))?;
            writeln!(
                out,
                "{}: signed under this key file; audit rows {} to {} ({} rows from before {}) \
                 follow each other and match their hashes.",
                file.display(),
                header.first_seq,
                header.last_seq,
                header.rows,
                header.before
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Check => {
            let store = server::open_store(&config).await?;
            let report = store.check().await?;
            writeln!(
                out,
                "Checked {} units and {} audit rows on {}.",
                report.units,
                report.audit_rows,
                store.engine().name()
            )?;
            if report.faults.is_empty() {
                writeln!(out, "No faults found.")?;
                Ok(ExitCode::SUCCESS)
            } else {
                for fault in &report.faults {
                    writeln!(out, "FAULT: {fault}")?;
                }
                Ok(ExitCode::FAILURE)
            }
        }
    }
}

fn print_demo_accounts(out: &mut impl Write, accounts: &demo::DemoAccounts) -> std::io::Result<()> {
    writeln!(
        out,
        "Demo city loaded: 呼和浩特市 (150100), with sectors and people."
    )?;
    // The system administrator first: scripts read the first `password:` line.
    for (duty, account) in [
        ("System administrator  ", &accounts.admin),
        ("Security administrator", &accounts.security),
        ("Auditor               ", &accounts.auditor),
        ("District staff        ", &accounts.staff),
        ("Member                ", &accounts.member),
    ] {
        writeln!(out, "{duty}  user name: {}", account.username)?;
        writeln!(out, "{:22}  password:  {}", "", account.password)?;
    }
    writeln!(
        out,
        "The district staff and the member belong to 新城区 (150102): its direct channel, \
         from the desk and from the phone."
    )?;
    writeln!(
        out,
        "The passwords are shown only now; change them after logging in."
    )
}

/// Says whether the administrators of the demo are made to set up a second factor.
fn print_second_factor_rule(out: &mut impl Write, rule: SecondFactorRule) -> std::io::Result<()> {
    match rule {
        SecondFactorRule::Required => writeln!(
            out,
            "The three administrators set up two-factor login (an authenticator app) at their \
             first login. TONGXIN_ADMIN_TOTP=optional relaxes this for a demonstration."
        ),
        SecondFactorRule::Optional => writeln!(
            out,
            "Two-factor login is RELAXED (TONGXIN_ADMIN_TOTP=optional): administrators are not \
             made to set it up. Do not run a real deployment like this."
        ),
    }
}

/// Serves until Ctrl-C or SIGTERM, then waits up to [`SHUTDOWN_GRACE`] for requests in flight.
async fn serve_until_signal(
    listener: tokio::net::TcpListener,
    store: tongxin_store::Store,
    config: &Config,
    signal: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let (signalled, on_signal) = tokio::sync::oneshot::channel::<()>();
    let shutdown = async move {
        signal.await;
        let _ = signalled.send(());
    };
    let serving = server::serve(listener, store, Arc::new(SystemClock), config, shutdown);
    tokio::pin!(serving);
    tokio::select! {
        result = &mut serving => result,
        () = async {
            if on_signal.await.is_ok() {
                tokio::time::sleep(SHUTDOWN_GRACE).await;
            } else {
                std::future::pending::<()>().await;
            }
        } => {
            tracing::warn!("requests still running after {SHUTDOWN_GRACE:?}; stopping anyway");
            Ok(())
        }
    }
}
