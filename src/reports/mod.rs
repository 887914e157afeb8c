//! Learning reports: how the organisation responds over a period, from the incidents, alerts
//! and pages already stored. Five reports, each a JSON document (`/api/v1/reports/{name}`),
//! a page with a chart and the same numbers as a table (`/reports/{name}`), and text or JSON
//! from `tocsin report`:
//! - `response`: time to acknowledge, declare and resolve (as `incidents::metrics` defines
//!   them) by severity, service, owner team and month;
//! - `services`: incidents per service and per tier;
//! - `oncall`: pages per person, those outside their working hours, roles held;
//! - `breaches`: alerts past their response target, incidents past their severity's target;
//! - `alerts`: the noisiest alerts, with or without a playbook and automation.
//!
//! `store.rs` aggregates in SQL; `response.rs`, `oncall.rs` and `alerts.rs` shape the rows
//! (pure, `now` as a parameter); `chart.rs` draws; `web.rs` serves the API and the pages.

pub mod alerts;
pub mod chart;
pub mod oncall;
pub mod response;
pub mod store;
pub mod view;
pub mod web;

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::catalog::snapshot::Snapshot;
use crate::db::{Db, StoreError};

/// The default period: the last 90 days.
pub const DEFAULT_DAYS: i64 = 90;
const DAY_MS: i64 = 86_400_000;

/// The reports, in the order the index lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Name {
    Response,
    Services,
    Oncall,
    Breaches,
    Alerts,
}

impl Name {
    pub const ALL: [Self; 5] = [
        Self::Response,
        Self::Services,
        Self::Oncall,
        Self::Breaches,
        Self::Alerts,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Response => "response",
            Self::Services => "services",
            Self::Oncall => "oncall",
            Self::Breaches => "breaches",
            Self::Alerts => "alerts",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Self::Response => "Response times",
            Self::Services => "Incidents by service and tier",
            Self::Oncall => "On-call load",
            Self::Breaches => "Response-target breaches",
            Self::Alerts => "Top alerts",
        }
    }

    pub fn summary(self) -> &'static str {
        match self {
            Self::Response => {
                "Time to acknowledge, declare and resolve by severity, service, team and month"
            }
            Self::Services => "How many incidents touched each service and each tier",
            Self::Oncall => "Pages per person, outside their working hours, incident roles held",
            Self::Breaches => "Alerts and incidents that missed their severity's response target",
            Self::Alerts => "The noisiest alerts and whether a playbook or automation covers them",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|n| n.as_str() == s)
    }
}

/// The period and filters every report takes (query string, CLI flags).
#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct Query {
    /// Start: a date (YYYY-MM-DD, UTC midnight), RFC 3339 or ms (default: 90 days before `to`).
    pub from: Option<String>,
    /// End, exclusive: a date (the whole day is included), RFC 3339 or ms (default: now).
    pub to: Option<String>,
    /// Only incidents, alerts and pages of this service.
    pub service: Option<String>,
    /// Only incidents of this severity level (and alerts of the severities it covers).
    pub severity: Option<String>,
}

/// `[from, to)` in ms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Period {
    pub from: i64,
    pub to: i64,
}

/// Resolved filters: empty means "all".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filters {
    pub service: String,
    pub severity: String,
}

fn instant(text: &str, end_of_day: bool) -> Result<i64, String> {
    if let Ok(d) = text.trim().parse::<jiff::civil::Date>() {
        let d = if end_of_day {
            d.tomorrow().map_err(|e| e.to_string())?
        } else {
            d
        };
        return d
            .to_zoned(jiff::tz::TimeZone::UTC)
            .map(|z| z.timestamp().as_millisecond())
            .map_err(|e| e.to_string());
    }
    crate::oncall::overrides::parse_time(text, None)
        .map_err(|e| format!("{e}, or a date YYYY-MM-DD"))
}

impl Query {
    /// The period and filters, checked against the catalog; the error is for a 400/422.
    pub fn resolve(&self, snap: &Snapshot, now: i64) -> Result<(Period, Filters), String> {
        fn given(o: &Option<String>) -> Option<&str> {
            o.as_deref().map(str::trim).filter(|t| !t.is_empty())
        }
        let to = given(&self.to).map_or(Ok(now), |t| {
            instant(t, true).map_err(|e| format!("to: {e}"))
        })?;
        let from = given(&self.from).map_or(Ok(to - DEFAULT_DAYS * DAY_MS), |t| {
            instant(t, false).map_err(|e| format!("from: {e}"))
        })?;
        if from >= to {
            return Err("`from` must be before `to`".into());
        }
        let service = given(&self.service).unwrap_or_default().to_string();
        if !service.is_empty() && snap.service(&service).is_none() {
            return Err(format!("unknown service {service:?}"));
        }
        let severity = given(&self.severity).unwrap_or_default().to_string();
        if !severity.is_empty() && snap.severity(&severity).is_none() {
            return Err(format!("unknown severity level {severity:?}"));
        }
        Ok((Period { from, to }, Filters { service, severity }))
    }
}

/// One report's content.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum Body {
    Response(response::ResponseReport),
    Services(response::ServicesReport),
    Oncall(oncall::OncallReport),
    Breaches(alerts::BreachesReport),
    Alerts(alerts::AlertsReport),
}

/// A report as the API returns it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Report {
    /// response, services, oncall, breaches or alerts.
    pub name: String,
    pub title: String,
    pub period: Period,
    /// The service filter, empty for all.
    pub service: String,
    /// The severity filter, empty for all.
    pub severity: String,
    pub report: Body,
}

/// How many alert groups the `alerts` report lists.
pub const TOP_ALERTS: i64 = 25;

/// Builds report `name` over `period` from the database and the catalog.
pub async fn build(
    db: &Db,
    snap: &Snapshot,
    name: Name,
    period: Period,
    f: &Filters,
    now: i64,
) -> Result<Report, StoreError> {
    let incidents = async || -> Result<_, StoreError> {
        let mut all = store::incidents(db, period).await?;
        all.retain(|i| {
            (f.service.is_empty() || i.services.contains(&f.service))
                && (f.severity.is_empty() || i.severity == f.severity)
        });
        Ok(all)
    };
    let report = match name {
        Name::Response => Body::Response(response::response(&incidents().await?, snap)),
        Name::Services => Body::Services(response::services(&incidents().await?, snap)),
        Name::Oncall => {
            let pages = store::pages(db, period, &f.service).await?;
            let roles = store::role_holders(db, period).await?;
            Body::Oncall(oncall::load(&pages, &roles, snap))
        }
        Name::Breaches => {
            let rows = store::breaches(db, period, &f.service).await?;
            let late = alerts::late_incidents(&incidents().await?, snap, now);
            Body::Breaches(alerts::breaches(&rows, late, snap, &f.severity))
        }
        Name::Alerts => {
            let groups = store::top_alerts(db, period, &f.service, TOP_ALERTS).await?;
            Body::Alerts(alerts::top(groups, snap))
        }
    };
    Ok(Report {
        name: name.as_str().into(),
        title: name.title().into(),
        period,
        service: f.service.clone(),
        severity: f.severity.clone(),
        report,
    })
}
