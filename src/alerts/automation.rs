//! Automation actions: the HTTP calls a playbook step makes for an alert, and their results in
//! the alert's log.
//!
//! A request is rendered from the action's templates ([`template`]) and sent with a 10 s
//! timeout and no redirects. Actions with `auto: true` are queued (`automation_runs`) in the
//! transaction that creates the alert, rendered at that moment, and run by [`run_due`], which
//! claims due rows with a lease like the outbox: a crashed instance's claims expire to another,
//! so an automatic action runs at least once. Network errors, 5xx, 408 and 429 are retried
//! ([`ATTEMPTS`] in all); other answers are final. The one-click "Run" is [`run_now`].

pub mod store;
pub mod template;

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::catalog::Catalog;
use crate::catalog::alerting::{Action, Playbook};
use crate::clock::Millis;
use crate::db::{Db, StoreError, Tx};

use super::AlertEvent;
use super::lifecycle::Alert;
use super::store::severity_str;
use template::{Context, Escape};

/// How long one call may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// How many times an automatic action is tried before it is marked failed.
pub const ATTEMPTS: i64 = 3;
/// A claim lasts well past the timeout, so a slow call is not run twice meanwhile.
const LEASE_MS: Millis = 60_000;
/// How much of a response body the log keeps.
const EXCERPT: usize = 200;

/// A rendered request, as queued and as sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
}

/// What a call did: the status and a short excerpt of the body, or the error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct RunResult {
    pub action: String,
    pub status: Option<u16>,
    pub excerpt: String,
    pub duration_ms: u64,
    pub error: Option<String>,
}

impl RunResult {
    pub fn ok(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }

    /// Whether another attempt might go differently.
    pub fn retryable(&self) -> bool {
        match self.status {
            None => true,
            Some(s) => s >= 500 || s == 408 || s == 429,
        }
    }

    /// The alert log's line: "restart cart pods: HTTP 200 in 35 ms: {…}".
    pub fn describe(&self) -> String {
        let ms = self.duration_ms;
        match (&self.error, self.status) {
            (Some(e), _) => format!("{}: failed after {ms} ms: {e}", self.action),
            (None, Some(s)) if self.excerpt.is_empty() => {
                format!("{}: HTTP {s} in {ms} ms", self.action)
            }
            (None, s) => format!(
                "{}: HTTP {} in {ms} ms: {}",
                self.action,
                s.unwrap_or(0),
                self.excerpt
            ),
        }
    }
}

/// The placeholders' values for an alert being created from `event`.
pub fn context(
    alert_id: &str,
    dedup_key: &str,
    event: &AlertEvent,
    service: (String, String),
) -> Context {
    Context {
        alert_id: alert_id.into(),
        summary: event.summary.clone(),
        severity: event.severity.map_or("", severity_str).into(),
        source: event.source.clone(),
        dedup_key: dedup_key.into(),
        labels: event.labels.clone(),
        annotations: event.annotations.clone(),
        service_id: service.0,
        service_name: service.1,
    }
}

/// The placeholders' values for a stored alert.
pub fn context_of(alert: &Alert, catalog: &Catalog) -> Context {
    let name = catalog
        .service(&alert.service)
        .map_or_else(|| alert.service.clone(), |s| s.name.clone());
    Context {
        alert_id: alert.id.clone(),
        summary: alert.summary.clone(),
        severity: alert.severity.map_or("", severity_str).into(),
        source: alert.source.clone(),
        dedup_key: alert.dedup_key.clone(),
        labels: alert.labels.clone(),
        annotations: alert.annotations.clone(),
        service_id: alert.service.clone(),
        service_name: name,
    }
}

/// Renders `action` for `ctx`: the URL percent-encoded, headers on one line, the body
/// JSON-escaped when it is JSON.
pub fn prepare(action: &Action, ctx: &Context) -> Result<Request, String> {
    let body_escape = if action.json_body() {
        Escape::Json
    } else {
        Escape::Text
    };
    let mut headers = Vec::with_capacity(action.headers.len() + 1);
    for (k, v) in &action.headers {
        headers.push((k.clone(), template::render(v, ctx, Escape::Text)?));
    }
    let has_type = action
        .headers
        .keys()
        .any(|k| k.eq_ignore_ascii_case("content-type"));
    if action.body.is_some() && !has_type && action.json_body() {
        headers.push(("Content-Type".into(), "application/json".into()));
    }
    Ok(Request {
        method: action.method.clone(),
        url: template::render(&action.url, ctx, Escape::Url)?,
        headers,
        body: match &action.body {
            Some(b) if body_escape == Escape::Json => Some(template::render(b, ctx, Escape::Json)?),
            // A plain-text body: the template keeps its lines, values are flattened to one.
            Some(b) => Some(template::render(b, ctx, Escape::Text)?),
            None => None,
        },
    })
}

