//! Example-based tests of schedule resolution: the workshop's seed calendar, DST weeks in
//! several zones (including a 30-minute DST and zones whose rules changed), restrictions,
//! layer precedence, overrides, errors and validation. Property tests are in `proptests.rs`.

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

#[test]
fn seed_calendar_weekly_monday_handoff() {
    let people = ["Foo Bar", "Jon Doe", "Jane Doe"];
    let s = schedule(
        LONDON,
        vec![layer(&people, 1, ShiftUnit::Weeks, "2024-06-17T09:00")],
    );
    let w = |l: &str| who(&s, &[], at(LONDON, l));
    assert_eq!(
        w("2024-06-17T08:59"),
        None,
        "nobody before the first handoff"
    );
    assert_eq!(w("2024-06-17T09:00").as_deref(), Some("Foo Bar"));
    assert_eq!(w("2024-06-20T15:00").as_deref(), Some("Foo Bar"));
    assert_eq!(w("2024-06-24T08:59").as_deref(), Some("Foo Bar"));
    assert_eq!(w("2024-06-24T09:00").as_deref(), Some("Jon Doe"));
    assert_eq!(w("2024-06-30T23:00").as_deref(), Some("Jon Doe"));
    assert_eq!(w("2024-07-01T09:00").as_deref(), Some("Jane Doe"));
    assert_eq!(w("2024-07-08T09:00").as_deref(), Some("Foo Bar"));

    let got = shifts(
        &s,
        &[],
        at(LONDON, "2024-06-10T00:00"),
        at(LONDON, "2024-07-01T09:00"),
    );
    assert_eq!(
        table(LONDON, &got.unwrap()),
        vec![
            row("2024-06-10T00:00", 177.0, None),
            row("2024-06-17T09:00", 168.0, Some("Foo Bar")),
            row("2024-06-24T09:00", 168.0, Some("Jon Doe")),
        ]
    );
}

/// Weekly Monday 09:00 handoffs around both changes of a year: 167 h into summer time, 169 h
/// out of it, and the handoff stays at 09:00 local.
fn assert_dst_weeks(tz: &str, spring_monday: &str, autumn_monday: &str) {
    let s = schedule(
        tz,
        vec![layer(&["A", "B"], 1, ShiftUnit::Weeks, "2020-01-06T09:00")],
    );
    for (monday, hours) in [(spring_monday, 167.0), (autumn_monday, 169.0)] {
        let from = at(tz, &format!("{monday}T09:00"));
        let got = shifts(&s, &[], from, from + 400 * HOUR).unwrap();
        let t = table(tz, &got);
        assert_eq!(t[0].1, hours, "{tz} week of {monday}: {t:?}");
        assert!(t.iter().all(|r| r.0.ends_with("T09:00")), "{t:?}");
        assert_eq!(t[1].1, 168.0, "{t:?}");
    }
}

#[test]
fn dst_weeks_london_and_toronto() {
    assert_dst_weeks(LONDON, "2025-03-24", "2025-10-20");
    assert_dst_weeks("America/Toronto", "2025-03-03", "2025-10-27");
}

#[test]
fn daily_shifts_are_23_and_25_hours_and_hour_shifts_are_exact() {
    let tz = "America/Toronto";
    let daily = schedule(
        tz,
        vec![layer(&["A", "B"], 1, ShiftUnit::Days, "2025-01-01T09:00")],
    );
    let got = shifts(
        &daily,
        &[],
        at(tz, "2025-03-08T09:00"),
        at(tz, "2025-03-10T09:00"),
    );
    assert_eq!(
        table(tz, &got.unwrap()),
        vec![
            row("2025-03-08T09:00", 23.0, Some("A")),
            row("2025-03-09T09:00", 24.0, Some("B"))
        ]
    );
    // "Every 12 hours" is 12 elapsed hours: the local handoff moves with the clock change.
    let hourly = schedule(
        tz,
        vec![layer(&["A", "B"], 12, ShiftUnit::Hours, "2025-03-08T20:00")],
    );
    let got = shifts(
        &hourly,
        &[],
        at(tz, "2025-03-08T20:00"),
        at(tz, "2025-03-10T09:00"),
    );
    assert_eq!(
        table(tz, &got.unwrap()),
        vec![
            row("2025-03-08T20:00", 12.0, Some("A")),
            row("2025-03-09T09:00", 12.0, Some("B")),
            row("2025-03-09T21:00", 12.0, Some("A")),
        ]
    );
}

