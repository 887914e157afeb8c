//! The engine on both backends, on a fake timeline driven by calling `tick` directly: a new
//! alert pages level 0 at once and escalates on the policy's timeline (checkout-api →
//! sre-default: Foo Bar, Adam after 5 minutes, Jacob after 15, once more from minute 30);
//! acknowledging or resolving stops it; repeated and concurrent ticks never duplicate a page;
//! a crashed owner's lease expires; and the outbox's claim, backoff and give-up.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tocsin::alerts::Action;
use tocsin::alerts::store;
use tocsin::clock::FakeClock;
use tocsin::db::Db;
use tocsin::engine::outbox::{
    self, AfterFailure, Deliver, DeliverFuture, DeliveryError, LEASE_MS as OUTBOX_LEASE_MS,
    OutboxRow,
};
use tocsin::engine::{self, LEASE_MS, store as engine_store};

use crate::alerts::event;
use crate::support::{backends, seed_example, t0};

const MIN: i64 = 60_000;

fn t(minutes: i64) -> i64 {
    t0().as_millisecond() + minutes * MIN
}

/// A new checkout-api alert at `at`; its id.
async fn trigger(db: &Db, service: &str, key: &str, at: i64) -> String {
    let mut tx = db.begin().await.unwrap();
    let e = event(Action::Trigger, Some(key), "checkout errors");
    let out = store::ingest(&mut tx, None, service, &e, at).await.unwrap();
    tx.commit().await.unwrap();
    assert!(out.created);
    out.alert_id.unwrap()
}

/// (person, level, round) of every outbox row of an alert, oldest first.
async fn pages(db: &Db, alert: &str) -> Vec<(String, usize, u32)> {
    engine_store::outbox_for_alert(db, alert)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.person_id, r.level, r.round))
        .collect()
}

fn p(person: &str, level: usize, round: u32) -> (String, usize, u32) {
    (person.to_string(), level, round)
}

async fn log_details(db: &Db, alert: &str) -> Vec<String> {
    let (_, log) = store::get(db, alert).await.unwrap();
    log.into_iter().map(|l| l.detail).collect()
}

#[tokio::test]
async fn a_new_alert_pages_level_zero_at_once_then_escalates_on_time() {
    for tdb in backends().await {
        let (db, b) = (&tdb.db, tdb.backend);
        seed_example(db).await;
        let id = trigger(db, "checkout-api", "k1", t(0)).await;
        let r = engine::tick(db, t(0), "a").await.unwrap();
        assert_eq!((r.claimed, r.pages), (1, 1), "{b}");
        assert_eq!(pages(db, &id).await, [p("foo-bar", 0, 0)], "{b}");
        let rows = engine_store::outbox_for_alert(db, &id).await.unwrap();
        assert_eq!(
            rows[0].idempotency_key,
            format!("{id}:0:0:foo-bar:default:0"),
            "{b}"
        );
        assert_eq!((rows[0].status.as_str(), rows[0].attempts), ("pending", 0));
        assert!(
            log_details(db, &id)
                .await
                .contains(&"paged Foo Bar (level 0)".into())
        );

        let r = engine::tick(db, t(5) - 1, "a").await.unwrap();
        assert_eq!(r.claimed, 0, "{b}: Adam is not due before minute 5");
        engine::tick(db, t(5), "a").await.unwrap();
        assert_eq!(pages(db, &id).await.len(), 2, "{b}");
        engine::tick(db, t(14), "a").await.unwrap();
        engine::tick(db, t(15), "a").await.unwrap();
        let want = [p("foo-bar", 0, 0), p("adam", 1, 0), p("jacob", 2, 0)];
        assert_eq!(pages(db, &id).await, want, "{b}");
    }
}

