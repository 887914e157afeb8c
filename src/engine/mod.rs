//! The engine: advances deadlines that live in the database and delivers the outbox.
//!
//! [`tick`] claims due escalations with a lease (see `store.rs` for why a lease and how it
//! stays safe with several instances on PostgreSQL) and steps them together in one
//! transaction (`step.rs`): re-read under lock, page the due levels (one outbox row per
//! person, idempotent), log it on the alert, move the deadline on or stop, release the lease.
//! A crash anywhere rolls the tick back and the leases expire, so the next tick (here or on another instance) redoes it;
//! the outbox's unique idempotency key makes a redone step harmless. [`run`] ticks every
//! second and, when a deliverer is configured, delivers the outbox.

pub mod outbox;
mod step;
pub mod store;
pub mod throttle;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use crate::catalog::Catalog;
use crate::clock::SharedClock;
use crate::db::{Db, StoreError};
use crate::oncall::Override;

use crate::incidents::deadlines::Deadlines;
use crate::postmortems::backlog::Backlog;
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
    /// Pages the throttle put into a bundle instead of a message of their own.
    pub bundled: usize,
}

/// A name for this process as a lease owner: unique per start, readable in the database.
pub fn owner_id() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "tocsin".into());
    let nonce = &crate::auth::new_secret("")[..8];
    format!("{host}:{}:{nonce}", std::process::id())
}

/// Steps every escalation due at `now` that no live owner holds.
pub async fn tick(db: &Db, now: i64, owner: &str) -> Result<TickReport, StoreError> {
    let breaches = store::mark_breaches(db, now).await?;
    if breaches > 0 {
        metrics::counter!("tocsin_response_target_breaches_total").increment(breaches as u64);
    }
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
    // All of the tick's steps in one transaction: on SQLite a commit per step handed the one
    // write lock back and forth with ingestion a hundred times a tick during a storm. When
    // any step fails, the whole transaction is rolled back and each step redone in its own,
    // so one bad step fails only itself (as ingest batches do).
    let t = Tick {
        catalog: &catalog,
        overrides: &overrides,
        now,
        owner,
    };
    let mut together = report;
    let batch = async {
        let mut tx = db.begin().await?;
        step::step_all(&mut tx, &t, &claimed, &mut together).await?;
        tx.commit().await
    };
    match batch.await {
        Ok(()) => return Ok(together),
        Err(e) => tracing::info!(error = %e, "escalation batch failed; redoing one by one"),
    }
    for alert_id in &claimed {
        // One failed step must not hold up the others; its lease expires and a later tick
        // retries it.
        if let Err(e) = step_one(db, &t, alert_id, &mut report).await {
            tracing::warn!(%alert_id, error = %e, "escalation step failed");
            report.failed += 1;
        }
    }
    Ok(report)
}

/// What every step of one tick shares: who is on call, the instant, this owner.
struct Tick<'a> {
    catalog: &'a Catalog,
    overrides: &'a [Override],
    now: i64,
    owner: &'a str,
}

/// One escalation's step, in a transaction of its own.
async fn step_one(
    db: &Db,
    t: &Tick<'_>,
    alert_id: &str,
    report: &mut TickReport,
) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    step::step_all(
        &mut tx,
        t,
        std::slice::from_ref(&alert_id.to_string()),
        report,
    )
    .await?;
    tx.commit().await
}

/// Starts [`run_with`] in the background for `tocsin serve`, under a fresh [`owner_id`].
pub fn start(
    db: Db,
    clock: SharedClock,
    deliverer: Option<Arc<dyn Deliver>>,
    wake: Arc<Notify>,
    deadlines: Option<Arc<Deadlines>>,
    backlog: Option<Arc<Backlog>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> tokio::task::JoinHandle<()> {
    let owner = owner_id();
    tokio::spawn(run_with(
        db, clock, owner, deliverer, wake, deadlines, backlog, shutdown,
    ))
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
    run_with(
        db,
        clock,
        owner,
        deliverer,
        Arc::new(Notify::new()),
        None,
        None,
        shutdown,
    )
    .await;
}

/// [`run`], also stepping as soon as `wake` is notified (a new alert: its first page should
/// not wait for the next tick), and running the incident deadlines and the backlog sync of
/// postmortem action items when given.
#[allow(clippy::too_many_arguments)]
pub async fn run_with(
    db: Db,
    clock: SharedClock,
    owner: String,
    deliverer: Option<Arc<dyn Deliver>>,
    wake: Arc<Notify>,
    deadlines: Option<Arc<Deadlines>>,
    backlog: Option<Arc<Backlog>>,
    shutdown: impl Future<Output = ()> + Send,
) {
    // Automation actions get their own client: their timeout and headers are theirs.
    let actions = match crate::alerts::automation::client() {
        Ok(c) => Some(c),
        Err(e) => {
            tracing::error!(error = %e, "automation client unavailable; actions will wait");
            None
        }
    };
    let mut every = tokio::time::interval(Duration::from_secs(1));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(shutdown);
    tracing::info!(%owner, "engine started");
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            _ = every.tick() => {}
            () = wake.notified() => {}
        }
        match tick(&db, clock.now_ms(), &owner).await {
            Ok(r) => {
                if r.pages > 0 || r.finished > 0 || r.failed > 0 {
                    tracing::info!(?r, "engine tick");
                }
                // A full batch means more is due: go again at once rather than in a second,
                // so a storm's backlog drains at database speed.
                if r.claimed >= BATCH as usize {
                    wake.notify_one();
                }
            }
            Err(e) => tracing::warn!(error = %e, "engine tick failed"),
        }
        let now = clock.now_ms();
        if let Err(e) = crate::alerts::store::auto_resolve_due(&db, now).await {
            tracing::warn!(error = %e, "auto-resolve failed");
        }
        // Incident deadlines: auto-declare, update reminders, handover prompts.
        if let Some(d) = &deadlines
            && let Err(e) = d.run(&db, now).await
        {
            tracing::warn!(error = %e, "incident deadlines failed");
        }
        // Action items into the backlog, and their state back from it.
        if let Some(b) = &backlog {
            match crate::postmortems::backlog::pass(&db, b, clock.now_ms(), &owner).await {
                Ok(r) if r != Default::default() => tracing::info!(?r, "backlog sync"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "backlog sync failed"),
            }
        }
        if let Some(client) = &actions
            && let Err(e) = crate::alerts::automation::run_due(&db, client, now, &owner).await
        {
            tracing::warn!(error = %e, "automation actions failed");
        }
        if let Some(d) = &deliverer
            && let Err(e) =
                outbox::deliver_due(&db, d.as_ref(), clock.as_ref(), &owner, DELIVERY_BATCH).await
        {
            tracing::warn!(error = %e, "outbox delivery failed");
        }
        crate::incidents::deliver::pass(&db, deliverer.as_deref(), clock.as_ref(), &owner).await;
    }
    tracing::info!(%owner, "engine stopped");
}
