//! Incidents through their commands on both backends: declaring from an alert (services,
//! impacted functions, the on-call SRE as first Incident Commander, messages queued), roles
//! handed over with their history, notes, stakeholder updates and the cadence, status
//! changes, and the document that reflects each step.

mod api;
mod browser;
mod chat;
mod cli;
mod deadlines;
mod delivery;
mod web;

use tocsin::alerts::{Action, Severity};
use tocsin::catalog::snapshot::Snapshot;
use tocsin::db::Db;
use tocsin::incidents::command::{self, Actor, Ctx, Declaration, NewNote, NewUpdate};
use tocsin::incidents::{EntryKind, IncidentError, Role, Status, document, store};

use crate::alerts::event;
use crate::support::{backends, seed_example, t0};

const MIN: i64 = 60_000;

fn t(minutes: i64) -> i64 {
    t0().as_millisecond() + minutes * MIN
}

async fn snapshot(db: &Db) -> Snapshot {
    Snapshot::new(tocsin::catalog::store::load(db).await.unwrap())
}

async fn alert(db: &Db, service: &str, severity: Severity, at: i64) -> String {
    let mut tx = db.begin().await.unwrap();
    let mut e = event(Action::Trigger, Some("k1"), "checkout errors above 5%");
    e.severity = Some(severity);
    let out = tocsin::alerts::store::ingest(&mut tx, None, service, &e, at)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    out.alert_id.unwrap()
}

#[tokio::test]
async fn declare_from_an_alert_then_run_the_incident() {
    for b in backends().await {
        let db = &b.db;
        seed_example(db).await;
        let snap = snapshot(db).await;
        let a = alert(db, "checkout-api", Severity::Critical, t(0)).await;
        let jon = Actor::person(&snap, "jon-doe");
        let ctx = |now: i64, actor: &'static Actor| Ctx {
            db,
            snap: &snap,
            now,
            actor,
            base_url: "http://tocsin.test",
        };
        let jon: &'static Actor = Box::leak(Box::new(jon));
        let d = Declaration {
            title: "Checkout failing".into(),
            alerts: vec![a.clone()],
            channel_kind: Some("slack".into()),
            channel_url: Some("http://127.0.0.1:9/hook".into()),
            ..Declaration::default()
        };
        let i = command::declare(&ctx(t(3), jon), &d, "web").await.unwrap();
        assert_eq!(
            i.severity, "sev0",
            "critical alert on a Tier 0 path suggests Sev 0"
        );
        assert_eq!(i.status, Status::Investigating);
        assert_eq!(i.started_at, t(0));
        assert_eq!(i.update_due_at, Some(t(3) + 30 * MIN));
        let full = store::full(db, i.id).await.unwrap();
        assert_eq!(full.services, vec!["checkout-api".to_string()]);
        assert!(full.functions.iter().any(|f| f.criticality == "critical"));
        assert_eq!(full.alerts, vec![a.clone()]);
        // Foo Bar is the SRE on call the week of 17 June 2024.
        let ic = full
            .holder(Role::Commander)
            .expect("an IC from the schedule");
        assert_eq!(ic.person_id, "foo-bar");
        assert_eq!(full.timeline[0].kind, EntryKind::Declared);
        assert!(full.timeline[0].starred);

        // What happens to the alert now shows on the incident's timeline.
        let mut tx = db.begin().await.unwrap();
        tocsin::alerts::store::acknowledge(&mut tx, &a, "Foo Bar", t(4))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let full = store::full(db, i.id).await.unwrap();
        let ack = full
            .timeline
            .iter()
            .find(|e| e.kind == EntryKind::Ack)
            .expect("ack echoed");
        assert_eq!((ack.at, ack.actor.as_str()), (t(4), "Foo Bar"));

        // Foo Bar hands command to Jon Doe and stays on as Ops Lead.
        command::assign(
            &ctx(t(10), jon),
            i.id,
            Role::Commander,
            "jon-doe",
            "DB failover in progress",
            Some(Role::Ops),
        )
        .await
        .unwrap();
        let full = store::full(db, i.id).await.unwrap();
        assert_eq!(full.holder(Role::Commander).unwrap().person_id, "jon-doe");
        assert_eq!(full.holder(Role::Ops).unwrap().person_id, "foo-bar");
        assert_eq!(
            full.roles
                .iter()
                .filter(|r| r.role == Role::Commander)
                .count(),
            2
        );
        let again =
            command::assign(&ctx(t(11), jon), i.id, Role::Commander, "jon-doe", "", None).await;
        assert!(
            matches!(again, Err(IncidentError::Conflict(_))),
            "{again:?}"
        );
        let nobody = command::assign(&ctx(t(11), jon), i.id, Role::Comms, "nobody", "", None).await;
        assert!(
            matches!(nobody, Err(IncidentError::Invalid(_))),
            "{nobody:?}"
        );

        let note = NewNote {
            kind: EntryKind::Finding,
            body: "The payments DB primary is out of disk".into(),
            link_url: None,
            image_url: None,
            starred: true,
        };
        command::add_entry(&ctx(t(12), jon), i.id, &note)
            .await
            .unwrap();
        let u = NewUpdate {
            status: Some(Status::Identified),
            impact: "Customers cannot check out".into(),
            actions: "Failing over the payments DB".into(),
            next_update_minutes: None,
        };
        command::post_update(&ctx(t(20), jon), i.id, &u)
            .await
            .unwrap();
        let after = store::full(db, i.id).await.unwrap();
        assert_eq!(after.incident.status, Status::Identified);
        assert_eq!(after.incident.mitigated_at, Some(t(20)));
        assert_eq!(after.incident.update_due_at, Some(t(50)));
        command::set_status(&ctx(t(45), jon), i.id, Status::Resolved, "Failover done")
            .await
            .unwrap();
        let closed = command::set_status(&ctx(t(46), jon), i.id, Status::Closed, "").await;
        assert!(matches!(closed, Err(IncidentError::Conflict(_))));

        let full = store::full(db, i.id).await.unwrap();
        assert_eq!(full.incident.update_due_at, None);
        let doc = document::markdown(&full, &snap.catalog, "Europe/London", t(50));
        for needle in [
            "# INC-1: Checkout failing",
            "| Status | **resolved** |",
            "| Incident Commander | Jon Doe |",
            "| Ops Lead | Foo Bar |",
            "DB failover in progress",
            "The payments DB primary is out of disk",
            "Failing over the payments DB",
            "| 3 min | 3 min | 20 min | 45 min |",
        ] {
            assert!(doc.contains(needle), "{needle:?} missing from\n{doc}");
        }
        let mut tx = db.begin_read().await.unwrap();
        let msgs = store::messages::for_incident(&mut tx, i.id).await.unwrap();
        assert!(
            msgs.iter()
                .any(|m| m.channel == "slack" && m.body.contains("Incident declared")),
            "{msgs:?}"
        );
        assert!(
            msgs.iter().any(|m| m.channel == "email"),
            "subscribers hear of it: {msgs:?}"
        );
    }
}
