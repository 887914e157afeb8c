//! The engine: advances deadlines that live in the database and delivers the outbox.
//!
//! [`tick`] claims due escalations with a lease (see `store.rs` for why a lease and how it
//! stays safe with several instances on PostgreSQL) and steps each in its own transaction:
//! re-read under lock, page the due levels (one outbox row per person, idempotent), log it on
//! the alert, move the deadline on or stop, release the lease. A crash anywhere rolls the
//! step back and the lease expires, so the next tick (here or on another instance) redoes it;
//! the outbox's unique idempotency key makes a redone step harmless. [`run`] ticks every
//! second and, when a deliverer is configured, delivers the outbox.

pub mod outbox;
pub mod store;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use crate::catalog::Catalog;
use crate::clock::SharedClock;
use crate::db::{Db, StoreError};
use crate::escalation::engine::{Page, step};
use crate::oncall::Override;

use outbox::Deliver;

/// How long a claimed escalation stays with its owner. A step takes milliseconds and a batch
/// of [`BATCH`] a few seconds at worst; 15 s covers that while a crashed owner's pages are
/// taken over (by a restart or another instance) within 16 s, inside the 30 s HA target. An
/// owner slower than its lease only costs a skipped step: `lock_held` re-checks ownership.
pub const LEASE_MS: i64 = 15_000;
/// Escalations claimed per tick; the rest wait for the next second.
const BATCH: i64 = 100;
/// Levels paged per escalation per tick (zero-minute levels repeated many times).
const MAX_PAGES_PER_STEP: usize = 64;
/// Outbox rows delivered per pass.
const DELIVERY_BATCH: u32 = 50;

/// What one tick did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TickReport {
    /// Escalations this owner leased.
    pub claimed: usize,
    /// Of those, stepped (the rest were stopped or taken over meanwhile).
    pub stepped: usize,
    /// Outbox rows written.
    pub pages: usize,
    /// Pages whose idempotency key was already queued (a redone step).
    pub duplicates: usize,
    /// Escalations that ended: policy exhausted or gone.
    pub finished: usize,
    /// Steps that failed (retried after their lease expires).
    pub failed: usize,
}

/// A name for this process as a lease owner: unique per start, readable in the database.
pub fn owner_id() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "tocsin".into());
    let nonce = &crate::auth::new_secret("")[..8];
    format!("{host}:{}:{nonce}", std::process::id())
}

/// Steps every escalation due at `now` that no live owner holds.
pub async fn tick(db: &Db, now: i64, owner: &str) -> Result<TickReport, StoreError> {
    let claimed =
        store::claim_escalations(db, owner, now, now.saturating_add(LEASE_MS), BATCH).await?;
    let mut report = TickReport {
        claimed: claimed.len(),
        ..TickReport::default()
    };
    if claimed.is_empty() {
        return Ok(report);
    }
    // Read once per tick, only when there is work: who is on call now.
    let catalog = crate::catalog::store::load(db).await?;
    let overrides = crate::oncall::store::overrides(db, None, now, now.saturating_add(1)).await?;
    for alert_id in &claimed {
        // One failed step must not hold up the others; its lease expires and a later tick
        // retries it.
        if let Err(e) = step_one(db, &catalog, &overrides, alert_id, now, owner, &mut report).await
        {
            tracing::warn!(%alert_id, error = %e, "escalation step failed");
            report.failed += 1;
        }
    }
    Ok(report)
}

/// One escalation's step, in one transaction.
async fn step_one(
    db: &Db,
    catalog: &Catalog,
    overrides: &[Override],
    alert_id: &str,
    now: i64,
    owner: &str,
    report: &mut TickReport,
) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    let Some(held) = store::lock_held(&mut tx, alert_id, owner).await? else {
        // Acknowledged or resolved since the claim (the stop released the lease), or the
        // lease expired and another owner has it: either way, not ours to page.
        return Ok(());
    };
    report.stepped += 1;
    let Some(policy) = catalog.escalation_policy(&held.policy_id) else {
        let detail = format!("escalation policy {} no longer exists", held.policy_id);
        store::log(&mut tx, alert_id, now, "escalation", &detail).await?;
        store::advance(&mut tx, alert_id, None, now).await?;
        report.finished += 1;
        return tx.commit().await;
    };
    let due = step(
        catalog,
        overrides,
        policy,
        held.cursor,
        now,
        MAX_PAGES_PER_STEP,
    );
    for page in &due.pages {
        for person in &page.people {
            let key = format!("{alert_id}:{}:{}:{person}", page.level, page.round);
            let new =
                store::insert_page(&mut tx, &key, alert_id, person, page.level, page.round, now)
                    .await?;
            if new {
                report.pages += 1;
            } else {
                report.duplicates += 1;
            }
        }
        store::log(&mut tx, alert_id, now, "page", &page_detail(catalog, page)).await?;
    }
    if due.next.is_none() {
        let detail = format!(
            "escalation policy {} exhausted without acknowledgement",
            policy.id
        );
        store::log(&mut tx, alert_id, now, "escalation", &detail).await?;
        report.finished += 1;
    }
    store::advance(&mut tx, alert_id, due.next, now).await?;
    tx.commit().await
}

/// "paged Foo Bar (level 0)", with the round after the first pass, or why nobody was paged.
fn page_detail(catalog: &Catalog, page: &Page) -> String {
    let at = if page.round == 0 {
        format!("level {}", page.level)
    } else {
        format!("level {}, round {}", page.level, page.round + 1)
    };
    if page.people.is_empty() {
        return format!("nobody to page ({at}): no one on call");
    }
    let names: Vec<&str> = page
        .people
        .iter()
        .map(|id| catalog.person(id).map_or(id.as_str(), |p| p.name.as_str()))
        .collect();
    format!("paged {} ({at})", names.join(", "))
}

/// Starts [`run`] in the background for `tocsin serve`, under a fresh [`owner_id`]. No
/// deliverer yet: pages queue in the outbox until `notify` provides one.
pub fn start(
    db: Db,
    clock: SharedClock,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(run(db, clock, owner_id(), None, shutdown))
}

/// Ticks every second until `shutdown` completes; after each tick, delivers due outbox rows
/// through `deliverer`. Without one, rows stay pending (visible, never marked sent) until a
/// deliverer is configured. Errors are logged and the loop goes on: the next tick retries.
pub async fn run(
    db: Db,
    clock: SharedClock,
    owner: String,
    deliverer: Option<Arc<dyn Deliver>>,
    shutdown: impl Future<Output = ()> + Send,
) {
    let mut every = tokio::time::interval(Duration::from_secs(1));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(shutdown);
    tracing::info!(%owner, "engine started");
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            _ = every.tick() => {}
        }
        match tick(&db, clock.now_ms(), &owner).await {
            Ok(r) if r.pages > 0 || r.finished > 0 || r.failed > 0 => {
                tracing::info!(?r, "engine tick")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "engine tick failed"),
        }
        if let Some(d) = &deliverer
            && let Err(e) =
                outbox::deliver_due(&db, d.as_ref(), clock.as_ref(), &owner, DELIVERY_BATCH).await
        {
            tracing::warn!(error = %e, "outbox delivery failed");
        }
    }
    tracing::info!(%owner, "engine stopped");
}
