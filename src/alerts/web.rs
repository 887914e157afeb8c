//! The alert pages people click: the list (`/alerts`: filters by service, status and severity
//! in a plain GET form, a limit, and "older" paging back in time), the home page's
//! "Unacknowledged alerts" panel, and the Acknowledge / Resolve forms (responders, CSRF). The
//! alert's own page is `web/detail.rs`. Everything works without JavaScript.

mod detail;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use crate::auth::Role;
use crate::auth::extract::{Principal, WebUser, encode};
use crate::catalog::Catalog;
use crate::clock::format_ms;
use crate::db::{Db, StoreError};
use crate::http::AppState;
use crate::http::error::AppError;
use crate::http::web::{Layout, OrPage, PageError};

use super::lifecycle::{Alert, PersonAction, Status};
use super::store::{self, Filter};

/// The list's page sizes; the first is the default.
const LIMITS: [u32; 3] = [50, 25, 100];
/// How many unacknowledged alerts the home page shows before "all of them".
pub const HOME_PANEL: u32 = 5;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/alerts", get(list))
        .route("/alerts/{id}", get(detail::page))
        .route("/alerts/{id}/acknowledge", post(acknowledge))
        .route("/alerts/{id}/resolve", post(resolve))
}

/// One alert as a table row (list page and home panel).
pub struct AlertRow {
    pub id: String,
    pub status: &'static str,
    /// Empty when the sender gave none.
    pub severity: &'static str,
    pub summary: String,
    pub service_id: String,
    pub service: String,
    pub created: String,
    pub event_count: i64,
    pub acknowledged_by: String,
}

impl AlertRow {
    pub fn new(c: &Catalog, a: &Alert) -> Self {
        Self {
            id: a.id.clone(),
            status: a.status.as_str(),
            severity: a.severity.map_or("", store::severity_str),
            summary: a.summary.clone(),
            service_id: a.service.clone(),
            // Alerts outlive services: a removed one shows by its id.
            service: c
                .service(&a.service)
                .map_or_else(|| a.service.clone(), |s| s.name.clone()),
            created: format_ms(a.created_at),
            event_count: a.event_count,
            acknowledged_by: a.acknowledged_by.clone().unwrap_or_default(),
        }
    }
}

/// The newest triggered (unacknowledged) alerts for the home page, and whether there are more.
pub async fn unacknowledged(db: &Db, c: &Catalog) -> Result<(Vec<AlertRow>, bool), StoreError> {
    let filter = Filter {
        status: Some(Status::Triggered),
        limit: HOME_PANEL + 1,
        ..Filter::default()
    };
    let found = store::list(db, &filter).await?;
    let more = found.len() > HOME_PANEL as usize;
    let rows = found
        .iter()
        .take(HOME_PANEL as usize)
        .map(|a| AlertRow::new(c, a))
        .collect();
    Ok((rows, more))
}

/// The list's query string. Everything is text so that a bad value gets our own 400 page.
#[derive(Deserialize, Default)]
struct ListQuery {
    status: Option<String>,
    service: Option<String>,
    severity: Option<String>,
    limit: Option<String>,
    /// The last shown alert's `created_at` and id: the next page starts after it.
    before: Option<String>,
    before_id: Option<String>,
}

/// An option of a filter's `<select>`.
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

fn choices<'a>(all: impl IntoIterator<Item = (&'a str, String)>, current: &str) -> Vec<Choice> {
    all.into_iter()
        .map(|(value, label)| Choice {
            selected: value == current,
            value: value.to_string(),
            label,
        })
        .collect()
}

#[derive(Template, WebTemplate)]
#[template(path = "alerts/list.html")]
struct ListPage {
    layout: Layout,
    statuses: Vec<Choice>,
    severities: Vec<Choice>,
    services: Vec<Choice>,
    limits: Vec<Choice>,
    filtered: bool,
    paged: bool,
    rows: Vec<AlertRow>,
    /// The link to the next (older) page, when there is one.
    older: Option<String>,
    /// The current filters as a query string, for "back to the newest".
    newest: String,
}

fn nonempty(v: Option<&String>) -> &str {
    v.map_or("", |t| t.trim())
}

