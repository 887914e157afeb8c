//! The demo's past: ninety days of alerts and incidents for the example shop, so a new user
//! finds the reports, the postmortem library and the action items populated rather than
//! empty. Everything goes through the real paths at past instants: alerts through the alert
//! rules and the escalation engine (pages "delivered" by a deliverer that only records
//! them, since this history never happened), incidents through their commands, postmortems
//! drafted, written, reviewed and published through theirs. Deterministic (a fixed seed) and
//! written once: a database that already has incidents is left alone.

use std::collections::BTreeMap;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::alerts::{Action, AlertEvent, Severity};
use crate::catalog::snapshot::Snapshot;
use crate::clock::FakeClock;
use crate::db::Db;
use crate::engine::outbox::{Deliver, DeliverFuture, OutboxRow};
use crate::incidents::command::{self as ic, Actor, Ctx, Declaration, NewNote};
use crate::incidents::{EntryKind, Role, Status};
use crate::postmortems::command::{self as pc, ActionInput};
use crate::postmortems::template::Template;

const MIN: i64 = 60_000;
const DAY: i64 = 24 * 60 * MIN;

/// Records pages and messages as sent without sending them: the history is made up.
struct Recorded;

impl Deliver for Recorded {
    fn deliver<'a>(&'a self, _: &'a OutboxRow) -> DeliverFuture<'a> {
        Box::pin(async { Ok(()) })
    }

    fn deliver_incident<'a>(
        &'a self,
        _: &'a crate::incidents::store::delivery::Claimed,
    ) -> DeliverFuture<'a> {
        Box::pin(async { Ok(()) })
    }
}

/// What goes wrong in the shop: service, alert name, summary, severity, a finding.
const TROUBLES: [(&str, &str, &str, Severity, &str); 8] = [
    (
        "checkout-api",
        "CheckoutErrorRateHigh",
        "Checkout 5xx above 5%",
        Severity::Critical,
        "A config push cut the database connection pool to 2",
    ),
    (
        "payment-gateway",
        "PaymentProviderDown",
        "Card payments failing at the provider",
        Severity::Critical,
        "The provider rotated its TLS certificate chain",
    ),
    (
        "catalog-api",
        "CatalogLatencyHigh",
        "Catalog p99 latency above 2 s",
        Severity::Error,
        "A missing index after the schema migration",
    ),
    (
        "cart-service",
        "CartErrors",
        "Cart writes failing",
        Severity::Error,
        "Redis evicted session keys under memory pressure",
    ),
    (
        "K8S-as-a-Service",
        "NodeMemoryPressure",
        "Node memory pressure on pool b",
        Severity::Warning,
        "A batch job without memory limits",
    ),
    (
        "web-storefront",
        "StorefrontErrors",
        "Storefront 5xx above 1%",
        Severity::Error,
        "A CDN rule sent traffic to the old origin",
    ),
    (
        "checkout-api",
        "CheckoutLatencyHigh",
        "Checkout p99 latency above 1 s",
        Severity::Warning,
        "A slow downstream fraud check",
    ),
    (
        "catalog-api",
        "CatalogErrors",
        "Catalog 5xx above 2%",
        Severity::Error,
        "A bad deploy of the pricing module",
    ),
];

fn event(name: &str, summary: &str, severity: Severity, key: String, at: i64) -> AlertEvent {
    AlertEvent {
        action: Action::Trigger,
        dedup_key: Some(key),
        summary: summary.into(),
        severity: Some(severity),
        source: "alertmanager".into(),
        labels: BTreeMap::from([("alertname".into(), name.into())]),
        annotations: BTreeMap::new(),
        details: serde_json::Value::Null,
        links: vec![],
        images: vec![],
        started_at: Some(at),
        ends_at: None,
    }
}

