//! SQL for severity levels (config as code: examples and alert severities stored as JSON
//! text, the order as a position). The alert-severity map also lives in its own table so the
//! ingestion transaction can find an alert's response target with one indexed query.

use crate::db::{StoreError, Tx};
use crate::on_tx;

use super::{Declare, SeverityLevel};

type Row = (
    String,
    i64,
    String,
    String,
    String,
    String,
    Option<i64>,
    String,
    String,
    Option<i64>,
    Option<i64>,
);

pub async fn load(tx: &mut Tx) -> Result<Vec<SeverityLevel>, StoreError> {
    const SQL: &str = "select id, position, name, urgency, description, examples, \
        response_target_minutes, alert_severities, declare, update_every_minutes, \
        postmortem_due_days from severities order by position, id";
    let rows: Vec<Row> = on_tx!(tx, |c| sqlx::query_as(SQL).fetch_all(&mut *c).await)?;
    rows.into_iter()
        .map(|r| {
            let (id, _, name, urgency, description, examples, target, alerts, declare, every, due) =
                r;
            let bad = |what: &str, e: serde_json::Error| {
                StoreError::Config(format!("severity {id}: stored {what}: {e}"))
            };
            Ok(SeverityLevel {
                examples: serde_json::from_str(&examples).map_err(|e| bad("examples", e))?,
                alert_severities: serde_json::from_str(&alerts)
                    .map_err(|e| bad("alert severities", e))?,
                declare: serde_json::from_str::<Declare>(&declare)
                    .map_err(|e| bad("declare", e))?,
                response_target_minutes: target.and_then(|m| u32::try_from(m).ok()),
                update_every_minutes: every.and_then(|m| u32::try_from(m).ok()),
                postmortem_due_days: due.and_then(|d| u32::try_from(d).ok()),
                id,
                name,
                urgency,
                description,
            })
        })
        .collect()
}

/// Writes one level at `position` and its alert-severity map rows.
pub async fn upsert(tx: &mut Tx, s: &SeverityLevel, position: usize) -> Result<(), StoreError> {
    const SQL: &str = "insert into severities (id, position, name, urgency, description, \
        examples, response_target_minutes, alert_severities, declare, update_every_minutes, \
        postmortem_due_days) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) on conflict (id) do update set \
        position = excluded.position, name = excluded.name, urgency = excluded.urgency, \
        description = excluded.description, examples = excluded.examples, \
        response_target_minutes = excluded.response_target_minutes, \
        alert_severities = excluded.alert_severities, declare = excluded.declare, \
        update_every_minutes = excluded.update_every_minutes, \
        postmortem_due_days = excluded.postmortem_due_days";
    on_tx!(tx, |c| sqlx::query(SQL)
        .bind(&s.id)
        .bind(i64::try_from(position).unwrap_or(i64::MAX))
        .bind(&s.name)
        .bind(&s.urgency)
        .bind(&s.description)
        .bind(json(&s.examples))
        .bind(s.response_target_minutes.map(i64::from))
        .bind(json(&s.alert_severities))
        .bind(json(&s.declare))
        .bind(s.update_every_minutes.map(i64::from))
        .bind(s.postmortem_due_days.map(i64::from))
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    const CLEAR: &str = "delete from severity_alert_levels where severity_id = $1";
    on_tx!(tx, |c| sqlx::query(CLEAR)
        .bind(&s.id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    const MAP: &str = "insert into severity_alert_levels (alert_severity, severity_id) \
        values ($1, $2) on conflict (alert_severity) do update set severity_id = excluded.severity_id";
    for a in &s.alert_severities {
        on_tx!(tx, |c| sqlx::query(MAP)
            .bind(crate::alerts::store::severity_str(*a))
            .bind(&s.id)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
    }
    Ok(())
}

/// The response target of alerts of `alert_severity`, in minutes, if a level sets one.
pub async fn response_target_minutes(
    tx: &mut Tx,
    alert_severity: &str,
) -> Result<Option<i64>, StoreError> {
    const SQL: &str = "select s.response_target_minutes from severity_alert_levels m \
        join severities s on s.id = m.severity_id where m.alert_severity = $1";
    let row: Option<(Option<i64>,)> = on_tx!(tx, |c| sqlx::query_as(SQL)
        .bind(alert_severity)
        .fetch_optional(c)
        .await)?;
    Ok(row.and_then(|(m,)| m))
}

/// Plain config data as JSON text (it cannot fail to serialise).
fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}
