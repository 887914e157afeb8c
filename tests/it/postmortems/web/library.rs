//! The postmortem library (search words and filters, newest first, only published ones for
//! viewers), the Markdown export (`?tz=`) and the print view of a postmortem published
//! through its forms, and the live preview fragment the page's script asks for.

use axum::http::{StatusCode, header};

use super::forms::{app_with_reviewer, post, resolved_incident, session};
use crate::support::{TestApp, backends};
use crate::web::alerts::app_on;
use crate::web::client::{Page, fetch};

/// A postmortem taken from draft to published through the forms (Jon writes, Jane reviews
/// and publishes); its id.
async fn published(app: &TestApp, jon: &(String, String), jane: &(String, String)) -> i64 {
    let id = resolved_incident(app, &jon.0, &jon.1, "Card payments failing").await;
    let pm = format!("/postmortems/{id}");
    let steps = [
        (format!("/incidents/{id}/postmortem"), ""),
        (
            format!("{pm}/sections/summary"),
            "body=Card+payments+failed+for+**40+minutes**.",
        ),
        (
            format!("{pm}/sections/problem"),
            "body=The+outage+was+caused+by+human+error.",
        ),
        (
            format!("{pm}/sections/lessons"),
            "body=-+The+rollback+was+quick.",
        ),
        (
            format!("{pm}/actions"),
            "title=Alert+on+disk+space&kind=detect&owner=jon-doe",
        ),
        (format!("{pm}/reviewers"), "person=jane-doe"),
        (format!("{pm}/submit"), ""),
    ];
    for (path, form) in &steps {
        let r = post(app, &jon.0, &jon.1, path, form).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}: {}", r.body);
    }
    for step in ["approve", "publish"] {
        let r = post(app, &jane.0, &jane.1, &format!("{pm}/{step}"), "").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{step}: {}", r.body);
    }
    id
}

