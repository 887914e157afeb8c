//! Contract tests shared by the formats: the captured Alertmanager 0.25 webhook bodies replayed
//! (copied from the reference folder into `tests/fixtures/alertmanager/`), Alertmanager bodies
//! with fields missing or added, the shared helpers, and a property test that no parser panics
//! on arbitrary bytes or arbitrary JSON.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::alerts::{Action, AlertEvent};

const A_TWO_FIRING: &str =
    include_str!("../../../tests/fixtures/alertmanager/alertmanager-0.25-a-two-firing.json");
const B_NEW_GROUP: &str =
    include_str!("../../../tests/fixtures/alertmanager/alertmanager-0.25-b-new-group.json");
const C_ONE_RESOLVED: &str =
    include_str!("../../../tests/fixtures/alertmanager/alertmanager-0.25-c-one-resolved.json");
const D_ALL_RESOLVED: &str =
    include_str!("../../../tests/fixtures/alertmanager/alertmanager-0.25-d-all-resolved.json");

const WEB1: &str = "076ae3f4b12baf7a";
const WEB2: &str = "b64e871f7c4346b3";
/// 2026-11-22T15:49:45Z in ms.
const T45: i64 = 1_795_362_585_000;

/// (action, dedup key, started_at, ends_at) of each event, the part the lifecycle acts on.
fn outline(events: &[AlertEvent]) -> Vec<(Action, &str, Option<i64>, Option<i64>)> {
    events
        .iter()
        .map(|e| {
            (
                e.action,
                e.dedup_key.as_deref().unwrap_or(""),
                e.started_at,
                e.ends_at,
            )
        })
        .collect()
}

#[test]
fn a_two_firing_alerts_become_two_triggers() {
    let events = alertmanager::parse(A_TWO_FIRING.as_bytes()).expect("captured body");
    assert_eq!(
        outline(&events),
        [
            (Action::Trigger, WEB1, Some(T45), None),
            (Action::Trigger, WEB2, Some(T45 + 61), None)
        ]
    );
    let web1 = &events[0];
    assert_eq!(web1.summary, "p99 latency above 2s");
    assert_eq!(web1.severity, Some(Severity::Critical));
    assert_eq!(web1.source, "127.0.0.1:19093");
    assert_eq!(
        web1.labels.get("instance").map(String::as_str),
        Some("web-1:9100")
    );
    assert_eq!(web1.labels.len(), 4);
    assert_eq!(
        web1.annotations.get("runbook_url").map(String::as_str),
        Some("https://runbooks.example/high-latency")
    );
    let links: Vec<(&str, &str)> = web1
        .links
        .iter()
        .map(|l| (l.text.as_str(), l.href.as_str()))
        .collect();
    assert_eq!(
        links,
        [
            (
                "Source",
                "http://prometheus.example:9090/graph?g0.expr=latency_p99+%3E+2"
            ),
            ("Runbook", "https://runbooks.example/high-latency"),
            ("Alertmanager", "http://127.0.0.1:19093"),
        ]
    );
    assert_eq!(
        web1.details,
        json!({"groupKey": "{}:{alertname=\"HighLatency\", service=\"api\"}", "receiver": "test-webhook"})
    );
    assert!(web1.images.is_empty());
    // web-2 has a description too, but summary wins.
    assert_eq!(events[1].summary, "p99 latency above 2s");
}

#[test]
fn b_new_group_is_one_trigger() {
    let events = alertmanager::parse(B_NEW_GROUP.as_bytes()).expect("captured body");
    assert_eq!(
        outline(&events),
        [(
            Action::Trigger,
            "145b0bf2ce4fbb98",
            Some(1_795_362_592_567),
            None
        )]
    );
    assert_eq!(events[0].summary, "disk 95% full");
    assert_eq!(events[0].severity, None, "no severity label");
}

#[test]
fn c_only_the_resolved_alert_resolves_in_a_firing_group() {
    let events = alertmanager::parse(C_ONE_RESOLVED.as_bytes()).expect("captured body");
    assert_eq!(
        outline(&events),
        [
            (Action::Resolve, WEB1, Some(T45), Some(T45 + 7_000)),
            (Action::Trigger, WEB2, Some(T45 + 61), None),
        ]
    );
}

#[test]
fn d_all_resolved_resolves_the_remaining_alert() {
    let events = alertmanager::parse(D_ALL_RESOLVED.as_bytes()).expect("captured body");
    assert_eq!(
        outline(&events),
        [(Action::Resolve, WEB2, Some(T45 + 61), Some(T45 + 16_000))]
    );
}

#[test]
fn missing_optional_fields_and_unknown_fields_are_fine() {
    // HEAD-era fields (notification_reason, routeLabels), a fork's extra, null maps, no
    // annotations, no generatorURL, no externalURL, no fingerprint.
    let body = json!({
        "version": "4", "status": "firing", "notification_reason": "first notification",
        "routeLabels": {"team": "x"}, "forkExtra": [1, 2], "commonLabels": null,
        "alerts": [
            {"status": "firing", "labels": {"alertname": "NoAnnotations"}, "startsAt": "2026-11-22T15:49:45Z",
             "endsAt": "0001-01-01T00:00:00Z", "fingerprint": "aaaaaaaaaaaaaaaa", "extra": true},
            {"labels": {"alertname": "Bare", "severity": "WARN"}, "annotations": null}
        ]
    });
    let events = alertmanager::parse(body.to_string().as_bytes()).expect("valid");
    let e = &events[0];
    assert_eq!(
        (e.summary.as_str(), e.source.as_str()),
        ("NoAnnotations", "alertmanager")
    );
    assert!(e.links.is_empty() && e.annotations.is_empty());
    assert_eq!((e.started_at, e.ends_at), (Some(T45), None));
    let bare = &events[1];
    assert_eq!(bare.action, Action::Trigger, "no status is not a resolve");
    assert_eq!(bare.severity, Some(Severity::Warning));
    assert_eq!(
        bare.dedup_key.as_deref(),
        Some(label_fingerprint(&bare.labels).as_str())
    );
    assert_eq!((bare.started_at, bare.ends_at), (None, None));
}

