//! Restriction windows, layer precedence, overrides, errors and validation.

use super::*;

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
    assert!(
        validate_schedule(&schedule(LONDON, vec![])).is_empty(),
        "catalog's check"
    );
    assert!(validate_schedule(&schedule(LONDON, vec![good])).is_empty());
}
