//! Group commit of ingestion (`alerts::batch`) on both backends, through the HTTP endpoints:
//! concurrent requests share transactions and every one of them is stored before its 2xx;
//! repeats of one key inside a batch fold into one alert; a request whose write fails (a
//! database trigger that refuses one summary, installed by the test) fails alone while the
//! others of its batch are committed; and queued requests are written before the writers stop.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tocsin::alerts::integration::{self, IntegrationKind};
use tocsin::alerts::lifecycle::Status;
use tocsin::alerts::store::{self, Filter};
use tocsin::alerts::{Action, AlertEvent};
use tocsin::clock::{FakeClock, SharedClock};
use tocsin::db::Db;
use tocsin::http::{AppState, HttpSettings};
use tower::ServiceExt;

use crate::api::raw;
use crate::support::{TestApp, backends, seed_example, t0};

/// An app over `db` with `settings`, and its state (to read the writers' counts).
pub(crate) fn app_with(db: Db, settings: HttpSettings) -> (TestApp, AppState) {
    let clock = FakeClock::at(t0());
    let shared: SharedClock = Arc::new(clock.clone());
    let state = AppState::new(db.clone(), shared, settings, None);
    let router = tocsin::http::router(state.clone());
    (
        TestApp {
            db,
            clock,
            router,
            state: state.clone(),
        },
        state,
    )
}

/// A `kind` integration key for checkout-api.
pub(crate) async fn key_for(db: &Db, kind: IntegrationKind) -> String {
    let catalog = tocsin::catalog::store::load(db).await.expect("catalog");
    let (_, key) = integration::create(db, &catalog, 0, "test", "checkout-api", kind, "")
        .await
        .expect("integration");
    key
}

/// Alerts of any status, up to 500.
pub(crate) async fn all_alerts(db: &Db) -> Vec<tocsin::alerts::lifecycle::Alert> {
    let filter = Filter {
        status: None,
        service: None,
        severity: None,
        before: None,
        limit: 500,
    };
    store::list(db, &filter).await.expect("list alerts")
}

/// Sends every request at once (each on its own task, as concurrent clients would); the
/// replies in the order of the requests, bodies parsed as JSON.
pub(crate) async fn send_all(
    app: &TestApp,
    requests: impl IntoIterator<Item = Request<Body>>,
) -> Vec<(StatusCode, Value)> {
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|req| {
            let router = app.router.clone();
            tokio::spawn(async move {
                let response = router.oneshot(req).await.expect("infallible");
                let status = response.status();
                let bytes = response.into_body().collect().await.expect("body");
                let body = serde_json::from_slice(&bytes.to_bytes()).unwrap_or(Value::Null);
                (status, body)
            })
        })
        .collect();
    let mut replies = Vec::with_capacity(tasks.len());
    for task in tasks {
        replies.push(task.await.expect("request task"));
    }
    replies
}

/// Posts `n` generic events at once, each with its own summary and dedup key from `key_of`.
async fn post_many(
    app: &TestApp,
    key: &str,
    n: usize,
    key_of: impl Fn(usize) -> String,
) -> Vec<(StatusCode, Value)> {
    let requests = (0..n).map(|i| {
        let body = json!({"summary": format!("event {i}"), "dedup_key": key_of(i)});
        raw("POST", "/ingest/generic", key, body.to_string())
    });
    send_all(app, requests).await
}

#[tokio::test]
async fn concurrent_requests_share_commits_and_each_is_stored_before_its_reply() {
    for t in backends().await {
        let b = t.backend;
        seed_example(&t.db).await;
        let key = key_for(&t.db, IntegrationKind::Generic).await;
        let (app, state) = app_with(t.db.clone(), HttpSettings::default());
        let replies = post_many(&app, &key, 200, |i| format!("k{i}")).await;
        for (status, body) in &replies {
            assert_eq!(*status, StatusCode::OK, "{b}: {body}");
            assert_eq!(body["alerts"][0]["created"], true, "{b}: {body}");
        }
        let alerts = all_alerts(&t.db).await;
        assert_eq!(alerts.len(), 200, "{b}: every 2xx is a stored alert");
        // Each reply names the alert that was committed for it.
        for (_, body) in &replies {
            let id = body["alerts"][0]["alert"].as_str().expect("alert id");
            assert!(alerts.iter().any(|a| a.id == id), "{b}: {id} stored");
        }
        let stats = state.ingest.stats();
        assert_eq!(stats.requests, 200, "{b}");
        assert!(
            stats.batches < 200,
            "{b}: requests shared transactions: {stats:?}"
        );
        assert_eq!(stats.retried, 0, "{b}");
    }
}

