//! The per-integration rate limit, a contract test per ingestion endpoint: under the limit the
//! format's success reply; over it 429 with a `Retry-After` in seconds and the format's error
//! body (PagerDuty's own shape on `/v2/enqueue`, our JSON error elsewhere), with nothing of the
//! refused request stored; after waiting `Retry-After` seconds the same request passes. Also:
//! integrations have separate buckets, and the settings file sets the limit.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tocsin::alerts::integration::IntegrationKind;
use tocsin::alerts::limit::RateLimit;
use tocsin::http::HttpSettings;
use tocsin::settings::Settings;
use tower::ServiceExt;

use crate::ingest_batch::{all_alerts, app_with, key_for};
use crate::support::{TestApp, backends, seed_example};

/// Three events at once, then one a second (60 a minute).
fn tight() -> HttpSettings {
    HttpSettings {
        ingest_limit: RateLimit {
            events_per_minute: 60,
            burst: 3,
        },
        ..HttpSettings::default()
    }
}

/// (path, integration kind, a body of one event with dedup key `n`, the success status).
type Endpoint = (&'static str, IntegrationKind, fn(&str, usize) -> Value, u16);

fn endpoints() -> [Endpoint; 5] {
    [
        (
            "/ingest/generic",
            IntegrationKind::Generic,
            |_, n| json!({"summary": "disk full", "dedup_key": format!("g{n}")}),
            200,
        ),
        (
            "/ingest/alertmanager",
            IntegrationKind::Alertmanager,
            |_, n| {
                json!({"version": "4", "status": "firing", "receiver": "tocsin", "groupKey": "{}:{}",
                   "alerts": [{"status": "firing", "fingerprint": format!("f{n}"),
                               "labels": {"alertname": "DiskFull"},
                               "annotations": {"summary": "disk full"},
                               "startsAt": "2024-06-17T08:59:00Z"}]})
            },
            200,
        ),
        (
            "/ingest/grafana",
            IntegrationKind::Grafana,
            |_, n| {
                json!({"version": "1", "status": "firing", "orgId": 1, "receiver": "tocsin",
                   "alerts": [{"status": "firing", "fingerprint": format!("gf{n}"),
                               "labels": {"alertname": "DiskFull"},
                               "annotations": {"summary": "disk full"},
                               "startsAt": "2024-06-17T08:59:00Z"}]})
            },
            200,
        ),
        (
            "/api/v2/alerts",
            IntegrationKind::AlertmanagerApi,
            |_, n| {
                json!([{"labels": {"alertname": "DiskFull", "n": n.to_string()},
                    "annotations": {"summary": "disk full"}}])
            },
            200,
        ),
        (
            "/v2/enqueue",
            IntegrationKind::Pagerduty,
            |key, n| {
                json!({"routing_key": key, "event_action": "trigger", "dedup_key": format!("p{n}"),
                   "payload": {"summary": "disk full", "source": "db-1", "severity": "critical"}})
            },
            202,
        ),
    ]
}

/// Posts `body` to `path` with `key` as a bearer token; status, Retry-After and JSON body.
async fn post(app: &TestApp, path: &str, key: &str, body: &Value) -> (u16, Option<String>, Value) {
    let req = Request::builder()
        .method("POST")
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {key}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("request");
    let response = app.router.clone().oneshot(req).await.expect("infallible");
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get(header::RETRY_AFTER)
        .map(|v| v.to_str().expect("ascii").to_string());
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, retry_after, json)
}

#[tokio::test]
async fn every_endpoint_answers_429_with_retry_after_over_its_limit() {
    for t in backends().await {
        let b = t.backend;
        seed_example(&t.db).await;
        let (app, _) = app_with(t.db.clone(), tight());
        let mut stored = 0;
        for (path, kind, body, ok) in endpoints() {
            let key = key_for(&t.db, kind).await;
            for n in 0..3 {
                let (status, _, reply) = post(&app, path, &key, &body(&key, n)).await;
                assert_eq!(status, ok, "{b} {path}: within the burst: {reply}");
            }
            stored += 3;
            let (status, retry_after, reply) = post(&app, path, &key, &body(&key, 3)).await;
            assert_eq!(status, 429, "{b} {path}: over the limit: {reply}");
            assert_eq!(retry_after.as_deref(), Some("1"), "{b} {path}");
            if kind == IntegrationKind::Pagerduty {
                assert_eq!(reply["status"], "Request Limit Exceeded", "{b}: {reply}");
                assert_eq!(reply["message"], "Too many API calls at a time", "{b}");
                assert!(reply["errors"].is_array(), "{b}: {reply}");
            } else {
                assert_eq!(reply["error"], "too many requests", "{b} {path}: {reply}");
            }
            assert_eq!(
                all_alerts(&t.db).await.len(),
                stored,
                "{b} {path}: nothing of a refused request is stored"
            );
            // Waiting as told lets the same request through.
            app.clock.advance(std::time::Duration::from_secs(1));
            let (status, _, reply) = post(&app, path, &key, &body(&key, 3)).await;
            assert_eq!(status, ok, "{b} {path}: after Retry-After: {reply}");
            stored += 1;
            assert_eq!(all_alerts(&t.db).await.len(), stored, "{b} {path}");
        }
    }
}

