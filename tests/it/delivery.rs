//! Paging end to end on both backends, through real receivers on loopback ports: the engine
//! queues one message per notification rule, the deliverer sends a signed webhook at once and
//! an email (over SMTP) two minutes later unless the alert was acknowledged meanwhile; the
//! signed one-click link acknowledges (GET confirms, only POST acts); a person without
//! methods gets email at their catalog address; a storm on one service is bundled while an
//! unrelated service still pages at once; failures are recorded per attempt; and forbidden
//! addresses are refused.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use tocsin::alerts::lifecycle::Status;
use tocsin::alerts::store;
use tocsin::clock::Clock;
use tocsin::engine::{self, outbox, store as engine_store};
use tocsin::notify::contact::{self, ContactKind};
use tocsin::notify::deliver::Deliverer;
use tocsin::notify::email::Mailer;

use crate::alerts::event;
use crate::sinks::{HttpSink, SmtpSink};
use crate::support::{TestApp, backends, seed_example};

const MIN: u64 = 60;

/// The deliverer `tocsin serve` runs, wired to the test app (and the test notifications' tests).
pub async fn deliverer(app: &TestApp, smtp: Option<&SmtpSink>) -> Deliverer {
    Deliverer {
        db: app.db.clone(),
        clock: Arc::new(app.clock.clone()),
        snapshots: app.state.snapshots.clone(),
        client: tocsin::notify::client().unwrap(),
        mailer: smtp.map(|s| Mailer::new(&s.url, "Tocsin <tocsin@shop.example>").unwrap()),
        base_url: "http://tocsin.test".into(),
        ack_secret: app.state.ack_secret().await.unwrap(),
        block_private: false,
    }
}

async fn trigger(app: &TestApp, service: &str, key: &str) -> String {
    let mut tx = app.db.begin().await.unwrap();
    let e = event(
        tocsin::alerts::Action::Trigger,
        Some(key),
        &format!("{key} failing"),
    );
    let out = store::ingest(&mut tx, None, service, &e, app.clock.now_ms())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    out.alert_id.unwrap()
}

/// One engine tick and one delivery pass at the clock's time.
async fn run(app: &TestApp, d: &Deliverer) -> outbox::DeliveryReport {
    let now = app.clock.now_ms();
    engine::tick(&app.db, now, "t").await.unwrap();
    outbox::deliver_due(&app.db, d, &app.clock, "t", 100)
        .await
        .unwrap()
}

fn form(method: &str, uri: &str, body: String) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap()
}

