//! Pure schedule resolution: who is on call at an instant, and the shifts over a range.
//! No clock reads: every function takes the instants it needs.
//!
//! [`Resolver`] parses a schedule once (zone, first handoffs, windows); callers resolving many
//! instants or ranges (the engine, the calendar feed, "who is on call now" across every
//! schedule) keep one per schedule. [`on_call_at`] and [`shifts`] are one-shot wrappers.
//!
//! Semantics where the model leaves room (the DST ones are in `layer.rs` and
//! `restriction.rs`):
//! - Layers: the last layer that has someone at the instant wins.
//! - Overrides apply on top of the layers one after another in creation order (`created_at`,
//!   ties in slice order), each to the result *so far*: an override with `replaces: X` applies
//!   where X is on call after the layers and the earlier overrides. This is what makes chained
//!   swaps work (Alice takes Bob's week, then Carol takes Tuesday from Alice: Carol is paged on
//!   Tuesday, not Alice who has handed it on). Overrides of other schedules (by `schedule` id)
//!   and empty ones (`end <= start`) are ignored.
//! - `shifts` covers exactly `[from, to)`; `from == to` gives no shifts, `from > to` is an
//!   error.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::layer::{LayerPlan, Problem, Steps, push_step};
use super::{Override, Schedule, Shift};

/// Why a schedule cannot be resolved (validation rejects these before they are stored).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("unknown time zone {0:?}")]
    TimeZone(String),
    #[error("layer {layer:?}: {message}")]
    Layer { layer: String, message: String },
    /// An instant outside the range the time-zone database covers (years -9999 to 9999).
    #[error("instant {0} ms is out of range")]
    Instant(i64),
    #[error("empty range: from {from} is after to {to}")]
    Range { from: i64, to: i64 },
}

/// A schedule parsed for resolution. Build once per schedule version; resolving is then
/// allocation-free for [`Resolver::on_call_at`] without overrides at the instant.
#[derive(Clone, Debug)]
pub struct Resolver {
    schedule_id: String,
    tz: TimeZone,
    layers: Vec<LayerPlan>,
}

/// Checks a schedule for everything resolution needs, as (field path, message) pairs such as
/// `("layers[0].start", "expected a local date and time …")`. Empty means it resolves.
/// Person ids are checked for shape only: whether they exist, and whether there is at least
/// one layer, are the catalog validator's checks (a schedule without layers resolves to
/// nobody), so wiring this in does not report them twice.
pub fn validate_schedule(schedule: &Schedule) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    let tz = TimeZone::get(&schedule.time_zone).ok();
    if tz.is_none() {
        problems.push((
            "time_zone".into(),
            format!(
                "unknown time zone {:?}: expected an IANA name such as Europe/London",
                schedule.time_zone
            ),
        ));
    }
    for (i, layer) in schedule.layers.iter().enumerate() {
        LayerPlan::parse(layer, i, tz.as_ref(), &mut problems);
    }
    problems
}

fn timestamp(ms: i64) -> Result<Timestamp, ResolveError> {
    Timestamp::from_millisecond(ms).map_err(|_| ResolveError::Instant(ms))
}

impl Resolver {
    /// Parses the schedule; the first problem [`validate_schedule`] would report is the error.
    /// A schedule without layers resolves (to nobody), though validation rejects it.
    pub fn new(schedule: &Schedule) -> Result<Resolver, ResolveError> {
        let tz = TimeZone::get(&schedule.time_zone)
            .map_err(|_| ResolveError::TimeZone(schedule.time_zone.clone()))?;
        let mut layers = Vec::with_capacity(schedule.layers.len());
        for (i, layer) in schedule.layers.iter().enumerate() {
            let mut problems: Vec<Problem> = Vec::new();
            match LayerPlan::parse(layer, i, Some(&tz), &mut problems) {
                Some(plan) if problems.is_empty() => layers.push(plan),
                _ => {
                    let message = problems
                        .first()
                        .map(|(field, message)| format!("{field}: {message}"))
                        .unwrap_or_else(|| "cannot be resolved".into());
                    return Err(ResolveError::Layer {
                        layer: layer.name.clone(),
                        message,
                    });
                }
            }
        }
        Ok(Resolver {
            schedule_id: schedule.id.clone(),
            tz,
            layers,
        })
    }

    pub fn time_zone(&self) -> &TimeZone {
        &self.tz
    }

    /// Who the layers alone put on call at `t`: the last layer with someone.
    fn layers_at(&self, ts: Timestamp, t: i64) -> Option<&str> {
        self.layers
            .iter()
            .rev()
            .find_map(|layer| layer.who_at(&self.tz, ts, t))
    }

