//! The set-based batch path (`alerts::bulk`) against the per-event path it replaces, on both
//! backends: the same events, in the same order, at the same instant, applied to two copies
//! of the example organisation, one batch in one, one event at a time in the other, must
//! leave the same alerts, log lines (in the same order), escalations, declare watches and
//! automatic actions, and give the same outcomes. Ids are random on each side, so they are
//! replaced by what identifies an alert (service, key, status) before comparing.
//!
//! On PostgreSQL, a batch whose new key another transaction opened first must say so (None)
//! rather than count itself into an alert it did not see: the writer then retries it event by
//! event.

use std::collections::BTreeMap;
use std::time::Duration;

use sqlx::Row;
use tocsin::alerts::integration::{self, Integration, IntegrationKind};
use tocsin::alerts::store::Outcome;
use tocsin::alerts::{Action, AlertEvent, Severity, bulk, rules, store};
use tocsin::db::Db;

use crate::support::{backends, seed_example, t0};

const MIN: i64 = 60_000;

fn event(action: Action, key: Option<&str>, summary: &str, labels: &[(&str, &str)]) -> AlertEvent {
    AlertEvent {
        action,
        dedup_key: key.map(str::to_string),
        summary: summary.into(),
        severity: None,
        source: "prometheus".into(),
        labels: labels
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect(),
        annotations: BTreeMap::new(),
        details: serde_json::json!({"n": summary.len()}),
        links: vec![],
        images: vec![],
        started_at: Some(1),
        ends_at: None,
    }
}

fn with_severity(mut e: AlertEvent, s: Severity) -> AlertEvent {
    e.severity = Some(s);
    e
}

/// Every kind of event a batch meets, in an order where they depend on each other.
fn batch(now: i64) -> Vec<AlertEvent> {
    use Action::{Acknowledge as Ack, Resolve, Trigger};
    let checkout = [("alertname", "CheckoutErrorRateHigh"), ("pod", "p-1")];
    let payments = [("alertname", "PaymentTimeouts"), ("team", "payments")];
    let node = [("alertname", "NodeMemoryPressure")];
    let mut ends = event(Trigger, Some("ends"), "sender deadline", &[]);
    ends.ends_at = Some(now + 3 * MIN);
    vec![
        // Rule: critical, playbook with an automatic action, declare at once.
        event(Trigger, Some("k1"), "checkout errors", &checkout),
        with_severity(event(Trigger, Some("k2"), "slow", &[]), Severity::Warning),
        event(Trigger, Some("k1"), "checkout errors again", &checkout),
        // Rule: routed to another service, auto-resolve deadline.
        event(Trigger, Some("k3"), "node pressure", &node),
        event(Trigger, Some("pay"), "payments", &payments),
        event(Resolve, Some("k2"), "", &[]),
        // After its resolve: a new alert with the same key.
        with_severity(
            event(Trigger, Some("k2"), "slow again", &[]),
            Severity::Error,
        ),
        event(Ack, Some("k1"), "", &[]),
        event(Trigger, Some("k1"), "still failing", &checkout),
        // An alert open before the batch: repeated, then acknowledged late (a breach).
        event(Trigger, Some("old"), "old one again", &[]),
        event(Ack, Some("old"), "", &[]),
        event(Trigger, Some("old"), "and again", &[]),
        ends,
        event(Trigger, Some("k3"), "node pressure again", &node),
        event(Resolve, Some("nothing-open"), "", &[]),
        event(Ack, Some("k3"), "", &[]),
        event(Trigger, Some(" k4 "), "untrimmed key", &[]),
        event(Trigger, Some("k4"), "trimmed key", &[]),
    ]
}

/// A generic integration of checkout-api in a seeded copy, with alert `old` open since
/// 10 minutes before `now` (critical: past its 5-minute response target).
async fn prepare(db: &Db, now: i64) -> Integration {
    seed_example(db).await;
    let catalog = tocsin::catalog::store::load(db).await.expect("catalog");
    let (integration, _) = integration::create(
        db,
        &catalog,
        0,
        "test",
        "checkout-api",
        IntegrationKind::Generic,
        "",
    )
    .await
    .expect("integration");
    let old = with_severity(
        event(Action::Trigger, Some("old"), "old", &[]),
        Severity::Critical,
    );
    per_event(db, &integration, &[old], now - 10 * MIN).await;
    integration
}

