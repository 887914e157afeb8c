//! The real Prometheus Alertmanager (Debian's `prometheus-alertmanager` 0.25) as a sender: it
//! runs on a loopback port with a webhook receiver that authenticates with a bearer key, the
//! test posts an alert to its API, and the webhook it delivers is checked on the wire and
//! through our parser (the event Tocsin would store) — then the resolve. Skipped with a notice when the binary is missing,
//! except under CI, where it must run.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::routing::post;
use serde_json::{Value, json};
use tocsin::alerts::integrations::alertmanager;
use tocsin::alerts::lifecycle::Status;
use tocsin::alerts::store::{self, Filter};
use tocsin::alerts::{Action, AlertEvent, Severity};
use tokio::sync::mpsc;

const BINARY: &str = "/usr/bin/prometheus-alertmanager";
const KEY: &str = "tcn_i_test_key_for_alertmanager";

/// True (with a notice) when the binary is absent; under CI its absence is a failure.
fn missing_alertmanager() -> bool {
    if std::path::Path::new(BINARY).exists() {
        return false;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must install prometheus-alertmanager"
    );
    eprintln!("notice: {BINARY} is not installed; skipping the Alertmanager test");
    true
}

/// Posts alerts to Alertmanager's API, which must accept them.
async fn post_alerts(http: &reqwest::Client, base: &str, alerts: &Value) {
    let r = http
        .post(format!("{base}/api/v2/alerts"))
        .json(alerts)
        .send()
        .await
        .expect("post alerts");
    assert!(
        r.status().is_success(),
        "alertmanager accepted the alerts: {}",
        r.status()
    );
}