/// Writes the history ending at `now` unless there are incidents already; how many it made.
pub async fn seed(db: &Db, now: i64) -> anyhow::Result<usize> {
    let mut tx = db.begin_read().await?;
    let any = crate::incidents::store::list(
        &mut tx,
        &crate::incidents::store::Filter {
            limit: 1,
            ..Default::default()
        },
    )
    .await?;
    drop(tx);
    if !any.is_empty() {
        return Ok(0);
    }
    let snap = Snapshot::new(crate::catalog::store::load(db).await?);
    let mut rng = StdRng::seed_from_u64(6);
    let mut made = Vec::new();
    let start = now - 90 * DAY;
    for k in 0..60_i64 {
        let at = start + k * (88 * DAY / 60) + rng.random_range(0..24 * 60) * MIN;
        let (service, name, summary, severity, finding) =
            TROUBLES[rng.random_range(0..TROUBLES.len())];
        let alert = ingest(db, &snap, service, name, summary, severity, at, k).await?;
        engine_at(db, at).await?;
        // Someone acknowledges after 1 to 40 minutes (the longer waits miss their target).
        let ack = at + rng.random_range(1..40) * MIN;
        let responder = on_call(&snap, ack);
        {
            let mut tx = db.begin().await?;
            crate::alerts::store::acknowledge(&mut tx, &alert, &responder, ack).await?;
            crate::engine::store::breach_if_late(&mut tx, &alert, ack).await?;
            tx.commit().await?;
        }
        let end = ack + rng.random_range(10..180) * MIN;
        if severity != Severity::Warning {
            let id = incident(db, &snap, &alert, severity, finding, ack, end, &mut rng).await?;
            made.push((id, end));
        }
        let mut tx = db.begin().await?;
        crate::alerts::store::resolve(&mut tx, &alert, &responder, end).await?;
        tx.commit().await?;
        engine_at(db, end).await?;
    }
    postmortems(db, &snap, &made, now).await?;
    Ok(made.len())
}

/// Who is on call for the SRE rotation at `at` (a catalog person id), for the history's acts.
fn on_call(snap: &Snapshot, at: i64) -> String {
    snap.catalog
        .schedules
        .iter()
        .find(|s| s.id == "sre-primary")
        .and_then(|s| crate::oncall::current::on_call(&snap.catalog, &[], s, at).person)
        .unwrap_or_else(|| "foo-bar".into())
}

#[allow(clippy::too_many_arguments)]
async fn ingest(
    db: &Db,
    snap: &Snapshot,
    service: &str,
    name: &str,
    summary: &str,
    severity: Severity,
    at: i64,
    k: i64,
) -> anyhow::Result<String> {
    let mut e = event(name, summary, severity, format!("demo-{k}"), at);
    let routed = crate::alerts::rules::route(&snap.catalog, service, &mut e);
    let mut tx = db.begin().await?;
    let out = crate::alerts::rules::ingest(&mut tx, &snap.catalog, None, &routed, &e, at).await?;
    // A few repeats, as monitoring re-sends a firing alert.
    for m in 1..=(k % 4) {
        crate::alerts::rules::ingest(&mut tx, &snap.catalog, None, &routed, &e, at + m * MIN)
            .await?;
    }
    tx.commit().await?;
    out.alert_id
        .ok_or_else(|| anyhow::anyhow!("the demo alert was not stored"))
}

