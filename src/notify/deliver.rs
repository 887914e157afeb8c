//! The engine's deliverer: turns one outbox row into one message on one channel.
//!
//! For each attempt it reads the alert (or, for a bundle, every alert still open in it), the
//! service from the catalog snapshot, and the contact method (or the person's catalog email
//! for the default channel); composes the [`Message`] with a fresh signed acknowledge link;
//! and sends it by HTTP (webhook, Slack, Mattermost) or SMTP. Composing at each attempt keeps
//! the webhook timestamp fresh and the content current (a summary that changed, a bundle that
//! shrank as alerts were acknowledged).
//!
//! A test row (`notify::test_message`) goes to its contact method with the test's content
//! and no acknowledge link, through the same sender, guard and idempotency header.

use std::sync::Arc;

use crate::alerts::lifecycle::{Alert, Status};
use crate::catalog::snapshot::SnapshotCache;
use crate::clock::SharedClock;
use crate::db::{Db, StoreError};
use crate::engine::outbox::{Deliver, DeliverFuture, DeliveryError, KIND_TEST, OutboxRow};

use super::contact::{ContactKind, ContactMethod};
use super::email::Mailer;
use super::message::{ACK_TTL_MS, Message, compose, sign_ack};
use super::test_message::TestMessage;
use super::{IDEMPOTENCY_HEADER, Outgoing, prepare, prepare_test, send};

/// Sends outbox rows. Cheap to share: one per process.
pub struct Deliverer {
    pub db: Db,
    pub clock: SharedClock,
    pub snapshots: Arc<SnapshotCache>,
    pub client: reqwest::Client,
    pub mailer: Option<Mailer>,
    /// Tocsin's public address, for links in messages.
    pub base_url: String,
    /// Signs one-click acknowledge links (see `notify::message`).
    pub ack_secret: Vec<u8>,
    /// Also refuse loopback and private addresses (see `notify::guard`).
    pub block_private: bool,
}

fn fail(message: impl Into<String>, retryable: bool) -> DeliveryError {
    DeliveryError {
        message: message.into(),
        retryable,
    }
}

/// A database hiccup is worth another try.
fn store_error(e: StoreError) -> DeliveryError {
    fail(format!("database: {e}"), true)
}

impl Deliverer {
    async fn deliver_row(&self, row: &OutboxRow) -> Result<(), DeliveryError> {
        let now = self.clock.now_ms();
        let snapshot = self.snapshots.get(&self.db).await.map_err(store_error)?;
        let catalog = &snapshot.catalog;
        let method = self.method(row, catalog).await?;
        if row.kind == KIND_TEST {
            return self.deliver_test(row, catalog, &method, now).await;
        }
        let alerts = self.open_alerts(row).await?;
        let Some(first) = alerts.first() else {
            return Err(fail("every alert in it was handled", false));
        };
        let expires = now.saturating_add(ACK_TTL_MS);
        let token = sign_ack(&self.ack_secret, &first.id, &row.person_id, expires)
            .map_err(|e| fail(format!("cannot sign the acknowledge link: {e}"), false))?;
        let service = catalog.service(&first.service);
        let level = u32::try_from(row.level)
            .unwrap_or(u32::MAX)
            .saturating_add(1);
        let routing = crate::alerts::automation::store::routing(&self.db, &first.id)
            .await
            .map_err(store_error)?;
        let playbook = routing
            .playbook
            .as_deref()
            .and_then(|p| catalog.playbook(p));
        let mut message = compose(
            first,
            service,
            playbook,
            &row.person_id,
            level,
            &self.base_url,
            &token,
        );
        if let Some(p) = catalog.person(&row.person_id) {
            message.person = p.name.clone();
        }
        if alerts.len() > 1 {
            bundle(&mut message, &alerts, &self.base_url);
        }
        if method.kind == ContactKind::Email {
            let Some(mailer) = &self.mailer else {
                return Err(fail("email is not configured (set smtp_url)", false));
            };
            return mailer.send(&method.target, &message).await;
        }
        self.post(row, prepare(&method, &message, now)).await
    }

