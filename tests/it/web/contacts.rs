//! The person page's "Notifications" section on both backends: the plain-language summary for
//! everyone, the default when there are no rules, and the add/remove forms (CSRF, own person
//! or admin) with a webhook's secret shown once.

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
