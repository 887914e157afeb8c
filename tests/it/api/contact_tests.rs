//! `POST /api/v1/contact-methods/{id}/test` on both backends: who may send a test (the
//! person's own account as a responder, or an admin; tokens of other roles and viewers are
//! refused; an unknown method is a JSON 404) and the one-test-per-10-s throttle per method
//! (429 with `Retry-After`, nothing queued).

use std::time::Duration;

use axum::http::{StatusCode, header};
use tocsin::auth::Role;

use crate::notify::test_message::Caller;
use crate::support::backends;
use crate::web::alerts::app_on;

#[tokio::test]
async fn only_the_person_or_an_admin_may_send_a_test_once_per_ten_seconds() {
    for t in backends().await {
        let b = t.backend;
        let app = app_on(&t).await;
        // The responder account is Jon Doe's; the viewer account is Foo Bar's.
        let jon = Caller::browser(&app, "responder").await;
        let foo = Caller::browser(&app, "viewer").await;
        let admin = Caller::Token(app.token(Role::Admin).await);
        let (mine, _) = jon
            .add_method(&app, "jon-doe", "email", "jon@shop.example")
            .await;
        let (also_mine, _) = jon
            .add_method(&app, "jon-doe", "email", "jon.doe@home.example")
            .await;
        let (foos, _) = admin
            .add_method(&app, "foo-bar", "email", "foo@shop.example")
            .await;

        let (s, _, err) = jon.test(&app, &foos).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{b}: someone else's: {err}");
        let (s, _, err) = foo.test(&app, &foos).await;
        assert_eq!(
            s,
            StatusCode::FORBIDDEN,
            "{b}: a viewer, even their own: {err}"
        );
        assert!(err["error"].is_string(), "{b}: {err}");
        let (s, _, err) = jon.test(&app, "no-such-method").await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{b}: {err}");
        assert!(err["error"].is_string(), "{b}: JSON error: {err}");
        let responder = Caller::Token(app.token(Role::Responder).await);
        let (s, _, _) = responder.test(&app, &mine).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{b}: tokens belong to nobody");
        let (s, _) = foo.tests(&app, &mine).await;
        assert_eq!(
            s,
            StatusCode::FORBIDDEN,
            "{b}: nor may others read the outcomes"
        );
        let (s, _) = foo.tests(&app, &foos).await;
        assert_eq!(s, StatusCode::OK, "{b}: a viewer reads their own");
        let no_csrf = match &jon {
            Caller::Browser { cookie, .. } => Caller::Browser {
                cookie: cookie.clone(),
                csrf: String::new(),
            },
            Caller::Token(_) => unreachable!(),
        };
        let (s, _, _) = no_csrf.test(&app, &mine).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{b}: csrf");

        let (s, _, q) = jon.test(&app, &mine).await;
        assert_eq!(s, StatusCode::ACCEPTED, "{b}: their own: {q}");
        // Again at once: refused with how long to wait, and nothing queued.
        let (s, headers, err) = jon.test(&app, &mine).await;
        assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{b}: {err}");
        assert_eq!(headers[header::RETRY_AFTER], "10", "{b}");
        assert_eq!(
            err["error"],
            "a test went to this contact method 0 s ago; one test per 10 s, so try again in 10 s",
            "{b}"
        );
        let (s, _, _) = admin.test(&app, &mine).await;
        assert_eq!(
            s,
            StatusCode::TOO_MANY_REQUESTS,
            "{b}: per method, whoever asks"
        );
        let (s, _, _) = jon.test(&app, &also_mine).await;
        assert_eq!(
            s,
            StatusCode::ACCEPTED,
            "{b}: another method has its own slot"
        );
        app.clock.advance(Duration::from_millis(6_500));
        let (s, headers, _) = jon.test(&app, &mine).await;
        assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{b}");
        assert_eq!(headers[header::RETRY_AFTER], "4", "{b}: 3.5 s rounded up");
        app.clock.advance(Duration::from_millis(3_500));
        let (s, _, _) = jon.test(&app, &mine).await;
        assert_eq!(s, StatusCode::ACCEPTED, "{b}: ten seconds on");
        let (_, listed) = jon.tests(&app, &mine).await;
        assert_eq!(
            listed.as_array().map(Vec::len),
            Some(2),
            "{b}: refused tests left nothing: {listed}"
        );
    }
}
