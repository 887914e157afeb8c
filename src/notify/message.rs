//! What a page says, independent of the channel: [`Message`] gathers the alert, its service,
//! the links a responder needs first (the playbook above all) and a signed one-click
//! acknowledge link. Pure: the caller passes the alert, the service, `now` and the secret.
//!
//! The acknowledge token is `v1.<expires>.<hex(alert id)>.<hex(person)>.<hex mac>`, where the
//! MAC is HMAC-SHA256 over `alert_id|person|expires` (milliseconds) with the server's secret.
//! The fields travel hex-encoded so the token is URL-safe whatever the ids contain, and `|` is
//! refused inside them so no two (alert, person) pairs can share a MAC input.
//!
//! For the endpoint that will serve the link: a GET must only show a confirmation page whose
//! button POSTs, because mail scanners and link previewers fetch URLs nobody clicked.

use std::collections::BTreeMap;

use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

use crate::alerts::Severity;
use crate::alerts::lifecycle::Alert;
use crate::catalog::{Playbook, Service};
use crate::clock::Millis;

/// How long a one-click acknowledge link works: long enough for a page read the next morning,
/// short enough that a forwarded old message cannot silence a later incident's alert.
pub const ACK_TTL_MS: Millis = 24 * 60 * 60 * 1000;

/// Tokens longer than this are rejected before any decoding (they come from URLs).
const MAX_TOKEN_LEN: usize = 1024;

/// A link shown in a page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MessageLink {
    pub title: String,
    pub url: String,
}

/// Everything a channel renders. Built once per (alert, person, level) by [`compose`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Message {
    pub alert_id: String,
    pub summary: String,
    pub severity: Option<Severity>,
    pub service_id: String,
    /// The catalog name, or the id when the service has left the catalog since.
    pub service_name: String,
    /// When the problem started (the sender's time when it gave one, else when we opened it).
    pub started_at: Millis,
    pub labels: BTreeMap<String, String>,
    /// The runbook: the alert's `runbook_url` annotation, else the service's runbook link.
    pub playbook: Option<MessageLink>,
    /// The alert's own links, then the service's (dashboards…), without repeats.
    pub links: Vec<MessageLink>,
    /// The alert's page in Tocsin.
    pub alert_url: String,
    pub ack_url: String,
    /// Who is paged, and at which escalation level (1-based).
    pub person: String,
    pub level: u32,
}

/// Severity as people read it.
pub fn severity_label(s: Option<Severity>) -> &'static str {
    match s {
        Some(Severity::Critical) => "Critical",
        Some(Severity::Error) => "Error",
        Some(Severity::Warning) => "Warning",
        Some(Severity::Info) => "Info",
        None => "Unknown",
    }
}

/// Builds the message for paging `person` at `level` about `alert`. `base_url` is the public
/// address of Tocsin (no trailing slash needed); `ack_token` comes from [`sign_ack`].
pub fn compose(
    alert: &Alert,
    service: Option<&Service>,
    configured: Option<&Playbook>,
    person: &str,
    level: u32,
    base_url: &str,
    ack_token: &str,
) -> Message {
    let base = base_url.trim_end_matches('/');
    let mut links: Vec<MessageLink> = Vec::new();
    let mut push = |title: &str, url: &str| {
        if !url.is_empty() && !links.iter().any(|l| l.url == url) {
            let title = if title.trim().is_empty() {
                url
            } else {
                title.trim()
            };
            links.push(MessageLink {
                title: title.to_string(),
                url: url.to_string(),
            });
        }
    };
    for l in &alert.links {
        push(&l.text, &l.href);
    }
    for l in service.map_or(&[][..], |s| &s.links[..]) {
        push(&l.title, &l.url);
    }
    let playbook = configured
        .map(|p| MessageLink {
            title: p.title.clone(),
            // Steps are shown (and actions run) on the alert's page.
            url: p
                .url
                .clone()
                .unwrap_or_else(|| format!("{base}/alerts/{}#playbook", alert.id)),
        })
        .or_else(|| playbook(alert, service));
    // The playbook has its own line; listing it again among the links is noise.
    if let Some(p) = &playbook {
        links.retain(|l| l.url != p.url);
    }
    Message {
        alert_id: alert.id.clone(),
        summary: alert.summary.clone(),
        severity: alert.severity,
        service_id: alert.service.clone(),
        service_name: service.map_or_else(|| alert.service.clone(), |s| s.name.clone()),
        started_at: alert.started_at.unwrap_or(alert.created_at),
        labels: alert.labels.clone(),
        playbook,
        links,
        alert_url: format!("{base}/alerts/{}", alert.id),
        ack_url: format!("{base}/alerts/{}/ack?token={ack_token}", alert.id),
        person: person.to_string(),
        level,
    }
}

