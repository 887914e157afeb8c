//! The catalog's view of an incident, pure: which business functions fail with its services,
//! and which severity that suggests. People decide the severity; Tocsin only proposes one
//! with its reason ("checkout-api is Tier 0 and Checkout, a critical function, depends on
//! it"), so the suggestion must be explainable.

use serde::Serialize;
use utoipa::ToSchema;

use crate::alerts::Severity as AlertSeverity;
use crate::catalog::snapshot::Snapshot;
use crate::severity;

use super::ImpactedFunction;

/// The business functions that fail when `services` fail, each once, most critical first.
pub fn impacted_functions(snap: &Snapshot, services: &[String]) -> Vec<ImpactedFunction> {
    let mut out: Vec<ImpactedFunction> = Vec::new();
    for s in services {
        let Some(impact) = snap.impact(s) else {
            continue;
        };
        for f in impact.business_functions {
            if !out.iter().any(|o| o.id == f.id) {
                out.push(ImpactedFunction {
                    id: f.id,
                    name: f.name,
                    criticality: f.criticality,
                });
            }
        }
    }
    let rank = |c: &str| {
        ["critical", "high", "medium", "low"]
            .iter()
            .position(|x| *x == c)
    };
    out.sort_by(|a, b| {
        rank(&a.criticality)
            .cmp(&rank(&b.criticality))
            .then(a.name.cmp(&b.name))
    });
    out
}

/// A proposed severity and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Suggestion {
    pub severity: String,
    pub reason: String,
}

/// Proposes a level for an incident on `services`, whose alerts (if any) have the worst
/// severity `alert`. Levels are most severe first:
/// - a Tier 0 service that a critical business function depends on → the first level;
/// - a critical or high business function impacted → the second level (or the first);
/// - otherwise the level that covers the alert's severity, else the least severe level.
///
/// The most severe of the catalog's and the alert's answers wins.
pub fn severity(
    snap: &Snapshot,
    services: &[String],
    alert: Option<AlertSeverity>,
) -> Option<Suggestion> {
    let levels = &snap.catalog.severities;
    let last = levels.len().checked_sub(1)?;
    let mut best: Option<(usize, String)> = None;
    let consider = |best: &mut Option<(usize, String)>, index: usize, reason: String| {
        if best.as_ref().is_none_or(|(i, _)| index < *i) {
            *best = Some((index, reason));
        }
    };
    for id in services {
        let (Some(service), Some(impact)) = (snap.service(id), snap.impact(id)) else {
            continue;
        };
        let critical = impact
            .business_functions
            .iter()
            .find(|f| f.criticality == "critical");
        let high = impact
            .business_functions
            .iter()
            .find(|f| f.criticality == "critical" || f.criticality == "high");
        match (service.tier, critical, high) {
            (0, Some(f), _) => consider(
                &mut best,
                0,
                format!(
                    "{} is Tier 0 and {}, a critical business function, depends on it",
                    service.name, f.name
                ),
            ),
            (_, _, Some(f)) => consider(
                &mut best,
                1.min(last),
                format!(
                    "{} fails with {} ({} business function)",
                    f.name, service.name, f.criticality
                ),
            ),
            _ => {}
        }
    }
    if let Some(level) = severity::for_alert(levels, alert)
        && let Some(i) = levels.iter().position(|l| l.id == level.id)
    {
        {
            let s = crate::alerts::store::severity_str(alert.unwrap_or(AlertSeverity::Info));
            consider(
                &mut best,
                i,
                format!("the alert is {s}, which {} covers", level.name),
            );
        }
    }
    if best.is_none() {
        consider(
            &mut best,
            last,
            "no critical business function is affected".into(),
        );
    }
    best.map(|(i, reason)| Suggestion {
        severity: levels[i].id.clone(),
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;

    fn shop() -> Snapshot {
        let loaded = crate::config::load(crate::cli::example_sources(), &Catalog::default())
            .expect("the example loads");
        Snapshot::new(loaded.catalog)
    }

    #[test]
    fn a_tier_0_service_behind_a_critical_function_suggests_the_first_level() {
        let snap = shop();
        let tier0 = snap
            .services
            .iter()
            .find(|s| {
                s.tier == 0
                    && snap.impact(&s.id).is_some_and(|i| {
                        i.business_functions
                            .iter()
                            .any(|f| f.criticality == "critical")
                    })
            })
            .expect("the example has a Tier 0 service behind a critical function");
        let s = severity(&snap, std::slice::from_ref(&tier0.id), None).unwrap();
        assert_eq!(s.severity, "sev0");
        assert!(s.reason.contains("Tier 0"), "{}", s.reason);
    }

    #[test]
    fn an_alert_only_suggestion_follows_the_alert_severity() {
        let snap = shop();
        let s = severity(&snap, &[], Some(AlertSeverity::Error)).unwrap();
        assert_eq!(s.severity, "sev1");
        let s = severity(&snap, &[], None).unwrap();
        assert_eq!(s.severity, "sev2");
    }

    #[test]
    fn impacted_functions_are_listed_once_most_critical_first() {
        let snap = shop();
        let all: Vec<String> = snap.services.iter().map(|s| s.id.clone()).collect();
        let f = impacted_functions(&snap, &all);
        let ids: std::collections::HashSet<_> = f.iter().map(|x| &x.id).collect();
        assert_eq!(ids.len(), f.len());
        assert!(!f.is_empty());
        assert_eq!(f[0].criticality, "critical");
    }
}
