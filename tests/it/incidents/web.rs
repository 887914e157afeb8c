//! The incident pages on both backends, as a browser without JavaScript uses them: the list
//! and its filters, the home panel, declaring through the form (CSRF enforced, viewers
//! refused, the severity suggestion) and from an alert's button, the incident page's forms
//! (roles and handover, stakeholder update, notes and stars, refusals shown on the page), the
//! document page in the viewer's zone, and the live event stream.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use tocsin::alerts::{Action, Severity};
use tocsin::clock::Clock;
use tocsin::incidents::{EntryKind, Role, Status, store};
use tower::ServiceExt;

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
async fn session(app: &TestApp, user: &str) -> (String, String) {
    let cookie = sign_in(app, user, PASSWORD).await;
    let home = fetch(app, "GET", "/incidents", &cookie, None).await;
    home.assert_ok_html("incident list");
    (cookie, home.csrf_field())
}

async fn post(app: &TestApp, cookie: &str, path: &str, form: &str) -> Page {
    fetch(app, "POST", path, cookie, Some(form)).await
}

/// Declares through the form and returns the new incident's id.
async fn declare(app: &TestApp, cookie: &str, csrf: &str, form: &str) -> i64 {
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

/// The text between `start` and the next `end` in `page`.
fn between<'a>(page: &'a str, start: &str, end: &str) -> &'a str {
    let from = page
        .find(start)
        .unwrap_or_else(|| panic!("{start:?} in the page"))
        + start.len();
    &page[from..from + page[from..].find(end).unwrap()]
}

