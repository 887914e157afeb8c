//! Alerts and integration keys on both backends: keys (create, rotate, authenticate, delete),
//! the ingest lifecycle (trigger → repeat → acknowledge → resolve → a new alert on the same
//! key) and concurrent triggers deduplicated into one alert. `api.rs`: the REST API with its
//! roles and the `tocsin alert` / `tocsin integration` commands on a real SQLite file.

mod api;
mod send;

use std::collections::BTreeMap;

use serde_json::json;
use tocsin::alerts::integration::{self, IntegrationKind};
use tocsin::alerts::lifecycle::{Ignored, Status, Transition};
use tocsin::alerts::store::{self, Filter};
use tocsin::alerts::{Action, AlertEvent, Severity};
use tocsin::db::{Db, StoreError};

use crate::support::{backends, seed_example, t0};

pub(crate) fn event(action: Action, key: Option<&str>, summary: &str) -> AlertEvent {
    AlertEvent {
        action,
        dedup_key: key.map(str::to_string),
        summary: summary.to_string(),
        severity: Some(Severity::Critical),
        source: "prometheus".into(),
        labels: BTreeMap::from([("alertname".into(), "CheckoutErrors".into())]),
        annotations: BTreeMap::new(),
        details: json!({"rate": 0.3}),
        links: vec![],
        images: vec![],
        started_at: None,
        ends_at: None,
    }
}

/// Ingests one event in its own transaction, as an ingestion endpoint will.
pub(crate) async fn send(db: &Db, e: &AlertEvent, now: i64) -> store::Outcome {
    let mut tx = db.begin().await.unwrap();
    let out = store::ingest(&mut tx, None, "checkout-api", e, now)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    out
}

#[tokio::test]
async fn integration_keys_authenticate_until_rotated_or_deleted() {
    for t in backends().await {
        let (db, b) = (&t.db, t.backend);
        seed_example(db).await;
        let c = tocsin::catalog::store::load(db).await.unwrap();
        let now = t0().as_millisecond();
        let (am, am_key) = integration::create(
            db,
            &c,
            now,
            "test",
            "checkout-api",
            IntegrationKind::Alertmanager,
            "",
        )
        .await
        .unwrap();
        assert!(
            am_key.starts_with("tcn_i_") && am.name == "alertmanager",
            "{b}"
        );
        let (pd, pd_key) = integration::create(
            db,
            &c,
            now,
            "test",
            "checkout-api",
            IntegrationKind::Pagerduty,
            "PD",
        )
        .await
        .unwrap();
        assert_eq!(pd_key.len(), 32, "{b}");
        let found = integration::authenticate(db, &pd_key).await.unwrap();
        assert_eq!(
            found.as_ref().map(|i| (&i.id[..], &i.service[..])),
            Some((&pd.id[..], "checkout-api")),
            "{b}"
        );
        assert_eq!(
            integration::authenticate(db, "nope").await.unwrap(),
            None,
            "{b}"
        );
        assert_eq!(
            integration::authenticate(db, "").await.unwrap(),
            None,
            "{b}"
        );

        let (rotated, new_key) = integration::rotate(db, now + 1, "test", &am.id)
            .await
            .unwrap();
        assert_eq!(rotated.rotated_at, Some(now + 1), "{b}");
        assert_eq!(
            integration::authenticate(db, &am_key).await.unwrap(),
            None,
            "{b}: old key"
        );
        let again = integration::authenticate(db, &new_key).await.unwrap();
        assert_eq!(again.map(|i| i.id), Some(am.id.clone()), "{b}");

        let listed = store::list_integrations(db, Some("checkout-api"))
            .await
            .unwrap();
        assert_eq!(listed.len(), 2, "{b}");
        assert!(
            store::list_integrations(db, Some("catalog-api"))
                .await
                .unwrap()
                .is_empty()
        );

        integration::delete(db, now + 2, "test", &pd.id)
            .await
            .unwrap();
        assert_eq!(
            integration::authenticate(db, &pd_key).await.unwrap(),
            None,
            "{b}"
        );
        assert!(matches!(
            integration::rotate(db, now, "test", &pd.id).await,
            Err(StoreError::NotFound)
        ));
        let unknown =
            integration::create(db, &c, now, "test", "no-such", IntegrationKind::Generic, "").await;
        assert!(matches!(unknown, Err(StoreError::NotFound)), "{b}");

        let audit = tocsin::audit::store::list(db, 50, None).await.unwrap();
        let actions: Vec<_> = audit
            .iter()
            .map(|e| e.action.as_str())
            .filter(|a| a.starts_with("integration."))
            .collect();
        assert_eq!(actions.len(), 4, "{b}: {actions:?}");
    }
}