#[tokio::test]
async fn acknowledging_or_resolving_stops_escalation() {
    for tdb in backends().await {
        let (db, b) = (&tdb.db, tdb.backend);
        seed_example(db).await;
        let acked = trigger(db, "checkout-api", "ack", t(0)).await;
        let resolved = trigger(db, "checkout-api", "res", t(0)).await;
        for m in 0..=5 {
            engine::tick(db, t(m), "a").await.unwrap();
        }
        // A person acknowledges one at minute 7; the monitor resolves the other (ingest path).
        let mut tx = db.begin().await.unwrap();
        store::acknowledge(&mut tx, &acked, "jon-doe", t(7))
            .await
            .unwrap();
        let e = event(Action::Resolve, Some("res"), "recovered");
        store::ingest(&mut tx, None, "checkout-api", &e, t(7))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        for m in 7..=90 {
            engine::tick(db, t(m), "a").await.unwrap();
        }
        for id in [&acked, &resolved] {
            assert_eq!(
                pages(db, id).await,
                [p("foo-bar", 0, 0), p("adam", 1, 0)],
                "{b}: nothing after minute 7"
            );
            let e = engine_store::escalation(db, id).await.unwrap().unwrap();
            assert_eq!(e.state, "stopped", "{b}");
        }
    }
}

#[tokio::test]
async fn the_policy_repeats_after_the_last_levels_wait_then_ends() {
    for tdb in backends().await {
        let (db, b) = (&tdb.db, tdb.backend);
        seed_example(db).await;
        let id = trigger(db, "checkout-api", "k", t(0)).await;
        let mut paged_at = Vec::new();
        for m in 0..=120 {
            let r = engine::tick(db, t(m), "a").await.unwrap();
            paged_at.extend(std::iter::repeat_n(m, r.pages));
        }
        let want = [
            p("foo-bar", 0, 0),
            p("adam", 1, 0),
            p("jacob", 2, 0),
            p("foo-bar", 0, 1),
            p("adam", 1, 1),
            p("jacob", 2, 1),
        ];
        assert_eq!(pages(db, &id).await, want, "{b}");
        assert_eq!(paged_at, [0, 5, 15, 30, 35, 45], "{b}");
        let e = engine_store::escalation(db, &id).await.unwrap().unwrap();
        assert_eq!(e.state, "stopped", "{b}: exhausted");
        let log = log_details(db, &id).await;
        assert!(
            log.contains(&"paged Foo Bar (level 0, round 2)".into()),
            "{b}: {log:?}"
        );
        assert!(log.iter().any(|l| l.contains("exhausted")), "{b}: {log:?}");
    }
}

#[tokio::test]
async fn a_late_tick_catches_up_on_every_level_that_fell_due() {
    for tdb in backends().await {
        let (db, b) = (&tdb.db, tdb.backend);
        seed_example(db).await;
        let id = trigger(db, "checkout-api", "k", t(0)).await;
        // The engine was down for the first 20 minutes.
        let r = engine::tick(db, t(20), "a").await.unwrap();
        assert_eq!(r.pages, 3, "{b}");
        let e = engine_store::escalation(db, &id).await.unwrap().unwrap();
        assert_eq!(
            (e.cursor.level, e.cursor.round, e.cursor.at),
            (0, 1, t(30)),
            "{b}"
        );
    }
}

#[tokio::test]
async fn a_service_without_a_policy_gets_no_escalation_and_says_so() {
    for tdb in backends().await {
        let (db, b) = (&tdb.db, tdb.backend);
        seed_example(db).await;
        let id = trigger(db, "no-such-service", "k", t(0)).await;
        assert_eq!(
            engine_store::escalation(db, &id).await.unwrap(),
            None,
            "{b}"
        );
        assert!(
            log_details(db, &id)
                .await
                .contains(&"no escalation policy".into())
        );
        assert_eq!(engine::tick(db, t(0), "a").await.unwrap().claimed, 0, "{b}");
    }
}

