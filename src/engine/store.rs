//! All engine SQL: escalation rows (start, stop, claim, advance) and outbox rows (insert,
//! claim, sent, failed), plus the engine's entries in an alert's log.
//!
//! Claims are leases, not row locks held across work: `update … set lease_owner, lease_until
//! where <due and unleased> … returning`. The same statement runs on SQLite (where writers are
//! serialised anyway) and on PostgreSQL, where two instances claiming at once both run it and
//! the second, after waiting on the first's row locks, re-checks the outer `where` against the
//! committed rows (READ COMMITTED re-evaluation) and skips what the first took. That is why
//! the due-and-unleased condition appears twice: the sub-select picks candidates, the outer
//! `where` is what PostgreSQL re-checks. A crashed owner's lease simply expires.

use sqlx::AssertSqlSafe;

use crate::alerts::lifecycle::Transition;
use crate::db::{Db, StoreError, Tx};
use crate::escalation::engine::Cursor;
use crate::{on_db, on_tx};

mod outbox;
mod step;
mod target;
mod test_messages;
pub use outbox::*;
pub use step::*;
pub use target::*;
pub use test_messages::*;

/// The escalation policy that answers for `service` (its own, else its owner team's), if that
/// policy exists. The same rule as `Catalog::policy_for_service`, in one query, so ingestion
/// does not load the whole catalog per alert.
pub async fn policy_for_service(tx: &mut Tx, service: &str) -> Result<Option<String>, StoreError> {
    const SQL: &str = "select p.id from services s left join teams t on t.id = s.owner_team \
        join escalation_policies p on p.id = coalesce(s.escalation_policy, t.escalation_policy) \
        where s.id = $1";
    let row: Option<(String,)> = on_tx!(tx, |c| sqlx::query_as(SQL)
        .bind(service)
        .fetch_optional(c)
        .await)?;
    Ok(row.map(|(id,)| id))
}

/// [`policy_for_service`] for several services at once: service id → policy id, for those
/// that have one (ingest batches ask once for all their new alerts).
pub async fn policies_for_services(
    tx: &mut Tx,
    services: &[&str],
) -> Result<std::collections::HashMap<String, String>, StoreError> {
    let mut found = std::collections::HashMap::new();
    for services in services.chunks(crate::db::MAX_BINDS) {
        on_tx!(&mut *tx, |c| {
            let mut q = sqlx::QueryBuilder::new(
                "select s.id, p.id from services s left join teams t on t.id = s.owner_team \
                join escalation_policies p \
                on p.id = coalesce(s.escalation_policy, t.escalation_policy) where s.id in (",
            );
            let mut list = q.separated(", ");
            for s in services {
                list.push_bind(*s);
            }
            q.push(")");
            let rows: Vec<(String, String)> = q.build_query_as().fetch_all(c).await?;
            found.extend(rows);
            Ok::<_, sqlx::Error>(())
        })?;
    }
    Ok(found)
}