#[test]
fn lord_howe_half_hour_dst() {
    let tz = "Australia/Lord_Howe";
    let s = schedule(
        tz,
        vec![layer(&["A", "B"], 1, ShiftUnit::Days, "2025-01-01T09:00")],
    );
    // Summer time ends on Sunday 6 April 2025 (02:00 back to 01:30) and starts on Sunday
    // 5 October (02:00 forward to 02:30).
    let got = shifts(
        &s,
        &[],
        at(tz, "2025-04-05T09:00"),
        at(tz, "2025-04-07T09:00"),
    );
    assert_eq!(
        table(tz, &got.unwrap()),
        vec![
            row("2025-04-05T09:00", 24.5, Some("A")),
            row("2025-04-06T09:00", 24.0, Some("B")),
        ]
    );
    let got = shifts(
        &s,
        &[],
        at(tz, "2025-10-04T09:00"),
        at(tz, "2025-10-06T09:00"),
    );
    assert_eq!(table(tz, &got.unwrap())[0].1, 23.5);

    // A first handoff inside the gap resolves forward (compatible); later days keep 02:15.
    let gap = schedule(
        tz,
        vec![layer(&["A", "B"], 1, ShiftUnit::Days, "2025-10-05T02:15")],
    );
    let got = shifts(
        &gap,
        &[],
        at(tz, "2025-10-05T00:00"),
        at(tz, "2025-10-07T00:00"),
    );
    assert_eq!(
        table(tz, &got.unwrap()),
        vec![
            row("2025-10-05T00:00", 2.25, None),
            row("2025-10-05T02:45", 23.5, Some("A")),
            row("2025-10-06T02:15", 21.75, Some("B")),
        ]
    );
}

#[test]
fn zones_whose_rules_changed() {
    let weekly = |tz: &str| {
        schedule(
            tz,
            vec![layer(&["A", "B"], 1, ShiftUnit::Weeks, "2010-01-04T09:00")],
        )
    };
    let week_hours = |tz: &str, monday: &str| {
        let from = at(tz, &format!("{monday}T09:00"));
        let got = shifts(&weekly(tz), &[], from, from + 200 * HOUR).unwrap();
        assert!(local(tz, got[1].start).ends_with("T09:00"));
        (got[0].end - got[0].start) as f64 / HOUR as f64
    };
    // São Paulo: summer time started 4 Nov 2018 and ended 17 Feb 2019, then was abolished.
    let sp = "America/Sao_Paulo";
    assert_eq!(week_hours(sp, "2018-10-29"), 167.0);
    assert_eq!(week_hours(sp, "2019-02-11"), 169.0);
    assert_eq!(
        week_hours(sp, "2019-10-28"),
        168.0,
        "the November 2019 change never came"
    );
    // Moscow: permanent +04 from March 2011 (no change that autumn), back to +03 in Oct 2014.
    let msk = "Europe/Moscow";
    assert_eq!(week_hours(msk, "2011-03-21"), 167.0);
    assert_eq!(week_hours(msk, "2011-10-24"), 168.0);
    assert_eq!(week_hours(msk, "2014-10-20"), 169.0);
}

#[test]
fn samoa_skipped_day_gives_a_zero_length_shift() {
    // Apia jumped from 29 Dec 2011 23:59 (-10) to 31 Dec 00:00 (+14). The handoff on the
    // missing 30 December resolves to the same instant as the one on the 31st, so that shift
    // is empty and the rotation moves on by two.
    let tz = "Pacific/Apia";
    let s = schedule(
        tz,
        vec![layer(
            &["A", "B", "C"],
            1,
            ShiftUnit::Days,
            "2011-12-27T09:00",
        )],
    );
    let got = shifts(
        &s,
        &[],
        at(tz, "2011-12-29T09:00"),
        at(tz, "2012-01-01T09:00"),
    );
    assert_eq!(
        table(tz, &got.unwrap()),
        vec![
            row("2011-12-29T09:00", 24.0, Some("C")),
            row("2011-12-31T09:00", 24.0, Some("B")),
        ]
    );
    assert_eq!(
        who(&s, &[], at(tz, "2011-12-31T12:00")).as_deref(),
        Some("B")
    );
}

