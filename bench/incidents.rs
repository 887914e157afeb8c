//! Incident benchmarks on SQLite (issue #5 targets):
//! - server time of the incident page and of its document with 2,000 timeline entries,
//!   in process through the real router (target < 30 ms for the page);
//! - SSE fan-out: 200 live incident pages connected over real loopback sockets to a real
//!   server; one note posted through the API; the time from the POST to each page receiving
//!   the entry (target p99 < 200 ms).
//!
//! Run: `cargo bench --bench incidents` (`-- --pages 200 --entries 2000` to change the sizes).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use tocsin::auth::Role;
use tocsin::catalog::snapshot::Snapshot;
use tocsin::clock::{SharedClock, SystemClock};
use tocsin::http::{AppState, HttpSettings};
use tocsin::incidents::EntryKind;
use tocsin::incidents::command::{self, Actor, Ctx, Declaration, NewNote};
use tower::ServiceExt;

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)].as_secs_f64() * 1e3
}

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// An incident on checkout-api with `entries` timeline entries of every written kind, some
/// starred, with Markdown bodies and links; its id.
async fn incident_with(db: &tocsin::db::Db, snap: &Snapshot, entries: usize) -> i64 {
    let actor = Actor::person(snap, "foo-bar");
    let now = 1_718_614_800_000; // 2024-06-17T09:00Z
    let ctx = Ctx {
        db,
        snap,
        now,
        actor: &actor,
        base_url: "http://127.0.0.1",
    };
    let d = Declaration {
        title: "Checkout failing for card payments".into(),
        services: vec!["checkout-api".into(), "payment-gateway".into()],
        ..Declaration::default()
    };
    let i = command::declare(&ctx, &d, "api").await.expect("declare");
    let kinds = [
        EntryKind::Note,
        EntryKind::Finding,
        EntryKind::Decision,
        EntryKind::Question,
        EntryKind::Link,
        EntryKind::Chat,
    ];
    for n in 0..entries.saturating_sub(2) {
        let ctx = Ctx {
            now: now + n as i64 * 1000,
            ..ctx
        };
        let kind = kinds[n % kinds.len()];
        let note = NewNote {
            kind,
            body: format!(
                "Entry {n}: the **error rate** on `checkout-api` is {}% — see [the dashboard](https://grafana.example/d/{n}) and\n\n- one\n- two",
                n % 97
            ),
            link_url: (kind == EntryKind::Link).then(|| format!("https://grafana.example/d/{n}")),
            image_url: None,
            starred: n % 50 == 0,
        };
        command::add_entry(&ctx, i.id, &note).await.expect("entry");
    }
    i.id
}

async fn page_times(router: &axum::Router, token: &str, path: &str) -> Vec<Duration> {
    let mut samples = Vec::new();
    for i in 0..120 {
        let req = Request::get(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .expect("request");
        let start = Instant::now();
        let response = router.clone().oneshot(req).await.expect("infallible");
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let elapsed = start.elapsed();
        assert_eq!(
            status,
            StatusCode::OK,
            "{path}: {}",
            String::from_utf8_lossy(&body)
        );
        if i >= 20 {
            samples.push(elapsed);
        }
    }
    samples.sort();
    samples
}

#[tokio::main]
async fn main() {
    let (pages, entries) = (arg("--pages", 200), arg("--entries", 2000));
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("incidents.db").display());
    let db = tocsin::app::open_db(&url).await.expect("db");
    let catalog = tocsin::config::load(tocsin::cli::example_sources(), &Default::default())
        .expect("example")
        .catalog;
    tocsin::config::apply::apply(&db, 0, "bench", &catalog, false)
        .await
        .expect("apply");
    let snap = Snapshot::new(tocsin::catalog::store::load(&db).await.expect("load"));
    let (_, token) = tocsin::auth::accounts::create_token(&db, "bench", Role::Admin, "bench", 0)
        .await
        .expect("token");
    let id = incident_with(&db, &snap, entries).await;
    let clock: SharedClock = Arc::new(SystemClock);
    let state = AppState::new(db.clone(), clock, HttpSettings::default(), None);
    let router = tocsin::http::router(state.clone());
    for (label, path) in [
        ("incident page", format!("/incidents/{id}")),
        (
            "incident document page",
            format!("/incidents/{id}/document"),
        ),
        ("incident API (JSON)", format!("/api/v1/incidents/{id}")),
        (
            "document as Markdown",
            format!("/api/v1/incidents/{id}/document.md"),
        ),
    ] {
        let s = page_times(&router, &token, &path).await;
        println!(
            "{label:<26} {entries} entries  p50={:>7.3} ms  p99={:>7.3} ms  max={:>7.3} ms",
            percentile(&s, 0.5),
            percentile(&s, 0.99),
            percentile(&s, 1.0)
        );
    }

    // SSE fan-out over real sockets.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(tocsin::app::serve_on(
        listener,
        state,
        std::future::pending(),
    ));
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .expect("client");
    let marker = format!("fan-out marker {}", std::process::id());
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel::<()>(pages);
    let mut readers = Vec::new();
    for _ in 0..pages {
        let (client, token, marker, ready) = (
            client.clone(),
            token.clone(),
            marker.clone(),
            ready_tx.clone(),
        );
        readers.push(tokio::spawn(async move {
            let mut r = client
                .get(format!("http://{addr}/incidents/{id}/events"))
                .header("Authorization", format!("Bearer {token}"))
                .header("Accept", "text/event-stream")
                .send()
                .await
                .expect("connect");
            assert_eq!(r.status(), 200, "events stream");
            ready.send(()).await.expect("ready");
            let mut seen = String::new();
            while let Some(chunk) = r.chunk().await.expect("chunk") {
                seen.push_str(&String::from_utf8_lossy(&chunk));
                if seen.contains(&marker) {
                    return Instant::now();
                }
                // Keep only a tail: the marker may straddle two chunks.
                if seen.len() > 8192 {
                    seen.drain(..seen.len() - 256);
                }
            }
            panic!("the stream ended before the entry arrived");
        }));
    }
    for _ in 0..pages {
        ready_rx.recv().await.expect("all connected");
    }
    // Let every stream finish its initial catch-up before the entry is written.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let start = Instant::now();
    let reply = client
        .post(format!("http://{addr}/api/v1/incidents/{id}/timeline"))
        .header("Authorization", format!("Bearer {token}"))
        .json(&serde_json::json!({"kind": "note", "body": marker}))
        .send()
        .await
        .expect("post");
    assert_eq!(reply.status(), 201);
    let mut lat = Vec::new();
    for r in readers {
        let got = tokio::time::timeout(Duration::from_secs(10), r)
            .await
            .expect("every page hears of the entry within 10 s")
            .expect("reader");
        lat.push(got.duration_since(start));
    }
    lat.sort();
    println!(
        "SSE fan-out to {pages} pages       p50={:>7.3} ms  p99={:>7.3} ms  max={:>7.3} ms",
        percentile(&lat, 0.5),
        percentile(&lat, 0.99),
        percentile(&lat, 1.0)
    );
}
