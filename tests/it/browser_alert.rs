//! In a real browser (headless Chromium): an alert sent with `tocsin alert send` to a running
//! `tocsin serve` shows in the list and on the home page; a responder opens it and clicks
//! Acknowledge, and the page that comes back says so. Skipped with a notice without Chromium
//! and chromedriver, except under CI (see `browser.rs`).

use std::time::Duration;

use crate::serve::{ADMIN_PASSWORD, ADMIN_USER, Served, Site, browser_like_client, run_ok};
use crate::webdriver::{Driver, which};

#[test]
fn a_browser_acknowledges_an_alert_with_the_button() {
    let chromium = ["chromium", "chromium-browser"].into_iter().find_map(which);
    let chromedriver = which("chromedriver");
    let (Some(chromium), Some(chromedriver)) = (chromium, chromedriver) else {
        let missing = "chromium and chromedriver are not both on PATH";
        assert!(std::env::var_os("CI").is_none(), "CI is set: {missing}");
        eprintln!("notice: skipping the alert browser test: {missing}");
        return;
    };

    let site = Site::seeded();
    let db = site.database_url.as_str();
    let key = run_ok(
        &[
            "integration",
            "--database-url",
            db,
            "create",
            "--service",
            "checkout-api",
            "--type",
            "generic",
        ],
        "",
    );
    let server = Served::start(db, &[]);
    server.wait_ready(&browser_like_client());
    let sent = run_ok(
        &[
            "alert",
            "send",
            "--url",
            &server.base,
            "--key",
            key.trim(),
            "--summary",
            "Checkout 5xx above 5%",
            "--severity",
            "critical",
            "--dedup-key",
            "co-5xx",
        ],
        "",
    );
    let id = sent
        .split_whitespace()
        .nth(1)
        .expect("alert id")
        .to_string();

    let driver = Driver::start(&chromedriver, &site.dir.path().join("chromedriver.log"));
    let browser = driver.session(&chromium, &site.dir.path().join("chromium-profile"));
    let wait = Duration::from_secs(15);
    browser.goto(&server.url("/login"));
    browser.find("#username", wait).send_keys(ADMIN_USER);
    browser.find("#password", wait).send_keys(ADMIN_PASSWORD);
    browser.find("form button[type=submit]", wait).click();
    browser.wait_for_url(wait, |u| !u.contains("/login"));

    browser.goto(&server.url("/"));
    let panel = browser.text_of("table.alerts", wait);
    assert!(
        panel.contains("Checkout 5xx above 5%"),
        "home panel:\n{panel}"
    );
    browser.goto(&server.url("/alerts"));
    browser
        .find(&format!("tr[data-alert='{id}'] a"), wait)
        .click();
    browser.wait_for_url(wait, |u| u.ends_with(&format!("/alerts/{id}")));
    assert_eq!(browser.text_of("#alert-status", wait), "triggered");

    browser.find("#acknowledge", wait).click();
    let landed = browser.wait_for_url(wait, |u| u.contains("done=acknowledged"));
    assert!(
        landed.contains("done=acknowledged"),
        "{landed}:\n{}",
        browser.source()
    );
    assert_eq!(browser.text_of("#alert-status", wait), "acknowledged");
    let by = browser.text_of("#alert-acknowledged", wait);
    assert!(by.starts_with(ADMIN_USER), "acknowledged by: {by}");
    assert!(
        browser
            .find(".flash", wait)
            .text()
            .contains("You acknowledged this alert"),
        "the note after the button"
    );

    let png = browser.screenshot();
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&dir).expect("screenshots dir");
    std::fs::write(dir.join("alert-acknowledged.png"), &png).expect("write screenshot");
}
