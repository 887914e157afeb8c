//! The ingestion endpoints monitoring systems call. Each authenticates the integration key
//! (a bearer token, a Basic-auth password, or PagerDuty's `routing_key` in the body), parses the
//! body with its format's parser, and commits every event before answering: a 2xx means the
//! alerts are stored. Replies follow what each sender expects.
//!
//! | endpoint | format | key |
//! |---|---|---|
//! | `POST /ingest/alertmanager` | Alertmanager webhook v4 | `Authorization: Bearer KEY` (or Basic, password = KEY) |
//! | `POST /ingest/grafana` | Grafana webhook contact point | same |
//! | `POST /ingest/generic` | Tocsin's JSON | same |
//! | `POST /api/v2/alerts` | Alertmanager's alert API | same |
//! | `POST /v2/enqueue` | PagerDuty Events API v2 | `routing_key` in the body |

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::json;

use crate::catalog::Catalog;
use crate::db::{StoreError, Tx};
use crate::http::AppState;
use crate::http::error::AppError;

use super::batch::Refused;
use super::integration::{Integration, IntegrationKind};
use super::integrations::{alertmanager, alertmanager_api, generic, grafana, pagerduty};
use super::store::Outcome;
use super::{AlertEvent, ParseError};

/// Alerts Alertmanager's API sends without `endsAt` stay open this long unless re-sent (its own
/// default `resolve_timeout`).
const RESOLVE_TIMEOUT_MS: i64 = 5 * 60 * 1000;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ingest/alertmanager", post(alertmanager_webhook))
        .route("/ingest/grafana", post(grafana_webhook))
        .route("/ingest/generic", post(generic_event))
        .route("/api/v2/alerts", post(alertmanager_alerts))
        .route("/v2/enqueue", post(pagerduty_enqueue))
}

/// The key presented in `Authorization`: a bearer token, or the password of Basic auth.
fn presented_key(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    if let Some(token) = value.strip_prefix("Bearer ") {
        return Some(token.trim().to_string());
    }
    let basic = value.strip_prefix("Basic ")?;
    let decoded = base64_decode(basic.trim())?;
    let text = String::from_utf8(decoded).ok()?;
    text.split_once(':')
        .map(|(_, password)| password.to_string())
}

/// Standard base64 (RFC 4648) as Basic auth uses; None when malformed.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes().filter(|c| *c != b'=') {
        let v = u32::try_from(ALPHABET.iter().position(|a| *a == c)?).ok()?;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((acc >> bits) & 0xff).ok()?);
        }
    }
    Some(out)
}

/// The integration behind `key`, which must be of `kind`.
async fn integration_for(
    s: &AppState,
    key: Option<String>,
    kind: IntegrationKind,
) -> Result<Integration, AppError> {
    let key = key.ok_or(AppError::Unauthorized)?;
    let found = s
        .ingest
        .keys()
        .authenticate(&s.db, &key, s.clock.now_ms())
        .await?
        .ok_or(AppError::Unauthorized)?;
    if found.kind != kind {
        return Err(AppError::Forbidden(
            "integration key of this endpoint's type; this key is for another",
        ));
    }
    Ok(found)
}

/// What one event does, inside the batch's transaction (routing rules go first, then the
/// alert lifecycle). Batches go through `alerts::bulk`, which must leave the same result;
/// this path is its reference and the fallback after a lost race.
pub(crate) async fn ingest_one(
    tx: &mut Tx,
    catalog: &Catalog,
    integration: &Integration,
    event: &AlertEvent,
    now: i64,
) -> Result<Outcome, StoreError> {
    // Alert rules: severity, service, playbook and auto-resolve (see `alerts::rules`). On a
    // copy: a failed batch retries its requests with the events as received.
    let mut event = event.clone();
    let routed = super::rules::route(catalog, &integration.service, &mut event);
    super::rules::ingest(tx, catalog, Some(integration), &routed, &event, now).await
}

/// Why a request's events were not stored, before or after queueing.
enum NotStored {
    /// Over the integration's rate limit: retry after this many seconds.
    Limited(u64),
    /// The writer queue stayed full: retry shortly.
    Busy,
    Failed(AppError),
}

impl NotStored {
    /// The reply in our JSON error shape; 503 for a full queue, so senders retry.
    fn into_response(self) -> Response {
        match self {
            Self::Busy => {
                let body = json!({"error": "ingestion is saturated; try again shortly"});
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    [(header::RETRY_AFTER, BUSY_RETRY_AFTER)],
                    axum::Json(body),
                )
                    .into_response()
            }
            Self::Limited(retry_after) => AppError::TooManyRequests { retry_after }.into_response(),
            Self::Failed(e) => e.into_response(),
        }
    }
}

/// Seconds a sender is asked to wait when the writer queue is full.
const BUSY_RETRY_AFTER: &str = "1";

/// Charges the rate limit, then hands every event to the writer and waits for the commit
/// that contains them: a 2xx after this means they are stored.
async fn store_all(
    s: &AppState,
    integration: &Integration,
    events: Vec<AlertEvent>,
) -> Result<Vec<Outcome>, NotStored> {
    s.ingest
        .limiter()
        .take(&integration.id, events.len(), s.clock.now_ms())
        .map_err(|retry_after| {
            metrics::counter!("tocsin_ingest_rate_limited_total").increment(1);
            NotStored::Limited(retry_after)
        })?;
    s.ingest
        .submit(integration.clone(), events)
        .await
        .map_err(|e| match e {
            Refused::Busy => NotStored::Busy,
            Refused::Store(e) => NotStored::Failed(e.into()),
        })
}

