//! Action items into the team's backlog: GitHub Issues, Jira, or a generic signed webhook
//! (one backlog at a time, from the `[backlog]` settings, `backlog/settings.rs`).
//!
//! Export: an open action item without a backlog item gets one, at the engine pass after
//! `export_delay_seconds` (a grace period for fixing the title just typed) or at once on
//! demand (the API and the action-items page). Refresh: every `refresh_minutes`, the item's
//! state is read back (GitHub, Jira; a webhook receiver PATCHes the action item instead).
//!
//! Never two items for one action: before any HTTP call the process takes a lease on the row
//! (`store::claim`), longer than the HTTP timeout, so concurrent passes, instances and button
//! presses take turns, and the next one sees the key the first stored. When the outcome is
//! unknown (a timeout after the request went out, a crash holding the lease) we retry: a lost
//! follow-up is worse than a duplicate a person closes in one click, the same ranking as
//! pages. The webhook carries `Idempotency-Key: action-item-<id>` so its receiver can drop
//! such a repeat; GitHub and Jira have no such header (the body names the action item).
//! A failed attempt stores its reason (without credentials) and backs off: 1 minute doubling
//! up to an hour, retried for as long as the item is open.

pub mod github;
pub mod jira;
pub mod settings;
pub mod store;
pub mod sync;
pub mod webhook;

pub use sync::{Report, backoff_ms, pass, sync_now};

use std::time::Duration;

use serde_json::Value;

use super::ActionItem;

pub use settings::{BacklogSettings, Secret};

/// How long a claim holds an item: far beyond the HTTP timeout, so a live holder always
/// finishes first; a crashed one's item is retried this long after.
pub const LEASE_MS: i64 = 120_000;
/// Items synced per engine pass; the rest wait for the next second.
const BATCH: u32 = 20;
/// One backlog call may take this long.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// Error bodies are kept to this many bytes.
const MAX_REASON_BODY: usize = 300;

/// Where items go, with its settings.
#[derive(Clone, Debug)]
pub enum Target {
    GitHub(github::Config),
    Jira(jira::Config),
    Webhook(webhook::Config),
}

/// The configured backlog, ready to call.
#[derive(Clone, Debug)]
pub struct Backlog {
    pub target: Target,
    pub client: reqwest::Client,
    pub refresh_ms: i64,
    pub delay_ms: i64,
    /// Tocsin's public address, for the links in the items.
    pub base_url: String,
}

impl Backlog {
    /// The backlog the settings describe, None when none is configured.
    pub fn from_settings(
        s: &BacklogSettings,
        base_url: &str,
        block_private: bool,
    ) -> Result<Option<Self>, reqwest::Error> {
        let Some(target) = s.target() else {
            return Ok(None);
        };
        Ok(Some(Self {
            target,
            client: crate::notify::client_with(block_private)?,
            refresh_ms: i64::from(s.refresh_minutes.max(1)) * 60_000,
            delay_ms: i64::from(s.export_delay_seconds) * 1000,
            base_url: base_url.trim_end_matches('/').to_string(),
        }))
    }

    /// `github`, `jira` or `webhook`: what `backlog_kind` says of the items it created.
    pub fn kind(&self) -> &'static str {
        match self.target {
            Target::GitHub(_) => "github",
            Target::Jira(_) => "jira",
            Target::Webhook(_) => "webhook",
        }
    }

    /// Whether its items' state can be read back (a webhook cannot).
    pub fn refreshes(&self) -> bool {
        !matches!(self.target, Target::Webhook(_))
    }
}

/// Everything an item in the backlog says, composed once for every kind.
pub struct Export<'a> {
    pub item: &'a ActionItem,
    pub incident_title: String,
    /// The incident's severity level id (`sev0`), also a label.
    pub severity: String,
    pub owner_name: String,
    pub postmortem_url: String,
    pub incident_url: String,
}

impl Export<'_> {
    /// The due date as `YYYY-MM-DD` (UTC).
    pub fn due_date(&self) -> Option<String> {
        let t = jiff::Timestamp::from_millisecond(self.item.due_at?).ok()?;
        Some(t.strftime("%Y-%m-%d").to_string())
    }

    /// `postmortem`, the severity and the type; spaces become dashes (Jira labels have none).
    pub fn labels(&self) -> Vec<String> {
        let mut labels = vec!["postmortem".to_string()];
        for l in [self.severity.as_str(), self.item.kind.as_str()] {
            let l: String = l
                .trim()
                .chars()
                .map(|c| if c.is_whitespace() { '-' } else { c })
                .collect();
            if !l.is_empty() && !labels.contains(&l) {
                labels.push(l);
            }
        }
        labels
    }

    /// The body as Markdown (Jira shows it as plain text, which reads the same).
    pub fn body(&self) -> String {
        let a = self.item;
        let due = self.due_date().unwrap_or_else(|| "none".into());
        format!(
            "Action item from the postmortem of INC-{id}: {title}\n\n\
             - Type: {kind}\n- Owner: {owner} ({owner_id})\n- Team: {team}\n- Due: {due}\n\
             - Severity: {sev}\n\n\
             Postmortem: {pm}\nIncident: {inc}\n\n\
             Created by Tocsin for action item {aid}; its state is read back from here.",
            id = a.incident_id,
            title = self.incident_title,
            kind = a.kind.as_str(),
            owner = self.owner_name,
            owner_id = a.owner,
            team = if a.team.is_empty() { "none" } else { &a.team },
            sev = self.severity,
            pm = self.postmortem_url,
            inc = self.incident_url,
            aid = a.id,
        )
    }
}

/// One request to the backlog: the exact body bytes and headers besides `Content-Type`.
pub struct Call {
    pub method: reqwest::Method,
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    /// Basic credentials (user, password), encoded by reqwest.
    pub basic: Option<(String, String)>,
    pub body: Option<Vec<u8>>,
}

/// A backlog item just created.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Created {
    pub key: String,
    pub url: Option<String>,
    pub state: String,
}

/// Why a call failed, in words safe to store and show: never a header, so never a token.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SyncError(pub String);

/// Sends `call`; the answer's JSON body (Null when empty or not JSON) on a 2xx.
pub async fn send(client: &reqwest::Client, call: Call) -> Result<Value, SyncError> {
    let mut req = client.request(call.method, &call.url).timeout(TIMEOUT);
    for (name, value) in &call.headers {
        req = req.header(*name, value.as_str());
    }
    if let Some((user, password)) = &call.basic {
        req = req.basic_auth(user, Some(password));
    }
    if let Some(body) = call.body {
        req = req
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
    }
    let resp = match req.send().await {
        Ok(r) => r,
        // Refused before anything was sent: nothing can have been created.
        Err(e) if e.is_connect() || e.is_builder() => {
            return Err(SyncError(format!("request failed: {}", e.without_url())));
        }
        Err(e) => {
            return Err(SyncError(format!(
                "outcome unknown, will retry: {}",
                e.without_url()
            )));
        }
    };
    let status = resp.status();
    let bytes = resp
        .bytes()
        .await
        .map_err(|e| SyncError(format!("reading the answer failed: {}", e.without_url())))?;
    if !status.is_success() {
        let text = String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_REASON_BODY)]);
        let text = text.trim();
        return Err(SyncError(if text.is_empty() {
            format!("HTTP {}", status.as_u16())
        } else {
            format!("HTTP {}: {text}", status.as_u16())
        }));
    }
    Ok(serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_a_minute_to_an_hour() {
        let waits: Vec<i64> = (1..=8).map(|n| backoff_ms(n) / 60_000).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(backoff_ms(0), 60_000);
    }
}
