//! Signing in and out through the forms: strangers are sent to the login form, a wrong
//! password says so and the sixth failure in a row is throttled, and signing out needs the
//! session's CSRF token and really ends the session.

use axum::http::{StatusCode, header};
use tocsin::auth::Role;

use super::client::{PASSWORD, app_with, enc, fetch, post_login, sign_in};

#[tokio::test]
async fn pages_send_strangers_to_the_login_form() {
    let (app, _db) = app_with(&[]).await;
    for path in [
        "/",
        "/services/catalog-api?x=1",
        "/teams",
        "/audit",
        "/people/jon-doe",
    ] {
        let page = fetch(&app, "GET", path, "", None).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(
            page.header(header::LOCATION),
            format!("/login?next={}", enc(path)),
            "{path}"
        );
    }
    // A forged or expired session is nobody.
    let page = fetch(&app, "GET", "/", "tocsin_session=forged", None).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn sign_out_needs_the_csrf_token_and_ends_the_session() {
    let (app, _db) = app_with(&[Role::Viewer]).await;
    let c = sign_in(&app, "viewer", PASSWORD).await;
    let r = fetch(&app, "POST", "/logout", &c, Some("csrf=wrong")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = fetch(&app, "POST", "/logout", &c, Some("")).await;
    assert!(r.status.is_client_error(), "no csrf field: {}", r.status);
    fetch(&app, "GET", "/", &c, None)
        .await
        .assert_ok_html("still signed in");

    let home = fetch(&app, "GET", "/", &c, None).await;
    let form = format!("csrf={}", enc(&home.csrf_field()));
    let r = fetch(&app, "POST", "/logout", &c, Some(&form)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.header(header::LOCATION), "/login");
    let after = fetch(&app, "GET", "/", &c, None).await;
    assert_eq!(
        after.status,
        StatusCode::SEE_OTHER,
        "the old cookie is dead"
    );
}

#[tokio::test]
async fn wrong_passwords_show_an_error_then_are_throttled() {
    let (app, _db) = app_with(&[Role::Viewer]).await;
    for attempt in 1..=5 {
        let r = post_login(&app, "viewer", "wrong password").await;
        assert_eq!(r.status, StatusCode::OK, "attempt {attempt}");
        assert!(r.body.contains("Wrong username or password."));
        assert!(r.body.contains(r#"role="alert""#));
        assert!(r.set_cookie("tocsin_session").is_none());
    }
    let r = post_login(&app, "viewer", "wrong password").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.body.contains("Too many failed attempts"), "{}", r.body);
    // Even the right password waits: the pause is the point.
    let r = post_login(&app, "viewer", PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
}
