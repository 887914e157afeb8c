//! Handoff times across DST changes and zone rule changes, starting from the workshop's seed
//! calendar.

use super::*;

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
