//! SQL for playbooks and alert rules: each record stored whole as JSON text (read and written
//! whole, never queried inside); rules with their position, since their order is their priority.

use crate::db::{StoreError, Tx};
use crate::on_tx;

use super::{AlertRule, Playbook};

fn decode<T: serde::de::DeserializeOwned>(
    what: &str,
    id: &str,
    text: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Config(format!("{what} {id}: stored: {e}")))
}

fn encode<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Config(e.to_string()))
}

pub async fn load_playbooks(tx: &mut Tx) -> Result<Vec<Playbook>, StoreError> {
    const SQL: &str = "select id, spec from playbooks";
    let rows: Vec<(String, String)> = on_tx!(tx, |c| sqlx::query_as(SQL).fetch_all(&mut *c).await)?;
    let mut all = rows
        .iter()
        .map(|(id, spec)| decode("playbook", id, spec))
        .collect::<Result<Vec<Playbook>, _>>()?;
    all.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(all)
}

/// Rules in their priority order.
pub async fn load_rules(tx: &mut Tx) -> Result<Vec<AlertRule>, StoreError> {
    const SQL: &str = "select id, position, spec from alert_rules";
    let mut rows: Vec<(String, i64, String)> =
        on_tx!(tx, |c| sqlx::query_as(SQL).fetch_all(&mut *c).await)?;
    rows.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
    rows.iter()
        .map(|(id, _, spec)| decode("alert rule", id, spec))
        .collect()
}

pub async fn upsert_playbook(tx: &mut Tx, p: &Playbook) -> Result<(), StoreError> {
    const SQL: &str = "insert into playbooks (id, title, spec) values ($1, $2, $3) \
        on conflict (id) do update set title = excluded.title, spec = excluded.spec";
    let spec = encode(p)?;
    on_tx!(tx, |c| sqlx::query(SQL)
        .bind(&p.id)
        .bind(&p.title)
        .bind(&spec)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn upsert_rule(tx: &mut Tx, r: &AlertRule, position: usize) -> Result<(), StoreError> {
    const SQL: &str = "insert into alert_rules (id, position, spec) values ($1, $2, $3) \
        on conflict (id) do update set position = excluded.position, spec = excluded.spec";
    let spec = encode(r)?;
    let position = i64::try_from(position).unwrap_or(i64::MAX);
    on_tx!(tx, |c| sqlx::query(SQL)
        .bind(&r.id)
        .bind(position)
        .bind(&spec)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}
