//! The readiness audit: is the on-call set-up able to answer over the next weeks? A pure
//! function of (catalog, overrides, window) shared by `tocsin audit`, its CI exit status and
//! the `/readiness` page. Findings and their severities, as decided:
//!
//! - **Coverage gaps** (ranges where a schedule has nobody): an *error* per gap, except on a
//!   schedule whose every layer is restricted to weekly windows (business hours), where gaps
//!   are the design; those are summarised as one *info* finding. Whether such a gap leaves a
//!   service unanswered is the escalation check's question (a level usually pairs the
//!   business-hours schedule with a 24/7 one).
//! - **Load**: a person on call for more than `max_share` of the time (default 0.167, one week
//!   in six) is a *warning*. The share is measured over the audit window widened to at least
//!   ⌈1/max_share⌉ weeks: over four weeks a single weekly shift is 25% even in a healthy
//!   rotation of seven, so a shorter window would flag everyone who is on call at all.
//! - **Overlaps**: a person on call in two schedules at the same time is a *warning* (one page
//!   may hide another; their load adds up).
//! - **Escalation**: a level that resolves to nobody at some instant of the window is an
//!   *error*; the last level of a policy that does not repeat reaching a single person is a
//!   *warning* (nobody else is tried if they miss it).
//! - **Tier 0 without policy**: a Tier 0 service whose owner team has no escalation policy and
//!   which has none of its own is an *error*: nobody is paged when the business stops.

mod escalation;

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::Serialize;

use crate::catalog::Catalog;

use super::rotation::Resolver;
use super::{Override, Shift};

const WEEK_MS: i64 = 7 * 24 * 3_600_000;
const HOUR_MS: i64 = 3_600_000;
/// One week in six, the top of the 1-in-6-to-8 rule (a hair above 1/6, so a rotation of six
/// measured over six weeks passes).
pub const DEFAULT_MAX_SHARE: f64 = 0.167;
/// Gaps listed one by one per schedule before the rest are counted.
const GAPS_LISTED: usize = 5;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warning => "warning",
            Self::Info => "info",
        }
    }
}

/// One finding: what is wrong, where (`subject`, e.g. `schedule sre-primary`), how bad.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// `gap`, `load`, `overlap`, `escalation`, `tier0` or `schedule`.
    pub check: &'static str,
    pub subject: String,
    pub message: String,
}

/// The audit window and threshold.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Options {
    /// Milliseconds since the epoch (UTC), inclusive.
    pub from: i64,
    /// Milliseconds since the epoch (UTC), exclusive.
    pub to: i64,
    /// Largest healthy share of time on call, in (0, 1].
    pub max_share: f64,
}

impl Options {
    /// `weeks` from `from`.
    pub fn weeks(from: i64, weeks: u32, max_share: f64) -> Self {
        Self {
            from,
            to: from + i64::from(weeks) * WEEK_MS,
            max_share,
        }
    }

    /// The end of the window the load check measures (see the module documentation).
    pub fn load_to(&self) -> i64 {
        let weeks = (1.0 / self.max_share.clamp(0.001, 1.0)).ceil() as i64;
        self.to.max(self.from + weeks * WEEK_MS)
    }

    /// The range whose overrides [`audit`] needs.
    pub fn span(&self) -> (i64, i64) {
        (self.from, self.load_to())
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    pub from: i64,
    pub to: i64,
    pub max_share: f64,
    pub findings: Vec<Finding>,
}

impl Report {
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }
}

/// `Mon 17 Jun 2024 10:00 BST` in `tz`.
pub(super) fn local(ms: i64, tz: &TimeZone) -> String {
    Timestamp::from_millisecond(ms)
        .map(|t| {
            t.to_zoned(tz.clone())
                .strftime("%a %-d %b %Y %H:%M %Z")
                .to_string()
        })
        .unwrap_or_else(|_| ms.to_string())
}

pub(super) fn hours(ms: i64) -> String {
    let h = ms as f64 / HOUR_MS as f64;
    if h.fract() == 0.0 {
        format!("{h:.0} h")
    } else {
        format!("{h:.1} h")
    }
}

/// Total length of the intersection of two sorted lists of disjoint ranges, and its start.
fn intersect(a: &[(i64, i64)], b: &[(i64, i64)]) -> (i64, Option<i64>) {
    let (mut i, mut j, mut total, mut first) = (0, 0, 0, None);
    while i < a.len() && j < b.len() {
        let (start, end) = (a[i].0.max(b[j].0), a[i].1.min(b[j].1));
        if start < end {
            total += end - start;
            first = first.or(Some(start));
        }
        if a[i].1 < b[j].1 { i += 1 } else { j += 1 }
    }
    (total, first)
}

/// Length of the union of ranges.
fn union_len(mut v: Vec<(i64, i64)>) -> i64 {
    v.sort_unstable();
    let (mut total, mut reach) = (0, i64::MIN);
    for (s, e) in v {
        let s = s.max(reach);
        if e > s {
            total += e - s;
            reach = e;
        }
    }
    total
}

/// Resolved shifts of one schedule over the window and over the load window.
struct Resolved<'c> {
    id: &'c str,
    name: &'c str,
    /// Over [from, to).
    window: Vec<Shift>,
    load: Vec<Shift>,
}

