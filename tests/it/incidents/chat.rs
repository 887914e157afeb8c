//! The `/incident` slash command through the whole router, on both backends, with requests
//! signed as Slack signs them (the HMAC computed here from the secret) and Mattermost's token:
//! declaring from a channel binds it, the following commands act on the bound incident (or
//! one named), each records the chat line on the timeline and tells the live pages; bad
//! signatures, stale timestamps and wrong tokens are 401 and write nothing; refusals are
//! ephemeral answers with HTTP 200.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use hmac::{Hmac, Mac};
use serde_json::Value;
use tocsin::clock::{Clock, FakeClock, SharedClock};
use tocsin::db::Db;
use tocsin::http::{AppState, HttpSettings};
use tocsin::incidents::{EntryKind, Role, Status, store};
use tower::ServiceExt;

use crate::support::{backends, seed_example, t0};

const SECRET: &str = "slack-signing-secret-for-tests";
const TOKEN: &str = "mattermost-command-token";

struct Chat {
    db: Db,
    clock: FakeClock,
    router: Router,
    state: AppState,
}

fn chat(db: &Db, secret: &str, token: &str) -> Chat {
    let clock = FakeClock::at(t0());
    let shared: SharedClock = Arc::new(clock.clone());
    let settings = HttpSettings {
        base_url: "http://tocsin.test".into(),
        slack_signing_secret: secret.into(),
        mattermost_token: token.into(),
        ..HttpSettings::default()
    };
    let state = AppState::new(db.clone(), shared, settings, None);
    Chat {
        db: db.clone(),
        clock,
        router: tocsin::http::router(state.clone()),
        state,
    }
}

/// The form body a platform sends for `/incident <text>`.
fn body(user: &str, channel: &str, text: &str, token: &str) -> String {
    serde_urlencoded::to_string([
        ("token", token),
        ("team_id", "T1"),
        ("team_domain", "shop"),
        ("channel_id", channel),
        ("channel_name", "incident"),
        ("user_id", "U1"),
        ("user_name", user),
        ("command", "/incident"),
        ("text", text),
        (
            "response_url",
            "https://hooks.slack.invalid/commands/T1/1/x",
        ),
        ("trigger_id", "1.2.3"),
    ])
    .unwrap()
}

fn slack_signature(secret: &str, ts: i64, body: &str) -> String {
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("v0:{ts}:{body}").as_bytes());
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

impl Chat {
    async fn send(&self, req: Request<Body>) -> (StatusCode, Value) {
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let bytes = http_body_util::BodyExt::collect(resp.into_body())
            .await
            .unwrap()
            .to_bytes();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    /// A Slack request signed with `secret` at `ts` (Unix seconds).
    fn slack_req(
        &self,
        secret: &str,
        ts: i64,
        user: &str,
        channel: &str,
        text: &str,
    ) -> Request<Body> {
        let b = body(user, channel, text, "legacy-token-ignored");
        Request::post("/chat/slack/command")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("X-Slack-Request-Timestamp", ts.to_string())
            .header("X-Slack-Signature", slack_signature(secret, ts, &b))
            .body(Body::from(b))
            .unwrap()
    }

    /// `/incident <text>` from Slack, signed now with the right secret.
    async fn slack(&self, user: &str, text: &str) -> (StatusCode, Value) {
        let now = self.clock.now_ms() / 1000;
        self.send(self.slack_req(SECRET, now, user, "C-checkout", text))
            .await
    }

    async fn mattermost(&self, token: &str, user: &str, text: &str) -> (StatusCode, Value) {
        let req = Request::post("/chat/mattermost/command")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body(user, "mm-town-square", text, token)))
            .unwrap();
        self.send(req).await
    }

    async fn incident_count(&self) -> usize {
        let mut tx = self.db.begin_read().await.unwrap();
        let f = store::Filter {
            limit: 500,
            ..store::Filter::default()
        };
        store::list(&mut tx, &f).await.unwrap().len()
    }
}

/// Asserts an answer of `kind` whose text contains `needle`.
fn said(answer: &(StatusCode, Value), kind: &str, needle: &str) {
    let (status, v) = answer;
    assert_eq!(*status, StatusCode::OK, "{v}");
    assert_eq!(v["response_type"], kind, "{v}");
    let text = v["text"].as_str().unwrap_or_default();
    assert!(text.contains(needle), "{needle:?} not in {text:?}");
}

