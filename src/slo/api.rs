//! SLO endpoints beyond the catalog CRUD (`/api/v1/slos` comes from `catalog::api`): an
//! SLO's error budget at an instant, and the impairment responders record on an incident.

use axum::extract::State;
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::extract::Principal;
use crate::http::AppState;
use crate::http::error::AppError;
use crate::http::json::{ApiJson, ApiPath, ApiQuery};
use crate::oncall::api::Responder;
use crate::oncall::overrides::parse_time;

use super::budget::{self, Budget};
use super::store;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/slos/{id}/budget", get(budget_at))
        .route(
            "/api/v1/incidents/{id}/services/{service}/impairment",
            put(set_impairment),
        )
}

/// Query of `GET /api/v1/slos/{id}/budget`.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BudgetQuery {
    /// The end of the window: RFC 3339 or ms since the epoch (default: now).
    pub at: Option<String>,
}

/// A time in a body: ms since the epoch or RFC 3339 text.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Instant {
    Millis(i64),
    Text(String),
}

impl Instant {
    fn ms(&self, field: &str) -> Result<i64, AppError> {
        match self {
            Self::Millis(ms) => parse_time(&ms.to_string(), None),
            Self::Text(t) => parse_time(t, None),
        }
        .map_err(|e| AppError::invalid(format!("{field}: {e}")))
    }
}

/// When a service was impaired during an incident.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImpairmentBody {
    #[schema(value_type = i64)]
    pub from: Instant,
    #[schema(value_type = i64)]
    pub to: Instant,
}

/// The impairment as stored.
#[derive(Serialize, ToSchema)]
pub struct Impairment {
    pub incident_id: i64,
    pub service: String,
    pub from: i64,
    pub to: i64,
}

/// The budget of SLO `id` over its window ending at `at`.
pub async fn budget_of(s: &AppState, id: &str, at: i64) -> Result<Budget, AppError> {
    let snap = s.catalog().await?;
    let slo = snap.slo(id).ok_or(AppError::NotFound)?;
    let from = at - i64::from(slo.window_days) * budget::DAY_MS;
    let now = s.clock.now_ms();
    let items = store::service_impairments(&s.db, &slo.service, from, at, now).await?;
    Ok(budget::compute(slo, &items, at))
}

async fn budget_at(
    _: Principal,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<BudgetQuery>,
) -> Result<Json<Budget>, AppError> {
    let at = match q.at.as_deref().filter(|t| !t.trim().is_empty()) {
        Some(t) => parse_time(t, None).map_err(AppError::BadRequest)?,
        None => s.clock.now_ms(),
    };
    Ok(Json(budget_of(&s, &id, at).await?))
}

async fn set_impairment(
    Responder(p): Responder,
    State(s): State<AppState>,
    ApiPath((id, service)): ApiPath<(i64, String)>,
    ApiJson(b): ApiJson<ImpairmentBody>,
) -> Result<Json<Impairment>, AppError> {
    let (from, to) = (b.from.ms("from")?, b.to.ms("to")?);
    if to < from {
        return Err(AppError::invalid("`to` must not be before `from`"));
    }
    let snap = s.catalog().await?;
    let actor = crate::incidents::api::actor_of(&s, &snap, &p).await;
    let now = s.clock.now_ms();
    store::set_impairment(&s.db, id, &service, (from, to), &actor.name, now).await?;
    s.live.changed(id);
    Ok(Json(Impairment {
        incident_id: id,
        service,
        from,
        to,
    }))
}
