//! Severity levels (Sev 0, Sev 1, …): how bad an incident is, as config as code. Each level
//! carries what people need to classify one (a description and example scenarios), its
//! response target ("business critical": acknowledged within 5 minutes; "urgent": within 30),
//! which incoming alert severities it covers (their response target comes from here), when an
//! incident of this level is declared, and how often stakeholders hear from the team.
//!
//! Listed most severe first; the position is the order people read them in (1e of the
//! handbook). The pure lookups here are what the engine and the web pages use.

pub mod store;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::alerts::Severity as AlertSeverity;
use crate::catalog::Catalog;

/// One severity level.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SeverityLevel {
    /// `sev0`, `sev1`…
    pub id: String,
    /// "Sev 0".
    pub name: String,
    /// What this level means for the business: "business critical", "urgent".
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub urgency: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Situations that are this severity ("unable to check out products already in the cart").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<String>,
    /// Minutes within which an alert or incident of this level must be acknowledged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_target_minutes: Option<u32>,
    /// Incoming alerts of these severities get this level's response target.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alert_severities: Vec<AlertSeverity>,
    /// When an incident is declared for an alert of this level.
    #[serde(default, skip_serializing_if = "Declare::is_manual")]
    pub declare: Declare,
    /// Minutes between stakeholder updates while an incident of this level is open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_every_minutes: Option<u32>,
    /// Business days after resolution within which the incident's postmortem is due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postmortem_due_days: Option<u32>,
}

/// When an incident is declared: `immediately`, `{after_minutes: N}` without progress, or
/// `manually` (the default: people decide).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Declare {
    #[default]
    Manually,
    Immediately,
    AfterMinutes(u32),
}

impl Declare {
    pub fn is_manual(&self) -> bool {
        *self == Self::Manually
    }

    /// "declared at once", "after 15 minutes without progress", "by a person".
    pub fn describe(&self) -> String {
        match self {
            Self::Manually => "when a person decides".into(),
            Self::Immediately => "at once".into(),
            Self::AfterMinutes(m) => format!("after {m} minutes without progress"),
        }
    }
}

impl Catalog {
    pub fn severity(&self, id: &str) -> Option<&SeverityLevel> {
        self.severities.iter().find(|s| s.id == id)
    }
}

/// The level that covers alerts of severity `s`, if any.
pub fn for_alert(levels: &[SeverityLevel], s: Option<AlertSeverity>) -> Option<&SeverityLevel> {
    let s = s?;
    levels.iter().find(|l| l.alert_severities.contains(&s))
}

/// How long an alert of severity `s` may stay unacknowledged, in milliseconds.
pub fn response_target_ms(levels: &[SeverityLevel], s: Option<AlertSeverity>) -> Option<i64> {
    let minutes = for_alert(levels, s)?.response_target_minutes?;
    Some(i64::from(minutes) * 60_000)
}

/// "5 minutes", "1 hour 30 minutes".
pub fn minutes_label(m: u32) -> String {
    let (h, m) = (m / 60, m % 60);
    let part = |n: u32, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    match (h, m) {
        (0, m) => part(m, "minute"),
        (h, 0) => part(h, "hour"),
        (h, m) => format!("{} {}", part(h, "hour"), part(m, "minute")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level(id: &str, target: Option<u32>, alerts: &[AlertSeverity]) -> SeverityLevel {
        SeverityLevel {
            id: id.into(),
            name: id.into(),
            urgency: String::new(),
            description: String::new(),
            examples: vec![],
            response_target_minutes: target,
            alert_severities: alerts.to_vec(),
            declare: Declare::Manually,
            update_every_minutes: None,
            postmortem_due_days: None,
        }
    }

    #[test]
    fn an_alert_takes_the_target_of_the_level_that_covers_its_severity() {
        let levels = [
            level("sev0", Some(5), &[AlertSeverity::Critical]),
            level("sev1", Some(30), &[AlertSeverity::Error]),
            level("sev2", None, &[AlertSeverity::Warning]),
        ];
        assert_eq!(
            response_target_ms(&levels, Some(AlertSeverity::Critical)),
            Some(300_000)
        );
        assert_eq!(
            response_target_ms(&levels, Some(AlertSeverity::Error)),
            Some(1_800_000)
        );
        assert_eq!(
            response_target_ms(&levels, Some(AlertSeverity::Warning)),
            None
        );
        assert_eq!(response_target_ms(&levels, Some(AlertSeverity::Info)), None);
        assert_eq!(response_target_ms(&levels, None), None);
    }

    #[test]
    fn labels() {
        assert_eq!(minutes_label(5), "5 minutes");
        assert_eq!(minutes_label(1), "1 minute");
        assert_eq!(minutes_label(60), "1 hour");
        assert_eq!(minutes_label(90), "1 hour 30 minutes");
        assert_eq!(
            Declare::AfterMinutes(15).describe(),
            "after 15 minutes without progress"
        );
    }
}
