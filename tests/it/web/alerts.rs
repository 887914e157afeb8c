//! The alert pages on both backends, as a browser without JavaScript uses them: the list with
//! its GET filters and "older" paging (including alerts of one batch, which share an instant),
//! the home page's unacknowledged panel, an alert's page with everything it shows (playbook,
//! escalation, the engine's pages, the log; sender links only when http(s), never an inline
//! image). The Acknowledge / Resolve forms are `alert_actions.rs`.

use std::collections::BTreeMap;

use axum::http::{StatusCode, header};
use serde_json::json;
use tocsin::alerts::store;
use tocsin::alerts::{Action, AlertEvent, EventImage, EventLink, Severity};
use tocsin::auth::Role;
use tocsin::db::Db;

use super::client::{PASSWORD, Page, fetch, sign_in};
use crate::support::{TestApp, TestDb, backends, seed_example, t0};

const MIN: i64 = 60_000;

/// The example organisation with a viewer, a responder (Jon Doe) and an admin.
pub(crate) async fn app_on(t: &TestDb) -> TestApp {
    seed_example(&t.db).await;
    for (role, person) in [
        (Role::Viewer, Some("foo-bar")),
        (Role::Responder, Some("jon-doe")),
        (Role::Admin, None),
    ] {
        tocsin::auth::accounts::set_account(
            &t.db,
            role.as_str(),
            role,
            person.map(str::to_string),
            PASSWORD,
            "test",
        )
        .await
        .expect("account");
    }
    TestApp::new(t.db.clone())
}

pub(super) fn event(summary: &str, key: &str, severity: Severity) -> AlertEvent {
    AlertEvent {
        action: Action::Trigger,
        dedup_key: Some(key.to_string()),
        summary: summary.to_string(),
        severity: Some(severity),
        source: "prometheus".into(),
        labels: BTreeMap::from([("alertname".into(), "HighErrorRate".into())]),
        annotations: BTreeMap::new(),
        details: serde_json::Value::Null,
        links: vec![],
        images: vec![],
        started_at: None,
        ends_at: None,
    }
}

/// Ingests `events` for `service` in one transaction at `at`, as one sender batch; their ids.
pub(super) async fn ingest(db: &Db, service: &str, events: &[AlertEvent], at: i64) -> Vec<String> {
    let mut tx = db.begin().await.unwrap();
    let mut ids = Vec::new();
    for e in events {
        let out = store::ingest(&mut tx, None, service, e, at).await.unwrap();
        ids.push(out.alert_id.unwrap());
    }
    tx.commit().await.unwrap();
    ids
}

/// The alert ids in a list page's rows, in order.
fn listed(page: &Page) -> Vec<String> {
    page.body
        .split(r#"<tr data-alert=""#)
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].to_string())
        .collect()
}

