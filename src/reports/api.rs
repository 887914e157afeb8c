//! `GET /api/v1/reports/{name}`: a report as JSON, for viewers and up.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

use crate::auth::extract::Principal;
use crate::http::AppState;
use crate::http::error::AppError;
use crate::http::json::{ApiPath, ApiQuery};

use super::{Name, Query, Report, build};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/reports/{name}", get(report))
}

/// The report `name` for the query, as the API, the pages and the CLI all build it.
pub async fn report_for(s: &AppState, name: &str, q: &Query) -> Result<Report, AppError> {
    let name = Name::parse(name).ok_or(AppError::NotFound)?;
    let snap = s.catalog().await?;
    let now = s.clock.now_ms();
    let (period, filters) = q.resolve(&snap, now).map_err(AppError::BadRequest)?;
    Ok(build(&s.db, &snap, name, period, &filters, now).await?)
}

async fn report(
    _: Principal,
    State(s): State<AppState>,
    ApiPath(name): ApiPath<String>,
    ApiQuery(q): ApiQuery<Query>,
) -> Result<Json<Report>, AppError> {
    Ok(Json(report_for(&s, &name, &q).await?))
}