/// Without a playbook set by an alert rule (which wins: it was configured for exactly this
/// alert), the alert's own runbook wins (it is specific to the rule that fired); otherwise the
/// service's first link titled like a runbook or playbook.
pub fn playbook(alert: &Alert, service: Option<&Service>) -> Option<MessageLink> {
    if let Some(url) = alert
        .annotations
        .get("runbook_url")
        .filter(|u| !u.is_empty())
    {
        return Some(MessageLink {
            title: "Runbook".into(),
            url: url.clone(),
        });
    }
    service?
        .links
        .iter()
        .find(|l| {
            let t = l.title.to_lowercase();
            t.contains("runbook") || t.contains("playbook")
        })
        .map(|l| MessageLink {
            title: l.title.clone(),
            url: l.url.clone(),
        })
}

/// Why an acknowledge token was refused. Callers answer all of them the same way (a link that
/// no longer works); the variants are for logs and tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AckError {
    #[error("malformed acknowledge token")]
    Malformed,
    #[error("acknowledge token signature does not match")]
    BadSignature,
    #[error("acknowledge token expired")]
    Expired,
}

/// What a valid acknowledge token vouches for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AckClaim {
    pub alert_id: String,
    pub person: String,
    pub expires: Millis,
}

fn ack_mac(secret: &[u8], alert_id: &str, person: &str, expires: Millis) -> Hmac<Sha256> {
    // HMAC accepts keys of any length, so new_from_slice cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes any key");
    mac.update(format!("{alert_id}|{person}|{expires}").as_bytes());
    mac
}

/// Signs a one-click acknowledge link for `person` on `alert_id`, valid until `expires`
/// (usually `now + ACK_TTL_MS`). Malformed when an id is empty or contains `|`.
pub fn sign_ack(
    secret: &[u8],
    alert_id: &str,
    person: &str,
    expires: Millis,
) -> Result<String, AckError> {
    if !field_ok(alert_id) || !field_ok(person) {
        return Err(AckError::Malformed);
    }
    let tag = ack_mac(secret, alert_id, person, expires)
        .finalize()
        .into_bytes();
    Ok(format!(
        "v1.{expires}.{}.{}.{}",
        hex::encode(alert_id),
        hex::encode(person),
        hex::encode(tag)
    ))
}

/// Checks a token from an acknowledge link: the signature (constant-time), then expiry. The
/// endpoint must still check that the claim's alert is the one in the path.
pub fn verify_ack(secret: &[u8], token: &str, now: Millis) -> Result<AckClaim, AckError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(AckError::Malformed);
    }
    let parts: Vec<&str> = token.split('.').collect();
    let ["v1", expires, alert, person, tag] = parts[..] else {
        return Err(AckError::Malformed);
    };
    let raw_expires = expires;
    let expires: Millis = expires.parse().map_err(|_| AckError::Malformed)?;
    // Only the canonical spelling (no `+`, no leading zeros): one token per signed claim.
    if expires.to_string() != raw_expires {
        return Err(AckError::Malformed);
    }
    let decode = |h: &str| {
        hex::decode(h)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .filter(|s| field_ok(s))
            .ok_or(AckError::Malformed)
    };
    let (alert_id, person) = (decode(alert)?, decode(person)?);
    let tag = hex::decode(tag).map_err(|_| AckError::Malformed)?;
    ack_mac(secret, &alert_id, &person, expires)
        .verify_slice(&tag)
        .map_err(|_| AckError::BadSignature)?;
    // Expiry after the signature, so an attacker learns nothing from forged expiries.
    if now > expires {
        return Err(AckError::Expired);
    }
    Ok(AckClaim {
        alert_id,
        person,
        expires,
    })
}

fn field_ok(s: &str) -> bool {
    !s.is_empty() && !s.contains('|')
}
