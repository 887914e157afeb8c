//! Property tests of schedule resolution: random rotations (1–8 people), shift lengths (hours,
//! days, weeks), starts (biased towards the small hours, where DST gaps and folds are), 1–3
//! layers, restrictions, overrides and zones (two with ordinary DST, one with a 30-minute DST,
//! two whose rules changed), over two simulated years. Results are checked against a naive
//! oracle written from the semantics (linear scan of handoffs with jiff spans, windows read off
//! the local clock), not against the resolver's own helpers.

use jiff::civil::DateTime;
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{Timestamp, ToSpan};
use proptest::prelude::*;
use proptest::sample::{select, subsequence};

use super::rotation::Resolver;
use super::tests::{layer, schedule};
use super::{Layer, Override, Restriction, Schedule, Shift, ShiftUnit, Weekday};

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
const TWO_YEARS: i64 = 730 * DAY;

const ZONES: [&str; 5] = [
    "America/Toronto",
    "Europe/London",
    "Australia/Lord_Howe",
    // Abolished DST in 2019.
    "America/Sao_Paulo",
    // Permanent +04 from 2011, back to +03 in 2014.
    "Europe/Moscow",
];
const POOL: [&str; 10] = ["p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9"];
const DAYS: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

#[derive(Clone, Debug)]
struct Case {
    schedule: Schedule,
    overrides: Vec<Override>,
    from: i64,
    to: i64,
}

fn hhmm() -> impl Strategy<Value = String> {
    (prop_oneof![0u8..24, 0u8..4], select(vec![0u8, 15, 30, 45]))
        .prop_map(|(h, m)| format!("{h:02}:{m:02}"))
}

fn restriction() -> impl Strategy<Value = Restriction> {
    (subsequence(DAYS.to_vec(), 1..=7), hhmm(), hhmm()).prop_map(|(days, from, to)| Restriction {
        days,
        from,
        to,
    })
}

fn shift() -> impl Strategy<Value = (u32, ShiftUnit)> {
    prop_oneof![
        (1u32..=72).prop_map(|c| (c, ShiftUnit::Hours)),
        (1u32..=14).prop_map(|c| (c, ShiftUnit::Days)),
        (1u32..=4).prop_map(|c| (c, ShiftUnit::Weeks)),
    ]
}

/// A first handoff within a year either side of `year`, often in the small hours.
fn start(year: i16) -> impl Strategy<Value = String> {
    (
        (year - 1)..=(year + 1),
        1u8..=12,
        1u8..=28,
        prop_oneof![0u8..24, 0u8..4],
        prop_oneof![Just(0u8), Just(30), 0u8..60],
    )
        .prop_map(|(y, mo, d, h, mi)| format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}"))
}

fn any_layer(year: i16) -> impl Strategy<Value = Layer> {
    (
        prop::collection::vec(select(POOL.to_vec()), 1..=8),
        shift(),
        start(year),
        prop::collection::vec(restriction(), 0..=2),
    )
        .prop_map(|(people, (count, unit), start, restrictions)| {
            let mut l = layer(&people, count, unit, &start);
            l.restrictions = restrictions;
            l
        })
}

fn any_override(from: i64) -> impl Strategy<Value = Override> {
    (
        0..TWO_YEARS / MINUTE,
        1..14 * DAY / MINUTE,
        select(vec!["x0", "x1", "p0", "p1"]),
        prop::option::of(select(POOL.to_vec())),
        0i64..6,
    )
        .prop_map(move |(start, len, person, replaces, created_at)| Override {
            id: format!("ov-{start}"),
            schedule: "sched".into(),
            start: from + start * MINUTE,
            end: from + (start + len) * MINUTE,
            person: person.into(),
            replaces: replaces.map(str::to_owned),
            reason: String::new(),
            created_by: "prop".into(),
            created_at,
        })
}

