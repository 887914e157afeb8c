//! Alerts over the REST API (viewer reads, responder acknowledges and resolves, admin manages
//! integration keys) and the `tocsin alert` / `tocsin integration` commands on a SQLite file.

use serde_json::json;
use tocsin::alerts::Action;
use tocsin::alerts::integration;
use tocsin::auth::Role;

use super::{event, send};
use crate::serve::{Site, run_ok, run_tocsin};
use crate::support::{TestApp, backends, seed_example, t0};

#[tokio::test]
async fn the_api_lists_shows_acknowledges_and_resolves_by_role() {
    for t in backends().await {
        seed_example(&t.db).await;
        let b = t.backend;
        let app = TestApp::new(t.db.clone());
        let (viewer, responder) = (
            app.token(Role::Viewer).await,
            app.token(Role::Responder).await,
        );
        let now = t0().as_millisecond();
        let id = send(
            &app.db,
            &event(Action::Trigger, Some("a"), "checkout failing"),
            now,
        )
        .await
        .alert_id
        .unwrap();
        send(
            &app.db,
            &event(Action::Trigger, Some("b"), "other"),
            now + 1,
        )
        .await;

        let (status, body) = app
            .call(
                "GET",
                "/api/v1/alerts?status=triggered&service=checkout-api&limit=1",
                Some(&viewer),
                None,
            )
            .await;
        assert_eq!(status, 200, "{b}: {body}");
        assert_eq!(body.as_array().map(Vec::len), Some(1), "{b}");
        assert_eq!(body[0]["summary"], "other", "{b}");
        let (status, _) = app
            .call("GET", "/api/v1/alerts?status=open", Some(&viewer), None)
            .await;
        assert_eq!(status, 400, "{b}");
        let (status, _) = app.call("GET", "/api/v1/alerts", None, None).await;
        assert_eq!(status, 401, "{b}");

        let path = format!("/api/v1/alerts/{id}");
        let (status, body) = app.call("GET", &path, Some(&viewer), None).await;
        assert_eq!(
            (status, &body["status"]),
            (axum::http::StatusCode::OK, &json!("triggered")),
            "{b}: {body}"
        );
        assert_eq!(body["log"][0]["kind"], "trigger", "{b}");
        let (status, _) = app
            .call("GET", "/api/v1/alerts/nope", Some(&viewer), None)
            .await;
        assert_eq!(status, 404, "{b}");

        let ack = format!("{path}/acknowledge");
        let (status, _) = app.call("POST", &ack, Some(&viewer), None).await;
        assert_eq!(status, 403, "{b}: viewers cannot acknowledge");
        let (status, body) = app.call("POST", &ack, Some(&responder), None).await;
        assert_eq!(
            (status.as_u16(), &body["status"]),
            (200, &json!("acknowledged")),
            "{b}: {body}"
        );
        assert_eq!(body["acknowledged_by"], "token:test-responder", "{b}");
        let (status, _) = app.call("POST", &ack, Some(&responder), None).await;
        assert_eq!(status, 200, "{b}: acknowledging twice is harmless");
        let resolve = format!("{path}/resolve");
        let (status, body) = app.call("POST", &resolve, Some(&responder), None).await;
        assert_eq!(
            (status.as_u16(), &body["status"]),
            (200, &json!("resolved")),
            "{b}"
        );
        for again in [&resolve, &ack] {
            let (status, _) = app.call("POST", again, Some(&responder), None).await;
            assert_eq!(status, 409, "{b}: {again} on a resolved alert");
        }
        let (_, body) = app.call("GET", &path, Some(&viewer), None).await;
        let kinds: Vec<_> = body["log"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["kind"].clone())
            .collect();
        assert_eq!(
            kinds,
            [json!("trigger"), json!("acknowledge"), json!("resolve")],
            "{b}"
        );
    }
}

#[tokio::test]
async fn the_api_manages_integration_keys_for_admins() {
    for t in backends().await {
        seed_example(&t.db).await;
        let b = t.backend;
        let app = TestApp::new(t.db.clone());
        let (responder, admin) = (
            app.token(Role::Responder).await,
            app.token(Role::Admin).await,
        );
        let path = "/api/v1/services/checkout-api/integrations";
        let body = json!({"type": "pagerduty", "name": "PD"});
        let (status, _) = app
            .call("POST", path, Some(&responder), Some(body.clone()))
            .await;
        assert_eq!(status, 403, "{b}");
        let (status, created) = app.call("POST", path, Some(&admin), Some(body)).await;
        assert_eq!(status, 201, "{b}: {created}");
        let key = created["key"].as_str().unwrap().to_string();
        assert_eq!(key.len(), 32, "{b}");
        assert_eq!(created["integration"]["type"], "pagerduty", "{b}");
        let id = created["integration"]["id"].as_str().unwrap().to_string();
        let (status, _) = app
            .call("POST", path, Some(&admin), Some(json!({"type": "slack"})))
            .await;
        assert_eq!(status, 422, "{b}");
        let (status, _) = app
            .call(
                "POST",
                "/api/v1/services/nope/integrations",
                Some(&admin),
                Some(json!({"type": "generic"})),
            )
            .await;
        assert_eq!(status, 404, "{b}");

        let (status, listed) = app.call("GET", path, Some(&admin), None).await;
        assert_eq!(status, 200, "{b}");
        assert_eq!(listed.as_array().map(Vec::len), Some(1), "{b}");
        assert!(!listed.to_string().contains(&key), "{b}: never lists a key");

        let (status, rotated) = app
            .call(
                "POST",
                &format!("/api/v1/integrations/{id}/rotate"),
                Some(&admin),
                None,
            )
            .await;
        assert_eq!(status, 200, "{b}");
        let new_key = rotated["key"].as_str().unwrap();
        assert_ne!(new_key, key, "{b}");
        assert!(
            integration::authenticate(&app.db, &key)
                .await
                .unwrap()
                .is_none(),
            "{b}"
        );
        assert!(
            integration::authenticate(&app.db, new_key)
                .await
                .unwrap()
                .is_some(),
            "{b}"
        );

        let item = format!("/api/v1/integrations/{id}");
        let (status, _) = app.call("DELETE", &item, Some(&admin), None).await;
        assert_eq!(status, 204, "{b}");
        let (status, _) = app.call("DELETE", &item, Some(&admin), None).await;
        assert_eq!(status, 404, "{b}");
    }
}

