//! The audit log page, for admins: newest first, a page at a time, with a link to older
//! entries (`?before=ID`, keyset paging, so new entries never shift what a page shows).

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use serde::Deserialize;

use crate::auth::Role;
use crate::auth::extract::WebUser;
use crate::clock::format_ms;
use crate::http::AppState;
use crate::http::error::AppError;
use crate::http::web::{Layout, OrPage, PageError};

use super::store;

const PAGE: usize = 50;

pub fn router() -> Router<AppState> {
    Router::new().route("/audit", get(page))
}

/// `before` stays a string: a hand-edited URL should get a readable page, not a bare 400.
#[derive(Deserialize)]
struct Paging {
    #[serde(default)]
    before: String,
}

/// One row as shown: `iso` for the `<time>` element, `when` for people.
struct Row {
    iso: String,
    when: String,
    actor: String,
    action: String,
    target: String,
    detail: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "audit.html")]
struct AuditPage {
    layout: Layout,
    rows: Vec<Row>,
    /// Where the "older" link points, when there are older entries.
    older: Option<i64>,
    /// True when this is not the newest page (offer a way back).
    paged: bool,
}

/// "2024-06-17T09:00:00Z" → "2024-06-17 09:00:00 UTC".
fn readable(iso: &str) -> String {
    match iso.strip_suffix('Z') {
        Some(t) => format!("{} UTC", t.replacen('T', " ", 1)),
        None => iso.to_string(),
    }
}

async fn page(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Query(q): Query<Paging>,
) -> Result<AuditPage, PageError> {
    p.require(Role::Admin).or_page(&p, "audit")?;
    let before = match q.before.trim() {
        "" => None,
        b => Some(
            b.parse::<i64>()
                .map_err(|_| AppError::BadRequest("`before` must be an entry number.".into()))
                .or_page(&p, "audit")?,
        ),
    };
    // One more than a page tells us whether an "older" link leads anywhere.
    let mut entries = store::list(&s.db, PAGE as i64 + 1, before)
        .await
        .or_page(&p, "audit")?;
    let more = entries.len() > PAGE;
    entries.truncate(PAGE);
    let older = if more {
        entries.last().map(|e| e.id)
    } else {
        None
    };
    let rows = entries
        .into_iter()
        .map(|e| {
            let iso = format_ms(e.at);
            Row {
                when: readable(&iso),
                iso,
                actor: e.actor,
                action: e.action,
                target: e.target,
                detail: e.detail,
            }
        })
        .collect();
    Ok(AuditPage {
        layout: Layout::new(&p, "audit", "Audit log"),
        rows,
        older,
        paged: before.is_some(),
    })
}
