//! Set-based alert SQL for ingest batches (`alerts::bulk`): one statement per table and batch
//! instead of one per event. On SQLite every statement is a round trip to the connection's
//! worker thread and on PostgreSQL one over the socket; with about ten per new alert, those
//! round trips, not the commits, were what bounded ingestion (`BENCHMARKS.md`).
//!
//! Statements are cut to stay under [`MAX_BINDS`] bind parameters (a request may carry more
//! events than a batch normally holds). Every statement is the shared dialect: multi-row
//! `values`, `returning`, `on conflict`, and `update … from` a `with` list, which SQLite has
//! had since 3.33.

use crate::db::{MAX_BINDS, StoreError, Tx};
use crate::on_tx;

use super::super::lifecycle::Alert;
use super::{ALERT_COLUMNS, severity_str, to_json};

/// An open alert of a batch's keys: (id, service, dedup key, event count).
pub type OpenRow = (String, String, String, i64);

/// Locks and returns the open alerts of any of `services` under any of `keys`, like
/// `lock_open` for a whole run of triggers (an `update … returning` that changes nothing: a
/// row lock on PostgreSQL). Pairs that no event of the batch has come along (the cross
/// product of the two lists); callers keep the pairs they asked about.
pub async fn lock_open(
    tx: &mut Tx,
    services: &[&str],
    keys: &[&str],
) -> Result<Vec<OpenRow>, StoreError> {
    let mut found = Vec::new();
    // Both lists are bound: halves of the budget each.
    for services in services.chunks(MAX_BINDS / 2) {
        for keys in keys.chunks(MAX_BINDS / 2) {
            on_tx!(&mut *tx, |c| {
                let mut q = sqlx::QueryBuilder::new(
                    "update alerts set event_count = event_count \
                    where status <> 'resolved' and service_id in (",
                );
                let mut list = q.separated(", ");
                for s in services {
                    list.push_bind(*s);
                }
                q.push(") and dedup_key in (");
                let mut list = q.separated(", ");
                for k in keys {
                    list.push_bind(*k);
                }
                q.push(") returning id, service_id, dedup_key, event_count");
                let rows: Vec<OpenRow> = q.build_query_as().fetch_all(c).await?;
                found.extend(rows);
                Ok::<_, sqlx::Error>(())
            })?;
        }
    }
    Ok(found)
}

/// A new alert with what the rules and its severity level set from the start.
#[derive(Clone, Debug, PartialEq)]
pub struct NewAlert {
    pub alert: Alert,
    pub rule: Option<String>,
    pub playbook: Option<String>,
    pub auto_resolve_at: Option<i64>,
    pub response_due_at: Option<i64>,
}

const NEW_ALERT_WIDTH: usize = 25;

