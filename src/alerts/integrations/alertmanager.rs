//! Prometheus Alertmanager webhook receiver body, `"version": "4"` (every release from 0.25 to
//! 0.34 sends this shape; `notification_reason` and `routeLabels`, added in 0.32/0.34, are
//! optional here like every other field we do not need).
//!
//! One body is one aggregation group's full current state, so it becomes one [`AlertEvent`] per
//! `alerts[]` entry:
//!
//! * dedup key = the alert's `fingerprint` (stable from firing to resolved); if a sender left it
//!   out, the label fingerprint of [`label_fingerprint`] so firing and resolve still meet;
//! * Resolve only when *that alert's* `status` is `"resolved"`. The group status says `firing`
//!   while it holds resolved alerts, and an alert missing from a later body means nothing
//!   (Alertmanager deletes delivered resolutions), so neither is used;
//! * summary from annotations `summary`, `description`, else the `alertname` label;
//! * severity from the `severity` label ([`severity_from_label`]);
//! * source = host of `externalURL`, else "alertmanager";
//! * labels = `commonLabels` overlaid by the alert's labels (same for annotations);
//! * links: `generatorURL`, a `runbook_url` annotation, `externalURL`;
//! * `startsAt`/`endsAt` as instants, Go's zero time meaning unset.
//!
//! Verified: the version, the presence of `alerts`, at most [`MAX_ALERTS`] alerts, timestamps.
//! Unknown fields are ignored and `null` maps are empty (Go encodes a nil map as `null`).
//! [`grafana`](super::grafana) reuses this parser: its body is a superset of this one.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{
    MAX_ALERTS, first_non_blank, from_json, label_fingerprint, parse_timestamp, push_link,
    severity_from_label, truncate_summary, url_host,
};
use crate::alerts::{Action, AlertEvent, EventImage, ParseError};

type Kv = BTreeMap<String, String>;

/// The webhook body. Every field is optional so a missing one becomes a clear problem (or a
/// default) instead of serde's generic "missing field".
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Message {
    /// A JSON value, not a string, so `"version": 4` is reported as a wrong version.
    pub version: Option<Value>,
    pub alerts: Option<Vec<RawAlert>>,
    pub receiver: Option<String>,
    pub group_key: Option<String>,
    pub truncated_alerts: Option<u64>,
    pub common_labels: Option<Kv>,
    pub common_annotations: Option<Kv>,
    #[serde(rename = "externalURL")]
    pub external_url: Option<String>,
    /// Grafana only: the organisation the rule belongs to.
    pub org_id: Option<Value>,
}

/// One alert. The fields after `fingerprint` are Grafana's additions, absent from
/// Alertmanager's bodies; keeping them here lets both formats share one parser.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RawAlert {
    pub status: Option<String>,
    pub labels: Option<Kv>,
    pub annotations: Option<Kv>,
    pub starts_at: Option<String>,
    pub ends_at: Option<String>,
    #[serde(rename = "generatorURL")]
    pub generator_url: Option<String>,
    pub fingerprint: Option<String>,
    #[serde(rename = "dashboardURL")]
    pub dashboard_url: Option<String>,
    #[serde(rename = "panelURL")]
    pub panel_url: Option<String>,
    #[serde(rename = "silenceURL")]
    pub silence_url: Option<String>,
    #[serde(rename = "imageURL")]
    pub image_url: Option<String>,
    pub value_string: Option<String>,
    pub values: Option<Value>,
    #[serde(rename = "ruleUID")]
    pub rule_uid: Option<String>,
}

/// What differs between the senders sharing this parser.
pub(super) struct Flavour {
    pub version: &'static str,
    /// Source when `externalURL` has no host.
    pub default_source: &'static str,
    /// Link text for `externalURL`.
    pub external_text: &'static str,
    /// Whether to read Grafana's per-alert extras.
    pub grafana_extras: bool,
}

const ALERTMANAGER: Flavour = Flavour {
    version: "4",
    default_source: "alertmanager",
    external_text: "Alertmanager",
    grafana_extras: false,
};

/// Parse an Alertmanager webhook body into one event per alert, in the order sent.
pub fn parse(body: &[u8]) -> Result<Vec<AlertEvent>, ParseError> {
    parse_with(body, &ALERTMANAGER)
}

pub(super) fn parse_with(body: &[u8], flavour: &Flavour) -> Result<Vec<AlertEvent>, ParseError> {
    let msg: Message = from_json(body)?;
    let mut problems = Vec::new();
    match msg.version.as_ref().and_then(Value::as_str) {
        Some(v) if v == flavour.version => {}
        Some(v) => problems.push(format!(
            "version: {v:?} is not supported (expected \"{}\")",
            flavour.version
        )),
        None => problems.push(format!(
            "version: missing or not a string (expected \"{}\")",
            flavour.version
        )),
    }
    let alerts = match &msg.alerts {
        Some(alerts) if alerts.len() > MAX_ALERTS => {
            problems.push(format!(
                "alerts: {} alerts, at most {MAX_ALERTS} per body",
                alerts.len()
            ));
            &[][..]
        }
        Some(alerts) => alerts.as_slice(),
        None => {
            problems.push("alerts: missing (expected an array of alerts)".to_owned());
            &[][..]
        }
    };
    let events: Vec<AlertEvent> = alerts
        .iter()
        .enumerate()
        .map(|(i, alert)| to_event(&msg, alert, i, flavour, &mut problems))
        .collect();
    if problems.is_empty() {
        Ok(events)
    } else {
        Err(ParseError { problems })
    }
}

