//! On-call resolution benchmarks: one year of shifts for a 3-layer schedule (weekly primary,
//! weekday business-hours layer, 12-hour night layer with a window past midnight, a dozen
//! overrides), and "who is on call now" across 1,000 such schedules in eight zones.
//! Run: `cargo bench --bench oncall`.

use std::error::Error;
use std::hint::black_box;
use std::time::{Duration, Instant};

use tocsin::oncall::rotation::{Resolver, on_call_at, shifts};
use tocsin::oncall::{Layer, Override, Restriction, Schedule, ShiftLength, ShiftUnit, Weekday};

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;
/// 2025-01-01T00:00:00Z.
const YEAR_START: i64 = 1_735_689_600_000;
const SCHEDULES: usize = 1_000;
const ZONES: [&str; 8] = [
    "Europe/London",
    "America/Toronto",
    "Australia/Lord_Howe",
    "America/Sao_Paulo",
    "Europe/Berlin",
    "Asia/Kolkata",
    "America/Los_Angeles",
    "Pacific/Auckland",
];

fn layer(people: Vec<String>, count: u32, unit: ShiftUnit, start: &str) -> Layer {
    Layer {
        name: format!("{count} {unit:?}"),
        people,
        shift: ShiftLength { count, unit },
        start: start.into(),
        restrictions: Vec::new(),
    }
}

/// Schedule `i`: a weekly primary of 7, a daily weekday-hours layer of 3 and a 12-hour night
/// layer of 4 (22:00–06:00 every day), so every instant crosses all three layers' logic.
fn schedule(i: usize) -> Schedule {
    let people = |prefix: &str, n: usize| -> Vec<String> {
        (0..n).map(|j| format!("{prefix}-{i}-{j}")).collect()
    };
    let weekdays = vec![
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
    ];
    let mut day = layer(people("day", 3), 1, ShiftUnit::Days, "2024-03-04T09:00");
    day.restrictions = vec![Restriction {
        days: weekdays,
        from: "09:00".into(),
        to: "17:00".into(),
    }];
    let mut night = layer(people("night", 4), 12, ShiftUnit::Hours, "2024-01-01T22:00");
    night.restrictions = vec![Restriction {
        days: vec![
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
            Weekday::Sat,
            Weekday::Sun,
        ],
        from: "22:00".into(),
        to: "06:00".into(),
    }];
    Schedule {
        id: format!("sched-{i}"),
        name: format!("Schedule {i}"),
        team: format!("team-{i}"),
        time_zone: ZONES[i % ZONES.len()].into(),
        layers: vec![
            layer(
                people("primary", 7),
                1,
                ShiftUnit::Weeks,
                "2024-06-17T09:00",
            ),
            day,
            night,
        ],
    }
}

/// A dozen overrides spread over the year: half cover anyone, half replace one person.
fn overrides(s: &Schedule) -> Vec<Override> {
    (0..12)
        .map(|k| Override {
            id: format!("ov-{k}"),
            schedule: s.id.clone(),
            start: YEAR_START + k * 30 * DAY + 5 * HOUR,
            end: YEAR_START + k * 30 * DAY + 5 * HOUR + (k % 4 + 1) * 12 * HOUR,
            person: format!("cover-{k}"),
            replaces: (k % 2 == 1).then(|| s.layers[0].people[0].clone()),
            reason: String::new(),
            created_by: "bench".into(),
            created_at: k,
        })
        .collect()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn time(
    label: &str,
    n: usize,
    mut f: impl FnMut(usize) -> Result<usize, Box<dyn Error>>,
) -> Result<(), Box<dyn Error>> {
    let mut samples = Vec::with_capacity(n);
    let mut size = 0;
    for i in 0..n {
        let start = Instant::now();
        size = black_box(f(i)?);
        samples.push(start.elapsed());
    }
    samples.sort();
    println!(
        "{label:<52} n={n:<5} p50={:>8.3} ms  p99={:>8.3} ms  max={:>8.3} ms  (result size {size})",
        percentile(&samples, 0.5).as_secs_f64() * 1e3,
        percentile(&samples, 0.99).as_secs_f64() * 1e3,
        samples[samples.len() - 1].as_secs_f64() * 1e3,
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    let one = schedule(0);
    let one_overrides = overrides(&one);
    let resolver = Resolver::new(&one)?;
    let year_end = YEAR_START + 365 * DAY;

    time(
        "one year of shifts, 3 layers, 12 overrides (Resolver)",
        2_000,
        |_| {
            Ok(resolver
                .shifts(black_box(&one_overrides), YEAR_START, year_end)?
                .len())
        },
    )?;
    time(
        "one year of shifts, 3 layers, no overrides (Resolver)",
        2_000,
        |_| Ok(resolver.shifts(&[], YEAR_START, year_end)?.len()),
    )?;
    time(
        "one year of shifts, parsing each time (shifts())",
        2_000,
        |_| Ok(shifts(black_box(&one), &one_overrides, YEAR_START, year_end)?.len()),
    )?;

    let all: Vec<Schedule> = (0..SCHEDULES).map(schedule).collect();
    let all_overrides: Vec<Vec<Override>> = all.iter().map(overrides).collect();
    let resolvers = all
        .iter()
        .map(Resolver::new)
        .collect::<Result<Vec<_>, _>>()?;
    // A different instant each run (7 h 13 min apart) so runs land in different shifts,
    // windows and overrides.
    let now = |i: usize| YEAR_START + i as i64 * (7 * HOUR + 13 * 60_000);
    time(
        "on call now, 1,000 schedules x 3 layers (Resolvers)",
        500,
        |i| {
            let t = now(i);
            let mut on_call = 0;
            for (r, o) in resolvers.iter().zip(&all_overrides) {
                on_call += usize::from(r.on_call_at(o, t)?.is_some());
            }
            Ok(on_call)
        },
    )?;
    time(
        "on call now, 1,000 schedules, parsing each (on_call_at())",
        100,
        |i| {
            let t = now(i);
            let mut on_call = 0;
            for (s, o) in all.iter().zip(&all_overrides) {
                on_call += usize::from(on_call_at(s, o, t)?.is_some());
            }
            Ok(on_call)
        },
    )?;
    time("Resolver::new for 1,000 schedules", 100, |_| {
        Ok(all.iter().map(Resolver::new).filter(Result::is_ok).count())
    })?;
    Ok(())
}
