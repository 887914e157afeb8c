//! Operations endpoints: `/healthz` (the process answers), `/readyz` (the database answers),
//! `/metrics` (Prometheus text), the OpenAPI document, and the JSON 404.

use std::time::Instant;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::AppState;
use super::error::AppError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

async fn readyz(State(s): State<AppState>) -> Response {
    match s.db.ping().await {
        Ok(()) => "ready".into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
        }
    }
}

async fn metrics(State(s): State<AppState>) -> Response {
    // Outbox states are read at scrape time, so every instance reports the shared truth
    // (a failed page shows here however long ago, and wherever, it failed).
    match crate::engine::store::outbox_counts(&s.db).await {
        Ok(counts) => {
            for status in ["pending", "sent", "failed", "cancelled"] {
                let n = counts
                    .iter()
                    .find(|(st, _)| st == status)
                    .map_or(0, |c| c.1);
                metrics::gauge!("tocsin_outbox_messages", "status" => status).set(n as f64);
            }
        }
        Err(e) => tracing::warn!(error = %e, "reading outbox counts for /metrics"),
    }
    match crate::incidents::store::delivery::counts(&s.db).await {
        Ok(counts) => {
            for status in ["pending", "sent", "failed"] {
                let n = counts
                    .iter()
                    .find(|(st, _)| st == status)
                    .map_or(0, |c| c.1);
                metrics::gauge!("tocsin_incident_messages", "status" => status).set(n as f64);
            }
        }
        Err(e) => tracing::warn!(error = %e, "reading incident message counts for /metrics"),
    }
    match &s.metrics {
        Some(h) => (
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            h.render(),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "metrics are not enabled").into_response(),
    }
}

pub async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        super::openapi::document(),
    )
        .into_response()
}

pub async fn not_found() -> AppError {
    AppError::NotFound
}

/// Gives tower-http's plain-text 413 (sent before a handler runs, when `Content-Length` is over
/// the limit) our JSON error shape.
pub async fn json_too_large(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE && !is_json {
        return AppError::TooLarge.into_response();
    }
    response
}

/// Counts requests and their latency by matched route and status.
pub async fn track_metrics(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let method = req.method().to_string();
    let start = Instant::now();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("tocsin_http_requests_total", &labels).increment(1);
    metrics::histogram!("tocsin_http_request_duration_seconds", &labels)
        .record(start.elapsed().as_secs_f64());
    response
}