/// The client actions use: the timeout, and no redirects (a 3xx is a result, not a detour).
pub fn client() -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("Tocsin/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Sends `req`; never fails, the outcome is in the result. The duration is measured with a
/// monotonic timer: it is an interval, not an instant, so it does not go through the `Clock`.
pub async fn send(client: &reqwest::Client, name: &str, req: &Request) -> RunResult {
    let started = Instant::now();
    let mut result = RunResult {
        action: name.to_string(),
        status: None,
        excerpt: String::new(),
        duration_ms: 0,
        error: None,
    };
    let method =
        reqwest::Method::from_bytes(req.method.as_bytes()).unwrap_or(reqwest::Method::POST);
    let mut builder = client.request(method, &req.url).timeout(TIMEOUT);
    for (k, v) in &req.headers {
        builder = builder.header(k, v);
    }
    if let Some(b) = &req.body {
        builder = builder.body(b.clone());
    }
    match builder.send().await {
        // The URL stays out of the error: it may carry a token.
        Err(e) => result.error = Some(describe_error(&e)),
        Ok(mut resp) => {
            result.status = Some(resp.status().as_u16());
            // Only the start of the body: a hostile endpoint must not make us buffer megabytes.
            let mut head = Vec::new();
            while head.len() < EXCERPT * 4 {
                match resp.chunk().await {
                    Ok(Some(chunk)) => head.extend_from_slice(&chunk),
                    _ => break,
                }
            }
            result.excerpt = excerpt(&String::from_utf8_lossy(&head));
        }
    }
    result.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    result
}

fn describe_error(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        format!("timed out after {} s", TIMEOUT.as_secs())
    } else if e.is_connect() {
        "could not connect".into()
    } else if e.is_builder() {
        "invalid request (URL or header)".into()
    } else {
        "the request failed".into()
    }
}

/// One line, at most [`EXCERPT`] characters.
fn excerpt(body: &str) -> String {
    let flat: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(EXCERPT) {
        Some((i, _)) => format!("{}…", &flat[..i]),
        None => flat,
    }
}

/// An `auto` action of a playbook rendered for a new alert: what to queue, or the log line
/// saying why it will not run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AutoRun {
    /// Step number (from 1), action name, rendered request.
    Queue(i64, String, Request),
    NotRun(String),
}

/// Every `auto` action of `playbook`, rendered for `ctx`, in step order (pure).
pub fn auto_runs(playbook: &Playbook, ctx: &Context) -> Vec<AutoRun> {
    let mut runs = Vec::new();
    for (i, step) in playbook.steps.iter().enumerate() {
        let Some(action) = step.action.as_ref().filter(|a| a.auto) else {
            continue;
        };
        runs.push(match prepare(action, ctx) {
            Ok(req) => AutoRun::Queue(
                i64::try_from(i + 1).unwrap_or(i64::MAX),
                action.name.clone(),
                req,
            ),
            // Validated templates render; should one not, say so where people look.
            Err(e) => AutoRun::NotRun(format!("{}: not run: {e}", action.name)),
        });
    }
    runs
}

/// Queues every `auto` action of `playbook` for a new alert, rendered now.
pub async fn queue_auto(
    tx: &mut Tx,
    alert_id: &str,
    playbook: &Playbook,
    ctx: &Context,
    now: Millis,
) -> Result<(), StoreError> {
    for run in auto_runs(playbook, ctx) {
        match run {
            AutoRun::Queue(n, name, req) => {
                store::queue(tx, alert_id, &playbook.id, n, &name, &req, now).await?;
            }
            AutoRun::NotRun(line) => {
                store::log(tx, alert_id, now, "action", "automation", &line).await?;
            }
        }
    }
    Ok(())
}

/// Runs the automatic actions that are due, as `owner`: claims them with a lease, calls each,
/// and writes the outcome to its alert's log (retrying later when it may help). Returns how
/// many were run.
pub async fn run_due(
    db: &Db,
    client: &reqwest::Client,
    now: Millis,
    owner: &str,
) -> Result<usize, StoreError> {
    let claimed = store::claim_due(db, owner, now, now + LEASE_MS, 20).await?;
    let mut ran = 0;
    for run in claimed {
        let req: Request = serde_json::from_str(&run.request)
            .map_err(|e| StoreError::Config(format!("automation run {}: {e}", run.id)))?;
        let result = send(client, &run.name, &req).await;
        let attempt = run.attempts + 1;
        let next = if result.ok() {
            store::Next::Done
        } else if result.retryable() && attempt < ATTEMPTS {
            // 30 s, then 60 s: long enough for a restarting endpoint, short for an incident.
            store::Next::Retry(now + 30_000 * attempt)
        } else {
            store::Next::Failed
        };
        let mut tx = db.begin().await?;
        if store::finish(&mut tx, run.id, owner, next, now).await? {
            let mut line = result.describe();
            if attempt > 1 || matches!(next, store::Next::Retry(_)) {
                line.push_str(&format!(" (attempt {attempt} of {ATTEMPTS})"));
            }
            store::log(&mut tx, &run.alert_id, now, "action", "automation", &line).await?;
            ran += 1;
        }
        tx.commit().await?;
    }
    Ok(ran)
}

/// Why a one-click run could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("no such alert, or its playbook has no action at step {0}")]
    NoAction(usize),
    #[error("{0}")]
    Render(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Runs step `step` (1-based) of the alert's playbook now, on behalf of `by`, and logs it.
pub async fn run_now(
    db: &Db,
    client: &reqwest::Client,
    catalog: &Catalog,
    alert_id: &str,
    step: usize,
    by: &str,
    now: Millis,
) -> Result<RunResult, RunError> {
    let (alert, _) = super::store::get(db, alert_id).await.map_err(|e| match e {
        StoreError::NotFound => RunError::NoAction(step),
        e => RunError::Store(e),
    })?;
    let routing = store::routing(db, alert_id).await?;
    let action = routing
        .playbook
        .as_deref()
        .and_then(|p| catalog.playbook(p))
        .and_then(|p| p.steps.get(step.checked_sub(1)?))
        .and_then(|s| s.action.as_ref())
        .ok_or(RunError::NoAction(step))?;
    let req = prepare(action, &context_of(&alert, catalog)).map_err(RunError::Render)?;
    let result = send(client, &action.name, &req).await;
    let mut tx = db.begin().await?;
    store::log(&mut tx, alert_id, now, "action", by, &result.describe()).await?;
    tx.commit().await?;
    Ok(result)
}
