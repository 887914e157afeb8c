//! Fuzzes the alertmanager parser: any body, no panic; a parse that succeeds keeps the contract.
#![no_main]

use libfuzzer_sys::fuzz_target;

include!("check.rs");

fuzz_target!(|body: &[u8]| {
    if let Ok(events) = tocsin::alerts::integrations::alertmanager::parse(body) {
        check_events(&events);
    }
});
