//! The postmortem library over the API: search with filters (`GET /api/v1/postmortems`;
//! viewers see published ones only), one postmortem as Markdown in the reader's zone
//! (`GET /api/v1/postmortems/{id}/export.md`), and the blameless check on any text
//! (`POST /api/v1/blameless`, what an editor calls while someone writes).

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Role;
use crate::auth::extract::Principal;
use crate::http::AppState;
use crate::http::error::AppError;
use crate::http::json::{ApiJson, ApiPath, ApiQuery};
use crate::incidents::store as istore;

use super::api::{people_names, visible};
use super::blameless::{self, Flag};
use super::command;
use super::store::library::{Hit, Search};
use super::{PmFull, PmStatus, render, store};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/postmortems", get(library))
        .route("/api/v1/postmortems/{id}/export.md", get(export_md))
        .route("/api/v1/blameless", post(check))
}

/// The library's filters.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LibraryQuery {
    /// Words that must all appear in the title or a section.
    pub q: Option<String>,
    /// draft, in_review or published.
    pub status: Option<String>,
    pub severity: Option<String>,
    pub service: Option<String>,
    /// A team id: postmortems of incidents on the services it owns.
    pub team: Option<String>,
    /// Incidents that started at or after this instant (epoch ms).
    pub from: Option<i64>,
    /// … and before this one.
    pub to: Option<i64>,
    pub limit: Option<u32>,
}

/// Turns the query into a search; the team becomes its services.
pub fn search_of(
    q: &LibraryQuery,
    snap: &crate::catalog::snapshot::Snapshot,
    viewer: bool,
) -> Result<Search, AppError> {
    let some = |v: &Option<String>| {
        v.as_ref()
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
    };
    let status = some(&q.status);
    if let Some(st) = &status
        && PmStatus::parse(st).is_none()
    {
        return Err(AppError::BadRequest(format!(
            "status must be draft, in_review or published, not {st:?}"
        )));
    }
    let mut services: Vec<String> = some(&q.service).into_iter().collect();
    if let Some(team) = some(&q.team) {
        if snap.catalog.team(&team).is_none() {
            return Err(AppError::invalid(format!("unknown team {team:?}")));
        }
        let owned: Vec<String> = snap
            .catalog
            .services
            .iter()
            .filter(|x| x.owner_team == team)
            .map(|x| x.id.clone())
            .collect();
        services = if services.is_empty() {
            owned
        } else {
            services.into_iter().filter(|x| owned.contains(x)).collect()
        };
        if services.is_empty() {
            // A team with no services matches nothing, not everything.
            services.push(String::new());
        }
    }
    Ok(Search {
        words: q
            .q
            .as_deref()
            .unwrap_or("")
            .split_whitespace()
            .map(str::to_string)
            .collect(),
        status,
        severity: some(&q.severity),
        services,
        from: q.from,
        to: q.to,
        published_only: viewer,
        limit: q.limit.unwrap_or(100),
    })
}

async fn library(
    p: Principal,
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<LibraryQuery>,
) -> Result<Json<Vec<Hit>>, AppError> {
    let snap = s.catalog().await?;
    let search = search_of(&q, &snap, p.role < Role::Responder)?;
    let mut tx = s.db.begin_read().await?;
    Ok(Json(store::library::search(&mut tx, &search).await?))
}

/// The reader's time zone.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TzQuery {
    /// An IANA time zone for the times shown (default UTC).
    pub tz: Option<String>,
}

/// The postmortem as Markdown in zone `tz` (checked).
pub async fn markdown(s: &AppState, full: &PmFull, tz: &str) -> Result<String, AppError> {
    if jiff::tz::TimeZone::get(tz).is_err() {
        return Err(AppError::BadRequest(format!("unknown time zone {tz:?}")));
    }
    let incident = istore::full(&s.db, full.postmortem.incident_id).await?;
    let snap = s.catalog().await?;
    Ok(render::markdown(
        full,
        &incident,
        &snap.catalog,
        tz,
        s.clock.now_ms(),
    ))
}

async fn export_md(
    p: Principal,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<TzQuery>,
) -> Result<impl IntoResponse, AppError> {
    let full = visible(&s, &p, id).await?;
    let md = markdown(&s, &full, q.tz.as_deref().unwrap_or("UTC")).await?;
    let name = format!("attachment; filename=\"postmortem-INC-{id}.md\"");
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "text/markdown; charset=utf-8".to_string(),
            ),
            (header::CONTENT_DISPOSITION, name),
        ],
        md,
    ))
}

/// Text to check for blaming language.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckBody {
    pub text: String,
}

async fn check(
    _: Principal,
    State(s): State<AppState>,
    ApiJson(b): ApiJson<CheckBody>,
) -> Result<Json<Vec<Flag>>, AppError> {
    if b.text.len() > command::BODY_MAX {
        return Err(AppError::invalid("the text is too long to check"));
    }
    let snap = s.catalog().await?;
    Ok(Json(blameless::check(&b.text, &people_names(&snap))))
}