/// [`start_escalation`]'s row for several new alerts at once, (alert, policy) each, level 0
/// due at `now`. The response deadlines and the "no escalation policy" lines are the caller's
/// (`alerts::bulk` writes them with the alerts and their logs).
pub async fn start_escalations(
    tx: &mut Tx,
    rows: &[(&str, &str)],
    now: i64,
) -> Result<(), StoreError> {
    for rows in rows.chunks(crate::db::MAX_BINDS / 3) {
        on_tx!(&mut *tx, |c| {
            let mut q = sqlx::QueryBuilder::new(
                "insert into escalations \
                (alert_id, policy_id, next_level, round, next_at, state, started_at) ",
            );
            q.push_values(rows, |mut b, (alert, policy)| {
                b.push_bind(*alert)
                    .push_bind(*policy)
                    .push("0, 0")
                    .push_bind(now)
                    .push("'active'")
                    .push_bind(now);
            });
            q.push(" on conflict (alert_id) do nothing");
            q.build().execute(c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}

/// Starts escalating a new alert inside the transaction that created it: level 0 is due at
/// once. Returns the policy, or None (logged on the alert) when the service has none.
pub async fn start_escalation(
    tx: &mut Tx,
    alert_id: &str,
    service: &str,
    now: i64,
) -> Result<Option<String>, StoreError> {
    set_response_due(tx, alert_id, now).await?;
    let Some(policy) = policy_for_service(tx, service).await? else {
        log(tx, alert_id, now, "escalation", "no escalation policy").await?;
        return Ok(None);
    };
    const SQL: &str = "insert into escalations \
        (alert_id, policy_id, next_level, round, next_at, state, started_at) \
        values ($1, $2, 0, 0, $3, 'active', $3) on conflict (alert_id) do nothing";
    on_tx!(tx, |c| sqlx::query(SQL)
        .bind(alert_id)
        .bind(&policy)
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(Some(policy))
}

/// Escalates `alert_id` through `policy` instead of its service's (an incident paging another
/// team through that team's policy), level 0 due at once.
pub async fn escalate_with(
    tx: &mut Tx,
    alert_id: &str,
    policy: &str,
    now: i64,
) -> Result<(), StoreError> {
    const SQL: &str = "insert into escalations \
        (alert_id, policy_id, next_level, round, next_at, state, started_at) \
        values ($1, $2, 0, 0, $3, 'active', $3) on conflict (alert_id) do update set \
        policy_id = excluded.policy_id, next_level = 0, round = 0, next_at = excluded.next_at, \
        state = 'active'";
    on_tx!(tx, |c| sqlx::query(SQL)
        .bind(alert_id)
        .bind(policy)
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Stops an alert's escalation inside the transaction that acknowledged or resolved it; false
/// when there was nothing active to stop. On PostgreSQL this waits for a tick that is paging
/// the alert right now, so a page is either committed before the stop or never written.
pub async fn stop_escalation(tx: &mut Tx, alert_id: &str, now: i64) -> Result<bool, StoreError> {
    const SQL: &str = "update escalations set state = 'stopped', stopped_at = $2, \
        lease_owner = null, lease_until = null where alert_id = $1 and state = 'active'";
    let n = on_tx!(tx, |c| sqlx::query(SQL)
        .bind(alert_id)
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// The hook for alert write paths: acknowledging or resolving stops escalation; a repeat
/// changes nothing.
pub async fn after_transition(
    tx: &mut Tx,
    alert_id: &str,
    transition: Transition,
    now: i64,
) -> Result<(), StoreError> {
    match transition {
        Transition::Acknowledge | Transition::Resolve => {
            stop_escalation(tx, alert_id, now).await?;
            if let Some(due) = breach_if_late(tx, alert_id, now).await? {
                let late = (now - due) / 60_000;
                let detail = format!("response target missed: answered {late} minutes late");
                log(tx, alert_id, due, "breach", &detail).await?;
                metrics::counter!("tocsin_response_target_breaches_total").increment(1);
            }
        }
        Transition::Repeat => {}
    }
    Ok(())
}

/// Leases up to `limit` due, unleased escalations to `owner` until `lease_until`; their ids.
pub async fn claim_escalations(
    db: &Db,
    owner: &str,
    now: i64,
    lease_until: i64,
    limit: i64,
) -> Result<Vec<String>, StoreError> {
    const ANY: &str = "select 1 from escalations where state = 'active' and next_at <= $1 \
        and (lease_until is null or lease_until < $1) limit 1";
    if !db.any_due(ANY, now).await? {
        return Ok(Vec::new());
    }
    const DUE: &str =
        "state = 'active' and next_at <= $3 and (lease_until is null or lease_until < $3)";
    let sql = format!(
        "update escalations set lease_owner = $1, lease_until = $2 where alert_id in \
        (select alert_id from escalations where {DUE} order by next_at limit $4) and {DUE} \
        returning alert_id"
    );
    let rows: Vec<(String,)> = on_db!(db, |p| sqlx::query_as(AssertSqlSafe(sql))
        .bind(owner)
        .bind(lease_until)
        .bind(now)
        .bind(limit)
        .fetch_all(p)
        .await)?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// An active escalation this owner holds the lease on, locked for the step's transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Held {
    pub alert_id: String,
    pub policy_id: String,
    pub cursor: Cursor,
}

/// Re-reads a claimed escalation under a row lock, first thing in the step's transaction.
/// None when it was stopped since the claim or the lease passed to another owner: whoever
/// wrote last decides, and this step does nothing.
pub async fn lock_held(
    tx: &mut Tx,
    alert_id: &str,
    owner: &str,
) -> Result<Option<Held>, StoreError> {
    const SQL: &str = "update escalations set lease_until = lease_until \
        where alert_id = $1 and lease_owner = $2 and state = 'active' \
        returning policy_id, next_level, round, next_at";
    let row: Option<(String, i64, i64, i64)> = on_tx!(tx, |c| sqlx::query_as(SQL)
        .bind(alert_id)
        .bind(owner)
        .fetch_optional(c)
        .await)?;
    Ok(row.map(|(policy_id, level, round, at)| Held {
        alert_id: alert_id.to_string(),
        policy_id,
        cursor: Cursor {
            level: usize::try_from(level).unwrap_or(usize::MAX),
            round: u32::try_from(round).unwrap_or(u32::MAX),
            at,
        },
    }))
}

/// Moves an escalation to `next`, or stops it (None: the policy is exhausted or gone), and
/// releases the lease.
pub async fn advance(
    tx: &mut Tx,
    alert_id: &str,
    next: Option<Cursor>,
    now: i64,
) -> Result<(), StoreError> {
    const MOVE: &str = "update escalations set next_level = $2, round = $3, next_at = $4, \
        lease_owner = null, lease_until = null where alert_id = $1";
    const STOP: &str = "update escalations set state = 'stopped', stopped_at = $2, \
        lease_owner = null, lease_until = null where alert_id = $1";
    on_tx!(tx, |c| match next {
        Some(n) => sqlx::query(MOVE)
            .bind(alert_id)
            .bind(i64::try_from(n.level).unwrap_or(i64::MAX))
            .bind(i64::from(n.round))
            .bind(n.at)
            .execute(c)
            .await
            .map(|r| r.rows_affected()),
        None => sqlx::query(STOP)
            .bind(alert_id)
            .bind(now)
            .execute(c)
            .await
            .map(|r| r.rows_affected()),
    })?;
    Ok(())
}

/// An escalation as stored, for tests and pages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EscalationState {
    pub policy_id: String,
    pub cursor: Cursor,
    /// active or stopped.
    pub state: String,
    pub lease_owner: Option<String>,
}

/// An alert's escalation, if it has one.
pub async fn escalation(db: &Db, alert_id: &str) -> Result<Option<EscalationState>, StoreError> {
    const SQL: &str = "select policy_id, next_level, round, next_at, state, lease_owner \
        from escalations where alert_id = $1";
    let row: Option<(String, i64, i64, i64, String, Option<String>)> =
        on_db!(db, |p| sqlx::query_as(SQL)
            .bind(alert_id)
            .fetch_optional(p)
            .await)?;
    Ok(row.map(
        |(policy_id, level, round, at, state, lease_owner)| EscalationState {
            policy_id,
            cursor: Cursor {
                level: usize::try_from(level).unwrap_or(usize::MAX),
                round: u32::try_from(round).unwrap_or(u32::MAX),
                at,
            },
            state,
            lease_owner,
        },
    ))
}

/// An engine entry in an alert's log (actor "engine").
pub async fn log(
    tx: &mut Tx,
    alert_id: &str,
    at: i64,
    kind: &str,
    detail: &str,
) -> Result<(), StoreError> {
    crate::alerts::store::log(tx, alert_id, at, kind, "engine", detail).await
}

/// The alert's service, when it opened and its response deadline (None when it is gone).
pub async fn alert_routing(
    tx: &mut Tx,
    alert_id: &str,
) -> Result<Option<(String, i64, Option<i64>)>, StoreError> {
    const SQL: &str = "select service_id, created_at, response_due_at from alerts where id = $1";
    Ok(on_tx!(tx, |c| sqlx::query_as(SQL)
        .bind(alert_id)
        .fetch_optional(c)
        .await)?)
}
