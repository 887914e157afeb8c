//! The action-items page, `/actions`: every postmortem's follow-ups in one place, grouped by
//! team, overdue and open ones first, with owner, type, due date, the postmortem, and the
//! backlog item with its last-read state (or the last export error). Viewers read it; the
//! "Export"/"Refresh" button (responders) sends one item to the backlog now, through the same
//! `backlog::sync_now` as the API.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use crate::auth::Role;
use crate::auth::extract::WebUser;
use crate::catalog::Catalog;
use crate::http::AppState;
use crate::http::error::AppError;
use crate::http::web::{Layout, OrPage, PageError};

use super::ActionItem;
use super::api_actions::{MAX_ITEMS, StateFilter, select};
use super::store::actions;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/actions", get(page))
        .route("/actions/{aid}/backlog", post(sync))
}

/// Strings, so a hand-edited URL gets a readable page rather than a bare 400.
#[derive(Deserialize)]
struct Filters {
    #[serde(default)]
    team: String,
    #[serde(default)]
    state: String,
}

/// One item as shown.
struct Row {
    id: i64,
    incident_id: i64,
    title: String,
    kind: &'static str,
    owner: String,
    due: String,
    overdue: bool,
    done: bool,
    backlog_key: String,
    backlog_url: String,
    backlog_state: String,
    backlog_error: String,
    /// "Export" (no backlog item yet) or "Refresh"; empty: no button.
    sync: &'static str,
}

struct Group {
    team: String,
    name: String,
    overdue: usize,
    rows: Vec<Row>,
}

struct Choice {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "postmortems/actions.html")]
struct ActionsPage {
    layout: Layout,
    groups: Vec<Group>,
    total: usize,
    teams: Vec<Choice>,
    states: Vec<Choice>,
    filtered: bool,
    /// Which backlog is configured (empty: none).
    backlog: &'static str,
}

fn date(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

fn row(a: ActionItem, c: &Catalog, now: i64, backlog: &'static str, can_sync: bool) -> Row {
    let exported = a.backlog_key.is_some();
    let sync = match (can_sync && a.status == "open", exported) {
        (false, _) => "",
        (true, false) if !backlog.is_empty() => "Export",
        (true, true) if a.backlog_kind.as_deref() == Some(backlog) && backlog != "webhook" => {
            "Refresh"
        }
        _ => "",
    };
    Row {
        id: a.id,
        incident_id: a.incident_id,
        overdue: a.is_overdue(now),
        done: a.is_done(),
        kind: a.kind.as_str(),
        owner: c
            .person(&a.owner)
            .map_or_else(|| a.owner.clone(), |p| p.name.clone()),
        due: a.due_at.map(date).unwrap_or_default(),
        title: a.title,
        backlog_key: a.backlog_key.unwrap_or_default(),
        backlog_url: a.backlog_url.unwrap_or_default(),
        backlog_state: a.backlog_state.unwrap_or_default(),
        backlog_error: a.backlog_error.unwrap_or_default(),
        sync,
    }
}

async fn page(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Query(q): Query<Filters>,
) -> Result<ActionsPage, PageError> {
    let (team, state) = (q.team.trim(), q.state.trim());
    let filter = match state {
        "" => None,
        v => Some(StateFilter::parse(v).ok_or_else(|| {
            PageError::new(
                &p,
                "actions",
                AppError::BadRequest(format!("State must be open, overdue or done, not {v:?}.")),
            )
        })?),
    };
    let snap = s.catalog().await.or_page(&p, "actions")?;
    let c = &snap.catalog;
    let now = s.clock.now_ms();
    let items = actions::all(&s.db, false, MAX_ITEMS)
        .await
        .or_page(&p, "actions")?;
    let all_teams: Vec<String> = {
        let mut t: Vec<String> = items.iter().map(|a| a.team.clone()).collect();
        t.extend(c.teams.iter().map(|t| t.id.clone()));
        t.retain(|t| !t.is_empty());
        t.sort();
        t.dedup();
        t
    };
    let team_name = |id: &str| match c.team(id) {
        _ if id.is_empty() => "No team".to_string(),
        Some(t) => t.name.clone(),
        None => id.to_string(),
    };
    let backlog = s.settings.backlog.as_ref().map_or("", |b| b.kind());
    let can_sync = p.role >= Role::Responder;
    let items = select(items, (!team.is_empty()).then_some(team), filter, now);
    let total = items.len();
    let mut groups: Vec<Group> = Vec::new();
    for a in items {
        if groups.last().is_none_or(|g| g.team != a.team) {
            groups.push(Group {
                team: a.team.clone(),
                name: team_name(&a.team),
                overdue: 0,
                rows: Vec::new(),
            });
        }
        if let Some(g) = groups.last_mut() {
            g.overdue += usize::from(a.is_overdue(now));
            g.rows.push(row(a, c, now, backlog, can_sync));
        }
    }
    let teams = all_teams
        .iter()
        .map(|t| Choice {
            value: t.clone(),
            label: team_name(t),
            selected: t == team,
        })
        .collect();
    let states = [
        ("", "Any state"),
        ("open", "Open"),
        ("overdue", "Overdue"),
        ("done", "Done"),
    ]
    .into_iter()
    .map(|(v, l)| Choice {
        value: v.into(),
        label: l.into(),
        selected: v == state,
    })
    .collect();
    Ok(ActionsPage {
        layout: Layout::new(&p, "actions", "Action items"),
        groups,
        total,
        teams,
        states,
        filtered: !team.is_empty() || !state.is_empty(),
        backlog,
    })
}

#[derive(Deserialize)]
struct SyncForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    postmortem: i64,
}

async fn sync(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Path(aid): Path<i64>,
    Form(f): Form<SyncForm>,
) -> Result<Response, PageError> {
    p.require(Role::Responder).or_page(&p, "actions")?;
    p.check_csrf(&f.csrf).or_page(&p, "actions")?;
    let b = s
        .settings
        .backlog
        .as_ref()
        .ok_or_else(|| AppError::Conflict("No backlog is configured.".into()))
        .or_page(&p, "actions")?;
    super::backlog::sync_now(&s.db, b, f.postmortem, aid, s.clock.now_ms())
        .await
        .or_page(&p, "actions")?;
    Ok(Redirect::to(&format!("/actions#action-{aid}")).into_response())
}
