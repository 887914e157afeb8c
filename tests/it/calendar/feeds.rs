//! Calendar feeds: created from the schedule page and the person's own profile, read without
//! a session through the token in the URL, checked with Python's `icalendar` (an independent
//! parser: it is how calendar apps will read us) and revoked.

use std::process::Command;
use std::time::Duration;

use axum::http::{StatusCode, header};
use serde_json::Value;
use tocsin::auth::Role;

use super::apps;
use super::client::{PASSWORD, Page, enc, fetch, sign_in};
use crate::support::TestApp;

const CHECKER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/ical_check.py");

/// The feed as `icalendar` reads it, or None (with a notice) when Python or the package is
/// missing outside CI; under CI (`CI` set) a missing parser fails the test.
fn parse(text: &str) -> Option<Value> {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("feed.ics");
    std::fs::write(&file, text).expect("write feed");
    let out = Command::new("python3").arg(CHECKER).arg(&file).output();
    match out {
        Ok(o) if o.status.success() => Some(serde_json::from_slice(&o.stdout).expect("json")),
        other => {
            let why = match other {
                Ok(o) => String::from_utf8_lossy(&o.stderr).into_owned(),
                Err(e) => e.to_string(),
            };
            let missing = why.contains("No module named") || why.contains("No such file");
            assert!(
                missing && std::env::var_os("CI").is_none(),
                "the icalendar check failed: {why}"
            );
            eprintln!("notice: skipping the icalendar parse (pip install icalendar): {why}");
            None
        }
    }
}

/// The feed path shown once on the "feed created" page.
fn feed_path(page: &Page) -> String {
    page.assert_ok_html("feed created");
    let at = page.body.find("/ical/").expect("a feed URL");
    let end = page.body[at..].find('"').expect("end of URL");
    assert!(
        page.body[..at].ends_with("http://localhost"),
        "absolute URL"
    );
    page.body[at..at + end].replace("&amp;", "&")
}

async fn get(app: &TestApp, path: &str) -> Page {
    fetch(app, "GET", path, "", None).await
}

/// Checks the wire format our parser-independent reader cannot see: CRLF and folding.
fn assert_rfc5545_lines(text: &str) {
    assert!(text.ends_with("\r\n"));
    for line in text.split("\r\n") {
        assert!(
            !line.contains('\n') && !line.contains('\r'),
            "bare newline in {line:?}"
        );
        assert!(line.len() <= 75, "{} octets: {line:?}", line.len());
    }
}

