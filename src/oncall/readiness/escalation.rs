//! The escalation check of the readiness audit: for every level of every policy, who it
//! reaches at each instant of the window (schedule targets change at handoffs; people and
//! teams do not), so a level that reaches nobody even for an hour is found, and so is a last
//! level that reaches one person when the policy does not start over.

use jiff::tz::TimeZone;

use crate::catalog::Catalog;
use crate::escalation::Target;

use super::{Finding, Options, Resolved, Severity, hours, local};

pub(super) fn check(out: &mut Vec<Finding>, c: &Catalog, all: &[Resolved], o: &Options) {
    let shifts_of = |id: &str| all.iter().find(|r| r.id == id);
    for policy in &c.escalation_policies {
        let last = policy.levels.len().saturating_sub(1);
        for (n, level) in policy.levels.iter().enumerate() {
            let mut points = vec![o.from];
            for t in &level.targets {
                if let Target::Schedule(id) = t {
                    points.extend(
                        shifts_of(id)
                            .into_iter()
                            .flat_map(|r| r.window.iter().map(|s| s.start)),
                    );
                }
            }
            points.sort_unstable();
            points.dedup();
            let ends: Vec<i64> = points.iter().skip(1).copied().chain([o.to]).collect();
            let (mut empty, mut alone) = (Vec::new(), None);
            for (&at, &end) in points.iter().zip(&ends) {
                let mut who: Vec<&str> = Vec::new();
                for t in &level.targets {
                    match t {
                        Target::Person(p) => who.push(p),
                        Target::Team(team) => who.extend(
                            c.people
                                .iter()
                                .filter(|p| p.teams.contains(team))
                                .map(|p| p.id.as_str()),
                        ),
                        Target::Schedule(id) => who.extend(shifts_of(id).and_then(|r| {
                            r.window
                                .iter()
                                .find(|s| s.start <= at && at < s.end)?
                                .person
                                .as_deref()
                        })),
                    }
                }
                who.sort_unstable();
                who.dedup();
                match who.as_slice() {
                    [] => empty.push((at, end)),
                    [one] if alone.is_none() => alone = Some((*one, at)),
                    _ => {}
                }
            }
            let subject = format!("policy {}", policy.id);
            if let Some(&(start, end)) = empty.first() {
                let total: i64 = empty.iter().map(|(s, e)| e - s).sum();
                out.push(Finding {
                    severity: Severity::Error,
                    check: "escalation",
                    subject: subject.clone(),
                    message: format!(
                        "{}: level {} reaches nobody for {} of the window, first {} → {}",
                        policy.name,
                        n,
                        hours(total),
                        local(start, &TimeZone::UTC),
                        local(end, &TimeZone::UTC)
                    ),
                });
            }
            if let (true, 0, Some((one, at))) = (n == last, policy.repeat, alone) {
                let name = c.person(one).map_or(one, |p| &p.name);
                out.push(Finding {
                    severity: Severity::Warning,
                    check: "escalation",
                    subject,
                    message: format!(
                        "{}: the last level (level {}) reaches only {name} (from {}) and the \
                         policy does not repeat: nobody else is tried if they miss the page",
                        policy.name,
                        n,
                        local(at, &TimeZone::UTC)
                    ),
                });
            }
        }
    }
}
