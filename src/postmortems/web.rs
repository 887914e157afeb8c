//! The postmortem pages: the library (`/postmortems`: full-text search and GET filters,
//! newest first, viewers see only published ones) and the routes of everything under `web/`
//! (one postmortem's page and its forms, the Markdown export and the print view, the live
//! preview fragment). Pages work without JavaScript; `static/postmortem.js` only adds a live
//! preview while typing. Forms are for responders and carry the session's CSRF token, like
//! the incident forms.

mod export;
mod forms;
mod page;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::Deserialize;

use crate::auth::extract::{Principal, WebUser};
use crate::catalog::Catalog;
use crate::http::AppState;
use crate::http::error::AppError;
use crate::http::web::{Layout, OrPage, PageError};
use crate::incidents::web::{Choice, SevView, choices, viewer};
use crate::oncall::current::{local_time, person_name};

use super::store::library::{self, Hit, Search};
use super::{PmStatus, workflow};

/// The navigation entry these pages belong to.
const ACTIVE: &str = "postmortems";
const SCRIPT: &str = include_str!("../../static/postmortem.js");
const CSS: &str = include_str!("../../static/postmortem.css");
const LIBRARY_LIMIT: u32 = 200;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/postmortems", get(library))
        .route("/postmortems/{id}", get(page::show))
        .route("/postmortems/{id}/export.md", get(export::markdown))
        .route("/postmortems/{id}/print", get(export::print))
        .route("/postmortems/{id}/preview", post(forms::preview))
        .route("/postmortems/{id}/sections/{key}", post(forms::section))
        .route("/postmortems/{id}/comments", post(forms::comment))
        .route("/postmortems/{id}/details", post(forms::details))
        .route("/postmortems/{id}/reviewers", post(forms::add_reviewer))
        .route(
            "/postmortems/{id}/reviewers/remove",
            post(forms::remove_reviewer),
        )
        .route("/postmortems/{id}/submit", post(forms::submit))
        .route("/postmortems/{id}/approve", post(forms::approve))
        .route("/postmortems/{id}/changes", post(forms::request_changes))
        .route("/postmortems/{id}/publish", post(forms::publish))
        .route("/postmortems/{id}/actions", post(forms::add_action))
        .route(
            "/postmortems/{id}/actions/{aid}",
            post(forms::update_action),
        )
        .route(
            "/postmortems/{id}/actions/{aid}/delete",
            post(forms::delete_action),
        )
        .route("/incidents/{id}/postmortem", post(forms::draft))
        .route("/static/postmortem.js", get(script))
        .route("/static/postmortem.css", get(css))
}

async fn script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        SCRIPT,
    )
}

async fn css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        CSS,
    )
}

/// A postmortem id from the URL ("12" or "INC-12": it is the incident's number).
fn pm_id(p: &Principal, raw: &str) -> Result<i64, PageError> {
    crate::incidents::parse_reference(raw)
        .ok_or_else(|| PageError::new(p, ACTIVE, AppError::NotFound))
}

/// Drafts and postmortems in review are working documents for responders; a published one
/// is for everyone.
fn may_read(p: &Principal, status: PmStatus) -> Result<(), PageError> {
    if status == PmStatus::Published {
        return Ok(());
    }
    p.require(crate::auth::Role::Responder).or_page(p, ACTIVE)
}

/// The start of `day` (YYYY-MM-DD) in zone `tz`, in epoch milliseconds.
fn day_start(day: &str, tz: &str) -> Option<i64> {
    let d: Date = day.trim().parse().ok()?;
    let zone = TimeZone::get(tz).unwrap_or(TimeZone::UTC);
    d.to_zoned(zone)
        .ok()
        .map(|z| z.timestamp().as_millisecond())
}

/// The catalog's people as choices, by name.
fn people(c: &Catalog, current: &str, skip: &[&str]) -> Vec<Choice> {
    let mut all: Vec<(&str, String)> = c
        .people
        .iter()
        .filter(|x| !skip.contains(&x.id.as_str()))
        .map(|x| (x.id.as_str(), x.name.clone()))
        .collect();
    all.sort_by(|a, b| a.1.cmp(&b.1));
    choices(all, current)
}

fn teams(c: &Catalog, current: &str) -> Vec<Choice> {
    let mut all: Vec<(&str, String)> = c
        .teams
        .iter()
        .map(|x| (x.id.as_str(), x.name.clone()))
        .collect();
    all.sort_by(|a, b| a.1.cmp(&b.1));
    choices(all, current)
}