#[test]
fn business_hours_leave_gaps() {
    let mut l = layer(&["A", "B"], 1, ShiftUnit::Weeks, "2025-01-06T00:00");
    l.restrictions = vec![window(&WEEKDAYS, "09:00", "17:00")];
    let s = schedule(LONDON, vec![l]);
    let w = |l: &str| who(&s, &[], at(LONDON, l));
    assert_eq!(w("2025-01-06T08:59"), None);
    assert_eq!(w("2025-01-06T09:00").as_deref(), Some("A"));
    assert_eq!(w("2025-01-10T16:59").as_deref(), Some("A"));
    assert_eq!(w("2025-01-10T17:00"), None);
    assert_eq!(w("2025-01-11T12:00"), None, "Saturday");
    assert_eq!(w("2025-01-13T09:00").as_deref(), Some("B"));

    let got = shifts(
        &s,
        &[],
        at(LONDON, "2025-01-06T00:00"),
        at(LONDON, "2025-01-08T00:00"),
    );
    assert_eq!(
        table(LONDON, &got.unwrap()),
        vec![
            row("2025-01-06T00:00", 9.0, None),
            row("2025-01-06T09:00", 8.0, Some("A")),
            row("2025-01-06T17:00", 16.0, None),
            row("2025-01-07T09:00", 8.0, Some("A")),
            row("2025-01-07T17:00", 7.0, None),
        ]
    );
}

#[test]
fn night_window_crosses_midnight_and_follows_the_local_clock() {
    let mut l = layer(&["N"], 1, ShiftUnit::Weeks, "2025-01-06T00:00");
    l.restrictions = vec![window(&[Weekday::Fri, Weekday::Sun], "22:00", "06:00")];
    let s = schedule(LONDON, vec![l]);
    let w = |l: &str| who(&s, &[], at(LONDON, l));
    assert_eq!(w("2025-01-10T21:59"), None, "Friday before the window");
    assert_eq!(w("2025-01-10T22:00").as_deref(), Some("N"));
    assert_eq!(
        w("2025-01-11T05:59").as_deref(),
        Some("N"),
        "Saturday morning"
    );
    assert_eq!(w("2025-01-11T06:00"), None);
    assert_eq!(w("2025-01-11T23:00"), None, "Saturday night has no window");
    assert_eq!(
        w("2025-01-13T03:00").as_deref(),
        Some("N"),
        "Sunday's runs into Monday"
    );

    let got = shifts(
        &s,
        &[],
        at(LONDON, "2025-10-24T12:00"),
        at(LONDON, "2025-10-25T12:00"),
    );
    assert_eq!(
        table(LONDON, &got.unwrap()),
        vec![
            row("2025-10-24T12:00", 10.0, None),
            row("2025-10-24T22:00", 8.0, Some("N")),
            row("2025-10-25T06:00", 6.0, None),
        ]
    );

    // Saturday nights spanning the clock changes: 22:00 to 06:00 on the clock is 7 hours in
    // spring and 9 in autumn.
    let mut l = layer(&["N"], 1, ShiftUnit::Weeks, "2025-01-06T00:00");
    l.restrictions = vec![window(&[Weekday::Sat], "22:00", "06:00")];
    let s = schedule(LONDON, vec![l]);
    for (saturday, hours) in [("2025-03-29", 7.0), ("2025-10-25", 9.0)] {
        let from = at(LONDON, &format!("{saturday}T12:00"));
        let got = shifts(&s, &[], from, from + 24 * HOUR).unwrap();
        let t = table(LONDON, &got);
        assert_eq!(t[1].0, format!("{saturday}T22:00"));
        assert_eq!((t[1].1, t[1].2.as_deref()), (hours, Some("N")), "{t:?}");
        assert!(t[2].0.ends_with("T06:00"), "{t:?}");
    }
}

