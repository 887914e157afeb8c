//! The report and SLO pages, signed in as a viewer through the real login form, on both
//! backends: each page has its chart (inline SVG) and the numbers as a table.

use axum::http::StatusCode;
use tocsin::auth::Role;

use crate::support::backends;
use crate::web::client::{PASSWORD, fetch, sign_in};

use super::api::seeded_app;
use super::seed;

#[tokio::test]
async fn report_and_slo_pages_show_charts_and_tables() {
    for t in backends().await {
        let app = seeded_app(&t).await;
        tocsin::auth::accounts::set_account(&t.db, "viewer", Role::Viewer, None, PASSWORD, "test")
            .await
            .unwrap();
        let c = sign_in(&app, "viewer", PASSWORD).await;
        let index = fetch(
            &app,
            "GET",
            "/reports?from=2026-09-01&to=2026-09-30",
            &c,
            None,
        )
        .await;
        index.assert_ok_html("reports index");
        assert!(
            index
                .body
                .contains(r#"<a href="/reports" aria-current="page">Reports</a>"#),
            "nav"
        );
        assert!(
            index.body.contains(r#"name="from" value="2026-09-01""#),
            "{}",
            index.body
        );
        assert!(
            index
                .body
                .contains(r#"href="/reports/oncall?from=2026-09-01&#38;to=2026-09-30"#),
            "{}",
            index.body
        );
        let cases: &[(&str, &[&str])] = &[
            ("response", &["By severity", "Sev 0", "19 min", "Payments"]),
            ("services", &["Payment gateway", "Incidents per tier"]),
            (
                "oncall",
                &["Jane Doe", "Europe/Berlin", "Outside working hours"],
            ),
            ("breaches", &["2 of 4", "INC-2 Payments slow"]),
            ("alerts", &["Payment latency", "checkout-errors", "yes"]),
        ];
        for (name, wanted) in cases {
            let p = fetch(
                &app,
                "GET",
                &format!("/reports/{name}?from=2026-09-01&to=2026-09-30"),
                &c,
                None,
            )
            .await;
            p.assert_ok_html(name);
            assert!(p.body.contains("<svg role=\"img\""), "{name} has its chart");
            assert!(
                p.body.contains("<table class=\"report\""),
                "{name} has its table"
            );
            for w in *wanted {
                assert!(p.body.contains(w), "{} {name}: {w:?} missing", t.backend);
            }
        }
        let p = fetch(&app, "GET", "/reports/nope", &c, None).await;
        assert_eq!(p.status, StatusCode::NOT_FOUND);
        let p = fetch(&app, "GET", "/reports/response?from=soon", &c, None).await;
        assert_eq!(p.status, StatusCode::BAD_REQUEST);
        assert!(p.body.contains("from:"), "{}", p.body);

        // The SLO pages read budgets at the clock's now: the end of September.
        app.clock
            .set(jiff::Timestamp::from_millisecond(seed::SEP + 29 * seed::DAY).unwrap());
        // Two years on, the session has expired: sign in again.
        let c = sign_in(&app, "viewer", PASSWORD).await;
        let p = fetch(&app, "GET", "/slos", &c, None).await;
        p.assert_ok_html("slos");
        assert!(
            p.body.contains("Checkout API availability") && p.body.contains("<meter"),
            "{}",
            p.body
        );
        // 30 min of 43.2.
        assert!(p.body.contains("69.4 %"), "{}", p.body);
        let p = fetch(&app, "GET", "/slos/checkout-api-availability", &c, None).await;
        p.assert_ok_html("slo");
        assert!(p.body.contains("<svg role=\"img\""), "burn chart");
        assert!(p.body.contains("INC-1</a> Checkout 5xx"), "{}", p.body);
        let p = fetch(&app, "GET", "/slos/nope", &c, None).await;
        assert_eq!(p.status, StatusCode::NOT_FOUND);
    }
}
