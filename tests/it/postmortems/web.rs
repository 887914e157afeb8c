//! The postmortem pages on both backends, as a browser without JavaScript uses them: drafted
//! from a resolved incident's page, a section edited and previewed (nothing saved), a
//! blaming sentence flagged beside its section, submitting refused with the empty required
//! sections named, an action item and a reviewer added, the reviewer's approval, publishing
//! (which closes the incident), the read-only published page a viewer can read (but not a
//! draft). The library, the export and the print view are `web/library.rs`.

use axum::http::{StatusCode, header};
use tocsin::incidents::{Status, store as istore};
use tocsin::postmortems::{PmStatus, store};

use crate::support::backends;
use crate::web::client::{enc, fetch};

mod forms;
mod library;

use forms::{app_with_reviewer, between, post, resolved_incident, see_other, session};

#[tokio::test]
async fn a_postmortem_from_draft_to_published_through_its_page() {
    for t in backends().await {
        let b = t.backend;
        let app = app_with_reviewer(&t).await;
        let (jon, csrf) = session(&app, "responder").await;
        let (viewer, _) = session(&app, "viewer").await;
        let (jane, jane_csrf) = session(&app, "reviewer").await;

        // Still open: no button, and a forged draft is refused on the incident page.
        let r = post(
            &app,
            &jon,
            &csrf,
            "/incidents",
            "title=Checkout+down&service=checkout-api",
        )
        .await;
        let open: i64 = r.header(header::LOCATION)["/incidents/".len()..]
            .parse()
            .unwrap();
        let page = fetch(&app, "GET", &format!("/incidents/{open}"), &jon, None).await;
        assert!(
            !page.body.contains(r#"id="draft-postmortem""#),
            "{b}: open incident"
        );
        let early = post(
            &app,
            &jon,
            &csrf,
            &format!("/incidents/{open}/postmortem"),
            "",
        )
        .await;
        assert_eq!(early.status, StatusCode::CONFLICT, "{b}: {}", early.body);
        assert!(
            between(&early.body, r#"id="form-error">"#, "<").contains("resolve it before drafting"),
            "{b}"
        );

        let id = resolved_incident(&app, &jon, &csrf, "Card payments failing").await;
        let inc = format!("/incidents/{id}");
        let page = fetch(&app, "GET", &inc, &jon, None).await;
        assert!(
            page.body.contains(r#"id="draft-postmortem""#),
            "{b}: resolved incident"
        );
        let viewer_sees = fetch(&app, "GET", &inc, &viewer, None).await;
        assert!(
            !viewer_sees.body.contains(r#"id="draft-postmortem""#),
            "{b}: viewers do not draft"
        );
        let no_csrf = fetch(&app, "POST", &format!("{inc}/postmortem"), &jon, Some("")).await;
        assert_eq!(no_csrf.status, StatusCode::FORBIDDEN, "{b}: CSRF");

        let pm = format!("/postmortems/{id}");
        let r = post(&app, &jon, &csrf, &format!("{inc}/postmortem"), "").await;
        see_other(&r, &pm, "draft");
        let twice = post(&app, &jon, &csrf, &format!("{inc}/postmortem"), "").await;
        assert_eq!(twice.status, StatusCode::CONFLICT, "{b}: drafted once");
        assert!(twice.body.contains("already has a postmortem"), "{b}");
        let page = fetch(&app, "GET", &inc, &jon, None).await;
        assert!(
            between(&page.body, r#"id="postmortem-link">"#, "</p>").contains("Postmortem: Draft"),
            "{b}"
        );

        // The page: every section in the template's order, with its help text.
        let page = fetch(&app, "GET", &pm, &jon, None).await;
        page.assert_ok_html("postmortem page");
        let keys = [
            "people",
            "summary",
            "problem",
            "impact",
            "action_items",
            "lessons",
            "timeline",
            "follow_up",
        ];
        let order: Vec<usize> = keys
            .iter()
            .map(|k| page.body.find(&format!(r#"id="h-{k}""#)).expect(k))
            .collect();
        assert!(
            order.windows(2).all(|w| w[0] < w[1]),
            "{b}: sections in order {order:?}"
        );
        assert!(
            page.body.contains("executives read only this"),
            "{b}: help text"
        );
        assert_eq!(
            between(&page.body, r#"id="pm-status">"#, "<"),
            "Draft",
            "{b}"
        );
        let denied = fetch(&app, "GET", &pm, &viewer, None).await;
        assert_eq!(
            denied.status,
            StatusCode::FORBIDDEN,
            "{b}: a draft is for responders"
        );

        // Preview shows the text rendered, flagged, and saves nothing.
        let summary = format!("{pm}/sections/summary");
        let before = store::full(&t.db, id).await.unwrap();
        let r = post(
            &app,
            &jon,
            &csrf,
            &summary,
            "action=preview&body=Jon+Doe+was+careless+%3Cscript%3Ex()%3C%2Fscript%3E",
        )
        .await;
        r.assert_ok_html("preview");
        let shown = between(&r.body, r#"id="preview-summary""#, "</section>");
        assert!(
            shown.contains("Preview, not saved") && shown.contains("was careless"),
            "{b}: {shown}"
        );
        assert!(!r.body.contains("<script>x()"), "{b}: sanitised");
        assert!(
            between(&r.body, r#"id="flags-summary""#, "</div>").contains("careless"),
            "{b}"
        );
        assert_eq!(
            store::full(&t.db, id).await.unwrap().sections,
            before.sections,
            "{b}: not saved"
        );
        // A preview of a section the template does not have is refused, not shown as nothing.
        let r = post(
            &app,
            &jon,
            &csrf,
            &format!("{pm}/sections/nosuch"),
            "action=preview&body=x",
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{b}: {}",
            r.body
        );
        assert!(r.body.contains("no section"), "{b}: {}", r.body);

        let r = post(
            &app,
            &jon,
            &csrf,
            &summary,
            "action=save&body=Card+payments+failed+for+**40+minutes**.",
        )
        .await;
        see_other(&r, &format!("{pm}#s-summary"), "save");
        let forged = fetch(&app, "POST", &summary, &jon, Some("body=x")).await;
        assert_eq!(
            forged.status,
            StatusCode::FORBIDDEN,
            "{b}: CSRF on sections"
        );
        let problem = "The outage was caused by human error.";
        let r = post(
            &app,
            &jon,
            &csrf,
            &format!("{pm}/sections/problem"),
            &format!("body={}", enc(problem)),
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{b}: {}", r.body);
        // Blank scaffolding does not count as written.
        let r = post(
            &app,
            &jon,
            &csrf,
            &format!("{pm}/sections/lessons"),
            "body=%23%23%23+What+went+well%0A",
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{b}");
        let page = fetch(&app, "GET", &pm, &jon, None).await;
        assert!(
            between(&page.body, r#"id="html-summary">"#, "</div>")
                .contains("<strong>40 minutes</strong>"),
            "{b}: rendered"
        );
        let flags = between(&page.body, r#"id="flags-problem""#, "</div>");
        assert!(
            flags.contains("human error") && flags.contains("Try:"),
            "{b}: {flags}"
        );
        assert!(
            !page.body.contains(r#"id="flags-summary""#),
            "{b}: the summary is fair"
        );

        // Submitting names what is missing.
        let submit = format!("{pm}/submit");
        let r = post(&app, &jon, &csrf, &submit, "").await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{b}: {}", r.body);
        let reason = between(&r.body, r#"id="form-error">"#, "<");
        assert!(
            reason.contains("required sections are empty")
                && reason.contains("Action items")
                && reason.contains("Lessons learned"),
            "{b}: {reason}"
        );
        assert!(!reason.contains("Executive summary"), "{b}: {reason}");

        let lessons = "body=%23%23%23+What+went+well%0A-+Rollback+took+two+minutes";
        let r = post(
            &app,
            &jon,
            &csrf,
            &format!("{pm}/sections/lessons"),
            lessons,
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{b}");
        let actions = format!("{pm}/actions");
        let bad = post(
            &app,
            &jon,
            &csrf,
            &actions,
            "title=Alert+on+disk&kind=blame&owner=jon-doe",
        )
        .await;
        assert_eq!(
            bad.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{b}: {}",
            bad.body
        );
        let bad_day = post(
            &app,
            &jon,
            &csrf,
            &actions,
            "title=x&kind=detect&owner=jon-doe&due=next+week",
        )
        .await;
        assert_eq!(bad_day.status, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        let r = post(
            &app,
            &jon,
            &csrf,
            &actions,
            "title=Alert+on+disk+space&kind=detect&owner=jon-doe&team=&due=2024-06-28",
        )
        .await;
        see_other(&r, &format!("{pm}#actions"), "action");
        let item = store::full(&t.db, id).await.unwrap().actions.remove(0);
        assert_eq!(
            (item.title.as_str(), item.kind.as_str()),
            ("Alert on disk space", "detect"),
            "{b}"
        );
        assert!(!item.team.is_empty(), "{b}: the owner's team");
        let due = jiff::Timestamp::from_millisecond(item.due_at.unwrap()).unwrap();
        // Jon Doe's zone: the end of 28 June there.
        let zone = jiff::tz::TimeZone::get("Europe/London").unwrap();
        assert_eq!(
            due.to_zoned(zone).strftime("%F %T").to_string(),
            "2024-06-28 23:59:59",
            "{b}"
        );
        let r = post(
            &app,
            &jon,
            &csrf,
            &format!("{actions}/{}", item.id),
            "status=done",
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{b}");
        assert!(
            store::full(&t.db, id).await.unwrap().actions[0].is_done(),
            "{b}: toggled"
        );

        let r = post(&app, &jon, &csrf, &submit, "").await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{b}");
        assert!(r.body.contains("name at least one reviewer"), "{b}");
        let r = post(
            &app,
            &jon,
            &csrf,
            &format!("{pm}/reviewers"),
            "person=jane-doe",
        )
        .await;
        see_other(&r, &format!("{pm}#reviewers"), "reviewer");
        let r = post(&app, &jon, &csrf, &submit, "").await;
        see_other(&r, &format!("{pm}#workflow"), "submit");
        assert_eq!(
            store::full(&t.db, id).await.unwrap().postmortem.status,
            PmStatus::InReview,
            "{b}"
        );

        // Only the named reviewer approves; nobody publishes before that.
        let page = fetch(&app, "GET", &pm, &jon, None).await;
        assert!(
            !page.body.contains(r#"id="approve""#),
            "{b}: Jon is not a reviewer"
        );
        let r = post(&app, &jon, &csrf, &format!("{pm}/approve"), "").await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{b}: {}", r.body);
        assert!(r.body.contains("only a named reviewer can approve"), "{b}");
        let r = post(&app, &jane, &jane_csrf, &format!("{pm}/publish"), "").await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{b}");
        assert!(r.body.contains("waiting for approval from jane-doe"), "{b}");
        let page = fetch(&app, "GET", &pm, &jane, None).await;
        assert!(page.body.contains(r#"id="approve""#), "{b}: Jane reviews");
        let r = post(&app, &jane, &jane_csrf, &format!("{pm}/approve"), "").await;
        see_other(&r, &format!("{pm}#workflow"), "approve");
        let page = fetch(&app, "GET", &pm, &jane, None).await;
        assert!(
            between(&page.body, r#"data-reviewer="jane-doe">"#, "</li>").contains("approved"),
            "{b}"
        );
        let r = post(&app, &jane, &jane_csrf, &format!("{pm}/publish"), "").await;
        see_other(&r, &format!("{pm}#workflow"), "publish");

        let full = istore::full(&t.db, id).await.unwrap();
        assert_eq!(
            full.incident.status,
            Status::Closed,
            "{b}: publishing closes the incident"
        );
        let page = fetch(&app, "GET", &inc, &viewer, None).await;
        assert!(page.body.contains("Postmortem: Published"), "{b}");

        // Published: read-only, for everyone; responders still tick action items off.
        for (who, responder) in [(&jon, true), (&viewer, false)] {
            let page = fetch(&app, "GET", &pm, who, None).await;
            page.assert_ok_html("published postmortem");
            assert_eq!(
                between(&page.body, r#"id="pm-status">"#, "<"),
                "Published",
                "{b}"
            );
            let forms: Vec<&str> = page
                .body
                .split(r#"action="/postmortems/"#)
                .skip(1)
                .map(|rest| rest.split('"').next().unwrap_or(""))
                .collect();
            assert!(
                forms
                    .iter()
                    .all(|f| f.contains("/actions/") && !f.ends_with("/delete")),
                "{b}: only the action items' done toggles: {forms:?}"
            );
            assert_eq!(!forms.is_empty(), responder, "{b}: {forms:?}");
            if responder {
                let toggle = format!("/postmortems/{}", forms[0]);
                let r = post(&app, &jon, &csrf, &toggle, "status=open").await;
                assert_eq!(r.status, StatusCode::SEE_OTHER, "{b}: {}", r.body);
            }
            assert!(!page.body.contains("<textarea"), "{b}: no editing");
            assert!(page.body.contains("Card payments failed for"), "{b}");
        }
        let late = post(&app, &jon, &csrf, &summary, "body=rewritten").await;
        assert_eq!(late.status, StatusCode::CONFLICT, "{b}: read-only");
        assert!(late.body.contains("published and read-only"), "{b}");
    }
}
