//! The incident-based reports, pure: response times grouped four ways, and incident counts
//! per service and tier. Durations follow `incidents::metrics` (from the start of the
//! trouble); an incident not yet acknowledged or resolved adds nothing to that mean. `Stats`
//! is the count, mean and median of durations; the median of an even count is the mean of the
//! two middle values (rounded down to the millisecond), as people compute it by hand.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use crate::catalog::Catalog;
use crate::incidents::metrics;

use super::store::IncidentFacts;

/// Response times of one group of incidents.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Group {
    /// The severity id, service id, team id or month (YYYY-MM, UTC).
    pub key: String,
    pub label: String,
    pub incidents: usize,
    /// Time to acknowledge (MTTA and its median).
    pub acknowledge: Stats,
    pub declare: Stats,
    /// Time to resolve (MTTR and its median).
    pub resolve: Stats,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct ResponseReport {
    pub overall: Group,
    pub by_severity: Vec<Group>,
    pub by_service: Vec<Group>,
    /// By the owner team of each incident's services (an incident counts once per team).
    pub by_team: Vec<Group>,
    pub by_month: Vec<Group>,
}

fn group(key: String, label: String, items: &[&IncidentFacts]) -> Group {
    let mut ack = Vec::new();
    let mut declare = Vec::new();
    let mut resolve = Vec::new();
    for i in items {
        let m = metrics::of(&as_incident(i));
        ack.extend(m.time_to_acknowledge_ms);
        declare.push(m.time_to_declare_ms);
        resolve.extend(m.time_to_resolve_ms);
    }
    Group {
        key,
        label,
        incidents: items.len(),
        acknowledge: Stats::of(&ack),
        declare: Stats::of(&declare),
        resolve: Stats::of(&resolve),
    }
}

/// The facts as an `Incident`, so the metrics come from the one definition.
fn as_incident(i: &IncidentFacts) -> crate::incidents::Incident {
    crate::incidents::Incident {
        id: i.id,
        title: String::new(),
        summary: String::new(),
        status: crate::incidents::Status::Investigating,
        severity: i.severity.clone(),
        source: String::new(),
        declared_at: i.declared_at,
        declared_by: String::new(),
        started_at: i.started_at,
        acknowledged_at: i.acknowledged_at,
        mitigated_at: None,
        resolved_at: i.resolved_at,
        closed_at: None,
        channel_kind: None,
        channel_url: None,
        last_update_at: None,
        update_due_at: None,
        lapses: 0,
        updated_at: 0,
    }
}

/// "2026-09" (UTC).
pub fn month(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| {
            t.to_zoned(jiff::tz::TimeZone::UTC)
                .strftime("%Y-%m")
                .to_string()
        })
        .unwrap_or_default()
}

/// Groups `items` by each of their keys (an incident may have several: services, teams).
fn by(
    items: &[IncidentFacts],
    keys: impl Fn(&IncidentFacts) -> Vec<String>,
) -> BTreeMap<String, Vec<&IncidentFacts>> {
    let mut m: BTreeMap<String, Vec<&IncidentFacts>> = BTreeMap::new();
    for i in items {
        let mut ks = keys(i);
        ks.sort();
        ks.dedup();
        for k in ks {
            m.entry(k).or_default().push(i);
        }
    }
    m
}