/// Two years from a random instant in 2009–2024, with 1–3 layers and 0–4 overrides.
fn case() -> impl Strategy<Value = Case> {
    (select(ZONES.to_vec()), 2009i16..=2024, 0i64..365).prop_flat_map(|(tz, year, day)| {
        let year_start = DateTime::new(year, 1, 1, 0, 0, 0, 0)
            .and_then(|dt| dt.to_zoned(TimeZone::UTC))
            .map(|z| z.timestamp().as_millisecond())
            .unwrap_or(0);
        let from = year_start + day * DAY;
        (
            prop::collection::vec(any_layer(year), 1..=3),
            prop::collection::vec(any_override(from), 0..=4),
        )
            .prop_map(move |(layers, overrides)| Case {
                schedule: schedule(tz, layers),
                overrides,
                from,
                to: from + TWO_YEARS,
            })
    })
}

/// The semantics, naively: handoff k is the civil start plus k shifts of calendar days (jiff
/// spans) or exact hours, found by a linear scan; windows are read off the local clock.
struct Oracle {
    tz: TimeZone,
    layers: Vec<(Layer, i64, Vec<i64>)>,
}

impl Oracle {
    fn new(s: &Schedule, to: i64) -> Oracle {
        let tz = TimeZone::get(&s.time_zone).unwrap();
        let layers = s
            .layers
            .iter()
            .map(|l| {
                let civil: DateTime = l.start.parse().unwrap();
                let start = tz.to_timestamp(civil).unwrap().as_millisecond();
                let count = i64::from(l.shift.count);
                let boundary = |k: i64| match l.shift.unit {
                    ShiftUnit::Hours => start + k * count * HOUR,
                    ShiftUnit::Days | ShiftUnit::Weeks => {
                        let days = if l.shift.unit == ShiftUnit::Days {
                            count
                        } else {
                            count * 7
                        };
                        let dt = civil.checked_add((k * days).days()).unwrap();
                        tz.to_timestamp(dt).unwrap().as_millisecond()
                    }
                };
                let mut bounds = vec![start];
                while *bounds.last().unwrap() < to {
                    bounds.push(boundary(bounds.len() as i64));
                }
                (l.clone(), start, bounds)
            })
            .collect();
        Oracle { tz, layers }
    }

    fn in_window(&self, restrictions: &[Restriction], t: i64) -> bool {
        let local = self.tz.to_datetime(Timestamp::from_millisecond(t).unwrap());
        let wd = local.weekday().to_monday_zero_offset() as usize;
        let tod = (local.hour() as i64 * 60 + local.minute() as i64) * MINUTE
            + local.second() as i64 * 1000
            + local.subsec_nanosecond() as i64 / 1_000_000;
        let ms = |s: &str| {
            let (h, m) = s.split_once(':').unwrap();
            (h.parse::<i64>().unwrap() * 60 + m.parse::<i64>().unwrap()) * MINUTE
        };
        restrictions.iter().any(|r| {
            let (from, to) = (ms(&r.from), ms(&r.to));
            r.days.iter().any(|d| {
                let d = DAYS.iter().position(|x| x == d).unwrap();
                if to > from {
                    wd == d && from <= tod && tod < to
                } else {
                    (wd == d && tod >= from) || (wd == (d + 1) % 7 && tod < to)
                }
            })
        })
    }

    fn layer_at(&self, i: usize, t: i64) -> Option<&str> {
        let (l, start, bounds) = &self.layers[i];
        if t < *start || (!l.restrictions.is_empty() && !self.in_window(&l.restrictions, t)) {
            return None;
        }
        let k = bounds.partition_point(|&b| b <= t) - 1;
        Some(&l.people[k % l.people.len()])
    }

    fn at<'a>(&'a self, overrides: &'a [Override], t: i64) -> Option<&'a str> {
        let mut who = (0..self.layers.len())
            .rev()
            .find_map(|i| self.layer_at(i, t));
        let mut sorted: Vec<&Override> = overrides.iter().collect();
        sorted.sort_by_key(|o| o.created_at);
        for o in sorted {
            let applies = o.replaces.is_none() || o.replaces.as_deref() == who;
            if o.start <= t && t < o.end && applies {
                who = Some(&o.person);
            }
        }
        who
    }
}

