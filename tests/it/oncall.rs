//! On call on the example organisation's seed calendar (Foo Bar on call the week of 17 June
//! 2024, Jon Doe the week of 24 June, handing off Monday 09:00 London time): overrides over
//! the API with their audit entries, "who is on call" and shifts. The CLI end to end is in
//! [`cli`], the escalation matrix, on-call panels and handbook section 1c in [`pages`].

mod cli;
mod pages;

use axum::http::StatusCode;
use serde_json::{Value, json};
use tocsin::auth::Role;

use crate::support::{TestApp, backends, seed_example, sqlite, t0};

/// A seeded app with viewer, responder and admin tokens.
async fn app(db: tocsin::db::Db) -> (TestApp, [String; 3]) {
    seed_example(&db).await;
    let app = TestApp::new(db);
    let tokens = [
        app.token(Role::Viewer).await,
        app.token(Role::Responder).await,
        app.token(Role::Admin).await,
    ];
    (app, tokens)
}

/// The person on call on `schedule` at `at`, through the API.
async fn who(app: &TestApp, token: &str, schedule: &str, at: &str) -> Value {
    let path = format!("/api/v1/oncall?schedule={schedule}&at={at}");
    let (s, body) = app.call("GET", &path, Some(token), None).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    body["schedules"][0]["person"].clone()
}

async fn audit_actions(app: &TestApp, admin: &str) -> Vec<(String, String)> {
    let (s, body) = app.call("GET", "/api/v1/audit", Some(admin), None).await;
    assert_eq!(s, StatusCode::OK);
    body.as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            let action = e["action"].as_str().unwrap_or_default().to_string();
            (action, e["detail"].as_str().unwrap_or_default().to_string())
        })
        .collect()
}

#[tokio::test]
async fn overrides_are_created_listed_applied_and_deleted_with_audit() {
    for t in backends().await {
        let (app, [viewer, responder, admin]) = app(t.db.clone()).await;
        let path = "/api/v1/schedules/sre-primary/overrides";
        // Jon covers Tuesday afternoon of Foo Bar's week.
        let body = json!({"person": "jon-doe", "start": "2024-06-18T14:00+01:00",
            "end": "2024-06-18T18:00+01:00", "replaces": "foo-bar", "reason": "dentist"});
        let (s, _) = app
            .call("POST", path, Some(&viewer), Some(body.clone()))
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{}", t.backend);
        let (s, created) = app.call("POST", path, Some(&responder), Some(body)).await;
        assert_eq!(s, StatusCode::CREATED, "{}: {created}", t.backend);
        let id = created["id"].as_str().expect("id").to_string();
        assert_eq!(id.len(), 12);
        assert_eq!(created["created_by"], "token:test-responder");

        let (s, list) = app.call("GET", path, Some(&viewer), None).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
        assert_eq!(list[0]["id"], id.as_str());
        let (_, none) = app
            .call(
                "GET",
                &format!("{path}?from=2024-07-01T00:00Z"),
                Some(&viewer),
                None,
            )
            .await;
        assert_eq!(none, json!([]));

        assert_eq!(
            who(&app, &viewer, "sre-primary", "2024-06-18T13:30:00Z").await,
            "jon-doe"
        );
        assert_eq!(
            who(&app, &viewer, "sre-primary", "2024-06-18T12:30:00Z").await,
            "foo-bar"
        );
        assert_eq!(
            who(&app, &viewer, "sre-primary", "2024-06-18T17:00:00Z").await,
            "foo-bar"
        );
        let audit = audit_actions(&app, &admin).await;
        assert!(
            audit
                .iter()
                .any(|(a, d)| a == "override.create" && d.contains("dentist")),
            "{audit:?}"
        );

        let del = format!("/api/v1/overrides/{id}");
        let (s, _) = app.call("DELETE", &del, Some(&viewer), None).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, _) = app.call("DELETE", &del, Some(&responder), None).await;
        assert_eq!(s, StatusCode::NO_CONTENT, "{}", t.backend);
        let (s, _) = app.call("DELETE", &del, Some(&responder), None).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, _) = app
            .call("DELETE", "/api/v1/overrides/x%00y", Some(&responder), None)
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        assert_eq!(
            who(&app, &viewer, "sre-primary", "2024-06-18T13:30:00Z").await,
            "foo-bar"
        );
        let audit = audit_actions(&app, &admin).await;
        assert!(
            audit.iter().any(|(a, _)| a == "override.delete"),
            "{audit:?}"
        );
    }
}

