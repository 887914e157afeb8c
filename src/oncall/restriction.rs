//! Weekly restriction windows of a layer ("weekdays 09:00–17:00", "every night 22:00–06:00"),
//! parsed once into disjoint intervals of the local week, and the instants they cover.
//!
//! A window is a statement about the *local wall clock*: the layer has someone while the local
//! time, read in the schedule's zone, is inside a window. Around DST changes this is exactly
//! what people see on their clocks: on a spring-forward day a window edge that falls in the gap
//! takes effect when the clock jumps past it, and on a fall-back day the repeated hour is inside
//! (or outside) the window both times. Instants are mapped to the local week through the zone's
//! offset at that instant, so resolution at one instant and over a range agree by construction.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::{Restriction, Weekday};

pub(super) const MINUTE_MS: i64 = 60_000;
pub(super) const DAY_MS: i64 = 86_400_000;
pub(super) const WEEK_MS: i64 = 7 * DAY_MS;
/// Day 0 of the Unix epoch (1970-01-01) was a Thursday, three days after a Monday.
const EPOCH_WEEK_SHIFT_MS: i64 = 3 * DAY_MS;

/// The union of a layer's windows as sorted, disjoint, non-touching `[start, end)` intervals
/// of milliseconds since Monday 00:00 local time (`0..WEEK_MS`). A window running past Sunday
/// midnight is split in two, so lookups never have to wrap.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Windows {
    intervals: Vec<(i64, i64)>,
}

/// A window time: `HH:MM`, 00:00 to 23:59, as milliseconds since midnight.
pub(super) fn parse_hhmm(s: &str) -> Result<i64, String> {
    let b = s.as_bytes();
    let digit = |i: usize| -> Option<i64> {
        b.get(i)
            .filter(|c| c.is_ascii_digit())
            .map(|c| i64::from(c - b'0'))
    };
    let parsed = match (b.len(), b.get(2), digit(0), digit(1), digit(3), digit(4)) {
        (5, Some(b':'), Some(h1), Some(h2), Some(m1), Some(m2)) => {
            Some((h1 * 10 + h2, m1 * 10 + m2))
        }
        _ => None,
    };
    match parsed {
        Some((h, m)) if h < 24 && m < 60 => Ok((h * 60 + m) * MINUTE_MS),
        _ => Err(format!(
            "expected a time HH:MM from 00:00 to 23:59, got {s:?}"
        )),
    }
}

fn day_index(day: Weekday) -> i64 {
    match day {
        Weekday::Mon => 0,
        Weekday::Tue => 1,
        Weekday::Wed => 2,
        Weekday::Thu => 3,
        Weekday::Fri => 4,
        Weekday::Sat => 5,
        Weekday::Sun => 6,
    }
}

/// Milliseconds since Monday 00:00 of the local week containing local time `local_ms`
/// (milliseconds since 1970-01-01T00:00 on the local wall clock).
pub(super) fn week_position(local_ms: i64) -> i64 {
    (local_ms + EPOCH_WEEK_SHIFT_MS).rem_euclid(WEEK_MS)
}

/// The instant's offset from UTC in the zone, in milliseconds.
pub(super) fn offset_ms(tz: &TimeZone, ts: Timestamp) -> i64 {
    i64::from(tz.to_offset(ts).seconds()) * 1000
}

