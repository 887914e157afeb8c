//! Incident messages delivered to real receivers on loopback ports, on both backends: the
//! exact bodies Slack (text + a mrkdwn section block) and Mattermost (Markdown text, no
//! blocks) are sent, a signed generic webhook that verifies with the server's secret, email
//! over SMTP; a 503 retried on the backoff until it goes through, a 400 and eight failures
//! given up (visible with their error), the address guard, and the engine loop delivering.

use std::sync::Arc;
use std::time::Duration;

use tocsin::catalog::snapshot::Snapshot;
use tocsin::clock::Clock;
use tocsin::db::Db;
use tocsin::incidents::Subscriber;
use tocsin::incidents::command::{self, Actor, Ctx, Declaration, NewUpdate};
use tocsin::incidents::deliver::{self, WEBHOOK_SECRET};
use tocsin::incidents::store::{delivery, messages};
use tocsin::notify::deliver::Deliverer;
use tocsin::notify::email::Mailer;
use tocsin::notify::webhook::{DEFAULT_TOLERANCE, verify_signature};

use crate::sinks::{HttpSink, SmtpSink};
use crate::support::{TestApp, backends, seed_example};

fn deliverer(app: &TestApp, smtp: &SmtpSink, block_private: bool) -> Deliverer {
    Deliverer {
        db: app.db.clone(),
        clock: Arc::new(app.clock.clone()),
        snapshots: app.state.snapshots.clone(),
        client: tocsin::notify::client_with(block_private).unwrap(),
        mailer: Some(Mailer::new(&smtp.url, "Tocsin <tocsin@shop.example>").unwrap()),
        base_url: "http://tocsin.test".into(),
        ack_secret: b"unused".to_vec(),
        block_private,
    }
}

/// Declares INC-1 with its Slack channel at `slack`, subscribes `subs`, and posts an update
/// (which goes to the channel and every subscriber).
async fn incident_with_update(app: &TestApp, slack: &str, subs: &[(&str, String)]) -> i64 {
    let db: &Db = &app.db;
    let snap = Snapshot::new(tocsin::catalog::store::load(db).await.unwrap());
    let actor = Actor::person(&snap, "jon-doe");
    let ctx = Ctx {
        db,
        snap: &snap,
        now: app.clock.now_ms(),
        actor: &actor,
        base_url: "http://tocsin.test",
    };
    let d = Declaration {
        title: "Checkout <!channel> failing".into(),
        severity: Some("sev1".into()),
        channel_kind: Some("slack".into()),
        channel_url: Some(slack.into()),
        ..Declaration::default()
    };
    let i = command::declare(&ctx, &d, "chat").await.unwrap();
    for (kind, target) in subs {
        let s = Subscriber {
            kind: (*kind).into(),
            target: target.clone(),
        };
        command::subscribe(&ctx, i.id, &s).await.unwrap();
    }
    let u = NewUpdate {
        impact: "Customers cannot check out".into(),
        actions: "Failing over the *payments* DB".into(),
        ..NewUpdate::default()
    };
    command::post_update(&ctx, i.id, &u).await.unwrap();
    i.id
}

async fn rows(db: &Db, id: i64) -> Vec<messages::Message> {
    let mut tx = db.begin_read().await.unwrap();
    messages::for_incident(&mut tx, id).await.unwrap()
}

