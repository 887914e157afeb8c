//! In a real browser (headless Chromium): a viewer-level session (the admin here) opens the
//! on-call report of a `tocsin serve` over the scripted September, and the chart's SVG has
//! really been laid out: bars and axis text with a non-zero box (`getBBox`), and the table
//! beside it. Skipped with a notice without Chromium and chromedriver, except under CI.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::serve::{ADMIN_PASSWORD, ADMIN_USER, Served, browser_like_client};
use crate::webdriver::{Driver, which};

/// Measures the chart: (bars with a non-empty box, text elements with one, the SVG's box).
const MEASURE: &str = "const svg = document.querySelector('figure.report-chart svg');
if (!svg) { return null; }
const box = svg.getBBox();
const wide = (e) => { const b = e.getBBox(); return b.width > 0 && b.height > 0; };
const rects = Array.from(svg.querySelectorAll('rect')).filter(wide).length;
const texts = Array.from(svg.querySelectorAll('text')).filter(wide).length;
return [rects, texts, box.width, box.height];";

#[test]
fn a_report_chart_renders_in_a_browser() {
    let chromium = ["chromium", "chromium-browser"].into_iter().find_map(which);
    let chromedriver = which("chromedriver");
    let (Some(chromium), Some(chromedriver)) = (chromium, chromedriver) else {
        let missing = "chromium and chromedriver are not both on PATH";
        assert!(std::env::var_os("CI").is_none(), "CI is set: {missing}");
        eprintln!("notice: skipping the report browser test: {missing}");
        return;
    };
    let site = super::cli::site_with_history();
    let server = Served::start(&site.database_url, &[]);
    server.wait_ready(&browser_like_client());
    let driver = Driver::start(&chromedriver, &site.dir.path().join("chromedriver.log"));
    let browser = driver.session(&chromium, &site.dir.path().join("chromium-profile"));
    let wait = Duration::from_secs(15);
    browser.goto(&server.url("/login"));
    browser.find("#username", wait).send_keys(ADMIN_USER);
    browser.find("#password", wait).send_keys(ADMIN_PASSWORD);
    browser.find("form button[type=submit]", wait).click();
    browser.wait_for_url(wait, |u| !u.contains("/login"));

    browser.goto(&server.url("/reports"));
    browser.find("#report-list a[href^='/reports/oncall']", wait);
    // The period form, as a person fills it in.
    browser.goto(&server.url("/reports/oncall?from=2026-09-01&to=2026-09-30"));
    let table = browser.text_of("#table-people", wait);
    assert!(
        table.contains("Jane Doe") && table.contains("Europe/Berlin"),
        "{table}"
    );
    let m = browser
        .cmd(
            Method::POST,
            "/execute/sync",
            Some(json!({"script": MEASURE, "args": []})),
        )
        .expect("script");
    let m = m
        .as_array()
        .unwrap_or_else(|| panic!("no chart: {}", browser.source()));
    let (rects, texts) = (m[0].as_u64().unwrap(), m[1].as_u64().unwrap());
    // Two people with a page outside hours: two bars, plus the background and plot area.
    assert!(rects >= 2, "bars drawn: {m:?}");
    assert!(texts >= 3, "axis labels laid out: {m:?}");
    assert!(
        m[2].as_f64().unwrap() > 100.0 && m[3].as_f64().unwrap() > 100.0,
        "{m:?}"
    );

    let png = browser.screenshot();
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&dir).expect("screenshots dir");
    std::fs::write(dir.join("report-oncall.png"), &png).expect("write screenshot");
}