/// Instants to probe: uniform ones plus the neighbourhood of every zone transition in range.
fn probes(tz: &str, from: i64, to: i64, uniform: &[i64]) -> Vec<i64> {
    let tz = TimeZone::get(tz).unwrap();
    let mut out: Vec<i64> = uniform.iter().map(|u| from + u % (to - from)).collect();
    for tr in tz.following(Timestamp::from_millisecond(from).unwrap()) {
        let t = tr.timestamp().as_millisecond();
        if t >= to {
            break;
        }
        for d in [-2 * HOUR, -30 * MINUTE, -1, 0, 1, 30 * MINUTE, 2 * HOUR] {
            out.push(t + d);
        }
    }
    out.retain(|&t| from <= t && t < to);
    out
}

fn check_contiguous(shifts: &[Shift], from: i64, to: i64) -> Result<(), TestCaseError> {
    prop_assert!(!shifts.is_empty());
    prop_assert_eq!(shifts[0].start, from);
    prop_assert_eq!(shifts[shifts.len() - 1].end, to);
    for s in shifts {
        prop_assert!(s.start < s.end, "empty shift {:?}", s);
    }
    for w in shifts.windows(2) {
        prop_assert_eq!(w[0].end, w[1].start);
        prop_assert_ne!(&w[0].person, &w[1].person, "unmerged neighbours");
    }
    Ok(())
}

