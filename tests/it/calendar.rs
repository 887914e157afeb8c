//! Schedule pages, calendar feeds and the readiness audit, on the example organisation with
//! the clock at t0 (Monday 17 June 2024, 09:00 UTC = 10:00 in London): the two-week grid and
//! the month view, week navigation, the override form (CSRF, responder role), and, in the
//! submodules, the iCal feeds parsed by an independent parser and `tocsin audit`.

use crate::web::client;
mod feeds;
mod readiness;

use axum::http::{StatusCode, header};
use tocsin::auth::Role;

use crate::support::{TestApp, TestDb, backends, seed_example};

use client::{PASSWORD, Page, enc, fetch, sign_in};

/// The example organisation on every backend, with an account per (role, person), named
/// after the role.
pub async fn apps(accounts: &[(Role, Option<&str>)]) -> Vec<(TestApp, TestDb)> {
    let mut out = Vec::new();
    for t in backends().await {
        seed_example(&t.db).await;
        for (role, person) in accounts {
            let person = person.map(str::to_string);
            tocsin::auth::accounts::set_account(
                &t.db,
                role.as_str(),
                *role,
                person,
                PASSWORD,
                "test",
            )
            .await
            .expect("account");
        }
        out.push((TestApp::new(t.db.clone()), t));
    }
    out
}