async fn list(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Query(q): Query<ListQuery>,
) -> Result<ListPage, PageError> {
    let bad = |m: String| PageError::new(&p, "alerts", AppError::BadRequest(m));
    let (status, service, severity) = (
        nonempty(q.status.as_ref()),
        nonempty(q.service.as_ref()),
        nonempty(q.severity.as_ref()),
    );
    let status_filter = match status {
        "" => None,
        t => Some(Status::parse(t).ok_or_else(|| {
            bad(format!(
                "status must be triggered, acknowledged or resolved, not {t:?}"
            ))
        })?),
    };
    let severity_filter = match severity {
        "" => None,
        t => Some(store::parse_severity(t).ok_or_else(|| {
            bad(format!(
                "severity must be critical, error, warning or info, not {t:?}"
            ))
        })?),
    };
    let limit = match nonempty(q.limit.as_ref()) {
        "" => LIMITS[0],
        t => t
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=super::api::MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                bad(format!(
                    "limit must be a number from 1 to {}, not {t:?}",
                    super::api::MAX_LIMIT
                ))
            })?,
    };
    let before = match nonempty(q.before.as_ref()) {
        "" => None,
        t => Some(
            t.parse::<i64>()
                .map_err(|_| bad(format!("before must be an instant in ms, not {t:?}")))?,
        ),
    };
    let before_id = Some(nonempty(q.before_id.as_ref())).filter(|t| !t.is_empty());
    let filter = Filter {
        status: status_filter,
        service: Some(service.to_string()).filter(|t| !t.is_empty()),
        severity: severity_filter,
        before,
        // One more than shown tells whether an older page exists.
        limit: limit + 1,
    };
    let mut found = store::list_page(&s.db, &filter, before_id)
        .await
        .or_page(&p, "alerts")?;
    let more = found.len() > limit as usize;
    found.truncate(limit as usize);
    let c = s.catalog().await.or_page(&p, "alerts")?;

    let mut query = Vec::new();
    for (k, v) in [
        ("service", service),
        ("status", status),
        ("severity", severity),
    ] {
        if !v.is_empty() {
            query.push(format!("{k}={}", encode(v)));
        }
    }
    if limit != LIMITS[0] {
        query.push(format!("limit={limit}"));
    }
    let newest = query.join("&");
    let older = found.last().filter(|_| more).map(|a| {
        let mut q = query.clone();
        q.push(format!(
            "before={}&before_id={}",
            a.created_at,
            encode(&a.id)
        ));
        format!("/alerts?{}", q.join("&"))
    });

    let mut services: Vec<(&str, String)> = c
        .services
        .iter()
        .map(|x| (x.id.as_str(), x.name.clone()))
        .collect();
    services.sort_by(|a, b| a.1.cmp(&b.1));
    if !service.is_empty() && c.service(service).is_none() {
        // A removed service's alerts stay findable by its id.
        services.push((service, service.to_string()));
    }
    let statuses = ["triggered", "acknowledged", "resolved"].map(|v| (v, v.to_string()));
    let severities = ["critical", "error", "warning", "info"].map(|v| (v, v.to_string()));
    let limit_text = limit.to_string();
    let mut limits: Vec<String> = LIMITS.iter().map(u32::to_string).collect();
    if !limits.contains(&limit_text) {
        limits.push(limit_text.clone());
    }
    Ok(ListPage {
        layout: Layout::new(&p, "alerts", "Alerts"),
        statuses: choices(statuses, status),
        severities: choices(severities, severity),
        services: choices(services, service),
        limits: choices(
            limits.iter().map(|l| (l.as_str(), format!("{l} per page"))),
            &limit_text,
        ),
        filtered: !(service.is_empty() && status.is_empty() && severity.is_empty()),
        paged: before.is_some(),
        rows: found.iter().map(|a| AlertRow::new(&c, a)).collect(),
        older,
        newest,
    })
}

/// The Acknowledge and Resolve forms; a missing token is refused like a wrong one.
#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn acknowledge(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, PageError> {
    act(&s, &p, &id, PersonAction::Acknowledge, &f.csrf).await
}

async fn resolve(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, PageError> {
    act(&s, &p, &id, PersonAction::Resolve, &f.csrf).await
}

/// Role, then CSRF, then the same transaction as the API's; back to the alert with a note of
/// what happened (a fixed word in the URL, never text from the request).
async fn act(
    s: &AppState,
    p: &Principal,
    id: &str,
    action: PersonAction,
    csrf: &str,
) -> Result<Response, PageError> {
    p.require(Role::Responder).or_page(p, "alerts")?;
    p.check_csrf(csrf).or_page(p, "alerts")?;
    let mut tx = s.db.begin().await.or_page(p, "alerts")?;
    let (_, changed) = store::act(&mut tx, id, action, &p.name, s.clock.now_ms())
        .await
        .or_page(p, "alerts")?;
    tx.commit().await.or_page(p, "alerts")?;
    let done = match (action, changed) {
        (PersonAction::Acknowledge, true) => "acknowledged",
        (PersonAction::Acknowledge, false) => "already-acknowledged",
        (PersonAction::Resolve, true) => "resolved",
        (PersonAction::Resolve, false) => "already-resolved",
    };
    Ok(Redirect::to(&format!("/alerts/{}?done={done}", encode(id))).into_response())
}
