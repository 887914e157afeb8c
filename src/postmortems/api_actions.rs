//! Action items across postmortems over the API: `GET /api/v1/actions` (viewers; filters by
//! team and state) and `POST /api/v1/postmortems/{id}/actions/{aid}/backlog` (responders):
//! export the item to the backlog now, or read its state again when it is there already.
//! `select` is the one filter and order the action-items page uses too. Adding, changing and
//! deleting one postmortem's items (`/api/v1/postmortems/{id}/actions…`) is here as well.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::Role;
use crate::auth::extract::Principal;
use crate::http::AppState;
use crate::http::error::AppError;
use crate::http::json::{ApiJson, ApiPath, ApiQuery};
use crate::oncall::api::Responder;

use super::api::run;
use super::command::{self, ActionInput};

use super::ActionItem;
use super::store::actions;

/// The most items the list reads (the page and the API show them all).
pub const MAX_ITEMS: u32 = 10_000;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/actions", get(list))
        .route("/api/v1/postmortems/{id}/actions/{aid}/backlog", post(sync))
        .route("/api/v1/postmortems/{id}/actions", post(add_action))
        .route(
            "/api/v1/postmortems/{id}/actions/{aid}",
            axum::routing::patch(update_action).delete(delete_action),
        )
}

/// Which items: open (not done here nor closed in the backlog), overdue (open and past their
/// due date), done.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateFilter {
    Open,
    Overdue,
    Done,
}

impl StateFilter {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "open" => Some(Self::Open),
            "overdue" => Some(Self::Overdue),
            "done" => Some(Self::Done),
            _ => None,
        }
    }

    fn keeps(self, a: &ActionItem, now: i64) -> bool {
        match self {
            Self::Open => !a.is_done(),
            Self::Overdue => a.is_overdue(now),
            Self::Done => a.is_done(),
        }
    }
}

/// Overdue first, then open, then done.
fn rank(a: &ActionItem, now: i64) -> u8 {
    if a.is_overdue(now) {
        0
    } else if !a.is_done() {
        1
    } else {
        2
    }
}

/// The items of `team` (all teams when None) in `state` (all when None), grouped by team
/// (items without a team last), overdue and open first, then by due date (none last).
pub fn select(
    mut items: Vec<ActionItem>,
    team: Option<&str>,
    state: Option<StateFilter>,
    now: i64,
) -> Vec<ActionItem> {
    items.retain(|a| team.is_none_or(|t| a.team == t) && state.is_none_or(|s| s.keeps(a, now)));
    items.sort_by(|x, y| {
        (
            x.team.is_empty(),
            &x.team,
            rank(x, now),
            x.due_at.is_none(),
            x.due_at,
            x.id,
        )
            .cmp(&(
                y.team.is_empty(),
                &y.team,
                rank(y, now),
                y.due_at.is_none(),
                y.due_at,
                y.id,
            ))
    });
    items
}

/// Query of `GET /api/v1/actions`.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ActionsQuery {
    /// Only this team's items (a catalog team id).
    pub team: Option<String>,
    /// `open`, `overdue` or `done`; all when absent.
    pub state: Option<String>,
}

async fn list(
    _: Principal,
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<ActionsQuery>,
) -> Result<Json<Vec<ActionItem>>, AppError> {
    let state = match q.state.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => Some(StateFilter::parse(v).ok_or_else(|| {
            AppError::BadRequest(format!("state must be open, overdue or done, not {v:?}"))
        })?),
    };
    let team = q.team.as_deref().map(str::trim).filter(|t| !t.is_empty());
    let items = actions::all(&s.db, false, MAX_ITEMS).await?;
    Ok(Json(select(items, team, state, s.clock.now_ms())))
}

async fn sync(
    p: Principal,
    State(s): State<AppState>,
    ApiPath((id, aid)): ApiPath<(i64, i64)>,
) -> Result<Json<ActionItem>, AppError> {
    p.require(Role::Responder)?;
    let b = s.settings.backlog.as_ref().ok_or_else(|| {
        AppError::Conflict("no backlog is configured ([backlog] settings)".into())
    })?;
    let item = super::backlog::sync_now(&s.db, b, id, aid, s.clock.now_ms()).await?;
    Ok(Json(item))
}

async fn add_action(
    Responder(p): Responder,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<ActionInput>,
) -> Result<impl IntoResponse, AppError> {
    let a = run(&s, &p, async |ctx| command::add_action(ctx, id, &b).await).await?;
    s.wake.notify_one();
    Ok((StatusCode::CREATED, Json(a)))
}

async fn update_action(
    Responder(p): Responder,
    State(s): State<AppState>,
    ApiPath((id, aid)): ApiPath<(i64, i64)>,
    ApiJson(b): ApiJson<ActionInput>,
) -> Result<Json<ActionItem>, AppError> {
    Ok(Json(
        run(&s, &p, async |ctx| {
            command::update_action(ctx, id, aid, &b).await
        })
        .await?,
    ))
}

async fn delete_action(
    Responder(p): Responder,
    State(s): State<AppState>,
    ApiPath((id, aid)): ApiPath<(i64, i64)>,
) -> Result<StatusCode, AppError> {
    run(&s, &p, async |ctx| {
        command::delete_action(ctx, id, aid).await
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
