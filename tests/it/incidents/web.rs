//! The incident pages on both backends, as a browser without JavaScript uses them: the list
//! and its filters, the home panel, declaring through the form (CSRF enforced, viewers
//! refused, the severity suggestion) and from an alert's button. The incident page's forms
//! and the document are `web/page.rs`, the live event stream `web/events.rs`.

mod events;
mod page;

use axum::http::{StatusCode, header};
use tocsin::alerts::{Action, Severity};
use tocsin::clock::Clock;
use tocsin::incidents::store;

use crate::support::{TestApp, backends};
use crate::web::alerts::app_on;
use crate::web::client::{PASSWORD, Page, enc, fetch, sign_in};

/// A critical alert on `service`, stored as ingestion stores it; its id.
async fn alert(app: &TestApp, service: &str, summary: &str) -> String {
    let mut e = crate::alerts::event(Action::Trigger, Some("co"), summary);
    e.severity = Some(Severity::Critical);
    let mut tx = app.db.begin().await.unwrap();
    let out = tocsin::alerts::store::ingest(&mut tx, None, service, &e, app.clock.now_ms())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    out.alert_id.unwrap()
}

/// Signs in and returns the session cookie and the page's CSRF token.
pub(super) async fn session(app: &TestApp, user: &str) -> (String, String) {
    let cookie = sign_in(app, user, PASSWORD).await;
    let home = fetch(app, "GET", "/incidents", &cookie, None).await;
    home.assert_ok_html("incident list");
    (cookie, home.csrf_field())
}

pub(super) async fn post(app: &TestApp, cookie: &str, path: &str, form: &str) -> Page {
    fetch(app, "POST", path, cookie, Some(form)).await
}

/// Declares through the form and returns the new incident's id.
pub(super) async fn declare(app: &TestApp, cookie: &str, csrf: &str, form: &str) -> i64 {
    let r = post(
        app,
        cookie,
        "/incidents",
        &format!("csrf={}&{form}", enc(csrf)),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::SEE_OTHER,
        "declare {form}: {}",
        r.body
    );
    let to = r.header(header::LOCATION);
    to.strip_prefix("/incidents/")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("redirect to an incident, not {to:?}"))
}

/// The incident ids of a page's table rows, in order.
fn listed(page: &str) -> Vec<i64> {
    page.split(r#"<tr data-incident=""#)
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].parse().unwrap())
        .collect()
}

