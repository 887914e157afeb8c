//! The postmortem pages as a browser without JavaScript drives them: sessions, forms with
//! the CSRF token, an incident declared and resolved through the incident pages, and the
//! example organisation with a reviewer account.

use std::time::Duration;

use axum::http::{StatusCode, header};
use tocsin::auth::Role as AccountRole;

use crate::support::{TestApp, TestDb};
use crate::web::alerts::app_on;
use crate::web::client::{PASSWORD, Page, enc, fetch, sign_in};

/// Signs in and returns the session cookie and the page's CSRF token.
pub(crate) async fn session(app: &TestApp, user: &str) -> (String, String) {
    let cookie = sign_in(app, user, PASSWORD).await;
    let page = fetch(app, "GET", "/postmortems", &cookie, None).await;
    page.assert_ok_html("postmortem library");
    (cookie, page.csrf_field())
}

pub(crate) async fn post(app: &TestApp, cookie: &str, csrf: &str, path: &str, form: &str) -> Page {
    let body = format!("csrf={}&{form}", enc(csrf));
    fetch(app, "POST", path, cookie, Some(&body)).await
}

pub(crate) fn see_other(r: &Page, to: &str, what: &str) {
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{what}: {}", r.body);
    assert_eq!(r.header(header::LOCATION), to, "{what}");
}

/// The text between `start` and the next `end` in `page`.
pub(crate) fn between<'a>(page: &'a str, start: &str, end: &str) -> &'a str {
    let from = page
        .find(start)
        .unwrap_or_else(|| panic!("{start:?} in the page:\n{page}"))
        + start.len();
    &page[from..from + page[from..].find(end).unwrap()]
}

/// Declares an incident through the form and resolves it; its id.
pub(crate) async fn resolved_incident(app: &TestApp, cookie: &str, csrf: &str, title: &str) -> i64 {
    let form = format!("title={}&service=checkout-api", enc(title));
    let r = post(app, cookie, csrf, "/incidents", &form).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "declare: {}", r.body);
    let id: i64 = r.header(header::LOCATION)["/incidents/".len()..]
        .parse()
        .unwrap();
    app.clock.advance(Duration::from_secs(40 * 60));
    let path = format!("/incidents/{id}/status");
    let r = post(app, cookie, csrf, &path, "status=resolved&note=Rolled+back").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "resolve: {}", r.body);
    id
}

/// The example organisation's accounts and "reviewer", a responder who is Jane Doe.
pub(crate) async fn app_with_reviewer(t: &TestDb) -> TestApp {
    let app = app_on(t).await;
    tocsin::auth::accounts::set_account(
        &t.db,
        "reviewer",
        AccountRole::Responder,
        Some("jane-doe".into()),
        PASSWORD,
        "test",
    )
    .await
    .unwrap();
    app
}
