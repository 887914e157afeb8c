//! The action-items list: `GET /api/v1/actions` (both backends) and the `/actions` page
//! (signed in through the real form), over items of two postmortems and two teams, some
//! overdue, one done here and one closed in the backlog.

use std::sync::Arc;

use axum::http::{StatusCode, header};
use serde_json::Value;
use tocsin::auth::Role;
use tocsin::catalog::snapshot::SnapshotCache;
use tocsin::db::Db;
use tocsin::incidents::command::{Actor, Ctx};
use tocsin::postmortems::command::{self as pc, ActionInput};
use tocsin::postmortems::store::actions::{BacklogUpdate, set_backlog};

use super::backlog::{DAY, action, fake, github, postmortem};
use crate::support::{self, TestApp, seed_example, t0};
use crate::web::client::{PASSWORD, app_with, enc, fetch, sign_in};

/// Ids of: payments overdue, payments open, sre overdue, sre done here, sre closed in the
/// backlog (in the order the list shows them).
struct Seeded {
    pay_overdue: i64,
    pay_open: i64,
    sre_overdue: i64,
    sre_done: i64,
    sre_closed: i64,
}

async fn seed(db: &Db) -> Seeded {
    let snaps = SnapshotCache::default();
    let now = t0().as_millisecond();
    let before = now - 20 * DAY;
    let one = postmortem(db, &snaps, "Checkout down", before).await;
    let two = postmortem(db, &snaps, "Payments timeouts", before).await;
    let sre_overdue = action(
        db,
        &snaps,
        one,
        before,
        (
            "Canary for checkout",
            "prevent",
            "jon-doe",
            Some("sre"),
            Some(now - DAY),
        ),
    )
    .await
    .id;
    let pay_open = action(
        db,
        &snaps,
        two,
        before,
        (
            "PSP retry budget",
            "mitigate",
            "jane-doe",
            Some("payments"),
            Some(now + 5 * DAY),
        ),
    )
    .await
    .id;
    let sre_done = action(
        db,
        &snaps,
        one,
        before,
        (
            "Write the runbook",
            "process",
            "foo-bar",
            Some("sre"),
            Some(now - 3 * DAY),
        ),
    )
    .await
    .id;
    let pay_overdue = action(
        db,
        &snaps,
        two,
        before,
        (
            "Alert on PSP latency",
            "detect",
            "priya-shah",
            Some("payments"),
            Some(now - 2 * DAY),
        ),
    )
    .await
    .id;
    let sre_closed = action(
        db,
        &snaps,
        one,
        before,
        (
            "Automate failover",
            "automate",
            "ali-khan",
            Some("sre"),
            Some(now - 4 * DAY),
        ),
    )
    .await
    .id;
    let snap = snaps.get(db).await.unwrap();
    let actor = Actor::person(&snap, "jon-doe");
    let ctx = Ctx {
        db,
        snap: &snap,
        now: before,
        actor: &actor,
        base_url: "https://tocsin.example",
    };
    let done = ActionInput {
        status: Some("done".into()),
        ..ActionInput::default()
    };
    pc::update_action(&ctx, one, sre_done, &done)
        .await
        .expect("mark done");
    let closed = BacklogUpdate {
        kind: Some("github".into()),
        key: Some("acme/ops#9".into()),
        url: Some("https://github.com/acme/ops/issues/9".into()),
        state: Some("closed".into()),
        error: None,
    };
    set_backlog(db, sre_closed, &closed, before).await.unwrap();
    Seeded {
        pay_overdue,
        pay_open,
        sre_overdue,
        sre_done,
        sre_closed,
    }
}

