//! Example-based tests of schedule resolution and the helpers they share: `dst.rs` (the
//! workshop's seed calendar, DST weeks in several zones, a 30-minute DST, zones whose rules
//! changed) and `rules.rs` (restrictions, layer precedence, overrides, errors, validation).
//! Property tests are in `proptests.rs`.

mod dst;
mod rules;

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::rotation::{ResolveError, Resolver, on_call_at, shifts, validate_schedule};
use super::{Layer, Override, Restriction, Schedule, Shift, ShiftLength, ShiftUnit, Weekday};

const HOUR: i64 = 3_600_000;

pub(super) fn layer(people: &[&str], count: u32, unit: ShiftUnit, start: &str) -> Layer {
    Layer {
        name: format!("layer starting {start}"),
        people: people.iter().map(|p| p.to_string()).collect(),
        shift: ShiftLength { count, unit },
        start: start.into(),
        restrictions: Vec::new(),
    }
}

pub(super) fn schedule(tz: &str, layers: Vec<Layer>) -> Schedule {
    Schedule {
        id: "sched".into(),
        name: "Schedule".into(),
        team: "team".into(),
        time_zone: tz.into(),
        layers,
    }
}

fn window(days: &[Weekday], from: &str, to: &str) -> Restriction {
    Restriction {
        days: days.to_vec(),
        from: from.into(),
        to: to.into(),
    }
}

const WEEKDAYS: [Weekday; 5] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
];

/// A local civil time (`YYYY-MM-DDTHH:MM`) in `tz` as ms, compatible disambiguation.
fn at(tz: &str, local: &str) -> i64 {
    let dt: jiff::civil::DateTime = local.parse().unwrap();
    TimeZone::get(tz)
        .unwrap()
        .to_timestamp(dt)
        .unwrap()
        .as_millisecond()
}

/// An instant as local `YYYY-MM-DDTHH:MM` in `tz`.
fn local(tz: &str, ms: i64) -> String {
    let ts = Timestamp::from_millisecond(ms).unwrap();
    ts.to_zoned(TimeZone::get(tz).unwrap())
        .strftime("%Y-%m-%dT%H:%M")
        .to_string()
}

fn who(s: &Schedule, overrides: &[Override], ms: i64) -> Option<String> {
    on_call_at(s, overrides, ms).unwrap()
}

fn ov(start: i64, end: i64, person: &str, replaces: Option<&str>, created_at: i64) -> Override {
    Override {
        id: format!("ov-{created_at}"),
        schedule: "sched".into(),
        start,
        end,
        person: person.into(),
        replaces: replaces.map(str::to_owned),
        reason: String::new(),
        created_by: "admin".into(),
        created_at,
    }
}

/// Shifts as (local start, hours, person) for readable assertions.
fn table(tz: &str, shifts: &[Shift]) -> Vec<(String, f64, Option<String>)> {
    shifts
        .iter()
        .map(|s| {
            let hours = (s.end - s.start) as f64 / HOUR as f64;
            (local(tz, s.start), hours, s.person.clone())
        })
        .collect()
}

fn row(local: &str, hours: f64, person: Option<&str>) -> (String, f64, Option<String>) {
    (local.into(), hours, person.map(str::to_owned))
}

const LONDON: &str = "Europe/London";