#[tokio::test]
async fn ingest_runs_the_lifecycle_and_dedups_while_open() {
    for t in backends().await {
        let (db, b) = (&t.db, t.backend);
        let now = t0().as_millisecond();
        let first = send(db, &event(Action::Trigger, Some("k1"), "errors up"), now).await;
        assert!(first.created && first.pages(), "{b}");
        let id = first.alert_id.clone().unwrap();

        let repeat = send(
            db,
            &event(Action::Trigger, Some("k1"), "still up"),
            now + 10,
        )
        .await;
        assert_eq!(repeat.alert_id.as_deref(), Some(id.as_str()), "{b}");
        assert_eq!(repeat.transition, Some(Transition::Repeat), "{b}");
        assert!(
            !repeat.created && !repeat.pages(),
            "{b}: a repeat never pages"
        );

        let ack = send(db, &event(Action::Acknowledge, Some("k1"), ""), now + 20).await;
        assert_eq!(ack.transition, Some(Transition::Acknowledge), "{b}");
        let twice = send(db, &event(Action::Acknowledge, Some("k1"), ""), now + 21).await;
        assert_eq!(twice.ignored, Some(Ignored::AlreadyAcknowledged), "{b}");
        let done = send(db, &event(Action::Resolve, Some("k1"), ""), now + 30).await;
        assert_eq!(done.transition, Some(Transition::Resolve), "{b}");

        let (alert, log) = store::get(db, &id).await.unwrap();
        assert_eq!(
            (alert.status, alert.event_count),
            (Status::Resolved, 2),
            "{b}"
        );
        assert_eq!(
            (alert.created_at, alert.last_event_at),
            (now, now + 30),
            "{b}"
        );
        assert_eq!(alert.acknowledged_by.as_deref(), Some("api"), "{b}");
        assert_eq!(alert.details, json!({"rate": 0.3}), "{b}");
        let kinds: Vec<_> = log.iter().map(|l| l.kind.as_str()).collect();
        // "escalation": the engine notes that this unseeded service has no policy.
        assert_eq!(
            kinds,
            ["trigger", "escalation", "repeat", "acknowledge", "resolve"],
            "{b}"
        );

        let reopened = send(db, &event(Action::Trigger, Some("k1"), "back"), now + 40).await;
        assert!(reopened.created, "{b}");
        assert_ne!(
            reopened.alert_id.as_deref(),
            Some(id.as_str()),
            "{b}: a new alert"
        );

        let stray = send(db, &event(Action::Resolve, Some("unknown"), ""), now + 50).await;
        assert_eq!(
            (stray.ignored, stray.alert_id),
            (Some(Ignored::NoOpenAlert), None),
            "{b}"
        );
        let keyless = send(db, &event(Action::Trigger, None, "one-off"), now + 60).await;
        assert!(keyless.created && keyless.dedup_key.len() == 32, "{b}");

        let all = store::list(
            db,
            &Filter {
                limit: 10,
                ..Filter::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(all.len(), 3, "{b}");
        assert_eq!(all[0].summary, "one-off", "{b}: newest first");
        let open = Filter {
            status: Some(Status::Triggered),
            limit: 10,
            ..Filter::default()
        };
        assert_eq!(store::list(db, &open).await.unwrap().len(), 2, "{b}");
        let older = Filter {
            before: Some(now + 60),
            limit: 1,
            ..Filter::default()
        };
        let page = store::list(db, &older).await.unwrap();
        assert_eq!(
            page.iter().map(|a| &a.summary[..]).collect::<Vec<_>>(),
            ["back"],
            "{b}"
        );
        let info = Filter {
            severity: Some(Severity::Info),
            limit: 10,
            ..Filter::default()
        };
        assert!(store::list(db, &info).await.unwrap().is_empty(), "{b}");
    }
}

#[tokio::test]
async fn concurrent_triggers_on_one_key_make_one_alert() {
    const SENDERS: i64 = 24;
    for t in backends().await {
        let tasks: Vec<_> = (0..SENDERS)
            .map(|i| {
                let db = t.db.clone();
                tokio::spawn(async move {
                    send(
                        &db,
                        &event(Action::Trigger, Some("storm"), "storm"),
                        1_000 + i,
                    )
                    .await
                })
            })
            .collect();
        let mut created = 0;
        for task in tasks {
            created += i32::from(task.await.unwrap().created);
        }
        assert_eq!(created, 1, "{}: exactly one sender creates", t.backend);
        let all = store::list(
            &t.db,
            &Filter {
                limit: 100,
                ..Filter::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(all.len(), 1, "{}", t.backend);
        assert_eq!(
            all[0].event_count, SENDERS,
            "{}: every trigger counted",
            t.backend
        );
    }
}
