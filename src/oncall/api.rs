//! On-call over the REST API: a schedule's overrides (list, create, delete), its shifts over a
//! range, and "who is on call" at an instant for every schedule, a team's or a service's.
//! Schedules themselves are catalog records with the generic CRUD in `catalog::api`.
//!
//! Times in query strings and bodies are RFC 3339 or integer milliseconds; a body's times may
//! also be local `YYYY-MM-DDTHH:MM` in the schedule's zone. A bad time in a query string is a
//! 400; in a well-formed body, or a range that makes no sense, a 422.

use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::IntoResponse;
use axum::routing::{delete, get};
use axum::{Json, Router};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Role;
use crate::auth::extract::Principal;
use crate::escalation::resolve::{self, ResolvedLevel};
use crate::http::AppState;
use crate::http::error::AppError;
use crate::http::json::{ApiJson, ApiPath, ApiQuery};

use super::current::{self, HORIZON_MS, OnCall};
use super::overrides::{self, MAX_OVERRIDE_MS, NewOverride, parse_time};
use super::{Override, Shift, store};

const WEEK_MS: i64 = 7 * 24 * 60 * 60 * 1000;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/schedules/{id}/overrides",
            get(list_overrides).post(create_override),
        )
        .route("/api/v1/overrides/{id}", delete(delete_override))
        .route("/api/v1/schedules/{id}/shifts", get(shifts))
        .route("/api/v1/oncall", get(oncall))
}

/// A caller with at least the responder role. As an extractor it answers 401/403 before the
/// body is read, so a viewer never learns whether their body would have been valid.
pub struct Responder(pub Principal);

impl FromRequestParts<AppState> for Responder {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let p = <Principal as FromRequestParts<AppState>>::from_request_parts(parts, state).await?;
        p.require(Role::Responder)?;
        Ok(Self(p))
    }
}

/// A time range; `from` defaults to now.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Range {
    /// RFC 3339 or ms since the epoch (default: now).
    pub from: Option<String>,
    /// RFC 3339 or ms since the epoch, exclusive.
    pub to: Option<String>,
}

/// Parses an optional query-string time (a 400 when it is not one).
fn query_time(text: Option<&str>, default: i64) -> Result<i64, AppError> {
    text.filter(|t| !t.trim().is_empty())
        .map_or(Ok(default), |t| parse_time(t, None))
        .map_err(AppError::BadRequest)
}

async fn list_overrides(
    _: Principal,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(range): ApiQuery<Range>,
) -> Result<Json<Vec<Override>>, AppError> {
    let c = s.catalog().await?;
    c.schedule(&id).ok_or(AppError::NotFound)?;
    // By default: what is current or still to come (overrides are at most a year long).
    let from = query_time(range.from.as_deref(), s.clock.now_ms())?;
    let to = query_time(range.to.as_deref(), i64::MAX)?;
    if from > to {
        return Err(AppError::invalid("`from` must not be after `to`"));
    }
    let mut found = store::overrides(&s.db, Some(&id), from, to).await?;
    found.sort_by(|a, b| a.start.cmp(&b.start).then(a.id.cmp(&b.id)));
    Ok(Json(found))
}

/// A time in a body: milliseconds since the epoch, or text (RFC 3339, or a local
/// `YYYY-MM-DDTHH:MM` in the schedule's zone).
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
pub enum TimeValue {
    Millis(i64),
    Text(String),
}

impl TimeValue {
    fn resolve(&self, field: &str, tz: &TimeZone) -> Result<i64, AppError> {
        match self {
            Self::Millis(ms) => parse_time(&ms.to_string(), None),
            Self::Text(t) => parse_time(t, Some(tz)),
        }
        .map_err(|e| AppError::invalid(format!("{field}: {e}")))
    }
}

/// An override to create on the schedule in the URL.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OverrideBody {
    /// Who covers (a person id).
    pub person: String,
    /// Inclusive.
    pub start: TimeValue,
    /// Exclusive; at most a year after `start`, and not in the past.
    pub end: TimeValue,
    /// Only cover where this person would have been on call (a swap); without it, cover
    /// whoever is on call.
    pub replaces: Option<String>,
    #[serde(default)]
    pub reason: String,
}

