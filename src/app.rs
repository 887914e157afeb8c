//! The composition root: settings -> database -> state -> router -> server. Also the pieces
//! the CLI shares with tests: opening a migrated database and serving on a given listener.

use std::future::Future;
use std::sync::Arc;

use anyhow::Context;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;

use crate::clock::{SharedClock, SystemClock};
use crate::db::Db;
use crate::http::{AppState, HttpSettings, router};
use crate::settings::Settings;

/// Opens the database named by `url` and brings its schema up to date.
pub async fn open_db(url: &str) -> anyhow::Result<Db> {
    let db = Db::connect(url)
        .await
        .with_context(|| format!("opening database {}", redact(url)))?;
    db.migrate().await.context("running migrations")?;
    Ok(db)
}

/// Builds the state handlers share.
pub fn state(
    db: Db,
    clock: SharedClock,
    settings: &Settings,
    metrics: Option<PrometheusHandle>,
) -> AppState {
    let http = HttpSettings {
        secure_cookies: settings.secure_cookies,
        body_limit: settings.body_limit_bytes,
        session_hours: settings.session_hours,
        ingest_limit: crate::alerts::limit::RateLimit {
            events_per_minute: settings.ingest_events_per_minute,
            burst: settings.ingest_burst,
        },
        ingest_writers: settings.ingest_writers,
        base_url: settings.public_url(),
        slack_signing_secret: settings.slack_signing_secret.clone(),
        mattermost_token: settings.mattermost_token.clone(),
        // Checked when the settings were read (`DbArgs::settings`).
        postmortem_template: settings.template().unwrap_or_else(|e| {
            tracing::error!(error = %e, "postmortem template unreadable; using the built-in one");
            Default::default()
        }),
        backlog: match crate::postmortems::backlog::Backlog::from_settings(
            &settings.backlog,
            &settings.public_url(),
            settings.block_private_targets,
        ) {
            Ok(b) => b.map(Arc::new),
            Err(e) => {
                tracing::error!(error = %e, "backlog client unavailable; action items stay here");
                None
            }
        },
    };
    AppState::new(db, clock, http, metrics)
}

/// The notification deliverer `serve` gives the engine, from the settings.
pub async fn deliverer(
    state: &AppState,
    settings: &Settings,
) -> anyhow::Result<Arc<dyn crate::engine::outbox::Deliver>> {
    let mailer = if settings.smtp_url.is_empty() {
        None
    } else {
        Some(
            crate::notify::email::Mailer::new(&settings.smtp_url, &settings.email_from)
                .map_err(|e| anyhow::anyhow!(e))?,
        )
    };
    Ok(Arc::new(crate::notify::deliver::Deliverer {
        db: state.db.clone(),
        clock: state.clock.clone(),
        snapshots: state.snapshots.clone(),
        client: crate::notify::client_with(settings.block_private_targets)?,
        mailer,
        base_url: settings.public_url(),
        ack_secret: state.ack_secret().await?,
        block_private: settings.block_private_targets,
    }))
}

/// Installs the Prometheus recorder once per process (later calls reuse the first handle).
pub fn metrics_handle() -> Option<PrometheusHandle> {
    static HANDLE: std::sync::OnceLock<Option<PrometheusHandle>> = std::sync::OnceLock::new();
    HANDLE
        .get_or_init(|| PrometheusBuilder::new().install_recorder().ok())
        .clone()
}

/// Serves `state` on `listener` until `shutdown` completes, then drains connections.
pub async fn serve_on(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}

/// `tocsin serve`: runs until SIGINT or SIGTERM.
pub async fn serve(settings: &Settings) -> anyhow::Result<()> {
    let db = open_db(&settings.database_url).await?;
    let clock: SharedClock = Arc::new(SystemClock);
    let state = state(db.clone(), clock.clone(), settings, metrics_handle());
    let deliverer = deliverer(&state, settings).await?;
    // One listener for the signal, its outcome kept in a watch channel: a task that starts
    // waiting after the signal arrived (the engine, spawned concurrently) still sees it.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop_tx.send(true);
    });
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let engine = crate::engine::start(
        db.clone(),
        clock,
        Some(deliverer),
        state.wake.clone(),
        Some(Arc::new(crate::incidents::deadlines::Deadlines::new(
            state.settings.base_url.clone(),
            Some(state.live.clone()),
        ))),
        state.settings.backlog.clone(),
        stopped(stop_rx.clone()),
    );
    let ingest_drained = state.ingest.take_finished();
    let listener = TcpListener::bind(&settings.listen)
        .await
        .with_context(|| format!("listening on {}", settings.listen))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, database = %redact(&settings.database_url), "tocsin is serving");
    println!("Tocsin is listening on http://{addr}");
    // Live incident pages hold their connection open: end them when the signal comes, or the
    // graceful shutdown below would wait for every open page to close.
    let live = state.live.clone();
    let live_stop = stopped(stop_rx.clone());
    tokio::spawn(async move {
        live_stop.await;
        live.stop();
    });
    serve_on(listener, state, stopped(stop_rx)).await?;
    // The server has answered its last request; let the ingest writers finish what is queued.
    if let Some(drained) = ingest_drained
        && tokio::time::timeout(std::time::Duration::from_secs(10), drained)
            .await
            .is_err()
    {
        tracing::warn!("ingest writers did not drain within 10 s");
    }
    // The engine saw the same signal; let its current tick and delivery finish.
    if let Err(e) = engine.await {
        tracing::warn!(error = %e, "engine task ended abnormally");
    }
    db.close().await;
    tracing::info!("stopped cleanly");
    Ok(())
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown signal received");
}

/// Hides a password in a database URL before it is logged.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..scheme + 3], user, &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}