#[test]
fn a_window_in_the_repeated_hour_happens_twice() {
    // 26 Oct 2025, London: 01:00–02:00 happens in BST and again in GMT.
    let mut l = layer(&["N"], 1, ShiftUnit::Weeks, "2025-01-06T00:00");
    l.restrictions = vec![window(&[Weekday::Sun], "01:00", "01:30")];
    let s = schedule(LONDON, vec![l]);
    let from = at(LONDON, "2025-10-26T00:00");
    let got = shifts(&s, &[], from, from + 4 * HOUR).unwrap();
    let spans: Vec<_> = got
        .iter()
        .map(|s| {
            (
                (s.start - from) / 60_000,
                (s.end - from) / 60_000,
                s.person.is_some(),
            )
        })
        .collect();
    assert_eq!(
        spans,
        vec![
            (0, 60, false),
            (60, 90, true),
            (90, 120, false),
            (120, 150, true),
            (150, 240, false)
        ]
    );
}

#[test]
fn later_layers_win_where_they_have_someone() {
    let primary = layer(&["P1", "P2"], 1, ShiftUnit::Weeks, "2025-01-06T09:00");
    let mut day = layer(&["D1", "D2"], 1, ShiftUnit::Days, "2025-01-06T00:00");
    day.restrictions = vec![window(&WEEKDAYS, "09:00", "17:00")];
    let s = schedule(LONDON, vec![primary, day]);
    let w = |l: &str| who(&s, &[], at(LONDON, l));
    assert_eq!(
        w("2025-01-06T08:00"),
        None,
        "before the primary's first handoff"
    );
    assert_eq!(w("2025-01-06T10:00").as_deref(), Some("D1"));
    assert_eq!(w("2025-01-06T18:00").as_deref(), Some("P1"));
    assert_eq!(w("2025-01-07T10:00").as_deref(), Some("D2"));
    assert_eq!(
        w("2025-01-11T10:00").as_deref(),
        Some("P1"),
        "Saturday: primary"
    );
    assert_eq!(w("2025-01-13T18:00").as_deref(), Some("P2"));
}

#[test]
fn overrides_with_and_without_replaces() {
    let s = schedule(
        LONDON,
        vec![layer(&["A", "B"], 1, ShiftUnit::Days, "2025-01-06T09:00")],
    );
    let day = |d: u32| at(LONDON, &format!("2025-01-{d:02}T09:00"));
    let w = |o: &[Override], d: u32, h: i64| who(&s, o, day(d) + h * HOUR);
    // A on the 6th, 8th, 10th; B on the 7th, 9th.
    let cover = [ov(day(6) + 2 * HOUR, day(8), "X", None, 1)];
    assert_eq!(w(&cover, 6, 1).as_deref(), Some("A"));
    assert_eq!(w(&cover, 6, 2).as_deref(), Some("X"));
    assert_eq!(w(&cover, 7, 5).as_deref(), Some("X"));
    assert_eq!(w(&cover, 8, 0).as_deref(), Some("A"), "end is exclusive");

    let swap = [ov(day(6), day(10), "Y", Some("B"), 1)];
    assert_eq!(w(&swap, 6, 1).as_deref(), Some("A"), "replaces B only");
    assert_eq!(w(&swap, 7, 1).as_deref(), Some("Y"));
    assert_eq!(w(&swap, 9, 1).as_deref(), Some("Y"));

    // Creation order, not slice order: the later override wins where both apply.
    let both = [
        ov(day(6), day(7), "Late", None, 2),
        ov(day(6), day(8), "Early", None, 1),
    ];
    assert_eq!(w(&both, 6, 1).as_deref(), Some("Late"));
    assert_eq!(w(&both, 7, 1).as_deref(), Some("Early"));

    // Chained swap: Y takes B's shifts, then Z takes the 9th from Y.
    let chain = [swap[0].clone(), ov(day(9), day(10), "Z", Some("Y"), 2)];
    assert_eq!(w(&chain, 7, 1).as_deref(), Some("Y"));
    assert_eq!(w(&chain, 9, 1).as_deref(), Some("Z"));

    // Other schedules' and empty overrides are ignored.
    let mut other = ov(day(6), day(8), "O", None, 1);
    other.schedule = "other".into();
    let empty = ov(day(7), day(7), "E", None, 2);
    assert_eq!(w(&[other, empty], 6, 1).as_deref(), Some("A"));

    let got = shifts(&s, &swap, day(6), day(10)).unwrap();
    assert_eq!(
        table(LONDON, &got),
        vec![
            row("2025-01-06T09:00", 24.0, Some("A")),
            row("2025-01-07T09:00", 24.0, Some("Y")),
            row("2025-01-08T09:00", 24.0, Some("A")),
            row("2025-01-09T09:00", 24.0, Some("Y")),
        ]
    );
    // An override can also fill a gap before the first handoff.
    let early = [ov(day(5), day(6) + HOUR, "E", None, 1)];
    let got = shifts(&s, &early, day(5) - HOUR, day(6) + 2 * HOUR).unwrap();
    assert_eq!(
        table(LONDON, &got),
        vec![
            row("2025-01-05T08:00", 1.0, None),
            row("2025-01-05T09:00", 25.0, Some("E")),
            row("2025-01-06T10:00", 1.0, Some("A")),
        ]
    );
}

