//! The REST API under `/api/v1`, driven in-process: CRUD on every kind, roles, error statuses,
//! odd inputs (never a 5xx), tokens, the audit log and the OpenAPI document. Tests that write
//! run on both backends.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use tocsin::auth::Role;

use crate::support::{TestApp, backends, seed_example, sqlite};

mod admin;
mod contact_tests;
mod contacts;
mod odd_input;

/// Every collection and a valid new record of it, in creation order (referenced kinds first).
pub(crate) fn new_records() -> Vec<(&'static str, &'static str, Value)> {
    vec![
        ("tiers", "9", json!({"level": 9, "name": "Tier 9"})),
        (
            "teams",
            "api-team",
            json!({"id": "api-team", "name": "API Team"}),
        ),
        (
            "domains",
            "api-dom",
            json!({"id": "api-dom", "name": "API Domain"}),
        ),
        (
            "people",
            "api-person",
            json!({"id": "api-person", "name": "Api Person", "email": "api@shop.example",
                   "time_zone": "Europe/Paris", "teams": ["api-team"]}),
        ),
        (
            "schedules",
            "api-sched",
            json!({"id": "api-sched", "name": "Api rota", "team": "api-team",
                   "time_zone": "Europe/Paris",
                   "layers": [{"name": "weekly", "people": ["api-person"],
                               "shift": {"count": 1, "unit": "weeks"},
                               "start": "2024-06-17T09:00"}]}),
        ),
        (
            "escalation-policies",
            "api-policy",
            json!({"id": "api-policy", "name": "Api policy",
                   "levels": [{"targets": [{"schedule": "api-sched"}, {"person": "api-person"}],
                               "escalate_after_minutes": 5}]}),
        ),
        (
            "business-functions",
            "api-fn",
            json!({"id": "api-fn", "name": "Do API things", "primary_domain": "api-dom",
                   "depends_on_domains": ["payment"], "owner_team": "api-team",
                   "criticality": "high"}),
        ),
        (
            "services",
            "api-svc",
            json!({"id": "api-svc", "name": "API service", "type": "rest-api", "stateful": false,
                   "owner_team": "api-team", "tier": 9, "domain": "api-dom",
                   "depends_on": ["inventory-db"],
                   "links": [{"title": "Runbook", "url": "https://wiki.example/api"}]}),
        ),
    ]
}

/// A seeded app and an admin token.
pub(crate) async fn seeded(db: tocsin::db::Db) -> (TestApp, String) {
    seed_example(&db).await;
    let app = TestApp::new(db);
    let admin = app.token(Role::Admin).await;
    (app, admin)
}

/// A request with a raw (possibly invalid) JSON body.
pub(crate) fn raw(method: &str, path: &str, token: &str, body: impl Into<Body>) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(body.into())
        .expect("request")
}

/// A client error must be our JSON shape, never a plain-text rejection or a 5xx.
pub(crate) fn assert_json_error(status: StatusCode, body: &Value, what: &str) {
    assert!(status.is_client_error(), "{what}: got {status} {body}");
    assert!(body["error"].is_string(), "{what}: not JSON error: {body}");
}

