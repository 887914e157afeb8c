//! The same flow through HTTP: alerts arrive at the generic ingestion endpoint, people act
//! through the incidents API, and the engine's hook (`Deadlines::run`, with the app's live
//! channel) runs on the app's fake clock. Pages hear of every incident the tick changes.

use std::time::Duration;

use axum::http::StatusCode;
use serde_json::{Value, json};
use tocsin::alerts::integration::{self, IntegrationKind};
use tocsin::auth::Role;
use tocsin::clock::Clock;
use tocsin::incidents::deadlines::Deadlines;

use crate::api::raw;
use crate::support::{TestApp, backends, seed_example, t0};

const MIN: u64 = 60;

pub(super) async fn key(app: &TestApp, service: &str) -> String {
    let catalog = tocsin::catalog::store::load(&app.db).await.unwrap();
    let kind = IntegrationKind::Generic;
    integration::create(&app.db, &catalog, 0, "test", service, kind, "")
        .await
        .unwrap()
        .1
}

/// Sends one generic event; the alert's id.
pub(super) async fn ingest(app: &TestApp, key: &str, summary: &str, severity: &str) -> String {
    let body = json!({"summary": summary, "severity": severity, "dedup_key": summary});
    let (s, reply) = app
        .send(raw("POST", "/ingest/generic", key, body.to_string()))
        .await;
    assert_eq!(s, StatusCode::OK, "{reply}");
    reply["alerts"][0]["alert"].as_str().unwrap().to_string()
}

pub(super) fn at(app: &TestApp, minutes: u64) {
    app.clock.set(t0() + Duration::from_secs(minutes * MIN));
}

pub(super) async fn get(app: &TestApp, token: &str, path: &str) -> Value {
    let (s, body) = app.call("GET", path, Some(token), None).await;
    assert_eq!(s, StatusCode::OK, "{path}: {body}");
    body
}

pub(super) async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let (s, reply) = app.call("POST", path, Some(token), Some(body)).await;
    assert!(s.is_success(), "{path}: {s} {reply}");
    reply
}

fn kinds(incident: &Value) -> Vec<String> {
    incident["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect()
}

/// Messages of `incident` to `email` whose subject contains `about`.
fn sent(incident: &Value, email: &str, about: &str) -> usize {
    incident["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["target"] == email && m["subject"].as_str().unwrap().contains(about))
        .count()
}

#[tokio::test]
async fn the_deadline_flow_through_http() {
    for b in backends().await {
        seed_example(&b.db).await;
        let app = TestApp::new(b.db.clone());
        let token = app.token(Role::Responder).await;
        let t = token.as_str();
        let mut live = app.state.live.subscribe();
        let engine = Deadlines::new("http://tocsin.test".into(), Some(app.state.live.clone()));
        let tick = async || engine.run(&app.db, app.clock.now_ms()).await.unwrap();
        let checkout = key(&app, "checkout-api").await;
        let payments = key(&app, "payment-gateway").await;

        let a = ingest(&app, &checkout, "Checkout error rate above 5%", "critical").await;
        assert_eq!(tick().await.declared, vec![1]);
        assert_eq!(live.try_recv().ok(), Some(1), "the live page hears of it");
        let open = get(&app, t, "/api/v1/incidents?status=open").await;
        assert_eq!(open.as_array().unwrap().len(), 1, "{open}");
        assert_eq!(open[0]["source"], "auto");
        assert_eq!(open[0]["severity"], "sev0");
        let one = get(&app, t, "/api/v1/incidents/1").await;
        assert_eq!(one["alerts"], json!([a]));

        at(&app, 5);
        let role = json!({"role": "comms", "person": "jon-doe"});
        post(&app, t, "/api/v1/incidents/1/roles", role).await;

        at(&app, 6);
        let b1 = ingest(
            &app,
            &payments,
            "Card payments failing for one bank",
            "error",
        )
        .await;
        let b2 = ingest(&app, &payments, "Payment latency high", "error").await;
        at(&app, 10);
        post(&app, t, &format!("/api/v1/alerts/{b2}/resolve"), json!({})).await;
        at(&app, 20);
        assert!(tick().await.declared.is_empty(), "not before 15 minutes");
        at(&app, 21);
        let r = tick().await;
        assert_eq!((r.declared, r.dropped), (vec![2], 1));
        let two = get(&app, t, "/api/v1/incidents/2").await;
        assert_eq!(
            (two["incident"]["severity"].clone(), two["alerts"].clone()),
            (json!("sev1"), json!([b1]))
        );
        let resolved = json!({"status": "resolved"});
        post(&app, t, "/api/v1/incidents/2/status", resolved).await;

        let jon = "jon.doe@shop.example";
        let foo = "foo.bar@shop.example";
        at(&app, 30);
        assert_eq!(tick().await.reminded, vec![1]);
        at(&app, 60);
        assert_eq!(tick().await.reminded, vec![1]);
        let one = get(&app, t, "/api/v1/incidents/1").await;
        assert_eq!(one["incident"]["lapses"], 2, "{}", one["incident"]);
        let due = "stakeholder update was due";
        assert_eq!(
            (sent(&one, jon, due), sent(&one, foo, due)),
            (2, 1),
            "{}",
            one["messages"]
        );

        at(&app, 62);
        let update = json!({"impact": "Checkout works again", "actions": "Watching the DB",
            "status": "monitoring", "next_update_minutes": 7 * 24 * 60});
        post(&app, t, "/api/v1/incidents/1/updates", update).await;
        let one = get(&app, t, "/api/v1/incidents/1").await;
        assert_eq!(one["incident"]["lapses"], 0);

        let handoff = 7 * 24 * 60 - 60;
        at(&app, handoff);
        while live.try_recv().is_ok() {}
        assert_eq!(tick().await.prompted, vec![1]);
        assert_eq!(live.try_recv().ok(), Some(1));
        let one = get(&app, t, "/api/v1/incidents/1").await;
        assert_eq!(
            kinds(&one)
                .iter()
                .filter(|k| *k == "handover_prompt")
                .count(),
            1
        );
        assert_eq!(sent(&one, foo, "please hand over Incident Commander"), 1);

        at(&app, handoff + 5);
        let ic = json!({"role": "commander", "person": "jon-doe", "note": "DB stable"});
        post(&app, t, "/api/v1/incidents/1/roles", ic).await;
        post(
            &app,
            t,
            "/api/v1/incidents/1/status",
            json!({"status": "resolved"}),
        )
        .await;
        let (s, doc) = app
            .call("GET", "/api/v1/incidents/1/document.md", Some(t), None)
            .await;
        assert_eq!(s, StatusCode::OK);
        let doc = doc.as_str().unwrap().to_string();
        for needle in [
            "| Status | **resolved** |",
            "| Incident Commander | Jon Doe |",
            "| Communications Lead | Jon Doe |",
            "| reminder | Tocsin | Stakeholder update overdue",
            "| handover_prompt | Tocsin | Foo Bar's on-call shift on SRE primary has ended",
            "suggested successor: Jon Doe (on call now)",
        ] {
            assert!(doc.contains(needle), "{needle:?} missing from\n{doc}");
        }
        at(&app, handoff + 10_000);
        assert_eq!(
            tick().await.changed(),
            Vec::<i64>::new(),
            "nothing left to do"
        );
    }
}
