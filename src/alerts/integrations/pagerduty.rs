//! PagerDuty Events API v2 (`POST /v2/enqueue`) request body, so anything that can page
//! PagerDuty (Alertmanager's and Grafana's PagerDuty receivers, scripts, SaaS tools) can page
//! Tocsin by changing only the URL. Change events (`/v2/change/enqueue`) are not handled.
//!
//! Verified as PagerDuty does, collecting *every* problem for its 400 `invalid event` reply:
//! `routing_key` is 32 characters; `event_action` is trigger/acknowledge/resolve; `dedup_key`
//! is ≤ 255 characters and required for acknowledge/resolve; a trigger has a `payload` with a
//! non-blank `summary` of ≤ 1024 characters, a non-blank `source` and a `severity` among
//! critical/error/warning/info; `images[].src` is HTTPS. A body that is not a JSON object gets
//! PagerDuty's `Unrecognized object` reply instead ([`is_unrecognized`]).
//!
//! Error strings: "Length of 'routing_key' is incorrect (should be 32 characters)" is
//! PagerDuty's documented one; "'<field>' is missing or blank" follows the form PagerDuty is
//! seen returning ("'payload.severity' is missing or blank"); the "is invalid"/"is too long"
//! wordings are ours, as PagerDuty's were not found.
//!
//! Mapping: summary/source/severity from the payload; `component`, `group`, `class` become
//! labels; `custom_details` (any JSON) the details; `timestamp` (ISO 8601, `+0000` offsets
//! included) `started_at`, ignored when unparseable since PagerDuty fills it in when missing;
//! `links[]` and `client_url` links (http(s) only); `images[]` images. Acknowledge and resolve
//! carry no payload: their summary is empty and the lifecycle keeps the alert's own.
//! Unknown fields are ignored. The 512 KB body cap belongs to the HTTP layer.

use serde_json::{Map, Value, json};

use super::{from_json, parse_timestamp, push_link, truncate_summary};
use crate::alerts::{Action, AlertEvent, EventImage, ParseError, Severity};

/// The problem recorded for a body that is not a JSON object; see [`is_unrecognized`].
pub const JSON_PARSE_ERROR: &str = "JSON parse error";