#[tokio::test]
async fn crud_round_trip_on_every_kind() {
    for t in backends().await {
        let (app, admin) = seeded(t.db.clone()).await;
        let tok = Some(admin.as_str());
        for (kind, id, record) in new_records() {
            let (s, body) = app
                .call(
                    "POST",
                    &format!("/api/v1/{kind}"),
                    tok,
                    Some(record.clone()),
                )
                .await;
            assert_eq!(
                s,
                StatusCode::CREATED,
                "{} create {kind}: {body}",
                t.backend
            );
            assert_eq!(body, record);
            let (s, body) = app
                .call("GET", &format!("/api/v1/{kind}/{id}"), tok, None)
                .await;
            assert_eq!(
                (s, &body),
                (StatusCode::OK, &record),
                "{} {kind}",
                t.backend
            );
            let (s, list) = app.call("GET", &format!("/api/v1/{kind}"), tok, None).await;
            assert_eq!(s, StatusCode::OK);
            assert!(list.as_array().unwrap().contains(&record), "{kind} listed");
        }
        for (kind, id, mut record) in new_records() {
            record["name"] = json!(format!("Renamed {id}"));
            // People and schedules have no description; their name carries the unicode.
            if kind == "people" || kind == "schedules" {
                record["name"] = json!(format!("Renamed {id} — ünïcødé ✓"));
            } else {
                record["description"] = json!("Now with a description — ünïcødé ✓");
            }
            let path = format!("/api/v1/{kind}/{id}");
            let (s, body) = app.call("PUT", &path, tok, Some(record.clone())).await;
            assert_eq!(s, StatusCode::OK, "{} replace {kind}: {body}", t.backend);
            let (_, body) = app.call("GET", &path, tok, None).await;
            assert_eq!(body, record, "{} {kind} replaced", t.backend);
        }
        for (kind, id, _) in new_records().into_iter().rev() {
            let path = format!("/api/v1/{kind}/{id}");
            let (s, body) = app.call("DELETE", &path, tok, None).await;
            assert_eq!(
                s,
                StatusCode::NO_CONTENT,
                "{} delete {kind}: {body}",
                t.backend
            );
            let (s, _) = app.call("GET", &path, tok, None).await;
            assert_eq!(s, StatusCode::NOT_FOUND, "{} {kind} gone", t.backend);
        }
        let after = tocsin::catalog::store::load(&t.db).await.unwrap();
        assert_eq!(after.services.len(), 16, "{}", t.backend);
    }
}

#[tokio::test]
async fn created_records_carry_a_location() {
    let t = sqlite().await;
    let (app, admin) = seeded(t.db.clone()).await;
    let req = raw(
        "POST",
        "/api/v1/teams",
        &admin,
        json!({"id": "loc", "name": "Loc"}).to_string(),
    );
    let response = tower::ServiceExt::oneshot(app.router.clone(), req)
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.headers()[header::LOCATION], "/api/v1/teams/loc");
}

#[tokio::test]
async fn services_can_be_filtered() {
    let t = sqlite().await;
    let (app, admin) = seeded(t.db.clone()).await;
    let tok = Some(admin.as_str());
    let ids = |v: &Value| -> Vec<String> {
        let list = v.as_array().expect("a list");
        list.iter()
            .map(|s| s["id"].as_str().unwrap().to_string())
            .collect()
    };
    let (s, all) = app.call("GET", "/api/v1/services", tok, None).await;
    assert_eq!((s, ids(&all).len()), (StatusCode::OK, 16));
    let (_, tier0) = app.call("GET", "/api/v1/services?tier=0", tok, None).await;
    assert!(ids(&tier0).contains(&"K8S-as-a-Service".to_string()));
    assert!(tier0.as_array().unwrap().iter().all(|s| s["tier"] == 0));
    let (_, platform) = app
        .call(
            "GET",
            "/api/v1/services?owner_team=platform&domain=platform&tier=0",
            tok,
            None,
        )
        .await;
    assert!(ids(&platform).contains(&"K8S-as-a-Service".to_string()));
    let all_match = platform
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["owner_team"] == "platform" && s["domain"] == "platform" && s["tier"] == 0);
    assert!(
        all_match && ids(&platform).len() < ids(&tier0).len(),
        "{platform}"
    );
    let (_, none) = app
        .call("GET", "/api/v1/services?domain=nowhere", tok, None)
        .await;
    assert_eq!(none, json!([]));
    for bad in ["tier=abc", "tier=-1", "tier=256", "colour=blue"] {
        let (s, body) = app
            .call("GET", &format!("/api/v1/services?{bad}"), tok, None)
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}");
        assert_json_error(s, &body, bad);
    }
}

