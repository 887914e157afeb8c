//! Incident message delivery: the engine's pass over `incident_messages` (chat channel posts,
//! stakeholder updates, role notices) queued by the commands. Claimed with a lease, sent
//! concurrently, marked sent, or retried with the alert outbox's backoff (10 s doubling to
//! 10 minutes, failed after 8 attempts, the error kept on the row for people to see).
//!
//! Bodies were rendered when queued (`messages.rs`), so sending only posts them: Slack and
//! Mattermost get their JSON as is; a generic webhook also gets `X-Tocsin-Event:
//! incident.<event>` and an `X-Tocsin-Signature` made at this attempt (fresh for the
//! receiver's replay check) with the server's `incident-webhook` secret; email goes through
//! the SMTP mailer. URLs pass the same address guard as pages.

use crate::clock::Clock;
use crate::db::{Db, StoreError};
use crate::engine::outbox::{Deliver, DeliveryError, LEASE_MS, retry_at};
use crate::notify::email::Mailer;
use crate::notify::webhook::{EVENT_HEADER, SIGNATURE_HEADER, signature};
use crate::notify::{IDEMPOTENCY_HEADER, guard, send};

use super::store::delivery::{self, Claimed};

/// The name of the server secret (`server_secrets`) that signs incident webhooks.
pub const WEBHOOK_SECRET: &str = "incident-webhook";

/// What one delivery pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub claimed: usize,
    pub sent: usize,
    pub retrying: usize,
    pub gave_up: usize,
}

/// Messages sent per engine pass; the rest wait for the next second.
const BATCH: u32 = 50;

/// The engine loop's hook: one pass when a deliverer is configured (without one, messages
/// stay pending and visible). Errors are logged; the next pass retries.
pub async fn pass(db: &Db, deliverer: Option<&dyn Deliver>, clock: &dyn Clock, owner: &str) {
    let Some(d) = deliverer else { return };
    match deliver_due(db, d, clock, owner, BATCH).await {
        Ok(r) if r.retrying > 0 || r.gave_up > 0 => tracing::info!(?r, "incident messages"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "incident message delivery failed"),
    }
}

/// Claims the messages due at the clock's time and sends them through `deliverer`, recording
/// each outcome at the clock's time after its attempt.
pub async fn deliver_due(
    db: &Db,
    deliverer: &dyn Deliver,
    clock: &dyn Clock,
    owner: &str,
    limit: u32,
) -> Result<Report, StoreError> {
    let now = clock.now_ms();
    let rows = delivery::claim(
        db,
        owner,
        now,
        now.saturating_add(LEASE_MS),
        i64::from(limit),
    )
    .await?;
    let mut report = Report {
        claimed: rows.len(),
        ..Report::default()
    };
    // Together, as the alert outbox does: a batch takes about one send timeout, well inside
    // the lease.
    let sends: Vec<_> = rows
        .iter()
        .map(|row| deliver_one(db, deliverer, clock, owner, row))
        .collect();
    for outcome in futures_util::future::join_all(sends).await {
        match outcome? {
            Outcome::Sent => report.sent += 1,
            Outcome::Retrying => report.retrying += 1,
            Outcome::GaveUp => report.gave_up += 1,
        }
    }
    Ok(report)
}

enum Outcome {
    Sent,
    Retrying,
    GaveUp,
}

async fn deliver_one(
    db: &Db,
    deliverer: &dyn Deliver,
    clock: &dyn Clock,
    owner: &str,
    row: &Claimed,
) -> Result<Outcome, StoreError> {
    let result = deliverer.deliver_incident(row).await;
    let now = clock.now_ms();
    let channel = row.channel.clone();
    match result {
        Ok(()) => {
            delivery::sent(db, row.id, owner, now).await?;
            metrics::counter!("tocsin_incident_messages_sent_total", "channel" => channel)
                .increment(1);
            Ok(Outcome::Sent)
        }
        Err(e) => {
            tracing::warn!(id = row.id, key = %row.idempotency_key, error = %e,
                "incident message delivery failed");
            metrics::counter!("tocsin_incident_message_attempts_failed_total", "channel" => channel)
                .increment(1);
            let attempts = u32::try_from(row.attempts.saturating_add(1)).unwrap_or(u32::MAX);
            let retry = if e.retryable {
                retry_at(attempts, now)
            } else {
                None
            };
            delivery::failed(db, row.id, owner, &e.message, retry).await?;
            Ok(retry.map_or(Outcome::GaveUp, |_| Outcome::Retrying))
        }
    }
}

/// What sending needs from the process: `notify::deliver::Deliverer` lends its parts.
pub struct Channels<'a> {
    pub db: &'a Db,
    pub client: &'a reqwest::Client,
    pub mailer: Option<&'a Mailer>,
    /// Also refuse loopback and private addresses (see `notify::guard`).
    pub block_private: bool,
    /// The attempt's time, for the webhook signature.
    pub now: i64,
}

fn fail(message: impl Into<String>, retryable: bool) -> DeliveryError {
    DeliveryError {
        message: message.into(),
        retryable,
    }
}

/// Sends one message on its channel.
pub async fn send_one(c: Channels<'_>, m: &Claimed) -> Result<(), DeliveryError> {
    if m.channel == "email" {
        let Some(mailer) = c.mailer else {
            return Err(fail("email is not configured (set smtp_url)", false));
        };
        return mailer
            .send_text(&m.target, &m.subject, m.body.clone())
            .await;
    }
    guard::check_url(&m.target, c.block_private).map_err(|e| fail(e, false))?;
    let body = m.body.as_bytes().to_vec();
    let mut headers = vec![(IDEMPOTENCY_HEADER, m.idempotency_key.clone())];
    match m.channel.as_str() {
        "slack" | "mattermost" => {}
        "webhook" => {
            let secret = crate::notify::store::server_secret(c.db, WEBHOOK_SECRET)
                .await
                .map_err(|e| fail(format!("database: {e}"), true))?;
            headers.push((SIGNATURE_HEADER, signature(secret.as_bytes(), c.now, &body)));
            headers.push((EVENT_HEADER, event_of(&m.body)));
        }
        other => return Err(fail(format!("unknown channel {other:?}"), false)),
    }
    send(c.client, &m.target, body, &headers)
        .await
        .map_err(|e| fail(e.reason, e.retryable))
}

/// The webhook body's `event` ("incident.declared"), which the header repeats so receivers
/// can route before parsing.
fn event_of(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["event"].as_str().map(str::to_string))
        .unwrap_or_else(|| "incident".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_event_header_comes_from_the_body() {
        assert_eq!(
            event_of(r#"{"event":"incident.status","incident":{}}"#),
            "incident.status"
        );
        assert_eq!(event_of("not json"), "incident");
    }
}
