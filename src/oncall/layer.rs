//! One rotation layer parsed once for resolution: its first handoff (as a local civil time and
//! as an instant), its shift step, its people and its restriction windows; the handoff
//! boundaries, who holds the shift at an instant, and the layer's step function over a range.
//!
//! DST choices, all deliberate:
//! - Boundary k is always computed from the *civil* start (`start + k × shift` on the local
//!   calendar, then resolved in the zone), never by stepping from boundary k−1. A weekly
//!   Monday 09:00 handoff therefore stays at 09:00 local on both sides of a change (shifts of
//!   167 or 169 hours), and a start that falls in a gap (02:30 on a spring-forward day resolves
//!   to 03:30) does not drag every later handoff to 03:30.
//! - Civil times in a gap or fold resolve with jiff's *compatible* disambiguation (gap: the
//!   later wall-clock reading, fold: the first occurrence), the RFC 5545 / Temporal default.
//! - Hour shifts are exact durations from the resolved first handoff: "every 12 hours" means
//!   12 elapsed hours, so the local handoff time moves by the DST change.
//! - A layer has nobody before its first handoff: the rotation is not extended backwards,
//!   because nobody agreed to be on call before the schedule existed.

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use super::restriction::{DAY_MS, Windows};
use super::{Layer, ShiftUnit};

/// Where a parse problem belongs: the field path (`layers[0].start`) and the message.
pub(super) type Problem = (String, String);

/// A piecewise-constant "who" over a range: each entry starts at its instant and lasts until
/// the next entry's (the last one until the end of the range). Starts strictly increase.
pub(super) type Steps<'a> = Vec<(i64, Option<&'a str>)>;

/// Appends a step, keeping `Steps` canonical: a step at or before the last start replaces the
/// last value (the earlier range was empty), and a repeat of the last value is dropped.
pub(super) fn push_step<'a>(steps: &mut Steps<'a>, at: i64, who: Option<&'a str>) {
    match steps.last_mut() {
        Some(last) if at <= last.0 => {
            last.1 = who;
            if steps.len() >= 2 && steps[steps.len() - 2].1 == who {
                steps.pop();
            }
        }
        Some(last) if last.1 == who => {}
        _ => steps.push((at, who)),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    /// Hours: an exact duration in ms.
    Exact(i64),
    /// Days or weeks: a number of local calendar days.
    Civil(i64),
}

#[derive(Clone, Debug)]
pub(super) struct LayerPlan {
    people: Vec<String>,
    step: Step,
    civil_start: DateTime,
    start_ms: i64,
    windows: Option<Windows>,
}

/// `YYYY-MM-DDTHH:MM`, strictly (seconds would suggest a precision handoffs do not have).
pub(super) fn parse_start(s: &str) -> Result<DateTime, String> {
    let b = s.as_bytes();
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let digits = b.get(range)?;
        digits.iter().try_fold(0i64, |acc, c| {
            c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
        })
    };
    let shape_ok = b.len() == 16
        && b.get(4) == Some(&b'-')
        && b.get(7) == Some(&b'-')
        && b.get(10) == Some(&b'T')
        && b.get(13) == Some(&b':');
    let fields = (num(0..4), num(5..7), num(8..10), num(11..13), num(14..16));
    let expected = || format!("expected a local date and time YYYY-MM-DDTHH:MM, got {s:?}");
    let (true, (Some(y), Some(mo), Some(d), Some(h), Some(mi))) = (shape_ok, fields) else {
        return Err(expected());
    };
    // All fields are at most four digits, so the narrowing casts cannot fail.
    let narrow = |v: i64| i8::try_from(v).map_err(|_| expected());
    let year = i16::try_from(y).map_err(|_| expected())?;
    DateTime::new(year, narrow(mo)?, narrow(d)?, narrow(h)?, narrow(mi)?, 0, 0)
        .map_err(|e| format!("invalid date or time {s:?}: {e}"))
}

impl LayerPlan {
    /// Parses layer `index`. With `tz` unknown (the zone did not parse) the fields are still
    /// checked but no plan is returned. Problems are pushed with their field paths.
    pub(super) fn parse(
        layer: &Layer,
        index: usize,
        tz: Option<&TimeZone>,
        problems: &mut Vec<Problem>,
    ) -> Option<LayerPlan> {
        let before = problems.len();
        let path = |field: &str| format!("layers[{index}].{field}");
        if layer.people.is_empty() {
            problems.push((path("people"), "expected at least one person".into()));
        }
        for (i, p) in layer.people.iter().enumerate() {
            if p.trim().is_empty() {
                problems.push((path(&format!("people[{i}]")), "expected a person id".into()));
            }
        }
        if layer.shift.count == 0 {
            problems.push((path("shift.count"), "expected a shift of at least 1".into()));
        }
        let count = i64::from(layer.shift.count);
        let step = match layer.shift.unit {
            ShiftUnit::Hours => Step::Exact(count * 3_600_000),
            ShiftUnit::Days => Step::Civil(count),
            ShiftUnit::Weeks => Step::Civil(count * 7),
        };
        let civil_start = parse_start(&layer.start).map_err(|m| problems.push((path("start"), m)));
        let windows = if layer.restrictions.is_empty() {
            None
        } else {
            Windows::parse(&layer.restrictions, index, problems)
        };
        let (Some(tz), Ok(civil_start)) = (tz, civil_start) else {
            return None;
        };
        let start_ms = match tz.to_timestamp(civil_start) {
            Ok(ts) => ts.as_millisecond(),
            Err(e) => {
                problems.push((path("start"), format!("not representable in the zone: {e}")));
                return None;
            }
        };
        if problems.len() > before {
            return None;
        }
        Some(LayerPlan {
            people: layer.people.clone(),
            step,
            civil_start,
            start_ms,
            windows,
        })
    }

