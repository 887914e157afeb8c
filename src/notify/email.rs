//! Email over SMTP (lettre): a plain-text page with the same facts as the chat message, the
//! playbook first and the acknowledge link last; and the plain-text test notification. The transport comes from a URL
//! (`smtp://host:25`, `smtp://user:pass@host:587?tls=required`, `smtps://host:465`).

use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::engine::outbox::DeliveryError;

use super::message::{Message, severity_label};
use super::test_message::TestMessage;

/// Sends pages by email.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// A mailer for `smtp_url`, sending as `from` ("Tocsin <tocsin@example.com>").
    pub fn new(smtp_url: &str, from: &str) -> Result<Self, String> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url)
            .map_err(|e| format!("smtp_url: {e}"))?
            .timeout(Some(super::SEND_TIMEOUT))
            .build();
        let from = from
            .parse()
            .map_err(|e| format!("email_from {from:?}: {e}"))?;
        Ok(Self { transport, from })
    }

    /// Sends `message` to `to`. A refused address is final; a server or network failure is
    /// worth retrying.
    pub async fn send(&self, to: &str, message: &Message) -> Result<(), DeliveryError> {
        self.send_text(to, &subject(message), text(message)).await
    }

    /// Sends a plain-text email already composed (incident messages are rendered when queued).
    pub async fn send_text(
        &self,
        to: &str,
        subject: &str,
        body: String,
    ) -> Result<(), DeliveryError> {
        let to: Mailbox = to.parse().map_err(|e| DeliveryError {
            message: format!("bad address {to:?}: {e}"),
            retryable: false,
        })?;
        let email = lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| DeliveryError {
                message: format!("cannot build the email: {e}"),
                retryable: false,
            })?;
        self.transport
            .send(email)
            .await
            .map(|_| ())
            .map_err(|e| DeliveryError {
                retryable: !e.is_permanent(),
                message: format!("SMTP: {e}"),
            })
    }
}

/// "[Critical] checkout-api: Checkout error rate above 5%".
pub fn subject(m: &Message) -> String {
    format!(
        "[{}] {}: {}",
        severity_label(m.severity),
        m.service_name,
        m.summary
    )
}

/// The plain-text body.
pub fn text(m: &Message) -> String {
    let mut out = format!(
        "{}\n\nSeverity: {}\nService: {}\nEscalation level: {}\n",
        m.summary,
        severity_label(m.severity),
        m.service_name,
        m.level
    );
    if let Some(p) = &m.playbook {
        out.push_str(&format!("Playbook: {} <{}>\n", p.title, p.url));
    }
    if !m.labels.is_empty() {
        out.push_str("\nLabels:\n");
        for (k, v) in &m.labels {
            out.push_str(&format!("  {k}: {v}\n"));
        }
    }
    if !m.links.is_empty() {
        out.push_str("\nLinks:\n");
        for l in &m.links {
            out.push_str(&format!("  {} <{}>\n", l.title, l.url));
        }
    }
    out.push_str(&format!(
        "\nOpen the alert: {}\nAcknowledge: {}\n",
        m.alert_url, m.ack_url
    ));
    out
}

/// "[Test] Test notification from Tocsin for Jon Doe via email".
pub fn test_subject(t: &TestMessage) -> String {
    format!("[Test] {}", t.headline())
}

/// The plain-text body of a test notification: no acknowledge link, nothing to act on.
pub fn test_text(t: &TestMessage) -> String {
    format!(
        "{}.\n\n{}\n\nContact method: {}\nTest: {} (queued {})\n\n\
         Your notification settings: {}\n",
        t.headline(),
        t.explanation(),
        t.method_id,
        t.outbox_id,
        crate::clock::format_ms(t.queued_at),
        t.settings_url
    )
}
