//! Deadline SQL of incidents: declare watches (an alert whose severity level declares an
//! incident on its own, due at once or after N minutes) and the reads the deadline tick needs.
//!
//! A watch is claimed by moving its `due_at` forward by a lease (`update … returning`, the
//! same portable claim as escalations: the sub-select picks candidates, the outer `where` is
//! what PostgreSQL re-checks when two instances race), and deleted once handled. A crashed
//! owner's watch simply falls due again when the lease runs out.

use crate::db::{Db, StoreError, Tx};
use crate::{on_db, on_tx};

/// Watches alert `alert_id` for level `severity` from inside the transaction that created
/// it; due at `due_at`. A second watch of the same alert changes nothing.
pub async fn watch(
    tx: &mut Tx,
    alert_id: &str,
    severity: &str,
    due_at: i64,
) -> Result<(), StoreError> {
    const SQL: &str = "insert into declare_watches (alert_id, severity_id, due_at) \
        values ($1, $2, $3) on conflict (alert_id) do nothing";
    on_tx!(tx, |c| sqlx::query(SQL)
        .bind(alert_id)
        .bind(severity)
        .bind(due_at)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// A claimed watch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Watch {
    pub alert_id: String,
    pub severity: String,
}

/// Claims up to `limit` watches due at `now` until `lease_until` (their `due_at` moves there,
/// so nobody else takes them meanwhile).
pub async fn claim_watches(
    db: &Db,
    now: i64,
    lease_until: i64,
    limit: i64,
) -> Result<Vec<Watch>, StoreError> {
    const ANY: &str = "select 1 from declare_watches where due_at <= $1 limit 1";
    if !db.any_due(ANY, now).await? {
        return Ok(Vec::new());
    }
    const SQL: &str = "update declare_watches set due_at = $2 where alert_id in \
        (select alert_id from declare_watches where due_at <= $1 order by due_at limit $3) \
        and due_at <= $1 returning alert_id, severity_id";
    let rows: Vec<(String, String)> = on_db!(db, |p| sqlx::query_as(SQL)
        .bind(now)
        .bind(lease_until)
        .bind(limit)
        .fetch_all(p)
        .await)?;
    let mut out: Vec<Watch> = rows
        .into_iter()
        .map(|(alert_id, severity)| Watch { alert_id, severity })
        .collect();
    // `returning` has no order: keep the log and the incidents' numbers stable.
    out.sort_by(|a, b| a.alert_id.cmp(&b.alert_id));
    Ok(out)
}

/// Drops a watch once handled (declared, or moot).
pub async fn unwatch(db: &Db, alert_id: &str) -> Result<(), StoreError> {
    const SQL: &str = "delete from declare_watches where alert_id = $1";
    on_db!(db, |p| sqlx::query(SQL)
        .bind(alert_id)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// What a watch needs to know of its alert.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Watched {
    pub status: String,
    pub summary: String,
    pub service: String,
    /// Already on an incident.
    pub attached: bool,
}

/// The watched alert, if it still exists.
pub async fn watched_alert(db: &Db, alert_id: &str) -> Result<Option<Watched>, StoreError> {
    const SQL: &str = "select a.status, a.summary, a.service_id, exists (select 1 from \
        incident_alerts i where i.alert_id = a.id) from alerts a where a.id = $1";
    let row: Option<(String, String, String, bool)> = on_db!(db, |p| sqlx::query_as(SQL)
        .bind(alert_id)
        .fetch_optional(p)
        .await)?;
    Ok(row.map(|(status, summary, service, attached)| Watched {
        status,
        summary,
        service,
        attached,
    }))
}

/// The open incidents that `service` is attached to, newest first: (id, severity level).
pub async fn open_on_service(db: &Db, service: &str) -> Result<Vec<(i64, String)>, StoreError> {
    const SQL: &str = "select i.id, i.severity_id from incidents i \
        where i.status in ('investigating', 'identified', 'monitoring') and exists \
        (select 1 from incident_services s where s.incident_id = i.id and s.service_id = $1) \
        order by i.id desc";
    let rows: Vec<(i64, String)> =
        on_db!(db, |p| sqlx::query_as(SQL).bind(service).fetch_all(p).await)?;
    Ok(rows)
}

/// Drops the watches of `alerts` in the transaction that attached them.
pub async fn unwatch_many(tx: &mut Tx, alerts: &[&str]) -> Result<(), StoreError> {
    for alerts in alerts.chunks(crate::db::MAX_BINDS) {
        on_tx!(&mut *tx, |c| {
            let mut q = sqlx::QueryBuilder::new("delete from declare_watches where alert_id in (");
            let mut list = q.separated(", ");
            for a in alerts {
                list.push_bind(*a);
            }
            q.push(")");
            q.build().execute(c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}

/// The level covering an alert's severity, with what ingestion needs of it: (level id,
/// response target in minutes, declare policy as stored JSON). One indexed query.
pub async fn level_of_alert(
    tx: &mut Tx,
    alert_id: &str,
) -> Result<Option<(String, Option<i64>, String)>, StoreError> {
    const SQL: &str = "select s.id, s.response_target_minutes, s.declare from alerts a \
        join severity_alert_levels m on m.alert_severity = a.severity \
        join severities s on s.id = m.severity_id where a.id = $1";
    let row: Option<(String, Option<i64>, String)> = on_tx!(tx, |c| sqlx::query_as(SQL)
        .bind(alert_id)
        .fetch_optional(c)
        .await)?;
    Ok(row)
}

/// [`level_of_alert`] for every alert severity at once: alert severity → (level id, response
/// target in minutes, declare policy as stored JSON). A handful of rows, read once per ingest
/// batch instead of once per new alert.
pub async fn levels_by_alert_severity(
    tx: &mut Tx,
) -> Result<std::collections::HashMap<String, (String, Option<i64>, String)>, StoreError> {
    const SQL: &str = "select m.alert_severity, s.id, s.response_target_minutes, s.declare \
        from severity_alert_levels m join severities s on s.id = m.severity_id";
    let rows: Vec<(String, String, Option<i64>, String)> =
        on_tx!(tx, |c| sqlx::query_as(SQL).fetch_all(c).await)?;
    Ok(rows
        .into_iter()
        .map(|(alert_severity, level, target, declare)| (alert_severity, (level, target, declare)))
        .collect())
}

/// [`watch`] for several new alerts at once: (alert, level, due at) each.
pub async fn watch_many(tx: &mut Tx, rows: &[(&str, &str, i64)]) -> Result<(), StoreError> {
    for rows in rows.chunks(crate::db::MAX_BINDS / 3) {
        on_tx!(&mut *tx, |c| {
            let mut q = sqlx::QueryBuilder::new(
                "insert into declare_watches (alert_id, severity_id, due_at) ",
            );
            q.push_values(rows, |mut b, (alert, level, due)| {
                b.push_bind(*alert).push_bind(*level).push_bind(*due);
            });
            q.push(" on conflict (alert_id) do nothing");
            q.build().execute(c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}
