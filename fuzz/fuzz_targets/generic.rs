//! Fuzzes Tocsin's generic JSON parser (`POST /ingest/generic`): any body, no panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

include!("check.rs");

fuzz_target!(|body: &[u8]| {
    if let Ok(event) = tocsin::alerts::integrations::generic::parse(body) {
        check_event(&event);
    }
});
