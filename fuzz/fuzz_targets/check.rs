// What every ingestion target asserts of a parse that succeeded, beyond "no panic": the
// parsers' documented contract (summary capped, links only http(s), batches bounded, no NUL
// in text the store writes).
// Included by each target with `include!`, since fuzz targets are separate binaries.

use tocsin::alerts::AlertEvent;
use tocsin::alerts::integrations::{MAX_ALERTS, MAX_SUMMARY_CHARS, is_web_url};

#[allow(dead_code)]
fn check_events(events: &[AlertEvent]) {
    assert!(events.len() <= MAX_ALERTS, "{} events in one body", events.len());
    for e in events {
        check_event(e);
    }
}

fn check_event(e: &AlertEvent) {
    // PostgreSQL text cannot hold NUL: a NUL that gets this far would be a 500 in the store.
    let texts = [&e.summary, &e.source]
        .into_iter()
        .chain(e.dedup_key.as_ref())
        .chain(e.labels.iter().flat_map(|(k, v)| [k, v]))
        .chain(e.annotations.iter().flat_map(|(k, v)| [k, v]));
    for t in texts {
        assert!(!t.contains('\0'), "NUL in {t:?}");
    }
    assert!(e.summary.chars().count() <= MAX_SUMMARY_CHARS, "summary too long");
    for link in &e.links {
        assert!(is_web_url(&link.href), "link {:?} is not http(s)", link.href);
    }
}
