//! Alert rules and playbooks, two config-as-code kinds (`playbooks:` and `alert_rules:`).
//!
//! A playbook is what a responder should do about an alert: either a link to an external
//! runbook (`url`) or a list of steps, each Markdown `text` or an automation `action` (an HTTP
//! call with a templated body, run automatically or with one click).
//!
//! A rule matches incoming alert events and sets their severity, their service and their
//! playbook, and may make the alert resolve itself when its source stops re-sending it.
//! **Rules are ordered and the first match wins**: the order in the files is the priority,
//! exactly one rule (or none) explains what happened to an alert, and a specific rule placed
//! above a catch-all is never half-overridden by it. Matching itself is `alerts::rules`.

pub mod store;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::alerts::Severity;

/// A playbook: an external runbook link, or steps shown on the alert and run from it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Playbook {
    pub id: String,
    pub title: String,
    /// A link to a runbook kept elsewhere (instead of `steps`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<Step>,
}

/// One step of a playbook: exactly one of `text` (Markdown) and `action`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<Action>,
}

/// An HTTP call made for an alert. `url`, header values and `body` are templates with
/// placeholders such as `{{alert.summary}}` or `{{labels.pod}}` (see
/// `alerts::automation::template`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Action {
    pub name: String,
    /// GET, POST, PUT, PATCH or DELETE.
    pub method: String,
    pub url: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Run as soon as an alert with this playbook opens; otherwise a responder clicks "Run".
    #[serde(default)]
    pub auto: bool,
}

impl Action {
    /// The HTTP methods an action may use.
    pub const METHODS: [&'static str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

    /// Whether the body is JSON (by its Content-Type header, or by default for a body that
    /// starts like JSON), which decides how placeholders are escaped.
    pub fn json_body(&self) -> bool {
        match self
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        {
            Some((_, v)) => v.to_ascii_lowercase().contains("json"),
            None => self
                .body
                .as_deref()
                .is_some_and(|b| b.trim_start().starts_with(['{', '['])),
        }
    }
}

/// A rule: when an event matches `match`, apply `set`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertRule {
    pub id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(rename = "match", default)]
    pub when: RuleMatch,
    pub set: RuleSet,
}

/// What a rule matches; every given condition must hold (none given: every event).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleMatch {
    /// Label values, exact or with `*` standing for any run of characters.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Text the summary contains, ignoring case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary_contains: Option<String>,
    /// The event's source, exact or with `*`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The severity the sender gave.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// The service of the integration that received it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
}

/// What a matching rule changes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleSet {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// Routes the alert to this service (its owners are paged) instead of the integration's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub playbook: Option<String>,
    /// Resolve the alert when no event re-sends it for this long (`90s`, `15m`, `2h`, `1d`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_resolve_after: Option<String>,
}

impl RuleSet {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// Shortest and longest `auto_resolve_after`: under a minute would resolve alerts between two
/// scrapes; past 30 days it is not "stopped re-sending" any more.
pub const AUTO_RESOLVE_RANGE_MS: (i64, i64) = (60_000, 30 * 24 * 3_600_000);

/// Parses a duration such as `90s`, `15m`, `2h` or `1d` into milliseconds.
pub fn parse_duration(text: &str) -> Result<i64, String> {
    let bad = || format!("expected a duration such as 90s, 15m, 2h or 1d, got {text:?}");
    let t = text.trim();
    let unit = t.chars().last().ok_or_else(bad)?;
    let scale: i64 = match unit {
        's' => 1_000,
        'm' => 60_000,
        'h' => 3_600_000,
        'd' => 86_400_000,
        _ => return Err(bad()),
    };
    let digits = &t[..t.len() - 1];
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 9 {
        return Err(bad());
    }
    let n: i64 = digits.parse().map_err(|_| bad())?;
    Ok(n * scale)
}

/// A rule's `set` after validation, with the duration in milliseconds.
pub fn auto_resolve_ms(set: &RuleSet) -> Option<i64> {
    set.auto_resolve_after
        .as_deref()
        .and_then(|d| parse_duration(d).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s"), Ok(90_000));
        assert_eq!(parse_duration("15m"), Ok(900_000));
        assert_eq!(parse_duration("2h"), Ok(7_200_000));
        assert_eq!(parse_duration("1d"), Ok(86_400_000));
        for bad in [
            "",
            "m",
            "15",
            "1.5h",
            "-5m",
            "5 m",
            "5M",
            "9999999999s",
            "5mm",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn json_body_follows_the_content_type() {
        let mut a = Action {
            name: "x".into(),
            method: "POST".into(),
            url: "http://h/".into(),
            headers: BTreeMap::new(),
            body: Some("{\"a\": 1}".into()),
            auto: false,
        };
        assert!(a.json_body());
        a.headers.insert("Content-Type".into(), "text/plain".into());
        assert!(!a.json_body());
        a.headers
            .insert("Content-Type".into(), "application/json".into());
        a.body = Some("x".into());
        assert!(a.json_body());
    }
}