#[derive(Deserialize, Default)]
struct LibraryQuery {
    q: Option<String>,
    service: Option<String>,
    severity: Option<String>,
    team: Option<String>,
    status: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

/// One postmortem as a row of the library.
struct Row {
    id: i64,
    reference: String,
    title: String,
    status: &'static str,
    status_label: &'static str,
    severity: SevView,
    owner: String,
    date: String,
    due: String,
    overdue: bool,
}

impl Row {
    fn new(c: &Catalog, h: &Hit, tz: &str, now: i64) -> Self {
        let status = PmStatus::parse(&h.status).unwrap_or(PmStatus::Draft);
        Self {
            id: h.incident_id,
            reference: format!("INC-{}", h.incident_id),
            title: h.title.clone(),
            status: status.as_str(),
            status_label: status.label(),
            severity: SevView::new(c, &h.severity),
            owner: if h.owner.is_empty() {
                String::new()
            } else {
                person_name(c, &h.owner)
            },
            date: local_time(h.started_at, tz),
            due: h.due_at.map(|d| local_time(d, tz)).unwrap_or_default(),
            overdue: status != PmStatus::Published && workflow::overdue(h.due_at, now),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "postmortems/library.html")]
struct LibraryPage {
    layout: Layout,
    q: String,
    from: String,
    to: String,
    services: Vec<Choice>,
    severities: Vec<Choice>,
    teams: Vec<Choice>,
    statuses: Vec<Choice>,
    filtered: bool,
    published_only: bool,
    tz: String,
    rows: Vec<Row>,
}

async fn library(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Query(q): Query<LibraryQuery>,
) -> Result<LibraryPage, PageError> {
    let bad = |m: String| PageError::new(&p, ACTIVE, AppError::BadRequest(m));
    let trim = |v: &Option<String>| v.as_deref().map_or("", str::trim).to_string();
    let (words, service, severity) = (trim(&q.q), trim(&q.service), trim(&q.severity));
    let (team, status, from, to) = (trim(&q.team), trim(&q.status), trim(&q.from), trim(&q.to));
    let snap = s.catalog().await.or_page(&p, ACTIVE)?;
    let c = &snap.catalog;
    let v = viewer(&s.db, &snap, &p).await.or_page(&p, ACTIVE)?;
    let published_only = !p.is_responder();
    let mut search = Search {
        words: words.split_whitespace().map(str::to_string).collect(),
        published_only,
        limit: LIBRARY_LIMIT,
        ..Search::default()
    };
    if !status.is_empty() {
        let st = PmStatus::parse(&status).ok_or_else(|| {
            bad(format!(
                "status must be draft, in_review or published, not {status:?}"
            ))
        })?;
        search.status = Some(st.as_str().to_string());
    }
    if !severity.is_empty() {
        if c.severity(&severity).is_none() {
            return Err(bad(format!("unknown severity {severity:?}")));
        }
        search.severity = Some(severity.clone());
    }
    if !service.is_empty() && c.service(&service).is_none() {
        return Err(bad(format!("unknown service {service:?}")));
    }
    if !team.is_empty() && c.team(&team).is_none() {
        return Err(bad(format!("unknown team {team:?}")));
    }
    // A team stands for its services; with a service too, the service must be one of them.
    let mut services: Vec<String> = c
        .services
        .iter()
        .filter(|x| team.is_empty() || x.owner_team == team)
        .filter(|x| service.is_empty() || x.id == service)
        .map(|x| x.id.clone())
        .collect();
    let scoped = !team.is_empty() || !service.is_empty();
    if !scoped {
        services.clear();
    }
    let date = |field: &str, raw: &str, next: bool| -> Result<Option<i64>, PageError> {
        if raw.is_empty() {
            return Ok(None);
        }
        let start = day_start(raw, &v.tz)
            .ok_or_else(|| bad(format!("{field} must be a date (YYYY-MM-DD), not {raw:?}")))?;
        // "To" includes its whole day.
        Ok(Some(if next { start + 86_400_000 } else { start }))
    };
    search.from = date("from", &from, false)?;
    search.to = date("to", &to, true)?;
    let now = s.clock.now_ms();
    let hits = if scoped && services.is_empty() {
        Vec::new()
    } else {
        search.services = services;
        let mut tx = s.db.begin_read().await.or_page(&p, ACTIVE)?;
        library::search(&mut tx, &search)
            .await
            .or_page(&p, ACTIVE)?
    };
    let rows = hits.iter().map(|h| Row::new(c, h, &v.tz, now)).collect();
    let mut service_list: Vec<(&str, String)> = c
        .services
        .iter()
        .map(|x| (x.id.as_str(), x.name.clone()))
        .collect();
    service_list.sort_by(|a, b| a.1.cmp(&b.1));
    let status_list = PmStatus::ALL.map(|x| (x.as_str(), x.label().to_string()));
    Ok(LibraryPage {
        layout: Layout::new(&p, ACTIVE, "Postmortems"),
        filtered: scoped
            || [&words, &severity, &status, &from, &to]
                .iter()
                .any(|x| !x.is_empty()),
        q: words,
        from,
        to,
        services: choices(service_list, &service),
        severities: choices(
            c.severities.iter().map(|x| (x.id.as_str(), x.name.clone())),
            &severity,
        ),
        teams: teams(c, &team),
        statuses: choices(status_list, &status),
        published_only,
        tz: v.tz,
        rows,
    })
}
