//! Pure shaping of resolved shifts into the schedule page's two views: the two-week grid
//! (people as rows, days as columns) and the month calendar (who is on call each day). Days
//! are local days in the schedule's zone, so a 23- or 25-hour DST day is one column and a
//! Monday 09:00 handoff reads "from 09:00" on both sides of a clock change.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

use crate::catalog::Catalog;
use crate::oncall::{Schedule, Shift};

/// A column of the grid or a square of the month: one local day.
pub struct Day {
    /// `2024-06-17`, for links and tests.
    pub date: String,
    /// `Mon 17`.
    pub label: String,
    /// `Jun`.
    pub month: String,
    pub today: bool,
    pub weekend: bool,
    /// False for the squares of the month view that belong to the previous or next month.
    pub in_month: bool,
}

/// One person's (or nobody's) presence on one day.
pub struct Cell {
    /// The day, `2024-06-17`.
    pub date: String,
    /// `""` (not on call), `"on"` (the whole day), `"part"` (a handoff inside the day) or
    /// `"gap"` (nobody on call, in the gap row).
    pub state: &'static str,
    /// `all day`, `from 09:00`, `until 09:00`, `09:00–17:00`: shown on small screens.
    pub note: String,
    /// The cell's tooltip: who, which day, the note.
    pub title: String,
}

pub struct Row {
    pub id: String,
    pub name: String,
    pub cells: Vec<Cell>,
}

/// The two-week grid: `rows` in rotation order, then a row for gaps when there are any.
pub struct Grid {
    pub days: Vec<Day>,
    pub rows: Vec<Row>,
    pub gaps: Option<Row>,
}

/// Someone on call on a day of the month view.
pub struct Entry {
    /// Empty for nobody (a gap).
    pub id: String,
    pub name: String,
    pub note: String,
}

pub struct MonthDay {
    pub day: Day,
    pub entries: Vec<Entry>,
}

/// The start of local `date` in `tz` as ms (the first instant of the day, even when midnight
/// falls in a DST gap).
pub fn day_start(date: Date, tz: &TimeZone) -> i64 {
    date.to_zoned(tz.clone())
        .map(|z| z.timestamp().as_millisecond())
        .unwrap_or(0)
}

/// The Monday on or before `date`.
pub fn monday(date: Date) -> Date {
    let back = i64::from(date.weekday().to_monday_zero_offset());
    date.checked_sub(back.days()).unwrap_or(date)
}

pub fn add_days(date: Date, n: i64) -> Date {
    date.checked_add(n.days()).unwrap_or(date)
}

fn day(date: Date, today: Date, in_month: bool) -> Day {
    Day {
        date: date.to_string(),
        label: date.strftime("%a %-d").to_string(),
        month: date.strftime("%b").to_string(),
        today: date == today,
        weekend: date.weekday().to_monday_zero_offset() >= 5,
        in_month,
    }
}

fn hhmm(ms: i64, tz: &TimeZone) -> String {
    Timestamp::from_millisecond(ms)
        .map(|t| t.to_zoned(tz.clone()).strftime("%H:%M").to_string())
        .unwrap_or_default()
}

/// The parts of `[start, end)` that `who` holds, described for people: `all day`,
/// `from 09:00`, `until 09:00`, `09:00–17:00`, joined with commas. None when `who` has no part.
fn describe(
    shifts: &[Shift],
    who: Option<&str>,
    start: i64,
    end: i64,
    tz: &TimeZone,
) -> Option<(bool, String)> {
    let pieces: Vec<(i64, i64)> = shifts
        .iter()
        .filter(|s| s.person.as_deref() == who && s.start < end && s.end > start)
        .map(|s| (s.start.max(start), s.end.min(end)))
        .collect();
    match pieces.as_slice() {
        [] => None,
        [(s, e)] if *s == start && *e == end => Some((true, "all day".into())),
        _ => Some((
            false,
            pieces
                .iter()
                .map(|&(s, e)| match (s == start, e == end) {
                    (true, _) => format!("until {}", hhmm(e, tz)),
                    (_, true) => format!("from {}", hhmm(s, tz)),
                    _ => format!("{}–{}", hhmm(s, tz), hhmm(e, tz)),
                })
                .collect::<Vec<_>>()
                .join(", "),
        )),
    }
}