fn to_event(
    msg: &Message,
    alert: &RawAlert,
    index: usize,
    flavour: &Flavour,
    problems: &mut Vec<String>,
) -> AlertEvent {
    let mut labels = msg.common_labels.clone().unwrap_or_default();
    labels.extend(alert.labels.clone().unwrap_or_default());
    let mut annotations = msg.common_annotations.clone().unwrap_or_default();
    annotations.extend(alert.annotations.clone().unwrap_or_default());

    let mut time = |field: &str, value: &Option<String>| {
        parse_timestamp(value.as_deref().unwrap_or("")).unwrap_or_else(|e| {
            problems.push(format!("alerts[{index}].{field}: {e}"));
            None
        })
    };
    let started_at = time("startsAt", &alert.starts_at);
    let ends_at = time("endsAt", &alert.ends_at);

    let resolved = alert
        .status
        .as_deref()
        .is_some_and(|s| s.trim().eq_ignore_ascii_case("resolved"));
    let dedup_key = match alert.fingerprint.as_deref().map(str::trim) {
        Some(f) if !f.is_empty() => f.to_owned(),
        _ => label_fingerprint(&labels),
    };
    let summary = first_non_blank(&annotations, &["summary", "description"])
        .or_else(|| first_non_blank(&labels, &["alertname"]))
        .unwrap_or("(no summary)");
    let external_url = msg.external_url.as_deref().unwrap_or("");

    let mut links = Vec::new();
    push_link(
        &mut links,
        alert.generator_url.as_deref().unwrap_or(""),
        "Source",
    );
    push_link(
        &mut links,
        annotations.get("runbook_url").map_or("", String::as_str),
        "Runbook",
    );
    let mut images = Vec::new();
    let mut details = Map::new();
    if let Some(key) = &msg.group_key {
        details.insert("groupKey".into(), json!(key));
    }
    if let Some(receiver) = &msg.receiver {
        details.insert("receiver".into(), json!(receiver));
    }
    if let Some(n @ 1..) = msg.truncated_alerts {
        // The group had more alerts than max_alerts: say so, the body is incomplete.
        details.insert("truncatedAlerts".into(), json!(n));
    }
    if flavour.grafana_extras {
        grafana_extras(msg, alert, &mut links, &mut images, &mut details);
    }
    push_link(&mut links, external_url, flavour.external_text);

    AlertEvent {
        action: if resolved {
            Action::Resolve
        } else {
            Action::Trigger
        },
        dedup_key: Some(dedup_key),
        summary: truncate_summary(summary),
        severity: labels.get("severity").and_then(|s| severity_from_label(s)),
        source: url_host(external_url).unwrap_or_else(|| flavour.default_source.to_owned()),
        labels,
        annotations,
        details: Value::Object(details),
        links,
        images,
        started_at,
        ends_at,
    }
}

/// Grafana's per-alert additions: dashboard, panel and silence pages become links, the
/// rendered graph an image, the evaluated values and rule identity details.
fn grafana_extras(
    msg: &Message,
    alert: &RawAlert,
    links: &mut Vec<crate::alerts::EventLink>,
    images: &mut Vec<EventImage>,
    details: &mut Map<String, Value>,
) {
    push_link(
        links,
        alert.dashboard_url.as_deref().unwrap_or(""),
        "Dashboard",
    );
    push_link(links, alert.panel_url.as_deref().unwrap_or(""), "Panel");
    push_link(links, alert.silence_url.as_deref().unwrap_or(""), "Silence");
    if let Some(src) = alert.image_url.as_deref().map(str::trim)
        && super::is_web_url(src)
    {
        let href = alert
            .panel_url
            .as_deref()
            .filter(|u| super::is_web_url(u))
            .unwrap_or("");
        images.push(EventImage {
            src: src.to_owned(),
            href: href.to_owned(),
            alt: "Panel".into(),
        });
    }
    if let Some(v) = alert.value_string.as_deref().filter(|v| !v.is_empty()) {
        details.insert("valueString".into(), json!(v));
    }
    if let Some(v) = alert.values.as_ref().filter(|v| !v.is_null()) {
        details.insert("values".into(), v.clone());
    }
    if let Some(uid) = alert.rule_uid.as_deref().filter(|v| !v.is_empty()) {
        details.insert("ruleUID".into(), json!(uid));
    }
    if let Some(org) = msg.org_id.as_ref().filter(|v| !v.is_null()) {
        details.insert("orgId".into(), org.clone());
    }
}
