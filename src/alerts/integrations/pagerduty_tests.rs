//! Contract tests for the PagerDuty Events v2 parser: happy paths, each verification error with
//! its message, and what Alertmanager's PagerDuty receiver really sends.

use serde_json::json;

use super::*;
use crate::alerts::EventLink;

const KEY: &str = "0123456789abcdef0123456789abcdef";

fn body(v: Value) -> Vec<u8> {
    v.to_string().into_bytes()
}

fn problems(v: Value) -> Vec<String> {
    parse(&body(v)).expect_err("invalid").problems
}

#[test]
fn trigger_maps_payload_links_images_and_plus_0000_timestamp() {
    let (key, e) = parse(&body(json!({
        "routing_key": KEY, "event_action": "trigger", "dedup_key": "srv01/HTTP",
        "payload": {
            "summary": "Example alert on host1.example.com", "source": "monitoringtool:host1",
            "severity": "info", "timestamp": "2015-07-17T08:42:58.315+0000",
            "component": "postgres", "group": "prod-datapipe", "class": "deploy",
            "custom_details": {"ping time": "1500ms", "load avg": 0.75, "nested": [1, {"a": null}]}
        },
        "images": [{"src": "https://chart.example/img.png", "href": "https://example.com/", "alt": "chart"}],
        "links": [{"href": "https://example.com/", "text": "Link text"}, {"href": "ftp://nope"}],
        "client": "Sample Monitoring Service", "client_url": "https://monitoring.example.com"
    })))
    .expect("valid");
    assert_eq!(key, KEY);
    assert_eq!(e.action, Action::Trigger);
    assert_eq!(e.dedup_key.as_deref(), Some("srv01/HTTP"));
    assert_eq!(e.summary, "Example alert on host1.example.com");
    assert_eq!(e.source, "monitoringtool:host1");
    assert_eq!(e.severity, Some(Severity::Info));
    assert_eq!(e.started_at, Some(1_437_122_578_315));
    assert_eq!(e.details["nested"], json!([1, {"a": null}]));
    assert_eq!(e.details["load avg"], json!(0.75));
    assert_eq!(
        e.labels.get("component").map(String::as_str),
        Some("postgres")
    );
    assert_eq!(e.labels.get("class").map(String::as_str), Some("deploy"));
    assert_eq!(
        e.links,
        [
            EventLink {
                href: "https://example.com/".into(),
                text: "Link text".into()
            },
            EventLink {
                href: "https://monitoring.example.com".into(),
                text: "Sample Monitoring Service".into()
            },
        ]
    );
    assert_eq!(e.images[0].src, "https://chart.example/img.png");
    assert_eq!(e.images[0].alt, "chart");
}

#[test]
fn acknowledge_and_resolve_need_only_key_and_action() {
    for (action, want) in [
        ("acknowledge", Action::Acknowledge),
        ("resolve", Action::Resolve),
    ] {
        let (_, e) = parse(&body(
            json!({"routing_key": KEY, "event_action": action, "dedup_key": "k"}),
        ))
        .expect("valid");
        assert_eq!(
            (e.action, e.dedup_key.as_deref(), e.summary.as_str()),
            (want, Some("k"), "")
        );
        assert_eq!((e.severity, e.source.as_str()), (None, "pagerduty-events"));
    }
}

#[test]
fn trigger_without_dedup_key_lets_the_caller_make_one() {
    let (_, e) = parse(&body(json!({"routing_key": KEY, "event_action": "trigger",
        "payload": {"summary": "s", "source": "h", "severity": "critical", "timestamp": "garbage"}})))
    .expect("valid");
    assert_eq!((e.dedup_key, e.started_at), (None, None));
}

