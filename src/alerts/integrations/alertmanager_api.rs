//! Alertmanager's own alert API, `POST /api/v2/alerts` (the API v2 `postableAlert` array of
//! `api/v2/openapi.yaml`), so Prometheus and `amtool` can send to Tocsin directly.
//!
//! Body: a JSON array of `{labels (required, ≥1 pair), annotations?, startsAt?, endsAt?,
//! generatorURL?}`. This format has no status and no key: an alert *is* its label set and it is
//! a lease that Prometheus renews on every evaluation (`endsAt = now + 4 × interval`) and lets
//! lapse to resolve. So, as Alertmanager does (`postAlertsHandler`, `alert.Validate`):
//!
//! * empty label values are dropped, then at least one label pair is required;
//! * dedup key = [`label_fingerprint`] of the labels (hex SHA-256 of their sorted JSON);
//! * Resolve when `endsAt` is set and not after `now` (the resolve Prometheus sends), else
//!   Trigger with `ends_at = endsAt`, or `now + resolve_timeout` when absent: the caller must
//!   auto-resolve when that passes without a refresh;
//! * `endsAt` before `startsAt` is refused;
//! * `started_at` is `startsAt`, left unset when absent (the caller fills it, and a resolve
//!   must not move an alert's start).
//!
//! Summary, severity, links as for the webhook: annotations `summary`/`description`, else
//! `alertname`; the `severity` label; `generatorURL` and `runbook_url`. Source = the
//! generatorURL's host (the Prometheus that sent it), else "alertmanager-api".
//!
//! Alertmanager stores the valid alerts of a batch and answers 400 for the rest ("best
//! effort"); [`parse_best_effort`] gives callers that choice, [`parse`] is all-or-nothing.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::{
    MAX_ALERTS, first_non_blank, from_json, label_fingerprint, parse_timestamp, push_link,
    severity_from_label, truncate_summary, url_host,
};
use crate::alerts::{Action, AlertEvent, ParseError};

/// One `postableAlert`. Unknown fields are ignored, as go-swagger does.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PostableAlert {
    labels: Option<BTreeMap<String, String>>,
    annotations: Option<BTreeMap<String, String>>,
    starts_at: Option<String>,
    ends_at: Option<String>,
    #[serde(rename = "generatorURL")]
    generator_url: Option<String>,
}

/// Parse the whole batch or refuse it, naming every invalid alert by index.
pub fn parse(
    body: &[u8],
    now_ms: i64,
    resolve_timeout_ms: i64,
) -> Result<Vec<AlertEvent>, ParseError> {
    let (events, problems) = parse_best_effort(body, now_ms, resolve_timeout_ms)?;
    if problems.is_empty() {
        Ok(events)
    } else {
        Err(ParseError { problems })
    }
}

/// Parse the batch, keeping the valid alerts and listing the problems of the others, like
/// Alertmanager. An `Err` means the body as a whole is unusable (not JSON, not an array, too
/// many alerts).
pub fn parse_best_effort(
    body: &[u8],
    now_ms: i64,
    resolve_timeout_ms: i64,
) -> Result<(Vec<AlertEvent>, Vec<String>), ParseError> {
    let items: Vec<Value> =
        from_json(body).map_err(|_| ParseError::one("body: expected a JSON array of alerts"))?;
    if items.len() > MAX_ALERTS {
        return Err(ParseError::one(format!(
            "body: {} alerts, at most {MAX_ALERTS} per request",
            items.len()
        )));
    }
    let mut events = Vec::with_capacity(items.len());
    let mut problems = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        // Each item on its own, so one malformed alert does not hide the others.
        match serde_json::from_value::<PostableAlert>(item) {
            Ok(alert) => match to_event(alert, now_ms, resolve_timeout_ms) {
                Ok(event) => events.push(event),
                Err(problem) => problems.push(format!("{i}: {problem}")),
            },
            Err(e) => problems.push(format!("{i}: {e}")),
        }
    }
    Ok((events, problems))
}