#[tokio::test]
async fn a_webhook_costs_its_alert_count_and_integrations_have_their_own_buckets() {
    for t in backends().await {
        let b = t.backend;
        seed_example(&t.db).await;
        let (app, _) = app_with(t.db.clone(), tight());
        let (first, second) = (
            key_for(&t.db, IntegrationKind::Generic).await,
            key_for(&t.db, IntegrationKind::Generic).await,
        );
        // Two alerts in one Alertmanager API request count as two.
        let am = key_for(&t.db, IntegrationKind::AlertmanagerApi).await;
        let two = json!([{"labels": {"alertname": "A"}}, {"labels": {"alertname": "B"}}]);
        assert_eq!(post(&app, "/api/v2/alerts", &am, &two).await.0, 200, "{b}");
        let (status, retry_after, _) = post(&app, "/api/v2/alerts", &am, &two).await;
        assert_eq!((status, retry_after.as_deref()), (429, Some("1")), "{b}");
        // Exhausting one generic key leaves the other untouched.
        let event = json!({"summary": "x"});
        for _ in 0..3 {
            assert_eq!(post(&app, "/ingest/generic", &first, &event).await.0, 200);
        }
        assert_eq!(post(&app, "/ingest/generic", &first, &event).await.0, 429);
        assert_eq!(
            post(&app, "/ingest/generic", &second, &event).await.0,
            200,
            "{b}"
        );
    }
}

#[tokio::test]
async fn the_default_limit_is_generous_and_the_settings_file_sets_it() {
    let defaults = Settings::default();
    assert_eq!(defaults.ingest_events_per_minute, 600);
    assert_eq!(defaults.ingest_burst, 1000);
    let s = Settings::from_toml(
        "tocsin.toml",
        "ingest_events_per_minute = 0\ningest_burst = 50\n",
    )
    .expect("valid settings");
    assert_eq!((s.ingest_events_per_minute, s.ingest_burst), (0, 50));
    let err = Settings::from_toml("tocsin.toml", "ingest_burst = -1\n").unwrap_err();
    assert!(err.starts_with("tocsin.toml:1:16: error: "), "{err}");
    // Zero turns the limit off: far more than a burst passes.
    let t = crate::support::sqlite().await;
    seed_example(&t.db).await;
    let off = HttpSettings {
        ingest_limit: RateLimit {
            events_per_minute: 0,
            burst: 0,
        },
        ..HttpSettings::default()
    };
    let (app, _) = app_with(t.db.clone(), off);
    let key = key_for(&t.db, IntegrationKind::Generic).await;
    for n in 0..50 {
        let event = json!({"summary": "x", "dedup_key": format!("k{n}")});
        assert_eq!(post(&app, "/ingest/generic", &key, &event).await.0, 200);
    }
}

#[tokio::test]
async fn the_openapi_document_describes_ingestion_keys_limits_and_bodies() {
    let t = crate::support::sqlite().await;
    let app = TestApp::new(t.db.clone());
    let (status, doc) = app.call("GET", "/api/v1/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["integration_key"]["scheme"], "bearer");
    assert_eq!(schemes["integration_key_basic"]["scheme"], "basic");
    let paths = &doc["paths"];
    for path in [
        "/ingest/alertmanager",
        "/ingest/grafana",
        "/ingest/generic",
        "/api/v2/alerts",
        "/v2/enqueue",
    ] {
        let op = &paths[path]["post"];
        assert!(
            op["requestBody"]["content"]["application/json"]["schema"].is_object(),
            "{path} has a body schema: {op}"
        );
        assert!(
            op["responses"]["429"]["headers"]["Retry-After"].is_object(),
            "{path} documents 429 with Retry-After"
        );
        assert!(op["responses"]["413"].is_object(), "{path} documents 413");
    }
    assert_eq!(
        paths["/ingest/alertmanager"]["post"]["security"][0]["integration_key"],
        json!([])
    );
    let pd = &paths["/v2/enqueue"]["post"];
    assert!(pd["responses"]["202"].is_object());
    let body = &pd["requestBody"]["content"]["application/json"]["schema"];
    assert_eq!(body["required"], json!(["routing_key", "event_action"]));
    assert_eq!(
        pd["responses"]["429"]["content"]["application/json"]["schema"]["required"],
        json!(["status", "message", "errors"])
    );
    let generic =
        &paths["/ingest/generic"]["post"]["requestBody"]["content"]["application/json"]["schema"];
    assert_eq!(generic["properties"]["summary"]["type"], "string");
    assert!(
        generic["properties"]["details"]["type"].is_array(),
        "{generic}"
    );
    let webhook = &paths["/ingest/alertmanager"]["post"]["requestBody"]["content"]["application/json"]
        ["schema"];
    assert_eq!(webhook["properties"]["version"]["enum"], json!(["4"]));
    assert_eq!(
        webhook["properties"]["alerts"]["items"]["required"],
        json!(["labels"])
    );
}
