//! The HTTP surfaces of alert rules and playbooks: the read/write API of both kinds, the
//! playbook page with its one-click Run form, the API run, and the readiness page's section.

use axum::http::StatusCode;
use serde_json::json;
use tocsin::alerts::store;
use tocsin::auth::Role;

use super::{key_for, post, receiver, seed, webhook};
use crate::support::{TestApp, backends, seed_example};

#[tokio::test]
async fn rules_and_playbooks_are_read_and_written_through_the_api() {
    for t in backends().await {
        let b = t.backend;
        seed_example(&t.db).await;
        let app = TestApp::new(t.db.clone());
        let admin = app.token(Role::Admin).await;
        let viewer = app.token(Role::Viewer).await;
        let (s, rules) = app
            .call("GET", "/api/v1/alert-rules", Some(&viewer), None)
            .await;
        assert_eq!(s, StatusCode::OK);
        let ids: Vec<&str> = rules
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap())
            .collect();
        assert_eq!(
            ids,
            [
                "checkout-5xx",
                "payment-provider",
                "node-pressure",
                "warnings-quiet-down"
            ],
            "{b}: in priority order"
        );
        let (s, pb) = app
            .call(
                "GET",
                "/api/v1/playbooks/node-pressure",
                Some(&viewer),
                None,
            )
            .await;
        assert_eq!(
            (s, &pb["url"]),
            (
                StatusCode::OK,
                &json!("https://wiki.shop.example/runbooks/k8s-node-pressure")
            )
        );

        let rule = json!({"id": "api-rule", "match": {"labels": {"alertname": "X*"}},
                          "set": {"playbook": "node-pressure", "auto_resolve_after": "2h"}});
        let (s, body) = app
            .call(
                "POST",
                "/api/v1/alert-rules",
                Some(&admin),
                Some(rule.clone()),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}: {body}");
        let (_, got) = app
            .call("GET", "/api/v1/alert-rules/api-rule", Some(&viewer), None)
            .await;
        assert_eq!(got, rule, "{b}");
        // Dangling playbook, bad duration, unknown placeholder: 422 with every problem.
        let bad = json!({"id": "bad", "set": {"playbook": "nope", "auto_resolve_after": "soon"}});
        let (s, body) = app
            .call("POST", "/api/v1/alert-rules", Some(&admin), Some(bad))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}: {body}");
        let detail = body.to_string();
        assert!(
            detail.contains("unknown playbook \\\"nope\\\"")
                && detail.contains("expected a duration"),
            "{b}: {detail}"
        );
        let pb = json!({"id": "p", "title": "P", "steps": [{"action": {"name": "a", "method": "POST",
                        "url": "http://h/{{alert.nope}}", "auto": true}}]});
        let (s, body) = app
            .call("POST", "/api/v1/playbooks", Some(&admin), Some(pb))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}: {body}");
        assert!(
            body.to_string()
                .contains("unknown placeholder {{alert.nope}}"),
            "{b}: {body}"
        );
        // A playbook a rule uses cannot be deleted.
        let (s, body) = app
            .call(
                "DELETE",
                "/api/v1/playbooks/node-pressure",
                Some(&admin),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{b}: {body}");
        let (s, _) = app
            .call("DELETE", "/api/v1/alert-rules/api-rule", Some(&admin), None)
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT, "{b}");
    }
}

#[tokio::test]
async fn the_playbook_page_runs_actions_with_one_click() {
    use crate::web::client::{PASSWORD, app_with, enc, fetch, sign_in};
    let (base, seen) = receiver().await;
    let (app, t) = app_with(&[Role::Viewer, Role::Responder]).await;
    seed(&t.db, &base).await;
    let key = key_for(&app, "checkout-api").await;
    let id = post(
        &app,
        &key,
        &webhook("CheckoutErrorRateHigh", "fp9", "firing"),
    )
    .await;
    let page = format!("/alerts/{id}/playbook");

    let viewer = sign_in(&app, "viewer", PASSWORD).await;
    let p = fetch(&app, "GET", &page, &viewer, None).await;
    p.assert_ok_html("playbook page");
    assert!(
        p.body.contains("Playbook: Checkout error rate high"),
        "{}",
        p.body
    );
    // Markdown rendered and sanitised; no Run button for a viewer.
    assert!(p.body.contains("<strong>checkout-api</strong>"));
    // The alert page shows the same playbook in place of the plain runbook link.
    let alert_page = fetch(&app, "GET", &format!("/alerts/{id}"), &viewer, None).await;
    alert_page.assert_ok_html("alert page");
    assert!(
        alert_page
            .body
            .contains("Playbook: Checkout error rate high")
            && alert_page.body.contains("<strong>checkout-api</strong>"),
        "{}",
        alert_page.body
    );
    assert!(p.body.contains("rule checkout-5xx matched"));
    assert!(!p.body.contains("/actions/3/run"));

    let responder = sign_in(&app, "responder", PASSWORD).await;
    let p = fetch(&app, "GET", &page, &responder, None).await;
    let form = format!("action=\"/alerts/{id}/actions/3/run\"");
    assert!(p.body.contains(&form), "{}", p.body);
    assert!(p.body.contains("runs automatically"), "step 4 is automatic");
    let csrf = p.csrf_field();
    let run = format!("/alerts/{id}/actions/3/run");
    let bad = fetch(&app, "POST", &run, &responder, Some("csrf=wrong")).await;
    assert_eq!(bad.status, StatusCode::FORBIDDEN);
    assert!(
        seen.lock().unwrap().is_empty(),
        "nothing sent without a valid CSRF token"
    );
    let ok = fetch(
        &app,
        "POST",
        &run,
        &responder,
        Some(&format!("csrf={}", enc(&csrf))),
    )
    .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    assert_eq!(
        ok.header(axum::http::header::LOCATION),
        format!("/alerts/{id}#h-log"),
        "back to the alert page, at its log"
    );
    assert_eq!(seen.lock().unwrap().len(), 1);
    let p = fetch(&app, "GET", &page, &responder, None).await;
    assert!(
        p.body.contains("Restart the cart-service pods: HTTP 200"),
        "{}",
        p.body
    );

    // The readiness page has its candidates section.
    let r = fetch(&app, "GET", "/readiness", &viewer, None).await;
    r.assert_ok_html("readiness");
    assert!(r.body.contains("Candidates for automation"));
}

