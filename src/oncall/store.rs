//! SQL for schedules (config as code: layers stored whole as JSON text) and overrides.

use crate::db::{Db, StoreError, Tx};
use crate::{on_db, on_tx};

use super::{Layer, Override, Schedule};

pub async fn load_schedules(tx: &mut Tx) -> Result<Vec<Schedule>, StoreError> {
    const SQL: &str = "select id, name, team, time_zone, layers from schedules order by id";
    let rows: Vec<(String, String, String, String, String)> =
        on_tx!(tx, |c| sqlx::query_as(SQL).fetch_all(&mut *c).await)?;
    rows.into_iter()
        .map(|(id, name, team, time_zone, layers)| {
            let layers: Vec<Layer> = serde_json::from_str(&layers)
                .map_err(|e| StoreError::Config(format!("schedule {id}: stored layers: {e}")))?;
            Ok(Schedule {
                id,
                name,
                team,
                time_zone,
                layers,
            })
        })
        .collect()
}

pub async fn upsert_schedule(tx: &mut Tx, s: &Schedule) -> Result<(), StoreError> {
    const SQL: &str = "insert into schedules (id, name, team, time_zone, layers) \
        values ($1, $2, $3, $4, $5) on conflict (id) do update set name = excluded.name, \
        team = excluded.team, time_zone = excluded.time_zone, layers = excluded.layers";
    let layers = serde_json::to_string(&s.layers).map_err(|e| StoreError::Config(e.to_string()))?;
    on_tx!(tx, |c| sqlx::query(SQL)
        .bind(&s.id)
        .bind(&s.name)
        .bind(&s.team)
        .bind(&s.time_zone)
        .bind(&layers)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

type OverrideRow = (
    String,
    String,
    i64,
    i64,
    String,
    Option<String>,
    String,
    String,
    i64,
);

fn override_from(r: OverrideRow) -> Override {
    let (id, schedule, start, end, person, replaces, reason, created_by, created_at) = r;
    Override {
        id,
        schedule,
        start,
        end,
        person,
        replaces,
        reason,
        created_by,
        created_at,
    }
}

const OVERRIDE_COLUMNS: &str =
    "id, schedule_id, start_ms, end_ms, person_id, replaces, reason, created_by, created_at";

/// Overrides of `schedule` (every schedule when None) that overlap [from, to), oldest first.
pub async fn overrides(
    db: &Db,
    schedule: Option<&str>,
    from: i64,
    to: i64,
) -> Result<Vec<Override>, StoreError> {
    const SQL: &str = "select id, schedule_id, start_ms, end_ms, person_id, replaces, reason, \
        created_by, created_at from overrides \
        where ($1 = '' or schedule_id = $1) and end_ms > $2 and start_ms < $3 \
        order by created_at, id";
    let rows: Vec<OverrideRow> = on_db!(db, |p| sqlx::query_as(SQL)
        .bind(schedule.unwrap_or(""))
        .bind(from)
        .bind(to)
        .fetch_all(p)
        .await)?;
    Ok(rows.into_iter().map(override_from).collect())
}

pub async fn insert_override(tx: &mut Tx, o: &Override) -> Result<(), StoreError> {
    let sql = format!(
        "insert into overrides ({OVERRIDE_COLUMNS}) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    );
    on_tx!(tx, |c| sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&o.id)
        .bind(&o.schedule)
        .bind(o.start)
        .bind(o.end)
        .bind(&o.person)
        .bind(&o.replaces)
        .bind(&o.reason)
        .bind(&o.created_by)
        .bind(o.created_at)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Deletes an override and returns it; NotFound when there is none with this id.
pub async fn delete_override(tx: &mut Tx, id: &str) -> Result<Override, StoreError> {
    const SQL: &str = "delete from overrides where id = $1 returning id, schedule_id, start_ms, \
        end_ms, person_id, replaces, reason, created_by, created_at";
    let row: OverrideRow = on_tx!(tx, |c| sqlx::query_as(SQL).bind(id).fetch_one(c).await)?;
    Ok(override_from(row))
}

// Calendar feed tokens (see `feeds.rs`).

use super::feeds::{FeedScope, FeedToken};

type FeedRow = (String, String, String, String, i64, Option<i64>);

const FEED_COLUMNS: &str = "id, scope, scope_id, created_by, created_at, revoked_at";

fn feed_from((id, scope, scope_id, created_by, created_at, revoked_at): FeedRow) -> FeedToken {
    FeedToken {
        id,
        // The column's check constraint allows only the two scopes.
        scope: FeedScope::parse(&scope).unwrap_or(FeedScope::Schedule),
        scope_id,
        created_by,
        created_at,
        revoked_at,
    }
}

pub async fn insert_feed_token(
    tx: &mut Tx,
    t: &FeedToken,
    token_hash: &str,
) -> Result<(), StoreError> {
    const SQL: &str = "insert into feed_tokens \
        (id, token_hash, scope, scope_id, created_by, created_at) values ($1, $2, $3, $4, $5, $6)";
    on_tx!(tx, |c| sqlx::query(SQL)
        .bind(&t.id)
        .bind(token_hash)
        .bind(t.scope.as_str())
        .bind(&t.scope_id)
        .bind(&t.created_by)
        .bind(t.created_at)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// The unrevoked feed token with this hash; NotFound otherwise.
pub async fn active_feed_token(db: &Db, token_hash: &str) -> Result<FeedToken, StoreError> {
    let sql = format!(
        "select {FEED_COLUMNS} from feed_tokens where token_hash = $1 and revoked_at is null"
    );
    let row: FeedRow = on_db!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(token_hash)
        .fetch_one(p)
        .await)?;
    Ok(feed_from(row))
}

/// Every feed token (revoked ones too), oldest first.
pub async fn list_feed_tokens(db: &Db) -> Result<Vec<FeedToken>, StoreError> {
    let sql = format!("select {FEED_COLUMNS} from feed_tokens order by created_at, id");
    let rows: Vec<FeedRow> = on_db!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .fetch_all(p)
        .await)?;
    Ok(rows.into_iter().map(feed_from).collect())
}

/// Revokes an unrevoked feed token and returns it; NotFound when there is none with this id.
pub async fn revoke_feed_token(tx: &mut Tx, id: &str, at: i64) -> Result<FeedToken, StoreError> {
    let sql = format!(
        "update feed_tokens set revoked_at = $2 where id = $1 and revoked_at is null \
        returning {FEED_COLUMNS}"
    );
    let row: FeedRow = on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(at)
        .fetch_one(c)
        .await)?;
    Ok(feed_from(row))
}
