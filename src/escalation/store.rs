//! SQL for escalation policies (config as code: levels stored whole as JSON text).

use crate::db::{StoreError, Tx};
use crate::on_tx;

use super::{EscalationPolicy, Level};

pub async fn load_policies(tx: &mut Tx) -> Result<Vec<EscalationPolicy>, StoreError> {
    const SQL: &str =
        "select id, name, description, repeat_count, levels from escalation_policies order by id";
    let rows: Vec<(String, String, String, i64, String)> =
        on_tx!(tx, |c| sqlx::query_as(SQL).fetch_all(&mut *c).await)?;
    rows.into_iter()
        .map(|(id, name, description, repeat, levels)| {
            let levels: Vec<Level> = serde_json::from_str(&levels).map_err(|e| {
                StoreError::Config(format!("escalation policy {id}: stored levels: {e}"))
            })?;
            let repeat = u32::try_from(repeat).unwrap_or(0);
            Ok(EscalationPolicy {
                id,
                name,
                description,
                levels,
                repeat,
            })
        })
        .collect()
}

pub async fn upsert_policy(tx: &mut Tx, p: &EscalationPolicy) -> Result<(), StoreError> {
    const SQL: &str = "insert into escalation_policies (id, name, description, repeat_count, levels) \
        values ($1, $2, $3, $4, $5) on conflict (id) do update set name = excluded.name, \
        description = excluded.description, repeat_count = excluded.repeat_count, \
        levels = excluded.levels";
    let levels = serde_json::to_string(&p.levels).map_err(|e| StoreError::Config(e.to_string()))?;
    on_tx!(tx, |c| sqlx::query(SQL)
        .bind(&p.id)
        .bind(&p.name)
        .bind(&p.description)
        .bind(i64::from(p.repeat))
        .bind(&levels)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}
