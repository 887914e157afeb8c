//! The incident outbox's delivery SQL: claim due messages with a lease, record a delivery or
//! a failed attempt, and the counts `/metrics` shows. The same portable lease as the alert
//! outbox (`engine::store::outbox`): an `update … where id in (select … limit) and <due>
//! returning`, so two instances on PostgreSQL never hold one row at once, and a crashed
//! owner's rows come back when its lease runs out.

use sqlx::AssertSqlSafe;

use crate::db::{Db, StoreError};
use crate::on_db;

/// A claimed message: everything needed to send it, as it was rendered when queued.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Claimed {
    pub id: i64,
    pub incident_id: i64,
    /// Travels as the `Idempotency-Key` header so receivers can drop a repeat.
    pub idempotency_key: String,
    /// email, webhook, slack or mattermost.
    pub channel: String,
    pub target: String,
    pub subject: String,
    pub body: String,
    /// Attempts made before this one.
    pub attempts: i64,
}

const COLUMNS: &str = "id, incident_id, idempotency_key, channel, target, subject, body, attempts";

/// Leases up to `limit` pending messages due at `now` to `owner` until `lease_until`, oldest
/// due first.
pub async fn claim(
    db: &Db,
    owner: &str,
    now: i64,
    lease_until: i64,
    limit: i64,
) -> Result<Vec<Claimed>, StoreError> {
    const ANY: &str = "select 1 from incident_messages where status = 'pending' \
        and next_attempt_at <= $1 and (lease_until is null or lease_until < $1) limit 1";
    if !db.any_due(ANY, now).await? {
        return Ok(Vec::new());
    }
    const DUE: &str = "status = 'pending' and next_attempt_at <= $3 \
        and (lease_until is null or lease_until < $3)";
    let sql = format!(
        "update incident_messages set lease_owner = $1, lease_until = $2 where id in \
        (select id from incident_messages where {DUE} order by next_attempt_at, id limit $4) \
        and {DUE} returning {COLUMNS}"
    );
    let mut rows: Vec<Claimed> = on_db!(db, |p| sqlx::query_as(AssertSqlSafe(sql))
        .bind(owner)
        .bind(lease_until)
        .bind(now)
        .bind(limit)
        .fetch_all(p)
        .await)?;
    // RETURNING promises no order.
    rows.sort_by_key(|r| r.id);
    Ok(rows)
}

/// Records a delivery; false when `owner` no longer holds the lease (another owner took the
/// row after it expired: that owner's outcome counts).
pub async fn sent(db: &Db, id: i64, owner: &str, now: i64) -> Result<bool, StoreError> {
    const SQL: &str = "update incident_messages set status = 'sent', sent_at = $3, \
        attempts = attempts + 1, last_error = null, lease_owner = null, lease_until = null \
        where id = $1 and lease_owner = $2 and status = 'pending'";
    let n = on_db!(db, |p| sqlx::query(SQL)
        .bind(id)
        .bind(owner)
        .bind(now)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// Records a failed attempt and its error: tried again at `retry_at`, or given up (status
/// failed, left for people to see) when None.
pub async fn failed(
    db: &Db,
    id: i64,
    owner: &str,
    error: &str,
    retry_at: Option<i64>,
) -> Result<bool, StoreError> {
    const SQL: &str = "update incident_messages set attempts = attempts + 1, last_error = $3, \
        status = case when $4 then 'pending' else 'failed' end, \
        next_attempt_at = case when $4 then $5 else next_attempt_at end, \
        lease_owner = null, lease_until = null \
        where id = $1 and lease_owner = $2 and status = 'pending'";
    let n = on_db!(db, |p| sqlx::query(SQL)
        .bind(id)
        .bind(owner)
        .bind(error)
        .bind(retry_at.is_some())
        .bind(retry_at.unwrap_or(0))
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// Messages per status, for `/metrics`.
pub async fn counts(db: &Db) -> Result<Vec<(String, i64)>, StoreError> {
    const SQL: &str =
        "select status, count(*) from incident_messages group by status order by status";
    Ok(on_db!(db, |p| sqlx::query_as(SQL).fetch_all(p).await)?)
}
