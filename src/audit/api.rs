//! The audit log over HTTP, for admins: newest first, paged with `before` (the last id seen).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::extract::Admin;
use crate::http::AppState;
use crate::http::error::AppError;
use crate::http::json::ApiQuery;

use super::{Entry, store};

/// Entries per page when the caller does not say, and the most they may ask for.
const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 500;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/audit", get(list))
}

/// Query of `GET /api/v1/audit`.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct Page {
    /// How many entries, 1 to 500 (larger values are capped); 50 when absent.
    pub limit: Option<u32>,
    /// Only entries with an id below this one: pass the last id of the previous page.
    pub before: Option<i64>,
}

async fn list(
    _: Admin,
    State(s): State<AppState>,
    ApiQuery(page): ApiQuery<Page>,
) -> Result<Json<Vec<Entry>>, AppError> {
    let limit = page.limit.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 {
        return Err(AppError::BadRequest("limit must be at least 1".into()));
    }
    let limit = i64::from(limit.min(MAX_LIMIT));
    Ok(Json(store::list(&s.db, limit, page.before).await?))
}
