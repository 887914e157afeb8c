//! In a real browser (headless Chromium): an alert sent with `tocsin alert send` to a running
//! `tocsin serve` is opened and declared an incident with the alert page's button; on the
//! incident page the three roles are assigned and a stakeholder update posted, while a second
//! browser session, with the incident page open, sees the update arrive in its timeline (and
//! the new Incident Commander in its header) without reloading. Then the server stops cleanly
//! with that live page still connected. Skipped with a notice without Chromium and
//! chromedriver, except under CI (see `browser.rs`).

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::serve::{ADMIN_PASSWORD, ADMIN_USER, Served, Site, browser_like_client, run_ok};
use crate::webdriver::{Driver, Session, which};

fn sign_in(browser: &Session<'_>, server: &Served, wait: Duration) {
    browser.goto(&server.url("/login"));
    browser.find("#username", wait).send_keys(ADMIN_USER);
    browser.find("#password", wait).send_keys(ADMIN_PASSWORD);
    browser.find("form button[type=submit]", wait).click();
    browser.wait_for_url(wait, |u| !u.contains("/login"));
}

/// Runs `script` in the page and returns its value.
fn script(browser: &Session<'_>, script: &str) -> Value {
    browser
        .cmd(
            Method::POST,
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
        .unwrap_or_else(|e| panic!("script {script:?}: {e}"))
}

/// Polls `script` until it returns a string containing `want`, for up to `within`.
fn poll(browser: &Session<'_>, js: &str, want: &str, within: Duration) -> String {
    let deadline = Instant::now() + within;
    loop {
        let got = script(browser, js).as_str().unwrap_or("").to_string();
        if got.contains(want) || Instant::now() >= deadline {
            return got;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Chooses `value` in the `<select>` `select` and waits for nothing: options click in place.
fn choose(browser: &Session<'_>, select: &str, value: &str, wait: Duration) {
    browser
        .find(&format!("{select} option[value='{value}']"), wait)
        .click();
}

#[test]
fn a_second_browser_sees_the_incident_live() {
    let chromium = ["chromium", "chromium-browser"].into_iter().find_map(which);
    let chromedriver = which("chromedriver");
    let (Some(chromium), Some(chromedriver)) = (chromium, chromedriver) else {
        let missing = "chromium and chromedriver are not both on PATH";
        assert!(std::env::var_os("CI").is_none(), "CI is set: {missing}");
        eprintln!("notice: skipping the incident browser test: {missing}");
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
    let mut server = Served::start(db, &[]);
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
            // An error: its level (Sev 1) declares only after 15 minutes without progress, so
            // the person is first to declare (a critical one the engine declares at once).
            "--severity",
            "error",
            "--dedup-key",
            "co-5xx",
        ],
        "",
    );
    let alert = sent
        .split_whitespace()
        .nth(1)
        .expect("alert id")
        .to_string();

    let driver = Driver::start(&chromedriver, &site.dir.path().join("chromedriver.log"));
    let a = driver.session(&chromium, &site.dir.path().join("profile-a"));
    let wait = Duration::from_secs(15);
    sign_in(&a, &server, wait);
    a.goto(&server.url(&format!("/alerts/{alert}")));
    a.find("#declare-incident", wait).click();
    let at = a.wait_for_url(wait, |u| u.contains("/incidents/"));
    let id: i64 = at
        .rsplit('/')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not an incident page: {at}"));
    let title = a.text_of("h1", wait);
    assert!(
        title.contains(&format!("INC-{id}")) && title.contains("Checkout 5xx above 5%"),
        "{title}"
    );

    // The second session opens the same page and marks its window: a reload would lose it.
    let b = driver.session(&chromium, &site.dir.path().join("profile-b"));
    sign_in(&b, &server, wait);
    b.goto(&server.url(&format!("/incidents/{id}")));
    script(&b, "window.tocsinMarker = 'same page'; return null;");
    let live = poll(
        &b,
        "return document.getElementById('live-state').textContent;",
        "Live",
        wait,
    );
    assert_eq!(live, "Live", "the page's event stream is open");

    // Three roles, to people other than the IC Tocsin picked from the schedule.
    let picked = a.text_of("#holder-commander", wait);
    let mut people = [
        ("jon-doe", "Jon Doe"),
        ("foo-bar", "Foo Bar"),
        ("jane-doe", "Jane Doe"),
        ("ali-khan", "Ali Khan"),
    ]
    .into_iter()
    .filter(|(_, name)| *name != picked);
    let mut names = Vec::new();
    for role in ["commander", "ops", "comms"] {
        let (person, name) = people.next().expect("enough people");
        choose(&a, "#role", role, wait);
        choose(&a, "#role-person", person, wait);
        a.find("#assign-role", wait).click();
        a.wait_for_url(wait, |u| u.ends_with("#h-roles"));
        assert_eq!(a.text_of(&format!("#holder-{role}"), wait), name, "{role}");
        names.push(name);
    }

    a.find("#update-impact", wait)
        .send_keys("Customers cannot pay by card");
    a.find("#update-actions", wait)
        .send_keys("Rolling back release 42");
    a.find("#post-update", wait).click();
    a.wait_for_url(wait, |u| u.ends_with("#timeline"));

    let last_update = "var li = document.querySelector('#timeline li.kind-update'); \
                       return li ? li.textContent : '';";
    let arrived = poll(
        &b,
        last_update,
        "Rolling back release 42",
        Duration::from_secs(10),
    );
    assert!(
        arrived.contains("Stakeholder update") && arrived.contains("Customers cannot pay by card"),
        "the update did not appear in the second window:\n{arrived}\n{}",
        b.source()
    );
    let header = poll(
        &b,
        "return document.getElementById('holder-commander').textContent;",
        names[0],
        Duration::from_secs(10),
    );
    assert_eq!(header, names[0], "the header follows the new IC");
    assert_eq!(
        script(&b, "return window.tocsinMarker || null;"),
        json!("same page"),
        "the second window reloaded"
    );
    let png = b.screenshot();
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&dir).expect("screenshots dir");
    std::fs::write(dir.join("incident-live.png"), &png).expect("write screenshot");

    // The live page is still connected: stopping must not wait for it.
    let status = server.terminate(Duration::from_secs(15));
    assert!(
        status.success(),
        "serve exited with {status}; stderr:\n{}",
        server.stderr()
    );
}
