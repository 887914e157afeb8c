//! Two engine instances ticking the same database at the same instant (on PostgreSQL they
//! really run concurrently; SQLite serialises them): every watch declares exactly one
//! incident, an overdue update is reminded once, a holder is asked to hand over once.

use std::time::Duration;

use tocsin::alerts::{Action, Severity};
use tocsin::catalog::snapshot::Snapshot;
use tocsin::db::Db;
use tocsin::incidents::deadlines::{self, Report};
use tocsin::incidents::{EntryKind, store};

use crate::alerts::event;
use crate::support::{backends, seed_example, t0};

/// Services whose policy pages the SRE rotation first (Foo Bar is on call).
const SERVICES: [&str; 12] = [
    "web-storefront",
    "catalog-api",
    "catalog-db",
    "search-index",
    "cart-service",
    "cart-cache",
    "checkout-api",
    "order-queue",
    "inventory-api",
    "inventory-db",
    "shipping-api",
    "identity-api",
];
const ALERTS: usize = SERVICES.len();

fn at(minutes: i64) -> i64 {
    (t0() + Duration::from_secs(minutes.unsigned_abs() * 60)).as_millisecond()
}

/// Both instances tick at `now`; their reports.
async fn race(db: &Db, snap: &Snapshot, now: i64) -> (Report, Report) {
    let (a, b) = tokio::join!(
        deadlines::tick(db, snap, now, "http://a.test"),
        deadlines::tick(db, snap, now, "http://b.test"),
    );
    (a.unwrap(), b.unwrap())
}

#[tokio::test]
async fn two_instances_do_each_deadline_once() {
    for b in backends().await {
        let db = &b.db;
        seed_example(db).await;
        let snap = Snapshot::new(tocsin::catalog::store::load(db).await.unwrap());
        let mut tx = db.begin().await.unwrap();
        // One alert per service: alerts of one service would join one incident.
        for (n, service) in SERVICES.iter().enumerate() {
            let summary = format!("Node {n} failing");
            let mut e = event(Action::Trigger, Some(&summary), &summary);
            e.severity = Some(Severity::Critical);
            tocsin::alerts::store::ingest(&mut tx, None, service, &e, at(0))
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();

        let (x, y) = race(db, &snap, at(0)).await;
        let mut declared = [x.declared, y.declared].concat();
        declared.sort_unstable();
        let expected: Vec<i64> = (1..=ALERTS as i64).collect();
        assert_eq!(declared, expected, "{}: one incident per alert", b.backend);
        assert_eq!(x.failed + y.failed, 0);
        let mut tx = db.begin_read().await.unwrap();
        let all = store::list(
            &mut tx,
            &store::Filter {
                limit: 500,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(all.len(), ALERTS, "{}", b.backend);
        drop(tx);

        // Sev 0 cadence: due 30 minutes after the declaration; one reminder per incident.
        let (x, y) = race(db, &snap, at(30)).await;
        assert_eq!(x.reminded.len() + y.reminded.len(), ALERTS, "{}", b.backend);
        // Foo Bar, IC of all of them, goes off call Monday 24 June 09:00 London.
        let handoff = 7 * 24 * 60 - 60;
        let (x, y) = race(db, &snap, at(handoff)).await;
        assert_eq!(x.prompted.len() + y.prompted.len(), ALERTS, "{}", b.backend);
        for id in 1..=ALERTS as i64 {
            let full = store::full(db, id).await.unwrap();
            let count = |k: EntryKind| full.timeline.iter().filter(|e| e.kind == k).count();
            assert_eq!(
                count(EntryKind::HandoverPrompt),
                1,
                "{}: INC-{id}",
                b.backend
            );
            // The handoff tick was a week late for the cadence: one catch-up reminder, not 300.
            assert_eq!(count(EntryKind::Reminder), 2, "{}: INC-{id}", b.backend);
        }
    }
}
