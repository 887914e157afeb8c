//! What every page shares: the layout context (who is signed in, their CSRF token, which
//! navigation entry is active), HTML error pages, our stylesheet, and the home dashboard.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::auth::Role;
use crate::auth::extract::{Principal, WebUser};

use super::AppState;
use super::error::AppError;

const CSS: &str = include_str!("../../static/tocsin.css");

/// The navigation entries, in order: (key, label, href).
pub const NAV: [(&str, &str, &str); 13] = [
    ("home", "Home", "/"),
    ("incidents", "Incidents", "/incidents"),
    ("postmortems", "Postmortems", "/postmortems"),
    ("actions", "Action items", "/actions"),
    ("alerts", "Alerts", "/alerts"),
    ("services", "Services", "/services"),
    ("functions", "Business functions", "/business-functions"),
    ("teams", "Teams", "/teams"),
    ("people", "People", "/people"),
    ("schedules", "Schedules", "/schedules"),
    ("reports", "Reports", "/reports"),
    ("handbook", "Handbook", "/handbook"),
    ("audit", "Audit log", "/audit"),
];

/// The context `base.html` needs; every page template has a `layout` field of this type.
pub struct Layout {
    pub title: String,
    pub active: &'static str,
    pub user: String,
    pub role: Role,
    pub csrf: String,
}

impl Layout {
    pub fn new(p: &Principal, active: &'static str, title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            active,
            user: p.name.clone(),
            role: p.role,
            csrf: p.csrf.clone(),
        }
    }

    /// The navigation to show this person (the audit log is for admins).
    pub fn nav(&self) -> Vec<(&'static str, &'static str, &'static str)> {
        NAV.into_iter()
            .filter(|(k, _, _)| *k != "audit" || self.role >= Role::Admin)
            .collect()
    }

    pub fn is_active(&self, key: &str) -> bool {
        self.active == key
    }

    pub fn is_admin(&self) -> bool {
        self.role >= Role::Admin
    }
}

/// An error shown as an HTML page inside the layout (pages never answer with the API's JSON).
/// Boxed: it travels in every page handler's `Result`, and the happy path should stay small.
pub struct PageError(Box<PageErrorInner>);

struct PageErrorInner {
    layout: Layout,
    error: AppError,
}

impl PageError {
    /// `active` keeps the navigation pointing at the section the person was browsing.
    pub fn new(p: &Principal, active: &'static str, error: impl Into<AppError>) -> Self {
        Self(Box::new(PageErrorInner {
            layout: Layout::new(p, active, ""),
            error: error.into(),
        }))
    }
}

/// `result.or_page(&p, "services")?` turns a store or auth error into an HTML error page.
pub trait OrPage<T> {
    fn or_page(self, p: &Principal, active: &'static str) -> Result<T, PageError>;
}

impl<T, E: Into<AppError>> OrPage<T> for Result<T, E> {
    fn or_page(self, p: &Principal, active: &'static str) -> Result<T, PageError> {
        self.map_err(|e| PageError::new(p, active, e))
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Layout,
    status: u16,
    message: String,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let PageErrorInner { mut layout, error } = *self.0;
        let status = error.status();
        let retry_after = error.retry_after();
        let (title, message) = match &error {
            AppError::NotFound => (
                "Not found",
                "There is nothing here. It may have been renamed or removed from the catalog."
                    .to_string(),
            ),
            AppError::Forbidden(role) => (
                "Not allowed",
                format!("This page needs the {role} role. Ask an admin if you need access."),
            ),
            AppError::BadRequest(m) => ("Bad request", m.clone()),
            AppError::Internal(cause) => {
                // Logged here because the person only sees that it is our fault, not why.
                tracing::error!(%cause, "internal error on a page");
                (
                    "Something went wrong",
                    "This is our fault, not yours; it has been logged. Try again in a moment."
                        .to_string(),
                )
            }
            AppError::Throttled { message, .. } => ("Too many requests", capitalised(message)),
            other => ("Error", other.to_string()),
        };
        layout.title = title.to_string();
        let page = ErrorPage {
            layout,
            status: status.as_u16(),
            message,
        };
        let mut response = (status, page).into_response();
        if let Some(wait) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, wait.into());
        }
        response
    }
}

