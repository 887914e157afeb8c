//! Tocsin's own generic JSON event, for scripts and tools with a plain webhook:
//!
//! ```json
//! {"summary": "disk 95% full", "severity": "warning", "dedup_key": "db-1/disk",
//!  "action": "trigger", "source": "db-1", "details": {"any": "JSON"},
//!  "links": [{"href": "https://grafana/d/disk", "text": "Dashboard"}], "labels": {"team": "db"}}
//! ```
//!
//! Because we own this format it is strict, so typos surface instead of silently dropping data:
//! unknown fields are refused; `summary` is required (non-blank) unless `action` is
//! acknowledge or resolve, which also require `dedup_key` (they must say which alert);
//! `severity` is exactly critical/error/warning/info and `action` trigger (default),
//! acknowledge or resolve; links must be http(s). Every problem is reported, each naming its
//! field. Summaries over 1024 characters are cut with "…"; `source` defaults to "generic".

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::{from_json, is_web_url, truncate_summary};
use crate::alerts::{Action, AlertEvent, EventLink, ParseError, Severity};

/// The body as sent. `action` and `severity` are strings here so a bad value gives our own
/// message listing the allowed ones, alongside the other problems.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    summary: Option<String>,
    details: Option<Value>,
    dedup_key: Option<String>,
    severity: Option<String>,
    action: Option<String>,
    source: Option<String>,
    links: Option<Vec<Link>>,
    labels: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Link {
    href: String,
    text: Option<String>,
}

/// Parse one generic event.
pub fn parse(body: &[u8]) -> Result<AlertEvent, ParseError> {
    let body: Body = from_json(body)?;
    let mut problems = Vec::new();

    let action = match body.action.as_deref().map(str::trim) {
        None | Some("trigger") => Action::Trigger,
        Some("acknowledge") => Action::Acknowledge,
        Some("resolve") => Action::Resolve,
        Some(other) => {
            problems.push(format!(
                "action: {other:?} is not one of trigger, acknowledge, resolve"
            ));
            Action::Trigger
        }
    };
    let severity = match body.severity.as_deref().map(str::trim) {
        None => None,
        Some("critical") => Some(Severity::Critical),
        Some("error") => Some(Severity::Error),
        Some("warning") => Some(Severity::Warning),
        Some("info") => Some(Severity::Info),
        Some(other) => {
            problems.push(format!(
                "severity: {other:?} is not one of critical, error, warning, info"
            ));
            None
        }
    };
    let summary = body.summary.as_deref().map(str::trim).unwrap_or("");
    let dedup_key = body
        .dedup_key
        .map(|k| k.trim().to_owned())
        .filter(|k| !k.is_empty());
    if action == Action::Trigger && summary.is_empty() {
        problems.push("summary: required for a trigger".to_owned());
    }
    if action != Action::Trigger && dedup_key.is_none() {
        problems.push("dedup_key: required to acknowledge or resolve".to_owned());
    }
    if dedup_key.as_ref().is_some_and(|k| k.chars().count() > 255) {
        problems.push("dedup_key: longer than 255 characters".to_owned());
    }
    let mut links = Vec::new();
    for (i, link) in body.links.unwrap_or_default().into_iter().enumerate() {
        if is_web_url(&link.href) {
            links.push(EventLink {
                href: link.href.trim().to_owned(),
                text: link.text.unwrap_or_default(),
            });
        } else {
            problems.push(format!("links[{i}].href: must be an http(s) URL"));
        }
    }
    if !problems.is_empty() {
        return Err(ParseError { problems });
    }
    Ok(AlertEvent {
        action,
        dedup_key,
        summary: truncate_summary(summary),
        severity,
        source: body
            .source
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "generic".to_owned()),
        labels: body.labels.unwrap_or_default(),
        annotations: BTreeMap::new(),
        details: body.details.unwrap_or(Value::Null),
        links,
        images: Vec::new(),
        started_at: None,
        ends_at: None,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn full_body_maps_every_field() {
        let body = br#"{"summary":"disk 95% full","severity":"warning","dedup_key":"db-1/disk",
            "action":"trigger","source":"db-1","details":{"used":[95, "%"]},
            "links":[{"href":"https://grafana/d/disk","text":"Dashboard"}],"labels":{"team":"db"}}"#;
        let e = parse(body).expect("valid");
        assert_eq!(e.action, Action::Trigger);
        assert_eq!(e.summary, "disk 95% full");
        assert_eq!(e.severity, Some(Severity::Warning));
        assert_eq!(e.dedup_key.as_deref(), Some("db-1/disk"));
        assert_eq!(e.source, "db-1");
        assert_eq!(e.details, json!({"used": [95, "%"]}));
        assert_eq!(
            e.links,
            [EventLink {
                href: "https://grafana/d/disk".into(),
                text: "Dashboard".into()
            }]
        );
        assert_eq!(e.labels.get("team").map(String::as_str), Some("db"));
    }

    #[test]
    fn minimal_trigger_and_keyed_resolve() {
        let e = parse(br#"{"summary":"it broke"}"#).expect("valid");
        assert_eq!(
            (e.action, e.dedup_key, e.severity),
            (Action::Trigger, None, None)
        );
        assert_eq!(e.source, "generic");
        let r = parse(br#"{"action":"resolve","dedup_key":"k1"}"#).expect("valid");
        assert_eq!(
            (r.action, r.dedup_key.as_deref(), r.summary.as_str()),
            (Action::Resolve, Some("k1"), "")
        );
    }

    #[test]
    fn unknown_field_is_rejected_with_its_name() {
        let err = parse(br#"{"summary":"x","sevrity":"critical"}"#).expect_err("typo");
        assert_eq!(err.problems.len(), 1);
        assert!(err.problems[0].contains("unknown field `sevrity`"), "{err}");
    }

    #[test]
    fn bad_values_are_all_reported() {
        let err =
            parse(br#"{"severity":"urgent","action":"snooze","links":[{"href":"javascript:x"}]}"#)
                .expect_err("invalid");
        assert_eq!(
            err.problems,
            [
                "action: \"snooze\" is not one of trigger, acknowledge, resolve",
                "severity: \"urgent\" is not one of critical, error, warning, info",
                "summary: required for a trigger",
                "links[0].href: must be an http(s) URL",
            ]
        );
        let err = parse(br#"{"action":"acknowledge"}"#).expect_err("no key");
        assert_eq!(
            err.problems,
            ["dedup_key: required to acknowledge or resolve"]
        );
    }

    #[test]
    fn long_summary_is_truncated_with_an_ellipsis() {
        let body = json!({"summary": "é".repeat(5000)}).to_string();
        let e = parse(body.as_bytes()).expect("valid");
        assert_eq!(e.summary.chars().count(), 1024);
        assert!(e.summary.ends_with('…'));
    }
}
