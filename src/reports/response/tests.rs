//! Hand-checked fixtures for the response and services reports.

use super::*;
use crate::catalog::{Service, ServiceType, Tier};
use crate::people::Team;
use crate::severity::{Declare, SeverityLevel};

const MIN: i64 = 60_000;
/// 2026-09-01T00:00Z and 2026-10-01T00:00Z.
const SEP: i64 = 1_788_220_800_000;
const OCT: i64 = 1_790_812_800_000;

fn service(id: &str, team: &str, tier: u8) -> Service {
    Service {
        id: id.into(),
        name: id.to_uppercase(),
        description: String::new(),
        kind: ServiceType::RestApi,
        stateful: false,
        owner_team: team.into(),
        tier,
        domain: "d".into(),
        depends_on: vec![],
        links: vec![],
        escalation_policy: None,
    }
}

fn level(id: &str, target: Option<u32>) -> SeverityLevel {
    SeverityLevel {
        id: id.into(),
        name: id.to_uppercase(),
        urgency: String::new(),
        description: String::new(),
        examples: vec![],
        response_target_minutes: target,
        alert_severities: vec![],
        declare: Declare::Manually,
        update_every_minutes: None,
        postmortem_due_days: None,
    }
}

pub(crate) fn catalog() -> Catalog {
    Catalog {
        severities: vec![
            level("sev0", Some(5)),
            level("sev1", Some(30)),
            level("sev2", None),
        ],
        tiers: vec![
            Tier {
                level: 0,
                name: "Critical".into(),
                description: String::new(),
            },
            Tier {
                level: 1,
                name: "Important".into(),
                description: String::new(),
            },
        ],
        teams: vec![
            Team {
                id: "pay".into(),
                name: "Payments".into(),
                description: String::new(),
                escalation_policy: None,
            },
            Team {
                id: "web".into(),
                name: "Web".into(),
                description: String::new(),
                escalation_policy: None,
            },
        ],
        services: vec![
            service("api", "pay", 0),
            service("gw", "pay", 0),
            service("ui", "web", 1),
        ],
        ..Catalog::default()
    }
}

/// (id, severity, start, ack after, declared after, resolved after, services), minutes.
pub(crate) fn fixture() -> Vec<IncidentFacts> {
    let f = |id: i64,
             sev: &str,
             start: i64,
             ack: Option<i64>,
             dec: i64,
             res: Option<i64>,
             s: &[&str]| IncidentFacts {
        id,
        title: format!("INC-{id}"),
        severity: sev.into(),
        started_at: start,
        acknowledged_at: ack.map(|m| start + m * MIN),
        declared_at: start + dec * MIN,
        resolved_at: res.map(|m| start + m * MIN),
        services: s.iter().map(|s| s.to_string()).collect(),
    };
    vec![
        f(
            1,
            "sev0",
            SEP + 60 * MIN,
            Some(2),
            10,
            Some(60),
            &["api", "gw"],
        ),
        f(
            2,
            "sev0",
            SEP + 2 * 1440 * MIN,
            Some(8),
            4,
            Some(120),
            &["api"],
        ),
        f(3, "sev1", OCT + 30 * MIN, Some(45), 20, None, &["ui"]),
        f(4, "sev2", OCT + 1440 * MIN, None, 0, Some(30), &[]),
    ]
}

