//! Chat channel bindings' SQL (migration 0011): which incident a channel's commands act on
//! when they name none. One binding per channel; binding again replaces it.

use crate::db::{Db, StoreError, Tx};
use crate::{on_db, on_tx};

/// A channel on a chat platform: ids are unique only within a workspace (Slack team,
/// Mattermost team), so the team is part of the key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Channel<'a> {
    /// slack or mattermost.
    pub platform: &'a str,
    pub team_id: &'a str,
    pub channel_id: &'a str,
}

/// Binds `channel` to `incident`, replacing any earlier binding.
pub async fn bind(
    tx: &mut Tx,
    channel: &Channel<'_>,
    incident: i64,
    at: i64,
    by: &str,
) -> Result<(), StoreError> {
    const SQL: &str = "insert into incident_chat_channels (platform, team_id, channel_id, \
        incident_id, bound_at, bound_by) values ($1, $2, $3, $4, $5, $6) \
        on conflict (platform, team_id, channel_id) do update set \
        incident_id = excluded.incident_id, bound_at = excluded.bound_at, \
        bound_by = excluded.bound_by";
    on_tx!(tx, |c| sqlx::query(SQL)
        .bind(channel.platform)
        .bind(channel.team_id)
        .bind(channel.channel_id)
        .bind(incident)
        .bind(at)
        .bind(by)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// The incident bound to `channel`, if any.
pub async fn bound(db: &Db, channel: &Channel<'_>) -> Result<Option<i64>, StoreError> {
    const SQL: &str = "select incident_id from incident_chat_channels \
        where platform = $1 and team_id = $2 and channel_id = $3";
    let row: Option<(i64,)> = on_db!(db, |p| sqlx::query_as(SQL)
        .bind(channel.platform)
        .bind(channel.team_id)
        .bind(channel.channel_id)
        .fetch_optional(p)
        .await)?;
    Ok(row.map(|(id,)| id))
}
