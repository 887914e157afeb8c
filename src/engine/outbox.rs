//! The outbox: every message Tocsin sends is a row written in the same transaction as the
//! decision to send it, then delivered here with retries. This module owns the delivery
//! contract ([`Deliver`], implemented by `notify`), the backoff rule, and one delivery pass;
//! its SQL is in `store.rs`.
//!
//! Delivery is at least once: a row is leased, delivered, then marked sent. An owner that dies
//! between the two leaves the row leased; the lease expires and another owner sends it again,
//! with the same idempotency key so receivers that honour it drop the repeat. GoAlert makes
//! the opposite choice (a send of unknown outcome is never retried); we rank never missing a
//! page above never sending twice.

use std::future::Future;
use std::pin::Pin;

use crate::clock::Clock;
use crate::db::{Db, StoreError};

use super::store;

/// How long a claimed row stays with its owner before another may take it: three times the
/// sender's own timeout (a batch is sent concurrently, so it takes about one), so a slow but
/// live delivery is never doubled, and short enough that a dead owner's pages go out from
/// another instance within 30 seconds.
pub const LEASE_MS: i64 = 30_000;

/// The first retry waits this long; each further one doubles it, up to [`MAX_BACKOFF_MS`].
pub const FIRST_BACKOFF_MS: i64 = 10_000;
pub const MAX_BACKOFF_MS: i64 = 600_000;
/// After this many failed attempts the row is marked failed and left for people to see.
pub const MAX_ATTEMPTS: u32 = 8;

/// The kind of a test notification's row ("Send test" on a contact method, `notify::test_message`):
/// about no alert, so it is never withdrawn as moot.
pub const KIND_TEST: &str = "test";

/// One queued message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxRow {
    pub id: i64,
    /// `alert:level:round:person` for pages; travels with the message.
    pub idempotency_key: String,
    pub alert_id: String,
    pub person_id: String,
    pub level: usize,
    pub round: u32,
    /// page, bundle (this alert and others throttled into one message), or test (about no
    /// alert: `alert_id` and `service_id` are empty).
    pub kind: String,
    pub created_at: i64,
    pub next_attempt_at: i64,
    /// Attempts made so far.
    pub attempts: u32,
    /// pending, sent, failed or cancelled (moot before it was sent).
    pub status: String,
    pub last_error: Option<String>,
    pub sent_at: Option<i64>,
    pub service_id: String,
    /// The person's contact method; None for their default (the catalog email address).
    pub contact_method_id: Option<String>,
    /// webhook, slack, mattermost or email (what the method was when queued).
    pub channel: String,
}

/// One delivery attempt, kept for the alert page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempt {
    pub outbox_id: i64,
    pub at: i64,
    pub ok: bool,
    pub error: Option<String>,
    pub duration_ms: i64,
}

/// Why a delivery failed, and whether trying again may help (a timeout, a 5xx, a 429) or not
/// (no contact method, a 4xx that will not change).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DeliveryError {
    pub message: String,
    pub retryable: bool,
}

/// The boxed future [`Deliver::deliver`] returns (boxed so deliverers can be trait objects).
pub type DeliverFuture<'a> = Pin<Box<dyn Future<Output = Result<(), DeliveryError>> + Send + 'a>>;

/// Sends one outbox row through whatever channel reaches its person. Implemented by `notify`.
pub trait Deliver: Send + Sync {
    fn deliver<'a>(&'a self, row: &'a OutboxRow) -> DeliverFuture<'a>;

    /// Sends one incident message (`incidents::deliver`). A deliverer that cannot (a test
    /// double for pages only) fails retryably, so the message waits rather than being lost.
    fn deliver_incident<'a>(
        &'a self,
        _message: &'a crate::incidents::store::delivery::Claimed,
    ) -> DeliverFuture<'a> {
        Box::pin(async {
            Err(DeliveryError {
                message: "this deliverer does not send incident messages".into(),
                retryable: true,
            })
        })
    }
}

/// When to try again after the `attempts`-th failed attempt (1 = the first), or None to give
/// up: 10 s, 20 s, 40 s … capped at 10 minutes, at most [`MAX_ATTEMPTS`] attempts in all.
pub fn retry_at(attempts: u32, now: i64) -> Option<i64> {
    if attempts >= MAX_ATTEMPTS {
        return None;
    }
    let shift = attempts.saturating_sub(1).min(16);
    let wait = FIRST_BACKOFF_MS
        .saturating_mul(1i64 << shift)
        .min(MAX_BACKOFF_MS);
    Some(now.saturating_add(wait))
}

/// Leases up to `limit` pending rows due at `now` to `owner`.
pub async fn claim_due(
    db: &Db,
    now: i64,
    owner: &str,
    limit: u32,
) -> Result<Vec<OutboxRow>, StoreError> {
    store::claim_outbox(
        db,
        owner,
        now,
        now.saturating_add(LEASE_MS),
        i64::from(limit),
    )
    .await
}

