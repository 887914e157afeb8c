//! The alert-based reports, pure: response-target breaches (alerts by service and severity,
//! incidents over their severity's target) and the noisiest alert groups with whether a
//! playbook and automation cover them.

use serde::Serialize;
use utoipa::ToSchema;

use crate::alerts::Severity as AlertSeverity;
use crate::catalog::Catalog;

use super::store::{AlertGroup, IncidentFacts};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct BreachRow {
    pub service: String,
    /// The alert's own severity (critical, error…), empty when it had none.
    pub severity: String,
    pub alerts: i64,
    pub breached: i64,
}

/// An incident acknowledged later than its severity's response target (or not at all).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct LateIncident {
    pub id: i64,
    pub title: String,
    pub severity: String,
    pub target_ms: i64,
    /// None: never acknowledged.
    pub time_to_acknowledge_ms: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct BreachesReport {
    pub alerts: i64,
    pub alerts_breached: i64,
    /// Most breaches first.
    pub by_service_severity: Vec<BreachRow>,
    /// Incidents whose severity has a response target.
    pub incidents_with_target: usize,
    pub incidents_late: Vec<LateIncident>,
}

/// Incidents over their severity's response target: acknowledged after it, or not
/// acknowledged although the target passed before it was resolved (or before `now`).
pub fn late_incidents(
    items: &[IncidentFacts],
    c: &Catalog,
    now: i64,
) -> (usize, Vec<LateIncident>) {
    let mut with_target = 0;
    let mut late = Vec::new();
    for i in items {
        let Some(minutes) = c
            .severity(&i.severity)
            .and_then(|s| s.response_target_minutes)
        else {
            continue;
        };
        with_target += 1;
        let target_ms = i64::from(minutes) * 60_000;
        let tta = i.acknowledged_at.map(|a| (a - i.started_at).max(0));
        let waited = tta.unwrap_or_else(|| i.resolved_at.unwrap_or(now) - i.started_at);
        if waited > target_ms {
            late.push(LateIncident {
                id: i.id,
                title: i.title.clone(),
                severity: i.severity.clone(),
                target_ms,
                time_to_acknowledge_ms: tta,
            });
        }
    }
    (with_target, late)
}

/// Shapes the grouped alert rows; `severity` (a level id) keeps only alert severities that
/// level covers.
pub fn breaches(
    rows: &[(String, String, i64, i64)],
    (with_target, incidents_late): (usize, Vec<LateIncident>),
    c: &Catalog,
    severity: &str,
) -> BreachesReport {
    let covered: Option<Vec<&str>> = c.severity(severity).map(|l| {
        l.alert_severities
            .iter()
            .map(|s: &AlertSeverity| crate::alerts::store::severity_str(*s))
            .collect()
    });
    let mut by: Vec<BreachRow> = rows
        .iter()
        .filter(|(_, sev, _, _)| covered.as_ref().is_none_or(|c| c.contains(&sev.as_str())))
        .map(|(service, severity, alerts, breached)| BreachRow {
            service: service.clone(),
            severity: severity.clone(),
            alerts: *alerts,
            breached: *breached,
        })
        .collect();
    by.sort_by(|a, b| {
        (b.breached, b.alerts)
            .cmp(&(a.breached, a.alerts))
            .then_with(|| (&a.service, &a.severity).cmp(&(&b.service, &b.severity)))
    });
    BreachesReport {
        alerts: by.iter().map(|r| r.alerts).sum(),
        alerts_breached: by.iter().map(|r| r.breached).sum(),
        by_service_severity: by,
        incidents_with_target: with_target,
        incidents_late,
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct TopAlert {
    pub service: String,
    /// The alert rule that matched this group; empty when grouped by summary.
    pub rule: String,
    pub summary: String,
    pub alerts: i64,
    /// Events received (repeats included).
    pub events: i64,
    /// The playbook the alerts carried (else the rule's), if any.
    pub playbook: Option<String>,
    /// Whether that playbook runs an action on its own.
    pub automated: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct AlertsReport {
    /// Most alerts first.
    pub top: Vec<TopAlert>,
    /// Of those, how many have no playbook.
    pub without_playbook: usize,
}

pub fn top(groups: Vec<AlertGroup>, c: &Catalog) -> AlertsReport {
    let top: Vec<TopAlert> = groups
        .into_iter()
        .map(|g| {
            // Alerts from before a playbook was set still show the rule's current one.
            let playbook = g
                .playbook
                .or_else(|| c.alert_rule(&g.rule).and_then(|r| r.set.playbook.clone()));
            let automated = playbook
                .as_deref()
                .and_then(|p| c.playbook(p))
                .is_some_and(|p| {
                    p.steps
                        .iter()
                        .any(|s| s.action.as_ref().is_some_and(|a| a.auto))
                });
            TopAlert {
                service: g.service,
                rule: g.rule,
                summary: g.summary,
                alerts: g.alerts,
                events: g.events,
                playbook,
                automated,
            }
        })
        .collect();
    AlertsReport {
        without_playbook: top.iter().filter(|t| t.playbook.is_none()).count(),
        top,
    }
}
