//! A generic webhook backlog: Tocsin POSTs each new action item as JSON, signed like pages
//! (`X-Tocsin-Signature: t=…,v1=HMAC-SHA256(secret, "t." + body)`, `notify::webhook`), with
//! `X-Tocsin-Event: action_item.created` and `Idempotency-Key: action-item-<id>` (the same on
//! every retry of one item, so the receiver can drop a repeat whose answer we never got).
//!
//! Body: `{"event": "action_item.created", "action": {id, postmortem, title, kind, owner,
//! owner_name, team, due_at, due_date}, "severity", "labels", "incident_title",
//! "postmortem_url", "incident_url", "api_url"}`. A 2xx answer may carry `{"key", "url"}`
//! naming the receiver's item (stored and shown); otherwise the key is `action-item-<id>`.
//! Its state is never read back: the receiver PATCHes the action item through `api_url`.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::clock::Millis;
use crate::notify::webhook::{EVENT_HEADER, SIGNATURE_HEADER, signature};

use super::settings::{Secret, base_url};
use super::{Call, Created, Export, SyncError, send};

pub const EVENT: &str = "action_item.created";

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub url: String,
    /// The HMAC key of the signature; the receiver holds the same.
    pub secret: Secret,
}

impl Config {
    pub fn check(&self) -> Result<(), String> {
        base_url("backlog.webhook.url", &self.url)?;
        if self.secret.is_empty() {
            return Err("backlog.webhook.secret is required (requests are signed)".into());
        }
        Ok(())
    }
}

/// The key the receiver sees in `Idempotency-Key` and we store when it names none.
pub fn item_key(id: i64) -> String {
    format!("action-item-{id}")
}

/// The signed request, at `now` (the signature's timestamp).
pub fn create_call(c: &Config, ex: &Export<'_>, now: Millis) -> Call {
    let a = ex.item;
    let body = json!({
        "event": EVENT,
        "action": {
            "id": a.id,
            "postmortem": a.incident_id,
            "title": a.title,
            "kind": a.kind.as_str(),
            "owner": a.owner,
            "owner_name": ex.owner_name,
            "team": a.team,
            "due_at": a.due_at,
            "due_date": ex.due_date(),
        },
        "severity": ex.severity,
        "labels": ex.labels(),
        "incident_title": ex.incident_title,
        "postmortem_url": ex.postmortem_url,
        "incident_url": ex.incident_url,
        "api_url": format!(
            "{}/api/v1/postmortems/{}/actions/{}",
            ex.postmortem_url
                .rsplit_once("/postmortems/")
                .map_or("", |(base, _)| base),
            a.incident_id,
            a.id
        ),
    })
    .to_string()
    .into_bytes();
    Call {
        method: reqwest::Method::POST,
        url: c.url.clone(),
        headers: vec![
            (
                SIGNATURE_HEADER,
                signature(c.secret.expose().as_bytes(), now, &body),
            ),
            (EVENT_HEADER, EVENT.into()),
            (crate::notify::IDEMPOTENCY_HEADER, item_key(a.id)),
        ],
        basic: None,
        body: Some(body),
    }
}

pub async fn create(
    client: &reqwest::Client,
    c: &Config,
    ex: &Export<'_>,
    now: Millis,
) -> Result<Created, SyncError> {
    let answer = send(client, create_call(c, ex, now)).await?;
    let text = |k: &str| {
        answer
            .get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty() && s.len() <= 500)
            .map(str::to_string)
    };
    Ok(Created {
        key: text("key").unwrap_or_else(|| item_key(ex.item.id)),
        url: text("url").filter(|u| u.starts_with("https://") || u.starts_with("http://")),
        state: "open".into(),
    })
}