#[tokio::test]
async fn slack_mattermost_webhook_and_email_get_their_exact_shapes() {
    for b in backends().await {
        seed_example(&b.db).await;
        let app = TestApp::new(b.db.clone());
        let (http, smtp) = (HttpSink::start().await, SmtpSink::start().await);
        let subs = [
            ("mattermost", http.url("/mm")),
            ("webhook", http.url("/hook")),
            ("email", "stakeholders@shop.example".to_string()),
        ];
        let id = incident_with_update(&app, &http.url("/slack"), &subs).await;
        let d = deliverer(&app, &smtp, false);
        let r = deliver::deliver_due(&app.db, &d, &app.clock, "t", 100)
            .await
            .unwrap();
        assert_eq!((r.sent, r.retrying, r.gave_up), (r.claimed, 0, 0), "{r:?}");
        let queued = rows(&app.db, id).await;
        assert!(queued.iter().all(|m| m.status == "sent"), "{queued:#?}");

        let got = http.received();
        let on =
            |path: &str| -> Vec<_> { got.iter().filter(|g| g.path == path).cloned().collect() };
        // Slack: declared, IC assigned, the update; each a `text` fallback and one section.
        let slack = on("/slack");
        assert_eq!(slack.len(), 3, "{}", b.backend);
        for m in &slack {
            assert_eq!(m.header("content-type"), "application/json");
            assert!(
                m.header("idempotency-key")
                    .starts_with(&format!("incident:{id}:"))
            );
            let v = m.json();
            let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
            assert_eq!(keys, ["blocks", "text"]);
            assert!(v["text"].as_str().unwrap().starts_with("INC-1 Sev 1: "));
            // Exactly one section block of mrkdwn.
            let text = v["blocks"][0]["text"]["text"].as_str().unwrap();
            let section =
                serde_json::json!({"type": "section", "text": {"type": "mrkdwn", "text": text}});
            assert_eq!(v["blocks"], serde_json::json!([section]));
            assert!(
                text.starts_with("*<http://tocsin.test/incidents/1|INC-1 Sev 1: "),
                "{text}"
            );
            // What people typed cannot mention the channel.
            assert!(!v.to_string().contains("<!channel>"), "{v}");
        }
        let update = slack.last().unwrap().json();
        let text = update["blocks"][0]["text"]["text"].as_str().unwrap();
        assert!(
            text.contains("\n*Impact:* Customers cannot check out"),
            "{text}"
        );
        assert!(
            text.contains("\n*What we are doing:* Failing over the *payments* DB"),
            "{text}"
        );

        // Mattermost: Markdown text only (it ignores blocks), escaped.
        let mm = on("/mm");
        assert_eq!(mm.len(), 1);
        let v = mm[0].json();
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["text"]);
        let text = v["text"].as_str().unwrap();
        assert!(text.starts_with("**[INC-1 Sev 1: "), "{text}");
        assert!(
            text.contains("](http://tocsin.test/incidents/1)**\n"),
            "{text}"
        );
        assert!(
            text.contains("**What we are doing:** Failing over the \\*payments\\* DB"),
            "{text}"
        );

        // The webhook: its event in the header, signed with the server's secret.
        let hook = on("/hook");
        assert_eq!(hook.len(), 1);
        assert_eq!(hook[0].header("x-tocsin-event"), "incident.update");
        let secret = tocsin::notify::store::server_secret(&app.db, WEBHOOK_SECRET)
            .await
            .unwrap();
        let sig = hook[0].header("x-tocsin-signature");
        let now = app.clock.now_ms();
        let verify =
            |key: &[u8]| verify_signature(key, &sig, &hook[0].body, now, DEFAULT_TOLERANCE);
        assert_eq!(verify(secret.as_bytes()), Ok(()));
        assert!(verify(b"another secret").is_err());
        let v = hook[0].json();
        assert_eq!(v["event"], "incident.update");
        assert_eq!(v["incident"]["reference"], "INC-1");
        assert_eq!(v["incident"]["status"], "investigating");

        // Email over SMTP, to the stakeholder address (and the IC's catalog address).
        let mails = smtp.received();
        let m = mails
            .iter()
            .find(|m| m.to.iter().any(|t| t.contains("stakeholders@shop.example")))
            .expect("the stakeholder email");
        let text = m.text();
        assert!(text.contains("Subject: [INC-1 Sev 1: "), "{text}");
        assert!(
            text.contains("What we are doing: Failing over the *payments* DB"),
            "{text}"
        );
        let ic = mails.iter().flat_map(|m| &m.to);
        assert!(ic.filter(|t| t.contains("jon.doe@shop.example")).count() == 1);

        // Nothing is sent twice.
        let again = deliver::deliver_due(&app.db, &d, &app.clock, "t", 100)
            .await
            .unwrap();
        assert_eq!(again.claimed, 0);
        let counts = delivery::counts(&app.db).await.unwrap();
        assert_eq!(counts, vec![("sent".to_string(), queued.len() as i64)]);
    }
}

