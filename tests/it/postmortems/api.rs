//! The postmortem API on both backends: drafting over HTTP, who reads drafts (responders) and
//! published ones (everyone), the workflow through its endpoints, the library's search and
//! filters, the Markdown export in the reader's zone, the blameless check; every bad request
//! a JSON 4xx that writes nothing.

use axum::http::StatusCode;
use serde_json::{Value, json};
use tocsin::auth::Role;

use super::{Cast, scripted_incident, snapshot, t};
use crate::support::{TestApp, backends, seed_example};

#[tokio::test]
async fn draft_review_publish_over_http() {
    for b in backends().await {
        let db = b.db.clone();
        seed_example(&db).await;
        let snap = snapshot(&db).await;
        let id = scripted_incident(&db, &snap, &Cast::new(&snap)).await;
        let app = TestApp::new(db.clone());
        app.clock
            .set(jiff::Timestamp::from_millisecond(t(70)).unwrap());
        let viewer = app.token(Role::Viewer).await;
        let responder = app.token(Role::Responder).await;
        let admin = app.token(Role::Admin).await;
        let pm = format!("/api/v1/postmortems/{id}");

        let (s, body) = app
            .call(
                "POST",
                &format!("/api/v1/incidents/{id}/postmortem"),
                Some(&viewer),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
        let (s, body) = app
            .call(
                "POST",
                &format!("/api/v1/incidents/{id}/postmortem"),
                Some(&responder),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{body}");
        assert_eq!(body["reference"], format!("INC-{id}"));
        assert_eq!(body["postmortem"]["status"], "draft");
        assert!(
            body["missing"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m == "Action items")
        );
        let (s, body) = app
            .call(
                "POST",
                &format!("/api/v1/incidents/{id}/postmortem"),
                Some(&responder),
                None,
            )
            .await;
        assert_eq!((s, body["error"].is_string()), (StatusCode::CONFLICT, true));
        let (s, body) = app
            .call(
                "POST",
                "/api/v1/incidents/9999/postmortem",
                Some(&responder),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

        // A draft is for responders; the library hides it from viewers.
        let (s, body) = app.call("GET", &pm, Some(&viewer), None).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
        let (_, list) = app
            .call("GET", "/api/v1/postmortems", Some(&viewer), None)
            .await;
        assert_eq!(list.as_array().unwrap().len(), 0);
        let (_, list) = app
            .call("GET", "/api/v1/postmortems", Some(&responder), None)
            .await;
        assert_eq!(list.as_array().unwrap().len(), 1);

        // A section with blaming words comes back with its flags.
        let (s, body) = app
            .call(
                "PUT",
                &format!("{pm}/sections/summary"),
                Some(&responder),
                Some(json!({"body": "Checkout failed for 52 minutes because of human error."})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert_eq!(body["flags"][0]["phrase"], "human error");
        assert!(body["flags"][0]["suggestion"].as_str().unwrap().len() > 10);
        for (method, path, b, want) in [
            (
                "PUT",
                format!("{pm}/sections/nope"),
                json!({"body": "x"}),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                "PUT",
                format!("{pm}/sections/summary"),
                json!({"text": "x"}),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                "POST",
                format!("{pm}/reviewers"),
                json!({"person": "ghost"}),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                "POST",
                format!("{pm}/actions"),
                json!({"title": "x", "kind": "blame", "owner": "adam"}),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                "POST",
                format!("{pm}/submit"),
                json!({}),
                StatusCode::CONFLICT,
            ),
            (
                "POST",
                format!("{pm}/approve"),
                json!({}),
                StatusCode::FORBIDDEN,
            ),
            (
                "POST",
                "/api/v1/postmortems/9999/submit".to_string(),
                json!({}),
                StatusCode::NOT_FOUND,
            ),
            (
                "PUT",
                "/api/v1/postmortems/x/sections/summary".to_string(),
                json!({"body": "x"}),
                StatusCode::BAD_REQUEST,
            ),
        ] {
            let (s, body) = app.call(method, &path, Some(&responder), Some(b)).await;
            assert_eq!(s, want, "{method} {path}: {body}");
            assert!(body["error"].is_string(), "{body}");
        }

        // Fill in, name a reviewer, submit; an admin (no person) may not approve but may publish.
        let (_, detail) = app.call("GET", &pm, Some(&responder), None).await;
        for m in detail["missing"].as_array().unwrap() {
            let key = detail["sections"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| &s["title"] == m)
                .map(|s| s["key"].as_str().unwrap().to_string())
                .unwrap();
            if key != "action_items" {
                let (s, _) = app
                    .call(
                        "PUT",
                        &format!("{pm}/sections/{key}"),
                        Some(&responder),
                        Some(json!({"body": "Written."})),
                    )
                    .await;
                assert_eq!(s, StatusCode::OK);
            }
        }
        let (s, a) = app
            .call(
                "POST",
                &format!("{pm}/actions"),
                Some(&responder),
                Some(json!({"title": "Validate pool settings", "kind": "prevent", "owner": "tom-baker", "due_at": t(70) + 86_400_000})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{a}");
        assert_eq!(a["team"], "catalog-backend");
        let (s, _) = app
            .call(
                "POST",
                &format!("{pm}/reviewers"),
                Some(&responder),
                Some(json!({"person": "adam"})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
        let (s, body) = app
            .call("POST", &format!("{pm}/submit"), Some(&responder), None)
            .await;
        assert_eq!(
            (s, body["postmortem"]["status"].as_str()),
            (StatusCode::OK, Some("in_review")),
            "{body}"
        );
        let (s, body) = app
            .call(
                "POST",
                &format!("{pm}/comments"),
                Some(&responder),
                Some(json!({"section": "impact", "body": "Orders lost?"})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{body}");
        assert_eq!(body["comments"][0]["section"], "impact");
        let (s, body) = app
            .call("POST", &format!("{pm}/approve"), Some(&admin), None)
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
        let (s, body) = app
            .call("POST", &format!("{pm}/publish"), Some(&admin), None)
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "waiting for adam: {body}");
        assert!(body["error"].as_str().unwrap().contains("adam"));
        // Adam approves through the web later; here his approval goes straight to the store.
        {
            let mut tx = db.begin().await.unwrap();
            tocsin::postmortems::store::set_approval(&mut tx, id, Some("adam"), Some(t(80)))
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
        let (s, body) = app
            .call("POST", &format!("{pm}/publish"), Some(&responder), None)
            .await;
        assert_eq!(
            s,
            StatusCode::FORBIDDEN,
            "a responder without a part in it: {body}"
        );
        let (s, body) = app
            .call("POST", &format!("{pm}/publish"), Some(&admin), None)
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert_eq!(body["postmortem"]["status"], "published");
        let (_, inc) = app
            .call(
                "GET",
                &format!("/api/v1/incidents/{id}"),
                Some(&viewer),
                None,
            )
            .await;
        assert_eq!(inc["incident"]["status"], "closed");

        // Published: everyone reads it, in their own zone; nobody edits it.
        let (s, _) = app.call("GET", &pm, Some(&viewer), None).await;
        assert_eq!(s, StatusCode::OK);
        let (s, md) = app
            .call(
                "GET",
                &format!("{pm}/export.md?tz=America/Toronto"),
                Some(&viewer),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        let md = md.as_str().unwrap();
        assert!(
            md.starts_with(&format!("# Postmortem: INC-{id}: Checkout failing")),
            "{md}"
        );
        assert!(
            md.contains("| Time (America/Toronto) |") && md.contains("EDT"),
            "{md}"
        );
        assert!(md.contains("Validate pool settings"));
        let (s, _) = app
            .call(
                "GET",
                &format!("{pm}/export.md?tz=Mars/Base"),
                Some(&viewer),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        let (s, _) = app
            .call(
                "PUT",
                &format!("{pm}/sections/summary"),
                Some(&responder),
                Some(json!({"body": "x"})),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT);
    }
}

#[tokio::test]
async fn the_library_searches_words_and_filters() {
    for b in backends().await {
        let db = b.db.clone();
        seed_example(&db).await;
        let snap = snapshot(&db).await;
        let id = scripted_incident(&db, &snap, &Cast::new(&snap)).await;
        let app = TestApp::new(db.clone());
        app.clock
            .set(jiff::Timestamp::from_millisecond(t(70)).unwrap());
        let responder = app.token(Role::Responder).await;
        let viewer = app.token(Role::Viewer).await;
        let (s, _) = app
            .call(
                "POST",
                &format!("/api/v1/incidents/{id}/postmortem"),
                Some(&responder),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
        let count = async |q: &str| -> Value {
            let (s, body) = app
                .call(
                    "GET",
                    &format!("/api/v1/postmortems{q}"),
                    Some(&responder),
                    None,
                )
                .await;
            assert_eq!(s, StatusCode::OK, "{q}: {body}");
            json!(body.as_array().unwrap().len())
        };
        // Words anywhere, any case, all of them.
        assert_eq!(count("?q=POOL%20connection").await, 1);
        assert_eq!(count("?q=pool%20zebra").await, 0);
        assert_eq!(count("?q=100%25").await, 0, "wildcards are text");
        assert_eq!(count("?service=checkout-api").await, 1);
        assert_eq!(count("?service=catalog-api").await, 0);
        assert_eq!(count("?team=cart-checkout").await, 1);
        assert_eq!(count("?team=identity").await, 0);
        assert_eq!(count("?severity=sev1&status=draft").await, 1);
        assert_eq!(count("?severity=sev0").await, 0);
        assert_eq!(count(&format!("?from={}", t(-60))).await, 1);
        assert_eq!(count(&format!("?from={}", t(60))).await, 0);
        for (q, want) in [
            ("?status=lost", StatusCode::BAD_REQUEST),
            ("?team=ghosts", StatusCode::UNPROCESSABLE_ENTITY),
            ("?from=yesterday", StatusCode::BAD_REQUEST),
        ] {
            let (s, body) = app
                .call(
                    "GET",
                    &format!("/api/v1/postmortems{q}"),
                    Some(&responder),
                    None,
                )
                .await;
            assert_eq!(s, want, "{q}: {body}");
        }
        let (s, flags) = app
            .call(
                "POST",
                "/api/v1/blameless",
                Some(&viewer),
                Some(json!({"text": "Jon Doe caused it. The error rate rose."})),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        let flags = flags.as_array().unwrap();
        assert_eq!(flags.len(), 1, "{flags:?}");
        assert_eq!(flags[0]["phrase"], "Jon Doe");
    }
}
