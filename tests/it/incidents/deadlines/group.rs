//! Alert grouping through HTTP: a due declare watch on a service that an open incident of the
//! same or a worse level is already about joins that incident instead of declaring its own.
//! A storm of critical alerts on one service is one incident with one timeline entry for the
//! alerts it gathered; another service, a milder incident or a resolved one declares anew.

use serde_json::{Value, json};
use tocsin::auth::Role;
use tocsin::clock::Clock;
use tocsin::incidents::deadlines::Deadlines;

use super::http::{at, get, ingest, key, post};
use crate::support::{TestApp, backends, seed_example};

fn alerts(incident: &Value) -> Vec<String> {
    let mut ids: Vec<String> = incident["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

fn entries(incident: &Value, kind: &str) -> Vec<String> {
    incident["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == kind)
        .map(|e| e["body"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn a_storm_on_one_service_is_one_incident() {
    for b in backends().await {
        seed_example(&b.db).await;
        let app = TestApp::new(b.db.clone());
        let token = app.token(Role::Responder).await;
        let t = token.as_str();
        let engine = Deadlines::new("http://tocsin.test".into(), None);
        let tick = async || engine.run(&app.db, app.clock.now_ms()).await.unwrap();
        let checkout = key(&app, "checkout-api").await;
        let payments = key(&app, "payment-gateway").await;
        let backend = b.backend;

        // Eight critical alerts on checkout (Sev 0, declared at once) and one on payments.
        let mut storm = Vec::new();
        for n in 0..8 {
            storm.push(
                ingest(
                    &app,
                    &checkout,
                    &format!("Checkout node {n} down"),
                    "critical",
                )
                .await,
            );
        }
        let pay = ingest(&app, &payments, "Card payments failing", "critical").await;
        let r = tick().await;
        assert_eq!(r.declared.len(), 2, "{backend}: {r:?}");
        assert_eq!((r.gathered, r.failed), (7, 0), "{backend}: {r:?}");
        assert_eq!(r.joined.len(), 1, "{backend}: {r:?}");
        assert_eq!(
            tick().await.changed(),
            Vec::<i64>::new(),
            "{backend}: no watch left"
        );
        let open = get(&app, t, "/api/v1/incidents?status=open").await;
        assert_eq!(open.as_array().unwrap().len(), 2, "{backend}: {open}");
        let one = get(&app, t, &format!("/api/v1/incidents/{}", r.joined[0])).await;
        storm.sort();
        assert_eq!(alerts(&one), storm, "{backend}");
        let gathered = entries(&one, "alert");
        let listed: Vec<&String> = gathered
            .iter()
            .filter(|b| b.contains("alerts attached"))
            .collect();
        assert_eq!(
            listed.len(),
            1,
            "{backend}: one entry for the seven: {gathered:?}"
        );
        assert!(
            listed[0].starts_with("7 alerts attached:"),
            "{backend}: {}",
            listed[0]
        );
        assert!(listed[0].contains("and 2 more"), "{backend}: {}", listed[0]);
        let other = r.declared.iter().find(|id| **id != r.joined[0]).unwrap();
        let two = get(&app, t, &format!("/api/v1/incidents/{other}")).await;
        assert_eq!(
            alerts(&two),
            vec![pay.clone()],
            "{backend}: payments on its own"
        );
        // Each gathered alert's log names the incident.
        let log = get(&app, t, &format!("/api/v1/alerts/{}", storm[7])).await;
        assert!(
            log.to_string().contains(&format!("INC-{}", r.joined[0])),
            "{backend}: {log}"
        );

        // A Sev 1 alert (declares after 15 minutes without progress) joins the Sev 0.
        let late = ingest(&app, &checkout, "Checkout latency high", "error").await;
        at(&app, 16);
        let r = tick().await;
        assert_eq!((r.declared.len(), r.gathered), (0, 1), "{backend}: {r:?}");
        let one = get(&app, t, &format!("/api/v1/incidents/{}", r.joined[0])).await;
        assert!(alerts(&one).contains(&late), "{backend}");
        assert!(
            entries(&one, "alert")
                .iter()
                .any(|b| b.starts_with(&format!("Alert `{late}` attached"))),
            "{backend}: a single alert reads as a manual attach"
        );

        // Once it is resolved, a new critical alert on checkout gets an incident of its own.
        let id = r.joined[0];
        post(
            &app,
            t,
            &format!("/api/v1/incidents/{id}/status"),
            json!({"status": "resolved"}),
        )
        .await;
        at(&app, 20);
        let again = ingest(&app, &checkout, "Checkout down again", "critical").await;
        let r = tick().await;
        assert_eq!((r.declared.len(), r.gathered), (1, 0), "{backend}: {r:?}");
        let three = get(&app, t, &format!("/api/v1/incidents/{}", r.declared[0])).await;
        assert_eq!(alerts(&three), vec![again], "{backend}");
    }
}

#[tokio::test]
async fn a_worse_alert_does_not_hide_in_a_milder_incident() {
    for b in backends().await {
        seed_example(&b.db).await;
        let app = TestApp::new(b.db.clone());
        let engine = Deadlines::new("http://tocsin.test".into(), None);
        let tick = async || engine.run(&app.db, app.clock.now_ms()).await.unwrap();
        let checkout = key(&app, "checkout-api").await;
        let backend = b.backend;

        ingest(&app, &checkout, "Checkout latency high", "error").await;
        at(&app, 16);
        let r = tick().await;
        assert_eq!(r.declared.len(), 1, "{backend}: the Sev 1: {r:?}");
        ingest(&app, &checkout, "Checkout down", "critical").await;
        let r = tick().await;
        assert_eq!(
            (r.declared.len(), r.gathered),
            (1, 0),
            "{backend}: a Sev 0 of its own: {r:?}"
        );
    }
}