#[tokio::test]
async fn the_library_searches_and_the_export_and_print_follow_the_reader() {
    for t in backends().await {
        let b = t.backend;
        let app = app_with_reviewer(&t).await;
        let (jon, csrf) = session(&app, "responder").await;
        let (viewer, _) = session(&app, "viewer").await;
        let jane = session(&app, "reviewer").await;
        let id = published(&app, &(jon.clone(), csrf.clone()), &jane).await;
        let pm = format!("/postmortems/{id}");

        // A second one stays a draft: the viewer's library shows only the published one.
        let other = resolved_incident(&app, &jon, &csrf, "Search slow").await;
        let r = post(
            &app,
            &jon,
            &csrf,
            &format!("/incidents/{other}/postmortem"),
            "",
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{b}");
        let denied = fetch(&app, "GET", &format!("/postmortems/{other}"), &viewer, None).await;
        assert_eq!(denied.status, StatusCode::FORBIDDEN, "{b}");
        let listed = |page: &Page| -> Vec<i64> {
            page.body
                .split(r#"<tr data-postmortem=""#)
                .skip(1)
                .map(|s| s[..s.find('"').unwrap()].parse().unwrap())
                .collect()
        };
        let lib = fetch(&app, "GET", "/postmortems", &jon, None).await;
        assert_eq!(listed(&lib), vec![other, id], "{b}: newest first");
        let lib = fetch(&app, "GET", "/postmortems", &viewer, None).await;
        assert_eq!(listed(&lib), vec![id], "{b}: viewers see published ones");
        let found = fetch(&app, "GET", "/postmortems?q=HUMAN+error", &jon, None).await;
        assert_eq!(listed(&found), vec![id], "{b}: words");
        let found = fetch(
            &app,
            "GET",
            "/postmortems?status=draft&severity=&service=checkout-api",
            &jon,
            None,
        )
        .await;
        assert_eq!(listed(&found), vec![other], "{b}: status and service");
        let found = fetch(&app, "GET", "/postmortems?from=2024-06-18", &jon, None).await;
        assert!(listed(&found).is_empty(), "{b}: dates");
        let found = fetch(
            &app,
            "GET",
            "/postmortems?from=2024-06-17&to=2024-06-17",
            &jon,
            None,
        )
        .await;
        assert_eq!(listed(&found).len(), 2, "{b}: to includes its day");
        let bad = fetch(&app, "GET", "/postmortems?status=lost", &jon, None).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{b}");
        let bad = fetch(&app, "GET", "/postmortems?from=yesterday", &jon, None).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{b}");

        // Export and print.
        let md = fetch(
            &app,
            "GET",
            &format!("{pm}/export.md?tz=America/New_York"),
            &viewer,
            None,
        )
        .await;
        assert_eq!(md.status, StatusCode::OK, "{b}");
        assert!(
            md.header(header::CONTENT_TYPE).starts_with("text/markdown"),
            "{b}"
        );
        assert!(
            md.header(header::CONTENT_DISPOSITION)
                .contains(&format!("INC-{id}-postmortem.md")),
            "{b}"
        );
        let title = format!("# Postmortem: INC-{id}: Card payments failing");
        for needle in [
            title.as_str(),
            "Card payments failed for **40 minutes**.",
            "| Alert on disk space | detect |",
            "Time (America/New_York)",
        ] {
            assert!(md.body.contains(needle), "{b}: {needle:?} in\n{}", md.body);
        }
        let bad = fetch(
            &app,
            "GET",
            &format!("{pm}/export.md?tz=Mars/Olympus"),
            &jon,
            None,
        )
        .await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{b}");
        let draft_md = fetch(
            &app,
            "GET",
            &format!("/postmortems/{other}/export.md"),
            &viewer,
            None,
        )
        .await;
        assert_eq!(draft_md.status, StatusCode::FORBIDDEN, "{b}");
        let print = fetch(&app, "GET", &format!("{pm}/print"), &viewer, None).await;
        print.assert_ok_html("print view");
        assert!(
            print.body.contains(&format!(
                "<h1>Postmortem: INC-{id}: Card payments failing</h1>"
            )),
            "{b}"
        );
        assert!(
            !print.body.contains(r#"aria-label="Main""#) && !print.body.contains("<form"),
            "{b}: no nav, no forms"
        );
        assert!(
            print.body.contains("/static/postmortem.css"),
            "{b}: print stylesheet"
        );
    }
}

#[tokio::test]
async fn the_live_preview_fragment_renders_and_flags() {
    for t in backends().await {
        let b = t.backend;
        let app = app_on(&t).await;
        let (jon, csrf) = session(&app, "responder").await;
        let (viewer, viewer_csrf) = session(&app, "viewer").await;
        let id = resolved_incident(&app, &jon, &csrf, "Disk full").await;
        let r = post(
            &app,
            &jon,
            &csrf,
            &format!("/incidents/{id}/postmortem"),
            "",
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{b}");
        let path = format!("/postmortems/{id}/preview");
        let body = "body=Bob%27s+fault%3A+he+was+sloppy.+%5Bx%5D(javascript%3Aalert(1))";
        let r = post(&app, &jon, &csrf, &path, body).await;
        assert_eq!(r.status, StatusCode::OK, "{b}: {}", r.body);
        assert!(
            !r.body.contains("javascript:"),
            "{b}: sanitised: {}",
            r.body
        );
        assert!(
            r.body.contains("sloppy") && r.body.contains(r#"class="flag""#),
            "{b}: {}",
            r.body
        );
        assert!(!r.body.contains("<html"), "{b}: a fragment");
        let fair = post(&app, &jon, &csrf, &path, "body=The+disk+filled+up.").await;
        assert!(!fair.body.contains(r#"class="flag""#), "{b}: {}", fair.body);
        let forged = fetch(&app, "POST", &path, &jon, Some("body=x")).await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN, "{b}");
        let as_viewer = post(&app, &viewer, &viewer_csrf, &path, "body=x").await;
        assert_eq!(as_viewer.status, StatusCode::FORBIDDEN, "{b}");
        let missing = post(&app, &jon, &csrf, "/postmortems/999/preview", "body=x").await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND, "{b}");
    }
}
