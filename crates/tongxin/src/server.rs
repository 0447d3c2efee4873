//! Opening the store and serving HTTP until told to stop.

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use tokio::net::TcpListener;
use tongxin_core::{Clock, SystemClock};
use tongxin_jobs::outbound::Outbound;
use tongxin_jobs::{Runner, Work};
use tongxin_store::{ChainKeying, FieldKeys, Store, StoreOptions};
use tongxin_web::AppState;

use crate::config::Config;

/// Creates the directory of a configured SQLite file, if it has none yet.
pub fn prepare_data_dir(config: &Config) -> Result<(), Box<dyn std::error::Error>> {
    if let Some(file) = config.database_url.strip_prefix("sqlite://") {
        let file = file.split('?').next().unwrap_or(file);
        if let Some(dir) = Path::new(file)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create data directory {}: {e}", dir.display()))?;
        }
    }
    Ok(())
}

/// How the store connects, from the configuration.
pub fn store_options(config: &Config) -> StoreOptions {
    StoreOptions {
        pg_schema: config.database_schema.clone(),
        sqlite_busy_timeout: std::time::Duration::from_millis(config.sqlite_busy_timeout_ms),
        max_connections: config.database_connections,
    }
}

/// Connects to the configured database (creating the SQLite file's directory if needed) and
/// applies pending migrations.
pub async fn open_store(config: &Config) -> Result<Store, Box<dyn std::error::Error>> {
    prepare_data_dir(config)?;
    let options = store_options(config);
    let (keys, created) = FieldKeys::load_or_create(&config.key_file)?;
    let store = Store::connect(&config.database_url, &options, keys).await?;
    if created && store.has_history().await? {
        // A new key opens nothing sealed under the old one and cannot extend its audit chain:
        // take the new file away again rather than leave a wrong key in place.
        let _ = std::fs::remove_file(&config.key_file);
        return Err(format!(
            "the key file {} is missing, but the database holds data sealed and an audit log \
             keyed under it: restore the key file from your backup (see docs/OPERATIONS.md)",
            config.key_file.display()
        )
        .into());
    }
    let upgraded = store.migrate(SystemClock.now()).await?;
    if upgraded.values_bound > 0 {
        tracing::warn!(
            values = upgraded.values_bound,
            "protected values sealed before row binding are bound to their rows now"
        );
    }
    match upgraded.chain {
        ChainKeying::Keyed { rows } if rows > 0 => {
            tracing::warn!(
                rows,
                "the audit log written before the audit key is keyed now"
            );
        }
        ChainKeying::Refused { seq } => tracing::error!(
            seq,
            "the audit log written before the audit key does not verify from this row on; it \
             was left unkeyed (run tongxin check)"
        ),
        _ => {}
    }
    Ok(store)
}

/// Serves the application on `listener` until `shutdown` completes, then stops accepting
/// connections and lets requests in flight finish. Unless the configuration leaves jobs to a
/// worker, a job runner works alongside and stops with it.
pub async fn serve(
    listener: TcpListener,
    store: Store,
    clock: Arc<dyn Clock>,
    config: &Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Box<dyn std::error::Error>> {
    let outbound = Arc::new(Outbound::new(config.outbound.clone())?);
    let state = AppState::new(store, clock, config.web(), outbound.clone())?;
    let (stop_runner, runner_stops) = tokio::sync::watch::channel(false);
    let runner = config.run_jobs.then(|| {
        let runner = job_runner(
            &state.store,
            &state.clock,
            &state.catalog,
            &outbound,
            config,
        );
        let mut stops = runner_stops;
        tokio::spawn(runner.run(async move {
            let _ = stops.wait_for(|stop| *stop).await;
        }))
    });
    let app = tongxin_web::app(state);
    let served = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    let _ = stop_runner.send(true);
    if let Some(runner) = runner {
        let _ = runner.await;
    }
    served?;
    Ok(())
}

/// A job runner on `store` as configured.
pub fn job_runner(
    store: &Store,
    clock: &Arc<dyn Clock>,
    catalog: &Arc<tongxin_i18n::Catalog>,
    outbound: &Arc<Outbound>,
    config: &Config,
) -> Runner {
    Runner::new(
        Work {
            store: store.clone(),
            clock: clock.clone(),
            catalog: catalog.clone(),
            zone: config.jobs.zone,
            outbound: outbound.clone(),
        },
        config.jobs.clone(),
    )
}

/// A future that completes on Ctrl-C or SIGTERM. The handlers are installed before this
/// returns, so a signal that arrives right after start-up is not lost.
#[cfg(unix)]
pub fn shutdown_signal() -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = terminate.recv() => {},
            _ = interrupt.recv() => {},
        }
        tracing::info!("shutting down: finishing requests in flight");
    })
}

/// A future that completes on Ctrl-C.
#[cfg(not(unix))]
pub fn shutdown_signal() -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down: finishing requests in flight");
    })
}