#[test]
fn response_times_by_severity_service_team_and_month() {
    let r = response(&fixture(), &catalog());
    // Overall: acks 2, 8, 45 → mean 18.33 min, median 8; declare 10, 4, 20, 0 → mean 8.5,
    // median 7; resolve 60, 120, 30 → mean 70, median 60.
    assert_eq!(r.overall.incidents, 4);
    assert_eq!(r.overall.acknowledge.count, 3);
    assert_eq!(r.overall.acknowledge.mean_ms, Some(55 * MIN / 3));
    assert_eq!(r.overall.acknowledge.p50_ms, Some(8 * MIN));
    assert_eq!(r.overall.declare.mean_ms, Some(8 * MIN + 30_000));
    assert_eq!(r.overall.declare.p50_ms, Some(7 * MIN));
    assert_eq!(r.overall.resolve.mean_ms, Some(70 * MIN));
    assert_eq!(r.overall.resolve.p50_ms, Some(60 * MIN));
    let keys = |g: &[Group]| {
        g.iter()
            .map(|g| (g.key.clone(), g.incidents))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        keys(&r.by_severity),
        [("sev0".into(), 2), ("sev1".into(), 1), ("sev2".into(), 1)]
    );
    let sev0 = &r.by_severity[0];
    assert_eq!(sev0.label, "SEV0");
    assert_eq!(sev0.acknowledge.mean_ms, Some(5 * MIN));
    assert_eq!(sev0.resolve.p50_ms, Some(90 * MIN));
    assert_eq!(
        keys(&r.by_service),
        [("api".into(), 2), ("gw".into(), 1), ("ui".into(), 1)]
    );
    // INC-1 touches two Payments services but counts once for the team.
    assert_eq!(keys(&r.by_team), [("pay".into(), 2), ("web".into(), 1)]);
    assert_eq!(r.by_team[0].label, "Payments");
    assert_eq!(
        keys(&r.by_month),
        [("2026-09".into(), 2), ("2026-10".into(), 2)]
    );
    assert_eq!(r.by_month[1].resolve.count, 1, "INC-3 is unresolved");
}

#[test]
fn incidents_per_service_and_tier() {
    let r = services(&fixture(), &catalog());
    assert_eq!(r.incidents, 4);
    assert_eq!(r.without_service, 1);
    let s: Vec<(&str, usize, Option<u8>)> = r
        .services
        .iter()
        .map(|s| (s.service.as_str(), s.incidents, s.tier))
        .collect();
    assert_eq!(
        s,
        [("api", 2, Some(0)), ("gw", 1, Some(0)), ("ui", 1, Some(1))]
    );
    let t: Vec<(u8, &str, usize, usize)> = r
        .tiers
        .iter()
        .map(|t| (t.tier, t.name.as_str(), t.incidents, t.services))
        .collect();
    assert_eq!(t, [(0, "Critical", 2, 2), (1, "Important", 1, 1)]);
}

#[test]
fn incidents_over_their_response_target() {
    let (with_target, late) =
        crate::reports::alerts::late_incidents(&fixture(), &catalog(), OCT + 1440 * MIN);
    // sev0 target 5 min: INC-1 (2) on time, INC-2 (8) late; sev1 30 min: INC-3 (45) late;
    // sev2 has no target.
    assert_eq!(with_target, 3);
    let ids: Vec<(i64, Option<i64>)> = late
        .iter()
        .map(|l| (l.id, l.time_to_acknowledge_ms))
        .collect();
    assert_eq!(ids, [(2, Some(8 * MIN)), (3, Some(45 * MIN))]);
    assert_eq!(month(SEP), "2026-09");
}

#[test]
fn mean_and_median_by_hand() {
    let min = 60_000;
    // 2, 4, 9 min: mean 5 min, median 4 min.
    let s = Stats::of(&[9 * min, 2 * min, 4 * min]);
    assert_eq!(
        (s.count, s.mean_ms, s.p50_ms),
        (3, Some(5 * min), Some(4 * min))
    );
    // 1, 3, 10, 30 min: mean 11 min, median (3 + 10) / 2 = 6.5 min.
    let s = Stats::of(&[30 * min, min, 10 * min, 3 * min]);
    assert_eq!(s.mean_ms, Some(11 * min));
    assert_eq!(s.p50_ms, Some(6 * min + 30_000));
    assert_eq!(s.p50_label(), "6 min");
    assert_eq!(Stats::of(&[]), Stats::default());
    assert_eq!(Stats::of(&[]).mean_label(), "–");
}
