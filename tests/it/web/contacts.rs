//! The person page's "Notifications" section on both backends: the plain-language summary for
//! everyone, the default when there are no rules, and the add/remove forms (CSRF, own person
//! or admin) with a webhook's secret shown once; the "Send test" button and its outcome.

use axum::http::{StatusCode, header};

use super::alerts::app_on;
use super::client::{PASSWORD, Page, enc, fetch, sign_in};
use crate::support::{TestApp, backends};

async fn post(app: &TestApp, cookie: &str, path: &str, form: &str) -> Page {
    fetch(app, "POST", path, cookie, Some(form)).await
}

/// The id in the last `data-{what}="…"` attribute before `label` in the page (the list item
/// that shows `label`).
fn id_before(page: &Page, what: &str, label: &str) -> String {
    let to = page.body.find(label).expect(label);
    let marker = format!(r#"data-{what}=""#);
    let start = page.body[..to].rfind(&marker).expect(what) + marker.len();
    let len = page.body[start..].find('"').unwrap();
    page.body[start..start + len].to_string()
}

#[tokio::test]
async fn people_set_how_they_are_paged_on_their_page() {
    for t in backends().await {
        let b = t.backend;
        let app = app_on(&t).await;
        let jon = sign_in(&app, "responder", PASSWORD).await;
        let page = fetch(&app, "GET", "/people/jon-doe", &jon, None).await;
        page.assert_ok_html("person page");
        assert!(
            page.body.contains("No contact methods or rules, so a page goes by email to their catalog address, jon.doe@shop.example."),
            "{b}: the default, said plainly:\n{}",
            page.body
        );
        let csrf = page.csrf_field();
        let slack = "https://hooks.slack.com/services/T0/B0/secretpart";

        let r = post(
            &app,
            &jon,
            "/people/jon-doe/contact-methods",
            &format!("kind=slack&target={}", enc(slack)),
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{b}: no CSRF token");
        let form = format!("csrf={}&kind=slack&target={}", enc(&csrf), enc(slack));
        let r = post(&app, &jon, "/people/jon-doe/contact-methods", &form).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{b}: {}", r.body);
        assert_eq!(
            r.header(header::LOCATION),
            "/people/jon-doe#notifications",
            "{b}"
        );
        let form = format!(
            "csrf={}&kind=webhook&target={}",
            enc(&csrf),
            enc("https://hooks.example/jon")
        );
        let created = post(&app, &jon, "/people/jon-doe/contact-methods", &form).await;
        created.assert_ok_html("webhook created");
        assert!(created.body.contains("tcn_whsec_"), "{b}: the secret, once");
        let bad = format!("csrf={}&kind=email&target=nope", enc(&csrf));
        let r = post(&app, &jon, "/people/jon-doe/contact-methods", &bad).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert!(
            r.body.contains("is not an email address"),
            "{b}: {}",
            r.body
        );

        let page = fetch(&app, "GET", "/people/jon-doe", &jon, None).await;
        assert!(
            page.body
                .contains("No notification rules, so a page goes to every contact method at once."),
            "{b}"
        );
        assert!(
            !page.body.contains("tcn_whsec_"),
            "{b}: the secret is not shown again"
        );
        let slack_id = id_before(&page, "method", "<strong>Slack</strong>");
        let hook_id = id_before(&page, "method", "<strong>webhook</strong>");
        for (method, delay) in [(&slack_id, "0"), (&hook_id, "2")] {
            let form = format!(
                "csrf={}&contact_method={method}&delay_minutes={delay}",
                enc(&csrf)
            );
            let r = post(&app, &jon, "/people/jon-doe/notification-rules", &form).await;
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{b}: {}", r.body);
        }
        let form = format!(
            "csrf={}&contact_method={hook_id}&delay_minutes=soon",
            enc(&csrf)
        );
        let r = post(&app, &jon, "/people/jon-doe/notification-rules", &form).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        let page = fetch(&app, "GET", "/people/jon-doe", &jon, None).await;
        assert!(
            page.body
                .contains("When paged: Slack at once, webhook after 2 minutes."),
            "{b}:\n{}",
            page.body
        );

        // Others see how Jon is reached, not where (the URLs are secrets), and no forms.
        let viewer = sign_in(&app, "viewer", PASSWORD).await;
        let seen = fetch(&app, "GET", "/people/jon-doe", &viewer, None).await;
        assert!(
            seen.body
                .contains("Slack at once, webhook after 2 minutes."),
            "{b}"
        );
        assert!(
            !seen.body.contains("secretpart"),
            "{b}: no targets for others"
        );
        assert!(
            !seen.body.contains("/contact-methods/"),
            "{b}: no forms for others"
        );
        let viewer_csrf = seen.csrf_field();
        let r = post(
            &app,
            &viewer,
            &format!("/contact-methods/{slack_id}/remove"),
            &format!("csrf={}", enc(&viewer_csrf)),
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{b}");
        let admin = sign_in(&app, "admin", PASSWORD).await;
        let seen = fetch(&app, "GET", "/people/jon-doe", &admin, None).await;
        assert!(
            seen.body.contains("secretpart") && seen.body.contains("Add rule"),
            "{b}: admins see all"
        );

        let rule = id_before(&page, "rule", "webhook (");
        let r = post(
            &app,
            &jon,
            &format!("/notification-rules/{rule}/remove"),
            &format!("csrf={}&person=jon-doe", enc(&csrf)),
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{b}: {}", r.body);
        let r = post(
            &app,
            &jon,
            &format!("/contact-methods/{hook_id}/remove"),
            &format!("csrf={}", enc(&csrf)),
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{b}: {}", r.body);
        let page = fetch(&app, "GET", "/people/jon-doe", &jon, None).await;
        assert!(
            page.body.contains("Contact methods (1)")
                && page.body.contains("Notification rules (1)")
                && page.body.contains("When paged: Slack at once."),
            "{b}:\n{}",
            page.body
        );
    }
}

/// Each method's "Send test" button: CSRF and the API's rules, the throttle's reason on the
/// page, and the last test's outcome next to the method, as the real deliverer left it.
#[tokio::test]
async fn send_test_button_shows_how_the_last_test_went() {
    for t in backends().await {
        let b = t.backend;
        let app = app_on(&t).await;
        let sink = crate::sinks::HttpSink::start().await;
        sink.answer(404);
        let now = tocsin::clock::Clock::now_ms(&app.clock);
        let slack = tocsin::notify::contact::add_method(
            &app.db,
            now,
            "t",
            "jon-doe",
            tocsin::notify::contact::ContactKind::Slack,
            &sink.url("/services/T/B/gone"),
        )
        .await
        .unwrap();
        let jon = sign_in(&app, "responder", PASSWORD).await;
        let page = fetch(&app, "GET", "/people/jon-doe", &jon, None).await;
        let action = format!(r#"action="/contact-methods/{}/test""#, slack.id);
        assert!(
            page.body.contains(&action) && page.body.contains("Send test"),
            "{b}: a button per method:\n{}",
            page.body
        );
        assert!(!page.body.contains("Last test:"), "{b}: none yet");
        let csrf = page.csrf_field();
        let path = format!("/contact-methods/{}/test", slack.id);

        let r = post(&app, &jon, &path, "").await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{b}: no CSRF token");
        let form = format!("csrf={}", enc(&csrf));
        let r = post(&app, &jon, &path, &form).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{b}: {}", r.body);
        assert_eq!(
            r.header(header::LOCATION),
            "/people/jon-doe#notifications",
            "{b}"
        );
        let page = fetch(&app, "GET", "/people/jon-doe", &jon, None).await;
        assert!(
            page.body.contains(r#"data-test-status="queued""#)
                && page
                    .body
                    .contains("Last test: queued 2024-06-17T09:00:00Z, not sent yet"),
            "{b}:\n{}",
            page.body
        );

        let r = post(&app, &jon, &path, &form).await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{b}: {}", r.body);
        assert_eq!(r.header(header::RETRY_AFTER), "10", "{b}");
        assert!(
            r.body.contains(
                "A test went to this contact method 0 s ago; one test per 10 s, so try again in 10 s."
            ),
            "{b}: the page says why:\n{}",
            r.body
        );

        let d = tocsin::notify::deliver::Deliverer {
            db: app.db.clone(),
            clock: std::sync::Arc::new(app.clock.clone()),
            snapshots: app.state.snapshots.clone(),
            client: tocsin::notify::client().unwrap(),
            mailer: None,
            base_url: "http://tocsin.test".into(),
            ack_secret: app.state.ack_secret().await.unwrap(),
            block_private: false,
        };
        let r = tocsin::engine::outbox::deliver_due(&app.db, &d, &app.clock, "t", 10)
            .await
            .unwrap();
        assert_eq!(r.gave_up, 1, "{b}: {r:?}");
        let page = fetch(&app, "GET", "/people/jon-doe", &jon, None).await;
        assert!(
            page.body.contains(r#"data-test-status="failed""#)
                && page
                    .body
                    .contains("Last test: failed after 1 attempt: HTTP 404"),
            "{b}: the reason next to the method:\n{}",
            page.body
        );

        // Someone else may neither press it nor see it.
        let viewer = sign_in(&app, "viewer", PASSWORD).await;
        let seen = fetch(&app, "GET", "/people/jon-doe", &viewer, None).await;
        assert!(
            !seen.body.contains("Send test") && !seen.body.contains("Last test:"),
            "{b}"
        );
        let form = format!("csrf={}", enc(&seen.csrf_field()));
        let r = post(&app, &viewer, &path, &form).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{b}");
        assert_eq!(sink.received().len(), 1, "{b}: one test went out");
    }
}