/// A message written for the API ("a test went …") as the first sentence of a page.
fn capitalised(message: &str) -> String {
    let mut chars = message.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect::<String>() + "."
    })
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/static/tocsin.css", get(css))
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

/// One tier on the dashboard: how many services it holds.
struct TierCount {
    level: u8,
    description: String,
    count: usize,
}

/// A Tier 0 service on the dashboard, with its owner's name resolved.
struct Critical {
    id: String,
    name: String,
    team_id: String,
    team: String,
}

/// The home dashboard: who is on call now, then the catalog. Later features (open incidents)
/// add their panel data here and a `<section class="panel">` in `home.html`, above the
/// catalog panels.
#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
struct Home {
    layout: Layout,
    services: usize,
    tiers: Vec<TierCount>,
    functions: usize,
    critical_functions: usize,
    teams: usize,
    people: usize,
    tier0: Vec<Critical>,
    oncall: Vec<crate::oncall::current::OnCallView>,
    /// Open incidents, most recent first (at most `incidents::web::HOME_PANEL`).
    incidents: Vec<crate::incidents::web::Row>,
    /// The newest triggered alerts, and whether there are more than shown.
    alerts: Vec<crate::alerts::web::AlertRow>,
    more_alerts: bool,
    /// Pages Tocsin gave up sending: someone was not reached and must be told another way.
    failed_pages: Vec<FailedPage>,
}

/// A page that could not be delivered, for the dashboard.
struct FailedPage {
    alert_id: String,
    person: String,
    channel: String,
    error: String,
}

async fn home(State(s): State<AppState>, WebUser(p): WebUser) -> Result<Home, PageError> {
    let c = s.catalog().await.or_page(&p, "home")?;
    let oncall = on_call_now(&s, &c).await.or_page(&p, "home")?;
    let incidents = crate::incidents::web::open_panel(&s.db, &c, &p, s.clock.now_ms())
        .await
        .or_page(&p, "home")?;
    let (alerts, more_alerts) = crate::alerts::web::unacknowledged(&s.db, &c)
        .await
        .or_page(&p, "home")?;
    let failed_pages = crate::engine::store::failed_messages(&s.db, 5)
        .await
        .or_page(&p, "home")?
        .into_iter()
        .map(|o| FailedPage {
            person: c
                .person(&o.person_id)
                .map_or_else(|| o.person_id.clone(), |x| x.name.clone()),
            alert_id: o.alert_id,
            channel: o.channel,
            error: o.last_error.unwrap_or_default(),
        })
        .collect();
    let tiers = c
        .tiers
        .iter()
        .map(|t| TierCount {
            level: t.level,
            description: t.description.clone(),
            count: c.services.iter().filter(|s| s.tier == t.level).count(),
        })
        .collect();
    let tier0 = c
        .services
        .iter()
        .filter(|s| s.tier == 0)
        .map(|s| Critical {
            id: s.id.clone(),
            name: s.name.clone(),
            team_id: s.owner_team.clone(),
            team: c
                .team(&s.owner_team)
                .map_or_else(|| s.owner_team.clone(), |t| t.name.clone()),
        })
        .collect();
    Ok(Home {
        layout: Layout::new(&p, "home", "Home"),
        services: c.services.len(),
        tiers,
        functions: c.business_functions.len(),
        critical_functions: c
            .business_functions
            .iter()
            .filter(|f| f.criticality == crate::catalog::Criticality::Critical)
            .count(),
        teams: c.teams.len(),
        people: c.people.len(),
        tier0,
        oncall,
        incidents,
        alerts,
        more_alerts,
        failed_pages,
    })
}

/// Every schedule's on-call person now, for the dashboard.
async fn on_call_now(
    s: &AppState,
    c: &crate::catalog::Catalog,
) -> Result<Vec<crate::oncall::current::OnCallView>, crate::db::StoreError> {
    use crate::oncall::current::{self, HORIZON_MS, OnCallView};
    let at = s.clock.now_ms();
    let found =
        crate::oncall::store::overrides(&s.db, None, at, at.saturating_add(HORIZON_MS)).await?;
    Ok(current::everyone(c, &found, at)
        .iter()
        .map(|o| OnCallView::new(c, o))
        .collect())
}