#[tokio::test]
async fn bad_overrides_are_refused_with_json_errors() {
    for t in backends().await {
        let (app, [_, responder, _]) = app(t.db.clone()).await;
        refuses_bad_overrides(&app, &responder).await;
    }
}

async fn refuses_bad_overrides(app: &TestApp, responder: &str) {
    let path = "/api/v1/schedules/sre-primary/overrides";
    let ms = |s: &str| s.parse::<jiff::Timestamp>().unwrap().as_millisecond();
    let cases: &[(Value, StatusCode, &str)] = &[
        (
            json!({"person": "jon-doe", "start": "2024-06-19T10:00Z", "end": "2024-06-19T09:00Z"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "must be after the start",
        ),
        (
            json!({"person": "nobody", "start": "2024-06-19T10:00Z", "end": "2024-06-19T12:00Z"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "no person",
        ),
        (
            json!({"person": "jon-doe", "replaces": "ghost", "start": "2024-06-19T10:00Z",
                "end": "2024-06-19T12:00Z"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "replaces",
        ),
        (
            json!({"person": "jon-doe", "start": "2024-06-10T10:00Z", "end": "2024-06-11T12:00Z"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "ended already",
        ),
        (
            json!({"person": "jon-doe", "start": ms("2024-06-19T10:00Z"),
                "end": ms("2025-06-21T10:00Z")}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "at most a year",
        ),
        (
            json!({"person": "jon-doe", "start": "next tuesday", "end": "2024-06-19T12:00Z"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "start:",
        ),
        (
            json!({"person": "jon-doe", "start": "2024-06-19T10:00Z", "end": "2024-06-19T12:00Z",
                "colour": "red"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "colour",
        ),
    ];
    for (body, status, says) in cases {
        let (s, answer) = app
            .call("POST", path, Some(responder), Some(body.clone()))
            .await;
        assert_eq!(s, *status, "{body} -> {answer}");
        let error = answer["error"].as_str().unwrap_or_default();
        assert!(
            error.contains(says),
            "{body}: {error:?} should say {says:?}"
        );
    }
    // Milliseconds and local times in the schedule's zone are accepted too.
    let body =
        json!({"person": "jon-doe", "start": ms("2024-06-19T10:00Z"), "end": "2024-06-19T12:00"});
    let (s, created) = app.call("POST", path, Some(responder), Some(body)).await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    assert_eq!(
        created["end"],
        ms("2024-06-19T11:00Z"),
        "12:00 London is 11:00 UTC"
    );

    let body =
        json!({"person": "jon-doe", "start": "2024-06-19T10:00Z", "end": "2024-06-19T12:00Z"});
    let (s, _) = app
        .call(
            "POST",
            "/api/v1/schedules/nope/overrides",
            Some(responder),
            Some(body),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    for bad in [
        "/api/v1/schedules/nope/overrides",
        "/api/v1/schedules/nope/shifts",
        "/api/v1/oncall?schedule=nope",
        "/api/v1/oncall?team=nope",
        "/api/v1/oncall?service=nope",
    ] {
        let (s, answer) = app.call("GET", bad, Some(responder), None).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{bad}: {answer}");
        assert!(answer["error"].is_string());
    }
    let (s, answer) = app
        .call("GET", "/api/v1/oncall?at=soon", Some(responder), None)
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .unwrap_or_default()
            .contains("RFC 3339")
    );
    let (s, _) = app.call("GET", "/api/v1/oncall", None, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn oncall_follows_the_seed_calendar() {
    for t in backends().await {
        let (app, [viewer, _, _]) = app(t.db.clone()).await;
        assert_eq!(
            who(&app, &viewer, "sre-primary", "2024-06-18T12:00:00Z").await,
            "foo-bar"
        );
        assert_eq!(
            who(&app, &viewer, "sre-primary", "2024-06-25T12:00:00Z").await,
            "jon-doe"
        );

        // Without `at`, now from the clock; the shift ends at the Monday 09:00 BST handoff.
        app.clock.set("2024-06-25T12:00:00Z".parse().unwrap());
        let (s, body) = app.call("GET", "/api/v1/oncall", Some(&viewer), None).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let sre = body["schedules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["schedule"] == "sre-primary")
            .expect("sre-primary listed")
            .clone();
        assert_eq!(sre["person_name"], "Jon Doe");
        let until: jiff::Timestamp = "2024-07-01T08:00:00Z".parse().unwrap();
        assert_eq!(sre["until"], until.as_millisecond());
        app.clock.set(t0());

        let (_, body) = app
            .call("GET", "/api/v1/oncall?team=payments", Some(&viewer), None)
            .await;
        let ids: Vec<&str> = body["schedules"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["schedule"].as_str())
            .collect();
        assert_eq!(ids, ["payments-business-hours", "sre-primary"]);

        let (s, body) = app
            .call(
                "GET",
                "/api/v1/oncall?service=checkout-api",
                Some(&viewer),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert_eq!(body["service"]["first_responders"], json!(["foo-bar"]));
        assert_eq!(body["service"]["levels"].as_array().map(Vec::len), Some(3));
        assert_eq!(
            body["service"]["levels"][1]["targets"][0]["people"],
            json!(["adam"])
        );
    }
}

#[tokio::test]
async fn shifts_cover_the_range_and_show_overrides() {
    let t = sqlite().await;
    let (app, [viewer, responder, _]) = app(t.db.clone()).await;
    let body = json!({"person": "mei-lin", "start": "2024-06-26T09:00+01:00",
        "end": "2024-06-27T09:00+01:00"});
    let (s, _) = app
        .call(
            "POST",
            "/api/v1/schedules/sre-primary/overrides",
            Some(&responder),
            Some(body),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let path = "/api/v1/schedules/sre-primary/shifts?from=2024-06-17T08:00Z&to=2024-07-01T08:00Z";
    let (s, shifts) = app.call("GET", path, Some(&viewer), None).await;
    assert_eq!(s, StatusCode::OK, "{shifts}");
    let people: Vec<&str> = shifts
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["person"].as_str())
        .collect();
    assert_eq!(people, ["foo-bar", "jon-doe", "mei-lin", "jon-doe"]);
    let (s, _) = app
        .call(
            "GET",
            "/api/v1/schedules/sre-primary/shifts?to=2026-01-01T00:00Z",
            Some(&viewer),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "more than a year");
    let (s, _) = app
        .call(
            "GET",
            "/api/v1/schedules/sre-primary/shifts?from=2024-07-01T00:00Z&to=2024-06-01T00:00Z",
            Some(&viewer),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "backwards");
}

#[tokio::test]
async fn the_openapi_document_has_the_oncall_endpoints() {
    let t = sqlite().await;
    let app = TestApp::new(t.db.clone());
    let (_, doc) = app.call("GET", "/api/v1/openapi.json", None, None).await;
    for (method, path) in [
        ("get", "/api/v1/schedules/{id}/overrides"),
        ("post", "/api/v1/schedules/{id}/overrides"),
        ("delete", "/api/v1/overrides/{id}"),
        ("get", "/api/v1/schedules/{id}/shifts"),
        ("get", "/api/v1/oncall"),
    ] {
        assert!(
            doc["paths"][path][method]["responses"].is_object(),
            "{method} {path}"
        );
    }
}
