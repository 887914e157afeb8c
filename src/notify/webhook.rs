//! The generic webhook channel: a JSON page, signed so the receiver can tell it came from us
//! and is fresh.
//!
//! Body (`Content-Type: application/json`):
//!
//! ```json
//! {"event": "page",
//!  "alert": {"id": "…", "summary": "…", "severity": "critical" | null,
//!            "service": {"id": "…", "name": "…"}, "started_at": "2024-06-17T09:00:00Z",
//!            "labels": {…}, "playbook": {"title": "…", "url": "…"} | null,
//!            "links": [{"title": "…", "url": "…"}], "url": "<the alert's page>"},
//!  "person": "jon-doe", "level": 1, "ack_url": "…"}
//! ```
//!
//! A test notification ("Send test", `notify::test_message`) is signed the same way and
//! named by `"event": "test"` and `X-Tocsin-Event: test`, so a receiver can tell it from a
//! page without parsing further:
//!
//! ```json
//! {"event": "test", "text": "Test notification from Tocsin for Jon Doe via webhook",
//!  "person": "jon-doe", "contact_method": "…", "test_id": 42,
//!  "queued_at": "2024-06-17T09:00:00Z", "settings_url": "…"}
//! ```
//!
//! Signature header: `X-Tocsin-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>` where the
//! MAC key is the contact method's secret and the message is `"<t>." + raw body bytes`. A
//! receiver recomputes it over the body exactly as received (before any JSON parsing), compares
//! in constant time, and rejects a `t` more than a few minutes from its clock (replays). Several
//! `v1=` entries may appear (secret rotation): one match is enough. The sender signs at each
//! attempt, so a retried delivery carries a fresh `t`.

use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::{Value, json};

use crate::clock::{Millis, format_ms};

use super::message::{Message, MessageLink};
use super::test_message::TestMessage;

/// The header that carries the signature.
pub const SIGNATURE_HEADER: &str = "X-Tocsin-Signature";
/// The header that names the event, so receivers can route before parsing the body.
pub const EVENT_HEADER: &str = "X-Tocsin-Event";

/// The replay window we recommend to receivers (and use in tests): Slack's five minutes.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// The JSON body of a page.
pub fn payload(m: &Message) -> Value {
    json!({
        "event": "page",
        "alert": {
            "id": m.alert_id,
            "summary": m.summary,
            "severity": m.severity,
            "service": {"id": m.service_id, "name": m.service_name},
            "started_at": format_ms(m.started_at),
            "labels": m.labels,
            "playbook": m.playbook.as_ref().map(link),
            "links": m.links.iter().map(link).collect::<Vec<_>>(),
            "url": m.alert_url,
        },
        "person": m.person,
        "level": m.level,
        "ack_url": m.ack_url,
    })
}

/// The JSON body of a test notification: no alert, no acknowledge link.
pub fn test_payload(t: &TestMessage) -> Value {
    json!({
        "event": "test",
        "text": t.headline(),
        "explanation": t.explanation(),
        "person": t.person_id,
        "contact_method": t.method_id,
        "test_id": t.outbox_id,
        "queued_at": format_ms(t.queued_at),
        "settings_url": t.settings_url,
    })
}

fn link(l: &MessageLink) -> Value {
    json!({"title": l.title, "url": l.url})
}

fn mac(secret: &[u8], t: i64, body: &[u8]) -> Hmac<sha2::Sha256> {
    // HMAC accepts keys of any length, so new_from_slice cannot fail.
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes any key");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The `X-Tocsin-Signature` value for `body` sent at `now`.
pub fn signature(secret: &[u8], now: Millis, body: &[u8]) -> String {
    let t = now.div_euclid(1000);
    let tag = mac(secret, t, body).finalize().into_bytes();
    format!("t={t},v1={}", hex::encode(tag))
}

/// The headers a signed page carries (besides `Content-Type`).
pub fn headers(secret: &[u8], now: Millis, body: &[u8]) -> Vec<(&'static str, String)> {
    event_headers("page", secret, now, body)
}

/// The headers a signed `event` (page or test) carries (besides `Content-Type`).
pub fn event_headers(
    event: &str,
    secret: &[u8],
    now: Millis,
    body: &[u8],
) -> Vec<(&'static str, String)> {
    vec![
        (SIGNATURE_HEADER, signature(secret, now, body)),
        (EVENT_HEADER, event.to_string()),
    ]
}

/// Why a signature was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("malformed signature header")]
    Malformed,
    #[error("signature does not match the body")]
    Mismatch,
    #[error("signature timestamp outside the tolerance")]
    Stale,
}

/// Verifies a signature header over the raw `body` at `now`, accepting a timestamp at most
/// `tolerance` away (either side: clocks drift both ways). For receivers and tests.
pub fn verify_signature(
    secret: &[u8],
    header: &str,
    body: &[u8],
    now: Millis,
    tolerance: Duration,
) -> Result<(), SignatureError> {
    let mut t = None;
    let mut tags = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) if t.is_none() => {
                t = Some(v.parse::<i64>().map_err(|_| SignatureError::Malformed)?);
            }
            Some(("v1", v)) => tags.push(hex::decode(v).map_err(|_| SignatureError::Malformed)?),
            // Unknown schemes are skipped so a future v2 can be added alongside v1.
            Some((_, _)) => {}
            None => return Err(SignatureError::Malformed),
        }
    }
    let t = t.ok_or(SignatureError::Malformed)?;
    if tags.is_empty() {
        return Err(SignatureError::Malformed);
    }
    // Check the MAC before the time, so a forged header learns nothing about our clock.
    let expected = mac(secret, t, body);
    if !tags
        .iter()
        .any(|tag| expected.clone().verify_slice(tag).is_ok())
    {
        return Err(SignatureError::Mismatch);
    }
    let age = now.div_euclid(1000).abs_diff(t);
    if age > tolerance.as_secs() {
        return Err(SignatureError::Stale);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"whsec_test";
    const NOW: Millis = 1_718_614_800_000;

    #[test]
    fn known_answer() {
        // Recomputed with Python: hmac.new(b"whsec_test", b"1718614800.{}", sha256).hexdigest()
        assert_eq!(
            signature(SECRET, NOW, b"{}"),
            "t=1718614800,v1=d81efa6617a53a3f9b3cc160e2227af97304ad1f084138f4db8ab75d3234b41e"
        );
    }

    #[test]
    fn rejects_malformed_headers() {
        for h in ["", "t=1", "v1=00", "t=x,v1=00", "t=1,v1=zz", "garbage"] {
            assert_eq!(
                verify_signature(SECRET, h, b"{}", NOW, DEFAULT_TOLERANCE),
                Err(SignatureError::Malformed),
                "{h:?}"
            );
        }
    }

    #[test]
    fn accepts_any_of_several_v1_and_skips_unknown_schemes() {
        let good = signature(SECRET, NOW, b"{}");
        let tag = good.split_once("v1=").map_or("", |(_, t)| t);
        let header = format!("t=1718614800,v0=abc,v1={},v1={tag}", "00".repeat(32));
        assert_eq!(
            verify_signature(SECRET, &header, b"{}", NOW, DEFAULT_TOLERANCE),
            Ok(())
        );
    }
}
