//! The HTTP edge: application state, the router that merges every module's routes, and the
//! layers around them (tracing, body limit, timeout, metrics). Handlers live with their domain
//! module (`api.rs` for JSON, `web.rs` for pages); this module owns nothing domain-specific.

pub mod error;
pub mod json;
pub mod openapi;
pub mod ops;
pub mod web;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use metrics_exporter_prometheus::PrometheusHandle;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::auth::limiter::LoginLimiter;
use crate::catalog::snapshot::{Snapshot, SnapshotCache};
use crate::clock::SharedClock;
use crate::db::{Db, StoreError};

/// Settings the HTTP layer needs.
#[derive(Clone, Debug)]
pub struct HttpSettings {
    /// Set the `Secure` attribute on cookies (on whenever Tocsin is served over HTTPS).
    pub secure_cookies: bool,
    /// Largest accepted request body, in bytes.
    pub body_limit: usize,
    pub session_hours: i64,
    /// Per-integration ingestion rate limit.
    pub ingest_limit: crate::alerts::limit::RateLimit,
    /// Ingestion writer tasks; 0 picks the backend's default (`alerts::batch`).
    pub ingest_writers: usize,
    /// The public address of this server, for links in messages (`Settings::public_url`).
    pub base_url: String,
    /// Slack's signing secret for the incident slash command (empty: Slack is refused).
    pub slack_signing_secret: String,
    /// Mattermost's slash command token (empty: Mattermost is refused).
    pub mattermost_token: String,
    /// The sections a new postmortem gets.
    pub postmortem_template: crate::postmortems::template::Template,
    /// Where action items are exported (`[backlog]`), None when no backlog is configured.
    pub backlog: Option<Arc<crate::postmortems::backlog::Backlog>>,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            secure_cookies: false,
            body_limit: 1024 * 1024,
            session_hours: 12,
            ingest_limit: crate::alerts::limit::RateLimit::default(),
            ingest_writers: 0,
            base_url: "http://127.0.0.1:8080".into(),
            slack_signing_secret: String::new(),
            mattermost_token: String::new(),
            postmortem_template: Default::default(),
            backlog: None,
        }
    }
}

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub clock: SharedClock,
    pub settings: Arc<HttpSettings>,
    pub limiter: Arc<LoginLimiter>,
    pub metrics: Option<PrometheusHandle>,
    pub snapshots: Arc<SnapshotCache>,
    /// The ingestion rate limiter and group-commit writers (`alerts::batch`).
    pub ingest: Arc<crate::alerts::batch::Ingest>,
    /// Poked after an alert is created so the engine pages at once instead of at its next
    /// one-second tick.
    pub wake: Arc<tokio::sync::Notify>,
    /// Incident changes, for the live pages (server-sent events).
    pub live: Arc<crate::incidents::live::Live>,
    /// The key of one-click acknowledge links, read from the database once.
    ack_key: Arc<tokio::sync::OnceCell<Vec<u8>>>,
}

impl AppState {
    pub fn new(
        db: Db,
        clock: SharedClock,
        settings: HttpSettings,
        metrics: Option<PrometheusHandle>,
    ) -> Self {
        let snapshots = Arc::new(SnapshotCache::default());
        let wake = Arc::new(tokio::sync::Notify::new());
        // Needs a tokio runtime: the writers are spawned here, one set per state.
        let ingest = Arc::new(crate::alerts::batch::Ingest::start(
            db.clone(),
            snapshots.clone(),
            clock.clone(),
            settings.ingest_limit,
            settings.ingest_writers,
            wake.clone(),
        ));
        Self {
            db,
            clock,
            settings: Arc::new(settings),
            // Five failures per username and address in five minutes, then a pause.
            limiter: Arc::new(LoginLimiter::new(5, 5 * 60 * 1000)),
            metrics,
            snapshots,
            ingest,
            wake,
            live: Arc::new(crate::incidents::live::Live::default()),
            ack_key: Arc::new(tokio::sync::OnceCell::new()),
        }
    }

    /// The key that signs one-click acknowledge links (shared by every instance).
    pub async fn ack_secret(&self) -> Result<Vec<u8>, StoreError> {
        self.ack_key
            .get_or_try_init(|| async {
                crate::notify::store::server_secret(&self.db, "ack")
                    .await
                    .map(String::into_bytes)
            })
            .await
            .cloned()
    }

    /// The current catalog snapshot (cached; one version query when nothing changed).
    pub async fn catalog(&self) -> Result<Arc<Snapshot>, StoreError> {
        self.snapshots.get(&self.db).await
    }
}

/// The whole application: API, pages and operations endpoints.
pub fn router(state: AppState) -> Router {
    let limit = state.settings.body_limit;
    Router::new()
        .merge(ops::router())
        .merge(web::router())
        .merge(crate::auth::web::router())
        .merge(crate::auth::api::router())
        .merge(crate::catalog::api::router())
        .merge(crate::catalog::web::router())
        .merge(crate::people::web::router())
        .merge(crate::audit::api::router())
        .merge(crate::audit::web::router())
        .merge(crate::handbook::router())
        .merge(crate::oncall::api::router())
        .merge(crate::oncall::web::router())
        .merge(crate::escalation::web::router())
        .merge(crate::alerts::api::router())
        .merge(crate::alerts::ingest::router())
        .merge(crate::notify::ack::router())
        .merge(crate::alerts::web::router())
        .merge(crate::notify::api::router())
        .merge(crate::notify::web::router())
        .merge(crate::alerts::playbook::router())
        .merge(crate::incidents::api::router())
        .merge(crate::postmortems::api::router())
        .merge(crate::incidents::chat::router())
        .merge(crate::incidents::web::router())
        .merge(crate::postmortems::web::router())
        .merge(crate::postmortems::api_actions::router())
        .merge(crate::postmortems::api_library::router())
        .merge(crate::postmortems::actions_web::router())
        .merge(crate::reports::web::router())
        .merge(crate::slo::api::router())
        .merge(crate::slo::web::router())
        .route("/api/v1/openapi.json", axum::routing::get(ops::openapi))
        // A route layer sees the matched route, so metrics are labelled by route, not by URL.
        .route_layer(axum::middleware::from_fn(ops::track_metrics))
        .fallback(ops::not_found)
        .layer(DefaultBodyLimit::max(limit))
        .layer(RequestBodyLimitLayer::new(limit))
        .layer(axum::middleware::from_fn(ops::json_too_large))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