#[tokio::test]
async fn callers_must_authenticate() {
    let t = sqlite().await;
    let (app, _) = seeded(t.db.clone()).await;
    for path in [
        "/api/v1/teams",
        "/api/v1/services/cart-service",
        "/api/v1/me",
    ] {
        for token in [None, Some("tcn_wrong"), Some("")] {
            let (s, body) = app.call("GET", path, token, None).await;
            assert_eq!(s, StatusCode::UNAUTHORIZED, "{path} {token:?}");
            assert_json_error(s, &body, path);
        }
    }
    let req = Request::builder()
        .uri("/api/v1/teams")
        .header(header::AUTHORIZATION, "Basic YWRtaW46YWRtaW4=")
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(req).await.0, StatusCode::UNAUTHORIZED);
    // A write without credentials is refused before its body is even read.
    let (s, _) = app
        .call("POST", "/api/v1/teams", None, Some(json!([])))
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn only_admins_write_read_audit_or_manage_tokens() {
    let t = sqlite().await;
    let (app, _) = seeded(t.db.clone()).await;
    for role in [Role::Viewer, Role::Responder] {
        let token = app.token(role).await;
        let tok = Some(token.as_str());
        for (kind, _, record) in new_records() {
            let (s, _) = app.call("GET", &format!("/api/v1/{kind}"), tok, None).await;
            assert_eq!(s, StatusCode::OK, "{role:?} reads {kind}");
            let (s, body) = app
                .call("POST", &format!("/api/v1/{kind}"), tok, Some(record))
                .await;
            assert_eq!(s, StatusCode::FORBIDDEN, "{role:?} creates {kind}");
            assert_json_error(s, &body, kind);
        }
        for (method, path) in [
            ("PUT", "/api/v1/teams/sre"),
            ("DELETE", "/api/v1/teams/sre"),
            ("DELETE", "/api/v1/tiers/3"),
            ("GET", "/api/v1/audit"),
            ("GET", "/api/v1/tokens"),
            ("POST", "/api/v1/tokens"),
            ("DELETE", "/api/v1/tokens/whatever"),
        ] {
            let body = json!({"id": "sre", "name": "x", "role": "admin"});
            let (s, _) = app.call(method, path, tok, Some(body)).await;
            assert_eq!(s, StatusCode::FORBIDDEN, "{role:?} {method} {path}");
        }
        let (s, me) = app.call("GET", "/api/v1/me", tok, None).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(me["role"], role.as_str());
    }
    let team = tocsin::catalog::store::load(&t.db).await.unwrap();
    assert_eq!(
        team.team("sre").unwrap().name,
        "SRE Team",
        "nothing was written"
    );
}