pub fn response(items: &[IncidentFacts], c: &Catalog) -> ResponseReport {
    let all: Vec<&IncidentFacts> = items.iter().collect();
    let overall = group("all".into(), "All incidents".into(), &all);
    let sev_label = |id: &str| {
        c.severity(id)
            .map_or_else(|| id.to_string(), |s| s.name.clone())
    };
    let mut by_severity: Vec<Group> = by(items, |i| vec![i.severity.clone()])
        .into_iter()
        .map(|(k, v)| group(k.clone(), sev_label(&k), &v))
        .collect();
    // Most severe first, as the catalog lists the levels; unknown (deleted) levels last.
    let rank = |id: &str| {
        c.severities
            .iter()
            .position(|s| s.id == id)
            .unwrap_or(usize::MAX)
    };
    by_severity.sort_by_key(|g| (rank(&g.key), g.key.clone()));
    let svc_label = |id: &str| {
        c.service(id)
            .map_or_else(|| id.to_string(), |s| s.name.clone())
    };
    let by_service = by(items, |i| i.services.clone())
        .into_iter()
        .map(|(k, v)| group(k.clone(), svc_label(&k), &v))
        .collect();
    let team_of = |i: &IncidentFacts| {
        i.services
            .iter()
            .filter_map(|s| c.service(s).map(|s| s.owner_team.clone()))
            .collect()
    };
    let team_label = |id: &str| {
        c.team(id)
            .map_or_else(|| id.to_string(), |t| t.name.clone())
    };
    let by_team = by(items, team_of)
        .into_iter()
        .map(|(k, v)| group(k.clone(), team_label(&k), &v))
        .collect();
    let by_month = by(items, |i| vec![month(i.started_at)])
        .into_iter()
        .map(|(k, v)| group(k.clone(), k, &v))
        .collect();
    ResponseReport {
        overall,
        by_severity,
        by_service,
        by_team,
        by_month,
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct ServiceCount {
    pub service: String,
    pub name: String,
    /// None for a service no longer in the catalog.
    pub tier: Option<u8>,
    pub team: String,
    pub incidents: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct TierCount {
    pub tier: u8,
    pub name: String,
    /// Incidents that touched at least one service of this tier.
    pub incidents: usize,
    /// How many services of this tier had incidents.
    pub services: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct ServicesReport {
    pub incidents: usize,
    /// Most incidents first.
    pub services: Vec<ServiceCount>,
    /// By tier level.
    pub tiers: Vec<TierCount>,
    /// Incidents declared without any service.
    pub without_service: usize,
}

pub fn services(items: &[IncidentFacts], c: &Catalog) -> ServicesReport {
    let mut services: Vec<ServiceCount> = by(items, |i| i.services.clone())
        .into_iter()
        .map(|(id, v)| {
            let s = c.service(&id);
            ServiceCount {
                name: s.map_or_else(|| id.clone(), |s| s.name.clone()),
                tier: s.map(|s| s.tier),
                team: s.map(|s| s.owner_team.clone()).unwrap_or_default(),
                service: id,
                incidents: v.len(),
            }
        })
        .collect();
    services.sort_by(|a, b| {
        b.incidents
            .cmp(&a.incidents)
            .then(a.service.cmp(&b.service))
    });
    let tier_of = |i: &IncidentFacts| {
        i.services
            .iter()
            .filter_map(|s| c.service(s).map(|s| s.tier.to_string()))
            .collect()
    };
    let mut tiers: Vec<TierCount> = by(items, tier_of)
        .into_iter()
        .filter_map(|(k, v)| {
            let tier: u8 = k.parse().ok()?;
            Some(TierCount {
                tier,
                name: c
                    .tier(tier)
                    .map_or_else(|| format!("Tier {tier}"), |t| t.name.clone()),
                incidents: v.len(),
                services: services.iter().filter(|s| s.tier == Some(tier)).count(),
            })
        })
        .collect();
    tiers.sort_by_key(|t| t.tier);
    ServicesReport {
        incidents: items.len(),
        services,
        tiers,
        without_service: items.iter().filter(|i| i.services.is_empty()).count(),
    }
}

/// A summary of durations in ms; mean and median are None without values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Stats {
    pub count: usize,
    pub mean_ms: Option<i64>,
    pub p50_ms: Option<i64>,
}

impl Stats {
    pub fn of(values: &[i64]) -> Self {
        if values.is_empty() {
            return Self::default();
        }
        let mut v = values.to_vec();
        v.sort_unstable();
        let n = v.len();
        let sum: i128 = v.iter().map(|&x| i128::from(x)).sum();
        let mean = i64::try_from(sum / n as i128).unwrap_or(i64::MAX);
        let p50 = if n % 2 == 1 {
            v[n / 2]
        } else {
            i64::try_from((i128::from(v[n / 2 - 1]) + i128::from(v[n / 2])) / 2).unwrap_or(i64::MAX)
        };
        Self {
            count: n,
            mean_ms: Some(mean),
            p50_ms: Some(p50),
        }
    }

    /// "12 min" or "–" for people.
    pub fn mean_label(&self) -> String {
        label(self.mean_ms)
    }

    pub fn p50_label(&self) -> String {
        label(self.p50_ms)
    }
}

pub fn label(ms: Option<i64>) -> String {
    ms.map_or_else(|| "–".into(), crate::incidents::metrics::duration_label)
}

#[cfg(test)]
mod tests;