impl Windows {
    /// Parses the restrictions of layer `layer` (its index, for field paths). Problems are
    /// pushed as (field path, message); `None` when any window could not be parsed.
    pub(super) fn parse(
        restrictions: &[Restriction],
        layer: usize,
        problems: &mut Vec<(String, String)>,
    ) -> Option<Windows> {
        let before = problems.len();
        let mut intervals = Vec::new();
        for (i, r) in restrictions.iter().enumerate() {
            let path = |field: &str| format!("layers[{layer}].restrictions[{i}].{field}");
            let from = parse_hhmm(&r.from).map_err(|m| problems.push((path("from"), m)));
            let to = parse_hhmm(&r.to).map_err(|m| problems.push((path("to"), m)));
            if r.days.is_empty() {
                problems.push((
                    path("days"),
                    "expected at least one day (mon, tue, wed, thu, fri, sat, sun)".into(),
                ));
            }
            let (Ok(from), Ok(to)) = (from, to) else {
                continue;
            };
            // `to` at or before `from` runs past midnight; equal means a full 24 hours, the
            // only reading of "00:00 to 00:00" that is not an empty window.
            let length = if to > from {
                to - from
            } else {
                DAY_MS - from + to
            };
            for day in &r.days {
                let start = day_index(*day) * DAY_MS + from;
                let end = start + length;
                if end <= WEEK_MS {
                    intervals.push((start, end));
                } else {
                    intervals.push((start, WEEK_MS));
                    intervals.push((0, end - WEEK_MS));
                }
            }
        }
        if problems.len() > before {
            return None;
        }
        intervals.sort_unstable();
        let mut merged: Vec<(i64, i64)> = Vec::with_capacity(intervals.len());
        for (s, e) in intervals {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        Some(Windows { intervals: merged })
    }

    /// Whether local week position `pos` (see [`week_position`]) is inside a window.
    pub(super) fn contains(&self, pos: i64) -> bool {
        // The first interval starting after `pos`; the one before it is the only candidate.
        let i = self.intervals.partition_point(|&(s, _)| s <= pos);
        i > 0 && self.intervals[i - 1].1 > pos
    }

    /// Whether the layer may have someone at instant `t` (ms) in zone `tz`.
    pub(super) fn active_at(&self, tz: &TimeZone, ts: Timestamp, t: i64) -> bool {
        self.contains(week_position(t + offset_ms(tz, ts)))
    }

    /// Appends the instants in `[a, b)` that are inside a window, given that the zone's offset
    /// is `offset` ms throughout `[a, b)` (the caller splits ranges at the zone's
    /// transitions). Intervals touching the previous one pushed are merged into it.
    pub(super) fn active_in(&self, a: i64, b: i64, offset: i64, out: &mut Vec<(i64, i64)>) {
        if a >= b || self.intervals.is_empty() {
            return;
        }
        // Local Monday 00:00 of the week containing `a`, as a local ms value.
        let local_a = a + offset;
        let mut monday = local_a - week_position(local_a);
        while monday - offset < b {
            for &(s, e) in &self.intervals {
                let start = (monday + s - offset).max(a);
                let end = (monday + e - offset).min(b);
                if start >= end {
                    continue;
                }
                match out.last_mut() {
                    Some(last) if start <= last.1 => last.1 = last.1.max(end),
                    _ => out.push((start, end)),
                }
            }
            monday += WEEK_MS;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(days: &[Weekday], from: &str, to: &str) -> Restriction {
        Restriction {
            days: days.to_vec(),
            from: from.into(),
            to: to.into(),
        }
    }

    #[test]
    fn hhmm_is_strict() {
        assert_eq!(parse_hhmm("09:30"), Ok(570 * MINUTE_MS));
        assert_eq!(parse_hhmm("00:00"), Ok(0));
        for bad in [
            "24:00", "9:30", "09:60", "0930", "09:30:00", "", "ab:cd", "-1:00",
        ] {
            assert!(parse_hhmm(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sunday_night_window_wraps_into_monday() {
        let mut problems = Vec::new();
        let w = Windows::parse(
            &[window(&[Weekday::Sun], "22:00", "06:00")],
            0,
            &mut problems,
        )
        .unwrap();
        assert!(problems.is_empty());
        assert_eq!(
            w.intervals,
            vec![(0, 6 * 3_600_000), (6 * DAY_MS + 22 * 3_600_000, WEEK_MS)]
        );
        assert!(w.contains(0));
        assert!(!w.contains(6 * 3_600_000));
        assert!(w.contains(WEEK_MS - 1));
    }

    #[test]
    fn equal_times_mean_a_full_day_and_overlaps_merge() {
        let mut problems = Vec::new();
        let w = Windows::parse(
            &[
                window(&[Weekday::Tue], "00:00", "00:00"),
                window(&[Weekday::Tue, Weekday::Wed], "12:00", "13:00"),
            ],
            0,
            &mut problems,
        )
        .unwrap();
        assert_eq!(
            w.intervals,
            vec![
                (DAY_MS, 2 * DAY_MS),
                (2 * DAY_MS + 12 * 3_600_000, 2 * DAY_MS + 13 * 3_600_000)
            ],
            "Tuesday's noon hour merges into its full day; Wednesday's stays apart"
        );
    }

    #[test]
    fn problems_name_their_field() {
        let mut problems = Vec::new();
        let w = Windows::parse(&[window(&[], "9:00", "17:00")], 2, &mut problems);
        assert!(w.is_none());
        let paths: Vec<_> = problems.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            vec![
                "layers[2].restrictions[0].from",
                "layers[2].restrictions[0].days"
            ]
        );
    }

    #[test]
    fn epoch_was_a_thursday() {
        assert_eq!(week_position(0), 3 * DAY_MS);
        assert_eq!(week_position(-3 * DAY_MS), 0);
    }
}
