//! SLOs from the example files, their budgets over the scripted September, impairments set
//! through the API, and what a postmortem gets from `slo::incident_burn`. By hand: INC-1
//! impaired checkout-api from its start to its mitigation, 30 minutes, which is 69.4 % of
//! the 43.2 minutes a 99.9 % SLO allows in 30 days; set to exactly 43.2 minutes it is 100 %.

use axum::http::StatusCode;
use serde_json::json;
use tocsin::auth::Role;
use tocsin::catalog::snapshot::Snapshot;

use crate::support::backends;

use super::api::seeded_app;
use super::seed::{self, S1};

const AT: &str = "2026-09-30T00:00:00Z";

#[tokio::test]
async fn budgets_and_impairments_on_both_backends() {
    for t in backends().await {
        let app = seeded_app(&t).await;
        let viewer = app.token(Role::Viewer).await;
        let responder = app.token(Role::Responder).await;
        let (s, list) = app.call("GET", "/api/v1/slos", Some(&viewer), None).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(list.as_array().unwrap().len(), 6, "{list}");

        let budget = async || {
            let path = format!("/api/v1/slos/checkout-api-availability/budget?at={AT}");
            let (s, b) = app.call("GET", &path, Some(&viewer), None).await;
            assert_eq!(s, StatusCode::OK, "{b}");
            b
        };
        let b = budget().await;
        assert_eq!(b["budget_ms"], 2_592_000);
        assert_eq!(b["consumed_ms"], 1_800_000, "{} {b}", t.backend);
        assert!((b["percent_consumed"].as_f64().unwrap() - 1800.0 / 25.92).abs() < 1e-9);
        assert_eq!(b["incidents"][0]["incident_id"], 1);
        assert_eq!(b["sla_breached"], false);

        let path = "/api/v1/incidents/1/services/checkout-api/impairment";
        let body = json!({"from": S1, "to": S1 + 2_592_000});
        let (s, v) = app
            .call("PUT", path, Some(&viewer), Some(body.clone()))
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
        let (s, v) = app.call("PUT", path, Some(&responder), Some(body)).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["to"], S1 + 2_592_000);
        let b = budget().await;
        assert_eq!(b["consumed_ms"], 2_592_000);
        assert_eq!(b["percent_consumed"], 100.0);
        assert_eq!(b["remaining_ms"], 0);
        assert_eq!(b["objective_met"], true);

        // An overlapping incident on the same service adds only what it does not share
        // (INC-4 is July's, also on checkout-api: a responder corrects its impairment).
        let overlap = json!({"from": "2026-09-01T10:30:00Z", "to": "2026-09-01T11:00:00Z"});
        let p4 = "/api/v1/incidents/4/services/checkout-api/impairment";
        let (s, v) = app.call("PUT", p4, Some(&responder), Some(overlap)).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let b = budget().await;
        // INC-1 covers 10:00–10:43:12; INC-4 10:30–11:00 adds 16 min 48 s.
        assert_eq!(b["consumed_ms"], 3_600_000, "{} {b}", t.backend);
        assert_eq!(b["incidents"][1]["incident_id"], 4);
        assert_eq!(b["incidents"][1]["consumed_ms"], 1_008_000);

        let bad = [
            (
                path,
                json!({"from": S1, "to": S1 - 1}),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                path,
                json!({"from": "soon", "to": S1}),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (path, json!({"from": S1}), StatusCode::UNPROCESSABLE_ENTITY),
            (
                "/api/v1/incidents/99/services/checkout-api/impairment",
                json!({"from": S1, "to": S1}),
                StatusCode::NOT_FOUND,
            ),
            (
                "/api/v1/incidents/1/services/web-storefront/impairment",
                json!({"from": S1, "to": S1}),
                StatusCode::NOT_FOUND,
            ),
        ];
        for (p, body, status) in bad {
            let (s, v) = app
                .call("PUT", p, Some(&responder), Some(body.clone()))
                .await;
            assert!(
                s == status
                    || (status == StatusCode::UNPROCESSABLE_ENTITY && s == StatusCode::BAD_REQUEST),
                "{p} {body}: {s} {v}"
            );
            assert!(v["error"].is_string(), "{v}");
        }
        let (s, _) = app
            .call("GET", "/api/v1/slos/nope/budget", Some(&viewer), None)
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, _) = app
            .call(
                "GET",
                "/api/v1/slos/checkout-api-availability/budget?at=x",
                Some(&viewer),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST);

        // What the postmortem shows for INC-1.
        let snap = Snapshot::new(tocsin::catalog::store::load(&t.db).await.unwrap());
        let now = seed::SEP + 29 * seed::DAY;
        let burns = tocsin::slo::incident_burn(&t.db, &snap, 1, now)
            .await
            .unwrap();
        let got: Vec<(&str, i64, i64)> = burns
            .iter()
            .map(|b| {
                (
                    b.slo_id.as_str(),
                    b.impaired_ms,
                    (b.percent_of_budget * 10.0).round() as i64,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("checkout-api-availability", 2_592_000, 1000),
                ("checkout-api-latency", 2_592_000, 100),
                // 30 min of the 21.6 a 99.95 % SLO allows.
                ("payment-gateway-availability", 1_800_000, 1389),
            ]
        );
        let md = tocsin::slo::burn_markdown(&burns);
        assert!(
            md.contains("| Checkout API availability | checkout-api | 43 min | 43 min | 100.0 % |"),
            "{md}"
        );
        assert!(
            tocsin::slo::incident_burn(&t.db, &snap, 99, now)
                .await
                .is_err()
        );
    }
}

#[tokio::test]
async fn slo_files_are_validated() {
    let current = tocsin::catalog::Catalog::default();
    let mut sources = tocsin::cli::example_sources();
    sources.push(tocsin::config::Source {
        path: "bad.yaml".into(),
        text:
            "slos:\n  - id: x\n    service: nope\n    name: X\n    sli: {kind: availability}\n    \
               objective: 100\n    window_days: 0\n  - id: y\n    service: checkout-api\n    \
               name: Y\n    sli: {kind: latency}\n    objective: 99.0\n    window_days: 30\n    \
               sla: 99.5\n"
                .into(),
    });
    let Err(errors) = tocsin::config::load(sources, &current) else {
        panic!("the bad SLOs were accepted");
    };
    let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
    let all = text.join("\n");
    assert!(
        all.contains("bad.yaml:3:") && all.contains("unknown service \"nope\""),
        "{all}"
    );
    assert!(
        all.contains("bad.yaml:6:") && all.contains("strictly between 0 and 100"),
        "{all}"
    );
    assert!(
        all.contains("bad.yaml:7:") && all.contains("1 to 366 days"),
        "{all}"
    );
    assert!(
        all.contains("bad.yaml:14:") && all.contains("must not exceed"),
        "{all}"
    );
}
