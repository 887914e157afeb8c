//! Notifications: the exact JSON each channel sends (snapshots), webhook signatures and
//! acknowledge tokens, the HTTP sender against a real local receiver, and the contact store on
//! both backends. `notify/sender.rs`: the sender against a local receiver; `notify/store.rs`:
//! contact methods and rules on both backends; `notify/test_message.rs`: "Send test" end to
//! end.

mod sender;
mod store;
pub(crate) mod test_message;

use std::collections::BTreeMap;

use serde_json::json;
use tocsin::alerts::lifecycle::{Alert, Status};
use tocsin::alerts::{EventLink, Severity};
use tocsin::catalog::Service;
use tocsin::notify::chat;
use tocsin::notify::message::{self, ACK_TTL_MS, AckError, Message};
use tocsin::notify::webhook::{self, DEFAULT_TOLERANCE, SignatureError};

use crate::support::t0;

const SECRET: &[u8] = b"server-secret";

fn now() -> i64 {
    t0().as_millisecond()
}

fn service() -> Service {
    serde_json::from_value(json!({
        "id": "catalog-api", "name": "Catalog API", "type": "rest-api", "stateful": false,
        "owner_team": "catalog-backend", "tier": 1, "domain": "catalog",
        "links": [
            {"title": "Dashboard", "url": "https://grafana.shop.example/d/catalog-api"},
            {"title": "Runbook", "url": "https://wiki.shop.example/runbooks/catalog-api"}
        ]
    }))
    .expect("service")
}

fn alert() -> Alert {
    Alert {
        id: "a1b2c3d4e5f6".into(),
        service: "catalog-api".into(),
        integration: Some("int1".into()),
        dedup_key: "fp-1".into(),
        status: Status::Triggered,
        severity: Some(Severity::Critical),
        summary: "p99 latency above 2s on /search".into(),
        source: "prometheus".into(),
        labels: BTreeMap::from([
            ("alertname".into(), "HighLatency".into()),
            ("route".into(), "/search".into()),
        ]),
        annotations: BTreeMap::new(),
        details: json!(null),
        links: vec![
            EventLink {
                href: "http://prometheus:9090/graph?g0.expr=latency".into(),
                text: "Source".into(),
            },
            // The service lists it too: shown once.
            EventLink {
                href: "https://grafana.shop.example/d/catalog-api".into(),
                text: "Latency dashboard".into(),
            },
        ],
        images: vec![],
        started_at: Some(now() - 120_000),
        created_at: now(),
        last_event_at: now(),
        acknowledged_at: None,
        acknowledged_by: None,
        resolved_at: None,
        resolved_by: None,
        event_count: 1,
    }
}

fn page() -> Message {
    // A fixed token keeps snapshots stable; tokens are tested on their own below.
    message::compose(
        &alert(),
        Some(&service()),
        None,
        "jon-doe",
        1,
        "https://tocsin.shop.example/",
        "TOKEN",
    )
}

#[test]
fn message_gathers_playbook_links_and_ack_url() {
    let m = page();
    assert_eq!(m.service_name, "Catalog API");
    assert_eq!(m.started_at, now() - 120_000);
    let playbook = m.playbook.as_ref().map(|p| p.url.as_str());
    assert_eq!(
        playbook,
        Some("https://wiki.shop.example/runbooks/catalog-api")
    );
    let links: Vec<&str> = m.links.iter().map(|l| l.url.as_str()).collect();
    assert_eq!(
        links,
        [
            "http://prometheus:9090/graph?g0.expr=latency",
            "https://grafana.shop.example/d/catalog-api"
        ]
    );
    assert_eq!(
        m.ack_url,
        "https://tocsin.shop.example/alerts/a1b2c3d4e5f6/ack?token=TOKEN"
    );

    // The alert's own runbook wins; without a service the id stands in for its name.
    let mut a = alert();
    a.annotations
        .insert("runbook_url".into(), "https://wiki/rb/latency".into());
    let m = message::compose(&a, None, None, "jon-doe", 2, "https://t", "T");
    assert_eq!(
        m.playbook.map(|p| p.url),
        Some("https://wiki/rb/latency".into())
    );
    assert_eq!(m.service_name, "catalog-api");
}

