//! "Who is on call now": for each schedule, the person on call at an instant and when their
//! shift ends. Pure (the caller passes the catalog, the overrides and the instant); the API,
//! `tocsin oncall`, the home, team and service pages and the handbook all show this.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::Serialize;
use utoipa::ToSchema;

use crate::catalog::Catalog;
use crate::escalation::{EscalationPolicy, Target};

use super::rotation::Resolver;
use super::{Override, Schedule};

/// How far ahead a shift's end is looked for. A shift running past it has `until: None`;
/// five weeks covers any weekly rotation of one person with an override on top.
pub const HORIZON_MS: i64 = 35 * 24 * 60 * 60 * 1000;

/// One schedule's on-call person at an instant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct OnCall {
    pub schedule: String,
    pub schedule_name: String,
    pub team: String,
    pub time_zone: String,
    /// The person's id; None when nobody is on call (a coverage gap).
    pub person: Option<String>,
    pub person_name: Option<String>,
    /// When this shift (or gap) ends, ms since the epoch; None when it runs past five weeks
    /// (or the schedule cannot be resolved).
    pub until: Option<i64>,
}

/// Who is on call on `schedule` at `at`, and until when. A schedule that cannot be resolved
/// (validation keeps those out of the catalog) shows nobody rather than failing a page.
pub fn on_call(catalog: &Catalog, overrides: &[Override], schedule: &Schedule, at: i64) -> OnCall {
    let resolved = Resolver::new(schedule).ok().and_then(|r| {
        let horizon = at.saturating_add(HORIZON_MS);
        let first = r.shifts(overrides, at, horizon).ok()?.into_iter().next()?;
        Some((first.person, (first.end < horizon).then_some(first.end)))
    });
    let (person, until) = resolved.unwrap_or((None, None));
    OnCall {
        schedule: schedule.id.clone(),
        schedule_name: schedule.name.clone(),
        team: schedule.team.clone(),
        time_zone: schedule.time_zone.clone(),
        person_name: person.as_deref().map(|p| person_name(catalog, p)),
        person,
        until,
    }
}

/// [`on_call`] for every schedule, by schedule name.
pub fn everyone(catalog: &Catalog, overrides: &[Override], at: i64) -> Vec<OnCall> {
    let mut all: Vec<OnCall> = catalog
        .schedules
        .iter()
        .map(|s| on_call(catalog, overrides, s, at))
        .collect();
    all.sort_by(|a, b| a.schedule_name.cmp(&b.schedule_name));
    all
}

/// The schedules a policy pages, in level and target order, each once.
pub fn schedules_of(policy: &EscalationPolicy) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for t in policy.levels.iter().flat_map(|l| &l.targets) {
        if let Target::Schedule(id) = t
            && !out.contains(&id.as_str())
        {
            out.push(id);
        }
    }
    out
}

/// The schedules that answer for team `team`: those its policy pages, then its own.
pub fn schedules_for_team<'c>(catalog: &'c Catalog, team: &str) -> Vec<&'c Schedule> {
    let mut ids: Vec<&str> = catalog
        .team(team)
        .and_then(|t| t.escalation_policy.as_deref())
        .and_then(|p| catalog.escalation_policy(p))
        .map(schedules_of)
        .unwrap_or_default();
    for s in catalog.schedules.iter().filter(|s| s.team == team) {
        if !ids.contains(&s.id.as_str()) {
            ids.push(&s.id);
        }
    }
    ids.into_iter()
        .filter_map(|id| catalog.schedule(id))
        .collect()
}

/// A person's display name, or their id when the catalog has no such person.
pub fn person_name(catalog: &Catalog, id: &str) -> String {
    catalog
        .person(id)
        .map_or_else(|| id.to_string(), |p| p.name.clone())
}

/// An instant as people in `time_zone` read it: `Mon 24 Jun 09:00 BST`. Falls back to UTC
/// for an unknown zone.
pub fn local_time(ms: i64, time_zone: &str) -> String {
    let tz = TimeZone::get(time_zone).unwrap_or(TimeZone::UTC);
    Timestamp::from_millisecond(ms)
        .map(|t| t.to_zoned(tz).strftime("%a %-d %b %H:%M %Z").to_string())
        .unwrap_or_else(|_| ms.to_string())
}

/// [`OnCall`] shaped for a page: names resolved, the end in the schedule's zone.
pub struct OnCallView {
    pub schedule: String,
    pub schedule_name: String,
    pub team: String,
    pub team_name: String,
    /// Empty when nobody is on call.
    pub person: String,
    pub person_name: String,
    /// `Mon 24 Jun 09:00 BST`, or empty when the shift runs past the horizon.
    pub until: String,
}

impl OnCallView {
    pub fn new(catalog: &Catalog, o: &OnCall) -> Self {
        Self {
            schedule: o.schedule.clone(),
            schedule_name: o.schedule_name.clone(),
            team: o.team.clone(),
            team_name: catalog
                .team(&o.team)
                .map_or_else(|| o.team.clone(), |t| t.name.clone()),
            person: o.person.clone().unwrap_or_default(),
            person_name: o.person_name.clone().unwrap_or_default(),
            until: o
                .until
                .map(|u| local_time(u, &o.time_zone))
                .unwrap_or_default(),
        }
    }
}
