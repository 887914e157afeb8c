//! Alerts and integration keys over the REST API. Reading alerts needs the viewer role,
//! acknowledging and resolving the responder role, managing integration keys the admin role.
//! Ingestion (senders posting events with a key) is not here: it has its own endpoints per
//! wire format, which call [`store::ingest`].

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::extract::{Admin, Principal};
use crate::http::AppState;
use crate::http::error::AppError;
use crate::http::json::{ApiJson, ApiPath, ApiQuery};
use crate::oncall::api::Responder;

use super::integration::{self, Integration, IntegrationKind};
use super::lifecycle::{Alert, PersonAction, Status};
use super::store::{self, Filter, LogEntry};

/// Alerts a list answers with when the caller does not say.
const DEFAULT_LIMIT: u32 = 100;
/// The most alerts one list answers with.
pub const MAX_LIMIT: u32 = 500;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/services/{id}/integrations",
            get(list_integrations).post(create_integration),
        )
        .route("/api/v1/integrations/{id}/rotate", post(rotate_integration))
        .route("/api/v1/integrations/{id}", delete(delete_integration))
        .route("/api/v1/alerts", get(list_alerts))
        .route("/api/v1/alerts/{id}", get(get_alert))
        .route("/api/v1/alerts/{id}/acknowledge", post(acknowledge))
        .route("/api/v1/alerts/{id}/resolve", post(resolve))
}

/// An integration to create on the service in the URL.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewIntegration {
    /// The sender's wire format.
    #[serde(rename = "type")]
    pub kind: IntegrationKind,
    /// Defaults to the type.
    #[serde(default)]
    pub name: String,
}

/// An integration with its key: the only response that ever carries the key.
#[derive(Serialize, ToSchema)]
pub struct IntegrationKey {
    pub integration: Integration,
    /// Give this to the sender now; it is not shown again.
    pub key: String,
}

async fn list_integrations(
    _: Admin,
    State(s): State<AppState>,
    ApiPath(service): ApiPath<String>,
) -> Result<Json<Vec<Integration>>, AppError> {
    let c = s.catalog().await?;
    c.service(&service).ok_or(AppError::NotFound)?;
    Ok(Json(store::list_integrations(&s.db, Some(&service)).await?))
}

async fn create_integration(
    Admin(p): Admin,
    State(s): State<AppState>,
    ApiPath(service): ApiPath<String>,
    ApiJson(body): ApiJson<NewIntegration>,
) -> Result<impl IntoResponse, AppError> {
    let c = s.catalog().await?;
    let now = s.clock.now_ms();
    let (integration, key) =
        integration::create(&s.db, &c, now, &p.name, &service, body.kind, &body.name).await?;
    Ok((
        StatusCode::CREATED,
        Json(IntegrationKey { integration, key }),
    ))
}

async fn rotate_integration(
    Admin(p): Admin,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<IntegrationKey>, AppError> {
    let (integration, key) = integration::rotate(&s.db, s.clock.now_ms(), &p.name, &id).await?;
    // The old key stops working here at once; other instances forget it within seconds.
    s.ingest.keys().forget(&id);
    Ok(Json(IntegrationKey { integration, key }))
}

async fn delete_integration(
    Admin(p): Admin,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, AppError> {
    integration::delete(&s.db, s.clock.now_ms(), &p.name, &id).await?;
    s.ingest.keys().forget(&id);
    Ok(StatusCode::NO_CONTENT)
}

/// Which alerts to list, newest first.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertQuery {
    /// triggered, acknowledged or resolved.
    pub status: Option<String>,
    /// A service id.
    pub service: Option<String>,
    /// critical, error, warning or info.
    pub severity: Option<String>,
    /// At most this many (default 100, at most 500).
    pub limit: Option<u32>,
    /// Only alerts created before this instant (ms since the epoch): the next page starts at
    /// the last alert's `created_at`.
    pub before: Option<i64>,
}

impl AlertQuery {
    /// The store's filter; an unknown status or severity is a 400, like any bad query string.
    fn filter(self) -> Result<Filter, AppError> {
        let nonempty = |v: Option<String>| v.filter(|t| !t.trim().is_empty());
        let status = nonempty(self.status)
            .map(|t| {
                Status::parse(t.trim()).ok_or_else(|| {
                    AppError::BadRequest(format!(
                        "status must be triggered, acknowledged or resolved, not {t:?}"
                    ))
                })
            })
            .transpose()?;
        let severity = nonempty(self.severity)
            .map(|t| {
                store::parse_severity(t.trim()).ok_or_else(|| {
                    AppError::BadRequest(format!(
                        "severity must be critical, error, warning or info, not {t:?}"
                    ))
                })
            })
            .transpose()?;
        Ok(Filter {
            status,
            service: nonempty(self.service),
            severity,
            before: self.before,
            limit: self.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT),
        })
    }
}

async fn list_alerts(
    _: Principal,
    State(s): State<AppState>,
    ApiQuery(query): ApiQuery<AlertQuery>,
) -> Result<Json<Vec<Alert>>, AppError> {
    Ok(Json(store::list(&s.db, &query.filter()?).await?))
}

/// An alert with its full event log, oldest entry first.
#[derive(Serialize, ToSchema)]
pub struct AlertDetail {
    #[serde(flatten)]
    pub alert: Alert,
    pub log: Vec<LogEntry>,
}

async fn get_alert(
    _: Principal,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<AlertDetail>, AppError> {
    let (alert, log) = store::get(&s.db, &id).await?;
    Ok(Json(AlertDetail { alert, log }))
}

/// Acknowledges or resolves in one transaction; acknowledging twice is a 200 that changes
/// nothing, anything on a resolved alert a 409.
async fn act(s: &AppState, id: &str, action: PersonAction, by: &str) -> Result<Alert, AppError> {
    let mut tx = s.db.begin().await?;
    let (alert, _changed) = store::act(&mut tx, id, action, by, s.clock.now_ms()).await?;
    tx.commit().await?;
    Ok(alert)
}

async fn acknowledge(
    Responder(p): Responder,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Alert>, AppError> {
    Ok(Json(
        act(&s, &id, PersonAction::Acknowledge, &p.name).await?,
    ))
}

async fn resolve(
    Responder(p): Responder,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Alert>, AppError> {
    Ok(Json(act(&s, &id, PersonAction::Resolve, &p.name).await?))
}
