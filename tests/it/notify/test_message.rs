//! Test notifications ("Send test" on a contact method) on both backends, through the real
//! outbox and deliverer to real receivers on loopback ports: the signed webhook verified with
//! the method's secret, Slack's and Mattermost's incoming-webhook shapes, the email; outcomes
//! read back (sent, retrying, failed with the reason). Who may send one and the throttle are
//! in `api/contact_tests.rs`.

use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tocsin::auth::Role;
use tocsin::engine::outbox;
use tocsin::notify::webhook::{DEFAULT_TOLERANCE, SignatureError, verify_signature};
use tower::ServiceExt;

use crate::sinks::{HttpSink, SmtpSink};
use crate::support::{TestApp, backends};
use crate::web::alerts::app_on;
use crate::web::client::{PASSWORD, fetch, sign_in};

const SETTINGS: &str = "http://tocsin.test/people/jon-doe#notifications";

/// One delivery pass at the clock's time (what `tocsin serve`'s loop runs each second).
async fn deliver(app: &TestApp, smtp: Option<&SmtpSink>) -> outbox::DeliveryReport {
    let d = crate::delivery::deliverer(app, smtp).await;
    outbox::deliver_due(&app.db, &d, &app.clock, "t", 100)
        .await
        .unwrap()
}

/// Whether a message offers to acknowledge: a button or a link (`/alerts/…/ack?token=`).
fn mentions_ack(text: &str) -> bool {
    let t = text.to_lowercase();
    t.contains("acknowledge") || t.contains("/ack") || t.contains("ack_url")
}

/// A caller of the API: a bearer token, or a signed-in browser (cookie plus CSRF header).
pub(crate) enum Caller {
    Token(String),
    Browser { cookie: String, csrf: String },
}

impl Caller {
    pub(crate) async fn browser(app: &TestApp, user: &str) -> Self {
        let cookie = sign_in(app, user, PASSWORD).await;
        let csrf = fetch(app, "GET", "/", &cookie, None).await.csrf_field();
        Self::Browser { cookie, csrf }
    }