/// The "Older" link of a list page, HTML-unescaped.
fn older(page: &Page) -> Option<String> {
    let end = page.body.find(r#"" rel="next""#)?;
    let start = page.body[..end].rfind("href=\"")? + 6;
    Some(
        page.body[start..end]
            .replace("&#38;", "&")
            .replace("&amp;", "&"),
    )
}

#[tokio::test]
async fn the_list_filters_pages_back_and_feeds_the_home_panel() {
    for t in backends().await {
        let b = t.backend;
        let app = app_on(&t).await;
        let t0 = t0().as_millisecond();
        let checkout = ingest(
            &t.db,
            "checkout-api",
            &[event("Checkout errors", "co-1", Severity::Critical)],
            t0,
        )
        .await[0]
            .clone();
        // One Alertmanager-like batch: three alerts at the same instant.
        let batch = ingest(
            &t.db,
            "catalog-api",
            &[
                event("Search slow", "cat-1", Severity::Warning),
                event("Search errors", "cat-2", Severity::Error),
                event("Index stale", "cat-3", Severity::Info),
            ],
            t0 + MIN,
        )
        .await;
        let mut tx = t.db.begin().await.unwrap();
        store::resolve(&mut tx, &batch[2], "someone", t0 + 2 * MIN)
            .await
            .unwrap();
        tx.commit().await.unwrap();

        let c = sign_in(&app, "viewer", PASSWORD).await;
        let all = fetch(&app, "GET", "/alerts", &c, None).await;
        all.assert_ok_html("alert list");
        assert!(
            all.body
                .contains(r#"<a href="/alerts" aria-current="page">Alerts</a>"#),
            "{b}: Alerts in the navigation"
        );
        let ids = listed(&all);
        assert_eq!(ids.len(), 4, "{b}: {ids:?}");
        assert_eq!(ids[3], checkout, "{b}: newest first, the oldest last");
        for text in ["Checkout errors", "Search slow", "Checkout API", "critical"] {
            assert!(all.body.contains(text), "{b}: list shows {text:?}");
        }

        let cases: &[(&str, Vec<&String>)] = &[
            ("service=catalog-api", batch.iter().collect()),
            (
                "status=triggered&service=catalog-api",
                batch[..2].iter().collect(),
            ),
            ("severity=critical", vec![&checkout]),
            ("status=resolved", vec![&batch[2]]),
            ("service=payment-gateway", vec![]),
        ];
        for (query, want) in cases {
            let page = fetch(&app, "GET", &format!("/alerts?{query}"), &c, None).await;
            page.assert_ok_html(query);
            let mut got = listed(&page);
            got.sort();
            let mut want: Vec<String> = want.iter().map(|s| (*s).clone()).collect();
            want.sort();
            assert_eq!(got, want, "{b}: {query}");
            // The form keeps what was chosen.
            let value = query.split('&').next().unwrap().split('=').nth(1).unwrap();
            assert!(
                page.body
                    .contains(&format!(r#"<option value="{value}" selected>"#)),
                "{b}: {query} stays selected"
            );
        }

        // Paging one at a time walks every alert once, through the batch's shared instant.
        let mut seen = Vec::new();
        let mut next = Some("/alerts?limit=1".to_string());
        while let Some(url) = next {
            let page = fetch(&app, "GET", &url, &c, None).await;
            page.assert_ok_html(&url);
            seen.extend(listed(&page));
            next = older(&page);
            assert!(seen.len() <= 4, "{b}: paging does not end: {seen:?}");
        }
        assert_eq!(seen, ids, "{b}: pages of one give the whole list, in order");

        for bad in [
            "status=open",
            "severity=fatal",
            "limit=0",
            "limit=x",
            "before=yesterday",
        ] {
            let page = fetch(&app, "GET", &format!("/alerts?{bad}"), &c, None).await;
            assert_eq!(page.status, StatusCode::BAD_REQUEST, "{b}: {bad}");
            assert!(page.body.contains("must be"), "{b}: {bad} says why");
        }

        let home = fetch(&app, "GET", "/", &c, None).await;
        home.assert_ok_html("home");
        let from = home.body.find("Unacknowledged alerts").expect("panel");
        let to = from + home.body[from..].find("</section>").unwrap();
        let panel = Page {
            status: StatusCode::OK,
            headers: Default::default(),
            body: home.body[from..to].to_string(),
        };
        let shown = listed(&panel);
        let triggered: Vec<String> = ids.iter().filter(|id| **id != batch[2]).cloned().collect();
        assert_eq!(shown, triggered, "{b}: triggered alerts, newest first");
        assert!(
            panel.body.contains(r#"href="/alerts?status=triggered""#),
            "{b}"
        );
    }
}

#[tokio::test]
async fn an_alert_page_shows_what_it_is_who_was_paged_and_its_log() {
    for t in backends().await {
        let b = t.backend;
        let app = app_on(&t).await;
        let now = t0().as_millisecond();
        let mut e = event("Checkout <errors> over 5%", "co-err", Severity::Critical);
        e.annotations = BTreeMap::from([
            (
                "runbook_url".into(),
                "https://wiki.shop.example/runbooks/co-errors".into(),
            ),
            ("description".into(), "5xx above 5% for 10m".into()),
        ]);
        e.details = json!({"rate": 0.07, "pods": ["a", "b"]});
        e.links = vec![
            EventLink {
                href: "https://grafana.shop.example/d/co".into(),
                text: "Dashboard".into(),
            },
            EventLink {
                href: "javascript:alert(1)".into(),
                text: "Sneaky".into(),
            },
        ];
        e.images = vec![EventImage {
            src: "https://grafana.shop.example/render/co.png".into(),
            href: String::new(),
            alt: "Error graph".into(),
        }];
        let id = ingest(&t.db, "checkout-api", &[e.clone()], now).await[0].clone();
        // A repeat, then the engine's first step: Foo Bar is paged at level 1.
        ingest(&t.db, "checkout-api", &[e], now + MIN).await;
        let report = tocsin::engine::tick(&t.db, now + MIN, "test")
            .await
            .unwrap();
        assert_eq!(report.pages, 1, "{b}: {report:?}");

        let c = sign_in(&app, "viewer", PASSWORD).await;
        let page = fetch(&app, "GET", &format!("/alerts/{id}"), &c, None).await;
        page.assert_ok_html("alert page");
        for text in [
            "<h1>Checkout &#60;errors&#62; over 5%",
            r#"<a href="/services/checkout-api">Checkout API</a>"#,
            "<code>co-err</code>",
            "prometheus",
            "HighErrorRate",
            "5xx above 5% for 10m",
            "&#34;rate&#34;: 0.07",
            r#"<a href="https://wiki.shop.example/runbooks/co-errors" rel="noopener noreferrer">Runbook</a>"#,
            "runbook_url annotation",
            r#"<a href="https://grafana.shop.example/d/co" rel="noopener noreferrer">Dashboard</a>"#,
            r#"<a href="https://grafana.shop.example/render/co.png" rel="noopener noreferrer">Error graph</a>"#,
            "Sneaky <small class=\"muted\">(not an http(s) link)",
            "<strong>active</strong>, next level 2",
            r#"<a href="/people/foo-bar">Foo Bar</a>"#,
            "Pages (1)",
            "<td>pending</td>",
            "2024-06-17T09:00:00Z",
            "<td>trigger</td>",
            "<td>repeat</td>",
            "<dd>2</dd>",
        ] {
            assert!(
                page.body.contains(text),
                "{b}: the page shows {text:?}:\n{}",
                page.body
            );
        }
        assert!(
            !page.body.contains("javascript:"),
            "{b}: no javascript: href"
        );
        assert!(!page.body.contains("<img"), "{b}: no remote image loads");
        assert!(
            !page.body.contains("Acknowledge</button>"),
            "{b}: viewers get no buttons"
        );

        let gone = fetch(&app, "GET", "/alerts/no-such-alert", &c, None).await;
        assert_eq!(gone.status, StatusCode::NOT_FOUND, "{b}");
        assert!(
            gone.header(header::CONTENT_TYPE).starts_with("text/html"),
            "{b}"
        );

        // Without the annotation, the service's runbook link is the playbook.
        let plain = event("Catalog slow", "cat-slow", Severity::Warning);
        let other = ingest(&t.db, "catalog-api", &[plain], now).await[0].clone();
        let page = fetch(&app, "GET", &format!("/alerts/{other}"), &c, None).await;
        assert!(
            page.body
                .contains(r#"href="https://wiki.shop.example/runbooks/catalog-api""#)
                && page.body.contains("(from the service&#39;s links)"),
            "{b}: the service's runbook:\n{}",
            page.body
        );
    }
}