#[test]
fn webhook_payload_contract() {
    insta::assert_json_snapshot!("notify_webhook", webhook::payload(&page()));
}

#[test]
fn slack_payload_contract() {
    insta::assert_json_snapshot!("notify_slack", chat::slack(&page()));
}

#[test]
fn mattermost_payload_contract() {
    insta::assert_json_snapshot!("notify_mattermost", chat::mattermost(&page()));
}

#[test]
fn chat_payloads_neutralise_hostile_alert_text() {
    let mut a = alert();
    a.summary = "<!channel> @all [click](https://evil) *boom*".into();
    a.severity = None;
    let m = message::compose(&a, None, None, "jon-doe", 1, "https://t", "T");
    insta::assert_json_snapshot!("notify_slack_hostile", chat::slack(&m));
    insta::assert_json_snapshot!("notify_mattermost_hostile", chat::mattermost(&m));
}

#[test]
fn webhook_signature_round_trip_and_rejections() {
    let body = webhook::payload(&page()).to_string().into_bytes();
    let header = webhook::signature(b"whsec", now(), &body);
    let verify = |secret: &[u8], body: &[u8], at: i64| {
        webhook::verify_signature(secret, &header, body, at, DEFAULT_TOLERANCE)
    };
    assert_eq!(verify(b"whsec", &body, now()), Ok(()));
    assert_eq!(verify(b"whsec", &body, now() + 300_000), Ok(()));
    let mut tampered = body.clone();
    tampered[10] ^= 1;
    assert_eq!(
        verify(b"whsec", &tampered, now()),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        verify(b"other", &body, now()),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        verify(b"whsec", &body, now() + 301_000),
        Err(SignatureError::Stale)
    );
    assert_eq!(
        verify(b"whsec", &body, now() - 301_000),
        Err(SignatureError::Stale)
    );
    // A replayed signature cannot be refreshed: changing `t` breaks the MAC.
    let fresh_t = header.replacen(
        &format!("t={}", now() / 1000),
        &format!("t={}", now() / 1000 + 600),
        1,
    );
    assert_eq!(
        webhook::verify_signature(
            b"whsec",
            &fresh_t,
            &body,
            now() + 600_000,
            DEFAULT_TOLERANCE
        ),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn ack_token_sign_verify_expiry_and_tamper() {
    let expires = now() + ACK_TTL_MS;
    let token = message::sign_ack(SECRET, "a1b2c3d4e5f6", "jon-doe", expires).expect("sign");
    let claim = message::verify_ack(SECRET, &token, now()).expect("valid");
    assert_eq!(
        (claim.alert_id.as_str(), claim.person.as_str()),
        ("a1b2c3d4e5f6", "jon-doe")
    );
    assert_eq!(claim.expires, expires);
    assert!(message::verify_ack(SECRET, &token, expires).is_ok());
    assert_eq!(
        message::verify_ack(SECRET, &token, expires + 1),
        Err(AckError::Expired)
    );
    assert_eq!(
        message::verify_ack(b"other", &token, now()),
        Err(AckError::BadSignature)
    );

    // Re-pointing the token at another alert, person or expiry breaks the signature.
    let parts: Vec<&str> = token.split('.').collect();
    let swap = |i: usize, v: &str| {
        let mut p = parts.clone();
        p[i] = v;
        p.join(".")
    };
    let later = (expires + ACK_TTL_MS).to_string();
    for forged in [
        swap(1, &later),
        swap(2, &hex::encode("ffffffffffff")),
        swap(3, &hex::encode("foo-bar")),
    ] {
        assert_eq!(
            message::verify_ack(SECRET, &forged, now()),
            Err(AckError::BadSignature)
        );
    }
    for bad in [
        "",
        "v1",
        "v2.1.61.62.00",
        &swap(1, &format!("+{expires}")),
        &swap(4, "zz"),
        &"x".repeat(2000),
    ] {
        assert_eq!(
            message::verify_ack(SECRET, bad, now()),
            Err(AckError::Malformed),
            "{bad}"
        );
    }
    assert_eq!(
        message::sign_ack(SECRET, "a|b", "c", expires),
        Err(AckError::Malformed)
    );
    assert_eq!(
        message::sign_ack(SECRET, "a", "", expires),
        Err(AckError::Malformed)
    );
}
