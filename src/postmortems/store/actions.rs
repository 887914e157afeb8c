//! Action-item SQL: items of one postmortem, the cross-postmortem list behind the action-items
//! page, and the backlog fields (link and last-read state) the backlog sync writes.

use crate::db::{Db, StoreError, Tx};
use crate::{on_db, on_tx};

use super::super::{ActionItem, ActionKind};

const COLUMNS: &str = "id, incident_id, title, kind, owner, team, due_at, status, backlog_kind, \
    backlog_key, backlog_url, backlog_state, backlog_error, refreshed_at, created_at, \
    created_by, updated_at";

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    incident_id: i64,
    title: String,
    kind: String,
    owner: String,
    team: String,
    due_at: Option<i64>,
    status: String,
    backlog_kind: Option<String>,
    backlog_key: Option<String>,
    backlog_url: Option<String>,
    backlog_state: Option<String>,
    backlog_error: Option<String>,
    refreshed_at: Option<i64>,
    created_at: i64,
    created_by: String,
    updated_at: i64,
}

fn from_row(r: Row) -> ActionItem {
    ActionItem {
        id: r.id,
        incident_id: r.incident_id,
        title: r.title,
        kind: ActionKind::parse(&r.kind).unwrap_or(ActionKind::Process),
        owner: r.owner,
        team: r.team,
        due_at: r.due_at,
        status: r.status,
        backlog_kind: r.backlog_kind,
        backlog_key: r.backlog_key,
        backlog_url: r.backlog_url,
        backlog_state: r.backlog_state,
        backlog_error: r.backlog_error,
        refreshed_at: r.refreshed_at,
        created_at: r.created_at,
        created_by: r.created_by,
        updated_at: r.updated_at,
    }
}

pub async fn insert(tx: &mut Tx, a: &ActionItem) -> Result<i64, StoreError> {
    const SQL: &str = "insert into postmortem_actions (incident_id, title, kind, owner, team, \
        due_at, status, created_at, created_by, updated_at) \
        values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) returning id";
    let (id,): (i64,) = on_tx!(tx, |c| sqlx::query_as(SQL)
        .bind(a.incident_id)
        .bind(&a.title)
        .bind(a.kind.as_str())
        .bind(&a.owner)
        .bind(&a.team)
        .bind(a.due_at)
        .bind(&a.status)
        .bind(a.created_at)
        .bind(&a.created_by)
        .bind(a.updated_at)
        .fetch_one(c)
        .await)?;
    Ok(id)
}

/// Writes what people edit: title, kind, owner, team, due date, status.
pub async fn update(tx: &mut Tx, a: &ActionItem) -> Result<(), StoreError> {
    const SQL: &str = "update postmortem_actions set title = $2, kind = $3, owner = $4, \
        team = $5, due_at = $6, status = $7, updated_at = $8 where id = $1";
    let n = on_tx!(tx, |c| sqlx::query(SQL)
        .bind(a.id)
        .bind(&a.title)
        .bind(a.kind.as_str())
        .bind(&a.owner)
        .bind(&a.team)
        .bind(a.due_at)
        .bind(&a.status)
        .bind(a.updated_at)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub async fn delete(tx: &mut Tx, incident: i64, id: i64) -> Result<bool, StoreError> {
    const SQL: &str = "delete from postmortem_actions where id = $1 and incident_id = $2";
    let n = on_tx!(tx, |c| sqlx::query(SQL)
        .bind(id)
        .bind(incident)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// What the backlog said about an item: its link once created, its state at each refresh,
/// or why the last attempt failed (the link and state are kept then).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BacklogUpdate {
    pub kind: Option<String>,
    pub key: Option<String>,
    pub url: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
}

pub async fn set_backlog(db: &Db, id: i64, b: &BacklogUpdate, now: i64) -> Result<(), StoreError> {
    const SQL: &str = "update postmortem_actions set \
        backlog_kind = coalesce($2, backlog_kind), backlog_key = coalesce($3, backlog_key), \
        backlog_url = coalesce($4, backlog_url), backlog_state = coalesce($5, backlog_state), \
        backlog_error = $6, refreshed_at = $7 where id = $1";
    on_db!(db, |p| sqlx::query(SQL)
        .bind(id)
        .bind(&b.kind)
        .bind(&b.key)
        .bind(&b.url)
        .bind(&b.state)
        .bind(&b.error)
        .bind(now)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn get(tx: &mut Tx, id: i64) -> Result<ActionItem, StoreError> {
    let sql = format!("select {COLUMNS} from postmortem_actions where id = $1");
    let row: Row = on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_one(c)
        .await)?;
    Ok(from_row(row))
}

/// The items of one postmortem, oldest first.
pub async fn of(tx: &mut Tx, incident: i64) -> Result<Vec<ActionItem>, StoreError> {
    let sql =
        format!("select {COLUMNS} from postmortem_actions where incident_id = $1 order by id");
    let rows: Vec<Row> = on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(incident)
        .fetch_all(c)
        .await)?;
    Ok(rows.into_iter().map(from_row).collect())
}

/// Every item across postmortems (open ones first when `open_only` is false), for the
/// action-items page and the backlog sync.
pub async fn all(db: &Db, open_only: bool, limit: u32) -> Result<Vec<ActionItem>, StoreError> {
    let sql = format!(
        "select {COLUMNS} from postmortem_actions where ($1 = 0 or (status = 'open' \
        and coalesce(backlog_state, 'open') <> 'closed')) \
        order by case when status = 'open' then 0 else 1 end, due_at, id limit $2"
    );
    let rows: Vec<Row> = on_db!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(i64::from(open_only))
        .bind(i64::from(limit.clamp(1, 10_000)))
        .fetch_all(p)
        .await)?;
    Ok(rows.into_iter().map(from_row).collect())
}
