//! The schedule and profile forms that change things: add and remove overrides (responders;
//! the checks and the audit entry are `overrides.rs`'s), create and revoke calendar feeds.
//! Every form carries the session's CSRF token; a wrong one is a 403 page.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use jiff::tz::TimeZone;
use serde::Deserialize;

use crate::auth::Role;
use crate::auth::extract::{Principal, WebUser, encode};
use crate::http::AppState;
use crate::http::error::AppError;
use crate::http::web::{Layout, OrPage, PageError};
use crate::oncall::feeds::{self, FeedScope};
use crate::oncall::overrides::{self, NewOverride};
use crate::oncall::store;

use super::calendar::monday;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/schedules/{id}/overrides", post(add_override))
        .route("/overrides/{id}/remove", post(remove_override))
        .route("/schedules/{id}/feeds", post(schedule_feed))
        .route("/people/{id}/feeds", post(person_feed))
        .route("/feeds/{id}/revoke", post(revoke_feed))
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

#[derive(Deserialize)]
struct OverrideForm {
    csrf: String,
    person: String,
    /// `datetime-local` values, in the schedule's zone.
    start: String,
    end: String,
    /// Empty: the override covers whoever is on call.
    #[serde(default)]
    replaces: String,
    #[serde(default)]
    reason: String,
}

/// Checks role and CSRF token, in that order, as a page error.
fn allow(p: &Principal, role: Role, csrf: &str, active: &'static str) -> Result<(), PageError> {
    p.require(role).or_page(p, active)?;
    p.check_csrf(csrf).or_page(p, active)
}

async fn add_override(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Path(id): Path<String>,
    Form(f): Form<OverrideForm>,
) -> Result<Response, PageError> {
    allow(&p, Role::Responder, &f.csrf, "schedules")?;
    let c = s.catalog().await.or_page(&p, "schedules")?;
    let schedule = c
        .schedule(&id)
        .ok_or(AppError::NotFound)
        .or_page(&p, "schedules")?;
    let tz = TimeZone::get(&schedule.time_zone).unwrap_or(TimeZone::UTC);
    let time = |field: &str, text: &str| {
        overrides::parse_time(text, Some(&tz))
            .map_err(|e| AppError::invalid(format!("{field}: {e}")))
            .or_page(&p, "schedules")
    };
    let new = NewOverride {
        schedule: id.clone(),
        person: f.person.trim().to_string(),
        start: time("from", &f.start)?,
        end: time("to", &f.end)?,
        replaces: Some(f.replaces.trim().to_string()).filter(|r| !r.is_empty()),
        reason: f.reason,
    };
    let o = overrides::create_override(&s.db, &c, s.clock.now_ms(), &p.name, &new)
        .await
        .or_page(&p, "schedules")?;
    // Back to the weeks that show the new override, at its entry in the list.
    let week = jiff::Timestamp::from_millisecond(o.start)
        .map(|t| monday(t.to_zoned(tz).date()).to_string())
        .unwrap_or_default();
    Ok(Redirect::to(&format!("/schedules/{}?week={week}#overrides", encode(&id))).into_response())
}

async fn remove_override(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, PageError> {
    allow(&p, Role::Responder, &f.csrf, "schedules")?;
    let o = overrides::remove_override(&s.db, s.clock.now_ms(), &p.name, &id)
        .await
        .or_page(&p, "schedules")?;
    Ok(Redirect::to(&format!("/schedules/{}#overrides", encode(&o.schedule))).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "feed_created.html")]
struct FeedCreated {
    layout: Layout,
    /// Where to go back to, and what the feed reads.
    back: String,
    what: String,
    url: String,
}

/// `https://host` as the browser reached us, for the absolute feed URL calendar apps need.
fn origin(s: &AppState, headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_graphic()))
        .unwrap_or("localhost");
    let scheme = if s.settings.secure_cookies {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}")
}

async fn create(
    s: &AppState,
    p: &Principal,
    headers: &HeaderMap,
    scope: FeedScope,
    id: &str,
) -> Result<FeedCreated, PageError> {
    let active = match scope {
        FeedScope::Schedule => "schedules",
        FeedScope::Person => "people",
    };
    let c = s.catalog().await.or_page(p, active)?;
    let (what, back) = match scope {
        FeedScope::Schedule => (
            c.schedule(id).map(|x| x.name.clone()),
            format!("/schedules/{}#feeds", encode(id)),
        ),
        FeedScope::Person => (
            c.person(id).map(|x| format!("{}'s shifts", x.name)),
            format!("/people/{}#feeds", encode(id)),
        ),
    };
    let what = what.ok_or(AppError::NotFound).or_page(p, active)?;
    let (_, secret) = feeds::create_feed(&s.db, &c, s.clock.now_ms(), &p.name, scope, id)
        .await
        .or_page(p, active)?;
    Ok(FeedCreated {
        layout: Layout::new(p, active, "Calendar feed"),
        back,
        url: format!(
            "{}{}",
            origin(s, headers),
            feeds::feed_path(scope, id, &secret)
        ),
        what,
    })
}

async fn schedule_feed(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(f): Form<CsrfForm>,
) -> Result<FeedCreated, PageError> {
    // Anyone who can read the schedule page can read its calendar.
    allow(&p, Role::Viewer, &f.csrf, "schedules")?;
    create(&s, &p, &headers, FeedScope::Schedule, &id).await
}

async fn person_feed(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(f): Form<CsrfForm>,
) -> Result<FeedCreated, PageError> {
    allow(&p, Role::Viewer, &f.csrf, "people")?;
    // A person's own feed: only from their own account (or by an admin).
    let own = crate::auth::store::account(&s.db, &p.name)
        .await
        .ok()
        .and_then(|a| a.person_id)
        .is_some_and(|person| person == id);
    if !own && !p.is_admin() {
        return Err(PageError::new(&p, "people", AppError::Forbidden("admin")));
    }
    create(&s, &p, &headers, FeedScope::Person, &id).await
}

async fn revoke_feed(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, PageError> {
    allow(&p, Role::Viewer, &f.csrf, "schedules")?;
    let all = store::list_feed_tokens(&s.db)
        .await
        .or_page(&p, "schedules")?;
    let token = all
        .iter()
        .find(|t| t.id == id && t.revoked_at.is_none())
        .ok_or(AppError::NotFound)
        .or_page(&p, "schedules")?;
    if token.created_by != p.name && !p.is_admin() {
        return Err(PageError::new(
            &p,
            "schedules",
            AppError::Forbidden("admin"),
        ));
    }
    let t = feeds::revoke_feed(&s.db, s.clock.now_ms(), &p.name, &id)
        .await
        .or_page(&p, "schedules")?;
    let back = match t.scope {
        FeedScope::Schedule => format!("/schedules/{}#feeds", encode(&t.scope_id)),
        FeedScope::Person => format!("/people/{}#feeds", encode(&t.scope_id)),
    };
    Ok(Redirect::to(&back).into_response())
}