    /// A test notification: what it says, by the method's channel.
    async fn deliver_test(
        &self,
        row: &OutboxRow,
        catalog: &crate::catalog::Catalog,
        method: &ContactMethod,
        now: i64,
    ) -> Result<(), DeliveryError> {
        let test = TestMessage {
            outbox_id: row.id,
            person_id: row.person_id.clone(),
            person_name: catalog
                .person(&row.person_id)
                .map_or_else(|| row.person_id.clone(), |p| p.name.clone()),
            method_id: method.id.clone(),
            kind: method.kind,
            queued_at: row.created_at,
            settings_url: format!(
                "{}/people/{}#notifications",
                self.base_url.trim_end_matches('/'),
                crate::auth::extract::encode(&row.person_id)
            ),
        };
        if method.kind == ContactKind::Email {
            let Some(mailer) = &self.mailer else {
                return Err(fail("email is not configured (set smtp_url)", false));
            };
            let subject = super::email::test_subject(&test);
            return mailer
                .send_text(&method.target, &subject, super::email::test_text(&test))
                .await;
        }
        self.post(row, prepare_test(method, &test, now)).await
    }

    /// Sends a prepared HTTP message with the row's idempotency key, where the guard allows.
    async fn post(&self, row: &OutboxRow, out: Option<Outgoing>) -> Result<(), DeliveryError> {
        let Some(mut out) = out else {
            return Err(fail("nothing to send for this channel", false));
        };
        super::guard::check_url(&out.url, self.block_private).map_err(|e| fail(e, false))?;
        out.headers
            .push((IDEMPOTENCY_HEADER, row.idempotency_key.clone()));
        send(&self.client, &out.url, out.body, &out.headers)
            .await
            .map_err(|e| fail(e.reason, e.retryable))
    }

    /// The row's contact method, or the person's default: email to their catalog address.
    async fn method(
        &self,
        row: &OutboxRow,
        catalog: &crate::catalog::Catalog,
    ) -> Result<ContactMethod, DeliveryError> {
        match &row.contact_method_id {
            Some(id) => match super::store::get_method(&self.db, id).await {
                Ok(m) => Ok(m),
                Err(StoreError::NotFound) => Err(fail("the contact method was removed", false)),
                Err(e) => Err(store_error(e)),
            },
            None => {
                let person = catalog
                    .person(&row.person_id)
                    .ok_or_else(|| fail(format!("no person {}", row.person_id), false))?;
                Ok(ContactMethod {
                    id: String::new(),
                    person: person.id.clone(),
                    kind: ContactKind::Email,
                    target: person.email.clone(),
                    secret: None,
                    created_at: 0,
                    verified_at: None,
                })
            }
        }
    }

    /// The row's alerts that still wait for someone, in bundle order.
    async fn open_alerts(&self, row: &OutboxRow) -> Result<Vec<Alert>, DeliveryError> {
        let ids = crate::engine::store::message_alerts(&self.db, row)
            .await
            .map_err(store_error)?;
        let mut open = Vec::new();
        for id in ids {
            match crate::alerts::store::get(&self.db, &id).await {
                Ok((alert, _)) if alert.status == Status::Triggered => open.push(alert),
                Ok(_) | Err(StoreError::NotFound) => {}
                Err(e) => return Err(store_error(e)),
            }
        }
        Ok(open)
    }
}

/// Turns a one-alert message into a bundle's: the count in the summary, the list page as its
/// link. The acknowledge link still covers the first alert only: acknowledging a whole storm
/// should be a deliberate act on the list page.
fn bundle(message: &mut Message, alerts: &[Alert], base_url: &str) {
    let more = alerts.len() - 1;
    message.summary = format!(
        "{} open alerts on {}: {} (and {more} more)",
        alerts.len(),
        message.service_name,
        message.summary
    );
    message.alert_url = format!(
        "{}/alerts?service={}&status=triggered",
        base_url.trim_end_matches('/'),
        message.service_id
    );
}

impl Deliver for Deliverer {
    fn deliver<'a>(&'a self, row: &'a OutboxRow) -> DeliverFuture<'a> {
        Box::pin(self.deliver_row(row))
    }

    fn deliver_incident<'a>(
        &'a self,
        message: &'a crate::incidents::store::delivery::Claimed,
    ) -> DeliverFuture<'a> {
        let channels = crate::incidents::deliver::Channels {
            db: &self.db,
            client: &self.client,
            mailer: self.mailer.as_ref(),
            block_private: self.block_private,
            now: self.clock.now_ms(),
        };
        Box::pin(crate::incidents::deliver::send_one(channels, message))
    }
}