fn to_event(
    alert: PostableAlert,
    now_ms: i64,
    resolve_timeout_ms: i64,
) -> Result<AlertEvent, String> {
    let Some(mut labels) = alert.labels else {
        return Err("labels in body is required".into());
    };
    labels.retain(|_, v| !v.is_empty());
    if labels.is_empty() {
        return Err("at least one label pair required".into());
    }
    let starts_at = parse_timestamp(alert.starts_at.as_deref().unwrap_or(""))
        .map_err(|e| format!("startsAt: {e}"))?;
    let ends_at = parse_timestamp(alert.ends_at.as_deref().unwrap_or(""))
        .map_err(|e| format!("endsAt: {e}"))?;
    if let (Some(start), Some(end)) = (starts_at, ends_at)
        && end < start
    {
        return Err("end time must not be before start time".into());
    }
    let (action, ends_at) = match ends_at {
        Some(end) if end <= now_ms => (Action::Resolve, Some(end)),
        Some(end) => (Action::Trigger, Some(end)),
        None => (
            Action::Trigger,
            Some(now_ms.saturating_add(resolve_timeout_ms)),
        ),
    };
    let annotations = alert.annotations.unwrap_or_default();
    let generator_url = alert.generator_url.unwrap_or_default();
    let mut links = Vec::new();
    push_link(&mut links, &generator_url, "Source");
    push_link(
        &mut links,
        annotations.get("runbook_url").map_or("", String::as_str),
        "Runbook",
    );
    let summary = first_non_blank(&annotations, &["summary", "description"])
        .or_else(|| first_non_blank(&labels, &["alertname"]))
        .unwrap_or("(no summary)");
    Ok(AlertEvent {
        action,
        dedup_key: Some(label_fingerprint(&labels)),
        summary: truncate_summary(summary),
        severity: labels.get("severity").and_then(|s| severity_from_label(s)),
        source: url_host(&generator_url).unwrap_or_else(|| "alertmanager-api".to_owned()),
        details: Value::Object(Default::default()),
        labels,
        annotations,
        links,
        images: Vec::new(),
        started_at: starts_at,
        ends_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::Severity;

    /// 2026-11-22T15:49:45Z, the live capture's first post.
    const T0: i64 = 1_795_362_585_000;
    const FIVE_MIN: i64 = 300_000;

    const POSTED: &str = r#"[{"labels":{"alertname":"HighLatency","service":"api","instance":"web-1:9100","severity":"critical"},
        "annotations":{"summary":"p99 latency above 2s"},
        "startsAt":"2026-11-22T15:49:45Z",
        "generatorURL":"http://prometheus.example:9090/graph?g0.expr=latency_p99+%3E+2"}]"#;

    #[test]
    fn firing_alert_without_ends_at_gets_a_resolve_timeout_lease() {
        let events = parse(POSTED.as_bytes(), T0 + 1000, FIVE_MIN).expect("valid");
        let e = &events[0];
        assert_eq!(e.action, Action::Trigger);
        assert_eq!(e.started_at, Some(T0));
        assert_eq!(e.ends_at, Some(T0 + 1000 + FIVE_MIN));
        assert_eq!(e.summary, "p99 latency above 2s");
        assert_eq!(e.severity, Some(Severity::Critical));
        assert_eq!(e.source, "prometheus.example:9090");
        assert_eq!(e.links.len(), 1);
        let key = e.dedup_key.as_deref().expect("key");
        assert_eq!(key.len(), 64);
        assert!(
            key.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
    }

    #[test]
    fn fingerprint_is_the_documented_hash_and_ignores_order_and_empty_values() {
        let labels = BTreeMap::from([
            ("a".to_owned(), "1".to_owned()),
            ("b".to_owned(), "x\ny".to_owned()),
        ]);
        // sha256 of {"a":"1","b":"x\ny"} computed independently with Python's hashlib.
        assert_eq!(
            label_fingerprint(&labels),
            "d3ce549f36f351aa3d0ab4d9928c1ebf33603f1ef88e957dae8d3a35b1cf67c5"
        );
        let one = parse(br#"[{"labels":{"b":"2","a":"1","c":""}}]"#, T0, FIVE_MIN).expect("valid");
        let two = parse(br#"[{"labels":{"a":"1","b":"2"}}]"#, T0, FIVE_MIN).expect("valid");
        assert_eq!(one[0].dedup_key, two[0].dedup_key);
        assert_eq!(one[0].summary, "(no summary)");
    }

    #[test]
    fn past_ends_at_resolves_the_same_alert() {
        let firing = parse(POSTED.as_bytes(), T0, FIVE_MIN).expect("valid");
        let resolve = br#"[{"labels":{"alertname":"HighLatency","service":"api","instance":"web-1:9100","severity":"critical"},"endsAt":"2026-11-22T15:49:52Z"}]"#;
        let resolved = parse(resolve, T0 + 7000, FIVE_MIN).expect("valid");
        assert_eq!(resolved[0].action, Action::Resolve);
        assert_eq!(resolved[0].ends_at, Some(T0 + 7000));
        assert_eq!(resolved[0].started_at, None);
        assert_eq!(resolved[0].dedup_key, firing[0].dedup_key);
        // The same body seen before its endsAt is a lease that runs until then.
        let early = parse(resolve, T0, FIVE_MIN).expect("valid");
        assert_eq!(
            (early[0].action, early[0].ends_at),
            (Action::Trigger, Some(T0 + 7000))
        );
    }

    #[test]
    fn invalid_alerts_are_named_by_index_and_valid_ones_kept() {
        let body = br#"[{"labels":{}},{"annotations":{"a":"b"}},{"labels":{"x":"1"}},
            {"labels":{"x":"2"},"startsAt":"2026-11-22T15:49:45Z","endsAt":"2026-11-22T15:00:00Z"},
            {"labels":{"x":"3"},"startsAt":"yesterday"},{"labels":{"x":4}}]"#;
        let (events, problems) = parse_best_effort(body, T0, FIVE_MIN).expect("an array");
        assert_eq!(events.len(), 1);
        assert_eq!(problems.len(), 5);
        assert_eq!(problems[0], "0: at least one label pair required");
        assert_eq!(problems[1], "1: labels in body is required");
        assert_eq!(problems[2], "3: end time must not be before start time");
        assert!(problems[3].starts_with("4: startsAt: invalid timestamp \"yesterday\""));
        assert!(problems[4].starts_with("5: invalid type"));
        assert_eq!(
            parse(body, T0, FIVE_MIN).expect_err("strict").problems,
            problems
        );
    }

    #[test]
    fn non_arrays_and_huge_batches_are_refused() {
        for body in [&b"{}"[..], b"not json", b"null"] {
            let err = parse(body, T0, FIVE_MIN).expect_err("not an array");
            assert_eq!(err.problems, ["body: expected a JSON array of alerts"]);
        }
        let many = format!(
            "[{}]",
            vec![r#"{"labels":{"a":"b"}}"#; MAX_ALERTS + 1].join(",")
        );
        let err = parse(many.as_bytes(), T0, FIVE_MIN).expect_err("too many");
        assert_eq!(
            err.problems,
            ["body: 1001 alerts, at most 1000 per request"]
        );
    }
}