#[tokio::test]
async fn repeated_and_concurrent_ticks_never_duplicate_a_page() {
    for tdb in backends().await {
        let (db, b) = (&tdb.db, tdb.backend);
        seed_example(db).await;
        let mut ids = Vec::new();
        for i in 0..20 {
            ids.push(trigger(db, "checkout-api", &format!("k{i}"), t(0)).await);
        }
        // Two owners tick at the same instant (two instances on PostgreSQL), then again.
        let (x, y) = tokio::join!(engine::tick(db, t(0), "x"), engine::tick(db, t(0), "y"));
        let (x, y) = (x.unwrap(), y.unwrap());
        // Three pages of their own, then the throttle bundles the rest of the storm.
        assert_eq!(x.pages + y.pages, 3, "{b}: {x:?} {y:?}");
        assert_eq!(x.bundled + y.bundled, 17, "{b}: {x:?} {y:?}");
        assert_eq!(x.duplicates + y.duplicates, 0, "{b}");
        assert_eq!(engine::tick(db, t(0), "x").await.unwrap().claimed, 0, "{b}");
        for id in &ids {
            assert_eq!(pages(db, id).await, [p("foo-bar", 0, 0)], "{b}");
        }
        // A step redone after a crash writes the same key: the outbox keeps one row.
        let mut tx = db.begin().await.unwrap();
        let row = engine_store::outbox_for_alert(db, &ids[0]).await.unwrap()[0].clone();
        let message = engine_store::NewMessage {
            key: &row.idempotency_key,
            alert_id: &row.alert_id,
            service_id: &row.service_id,
            person: &row.person_id,
            level: row.level,
            round: row.round,
            kind: &row.kind,
            contact_method_id: row.contact_method_id.as_deref(),
            channel: &row.channel,
            created_at: row.created_at,
            send_at: row.next_attempt_at,
        };
        let again = engine_store::insert_message(&mut tx, &message)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert!(!again, "{b}");
        assert_eq!(pages(db, &ids[0]).await.len(), 1, "{b}");
    }
}

#[tokio::test]
async fn a_crashed_owners_lease_expires_and_another_owner_takes_over() {
    for tdb in backends().await {
        let (db, b) = (&tdb.db, tdb.backend);
        seed_example(db).await;
        let id = trigger(db, "checkout-api", "k", t(0)).await;
        // "dead" claims the escalation and dies before stepping it.
        let claimed = engine_store::claim_escalations(db, "dead", t(0), t(0) + LEASE_MS, 100)
            .await
            .unwrap();
        assert_eq!(claimed, std::slice::from_ref(&id), "{b}");
        let r = engine::tick(db, t(0) + LEASE_MS - 1, "live").await.unwrap();
        assert_eq!(r.claimed, 0, "{b}: the lease still holds");
        let r = engine::tick(db, t(0) + LEASE_MS + 1, "live").await.unwrap();
        assert_eq!((r.claimed, r.pages), (1, 1), "{b}");
        assert_eq!(pages(db, &id).await, [p("foo-bar", 0, 0)], "{b}");
        let e = engine_store::escalation(db, &id).await.unwrap().unwrap();
        assert_eq!(e.lease_owner, None, "{b}: released after the step");
    }
}

/// One pending page for Foo Bar at minute 0; the outbox row.
async fn one_page(db: &Db) -> OutboxRow {
    seed_example(db).await;
    let id = trigger(db, "checkout-api", "k", t(0)).await;
    engine::tick(db, t(0), "a").await.unwrap();
    engine_store::outbox_for_alert(db, &id)
        .await
        .unwrap()
        .remove(0)
}

