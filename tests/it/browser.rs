//! A smoke test in a real browser: headless Chromium, driven through chromedriver, signs in to a
//! `tocsin serve` holding the example organisation and opens the service catalog. It catches
//! what requests alone cannot (the form as a browser submits it, cookies as a browser keeps
//! them) and leaves a screenshot to look at.
//!
//! Needs Debian's `chromium` and `chromium-driver`. Without them the test is skipped with a
//! notice, except under CI (`CI` set), where a skipped browser test would hide a broken setup.

use std::time::Duration;

use crate::serve::{ADMIN_PASSWORD, ADMIN_USER, Served, Site, browser_like_client};
use crate::webdriver::{Driver, which};

#[test]
fn signed_in_browser_sees_the_service_catalog() {
    let chromium = ["chromium", "chromium-browser"].into_iter().find_map(which);
    let chromedriver = which("chromedriver");
    let (Some(chromium), Some(chromedriver)) = (chromium, chromedriver) else {
        let missing = "chromium and chromedriver are not both on PATH \
                       (install Debian's chromium and chromium-driver)";
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set, so the browser test must run: {missing}"
        );
        eprintln!("notice: skipping the browser test: {missing}");
        return;
    };

    let site = Site::seeded();
    let server = Served::start(&site.database_url, &[]);
    server.wait_ready(&browser_like_client());

    let driver = Driver::start(&chromedriver, &site.dir.path().join("chromedriver.log"));
    let profile = site.dir.path().join("chromium-profile");
    let browser = driver.session(&chromium, &profile);
    let wait = Duration::from_secs(15);

    browser.goto(&server.url("/login"));
    browser.find("#username", wait).send_keys(ADMIN_USER);
    browser.find("#password", wait).send_keys(ADMIN_PASSWORD);
    browser.find("form button[type=submit]", wait).click();
    let landed = browser.wait_for_url(wait, |u| !u.contains("/login"));
    assert!(
        !landed.contains("/login"),
        "still on the login form after submitting:\n{}",
        browser.source()
    );
    assert!(
        browser.cookie("tocsin_session").is_some(),
        "the browser holds no session cookie"
    );

    browser.goto(&server.url("/services"));
    let catalog = browser.text_of("table", wait);
    for service in ["catalog-api", "checkout-api"] {
        assert!(
            catalog.contains(service),
            "{service} is not in the catalog table (title {:?}):\n{catalog}",
            browser.title()
        );
    }

    let png = browser.screenshot();
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n"),
        "the screenshot is not a PNG"
    );
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&dir).expect("screenshots dir");
    let path = dir.join("catalog.png");
    std::fs::write(&path, &png).expect("write screenshot");
    println!("screenshot: {}", path.display());
}
