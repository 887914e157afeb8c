//! Calendar feeds: read-only iCalendar URLs of a schedule's shifts or of one person's shifts
//! across every schedule, for a year ahead. Calendar clients can only fetch a URL, so the
//! secret travels in the query string (`?token=`); it is read-only, revocable, shown once and
//! stored hashed. A wrong, revoked or mismatched token answers 404, like a feed that does not
//! exist, so a guesser learns nothing.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};

use crate::audit;
use crate::auth::{hash_secret, new_secret};
use crate::catalog::Catalog;
use crate::db::{Db, StoreError};
use crate::http::AppState;

use super::ical::{Calendar, Event, render};
use super::{Override, Schedule, rotation, store};

/// How far past "now" a feed reaches.
pub const AHEAD_MS: i64 = 365 * 24 * 3_600_000;
/// How far back shifts are resolved, so the shift in progress keeps its real start (and with
/// it its UID) instead of starting "now" on every fetch. Merged shifts longer than this (one
/// person alone on a schedule for months) start at the look-back edge.
const LOOKBACK_MS: i64 = 92 * 24 * 3_600_000;

/// What a feed token reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FeedScope {
    Schedule,
    Person,
}

impl FeedScope {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Schedule => "schedule",
            Self::Person => "person",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Schedule, Self::Person]
            .into_iter()
            .find(|k| k.as_str() == s)
    }

    /// The URL segment under `/ical/`.
    fn segment(self) -> &'static str {
        match self {
            Self::Schedule => "schedules",
            Self::Person => "people",
        }
    }
}

/// A feed token as listed (never with its secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FeedToken {
    pub id: String,
    pub scope: FeedScope,
    pub scope_id: String,
    pub created_by: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

/// The path (with the secret) a calendar client subscribes to.
pub fn feed_path(scope: FeedScope, scope_id: &str, secret: &str) -> String {
    format!(
        "/ical/{}/{}.ics?token={secret}",
        scope.segment(),
        crate::auth::extract::encode(scope_id)
    )
}

/// Creates a feed token for a schedule or person of `c` and returns it with its secret (the
/// only time the secret exists in clear). NotFound when the catalog has no such record.
pub async fn create_feed(
    db: &Db,
    c: &Catalog,
    now: i64,
    actor: &str,
    scope: FeedScope,
    scope_id: &str,
) -> Result<(FeedToken, String), StoreError> {
    let known = match scope {
        FeedScope::Schedule => c.schedule(scope_id).is_some(),
        FeedScope::Person => c.person(scope_id).is_some(),
    };
    if !known {
        return Err(StoreError::NotFound);
    }
    let secret = new_secret("tcf_");
    let token = FeedToken {
        id: new_secret("")[..12].to_string(),
        scope,
        scope_id: scope_id.to_string(),
        created_by: actor.to_string(),
        created_at: now,
        revoked_at: None,
    };
    let mut tx = db.begin().await?;
    store::insert_feed_token(&mut tx, &token, &hash_secret(&secret)).await?;
    let target = format!("feed {}", token.id);
    let detail = format!("{} {}", scope.as_str(), scope_id);
    audit::store::record(&mut tx, now, actor, "feed.create", &target, &detail).await?;
    tx.commit().await?;
    Ok((token, secret))
}

/// Revokes a feed token; NotFound when there is no unrevoked token with this id.
pub async fn revoke_feed(
    db: &Db,
    now: i64,
    actor: &str,
    id: &str,
) -> Result<FeedToken, StoreError> {
    let mut tx = db.begin().await?;
    let token = store::revoke_feed_token(&mut tx, id, now).await?;
    let detail = format!("{} {}", token.scope.as_str(), token.scope_id);
    audit::store::record(
        &mut tx,
        now,
        actor,
        "feed.revoke",
        &format!("feed {id}"),
        &detail,
    )
    .await?;
    tx.commit().await?;
    Ok(token)
}

/// The window of overrides a feed built at `now` needs.
pub fn window(now: i64) -> (i64, i64) {
    (now - LOOKBACK_MS, now + AHEAD_MS)
}

