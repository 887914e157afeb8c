//! Grafana Alerting webhook contact point body, `"version": "1"` (`grafana/alerting`
//! `receivers/webhook/v1`). Grafana's Mimir-compatible integration sends Alertmanager's
//! `"version": "4"` body instead; route that one to [`alertmanager`](super::alertmanager).
//!
//! The body is Alertmanager's data model plus top-level `orgId`/`title`/`state`/`message` and
//! per-alert `dashboardURL`, `panelURL`, `silenceURL`, `imageURL`, `values`, `valueString`,
//! `ruleUID`, so it shares Alertmanager's parser and mapping (see there) with these extras:
//!
//! * dashboard, panel and silence URLs become links, `imageURL` an image (linking to the panel);
//! * `valueString`, `values`, `ruleUID` and `orgId` go into `details`;
//! * source = host of `externalURL`, else "grafana".
//!
//! `title`, `state` and `message` are ignored: they summarise the whole group, Grafana's docs
//! mark them for deprecation, and each alert's own status and annotations say more. Grafana
//! timestamps may carry non-UTC offsets (`+02:00`); they are converted to instants.
//! Verified: the version, `alerts`, at most [`MAX_ALERTS`](super::MAX_ALERTS) alerts,
//! timestamps. Unknown fields are ignored.

use super::alertmanager::{Flavour, parse_with};
use crate::alerts::{AlertEvent, ParseError};

const GRAFANA: Flavour = Flavour {
    version: "1",
    default_source: "grafana",
    external_text: "Grafana",
    grafana_extras: true,
};

/// Parse a Grafana webhook body into one event per alert, in the order sent.
pub fn parse(body: &[u8]) -> Result<Vec<AlertEvent>, ParseError> {
    parse_with(body, &GRAFANA)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::alerts::{Action, EventImage, EventLink, Severity};

    /// Grafana's documented example (webhook-notifier.md), with the per-alert extras filled in
    /// and the `+02:00` offset the docs show.
    const EXAMPLE: &str = r#"{
      "receiver": "My Super Webhook",
      "status": "firing",
      "orgId": 1,
      "alerts": [{
        "status": "firing",
        "labels": {"alertname": "High memory usage", "team": "blue", "zone": "us-1", "severity": "High"},
        "annotations": {"description": "The system has high memory usage", "runbook_url": "https://myrunbook.com/runbook/1234", "summary": "This alert was triggered for zone us-1"},
        "startsAt": "2021-10-12T09:51:03.157076+02:00",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "https://play.grafana.org/alerting/1afz29v7z/edit",
        "fingerprint": "c6eadffa33fcdf37",
        "silenceURL": "https://play.grafana.org/alerting/silence/new?alertmanager=grafana&matchers=alertname%3DT2%2Cteam%3Dblue",
        "dashboardURL": "https://play.grafana.org/d/abc",
        "panelURL": "https://play.grafana.org/d/abc?viewPanel=3",
        "imageURL": "https://play.grafana.org/public/img/abc.png",
        "values": {"B": 44.23943737541908, "C": 1},
        "valueString": "[ metric='' labels={} value=44.23 ]",
        "ruleUID": "1afz29v7z",
        "enrichments": {"anything": ["goes"]}
      }],
      "groupLabels": {},
      "commonLabels": {"team": "blue", "zone": "us-1"},
      "commonAnnotations": {},
      "externalURL": "https://play.grafana.org/",
      "version": "1",
      "groupKey": "{}:{}",
      "truncatedAlerts": 0,
      "title": "[FIRING:1]  (High memory usage blue us-1)",
      "state": "alerting",
      "message": "**Firing**\n\nLabels:\n - alertname = T2"
    }"#;

    #[test]
    fn documented_example_maps_extras_to_links_image_and_details() {
        let events = parse(EXAMPLE.as_bytes()).expect("valid Grafana body");
        assert_eq!(events.len(), 1);
        let e = &events[0];
        assert_eq!(e.action, Action::Trigger);
        assert_eq!(e.dedup_key.as_deref(), Some("c6eadffa33fcdf37"));
        assert_eq!(e.summary, "This alert was triggered for zone us-1");
        assert_eq!(e.severity, Some(Severity::Error), "High maps to error");
        assert_eq!(e.source, "play.grafana.org");
        // 09:51:03.157076+02:00 is 07:51:03.157Z.
        assert_eq!(e.started_at, Some(1_634_025_063_157));
        assert_eq!(e.ends_at, None);
        let hrefs: Vec<(&str, &str)> = e
            .links
            .iter()
            .map(|l: &EventLink| (l.text.as_str(), l.href.as_str()))
            .collect();
        assert_eq!(
            hrefs,
            [
                ("Source", "https://play.grafana.org/alerting/1afz29v7z/edit"),
                ("Runbook", "https://myrunbook.com/runbook/1234"),
                ("Dashboard", "https://play.grafana.org/d/abc"),
                ("Panel", "https://play.grafana.org/d/abc?viewPanel=3"),
                (
                    "Silence",
                    "https://play.grafana.org/alerting/silence/new?alertmanager=grafana&matchers=alertname%3DT2%2Cteam%3Dblue"
                ),
                ("Grafana", "https://play.grafana.org/"),
            ]
        );
        assert_eq!(
            e.images,
            [EventImage {
                src: "https://play.grafana.org/public/img/abc.png".into(),
                href: "https://play.grafana.org/d/abc?viewPanel=3".into(),
                alt: "Panel".into(),
            }]
        );
        assert_eq!(
            e.details["valueString"],
            json!("[ metric='' labels={} value=44.23 ]")
        );
        assert_eq!(e.details["values"]["C"], json!(1));
        assert_eq!(e.details["ruleUID"], json!("1afz29v7z"));
        assert_eq!(e.details["orgId"], json!(1));
        assert_eq!(e.labels.get("zone").map(String::as_str), Some("us-1"));
    }

    #[test]
    fn resolved_alert_resolves() {
        let body = EXAMPLE
            .replace(
                r#""status": "firing",
        "labels""#,
                r#""status": "resolved",
        "labels""#,
            )
            .replace(
                r#""endsAt": "0001-01-01T00:00:00Z""#,
                r#""endsAt": "2021-10-12T10:00:00+02:00""#,
            );
        let events = parse(body.as_bytes()).expect("valid");
        assert_eq!(events[0].action, Action::Resolve);
        assert_eq!(events[0].ends_at, Some(1_634_025_600_000));
    }

    #[test]
    fn alertmanager_version_is_not_grafana() {
        let body = EXAMPLE.replace(r#""version": "1""#, r#""version": "4""#);
        let err = parse(body.as_bytes()).expect_err("version 4 is Alertmanager's");
        assert_eq!(
            err.problems,
            ["version: \"4\" is not supported (expected \"1\")"]
        );
    }

    #[test]
    fn no_external_url_means_grafana_source_and_no_javascript_links() {
        let body = EXAMPLE
            .replace(r#""externalURL": "https://play.grafana.org/","#, "")
            .replace("https://play.grafana.org/d/abc\"", "javascript:alert(1)\"");
        let e = &parse(body.as_bytes()).expect("valid")[0];
        assert_eq!(e.source, "grafana");
        assert!(e.links.iter().all(|l| l.href.starts_with("https://")));
        assert!(!e.links.iter().any(|l| l.text == "Dashboard"));
    }
}
