//! The escalation matrix pages, the "on call now" panels on the home, team and service pages,
//! and handbook section 1c (calendar and matrix), on the seed calendar at the test clock.

use axum::http::StatusCode;

use super::app;
use crate::support::{TestApp, backends};

/// A page's HTML, read with a viewer token (pages accept bearer tokens as well as sessions).
async fn html(app: &TestApp, token: &str, path: &str) -> String {
    let (s, body) = app.call("GET", path, Some(token), None).await;
    assert_eq!(s, StatusCode::OK, "{path}: {body}");
    body.as_str().expect("HTML").to_string()
}

#[tokio::test]
async fn pages_show_who_is_on_call_and_the_escalation_matrix() {
    for t in backends().await {
        let (app, [viewer, _, _]) = app(t.db.clone()).await;
        pages_show_who_is_on_call_and_the_escalation_matrix_on(&app, &viewer).await;
    }
}

async fn pages_show_who_is_on_call_and_the_escalation_matrix_on(app: &TestApp, viewer: &str) {
    let matrix = html(app, viewer, "/teams/sre/escalation").await;
    for want in [
        "<th scope=\"col\">Level</th>",
        "<th scope=\"col\">Name</th>",
        "<th scope=\"col\">Role</th>",
        "Level 0",
        "On call: SRE primary",
        "Foo Bar",
        "Level 1",
        "<a href=\"/people/adam\">Adam</a></td>\n        <td>Manager</td>",
        "Level 2",
        "<a href=\"/people/jacob\">Jacob</a></td>\n        <td>Sr Manager</td>",
        "after 5 minutes",
        "starts over once more",
    ] {
        assert!(
            matrix.contains(want),
            "{want:?} in the matrix page:\n{matrix}"
        );
    }
    let policy = html(app, viewer, "/escalation-policies/payments").await;
    assert!(policy.contains("On call: Payments business hours") && policy.contains("Priya Shah"));
    assert!(policy.contains("Payments Team"), "teams using it");

    let home = html(app, viewer, "/").await;
    assert!(
        home.contains("On call now") && home.contains("Foo Bar"),
        "{home}"
    );
    let team = html(app, viewer, "/teams/catalog-backend").await;
    assert!(team.contains("/teams/catalog-backend/escalation") && team.contains("Foo Bar"));
    let service = html(app, viewer, "/services/checkout-api").await;
    assert!(service.contains("Paged first now") && service.contains("/people/foo-bar"));
    assert!(service.contains("/escalation-policies/sre-default"));

    for missing in ["/teams/nope/escalation", "/escalation-policies/nope"] {
        let (s, _) = app.call("GET", missing, Some(viewer), None).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{missing}");
    }
}

#[tokio::test]
async fn the_handbook_has_the_oncall_calendar_and_matrix() {
    for t in backends().await {
        let (app, [viewer, _, _]) = app(t.db.clone()).await;
        the_handbook_has_the_oncall_calendar_and_matrix_on(&app, &viewer).await;
    }
}

async fn the_handbook_has_the_oncall_calendar_and_matrix_on(app: &TestApp, viewer: &str) {
    let md = html(app, viewer, "/handbook.md").await;
    for want in [
        "## 1c. On call and escalation",
        "### SRE default",
        "**On-call calendar: SRE primary** (days in Europe/London)",
        "| Person | Mon 17 Jun | Tue 18 Jun |",
        "| Foo Bar | ● | ● | ● | ● | ● | ● | ● | ● |  |",
        "| Jon Doe |  |  |  |  |  |  |  | ● | ● |",
        "| Level 0 | Foo Bar | On call: SRE primary | at once |",
        "| Level 1 | Adam | Manager | after 5 minutes |",
        "| Level 2 | Jacob | Sr Manager | after 15 minutes |",
        "## 1d. Service tiers",
    ] {
        assert!(md.contains(want), "{want:?} in the handbook:\n{md}");
    }
    assert!(md.find("## 1c.") < md.find("## 1d."));
}
