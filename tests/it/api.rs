//! The REST API under `/api/v1`, driven in-process: CRUD on every kind, roles, error statuses,
//! odd inputs (never a 5xx), tokens, the audit log and the OpenAPI document. Tests that write
//! run on both backends.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use tocsin::auth::Role;

use crate::support::{TestApp, backends, seed_example, sqlite};

/// Every collection and a valid new record of it, in creation order (referenced kinds first).
fn new_records() -> Vec<(&'static str, &'static str, Value)> {
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
async fn seeded(db: tocsin::db::Db) -> (TestApp, String) {
    seed_example(&db).await;
    let app = TestApp::new(db);
    let admin = app.token(Role::Admin).await;
    (app, admin)
}

/// A request with a raw (possibly invalid) JSON body.
fn raw(method: &str, path: &str, token: &str, body: impl Into<Body>) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(body.into())
        .expect("request")
}

/// A client error must be our JSON shape, never a plain-text rejection or a 5xx.
fn assert_json_error(status: StatusCode, body: &Value, what: &str) {
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
async fn oversized_and_malformed_bodies_are_json_errors() {
    let t = sqlite().await;
    let (app, admin) = seeded(t.db.clone()).await;
    let huge = format!(
        r#"{{"id": "big", "name": "{}"}}"#,
        "x".repeat(1024 * 1024 + 10)
    );
    let (s, body) = app
        .send(raw("POST", "/api/v1/teams", &admin, huge.clone()))
        .await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    assert_json_error(s, &body, "streamed huge body");
    // Real clients announce the length; the limit layer refuses before reading.
    let mut announced = raw("POST", "/api/v1/teams", &admin, huge.clone());
    announced
        .headers_mut()
        .insert(header::CONTENT_LENGTH, huge.len().into());
    assert_eq!(app.send(announced).await.0, StatusCode::PAYLOAD_TOO_LARGE);

    let (s, body) = app
        .send(raw("POST", "/api/v1/teams", &admin, r#"{"id": "x", "#))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_json_error(s, &body, "truncated");
    let no_type = Request::builder()
        .method("POST")
        .uri("/api/v1/teams")
        .header(header::AUTHORIZATION, format!("Bearer {admin}"))
        .body(Body::from(r#"{"id": "x", "name": "x"}"#))
        .unwrap();
    let (s, body) = app.send(no_type).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_json_error(s, &body, "no content type");
}

/// Bodies that are not JSON, not objects, or objects of the wrong shape.
fn odd_bodies() -> Vec<String> {
    let mut bodies: Vec<String> = [
        "",
        " ",
        "{",
        "}",
        r#"{"id": "#,
        r#"{"id": "x""#,
        "[]",
        "[{}]",
        "null",
        "0",
        "-1",
        "1e999",
        "true",
        r#""text""#,
        "{}",
        r#"{"id": null}"#,
        r#"{"id": 5, "name": 5}"#,
        r#"{"id": "a", "id": "b", "name": "dup"}"#,
        r#"{"level": -1, "name": "x"}"#,
        r#"{"level": 256, "name": "x"}"#,
        r#"{"level": 1.5, "name": "x"}"#,
        r#"{"level": "1", "name": "x"}"#,
        "\u{feff}{}",
        "\0",
        r#"{"id": "\ud800"}"#,
        "\u{ff}\u{fe}",
        r#"{"name": "x", "role": "root"}"#,
        r#"{"name": "", "role": "viewer"}"#,
        r#"{"name": "\u0000", "role": "viewer"}"#,
        r#"{"name": ["x"], "role": "viewer"}"#,
    ]
    .map(String::from)
    .to_vec();
    bodies.push(format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)));
    bodies.push(format!(
        r#"{{"id": "{}", "name": "x"}}"#,
        "a".repeat(500_000)
    ));
    bodies
}

/// Each field of a valid record replaced by values of the wrong type, size or alphabet.
fn mutations(record: &Value) -> Vec<Value> {
    let odd = [
        Value::Null,
        json!(""),
        json!(" "),
        json!(-1),
        json!(1e300),
        json!(true),
        json!([]),
        json!([null, 1, {}]),
        json!({"nested": {"deeper": []}}),
        json!("x".repeat(100_000)),
        json!("ünïcødé 名前 🚨 \u{202e}rtl"),
        json!("nul\u{0}byte"),
        json!("line\nbreak\ttab"),
        json!("../../etc/passwd"),
        json!("<script>alert(1)</script>"),
        json!("https://example.com"),
    ];
    let mut out = Vec::new();
    let Some(fields) = record.as_object() else {
        return out;
    };
    for key in fields.keys() {
        for value in &odd {
            let mut r = record.clone();
            r[key.as_str()] = value.clone();
            out.push(r);
        }
        let mut without = record.clone();
        without.as_object_mut().unwrap().remove(key);
        out.push(without);
    }
    out
}

#[tokio::test]
async fn odd_bodies_never_cause_a_server_error() {
    for t in backends().await {
        let (app, admin) = seeded(t.db.clone()).await;
        let mut checked = 0;
        let mut targets: Vec<(String, String, Value)> = new_records()
            .into_iter()
            .map(|(kind, id, r)| (format!("/api/v1/{kind}"), format!("/api/v1/{kind}/{id}"), r))
            .collect();
        targets.push((
            "/api/v1/tokens".into(),
            String::new(),
            json!({"name": "fuzz", "role": "viewer"}),
        ));
        // The PUT targets must exist for PUT to reach validation.
        for (kind, _, record) in new_records() {
            app.call(
                "POST",
                &format!("/api/v1/{kind}"),
                Some(&admin),
                Some(record),
            )
            .await;
        }
        for (collection, item, record) in &targets {
            let mutated = mutations(record);
            let bodies = odd_bodies()
                .into_iter()
                .chain(mutated.iter().map(Value::to_string));
            for body in bodies {
                let mut calls = vec![("POST", collection)];
                if !item.is_empty() {
                    calls.push(("PUT", item));
                }
                for (method, path) in calls {
                    let (s, reply) = app.send(raw(method, path, &admin, body.clone())).await;
                    let shown: String = body.chars().take(120).collect();
                    assert!(
                        !s.is_server_error(),
                        "{} {method} {path} {shown}: {s} {reply}",
                        t.backend
                    );
                    if s.is_client_error() {
                        assert_json_error(s, &reply, &shown);
                    }
                    checked += 1;
                }
            }
        }
        assert!(checked > 1000, "{checked}");
        // The catalog is still valid and readable after all that.
        let catalog = tocsin::catalog::store::load(&t.db).await.unwrap();
        assert!(tocsin::catalog::validate::validate(&catalog).is_empty());
    }
}

#[tokio::test]
async fn odd_paths_never_cause_a_server_error() {
    for t in backends().await {
        let (app, admin) = seeded(t.db.clone()).await;
        let long = "a".repeat(5000);
        let odd = [
            "%FF",
            "%00",
            "..",
            "a%2Fb",
            "%20",
            "ünï",
            "%F0%9F%9A%A8",
            "-1",
            "99999999999999999999",
            &long,
        ];
        for (kind, _, record) in new_records() {
            for id in odd {
                let path = format!("/api/v1/{kind}/{id}");
                for method in ["GET", "PUT", "DELETE"] {
                    let body = (method == "PUT").then(|| record.clone());
                    let (s, reply) = app.call(method, &path, Some(&admin), body).await;
                    assert_json_error(
                        s,
                        &reply,
                        &format!("{method} {kind}/{}", &id[..id.len().min(20)]),
                    );
                }
            }
        }
        for id in odd {
            for path in [
                format!("/api/v1/services/{id}/impact"),
                format!("/api/v1/business-functions/{id}/dependencies"),
            ] {
                let (s, reply) = app.call("GET", &path, Some(&admin), None).await;
                assert_json_error(s, &reply, &path[..path.len().min(60)]);
            }
            let (s, reply) = app
                .call(
                    "DELETE",
                    &format!("/api/v1/tokens/{id}"),
                    Some(&admin),
                    None,
                )
                .await;
            assert_json_error(s, &reply, "token path");
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

#[tokio::test]
async fn tokens_are_created_listed_and_revoked() {
    for t in backends().await {
        let (app, admin) = seeded(t.db.clone()).await;
        let (s, me) = app.call("GET", "/api/v1/me", Some(&admin), None).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(me, json!({"name": "token:test-admin", "role": "admin"}));

        let (s, created) = app
            .call(
                "POST",
                "/api/v1/tokens",
                Some(&admin),
                Some(json!({"name": "ci", "role": "viewer"})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{}: {created}", t.backend);
        let secret = created["secret"].as_str().unwrap().to_string();
        let id = created["id"].as_str().unwrap().to_string();
        let (s, me) = app.call("GET", "/api/v1/me", Some(&secret), None).await;
        assert_eq!(
            (s, me),
            (
                StatusCode::OK,
                json!({"name": "token:ci", "role": "viewer"})
            )
        );

        let (_, list) = app.call("GET", "/api/v1/tokens", Some(&admin), None).await;
        let listed = list
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == id.as_str());
        let listed = listed.expect("the new token is listed");
        assert_eq!(listed["created_by"], "token:test-admin");
        assert!(
            !list.to_string().contains(&secret),
            "secrets are never listed"
        );

        let path = format!("/api/v1/tokens/{id}");
        let (s, _) = app.call("DELETE", &path, Some(&admin), None).await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        let (s, _) = app.call("GET", "/api/v1/me", Some(&secret), None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "a revoked token stops working");
        let (s, _) = app.call("DELETE", &path, Some(&admin), None).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "already revoked");
        let (s, _) = app
            .call("DELETE", "/api/v1/tokens/unknown", Some(&admin), None)
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);

        let (_, audit) = app
            .call("GET", "/api/v1/audit?limit=2", Some(&admin), None)
            .await;
        assert_eq!(audit[0]["action"], "token.revoke");
        assert_eq!(audit[1]["action"], "token.create");
        assert_eq!(audit[0]["actor"], "token:test-admin");

        for bad in [
            json!({"name": "x", "role": "root"}),
            json!({"name": " ", "role": "viewer"}),
            json!({"name": "x".repeat(101), "role": "viewer"}),
            json!({"role": "viewer"}),
        ] {
            let (s, body) = app
                .call("POST", "/api/v1/tokens", Some(&admin), Some(bad.clone()))
                .await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
        }
    }
}

#[tokio::test]
async fn writes_show_up_in_the_audit_log() {
    for t in backends().await {
        let (app, admin) = seeded(t.db.clone()).await;
        let tok = Some(admin.as_str());
        let team = json!({"id": "audited", "name": "Audited"});
        app.call("POST", "/api/v1/teams", tok, Some(team)).await;
        app.call(
            "PUT",
            "/api/v1/teams/audited",
            tok,
            Some(json!({"id": "audited", "name": "Renamed"})),
        )
        .await;
        app.call("DELETE", "/api/v1/teams/audited", tok, None).await;
        let (s, page) = app.call("GET", "/api/v1/audit?limit=3", tok, None).await;
        assert_eq!(s, StatusCode::OK, "{}", t.backend);
        let summary: Vec<(&str, &str, &str)> = page
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["action"].as_str().unwrap(),
                    e["target"].as_str().unwrap(),
                    e["actor"].as_str().unwrap(),
                )
            })
            .collect();
        let who = "token:test-admin";
        assert_eq!(
            summary,
            [
                ("catalog.delete", "team audited", who),
                ("catalog.update", "team audited", who),
                ("catalog.create", "team audited", who),
            ]
        );
        assert_eq!(page[1]["detail"], "name");
        // The next page starts below the last id seen.
        let last = page[2]["id"].as_i64().unwrap();
        let (_, next) = app
            .call(
                "GET",
                &format!("/api/v1/audit?limit=2&before={last}"),
                tok,
                None,
            )
            .await;
        assert!(
            next.as_array()
                .unwrap()
                .iter()
                .all(|e| e["id"].as_i64() < Some(last))
        );
        assert_eq!(next.as_array().unwrap().len(), 2);
        let (s, big) = app
            .call("GET", "/api/v1/audit?limit=100000", tok, None)
            .await;
        assert_eq!(s, StatusCode::OK);
        assert!(big.as_array().unwrap().len() <= 500);
        for bad in [
            "limit=abc",
            "limit=-5",
            "limit=0",
            "before=x",
            "limit=1&page=2",
        ] {
            let (s, body) = app
                .call("GET", &format!("/api/v1/audit?{bad}"), tok, None)
                .await;
            assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}");
            assert_json_error(s, &body, bad);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writes_are_serialised() {
    let t = sqlite().await;
    let (app, admin) = seeded(t.db.clone()).await;
    let app = std::sync::Arc::new(app);
    let mut writers = tokio::task::JoinSet::new();
    // Twelve distinct teams, and eight attempts at the same one.
    for i in 0..20 {
        let (app, admin) = (app.clone(), admin.clone());
        let id = if i < 12 {
            format!("t-{i}")
        } else {
            "same".into()
        };
        writers.spawn(async move {
            let team = json!({"id": id, "name": format!("Team {i}")});
            let (s, _) = app
                .call("POST", "/api/v1/teams", Some(&admin), Some(team))
                .await;
            (id, s)
        });
    }
    let mut same_created = 0;
    while let Some(done) = writers.join_next().await {
        match done.unwrap() {
            (id, s) if id == "same" && s == StatusCode::CONFLICT => {}
            (id, s) if id == "same" && s == StatusCode::CREATED => same_created += 1,
            (id, s) => assert_eq!(s, StatusCode::CREATED, "{id}"),
        }
    }
    assert_eq!(same_created, 1, "one create wins, the others see it exists");
    // Each write applies a whole snapshot; none may drop a team another one just created.
    let catalog = tocsin::catalog::store::load(&t.db).await.unwrap();
    for i in 0..12 {
        assert!(catalog.team(&format!("t-{i}")).is_some(), "t-{i} kept");
    }
}

#[tokio::test]
async fn openapi_document_lists_every_endpoint() {
    let t = sqlite().await;
    let app = TestApp::new(t.db.clone());
    let (s, doc) = app.call("GET", "/api/v1/openapi.json", None, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["title"], "Tocsin API");
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let mut expected = vec![
        ("get", "/api/v1/services/{id}/impact".to_string()),
        ("get", "/api/v1/business-functions/{id}/dependencies".into()),
        ("get", "/api/v1/schedules/{id}/overrides".into()),
        ("post", "/api/v1/schedules/{id}/overrides".into()),
        ("delete", "/api/v1/overrides/{id}".into()),
        ("get", "/api/v1/schedules/{id}/shifts".into()),
        ("get", "/api/v1/oncall".into()),
        ("get", "/api/v1/audit".into()),
        ("get", "/api/v1/tokens".into()),
        ("post", "/api/v1/tokens".into()),
        ("delete", "/api/v1/tokens/{id}".into()),
        ("get", "/api/v1/me".into()),
        ("get", "/api/v1/openapi.json".into()),
    ];
    for (kind, _, _) in new_records() {
        for m in ["get", "post"] {
            expected.push((m, format!("/api/v1/{kind}")));
        }
        for m in ["get", "put", "delete"] {
            expected.push((m, format!("/api/v1/{kind}/{{id}}")));
        }
    }
    let paths = doc["paths"].as_object().unwrap();
    let mut operations = 0;
    for (method, path) in &expected {
        let op = &paths[path.as_str()][*method];
        assert!(op.is_object(), "{method} {path} is documented");
        assert!(op["responses"].is_object(), "{method} {path} has responses");
        if path != "/api/v1/openapi.json" {
            assert!(op["security"].is_array(), "{method} {path} needs a token");
            assert!(op["responses"]["401"].is_object());
        }
        operations += 1;
    }
    let documented: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(documented, operations, "no undocumented extras");
    assert!(
        paths["/api/v1/services"]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "owner_team" && p["in"] == "query")
    );
    // Every reference resolves inside the document.
    fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r);
                }
                m.values().for_each(|v| refs(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(all.len() > 50);
    for r in all {
        let pointer = r.strip_prefix('#').expect("local reference");
        assert!(doc.pointer(pointer).is_some(), "dangling {r}");
    }
}