#[tokio::test]
async fn alertmanager_api_alerts_resolve_at_their_ends_at_unless_re_sent() {
    use tocsin::alerts::automation;
    use tocsin::alerts::integration::{self, IntegrationKind};
    use tocsin::clock::Clock;
    for t in backends().await {
        let b = t.backend;
        seed_example(&t.db).await;
        let app = TestApp::new(t.db.clone());
        let c = tocsin::catalog::store::load(&t.db).await.unwrap();
        let now = app.clock.now_ms();
        let kind = IntegrationKind::AlertmanagerApi;
        let (_, key) = integration::create(&t.db, &c, now, "test", "catalog-api", kind, "")
            .await
            .unwrap();
        // No rule matches (severity info); no endsAt: Alertmanager's 5-minute resolve timeout.
        let body = json!([{"labels": {"alertname": "SearchSlow", "severity": "info"},
                           "annotations": {"summary": "search is slow"}}]);
        let (s, _) = app
            .call("POST", "/api/v2/alerts", Some(&key), Some(body.clone()))
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let alerts = store::list(
            &t.db,
            &store::Filter {
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let id = alerts[0].id.clone();
        let routing = automation::store::routing(&t.db, &id).await.unwrap();
        assert_eq!(routing.auto_resolve_at, Some(now + 5 * 60_000), "{b}");
        assert_eq!(routing.rule, None, "{b}");
        // Re-sent a minute later: the deadline moves with it.
        app.clock.advance(std::time::Duration::from_secs(60));
        app.call("POST", "/api/v2/alerts", Some(&key), Some(body))
            .await;
        assert_eq!(
            store::auto_resolve_due(&t.db, now + 5 * 60_000)
                .await
                .unwrap(),
            0,
            "{b}"
        );
        assert_eq!(
            store::auto_resolve_due(&t.db, now + 6 * 60_000)
                .await
                .unwrap(),
            1,
            "{b}"
        );
        let (alert, _) = store::get(&t.db, &id).await.unwrap();
        assert_eq!(alert.resolved_by.as_deref(), Some("auto-resolve"), "{b}");
    }
}

#[tokio::test]
async fn tocsin_audit_lists_candidates_for_automation() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let db = tocsin::app::open_db(&url).await.expect("open");
    seed_example(&db).await;
    let app = TestApp::new(db.clone());
    let key = key_for(&app, "catalog-api").await;
    for i in 0..5 {
        let fp = format!("d{i}");
        post(&app, &key, &webhook("DiskAlmostFull", &fp, "firing")).await;
        post(&app, &key, &webhook("DiskAlmostFull", &fp, "resolved")).await;
    }
    db.close().await;
    let audit = |json: bool| {
        let url = url.clone();
        tokio::task::spawn_blocking(move || {
            let mut args = vec![
                "audit",
                "--from",
                "2024-06-18T09:00Z",
                "--database-url",
                &url,
            ];
            if json {
                args.push("--json");
            }
            crate::serve::run_tocsin(&args, "")
        })
    };
    let out = audit(false).await.unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains(
            "Candidates for automation (fired 5+ times in 30 days without a playbook): 1\n\
             \x20     5x  catalog-api  DiskAlmostFull\n"
        ),
        "{table}"
    );
    let out = audit(true).await.unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        report["automation_candidates"],
        json!([{"service": "catalog-api", "alert": "DiskAlmostFull", "count": 5}])
    );
    assert!(
        report["findings"].is_array(),
        "the readiness report is still there"
    );
}

#[tokio::test]
async fn a_bare_resolve_finds_the_alert_a_rule_re_routed() {
    use tocsin::alerts::integration::{self, IntegrationKind};
    use tocsin::alerts::lifecycle::Status;
    for t in backends().await {
        let b = t.backend;
        seed_example(&t.db).await;
        let app = TestApp::new(t.db.clone());
        let c = tocsin::catalog::store::load(&t.db).await.unwrap();
        let kind = IntegrationKind::Generic;
        let (_, key) = integration::create(&t.db, &c, 0, "test", "web-storefront", kind, "")
            .await
            .unwrap();
        let trigger = json!({"summary": "checkout 5xx", "dedup_key": "k1",
                             "labels": {"alertname": "CheckoutErrorRateHigh"}});
        let (s, reply) = app
            .call("POST", "/ingest/generic", Some(&key), Some(trigger))
            .await;
        assert_eq!(s, StatusCode::OK, "{b}: {reply}");
        let id = reply["alerts"][0]["alert"].as_str().unwrap().to_string();
        // The resolve carries no labels, so no rule matches it; it still finds the alert.
        let resolve = json!({"action": "resolve", "dedup_key": "k1"});
        let (s, reply) = app
            .call("POST", "/ingest/generic", Some(&key), Some(resolve))
            .await;
        assert_eq!(
            (s, reply["alerts"][0]["alert"].as_str()),
            (StatusCode::OK, Some(id.as_str())),
            "{b}"
        );
        let (alert, _) = store::get(&t.db, &id).await.unwrap();
        assert_eq!(
            (alert.service.as_str(), alert.status),
            ("checkout-api", Status::Resolved),
            "{b}"
        );
    }
}