/// The people a schedule's grid shows: its layers' people in rotation order, then anyone else
/// the shifts put on call (overrides).
fn people<'a>(schedule: &'a Schedule, shifts: &'a [Shift]) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    let layered = schedule.layers.iter().flat_map(|l| l.people.iter());
    let covering = shifts.iter().filter_map(|s| s.person.as_ref());
    for p in layered.chain(covering) {
        if !out.contains(&p.as_str()) {
            out.push(p);
        }
    }
    out
}

/// The grid of `days` local days from `first`; `shifts` must cover them.
pub fn grid(
    c: &Catalog,
    schedule: &Schedule,
    tz: &TimeZone,
    shifts: &[Shift],
    first: Date,
    days: i64,
    today: Date,
) -> Grid {
    let dates: Vec<Date> = (0..days).map(|i| add_days(first, i)).collect();
    let bounds: Vec<(i64, i64)> = dates
        .iter()
        .map(|&d| (day_start(d, tz), day_start(add_days(d, 1), tz)))
        .collect();
    let row = |who: Option<&str>, name: &str| Row {
        id: who.unwrap_or_default().to_string(),
        name: name.to_string(),
        cells: dates
            .iter()
            .zip(&bounds)
            .map(
                |(d, &(start, end))| match describe(shifts, who, start, end, tz) {
                    None => Cell {
                        date: d.to_string(),
                        state: "",
                        note: String::new(),
                        title: String::new(),
                    },
                    Some((whole, note)) => Cell {
                        date: d.to_string(),
                        state: if who.is_none() {
                            "gap"
                        } else if whole {
                            "on"
                        } else {
                            "part"
                        },
                        title: format!("{name}, {}: {note}", d.strftime("%a %-d %b")),
                        note,
                    },
                },
            )
            .collect(),
    };
    let rows = people(schedule, shifts)
        .into_iter()
        .map(|p| {
            let name = c.person(p).map_or(p, |x| &x.name);
            row(Some(p), name)
        })
        .collect();
    let gaps = row(None, "Nobody on call");
    Grid {
        days: dates.iter().map(|&d| day(d, today, true)).collect(),
        rows,
        gaps: gaps
            .cells
            .iter()
            .any(|x| !x.state.is_empty())
            .then_some(gaps),
    }
}

/// The month of `first_of_month` as weeks of seven days (Monday first), with who is on call
/// each day in the order they are; `shifts` must cover the six weeks shown.
pub fn month(
    c: &Catalog,
    tz: &TimeZone,
    shifts: &[Shift],
    first_of_month: Date,
    today: Date,
) -> Vec<Vec<MonthDay>> {
    let start = monday(first_of_month);
    let last = first_of_month.last_of_month();
    let mut weeks = Vec::new();
    let mut d = start;
    while d <= last {
        let mut week = Vec::with_capacity(7);
        for _ in 0..7 {
            let (from, to) = (day_start(d, tz), day_start(add_days(d, 1), tz));
            let mut entries: Vec<Entry> = Vec::new();
            for s in shifts.iter().filter(|s| s.start < to && s.end > from) {
                let who = s.person.as_deref();
                if entries.iter().any(|e| who.unwrap_or_default() == e.id) {
                    continue;
                }
                if let Some((_, note)) = describe(shifts, who, from, to, tz) {
                    entries.push(Entry {
                        id: who.unwrap_or_default().to_string(),
                        name: who.map_or("Nobody on call".into(), |p| {
                            c.person(p)
                                .map_or_else(|| p.to_string(), |x| x.name.clone())
                        }),
                        note,
                    });
                }
            }
            week.push(MonthDay {
                day: day(d, today, d.month() == first_of_month.month()),
                entries,
            });
            d = add_days(d, 1);
        }
        weeks.push(week);
    }
    weeks
}
