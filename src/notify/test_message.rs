//! Test notifications: "Send test" next to a contact method, so a person knows pages will
//! reach them before a real incident. The API, the person page and `tocsin contact test` all
//! call [`queue`].
//!
//! A test takes the path a page takes, which is the point: [`queue`] writes an outbox row of
//! kind `test` (for the method's person, through that method) in one transaction with its
//! audit entry, and the engine's deliverer sends it with the same retries, backoff and
//! attempt records as a page, signed the same way. Only the content differs ([`TestMessage`],
//! rendered per channel next to each channel's page: `webhook::test_payload`,
//! `chat::slack_test`, `chat::mattermost_test`, `email::test_subject`): it says it is a
//! test and carries no acknowledge link, since there is nothing to acknowledge.
//!
//! One test per method per [`TEST_GAP_MS`], so the button cannot be used to flood a channel
//! (or a webhook receiver someone else runs). The outcome is the row's status, read back as
//! [`TestStatus`].

use serde::Serialize;
use utoipa::ToSchema;

use crate::audit;
use crate::clock::{Millis, format_ms};
use crate::db::{Db, StoreError};
use crate::engine::outbox::{KIND_TEST, OutboxRow};
use crate::engine::store::{self as engine_store, NewMessage};

use super::contact::ContactKind;
use super::store::{self, TestSlot};

/// At most one test per contact method in this window.
pub const TEST_GAP_MS: Millis = 10_000;

/// How many tests a method's history shows.
pub const HISTORY: i64 = 10;

/// What a test says, whatever the channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestMessage {
    /// The outbox row: receivers can quote it when something looks wrong.
    pub outbox_id: i64,
    pub person_id: String,
    /// The catalog name, or the id when the person has left the catalog since.
    pub person_name: String,
    pub method_id: String,
    pub kind: ContactKind,
    pub queued_at: Millis,
    /// The person's notification settings in Tocsin.
    pub settings_url: String,
}

impl TestMessage {
    /// "Test notification from Tocsin for Jon Doe via Slack", as plain text.
    pub fn headline(&self) -> String {
        self.headline_with(str::to_string)
    }

    /// The headline with the person's name passed through `escape`: each channel escapes it
    /// for its own dialect (a name is catalog text, not ours).
    pub fn headline_with(&self, escape: impl Fn(&str) -> String) -> String {
        format!(
            "Test notification from Tocsin for {} via {}",
            escape(&self.person_name),
            self.kind.label()
        )
    }

    /// Why the message came, in one sentence.
    pub fn explanation(&self) -> String {
        format!(
            "Nothing is wrong: someone asked Tocsin to check that pages reach this {}. \
             A real page comes the same way.",
            match self.kind {
                ContactKind::Email => "address",
                ContactKind::Webhook => "endpoint",
                ContactKind::Slack | ContactKind::Mattermost => "channel",
            }
        )
    }
}

/// A test's outcome as the API, the page and the CLI show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct TestStatus {
    /// The outbox row.
    pub id: i64,
    pub contact_method: String,
    /// queued (no attempt yet), retrying (an attempt failed, another is due), sent, failed
    /// (given up; `error` says why) or cancelled.
    pub status: String,
    pub attempts: u32,
    /// RFC 3339, UTC.
    pub queued_at: String,
    pub sent_at: Option<String>,
    /// When the next attempt is due (queued and retrying only).
    pub next_attempt_at: Option<String>,
    /// The last failed attempt's reason.
    pub error: Option<String>,
}

impl TestStatus {
    /// Pure: the outbox row as a test outcome.
    pub fn of(row: &OutboxRow) -> Self {
        let status = match (row.status.as_str(), row.attempts) {
            ("pending", 0) => "queued",
            ("pending", _) => "retrying",
            (other, _) => other,
        };
        let pending = row.status == "pending";
        Self {
            id: row.id,
            contact_method: row.contact_method_id.clone().unwrap_or_default(),
            status: status.to_string(),
            attempts: row.attempts,
            queued_at: format_ms(row.created_at),
            sent_at: row.sent_at.map(format_ms),
            next_attempt_at: pending.then(|| format_ms(row.next_attempt_at)),
            error: row.last_error.clone(),
        }
    }

    /// One line for people: "sent 2024-06-17T09:00:00Z", "failed after 1 attempt: HTTP 404".
    pub fn describe(&self) -> String {
        let tries = |n: u32| format!("{n} attempt{}", if n == 1 { "" } else { "s" });
        let error = self.error.as_deref().unwrap_or("no reason recorded");
        match self.status.as_str() {
            "queued" => format!("queued {}, not sent yet", self.queued_at),
            "sent" => format!("sent {}", self.sent_at.as_deref().unwrap_or("")),
            "retrying" => format!(
                "not delivered yet ({} so far, retrying at {}): {error}",
                tries(self.attempts),
                self.next_attempt_at.as_deref().unwrap_or("")
            ),
            "failed" => format!("failed after {}: {error}", tries(self.attempts)),
            other => format!("{other}: {error}"),
        }
    }
}