#[tokio::test]
async fn outbox_rows_are_leased_retried_with_backoff_then_given_up() {
    for tdb in backends().await {
        let (db, b) = (&tdb.db, tdb.backend);
        let row = one_page(db).await;
        let claimed = outbox::claim_due(db, t(0), "a", 10).await.unwrap();
        assert_eq!(claimed.len(), 1, "{b}");
        assert!(
            outbox::claim_due(db, t(0), "b", 10)
                .await
                .unwrap()
                .is_empty()
        );
        let err = DeliveryError {
            message: "503 from the webhook".into(),
            retryable: true,
        };
        let mut now = t(0);
        let mut row_now = claimed[0].clone();
        let mut waits = Vec::new();
        while let AfterFailure::RetryAt(at) = outbox::mark_failed(db, &row_now, "a", now, &err)
            .await
            .unwrap()
        {
            waits.push((at - now) / 1000);
            let early = outbox::claim_due(db, at - 1, "a", 10).await.unwrap();
            assert!(early.is_empty(), "{b}: not before its retry time");
            now = at;
            row_now = outbox::claim_due(db, now, "a", 10).await.unwrap().remove(0);
        }
        assert_eq!(waits, [10, 20, 40, 80, 160, 320, 600], "{b}");
        let stored = &engine_store::outbox_for_alert(db, &row.alert_id)
            .await
            .unwrap()[0];
        assert_eq!(
            (stored.status.as_str(), stored.attempts),
            ("failed", 8),
            "{b}"
        );
        assert_eq!(stored.last_error.as_deref(), Some("503 from the webhook"));
        assert!(
            outbox::claim_due(db, t(600), "a", 10)
                .await
                .unwrap()
                .is_empty()
        );
    }
}

#[tokio::test]
async fn an_expired_outbox_lease_passes_the_row_on_and_the_old_owner_cannot_mark_it() {
    for tdb in backends().await {
        let (db, b) = (&tdb.db, tdb.backend);
        let row = one_page(db).await;
        let a = outbox::claim_due(db, t(0), "a", 10)
            .await
            .unwrap()
            .remove(0);
        let later = t(0) + OUTBOX_LEASE_MS + 1;
        let bb = outbox::claim_due(db, later, "b", 10)
            .await
            .unwrap()
            .remove(0);
        assert!(!outbox::mark_sent(db, &a, "a", later).await.unwrap(), "{b}");
        assert!(outbox::mark_sent(db, &bb, "b", later).await.unwrap(), "{b}");
        let stored = &engine_store::outbox_for_alert(db, &row.alert_id)
            .await
            .unwrap()[0];
        assert_eq!(
            (stored.status.as_str(), stored.sent_at),
            ("sent", Some(later)),
            "{b}"
        );
        // A permanent failure on another row gives up at once.
        let id = trigger(db, "checkout-api", "k2", t(1)).await;
        engine::tick(db, t(1), "a").await.unwrap();
        let r = outbox::claim_due(db, t(1), "a", 10)
            .await
            .unwrap()
            .remove(0);
        assert_eq!(r.alert_id, id);
        let err = DeliveryError {
            message: "no contact method".into(),
            retryable: false,
        };
        let after = outbox::mark_failed(db, &r, "a", t(1), &err).await.unwrap();
        assert_eq!(after, AfterFailure::GaveUp, "{b}");
    }
}

/// Fails the first call, then succeeds.
struct Flaky(AtomicUsize);

impl Deliver for Flaky {
    fn deliver<'a>(&'a self, _row: &'a OutboxRow) -> DeliverFuture<'a> {
        Box::pin(async move {
            if self.0.fetch_add(1, Ordering::SeqCst) == 0 {
                return Err(DeliveryError {
                    message: "timeout".into(),
                    retryable: true,
                });
            }
            Ok(())
        })
    }
}

#[tokio::test]
async fn a_delivery_pass_sends_due_rows_and_retries_failures_later() {
    for tdb in backends().await {
        let (db, b) = (&tdb.db, tdb.backend);
        let row = one_page(db).await;
        let clock = FakeClock::at(t0());
        let flaky = Arc::new(Flaky(AtomicUsize::new(0)));
        let r = outbox::deliver_due(db, flaky.as_ref(), &clock, "a", 10)
            .await
            .unwrap();
        assert_eq!((r.claimed, r.retrying), (1, 1), "{b}");
        clock.advance(std::time::Duration::from_secs(10));
        let r = outbox::deliver_due(db, flaky.as_ref(), &clock, "a", 10)
            .await
            .unwrap();
        assert_eq!((r.claimed, r.sent), (1, 1), "{b}");
        let stored = &engine_store::outbox_for_alert(db, &row.alert_id)
            .await
            .unwrap()[0];
        assert_eq!(
            (stored.status.as_str(), stored.attempts),
            ("sent", 2),
            "{b}"
        );
    }
}
