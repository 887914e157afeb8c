//! `GET /incidents/{id}/events`: the incident page's live feed, as server-sent events. Each
//! new timeline entry is one `entry` event (its id the entry's id, its data the same `<li>`
//! the page renders, so `Last-Event-ID` on reconnect resumes where the browser was), and a
//! `state` event carries the header (status, severity, role holders) whenever it changes.
//!
//! The database is the truth: a signal from `state.live` only says "look now", and a check
//! every two seconds catches changes written by another instance or missed by a lagging
//! channel. The stream ends when the server stops, so shutdown never waits on open pages.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use serde::Deserialize;
use tokio::sync::{broadcast, watch};

use crate::auth::extract::{Principal, WebUser};
use crate::db::StoreError;
use crate::http::AppState;
use crate::http::web::{OrPage, PageError};
use crate::incidents::store::{self, timeline};
use crate::incidents::{Role, RoleStint};
use crate::oncall::current::person_name;

use super::timeline::Renderer;
use super::{SevView, incident_id, viewer};

/// How often an open page checks the database even without a signal.
const CHECK_EVERY: Duration = Duration::from_secs(2);

#[derive(Deserialize, Default)]
pub struct EventsQuery {
    /// The last entry the page has (the page's `data-after`).
    after: Option<String>,
}

/// What one open page's stream needs between events.
struct Feed {
    s: AppState,
    id: i64,
    /// Entries above this id have not been sent.
    after: i64,
    tz: String,
    can_act: bool,
    csrf: String,
    /// The last `state` sent, so it is sent again only when it changes.
    last_state: String,
    queue: VecDeque<Event>,
    signals: broadcast::Receiver<i64>,
    stopping: watch::Receiver<bool>,
    tick: tokio::time::Interval,
}

/// The header as the script applies it.
fn state_json(
    c: &crate::catalog::Catalog,
    i: &crate::incidents::Incident,
    roles: &[RoleStint],
) -> String {
    let holder = |r: Role| {
        roles
            .iter()
            .rev()
            .find(|s| s.role == r && s.to_at.is_none())
            .map(|s| person_name(c, &s.person_id))
            .unwrap_or_default()
    };
    let sev = SevView::new(c, &i.severity);
    serde_json::json!({
        "status": i.status.as_str(),
        "severity": { "name": sev.name, "rank": sev.rank },
        "holders": {
            "commander": holder(Role::Commander),
            "ops": holder(Role::Ops),
            "comms": holder(Role::Comms),
        },
    })
    .to_string()
}

impl Feed {
    /// Reads what is new since the last look and queues its events.
    async fn refresh(&mut self) -> Result<(), StoreError> {
        let snap = self.s.catalog().await?;
        let mut tx = self.s.db.begin_read().await?;
        let incident = store::get(&mut tx, self.id).await?;
        let entries = timeline::entries(&mut tx, self.id, self.after).await?;
        let roles = timeline::roles(&mut tx, self.id).await?;
        drop(tx);
        let r = Renderer {
            incident: self.id,
            tz: &self.tz,
            can_act: self.can_act,
            csrf: &self.csrf,
        };
        for e in &entries {
            self.queue.push_back(
                Event::default()
                    .event("entry")
                    .id(e.id.to_string())
                    .data(r.entry(e)),
            );
            self.after = self.after.max(e.id);
        }
        let state = state_json(&snap.catalog, &incident, &roles);
        if state != self.last_state {
            self.queue
                .push_back(Event::default().event("state").data(state.clone()));
            self.last_state = state;
        }
        Ok(())
    }

    /// The next event, waiting for a signal or the periodic check; None ends the stream.
    async fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(e) = self.queue.pop_front() {
                return Some(e);
            }
            if *self.stopping.borrow() {
                return None;
            }
            tokio::select! {
                signal = self.signals.recv() => match signal {
                    Ok(id) if id != self.id => continue,
                    // Lagged: some signal for this incident may be among those missed.
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
                _ = self.tick.tick() => {}
                _ = self.stopping.changed() => return None,
            }
            match self.refresh().await {
                Ok(()) => {}
                // Deleted incidents do not happen; end the stream rather than spin if one did.
                Err(StoreError::NotFound) => return None,
                // A database hiccup: the next check tries again; the page keeps what it has.
                Err(e) => tracing::warn!(error = %e, incident = self.id, "live page check failed"),
            }
        }
    }
}

/// Where the stream starts: the browser's `Last-Event-ID` on reconnect, else the page's
/// `after`, else the newest entry now (only what happens from here on).
fn start_after(headers: &HeaderMap, q: &EventsQuery, newest: i64) -> i64 {
    let header = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok());
    let query = q
        .after
        .as_deref()
        .and_then(|v| v.trim().parse::<i64>().ok());
    header.or(query).unwrap_or(newest).max(0)
}

pub async fn stream(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Path(raw): Path<String>,
    Query(q): Query<EventsQuery>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let id = incident_id(&p, &raw)?;
    let newest = newest_entry(&s, &p, id).await?;
    let snap = s.catalog().await.or_page(&p, "incidents")?;
    let v = viewer(&s.db, &snap, &p).await.or_page(&p, "incidents")?;
    let mut tick = tokio::time::interval(CHECK_EVERY);
    // A page that was busy does not need the missed checks all at once.
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let feed = Feed {
        id,
        after: start_after(&headers, &q, newest),
        tz: v.tz,
        can_act: p.is_responder(),
        csrf: p.csrf.clone(),
        last_state: String::new(),
        queue: VecDeque::new(),
        // Subscribed before the first read, so no change falls between the two.
        signals: s.live.subscribe(),
        stopping: s.live.stopping(),
        tick,
        s,
    };
    let events = stream::unfold(feed, |mut f| async move {
        f.next().await.map(|e| (Ok::<Event, Infallible>(e), f))
    });
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response())
}

/// The incident's newest entry id (404 when there is no such incident).
async fn newest_entry(s: &AppState, p: &Principal, id: i64) -> Result<i64, PageError> {
    let mut tx = s.db.begin_read().await.or_page(p, "incidents")?;
    store::get(&mut tx, id).await.or_page(p, "incidents")?;
    let all = timeline::entries(&mut tx, id, 0)
        .await
        .or_page(p, "incidents")?;
    Ok(all.last().map_or(0, |e| e.id))
}
