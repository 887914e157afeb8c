//! The incident page's forms as a browser without JavaScript posts them: roles and
//! handover, the stakeholder update and its due time (overdue flagged), notes rendered safely
//! and starred, refusals shown on the page with their status; the document in the viewer's
//! zone.

use std::time::Duration;

use axum::http::{StatusCode, header};
use tocsin::clock::Clock;
use tocsin::incidents::{EntryKind, Role, Status, store};

use super::{declare, post, session};
use crate::support::backends;
use crate::web::alerts::app_on;
use crate::web::client::{enc, fetch};

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
        for path in ["roles", "updates", "notes", "status", "severity", "teams"] {
            let forged = post(
                &app,
                &jon,
                &format!("{page}/{path}"),
                "role=ops&person=jon-doe",
            )
            .await;
            assert_eq!(
                forged.status,
                StatusCode::FORBIDDEN,
                "{b}: {path} needs the CSRF token"
            );
        }
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

        // Participants and subscribers.
        for (path, fields) in [
            ("teams", "team=payments"),
            ("investigators", "person=ali-khan"),
            ("subscribers", "kind=email&target=cfo%40shop.example"),
        ] {
            let r = post(&app, &jon, &format!("{page}/{path}"), &form(fields)).await;
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{b}: {path}: {}", r.body);
        }
        let twice = post(
            &app,
            &jon,
            &format!("{page}/investigators"),
            &form("person=ali-khan"),
        )
        .await;
        assert_eq!(twice.status, StatusCode::CONFLICT, "{b}");
        let shown = fetch(&app, "GET", &page, &viewer, None).await;
        let people = between(&shown.body, r#"id="h-participants">"#, "</section>");
        assert!(
            people.contains("Payments Team") && people.contains("Ali Khan"),
            "{b}: {people}"
        );
        let subs = between(&shown.body, r#"id="h-subscribers">"#, "</section>");
        assert!(subs.contains("cfo@shop.example"), "{b}: {subs}");
        let r = post(
            &app,
            &jon,
            &format!("{page}/subscribers/remove"),
            &form("kind=email&target=cfo%40shop.example"),
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{b}: {}", r.body);
        let full = store::full(&t.db, id).await.unwrap();
        assert!(
            !full
                .subscribers
                .iter()
                .any(|x| x.target == "cfo@shop.example"),
            "{b}: removed"
        );

        // Tocsin asked the IC to hand over (their shift ended): the page says so.
        let banner = "on-call shift has ended: hand over <strong>Incident Commander</strong>";
        assert!(!shown.body.contains(banner), "{b}: no prompt yet");
        let stint = full.holder(Role::Commander).unwrap().id;
        let mut tx = t.db.begin().await.unwrap();
        store::timeline::mark_prompted(&mut tx, stint, app.clock.now_ms())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let shown = fetch(&app, "GET", &page, &viewer, None).await;
        assert!(
            shown.body.contains(&format!("Jane Doe's {banner}")),
            "{b}: the handover prompt"
        );

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
