//! The backlog sync's SQL: which action items are due (to export or to refresh), the lease a
//! process takes on one before it calls the backlog, and the write that records the outcome
//! and gives the lease back.
//!
//! The claim is one conditional `update … where id = $1 and <not leased>` per item rather
//! than an `update … where id in (select …)`: on PostgreSQL a row-level condition is checked
//! again against the row as it is when the update locks it, so of two instances claiming the
//! same item exactly one sees a row changed. The subquery form would let both win.

use crate::db::{Db, StoreError};
use crate::on_db;

/// Action items due at `now`: open ones without a backlog item once `delay_ms` has passed
/// since they were created (or their retry is due), and, when `refresh` is on, open ones
/// exported to `kind` whose refresh is due. Leased items are left to their holder.
pub async fn due(
    db: &Db,
    kind: &str,
    refresh: bool,
    now: i64,
    delay_ms: i64,
    limit: u32,
) -> Result<Vec<i64>, StoreError> {
    const SQL: &str = "select id from postmortem_actions where status = 'open' \
        and (backlog_lease_until is null or backlog_lease_until <= $1) \
        and ((backlog_key is null and coalesce(backlog_next_at, created_at + $2) <= $1) \
          or ($3 = 1 and backlog_key is not null and backlog_kind = $4 \
              and coalesce(backlog_next_at, 0) <= $1)) \
        order by id limit $5";
    let rows: Vec<(i64,)> = on_db!(db, |p| sqlx::query_as(SQL)
        .bind(now)
        .bind(delay_ms)
        .bind(i64::from(refresh))
        .bind(kind)
        .bind(i64::from(limit.clamp(1, 1000)))
        .fetch_all(p)
        .await)?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// Takes the lease on item `id` for `owner` until `until`, unless someone else holds one
/// that has not expired: true when this caller now holds it.
pub async fn claim(
    db: &Db,
    id: i64,
    owner: &str,
    now: i64,
    until: i64,
) -> Result<bool, StoreError> {
    const SQL: &str = "update postmortem_actions set backlog_owner = $2, \
        backlog_lease_until = $3 where id = $1 \
        and (backlog_lease_until is null or backlog_lease_until <= $4)";
    let n = on_db!(db, |p| sqlx::query(SQL)
        .bind(id)
        .bind(owner)
        .bind(until)
        .bind(now)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// What one attempt found out, written when the lease is given back.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Set once, when the item is created; later writes keep what is there.
    pub kind: Option<String>,
    pub key: Option<String>,
    pub url: Option<String>,
    /// `open` or `closed`; None keeps the last state read.
    pub state: Option<String>,
    /// Why the attempt failed (None clears the last error).
    pub error: Option<String>,
    /// When to look again.
    pub next_at: i64,
    /// Failed attempts in a row (0 after a success), for the backoff.
    pub attempts: i64,
}

/// Records `o` and releases the lease, only if `owner` still holds it: false when the lease
/// expired and another process took the item over (its result wins).
pub async fn finish(
    db: &Db,
    id: i64,
    owner: &str,
    o: &Outcome,
    now: i64,
) -> Result<bool, StoreError> {
    const SQL: &str = "update postmortem_actions set \
        backlog_kind = coalesce(backlog_kind, $3), backlog_key = coalesce(backlog_key, $4), \
        backlog_url = coalesce(backlog_url, $5), backlog_state = coalesce($6, backlog_state), \
        backlog_error = $7, refreshed_at = $8, backlog_next_at = $9, backlog_attempts = $10, \
        backlog_owner = null, backlog_lease_until = null \
        where id = $1 and backlog_owner = $2";
    let n = on_db!(db, |p| sqlx::query(SQL)
        .bind(id)
        .bind(owner)
        .bind(&o.kind)
        .bind(&o.key)
        .bind(&o.url)
        .bind(&o.state)
        .bind(&o.error)
        .bind(now)
        .bind(o.next_at)
        .bind(o.attempts)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Failed attempts in a row on item `id` (what the next backoff starts from).
pub async fn attempts(db: &Db, id: i64) -> Result<i64, StoreError> {
    const SQL: &str = "select backlog_attempts from postmortem_actions where id = $1";
    let row: Option<(i64,)> = on_db!(db, |p| sqlx::query_as(SQL).bind(id).fetch_optional(p).await)?;
    row.map(|(n,)| n).ok_or(StoreError::NotFound)
}

/// Gives the lease back without recording anything (the attempt never reached the backlog).
pub async fn release(db: &Db, id: i64, owner: &str) -> Result<(), StoreError> {
    const SQL: &str = "update postmortem_actions set backlog_owner = null, \
        backlog_lease_until = null where id = $1 and backlog_owner = $2";
    on_db!(db, |p| sqlx::query(SQL)
        .bind(id)
        .bind(owner)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}
