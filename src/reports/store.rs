//! All report SQL. Incidents are few (thousands a year) and medians need every value, so
//! their facts are loaded whole for the period; alerts and pages may be millions, so they
//! are grouped in SQL and only the groups come back. Same SQL on both backends. Covering
//! indexes serve them: period-first for incidents and pages (migration 0014), group-first for
//! alerts (0016), where grouping a quarter of a million rows, not reading them, was the cost.

use crate::db::{Db, StoreError};
use crate::on_db;

use super::Period;

/// What the response reports need of one incident.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IncidentFacts {
    pub id: i64,
    pub title: String,
    pub severity: String,
    pub started_at: i64,
    pub acknowledged_at: Option<i64>,
    pub declared_at: i64,
    pub resolved_at: Option<i64>,
    /// Sorted service ids.
    pub services: Vec<String>,
}

type FactRow = (i64, String, String, i64, Option<i64>, i64, Option<i64>);

/// Incidents whose trouble started in the period, with their services, by id.
pub async fn incidents(db: &Db, p: Period) -> Result<Vec<IncidentFacts>, StoreError> {
    const SQL: &str = "select id, title, severity_id, started_at, acknowledged_at, \
        declared_at, resolved_at from incidents where started_at >= $1 and started_at < $2";
    const SERVICES: &str = "select s.incident_id, s.service_id from incident_services s \
        join incidents i on i.id = s.incident_id where i.started_at >= $1 and i.started_at < $2";
    let rows: Vec<FactRow> = on_db!(db, |c| sqlx::query_as(SQL)
        .bind(p.from)
        .bind(p.to)
        .fetch_all(c)
        .await)?;
    let links: Vec<(i64, String)> = on_db!(db, |c| sqlx::query_as(SERVICES)
        .bind(p.from)
        .bind(p.to)
        .fetch_all(c)
        .await)?;
    let mut by_id: std::collections::HashMap<i64, Vec<String>> = Default::default();
    for (id, service) in links {
        by_id.entry(id).or_default().push(service);
    }
    let mut out: Vec<IncidentFacts> = rows
        .into_iter()
        .map(|(id, title, severity, started, ack, declared, resolved)| {
            let mut services = by_id.remove(&id).unwrap_or_default();
            services.sort();
            IncidentFacts {
                id,
                title,
                severity,
                started_at: started,
                acknowledged_at: ack,
                declared_at: declared,
                resolved_at: resolved,
                services,
            }
        })
        .collect();
    out.sort_by_key(|i| i.id);
    Ok(out)
}

/// Pages per person per quarter hour (UTC, from the epoch): (person, bucket, pages). A page
/// is one escalation step reaching one person, however many channels carried it, hence the
/// inner grouping by (alert, level, round); bundles count as one page each.
pub async fn pages(
    db: &Db,
    p: Period,
    service: &str,
) -> Result<Vec<(String, i64, i64)>, StoreError> {
    const SQL: &str = "select person_id, first_at / 900000, count(*) from (\
        select person_id, min(created_at) as first_at from outbox \
        where created_at >= $1 and created_at < $2 and kind in ('page', 'bundle') \
        and ($3 = '' or service_id = $3) \
        group by person_id, alert_id, level, round, kind) p \
        group by person_id, first_at / 900000";
    Ok(on_db!(db, |c| sqlx::query_as(SQL)
        .bind(p.from)
        .bind(p.to)
        .bind(service)
        .fetch_all(c)
        .await)?)
}

/// Per person, how many of the period's incidents they held a role in.
pub async fn role_holders(db: &Db, p: Period) -> Result<Vec<(String, i64)>, StoreError> {
    const SQL: &str = "select r.person_id, count(distinct r.incident_id) from incident_roles r \
        join incidents i on i.id = r.incident_id \
        where i.started_at >= $1 and i.started_at < $2 group by r.person_id";
    Ok(on_db!(db, |c| sqlx::query_as(SQL)
        .bind(p.from)
        .bind(p.to)
        .fetch_all(c)
        .await)?)
}

/// Alerts of the period per (service, alert severity): (service, severity or "", alerts,
/// breached their response target).
pub async fn breaches(
    db: &Db,
    p: Period,
    service: &str,
) -> Result<Vec<(String, String, i64, i64)>, StoreError> {
    // Grouped by the bare columns, in the order of index `alerts_breaches` (migration 0016),
    // so no sort is needed; the select turns no severity into "".
    const SQL: &str = "select service_id, coalesce(severity, ''), count(*), count(breached_at) \
        from alerts where created_at >= $1 and created_at < $2 \
        and ($3 = '' or service_id = $3) group by service_id, severity";
    Ok(on_db!(db, |c| sqlx::query_as(SQL)
        .bind(p.from)
        .bind(p.to)
        .bind(service)
        .fetch_all(c)
        .await)?)
}

/// One group of alerts: by rule when a rule matched them, else by summary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertGroup {
    pub service: String,
    /// Empty when the group is by summary.
    pub rule: String,
    /// The summary (for a rule's group: the greatest of its summaries, as an example).
    pub summary: String,
    pub alerts: i64,
    pub events: i64,
    pub playbook: Option<String>,
}

type GroupRow = (String, String, String, i64, i64, Option<String>);

/// The `limit` largest alert groups of the period, most alerts first.
pub async fn top_alerts(
    db: &Db,
    p: Period,
    service: &str,
    limit: i64,
) -> Result<Vec<AlertGroup>, StoreError> {
    // The inner query groups in the order of index `alerts_top` (migration 0016: service,
    // rule, summary), so it streams without a sort; the outer one folds a rule's summaries
    // into its group, over a few thousand rows instead of every alert.
    // `cast(sum(..) as bigint)`: PostgreSQL sums bigints as numeric.
    const SQL: &str = "select service_id, coalesce(rule_id, ''), max(summary), \
        cast(sum(n) as bigint), cast(sum(e) as bigint), max(p) from (\
        select service_id, rule_id, summary, count(*) as n, sum(event_count) as e, \
        max(playbook_id) as p from alerts \
        where created_at >= $1 and created_at < $2 and ($3 = '' or service_id = $3) \
        group by service_id, rule_id, summary) g \
        group by service_id, coalesce(rule_id, ''), \
        case when rule_id is null then summary else '' end \
        order by cast(sum(n) as bigint) desc, cast(sum(e) as bigint) desc limit $4";
    let rows: Vec<GroupRow> = on_db!(db, |c| sqlx::query_as(SQL)
        .bind(p.from)
        .bind(p.to)
        .bind(service)
        .bind(limit)
        .fetch_all(c)
        .await)?;
    let mut out: Vec<AlertGroup> = rows
        .into_iter()
        .map(
            |(service, rule, summary, alerts, events, playbook)| AlertGroup {
                service,
                rule,
                summary,
                alerts,
                events,
                playbook,
            },
        )
        .collect();
    // Ties broken in Rust so both backends (and any collation) list them alike.
    out.sort_by(|a, b| {
        (b.alerts, b.events)
            .cmp(&(a.alerts, a.events))
            .then_with(|| (&a.service, &a.rule, &a.summary).cmp(&(&b.service, &b.rule, &b.summary)))
    });
    Ok(out)
}
