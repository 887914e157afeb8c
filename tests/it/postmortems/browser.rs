//! In a real browser (headless Chromium) against `tocsin serve`: an incident resolved with
//! `tocsin incident` gets its postmortem drafted from the incident page's button; the author
//! takes ownership, previews and saves sections (the live preview flags a blaming phrase
//! while typing), is refused on submitting with the empty required section named, adds an
//! action item and a reviewer, and submits; the reviewer signs in, approves and publishes.
//! The incident is then closed and the postmortem page has no forms. Skipped with a notice
//! without Chromium and chromedriver, except under CI (see `browser.rs`).

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::serve::{Served, Site, browser_like_client, run_ok};
use crate::webdriver::{Driver, Session, which};

const PASSWORD: &str = "postmortem pages in a browser";

fn sign_in(browser: &Session<'_>, server: &Served, user: &str, wait: Duration) {
    browser.goto(&server.url("/login"));
    browser.find("#username", wait).send_keys(user);
    browser.find("#password", wait).send_keys(PASSWORD);
    browser.find("form button[type=submit]", wait).click();
    browser.wait_for_url(wait, |u| !u.contains("/login"));
}

fn script(browser: &Session<'_>, script: &str) -> Value {
    browser
        .cmd(
            Method::POST,
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
        .unwrap_or_else(|e| panic!("script {script:?}: {e}"))
}

/// The text of the element `css` (empty when there is none), polled until it contains
/// `want` or `within` passes: after a click the old page may still be showing.
fn text_of(browser: &Session<'_>, css: &str, want: &str, within: Duration) -> String {
    let js = format!(
        "var e = document.querySelector({}); return e ? e.textContent : '';",
        json!(css)
    );
    let deadline = Instant::now() + within;
    loop {
        let got = script(browser, &js).as_str().unwrap_or("").to_string();
        if got.contains(want) || Instant::now() >= deadline {
            return got;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn choose(browser: &Session<'_>, select: &str, value: &str, wait: Duration) {
    browser
        .find(&format!("{select} option[value='{value}']"), wait)
        .click();
}

fn account(db: &str, user: &str, person: &str) {
    run_ok(
        &[
            "user",
            "--database-url",
            db,
            "set",
            user,
            "--role",
            "responder",
            "--person",
            person,
            "--password-stdin",
        ],
        &format!("{PASSWORD}\n"),
    );
}

#[test]
fn a_postmortem_is_drafted_reviewed_and_published_in_a_browser() {
    let chromium = ["chromium", "chromium-browser"].into_iter().find_map(which);
    let chromedriver = which("chromedriver");
    let (Some(chromium), Some(chromedriver)) = (chromium, chromedriver) else {
        let missing = "chromium and chromedriver are not both on PATH";
        assert!(std::env::var_os("CI").is_none(), "CI is set: {missing}");
        eprintln!("notice: skipping the postmortem browser test: {missing}");
        return;
    };

    let site = Site::seeded();
    let db = site.database_url.as_str();
    account(db, "jon", "jon-doe");
    account(db, "jane", "jane-doe");
    let incident = |args: &[&str]| {
        let mut all = vec!["incident", "--database-url", db];
        all.extend_from_slice(args);
        run_ok(&all, "")
    };
    let declared = incident(&[
        "declare",
        "--title",
        "Checkout errors",
        "--service",
        "checkout-api",
        "--as",
        "jon-doe",
    ]);
    let reference = declared
        .split_whitespace()
        .find(|w| w.starts_with("INC-"))
        .unwrap_or_else(|| panic!("a reference in {declared:?}"))
        .trim_end_matches([':', '.', ','])
        .to_string();
    let id: i64 = reference["INC-".len()..].parse().expect("incident number");
    incident(&["status", &reference, "resolved", "--as", "jon-doe"]);

    let mut server = Served::start(db, &[]);
    server.wait_ready(&browser_like_client());
    let driver = Driver::start(&chromedriver, &site.dir.path().join("chromedriver.log"));
    let wait = Duration::from_secs(15);
    let a = driver.session(&chromium, &site.dir.path().join("profile-jon"));
    sign_in(&a, &server, "jon", wait);

    a.goto(&server.url(&format!("/incidents/{id}")));
    a.find("#draft-postmortem", wait).click();
    let pm = format!("/postmortems/{id}");
    a.wait_for_url(wait, |u| u.ends_with(&pm));
    assert_eq!(a.text_of("#pm-status", wait), "Draft");

    // Jon owns it, so Jane (whoever was Incident Commander) can review it.
    a.find("details.pm-details summary", wait).click();
    choose(&a, "#pm-owner-select", "jon-doe", wait);
    a.find("#save-details", wait).click();
    a.wait_for_url(wait, |u| u.ends_with("#facts"));
    assert_eq!(text_of(&a, "#pm-owner", "Jon Doe", wait), "Jon Doe");

    // The live preview flags a blaming phrase while typing; saved, the flag stays beside it.
    a.find("#body-problem", wait)
        .send_keys("\n\nA deploy by Jon Doe was careless.");
    let live = text_of(&a, "#live-problem .flag", "careless", wait);
    assert!(live.contains("careless") && live.contains("Try:"), "{live}");
    a.find("#save-problem", wait).click();
    a.wait_for_url(wait, |u| u.ends_with("#s-problem"));
    let flags = text_of(&a, "#flags-problem", "careless", wait);
    assert!(flags.contains("careless"), "the saved text's flag: {flags}");

    // Preview without saving, then save; every required text section gets a line.
    a.find("#body-lessons", wait)
        .send_keys("\n\n- The rollback script worked first time.");
    a.find("#preview-button-lessons", wait).click();
    let preview = text_of(&a, "#preview-lessons", "rollback script", wait);
    assert!(preview.contains("Preview, not saved"), "{preview}");
    a.find("#save-lessons", wait).click();
    a.wait_for_url(wait, |u| u.ends_with("#s-lessons"));
    let saved = text_of(&a, "#html-lessons", "rollback script", wait);
    assert!(
        saved.contains("The rollback script worked first time."),
        "{saved}"
    );
    for key in ["people", "summary", "impact"] {
        a.find(&format!("#body-{key}"), wait)
            .send_keys(&format!("\n\nChecked in the browser ({key})."));
        a.find(&format!("#save-{key}"), wait).click();
        a.wait_for_url(wait, |u| u.ends_with(&format!("#s-{key}")));
    }

    // No action item yet: submitting is refused and says which section is empty.
    a.find("#submit-review", wait).click();
    let refused = text_of(&a, "#form-error", "Action items", wait);
    assert!(refused.contains("required sections are empty"), "{refused}");

    a.find("#action-title", wait)
        .send_keys("Canary checkout deploys");
    choose(&a, "#action-kind", "prevent", wait);
    choose(&a, "#action-owner", "jon-doe", wait);
    a.find("#add-action", wait).click();
    a.wait_for_url(wait, |u| u.ends_with("#actions"));
    let table = text_of(&a, "#actions-table", "Canary checkout deploys", wait);
    assert!(
        table.contains("prevent") && table.contains("Jon Doe"),
        "{table}"
    );
    choose(&a, "#reviewer", "jane-doe", wait);
    a.find("#add-reviewer", wait).click();
    a.wait_for_url(wait, |u| u.ends_with("#reviewers"));
    a.find("#submit-review", wait).click();
    a.wait_for_url(wait, |u| u.ends_with("#workflow"));
    assert_eq!(text_of(&a, "#pm-status", "In review", wait), "In review");

    // Jane approves and publishes.
    let b = driver.session(&chromium, &site.dir.path().join("profile-jane"));
    sign_in(&b, &server, "jane", wait);
    b.goto(&server.url(&pm));
    b.find("#approve", wait).click();
    b.wait_for_url(wait, |u| u.ends_with("#workflow"));
    let jane = text_of(&b, "li[data-reviewer='jane-doe']", "approved", wait);
    assert!(jane.contains("approved"), "{jane}");
    b.find("#publish", wait).click();
    assert_eq!(text_of(&b, "#pm-status", "Published", wait), "Published");
    // Read-only: no text to edit, no workflow; only the action items can still be ticked off.
    let forms = script(
        &b,
        "return Array.from(document.querySelectorAll('form[action^=\"/postmortems/\"], textarea')).filter(f => !/\\/actions\\/\\d+$/.test(f.getAttribute('action') || '')).length;",
    );
    assert_eq!(forms, json!(0), "a published postmortem is read-only");
    script(&b, "window.scrollTo(0, 0); return null;");
    let png = b.screenshot();
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&dir).expect("screenshots dir");
    std::fs::write(dir.join("postmortem-published.png"), &png).expect("write screenshot");

    b.goto(&server.url(&format!("/incidents/{id}")));
    assert_eq!(text_of(&b, "#incident-status", "closed", wait), "closed");
    let link = text_of(&b, "#postmortem-link", "Published", wait);
    assert_eq!(link, "Postmortem: Published");

    let status = server.terminate(Duration::from_secs(15));
    assert!(status.success(), "serve exited with {status}");
}