#[tokio::test]
async fn repeats_of_one_key_in_a_batch_fold_into_one_alert() {
    for t in backends().await {
        let b = t.backend;
        seed_example(&t.db).await;
        let key = key_for(&t.db, IntegrationKind::Generic).await;
        let (app, _) = app_with(t.db.clone(), HttpSettings::default());
        let replies = post_many(&app, &key, 30, |_| "same".into()).await;
        let created = replies
            .iter()
            .filter(|(s, body)| *s == StatusCode::OK && body["alerts"][0]["created"] == true)
            .count();
        assert_eq!(created, 1, "{b}: one creates, the rest repeat");
        let alerts = all_alerts(&t.db).await;
        assert_eq!(alerts.len(), 1, "{b}");
        assert_eq!(alerts[0].event_count, 30, "{b}");
        assert_eq!(alerts[0].status, Status::Triggered, "{b}");
    }
}

/// A trigger that makes the database refuse any alert summarised "poison": a failure the
/// store cannot foresee, like a constraint or a full disk, for one request only. (Test-only
/// SQL: it injects a fault into the real database rather than mocking the store.)
async fn install_poison(db: &Db) {
    match db {
        Db::Sqlite(pool, _) => {
            sqlx::raw_sql(
                "create trigger poison before insert on alerts when new.summary = 'poison' \
                 begin select raise(abort, 'poisoned'); end;",
            )
            .execute(pool)
            .await
            .expect("sqlite trigger");
        }
        Db::Postgres(pool) => {
            sqlx::raw_sql(
                "create function poison() returns trigger language plpgsql as $$ \
                 begin if new.summary = 'poison' then raise exception 'poisoned'; end if; \
                 return new; end $$; \
                 create trigger poison before insert on alerts for each row \
                 execute function poison();",
            )
            .execute(pool)
            .await
            .expect("postgres trigger");
        }
    }
}

#[tokio::test]
async fn a_failing_request_fails_alone_and_its_batch_is_committed() {
    for t in backends().await {
        let b = t.backend;
        seed_example(&t.db).await;
        install_poison(&t.db).await;
        let key = key_for(&t.db, IntegrationKind::Generic).await;
        let (app, state) = app_with(t.db.clone(), HttpSettings::default());
        let requests = (0..41).map(|i| {
            let summary = if i == 20 {
                "poison".to_string()
            } else {
                format!("event {i}")
            };
            let body = json!({"summary": summary, "dedup_key": format!("k{i}")});
            raw("POST", "/ingest/generic", &key, body.to_string())
        });
        let replies = send_all(&app, requests).await;
        for (i, (status, body)) in replies.iter().enumerate() {
            if i == 20 {
                assert_eq!(*status, StatusCode::INTERNAL_SERVER_ERROR, "{b}: {body}");
                assert_eq!(body["error"], "internal error", "{b}: no internals leak");
            } else {
                assert_eq!(*status, StatusCode::OK, "{b}: request {i}: {body}");
            }
        }
        let alerts = all_alerts(&t.db).await;
        assert_eq!(alerts.len(), 40, "{b}: the innocent forty are stored");
        assert!(alerts.iter().all(|a| a.summary != "poison"), "{b}");
        let stats = state.ingest.stats();
        assert!(
            stats.retried >= 1,
            "{b}: the poison shared a batch: {stats:?}"
        );
    }
}

#[tokio::test]
async fn queued_requests_are_written_before_the_writers_stop() {
    for t in backends().await {
        let b = t.backend;
        seed_example(&t.db).await;
        let catalog = tocsin::catalog::store::load(&t.db).await.expect("catalog");
        let (integration, _) = integration::create(
            &t.db,
            &catalog,
            0,
            "test",
            "checkout-api",
            IntegrationKind::Generic,
            "",
        )
        .await
        .expect("integration");
        let clock: SharedClock = Arc::new(FakeClock::at(t0()));
        let ingest = Arc::new(tocsin::alerts::batch::Ingest::start(
            t.db.clone(),
            Arc::default(),
            clock,
            Default::default(),
            0,
            Arc::default(),
        ));
        let finished = ingest.take_finished().expect("first take");
        assert!(ingest.take_finished().is_none(), "{b}");
        let submits: Vec<_> = (0..50)
            .map(|i| {
                let (ingest, integration) = (ingest.clone(), integration.clone());
                let event = AlertEvent {
                    dedup_key: Some(format!("d{i}")),
                    ..crate::alerts::event(Action::Trigger, None, "drain")
                };
                tokio::spawn(async move { ingest.submit(integration, vec![event]).await })
            })
            .collect();
        // The last handle goes while requests are still queued: the writers finish them.
        drop(ingest);
        tokio::time::timeout(std::time::Duration::from_secs(10), finished)
            .await
            .expect("writers stop once drained")
            .expect("writers did not panic");
        for s in submits {
            let outcomes = s.await.expect("task").expect("stored");
            assert!(outcomes[0].created, "{b}");
        }
        assert_eq!(all_alerts(&t.db).await.len(), 50, "{b}");
    }
}