    pub(super) fn windows(&self) -> Option<&Windows> {
        self.windows.as_ref()
    }

    /// The instant of handoff `k` (k ≥ 0), or `i64::MAX` when it is past the representable
    /// range (year 9999): such a shift simply never ends.
    pub(super) fn boundary(&self, tz: &TimeZone, k: i64) -> i64 {
        if k == 0 {
            return self.start_ms;
        }
        match self.step {
            Step::Exact(ms) => k
                .checked_mul(ms)
                .and_then(|d| self.start_ms.checked_add(d))
                .unwrap_or(i64::MAX),
            Step::Civil(days) => k
                .checked_mul(days)
                .and_then(|d| d.checked_mul(86_400))
                // Civil datetimes have no DST, so k × days × 24 h is exactly k × days calendar
                // days at the same wall-clock time; the zone is applied afterwards.
                .and_then(|secs| {
                    self.civil_start
                        .checked_add(SignedDuration::from_secs(secs))
                        .ok()
                })
                .and_then(|dt| tz.to_timestamp(dt).ok())
                .map_or(i64::MAX, Timestamp::as_millisecond),
        }
    }

    /// The index of the shift holding `t`: the largest k with boundary(k) ≤ t. `None` before
    /// the first handoff.
    pub(super) fn index_at(&self, tz: &TimeZone, t: i64) -> Option<i64> {
        if t < self.start_ms {
            return None;
        }
        let nominal = match self.step {
            Step::Exact(ms) => ms,
            Step::Civil(days) => days.saturating_mul(DAY_MS),
        }
        .max(1);
        // The estimate is off only by the zone's offset changes since the start (hours, at
        // most about a day), which is at most a step or two either way.
        let mut k = (t - self.start_ms) / nominal;
        while k > 0 && self.boundary(tz, k) > t {
            k -= 1;
        }
        while self.boundary(tz, k + 1) <= t {
            k += 1;
        }
        Some(k)
    }

    fn person(&self, k: i64) -> Option<&str> {
        let n = i64::try_from(self.people.len()).ok()?;
        let i = usize::try_from(k.checked_rem_euclid(n)?).ok()?;
        self.people.get(i).map(String::as_str)
    }

    /// Who this layer has at instant `t` (`ts` is the same instant for zone lookups).
    pub(super) fn who_at(&self, tz: &TimeZone, ts: Timestamp, t: i64) -> Option<&str> {
        if let Some(w) = &self.windows
            && !w.active_at(tz, ts, t)
        {
            return None;
        }
        self.person(self.index_at(tz, t)?)
    }

    /// The layer's steps over `[from, to)` (from < to). `pieces` are the zone's constant-offset
    /// ranges `(start, end, offset_ms)` covering `[from, to)`, needed only with windows.
    pub(super) fn steps(
        &self,
        tz: &TimeZone,
        from: i64,
        to: i64,
        pieces: &[(i64, i64, i64)],
    ) -> Steps<'_> {
        let mut handoffs: Steps<'_> = Vec::new();
        let mut k = match self.index_at(tz, from) {
            Some(k) => k,
            None => {
                handoffs.push((from, None));
                0
            }
        };
        if self.start_ms < to {
            push_step(&mut handoffs, self.start_ms.max(from), self.person(k));
            loop {
                let b = self.boundary(tz, k + 1);
                if b >= to {
                    break;
                }
                k += 1;
                push_step(&mut handoffs, b, self.person(k));
            }
        }
        let Some(windows) = &self.windows else {
            return handoffs;
        };
        let mut active = Vec::new();
        for &(a, b, offset) in pieces {
            windows.active_in(a, b, offset, &mut active);
        }
        restrict(&handoffs, &active, from, to)
    }
}

/// `steps` where `active` (sorted disjoint intervals) holds, nobody elsewhere.
fn restrict<'a>(steps: &Steps<'a>, active: &[(i64, i64)], from: i64, to: i64) -> Steps<'a> {
    let mut points: Vec<i64> = steps.iter().map(|s| s.0).collect();
    points.extend(active.iter().flat_map(|&(s, e)| [s, e]));
    points.push(from);
    points.sort_unstable();
    points.dedup();
    let (mut si, mut ai) = (0usize, 0usize);
    let mut out = Vec::new();
    for p in points.into_iter().filter(|&p| p >= from && p < to) {
        while si + 1 < steps.len() && steps[si + 1].0 <= p {
            si += 1;
        }
        while ai < active.len() && active[ai].1 <= p {
            ai += 1;
        }
        let on = active.get(ai).is_some_and(|&(s, _)| s <= p);
        let who = if on {
            steps.get(si).and_then(|s| s.1)
        } else {
            None
        };
        push_step(&mut out, p, who);
    }
    out
}
