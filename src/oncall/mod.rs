//! On-call schedules: who answers, when. A schedule belongs to a team, has an IANA time zone
//! and one or more layers; a layer rotates through people with a fixed shift length from a
//! first handoff, optionally only inside weekly time windows (business hours, follow the sun).
//! Later layers win where they have someone on call. Overrides (operational data, not config)
//! replace whoever is on call for a time range.
//!
//! Schedules are config as code (part of the catalog snapshot); resolution (`rotation.rs`) is a
//! pure function of (schedule, overrides, instant) and never reads the clock.

pub mod api;
pub mod current;
pub mod feeds;
pub mod ical;
mod layer;
pub mod overrides;
#[cfg(test)]
mod proptests;
pub mod readiness;
mod restriction;
pub mod rotation;
pub mod store;
#[cfg(test)]
mod tests;
pub mod web;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A team's on-call schedule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    pub id: String,
    pub name: String,
    /// The owning team's id.
    pub team: String,
    /// IANA time zone in which handoffs and restrictions are written (e.g. `Europe/London`).
    pub time_zone: String,
    pub layers: Vec<Layer>,
}

/// One rotation: `people` take turns, each for one `shift`, starting with `people[0]` at
/// `start` (a local date and time in the schedule's zone, e.g. `2024-06-03T09:00`). Shifts of
/// days or weeks hand off at the same local wall-clock time across DST changes; shifts of hours
/// are exact durations.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Layer {
    pub name: String,
    /// Person ids, in rotation order. A person may appear more than once.
    pub people: Vec<String>,
    pub shift: ShiftLength,
    /// First handoff, local to the schedule's zone: `YYYY-MM-DDTHH:MM`.
    pub start: String,
    /// When present, the layer has someone on call only inside these weekly windows.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub restrictions: Vec<Restriction>,
}

/// A shift length: a count of hours, days or weeks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShiftLength {
    pub count: u32,
    pub unit: ShiftUnit,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ShiftUnit {
    Hours,
    Days,
    Weeks,
}

/// A weekly window in the schedule's zone: on each of `days`, from `from` to `to` (`HH:MM`).
/// `to` at or before `from` means the window runs past midnight into the next day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Restriction {
    pub days: Vec<Weekday>,
    pub from: String,
    pub to: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

/// Someone covering a time range of a schedule: `person` is on call in [start, end). With
/// `replaces`, only where that person would have been on call; without, over whoever was.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Override {
    pub id: String,
    pub schedule: String,
    /// Milliseconds since the epoch (UTC), inclusive.
    pub start: i64,
    /// Milliseconds since the epoch (UTC), exclusive.
    pub end: i64,
    pub person: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces: Option<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    pub created_by: String,
    pub created_at: i64,
}

/// A contiguous time range with one resolved on-call person (or nobody: a coverage gap).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Shift {
    /// Milliseconds since the epoch (UTC), inclusive.
    pub start: i64,
    /// Milliseconds since the epoch (UTC), exclusive.
    pub end: i64,
    /// The person on call, or None where nobody is.
    pub person: Option<String>,
}
