//! SQL for the audit log.

use crate::clock::Millis;
use crate::db::{Db, StoreError, Tx};
use crate::{on_db, on_tx};

use super::Entry;

const INSERT: &str =
    "insert into audit_log (at, actor, action, target, detail) values ($1, $2, $3, $4, $5)";

/// Records an entry inside the transaction that made the change, so neither exists alone.
pub async fn record(
    tx: &mut Tx,
    at: Millis,
    actor: &str,
    action: &str,
    target: &str,
    detail: &str,
) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(INSERT)
        .bind(at)
        .bind(actor)
        .bind(action)
        .bind(target)
        .bind(detail)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Records many entries by one actor at one instant inside `tx`, a few statements in all (a
/// catalog apply can make thousands of changes).
pub async fn record_many(
    tx: &mut Tx,
    at: Millis,
    actor: &str,
    entries: &[(String, String, String)],
) -> Result<(), StoreError> {
    for chunk in entries.chunks(1000) {
        on_tx!(tx, |c| {
            let mut q = sqlx::QueryBuilder::new(
                "insert into audit_log (at, actor, action, target, detail) ",
            );
            q.push_values(chunk, |mut b, (action, target, detail)| {
                b.push_bind(at)
                    .push_bind(actor)
                    .push_bind(action)
                    .push_bind(target)
                    .push_bind(detail);
            });
            q.build().execute(c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}

/// Records an entry on its own (logins, which change nothing else).
pub async fn record_now(
    db: &Db,
    at: Millis,
    actor: &str,
    action: &str,
    target: &str,
    detail: &str,
) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    record(&mut tx, at, actor, action, target, detail).await?;
    tx.commit().await
}

/// The newest entries first, `limit` at most, older than `before_id` when paging.
pub async fn list(db: &Db, limit: i64, before_id: Option<i64>) -> Result<Vec<Entry>, StoreError> {
    const SQL: &str = "select id, at, actor, action, target, detail from audit_log \
        where id < $1 order by id desc limit $2";
    let rows: Vec<(i64, i64, String, String, String, String)> =
        on_db!(db, |p| sqlx::query_as(SQL)
            .bind(before_id.unwrap_or(i64::MAX))
            .bind(limit)
            .fetch_all(p)
            .await)?;
    Ok(rows
        .into_iter()
        .map(|(id, at, actor, action, target, detail)| Entry {
            id,
            at,
            actor,
            action,
            target,
            detail,
        })
        .collect())
}