#[tokio::test]
async fn webhook_at_once_email_later_and_the_ack_link_cancels_the_email() {
    for tdb in backends().await {
        let b = tdb.backend;
        seed_example(&tdb.db).await;
        let app = TestApp::new(tdb.db.clone());
        let (http, smtp) = (HttpSink::start().await, SmtpSink::start().await);
        let now = app.clock.now_ms();
        let hook = contact::add_method(
            &app.db,
            now,
            "t",
            "foo-bar",
            ContactKind::Webhook,
            &http.url("/page"),
        )
        .await
        .unwrap();
        let mail = contact::add_method(
            &app.db,
            now,
            "t",
            "foo-bar",
            ContactKind::Email,
            "foo@shop.example",
        )
        .await
        .unwrap();
        contact::add_rule(&app.db, now, "t", "foo-bar", &hook.id, 0)
            .await
            .unwrap();
        contact::add_rule(&app.db, now, "t", "foo-bar", &mail.id, 2)
            .await
            .unwrap();
        let d = deliverer(&app, Some(&smtp)).await;

        let id = trigger(&app, "checkout-api", "k1").await;
        let r = run(&app, &d).await;
        assert_eq!((r.sent, r.cancelled), (1, 0), "{b}: {r:?}");
        let got = http.received();
        assert_eq!(got.len(), 1, "{b}");
        let page = got[0].json();
        assert_eq!(page["alert"]["id"], id.as_str(), "{b}: {page}");
        assert!(got[0].header("x-tocsin-signature").starts_with("t="), "{b}");
        assert_eq!(
            got[0].header("idempotency-key"),
            format!("{id}:0:0:foo-bar:{}:0", hook.id),
            "{b}"
        );
        assert!(smtp.received().is_empty(), "{b}: email waits two minutes");

        // The one-click link: GET only asks, POST acknowledges as the paged person.
        let ack_url = page["ack_url"]
            .as_str()
            .unwrap()
            .replace("http://tocsin.test", "");
        let (status, body) = app.raw(form("GET", &ack_url, String::new())).await;
        let body = String::from_utf8(body).unwrap();
        assert_eq!(status, StatusCode::OK, "{b}: {body}");
        assert!(
            body.contains("<button type=\"submit\">Acknowledge</button>"),
            "{b}"
        );
        assert_eq!(
            store::get(&app.db, &id).await.unwrap().0.status,
            Status::Triggered,
            "{b}"
        );
        let token = ack_url.split("token=").nth(1).unwrap().to_string();
        let (status, body) = app
            .raw(form(
                "POST",
                &format!("/alerts/{id}/ack"),
                format!("token={token}"),
            ))
            .await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{b}: {}",
            String::from_utf8_lossy(&body)
        );
        let alert = store::get(&app.db, &id).await.unwrap().0;
        assert_eq!(alert.status, Status::Acknowledged, "{b}");
        assert_eq!(
            alert.acknowledged_by.as_deref(),
            Some("Foo Bar (via link)"),
            "{b}"
        );

        // The email's rule comes due after the acknowledgement: withdrawn, never sent.
        app.clock.advance(Duration::from_secs(3 * MIN));
        let r = run(&app, &d).await;
        assert_eq!((r.sent, r.cancelled), (0, 1), "{b}: {r:?}");
        assert!(smtp.received().is_empty(), "{b}");
        let rows = engine_store::outbox_for_alert(&app.db, &id).await.unwrap();
        let statuses: Vec<(&str, &str)> = rows
            .iter()
            .map(|r| (r.channel.as_str(), r.status.as_str()))
            .collect();
        assert_eq!(
            statuses,
            [("webhook", "sent"), ("email", "cancelled")],
            "{b}"
        );
        let attempts = engine_store::attempts_for_alert(&app.db, &id)
            .await
            .unwrap();
        assert_eq!(attempts.len(), 1, "{b}");
        assert!(attempts[0].ok, "{b}");
    }
}

#[tokio::test]
async fn bad_ack_links_are_refused() {
    let tdb = crate::support::sqlite().await;
    seed_example(&tdb.db).await;
    let app = TestApp::new(tdb.db.clone());
    let a = trigger(&app, "checkout-api", "a").await;
    let other = trigger(&app, "checkout-api", "b").await;
    let secret = app.state.ack_secret().await.unwrap();
    let now = app.clock.now_ms();
    let token = tocsin::notify::message::sign_ack(&secret, &a, "foo-bar", now + 60_000).unwrap();
    for (path, body) in [
        (format!("/alerts/{other}/ack"), format!("token={token}")),
        (format!("/alerts/{a}/ack"), "token=v1.1.2.3.4".to_string()),
        (
            format!("/alerts/{a}/ack"),
            format!("token={}", token.replace("v1.", "v1.9")),
        ),
    ] {
        let (status, _) = app.raw(form("POST", &path, body)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    }
    let wrong_key =
        tocsin::notify::message::sign_ack(b"another key", &a, "foo-bar", now + 1).unwrap();
    let (status, _) = app
        .raw(form(
            "POST",
            &format!("/alerts/{a}/ack"),
            format!("token={wrong_key}"),
        ))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    app.clock.advance(Duration::from_secs(2 * MIN));
    let (status, _) = app
        .raw(form(
            "POST",
            &format!("/alerts/{a}/ack"),
            format!("token={token}"),
        ))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "expired");
    assert_eq!(
        store::get(&app.db, &a).await.unwrap().0.status,
        Status::Triggered
    );
}

