//! Fuzzes the Alertmanager API v2 parser (`POST /api/v2/alerts`): any body, no panic, at a
//! fixed `now` and Alertmanager's default resolve timeout, as the endpoint calls it.
#![no_main]

use libfuzzer_sys::fuzz_target;

include!("check.rs");

/// 2024-06-17T09:00:00Z, the test suite's clock.
const NOW_MS: i64 = 1_718_614_800_000;

fuzz_target!(|body: &[u8]| {
    use tocsin::alerts::integrations::alertmanager_api;
    if let Ok((events, _problems)) = alertmanager_api::parse_best_effort(body, NOW_MS, 300_000) {
        check_events(&events);
    }
    if let Ok(events) = alertmanager_api::parse(body, NOW_MS, 300_000) {
        check_events(&events);
    }
});