/// Parse and verify one event, returning the routing key (the credential that picks the
/// service) with the normalised event.
pub fn parse(body: &[u8]) -> Result<(String, AlertEvent), ParseError> {
    let Ok(Value::Object(obj)) = from_json::<Value>(body) else {
        return Err(ParseError::one(JSON_PARSE_ERROR));
    };
    let mut problems = Vec::new();
    let field = |name: &str| obj.get(name).filter(|v| !v.is_null());

    let routing_key = field("routing_key").and_then(Value::as_str).unwrap_or("");
    if routing_key.chars().count() != 32 {
        problems.push("Length of 'routing_key' is incorrect (should be 32 characters)".to_owned());
    }
    let action = match field("event_action").and_then(Value::as_str).map(str::trim) {
        None | Some("") => {
            problems.push("'event_action' is missing or blank".to_owned());
            None
        }
        Some("trigger") => Some(Action::Trigger),
        Some("acknowledge") => Some(Action::Acknowledge),
        Some("resolve") => Some(Action::Resolve),
        Some(_) => {
            problems.push(
                "'event_action' is invalid (must be trigger, acknowledge or resolve)".to_owned(),
            );
            None
        }
    };
    let dedup_key = match field("dedup_key") {
        None => None,
        Some(Value::String(k)) if k.trim().is_empty() => None,
        Some(Value::String(k)) if k.chars().count() > 255 => {
            problems.push("'dedup_key' is too long (maximum 255 characters)".to_owned());
            None
        }
        Some(Value::String(k)) => Some(k.clone()),
        Some(_) => {
            problems.push("'dedup_key' is invalid (must be a string)".to_owned());
            None
        }
    };
    let needs_key = matches!(action, Some(Action::Acknowledge | Action::Resolve));
    if needs_key && dedup_key.is_none() && !problems.iter().any(|p| p.starts_with("'dedup_key'")) {
        problems.push("'dedup_key' is missing or blank".to_owned());
    }

    let payload = field("payload").and_then(Value::as_object);
    let text = |name: &str| {
        payload
            .and_then(|p| p.get(name))
            .and_then(Value::as_str)
            .map(str::trim)
    };
    let mut severity = None;
    if action == Some(Action::Trigger) {
        if payload.is_none() {
            problems.push("'payload' is missing or blank".to_owned());
        } else {
            match text("summary") {
                None | Some("") => {
                    problems.push("'payload.summary' is missing or blank".to_owned())
                }
                Some(s) if s.chars().count() > 1024 => problems
                    .push("'payload.summary' is too long (maximum 1024 characters)".to_owned()),
                Some(_) => {}
            }
            if text("source").is_none_or(str::is_empty) {
                problems.push("'payload.source' is missing or blank".to_owned());
            }
            severity = match text("severity") {
                None | Some("") => {
                    problems.push("'payload.severity' is missing or blank".to_owned());
                    None
                }
                Some("critical") => Some(Severity::Critical),
                Some("error") => Some(Severity::Error),
                Some("warning") => Some(Severity::Warning),
                Some("info") => Some(Severity::Info),
                Some(_) => {
                    problems.push(
                        "'payload.severity' is invalid (must be critical, error, warning or info)"
                            .to_owned(),
                    );
                    None
                }
            };
        }
    }

    let mut images = Vec::new();
    for (i, image) in field("images")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let get = |k: &str| {
            image
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or("")
                .trim()
                .to_owned()
        };
        let src = get("src");
        if src
            .get(..8)
            .is_some_and(|p| p.eq_ignore_ascii_case("https://"))
        {
            images.push(EventImage {
                src,
                href: get("href"),
                alt: get("alt"),
            });
        } else {
            problems.push(format!(
                "'images[{i}].src' is invalid (must be an HTTPS URL)"
            ));
        }
    }
    if !problems.is_empty() {
        return Err(ParseError { problems });
    }

    let mut links = Vec::new();
    for link in field("links")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let get = |k: &str| link.get(k).and_then(Value::as_str).unwrap_or("");
        push_link(&mut links, get("href"), get("text"));
    }
    let client = field("client").and_then(Value::as_str).unwrap_or("").trim();
    let client_url = field("client_url").and_then(Value::as_str).unwrap_or("");
    push_link(
        &mut links,
        client_url,
        if client.is_empty() { "Client" } else { client },
    );

    let labels = ["component", "group", "class"]
        .into_iter()
        .filter_map(|k| {
            text(k)
                .filter(|v| !v.is_empty())
                .map(|v| (k.to_owned(), v.to_owned()))
        })
        .collect();
    let source = [text("source"), Some(client)]
        .into_iter()
        .flatten()
        .find(|s| !s.is_empty());
    let event = AlertEvent {
        // A valid event always has an action: every other case pushed a problem above.
        action: action.unwrap_or(Action::Trigger),
        dedup_key,
        summary: truncate_summary(text("summary").unwrap_or("")),
        severity,
        source: source.unwrap_or("pagerduty-events").to_owned(),
        labels,
        annotations: Default::default(),
        details: payload
            .and_then(|p| p.get("custom_details"))
            .cloned()
            .unwrap_or_else(|| Value::Object(Map::new())),
        links,
        images,
        started_at: text("timestamp").and_then(|t| parse_timestamp(t).ok().flatten()),
        ends_at: None,
    };
    Ok((routing_key.to_owned(), event))
}

/// Whether an error from [`parse`] calls for [`unrecognized`] rather than [`invalid`].
pub fn is_unrecognized(err: &ParseError) -> bool {
    err.problems == [JSON_PARSE_ERROR]
}

/// 202 body for an accepted event (the key is the sender's, or the one Tocsin made up).
pub fn success(dedup_key: &str) -> Value {
    json!({"status": "success", "message": "Event processed", "dedup_key": dedup_key})
}

/// 400 body for an event that failed verification.
pub fn invalid(errors: &[String]) -> Value {
    json!({"status": "invalid event", "message": "Event object is invalid", "errors": errors})
}

/// 400 body for a body that is not a JSON object.
pub fn unrecognized() -> Value {
    json!({
        "status": "Unrecognized object",
        "message": "Event object format is unrecognized",
        "errors": [JSON_PARSE_ERROR],
    })
}

/// The reply body for any error from [`parse`].
pub fn rejection(err: &ParseError) -> Value {
    if is_unrecognized(err) {
        unrecognized()
    } else {
        invalid(&err.problems)
    }
}

#[cfg(test)]
#[path = "pagerduty_tests.rs"]
mod tests;