#[tokio::test]
async fn a_person_without_methods_is_emailed_at_their_catalog_address() {
    for tdb in backends().await {
        let b = tdb.backend;
        seed_example(&tdb.db).await;
        let app = TestApp::new(tdb.db.clone());
        let smtp = SmtpSink::start().await;
        let d = deliverer(&app, Some(&smtp)).await;
        let id = trigger(&app, "checkout-api", "k").await;
        let r = run(&app, &d).await;
        assert_eq!(r.sent, 1, "{b}: {r:?}");
        let mails = smtp.received();
        assert_eq!(mails.len(), 1, "{b}");
        let person = app
            .state
            .catalog()
            .await
            .unwrap()
            .catalog
            .person("foo-bar")
            .unwrap()
            .email
            .clone();
        assert_eq!(mails[0].to, [format!("<{person}>")], "{b}");
        assert!(
            mails[0].text().contains("k failing")
                && mails[0].text().contains("  alertname: CheckoutErrors"),
            "{b}: {}",
            mails[0].text()
        );
        assert!(
            mails[0]
                .text()
                .contains(&format!("http://tocsin.test/alerts/{id}/ack?token=v1.")),
            "{b}: {}",
            mails[0].text()
        );

        // Without SMTP configured the page fails visibly instead of vanishing.
        let id2 = trigger(&app, "checkout-api", "k2").await;
        let no_mail = deliverer(&app, None).await;
        let r = run(&app, &no_mail).await;
        assert_eq!(r.gave_up, 1, "{b}: {r:?}");
        let failed = engine_store::failed_messages(&app.db, 10).await.unwrap();
        assert_eq!(failed[0].alert_id, id2, "{b}");
        assert!(
            failed[0]
                .last_error
                .as_deref()
                .unwrap()
                .contains("smtp_url"),
            "{b}"
        );
    }
}

#[tokio::test]
async fn a_storm_is_bundled_but_an_unrelated_service_pages_at_once() {
    for tdb in backends().await {
        let b = tdb.backend;
        seed_example(&tdb.db).await;
        let app = TestApp::new(tdb.db.clone());
        let http = HttpSink::start().await;
        for person in ["foo-bar", "jon-doe"] {
            contact::add_method(
                &app.db,
                app.clock.now_ms(),
                "t",
                person,
                ContactKind::Webhook,
                &http.url(person),
            )
            .await
            .unwrap();
        }
        let d = deliverer(&app, None).await;
        for i in 0..10 {
            trigger(&app, "checkout-api", &format!("storm{i}")).await;
        }
        run(&app, &d).await;
        assert_eq!(
            http.received().len(),
            3,
            "{b}: three pages, the rest wait in a bundle"
        );
        assert!(
            http.received().iter().all(|r| r.path == "/foo-bar"),
            "{b}: the on-call SRE"
        );
        let other = trigger(&app, "catalog-api", "unrelated").await;
        run(&app, &d).await;
        let got = http.received();
        assert_eq!(got.len(), 4, "{b}");
        assert_eq!(got[3].json()["alert"]["id"], other.as_str(), "{b}");

        app.clock.advance(Duration::from_secs(2 * MIN + 1));
        run(&app, &d).await;
        let got = http.received();
        assert_eq!(got.len(), 5, "{b}: one bundle for the other seven");
        let summary = got[4].json()["alert"]["summary"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(summary.starts_with("7 open alerts on "), "{b}: {summary}");
    }
}

#[tokio::test]
async fn failed_attempts_are_recorded_and_forbidden_addresses_refused() {
    for tdb in backends().await {
        let b = tdb.backend;
        seed_example(&tdb.db).await;
        let app = TestApp::new(tdb.db.clone());
        let http = HttpSink::start().await;
        http.answer(503);
        let now = app.clock.now_ms();
        contact::add_method(
            &app.db,
            now,
            "t",
            "foo-bar",
            ContactKind::Webhook,
            &http.url("x"),
        )
        .await
        .unwrap();
        contact::add_method(
            &app.db,
            now,
            "t",
            "foo-bar",
            ContactKind::Slack,
            "http://169.254.169.254/hook",
        )
        .await
        .unwrap();
        let d = deliverer(&app, None).await;
        let id = trigger(&app, "checkout-api", "k").await;
        let r = run(&app, &d).await;
        assert_eq!((r.retrying, r.gave_up), (1, 1), "{b}: {r:?}");
        http.answer(200);
        app.clock.advance(Duration::from_secs(11));
        let r = run(&app, &d).await;
        assert_eq!(r.sent, 1, "{b}: {r:?}");
        let attempts = engine_store::attempts_for_alert(&app.db, &id)
            .await
            .unwrap();
        let oks: Vec<bool> = attempts.iter().map(|a| a.ok).collect();
        assert_eq!(oks.iter().filter(|ok| **ok).count(), 1, "{b}: {attempts:?}");
        assert_eq!(oks.len(), 3, "{b}");
        let refused = attempts
            .iter()
            .find_map(|a| a.error.clone().filter(|e| e.contains("refused")));
        assert!(refused.is_some(), "{b}: {attempts:?}");
        assert!(
            attempts
                .iter()
                .any(|a| a.error.as_deref().is_some_and(|e| e.contains("503"))),
            "{b}"
        );
    }
}
