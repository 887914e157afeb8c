//! All report SQL. Incidents are few (thousands a year) and medians need every value, so
//! their facts are loaded whole for the period; alerts and pages may be millions, so they
//! are grouped in SQL and only the groups come back. Same SQL on both backends. Covering
//! indexes serve them: period-first for incidents and pages (migration 0014), group-first for
//! alerts (0017), where grouping a quarter of a million rows, not reading them, was the cost.

use sqlx::AssertSqlSafe;

use crate::db::{Backend, Db, StoreError};
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

/// The alerts table read through `index` on SQLite. Without planner statistics (a
/// deployment has none unless someone runs ANALYZE) SQLite takes the period's range on
/// `alerts_created` instead, then looks up every row and sorts them all: ten times slower
/// on a million alerts. PostgreSQL keeps statistics itself and plans well unaided.
fn alerts_by(db: &Db, index: &str) -> String {
    match db.backend() {
        Backend::Sqlite => format!("alerts indexed by {index}"),
        Backend::Postgres => "alerts".into(),
    }
}

/// Alerts of the period per (service, alert severity): (service, severity or "", alerts,
/// breached their response target).
pub async fn breaches(
    db: &Db,
    p: Period,
    service: &str,
) -> Result<Vec<(String, String, i64, i64)>, StoreError> {
    // Grouped by the bare columns, in the order of index `alerts_breaches` (migration 0017),
    // so no sort is needed; the select turns no severity into "".
    let sql = format!(
        "select service_id, coalesce(severity, ''), count(*), count(breached_at) \
        from {} where created_at >= $1 and created_at < $2 \
        and ($3 = '' or service_id = $3) group by service_id, severity",
        alerts_by(db, "alerts_breaches")
    );
    Ok(on_db!(db, |c| sqlx::query_as(AssertSqlSafe(sql.clone()))
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
    // The inner query groups in the order of index `alerts_top` (migration 0017: service,
    // rule, summary), so it streams without a sort; the outer one folds a rule's summaries
    // into its group, over a few thousand rows instead of every alert.
    // `cast(sum(..) as bigint)`: PostgreSQL sums bigints as numeric.
    let sql = format!(
        "select service_id, coalesce(rule_id, ''), max(summary), \
        cast(sum(n) as bigint), cast(sum(e) as bigint), max(p) from (\
        select service_id, rule_id, summary, count(*) as n, sum(event_count) as e, \
        max(playbook_id) as p from {} \
        where created_at >= $1 and created_at < $2 and ($3 = '' or service_id = $3) \
        group by service_id, rule_id, summary) g \
        group by service_id, coalesce(rule_id, ''), \
        case when rule_id is null then summary else '' end \
        order by cast(sum(n) as bigint) desc, cast(sum(e) as bigint) desc limit $4",
        alerts_by(db, "alerts_top")
    );
    let rows: Vec<GroupRow> = on_db!(db, |c| sqlx::query_as(AssertSqlSafe(sql.clone()))
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