    pub(crate) async fn call(
        &self,
        app: &TestApp,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, HeaderMap, Value) {
        let mut req = Request::builder().method(method).uri(path);
        req = match self {
            Self::Token(t) => req.header(header::AUTHORIZATION, format!("Bearer {t}")),
            Self::Browser { cookie, csrf } => req
                .header(header::COOKIE, cookie)
                .header("x-csrf-token", csrf),
        };
        let body = match body {
            Some(v) => {
                req = req.header(header::CONTENT_TYPE, "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        let response = app
            .router
            .clone()
            .oneshot(req.body(body).unwrap())
            .await
            .unwrap();
        let (status, headers) = (response.status(), response.headers().clone());
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (status, headers, value)
    }

    /// Adds a contact method to `person`; returns its id and (webhooks) signing secret.
    pub(crate) async fn add_method(
        &self,
        app: &TestApp,
        person: &str,
        kind: &str,
        target: &str,
    ) -> (String, String) {
        let path = format!("/api/v1/people/{person}/contact-methods");
        let body = json!({"kind": kind, "target": target});
        let (s, _, created) = self.call(app, "POST", &path, Some(body)).await;
        assert_eq!(s, StatusCode::CREATED, "{created}");
        let secret = created["secret"].as_str().unwrap_or_default().to_string();
        (created["id"].as_str().unwrap().to_string(), secret)
    }

    pub(crate) async fn test(&self, app: &TestApp, method: &str) -> (StatusCode, HeaderMap, Value) {
        let path = format!("/api/v1/contact-methods/{method}/test");
        self.call(app, "POST", &path, None).await
    }

    pub(crate) async fn tests(&self, app: &TestApp, method: &str) -> (StatusCode, Value) {
        let path = format!("/api/v1/contact-methods/{method}/tests");
        let (s, _, v) = self.call(app, "GET", &path, None).await;
        (s, v)
    }
}

#[tokio::test]
async fn a_signed_webhook_test_goes_through_the_outbox_and_its_outcome_is_read_back() {
    for t in backends().await {
        let b = t.backend;
        let app = app_on(&t).await;
        let sink = HttpSink::start().await;
        let admin = Caller::Token(app.token(Role::Admin).await);
        let (id, secret) = admin
            .add_method(&app, "jon-doe", "webhook", &sink.url("/hook"))
            .await;

        let (s, headers, queued) = admin.test(&app, &id).await;
        assert_eq!(s, StatusCode::ACCEPTED, "{b}: {queued}");
        let test_id = queued["id"].as_i64().expect("the outbox id");
        assert_eq!(queued["status"], "queued", "{b}: {queued}");
        assert_eq!(
            headers[header::LOCATION],
            format!("/api/v1/contact-methods/{id}/tests"),
            "{b}"
        );
        let (s, listed) = admin.tests(&app, &id).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(listed[0]["status"], "queued", "{b}: {listed}");
        assert!(sink.received().is_empty(), "{b}: queued, not sent inline");

        app.clock.advance(Duration::from_millis(1500));
        let r = deliver(&app, None).await;
        assert_eq!((r.sent, r.cancelled), (1, 0), "{b}: {r:?}");
        let got = sink.received();
        assert_eq!(got.len(), 1, "{b}");
        let hook = &got[0];
        assert_eq!(hook.path, "/hook", "{b}");
        assert_eq!(hook.header("x-tocsin-event"), "test", "{b}");
        // The signature checks out with the secret shown at creation, over the exact bytes,
        // at the time it was sent; any other secret fails.
        let signature = hook.header("x-tocsin-signature");
        let now = tocsin::clock::Clock::now_ms(&app.clock);
        let check =
            |key: &[u8]| verify_signature(key, &signature, &hook.body, now, DEFAULT_TOLERANCE);
        assert_eq!(check(secret.as_bytes()), Ok(()), "{b}: {signature}");
        assert_eq!(
            check(b"another secret"),
            Err(SignatureError::Mismatch),
            "{b}"
        );
        assert!(
            hook.header("idempotency-key")
                .starts_with(&format!("test:{id}:")),
            "{b}: {}",
            hook.header("idempotency-key")
        );
        let body = hook.json();
        assert_eq!(body["event"], "test", "{b}: {body}");
        assert_eq!(
            body["text"], "Test notification from Tocsin for Jon Doe via webhook",
            "{b}"
        );
        assert_eq!(
            (&body["person"], &body["contact_method"], &body["test_id"]),
            (&json!("jon-doe"), &json!(id), &json!(test_id)),
            "{b}"
        );
        assert_eq!(body["settings_url"], SETTINGS, "{b}");
        let text = String::from_utf8_lossy(&hook.body);
        assert!(!mentions_ack(&text), "{b}: no acknowledge link: {text}");

        let (_, listed) = admin.tests(&app, &id).await;
        assert_eq!(listed.as_array().map(Vec::len), Some(1), "{b}: {listed}");
        assert_eq!(
            (
                &listed[0]["id"],
                &listed[0]["status"],
                &listed[0]["attempts"]
            ),
            (&json!(test_id), &json!("sent"), &json!(1)),
            "{b}: {listed}"
        );
        assert!(listed[0]["sent_at"].is_string(), "{b}: {listed}");
        let (_, _, audit) = admin
            .call(&app, "GET", "/api/v1/audit?limit=20", None)
            .await;
        assert!(
            audit.to_string().contains("contact.test"),
            "{b}: the test is in the audit log: {audit}"
        );
    }
}

#[tokio::test]
async fn slack_mattermost_and_email_tests_have_their_wire_formats_and_no_ack() {
    for t in backends().await {
        let b = t.backend;
        let app = app_on(&t).await;
        let (http, smtp) = (HttpSink::start().await, SmtpSink::start().await);
        let admin = Caller::Token(app.token(Role::Admin).await);
        let (slack, _) = admin
            .add_method(&app, "jon-doe", "slack", &http.url("/services/T0/B0/x"))
            .await;
        let (mm, _) = admin
            .add_method(&app, "jon-doe", "mattermost", &http.url("/hooks/mm"))
            .await;
        let (mail, _) = admin
            .add_method(&app, "jon-doe", "email", "jon@shop.example")
            .await;
        for id in [&slack, &mm, &mail] {
            let (s, _, q) = admin.test(&app, id).await;
            assert_eq!(s, StatusCode::ACCEPTED, "{b}: {q}");
        }
        let r = deliver(&app, Some(&smtp)).await;
        assert_eq!(r.sent, 3, "{b}: {r:?}");
        let got = http.received();
        let by_path = |p: &str| got.iter().find(|g| g.path == p).expect(p).clone();

        // Slack incoming webhook: JSON with `text` (the notification and fallback) and
        // `blocks` of known types with mrkdwn text (ingest-formats.md §6.1); not signed.
        let s = by_path("/services/T0/B0/x");
        assert_eq!(s.header("content-type"), "application/json", "{b}");
        assert!(s.header("x-tocsin-signature").is_empty(), "{b}");
        let body = s.json();
        let keys: Vec<&str> = body
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, ["blocks", "text"], "{b}: {body}");
        assert_eq!(
            body["text"], "Test notification from Tocsin for Jon Doe via Slack",
            "{b}"
        );
        let blocks = body["blocks"].as_array().expect("blocks");
        for block in blocks {
            match block["type"].as_str() {
                Some("section") => assert_eq!(block["text"]["type"], "mrkdwn", "{b}: {block}"),
                Some("context") => {
                    for e in block["elements"].as_array().expect("elements") {
                        assert_eq!(e["type"], "mrkdwn", "{b}: {block}");
                    }
                }
                other => panic!("{b}: unexpected block {other:?}: {block}"),
            }
        }
        let blocks_text = body["blocks"].to_string();
        assert!(blocks_text.contains(SETTINGS), "{b}: {blocks_text}");
        assert!(!mentions_ack(&blocks_text), "{b}: {blocks_text}");

        // Mattermost: `text` and `attachments` (it ignores `blocks`, §6.4).
        let m = by_path("/hooks/mm").json();
        assert!(m.get("blocks").is_none(), "{b}: {m}");
        assert_eq!(
            m["text"], "Test notification from Tocsin for Jon Doe via Mattermost",
            "{b}"
        );
        assert_eq!(m["attachments"][0]["title_link"], SETTINGS, "{b}: {m}");
        assert!(!mentions_ack(&m.to_string()), "{b}: {m}");

        let mails = smtp.received();
        assert_eq!(mails.len(), 1, "{b}");
        assert_eq!(mails[0].to, ["<jon@shop.example>"], "{b}");
        let text = mails[0].text();
        assert!(
            text.contains("Subject: [Test] Test notification from Tocsin for Jon Doe via email"),
            "{b}: {text}"
        );
        assert!(
            text.contains(&format!("Your notification settings: {SETTINGS}")),
            "{b}"
        );
        assert!(!mentions_ack(&text), "{b}: {text}");
    }
}

#[tokio::test]
async fn failed_tests_are_retried_like_pages_and_say_why() {
    for t in backends().await {
        let b = t.backend;
        let app = app_on(&t).await;
        let (gone, flaky) = (HttpSink::start().await, HttpSink::start().await);
        gone.answer(404);
        flaky.answer(503);
        let admin = Caller::Token(app.token(Role::Admin).await);
        let (dead, _) = admin
            .add_method(&app, "jon-doe", "slack", &gone.url("/services/T/B/old"))
            .await;
        let (busy, _) = admin
            .add_method(&app, "jon-doe", "mattermost", &flaky.url("/hooks/x"))
            .await;
        admin.test(&app, &dead).await;
        admin.test(&app, &busy).await;
        let r = deliver(&app, None).await;
        assert_eq!((r.gave_up, r.retrying), (1, 1), "{b}: {r:?}");

        let (_, listed) = admin.tests(&app, &dead).await;
        assert_eq!(listed[0]["status"], "failed", "{b}: a 404 will not change");
        assert_eq!(listed[0]["error"], "HTTP 404", "{b}: {listed}");
        let (_, listed) = admin.tests(&app, &busy).await;
        assert_eq!(listed[0]["status"], "retrying", "{b}: {listed}");
        assert_eq!(listed[0]["error"], "HTTP 503", "{b}");
        assert_eq!(
            listed[0]["next_attempt_at"], "2024-06-17T09:00:10Z",
            "{b}: the page backoff, 10 s"
        );

        flaky.answer(200);
        app.clock.advance(Duration::from_secs(10));
        let r = deliver(&app, None).await;
        assert_eq!(r.sent, 1, "{b}: {r:?}");
        let (_, listed) = admin.tests(&app, &busy).await;
        assert_eq!(
            (&listed[0]["status"], &listed[0]["attempts"]),
            (&json!("sent"), &json!(2)),
            "{b}: {listed}"
        );
        assert_eq!(flaky.received().len(), 2, "{b}: the same message twice");
    }
}