/// Marks a claimed row sent; false when the lease had passed to another owner.
pub async fn mark_sent(
    db: &Db,
    row: &OutboxRow,
    owner: &str,
    now: i64,
) -> Result<bool, StoreError> {
    store::outbox_sent(db, row.id, owner, now).await
}

/// What became of a failed attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterFailure {
    RetryAt(i64),
    GaveUp,
}

/// Records a failed attempt on a claimed row: a retry after the backoff, or failed for good
/// when the error is not retryable or the attempts are spent.
pub async fn mark_failed(
    db: &Db,
    row: &OutboxRow,
    owner: &str,
    now: i64,
    error: &DeliveryError,
) -> Result<AfterFailure, StoreError> {
    let attempts = row.attempts.saturating_add(1);
    let retry = if error.retryable {
        retry_at(attempts, now)
    } else {
        None
    };
    store::outbox_failed(db, row.id, owner, &error.message, retry).await?;
    Ok(retry.map_or(AfterFailure::GaveUp, AfterFailure::RetryAt))
}

/// What one delivery pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    pub claimed: usize,
    pub sent: usize,
    pub retrying: usize,
    pub gave_up: usize,
    /// Withdrawn unsent: every alert they were about was acknowledged or resolved.
    pub cancelled: usize,
}

/// Claims due rows and hands each to `deliverer`, one after another, recording each attempt
/// and its outcome at the clock's time after the attempt. A row whose alerts are all
/// acknowledged or resolved by now is withdrawn instead: nobody is paged about a handled alert
/// (a delayed rule's email after the chat message was acknowledged, say).
pub async fn deliver_due(
    db: &Db,
    deliverer: &dyn Deliver,
    clock: &dyn Clock,
    owner: &str,
    limit: u32,
) -> Result<DeliveryReport, StoreError> {
    let rows = claim_due(db, clock.now_ms(), owner, limit).await?;
    let mut report = DeliveryReport {
        claimed: rows.len(),
        ..DeliveryReport::default()
    };
    // The claimed rows go out together: a batch then takes about one send timeout, not one
    // per row, which keeps it well inside the lease (see LEASE_MS).
    let sends: Vec<_> = rows
        .iter()
        .map(|row| deliver_one(db, deliverer, clock, owner, row))
        .collect();
    let outcomes = futures_util::future::join_all(sends).await;
    for outcome in outcomes {
        match outcome? {
            Outcome::Sent => report.sent += 1,
            Outcome::Cancelled => report.cancelled += 1,
            Outcome::Retrying => report.retrying += 1,
            Outcome::GaveUp => report.gave_up += 1,
        }
    }
    Ok(report)
}

enum Outcome {
    Sent,
    Cancelled,
    Retrying,
    GaveUp,
}

/// One claimed row: withdrawn when moot, else sent, its attempt and outcome recorded.
async fn deliver_one(
    db: &Db,
    deliverer: &dyn Deliver,
    clock: &dyn Clock,
    owner: &str,
    row: &OutboxRow,
) -> Result<Outcome, StoreError> {
    // A test is about no alert: there is nothing whose handling could make it moot.
    if row.kind != KIND_TEST && store::triggered_in(db, row).await? == 0 {
        let why = "not sent: acknowledged or resolved before it was due";
        store::outbox_cancelled(db, row.id, owner, why).await?;
        return Ok(Outcome::Cancelled);
    }
    let started = clock.now_ms();
    let outcome = deliverer.deliver(row).await;
    let now = clock.now_ms();
    let attempt = Attempt {
        outbox_id: row.id,
        at: now,
        ok: outcome.is_ok(),
        error: outcome.as_ref().err().map(|e| e.message.clone()),
        duration_ms: now.saturating_sub(started),
    };
    store::record_attempt(db, &attempt).await?;
    let channel = row.channel.clone();
    match outcome {
        Ok(()) => {
            mark_sent(db, row, owner, now).await?;
            metrics::counter!("tocsin_notifications_sent_total", "channel" => channel).increment(1);
            Ok(Outcome::Sent)
        }
        Err(e) => {
            tracing::warn!(id = row.id, key = %row.idempotency_key, error = %e, "delivery failed");
            metrics::counter!("tocsin_notification_attempts_failed_total", "channel" => channel)
                .increment(1);
            Ok(match mark_failed(db, row, owner, now, &e).await? {
                AfterFailure::RetryAt(_) => Outcome::Retrying,
                AfterFailure::GaveUp => Outcome::GaveUp,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_ten_seconds_caps_at_ten_minutes_and_gives_up_at_eight() {
        let waits: Vec<Option<i64>> = (1..=8).map(|n| retry_at(n, 0)).collect();
        assert_eq!(
            waits,
            [
                Some(10_000),
                Some(20_000),
                Some(40_000),
                Some(80_000),
                Some(160_000),
                Some(320_000),
                Some(600_000),
                None
            ]
        );
        assert_eq!(retry_at(u32::MAX, 5), None);
    }
}