fn person_at(shifts: &[Shift], t: i64) -> Option<&str> {
    let i = shifts.partition_point(|s| s.end <= t);
    shifts[i].person.as_deref()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Without restrictions or overrides, after the first handoff exactly one person of the
    /// winning layer's rotation is on call; before every layer's start, nobody.
    #[test]
    fn unrestricted_layers_always_cover(mut c in case(), uniform in prop::collection::vec(any::<u64>(), 40)) {
        for l in &mut c.schedule.layers {
            l.restrictions.clear();
        }
        let r = Resolver::new(&c.schedule).unwrap();
        let oracle = Oracle::new(&c.schedule, c.to);
        let uniform: Vec<i64> = uniform.iter().map(|&u| (u >> 1) as i64).collect();
        for t in probes(&c.schedule.time_zone, c.from, c.to, &uniform) {
            let got = r.on_call_at(&[], t).unwrap();
            let winner = oracle.layers.iter().rev().find(|(_, start, _)| *start <= t);
            match winner {
                None => prop_assert_eq!(got, None),
                Some((l, _, _)) => {
                    let p = got.unwrap_or("nobody");
                    prop_assert!(l.people.iter().any(|x| x == p), "{} not in {:?}", p, l.people);
                }
            }
            prop_assert_eq!(got, oracle.at(&[], t), "at {}", t);
        }
    }

    /// With restrictions, a layer has someone exactly where one of its windows holds.
    #[test]
    fn restricted_layers_cover_exactly_their_windows(c in case(), uniform in prop::collection::vec(any::<u64>(), 40)) {
        let r = Resolver::new(&c.schedule).unwrap();
        let oracle = Oracle::new(&c.schedule, c.to);
        let uniform: Vec<i64> = uniform.iter().map(|&u| (u >> 1) as i64).collect();
        for t in probes(&c.schedule.time_zone, c.from, c.to, &uniform) {
            let covered = oracle.layers.iter().any(|(l, start, _)| {
                *start <= t && (l.restrictions.is_empty() || oracle.in_window(&l.restrictions, t))
            });
            let got = r.on_call_at(&[], t).unwrap();
            prop_assert_eq!(got.is_some(), covered, "at {}", t);
            prop_assert_eq!(got, oracle.at(&[], t), "at {}", t);
        }
    }

    /// Day and week handoffs happen at the configured local wall-clock time on both sides of
    /// every DST change (or, on a day where that time does not exist, when the clock jumps
    /// past it), and exactly at the oracle's boundaries.
    #[test]
    fn handoffs_keep_the_local_wall_clock(
        tz in select(ZONES.to_vec()),
        year in 2009i16..=2024,
        people in subsequence(POOL.to_vec(), 2..=8),
        count in 1u32..=3,
        weeks in any::<bool>(),
        start in start(2010),
    ) {
        let start = format!("{year:04}{}", &start[4..]);
        let unit = if weeks { ShiftUnit::Weeks } else { ShiftUnit::Days };
        let s = schedule(tz, vec![layer(&people, count, unit, &start)]);
        let zone = TimeZone::get(tz).unwrap();
        let civil: DateTime = start.parse().unwrap();
        let from = zone.to_timestamp(civil).unwrap().as_millisecond();
        let to = from + TWO_YEARS;
        let shifts = Resolver::new(&s).unwrap().shifts(&[], from, to).unwrap();
        check_contiguous(&shifts, from, to)?;
        let oracle = Oracle::new(&s, to);
        let expected: Vec<i64> = oracle.layers[0].2.iter().copied().filter(|&b| b < to).collect();
        let got: Vec<i64> = shifts.iter().map(|s| s.start).collect();
        prop_assert_eq!(&got, &expected);
        for (k, &b) in got.iter().enumerate() {
            let days = i64::from(count) * if weeks { 7 } else { 1 } * k as i64;
            let wanted = civil.checked_add(days.days()).unwrap();
            let local = zone.to_datetime(Timestamp::from_millisecond(b).unwrap());
            let in_gap = matches!(
                zone.to_ambiguous_timestamp(wanted).offset(),
                AmbiguousOffset::Gap { .. }
            );
            if in_gap {
                prop_assert!(local > wanted && local.date() == wanted.date(), "{} vs {}", local, wanted);
            } else {
                prop_assert_eq!(local, wanted);
            }
            prop_assert_eq!(shifts[k].person.as_deref(), Some(people[k % people.len()]));
        }
    }

    /// Shifts are contiguous, ordered, cover the range, and agree with `on_call_at` at each
    /// shift's start, at its end − 1 ms, and at random instants (overrides included).
    #[test]
    fn shifts_agree_with_on_call_at(
        c in case(),
        cut in (0i64..TWO_YEARS, 1i64..120 * DAY),
        uniform in prop::collection::vec(any::<u64>(), 20),
    ) {
        let r = Resolver::new(&c.schedule).unwrap();
        let from = c.from + cut.0;
        let to = (from + cut.1).min(c.to);
        let shifts = r.shifts(&c.overrides, from, to).unwrap();
        check_contiguous(&shifts, from, to)?;
        for s in &shifts {
            prop_assert_eq!(r.on_call_at(&c.overrides, s.start).unwrap(), s.person.as_deref());
            prop_assert_eq!(r.on_call_at(&c.overrides, s.end - 1).unwrap(), s.person.as_deref());
        }
        let oracle = Oracle::new(&c.schedule, c.to);
        let uniform: Vec<i64> = uniform.iter().map(|&u| (u >> 1) as i64).collect();
        for t in probes(&c.schedule.time_zone, from, to, &uniform) {
            let got = r.on_call_at(&c.overrides, t).unwrap();
            prop_assert_eq!(got, person_at(&shifts, t), "at {}", t);
            prop_assert_eq!(got, oracle.at(&c.overrides, t), "oracle at {}", t);
        }
    }

    /// Adding an override (the latest created) changes exactly its range: outside it the
    /// result is the one without it; inside, it is the override's person wherever it applies.
    #[test]
    fn an_override_changes_exactly_its_range(c in case(), new in any_override(0), at in 0i64..TWO_YEARS) {
        let r = Resolver::new(&c.schedule).unwrap();
        let mut o = new;
        let len = o.end - o.start;
        o.start = c.from + at;
        o.end = o.start + len;
        o.created_at = 100;
        let mut with = c.overrides.clone();
        with.push(o.clone());
        let before = r.shifts(&c.overrides, c.from, c.to).unwrap();
        let after = r.shifts(&with, c.from, c.to).unwrap();
        check_contiguous(&after, c.from, c.to)?;
        let mut points: Vec<i64> = before.iter().chain(&after).map(|s| s.start).collect();
        points.extend([o.start, o.end]);
        points.retain(|&p| c.from <= p && p < c.to);
        for p in points {
            let was = person_at(&before, p);
            let now = person_at(&after, p);
            let inside = o.start <= p && p < o.end;
            let applies = o.replaces.is_none() || o.replaces.as_deref() == was;
            let expected = if inside && applies { Some(o.person.as_str()) } else { was };
            prop_assert_eq!(now, expected, "at {} inside={}", p, inside);
        }
    }
}
