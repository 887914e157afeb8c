//! The incidents API on both backends: viewers read, responders act (admins too); every bad
//! request is a JSON 4xx that changes nothing; a whole run through HTTP (declare, roles,
//! notes, an update, resolve) and the Markdown document it leaves.

use axum::http::StatusCode;
use serde_json::{Value, json};
use tocsin::auth::Role;

use crate::support::{TestApp, backends, seed_example};

const MIN: i64 = 60_000;

async fn app_with_tokens(db: tocsin::db::Db) -> (TestApp, String, String, String) {
    seed_example(&db).await;
    let app = TestApp::new(db);
    let viewer = app.token(Role::Viewer).await;
    let responder = app.token(Role::Responder).await;
    let admin = app.token(Role::Admin).await;
    (app, viewer, responder, admin)
}

fn declaration() -> Value {
    json!({"title": "Checkout failing", "services": ["checkout-api"], "severity": "sev1"})
}

#[tokio::test]
async fn viewers_read_responders_act() {
    for b in backends().await {
        let (app, viewer, responder, admin) = app_with_tokens(b.db.clone()).await;
        let (s, body) = app
            .call(
                "POST",
                "/api/v1/incidents",
                Some(&viewer),
                Some(declaration()),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
        let (s, body) = app
            .call("POST", "/api/v1/incidents", None, Some(declaration()))
            .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{body}");
        let (s, list) = app
            .call("GET", "/api/v1/incidents", Some(&viewer), None)
            .await;
        assert_eq!((s, list.as_array().unwrap().len()), (StatusCode::OK, 0));

        let (s, created) = app
            .call(
                "POST",
                "/api/v1/incidents",
                Some(&responder),
                Some(declaration()),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{created}");
        let id = created["incident"]["id"].as_i64().unwrap();
        assert_eq!(created["reference"], format!("INC-{id}"));
        assert_eq!(created["incident"]["severity"], "sev1");
        assert_eq!(created["incident"]["declared_by"], "token:test-responder");
        // Someone declaring has answered the alarm, even without a catalog person.
        assert_eq!(
            created["incident"]["acknowledged_at"],
            created["incident"]["declared_at"]
        );
        let (s, _) = app
            .call(
                "POST",
                "/api/v1/incidents",
                Some(&admin),
                Some(declaration()),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);

        let (s, read) = app
            .call(
                "GET",
                &format!("/api/v1/incidents/{id}"),
                Some(&viewer),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(read["services"], json!(["checkout-api"]));
        let path = format!("/api/v1/incidents/{id}/timeline");
        let note = json!({"kind": "note", "body": "looking"});
        let (s, _) = app
            .call("POST", &path, Some(&viewer), Some(note.clone()))
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, entry) = app.call("POST", &path, Some(&responder), Some(note)).await;
        assert_eq!(s, StatusCode::CREATED, "{entry}");
        let (s, entries) = app
            .call(
                "GET",
                &format!("{path}?after={}", entry["id"].as_i64().unwrap() - 1),
                Some(&viewer),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(entries.as_array().unwrap().len(), 1, "{entries}");
    }
}

#[tokio::test]
async fn bad_requests_are_clear_4xx_and_change_nothing() {
    for b in backends().await {
        let (app, viewer, responder, _) = app_with_tokens(b.db.clone()).await;
        let cases = [
            (
                json!({"title": "", "services": []}),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                json!({"title": "x", "severity": "sev9"}),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                json!({"title": "x", "services": ["nope"]}),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                json!({"title": "x", "alerts": ["nope"]}),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                json!({"title": "x", "commander": "nobody"}),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                json!({"title": "x", "channel_kind": "irc", "channel_url": "http://x"}),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                json!({"title": "x", "channel_kind": "slack", "channel_url": "file:///etc/passwd"}),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                json!({"title": "x", "colour": "red"}),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                json!({"title": "x".repeat(201)}),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
        ];
        for (body, want) in cases {
            let (s, reply) = app
                .call(
                    "POST",
                    "/api/v1/incidents",
                    Some(&responder),
                    Some(body.clone()),
                )
                .await;
            assert!(
                s == want || (s.is_client_error() && want == StatusCode::UNPROCESSABLE_ENTITY),
                "{body} → {s} {reply}"
            );
            assert!(reply["error"].is_string(), "{body} → {reply}");
        }
        let (_, list) = app
            .call("GET", "/api/v1/incidents", Some(&viewer), None)
            .await;
        assert_eq!(list, json!([]), "nothing was declared");

        let (_, created) = app
            .call(
                "POST",
                "/api/v1/incidents",
                Some(&responder),
                Some(declaration()),
            )
            .await;
        let id = created["incident"]["id"].as_i64().unwrap();
        let at = |p: &str| format!("/api/v1/incidents/{id}{p}");
        let checks = [
            (
                "GET",
                "/api/v1/incidents/999".to_string(),
                None,
                StatusCode::NOT_FOUND,
            ),
            (
                "GET",
                "/api/v1/incidents/abc".to_string(),
                None,
                StatusCode::BAD_REQUEST,
            ),
            (
                "GET",
                "/api/v1/incidents?status=sleeping".to_string(),
                None,
                StatusCode::BAD_REQUEST,
            ),
            (
                "GET",
                at("/document.md?tz=Mars/Base"),
                None,
                StatusCode::BAD_REQUEST,
            ),
            (
                "POST",
                at("/status"),
                Some(json!({"status": "asleep"})),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                "POST",
                at("/status"),
                Some(json!({"status": "closed"})),
                StatusCode::CONFLICT,
            ),
            (
                "POST",
                at("/status"),
                Some(json!({"status": "investigating"})),
                StatusCode::CONFLICT,
            ),
            (
                "POST",
                at("/severity"),
                Some(json!({"severity": "sev9"})),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                "POST",
                at("/roles"),
                Some(json!({"role": "commander", "person": "nobody"})),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                "POST",
                at("/roles"),
                Some(json!({"role": "king", "person": "foo-bar"})),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            ("DELETE", at("/roles/king"), None, StatusCode::BAD_REQUEST),
            ("DELETE", at("/roles/comms"), None, StatusCode::CONFLICT),
            (
                "POST",
                at("/timeline"),
                Some(json!({"kind": "declared", "body": "fake"})),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                "POST",
                at("/timeline"),
                Some(json!({"body": "  "})),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                "POST",
                at("/timeline"),
                Some(json!({"body": "x", "link_url": "javascript:alert(1)"})),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                "POST",
                at("/timeline/999/star"),
                Some(json!({"starred": true})),
                StatusCode::NOT_FOUND,
            ),
            (
                "POST",
                at("/updates"),
                Some(json!({})),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                "POST",
                at("/updates"),
                Some(json!({"impact": "x", "next_update_minutes": 0})),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                "POST",
                at("/teams"),
                Some(json!({"team": "nope"})),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                "POST",
                at("/subscribers"),
                Some(json!({"kind": "pager", "target": "x"})),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                "POST",
                at("/subscribers"),
                Some(json!({"kind": "email", "target": "not an address"})),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                "DELETE",
                at("/subscribers"),
                Some(json!({"kind": "email", "target": "a@b.c"})),
                StatusCode::NOT_FOUND,
            ),
            (
                "PUT",
                at("/channel"),
                Some(json!({"kind": "slack"})),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
        ];
        for (method, path, body, want) in checks {
            let (s, reply) = app
                .call(method, &path, Some(&responder), body.clone())
                .await;
            assert_eq!(s, want, "{method} {path} {body:?} → {reply}");
            assert!(reply["error"].is_string(), "{method} {path} → {reply}");
        }
        let (_, read) = app.call("GET", &at(""), Some(&viewer), None).await;
        assert_eq!(
            read["timeline"].as_array().unwrap().len(),
            2,
            "declared + IC only: {read}"
        );
    }
}

#[tokio::test]
async fn a_whole_incident_through_http() {
    for b in backends().await {
        let (app, viewer, responder, _) = app_with_tokens(b.db.clone()).await;
        let (s, sug) = app
            .call(
                "GET",
                "/api/v1/incidents/suggest?services=checkout-api&alert_severity=warning",
                Some(&viewer),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{sug}");
        assert!(
            sug["impacted_functions"]
                .as_array()
                .is_some_and(|f| !f.is_empty()),
            "{sug}"
        );

        let (_, created) = app
            .call(
                "POST",
                "/api/v1/incidents",
                Some(&responder),
                Some(json!({"title": "Checkout failing", "services": ["checkout-api"]})),
            )
            .await;
        let id = created["incident"]["id"].as_i64().unwrap();
        assert_eq!(
            created["incident"]["severity"],
            sug["suggestion"]["severity"]
        );
        let at = |p: &str| format!("/api/v1/incidents/{id}{p}");
        let steps = [
            (
                "POST",
                at("/roles"),
                json!({"role": "comms", "person": "jane-doe"}),
                StatusCode::OK,
            ),
            (
                "POST",
                at("/roles"),
                json!({"role": "commander", "person": "jon-doe", "note": "You have it", "previous_becomes": "ops"}),
                StatusCode::OK,
            ),
            (
                "POST",
                at("/summary"),
                json!({"summary": "Payments DB full"}),
                StatusCode::OK,
            ),
            (
                "POST",
                at("/timeline"),
                json!({"kind": "question", "body": "Why did the disk alert not fire?"}),
                StatusCode::CREATED,
            ),
            (
                "POST",
                at("/timeline"),
                json!({"kind": "link", "body": "Error rate", "link_url": "https://grafana.example/d/1", "image_url": "https://grafana.example/render/1.png"}),
                StatusCode::CREATED,
            ),
            (
                "POST",
                at("/investigators"),
                json!({"person": "jane-doe"}),
                StatusCode::CREATED,
            ),
            (
                "POST",
                at("/subscribers"),
                json!({"kind": "email", "target": "ceo@shop.example"}),
                StatusCode::CREATED,
            ),
            (
                "POST",
                at("/subscribers"),
                json!({"kind": "email", "target": "ceo@shop.example"}),
                StatusCode::OK,
            ),
            (
                "POST",
                at("/teams"),
                json!({"team": "payments"}),
                StatusCode::CREATED,
            ),
            (
                "POST",
                at("/updates"),
                json!({"status": "monitoring", "impact": "Checkout errors 40%", "actions": "Disk grown"}),
                StatusCode::CREATED,
            ),
            (
                "POST",
                at("/severity"),
                json!({"severity": "sev1"}),
                StatusCode::OK,
            ),
            (
                "POST",
                at("/status"),
                json!({"status": "resolved", "note": "Errors back to zero"}),
                StatusCode::OK,
            ),
        ];
        for (method, path, body, want) in steps {
            app.clock
                .advance(std::time::Duration::from_millis(MIN as u64));
            let (s, reply) = app
                .call(method, &path, Some(&responder), Some(body.clone()))
                .await;
            assert_eq!(s, want, "{method} {path} {body} → {reply}");
        }
        let (_, read) = app.call("GET", &at(""), Some(&viewer), None).await;
        assert_eq!(read["incident"]["status"], "resolved");
        assert_eq!(read["incident"]["severity"], "sev1");
        assert!(
            read["metrics"]["time_to_resolve_ms"].as_i64().unwrap() >= 12 * MIN,
            "{read}"
        );
        let paged = read["alerts"].as_array().unwrap();
        assert_eq!(
            paged.len(),
            1,
            "the payments team is paged through an alert: {read}"
        );
        let subscribers = read["subscribers"].as_array().unwrap();
        assert!(
            subscribers.iter().any(|s| s["target"] == "payments"),
            "{read}"
        );
        let (s, md) = app
            .call(
                "GET",
                &at("/document.md?tz=Europe/London"),
                Some(&viewer),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        let md = md.as_str().unwrap();
        for needle in [
            "| Status | **resolved** |",
            "| Incident Commander | Jon Doe |",
            "| Communications Lead | Jane Doe |",
            "Payments DB full",
            "Why did the disk alert not fire?",
            "Disk grown",
            "You have it",
            "BST",
        ] {
            assert!(md.contains(needle), "{needle:?} missing from\n{md}");
        }
    }
}