fn rejected(e: &ParseError) -> AppError {
    AppError::BadRequest(e.to_string())
}

fn accepted(outcomes: &[Outcome]) -> Response {
    let alerts: Vec<_> = outcomes
        .iter()
        .map(|o| json!({"alert": o.alert_id, "dedup_key": o.dedup_key, "created": o.created}))
        .collect();
    (
        StatusCode::OK,
        axum::Json(json!({"status": "ok", "alerts": alerts})),
    )
        .into_response()
}

async fn webhook(
    s: &AppState,
    headers: &HeaderMap,
    kind: IntegrationKind,
    events: impl FnOnce() -> Result<Vec<AlertEvent>, ParseError>,
) -> Result<Response, AppError> {
    let integration = integration_for(s, presented_key(headers), kind).await?;
    let events = events().map_err(|e| rejected(&e))?;
    Ok(match store_all(s, &integration, events).await {
        Ok(outcomes) => accepted(&outcomes),
        Err(e) => e.into_response(),
    })
}

async fn alertmanager_webhook(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    webhook(&s, &headers, IntegrationKind::Alertmanager, || {
        alertmanager::parse(&body)
    })
    .await
}

async fn grafana_webhook(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    webhook(&s, &headers, IntegrationKind::Grafana, || {
        grafana::parse(&body)
    })
    .await
}

async fn generic_event(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    webhook(&s, &headers, IntegrationKind::Generic, || {
        generic::parse(&body).map(|e| vec![e])
    })
    .await
}

/// Alertmanager's alert API answers 200 with an empty body, or 400 with a JSON string.
async fn alertmanager_alerts(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let integration = integration_for(
        &s,
        presented_key(&headers),
        IntegrationKind::AlertmanagerApi,
    )
    .await?;
    let events = match alertmanager_api::parse(&body, s.clock.now_ms(), RESOLVE_TIMEOUT_MS) {
        Ok(events) => events,
        Err(e) => {
            return Ok((StatusCode::BAD_REQUEST, axum::Json(json!(e.to_string()))).into_response());
        }
    };
    Ok(match store_all(&s, &integration, events).await {
        Ok(_) => StatusCode::OK.into_response(),
        Err(e) => e.into_response(),
    })
}

/// PagerDuty's exact replies: 202 with the dedup key, 400 "invalid event" with every problem,
/// or 400 "Unrecognized object" for a body that is not an event at all.
async fn pagerduty_enqueue(State(s): State<AppState>, body: Bytes) -> Result<Response, AppError> {
    let bad = |v| Ok((StatusCode::BAD_REQUEST, axum::Json(v)).into_response());
    let (routing_key, event) = match pagerduty::parse(&body) {
        Ok(parsed) => parsed,
        Err(e) if pagerduty::is_unrecognized(&e) => return bad(pagerduty::unrecognized()),
        Err(e) => return bad(pagerduty::rejection(&e)),
    };
    let keys = s.ingest.keys();
    let Some(integration) = keys
        .authenticate(&s.db, &routing_key, s.clock.now_ms())
        .await?
    else {
        return bad(pagerduty::invalid(&["Invalid routing key".to_string()]));
    };
    if integration.kind != IntegrationKind::Pagerduty {
        return bad(pagerduty::invalid(&["Invalid routing key".to_string()]));
    }
    let outcomes = match store_all(&s, &integration, vec![event]).await {
        Ok(outcomes) => outcomes,
        Err(NotStored::Limited(retry_after)) => return Ok(pagerduty_throttled(retry_after)),
        Err(NotStored::Busy) => return Ok(pagerduty_busy()),
        Err(NotStored::Failed(e)) => return Err(e),
    };
    let key = outcomes
        .first()
        .map_or(String::new(), |o| o.dedup_key.clone());
    Ok((StatusCode::ACCEPTED, axum::Json(pagerduty::success(&key))).into_response())
}

/// PagerDuty's 429 ("Too many API calls at a time", the event not ingested). PagerDuty
/// publishes no exact body for it, so this is its error schema with its documented wording.
fn pagerduty_throttled(retry_after: u64) -> Response {
    let body = json!({
        "status": "Request Limit Exceeded",
        "message": "Too many API calls at a time",
        "errors": ["Request Limit Exceeded"],
    });
    (
        StatusCode::TOO_MANY_REQUESTS,
        [(header::RETRY_AFTER, retry_after.to_string())],
        axum::Json(body),
    )
        .into_response()
}

/// A 503 in PagerDuty's error shape; its clients retry any 5xx.
fn pagerduty_busy() -> Response {
    let body = json!({
        "status": "unavailable",
        "message": "Ingestion is saturated; retry later",
        "errors": ["Service Unavailable"],
    });
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, BUSY_RETRY_AFTER.to_string())],
        axum::Json(body),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::{base64_decode, presented_key};
    use axum::http::{HeaderMap, HeaderValue, header};

    #[test]
    fn keys_come_from_bearer_or_basic_auth() {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer abc"),
        );
        assert_eq!(presented_key(&h).as_deref(), Some("abc"));
        // amuser:ampass
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic YW11c2VyOmFtcGFzcw=="),
        );
        assert_eq!(presented_key(&h).as_deref(), Some("ampass"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic !!!"));
        assert_eq!(presented_key(&h), None);
        assert_eq!(base64_decode("aGk="), Some(b"hi".to_vec()));
    }
}