async fn create_override(
    Responder(p): Responder,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<OverrideBody>,
) -> Result<impl IntoResponse, AppError> {
    let c = s.catalog().await?;
    let schedule = c.schedule(&id).ok_or(AppError::NotFound)?;
    let tz = TimeZone::get(&schedule.time_zone).unwrap_or(TimeZone::UTC);
    let new = NewOverride {
        schedule: id.clone(),
        person: body.person,
        start: body.start.resolve("start", &tz)?,
        end: body.end.resolve("end", &tz)?,
        replaces: body.replaces.filter(|r| !r.is_empty()),
        reason: body.reason,
    };
    let created = overrides::create_override(&s.db, &c, s.clock.now_ms(), &p.name, &new).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

async fn delete_override(
    Responder(p): Responder,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, AppError> {
    overrides::remove_override(&s.db, s.clock.now_ms(), &p.name, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn shifts(
    _: Principal,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(range): ApiQuery<Range>,
) -> Result<Json<Vec<Shift>>, AppError> {
    let c = s.catalog().await?;
    let schedule = c.schedule(&id).ok_or(AppError::NotFound)?;
    let from = query_time(range.from.as_deref(), s.clock.now_ms())?;
    let to = query_time(range.to.as_deref(), from.saturating_add(WEEK_MS))?;
    if from > to {
        return Err(AppError::invalid("`from` must not be after `to`"));
    }
    if to - from > MAX_OVERRIDE_MS {
        return Err(AppError::invalid("the range may span at most a year"));
    }
    let found = store::overrides(&s.db, Some(&id), from, to).await?;
    let shifts = super::rotation::shifts(schedule, &found, from, to)
        .map_err(|e| AppError::invalid(e.to_string()))?;
    Ok(Json(shifts))
}

/// Which schedules to answer for; with none, every schedule.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OnCallQuery {
    /// RFC 3339 or ms since the epoch (default: now).
    pub at: Option<String>,
    /// Only this schedule.
    pub schedule: Option<String>,
    /// Only the schedules that answer for this team (its policy's, then its own).
    pub team: Option<String>,
    /// Only the schedules of this service's policy, and its first responders.
    pub service: Option<String>,
}

/// Who is on call at `at`.
#[derive(Serialize, ToSchema)]
pub struct OnCallAnswer {
    /// The instant asked about, ms since the epoch.
    pub at: i64,
    pub schedules: Vec<OnCall>,
    /// With `service=`: who it pages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<ServiceOnCall>,
}

/// Who a service pages at an instant, through its escalation policy.
#[derive(Serialize, ToSchema)]
pub struct ServiceOnCall {
    pub service: String,
    /// The policy's id (the service's own, else its owner team's); None when it has none.
    pub policy: Option<String>,
    /// Level 1's people, each once.
    pub first_responders: Vec<String>,
    pub levels: Vec<ResolvedLevel>,
}

async fn oncall(
    _: Principal,
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<OnCallQuery>,
) -> Result<Json<OnCallAnswer>, AppError> {
    let c = s.catalog().await?;
    let at = query_time(q.at.as_deref(), s.clock.now_ms())?;
    let mut schedules: Vec<&super::Schedule> = c.schedules.iter().collect();
    if let Some(id) = &q.schedule {
        c.schedule(id).ok_or(AppError::NotFound)?;
        schedules.retain(|sch| sch.id == *id);
    }
    if let Some(team) = &q.team {
        c.team(team).ok_or(AppError::NotFound)?;
        let ids: Vec<&str> = current::schedules_for_team(&c, team)
            .iter()
            .map(|sch| sch.id.as_str())
            .collect();
        schedules.retain(|sch| ids.contains(&sch.id.as_str()));
    }
    let found = store::overrides(&s.db, None, at, at.saturating_add(HORIZON_MS)).await?;
    let mut service = None;
    if let Some(id) = &q.service {
        let svc = c.service(id).ok_or(AppError::NotFound)?;
        let policy = c.policy_for_service(svc);
        let ids = policy.map(current::schedules_of).unwrap_or_default();
        schedules.retain(|sch| ids.contains(&sch.id.as_str()));
        service = Some(ServiceOnCall {
            service: id.clone(),
            policy: policy.map(|p| p.id.clone()),
            first_responders: resolve::first_responders(&c, &found, id, at),
            levels: policy
                .map(|p| resolve::resolve(&c, &found, p, at))
                .unwrap_or_default(),
        });
    }
    let mut answer: Vec<OnCall> = schedules
        .into_iter()
        .map(|sch| current::on_call(&c, &found, sch, at))
        .collect();
    answer.sort_by(|a, b| a.schedule_name.cmp(&b.schedule_name));
    Ok(Json(OnCallAnswer {
        at,
        schedules: answer,
        service,
    }))
}