fn ids(v: &Value) -> Vec<i64> {
    v.as_array()
        .map(|a| a.iter().filter_map(|i| i["id"].as_i64()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_api_lists_by_team_overdue_first_with_filters() {
    for t in support::backends().await {
        seed_example(&t.db).await;
        let s = seed(&t.db).await;
        let app = TestApp::new(t.db.clone());
        let viewer = app.token(Role::Viewer).await;
        let get = |q: &str| {
            let path = format!("/api/v1/actions{q}");
            let (app, viewer) = (&app, &viewer);
            async move { app.call("GET", &path, Some(viewer), None).await }
        };
        let (st, all) = get("").await;
        assert_eq!(st, StatusCode::OK, "{all}");
        assert_eq!(
            ids(&all),
            [
                s.pay_overdue,
                s.pay_open,
                s.sre_overdue,
                s.sre_closed,
                s.sre_done
            ],
            "{}",
            t.backend
        );
        assert_eq!(all[0]["team"], "payments");
        assert_eq!(all[0]["owner"], "priya-shah");
        let cases: [(&str, Vec<i64>); 5] = [
            ("?state=overdue", vec![s.pay_overdue, s.sre_overdue]),
            (
                "?state=open",
                vec![s.pay_overdue, s.pay_open, s.sre_overdue],
            ),
            ("?state=done", vec![s.sre_closed, s.sre_done]),
            ("?team=sre", vec![s.sre_overdue, s.sre_closed, s.sre_done]),
            ("?team=payments&state=overdue", vec![s.pay_overdue]),
        ];
        for (q, want) in cases {
            let (st, v) = get(q).await;
            assert_eq!(st, StatusCode::OK, "{q}: {v}");
            assert_eq!(ids(&v), want, "{q} on {}", t.backend);
        }
        for q in ["?state=late", "?colour=red"] {
            let (st, v) = get(q).await;
            assert_eq!(st, StatusCode::BAD_REQUEST, "{q}: {v}");
            assert!(v["error"].is_string(), "{q}: {v}");
        }
        assert_eq!(
            app.call("GET", "/api/v1/actions", None, None).await.0,
            StatusCode::UNAUTHORIZED
        );
    }
}

#[tokio::test]
async fn the_page_groups_by_team_and_marks_overdue_items() {
    let (mut app, t) = app_with(&[Role::Viewer, Role::Responder]).await;
    let s = seed(&t.db).await;
    let viewer = sign_in(&app, "viewer", PASSWORD).await;
    let page = fetch(&app, "GET", "/actions", &viewer, None).await;
    page.assert_ok_html("actions page");
    let b = &page.body;
    assert!(
        b.contains(r#"<a href="/actions" aria-current="page">Action items</a>"#),
        "nav"
    );
    let pay = b.find("Payments Team").expect("payments group");
    let sre = b.find("SRE Team").expect("sre group");
    assert!(pay < sre, "teams in order");
    assert!(b.contains("1 overdue</span>") || b.contains("2 overdue</span>"));
    let row = |id: i64| {
        let start = b.find(&format!(r#"<tr id="action-{id}""#)).expect("row");
        let end = b[start..].find("</tr>").expect("row end") + start;
        b[start..end].to_string()
    };
    let overdue = row(s.pay_overdue);
    assert!(overdue.contains(r#"class="is-overdue""#), "{overdue}");
    assert!(
        overdue.contains("<strong class=\"overdue\">Overdue</strong> since 2024-06-15"),
        "{overdue}"
    );
    assert!(overdue.contains("Priya Shah") && overdue.contains(r#"href="/postmortems/"#));
    let open = row(s.pay_open);
    assert!(
        open.contains(r#"class="is-open""#) && open.contains("2024-06-22"),
        "{open}"
    );
    let closed = row(s.sre_closed);
    assert!(
        closed.contains(r#"href="https://github.com/acme/ops/issues/9""#),
        "{closed}"
    );
    assert!(
        closed.contains(r#"<span class="badge state">closed</span>"#),
        "{closed}"
    );
    assert!(row(s.sre_done).contains(r#"class="is-done""#));
    // The order inside a group: overdue, open, done.
    assert!(
        b.find(&format!("action-{}", s.pay_overdue)) < b.find(&format!("action-{}", s.pay_open))
    );
    // Viewers get no button; no backlog is configured anyway.
    assert!(!b.contains("/backlog\""), "no export form for viewers");
    assert!(b.contains("No backlog is configured."));

    let filtered = fetch(
        &app,
        "GET",
        "/actions?state=overdue&team=sre",
        &viewer,
        None,
    )
    .await;
    filtered.assert_ok_html("filtered");
    assert!(filtered.body.contains(&format!("action-{}", s.sre_overdue)));
    assert!(!filtered.body.contains(&format!("action-{}", s.pay_overdue)));
    assert!(!filtered.body.contains(&format!("action-{}", s.sre_done)));
    let bad = fetch(&app, "GET", "/actions?state=late", &viewer, None).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.header(header::CONTENT_TYPE).starts_with("text/html"));

    // With GitHub configured, a responder exports an item from the page.
    let (api, seen) = fake().await;
    let settings = tocsin::http::HttpSettings {
        backlog: Some(Arc::new(github(&api))),
        ..Default::default()
    };
    let clock: tocsin::clock::SharedClock = Arc::new(app.clock.clone());
    app.state = tocsin::http::AppState::new(t.db.clone(), clock, settings, None);
    app.router = tocsin::http::router(app.state.clone());
    let responder = sign_in(&app, "responder", PASSWORD).await;
    let page = fetch(&app, "GET", "/actions", &responder, None).await;
    let form = format!(r#"action="/actions/{}/backlog""#, s.pay_open);
    assert!(page.body.contains(&form), "export form");
    assert!(page.body.contains(">Export</button>"));
    let pm: i64 = all_postmortem(&page.body, s.pay_open);
    let body = format!("csrf={}&postmortem={pm}", enc(&page.csrf_field()));
    let path = format!("/actions/{}/backlog", s.pay_open);
    // A viewer may not.
    let denied = fetch(&app, "POST", &path, &viewer, Some(&body)).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    assert!(seen.lock().unwrap().seen.is_empty());
    let done = fetch(&app, "POST", &path, &responder, Some(&body)).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(
        done.header(header::LOCATION),
        format!("/actions#action-{}", s.pay_open)
    );
    assert_eq!(seen.lock().unwrap().seen.len(), 1);
    let after = fetch(&app, "GET", "/actions", &responder, None).await;
    let start = after
        .body
        .find(&format!(r#"<tr id="action-{}""#, s.pay_open))
        .unwrap();
    let row = &after.body[start..start + after.body[start..].find("</tr>").unwrap()];
    assert!(
        row.contains("acme/ops#41") && row.contains(">Refresh</button>"),
        "{row}"
    );
}

/// The postmortem number in `id`'s row (its link).
fn all_postmortem(body: &str, id: i64) -> i64 {
    let start = body.find(&format!(r#"<tr id="action-{id}""#)).expect("row");
    let link = r#"href="/postmortems/"#;
    let at = body[start..].find(link).expect("link") + start + link.len();
    let end = body[at..].find('"').expect("end") + at;
    body[at..end].parse().expect("number")
}
