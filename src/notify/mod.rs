//! Notifications out: what a page says ([`message`]), how each channel writes it ([`webhook`],
//! [`chat`]), who is reached how ([`contact`], [`store`]), and the one HTTP sender, [`send`].
//!
//! The engine decides *when* to page and queues outbox rows; its deliverer calls [`prepare`]
//! then [`send`] for each attempt. Preparing at each attempt (not when queuing) matters: the
//! webhook signature carries a timestamp that receivers check for freshness.
//!
//! [`deliver`] is the engine's deliverer; [`email`] sends over SMTP; [`guard`] keeps requests
//! away from addresses they must not reach; [`ack`] serves the one-click acknowledge link;
//! [`test_message`] queues a contact method's test notification, which [`prepare_test`] renders.

pub mod ack;
pub mod api;
pub mod chat;
pub mod contact;
pub mod deliver;
pub mod email;
pub mod guard;
pub mod message;
pub mod plan;
pub mod store;
pub mod test_message;
pub mod web;
pub mod webhook;

use std::time::Duration;

use crate::clock::Millis;

use contact::{ContactKind, ContactMethod};
use message::Message;
use test_message::TestMessage;

/// One HTTP attempt may take this long, connect to last byte: a hung receiver must not hold a
/// deliverer, and the outbox retries anyway.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// The header the deliverer sets to the outbox idempotency key, so receivers can drop a repeat
/// of a delivery whose outcome we could not learn.
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";

/// Error bodies are kept to this many bytes in `SendError::reason` (Slack's are short codes).
const MAX_REASON_BODY: usize = 200;

/// A request ready to send: the exact body bytes (what a signature covers) and its headers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outgoing {
    pub url: String,
    pub body: Vec<u8>,
    pub headers: Vec<(&'static str, String)>,
}

/// Renders `message` for `method` at `now`. None for email, which is not an HTTP channel.
pub fn prepare(method: &ContactMethod, message: &Message, now: Millis) -> Option<Outgoing> {
    let (value, secret) = match method.kind {
        ContactKind::Webhook => (webhook::payload(message), method.secret.as_deref()),
        ContactKind::Slack => (chat::slack(message), None),
        ContactKind::Mattermost => (chat::mattermost(message), None),
        ContactKind::Email => return None,
    };
    Some(outgoing(method, &value, secret, "page", now))
}

/// Renders test notification `t` for `method` at `now`, signed like a page. None for email.
pub fn prepare_test(method: &ContactMethod, t: &TestMessage, now: Millis) -> Option<Outgoing> {
    let (value, secret) = match method.kind {
        ContactKind::Webhook => (webhook::test_payload(t), method.secret.as_deref()),
        ContactKind::Slack => (chat::slack_test(t), None),
        ContactKind::Mattermost => (chat::mattermost_test(t), None),
        ContactKind::Email => return None,
    };
    Some(outgoing(method, &value, secret, "test", now))
}

/// The request for `value`: signed over its exact bytes as `event` when there is a secret.
fn outgoing(
    method: &ContactMethod,
    value: &serde_json::Value,
    secret: Option<&str>,
    event: &str,
    now: Millis,
) -> Outgoing {
    let body = value.to_string().into_bytes();
    let headers = match secret {
        Some(s) => webhook::event_headers(event, s.as_bytes(), now, &body),
        None => Vec::new(),
    };
    Outgoing {
        url: method.target.clone(),
        body,
        headers,
    }
}

/// Why an attempt failed, and whether trying again later can help.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct SendError {
    /// Network trouble, timeouts, 5xx, 408 and 429: try again. Other answers will not change.
    pub retryable: bool,
    pub reason: String,
    /// The receiver's status, when it answered.
    pub status: Option<u16>,
    /// A `Retry-After` in seconds, when the receiver gave one (429, 503).
    pub retry_after: Option<u64>,
}

impl SendError {
    fn network(retryable: bool, e: reqwest::Error) -> Self {
        // Without the URL: Slack's and Mattermost's carry their key.
        let e = e.without_url();
        Self {
            retryable,
            reason: format!("request failed: {e}"),
            status: None,
            retry_after: None,
        }
    }
}

/// The client every sender shares: the attempt timeout, and no redirects (a 3xx is an error:
/// following it would turn a POST into a GET, or lead somewhere the user never configured).
pub fn client() -> Result<reqwest::Client, reqwest::Error> {
    client_with(false)
}

/// [`client`] with the address guard (see [`guard`]); `block_private` also refuses loopback
/// and private networks.
pub fn client_with(block_private: bool) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .dns_resolver(guard::GuardedResolver { block_private })
        .timeout(SEND_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("Tocsin/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// POSTs `body` as JSON to `url` with `headers`; Ok only on a 2xx.
pub async fn send(
    client: &reqwest::Client,
    url: &str,
    body: Vec<u8>,
    headers: &[(&str, String)],
) -> Result<(), SendError> {
    let mut req = client
        .post(url)
        .timeout(SEND_TIMEOUT)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body);
    for (name, value) in headers {
        req = req.header(*name, value.as_str());
    }
    let mut resp = match req.send().await {
        Ok(r) => r,
        // A bad URL or header never gets better; everything else (DNS, refused, reset,
        // timeout) is the network's mood and worth another try.
        Err(e) if e.is_builder() => return Err(SendError::network(false, e)),
        Err(e) => return Err(SendError::network(true, e)),
    };
    let status = resp.status();
    if status.is_success() {
        return Ok(());
    }
    let code = status.as_u16();
    let retry_after = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let retryable = status.is_server_error() || code == 429 || code == 408;
    // Read only the start of the body: the reason is for people, and a hostile receiver must
    // not make us buffer megabytes.
    let mut snippet = Vec::new();
    while snippet.len() < MAX_REASON_BODY {
        match resp.chunk().await {
            Ok(Some(chunk)) => snippet.extend_from_slice(&chunk),
            _ => break,
        }
    }
    snippet.truncate(MAX_REASON_BODY);
    let text = String::from_utf8_lossy(&snippet);
    let text = text.trim();
    Err(SendError {
        retryable,
        reason: if text.is_empty() {
            format!("HTTP {code}")
        } else {
            format!("HTTP {code}: {text}")
        },
        status: Some(code),
        retry_after,
    })
}
