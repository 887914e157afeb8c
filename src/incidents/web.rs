//! The incident pages people click: the list (`/incidents`, open first, GET filters), the
//! home page's "Open incidents" panel, and the routes of everything under `web/` (declaring,
//! the incident's page and its forms, the living document, the live event stream). Pages
//! work without JavaScript; `static/incident.js` only makes the incident page live. Every
//! form is for responders and carries the session's CSRF token, like the alert forms.

mod actions;
mod declare;
mod events;
pub(crate) mod page;
mod timeline;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde::Deserialize;

use crate::auth::extract::{Principal, WebUser};
use crate::catalog::Catalog;
use crate::catalog::snapshot::Snapshot;
use crate::db::{Db, StoreError};
use crate::http::AppState;
use crate::http::error::AppError;
use crate::http::web::{Layout, OrPage, PageError};
use crate::oncall::current::{local_time, person_name};

use super::command::Actor;
use super::metrics::duration_label;
use super::store::{self, Filter};
use super::{Incident, Role, Status};

const SCRIPT: &str = include_str!("../../static/incident.js");

/// How many incidents the list shows; the home panel shows at most [`HOME_PANEL`].
const LIST_LIMIT: u32 = 200;
pub const HOME_PANEL: u32 = 10;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/incidents", get(list).post(declare::submit))
        .route("/incidents/new", get(declare::form))
        .route("/incidents/{id}", get(page::show))
        .route("/incidents/{id}/document", get(page::document))
        .route("/incidents/{id}/events", get(events::stream))
        .route("/incidents/{id}/status", post(actions::status))
        .route("/incidents/{id}/severity", post(actions::severity))
        .route("/incidents/{id}/roles", post(actions::role))
        .route("/incidents/{id}/teams", post(actions::team))
        .route("/incidents/{id}/investigators", post(actions::investigator))
        .route("/incidents/{id}/subscribers", post(actions::subscribe))
        .route(
            "/incidents/{id}/subscribers/remove",
            post(actions::unsubscribe),
        )
        .route("/incidents/{id}/updates", post(actions::update))
        .route("/incidents/{id}/notes", post(actions::note))
        .route("/incidents/{id}/entries/{entry}/star", post(actions::star))
        .route("/alerts/{id}/incident", post(declare::from_alert))
        .route("/static/incident.js", get(script))
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

/// An incident id from the URL ("12" or "INC-12"); anything else is a page that is not there.
fn incident_id(p: &Principal, raw: &str) -> Result<i64, PageError> {
    super::parse_reference(raw).ok_or_else(|| PageError::new(p, "incidents", AppError::NotFound))
}