#[tokio::test]
async fn a_503_is_retried_with_backoff_and_later_sent() {
    for b in backends().await {
        seed_example(&b.db).await;
        let app = TestApp::new(b.db.clone());
        let (http, smtp) = (HttpSink::start().await, SmtpSink::start().await);
        let id = incident_with_update(&app, &http.url("/slack"), &[]).await;
        let d = deliverer(&app, &smtp, false);
        let pass = || deliver::deliver_due(&app.db, &d, &app.clock, "t", 100);
        let slack = |rows: Vec<messages::Message>| -> Vec<messages::Message> {
            rows.into_iter().filter(|m| m.channel == "slack").collect()
        };
        http.answer(503);
        let start = app.clock.now_ms();
        pass().await.unwrap();
        let after1 = slack(rows(&app.db, id).await);
        assert_eq!(after1.len(), 3);
        for m in &after1 {
            assert_eq!(m.status, "pending");
            assert_eq!(m.attempts, 1);
            assert_eq!(m.next_attempt_at, start + 10_000, "first retry after 10 s");
            assert!(
                m.last_error.as_deref().unwrap().contains("HTTP 503"),
                "{m:?}"
            );
        }
        // Not due yet: nothing is tried.
        app.clock.advance(Duration::from_secs(9));
        let early = http.received().len();
        pass().await.unwrap();
        assert_eq!(http.received().len(), early);
        app.clock.advance(Duration::from_secs(1));
        pass().await.unwrap();
        let after2 = slack(rows(&app.db, id).await);
        assert!(
            after2
                .iter()
                .all(|m| m.attempts == 2 && m.next_attempt_at == start + 30_000)
        );
        // The receiver recovers; the next due attempt goes through.
        http.answer(200);
        app.clock.advance(Duration::from_secs(20));
        pass().await.unwrap();
        let done = slack(rows(&app.db, id).await);
        for m in &done {
            assert_eq!(m.status, "sent", "{m:?}");
            assert_eq!(m.attempts, 3);
            assert_eq!(m.last_error, None);
            assert_eq!(m.sent_at, Some(start + 30_000));
        }
        // Three attempts per message, each the same body under the same key.
        let got = http.received();
        assert_eq!(got.len(), 9);
        for m in &done {
            let same: Vec<_> = got.iter().filter(|g| g.body == m.body.as_bytes()).collect();
            assert_eq!(same.len(), 3);
            assert!(
                same.windows(2)
                    .all(|w| w[0].header("idempotency-key") == w[1].header("idempotency-key"))
            );
        }
    }
}

#[tokio::test]
async fn permanent_errors_and_eight_failures_give_up_visibly() {
    for b in backends().await {
        seed_example(&b.db).await;
        let app = TestApp::new(b.db.clone());
        let (http, smtp) = (HttpSink::start().await, SmtpSink::start().await);
        let bad = http.url("/gone");
        let id = incident_with_update(&app, &http.url("/slack"), &[("webhook", bad)]).await;
        let d = deliverer(&app, &smtp, false);
        http.answer(503);
        for n in 1..=8 {
            let r = deliver::deliver_due(&app.db, &d, &app.clock, "t", 100)
                .await
                .unwrap();
            assert!(r.claimed > 0, "attempt {n}");
            app.clock.advance(Duration::from_secs(600));
        }
        let all = rows(&app.db, id).await;
        for m in all.iter().filter(|m| m.channel != "email") {
            assert_eq!((m.status.as_str(), m.attempts), ("failed", 8), "{m:?}");
            assert!(m.last_error.as_deref().unwrap().contains("503"));
        }
        let counts = delivery::counts(&app.db).await.unwrap();
        assert!(
            counts.iter().any(|(s, n)| s == "failed" && *n == 4),
            "{counts:?}"
        );
        // Failed messages stay visible in /metrics (read from the database at scrape time).
        let clock: tocsin::clock::SharedClock = Arc::new(app.clock.clone());
        let handle = tocsin::app::metrics_handle();
        let state = tocsin::http::AppState::new(app.db.clone(), clock, Default::default(), handle);
        let req = axum::http::Request::get("/metrics")
            .body(axum::body::Body::empty())
            .unwrap();
        let resp = tower::ServiceExt::oneshot(tocsin::http::router(state), req)
            .await
            .unwrap();
        let bytes = http_body_util::BodyExt::collect(resp.into_body())
            .await
            .unwrap();
        let text = String::from_utf8(bytes.to_bytes().to_vec()).unwrap();
        assert!(
            text.contains("tocsin_incident_messages{status=\"failed\"} 4"),
            "{text}"
        );
        assert!(
            text.contains("tocsin_incident_messages{status=\"pending\"} 0"),
            "{text}"
        );
    }
}