    /// This schedule's non-empty overrides touching `[from, to)`, in creation order.
    fn relevant<'o>(&self, overrides: &'o [Override], from: i64, to: i64) -> Vec<&'o Override> {
        let mut out: Vec<&Override> = overrides
            .iter()
            .filter(|o| {
                o.schedule == self.schedule_id && o.start < o.end && o.start < to && o.end > from
            })
            .collect();
        // Stable: equal `created_at` keeps the caller's order.
        out.sort_by_key(|o| o.created_at);
        out
    }

    /// The person on call at `at` (ms since the epoch), overrides included.
    pub fn on_call_at<'a>(
        &'a self,
        overrides: &'a [Override],
        at: i64,
    ) -> Result<Option<&'a str>, ResolveError> {
        let ts = timestamp(at)?;
        let mut who = self.layers_at(ts, at);
        // `relevant` allocates only when an override covers the instant.
        for o in self.relevant(overrides, at, at.saturating_add(1)) {
            who = apply(o, who);
        }
        Ok(who)
    }

    /// The contiguous, ordered shifts covering `[from, to)`, overrides included; adjacent
    /// ranges with the same person are merged, gaps are shifts with `person: None`. Walks the
    /// boundaries (handoffs, window edges, zone transitions, override edges) instead of
    /// sampling, so a year costs a few hundred zone conversions.
    pub fn shifts(
        &self,
        overrides: &[Override],
        from: i64,
        to: i64,
    ) -> Result<Vec<Shift>, ResolveError> {
        if from > to {
            return Err(ResolveError::Range { from, to });
        }
        let from_ts = timestamp(from)?;
        timestamp(to)?;
        if from == to {
            return Ok(Vec::new());
        }
        let pieces = if self.layers.iter().any(|l| l.windows().is_some()) {
            self.pieces(from_ts, from, to)
        } else {
            Vec::new()
        };
        let layer_steps: Vec<Steps<'_>> = self
            .layers
            .iter()
            .map(|l| l.steps(&self.tz, from, to, &pieces))
            .collect();
        let overrides = self.relevant(overrides, from, to);

        let mut points: Vec<i64> = layer_steps.iter().flatten().map(|s| s.0).collect();
        points.extend(overrides.iter().flat_map(|o| [o.start, o.end]));
        points.push(from);
        points.retain(|&p| p >= from && p < to);
        points.sort_unstable();
        points.dedup();

        let mut cursors = vec![0usize; layer_steps.len()];
        let mut steps: Steps<'_> = Vec::new();
        for p in points {
            // Later layers first; each cursor only moves forward, so the sweep is linear.
            let mut who = None;
            for (layer, cursor) in layer_steps.iter().zip(cursors.iter_mut()).rev() {
                while layer.get(*cursor + 1).is_some_and(|s| s.0 <= p) {
                    *cursor += 1;
                }
                if let Some(w) = layer.get(*cursor).and_then(|s| s.1) {
                    who = Some(w);
                    break;
                }
            }
            for o in overrides.iter().filter(|o| o.start <= p && p < o.end) {
                who = apply(o, who);
            }
            push_step(&mut steps, p, who);
        }

        let ends = steps.iter().skip(1).map(|s| s.0).chain([to]);
        Ok(steps
            .iter()
            .zip(ends)
            .map(|(&(start, who), end)| Shift {
                start,
                end,
                person: who.map(str::to_owned),
            })
            .collect())
    }

    /// `[from, to)` split at the zone's transitions: `(start, end, offset_ms)` ranges in which
    /// the offset is constant, so window edges map to instants by plain arithmetic.
    fn pieces(&self, from_ts: Timestamp, from: i64, to: i64) -> Vec<(i64, i64, i64)> {
        let mut out = Vec::new();
        let mut start = from;
        let mut offset = i64::from(self.tz.to_offset(from_ts).seconds()) * 1000;
        for transition in self.tz.following(from_ts) {
            let at = transition.timestamp().as_millisecond();
            if at >= to {
                break;
            }
            out.push((start, at, offset));
            start = at;
            offset = i64::from(transition.offset().seconds()) * 1000;
        }
        out.push((start, to, offset));
        out
    }
}

/// One override on top of `who`, the result so far.
fn apply<'a>(o: &'a Override, who: Option<&'a str>) -> Option<&'a str> {
    match o.replaces.as_deref() {
        Some(replaced) if who != Some(replaced) => who,
        _ => Some(o.person.as_str()),
    }
}

/// The person on call on `schedule` at `at` (ms since the epoch), overrides included.
/// Parses the schedule on every call: use a [`Resolver`] to resolve many instants.
pub fn on_call_at(
    schedule: &Schedule,
    overrides: &[Override],
    at: i64,
) -> Result<Option<String>, ResolveError> {
    Ok(Resolver::new(schedule)?
        .on_call_at(overrides, at)?
        .map(str::to_owned))
}

/// The contiguous, ordered shifts covering [from, to), overrides included; adjacent ranges
/// with the same person are merged, and gaps are shifts with `person: None`.
pub fn shifts(
    schedule: &Schedule,
    overrides: &[Override],
    from: i64,
    to: i64,
) -> Result<Vec<Shift>, ResolveError> {
    Resolver::new(schedule)?.shifts(overrides, from, to)
}