/// Inserts `rows`, skipping any whose key has an open alert by now (a concurrent writer's);
/// how many were inserted. Fewer than `rows.len()` means a lost race the caller must settle.
pub async fn insert_alerts(tx: &mut Tx, rows: &[NewAlert]) -> Result<usize, StoreError> {
    struct Json {
        labels: String,
        annotations: String,
        details: String,
        links: String,
        images: String,
    }
    let json = rows
        .iter()
        .map(|r| {
            let a = &r.alert;
            Ok(Json {
                labels: to_json(&a.labels)?,
                annotations: to_json(&a.annotations)?,
                details: to_json(&a.details)?,
                links: to_json(&a.links)?,
                images: to_json(&a.images)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let mut inserted = 0;
    let per_statement = MAX_BINDS / NEW_ALERT_WIDTH;
    for (rows, json) in rows.chunks(per_statement).zip(json.chunks(per_statement)) {
        let head = format!(
            "insert into alerts ({ALERT_COLUMNS}, rule_id, playbook_id, auto_resolve_at, \
            response_due_at) "
        );
        let n = on_tx!(&mut *tx, |c| {
            let mut q = sqlx::QueryBuilder::new(head);
            q.push_values(rows.iter().zip(json), |mut b, (r, j)| {
                let a = &r.alert;
                b.push_bind(&a.id)
                    .push_bind(&a.service)
                    .push_bind(&a.integration)
                    .push_bind(&a.dedup_key)
                    .push_bind(a.status.as_str())
                    .push_bind(a.severity.map(severity_str))
                    .push_bind(&a.summary)
                    .push_bind(&a.source)
                    .push_bind(&j.labels)
                    .push_bind(&j.annotations)
                    .push_bind(&j.details)
                    .push_bind(&j.links)
                    .push_bind(&j.images)
                    .push_bind(a.started_at)
                    .push_bind(a.created_at)
                    .push_bind(a.last_event_at)
                    .push_bind(a.acknowledged_at)
                    .push_bind(&a.acknowledged_by)
                    .push_bind(a.resolved_at)
                    .push_bind(&a.resolved_by)
                    .push_bind(a.event_count)
                    .push_bind(&r.rule)
                    .push_bind(&r.playbook)
                    .push_bind(r.auto_resolve_at)
                    .push_bind(r.response_due_at);
            });
            q.push(
                " on conflict (service_id, dedup_key) where status <> 'resolved' do nothing \
                returning id",
            );
            q.build_query_as::<(String,)>()
                .fetch_all(c)
                .await
                .map(|ids| ids.len())
        })?;
        inserted += n;
    }
    Ok(inserted)
}

/// An open alert's repeats in a batch: its count and deadline after them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bump {
    pub id: String,
    pub event_count: i64,
    pub auto_resolve_at: Option<i64>,
}

/// Writes repeats: count, last event at `now`, and the deadline each repeat moves.
pub async fn bump_alerts(tx: &mut Tx, bumps: &[Bump], now: i64) -> Result<(), StoreError> {
    // The casts type the list's columns for PostgreSQL, which cannot infer them from the
    // `set` below; SQLite takes them as column affinities.
    for bumps in bumps.chunks(MAX_BINDS / 3) {
        on_tx!(&mut *tx, |c| {
            let mut q = sqlx::QueryBuilder::new("with v (id, n, d) as (values ");
            let mut rows = q.separated(", ");
            for b in bumps {
                rows.push("(cast(")
                    .push_bind_unseparated(&b.id)
                    .push_unseparated(" as text), cast(")
                    .push_bind_unseparated(b.event_count)
                    .push_unseparated(" as bigint), cast(")
                    .push_bind_unseparated(b.auto_resolve_at)
                    .push_unseparated(" as bigint))");
            }
            q.push(
                ") update alerts set event_count = v.n, auto_resolve_at = v.d, last_event_at = ",
            )
            .push_bind(now)
            .push(" from v where alerts.id = v.id");
            q.build().execute(c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}

/// One line of an alert's log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLine {
    pub alert_id: String,
    pub at: i64,
    pub kind: &'static str,
    pub actor: String,
    pub detail: String,
}

/// Appends `lines` in order (their ids follow it, as the log's order is by id). Unlike
/// `store::log`, nothing is echoed onto incident timelines: only for lines of alerts that
/// cannot be attached to an incident yet (new ones) or of kinds that never echo (repeats).
pub async fn log_lines(tx: &mut Tx, lines: &[LogLine]) -> Result<(), StoreError> {
    debug_assert!(
        lines
            .iter()
            .all(|l| l.kind != "acknowledge" && l.kind != "resolve")
    );
    for lines in lines.chunks(MAX_BINDS / 5) {
        on_tx!(&mut *tx, |c| {
            let mut q = sqlx::QueryBuilder::new(
                "insert into alert_log (alert_id, at, kind, actor, detail) ",
            );
            q.push_values(lines, |mut b, l| {
                b.push_bind(&l.alert_id)
                    .push_bind(l.at)
                    .push_bind(l.kind)
                    .push_bind(&l.actor)
                    .push_bind(&l.detail);
            });
            q.build().execute(c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}