/// The events of `schedule` from now to a year ahead, of `only` one person when given. Shifts
/// already over are left out; gaps (nobody on call) are not events.
fn schedule_events(
    c: &Catalog,
    overrides: &[Override],
    schedule: &Schedule,
    now: i64,
    only: Option<&str>,
) -> Vec<Event> {
    let (from, to) = window(now);
    // Stored schedules were validated; one that still fails to resolve contributes nothing
    // rather than breaking every subscriber's calendar.
    let Ok(shifts) = rotation::shifts(schedule, overrides, from, to) else {
        return Vec::new();
    };
    shifts
        .into_iter()
        .filter(|s| s.end > now)
        .filter_map(|s| {
            let person = s.person?;
            if only.is_some_and(|o| o != person) {
                return None;
            }
            let name = c.person(&person).map_or(person.as_str(), |p| &p.name);
            Some(Event {
                uid: format!("{}-{}@tocsin", schedule.id, s.start),
                start: s.start,
                end: s.end,
                summary: format!("On call: {name} ({})", schedule.name),
                description: format!(
                    "{name} is on call for {} (time zone {}).",
                    schedule.name, schedule.time_zone
                ),
            })
        })
        .collect()
}

/// The calendar a token reads, or None when what it names is gone from the catalog.
pub fn calendar_for(
    c: &Catalog,
    overrides: &[Override],
    scope: FeedScope,
    id: &str,
    now: i64,
) -> Option<Calendar> {
    match scope {
        FeedScope::Schedule => {
            let schedule = c.schedule(id)?;
            Some(Calendar {
                name: format!("On call: {}", schedule.name),
                events: schedule_events(c, overrides, schedule, now, None),
            })
        }
        FeedScope::Person => {
            let person = c.person(id)?;
            let mut events: Vec<Event> = c
                .schedules
                .iter()
                .flat_map(|s| schedule_events(c, overrides, s, now, Some(id)))
                .collect();
            events.sort_by(|a, b| a.start.cmp(&b.start).then(a.uid.cmp(&b.uid)));
            Some(Calendar {
                name: format!("On call: {}", person.name),
                events,
            })
        }
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ical/schedules/{file}", get(schedule_feed))
        .route("/ical/people/{file}", get(person_feed))
}

#[derive(Deserialize)]
struct TokenQuery {
    #[serde(default)]
    token: String,
}

async fn schedule_feed(
    State(s): State<AppState>,
    Path(file): Path<String>,
    Query(q): Query<TokenQuery>,
) -> Response {
    feed(&s, FeedScope::Schedule, &file, &q.token).await
}

async fn person_feed(
    State(s): State<AppState>,
    Path(file): Path<String>,
    Query(q): Query<TokenQuery>,
) -> Response {
    feed(&s, FeedScope::Person, &file, &q.token).await
}

/// Serves a feed when the token is live and names exactly this schedule or person.
async fn feed(s: &AppState, scope: FeedScope, file: &str, token: &str) -> Response {
    let not_found = || (StatusCode::NOT_FOUND, "not found\n").into_response();
    let Some(id) = file.strip_suffix(".ics") else {
        return not_found();
    };
    if token.is_empty() {
        return not_found();
    }
    let found = match store::active_feed_token(&s.db, &hash_secret(token)).await {
        Ok(t) => t,
        Err(StoreError::NotFound) => return not_found(),
        Err(e) => return crate::http::error::AppError::from(e).into_response(),
    };
    if found.scope != scope || found.scope_id != id {
        return not_found();
    }
    let now = s.clock.now_ms();
    let (from, to) = window(now);
    let built = async {
        let c = s.catalog().await?;
        let only = (scope == FeedScope::Schedule).then_some(id);
        let overrides = store::overrides(&s.db, only, from, to).await?;
        Ok::<_, StoreError>(calendar_for(&c, &overrides, scope, id, now))
    };
    match built.await {
        Ok(Some(calendar)) => (
            [
                (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
                // Clients poll; a few minutes of caching spares us without hiding a swap long.
                (header::CACHE_CONTROL, "private, max-age=300"),
            ],
            render(&calendar, now),
        )
            .into_response(),
        Ok(None) => not_found(),
        Err(e) => crate::http::error::AppError::from(e).into_response(),
    }
}