/// Why no test was queued.
#[derive(Debug, thiserror::Error)]
pub enum TestError {
    /// A test went to this method less than [`TEST_GAP_MS`] ago.
    #[error(
        "a test went to this contact method {ago_s} s ago; one test per {} s, so try again in {wait_s} s",
        TEST_GAP_MS / 1000
    )]
    Throttled { ago_s: u64, wait_s: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Whole seconds until `ms` has passed, rounded up (a Retry-After of 0 would invite a hot loop).
fn seconds_up(ms: Millis) -> u64 {
    u64::try_from(ms.max(0)).unwrap_or(0).div_ceil(1000).max(1)
}

/// Queues a test of contact method `id` at `now` on behalf of `actor`: the outbox row and the
/// audit entry in one transaction, after taking the method's test slot. NotFound when there
/// is no such method; the caller checks who may first.
pub async fn queue(db: &Db, now: Millis, actor: &str, id: &str) -> Result<TestStatus, TestError> {
    let mut tx = db.begin().await?;
    let (person, kind) = match store::take_test_slot(&mut tx, id, now, now - TEST_GAP_MS).await? {
        TestSlot::Taken { person, kind } => (person, kind),
        TestSlot::Busy(last) => {
            // Dropping the transaction rolls it back: nothing was written.
            let ago = now.saturating_sub(last).max(0);
            return Err(TestError::Throttled {
                ago_s: u64::try_from(ago / 1000).unwrap_or(0),
                wait_s: seconds_up(last.saturating_add(TEST_GAP_MS) - now)
                    .min(seconds_up(TEST_GAP_MS)),
            });
        }
    };
    // The instant makes the key unique per test; the slot already keeps tests apart.
    let key = format!("test:{id}:{now}");
    let message = NewMessage {
        key: &key,
        alert_id: "",
        service_id: "",
        person: &person,
        level: 0,
        round: 0,
        kind: KIND_TEST,
        contact_method_id: Some(id),
        channel: &kind,
        created_at: now,
        send_at: now,
    };
    engine_store::insert_message(&mut tx, &message).await?;
    let outbox_id = engine_store::message_id(&mut tx, &key).await?;
    let target = format!("contact {id}");
    let detail = format!("{kind} for {person}, outbox {outbox_id}");
    audit::store::record(&mut tx, now, actor, "contact.test", &target, &detail).await?;
    tx.commit().await?;
    Ok(TestStatus {
        id: outbox_id,
        contact_method: id.to_string(),
        status: "queued".into(),
        attempts: 0,
        queued_at: format_ms(now),
        sent_at: None,
        next_attempt_at: Some(format_ms(now)),
        error: None,
    })
}

/// A method's latest tests, newest first.
pub async fn history(db: &Db, id: &str) -> Result<Vec<TestStatus>, StoreError> {
    let rows = engine_store::tests_for_method(db, id, HISTORY).await?;
    Ok(rows.iter().map(TestStatus::of).collect())
}

/// The latest test of each of `person`'s methods.
pub async fn last_of_person(db: &Db, person: &str) -> Result<Vec<TestStatus>, StoreError> {
    let rows = engine_store::last_tests_of_person(db, person).await?;
    Ok(rows.iter().map(TestStatus::of).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(status: &str, attempts: u32, error: Option<&str>) -> OutboxRow {
        OutboxRow {
            id: 7,
            idempotency_key: "test:m1:0".into(),
            alert_id: String::new(),
            person_id: "jon-doe".into(),
            level: 0,
            round: 0,
            kind: KIND_TEST.into(),
            created_at: 1_718_614_800_000,
            next_attempt_at: 1_718_614_810_000,
            attempts,
            status: status.into(),
            last_error: error.map(str::to_string),
            sent_at: (status == "sent").then_some(1_718_614_801_000),
            service_id: String::new(),
            contact_method_id: Some("m1".into()),
            channel: "slack".into(),
        }
    }

    #[test]
    fn outcomes_read_as_people_say_them() {
        let said = |r: OutboxRow| TestStatus::of(&r).describe();
        assert_eq!(
            said(row("pending", 0, None)),
            "queued 2024-06-17T09:00:00Z, not sent yet"
        );
        assert_eq!(said(row("sent", 1, None)), "sent 2024-06-17T09:00:01Z");
        assert_eq!(
            said(row("pending", 2, Some("HTTP 503"))),
            "not delivered yet (2 attempts so far, retrying at 2024-06-17T09:00:10Z): HTTP 503"
        );
        assert_eq!(
            said(row("failed", 1, Some("HTTP 404: no_service"))),
            "failed after 1 attempt: HTTP 404: no_service"
        );
        assert_eq!(
            TestStatus::of(&row("failed", 1, None)).next_attempt_at,
            None
        );
    }

    #[test]
    fn waits_round_up_to_whole_seconds() {
        assert_eq!(seconds_up(10_000), 10);
        assert_eq!(seconds_up(9_001), 10);
        assert_eq!(seconds_up(1), 1);
        assert_eq!(seconds_up(0), 1);
        assert_eq!(seconds_up(-5), 1);
    }
}