#[tokio::test]
async fn declare_through_the_form_then_list_and_filter() {
    for t in backends().await {
        let b = t.backend;
        let app = app_on(&t).await;
        let (jon, jon_csrf) = session(&app, "responder").await;
        let (viewer, viewer_csrf) = session(&app, "viewer").await;

        let form = fetch(&app, "GET", "/incidents/new", &jon, None).await;
        form.assert_ok_html("declare form");
        assert!(
            form.body.contains(r#"<option value="checkout-api">"#),
            "{b}: services listed"
        );
        let denied = fetch(&app, "GET", "/incidents/new", &viewer, None).await;
        assert_eq!(
            denied.status,
            StatusCode::FORBIDDEN,
            "{b}: viewers cannot declare"
        );

        let body = "title=Checkout+down&service=checkout-api";
        let no_csrf = post(&app, &jon, "/incidents", body).await;
        assert_eq!(
            no_csrf.status,
            StatusCode::FORBIDDEN,
            "{b}: CSRF token required"
        );
        let wrong = post(
            &app,
            &jon,
            "/incidents",
            &format!("csrf={}&{body}", enc(&viewer_csrf)),
        )
        .await;
        assert_eq!(
            wrong.status,
            StatusCode::FORBIDDEN,
            "{b}: another session's token"
        );
        let as_viewer = post(
            &app,
            &viewer,
            "/incidents",
            &format!("csrf={}&{body}", enc(&viewer_csrf)),
        )
        .await;
        assert_eq!(
            as_viewer.status,
            StatusCode::FORBIDDEN,
            "{b}: viewers cannot declare"
        );

        // "Suggest severity" shows the catalog's proposal without declaring anything.
        let suggest = post(
            &app,
            &jon,
            "/incidents",
            &format!("csrf={}&action=suggest&{body}", enc(&jon_csrf)),
        )
        .await;
        suggest.assert_ok_html("suggestion");
        assert!(
            suggest
                .body
                .contains("Tocsin suggests <strong>Sev 0</strong>"),
            "{b}: {}",
            suggest.body
        );
        assert!(
            suggest
                .body
                .contains(r#"<option value="checkout-api" selected>"#),
            "{b}: choice kept"
        );

        let refused = post(
            &app,
            &jon,
            "/incidents",
            &format!("csrf={}&title=+&service=checkout-api", enc(&jon_csrf)),
        )
        .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert!(
            refused.body.contains("title must not be empty"),
            "{b}: the reason is shown"
        );
        assert!(
            refused
                .body
                .contains(r#"<option value="checkout-api" selected>"#),
            "{b}: form kept"
        );
        let unknown = post(
            &app,
            &jon,
            "/incidents",
            &format!("csrf={}&title=x&service=nope", enc(&jon_csrf)),
        )
        .await;
        assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert!(unknown.body.contains("unknown service"), "{b}");

        let first = declare(
            &app,
            &jon,
            &jon_csrf,
            &format!("{body}&service=catalog-api&summary=Card+payments+fail"),
        )
        .await;
        let second = declare(
            &app,
            &jon,
            &jon_csrf,
            "title=Search+slow&severity=sev2&service=catalog-api",
        )
        .await;
        let third = declare(
            &app,
            &jon,
            &jon_csrf,
            "title=Shipping+labels&severity=sev1&service=shipping-api",
        )
        .await;
        let full = store::full(&t.db, first).await.unwrap();
        assert_eq!(
            full.incident.severity, "sev0",
            "{b}: the suggestion is used when none is chosen"
        );
        assert_eq!(
            full.incident.declared_by, "Jon Doe",
            "{b}: the linked person declares"
        );
        assert_eq!(full.incident.source, "web");
        assert_eq!(
            full.services,
            vec!["catalog-api".to_string(), "checkout-api".to_string()]
        );
        let resolve = post(
            &app,
            &jon,
            &format!("/incidents/{third}/status"),
            &format!("csrf={}&status=resolved&note=done", enc(&jon_csrf)),
        )
        .await;
        assert_eq!(
            resolve.status,
            StatusCode::SEE_OTHER,
            "{b}: {}",
            resolve.body
        );

        let cases: &[(&str, &[i64])] = &[
            ("", &[second, first]),
            ("?status=all", &[second, first, third]),
            ("?status=resolved", &[third]),
            ("?status=investigating&severity=sev0", &[first]),
            ("?service=catalog-api", &[second, first]),
            ("?status=all&service=shipping-api", &[third]),
            ("?severity=sev1", &[]),
        ];
        for (query, want) in cases {
            let page = fetch(&app, "GET", &format!("/incidents{query}"), &viewer, None).await;
            page.assert_ok_html(query);
            assert_eq!(listed(&page.body), *want, "{b}: {query}");
        }
        let all = fetch(&app, "GET", "/incidents?status=all", &viewer, None).await;
        for text in [
            "INC-",
            "Checkout down",
            "Sev 0",
            "investigating",
            "resolved",
            "Foo Bar",
        ] {
            assert!(all.body.contains(text), "{b}: the list shows {text:?}");
        }
        assert!(
            !all.body.contains(r#"href="/incidents/new""#),
            "{b}: no declare button for viewers"
        );
        let mine = fetch(&app, "GET", "/incidents", &jon, None).await;
        assert!(
            mine.body.contains(r#"href="/incidents/new""#),
            "{b}: responders get the button"
        );
        for bad in ["status=open-ish", "severity=sev9"] {
            let page = fetch(&app, "GET", &format!("/incidents?{bad}"), &viewer, None).await;
            assert_eq!(page.status, StatusCode::BAD_REQUEST, "{b}: {bad}");
            assert!(page.body.contains("must be"), "{b}: {bad} says why");
        }

        let home = fetch(&app, "GET", "/", &viewer, None).await;
        home.assert_ok_html("home");
        assert!(
            home.body.contains(r#"<a href="/incidents">Incidents</a>"#),
            "{b}: nav entry"
        );
        let from = home.body.find("Open incidents").expect("panel");
        let to = from + home.body[from..].find("</section>").unwrap();
        assert_eq!(
            listed(&home.body[from..to]),
            vec![second, first],
            "{b}: open ones only"
        );
    }
}

#[tokio::test]
async fn the_alert_page_declares_once_then_links_the_incident() {
    for t in backends().await {
        let b = t.backend;
        let app = app_on(&t).await;
        let alert = alert(&app, "checkout-api", "Checkout 5xx above 5%").await;
        let (jon, csrf) = session(&app, "responder").await;
        let (viewer, _) = session(&app, "viewer").await;
        let path = format!("/alerts/{alert}");
        let button = format!(r#"action="/alerts/{alert}/incident""#);
        let page = fetch(&app, "GET", &path, &jon, None).await;
        assert!(
            page.body.contains(&button),
            "{b}: responders see the button"
        );
        let page = fetch(&app, "GET", &path, &viewer, None).await;
        assert!(!page.body.contains(&button), "{b}: viewers do not");

        let target = format!("{path}/incident");
        let no_csrf = post(&app, &jon, &target, "").await;
        assert_eq!(no_csrf.status, StatusCode::FORBIDDEN, "{b}");
        let r = post(&app, &jon, &target, &format!("csrf={}", enc(&csrf))).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{b}: {}", r.body);
        let at = r.header(header::LOCATION).to_string();
        let id: i64 = at.trim_start_matches("/incidents/").parse().unwrap();
        let full = store::full(&t.db, id).await.unwrap();
        assert_eq!(full.incident.title, "Checkout 5xx above 5%");
        assert_eq!(full.incident.source, "alert");
        assert_eq!(full.alerts, vec![alert.clone()]);
        assert_eq!(full.services, vec!["checkout-api".to_string()]);

        let page = fetch(&app, "GET", &path, &jon, None).await;
        assert!(
            !page.body.contains(&button),
            "{b}: no second declaration offered"
        );
        assert!(
            page.body.contains(&format!(
                r#"href="/incidents/{id}" id="alert-incident">INC-{id}<"#
            )),
            "{b}: links it"
        );
        let again = post(&app, &jon, &target, &format!("csrf={}", enc(&csrf))).await;
        assert_eq!(
            again.header(header::LOCATION),
            at,
            "{b}: a second click opens the same incident"
        );
        let mut tx = t.db.begin_read().await.unwrap();
        let listed = store::list(
            &mut tx,
            &store::Filter {
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(listed.len(), 1, "{b}: one incident");
        let incident = fetch(&app, "GET", &at, &jon, None).await;
        incident.assert_ok_html("incident page");
        assert!(
            incident.body.contains(&format!(
                r#"<a href="/alerts/{alert}">Checkout 5xx above 5%</a>"#
            )),
            "{b}: the alert is linked"
        );
        let missing = post(
            &app,
            &jon,
            "/alerts/no-such-alert/incident",
            &format!("csrf={}", enc(&csrf)),
        )
        .await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND, "{b}");
    }
}
