//! Alert rules and playbooks end to end, on both backends: the example's rules routing real
//! Alertmanager webhook bodies (severity, service, playbook, the log line), automatic actions
//! queued with the alert and run by `run_due` against a real HTTP server on a loopback port
//! (which checks the exact request), the one-click run, auto-resolve with the fake clock, and
//! the candidates for automation.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::StatusCode;
use serde_json::{Value, json};
use tocsin::alerts::integration::{self, IntegrationKind};
use tocsin::alerts::{automation, candidates, store};
use tocsin::auth::Role;
use tocsin::catalog::Catalog;
use tocsin::clock::Clock;

use crate::support::{TestApp, backends, seed_example, t0};

mod api;

/// What the receiver saw: method, path and query, content type, body.
type Seen = Arc<Mutex<Vec<(String, String, String, String)>>>;

/// A real HTTP server on a loopback port recording every request; paths with `fail` get 503.
pub(crate) async fn receiver() -> (String, Seen) {
    let seen: Seen = Arc::default();
    let log = seen.clone();
    let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
        let log = log.clone();
        async move {
            let (parts, body) = req.into_parts();
            let body = axum::body::to_bytes(body, 1 << 20)
                .await
                .unwrap_or_default();
            let path = parts
                .uri
                .path_and_query()
                .map_or("", |p| p.as_str())
                .to_string();
            let ctype = parts
                .headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            let fail = path.contains("fail");
            log.lock().unwrap().push((
                parts.method.to_string(),
                path,
                ctype,
                String::from_utf8_lossy(&body).into_owned(),
            ));
            if fail {
                (StatusCode::SERVICE_UNAVAILABLE, "busy, try later")
            } else {
                (StatusCode::OK, "{\"restarted\": 3}")
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), seen)
}

/// The example, with the checkout playbook's actions pointed at `base`.
pub(crate) async fn seed(db: &tocsin::db::Db, base: &str) {
    seed_example(db).await;
    let mut c: Catalog = tocsin::catalog::store::load(db).await.unwrap();
    let pb = c
        .playbooks
        .iter_mut()
        .find(|p| p.id == "checkout-errors")
        .unwrap();
    for step in &mut pb.steps {
        if let Some(a) = &mut step.action {
            a.url = a.url.replace("https://k8s-ops.shop.example", base);
            a.url = a.url.replace("https://diag.shop.example", base);
        }
    }
    tocsin::config::apply::apply(db, t0().as_millisecond(), "test", &c, false)
        .await
        .unwrap();
}

pub(crate) fn webhook(alertname: &str, fingerprint: &str, status: &str) -> Value {
    json!({"version": "4", "status": status, "receiver": "tocsin", "groupKey": "{}:{}",
        "alerts": [{"status": status,
            "labels": {"alertname": alertname, "severity": "warning", "pod": "cart-7\"x"},
            "annotations": {"summary": format!("{alertname} on \"cart\"")},
            "startsAt": "2024-06-17T08:59:00Z", "endsAt": "0001-01-01T00:00:00Z",
            "fingerprint": fingerprint}]})
}

