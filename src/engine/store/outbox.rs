//! Outbox SQL: queue a message (a page on one channel, or a bundle of throttled pages), claim
//! due rows with a lease, record each attempt and its outcome, cancel what became moot, and
//! the reads the alert page, the dashboard and `/metrics` show.

use sqlx::AssertSqlSafe;

use crate::db::{Db, StoreError, Tx};
use crate::engine::outbox::{Attempt, OutboxRow};
use crate::{on_db, on_tx};

/// A message to queue: who, about which alert, through which channel, and when.
#[derive(Clone, Debug)]
pub struct NewMessage<'a> {
    pub key: &'a str,
    pub alert_id: &'a str,
    pub service_id: &'a str,
    pub person: &'a str,
    pub level: usize,
    pub round: u32,
    /// page or bundle.
    pub kind: &'a str,
    /// None: the person's default channel.
    pub contact_method_id: Option<&'a str>,
    pub channel: &'a str,
    pub created_at: i64,
    pub send_at: i64,
}

/// Queues a message; false when a row with its idempotency key already exists (a repeated
/// step), which is how a retried tick never pages twice.
pub async fn insert_message(tx: &mut Tx, m: &NewMessage<'_>) -> Result<bool, StoreError> {
    const SQL: &str = "insert into outbox (idempotency_key, alert_id, person_id, level, round, \
        kind, created_at, next_attempt_at, attempts, status, service_id, contact_method_id, \
        channel) values ($1, $2, $3, $4, $5, $6, $7, $8, 0, 'pending', $9, $10, $11) \
        on conflict (idempotency_key) do nothing";
    let n = on_tx!(tx, |c| sqlx::query(SQL)
        .bind(m.key)
        .bind(m.alert_id)
        .bind(m.person)
        .bind(i64::try_from(m.level).unwrap_or(i64::MAX))
        .bind(i64::from(m.round))
        .bind(m.kind)
        .bind(m.created_at)
        .bind(m.send_at)
        .bind(m.service_id)
        .bind(m.contact_method_id)
        .bind(m.channel)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// How many other alerts than `alert_id`, still unacknowledged, paged `person` directly (not
/// bundled) about `service` since `since`: the throttle's count. The alert itself is left out
/// so that its own later levels and rounds are never bundled; handled alerts are left out
/// because a person keeping up with their pages is not in a storm.
pub async fn direct_pages_since(
    tx: &mut Tx,
    person: &str,
    service: &str,
    since: i64,
    alert_id: &str,
) -> Result<i64, StoreError> {
    const SQL: &str = "select count(distinct o.alert_id) from outbox o \
        join alerts a on a.id = o.alert_id where o.person_id = $1 and o.service_id = $2 \
        and o.kind = 'page' and o.created_at >= $3 and o.alert_id <> $4 \
        and a.status = 'triggered'";
    let (n,): (i64,) = on_tx!(tx, |c| sqlx::query_as(SQL)
        .bind(person)
        .bind(service)
        .bind(since)
        .bind(alert_id)
        .fetch_one(c)
        .await)?;
    Ok(n)
}

/// The bundle still waiting to go to `person` about `service` through `method`, if any: its id.
pub async fn open_bundle(
    tx: &mut Tx,
    person: &str,
    service: &str,
    method: Option<&str>,
) -> Result<Option<(i64, i64)>, StoreError> {
    const SQL: &str = "select id, next_attempt_at from outbox where person_id = $1 \
        and service_id = $2 and kind = 'bundle' and status = 'pending' and attempts = 0 \
        and lease_owner is null and coalesce(contact_method_id, '') = coalesce($3, '') \
        order by id desc limit 1";
    Ok(on_tx!(tx, |c| sqlx::query_as(SQL)
        .bind(person)
        .bind(service)
        .bind(method)
        .fetch_optional(c)
        .await)?)
}

/// Adds an alert to a waiting bundle; false when it is already in it.
pub async fn add_to_bundle(
    tx: &mut Tx,
    outbox_id: i64,
    alert_id: &str,
) -> Result<bool, StoreError> {
    const SQL: &str = "insert into outbox_items (outbox_id, alert_id) values ($1, $2) \
        on conflict (outbox_id, alert_id) do nothing";
    let n = on_tx!(tx, |c| sqlx::query(SQL)
        .bind(outbox_id)
        .bind(alert_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// The id of the row with this idempotency key.
pub async fn message_id(tx: &mut Tx, key: &str) -> Result<i64, StoreError> {
    const SQL: &str = "select id from outbox where idempotency_key = $1";
    let (id,): (i64,) = on_tx!(tx, |c| sqlx::query_as(SQL).bind(key).fetch_one(c).await)?;
    Ok(id)
}

/// Every alert a row is about: its own, then a bundle's others, in the order they joined.
pub async fn message_alerts(db: &Db, row: &OutboxRow) -> Result<Vec<String>, StoreError> {
    const SQL: &str = "select alert_id from outbox_items where outbox_id = $1 order by alert_id";
    let rows: Vec<(String,)> = on_db!(db, |p| sqlx::query_as(SQL).bind(row.id).fetch_all(p).await)?;
    let mut ids = vec![row.alert_id.clone()];
    ids.extend(
        rows.into_iter()
            .map(|(a,)| a)
            .filter(|a| *a != row.alert_id),
    );
    Ok(ids)
}

/// How many of a row's alerts (its own, and a bundle's others) still wait for someone.
pub async fn triggered_in(db: &Db, row: &OutboxRow) -> Result<i64, StoreError> {
    const SQL: &str = "select count(*) from alerts where status = 'triggered' and (id = $1 \
        or id in (select alert_id from outbox_items where outbox_id = $2))";
    let (n,): (i64,) = on_db!(db, |p| sqlx::query_as(SQL)
        .bind(&row.alert_id)
        .bind(row.id)
        .fetch_one(p)
        .await)?;
    Ok(n)
}

pub(super) const COLUMNS: &str = "id, idempotency_key, alert_id, person_id, level, round, kind, \
    created_at, next_attempt_at, attempts, status, last_error, sent_at, service_id, \
    contact_method_id, channel";

#[derive(sqlx::FromRow)]
pub(super) struct Row {
    id: i64,
    idempotency_key: String,
    alert_id: String,
    person_id: String,
    level: i64,
    round: i64,
    kind: String,
    created_at: i64,
    next_attempt_at: i64,
    attempts: i64,
    status: String,
    last_error: Option<String>,
    sent_at: Option<i64>,
    service_id: String,
    contact_method_id: Option<String>,
    channel: String,
}

impl From<Row> for OutboxRow {
    fn from(r: Row) -> Self {
        Self {
            id: r.id,
            idempotency_key: r.idempotency_key,
            alert_id: r.alert_id,
            person_id: r.person_id,
            level: usize::try_from(r.level).unwrap_or(usize::MAX),
            round: u32::try_from(r.round).unwrap_or(u32::MAX),
            kind: r.kind,
            created_at: r.created_at,
            next_attempt_at: r.next_attempt_at,
            attempts: u32::try_from(r.attempts).unwrap_or(u32::MAX),
            status: r.status,
            last_error: r.last_error,
            sent_at: r.sent_at,
            service_id: r.service_id,
            contact_method_id: r.contact_method_id,
            channel: r.channel,
        }
    }
}

/// Leases up to `limit` pending rows due at `now` to `owner` (see the module comment of
/// `engine::store`), oldest due first.
pub async fn claim_outbox(
    db: &Db,
    owner: &str,
    now: i64,
    lease_until: i64,
    limit: i64,
) -> Result<Vec<OutboxRow>, StoreError> {
    const ANY: &str = "select 1 from outbox where status = 'pending' \
        and next_attempt_at <= $1 and (lease_until is null or lease_until < $1) limit 1";
    if !db.any_due(ANY, now).await? {
        return Ok(Vec::new());
    }
    const DUE: &str = "status = 'pending' and next_attempt_at <= $3 \
        and (lease_until is null or lease_until < $3)";
    let sql = format!(
        "update outbox set lease_owner = $1, lease_until = $2 where id in \
        (select id from outbox where {DUE} order by next_attempt_at, id limit $4) and {DUE} \
        returning {COLUMNS}"
    );
    let rows: Vec<Row> = on_db!(db, |p| sqlx::query_as(AssertSqlSafe(sql))
        .bind(owner)
        .bind(lease_until)
        .bind(now)
        .bind(limit)
        .fetch_all(p)
        .await)?;
    let mut out: Vec<OutboxRow> = rows.into_iter().map(OutboxRow::from).collect();
    // RETURNING promises no order.
    out.sort_by_key(|r| (r.next_attempt_at, r.id));
    Ok(out)
}

/// Records a delivery; false when `owner` no longer holds the row's lease (it expired and
/// another owner took the row: that owner's outcome counts).
pub async fn outbox_sent(db: &Db, id: i64, owner: &str, now: i64) -> Result<bool, StoreError> {
    const SQL: &str = "update outbox set status = 'sent', sent_at = $3, attempts = attempts + 1, \
        last_error = null, lease_owner = null, lease_until = null \
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

/// Records a failed attempt: retried at `retry_at`, or given up (status failed) when None.
pub async fn outbox_failed(
    db: &Db,
    id: i64,
    owner: &str,
    error: &str,
    retry_at: Option<i64>,
) -> Result<bool, StoreError> {
    const SQL: &str = "update outbox set attempts = attempts + 1, last_error = $3, \
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

/// Withdraws a claimed row unsent, saying why (the alert was acknowledged meanwhile).
pub async fn outbox_cancelled(
    db: &Db,
    id: i64,
    owner: &str,
    why: &str,
) -> Result<bool, StoreError> {
    const SQL: &str = "update outbox set status = 'cancelled', last_error = $3, \
        lease_owner = null, lease_until = null \
        where id = $1 and lease_owner = $2 and status = 'pending'";
    let n = on_db!(db, |p| sqlx::query(SQL)
        .bind(id)
        .bind(owner)
        .bind(why)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// Keeps one attempt for the alert page.
pub async fn record_attempt(db: &Db, a: &Attempt) -> Result<(), StoreError> {
    const SQL: &str = "insert into outbox_attempts (outbox_id, at, ok, error, duration_ms) \
        values ($1, $2, $3, $4, $5)";
    on_db!(db, |p| sqlx::query(SQL)
        .bind(a.outbox_id)
        .bind(a.at)
        .bind(a.ok)
        .bind(a.error.as_deref())
        .bind(a.duration_ms)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// An alert's outbox rows, oldest first (bundles it joined included).
pub async fn outbox_for_alert(db: &Db, alert_id: &str) -> Result<Vec<OutboxRow>, StoreError> {
    let sql = format!(
        "select {COLUMNS} from outbox where alert_id = $1 or id in \
        (select outbox_id from outbox_items where alert_id = $1) order by id"
    );
    let rows: Vec<Row> = on_db!(db, |p| sqlx::query_as(AssertSqlSafe(sql))
        .bind(alert_id)
        .fetch_all(p)
        .await)?;
    Ok(rows.into_iter().map(OutboxRow::from).collect())
}

/// Every attempt at delivering an alert's messages, oldest first.
pub async fn attempts_for_alert(db: &Db, alert_id: &str) -> Result<Vec<Attempt>, StoreError> {
    const SQL: &str = "select a.outbox_id, a.at, a.ok, a.error, a.duration_ms \
        from outbox_attempts a join outbox o on o.id = a.outbox_id \
        where o.alert_id = $1 or o.id in (select outbox_id from outbox_items where alert_id = $1) \
        order by a.id";
    type T = (i64, i64, bool, Option<String>, i64);
    let rows: Vec<T> = on_db!(db, |p| sqlx::query_as(SQL)
        .bind(alert_id)
        .fetch_all(p)
        .await)?;
    Ok(rows
        .into_iter()
        .map(|(outbox_id, at, ok, error, duration_ms)| Attempt {
            outbox_id,
            at,
            ok,
            error,
            duration_ms,
        })
        .collect())
}

/// The newest messages that were given up on: the dashboard's "failed pages". Failed tests
/// are left out: they are about no alert, and their person sees them next to the method.
pub async fn failed_messages(db: &Db, limit: i64) -> Result<Vec<OutboxRow>, StoreError> {
    let sql = format!(
        "select {COLUMNS} from outbox where status = 'failed' and kind <> 'test' \
        order by id desc limit $1"
    );
    let rows: Vec<Row> = on_db!(db, |p| sqlx::query_as(AssertSqlSafe(sql))
        .bind(limit)
        .fetch_all(p)
        .await)?;
    Ok(rows.into_iter().map(OutboxRow::from).collect())
}

/// Rows per status, for `/metrics`.
pub async fn outbox_counts(db: &Db) -> Result<Vec<(String, i64)>, StoreError> {
    const SQL: &str = "select status, count(*) from outbox group by status order by status";
    Ok(on_db!(db, |p| sqlx::query_as(SQL).fetch_all(p).await)?)
}