/// The state of the grid cell of `person` ("" for the gap row) on `day`: "", "on", "part" or
/// "gap", with its visible note.
fn cell(page: &Page, person: &str, day: &str) -> (String, String) {
    let marker = format!(r#"" data-person="{person}" data-day="{day}""#);
    let at = page
        .body
        .find(&marker)
        .unwrap_or_else(|| panic!("no cell for {person:?} on {day}"));
    let class_start = page.body[..at].rfind(r#"class="cal"#).expect("cell class") + 10;
    let state = page.body[class_start..at].trim().to_string();
    let rest = &page.body[at..];
    let end = rest.find("</td>").expect("end of cell");
    let note = rest[..end]
        .split(r#"<span class="note">"#)
        .nth(1)
        .map(|n| n.trim_end_matches("</span>").to_string())
        .unwrap_or_default();
    (state, note)
}

fn day(d: u32) -> String {
    if d <= 30 {
        format!("2024-06-{d:02}")
    } else {
        format!("2024-07-{:02}", d - 30)
    }
}

#[tokio::test]
async fn the_grid_shows_who_is_on_call_each_day_in_the_schedules_zone() {
    let (app, _db) = apps(&[(Role::Viewer, None)]).await.remove(0);
    let c = sign_in(&app, "viewer", PASSWORD).await;
    let list = fetch(&app, "GET", "/schedules", &c, None).await;
    list.assert_ok_html("schedules");
    for text in [
        "SRE primary",
        "Europe/London",
        "Foo Bar",
        "Mon 24 Jun 09:00 BST",
        "Payments business hours",
    ] {
        assert!(list.body.contains(text), "schedules list shows {text}");
    }
    assert!(
        list.body
            .contains(r#"href="/schedules" aria-current="page""#),
        "nav entry"
    );

    let page = fetch(&app, "GET", "/schedules/sre-primary", &c, None).await;
    page.assert_ok_html("schedule");
    assert!(
        page.body.contains("17 Jun – 30 Jun 2024"),
        "two weeks from this Monday"
    );
    // Foo Bar from Monday 17 June 09:00 London to Monday 24 June 09:00, Jon Doe after.
    assert_eq!(
        cell(&page, "foo-bar", &day(17)),
        ("part".into(), "from 09:00".into())
    );
    for d in 18..=23 {
        assert_eq!(
            cell(&page, "foo-bar", &day(d)),
            ("on".into(), "all day".into()),
            "{d}"
        );
        assert_eq!(cell(&page, "jon-doe", &day(d)).0, "", "{d}");
    }
    assert_eq!(
        cell(&page, "foo-bar", &day(24)),
        ("part".into(), "until 09:00".into())
    );
    assert_eq!(
        cell(&page, "jon-doe", &day(24)),
        ("part".into(), "from 09:00".into())
    );
    for d in 25..=30 {
        assert_eq!(cell(&page, "jon-doe", &day(d)).0, "on", "{d}");
        assert_eq!(cell(&page, "foo-bar", &day(d)).0, "", "{d}");
    }
    // Before the rotation's first handoff nobody was on call.
    assert_eq!(
        cell(&page, "", &day(17)),
        ("gap".into(), "until 09:00".into())
    );
    assert!(
        page.body
            .contains(r#"title="Foo Bar, Mon 24 Jun: until 09:00""#)
    );
    // Every SRE has a row, in rotation order; the current one is "on call now".
    let rows: Vec<usize> = ["Foo Bar", "Jon Doe", "Jane Doe", "Noor Haddad"]
        .iter()
        .map(|n| page.body.find(&format!(">{n}</a></th>")).expect(n))
        .collect();
    assert!(rows.windows(2).all(|w| w[0] < w[1]), "rotation order");
    assert!(page.body.contains("until Mon 24 Jun 09:00 BST"));
}

#[tokio::test]
async fn weeks_and_months_navigate() {
    let (app, _db) = apps(&[(Role::Viewer, None)]).await.remove(0);
    let c = sign_in(&app, "viewer", PASSWORD).await;
    let page = fetch(&app, "GET", "/schedules/sre-primary", &c, None).await;
    assert!(
        page.body
            .contains(r#"href="/schedules/sre-primary?week=2024-06-10" rel="prev""#)
    );
    assert!(
        page.body
            .contains(r#"href="/schedules/sre-primary?week=2024-06-24" rel="next""#)
    );
    assert!(
        page.body
            .contains(r#"href="/schedules/sre-primary?view=month""#)
    );

    // Any day of a week shows the fortnight from its Monday.
    let next = fetch(
        &app,
        "GET",
        "/schedules/sre-primary?week=2024-06-26",
        &c,
        None,
    )
    .await;
    next.assert_ok_html("next week");
    assert!(next.body.contains("24 Jun – 7 Jul 2024"));
    assert_eq!(cell(&next, "jon-doe", &day(30)).0, "on");
    assert_eq!(cell(&next, "jane-doe", &day(32)).0, "on");
    assert_eq!(cell(&next, "jane-doe", &day(31)).1, "from 09:00");

    for bad in [
        "?week=junk",
        "?week=2024-13-01",
        "?view=month&month=2024-6x",
    ] {
        let r = fetch(
            &app,
            "GET",
            &format!("/schedules/sre-primary{bad}"),
            &c,
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(r.body.contains("is not a date"), "{bad}: {}", r.body);
    }
    let missing = fetch(&app, "GET", "/schedules/nope", &c, None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    // The month of the October DST change: Mei Lin hands over to Sam Rivera on Monday 28th
    // at 09:00 GMT, a 169-hour week after 21 October 09:00 BST.
    let month = fetch(
        &app,
        "GET",
        "/schedules/sre-primary?view=month&month=2024-10",
        &c,
        None,
    )
    .await;
    month.assert_ok_html("month");
    assert!(month.body.contains("October 2024"));
    assert!(
        month
            .body
            .contains(r#"href="/schedules/sre-primary?view=month&#38;month=2024-09" rel="prev""#)
    );
    let square = |date: &str| {
        let at = month
            .body
            .find(&format!(r#"data-day="{date}""#))
            .expect(date);
        let end = month.body[at..].find("</td>").expect("end");
        month.body[at..at + end].to_string()
    };
    let dst = square("2024-10-28");
    assert!(
        dst.contains("Mei Lin</a> <small>until 09:00</small>"),
        "{dst}"
    );
    assert!(
        dst.contains("Sam Rivera</a> <small>from 09:00</small>"),
        "{dst}"
    );
    assert!(square("2024-10-27").contains("Mei Lin</a> <small>all day</small>"));
    // Days of the neighbouring months are shown but not filled in.
    assert!(!square("2024-09-30").contains("<li"));

    let june = fetch(&app, "GET", "/schedules/sre-primary?view=month", &c, None).await;
    assert!(june.body.contains("June 2024"));
    let at = june.body.find(r#"data-day="2024-06-17""#).expect("17 June");
    let first = &june.body[at..at + june.body[at..].find("</td>").expect("end")];
    assert!(first.contains("Nobody <small>until 09:00</small>") && first.contains("Foo Bar"));
}

/// The page's override ids, in list order.
fn override_ids(page: &Page) -> Vec<String> {
    page.body
        .split(r#"data-override=""#)
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn responders_add_and_remove_overrides_with_the_form() {
    for (app, t) in apps(&[(Role::Viewer, None), (Role::Responder, None)]).await {
        let b = t.backend;
        let viewer = sign_in(&app, "viewer", PASSWORD).await;
        let page = fetch(&app, "GET", "/schedules/sre-primary", &viewer, None).await;
        assert!(
            !page.body.contains("Add an override"),
            "{b}: viewers get no form"
        );
        let form = |csrf: &str| {
            format!(
                "csrf={}&person=tom-baker&start=2024-06-19T09%3A00&end=2024-06-20T09%3A00&replaces=foo-bar&reason={}",
                enc(csrf),
                enc("Dentist, then school run")
            )
        };
        let url = "/schedules/sre-primary/overrides";
        let r = fetch(&app, "POST", url, &viewer, Some(&form(&page.csrf_field()))).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{b}: viewer");

        let c = sign_in(&app, "responder", PASSWORD).await;
        let page = fetch(&app, "GET", "/schedules/sre-primary", &c, None).await;
        assert!(
            page.body.contains("Add an override") && page.body.contains(r#"type="datetime-local""#)
        );
        for bad in ["wrong", ""] {
            let r = fetch(&app, "POST", url, &c, Some(&form(bad))).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{b}: csrf {bad:?}");
        }
        let csrf = page.csrf_field();
        let r = fetch(&app, "POST", url, &c, Some(&form(&csrf))).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{b}: {}", r.body);
        assert_eq!(
            r.header(header::LOCATION),
            "/schedules/sre-primary?week=2024-06-17#overrides"
        );

        let page = fetch(&app, "GET", "/schedules/sre-primary", &c, None).await;
        assert!(page.body.contains("Upcoming overrides (1)"), "{b}");
        assert!(
            page.body.contains("Wed 19 Jun 09:00 BST")
                && page.body.contains("Dentist, then school run")
        );
        assert_eq!(
            cell(&page, "tom-baker", &day(19)),
            ("part".into(), "from 09:00".into())
        );
        assert_eq!(
            cell(&page, "tom-baker", &day(20)),
            ("part".into(), "until 09:00".into())
        );
        assert_eq!(
            cell(&page, "foo-bar", &day(19)),
            ("part".into(), "until 09:00".into())
        );

        // Invalid input is a page that says what is wrong, not a 500.
        let bad = format!(
            "csrf={}&person=tom-baker&start=yesterday&end=2024-06-20T09%3A00",
            enc(&csrf)
        );
        let r = fetch(&app, "POST", url, &c, Some(&bad)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert!(r.body.contains("is not a time"), "{b}: {}", r.body);
        let backwards = format!(
            "csrf={}&person=tom-baker&start=2024-06-20T09%3A00&end=2024-06-19T09%3A00",
            enc(&csrf)
        );
        let r = fetch(&app, "POST", url, &c, Some(&backwards)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{b}");

        let ids = override_ids(&page);
        assert_eq!(ids.len(), 1, "{b}");
        let remove = format!("/overrides/{}/remove", ids[0]);
        let r = fetch(
            &app,
            "POST",
            &remove,
            &viewer,
            Some(&format!("csrf={}", enc(&csrf))),
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{b}: viewer cannot remove");
        let r = fetch(&app, "POST", &remove, &c, Some("csrf=wrong")).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{b}");
        let r = fetch(
            &app,
            "POST",
            &remove,
            &c,
            Some(&format!("csrf={}", enc(&csrf))),
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{b}: {}", r.body);
        let page = fetch(&app, "GET", "/schedules/sre-primary", &c, None).await;
        assert!(page.body.contains("Upcoming overrides (0)"), "{b}");
        assert_eq!(cell(&page, "foo-bar", &day(19)).0, "on", "{b}");

        let actions: Vec<String> = tocsin::audit::store::list(&t.db, 50, None)
            .await
            .expect("audit")
            .into_iter()
            .map(|e| format!("{} {}", e.actor, e.action))
            .collect();
        assert!(
            actions.contains(&"responder override.create".to_string()),
            "{b}: {actions:?}"
        );
        assert!(
            actions.contains(&"responder override.delete".to_string()),
            "{b}: {actions:?}"
        );
    }
}