#[tokio::test]
async fn declare_from_slack_then_run_the_incident_from_chat() {
    for b in backends().await {
        seed_example(&b.db).await;
        let c = chat(&b.db, SECRET, TOKEN);
        let mut live = c.state.live.subscribe();

        let a = c
            .slack(
                "jon.doe",
                "declare Checkout failing --sev sev1 --service checkout-api",
            )
            .await;
        said(&a, "in_channel", "INC-1 declared: Checkout failing (Sev 1)");
        let i = store::full(&c.db, 1).await.unwrap();
        assert_eq!(i.incident.source, "chat");
        assert_eq!(i.incident.severity, "sev1");
        assert_eq!(i.incident.declared_by, "Jon Doe", "{}", b.backend);
        assert_eq!(i.services, vec!["checkout-api".to_string()]);

        // No reference: the channel the incident was declared from is bound to it. Mei Lin
        // runs hers from Mattermost, another channel, naming the incident.
        let update = "update Customers cannot check out. Actions: failing over the payments DB";
        for (user, text, needle) in [
            (
                "jon.doe",
                "status identified DB out of disk",
                "INC-1 is now *identified*",
            ),
            ("jon.doe", "sev sev0", "INC-1 is now Sev 0"),
            ("jon.doe", "ic me", "Jon Doe is now Incident Commander"),
            ("jon.doe", "ol @jane.doe", "Jane Doe is now Ops Lead"),
            (
                "mei.lin",
                "INC-1 cl me",
                "Mei Lin is now Communications Lead",
            ),
            (
                "jon.doe",
                "note Primary *disk* is full\nfailing over",
                "Noted on INC-1",
            ),
            ("mei.lin", update, "Stakeholder update posted for INC-1"),
        ] {
            let answer = if text.starts_with("INC-1") {
                c.mattermost(TOKEN, user, text).await
            } else {
                c.slack(user, text).await
            };
            said(&answer, "in_channel", needle);
        }
        let doc = c.slack("jon.doe", "doc").await;
        said(&doc, "ephemeral", "INC-1");
        // An unknown chat user acts under their chat name, without a person.
        said(
            &c.slack("night.owl", "resolve failover done").await,
            "in_channel",
            "INC-1 is resolved",
        );

        let f = store::full(&c.db, 1).await.unwrap();
        assert_eq!(f.incident.status, Status::Resolved);
        assert_eq!(f.incident.severity, "sev0");
        assert_eq!(f.holder(Role::Commander).unwrap().person_id, "jon-doe");
        assert_eq!(f.holder(Role::Ops).unwrap().person_id, "jane-doe");
        assert_eq!(f.holder(Role::Comms).unwrap().person_id, "mei-lin");
        let note = f
            .timeline
            .iter()
            .find(|e| e.kind == EntryKind::Note)
            .unwrap();
        assert_eq!(note.body, "Primary *disk* is full\nfailing over");
        assert_eq!(f.updates.len(), 1);
        assert_eq!(f.updates[0].impact, "Customers cannot check out.");
        assert_eq!(f.updates[0].actions, "failing over the payments DB");
        assert_eq!(f.updates[0].author, "Mei Lin");
        let resolved = f
            .timeline
            .iter()
            .find(|e| e.kind == EntryKind::Status && e.body.contains("resolved"))
            .unwrap();
        assert_eq!(resolved.actor, "night.owl (via Slack)");
        assert!(resolved.body.contains("failover done"));
        let doc_text = doc.1["text"].as_str().unwrap();
        assert!(doc_text.contains("Checkout failing"), "{doc_text}");

        // Every command's chat line is on the timeline, as typed, by whom.
        let chat: Vec<(&str, &str)> = f
            .timeline
            .iter()
            .filter(|e| e.kind == EntryKind::Chat)
            .map(|e| (e.actor.as_str(), e.body.as_str()))
            .collect();
        assert_eq!(chat.len(), 10, "{chat:#?}");
        assert_eq!(
            chat[0],
            (
                "Jon Doe",
                "`/incident declare Checkout failing --sev sev1 --service checkout-api`"
            )
        );
        assert_eq!(chat[5], ("Mei Lin", "`/incident INC-1 cl me`"));
        assert_eq!(
            chat[9],
            ("night.owl (via Slack)", "`/incident resolve failover done`")
        );

        // Each change told the live pages.
        let mut signals = 0;
        while let Ok(id) = live.try_recv() {
            assert_eq!(id, 1);
            signals += 1;
        }
        assert_eq!(
            signals, 10,
            "every command changed INC-1 (doc: its chat line)"
        );
    }
}

