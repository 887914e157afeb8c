//! A playbook as people see it on an alert: the view model behind the partial
//! `templates/alerts/playbook.html` (steps as sanitised Markdown, a "Run" button per action),
//! a page that shows it alone (`/alerts/{id}/playbook`), and the routes that run an action
//! with one click: the form `POST /alerts/{id}/actions/{step}/run` (CSRF, responder role) and
//! `POST /api/v1/alerts/{id}/actions/{step}/run`. Steps are numbered from 1, as displayed.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use crate::auth::Role;
use crate::auth::extract::WebUser;
use crate::catalog::alerting::Playbook;
use crate::http::AppState;
use crate::http::error::AppError;
use crate::http::json::ApiPath;
use crate::http::web::{Layout, OrPage, PageError};
use crate::oncall::api::Responder;

use super::automation::{self, RunError, RunResult};
use super::store::{self, LogEntry};

/// One step as shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepView {
    pub number: usize,
    /// Sanitised HTML of a text step (empty for an action).
    pub html: String,
    pub action: Option<ActionView>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionView {
    pub name: String,
    pub method: String,
    pub auto: bool,
}

/// What the partial renders. `can_run` hides the buttons from viewers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlaybookView {
    pub alert_id: String,
    pub title: String,
    pub url: Option<String>,
    pub steps: Vec<StepView>,
    pub can_run: bool,
    pub csrf: String,
}

/// The view of `playbook` on alert `alert_id`.
pub fn view(playbook: &Playbook, alert_id: &str, can_run: bool, csrf: &str) -> PlaybookView {
    let steps = playbook
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| StepView {
            number: i + 1,
            html: s
                .text
                .as_deref()
                .map(crate::handbook::to_html)
                .unwrap_or_default(),
            action: s.action.as_ref().map(|a| ActionView {
                name: a.name.clone(),
                method: a.method.clone(),
                auto: a.auto,
            }),
        })
        .collect();
    PlaybookView {
        alert_id: alert_id.to_string(),
        title: playbook.title.clone(),
        url: playbook.url.clone(),
        steps,
        can_run,
        csrf: csrf.to_string(),
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/alerts/{id}/playbook", get(page))
        .route("/alerts/{id}/actions/{step}/run", post(run_form))
        .route("/api/v1/alerts/{id}/actions/{step}/run", post(run_api))
}

#[derive(Template, WebTemplate)]
#[template(path = "alerts/playbook_page.html")]
struct PlaybookPage {
    layout: Layout,
    alert_id: String,
    summary: String,
    playbook: Option<PlaybookView>,
    /// The alert's rule and action log lines, newest last.
    log: Vec<LogEntry>,
}

async fn page(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Path(id): Path<String>,
) -> Result<PlaybookPage, PageError> {
    let (alert, log) = store::get(&s.db, &id).await.or_page(&p, "alerts")?;
    let routing = automation::store::routing(&s.db, &id)
        .await
        .or_page(&p, "alerts")?;
    let c = s.catalog().await.or_page(&p, "alerts")?;
    let layout = Layout::new(&p, "alerts", format!("Playbook: {}", alert.summary));
    let playbook = routing
        .playbook
        .as_deref()
        .and_then(|id| c.playbook(id))
        .map(|pb| view(pb, &alert.id, p.is_responder(), &layout.csrf));
    let log = log
        .into_iter()
        .filter(|l| matches!(l.kind.as_str(), "rule" | "action" | "auto-resolve"))
        .collect();
    Ok(PlaybookPage {
        layout,
        alert_id: alert.id,
        summary: alert.summary,
        playbook,
        log,
    })
}

#[derive(Deserialize)]
struct RunForm {
    csrf: String,
}

fn run_error(e: RunError) -> AppError {
    match e {
        RunError::NoAction(_) => AppError::NotFound,
        RunError::Render(m) => AppError::invalid(m),
        RunError::Store(e) => e.into(),
    }
}

async fn run(s: &AppState, id: &str, step: &str, by: &str) -> Result<RunResult, AppError> {
    let step: usize = step.parse().map_err(|_| AppError::NotFound)?;
    let client =
        automation::client().map_err(|e| AppError::Internal(format!("http client: {e}")))?;
    let c = s.catalog().await?;
    automation::run_now(&s.db, &client, &c, id, step, by, s.clock.now_ms())
        .await
        .map_err(run_error)
}

async fn run_form(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Path((id, step)): Path<(String, String)>,
    Form(f): Form<RunForm>,
) -> Result<Response, PageError> {
    p.require(Role::Responder).or_page(&p, "alerts")?;
    p.check_csrf(&f.csrf).or_page(&p, "alerts")?;
    run(&s, &id, &step, &p.name).await.or_page(&p, "alerts")?;
    // The result is in the alert's log, shown on the page we return to.
    let back = format!("/alerts/{}#h-log", crate::auth::extract::encode(&id));
    Ok(Redirect::to(&back).into_response())
}

async fn run_api(
    Responder(p): Responder,
    State(s): State<AppState>,
    ApiPath((id, step)): ApiPath<(String, String)>,
) -> Result<Json<RunResult>, AppError> {
    Ok(Json(run(&s, &id, &step, &p.name).await?))
}