/// The path `bulk` replaces: route, then `rules::ingest`, one event at a time.
async fn per_event(
    db: &Db,
    integration: &Integration,
    events: &[AlertEvent],
    now: i64,
) -> Vec<Outcome> {
    let catalog = tocsin::catalog::store::load(db).await.expect("catalog");
    let mut tx = db.begin().await.expect("begin");
    let mut out = Vec::new();
    for e in events {
        let mut e = e.clone();
        let routed = rules::route(&catalog, &integration.service, &mut e);
        let outcome = rules::ingest(&mut tx, &catalog, Some(integration), &routed, &e, now)
            .await
            .expect("ingest");
        out.push(outcome);
    }
    tx.commit().await.expect("commit");
    out
}

async fn in_bulk(
    db: &Db,
    integration: &Integration,
    events: &[AlertEvent],
    now: i64,
) -> Vec<Outcome> {
    let catalog = tocsin::catalog::store::load(db).await.expect("catalog");
    let pairs: Vec<_> = events.iter().map(|e| (integration, e)).collect();
    let mut tx = db.begin().await.expect("begin");
    let out = bulk::apply(&mut tx, &catalog, &pairs, now)
        .await
        .expect("bulk")
        .expect("no concurrent writer");
    tx.commit().await.expect("commit");
    out
}

/// Rows as text. (Test-only SQL: it reads every table ingestion writes, as stored.)
async fn rows(db: &Db, sql: &str) -> Vec<Vec<Option<String>>> {
    tocsin::on_db!(db, |p| {
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
            .fetch_all(p)
            .await
            .expect(sql);
        rows.iter()
            .map(|r| {
                (0..r.len())
                    .map(|i| r.try_get::<Option<String>, _>(i).expect("text column"))
                    .collect()
            })
            .collect()
    })
}

const ALERT: &str = "a.service_id || '/' || a.dedup_key || '/' || a.status";

/// Everything ingestion wrote, with ids replaced by the alert's (service, key, status).
async fn state(db: &Db, integration: &Integration) -> Vec<String> {
    let ids = rows(db, &format!("select a.id, {ALERT} from alerts a")).await;
    let queries = [
        format!(
            "select {ALERT}, severity, summary, source, labels, annotations, details, links, \
            images, cast(started_at as text), cast(created_at as text), \
            cast(last_event_at as text), cast(acknowledged_at as text), acknowledged_by, \
            cast(resolved_at as text), resolved_by, cast(event_count as text), rule_id, \
            playbook_id, cast(auto_resolve_at as text), cast(response_due_at as text), \
            cast(breached_at as text), integration_id from alerts a order by 1"
        ),
        // The log in the order it was written, across alerts.
        format!(
            "select {ALERT}, cast(l.at as text), l.kind, l.actor, l.detail from alert_log l \
            join alerts a on a.id = l.alert_id order by l.id"
        ),
        format!(
            "select {ALERT}, e.policy_id, cast(e.next_level as text), cast(e.round as text), \
            cast(e.next_at as text), e.state, cast(e.started_at as text), \
            cast(e.stopped_at as text) from escalations e join alerts a on a.id = e.alert_id \
            order by 1"
        ),
        format!(
            "select {ALERT}, w.severity_id, cast(w.due_at as text) from declare_watches w \
            join alerts a on a.id = w.alert_id order by 1"
        ),
        format!(
            "select {ALERT}, r.playbook_id, cast(r.step as text), r.name, r.request, r.status, \
            cast(r.created_at as text), cast(r.due_at as text) from automation_runs r \
            join alerts a on a.id = r.alert_id order by 1, 3"
        ),
    ];
    let mut out = Vec::new();
    for q in &queries {
        for row in rows(db, q).await {
            let mut line = format!("{row:?}");
            for id in &ids {
                let (Some(id), Some(name)) = (&id[0], &id[1]) else {
                    continue;
                };
                line = line.replace(id.as_str(), &format!("<{name}>"));
            }
            out.push(line.replace(&integration.id, "<integration>"));
        }
    }
    out
}