#[tokio::test]
async fn the_incident_page_runs_roles_updates_notes_and_the_document() {
    for t in backends().await {
        let b = t.backend;
        let app = app_on(&t).await;
        let (jon, csrf) = session(&app, "responder").await;
        let (viewer, viewer_csrf) = session(&app, "viewer").await;
        let id = declare(
            &app,
            &jon,
            &csrf,
            "title=Payments+failing&service=payment-gateway",
        )
        .await;
        let page = format!("/incidents/{id}");
        let form = |rest: &str| format!("csrf={}&{rest}", enc(&csrf));

        // Jane Doe takes command; the previous IC (the on-call SRE) stays on as Ops Lead.
        let before = store::full(&t.db, id).await.unwrap();
        let first_ic = before
            .holder(Role::Commander)
            .expect("an IC from the schedule")
            .person_id
            .clone();
        let r = post(
            &app,
            &jon,
            &format!("{page}/roles"),
            &form("role=commander&person=jane-doe&note=DB+failover+half+done&previous_becomes=ops"),
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{b}: {}", r.body);
        assert_eq!(r.header(header::LOCATION), format!("{page}#h-roles"));
        let r = post(
            &app,
            &jon,
            &format!("{page}/roles"),
            &form("role=comms&person=mei-lin&note=&previous_becomes="),
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{b}: {}", r.body);
        let full = store::full(&t.db, id).await.unwrap();
        assert_eq!(full.holder(Role::Commander).unwrap().person_id, "jane-doe");
        assert_eq!(full.holder(Role::Ops).unwrap().person_id, first_ic);
        assert_eq!(full.holder(Role::Comms).unwrap().person_id, "mei-lin");
        let denied = post(
            &app,
            &viewer,
            &format!("{page}/roles"),
            &format!("csrf={}&role=ops&person=jon-doe", enc(&viewer_csrf)),
        )
        .await;
        assert_eq!(
            denied.status,
            StatusCode::FORBIDDEN,
            "{b}: viewers do not act"
        );
        let again = post(
            &app,
            &jon,
            &format!("{page}/roles"),
            &form("role=commander&person=jane-doe"),
        )
        .await;
        assert_eq!(again.status, StatusCode::CONFLICT, "{b}: {}", again.body);
        assert!(
            between(&again.body, r#"id="form-error">"#, "<")
                .contains("Jane Doe is already Incident Commander"),
            "{b}"
        );
        let bad_role = post(
            &app,
            &jon,
            &format!("{page}/roles"),
            &form("role=boss&person=jon-doe"),
        )
        .await;
        assert_eq!(bad_role.status, StatusCode::UNPROCESSABLE_ENTITY, "{b}");

        let shown = fetch(&app, "GET", &page, &viewer, None).await;
        shown.assert_ok_html("incident page");
        assert_eq!(
            between(&shown.body, r#"id="holder-commander">"#, "<"),
            "Jane Doe",
            "{b}"
        );
        assert_eq!(
            between(&shown.body, r#"id="holder-comms">"#, "<"),
            "Mei Lin",
            "{b}"
        );
        assert!(
            shown.body.contains("DB failover half done"),
            "{b}: the handover note"
        );
        assert!(
            !shown.body.contains(r#"id="role-form""#),
            "{b}: no forms for viewers"
        );

        // A stakeholder update with its own next-update time.
        let r = post(&app, &jon, &format!("{page}/updates"), &form("status=identified&impact=Card+payments+fail&actions=Failing+over&next_update_minutes=15")).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{b}: {}", r.body);
        let bad = post(
            &app,
            &jon,
            &format!("{page}/updates"),
            &form("impact=x&next_update_minutes=soon"),
        )
        .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert!(
            bad.body.contains("next update must be a number of minutes"),
            "{b}"
        );
        let full = store::full(&t.db, id).await.unwrap();
        assert_eq!(full.incident.status, Status::Identified);
        assert_eq!(
            full.incident.update_due_at,
            Some(app.clock.now_ms() + 15 * 60_000)
        );
        let shown = fetch(&app, "GET", &page, &jon, None).await;
        assert!(
            between(&shown.body, r#"<p id="next-update">"#, "</p>")
                .starts_with("Next update due Mon 17 Jun 10:15 BST"),
            "{b}: in Jon's zone"
        );
        app.clock.advance(Duration::from_secs(20 * 60));
        let late = fetch(&app, "GET", &page, &jon, None).await;
        assert!(
            late.body.contains(
                r#"<p id="next-update" class="overdue"><strong>Overdue</strong> by 5 min"#
            ),
            "{b}: flagged overdue"
        );
        let same = post(
            &app,
            &jon,
            &format!("{page}/status"),
            &form("status=identified"),
        )
        .await;
        assert_eq!(
            same.status,
            StatusCode::CONFLICT,
            "{b}: refusals are shown, not a 500"
        );
        assert!(same.body.contains("already identified"), "{b}");

        // Notes: Markdown rendered safely; an image only from its own http(s) field.
        let note = "kind=finding&body=**Disk+full**+<script>alert(1)</script>+![t](https://tracker.example/t.gif)&image_url=https://grafana.example/g.png&link_url=javascript:alert(1)";
        let r = post(&app, &jon, &format!("{page}/notes"), &form(note)).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{b}: a javascript: link is refused"
        );
        let note = note.replace("javascript:alert(1)", "https://grafana.example/d/1");
        let r = post(
            &app,
            &jon,
            &format!("{page}/notes"),
            &form(&format!("{note}&starred=1")),
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{b}: {}", r.body);
        let full = store::full(&t.db, id).await.unwrap();
        let finding = full
            .timeline
            .iter()
            .find(|e| e.kind == EntryKind::Finding)
            .expect("the finding");
        assert!(finding.starred);
        let shown = fetch(&app, "GET", &page, &jon, None).await;
        let li = between(
            &shown.body,
            &format!(r#"<li id="entry-{}""#, finding.id),
            "</li>",
        );
        assert!(li.contains("starred"), "{b}: highlighted");
        assert!(li.contains("<strong>Disk full</strong>"), "{b}: {li}");
        assert!(!li.contains("<script"), "{b}: {li}");
        assert!(
            !li.contains("tracker.example/t.gif\""),
            "{b}: no Markdown image: {li}"
        );
        assert!(li.contains(r#"<img src="https://grafana.example/g.png" alt="Image attached by Jon Doe" referrerpolicy="no-referrer""#), "{b}: {li}");
        assert!(
            li.contains(
                r#"<a href="https://grafana.example/d/1" rel="noopener noreferrer nofollow">"#
            ),
            "{b}: {li}"
        );
        let star = format!("{page}/entries/{}/star", finding.id);
        let r = post(&app, &jon, &star, &form("starred=0")).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{b}: {}", r.body);
        let full = store::full(&t.db, id).await.unwrap();
        assert!(
            !full
                .timeline
                .iter()
                .find(|e| e.id == finding.id)
                .unwrap()
                .starred,
            "{b}: unstarred"
        );
        let other = post(
            &app,
            &jon,
            &format!("{page}/entries/999999/star"),
            &form("starred=1"),
        )
        .await;
        assert_eq!(other.status, StatusCode::NOT_FOUND, "{b}");

        // The document, in the viewer's zone: Jon in London, the admin (no person) in UTC.
        let doc = fetch(&app, "GET", &format!("{page}/document"), &jon, None).await;
        doc.assert_ok_html("document");
        for text in [
            "<td>Incident Commander</td>",
            "<td>Jane Doe</td>",
            "<td>Mei Lin</td>",
            "DB failover half done",
            "Card payments fail",
            "BST",
            &format!(r#"href="/api/v1/incidents/{id}/document.md""#),
        ] {
            assert!(doc.body.contains(text), "{b}: document shows {text:?}");
        }
        let (admin, _) = session(&app, "admin").await;
        let doc = fetch(&app, "GET", &format!("{page}/document"), &admin, None).await;
        assert!(
            doc.body.contains(" UTC") && !doc.body.contains("BST"),
            "{b}: UTC for the admin"
        );
        let none = fetch(&app, "GET", "/incidents/424242", &jon, None).await;
        assert_eq!(none.status, StatusCode::NOT_FOUND, "{b}");
        let junk = fetch(&app, "GET", "/incidents/x%27y/document", &jon, None).await;
        assert_eq!(junk.status, StatusCode::NOT_FOUND, "{b}");
    }
}

/// An open event stream: reads frames as they come.
struct Stream {
    body: Body,
    seen: String,
}

impl Stream {
    async fn open(
        app: &TestApp,
        cookie: &str,
        path: &str,
        last_event: Option<i64>,
    ) -> (StatusCode, String, Self) {
        let mut req = Request::builder().uri(path).header(header::COOKIE, cookie);
        if let Some(id) = last_event {
            req = req.header("last-event-id", id.to_string());
        }
        let response = app
            .router
            .clone()
            .oneshot(req.body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let kind = response
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        (
            status,
            kind,
            Self {
                body: response.into_body(),
                seen: String::new(),
            },
        )
    }

    /// Reads until the text so far contains `want`, for at most `within`; the text read.
    async fn until(&mut self, want: &str, within: Duration) -> &str {
        let deadline = tokio::time::Instant::now() + within;
        while !self.seen.contains(want) {
            match tokio::time::timeout_at(deadline, self.body.frame()).await {
                Ok(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data() {
                        self.seen.push_str(&String::from_utf8_lossy(&data));
                    }
                }
                Ok(other) => panic!(
                    "stream ended ({other:?}) without {want:?}; got:\n{}",
                    self.seen
                ),
                Err(_) => panic!("no {want:?} within {within:?}; got:\n{}", self.seen),
            }
        }
        &self.seen
    }
}

#[tokio::test]
async fn the_event_stream_sends_new_entries_and_state() {
    for t in backends().await {
        let b = t.backend;
        let app = app_on(&t).await;
        let (jon, csrf) = session(&app, "responder").await;
        let (viewer, _) = session(&app, "viewer").await;
        let id = declare(
            &app,
            &jon,
            &csrf,
            "title=Checkout+down&service=checkout-api",
        )
        .await;
        let events = format!("/incidents/{id}/events");
        let (status, kind, mut stream) = Stream::open(&app, &viewer, &events, None).await;
        assert_eq!(status, StatusCode::OK, "{b}");
        assert_eq!(kind, "text/event-stream", "{b}");
        // On connect: the header's state, and no old entry (the page already has those).
        let first = stream
            .until(r#""status":"investigating""#, Duration::from_secs(10))
            .await;
        assert!(first.contains("event: state"), "{b}: {first}");
        assert!(!first.contains("event: entry"), "{b}: {first}");

        // A note posted through the form arrives as its rendered entry, id = entry id.
        let r = post(
            &app,
            &jon,
            &format!("/incidents/{id}/notes"),
            &format!(
                "csrf={}&kind=decision&body=Roll+back+release+42",
                enc(&csrf)
            ),
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{b}: {}", r.body);
        let full = store::full(&t.db, id).await.unwrap();
        let entry = full.timeline.last().unwrap().id;
        let got = stream
            .until("Roll back release 42", Duration::from_secs(10))
            .await;
        assert!(
            got.contains(&format!(
                "event: entry\nid: {entry}\ndata: <li id=\"entry-{entry}\""
            )),
            "{b}: one entry event, its id the entry's, its data the page's markup: {got}"
        );
        assert!(
            got.contains(&format!(r#"<li id="entry-{entry}""#)),
            "{b}: the page's markup: {got}"
        );
        assert!(
            !got.contains("star-form"),
            "{b}: a viewer's stream has no star buttons"
        );

        // A change nobody signals (another instance wrote it) shows on the periodic check.
        let snap = app.state.catalog().await.unwrap();
        let actor = tocsin::incidents::command::Actor::system();
        let ctx = tocsin::incidents::command::Ctx {
            db: &t.db,
            snap: &snap,
            now: app.clock.now_ms(),
            actor: &actor,
            base_url: "http://t",
        };
        tocsin::incidents::command::set_status(&ctx, id, Status::Monitoring, "Rolled back")
            .await
            .unwrap();
        let got = stream
            .until(r#""status":"monitoring""#, Duration::from_secs(10))
            .await;
        assert!(
            got.contains("Status: investigating → <strong>monitoring</strong>"),
            "{b}: {got}"
        );

        // Reconnecting with Last-Event-ID resumes after that entry.
        let (status, _, mut resumed) = Stream::open(&app, &jon, &events, Some(entry)).await;
        assert_eq!(status, StatusCode::OK, "{b}");
        let got = resumed.until("Rolled back", Duration::from_secs(10)).await;
        assert!(
            !got.contains("Roll back release 42"),
            "{b}: nothing before the resume point: {got}"
        );
        assert!(
            got.contains("star-form"),
            "{b}: responders get the star button"
        );
        let (status, _, _) = Stream::open(&app, &jon, "/incidents/999/events", None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{b}");

        // Stopping the server ends open streams, so a graceful shutdown does not hang.
        app.state.live.stop();
        let end = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                match stream.body.frame().await {
                    None => return true,
                    Some(Err(_)) => return false,
                    Some(Ok(_)) => {}
                }
            }
        })
        .await;
        assert_eq!(end, Ok(true), "{b}: the stream ends on stop");
    }
}
