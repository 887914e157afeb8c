//! Escalation policies: who is notified, in what order, and how long each level gets before
//! the next is tried. A level notifies one or more targets (a schedule's on-call person, a
//! named person, a whole team) and waits `escalate_after_minutes`; after the last level the
//! policy starts over, `repeat` more times. Teams point at a policy; a service may override
//! its owner team's. Config as code, part of the catalog snapshot.

pub mod engine;
pub mod resolve;
pub mod store;
pub mod web;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An escalation policy ("SRE default": on-call SRE, then Adam after 5 minutes, then Jacob).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EscalationPolicy {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    pub levels: Vec<Level>,
    /// How many times the whole policy runs again after the last level (0 = once through).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub repeat: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// One level of a policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Level {
    pub targets: Vec<Target>,
    /// Minutes this level is given to acknowledge before the next level is notified.
    pub escalate_after_minutes: u32,
}

/// Who a level notifies: written `{schedule: ID}`, `{person: ID}` or `{team: ID}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// Whoever is on call on this schedule at the time.
    Schedule(String),
    Person(String),
    /// Every member of the team.
    Team(String),
}

impl EscalationPolicy {
    /// The policy with no level waiting longer than `minutes` (an alert's response target).
    pub fn capped(&self, minutes: u32) -> Self {
        let mut p = self.clone();
        for level in &mut p.levels {
            level.escalate_after_minutes = level.escalate_after_minutes.min(minutes.max(1));
        }
        p
    }

    /// Minutes from the start of escalation until each level is first notified.
    pub fn level_offsets(&self) -> Vec<u64> {
        let mut at = 0u64;
        self.levels
            .iter()
            .map(|l| {
                let this = at;
                at += u64::from(l.escalate_after_minutes);
                this
            })
            .collect()
    }
}