#[tokio::test]
async fn forged_stale_or_unconfigured_requests_are_401_and_write_nothing() {
    for b in backends().await {
        seed_example(&b.db).await;
        let c = chat(&b.db, SECRET, TOKEN);
        let now = c.clock.now_ms() / 1000;
        let declare = "declare Forged incident";
        let refused = |(status, v): (StatusCode, Value), needle: &str| {
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{v}");
            let e = v["error"].as_str().unwrap_or_default().to_string();
            assert!(e.contains(needle), "{needle:?} not in {e:?}");
        };
        refused(
            c.send(c.slack_req("wrong-secret", now, "jon.doe", "C1", declare))
                .await,
            "does not match",
        );
        // Signed correctly, but replayed six minutes later.
        let captured = c.slack_req(SECRET, now, "jon.doe", "C1", declare);
        c.clock.advance(Duration::from_secs(6 * 60));
        refused(c.send(captured).await, "more than 5 minutes");
        // Signed with a timestamp from the future.
        let later = c.clock.now_ms() / 1000 + 301;
        refused(
            c.send(c.slack_req(SECRET, later, "jon.doe", "C1", declare))
                .await,
            "more than 5 minutes",
        );
        let unsigned = Request::post("/chat/slack/command")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body("jon.doe", "C1", declare, "")))
            .unwrap();
        refused(c.send(unsigned).await, "missing X-Slack-Signature");
        refused(c.mattermost("wrong", "jon.doe", declare).await, "token");
        refused(c.mattermost("", "jon.doe", declare).await, "token");

        // A server without the secret and token refuses both platforms.
        let off = chat(&b.db, "", "");
        let n = off.clock.now_ms() / 1000;
        refused(
            off.send(off.slack_req("", n, "jon.doe", "C1", declare))
                .await,
            "slack_signing_secret",
        );
        refused(
            off.mattermost(TOKEN, "jon.doe", declare).await,
            "mattermost_token",
        );
        assert_eq!(c.incident_count().await, 0, "{}", b.backend);

        // The real thing still works after all that.
        said(
            &c.slack("jon.doe", declare).await,
            "in_channel",
            "INC-1 declared",
        );
        said(
            &c.mattermost(TOKEN, "jon.doe", "INC-1 note from mm").await,
            "in_channel",
            "Noted",
        );
        assert_eq!(c.incident_count().await, 1);
    }
}

#[tokio::test]
async fn refusals_are_ephemeral_answers_that_change_nothing() {
    for b in backends().await {
        seed_example(&b.db).await;
        let c = chat(&b.db, SECRET, TOKEN);
        let refusals = [
            ("status resolved", "No incident is bound to this channel"),
            ("INC-99 status resolved", "No such incident"),
            ("link #42", "No such incident"),
            ("frobnicate", "unknown command"),
            ("help", "declare <title>"),
            ("", "`/incident` commands"),
            ("declare Search slow --sev sev9", "unknown severity"),
        ];
        for (text, needle) in refusals {
            said(&c.slack("jon.doe", text).await, "ephemeral", needle);
        }
        assert_eq!(c.incident_count().await, 0);

        let declared = c.slack("jon.doe", "declare Search slow --sev sev2").await;
        said(&declared, "in_channel", "INC-1");
        let before = store::full(&c.db, 1).await.unwrap();
        for (user, text, needle) in [
            ("jon.doe", "sev sev9", "unknown severity"),
            ("jon.doe", "sev sev2", "already"),
            ("jon.doe", "ic nobody", "unknown person"),
            ("night.owl", "ic me", "does not know which person you are"),
            ("jon.doe", "status investigating", "already investigating"),
            ("jon.doe", "status fixed", "usage"),
        ] {
            said(&c.slack(user, text).await, "ephemeral", needle);
        }
        assert_eq!(
            store::full(&c.db, 1).await.unwrap(),
            before,
            "refusals wrote nothing"
        );

        // Another channel links itself to INC-1 and then acts on it without naming it.
        let now = c.clock.now_ms() / 1000;
        said(
            &c.send(c.slack_req(SECRET, now, "jon.doe", "C-other", "link INC-1"))
                .await,
            "in_channel",
            "now follows INC-1",
        );
        said(
            &c.send(c.slack_req(SECRET, now, "jon.doe", "C-other", "status monitoring"))
                .await,
            "in_channel",
            "monitoring",
        );
        let f = store::full(&c.db, 1).await.unwrap();
        assert_eq!(f.incident.status, Status::Monitoring);

        // A body that is not one slash command's form is a 400 with a JSON error.
        let twice = format!("token={TOKEN}&channel_id=C&text=help&text=doc");
        let req = Request::post("/chat/mattermost/command")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(twice))
            .unwrap();
        let (status, v) = c.send(req).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
        assert!(
            v["error"]
                .as_str()
                .unwrap()
                .contains("not a form-encoded slash command")
        );
    }
}