/// Runs every check; findings come errors first.
pub fn audit(c: &Catalog, overrides: &[Override], o: &Options) -> Report {
    let mut out = Vec::new();
    let mut resolved = Vec::new();
    for s in &c.schedules {
        let r = Resolver::new(s).and_then(|r| {
            Ok((
                r.time_zone().clone(),
                r.shifts(overrides, o.from, o.to)?,
                r.shifts(overrides, o.from, o.load_to())?,
            ))
        });
        match r {
            Ok((tz, window, load)) => {
                gaps(&mut out, s, &tz, &window);
                resolved.push(Resolved {
                    id: &s.id,
                    name: &s.name,
                    window,
                    load,
                });
            }
            Err(e) => out.push(Finding {
                severity: Severity::Error,
                check: "schedule",
                subject: format!("schedule {}", s.id),
                message: format!("{} cannot be resolved: {e}", s.name),
            }),
        }
    }
    load_and_overlaps(&mut out, c, &resolved, o);
    escalation::check(&mut out, c, &resolved, o);
    for s in c.services.iter().filter(|s| s.tier == 0) {
        if c.policy_for_service(s).is_none() {
            let team = c
                .team(&s.owner_team)
                .map_or(s.owner_team.as_str(), |t| &t.name);
            out.push(Finding {
                severity: Severity::Error,
                check: "tier0",
                subject: format!("service {}", s.id),
                message: format!(
                    "Tier 0 service {} has no escalation policy (neither its own nor its owner \
                     team {team}'s): nobody is paged when it fails",
                    s.name
                ),
            });
        }
    }
    out.sort_by(|a, b| (a.severity, a.check, &a.subject).cmp(&(b.severity, b.check, &b.subject)));
    Report {
        from: o.from,
        to: o.to,
        max_share: o.max_share,
        findings: out,
    }
}

fn gaps(out: &mut Vec<Finding>, s: &super::Schedule, tz: &TimeZone, shifts: &[Shift]) {
    let gaps: Vec<&Shift> = shifts.iter().filter(|x| x.person.is_none()).collect();
    if gaps.is_empty() {
        return;
    }
    let subject = format!("schedule {}", s.id);
    let span = |g: &Shift| format!("{} → {}", local(g.start, tz), local(g.end, tz));
    if s.layers.iter().all(|l| !l.restrictions.is_empty()) {
        let total: i64 = gaps.iter().map(|g| g.end - g.start).sum();
        out.push(Finding {
            severity: Severity::Info,
            check: "gap",
            subject,
            message: format!(
                "{}: nobody on call outside its restricted hours ({} gaps, {} in all; first {}); \
                 by design, as every layer is restricted",
                s.name,
                gaps.len(),
                hours(total),
                span(gaps[0])
            ),
        });
        return;
    }
    for g in gaps.iter().take(GAPS_LISTED) {
        out.push(Finding {
            severity: Severity::Error,
            check: "gap",
            subject: subject.clone(),
            message: format!(
                "{}: nobody on call {} ({})",
                s.name,
                span(g),
                hours(g.end - g.start)
            ),
        });
    }
    if gaps.len() > GAPS_LISTED {
        out.push(Finding {
            severity: Severity::Error,
            check: "gap",
            subject,
            message: format!(
                "{}: {} more gaps in the window",
                s.name,
                gaps.len() - GAPS_LISTED
            ),
        });
    }
}

/// Ranges of `shifts` held by `person`.
fn ranges(shifts: &[Shift], person: &str) -> Vec<(i64, i64)> {
    shifts
        .iter()
        .filter(|s| s.person.as_deref() == Some(person))
        .map(|s| (s.start, s.end))
        .collect()
}

fn load_and_overlaps(out: &mut Vec<Finding>, c: &Catalog, all: &[Resolved], o: &Options) {
    let mut people: BTreeMap<&str, ()> = BTreeMap::new();
    for r in all {
        for s in r.load.iter().filter_map(|s| s.person.as_deref()) {
            people.insert(s, ());
        }
    }
    let length = o.load_to() - o.from;
    for &person in people.keys() {
        let name = c.person(person).map_or(person, |p| &p.name);
        let tz = c
            .person(person)
            .and_then(|p| TimeZone::get(&p.time_zone).ok())
            .unwrap_or(TimeZone::UTC);
        let on: Vec<(i64, i64)> = all.iter().flat_map(|r| ranges(&r.load, person)).collect();
        let share = union_len(on) as f64 / length as f64;
        if share > o.max_share {
            out.push(Finding {
                severity: Severity::Warning,
                check: "load",
                subject: format!("person {person}"),
                message: format!(
                    "{name} is on call {:.1}% of the {} weeks from {} (more than {:.1}%, about \
                     one week in {:.0})",
                    share * 100.0,
                    length / WEEK_MS,
                    local(o.from, &tz),
                    o.max_share * 100.0,
                    1.0 / o.max_share
                ),
            });
        }
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                let (total, first) =
                    intersect(&ranges(&a.window, person), &ranges(&b.window, person));
                if let Some(first) = first {
                    // Named in alphabetical order, so the message does not depend on file order.
                    let (x, y) = if a.name <= b.name {
                        (a.name, b.name)
                    } else {
                        (b.name, a.name)
                    };
                    out.push(Finding {
                        severity: Severity::Warning,
                        check: "overlap",
                        subject: format!("person {person}"),
                        message: format!(
                            "{name} is on call in {} and {} at the same time: {} in the window, \
                             first from {}",
                            x,
                            y,
                            hours(total),
                            local(first, &tz)
                        ),
                    });
                }
            }
        }
    }
}