/// Outcomes with the alert ids replaced as in [`state`].
async fn named(db: &Db, outcomes: &[Outcome]) -> Vec<String> {
    let ids = rows(db, &format!("select a.id, {ALERT} from alerts a")).await;
    outcomes
        .iter()
        .map(|o| {
            let alert = o.alert_id.as_ref().map(|id| {
                ids.iter()
                    .find(|r| r[0].as_deref() == Some(id.as_str()))
                    .and_then(|r| r[1].clone())
                    .unwrap_or_else(|| format!("unknown {id}"))
            });
            format!(
                "{alert:?} {} created={} changed={} {:?} {:?}",
                o.dedup_key, o.created, o.changed, o.transition, o.ignored
            )
        })
        .collect()
}

#[tokio::test]
async fn a_batch_leaves_what_its_events_one_by_one_leave() {
    let now = t0().as_millisecond();
    let events = batch(now);
    for (one, bulked) in backends().await.into_iter().zip(backends().await) {
        let b = one.backend;
        let i1 = prepare(&one.db, now).await;
        let i2 = prepare(&bulked.db, now).await;
        let expected = per_event(&one.db, &i1, &events, now).await;
        let got = in_bulk(&bulked.db, &i2, &events, now).await;
        assert_eq!(
            named(&bulked.db, &got).await,
            named(&one.db, &expected).await,
            "{b}"
        );
        let (want, have) = (state(&one.db, &i1).await, state(&bulked.db, &i2).await);
        assert_eq!(have, want, "{b}");
        // The comparison covered what the batch meant to exercise.
        let all = want.join("\n");
        for needle in [
            "\"repeat\"",
            "\"breach\"",
            "Post diagnostics",
            "sev0",
            "\"resolve\"",
        ] {
            assert!(all.contains(needle), "{b}: {needle} in\n{all}");
        }
        let k1 = store::list(&bulked.db, &open_filter()).await.expect("list");
        assert!(
            k1.iter().any(|a| a.dedup_key == "k1" && a.event_count == 3),
            "{b}"
        );
        // A second batch on top: open alerts found in the database are repeated, not doubled.
        let again = [events[0].clone(), events[3].clone()];
        per_event(&one.db, &i1, &again, now + MIN).await;
        in_bulk(&bulked.db, &i2, &again, now + MIN).await;
        assert_eq!(
            state(&bulked.db, &i2).await,
            state(&one.db, &i1).await,
            "{b}"
        );
    }
}

fn open_filter() -> store::Filter {
    store::Filter {
        status: None,
        service: None,
        severity: None,
        before: None,
        limit: 500,
    }
}

#[tokio::test]
async fn a_batch_that_loses_a_race_for_a_new_key_says_so() {
    let now = t0().as_millisecond();
    for t in backends().await {
        if !matches!(t.db, Db::Postgres(_)) {
            // SQLite has one writer at a time: there is no race to lose.
            continue;
        }
        let integration = prepare(&t.db, now).await;
        let e = event(Action::Trigger, Some("raced"), "raced", &[]);
        // Another writer opens the key and holds its transaction open.
        let mut other = t.db.begin().await.expect("begin");
        let catalog = tocsin::catalog::store::load(&t.db).await.expect("catalog");
        let routed = rules::route(&catalog, &integration.service, &mut e.clone());
        rules::ingest(&mut other, &catalog, Some(&integration), &routed, &e, now)
            .await
            .expect("first writer");
        let db = t.db.clone();
        let (i, ev) = (integration.clone(), e.clone());
        let batch = tokio::spawn(async move {
            let catalog = tocsin::catalog::store::load(&db).await.expect("catalog");
            let mut tx = db.begin().await.expect("begin");
            bulk::apply(&mut tx, &catalog, &[(&i, &ev)], now).await
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        other.commit().await.expect("commit");
        let answer = batch.await.expect("task").expect("no error");
        assert_eq!(
            answer, None,
            "the batch must not claim the other writer's alert"
        );
    }
}