#[tokio::test]
async fn the_schedule_feed_is_a_year_of_utc_events_with_stable_uids() {
    for (app, t) in apps(&[(Role::Viewer, None)]).await {
        let b = t.backend;
        let c = sign_in(&app, "viewer", PASSWORD).await;
        let page = fetch(&app, "GET", "/schedules/sre-primary", &c, None).await;
        let csrf = format!("csrf={}", enc(&page.csrf_field()));
        let r = fetch(
            &app,
            "POST",
            "/schedules/sre-primary/feeds",
            &c,
            Some("csrf=wrong"),
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{b}");
        let created = fetch(
            &app,
            "POST",
            "/schedules/sre-primary/feeds",
            &c,
            Some(&csrf),
        )
        .await;
        let path = feed_path(&created);
        assert!(
            path.starts_with("/ical/schedules/sre-primary.ics?token=tcf_"),
            "{path}"
        );

        let feed = get(&app, &path).await;
        assert_eq!(feed.status, StatusCode::OK, "{b}: {}", feed.body);
        assert!(
            feed.header(header::CONTENT_TYPE)
                .starts_with("text/calendar")
        );
        assert_rfc5545_lines(&feed.body);
        let Some(cal) = parse(&feed.body) else { return };
        assert_eq!(cal["version"], "2.0");
        assert_eq!(cal["method"], "PUBLISH");
        assert_eq!(cal["calscale"], "GREGORIAN");
        assert_eq!(cal["name"], "On call: SRE primary");
        let events = cal["events"].as_array().expect("events");
        // Weekly handoffs from 17 June 2024 through 16 June 2025: 53 shifts touch the year.
        assert_eq!(events.len(), 53, "{b}");
        assert!(events.iter().all(|e| e["utc"] == true), "every time in UTC");
        assert!(
            events
                .iter()
                .all(|e| e["dtstamp"] == "2024-06-17T09:00:00Z")
        );
        assert_eq!(events[0]["summary"], "On call: Foo Bar (SRE primary)");
        assert_eq!(
            events[0]["start"], "2024-06-17T08:00:00Z",
            "the real start, not now"
        );
        assert_eq!(events[0]["end"], "2024-06-24T08:00:00Z");
        assert_eq!(events[1]["summary"], "On call: Jon Doe (SRE primary)");
        assert_eq!(events[7]["summary"], "On call: Foo Bar (SRE primary)");
        // 09:00 London on both sides of the clocks going back on 27 October 2024.
        let dst = events
            .iter()
            .find(|e| e["start"] == "2024-10-21T08:00:00Z")
            .expect("the DST week");
        assert_eq!(dst["end"], "2024-10-28T09:00:00Z");
        assert_eq!(dst["hours"], 169.0);
        assert_eq!(dst["summary"], "On call: Mei Lin (SRE primary)");
        let winter = events
            .iter()
            .find(|e| e["start"] == "2024-10-28T09:00:00Z")
            .expect("GMT");
        assert_eq!(winter["hours"], 168.0);
        let uids: Vec<&str> = events.iter().filter_map(|e| e["uid"].as_str()).collect();
        assert_eq!(uids.len(), events.len());
        assert_eq!(
            uids.len(),
            uids.iter().collect::<std::collections::BTreeSet<_>>().len()
        );

        // Two days later the same shifts keep the same UIDs (clients update, not duplicate).
        app.clock.advance(Duration::from_secs(2 * 86_400));
        let later = parse(&get(&app, &path).await.body).expect("parsed before");
        let later = later["events"].as_array().expect("events");
        assert_eq!(later[0]["uid"], events[0]["uid"], "{b}");
        assert_eq!(later[0]["start"], "2024-06-17T08:00:00Z");
        assert_eq!(later[10]["uid"], events[10]["uid"]);

        // Wrong, missing or misused tokens look like nothing is there.
        let token = path.split("token=").nth(1).expect("token");
        for bad in [
            "/ical/schedules/sre-primary.ics?token=tcf_wrong".to_string(),
            "/ical/schedules/sre-primary.ics".to_string(),
            format!("/ical/schedules/sre-primary?token={token}"),
            format!("/ical/schedules/payments-business-hours.ics?token={token}"),
            format!("/ical/people/foo-bar.ics?token={token}"),
        ] {
            assert_eq!(
                get(&app, &bad).await.status,
                StatusCode::NOT_FOUND,
                "{b}: {bad}"
            );
        }

        // Revoked from the schedule page (signed in again: two days outlive a session): 404
        // from then on.
        let c = sign_in(&app, "viewer", PASSWORD).await;
        let page = fetch(&app, "GET", "/schedules/sre-primary", &c, None).await;
        let id = page
            .body
            .split(r#"data-feed=""#)
            .nth(1)
            .and_then(|s| s.split('"').next())
            .expect("feed");
        let csrf = format!("csrf={}", enc(&page.csrf_field()));
        let r = fetch(
            &app,
            "POST",
            &format!("/feeds/{id}/revoke"),
            &c,
            Some(&csrf),
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{b}: {}", r.body);
        assert_eq!(r.header(header::LOCATION), "/schedules/sre-primary#feeds");
        assert_eq!(
            get(&app, &path).await.status,
            StatusCode::NOT_FOUND,
            "{b}: revoked"
        );
        let actions: Vec<String> = tocsin::audit::store::list(&t.db, 50, None)
            .await
            .expect("audit")
            .into_iter()
            .map(|e| format!("{} {} {}", e.actor, e.action, e.detail))
            .collect();
        assert!(
            actions.contains(&"viewer feed.create schedule sre-primary".into()),
            "{actions:?}"
        );
        assert!(
            actions.contains(&"viewer feed.revoke schedule sre-primary".into()),
            "{actions:?}"
        );
    }
}

#[tokio::test]
async fn a_person_subscribes_to_their_own_shifts_from_their_profile() {
    let accounts = [(Role::Viewer, Some("jon-doe")), (Role::Admin, None)];
    for (app, t) in apps(&accounts).await {
        let b = t.backend;
        let c = sign_in(&app, "viewer", PASSWORD).await;
        let own = fetch(&app, "GET", "/people/jon-doe", &c, None).await;
        own.assert_ok_html("own profile");
        assert!(
            own.body
                .contains("Mon 24 Jun 09:00 BST → Mon 1 Jul 09:00 BST"),
            "{b}: upcoming shift"
        );
        assert!(
            own.body.contains(r#"action="/people/jon-doe/feeds""#),
            "{b}: subscribe"
        );
        let other = fetch(&app, "GET", "/people/jane-doe", &c, None).await;
        assert!(!other.body.contains("/feeds\""), "{b}: not someone else's");
        // Jane Doe is on call in two schedules: the SRE week of 1 July (Berlin time) and
        // alternate business days on the payments schedule.
        assert!(other.body.contains(
            "Payments business hours</a>: Tue 18 Jun 09:00 CEST → Tue 18 Jun 17:00 CEST"
        ));
        assert!(
            other
                .body
                .contains("SRE primary</a>: Mon 1 Jul 10:00 CEST → Mon 8 Jul 10:00 CEST")
        );
        let now = fetch(&app, "GET", "/people/foo-bar", &c, None).await;
        assert!(
            now.body.contains(r#"<span class="badge state">now</span>"#),
            "{b}"
        );

        let csrf = format!("csrf={}", enc(&own.csrf_field()));
        let r = fetch(&app, "POST", "/people/jane-doe/feeds", &c, Some(&csrf)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{b}: only your own");
        let path = feed_path(&fetch(&app, "POST", "/people/jon-doe/feeds", &c, Some(&csrf)).await);
        assert!(
            path.starts_with("/ical/people/jon-doe.ics?token="),
            "{path}"
        );
        let feed = get(&app, &path).await;
        assert_eq!(feed.status, StatusCode::OK, "{b}");
        assert_rfc5545_lines(&feed.body);
        if let Some(cal) = parse(&feed.body) {
            let events = cal["events"].as_array().expect("events");
            // Every seventh week from 24 June 2024: eight shifts start within the year.
            assert_eq!(events.len(), 8, "{b}");
            assert!(
                events
                    .iter()
                    .all(|e| e["summary"] == "On call: Jon Doe (SRE primary)")
            );
            assert_eq!(events[0]["start"], "2024-06-24T08:00:00Z");
        }

        // An admin may subscribe to anyone; Jane's feed holds both of her schedules.
        let a = sign_in(&app, "admin", PASSWORD).await;
        let page = fetch(&app, "GET", "/people/jane-doe", &a, None).await;
        let csrf = format!("csrf={}", enc(&page.csrf_field()));
        let path = feed_path(&fetch(&app, "POST", "/people/jane-doe/feeds", &a, Some(&csrf)).await);
        if let Some(cal) = parse(&get(&app, &path).await.body) {
            let events = cal["events"].as_array().expect("events");
            assert!(
                events
                    .iter()
                    .any(|e| e["summary"] == "On call: Jane Doe (Payments business hours)")
            );
            assert!(
                events
                    .iter()
                    .any(|e| e["summary"] == "On call: Jane Doe (SRE primary)")
            );
        }
        // The viewer cannot revoke the admin's feed; the admin can.
        let page = fetch(&app, "GET", "/people/jane-doe", &a, None).await;
        let id = page
            .body
            .split(r#"data-feed=""#)
            .nth(1)
            .and_then(|s| s.split('"').next())
            .expect("feed");
        let r = fetch(
            &app,
            "POST",
            &format!("/feeds/{id}/revoke"),
            &c,
            Some(&format!("csrf={}", enc(&own.csrf_field()))),
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{b}");
        let r = fetch(
            &app,
            "POST",
            &format!("/feeds/{id}/revoke"),
            &a,
            Some(&csrf),
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{b}");
        assert_eq!(r.header(header::LOCATION), "/people/jane-doe#feeds");
        assert_eq!(get(&app, &path).await.status, StatusCode::NOT_FOUND);
    }
}