pub(crate) async fn post(app: &TestApp, key: &str, body: &Value) -> String {
    let (s, reply) = app
        .call(
            "POST",
            "/ingest/alertmanager",
            Some(key),
            Some(body.clone()),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{reply}");
    reply["alerts"][0]["alert"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

pub(crate) async fn key_for(app: &TestApp, service: &str) -> String {
    let c = tocsin::catalog::store::load(&app.db).await.unwrap();
    let now = t0().as_millisecond();
    let kind = IntegrationKind::Alertmanager;
    integration::create(&app.db, &c, now, "test", service, kind, "")
        .await
        .unwrap()
        .1
}

fn details(log: &[store::LogEntry]) -> Vec<String> {
    log.iter()
        .map(|l| format!("{} {}: {}", l.kind, l.actor, l.detail))
        .collect()
}

#[tokio::test]
async fn rules_route_alerts_and_auto_actions_run_durably() {
    let (base, seen) = receiver().await;
    for t in backends().await {
        let b = t.backend;
        seed(&t.db, &base).await;
        let app = TestApp::new(t.db.clone());
        // Received for the storefront; the rule re-routes it to checkout-api.
        let key = key_for(&app, "web-storefront").await;
        let id = post(
            &app,
            &key,
            &webhook("CheckoutErrorRateHigh", "fp1", "firing"),
        )
        .await;
        let (alert, log) = store::get(&t.db, &id).await.unwrap();
        assert_eq!(alert.service, "checkout-api", "{b}");
        assert_eq!(
            alert.severity,
            Some(tocsin::alerts::Severity::Critical),
            "{b}"
        );
        assert!(
            details(&log).contains(
                &"rule rules: rule checkout-5xx matched: severity → critical, \
                service → checkout-api, playbook → checkout-errors"
                    .to_string()
            ),
            "{b}: {log:?}"
        );
        let routing = automation::store::routing(&t.db, &id).await.unwrap();
        assert_eq!(routing.playbook.as_deref(), Some("checkout-errors"), "{b}");
        assert_eq!(routing.rule.as_deref(), Some("checkout-5xx"), "{b}");

        // The automatic action was queued with the alert; nothing ran yet.
        seen.lock().unwrap().clear();
        let client = automation::client().unwrap();
        let now = app.clock.now_ms();
        assert_eq!(
            automation::run_due(&t.db, &client, now, "a").await.unwrap(),
            1,
            "{b}"
        );
        assert_eq!(
            automation::run_due(&t.db, &client, now, "b").await.unwrap(),
            0,
            "{b}: once"
        );
        let got = seen.lock().unwrap().clone();
        assert_eq!(got.len(), 1, "{b}");
        let (method, path, ctype, body) = &got[0];
        assert_eq!(
            (method.as_str(), path.as_str()),
            ("POST", "/collect/checkout-api"),
            "{b}"
        );
        assert_eq!(ctype, "application/json", "{b}");
        // Values are JSON-escaped: the quote in the pod label stays inside its string.
        let sent: Value = serde_json::from_str(body).unwrap();
        assert_eq!(
            sent,
            json!({"alert": id, "pod": "cart-7\"x", "severity": "critical"}),
            "{b}"
        );
        let (_, log) = store::get(&t.db, &id).await.unwrap();
        let last = details(&log).pop().unwrap();
        assert!(
            last.starts_with(
                "action automation: Post diagnostics to the incident channel: HTTP 200 in "
            ) && last.ends_with(r#"ms: {"restarted": 3}"#),
            "{b}: {last}"
        );

        // One click: step 3 restarts the cart pods, as the responder.
        seen.lock().unwrap().clear();
        let responder = app.token(Role::Responder).await;
        let viewer = app.token(Role::Viewer).await;
        let path = format!("/api/v1/alerts/{id}/actions/3/run");
        let (s, _) = app.call("POST", &path, Some(&viewer), None).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{b}");
        let (s, result) = app.call("POST", &path, Some(&responder), None).await;
        assert_eq!(s, StatusCode::OK, "{b}: {result}");
        assert_eq!(result["status"], 200);
        assert_eq!(result["action"], "Restart the cart-service pods");
        let got = seen.lock().unwrap().clone();
        assert_eq!(
            got[0].1,
            "/api/v1/namespaces/shop/deployments/cart-service/restart"
        );
        let sent: Value = serde_json::from_str(&got[0].3).unwrap();
        assert_eq!(
            sent["reason"],
            format!("Tocsin alert {id}: CheckoutErrorRateHigh on \"cart\"")
        );
        for bad in [1, 9] {
            // A text step and a step that does not exist are not actions.
            let p = format!("/api/v1/alerts/{id}/actions/{bad}/run");
            let (s, body) = app.call("POST", &p, Some(&responder), None).await;
            assert_eq!(s, StatusCode::NOT_FOUND, "{b}: {body}");
            assert!(body["error"].is_string());
        }
        let (s, _) = app
            .call(
                "POST",
                "/api/v1/alerts/nope/actions/3/run",
                Some(&responder),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);

        let (_, log) = store::get(&t.db, &id).await.unwrap();
        assert!(
            details(&log)
                .iter()
                .any(|l| l.starts_with("action token:test-responder: Restart"))
        );
    }
}

#[tokio::test]
async fn failing_actions_are_retried_then_marked_failed() {
    let (base, seen) = receiver().await;
    for t in backends().await {
        let b = t.backend;
        seed(&t.db, &format!("{base}/fail")).await;
        let app = TestApp::new(t.db.clone());
        let key = key_for(&app, "checkout-api").await;
        let id = post(
            &app,
            &key,
            &webhook("CheckoutErrorRateHigh", "fp2", "firing"),
        )
        .await;
        seen.lock().unwrap().clear();
        let client = automation::client().unwrap();
        let now = app.clock.now_ms();
        assert_eq!(
            automation::run_due(&t.db, &client, now, "a").await.unwrap(),
            1
        );
        // Not due again until the backoff passes.
        assert_eq!(
            automation::run_due(&t.db, &client, now + 29_000, "a")
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            automation::run_due(&t.db, &client, now + 30_000, "a")
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            automation::run_due(&t.db, &client, now + 100_000, "a")
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            automation::run_due(&t.db, &client, now + 900_000, "a")
                .await
                .unwrap(),
            0
        );
        assert_eq!(seen.lock().unwrap().len(), 3, "{b}: three attempts in all");
        let (_, log) = store::get(&t.db, &id).await.unwrap();
        let lines: Vec<String> = details(&log)
            .into_iter()
            .filter(|l| l.starts_with("action"))
            .collect();
        assert_eq!(lines.len(), 3, "{b}: {lines:?}");
        assert!(
            lines[2].contains("HTTP 503") && lines[2].ends_with("busy, try later (attempt 3 of 3)"),
            "{b}: {lines:?}"
        );
    }
}

#[tokio::test]
async fn alerts_resolve_themselves_when_the_source_goes_quiet() {
    for t in backends().await {
        let b = t.backend;
        seed_example(&t.db).await;
        let app = TestApp::new(t.db.clone());
        let key = key_for(&app, "K8S-as-a-Service").await;
        // node-pressure: auto-resolve after 15 minutes without a repeat.
        let id = post(&app, &key, &webhook("NodeMemoryPressure", "fp3", "firing")).await;
        let t1 = app.clock.now_ms();
        assert_eq!(
            store::auto_resolve_due(&t.db, t1 + 14 * 60_000)
                .await
                .unwrap(),
            0,
            "{b}"
        );
        // A repeat ten minutes in moves the deadline.
        app.clock.advance(Duration::from_secs(600));
        assert_eq!(
            post(&app, &key, &webhook("NodeMemoryPressure", "fp3", "firing")).await,
            id
        );
        assert_eq!(
            store::auto_resolve_due(&t.db, t1 + 16 * 60_000)
                .await
                .unwrap(),
            0,
            "{b}"
        );
        let routing = automation::store::routing(&t.db, &id).await.unwrap();
        assert_eq!(routing.auto_resolve_at, Some(t1 + 25 * 60_000), "{b}");
        assert_eq!(
            store::auto_resolve_due(&t.db, t1 + 25 * 60_000)
                .await
                .unwrap(),
            1,
            "{b}"
        );
        let (alert, log) = store::get(&t.db, &id).await.unwrap();
        assert_eq!(alert.status.as_str(), "resolved", "{b}");
        assert_eq!(alert.resolved_by.as_deref(), Some("auto-resolve"), "{b}");
        let last = details(&log);
        assert!(
            last.iter()
                .any(|l| l.starts_with("auto-resolve auto-resolve: not re-sent since")),
            "{b}: {last:?}"
        );
        assert_eq!(last.last().unwrap(), "resolve auto-resolve: ", "{b}");
        // Its escalation stopped with it, and it is not resolved twice.
        let esc = tocsin::engine::store::escalation(&t.db, &id).await.unwrap();
        assert_eq!(esc.map(|e| e.state), Some("stopped".to_string()), "{b}");
        assert_eq!(
            store::auto_resolve_due(&t.db, t1 + 99 * 60_000)
                .await
                .unwrap(),
            0,
            "{b}"
        );
    }
}

#[tokio::test]
async fn frequent_alerts_without_playbook_are_candidates() {
    for t in backends().await {
        let b = t.backend;
        seed_example(&t.db).await;
        let app = TestApp::new(t.db.clone());
        let key = key_for(&app, "catalog-api").await;
        for i in 0..6 {
            let fp = format!("lat{i}");
            post(&app, &key, &webhook("SearchLatencyHigh", &fp, "firing")).await;
            post(&app, &key, &webhook("SearchLatencyHigh", &fp, "resolved")).await;
            post(
                &app,
                &key,
                &webhook("CheckoutErrorRateHigh", &format!("c{i}"), "firing"),
            )
            .await;
        }
        let found = candidates::load(&t.db, app.clock.now_ms()).await.unwrap();
        assert_eq!(
            serde_json::to_value(&found).unwrap(),
            json!([{"service": "catalog-api", "alert": "SearchLatencyHigh", "count": 6}]),
            "{b}: the checkout alerts have a playbook"
        );
        let later = app.clock.now_ms() + 31 * 86_400_000;
        assert!(
            candidates::load(&t.db, later).await.unwrap().is_empty(),
            "{b}"
        );
    }
}

#[test]
fn the_first_matching_rule_wins_and_order_is_part_of_the_plan() {
    use tocsin::alerts::rules::route;
    use tocsin::alerts::{Action, AlertEvent};
    let c = tocsin::config::load(tocsin::cli::example_sources(), &Catalog::default())
        .unwrap()
        .catalog;
    let event = |alertname: &str, severity| AlertEvent {
        action: Action::Trigger,
        dedup_key: Some("k".into()),
        summary: "s".into(),
        severity,
        source: "alertmanager".into(),
        labels: [("alertname".to_string(), alertname.to_string())].into(),
        annotations: Default::default(),
        details: Value::Null,
        links: vec![],
        images: vec![],
        started_at: None,
        ends_at: None,
    };
    let warning = Some(tocsin::alerts::Severity::Warning);
    // Both node-pressure and warnings-quiet-down match; the first in the file wins.
    let mut e = event("NodeDiskPressure", warning);
    let r = route(&c, "web-storefront", &mut e);
    assert_eq!(r.rule.as_deref(), Some("node-pressure"));
    assert_eq!(r.service, "K8S-as-a-Service");
    assert_eq!(r.auto_resolve_after, Some(15 * 60_000));
    assert_eq!(e.severity, warning, "the rule sets no severity");
    // No rule: the integration's service, nothing attached.
    let mut e = event("Unknown", None);
    let r = route(&c, "web-storefront", &mut e);
    assert_eq!(
        (r.rule, r.service.as_str(), r.playbook),
        (None, "web-storefront", None)
    );
    // Labels must all match: the payment rule also needs team=payments.
    let mut e = event("PaymentTimeouts", None);
    assert_eq!(route(&c, "x", &mut e).rule, None);
    e.labels.insert("team".into(), "payments".into());
    assert_eq!(
        route(&c, "x", &mut e).rule.as_deref(),
        Some("payment-provider")
    );

    // Moving a rule is a change: its position is its priority.
    let mut moved = c.clone();
    moved.alert_rules.swap(0, 1);
    let plan = tocsin::config::plan::diff(&c, &moved);
    assert_eq!(
        plan.to_string(),
        "  ~ update alert rule payment-provider (position)\n  \
         ~ update alert rule checkout-5xx (position)\n\
         Plan: 0 to create, 2 to update, 0 to delete."
    );
}

#[tokio::test]
async fn two_instances_share_the_queue_without_running_an_action_twice() {
    let (base, seen) = receiver().await;
    for t in backends().await {
        let b = t.backend;
        seed(&t.db, &base).await;
        let app = TestApp::new(t.db.clone());
        let key = key_for(&app, "checkout-api").await;
        for i in 0..8 {
            post(
                &app,
                &key,
                &webhook("CheckoutErrorRateHigh", &format!("q{i}"), "firing"),
            )
            .await;
        }
        seen.lock().unwrap().clear();
        let client = automation::client().unwrap();
        let now = app.clock.now_ms();
        let (a, c) = tokio::join!(
            automation::run_due(&t.db, &client, now, "instance-a"),
            automation::run_due(&t.db, &client, now, "instance-b"),
        );
        assert_eq!(a.unwrap() + c.unwrap(), 8, "{b}");
        assert_eq!(seen.lock().unwrap().len(), 8, "{b}: each action sent once");
        // A crashed owner's claim expires to another instance after the lease.
        post(
            &app,
            &key,
            &webhook("CheckoutErrorRateHigh", "crash", "firing"),
        )
        .await;
        let claimed = automation::store::claim_due(&t.db, "crashed", now, now + 60_000, 10)
            .await
            .unwrap();
        assert_eq!(claimed.len(), 1, "{b}");
        assert_eq!(
            automation::run_due(&t.db, &client, now + 1_000, "x")
                .await
                .unwrap(),
            0,
            "{b}"
        );
        assert_eq!(
            automation::run_due(&t.db, &client, now + 61_000, "x")
                .await
                .unwrap(),
            1,
            "{b}"
        );
    }
}
