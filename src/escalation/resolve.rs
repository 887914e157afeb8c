//! Pure resolution of an escalation policy at an instant: for each level, who its targets
//! stand for right now (a schedule's on-call person, a named person, a team's members). The
//! escalation matrix, `tocsin oncall`, the readiness audit and paging all read this.

use serde::Serialize;
use utoipa::ToSchema;

use crate::catalog::Catalog;
use crate::oncall::{Override, rotation};

use super::{EscalationPolicy, Target};

/// One target of a level and the people it resolves to (empty: nobody, a gap).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct ResolvedTarget {
    pub target: Target,
    pub people: Vec<String>,
}

/// A level with its position in time and its resolved targets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct ResolvedLevel {
    /// 0 for the first level.
    pub level: usize,
    /// Minutes after escalation starts when this level is first notified.
    pub notify_after_minutes: u64,
    pub escalate_after_minutes: u32,
    pub targets: Vec<ResolvedTarget>,
}

impl ResolvedLevel {
    /// Everyone this level reaches, each once, in target order.
    pub fn people(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for p in self.targets.iter().flat_map(|t| &t.people) {
            if !out.contains(&p.as_str()) {
                out.push(p);
            }
        }
        out
    }
}

/// Resolves every level of `policy` at `at` (ms since the epoch). `overrides` may hold
/// overrides of any schedule; each schedule uses its own. A schedule that cannot be resolved
/// (validation prevents this for stored ones) resolves to nobody.
pub fn resolve(
    catalog: &Catalog,
    overrides: &[Override],
    policy: &EscalationPolicy,
    at: i64,
) -> Vec<ResolvedLevel> {
    let offsets = policy.level_offsets();
    policy
        .levels
        .iter()
        .enumerate()
        .map(|(i, level)| ResolvedLevel {
            level: i,
            notify_after_minutes: offsets[i],
            escalate_after_minutes: level.escalate_after_minutes,
            targets: level
                .targets
                .iter()
                .map(|t| ResolvedTarget {
                    target: t.clone(),
                    people: people_of(catalog, overrides, t, at),
                })
                .collect(),
        })
        .collect()
}

/// The people `target` stands for at `at`.
pub fn people_of(
    catalog: &Catalog,
    overrides: &[Override],
    target: &Target,
    at: i64,
) -> Vec<String> {
    match target {
        Target::Person(id) => vec![id.clone()],
        Target::Team(id) => catalog
            .people
            .iter()
            .filter(|p| p.teams.iter().any(|t| t == id))
            .map(|p| p.id.clone())
            .collect(),
        Target::Schedule(id) => {
            let Some(schedule) = catalog.schedule(id) else {
                return Vec::new();
            };
            let own: Vec<Override> = overrides
                .iter()
                .filter(|o| o.schedule == *id)
                .cloned()
                .collect();
            rotation::on_call_at(schedule, &own, at)
                .ok()
                .flatten()
                .into_iter()
                .collect()
        }
    }
}

/// Who answers first for a service at `at`: the people of level 0 of its policy (its own or
/// its owner team's). Empty when the service has no policy or nobody is on call.
pub fn first_responders(
    catalog: &Catalog,
    overrides: &[Override],
    service: &str,
    at: i64,
) -> Vec<String> {
    let Some(policy) = catalog
        .service(service)
        .and_then(|s| catalog.policy_for_service(s))
    else {
        return Vec::new();
    };
    resolve(catalog, overrides, policy, at)
        .first()
        .map(|l| l.people().into_iter().map(String::from).collect())
        .unwrap_or_default()
}
