//! Acknowledge and Resolve through the alert page's forms on both backends: responder role
//! and the session's CSRF token required, a redirect back with a note of what happened, the
//! escalation stopped, a 409 page for acting on a resolved alert.

use axum::http::{StatusCode, header};
use tocsin::alerts::Severity;
use tocsin::alerts::store;
use tocsin::db::Db;

use super::alerts::{app_on, event, ingest};
use super::client::{PASSWORD, Page, enc, fetch, sign_in};
use crate::support::{TestApp, backends, t0};

/// Posts an alert page's button form with `csrf`.
async fn press(app: &TestApp, cookie: &str, id: &str, verb: &str, csrf: &str) -> Page {
    let form = format!("csrf={}", enc(csrf));
    fetch(
        app,
        "POST",
        &format!("/alerts/{id}/{verb}"),
        cookie,
        Some(&form),
    )
    .await
}

#[tokio::test]
async fn acknowledge_and_resolve_through_the_forms() {
    for t in backends().await {
        let b = t.backend;
        let app = app_on(&t).await;
        let now = t0().as_millisecond();
        let id = ingest(
            &t.db,
            "checkout-api",
            &[event("Checkout errors", "co-1", Severity::Critical)],
            now,
        )
        .await[0]
            .clone();
        let status = |db: Db, id: String| async move {
            store::get(&db, &id).await.unwrap().0.status.as_str()
        };

        let viewer = sign_in(&app, "viewer", PASSWORD).await;
        let viewer_csrf = fetch(&app, "GET", "/alerts", &viewer, None)
            .await
            .csrf_field();
        let refused = press(&app, &viewer, &id, "acknowledge", &viewer_csrf).await;
        assert_eq!(
            refused.status,
            StatusCode::FORBIDDEN,
            "{b}: viewers cannot act"
        );

        let responder = sign_in(&app, "responder", PASSWORD).await;
        let page = fetch(&app, "GET", &format!("/alerts/{id}"), &responder, None).await;
        assert!(page.body.contains("Acknowledge</button>"), "{b}");
        assert!(page.body.contains("Resolve</button>"), "{b}");
        let csrf = page.csrf_field();
        for wrong in ["", "not-the-token", &viewer_csrf] {
            let r = press(&app, &responder, &id, "acknowledge", wrong).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{b}: csrf {wrong:?}");
        }
        assert_eq!(status(t.db.clone(), id.clone()).await, "triggered", "{b}");

        let r = press(&app, &responder, &id, "acknowledge", &csrf).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{b}: {}", r.body);
        let back = r.header(header::LOCATION).to_string();
        assert_eq!(back, format!("/alerts/{id}?done=acknowledged"), "{b}");
        let page = fetch(&app, "GET", &back, &responder, None).await;
        page.assert_ok_html("after acknowledging");
        assert!(
            page.body.contains("You acknowledged this alert"),
            "{b}: flash"
        );
        assert!(
            page.body.contains("responder at 2024-06-17T09:00:00Z"),
            "{b}"
        );
        assert!(
            !page.body.contains("Acknowledge</button>"),
            "{b}: acknowledged once"
        );
        assert!(
            page.body.contains("<strong>stopped</strong>"),
            "{b}: escalation stopped"
        );
        assert_eq!(
            status(t.db.clone(), id.clone()).await,
            "acknowledged",
            "{b}"
        );
        let list = fetch(&app, "GET", "/alerts", &responder, None).await;
        assert!(
            list.body.contains("<td>responder</td>"),
            "{b}: acknowledged by, in the list"
        );

        let again = press(&app, &responder, &id, "acknowledge", &csrf).await;
        assert_eq!(
            again.header(header::LOCATION),
            format!("/alerts/{id}?done=already-acknowledged"),
            "{b}"
        );
        let r = press(&app, &responder, &id, "resolve", &csrf).await;
        assert_eq!(
            r.header(header::LOCATION),
            format!("/alerts/{id}?done=resolved"),
            "{b}"
        );
        assert_eq!(status(t.db.clone(), id.clone()).await, "resolved", "{b}");
        let page = fetch(&app, "GET", &format!("/alerts/{id}"), &responder, None).await;
        assert!(
            !page.body.contains("Resolve</button>"),
            "{b}: nothing left to do"
        );
        let late = press(&app, &responder, &id, "resolve", &csrf).await;
        assert_eq!(late.status, StatusCode::CONFLICT, "{b}: already resolved");
        let missing = press(&app, &responder, "nope", "acknowledge", &csrf).await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND, "{b}");
        let anonymous = press(&app, "", &id, "resolve", &csrf).await;
        assert_eq!(
            anonymous.status,
            StatusCode::SEE_OTHER,
            "{b}: to the login form"
        );
        assert!(
            anonymous.header(header::LOCATION).starts_with("/login"),
            "{b}"
        );
    }
}
