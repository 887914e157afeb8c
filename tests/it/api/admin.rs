//! Admin surfaces of the API: tokens, the audit log, concurrent writers, the OpenAPI document.

use super::*;

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
        ("get", "/api/v1/alerts".into()),
        ("get", "/api/v1/alerts/{id}".into()),
        ("post", "/api/v1/alerts/{id}/acknowledge".into()),
        ("post", "/api/v1/alerts/{id}/resolve".into()),
        ("post", "/api/v1/alerts/{id}/actions/{step}/run".into()),
        ("get", "/api/v1/services/{id}/integrations".into()),
        ("post", "/api/v1/services/{id}/integrations".into()),
        ("post", "/api/v1/integrations/{id}/rotate".into()),
        ("delete", "/api/v1/integrations/{id}".into()),
        ("get", "/api/v1/people/{id}/contact-methods".into()),
        ("post", "/api/v1/people/{id}/contact-methods".into()),
        ("delete", "/api/v1/contact-methods/{id}".into()),
        ("post", "/api/v1/contact-methods/{id}/test".into()),
        ("get", "/api/v1/contact-methods/{id}/tests".into()),
        ("get", "/api/v1/people/{id}/notification-rules".into()),
        ("post", "/api/v1/people/{id}/notification-rules".into()),
        ("delete", "/api/v1/notification-rules/{id}".into()),
        ("get", "/api/v1/audit".into()),
        ("get", "/api/v1/tokens".into()),
        ("post", "/api/v1/tokens".into()),
        ("delete", "/api/v1/tokens/{id}".into()),
        ("get", "/api/v1/me".into()),
        ("get", "/api/v1/openapi.json".into()),
        ("post", "/ingest/alertmanager".into()),
        ("post", "/ingest/grafana".into()),
        ("post", "/ingest/generic".into()),
        ("post", "/api/v2/alerts".into()),
        ("post", "/v2/enqueue".into()),
        ("get", "/api/v1/incidents".into()),
        ("post", "/api/v1/incidents".into()),
        ("get", "/api/v1/incidents/suggest".into()),
        ("get", "/api/v1/incidents/{id}".into()),
        ("get", "/api/v1/incidents/{id}/document.md".into()),
        ("get", "/api/v1/incidents/{id}/timeline".into()),
        ("get", "/api/v1/actions".into()),
        (
            "post",
            "/api/v1/postmortems/{id}/actions/{aid}/backlog".into(),
        ),
        (
            "put",
            "/api/v1/incidents/{id}/services/{service}/impairment".into(),
        ),
        ("get", "/api/v1/slos/{id}/budget".into()),
        ("get", "/api/v1/reports/{name}".into()),
    ];
    for (m, suffix) in [
        ("post", "status"),
        ("post", "severity"),
        ("post", "summary"),
        ("post", "roles"),
        ("delete", "roles/{role}"),
        ("post", "timeline"),
        ("post", "timeline/{entry}/star"),
        ("post", "updates"),
        ("post", "teams"),
        ("post", "investigators"),
        ("post", "alerts"),
        ("post", "services"),
        ("put", "channel"),
        ("post", "subscribers"),
        ("delete", "subscribers"),
    ] {
        expected.push((m, format!("/api/v1/incidents/{{id}}/{suffix}")));
    }
    expected.extend([
        ("post", "/api/v1/incidents/{id}/postmortem".into()),
        ("get", "/api/v1/postmortems".into()),
        ("post", "/api/v1/blameless".into()),
        ("get", "/api/v1/postmortems/{id}".into()),
    ]);
    for (m, suffix) in [
        ("patch", ""),
        ("get", "/export.md"),
        ("put", "/sections/{key}"),
        ("post", "/reviewers"),
        ("delete", "/reviewers/{person}"),
        ("post", "/comments"),
        ("post", "/submit"),
        ("post", "/request-changes"),
        ("post", "/approve"),
        ("post", "/publish"),
        ("post", "/actions"),
        ("patch", "/actions/{aid}"),
        ("delete", "/actions/{aid}"),
    ] {
        expected.push((m, format!("/api/v1/postmortems/{{id}}{suffix}")));
    }
    let kinds = new_records().into_iter().map(|(kind, _, _)| kind);
    for kind in kinds.chain(["playbooks", "alert-rules", "severities", "slos"]) {
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
        // PagerDuty's key is in the body: a bad one is its 400, not a 401.
        if path != "/api/v1/openapi.json" && path != "/v2/enqueue" {
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
