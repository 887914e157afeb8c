//! SQL for what alert rules add to alerts: the rule, playbook and auto-resolve deadline of each
//! alert, the queue of automatic actions (claimed with a lease, like the outbox in
//! `engine/store.rs`), auto-resolution, and the counts behind "candidates for automation".

use sqlx::AssertSqlSafe;

use crate::alerts::lifecycle::PersonAction;
use crate::alerts::rules::Routed;
use crate::clock::Millis;
use crate::db::{Db, StoreError, Tx};
use crate::{on_db, on_tx};

use super::Request;

pub use crate::alerts::store::log;

/// The service of the open alert this integration raised under `key`, if any.
pub async fn open_service(
    tx: &mut Tx,
    integration: &str,
    key: &str,
) -> Result<Option<String>, StoreError> {
    const SQL: &str = "select service_id from alerts where integration_id = $1 \
        and dedup_key = $2 and status <> 'resolved'";
    let rows: Vec<(String,)> = on_tx!(tx, |c| sqlx::query_as(SQL)
        .bind(integration)
        .bind(key)
        .fetch_all(c)
        .await)?;
    Ok(rows.into_iter().next().map(|(s,)| s))
}

/// Records what the rules decided for a new alert.
pub async fn set_routing(
    tx: &mut Tx,
    alert: &str,
    routed: &Routed,
    auto_resolve_at: Option<Millis>,
) -> Result<(), StoreError> {
    const SQL: &str =
        "update alerts set rule_id = $2, playbook_id = $3, auto_resolve_at = $4 where id = $1";
    on_tx!(tx, |c| sqlx::query(SQL)
        .bind(alert)
        .bind(&routed.rule)
        .bind(&routed.playbook)
        .bind(auto_resolve_at)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// A repeat moves the deadline: the source is still sending.
pub async fn move_deadline(
    tx: &mut Tx,
    alert: &str,
    auto_resolve_at: Option<Millis>,
) -> Result<(), StoreError> {
    const SQL: &str = "update alerts set auto_resolve_at = $2 where id = $1";
    on_tx!(tx, |c| sqlx::query(SQL)
        .bind(alert)
        .bind(auto_resolve_at)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// What the rules decided for an alert.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Routing {
    pub rule: Option<String>,
    pub playbook: Option<String>,
    pub auto_resolve_at: Option<i64>,
}

/// NotFound when there is no such alert.
pub async fn routing(db: &Db, alert: &str) -> Result<Routing, StoreError> {
    const SQL: &str = "select rule_id, playbook_id, auto_resolve_at from alerts where id = $1";
    let (rule, playbook, auto_resolve_at): (Option<String>, Option<String>, Option<i64>) =
        on_db!(db, |p| sqlx::query_as(SQL).bind(alert).fetch_one(p).await)?;
    Ok(Routing {
        rule,
        playbook,
        auto_resolve_at,
    })
}

/// Queues an automatic action (once per alert and step).
pub async fn queue(
    tx: &mut Tx,
    alert: &str,
    playbook: &str,
    step: i64,
    name: &str,
    req: &Request,
    now: Millis,
) -> Result<(), StoreError> {
    const SQL: &str = "insert into automation_runs \
        (alert_id, playbook_id, step, name, request, created_at, due_at, status) \
        values ($1, $2, $3, $4, $5, $6, $6, 'pending') on conflict (alert_id, step) do nothing";
    let request = serde_json::to_string(req).map_err(|e| StoreError::Config(e.to_string()))?;
    on_tx!(tx, |c| sqlx::query(SQL)
        .bind(alert)
        .bind(playbook)
        .bind(step)
        .bind(name)
        .bind(&request)
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// [`queue`] for the automatic actions of several new alerts at once: (alert, playbook, step,
/// name, request) each, due at `now`.
pub async fn queue_many(
    tx: &mut Tx,
    runs: &[(&str, &str, i64, &str, &Request)],
    now: Millis,
) -> Result<(), StoreError> {
    let requests = runs
        .iter()
        .map(|r| serde_json::to_string(r.4).map_err(|e| StoreError::Config(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    let per_statement = crate::db::MAX_BINDS / 7;
    for (runs, requests) in runs
        .chunks(per_statement)
        .zip(requests.chunks(per_statement))
    {
        on_tx!(&mut *tx, |c| {
            let mut q = sqlx::QueryBuilder::new(
                "insert into automation_runs \
                (alert_id, playbook_id, step, name, request, created_at, due_at, status) ",
            );
            q.push_values(runs.iter().zip(requests), |mut b, (r, request)| {
                b.push_bind(r.0)
                    .push_bind(r.1)
                    .push_bind(r.2)
                    .push_bind(r.3)
                    .push_bind(request)
                    .push_bind(now)
                    .push_bind(now)
                    .push("'pending'");
            });
            q.push(" on conflict (alert_id, step) do nothing");
            q.build().execute(c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}

/// A claimed automatic action.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Claimed {
    pub id: i64,
    pub alert_id: String,
    pub name: String,
    pub request: String,
    pub attempts: i64,
}

/// Leases up to `limit` due, unleased runs to `owner` until `lease_until`. The condition is
/// repeated outside the sub-select so PostgreSQL re-checks it on rows another instance
/// claimed meanwhile (see `engine/store.rs`).
pub async fn claim_due(
    db: &Db,
    owner: &str,
    now: Millis,
    lease_until: Millis,
    limit: i64,
) -> Result<Vec<Claimed>, StoreError> {
    const ANY: &str = "select 1 from automation_runs where status = 'pending' \
        and due_at <= $1 and (lease_until is null or lease_until < $1) limit 1";
    if !db.any_due(ANY, now).await? {
        return Ok(Vec::new());
    }
    const DUE: &str =
        "status = 'pending' and due_at <= $3 and (lease_until is null or lease_until < $3)";
    let sql = format!(
        "update automation_runs set lease_owner = $1, lease_until = $2 where id in \
        (select id from automation_runs where {DUE} order by due_at, id limit $4) and {DUE} \
        returning id, alert_id, name, request, attempts"
    );
    let mut rows: Vec<Claimed> = on_db!(db, |p| sqlx::query_as(AssertSqlSafe(sql))
        .bind(owner)
        .bind(lease_until)
        .bind(now)
        .bind(limit)
        .fetch_all(p)
        .await)?;
    rows.sort_by_key(|r| r.id);
    Ok(rows)
}

/// What happens to a run after an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    Done,
    Retry(Millis),
    Failed,
}

/// Records an attempt, if `owner` still holds the run (false otherwise: its lease expired and
/// another instance took it over, whose outcome counts).
pub async fn finish(
    tx: &mut Tx,
    id: i64,
    owner: &str,
    next: Next,
    now: Millis,
) -> Result<bool, StoreError> {
    const SQL: &str = "update automation_runs set attempts = attempts + 1, status = $3, \
        due_at = $4, finished_at = $5, lease_owner = null, lease_until = null \
        where id = $1 and lease_owner = $2 and status = 'pending' returning id";
    let (status, due, finished) = match next {
        Next::Done => ("done", now, Some(now)),
        Next::Retry(at) => ("pending", at, None),
        Next::Failed => ("failed", now, Some(now)),
    };
    let row: Option<(i64,)> = on_tx!(tx, |c| sqlx::query_as(SQL)
        .bind(id)
        .bind(owner)
        .bind(status)
        .bind(due)
        .bind(finished)
        .fetch_optional(c)
        .await)?;
    Ok(row.is_some())
}

/// Resolves, as actor `auto-resolve`, every open alert whose deadline has passed: logged, and
/// its escalation stopped (through `alerts::store::act`). Each in its own transaction, after
/// re-checking the deadline under the row lock, since a repeat may have just moved it.
pub async fn auto_resolve_due(db: &Db, now: Millis) -> Result<usize, StoreError> {
    const DUE: &str = "select id from alerts where status <> 'resolved' \
        and auto_resolve_at is not null and auto_resolve_at <= $1 order by auto_resolve_at, id \
        limit 100";
    const LOCK: &str = "update alerts set auto_resolve_at = auto_resolve_at where id = $1 \
        and status <> 'resolved' and auto_resolve_at <= $2 returning last_event_at";
    let due: Vec<(String,)> = on_db!(db, |p| sqlx::query_as(DUE).bind(now).fetch_all(p).await)?;
    let mut resolved = 0;
    for (id,) in due {
        let mut tx = db.begin().await?;
        let last: Option<(i64,)> = on_tx!(&mut tx, |c| sqlx::query_as(LOCK)
            .bind(&id)
            .bind(now)
            .fetch_optional(c)
            .await)?;
        let Some((last,)) = last else {
            tx.commit().await?;
            continue;
        };
        let why = format!(
            "not re-sent since {}: resolved at its deadline",
            crate::clock::format_ms(last)
        );
        log(&mut tx, &id, now, "auto-resolve", "auto-resolve", &why).await?;
        crate::alerts::store::act(&mut tx, &id, PersonAction::Resolve, "auto-resolve", now).await?;
        tx.commit().await?;
        resolved += 1;
    }
    Ok(resolved)
}

/// One group of alerts for the candidates audit: (service, alertname or summary, playbook).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fired {
    pub service: String,
    pub labels: String,
    pub summary: String,
    pub playbook: Option<String>,
}

/// Alerts created since `since`, the fields the candidates audit groups them by (at most
/// `limit`, newest first: the audit is about what fires often, recent history is enough).
pub async fn fired_since(db: &Db, since: Millis, limit: i64) -> Result<Vec<Fired>, StoreError> {
    const SQL: &str = "select service_id, labels, summary, playbook_id from alerts \
        where created_at >= $1 order by created_at desc limit $2";
    let rows: Vec<(String, String, String, Option<String>)> = on_db!(db, |p| sqlx::query_as(SQL)
        .bind(since)
        .bind(limit)
        .fetch_all(p)
        .await)?;
    Ok(rows
        .into_iter()
        .map(|(service, labels, summary, playbook)| Fired {
            service,
            labels,
            summary,
            playbook,
        })
        .collect())
}