#[tokio::test]
async fn unknown_records_are_404() {
    let t = sqlite().await;
    let (app, admin) = seeded(t.db.clone()).await;
    let tok = Some(admin.as_str());
    for (kind, _, _) in new_records() {
        let missing = if kind == "tiers" { "200" } else { "nope" };
        let path = format!("/api/v1/{kind}/{missing}");
        for method in ["GET", "DELETE"] {
            let (s, body) = app.call(method, &path, tok, None).await;
            assert_eq!(s, StatusCode::NOT_FOUND, "{method} {path}");
            assert_json_error(s, &body, &path);
        }
    }
    let (s, _) = app
        .call(
            "PUT",
            "/api/v1/teams/nope",
            tok,
            Some(json!({"id": "nope", "name": "Nope"})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    for path in [
        "/api/v1/services/nope/impact",
        "/api/v1/business-functions/nope/dependencies",
        "/api/v1/widgets",
        "/api/v1/widgets/1",
    ] {
        let (s, body) = app.call("GET", path, tok, None).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}");
        assert_json_error(s, &body, path);
    }
    // A tier is named by its level; anything else cannot name one.
    let (s, body) = app.call("GET", "/api/v1/tiers/abc", tok, None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_json_error(s, &body, "tier abc");
    let (s, body) = app.call("GET", "/api/v1/tiers/01", tok, None).await;
    assert_eq!((s, body["level"].clone()), (StatusCode::OK, json!(1)));
}

#[tokio::test]
async fn conflicts_are_409_with_a_reason() {
    for t in backends().await {
        let (app, admin) = seeded(t.db.clone()).await;
        let tok = Some(admin.as_str());
        let (s, body) = app
            .call(
                "POST",
                "/api/v1/teams",
                tok,
                Some(json!({"id": "sre", "name": "Again"})),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{}", t.backend);
        assert!(body["error"].as_str().unwrap().contains("already exists"));
        let (s, body) = app
            .call(
                "POST",
                "/api/v1/tiers",
                tok,
                Some(json!({"level": 0, "name": "Zero"})),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{body}");

        let (s, body) = app
            .call("DELETE", "/api/v1/teams/platform", tok, None)
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{}: {body}", t.backend);
        let reason = body["error"].as_str().unwrap();
        assert!(
            reason.contains(r#"cannot delete team "platform""#)
                && reason.contains(r#"service "K8S-as-a-Service" (owner_team)"#),
            "{reason}"
        );
        for path in [
            "/api/v1/tiers/0",
            "/api/v1/domains/payment",
            "/api/v1/services/inventory-db",
            "/api/v1/teams/sre",
        ] {
            let (s, body) = app.call("DELETE", path, tok, None).await;
            assert_eq!(s, StatusCode::CONFLICT, "{} {path}: {body}", t.backend);
            assert!(
                body["error"]
                    .as_str()
                    .unwrap()
                    .contains("still referred to by")
            );
        }
        let after = tocsin::catalog::store::load(&t.db).await.unwrap();
        assert!(after.team("platform").is_some() && after.tier(0).is_some());
    }
}

#[tokio::test]
async fn invalid_records_are_422() {
    for t in backends().await {
        let (app, admin) = seeded(t.db.clone()).await;
        let tok = Some(admin.as_str());
        let mut svc = new_records()
            .into_iter()
            .find(|(kind, _, _)| *kind == "services")
            .map(|(_, _, r)| r)
            .unwrap();
        svc["owner_team"] = json!("ghosts");
        svc["domain"] = json!("platform");
        svc["tier"] = json!(0);
        let (s, body) = app.call("POST", "/api/v1/services", tok, Some(svc)).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{}: {body}", t.backend);
        assert_eq!(
            body["detail"],
            json!([{"kind": "service", "id": "api-svc", "field": "owner_team",
                    "message": body["detail"][0]["message"]}])
        );
        assert!(
            body["error"]
                .as_str()
                .unwrap()
                .contains(r#"unknown team "ghosts""#)
        );

        let (s, body) = app
            .call(
                "PUT",
                "/api/v1/teams/sre",
                tok,
                Some(json!({"id": "not-sre", "name": "SRE"})),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(body["error"].as_str().unwrap().contains("differs"));

        // K8S-as-a-Service depending on something that depends on it closes a cycle.
        let (_, mut k8s) = app
            .call("GET", "/api/v1/services/K8S-as-a-Service", tok, None)
            .await;
        k8s["depends_on"] = json!(["catalog-api"]);
        let (s, body) = app
            .call("PUT", "/api/v1/services/K8S-as-a-Service", tok, Some(k8s))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(body["error"].as_str().unwrap().contains("cycle"), "{body}");

        let bad = [
            json!({"id": "bad id", "name": "x"}),
            json!({"id": "ok", "name": "  "}),
            json!({"id": "ok", "name": "x", "colour": "blue"}),
            json!({"id": "ok"}),
        ];
        for team in bad {
            let (s, body) = app
                .call("POST", "/api/v1/teams", tok, Some(team.clone()))
                .await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{team}: {body}");
        }
    }
}

#[tokio::test]
async fn impact_and_dependencies() {
    for t in backends().await {
        let (app, admin) = seeded(t.db.clone()).await;
        let viewer = app.token(Role::Viewer).await;
        let (s, impact) = app
            .call(
                "GET",
                "/api/v1/services/inventory-db/impact",
                Some(&viewer),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{}", t.backend);
        assert_eq!(impact["service"], "inventory-db");
        let functions: Vec<&str> = impact["business_functions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap())
            .collect();
        assert_eq!(functions, ["checkout", "product-search", "shipping"]);
        assert_eq!(impact["services"][0]["depth"], 0);
        let (s, deps) = app
            .call(
                "GET",
                "/api/v1/business-functions/checkout/dependencies",
                Some(&admin),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        let ids: Vec<&str> = deps
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap())
            .collect();
        assert!(
            ids.contains(&"checkout-api") && ids.contains(&"K8S-as-a-Service"),
            "{ids:?}"
        );
    }
}