/// Alertmanager running in the background; killed and reaped on drop, whatever happens.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A webhook receiver on a loopback port that hands every delivery (headers, body) to the test.
async fn receiver() -> (SocketAddr, mpsc::UnboundedReceiver<(HeaderMap, Bytes)>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let app = Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: Bytes| {
            let tx = tx.clone();
            async move {
                let _ = tx.send((headers, body));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind receiver");
    let addr = listener.local_addr().expect("receiver address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, rx)
}

fn start(dir: &std::path::Path, hook: SocketAddr, port: u16) -> Running {
    start_to(dir, &format!("http://{hook}/hook"), KEY, port)
}

/// Alertmanager sending every group to `url` with `key` as its bearer credential.
fn start_to(dir: &std::path::Path, url: &str, key: &str, port: u16) -> Running {
    // Short group timings so the test sees the notification and the resolve within seconds.
    let config = format!(
        "route:\n  receiver: tocsin\n  group_by: ['alertname']\n  group_wait: 1s\n  group_interval: 2s\n  repeat_interval: 1h\n\
         receivers:\n  - name: tocsin\n    webhook_configs:\n      - url: '{url}'\n        send_resolved: true\n\
         \x20       http_config:\n          authorization:\n            credentials: {key}\n"
    );
    let path = dir.join("am.yml");
    std::fs::write(&path, config).expect("write am.yml");
    let child = Command::new(BINARY)
        .arg(format!("--config.file={}", path.display()))
        .arg(format!("--storage.path={}", dir.join("data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--cluster.listen-address=")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start alertmanager");
    Running(child)
}

/// The next webhook: its headers, its JSON, and what our Alertmanager parser makes of it.
async fn next_delivery(
    rx: &mut mpsc::UnboundedReceiver<(HeaderMap, Bytes)>,
) -> (HeaderMap, Value, Vec<AlertEvent>) {
    let (headers, body) = tokio::time::timeout(Duration::from_secs(20), rx.recv())
        .await
        .expect("a webhook within 20 s")
        .expect("receiver alive");
    let events = alertmanager::parse(&body).expect("our parser accepts what Alertmanager sends");
    (
        headers,
        serde_json::from_slice(&body).expect("JSON body"),
        events,
    )
}

#[tokio::test]
async fn real_alertmanager_delivers_firing_then_resolved() {
    if missing_alertmanager() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let (hook, mut deliveries) = receiver().await;
    let port = free_port();
    let _am = start(dir.path(), hook, port);
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let ready = async {
        loop {
            if http
                .get(format!("{base}/-/ready"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(15), ready)
        .await
        .expect("alertmanager ready within 15 s");

    let alert = json!([{
        "labels": {"alertname": "CheckoutErrors", "service": "checkout-api", "severity": "critical"},
        "annotations": {"summary": "Checkout error rate above 5%"},
        "generatorURL": "http://prometheus.example/graph?g0.expr=errors"
    }]);
    let r = http
        .post(format!("{base}/api/v2/alerts"))
        .json(&alert)
        .send()
        .await
        .expect("post alert");
    assert!(
        r.status().is_success(),
        "alertmanager accepted the alert: {}",
        r.status()
    );

    let (headers, body, events) = next_delivery(&mut deliveries).await;
    assert_eq!(
        headers["authorization"],
        format!("Bearer {KEY}"),
        "the key travels in a header"
    );
    assert_eq!(body["version"], "4");
    assert_eq!(body["status"], "firing");
    let firing = &body["alerts"][0];
    assert_eq!(firing["status"], "firing");
    assert_eq!(firing["labels"]["service"], "checkout-api");
    let fingerprint = firing["fingerprint"]
        .as_str()
        .expect("fingerprint")
        .to_string();
    assert_eq!(
        fingerprint.len(),
        16,
        "Alertmanager fingerprints are 16 hex digits"
    );
    let [event] = events.as_slice() else {
        panic!("one event per alert: {events:?}")
    };
    assert_eq!(event.action, Action::Trigger);
    assert_eq!(event.dedup_key.as_deref(), Some(fingerprint.as_str()));
    assert_eq!(event.summary, "Checkout error rate above 5%");
    assert_eq!(event.severity, Some(Severity::Critical));
    assert_eq!(event.labels["service"], "checkout-api");
    assert!(
        event
            .links
            .iter()
            .any(|l| l.href.starts_with("http://prometheus.example/"))
    );

    // Resolve: re-post with endsAt in the past; the next group flush says resolved.
    let mut resolved = alert.clone();
    resolved[0]["endsAt"] = json!(jiff::Timestamp::now().to_string());
    let r = http
        .post(format!("{base}/api/v2/alerts"))
        .json(&resolved)
        .send()
        .await
        .expect("post resolve");
    assert!(r.status().is_success());
    let (body, events) = loop {
        let (_, b, e) = next_delivery(&mut deliveries).await;
        if b["status"] == "resolved" {
            break (b, e);
        }
    };
    assert_eq!(body["alerts"][0]["status"], "resolved");
    assert_eq!(
        body["alerts"][0]["fingerprint"],
        fingerprint.as_str(),
        "same alert, same fingerprint"
    );
    let [event] = events.as_slice() else {
        panic!("one event per alert: {events:?}")
    };
    assert_eq!(event.action, Action::Resolve);
    assert_eq!(event.dedup_key.as_deref(), Some(fingerprint.as_str()));
}

/// Tocsin on a loopback port over a fresh SQLite file with the example organisation, and an
/// Alertmanager integration key for `checkout-api`.
async fn tocsin() -> (crate::support::TestDb, SocketAddr, String) {
    let t = crate::support::sqlite().await;
    crate::support::seed_example(&t.db).await;
    let catalog = tocsin::catalog::store::load(&t.db).await.expect("catalog");
    let (_, key) = tocsin::alerts::integration::create(
        &t.db,
        &catalog,
        0,
        "test",
        "checkout-api",
        tocsin::alerts::integration::IntegrationKind::Alertmanager,
        "prometheus",
    )
    .await
    .expect("integration");
    let clock: tocsin::clock::SharedClock = std::sync::Arc::new(tocsin::clock::SystemClock);
    let state = tocsin::http::AppState::new(t.db.clone(), clock, Default::default(), None);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind tocsin");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(tocsin::app::serve_on(
        listener,
        state,
        std::future::pending(),
    ));
    (t, addr, key)
}

async fn alerts_with(db: &tocsin::db::Db, status: Status) -> Vec<tocsin::alerts::lifecycle::Alert> {
    let filter = Filter {
        status: Some(status),
        service: None,
        severity: None,
        before: None,
        limit: 100,
    };
    store::list(db, &filter).await.expect("list alerts")
}

/// Polls until `check` holds (15 s at most): Alertmanager delivers on its own schedule.
async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "{what} within 15 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn real_alertmanager_opens_and_resolves_a_tocsin_alert() {
    if missing_alertmanager() {
        return;
    }
    let (t, addr, key) = tocsin().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let _am = start_to(
        dir.path(),
        &format!("http://{addr}/ingest/alertmanager"),
        &key,
        port,
    );
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    eventually("alertmanager ready", async || {
        http.get(format!("{base}/-/ready"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
    })
    .await;
    let alert = json!([{
        "labels": {"alertname": "PaymentsDown", "severity": "critical"},
        "annotations": {"summary": "Card payments failing"}
    }]);
    post_alerts(&http, &base, &alert).await;
    eventually("a triggered Tocsin alert", async || {
        !alerts_with(&t.db, Status::Triggered).await.is_empty()
    })
    .await;
    let open = alerts_with(&t.db, Status::Triggered).await;
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].service, "checkout-api");
    assert_eq!(open[0].summary, "Card payments failing");
    assert_eq!(open[0].severity, Some(Severity::Critical));

    let mut resolved = alert.clone();
    resolved[0]["endsAt"] = json!(jiff::Timestamp::now().to_string());
    post_alerts(&http, &base, &resolved).await;
    eventually("the Tocsin alert resolved", async || {
        !alerts_with(&t.db, Status::Resolved).await.is_empty()
    })
    .await;
    let done = alerts_with(&t.db, Status::Resolved).await;
    assert_eq!(done[0].id, open[0].id, "the same alert resolves");
    assert!(alerts_with(&t.db, Status::Triggered).await.is_empty());
}

#[tokio::test]
async fn captured_alertmanager_bodies_replay_through_http() {
    let (t, addr, key) = tocsin().await;
    let http = reqwest::Client::new();
    let url = format!("http://{addr}/ingest/alertmanager");
    let send = async |body: &'static str| {
        let r = http
            .post(&url)
            .bearer_auth(&key)
            .body(body)
            .header("content-type", "application/json");
        r.send().await.expect("post").status()
    };
    // (a) two firing, (b) a new group, (c) one of (a) resolved, (d) the other resolved.
    for body in [FIXTURE_A, FIXTURE_B, FIXTURE_C, FIXTURE_D] {
        assert_eq!(send(body).await, 200);
    }
    assert_eq!(
        alerts_with(&t.db, Status::Triggered).await.len(),
        1,
        "only DiskFull is still firing"
    );
    assert_eq!(alerts_with(&t.db, Status::Resolved).await.len(), 2);
    // A wrong key is a 401, a body that is not a webhook a 400; neither stores anything.
    let r = http
        .post(&url)
        .bearer_auth("nope")
        .body(FIXTURE_A)
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 401);
    let r = http
        .post(&url)
        .bearer_auth(&key)
        .body("{\"version\":\"3\"}")
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 400);
    assert_eq!(alerts_with(&t.db, Status::Triggered).await.len(), 1);
}

const FIXTURE_A: &str =
    include_str!("../fixtures/alertmanager/alertmanager-0.25-a-two-firing.json");
const FIXTURE_B: &str = include_str!("../fixtures/alertmanager/alertmanager-0.25-b-new-group.json");
const FIXTURE_C: &str =
    include_str!("../fixtures/alertmanager/alertmanager-0.25-c-one-resolved.json");
const FIXTURE_D: &str =
    include_str!("../fixtures/alertmanager/alertmanager-0.25-d-all-resolved.json");