/// Ingestion remembers authenticated keys (`integration::KeyCache`): a key rotated or deleted
/// through this server stops at once; one rotated elsewhere (the CLI, another instance) works
/// until the cache's few seconds are up, then stops.
#[tokio::test]
async fn ingestion_forgets_rotated_and_deleted_keys() {
    for t in backends().await {
        seed_example(&t.db).await;
        let b = t.backend;
        let app = TestApp::new(t.db.clone());
        let admin = app.token(Role::Admin).await;
        let path = "/api/v1/services/checkout-api/integrations";
        let (_, created) = app
            .call("POST", path, Some(&admin), Some(json!({"type": "generic"})))
            .await;
        let key = created["key"].as_str().unwrap().to_string();
        let id = created["integration"]["id"].as_str().unwrap().to_string();
        let body = || Some(json!({"summary": "disk full", "dedup_key": "d"}));
        let post = |key: String| {
            let app = &app;
            async move {
                app.call("POST", "/ingest/generic", Some(&key), body())
                    .await
                    .0
            }
        };
        assert_eq!(post(key.clone()).await, 200, "{b}");
        assert_eq!(post("tcn_i_wrong".into()).await, 401, "{b}");

        let rotate = format!("/api/v1/integrations/{id}/rotate");
        let (_, rotated) = app.call("POST", &rotate, Some(&admin), None).await;
        let second = rotated["key"].as_str().unwrap().to_string();
        assert_eq!(
            post(key.clone()).await,
            401,
            "{b}: rotated here, refused at once"
        );
        assert_eq!(post(second.clone()).await, 200, "{b}");

        // Rotated behind this server's back, as another instance would.
        let (_, third) = integration::rotate(&t.db, 0, "test", &id).await.unwrap();
        assert_eq!(
            post(second.clone()).await,
            200,
            "{b}: still trusted for a moment"
        );
        let ttl = u64::try_from(integration::KEY_CACHE_TTL_MS).unwrap();
        app.clock.advance(std::time::Duration::from_millis(ttl));
        assert_eq!(
            post(second.clone()).await,
            401,
            "{b}: refused once the cache expired"
        );
        assert_eq!(post(third.clone()).await, 200, "{b}");

        let item = format!("/api/v1/integrations/{id}");
        let (status, _) = app.call("DELETE", &item, Some(&admin), None).await;
        assert_eq!(status, 204, "{b}");
        assert_eq!(post(third).await, 401, "{b}: deleted here, refused at once");
    }
}

#[test]
fn the_cli_manages_keys_and_acknowledges_and_resolves_alerts() {
    let site = Site::seeded();
    let db = site.database_url.as_str();
    let key = run_ok(
        &[
            "integration",
            "--database-url",
            db,
            "create",
            "--service",
            "checkout-api",
            "--type",
            "pagerduty",
        ],
        "",
    );
    assert_eq!(key.trim().len(), 32, "{key}");
    let listed = run_ok(&["integration", "--database-url", db, "list"], "");
    assert!(
        listed.contains("checkout-api") && listed.contains("pagerduty"),
        "{listed}"
    );
    let id = listed.split_whitespace().next().unwrap().to_string();
    let new_key = run_ok(&["integration", "--database-url", db, "rotate", &id], "");
    assert_ne!(new_key.trim(), key.trim());
    let bad = run_tocsin(
        &[
            "integration",
            "--database-url",
            db,
            "create",
            "--service",
            "checkout-api",
            "--type",
            "slack",
        ],
        "",
    );
    assert_eq!(bad.status.code(), Some(2));

    // No ingestion command yet: put an alert in the file through the library.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let alert = runtime.block_on(async {
        let db = tocsin::app::open_db(db).await.unwrap();
        let id = send(
            &db,
            &event(Action::Trigger, Some("cli"), "payments down"),
            1_000,
        )
        .await
        .alert_id
        .unwrap();
        db.close().await;
        id
    });

    let list = run_ok(
        &[
            "alert",
            "--database-url",
            db,
            "list",
            "--status",
            "triggered",
        ],
        "",
    );
    assert!(
        list.contains(&alert) && list.contains("payments down"),
        "{list}"
    );
    let out = run_ok(&["alert", "--database-url", db, "ack", &alert], "");
    assert!(out.contains("acknowledged"), "{out}");
    let out = run_ok(&["alert", "--database-url", db, "resolve", &alert], "");
    assert!(out.contains("resolved"), "{out}");
    let again = run_tocsin(&["alert", "--database-url", db, "resolve", &alert], "");
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already resolved"));
    let missing = run_tocsin(&["alert", "--database-url", db, "ack", "nope"], "");
    assert_eq!(missing.status.code(), Some(1));
    let list = run_ok(
        &[
            "alert",
            "--database-url",
            db,
            "list",
            "--status",
            "triggered",
        ],
        "",
    );
    assert!(!list.contains(&alert), "{list}");
}
