//! Response-target SQL: an alert's deadline to be acknowledged (from its severity's level,
//! set when it opens) and the breach recorded when the deadline passes unanswered, either by
//! the engine's tick or by a late acknowledgement that beats the tick to it. The level's
//! declare policy is read by the same query: the watch it implies is written through
//! `incidents::store::deadlines`.

use crate::db::{Db, StoreError, Tx};
use crate::on_tx;
use crate::severity::Declare;

/// Sets a new alert's response deadline from the severity level covering its severity, and
/// when that level declares incidents on its own (`immediately`, `after_minutes`), watches
/// the alert for the engine's deadline tick. One query finds the level; a write follows only
/// for what the level sets. The target in minutes, or None when no level sets one.
pub async fn set_response_due(
    tx: &mut Tx,
    alert_id: &str,
    now: i64,
) -> Result<Option<i64>, StoreError> {
    use crate::incidents::store::deadlines;
    let Some((level, target, declare)) = deadlines::level_of_alert(tx, alert_id).await? else {
        return Ok(None);
    };
    // A policy stored by a newer version reads as manual: nothing is declared behind
    // people's backs.
    let declare = serde_json::from_str(&declare).unwrap_or(Declare::Manually);
    if let Some(due) = crate::incidents::deadlines::declare_due(declare, now) {
        deadlines::watch(tx, alert_id, &level, due).await?;
    }
    let Some(minutes) = target else {
        return Ok(None);
    };
    const SQL: &str = "update alerts set response_due_at = $2 where id = $1";
    on_tx!(tx, |c| sqlx::query(SQL)
        .bind(alert_id)
        .bind(now.saturating_add(minutes.saturating_mul(60_000)))
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(Some(minutes))
}

/// Records the breach of an alert answered (acknowledged or resolved) after its deadline, if
/// the tick has not already; the deadline when it did.
pub async fn breach_if_late(
    tx: &mut Tx,
    alert_id: &str,
    now: i64,
) -> Result<Option<i64>, StoreError> {
    const SQL: &str = "update alerts set breached_at = response_due_at where id = $1 \
        and breached_at is null and response_due_at < $2 returning response_due_at";
    let row: Option<(i64,)> = on_tx!(tx, |c| sqlx::query_as(SQL)
        .bind(alert_id)
        .bind(now)
        .fetch_optional(c)
        .await)?;
    Ok(row.map(|(due,)| due))
}

/// Marks every triggered alert whose deadline has passed as breached, logging each; how many.
pub async fn mark_breaches(db: &Db, now: i64) -> Result<usize, StoreError> {
    const SQL: &str = "update alerts set breached_at = response_due_at \
        where status = 'triggered' and breached_at is null and response_due_at <= $1 \
        returning id, response_due_at, created_at";
    const ANY: &str = "select 1 from alerts where status = 'triggered' \
        and breached_at is null and response_due_at <= $1 limit 1";
    if !db.any_due(ANY, now).await? {
        return Ok(0);
    }
    let mut tx = db.begin().await?;
    let rows: Vec<(String, i64, i64)> = on_tx!(&mut tx, |c| sqlx::query_as(SQL)
        .bind(now)
        .fetch_all(c)
        .await)?;
    for (id, due, created) in &rows {
        let minutes = (due - created) / 60_000;
        let detail =
            format!("response target of {minutes} minutes missed: not acknowledged in time");
        super::log(&mut tx, id, *due, "breach", &detail).await?;
    }
    tx.commit().await?;
    Ok(rows.len())
}
