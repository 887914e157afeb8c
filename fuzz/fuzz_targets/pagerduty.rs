//! Fuzzes the PagerDuty Events API v2 parser (`POST /v2/enqueue`): any body, no panic; the
//! error replies built from a failure are valid JSON too.
#![no_main]

use libfuzzer_sys::fuzz_target;

include!("check.rs");

fuzz_target!(|body: &[u8]| {
    use tocsin::alerts::integrations::pagerduty;
    match pagerduty::parse(body) {
        Ok((_routing_key, event)) => check_event(&event),
        Err(e) if pagerduty::is_unrecognized(&e) => drop(pagerduty::unrecognized()),
        Err(e) => drop(pagerduty::rejection(&e)),
    }
});