#[test]
fn resolver_matches_the_wrappers_and_ranges_are_checked() {
    let s = schedule(
        LONDON,
        vec![layer(&["A", "B"], 8, ShiftUnit::Hours, "2025-01-06T09:00")],
    );
    let r = Resolver::new(&s).unwrap();
    let t = at(LONDON, "2025-01-07T00:00");
    assert_eq!(r.on_call_at(&[], t).unwrap(), Some("B"));
    assert_eq!(who(&s, &[], t).as_deref(), Some("B"));
    assert_eq!(r.shifts(&[], t, t).unwrap(), vec![]);
    assert_eq!(
        r.shifts(&[], t, t - 1),
        Err(ResolveError::Range { from: t, to: t - 1 })
    );
    assert_eq!(
        r.on_call_at(&[], i64::MAX),
        Err(ResolveError::Instant(i64::MAX))
    );
    assert!(matches!(
        r.shifts(&[], t, i64::MAX),
        Err(ResolveError::Instant(_))
    ));
}

#[test]
fn errors_and_validation() {
    let good = layer(&["A"], 1, ShiftUnit::Weeks, "2025-01-06T09:00");
    let err = |s: &Schedule| Resolver::new(s).unwrap_err();
    assert_eq!(
        err(&schedule("Mars/Olympus", vec![good.clone()])),
        ResolveError::TimeZone("Mars/Olympus".into())
    );
    for (start, count, people) in [
        ("2025-01-06 09:00", 1, vec!["A"]),
        ("2025-02-30T09:00", 1, vec!["A"]),
        ("2025-01-06T09:00:00", 1, vec!["A"]),
        ("2025-01-06T09:00", 0, vec!["A"]),
        ("2025-01-06T09:00", 1, vec![]),
    ] {
        let l = layer(&people, count, ShiftUnit::Days, start);
        assert!(
            matches!(err(&schedule(LONDON, vec![l])), ResolveError::Layer { .. }),
            "{start} {count} {people:?}"
        );
    }
    let mut bad_window = good.clone();
    bad_window.restrictions = vec![window(&[], "9:00", "17:00")];
    let s = schedule(
        "Nowhere",
        vec![
            good.clone(),
            layer(&[], 0, ShiftUnit::Hours, "tomorrow"),
            bad_window,
        ],
    );
    let fields: Vec<String> = validate_schedule(&s).into_iter().map(|p| p.0).collect();
    assert_eq!(
        fields,
        vec![
            "time_zone",
            "layers[1].people",
            "layers[1].shift.count",
            "layers[1].start",
            "layers[2].restrictions[0].from",
            "layers[2].restrictions[0].days",
        ]
    );
    assert_eq!(
        validate_schedule(&schedule(LONDON, vec![]))[0].0,
        "layers",
        "no layers"
    );
    assert!(validate_schedule(&schedule(LONDON, vec![good])).is_empty());
}
