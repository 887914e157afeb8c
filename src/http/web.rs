//! What every page shares: the layout context (who is signed in, their CSRF token, which
//! navigation entry is active), our stylesheet, and the home page.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use crate::auth::Role;
use crate::auth::extract::{Principal, WebUser};

use super::AppState;

const CSS: &str = include_str!("../../static/tocsin.css");

/// The navigation entries, in order: (key, label, href).
pub const NAV: [(&str, &str, &str); 7] = [
    ("home", "Home", "/"),
    ("services", "Services", "/services"),
    ("functions", "Business functions", "/business-functions"),
    ("teams", "Teams", "/teams"),
    ("people", "People", "/people"),
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

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
struct Home {
    layout: Layout,
}

async fn home(WebUser(p): WebUser) -> Home {
    Home {
        layout: Layout::new(&p, "home", "Tocsin"),
    }
}
