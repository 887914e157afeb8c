//! The web UI, driven in-process like a browser without JavaScript: sign in through the real
//! form (cookie + hidden CSRF field), then read pages as HTML. Content checks use the example
//! organisation, so a page that renders but shows the wrong thing fails too.

mod alert_actions;
pub(crate) mod alerts;
pub(crate) mod client;
mod contacts;
mod session;

use axum::http::{StatusCode, header};
use tocsin::auth::Role;

use crate::support::t0;

use client::{PASSWORD, app_with, fetch, sign_in};

#[tokio::test]
async fn catalog_pages_show_the_example_organisation() {
    let (app, _db) = app_with(&[Role::Viewer]).await;
    let c = sign_in(&app, "viewer", PASSWORD).await;
    let cases: &[(&str, &[&str])] = &[
        (
            "/",
            &[
                "Tier 0 services",
                "Checkout API",
                ">16</strong> services",
                "Quick links",
            ],
        ),
        (
            "/services",
            &["16 services", "K8S-as-a-Service", "Catalog Backend Team"],
        ),
        (
            "/services/catalog-api",
            &[
                "Catalog Backend Team",
                "Product data and search",
                "A major customer-facing feature",
                "Search the catalog and browse products",
                "Web storefront",
                "Catalog database",
                r#"href="https://wiki.shop.example/runbooks/catalog-api""#,
            ],
        ),
        (
            "/business-functions",
            &["Check out a product already in the cart", "crit-critical"],
        ),
        (
            "/business-functions/checkout",
            &[
                "Cart and Checkout Team",
                "Payment gateway",
                "K8S-as-a-Service",
                "Identity",
            ],
        ),
        ("/teams", &["Platform Team", "Engineering Management"]),
        (
            "/teams/catalog-backend",
            &["Foo Bar", "Tom Baker", "Catalog API", "Search the catalog"],
        ),
        (
            "/people",
            &["Jane Doe", "jane.doe@shop.example", "Payments Team"],
        ),
        // t0 is Monday 09:00 UTC: 11:00 in Berlin in June.
        (
            "/people/jane-doe",
            &[
                "jane.doe@shop.example",
                "Europe/Berlin",
                "Monday 11:00",
                "SRE Team",
            ],
        ),
        ("/handbook", &["Incident-management handbook"]),
    ];
    for (path, expected) in cases {
        let page = fetch(&app, "GET", path, &c, None).await;
        page.assert_ok_html(path);
        for text in *expected {
            assert!(
                page.body.contains(text),
                "{path} shows {text:?}:\n{}",
                page.body
            );
        }
        assert!(
            page.body.contains(r#"aria-current="page""#),
            "{path} marks its nav entry"
        );
        assert!(
            !page.body.contains("/audit\""),
            "{path}: no audit link for a viewer"
        );
    }
    // Impact is narrow: paying by card never touches the catalog.
    let s = fetch(&app, "GET", "/services/catalog-api", &c, None).await;
    assert!(
        !s.body.contains("Pay by card"),
        "card payment does not need the catalog"
    );
}

#[tokio::test]
async fn service_filters_narrow_the_list() {
    let (app, _db) = app_with(&[Role::Viewer]).await;
    let c = sign_in(&app, "viewer", PASSWORD).await;
    let cases: &[(&str, &str, &[&str], &[&str])] = &[
        (
            "tier=0",
            "Showing 9 of 16",
            &["Checkout API", "Inventory database"],
            &["Catalog API"],
        ),
        (
            "team=catalog-backend",
            "Showing 4 of 16",
            &["Catalog API", "Search index"],
            &["Cart service"],
        ),
        (
            "domain=payment",
            "Showing 2 of 16",
            &["Payment gateway", "Payments database"],
            &["Checkout API"],
        ),
        (
            "tier=1&team=catalog-backend&domain=",
            "Showing 3 of 16",
            &["Web storefront"],
            &["Search index"],
        ),
        (
            "tier=nonsense",
            "No service matches these filters",
            &[],
            &["Checkout API"],
        ),
        (
            "tier=&team=&domain=",
            "16 services",
            &["Checkout API", "Search index"],
            &[],
        ),
    ];
    for (query, count, shown, hidden) in cases {
        let page = fetch(&app, "GET", &format!("/services?{query}"), &c, None).await;
        page.assert_ok_html(query);
        assert!(
            page.body.contains(count),
            "{query}: {count}:\n{}",
            page.body
        );
        for s in *shown {
            assert!(
                page.body.contains(&format!(">{s}</a>")),
                "{query} shows {s}"
            );
        }
        for s in *hidden {
            assert!(
                !page.body.contains(&format!(">{s}</a>")),
                "{query} hides {s}"
            );
        }
    }
    // The form remembers the choice.
    let page = fetch(&app, "GET", "/services?team=payments", &c, None).await;
    assert!(page.body.contains(r#"<option value="payments" selected>"#));
}

#[tokio::test]
async fn audit_log_is_for_admins_and_pages_back() {
    let (app, _db) = app_with(&[Role::Viewer, Role::Admin]).await;
    let viewer = sign_in(&app, "viewer", PASSWORD).await;
    let page = fetch(&app, "GET", "/audit", &viewer, None).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.header(header::CONTENT_TYPE).starts_with("text/html"));
    assert!(page.body.contains("needs the admin role"), "{}", page.body);

    let admin = sign_in(&app, "admin", PASSWORD).await;
    let page = fetch(&app, "GET", "/audit", &admin, None).await;
    page.assert_ok_html("audit");
    assert!(page.body.contains("<code>login</code>"), "{}", page.body);
    assert!(page.body.contains(" UTC</time>"), "readable UTC times");
    assert!(
        page.body.contains(r#"href="/audit""#),
        "admins see the nav entry"
    );

    // Enough entries for three pages: newest first, then older ones, without overlap.
    for i in 0..110 {
        let at = t0().as_millisecond() + i;
        tocsin::audit::store::record_now(&app.db, at, "bot", "test.entry", &format!("n{i:03}"), "")
            .await
            .expect("record");
    }
    let first = fetch(&app, "GET", "/audit", &admin, None).await;
    assert!(first.body.contains(">n109<") && !first.body.contains(">n059<"));
    let older = link_after(&first.body, r#"<a href="/audit?before="#);
    let second = fetch(&app, "GET", &format!("/audit?before={older}"), &admin, None).await;
    second.assert_ok_html("second page");
    assert!(second.body.contains(">n059<") && !second.body.contains(">n060<"));
    assert!(second.body.contains("Newest entries"));
    let bad = fetch(&app, "GET", "/audit?before=abc", &admin, None).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("entry number"));
}

/// The text between `prefix` and the next quote.
fn link_after(body: &str, prefix: &str) -> String {
    let start = body.find(prefix).expect("link") + prefix.len();
    let len = body[start..].find('"').expect("end of link");
    body[start..start + len].to_string()
}

#[tokio::test]
async fn unknown_ids_get_a_not_found_page() {
    let (app, _db) = app_with(&[Role::Viewer]).await;
    let c = sign_in(&app, "viewer", PASSWORD).await;
    for path in [
        "/services/nope",
        "/business-functions/nope",
        "/teams/nope",
        "/people/nope",
    ] {
        let page = fetch(&app, "GET", path, &c, None).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
        assert!(
            page.header(header::CONTENT_TYPE).starts_with("text/html"),
            "{path}"
        );
        assert!(
            page.body.contains("<h1>Not found</h1>"),
            "{path}: {}",
            page.body
        );
        assert!(page.body.contains("Sign out"), "{path} keeps the layout");
    }
}

#[tokio::test]
async fn text_people_write_is_escaped() {
    let (app, _db) = app_with(&[Role::Viewer]).await;
    let evil = r#"<script>alert("x")</script>"#;
    let mut catalog = tocsin::catalog::store::load(&app.db).await.expect("load");
    for s in &mut catalog.services {
        if s.id == "catalog-api" {
            s.description = evil.into();
            s.name = format!("Catalog {evil}");
        }
    }
    for t in &mut catalog.teams {
        t.description = evil.into();
    }
    tocsin::config::apply::apply(&app.db, t0().as_millisecond(), "test", &catalog, false)
        .await
        .expect("apply");
    let c = sign_in(&app, "viewer", PASSWORD).await;
    for path in [
        "/services",
        "/services/catalog-api",
        "/teams",
        "/teams/catalog-backend",
    ] {
        let page = fetch(&app, "GET", path, &c, None).await;
        page.assert_ok_html(path);
        assert!(
            !page.body.contains("<script>"),
            "{path} escapes:\n{}",
            page.body
        );
        assert!(
            page.body.contains("&#60;script&#62;"),
            "{path} shows the text"
        );
    }
}