/// The status a refused command answers with when its page is shown again with the reason.
fn refused_status(e: &super::IncidentError) -> axum::http::StatusCode {
    use super::IncidentError as E;
    use axum::http::StatusCode;
    match e {
        E::NotFound => StatusCode::NOT_FOUND,
        E::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        E::Conflict(_) => StatusCode::CONFLICT,
        E::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Who is looking or acting: the time zone pages show times in (the linked person's, else
/// UTC) and the actor the timeline names.
pub(crate) struct Viewer {
    pub tz: String,
    pub actor: Actor,
}

pub(crate) async fn viewer(db: &Db, snap: &Snapshot, p: &Principal) -> Result<Viewer, StoreError> {
    // API tokens and accounts not linked to a person act under their own name, in UTC.
    let person = match crate::auth::store::account(db, &p.name).await {
        Ok(a) => a.person_id.filter(|id| snap.person(id).is_some()),
        Err(StoreError::NotFound) => None,
        Err(e) => return Err(e),
    };
    Ok(match person {
        Some(id) => Viewer {
            tz: snap
                .person(&id)
                .map_or_else(|| "UTC".into(), |x| x.time_zone.clone()),
            actor: Actor::person(snap, &id),
        },
        None => Viewer {
            tz: "UTC".into(),
            actor: Actor {
                name: p.name.clone(),
                person: None,
            },
        },
    })
}

/// A severity level as a badge: its name, and its rank (0 = most severe) for the colour.
pub struct SevView {
    pub id: String,
    pub name: String,
    pub rank: usize,
}

impl SevView {
    pub fn new(c: &Catalog, id: &str) -> Self {
        let rank = c.severities.iter().position(|s| s.id == id);
        Self {
            id: id.to_string(),
            name: c
                .severity(id)
                .map_or_else(|| id.to_string(), |s| s.name.clone()),
            // An unknown (removed) level shows as the least severe colour.
            rank: rank.unwrap_or(3).min(3),
        }
    }
}

/// One incident as a table row (list page and home panel).
pub struct Row {
    pub id: i64,
    pub reference: String,
    pub title: String,
    pub severity: SevView,
    pub status: &'static str,
    pub open: bool,
    /// The current Incident Commander's name, empty when the role is vacant.
    pub commander: String,
    pub declared: String,
    /// Since the trouble started, until it was resolved (or now).
    pub duration: String,
    /// Since it was declared.
    pub age: String,
}

impl Row {
    fn new(c: &Catalog, i: &Incident, commander: Option<&str>, tz: &str, now: i64) -> Self {
        let end = i.resolved_at.or(i.closed_at).unwrap_or(now);
        Self {
            id: i.id,
            reference: i.reference(),
            title: i.title.clone(),
            severity: SevView::new(c, &i.severity),
            status: i.status.as_str(),
            open: i.status.is_open(),
            commander: commander.map(|p| person_name(c, p)).unwrap_or_default(),
            declared: local_time(i.declared_at, tz),
            duration: duration_label(end - i.started_at),
            age: duration_label(now - i.declared_at),
        }
    }
}

/// Incidents matching `f` as rows, with their current commanders.
async fn rows(
    db: &Db,
    c: &Catalog,
    f: &Filter,
    tz: &str,
    now: i64,
) -> Result<Vec<Row>, StoreError> {
    let mut tx = db.begin_read().await?;
    let found = store::list(&mut tx, f).await?;
    let mut out = Vec::with_capacity(found.len());
    for i in &found {
        let roles = store::timeline::roles(&mut tx, i.id).await?;
        let ic = roles
            .iter()
            .rev()
            .find(|r| r.role == Role::Commander && r.to_at.is_none())
            .map(|r| r.person_id.as_str());
        out.push(Row::new(c, i, ic, tz, now));
    }
    Ok(out)
}

/// The open incidents for the home page (most recent first), in the viewer's zone.
pub async fn open_panel(
    db: &Db,
    snap: &Snapshot,
    p: &Principal,
    now: i64,
) -> Result<Vec<Row>, StoreError> {
    let v = viewer(db, snap, p).await?;
    let f = Filter {
        open: true,
        limit: HOME_PANEL,
        ..Filter::default()
    };
    rows(db, &snap.catalog, &f, &v.tz, now).await
}

/// An option of a `<select>`.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub fn choices<'a>(all: impl IntoIterator<Item = (&'a str, String)>, current: &str) -> Vec<Choice> {
    all.into_iter()
        .map(|(value, label)| Choice {
            selected: value == current,
            value: value.to_string(),
            label,
        })
        .collect()
}

#[derive(Deserialize, Default)]
struct ListQuery {
    status: Option<String>,
    severity: Option<String>,
    service: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "incidents/list.html")]
struct ListPage {
    layout: Layout,
    statuses: Vec<Choice>,
    severities: Vec<Choice>,
    services: Vec<Choice>,
    filtered: bool,
    rows: Vec<Row>,
    can_declare: bool,
}

async fn list(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Query(q): Query<ListQuery>,
) -> Result<ListPage, PageError> {
    let bad = |m: String| PageError::new(&p, "incidents", AppError::BadRequest(m));
    let trim = |v: &Option<String>| v.as_deref().map_or("", str::trim).to_string();
    let (status, severity, service) = (trim(&q.status), trim(&q.severity), trim(&q.service));
    let snap = s.catalog().await.or_page(&p, "incidents")?;
    let c = &snap.catalog;
    // Open is the default view: the incidents someone is working on now.
    let status = if status.is_empty() { "open" } else { &status };
    let mut f = Filter {
        limit: LIST_LIMIT,
        ..Filter::default()
    };
    match status {
        "open" => f.open = true,
        "all" => {}
        other => {
            f.status = Some(Status::parse(other).ok_or_else(|| {
                bad(format!(
                    "status must be open, all, or one of investigating, identified, \
                     monitoring, resolved, closed, not {other:?}"
                ))
            })?);
        }
    }
    if !severity.is_empty() {
        if c.severity(&severity).is_none() {
            return Err(bad(format!(
                "severity must be a severity level's id, not {severity:?}"
            )));
        }
        f.severity = Some(severity.clone());
    }
    if !service.is_empty() {
        f.service = Some(service.clone());
    }
    let v = viewer(&s.db, &snap, &p).await.or_page(&p, "incidents")?;
    let now = s.clock.now_ms();
    let rows = rows(&s.db, c, &f, &v.tz, now)
        .await
        .or_page(&p, "incidents")?;
    let mut statuses = vec![("open", "Open".to_string()), ("all", "All".to_string())];
    statuses.extend(Status::ALL.map(|x| (x.as_str(), x.as_str().to_string())));
    let severities = c.severities.iter().map(|x| (x.id.as_str(), x.name.clone()));
    let mut services: Vec<(&str, String)> = c
        .services
        .iter()
        .map(|x| (x.id.as_str(), x.name.clone()))
        .collect();
    services.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(ListPage {
        layout: Layout::new(&p, "incidents", "Incidents"),
        statuses: choices(statuses, status),
        severities: choices(severities, &severity),
        services: choices(services, &service),
        filtered: status != "open" || !severity.is_empty() || !service.is_empty(),
        rows,
        can_declare: p.is_responder(),
    })
}
