//! Ingestion formats: one module per sender's wire format, each a pure parser from the request
//! body to [`AlertEvent`](super::AlertEvent)s.
//!
//! Every parser takes the raw body (`&[u8]`), never panics on any input, never reads the clock
//! (callers pass `now` where a format needs it) and reports every problem it finds in a
//! [`ParseError`]. The helpers here are the rules the formats share: timestamps, severity
//! names, summary truncation, label fingerprints and link hygiene. The reference for all of
//! them is `reference/ingest-formats.md` in the shared folder.

pub mod alertmanager;
pub mod alertmanager_api;
pub mod generic;
pub mod grafana;
pub mod pagerduty;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use super::{EventLink, ParseError, Severity};

/// Most alerts one body may carry. Alertmanager sends a whole group per webhook, and groups of
/// a thousand alerts mean a misconfigured `group_by`; refusing keeps one request bounded.
pub const MAX_ALERTS: usize = 1000;

/// Longest summary kept, in characters (PagerDuty's limit, which Alertmanager also applies).
pub const MAX_SUMMARY_CHARS: usize = 1024;

/// Deserialise a JSON body, turning serde's error into a problem a sender can act on.
/// Refuses a `\u0000` escape anywhere: PostgreSQL text cannot hold NUL, so such a body
/// would fail in the store (a 500) on one backend and be stored on the other. Found by the
/// fuzz corpus replay (`tests/it/fuzz_corpus.rs`).
pub(crate) fn from_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ParseError> {
    if body.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000")) {
        return Err(ParseError::one(
            "invalid JSON body: text may not contain NUL characters (\\u0000)",
        ));
    }
    serde_json::from_slice(body).map_err(|e| ParseError::one(format!("invalid JSON body: {e}")))
}

/// Parse a sender's timestamp into ms since the epoch; `Ok(None)` means "unset".
///
/// Accepts RFC 3339 with 0–9 fractional digits and any offset, including the ISO 8601 basic
/// offset `+0000` that PagerDuty's own example uses (jiff accepts both forms). Empty strings
/// and Go's zero time `0001-01-01T00:00:00Z` (what Alertmanager puts in `endsAt` of every
/// firing alert) mean unset. A timestamp without an offset is read as UTC, because that is what
/// the senders that omit it mean in practice.
pub fn parse_timestamp(s: &str) -> Result<Option<i64>, String> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let ts = match s.parse::<jiff::Timestamp>() {
        Ok(ts) => ts,
        Err(first) => match s.parse::<jiff::civil::DateTime>() {
            Ok(dt) => dt
                .to_zoned(jiff::tz::TimeZone::UTC)
                .map_err(|e| format!("invalid timestamp {s:?}: {e}"))?
                .timestamp(),
            Err(_) => return Err(format!("invalid timestamp {s:?}: {first}")),
        },
    };
    // Go's zero time, whatever offset it was written with: no sender means year 1.
    if ts.as_second() <= GO_ZERO_TIME_SECONDS {
        return Ok(None);
    }
    Ok(Some(ts.as_millisecond()))
}

/// `0001-01-01T00:00:00Z` in Unix seconds.
const GO_ZERO_TIME_SECONDS: i64 = -62_135_596_800;

/// Map a sender's severity word onto ours (case-insensitive); unknown words give None so the
/// service's default applies rather than a guess.
pub fn severity_from_label(value: &str) -> Option<Severity> {
    match value.trim().to_ascii_lowercase().as_str() {
        "critical" => Some(Severity::Critical),
        "error" | "high" => Some(Severity::Error),
        "warning" | "warn" => Some(Severity::Warning),
        "info" | "low" => Some(Severity::Info),
        _ => None,
    }
}

/// Cap a summary at [`MAX_SUMMARY_CHARS`] characters, ending a cut one with "…" so readers
/// can tell. Counts chars, not bytes, so a cut never splits a UTF-8 sequence.
pub fn truncate_summary(s: &str) -> String {
    if s.chars().count() <= MAX_SUMMARY_CHARS {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(MAX_SUMMARY_CHARS - 1).collect();
    out.push('…');
    out
}

/// The first non-blank value among `keys` in `map`.
pub(crate) fn first_non_blank<'a>(
    map: &'a BTreeMap<String, String>,
    keys: &[&str],
) -> Option<&'a str> {
    keys.iter()
        .filter_map(|k| map.get(*k))
        .map(|v| v.trim())
        .find(|v| !v.is_empty())
}

/// Stable identity of a label set, used as the dedup key where the sender gives none
/// (Alertmanager's `/api/v2/alerts`) or left its fingerprint out.
///
/// Hash: lower-case hex SHA-256 of the compact JSON object of the labels, keys sorted
/// (`{"alertname":"X","instance":"a"}`). JSON quoting makes it injective: label values may hold
/// `=` or newlines, which would make a naive `k=v\n` encoding collide. Changing this changes
/// every open alert's key, so it is part of the storage contract.
pub fn label_fingerprint(labels: &BTreeMap<String, String>) -> String {
    // Serialising a map of strings cannot fail; fall back to an empty input rather than panic.
    let canonical = serde_json::to_vec(labels).unwrap_or_default();
    hex::encode(Sha256::digest(&canonical))
}

/// The `host[:port]` part of an absolute URL, for naming a source. Hand-rolled because we need
/// only this and it must accept whatever a sender writes without failing.
pub fn url_host(url: &str) -> Option<String> {
    let (_, rest) = url.trim().split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or("");
    (!host.is_empty()).then(|| host.to_owned())
}

/// Whether a URL may become a clickable link: only http(s), because links end up as `href`s in
/// the web UI and a `javascript:` one would run in the viewer's session.
pub fn is_web_url(url: &str) -> bool {
    let lower: String = url
        .trim_start()
        .chars()
        .take(8)
        .collect::<String>()
        .to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://")
}

/// Append a link when `href` is a web URL not already present.
pub(crate) fn push_link(links: &mut Vec<EventLink>, href: &str, text: &str) {
    let href = href.trim();
    if is_web_url(href) && !links.iter().any(|l| l.href == href) {
        links.push(EventLink {
            href: href.to_owned(),
            text: text.to_owned(),
        });
    }
}