/// The engine's escalation step and both outboxes at `at`.
async fn engine_at(db: &Db, at: i64) -> anyhow::Result<()> {
    let clock = FakeClock::at(jiff::Timestamp::from_millisecond(at)?);
    crate::engine::tick(db, at, "demo-history").await?;
    crate::engine::outbox::deliver_due(db, &Recorded, &clock, "demo-history", 1000).await?;
    crate::incidents::deliver::deliver_due(db, &Recorded, &clock, "demo-history", 1000).await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn incident(
    db: &Db,
    snap: &Snapshot,
    alert: &str,
    severity: Severity,
    finding: &str,
    ack: i64,
    end: i64,
    rng: &mut StdRng,
) -> anyhow::Result<i64> {
    let sre = Actor::person(snap, &on_call(snap, ack));
    let ctx = |now: i64| Ctx {
        db,
        snap,
        now,
        actor: &sre,
        base_url: "",
    };
    let d = Declaration {
        title: crate::alerts::store::get(db, alert).await?.0.summary,
        severity: Some(
            if severity == Severity::Critical {
                "sev0"
            } else {
                "sev1"
            }
            .into(),
        ),
        alerts: vec![alert.to_string()],
        ..Declaration::default()
    };
    let declared = ack + rng.random_range(0..10) * MIN;
    let id = ic::declare(&ctx(declared), &d, "web").await?.id;
    engine_at(db, declared).await?;
    let ops = ["jane-doe", "ali-khan", "mei-lin", "noor-haddad"][rng.random_range(0..4)];
    ic::assign(&ctx(declared + MIN), id, Role::Ops, ops, "", None).await?;
    let note = NewNote {
        kind: EntryKind::Finding,
        body: finding.into(),
        link_url: None,
        image_url: None,
        starred: true,
    };
    let found = declared + (end - declared) / 2;
    ic::add_entry(&ctx(found), id, &note).await?;
    ic::set_status(&ctx(found + MIN), id, Status::Identified, "").await?;
    ic::set_status(&ctx(end), id, Status::Resolved, "").await?;
    engine_at(db, end).await?;
    Ok(id)
}

/// The last incidents' postmortems: most published with action items, one in review, one a
/// draft.
async fn postmortems(
    db: &Db,
    snap: &Snapshot,
    made: &[(i64, i64)],
    now: i64,
) -> anyhow::Result<()> {
    let template = Template::default();
    let n = made.len();
    for (i, (id, end)) in made.iter().enumerate().skip(n.saturating_sub(8)) {
        let left = n - i;
        let author = Actor::person(snap, "jon-doe");
        let reviewer = Actor::person(snap, "adam");
        let at = (*end + DAY).min(now);
        let ctx = |actor, now| Ctx {
            db,
            snap,
            now,
            actor,
            base_url: "",
        };
        let draft = pc::draft_incident(&ctx(&author, at), *id, &template).await?;
        if left == 1 {
            continue; // The newest stays a draft.
        }
        let c = ctx(&author, at + MIN);
        for s in draft.sections.iter().filter(|s| s.required) {
            if crate::postmortems::workflow::is_blank(&s.body) {
                pc::edit_section(&c, *id, &s.key, "Written after the review meeting.").await?;
            }
        }
        let lessons = "### What went well\n\n- The on-call SRE found the cause within the hour.\n\n\
            ### What could be improved\n\n- The alert fired late: its threshold hid the first minutes.\n\n\
            ### Where we got lucky\n\n- It happened outside the evening peak.\n";
        pc::edit_section(&c, *id, "lessons", lessons).await?;
        for (title, kind, owner, days) in [
            (
                "Add a pre-deploy check for this setting",
                "prevent",
                "lena-fischer",
                14,
            ),
            (
                "Alert on the leading signal, not the symptom",
                "detect",
                "jane-doe",
                7,
            ),
        ] {
            let input = ActionInput {
                title: Some(title.into()),
                kind: Some(kind.into()),
                owner: Some(owner.into()),
                due_at: Some(at + days * DAY),
                status: Some(if left > 4 { "done" } else { "open" }.into()),
                ..ActionInput::default()
            };
            pc::add_action(&c, *id, &input).await?;
        }
        pc::add_reviewer(&c, *id, "adam").await?;
        pc::submit(&c, *id).await?;
        if left == 2 {
            continue; // One waits for review.
        }
        pc::approve(&ctx(&reviewer, at + 2 * MIN), *id).await?;
        pc::publish(&ctx(&reviewer, at + 3 * MIN), *id, false).await?;
        engine_at(db, at + 3 * MIN).await?;
    }
    // The review request of the one left in review, and anything else still queued.
    engine_at(db, now).await
}
