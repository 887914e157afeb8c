//! `GET /api/v1/reports/{name}` over the scripted September. Worked out by hand from
//! `seed.rs`: three incidents start in September (INC-4 is in July).
//! - acknowledged after 3, 9, 45 min: mean 19, median 9; declared after 10, 5, 20: mean
//!   11 min 40 s, median 10; resolved after 60 and 120 (INC-3 is open): mean and median 90.
//! - pages: Jon gets a1 by email and Slack (one page, 11:00 BST) and a4 on a Sunday night;
//!   Jane gets a3 at 08:30 CEST and its bundle at 09:00 CEST: each 2 pages, 1 outside hours.

use axum::http::StatusCode;
use serde_json::{Value, json};
use tocsin::auth::Role;

use crate::support::{TestApp, backends, seed_example};

use super::seed::{self, MIN};

const SEPT: &str = "from=2026-09-01&to=2026-09-30";

pub async fn seeded_app(t: &crate::support::TestDb) -> TestApp {
    seed_example(&t.db).await;
    seed::history(&t.db).await;
    TestApp::new(t.db.clone())
}

fn keys(groups: &Value) -> Vec<(String, u64)> {
    groups
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["key"].as_str().unwrap().to_string(),
                g["incidents"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn k(pairs: &[(&str, u64)]) -> Vec<(String, u64)> {
    pairs.iter().map(|(a, b)| (a.to_string(), *b)).collect()
}

#[tokio::test]
async fn reports_over_a_scripted_month_on_both_backends() {
    for t in backends().await {
        let app = seeded_app(&t).await;
        let token = app.token(Role::Viewer).await;
        let get = async |name: &str, q: &str| {
            let (s, v) = app
                .call(
                    "GET",
                    &format!("/api/v1/reports/{name}?{q}"),
                    Some(&token),
                    None,
                )
                .await;
            assert_eq!(s, StatusCode::OK, "{} {name}: {v}", t.backend);
            v
        };
        let r = get("response", SEPT).await;
        assert_eq!(r["name"], "response");
        assert_eq!(r["period"]["from"], seed::SEP);
        assert_eq!(r["period"]["to"], seed::SEP + 30 * seed::DAY);
        let o = &r["report"]["overall"];
        assert_eq!(o["incidents"], 3, "{}", t.backend);
        assert_eq!(
            o["acknowledge"],
            json!({"count": 3, "mean_ms": 19 * MIN, "p50_ms": 9 * MIN})
        );
        assert_eq!(
            o["declare"],
            json!({"count": 3, "mean_ms": 700_000, "p50_ms": 10 * MIN})
        );
        assert_eq!(
            o["resolve"],
            json!({"count": 2, "mean_ms": 90 * MIN, "p50_ms": 90 * MIN})
        );
        let b = &r["report"];
        assert_eq!(keys(&b["by_severity"]), k(&[("sev0", 2), ("sev1", 1)]));
        assert_eq!(b["by_severity"][0]["acknowledge"]["mean_ms"], 6 * MIN);
        assert_eq!(
            keys(&b["by_service"]),
            k(&[
                ("checkout-api", 1),
                ("payment-gateway", 2),
                ("web-storefront", 1)
            ])
        );
        assert_eq!(
            keys(&b["by_team"]),
            k(&[
                ("cart-checkout", 1),
                ("catalog-backend", 1),
                ("payments", 2)
            ])
        );
        assert_eq!(keys(&b["by_month"]), k(&[("2026-09", 3)]));

        let r = get("services", SEPT).await;
        let services: Vec<(String, u64)> = r["report"]["services"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["service"].as_str().unwrap().into(),
                    s["incidents"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            services,
            k(&[
                ("payment-gateway", 2),
                ("checkout-api", 1),
                ("web-storefront", 1)
            ])
        );
        assert_eq!(
            r["report"]["tiers"],
            json!([
                {"tier": 0, "name": r["report"]["tiers"][0]["name"], "incidents": 2, "services": 2},
                {"tier": 1, "name": r["report"]["tiers"][1]["name"], "incidents": 1, "services": 1}
            ])
        );

        let r = get("oncall", SEPT).await;
        let people: Vec<(String, i64, i64, i64)> = r["report"]["people"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["person"].as_str().unwrap().into(),
                    p["pages"].as_i64().unwrap(),
                    p["pages_out_of_hours"].as_i64().unwrap(),
                    p["incidents_with_role"].as_i64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            people,
            vec![("jane-doe".into(), 2, 1, 2), ("jon-doe".into(), 2, 1, 1)],
            "{}",
            t.backend
        );

        let r = get("breaches", SEPT).await;
        let b = &r["report"];
        assert_eq!(
            (b["alerts"].as_i64(), b["alerts_breached"].as_i64()),
            (Some(4), Some(2))
        );
        assert_eq!(
            b["by_service_severity"],
            json!([
                {"service": "checkout-api", "severity": "critical", "alerts": 2, "breached": 1},
                {"service": "payment-gateway", "severity": "error", "alerts": 2, "breached": 1}
            ])
        );
        assert_eq!(b["incidents_with_target"], 3);
        let late: Vec<i64> = b["incidents_late"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_i64().unwrap())
            .collect();
        assert_eq!(
            late,
            [2, 3],
            "sev0 target 5 min: 9 is late; sev1 30 min: 45 is late"
        );

        let r = get("alerts", SEPT).await;
        assert_eq!(
            r["report"]["top"],
            json!([
                {"service": "payment-gateway", "rule": "", "summary": "Payment latency",
                 "alerts": 2, "events": 8, "playbook": null, "automated": false},
                {"service": "checkout-api", "rule": "checkout-5xx", "summary": "Checkout 5xx above 5%",
                 "alerts": 2, "events": 5, "playbook": "checkout-errors", "automated": true}
            ]),
            "{}",
            t.backend
        );
        assert_eq!(r["report"]["without_playbook"], 1);

        // Filters.
        let r = get("response", &format!("{SEPT}&service=payment-gateway")).await;
        assert_eq!(r["report"]["overall"]["incidents"], 2);
        let r = get("response", &format!("{SEPT}&severity=sev1")).await;
        assert_eq!(r["report"]["overall"]["incidents"], 1);
        let r = get("breaches", &format!("{SEPT}&severity=sev1")).await;
        assert_eq!(r["report"]["alerts"], 2, "sev1 covers error alerts only");
        let r = get("alerts", &format!("{SEPT}&service=checkout-api")).await;
        assert_eq!(r["report"]["top"].as_array().unwrap().len(), 1);
        // The default period is the 90 days before now (the test clock is in 2024).
        let r = get("response", "").await;
        assert_eq!(r["report"]["overall"]["incidents"], 0);
        assert_eq!(
            r["period"]["to"].as_i64().unwrap() - r["period"]["from"].as_i64().unwrap(),
            90 * seed::DAY
        );
    }
}

#[tokio::test]
async fn bad_report_requests_are_json_errors() {
    let t = crate::support::sqlite().await;
    let app = seeded_app(&t).await;
    let token = app.token(Role::Viewer).await;
    for (path, status) in [
        ("/api/v1/reports/nope", StatusCode::NOT_FOUND),
        (
            "/api/v1/reports/response?from=yesterday",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/reports/response?from=2026-10-01&to=2026-09-01",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/reports/response?service=nope",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/reports/response?severity=sev9",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/reports/response?colour=red",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/reports/response?to=2026-02-30",
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let (s, v) = app.call("GET", path, Some(&token), None).await;
        assert_eq!(s, status, "{path}: {v}");
        assert!(v["error"].is_string(), "{path}: {v}");
    }
    let (s, _) = app
        .call("GET", "/api/v1/reports/response", None, None)
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}