#[tokio::test]
async fn a_400_will_not_change_so_it_fails_at_once() {
    for b in backends().await {
        seed_example(&b.db).await;
        let app = TestApp::new(b.db.clone());
        let (http, smtp) = (HttpSink::start().await, SmtpSink::start().await);
        let id = incident_with_update(&app, &http.url("/slack"), &[]).await;
        http.answer(400);
        let d = deliverer(&app, &smtp, false);
        let r = deliver::deliver_due(&app.db, &d, &app.clock, "t", 100)
            .await
            .unwrap();
        assert_eq!(r.gave_up, 3, "{r:?}");
        for m in rows(&app.db, id)
            .await
            .iter()
            .filter(|m| m.channel == "slack")
        {
            assert_eq!((m.status.as_str(), m.attempts), ("failed", 1), "{m:?}");
            assert!(m.last_error.as_deref().unwrap().contains("HTTP 400"));
        }
    }
}

#[tokio::test]
async fn the_address_guard_keeps_messages_off_private_addresses() {
    let b = crate::support::sqlite().await;
    seed_example(&b.db).await;
    let app = TestApp::new(b.db.clone());
    let (http, smtp) = (HttpSink::start().await, SmtpSink::start().await);
    let id = incident_with_update(
        &app,
        &http.url("/slack"),
        &[("webhook", "http://169.254.169.254/latest/meta-data".into())],
    )
    .await;
    let d = deliverer(&app, &smtp, true);
    deliver::deliver_due(&app.db, &d, &app.clock, "t", 100)
        .await
        .unwrap();
    assert!(
        http.received().is_empty(),
        "loopback is refused when blocking private targets"
    );
    for m in rows(&app.db, id)
        .await
        .iter()
        .filter(|m| m.channel != "email")
    {
        assert_eq!(m.status, "failed", "{m:?}");
        assert!(
            m.last_error.as_deref().unwrap().contains("refused"),
            "{m:?}"
        );
    }
}

#[tokio::test]
async fn the_engine_loop_delivers_incident_messages() {
    let b = crate::support::sqlite().await;
    seed_example(&b.db).await;
    let app = TestApp::new(b.db.clone());
    let (http, smtp) = (HttpSink::start().await, SmtpSink::start().await);
    incident_with_update(&app, &http.url("/slack"), &[]).await;
    let d: Arc<dyn tocsin::engine::outbox::Deliver> = Arc::new(deliverer(&app, &smtp, false));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let engine = tokio::spawn(tocsin::engine::run(
        app.db.clone(),
        Arc::new(app.clock.clone()),
        "engine-test".into(),
        Some(d),
        async {
            let _ = stopped.await;
        },
    ));
    // The loop ticks each second; wait for its first pass.
    for _ in 0..100 {
        if http.received().len() == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = stop.send(());
    engine.await.unwrap();
    assert_eq!(http.received().len(), 3, "declared, IC, update");
}