#[test]
fn common_labels_sit_under_alert_labels() {
    let body = json!({"version": "4", "commonLabels": {"team": "db", "severity": "info"},
        "alerts": [{"labels": {"alertname": "X", "severity": "critical"}, "fingerprint": "f"}]});
    let e = &alertmanager::parse(body.to_string().as_bytes()).expect("valid")[0];
    assert_eq!(e.labels.get("team").map(String::as_str), Some("db"));
    assert_eq!(
        e.severity,
        Some(Severity::Critical),
        "the alert's own label wins"
    );
}

#[test]
fn wrong_version_missing_alerts_and_bad_times_name_the_field() {
    let err = alertmanager::parse(br#"{"version":"3"}"#).expect_err("invalid");
    assert_eq!(
        err.problems,
        [
            "version: \"3\" is not supported (expected \"4\")",
            "alerts: missing (expected an array of alerts)"
        ]
    );
    let err = alertmanager::parse(br#"{"alerts":[]}"#).expect_err("no version");
    assert_eq!(
        err.problems,
        ["version: missing or not a string (expected \"4\")"]
    );
    let err = alertmanager::parse(br#"{"version":"4","alerts":[{"startsAt":"soon"}]}"#)
        .expect_err("bad time");
    assert!(
        err.problems[0].starts_with("alerts[0].startsAt: invalid timestamp \"soon\""),
        "{err}"
    );
    let many = json!({"version": "4", "alerts": vec![json!({}); MAX_ALERTS + 1]});
    let err = alertmanager::parse(many.to_string().as_bytes()).expect_err("too many");
    assert_eq!(err.problems, ["alerts: 1001 alerts, at most 1000 per body"]);
}

#[test]
fn timestamps_accept_offsets_fractions_and_zero_time() {
    assert_eq!(
        parse_timestamp("2015-07-17T08:42:58.315+0000"),
        Ok(Some(1_437_122_578_315))
    );
    assert_eq!(
        parse_timestamp("2015-07-17T10:42:58.315+02:00"),
        Ok(Some(1_437_122_578_315))
    );
    assert_eq!(
        parse_timestamp("2026-11-22T15:49:45.061489184Z"),
        Ok(Some(T45 + 61))
    );
    assert_eq!(
        parse_timestamp("2026-11-22T15:49:45"),
        Ok(Some(T45)),
        "no offset reads as UTC"
    );
    assert_eq!(parse_timestamp("0001-01-01T00:00:00Z"), Ok(None));
    assert_eq!(parse_timestamp(""), Ok(None));
    assert!(parse_timestamp("22/11/2026").is_err());
}

#[test]
fn severity_words_and_summary_cut() {
    for (word, want) in [
        ("CRITICAL", Some(Severity::Critical)),
        ("high", Some(Severity::Error)),
        ("Warn", Some(Severity::Warning)),
        ("low", Some(Severity::Info)),
        ("page", None),
    ] {
        assert_eq!(severity_from_label(word), want, "{word}");
    }
    assert_eq!(truncate_summary("short"), "short");
    let cut = truncate_summary(&"x".repeat(2000));
    assert_eq!((cut.chars().count(), cut.ends_with('…')), (1024, true));
    assert_eq!(
        url_host("https://user:pw@grafana.example:3000/d/x?y"),
        Some("grafana.example:3000".into())
    );
    assert_eq!(url_host("not a url"), None);
}

/// Arbitrary JSON, biased towards the shapes the parsers look at.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        prop_oneof![
            Just("4".to_owned()),
            Just("1".to_owned()),
            Just("trigger".to_owned()),
            Just("resolve".to_owned()),
            Just("resolved".to_owned()),
            Just("0001-01-01T00:00:00Z".to_owned()),
            Just("https://x".to_owned()),
            ".{0,40}"
        ]
        .prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        let key = prop_oneof![
            Just("version".to_owned()),
            Just("alerts".to_owned()),
            Just("labels".to_owned()),
            Just("status".to_owned()),
            Just("startsAt".to_owned()),
            Just("endsAt".to_owned()),
            Just("payload".to_owned()),
            Just("summary".to_owned()),
            Just("images".to_owned()),
            Just("routing_key".to_owned()),
            Just("event_action".to_owned()),
            "[a-z]{1,8}"
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key, inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn run_all(body: &[u8]) {
    let _ = alertmanager::parse(body);
    let _ = grafana::parse(body);
    let _ = alertmanager_api::parse(body, 0, 300_000);
    let _ = alertmanager_api::parse(body, i64::MAX, i64::MAX);
    if let Err(e) = pagerduty::parse(body) {
        let _ = pagerduty::rejection(&e);
    }
    let _ = generic::parse(body);
}

proptest! {
    #[test]
    fn no_parser_panics_on_bytes(body in prop::collection::vec(any::<u8>(), 0..512)) {
        run_all(&body);
    }

    #[test]
    fn no_parser_panics_on_json(value in any_json()) {
        run_all(value.to_string().as_bytes());
        // The same value as the only alert of each array/webhook shape.
        run_all(json!([value]).to_string().as_bytes());
        run_all(json!({"version": "4", "alerts": [value]}).to_string().as_bytes());
        run_all(json!({"version": "1", "alerts": [value]}).to_string().as_bytes());
    }
}