#[test]
fn each_verification_error_has_its_message() {
    let ok_payload = json!({"summary": "s", "source": "h", "severity": "error"});
    let cases = [
        (
            json!({"routing_key": "short", "event_action": "trigger", "payload": ok_payload}),
            "Length of 'routing_key' is incorrect (should be 32 characters)",
        ),
        (
            json!({"event_action": "trigger", "payload": ok_payload}),
            "Length of 'routing_key' is incorrect (should be 32 characters)",
        ),
        (
            json!({"routing_key": KEY, "payload": ok_payload}),
            "'event_action' is missing or blank",
        ),
        (
            json!({"routing_key": KEY, "event_action": "snooze"}),
            "'event_action' is invalid (must be trigger, acknowledge or resolve)",
        ),
        (
            json!({"routing_key": KEY, "event_action": "resolve"}),
            "'dedup_key' is missing or blank",
        ),
        (
            json!({"routing_key": KEY, "event_action": "acknowledge", "dedup_key": " "}),
            "'dedup_key' is missing or blank",
        ),
        (
            json!({"routing_key": KEY, "event_action": "resolve", "dedup_key": "k".repeat(256)}),
            "'dedup_key' is too long (maximum 255 characters)",
        ),
        (
            json!({"routing_key": KEY, "event_action": "trigger"}),
            "'payload' is missing or blank",
        ),
        (
            json!({"routing_key": KEY, "event_action": "trigger", "payload": {"source": "h", "severity": "info"}}),
            "'payload.summary' is missing or blank",
        ),
        (
            json!({"routing_key": KEY, "event_action": "trigger",
                "payload": {"summary": "x".repeat(1025), "source": "h", "severity": "info"}}),
            "'payload.summary' is too long (maximum 1024 characters)",
        ),
        (
            json!({"routing_key": KEY, "event_action": "trigger", "payload": {"summary": "s", "severity": "info"}}),
            "'payload.source' is missing or blank",
        ),
        (
            json!({"routing_key": KEY, "event_action": "trigger", "payload": {"summary": "s", "source": "h"}}),
            "'payload.severity' is missing or blank",
        ),
        (
            json!({"routing_key": KEY, "event_action": "trigger",
                "payload": {"summary": "s", "source": "h", "severity": "high"}}),
            "'payload.severity' is invalid (must be critical, error, warning or info)",
        ),
        (
            json!({"routing_key": KEY, "event_action": "trigger", "payload": ok_payload,
                "images": [{"src": "http://insecure.example/x.png"}]}),
            "'images[0].src' is invalid (must be an HTTPS URL)",
        ),
    ];
    for (event, want) in cases {
        assert_eq!(problems(event.clone()), [want], "for {event}");
    }
}

#[test]
fn all_problems_are_collected_for_one_reply() {
    let got = problems(json!({"routing_key": "x", "event_action": "trigger", "payload": {}}));
    assert_eq!(
        got,
        [
            "Length of 'routing_key' is incorrect (should be 32 characters)",
            "'payload.summary' is missing or blank",
            "'payload.source' is missing or blank",
            "'payload.severity' is missing or blank",
        ]
    );
    assert_eq!(
        rejection(&ParseError {
            problems: got.clone()
        }),
        json!({"status": "invalid event", "message": "Event object is invalid", "errors": got})
    );
}

#[test]
fn unparseable_bodies_get_the_unrecognized_reply() {
    for raw in [&b"{not json"[..], b"[]", b"\"string\"", b""] {
        let err = parse(raw).expect_err("unrecognized");
        assert!(is_unrecognized(&err));
        assert_eq!(
            rejection(&err).to_string(),
            r#"{"errors":["JSON parse error"],"message":"Event object format is unrecognized","status":"Unrecognized object"}"#
        );
    }
    assert_eq!(unrecognized()["status"], json!("Unrecognized object"));
}

#[test]
fn success_body_matches_pagerduty() {
    assert_eq!(
        success("k1"),
        json!({"status": "success", "message": "Event processed", "dedup_key": "k1"})
    );
}

/// What Alertmanager's PagerDuty receiver sends (notify/pagerduty: dedup_key =
/// sha256_hex(groupKey), severity defaults to "error", source to the client "Alertmanager",
/// custom_details firing/resolved/num_firing/num_resolved).
#[test]
fn alertmanager_as_pagerduty_sender() {
    let dedup = "5b1fd3d1e68c0d3b1e3b9d5d8c4c2a9f6e0f1a2b3c4d5e6f708192a3b4c5d6e7";
    let raw = json!({
        "routing_key": KEY, "dedup_key": dedup, "event_action": "trigger",
        "payload": {
            "summary": "[FIRING:2] HighLatency api (critical)", "source": "Alertmanager", "severity": "error",
            "custom_details": {"firing": "Labels:\n - alertname = HighLatency\n", "num_firing": "2",
                               "num_resolved": "0", "resolved": ""}
        },
        "client": "Alertmanager", "client_url": "http://127.0.0.1:19093/#/alerts?receiver=pd",
        "links": [], "images": []
    });
    let (_, e) = parse(&body(raw.clone())).expect("valid");
    assert_eq!(e.dedup_key.as_deref(), Some(dedup));
    assert_eq!(e.dedup_key.as_deref().map(str::len), Some(64));
    assert_eq!(e.severity, Some(Severity::Error));
    assert_eq!(e.source, "Alertmanager");
    assert_eq!(e.details["num_firing"], json!("2"));
    assert_eq!(e.links[0].text, "Alertmanager");
    let mut resolve = raw;
    resolve["event_action"] = json!("resolve");
    assert_eq!(
        parse(&body(resolve)).expect("valid").1.action,
        Action::Resolve
    );
}
