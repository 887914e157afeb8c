//! What the draft reads about the incident's alerts (one query over `alerts`).

use crate::db::{StoreError, Tx};
use crate::on_tx;

use super::super::draft::AlertFact;

pub async fn alerts_of(tx: &mut Tx, incident: i64) -> Result<Vec<AlertFact>, StoreError> {
    const SQL: &str = "select a.id, a.summary, a.service_id, a.severity, a.source, \
        coalesce(a.started_at, a.created_at), a.acknowledged_at, a.response_due_at, \
        a.breached_at, a.playbook_id from alerts a \
        join incident_alerts ia on ia.alert_id = a.id where ia.incident_id = $1 \
        order by coalesce(a.started_at, a.created_at), a.id";
    type R = (
        String,
        String,
        String,
        Option<String>,
        String,
        i64,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Option<String>,
    );
    let rows: Vec<R> = on_tx!(tx, |c| sqlx::query_as(SQL)
        .bind(incident)
        .fetch_all(c)
        .await)?;
    Ok(rows
        .into_iter()
        .map(|r| AlertFact {
            id: r.0,
            summary: r.1,
            service: r.2,
            severity: r.3,
            source: r.4,
            started_at: r.5,
            acknowledged_at: r.6,
            response_due_at: r.7,
            breached_at: r.8,
            playbook: r.9,
        })
        .collect())
}
