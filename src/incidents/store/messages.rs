//! The incident outbox's SQL: messages to chat channels, subscribers and role holders, written
//! in the transaction of the change they announce. Each row carries its rendered body (JSON
//! for chat and webhooks, text for email), so delivery only sends it, and a later edit of the
//! incident cannot change what a queued message says.

use serde::Serialize;
use utoipa::ToSchema;

use crate::db::{StoreError, Tx};
use crate::on_tx;

/// A message to queue.
#[derive(Clone, Debug)]
pub struct NewMessage<'a> {
    /// Unique per message: a redone command queues nothing twice.
    pub key: &'a str,
    /// email, webhook, slack or mattermost.
    pub channel: &'a str,
    /// An address or a URL.
    pub target: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
    pub created_at: i64,
    pub send_at: i64,
}

/// Queues a message; false when one with its key exists.
pub async fn insert(tx: &mut Tx, incident: i64, m: &NewMessage<'_>) -> Result<bool, StoreError> {
    const SQL: &str = "insert into incident_messages (incident_id, idempotency_key, channel, \
        target, subject, body, created_at, next_attempt_at, attempts, status) \
        values ($1, $2, $3, $4, $5, $6, $7, $8, 0, 'pending') \
        on conflict (idempotency_key) do nothing";
    let n = on_tx!(tx, |c| sqlx::query(SQL)
        .bind(incident)
        .bind(m.key)
        .bind(m.channel)
        .bind(m.target)
        .bind(m.subject)
        .bind(m.body)
        .bind(m.created_at)
        .bind(m.send_at)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// A queued or delivered message, as the incident page and tests see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Message {
    pub id: i64,
    pub channel: String,
    pub target: String,
    pub subject: String,
    pub body: String,
    pub created_at: i64,
    pub next_attempt_at: i64,
    pub attempts: i64,
    /// pending, sent or failed.
    pub status: String,
    pub last_error: Option<String>,
    pub sent_at: Option<i64>,
}

pub const COLUMNS: &str = "id, channel, target, subject, body, created_at, next_attempt_at, \
    attempts, status, last_error, sent_at";

pub type Row = (
    i64,
    String,
    String,
    String,
    String,
    i64,
    i64,
    i64,
    String,
    Option<String>,
    Option<i64>,
);

pub fn from_row(r: Row) -> Message {
    Message {
        id: r.0,
        channel: r.1,
        target: r.2,
        subject: r.3,
        body: r.4,
        created_at: r.5,
        next_attempt_at: r.6,
        attempts: r.7,
        status: r.8,
        last_error: r.9,
        sent_at: r.10,
    }
}

/// The incident's messages, oldest first.
pub async fn for_incident(tx: &mut Tx, incident: i64) -> Result<Vec<Message>, StoreError> {
    let sql = format!("select {COLUMNS} from incident_messages where incident_id = $1 order by id");
    let rows: Vec<Row> = on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(incident)
        .fetch_all(c)
        .await)?;
    Ok(rows.into_iter().map(from_row).collect())
}
